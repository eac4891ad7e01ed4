/* stat.c -- the stat family, statx, access.  A managed object's
 * attributes come from the manager; an fd's object is found in the fd
 * table, or recognised from its real fstat. */
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "preload.h"

#ifdef __GLIBC__
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "LFS64 stat differs");
#endif

static struct timespec ts(int64_t ns)
{
	return (struct timespec){ ns / 1000000000, ns % 1000000000 };
}

void shx_attr_to_stat(const struct shx_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = a->dev;
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = a->size;
	st->st_blksize = 4096;
	st->st_blocks = a->blocks;
	st->st_atim = ts(a->atime_ns);
	st->st_mtim = ts(a->mtime_ns);
	st->st_ctim = ts(a->ctime_ns);
}

int shx_getattr(uint64_t ino, struct shx_attr *a)
{
	struct shx_req q;
	struct shx_rep p = { 0 };
	int r;

	shx_req_init(&q, SHX_OP_GETATTR, NULL);
	q.ino = ino;
	r = shx_request(&q, &p, NULL, 0);
	if (r == 0)
		*a = p.attr;
	return r;
}

int shx_stat_path(struct shx_path *path, int flags, struct shx_attr *a)
{
	struct shx_req q;
	struct shx_rep p = { 0 };
	int r;

	shx_req_init(&q, SHX_OP_STAT, path);
	q.flags = flags & AT_SYMLINK_NOFOLLOW;
	r = shx_request_path(&q, &p, path);
	if (r == 0)
		*a = p.attr;
	return r;
}

/* fstat of an fd: 1 with *a filled if the fd is managed, 0 if not (and
 * then *st holds its real stat), or -errno. */
static int fd_attr(int fd, struct stat *st, struct shx_attr *a)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	int r;

	if (e) {
		r = shx_getattr(e->ino, a);
		if (r != -ESTALE)
			return r < 0 ? r : 1;
		shx_fdtab_clear(fd); /* an fd closed behind our back */
	}
	if (REAL(fstat)(fd, st) < 0)
		return -errno;
	return shx_fd_recognise(fd, st, a) ? 1 : 0;
}

SHX_EXPORT int fstat(int fd, struct stat *st)
{
	struct shx_attr a;
	int r = fd_attr(fd, st, &a);

	if (r > 0)
		shx_attr_to_stat(&a, st);
	return r > 0 ? 0 : shx_ret(r);
}

static __attribute__((noinline)) int stat_managed(int dirfd, const char *path, struct stat *st,
						   int flags)
{
	struct shx_path p;
	struct shx_attr a;
	int r;

	if ((flags & AT_EMPTY_PATH) && shx_empty(path))
		return fstat(dirfd, st);
	r = shx_classify(dirfd, path, &p);
	if (r == 0)
		return REAL(fstatat)(dirfd, path, st, flags);
	if (r > 0) {
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
			return shx_ret(-EINVAL);
		r = shx_stat_path(&p, flags, &a);
		if (r == -SHX_EESCAPE)
			return REAL(fstatat)(dirfd, p.path, st, flags);
	}
	if (r == 0)
		shx_attr_to_stat(&a, st);
	return shx_ret(r);
}

static inline int stat_at(int dirfd, const char *path, struct stat *st, int flags)
{
	if (shx_unmanaged(dirfd, path) && !(flags & AT_EMPTY_PATH))
		return REAL(fstatat)(dirfd, path, st, flags);
	return stat_managed(dirfd, path, st, flags);
}

SHX_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return stat_at(dirfd, path, st, flags);
}

SHX_EXPORT int stat(const char *path, struct stat *st)
{
	return stat_at(AT_FDCWD, path, st, 0);
}

SHX_EXPORT int lstat(const char *path, struct stat *st)
{
	return stat_at(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

#ifdef __GLIBC__
/* On the 64-bit targets we build for, struct stat64 is struct stat. */
SHX_EXPORT int stat64(const char *path, struct stat64 *st)
{
	return stat_at(AT_FDCWD, path, (struct stat *)st, 0);
}

SHX_EXPORT int lstat64(const char *path, struct stat64 *st)
{
	return stat_at(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

SHX_EXPORT int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

SHX_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return stat_at(dirfd, path, (struct stat *)st, flags);
}

/* The legacy entry points of binaries built against glibc before 2.33.
 * The version argument names the layout, which is struct stat here. */
SHX_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	return stat_at(AT_FDCWD, path, st, 0);
}

SHX_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	return stat_at(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

SHX_EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	return fstat(fd, st);
}

SHX_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	return stat_at(dirfd, path, st, flags);
}

SHX_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	return stat_at(AT_FDCWD, path, (struct stat *)st, 0);
}

SHX_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	return stat_at(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

SHX_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

SHX_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags)
{
	return stat_at(dirfd, path, (struct stat *)st, flags);
}

static struct statx_timestamp stx_time(int64_t ns)
{
	return (struct statx_timestamp){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

/* What tmpfs's shmem_getattr reports: the basic fields and the birth
 * time, whatever was asked. */
static void attr_to_statx(const struct shx_attr *a, struct statx *sx)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS | STATX_BTIME;
	sx->stx_blksize = 4096;
	sx->stx_nlink = a->nlink;
	sx->stx_uid = a->uid;
	sx->stx_gid = a->gid;
	sx->stx_mode = a->mode;
	sx->stx_ino = a->ino;
	sx->stx_size = a->size;
	sx->stx_blocks = a->blocks;
	sx->stx_atime = stx_time(a->atime_ns);
	sx->stx_btime = stx_time(a->ctime_ns < a->mtime_ns ? a->ctime_ns : a->mtime_ns);
	sx->stx_ctime = stx_time(a->ctime_ns);
	sx->stx_mtime = stx_time(a->mtime_ns);
	sx->stx_dev_major = major(a->dev);
	sx->stx_dev_minor = minor(a->dev);
	sx->stx_rdev_major = major(a->rdev);
	sx->stx_rdev_minor = minor(a->rdev);
}

SHX_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *sx)
{
	struct shx_path p;
	struct shx_attr a;
	struct stat st;
	int r;

	if ((flags & AT_EMPTY_PATH) && shx_empty(path)) {
		if (mask & STATX__RESERVED)
			return shx_ret(-EINVAL);
		r = fd_attr(dirfd, &st, &a);
		if (r <= 0)
			return r < 0 ? shx_ret(r) : REAL(statx)(dirfd, path, flags, mask, sx);
		attr_to_statx(&a, sx);
		return 0;
	}
	r = shx_classify(dirfd, path, &p);
	if (r == 0)
		return REAL(statx)(dirfd, path, flags, mask, sx);
	if (r > 0) {
		if ((mask & STATX__RESERVED) || (flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
			return shx_ret(-EINVAL);
		r = shx_stat_path(&p, flags, &a);
		if (r == -SHX_EESCAPE)
			return REAL(statx)(dirfd, p.path, flags, mask, sx);
	}
	if (r == 0)
		attr_to_statx(&a, sx);
	return shx_ret(r);
}
#endif

SHX_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	struct shx_path p;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	struct shx_fdent *e;
	int r = shx_classify(dirfd, path, &p);

	if (r == 0 && (flags & AT_EMPTY_PATH) && shx_empty(path) && (e = shx_fdtab_get(dirfd))) {
		p.start = e->ino; /* the fd's own inode */
		p.path[0] = 0;
		r = 1;
	}
	if (r == 0)
		return REAL(faccessat)(dirfd, path, mode, flags);
	if (r > 0) {
		if ((mode & ~(R_OK | W_OK | X_OK)) ||
		    (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
			return shx_ret(-EINVAL);
		shx_req_init(&q, SHX_OP_ACCESS, &p);
		q.mode = mode;
		q.flags = flags;
		r = shx_request_path(&q, &rep, &p);
		if (r == -SHX_EESCAPE)
			return REAL(faccessat)(dirfd, p.path, mode, flags);
	}
	return shx_ret(r);
}

SHX_EXPORT int access(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, 0);
}

/* glibc's euidaccess calls its internal access when the ids agree, and
 * does its own mode arithmetic on an internal stat when they do not:
 * for a managed path, the manager checks with the effective ids. */
SHX_EXPORT int euidaccess(const char *path, int mode)
{
	struct shx_path p;

	if (shx_unmanaged(AT_FDCWD, path) || shx_classify(AT_FDCWD, path, &p) <= 0)
		return REAL(euidaccess)(path, mode);
	return faccessat(AT_FDCWD, path, mode, AT_EACCESS);
}

SHX_EXPORT int eaccess(const char *path, int mode)
{
	return euidaccess(path, mode);
}
