/* xattr.c -- extended attributes of managed paths and directory fds.
 *
 * Every managed inode has a memfd, and the kernel keeps a memfd's extended
 * attributes exactly as it keeps a tmpfs file's (a memfd is one).  So the
 * manager checks only what depends on the inode as the namespace sees it
 * (xattr_permission: type, owner, mode, sticky bit) and hands back a
 * read-only fd of the memfd, on which the real f*xattr call then runs.  A
 * regular file's fd is its memfd already, so fgetxattr and friends on it
 * need nothing from us; a directory fd is a placeholder and asks.
 *
 * The kernel checks the name (and a set's flags and size) before it looks
 * the path up, so those errors come first here too.
 */
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "preload.h"

#ifndef XATTR_NAME_MAX
#define XATTR_NAME_MAX 255
#endif
#ifndef XATTR_SIZE_MAX
#define XATTR_SIZE_MAX 65536
#endif

enum xop { X_GET, X_LIST, X_SET, X_REMOVE };

struct xcall {
	enum xop op;
	const char *name; /* NULL for X_LIST */
	void *value;	  /* the value, or the list buffer */
	size_t size;
	int flags;	  /* X_SET: XATTR_CREATE, XATTR_REPLACE */
};

/* import_xattr_name, setxattr_copy: what the kernel refuses before the
 * lookup. */
static int precheck(const struct xcall *x)
{
	const char *name = shx_opaque(x->name);
	size_t n;

	if (x->op == X_SET && (x->flags & ~(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	if (x->op == X_LIST)
		return 0;
	if (!name)
		return -EFAULT;
	n = strnlen(name, XATTR_NAME_MAX + 1);
	if (n == 0 || n > XATTR_NAME_MAX)
		return -ERANGE;
	if (x->op == X_SET && x->size > XATTR_SIZE_MAX)
		return -E2BIG;
	if (x->op == X_SET && x->size && !shx_opaque(x->value))
		return -EFAULT;
	return 0;
}

static ssize_t real_call(int fd, const struct xcall *x)
{
	switch (x->op) {
	case X_GET: return REAL(fgetxattr)(fd, x->name, x->value, x->size);
	case X_LIST: return REAL(flistxattr)(fd, x->value, x->size);
	case X_SET: return REAL(fsetxattr)(fd, x->name, x->value, x->size, x->flags);
	default: return REAL(fremovexattr)(fd, x->name);
	}
}

/* The manager's checks for the inode that q names, then the call on its
 * memfd: the result, or -errno. */
static ssize_t on_memfd(struct shx_req *q, const struct xcall *x, struct shx_path *p)
{
	struct shx_rep rep = { 0 };
	ssize_t n;
	int mfd, r;

	q->aux = x->op == X_SET || x->op == X_REMOVE;
	if (x->name)
		shx_req_set_path2(q, x->name);
	r = shx_request(q, &rep, &mfd, O_CLOEXEC);
	if (r == -SHX_EESCAPE && p)
		memcpy(p->path, q->path, q->pathlen + 1);
	if (r < 0)
		return r;
	n = real_call(mfd, x);
	if (n < 0)
		n = -errno;
	syscall(SYS_close, mfd);
	return n;
}

/* -SHX_EESCAPE: not managed; *path is then where the real call goes (the
 * caller's path, or where a symlink led out of the mounts). */
static ssize_t by_path(const char **path, int nofollow, const struct xcall *x,
		       struct shx_path *p)
{
	struct shx_req q;
	ssize_t r = shx_classify(AT_FDCWD, *path, p);

	if (r == 0)
		return -SHX_EESCAPE;
	if (r > 0)
		r = precheck(x);
	if (r < 0)
		return r;
	shx_req_init(&q, SHX_OP_XATTR, p);
	q.flags = nofollow ? AT_SYMLINK_NOFOLLOW : 0;
	r = on_memfd(&q, x, p);
	if (r == -SHX_EESCAPE)
		*path = p->path;
	return r;
}

/* A directory fd is a placeholder: its attributes are the directory's.
 * Other fds, managed files included, go to the kernel as they are. */
static struct shx_fdent *dir_fd(int fd)
{
	struct shx_fdent *e = shx_fdtab_get(fd);

	/* an O_PATH fd has no attributes to offer: the kernel's EBADF */
	if (!e || !(e->flags & SHX_FD_DIR) || (REAL(fcntl)(fd, F_GETFL) & O_PATH))
		return NULL;
	return e;
}

static ssize_t by_fd(struct shx_fdent *e, const struct xcall *x)
{
	struct shx_req q;
	int r = precheck(x);

	if (r < 0)
		return r;
	shx_req_init(&q, SHX_OP_XATTR, NULL);
	q.ino = e->ino;
	return on_memfd(&q, x, NULL);
}

#define PATH_XATTR(ret, name, nofollow, params, args, ...)                                      \
	SHX_EXPORT ret name params                                                              \
	{                                                                                       \
		struct xcall x = { __VA_ARGS__ };                                               \
		struct shx_path p;                                                              \
		ssize_t r;                                                                      \
                                                                                                \
		if (shx_unmanaged(AT_FDCWD, path))                                              \
			return REAL(name) args;                                                 \
		r = by_path(&path, nofollow, &x, &p);                                           \
		return r == -SHX_EESCAPE ? REAL(name) args : shx_ret(r);                        \
	}

#define FD_XATTR(ret, name, params, args, ...)                                                  \
	SHX_EXPORT ret name params                                                              \
	{                                                                                       \
		struct xcall x = { __VA_ARGS__ };                                               \
		struct shx_fdent *e = dir_fd(fd);                                               \
                                                                                                \
		return e ? shx_ret(by_fd(e, &x)) : REAL(name) args;                             \
	}

#define GET_PARAMS (const char *path, const char *name, void *value, size_t size)
#define LIST_PARAMS (const char *path, char *list, size_t size)
#define SET_PARAMS (const char *path, const char *name, const void *value, size_t size, int flags)
#define REMOVE_PARAMS (const char *path, const char *name)

#define GET(n, v, len) .op = X_GET, .name = n, .value = v, .size = len
#define LIST(v, len) .op = X_LIST, .value = v, .size = len
#define SET(n, v, len, fl) .op = X_SET, .name = n, .value = (void *)v, .size = len, .flags = fl
#define REMOVE(n) .op = X_REMOVE, .name = n

PATH_XATTR(ssize_t, getxattr, 0, GET_PARAMS, (path, name, value, size), GET(name, value, size))
PATH_XATTR(ssize_t, lgetxattr, 1, GET_PARAMS, (path, name, value, size), GET(name, value, size))
PATH_XATTR(ssize_t, listxattr, 0, LIST_PARAMS, (path, list, size), LIST(list, size))
PATH_XATTR(ssize_t, llistxattr, 1, LIST_PARAMS, (path, list, size), LIST(list, size))
PATH_XATTR(int, setxattr, 0, SET_PARAMS, (path, name, value, size, flags),
	   SET(name, value, size, flags))
PATH_XATTR(int, lsetxattr, 1, SET_PARAMS, (path, name, value, size, flags),
	   SET(name, value, size, flags))
PATH_XATTR(int, removexattr, 0, REMOVE_PARAMS, (path, name), REMOVE(name))
PATH_XATTR(int, lremovexattr, 1, REMOVE_PARAMS, (path, name), REMOVE(name))

FD_XATTR(ssize_t, fgetxattr, (int fd, const char *name, void *value, size_t size),
	 (fd, name, value, size), GET(name, value, size))
FD_XATTR(ssize_t, flistxattr, (int fd, char *list, size_t size), (fd, list, size),
	 LIST(list, size))
FD_XATTR(int, fsetxattr, (int fd, const char *name, const void *value, size_t size, int flags),
	 (fd, name, value, size, flags), SET(name, value, size, flags))
FD_XATTR(int, fremovexattr, (int fd, const char *name), (fd, name), REMOVE(name))
