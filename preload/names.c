/* names.c -- POSIX shared memory names: shm_open and shm_unlink.
 *
 * glibc 2.36's rules (posix/shm-directory.c): leading slashes are
 * dropped; an empty name or one with another '/' is EINVAL; the object is
 * /dev/shm/NAME, opened O_NOFOLLOW|O_CLOEXEC; EISDIR becomes EINVAL and,
 * for shm_unlink, EPERM becomes EACCES.  Always managed: /dev/shm is. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

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
	/* glibc's buffer holds "/dev/shm/", "sem." and NAME_MAX bytes */
	if (n > NAME_MAX + 4)
		return -ENAMETOOLONG;
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
		r = shx_open(&p, oflag | O_NOFOLLOW | O_CLOEXEC, mode);
	return shx_ret(r == -EISDIR ? -EINVAL : r);
}

SHX_EXPORT int shm_unlink(const char *name)
{
	struct shx_path p;
	int r = shm_path(name, &p);

	if (r < 0)
		return shx_ret(r);
	r = unlink(p.path);
	if (r < 0 && errno == EPERM)
		errno = EACCES;
	return r;
}
