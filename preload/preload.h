/* preload.h -- what the wrapper families share: the table of real
 * functions, path and fd classification, and the errno boundary.
 *
 * Engine code returns 0 or -errno; a wrapper turns that into -1 and errno
 * once, with shx_ret, and leaves errno alone on success.
 */
#ifndef SHX_PRELOAD_H
#define SHX_PRELOAD_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <utime.h>

#include "conn.h"
#include "fdtab.h"
#include "path.h"
#include "proto.h"

#ifdef __GLIBC__
#include <fts.h>
#define WRAP_GLIBC WRAP
#else
#define WRAP_GLIBC(ret, name, params)
#endif

#define WRAP(ret, name, params) ret(*name) params;
struct shx_real {
#include "wrappers.def"
};
#undef WRAP

extern struct shx_real shx_real;
extern int shx_ready;
void shx_init(void);

/* The real function `name`, the library being initialised first (a
 * wrapper can run before our constructor, from another library's). */
#define REAL(name) (*(__builtin_expect(shx_ready, 1) ? (void)0 : shx_init(), shx_real.name))

#define SHX_EXPORT __attribute__((visibility("default")))

/* glibc declares path arguments nonnull, which lets the compiler drop our
 * NULL checks; a program that passes NULL must get EFAULT, not a crash. */
static inline const char *shx_opaque(const char *p)
{
	__asm__("" : "+r"(p));
	return p;
}

/* The "" of an AT_EMPTY_PATH call. */
static inline int shx_empty(const char *path)
{
	path = shx_opaque(path);
	return path && !path[0];
}

static inline int shx_ret(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* A path under a managed mount, ready to send: where to start the walk
 * (0: path is absolute; else the inode of a managed directory fd) and the
 * path itself. */
struct shx_path {
	uint64_t start;
	char path[SHX_PATH_MAX];
};

/* 1 if (dirfd, path) is managed and filled in, 0 if not, -errno when the
 * path is managed but unusable (too long). */
int shx_classify(int dirfd, const char *path, struct shx_path *p);

int shx_cwd_plain(void);

/* The part of shx_classify every call pays, inlined into the wrappers: 1
 * when (dirfd, path) is certainly not managed.  The rest (and the 4 KiB
 * path buffer) lives in out-of-line functions. */
static inline int shx_unmanaged(int dirfd, const char *path)
{
	path = shx_opaque(path);
	if (!path || !path[0])
		return 1;
	if (path[0] == '/')
		return shx_path_surely_unmanaged(path);
	if (dirfd == AT_FDCWD)
		return shx_cwd_plain();
	return !shx_fdtab_get(dirfd);
}

/* Request helpers.  shx_request returns the operation's status (or a
 * transport error as -EIO); on -SHX_EESCAPE, q->path is the path to hand
 * to the real function instead. */
void shx_req_init(struct shx_req *q, unsigned op, const struct shx_path *p);
int shx_request(struct shx_req *q, struct shx_rep *p, int *fd, int fd_flags);

/* An fd that is not in the table can still be a managed object: one
 * inherited across exec, received over a socket or duplicated.  Given the
 * fd's real stat, enters it in the table and fills *a if it is ours;
 * NULL if it is not. */
struct shx_fdent *shx_fd_recognise(int fd, const struct stat *st, struct shx_attr *a);
/* Enters fd, an fd of object ino with status flags fl (F_GETFL), in the
 * table, and holds the object. */
void shx_fd_adopt(int fd, uint64_t ino, int fl);

/* names.c: "/dev/shm/" PREFIX NAME by glibc's rules for shm_open and
 * sem_open names (__shm_get_name), or -errno */
int shx_shm_name(const char *name, const char *prefix, struct shx_path *p);

/* names.c: mknod of a managed path; the node's real path (a socket binds
 * there) into node, cap bytes, if node is not NULL */
int shx_mknod(struct shx_path *p, mode_t mode, dev_t dev, char *node, size_t cap);

/* open.c */
/* fd or -errno; on -SHX_EESCAPE p->path becomes the real path */
int shx_open(struct shx_path *p, int flags, mode_t mode);
/* shx_open, and the inode it opened in *ino (the fd is not in the table
 * in a vfork child) */
int shx_open_ino(struct shx_path *p, int flags, mode_t mode, uint64_t *ino);
int shx_open_managed(int dirfd, struct shx_path *p, int flags, mode_t mode);
/* shx_request for a request built from p: an escape's path lands in p */
int shx_request_path(struct shx_req *q, struct shx_rep *rep, struct shx_path *p);
mode_t shx_umask(void);

/* stat.c */
void shx_attr_to_stat(const struct shx_attr *a, struct stat *st);
/* stat (flags: AT_SYMLINK_NOFOLLOW) of a managed path; -SHX_EESCAPE with
 * path->path the real path */
int shx_stat_path(struct shx_path *path, int flags, struct shx_attr *a);
int shx_getattr(uint64_t ino, struct shx_attr *a);

/* cwd.c: a relative path made absolute against a working directory in
 * or above a mount; 1 if that is managed, 0 if not (or the cwd is
 * elsewhere), -errno. */
int shx_cwd_join(const char *rel, struct shx_path *p);
void shx_cwd_init(const char *placeholder);
void shx_cwd_after_fork(void);
/* "SHMEMX_CWD=INO:PATH" of the virtual working directory into buf; 0 when
 * the real one is in use. */
int shx_cwd_env(char *buf, size_t cap);
/* Around the exec of a vfork child with a cwd of its own: begin drops
 * it (the parent resumes with its own), failed puts it back. */
int shx_cwd_exec_begin(void);
void shx_cwd_exec_failed(int token);

/* exec.c: the environment a child gets (see shx_child_env) */
struct shx_child_env {
	char cwd[SHX_PATH_MAX + 64];
	char app[80]; /* SHMEMX_APP=, when envp lost it */
};
/* How many pointers shx_child_env may write for envp. */
size_t shx_child_env_slots(char *const envp[]);
char *const *shx_child_env(char *const envp[], char **out, struct shx_child_env *buf);
/* execvp's search of $PATH, through the wrapped execve; -errno */
int shx_exec_search(const char *file, char *const argv[], char *const envp[], int try_sh);

/* backtrace.c: the creating stack of objects, with SHMEMX_BACKTRACE=1
 * (loads libunwind); shx_backtrace writes its frames, a line each, and
 * returns the length (0 when backtraces are off). */
void shx_backtrace_init(void);
int shx_backtrace_enabled(void);
size_t shx_backtrace(char *buf, size_t cap);

/* io.c: drops the fd's entry and tells the manager */
void shx_fd_forget(int fd);

/* sysv.c: the attachments across fork (pthread_atfork's three handlers) */
void shx_sysv_before_fork(void);
void shx_sysv_after_fork_parent(void);
void shx_sysv_after_fork_child(void);

/* pagein.c: a data call on object ino counts itself in the page-state
 * table between enter and leave, and enter brings [off, off + len) in
 * first while the object has pages out (off: an offset, or SHX_PG_POS /
 * SHX_PG_APPEND for the fd's position or end; len UINT64_MAX: all of
 * it).  flags: SHX_SWAPIN_TRUNC (the call truncates to off), or
 * SHX_PG_COUNT_ONLY.  NULL (nothing to leave) for an object the
 * manager does not page. */
#define SHX_PG_POS (-1)
#define SHX_PG_APPEND (-2)
#define SHX_PG_COUNT_ONLY 0x100
struct pg_entry;
struct pg_entry *shx_pg_enter(int fd, uint64_t ino, int64_t off, uint64_t len, int flags);
/* The same for a managed fd (NULL for any other) */
struct pg_entry *shx_pg_enter_fd(int fd, int64_t off, uint64_t len, int writing);
void shx_pg_leave(struct pg_entry *e);
/* After an mmap of the object, before leave: the manager's scan of the
 * maps may have missed it (pgstate.h) */
void shx_pg_mapped(struct pg_entry *e);
/* A stdio stream reads with glibc's internal read, which no wrapper sees:
 * its object is brought in and kept in (counted in users) from fopen to
 * fclose; a fork child counts its copies of the streams again. */
void shx_pg_pin(int fd);
/* The bytes an iovec array asks for (io.c), the first IOV_MAX entries. */
size_t shx_iov_total(const struct iovec *iov, int cnt);
void shx_pg_unpin(int fd);
void shx_pg_after_fork_child(void);

/* pagein.c: mappings.  shx_pg_map maps (with real) and registers a shared
 * mapping of object ino with the manager's page-in, or brings the object
 * in whole when it cannot; mremap and fork keep what they move or copy in
 * until the new mapping is the manager's. */
void *shx_pg_map(uint64_t ino, int fd, void *addr, size_t len, int prot, int flags, off_t off,
		 void *(*real)(void *, size_t, int, int, int, off_t));
struct shx_pg_remap {
	uint64_t ino, off, start;
};
void shx_pg_remap_begin(struct shx_pg_remap *r, void *old);
void shx_pg_remap_end(struct shx_pg_remap *r, void *old, size_t old_len, void *m, size_t len);
#define SHX_PG_FORK_MAX 256
struct shx_pg_fork {
	int n;
	uint64_t ino[SHX_PG_FORK_MAX];
};
void shx_pg_before_fork(struct shx_pg_fork *f);
void shx_pg_after_fork_parent(struct shx_pg_fork *f);

#endif
