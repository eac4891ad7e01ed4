/* names.c -- POSIX shared memory names: shm_open and shm_unlink.
 *
 * glibc 2.36's rules (posix/shm-directory.c): leading slashes are
 * dropped; an empty name or one with another '/' is EINVAL; the object is
 * /dev/shm/NAME, opened O_NOFOLLOW|O_CLOEXEC; EISDIR becomes EINVAL and,
 * for shm_unlink, EPERM becomes EACCES.  Always managed: /dev/shm is. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#ifndef RENAME_NOREPLACE /* musl's headers lack renameat2's flags */
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

static int shm_path(const char *name, struct shx_path *p)
{
	size_t n;

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
	if (n > NAME_MAX + 4)
		return -EINVAL;
	memcpy(p->path, "/dev/shm/", 9);
	memcpy(p->path + 9, name, n + 1);
	p->start = 0;
	return 0;
}

SHX_EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	struct shx_path p;
	int r = shm_path(name, &p);

	if (r == 0)
		r = shx_open_managed(AT_FDCWD, &p, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
	return shx_ret(r == -EISDIR ? -EINVAL : r);
}

SHX_EXPORT int shm_unlink(const char *name)
{
	struct shx_path p;
	int r = shm_path(name, &p);

	if (r < 0) /* glibc: any bad name is ENOENT here */
		return shx_ret(-ENOENT);
	r = unlink(p.path);
	if (r < 0 && errno == EPERM)
		errno = EACCES;
	return r;
}

/* --- rename -------------------------------------------------------------- */

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
	if (ra == 0 || rb == 0)
		return -EXDEV;
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
