/* server.h -- shmemd's clients and the handlers of their requests. */
#ifndef SHX_SERVER_H
#define SHX_SERVER_H

#include <stdint.h>

#include "loop.h"
#include "ns.h"
#include "pager.h"
#include "sysv.h"

struct server {
	struct ns ns;
	struct loop *loop;
	int listen_fd;
	int listen_paused; /* out of fds: accept again when a client leaves */
	uint64_t nclients;
	int64_t started_ns;
	int64_t idle_since_ns; /* when the manager last became idle and empty; 0 if busy */
	struct orphan *orphans; /* holds of processes whose connection ended */
	struct sysv sysv;	/* System V shared memory */
	struct client **chans;	/* the clients with a channel (core/chan.h) */
	size_t nchans, chancap;
	int woke_client;	/* an answer woke a client sleeping on its channel */
	struct client *clients; /* every connection */
	int system;		/* serves every user (shmemd --system) */
	/* paging: the pager, and the pids of the connected clients (one per
	 * connection), whose fds wait for page-ins */
	struct pager pager;
	pid_t *client_pids;
	size_t nclient_pids, client_pids_cap;
};

int server_init(struct server *s, const struct shx_config *cfg, const char *placeholder,
		int listen_fd);
/* Paging needs a state directory for its default swap directory. */
int server_init_pager(struct server *s, const struct shx_config *cfg, const char *state_dir);
void server_fini(struct server *s);
/* True when no client is connected and no object exists. */
int server_idle(const struct server *s);
/* Drops the orphaned holds whose process has closed the object (call it
 * every second or so). */
void server_check_orphans(struct server *s);
/* What must be looked at every second or so, while server_wants_tick
 * says there is something: orphaned holds, processes attaching System V
 * segments that may have exec'd. */
int server_wants_tick(const struct server *s);
void server_tick(struct server *s);
/* Serves the requests waiting in the clients' channels; how many. */
int server_poll_chans(struct server *s);
/* The manager goes to sleep (1) or wakes (0): clients that post a
 * request then wake it through their socket.  Going to sleep returns
 * nonzero if a request came in meanwhile (then it stays awake). */
int server_chans_asleep(struct server *s, int asleep);
/* Paging: how long the loop may sleep, and the pager's turn. */
int server_timeout_ms(const struct server *s);
void server_page(struct server *s);

/* quotas and statistics (srv_quota.c): SHX_OP_QUOTA for a sender */
int srv_quota(struct server *s, const struct shx_cred *cr, const struct shx_req *q,
	      struct shx_rep *p, struct quota_group **tmp_app);
/* A connection that asked for an app's private /tmp (*tmp_app of
 * srv_quota) is gone: the last one takes it away, unless it is kept. */
void srv_quota_tmp_done(struct server *s, struct quota_group *app);
/* A listing begins: who maps what is read from these processes. */
void srv_ls_begin(struct server *s, const pid_t *pids, size_t npids);
/* What an object listing says of ip besides its attributes. */
void srv_obj_fill(struct server *s, struct ns_inode *ip, struct shx_obj *o);

#endif
