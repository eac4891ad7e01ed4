/* xattr.c -- extended attributes of managed paths.
 *
 * The manager keeps none yet, so a managed object answers as a tmpfs
 * inode without any: reading one is ENODATA, the list is empty, setting
 * one is EOPNOTSUPP.  What matters is that ls -l, cp -a and tar, which ask
 * for ACLs and security labels of every file, get those answers and not
 * ENOENT from the real file system.  Existence errors come first, from
 * the manager, as they would from the kernel.
 */
#include <sys/xattr.h>

#include "preload.h"

/* 1 if not managed (*real is the path for the real call: the caller's,
 * or where a symlink led out of the mounts); else 0 if the path exists,
 * or -errno. */
static int lookup(const char **path, int nofollow, struct shx_path *p)
{
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int r = shx_classify(AT_FDCWD, *path, p);

	if (r <= 0)
		return r == 0 ? 1 : r;
	shx_req_init(&q, SHX_OP_STAT, p);
	q.flags = nofollow ? AT_SYMLINK_NOFOLLOW : 0;
	r = shx_request_path(&q, &rep, p);
	if (r == -SHX_EESCAPE)
		*path = p->path;
	return r == -SHX_EESCAPE ? 1 : r;
}

#define PATH_XATTR(name, ret, nofollow, answer, params, args)                                   \
	SHX_EXPORT ret name params                                                              \
	{                                                                                       \
		struct shx_path p;                                                              \
		int r = lookup(&path, nofollow, &p);                                            \
                                                                                                \
		if (r == 1)                                                                     \
			return REAL(name) args;                                                 \
		return shx_ret(r < 0 ? r : (answer));                                           \
	}

PATH_XATTR(getxattr, ssize_t, 0, -ENODATA,
	   (const char *path, const char *name, void *value, size_t size), (path, name, value, size))
PATH_XATTR(lgetxattr, ssize_t, 1, -ENODATA,
	   (const char *path, const char *name, void *value, size_t size), (path, name, value, size))
PATH_XATTR(listxattr, ssize_t, 0, 0, (const char *path, char *list, size_t size),
	   (path, list, size))
PATH_XATTR(llistxattr, ssize_t, 1, 0, (const char *path, char *list, size_t size),
	   (path, list, size))
PATH_XATTR(setxattr, int, 0, -EOPNOTSUPP,
	   (const char *path, const char *name, const void *value, size_t size, int flags),
	   (path, name, value, size, flags))
PATH_XATTR(lsetxattr, int, 1, -EOPNOTSUPP,
	   (const char *path, const char *name, const void *value, size_t size, int flags),
	   (path, name, value, size, flags))
PATH_XATTR(removexattr, int, 0, -ENODATA, (const char *path, const char *name), (path, name))
PATH_XATTR(lremovexattr, int, 1, -ENODATA, (const char *path, const char *name), (path, name))
