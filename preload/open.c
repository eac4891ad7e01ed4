/* open.c -- the open family, creat, unlink, umask. */
#include <stdarg.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <unistd.h>

#include "preload.h"

#ifndef __O_TMPFILE
#define __O_TMPFILE (O_TMPFILE & ~O_DIRECTORY)
#endif
#define NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE)

/* The umask, known without the umask(0)/umask(old) dance that would race
 * with other threads: read once from /proc, then kept by our umask(). */
static atomic_int cached_umask = -1;

mode_t shx_umask(void)
{
	/* (a vfork child's umask() empties the cache, so a child never
	 * uses its parent's) */
	int m = atomic_load(&cached_umask);
	char buf[2048], *p;
	long n;
	int fd;

	if (m >= 0)
		return m;
	fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		syscall(SYS_close, fd);
	if (n > 0) {
		buf[n] = 0;
		p = strstr(buf, "\nUmask:\t");
		if (p)
			m = strtol(p + 8, NULL, 8) & 0777;
	}
	if (m < 0) { /* no /proc: the racy way, once */
		m = REAL(umask)(0);
		REAL(umask)(m);
	}
	/* a vfork child's umask is its own, the cache its parent's */
	if (!shx_conn_vforked())
		atomic_store(&cached_umask, m);
	return m;
}

SHX_EXPORT mode_t umask(mode_t mask)
{
	mode_t old = REAL(umask)(mask);

	/* a vfork child's umask is its own: the parent reads its own from
	 * /proc again */
	atomic_store(&cached_umask, shx_conn_vforked() ? -1 : (int)(mask & 0777));
	return old;
}

int shx_request_path(struct shx_req *q, struct shx_rep *rep, struct shx_path *p)
{
	int r = shx_request(q, rep, NULL, 0);

	if (r == -SHX_EESCAPE)
		memcpy(p->path, q->path, q->pathlen + 1);
	return r;
}

/* The open of a FIFO or device: fd (O_PATH) is replaced by the node
 * opened with flags. */
static int reopen_node(int fd, int flags)
{
	char proc[32];
	int nfd, r = 0;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	nfd = REAL(openat)(AT_FDCWD, proc,
			   flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_DIRECTORY));
	if (nfd < 0)
		r = -errno;
	else if (REAL(dup3)(nfd, fd, flags & O_CLOEXEC) < 0)
		r = -errno;
	if (nfd >= 0)
		syscall(SYS_close, nfd);
	if (r < 0)
		syscall(SYS_close, fd);
	return r;
}

/* An open that failed after the manager opened: its hold goes. */
static void cancel_open(uint64_t ino)
{
	struct shx_req q;

	shx_req_init(&q, SHX_OP_CLOSE, NULL);
	q.ino = ino;
	shx_notify(&q);
}

/* The fd of a regular file the manager holds for us as its fd n:
 * opened here, through /proc, which spares the manager an open and the
 * socket an fd to carry (SHX_HF_SELFOPEN); if that fails (the process
 * cannot look into the manager: other credentials, no /proc), the
 * manager opens it (SHX_OP_REOPEN).  fd or -errno. */
static int self_open(uint32_t n, uint64_t ino, int flags)
{
	struct shx_req q;
	struct shx_rep p = { 0 };
	int fd = shx_conn_selfopen(n, flags & (SHX_FD_KEEP_FLAGS | O_CLOEXEC)), r;

	if (fd >= 0)
		return fd;
	shx_req_init(&q, SHX_OP_REOPEN, NULL);
	q.ino = ino;
	q.flags = flags;
	r = shx_request(&q, &p, &fd, flags & O_CLOEXEC);
	return r < 0 ? r : fd;
}

int shx_open(struct shx_path *path, int flags, mode_t mode)
{
	return shx_open_ino(path, flags, mode, NULL);
}

int shx_open_ino(struct shx_path *path, int flags, mode_t mode, uint64_t *ino)
{
	struct shx_req q;
	uint32_t fl, memfd_no;
	struct shx_rep p = { .data = (uint8_t *)&memfd_no, .datacap = sizeof(memfd_no) };
	int fd, r, vforked = shx_conn_vforked();
	unsigned gen = shx_conn_generation();
	char bt[SHX_BACKTRACE_MAX];

	shx_req_init(&q, SHX_OP_OPEN, path);
	q.vforked = vforked + 1;
	if (shx_conn_selfopen_ok())
		q.hflags |= SHX_HF_SELFOPEN;
	q.flags = flags;
	q.mode = NEEDS_MODE(flags) ? mode & ~shx_umask() & 07777 : 0;
	/* what may create an object says who: the manager keeps it if it did */
	if (NEEDS_MODE(flags) && shx_backtrace_enabled()) {
		q.datalen = shx_backtrace(bt, sizeof(bt));
		q.data = q.datalen ? bt : NULL;
	}
	r = shx_request(&q, &p, &fd, flags & O_CLOEXEC);
	if (r == -SHX_EESCAPE)
		memcpy(path->path, q.path, q.pathlen + 1);
	if (r < 0)
		return r;
	if (p.hflags & SHX_HF_SELFOPEN) {
		fd = p.datalen == sizeof(memfd_no) ? self_open(memfd_no, p.attr.ino, flags) : -EPROTO;
		if (fd < 0) {
			cancel_open(p.attr.ino);
			return fd;
		}
		/* A connection went meanwhile (another thread closed every
		 * fd?): the hold may have gone with it, and the manager's fd
		 * with the hold.  What was opened must be the object (never
		 * another's that took the number), held again (twice, until
		 * the process ends, if another connection inherited it). */
		if (shx_conn_generation() != gen) {
			struct stat st;

			if (REAL(fstat)(fd, &st) < 0 || st.st_ino != p.attr.ino) {
				syscall(SYS_close, fd);
				return -EIO;
			}
			shx_req_init(&q, SHX_OP_HOLD, NULL);
			q.ino = p.attr.ino;
			shx_notify(&q);
		}
	}
	if (ino)
		*ino = p.attr.ino;
	/* A FIFO or device: the manager sent an O_PATH fd of the real node,
	 * which is opened here, with the caller's flags -- a FIFO's open
	 * blocks in this process, as it would on tmpfs -- and at the same fd
	 * number, the lowest free one. */
	if (!S_ISREG(p.attr.mode) && !S_ISDIR(p.attr.mode) && !S_ISLNK(p.attr.mode) &&
	    !(flags & O_PATH)) {
		r = reopen_node(fd, flags);
		if (r < 0) {
			cancel_open(p.attr.ino);
			return r;
		}
	}
	/* a vfork child's fds are not its parent's: its table is left alone
	 * (the image it execs adopts the fd) */
	if (vforked)
		return fd;
	fl = S_ISDIR(p.attr.mode) ? SHX_FD_DIR : S_ISREG(p.attr.mode) ? 0 : SHX_FD_SPECIAL;
	if (flags & O_APPEND)
		fl |= SHX_FD_APPEND;
	if ((flags & O_ACCMODE) != O_RDONLY && !(flags & O_PATH) && !(fl & SHX_FD_SPECIAL))
		fl |= SHX_FD_WRITE;
	shx_fdtab_set(fd, p.attr.ino, fl);
	/* what the object has paid for already (a new one: some credit) */
	if (fl & SHX_FD_WRITE)
		shx_fdtab_get(fd)->reserved = p.value;
	return fd;
}

/* fd or -errno; a path that ".." leads out of the mounts is the real file
 * system's business. */
int shx_open_managed(int dirfd, struct shx_path *p, int flags, mode_t mode)
{
	int r = shx_open(p, flags, mode);

	if (r == -SHX_EESCAPE) {
		r = REAL(openat)(dirfd, p->path, flags, mode);
		if (r < 0)
			r = -errno;
	}
	return r;
}

static __attribute__((noinline)) int open_slow(int dirfd, const char *path, int flags,
						mode_t mode, int (*real)(int, const char *, int, ...))
{
	struct shx_path p;
	int r = shx_classify(dirfd, path, &p);

	if (r == 0)
		return real(dirfd, path, flags, mode);
	return shx_ret(r < 0 ? r : shx_open_managed(dirfd, &p, flags, mode));
}

static inline int open_at(int dirfd, const char *path, int flags, mode_t mode,
			  int (*real)(int, const char *, int, ...))
{
	if (shx_unmanaged(dirfd, path))
		return real(dirfd, path, flags, mode);
	return open_slow(dirfd, path, flags, mode, real);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0;
}

SHX_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_at(dirfd, path, flags, mode, REAL(openat));
}

SHX_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_at(AT_FDCWD, path, flags, mode, REAL(openat));
}

SHX_EXPORT int creat(const char *path, mode_t mode)
{
	return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, REAL(openat));
}

#ifdef __GLIBC__
SHX_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_at(dirfd, path, flags | O_LARGEFILE, mode, REAL(openat64));
}

SHX_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_at(AT_FDCWD, path, flags | O_LARGEFILE, mode, REAL(openat64));
}

SHX_EXPORT int creat64(const char *path, mode_t mode)
{
	return open_at(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC | O_LARGEFILE, mode,
		       REAL(openat64));
}

/* _FORTIFY_SOURCE's checked opens: the real ones abort on O_CREAT without
 * a mode, so unmanaged paths keep going to them. */
SHX_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	struct shx_path p;
	int r = shx_classify(dirfd, path, &p);

	if (r == 0 || NEEDS_MODE(flags))
		return REAL(__openat_2)(dirfd, path, flags);
	return open_at(dirfd, path, flags, 0, REAL(openat));
}

SHX_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return __openat_2(dirfd, path, flags | O_LARGEFILE);
}

SHX_EXPORT int __open_2(const char *path, int flags)
{
	return __openat_2(AT_FDCWD, path, flags);
}

SHX_EXPORT int __open64_2(const char *path, int flags)
{
	return __openat_2(AT_FDCWD, path, flags | O_LARGEFILE);
}
#endif

static int unlink_path(struct shx_path *path, int flags)
{
	struct shx_req q;
	struct shx_rep p = { 0 };

	shx_req_init(&q, SHX_OP_UNLINK, path);
	q.flags = flags;
	return shx_request_path(&q, &p, path);
}

SHX_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
	struct shx_path p;
	int r = shx_classify(dirfd, path, &p);

	if (r == 0)
		return REAL(unlinkat)(dirfd, path, flags);
	if (r > 0) {
		if (flags & ~AT_REMOVEDIR)
			return shx_ret(-EINVAL);
		r = unlink_path(&p, flags);
		if (r == -SHX_EESCAPE)
			return REAL(unlinkat)(dirfd, p.path, flags);
	}
	return shx_ret(r);
}

SHX_EXPORT int unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

SHX_EXPORT int rmdir(const char *path)
{
	return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}
