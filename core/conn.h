/* conn.h -- the client's connection to its manager.
 *
 * A few pooled connections, each taken with an atomic flag rather than a
 * lock: a thread (or a signal handler) that finds them all busy opens a
 * connection of its own for the call.  The manager is started on demand
 * when none answers.
 */
#ifndef SHX_CONN_H
#define SHX_CONN_H

#include <stdatomic.h>

#include "proto.h"

/* One round trip.  Returns 0 with the answer in *rep (whose status is the
 * operation's result), or -errno when the manager cannot be reached.
 * When the answer carries an fd, it is stored in *fd (else -1);
 * O_CLOEXEC in fd_flags asks for it close-on-exec. */
int shx_call(struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags);
/* A request that needs no answer; dropped silently if it cannot be sent. */
void shx_notify(struct shx_req *req);

/* No fd below this is one of the library's sockets (they live high). */
extern atomic_int shx_conn_lowest;

int shx_conn_owns_slow(int fd);
/* True if fd is one of the library's own sockets. */
static inline int shx_conn_owns(int fd)
{
	return fd >= atomic_load_explicit(&shx_conn_lowest, memory_order_relaxed) &&
	       shx_conn_owns_slow(fd);
}
/* Calls fn for each of the library's sockets. */
void shx_conn_each(void (*fn)(int fd, void *arg), void *arg);
/* The application closed or replaced fd, one of ours: stop using it. */
void shx_conn_forget(int fd);
/* In a child after fork: the parent's connections are not ours to use. */
void shx_conn_after_fork(void);
/* True in a child that shares its parent's memory: vfork(2), or a clone
 * that skipped fork's handlers.  Such a child must not change what the
 * parent will find when it resumes (the fd table, the working directory,
 * the pooled connections), and its requests go on connections of its
 * own, whose credentials are its own. */
int shx_conn_vforked(void);
/* The process's ids changed (setuid and friends): requests say the
 * effective ones from now on, when they differ from the real ones. */
void shx_conn_creds(void);
/* The app the process runs under ($SHMEMX_APP at start-up, or NULL/""
 * for none): every connection's handshake names it, so that what the
 * process creates is charged to it. */
void shx_conn_set_app(const char *name);
const char *shx_conn_app(void); /* "" for none */
/* Self-opens (SHX_HF_SELFOPEN): whether this process may open the
 * manager's memfds itself, and the open of the manager's fd n with
 * `flags` through /proc (fd or -errno; a refusal turns self-opens off). */
int shx_conn_selfopen_ok(void);
/* Moves when a pooled connection goes, and the holds it had with it. */
unsigned shx_conn_generation(void);
int shx_conn_selfopen(uint32_t n, int flags);
/* Connects every pooled connection now: a process about to give up its
 * ids may not be able to connect afterwards (the socket's directory is
 * its user's), but keeps what it has. */
void shx_conn_prepare(void);

void shx_conn_init(const char *shmemd);
/* The manager's empty directory, behind every managed directory fd. */
const char *shx_conn_placeholder(void);
/* "<socket dir>/nodes/", where the real nodes of FIFOs, devices and
 * sockets are (named by inode number); its length in *len (0: none). */
const char *shx_conn_nodes(size_t *len);
/* A round trip on a connection of the caller's own (from shx_connect). */
int shx_call_on(int sock, struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags);

/* Connects to the manager at `sock`, starting it with `shmemd` (a path)
 * when nobody answers and shmemd is not NULL.  Used by shmemctl too. */
int shx_connect(const char *sock, const char *shmemd);

#endif
