/* names.c -- POSIX shared memory names: shm_open and shm_unlink.
 *
 * glibc 2.36's rules (posix/shm-directory.c): leading slashes are
 * dropped; an empty name or one with another '/' is EINVAL; the object is
 * /dev/shm/NAME, opened O_NOFOLLOW|O_CLOEXEC; EISDIR becomes EINVAL and,
 * for shm_unlink, EPERM becomes EACCES.  Always managed: /dev/shm is. */
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#ifndef RENAME_NOREPLACE /* musl's headers lack renameat2's flags */
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

int shx_shm_name(const char *name, const char *prefix, struct shx_path *p)
{
	size_t n, pre = strlen(prefix);

	name = shx_opaque(name);
	if (!name)
		return -EFAULT;
	while (*name == '/')
		name++;
	n = strlen(name);
	if (n == 0 || memchr(name, '/', n))
		return -EINVAL;
	/* glibc's buffer holds "/dev/shm/", "sem." and NAME_MAX bytes; a
	 * longer name fails there, before the kernel could say ENAMETOOLONG */
	if (pre + n > NAME_MAX + 4)
		return -EINVAL;
	memcpy(p->path, "/dev/shm/", 9);
	memcpy(p->path + 9, prefix, pre);
	memcpy(p->path + 9 + pre, name, n + 1);
	p->start = 0;
	return 0;
}

SHX_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	struct shx_path p;
	int r = shx_shm_name(name, "", &p);

	if (r == 0)
		r = shx_open_managed(AT_FDCWD, &p, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
	return shx_ret(r == -EISDIR ? -EINVAL : r);
}

SHX_EXPORT int shm_unlink(const char *name)
{
	struct shx_path p;
	int r = shx_shm_name(name, "", &p);

	if (r < 0) /* glibc: any bad name is ENOENT here */
		return shx_ret(-ENOENT);
	r = unlink(p.path);
	if (r < 0 && errno == EPERM)
		errno = EACCES;
	return r;
}

/* --- rename -------------------------------------------------------------- */

/* The directory holding a path's last component, lexically: "a/b/" is in
 * "a", "x" in ".", "/x" in "/".  0, or -ENAMETOOLONG. */
static int dir_of(const char *path, char *dir, size_t cap)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0)
		path = ".", n = 1;
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = 0;
	return 0;
}

/* What the kernel checks of one side of a rename or link before it finds
 * the two in different file systems: that the path's directory is there
 * (filename_parentat), managed (p) or not (dirfd, path). */
static int parent_exists(int dirfd, const char *path, const struct shx_path *p)
{
	struct shx_path d;
	struct shx_attr a;
	struct stat st;
	int r = dir_of(p ? p->path : path, d.path, sizeof(d.path));

	if (r < 0)
		return r;
	if (!p)
		return REAL(fstatat)(dirfd, d.path, &st, 0) < 0 ? -errno
		       : S_ISDIR(st.st_mode)			 ? 0
									 : -ENOTDIR;
	d.start = p->start;
	r = shx_stat_path(&d, 0, &a);
	if (r == -SHX_EESCAPE)
		return 0; /* the real file system's: it was there to lead out */
	return r < 0 ? r : S_ISDIR(a.mode) ? 0 : -ENOTDIR;
}

/* 1 if neither path is managed (the caller asks the kernel), else the
 * result.  One managed path and one not are two file systems: EXDEV, as
 * do_renameat2 says once it has found both parents. */
static int rename_managed(int olddir, const char *old, int newdir, const char *new,
			  unsigned flags)
{
	struct shx_path a, b;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int ra = shx_classify(olddir, old, &a), rb = shx_classify(newdir, new, &b), r;

	if (ra == 0 && rb == 0)
		return 1;
	if (ra < 0 || rb < 0)
		return ra < 0 ? ra : rb;
	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    (flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)) == (RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (ra == 0 || rb == 0) {
		r = parent_exists(olddir, old, ra ? &a : NULL);
		if (r == 0)
			r = parent_exists(newdir, new, rb ? &b : NULL);
		return r < 0 ? r : -EXDEV;
	}
	shx_req_init(&q, SHX_OP_RENAME, &a);
	q.size = b.start;
	q.flags = flags;
	r = shx_req_set_path2(&q, b.path);
	if (r == 0)
		r = shx_request(&q, &rep, NULL, 0);
	return r == -SHX_EESCAPE ? -EXDEV : r;
}

#ifdef __GLIBC__
SHX_EXPORT int renameat2(int olddir, const char *old, int newdir, const char *new, unsigned flags)
{
	int r = rename_managed(olddir, old, newdir, new, flags);

	return r == 1 ? REAL(renameat2)(olddir, old, newdir, new, flags) : shx_ret(r);
}
#endif

SHX_EXPORT int renameat(int olddir, const char *old, int newdir, const char *new)
{
	int r = rename_managed(olddir, old, newdir, new, 0);

	return r == 1 ? REAL(renameat)(olddir, old, newdir, new) : shx_ret(r);
}

SHX_EXPORT int rename(const char *old, const char *new)
{
	int r = rename_managed(AT_FDCWD, old, AT_FDCWD, new, 0);

	return r == 1 ? REAL(rename)(old, new) : shx_ret(r);
}

/* --- mkdir, link --------------------------------------------------------- */

SHX_EXPORT int mkdirat(int dirfd, const char *path, mode_t mode)
{
	struct shx_path p;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int r = shx_classify(dirfd, path, &p);

	if (r == 0)
		return REAL(mkdirat)(dirfd, path, mode);
	if (r > 0) {
		shx_req_init(&q, SHX_OP_MKDIR, &p);
		q.mode = mode & ~shx_umask() & 07777;
		r = shx_request_path(&q, &rep, &p);
		if (r == -SHX_EESCAPE)
			return REAL(mkdirat)(dirfd, p.path, mode);
	}
	return shx_ret(r);
}

SHX_EXPORT int mkdir(const char *path, mode_t mode)
{
	return mkdirat(AT_FDCWD, path, mode);
}

/* --- mknod, mkfifo ------------------------------------------------------ */

/* mknod(2) of a managed path: a regular file, FIFO, socket or device node
 * (the manager checks the type first, as may_mknod does). */
int shx_mknod(struct shx_path *p, mode_t mode, dev_t dev, char *node, size_t cap)
{
	char path[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)(node ? node : path),
			       .datacap = (node ? cap : sizeof(path)) - 1 };
	struct shx_req q;
	int r;

	shx_req_init(&q, SHX_OP_MKNOD, p);
	q.mode = (mode & S_IFMT) | (mode & ~shx_umask() & 07777);
	q.size = dev;
	r = shx_request_path(&q, &rep, p);
	if (r == 0 && node)
		node[rep.datalen] = 0;
	return r;
}

SHX_EXPORT int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	struct shx_path p;
	int r = shx_classify(dirfd, path, &p);

	if (r == 0)
		return REAL(mknodat)(dirfd, path, mode, dev);
	if (r > 0) {
		r = shx_mknod(&p, mode, dev, NULL, 0);
		if (r == -SHX_EESCAPE)
			return REAL(mknodat)(dirfd, p.path, mode, dev);
	}
	return shx_ret(r);
}

SHX_EXPORT int mknod(const char *path, mode_t mode, dev_t dev)
{
	return mknodat(AT_FDCWD, path, mode, dev);
}

/* glibc's mkfifo calls its internal mknodat */
SHX_EXPORT int mkfifoat(int dirfd, const char *path, mode_t mode)
{
	return mknodat(dirfd, path, (mode & 07777) | S_IFIFO, 0);
}

SHX_EXPORT int mkfifo(const char *path, mode_t mode)
{
	return mknodat(AT_FDCWD, path, (mode & 07777) | S_IFIFO, 0);
}

#ifdef __GLIBC__
/* binaries built against glibc before 2.33 */
SHX_EXPORT int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	return mknodat(AT_FDCWD, path, mode, *dev);
}

SHX_EXPORT int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev)
{
	return mknodat(dirfd, path, mode, *dev);
}
#endif

/* The managed fd a "/proc/self/fd/N" (or /proc/PID/fd/N, ours) names. */
static struct shx_fdent *proc_fd(const char *path)
{
	char self[32];
	const char *n;
	int len;

	path = shx_opaque(path);
	if (!path || strncmp(path, "/proc/", 6))
		return NULL;
	len = snprintf(self, sizeof(self), "/proc/%d/fd/", (int)getpid());
	if (!strncmp(path, "/proc/self/fd/", 14))
		n = path + 14;
	else if (!strncmp(path, self, len))
		n = path + len;
	else
		return NULL;
	if (*n < '0' || *n > '9' || strspn(n, "0123456789") != strlen(n))
		return NULL;
	return shx_fdtab_get(atoi(n));
}

/* A link from one file system to the other: do_linkat's lookups come
 * before its EXDEV -- the old name whole, then the new name's directory,
 * and EEXIST if the new name is taken. */
static int link_across(int olddir, const char *old, struct shx_path *a, int newdir,
		       const char *new, struct shx_path *b, int flags)
{
	int follow = flags & AT_SYMLINK_FOLLOW, r;
	struct shx_attr at;
	struct stat st;

	if (a && !a->path[0])
		r = 0; /* AT_EMPTY_PATH: the fd's own inode */
	else if (a)
		r = shx_stat_path(a, follow ? 0 : AT_SYMLINK_NOFOLLOW, &at);
	else
		r = REAL(fstatat)(olddir, old, &st,
				  (follow ? 0 : AT_SYMLINK_NOFOLLOW) | (flags & AT_EMPTY_PATH)) < 0
			    ? -errno
			    : 0;
	if (r == -SHX_EESCAPE)
		r = 0;
	if (r == 0)
		r = parent_exists(newdir, new, b);
	if (r == 0) {
		r = b ? shx_stat_path(b, AT_SYMLINK_NOFOLLOW, &at)
		      : REAL(fstatat)(newdir, new, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		r = r == 0 || r == -SHX_EESCAPE ? -EEXIST : r == -ENOENT ? 0 : r;
	}
	return r < 0 ? r : -EXDEV;
}

SHX_EXPORT int linkat(int olddir, const char *old, int newdir, const char *new, int flags)
{
	struct shx_path a = { 0 }, b;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	struct shx_fdent *e = NULL;
	int ra, rb, r;

	if ((flags & AT_EMPTY_PATH) && shx_empty(old)) {
		e = shx_fdtab_get(olddir);
	} else if ((flags & AT_SYMLINK_FOLLOW) && (e = proc_fd(old))) {
		/* open(2)'s way to name an O_TMPFILE: /proc/self/fd/N */
	} else {
		e = NULL;
	}
	if (e)
		a.start = e->ino;
	ra = e ? 1 : shx_classify(olddir, old, &a);
	rb = shx_classify(newdir, new, &b);
	if (rb > 0 && ra == 0 && shx_empty(old))
		return shx_ret(-ENOENT); /* "" without AT_EMPTY_PATH */
	if (ra == 0 && rb == 0)
		return REAL(linkat)(olddir, old, newdir, new, flags);
	if (ra < 0 || rb < 0)
		return shx_ret(ra < 0 ? ra : rb);
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return shx_ret(-EINVAL);
	if (ra == 0 || rb == 0)
		return shx_ret(link_across(olddir, old, ra ? &a : NULL, newdir, new, rb ? &b : NULL,
					   flags));
	shx_req_init(&q, SHX_OP_LINK, &a);
	q.size = b.start;
	q.flags = flags & AT_SYMLINK_FOLLOW;
	r = shx_req_set_path2(&q, b.path);
	if (r == 0)
		r = shx_request(&q, &rep, NULL, 0);
	return shx_ret(r == -SHX_EESCAPE ? -EXDEV : r);
}

SHX_EXPORT int link(const char *old, const char *new)
{
	return linkat(AT_FDCWD, old, AT_FDCWD, new, 0);
}

/* --- symlinks ------------------------------------------------------------ */

SHX_EXPORT int symlinkat(const char *target, int dirfd, const char *path)
{
	struct shx_path p;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int r = shx_classify(dirfd, path, &p);

	if (r == 0 || !shx_opaque(target))
		return REAL(symlinkat)(target, dirfd, path);
	if (r > 0) {
		shx_req_init(&q, SHX_OP_SYMLINK, &p);
		r = shx_req_set_path2(&q, target);
		if (r == 0)
			r = shx_request_path(&q, &rep, &p);
		if (r == -SHX_EESCAPE)
			return REAL(symlinkat)(target, dirfd, p.path);
	}
	return shx_ret(r);
}

SHX_EXPORT int symlink(const char *target, const char *path)
{
	return symlinkat(target, AT_FDCWD, path);
}

SHX_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	char data[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)data, .datacap = sizeof(data) - 1 };
	struct shx_path p;
	struct shx_req q;
	int r = shx_classify(dirfd, path, &p);

	if (r == 0 && shx_empty(path) && shx_fdtab_get(dirfd)) {
		/* readlinkat(fd, "") of an O_PATH fd of a managed link */
		p.start = shx_fdtab_get(dirfd)->ino;
		p.path[0] = 0;
		r = 1;
	}
	if (r == 0)
		return REAL(readlinkat)(dirfd, path, buf, size);
	if (r < 0)
		return shx_ret(r);
	if ((ssize_t)size <= 0)
		return shx_ret(-EINVAL);
	shx_req_init(&q, SHX_OP_READLINK, &p);
	r = shx_request_path(&q, &rep, &p);
	if (r == -SHX_EESCAPE)
		return REAL(readlinkat)(dirfd, p.path, buf, size);
	if (r < 0)
		return shx_ret(r);
	if (rep.datalen < size)
		size = rep.datalen;
	memcpy(buf, data, size);
	return size;
}

SHX_EXPORT ssize_t readlink(const char *path, char *buf, size_t size)
{
	return readlinkat(AT_FDCWD, path, buf, size);
}
