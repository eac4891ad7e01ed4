/* sysv.h -- System V shared memory in the manager: the segments (keys,
 * ids, permissions and limits, as ipc/shm.c and ipc/util.c keep them) and
 * the processes that attach them.
 *
 * A segment is a nameless inode of the namespace (ns_create_anon): its
 * memfd is charged against the size limit when shmget makes it, and
 * counted and listed like any other object.  An attachment is a mapping
 * of that memfd in a client: the library maps it itself and tells the
 * manager (shmat, shmdt, fork), and the manager looks at what a process
 * really maps, in /proc/PID/maps, whenever it cannot be sure -- the
 * process exec'd or exited, or unmapped part of a segment behind shmdt's
 * back -- and before it reports shm_nattch.  So shm_nattch counts the
 * mappings, as the kernel's counts its VMAs.
 *
 * Functions return 0 (or a value: an id, a count) or -errno, the errno
 * the kernel gives in the same case.
 */
#ifndef SHX_SYSV_H
#define SHX_SYSV_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ns.h"
#include "proto.h"

#define SYSV_IPCMNI SHX_SHMMNI_MAX /* ipc_mni: indices 0 .. 32767 */
#define SYSV_SEQ_SHIFT 15	   /* IPCMNI_SHIFT: id = seq << 15 | index */
#define SYSV_SEQ_MAX 65535	   /* ipcid_seq_max(): INT_MAX >> 15 */
#define SYSV_MIN_CYCLE 64	   /* ipc_min_cycle: RADIX_TREE_MAP_SIZE */
#define SYSV_SHMMIN 1
#define SYSV_PAGE 4096ULL

/* mode bits above the permissions (SHM_DEST, SHM_LOCKED) */
#define SYSV_DEST 01000
#define SYSV_LOCKED 02000

/* the capabilities the checks ask about (linux/capability.h) */
#define SYSV_CAP_IPC_LOCK 14
#define SYSV_CAP_IPC_OWNER 15
#define SYSV_CAP_SYS_ADMIN 21

struct sysv;
struct sysv_proc;

/* One process's mappings of one segment. */
struct sysv_att {
	struct sysv_seg *seg;
	struct sysv_proc *proc;
	uint32_t n;    /* how many: one per shmat, more where a mapping was split */
	uint32_t seen; /* counted in /proc/PID/maps by a scan */
	struct sysv_att *pnext; /* the process's next attachment */
	struct sysv_att *snext; /* the segment's next attachment */
};

/* struct shmid_kernel */
struct sysv_seg {
	int id;
	int32_t key; /* IPC_PRIVATE (0) once removed while attached */
	uint16_t seq;
	uint32_t mode; /* permissions | SYSV_DEST | SYSV_LOCKED */
	uint32_t uid, gid, cuid, cgid;
	uint64_t segsz;
	int64_t atime, dtime, ctime;
	pid_t cpid, lpid;
	uint64_t nattch;
	/* shm_atim and shm_lprid before the last shmat, should it be undone */
	int64_t prev_atime;
	pid_t prev_lpid;
	uint32_t lock_uid; /* whose locked memory a SHM_LOCK counts against */
	struct ns_inode *ip;
	struct sysv_att *atts;
	struct sysv_seg *knext; /* key hash chain */
};

/* A process that attaches segments. */
struct sysv_proc {
	struct sysv *sv;
	pid_t pid;
	int pidfd;	 /* readable once the process has exited; -1 if none */
	int unsure;	 /* it may unmap without telling (exec): look now and then */
	int64_t next_check_ns;
	int64_t backoff_ns;
	int forked;	 /* its inherited attachments are counted */
	int await_parent; /* counted before its fork parent's SHMFORK came */
	struct sysv_att *atts;
	struct sysv_proc *hnext;
};

/* What the checks need to know about a client beyond its credentials, and
 * how the manager watches for a process's exit.  Any field left NULL gets
 * the default, which asks /proc (the tests put their own). */
struct sysv_ops {
	int (*capable)(pid_t pid, int cap); /* in its effective set */
	int (*in_group)(pid_t pid, gid_t gid); /* among its supplementary groups */
	uint64_t (*memlock_limit)(pid_t pid); /* RLIMIT_MEMLOCK; UINT64_MAX: none */
	/* p->pidfd into the event loop, which calls sysv_proc_exited */
	int (*watch)(void *ctx, struct sysv_proc *p);
	void (*unwatch)(void *ctx, struct sysv_proc *p);
	void *ctx;
};

#define SYSV_KEY_BUCKETS 1024
#define SYSV_DEAD_MAX 32
#define SYSV_PROC_BUCKETS 256

struct sysv_lock; /* one user's SHM_LOCKed pages */

struct sysv {
	struct ns *ns;
	struct sysv_ops ops;
	uint64_t shmmax, shmall, shmmni;
	int overcommit; /* vm.overcommit_memory, for shmem_acct_size */
	struct sysv_seg **idx; /* by index */
	int idx_cap;
	int in_use, max_idx, last_idx, next_idx, seq; /* struct ipc_ids */
	uint64_t shm_tot; /* pages */
	struct sysv_seg *keys[SYSV_KEY_BUCKETS];
	struct sysv_proc *procs[SYSV_PROC_BUCKETS];
	unsigned nunsure;
	struct sysv_lock *locks;
	unsigned mdev_major, mdev_minor; /* the memfds' device, in /proc/PID/maps */
	int have_mdev;
	int defer_release; /* removed segments' inodes wait for sysv_reap */
	struct ns_inode *dead[SYSV_DEAD_MAX];
	unsigned ndead;
};

int sysv_init(struct sysv *sv, struct ns *ns, const struct shx_config *cfg,
	      const struct sysv_ops *ops);
void sysv_destroy(struct sysv *sv);

/* shmget(2): the id, or -errno.  (newseg, shm_more_checks, ipcget) */
int sysv_shmget(struct sysv *sv, const struct shx_cred *cr, int32_t key, uint64_t size,
		int shmflg);
/* The manager's part of shmat(2): the checks of do_shmat, and one more
 * attachment counted to cr->pid.  *segp is the segment to map. */
int sysv_shmat(struct sysv *sv, const struct shx_cred *cr, int shmid, int shmflg,
	       struct sysv_seg **segp);
/* The caller could not map what sysv_shmat granted: as if it never had. */
void sysv_shmat_undo(struct sysv *sv, const struct shx_cred *cr, int shmid, uint64_t ino);
/* shmdt(2) of one attachment; `left` is how many of the segment the
 * process still has (0: none, whatever was split). */
void sysv_shmdt(struct sysv *sv, const struct shx_cred *cr, int shmid, uint64_t ino,
		uint64_t left);
/* shmctl(2): the command's result, or -errno.  IPC_SET takes uid, gid and
 * mode from *ds; the STATs fill *ds, the INFOs *info. */
int sysv_shmctl(struct sysv *sv, const struct shx_cred *cr, int shmid, int cmd,
		struct shx_shmid_ds *ds, struct shx_shminfo *info);

/* fork: the parent says that `child` has its attachments (dup_mmap's
 * shm_open for each); 0 or -ENOMEM. */
int sysv_fork(struct sysv *sv, pid_t parent, pid_t child);
/* The child says so, in case its message comes before the parent's. */
void sysv_fork_child(struct sysv *sv, pid_t child, pid_t parent);
/* One attachment cr->pid has from a fork of `parent` that nobody reports. */
void sysv_inherit(struct sysv *sv, const struct shx_cred *cr, int shmid, uint64_t ino,
		  pid_t parent);

/* One of pid's connections ended: it may have exec'd. */
void sysv_conn_closed(struct sysv *sv, pid_t pid);
/* p's pidfd became readable. */
void sysv_proc_exited(struct sysv_proc *p);
/* Checks the processes it is unsure of; call it every second or so while
 * sysv_wants_poll says so. */
int sysv_wants_poll(const struct sysv *sv);
void sysv_poll(struct sysv *sv);

/* For listings: *idx is the index to start from; fills *ds with the first
 * segment at or after it and sets *idx past it; 0 when there is none. */
int sysv_next(struct sysv *sv, int *idx, struct shx_shmid_ds *ds);
/* Brings every shm_nattch up to date (before a listing). */
void sysv_refresh_all(struct sysv *sv);
/* Releases the memory of the segments removed since the last call, when
 * defer_release is set (the manager calls it once it has answered). */
void sysv_reap(struct sysv *sv);

#endif
