/* pager.h -- shmemd's pager: a RAM budget for the objects, swap files
 * behind it (core/swap.c), and the page-state table shared with clients
 * (core/pgstate.h).  See "Paging" in doc/architecture.md. */
#ifndef SHX_PAGER_H
#define SHX_PAGER_H

#include <stdint.h>
#include <sys/types.h>

#include "ns.h"
#include "pgstate.h"
#include "swap.h"
#include "sysv.h"

struct pg_obj;
struct pg_uctx;

struct pager {
	struct ns *ns;
	struct sysv *sysv;
	struct swap swap;
	int swap_ready;		/* swap_init done */
	char swap_dir[SHX_PATH_MAX];
	uint64_t swap_limit;
	uint64_t budget_set;	/* bytes; 0: budget_pct of what the machine gives */
	unsigned budget_pct;
	uint64_t budget;	/* in force */
	uint64_t resident;	/* the objects' pages in memory, at the last look */
	uint64_t pageins, pageouts; /* pages */
	int tabfd;
	struct pg_table *tab;
	struct pg_obj *objs;	/* by table index */
	int64_t next_run_ns;
	unsigned periods;	/* pager_run's looks so far */
	int out_failed;		/* a page-out failed in this run: the run stops */
	uint8_t *buf;		/* one run of pages */
	/* the clients' userfaultfds, for their mappings (see "Paging") */
	struct pg_uctx *uctxs;
	int (*watch)(void *ctx, int fd, void *arg); /* the event loop's, from the server */
	void (*unwatch)(void *ctx, int fd);
	void *watch_ctx;
};

int pager_init(struct pager *pg, struct ns *ns, struct sysv *sv, const struct shx_config *cfg,
	       const char *state_dir);
void pager_fini(struct pager *pg);
/* The table's memfd, for a client to map. */
int pager_table_fd(const struct pager *pg);
/* Brings the pages of [off, off + len) in (all of them for len
 * UINT64_MAX); with trunc, the object is about to be truncated to off:
 * what lies past it is dropped instead. */
int pager_swapin(struct pager *pg, struct ns_inode *ip, uint64_t off, uint64_t len, int trunc);
/* lseek SEEK_DATA/SEEK_HOLE on the object, swapped pages being data. */
int pager_seek(struct pager *pg, struct ns_inode *ip, int64_t off, int whence, int64_t *res);
/* What the pager must do now: page out when over the budget.  clients
 * are the pids of connected clients (their fds are paging-aware). */
void pager_run(struct pager *pg, const pid_t *clients, size_t nclients);
/* How long the event loop may sleep before pager_run wants to run. */
int pager_timeout_ms(const struct pager *pg);

/* A client's userfaultfd (the pager keeps fd, or closes it on failure). */
int pager_uffd_add(struct pager *pg, pid_t pid, int fd);
/* A shared mapping of ip at [addr, addr + len), file offset off, in pid:
 * registered with its userfaultfd (missing and write-protect faults). */
int pager_map(struct pager *pg, pid_t pid, uint64_t addr, uint64_t len, uint64_t off,
	      struct ns_inode *ip);
/* The uffd of ctx (the watch callback's arg) is readable. */
void pager_uffd_ready(struct pg_uctx *u);
/* pid has no connection left (it exec'd or exited): its uffd goes. */
void pager_proc_gone(struct pager *pg, pid_t pid);

struct shx_swapinfo;
void pager_info(struct pager *pg, struct shx_swapinfo *si);
/* shmemctl swap: budget, limit or dir (SHX_SWAPSET_*) */
int pager_set(struct pager *pg, unsigned what, uint64_t value, const char *dir);

#endif
