/* xattr.c -- extended attributes of managed paths and fds.
 *
 * The manager keeps them (core/xattr.c, with tmpfs's rules).  What is
 * here: the checks the system calls make before they look at the file --
 * on 6.x kernels the flags, then the name (ERANGE for "" or more than 255
 * bytes), then the value's size (E2BIG past 64 KiB; a bigger buffer is
 * just cut to 64 KiB) -- and the plumbing: a value goes to the manager as
 * the request's data and comes back as the reply's.  cp -a, tar and
 * Python's shutil copy attributes; ls asks for ACLs and security labels
 * of every file.
 */
#include <string.h>
#include <sys/xattr.h>

#include "preload.h"

#define XATTR_NAME_MAX 255
#define XATTR_SIZE_MAX 65536

/* not ours: the real call, with the caller's path or (ESCAPE) p->path */
#define PASS (-(SHX_EESCAPE + 1))
#define ESCAPE (-SHX_EESCAPE)

enum { BY_PATH, BY_LINK, BY_FD };

/* The request for (fd, or path) and op, or PASS; -errno. */
static int target(int how, int fd, const char *path, unsigned op, struct shx_path *p,
		  struct shx_req *q)
{
	struct shx_fdent *e;
	int r;

	if (how == BY_FD) {
		e = shx_fdtab_get(fd);
		if (!e)
			return PASS;
		/* an O_PATH fd offers no attributes (fdget, not fdget_raw) */
		if (REAL(fcntl)(fd, F_GETFL) & O_PATH)
			return -EBADF;
		shx_req_init(q, SHX_OP_XATTR, NULL);
		q->ino = e->ino;
	} else {
		if (shx_unmanaged(AT_FDCWD, path))
			return PASS;
		r = shx_classify(AT_FDCWD, path, p);
		if (r <= 0)
			return r == 0 ? PASS : r;
		shx_req_init(q, SHX_OP_XATTR, p);
	}
	q->flags = op | (how == BY_LINK ? SHX_XATTR_NOFOLLOW : 0);
	return 0;
}

/* import_xattr_name */
static int name_in(struct shx_req *q, const char *name)
{
	size_t n;

	name = shx_opaque(name);
	if (!name)
		return -EFAULT;
	n = strnlen(name, XATTR_NAME_MAX + 1);
	if (n == 0 || n > XATTR_NAME_MAX)
		return -ERANGE;
	return shx_req_set_path2(q, name);
}

/* The answer: a length (or 0), or -errno; ESCAPE with p->path the real
 * path; PASS for an fd the manager no longer knows. */
static ssize_t ask(struct shx_req *q, struct shx_path *p, void *buf, size_t cap)
{
	struct shx_rep rep = { .data = buf, .datacap = cap };
	int r;

	q->aux = cap;
	r = shx_request(q, &rep, NULL, 0);
	if (r == ESCAPE)
		memcpy(p->path, q->path, q->pathlen + 1);
	if (r == -ESTALE && !q->pathlen)
		return PASS;
	return r < 0 ? r : (ssize_t)rep.value;
}

static ssize_t get(int how, int fd, const char *path, const char *name, void *value, size_t size,
		   struct shx_path *p)
{
	struct shx_req q;
	ssize_t r = target(how, fd, path, SHX_XATTR_GET, p, &q);

	if (r == 0)
		r = name_in(&q, name);
	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX)
		size = XATTR_SIZE_MAX;
	return ask(&q, p, size ? value : NULL, size);
}

static ssize_t list(int how, int fd, const char *path, char *buf, size_t size,
		    struct shx_path *p)
{
	struct shx_req q;
	ssize_t r = target(how, fd, path, SHX_XATTR_LIST, p, &q);

	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX)
		size = XATTR_SIZE_MAX;
	return ask(&q, p, size ? buf : NULL, size);
}

static ssize_t set(int how, int fd, const char *path, const char *name, const void *value,
		   size_t size, int flags, struct shx_path *p)
{
	struct shx_req q;
	ssize_t r = target(how, fd, path, SHX_XATTR_SET, p, &q);

	if (r < 0)
		return r;
	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	r = name_in(&q, name);
	if (r < 0)
		return r;
	if (size > XATTR_SIZE_MAX)
		return -E2BIG;
	if (size && !shx_opaque(value))
		return -EFAULT;
	q.mode = flags;
	q.data = value;
	q.datalen = size;
	return ask(&q, p, NULL, 0);
}

static ssize_t removex(int how, int fd, const char *path, const char *name, struct shx_path *p)
{
	struct shx_req q;
	ssize_t r = target(how, fd, path, SHX_XATTR_REMOVE, p, &q);

	if (r == 0)
		r = name_in(&q, name);
	return r < 0 ? r : ask(&q, p, NULL, 0);
}

/* A wrapper of an fd: ours, or the real function. */
#define XATTR_FD_CALL(real, call, fd, ...)                                                     \
	do {                                                                                   \
		struct shx_path p_;                                                            \
		ssize_t r_ = call;                                                             \
                                                                                               \
		return r_ == PASS ? REAL(real)(fd, __VA_ARGS__) : shx_ret(r_);                  \
	} while (0)

/* A wrapper of a path: ours, or the real function with the caller's path
 * (or the real one a symlink led to). */
#define XATTR_CALL(real, call, path, ...)                                                      \
	do {                                                                                   \
		struct shx_path p_;                                                            \
		ssize_t r_ = call;                                                             \
                                                                                               \
		if (r_ == PASS)                                                                \
			return REAL(real)(path, __VA_ARGS__);                                  \
		if (r_ == ESCAPE)                                                              \
			return REAL(real)(p_.path, __VA_ARGS__);                               \
		return shx_ret(r_);                                                            \
	} while (0)

SHX_EXPORT ssize_t getxattr(const char *path, const char *name, void *value, size_t size)
{
	XATTR_CALL(getxattr, get(BY_PATH, -1, path, name, value, size, &p_), path, name, value,
		   size);
}

SHX_EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size)
{
	XATTR_CALL(lgetxattr, get(BY_LINK, -1, path, name, value, size, &p_), path, name, value,
		   size);
}

SHX_EXPORT ssize_t fgetxattr(int fd, const char *name, void *value, size_t size)
{
	XATTR_FD_CALL(fgetxattr, get(BY_FD, fd, NULL, name, value, size, &p_), fd, name, value,
		   size);
}

SHX_EXPORT ssize_t listxattr(const char *path, char *buf, size_t size)
{
	XATTR_CALL(listxattr, list(BY_PATH, -1, path, buf, size, &p_), path, buf, size);
}

SHX_EXPORT ssize_t llistxattr(const char *path, char *buf, size_t size)
{
	XATTR_CALL(llistxattr, list(BY_LINK, -1, path, buf, size, &p_), path, buf, size);
}

SHX_EXPORT ssize_t flistxattr(int fd, char *buf, size_t size)
{
	XATTR_FD_CALL(flistxattr, list(BY_FD, fd, NULL, buf, size, &p_), fd, buf, size);
}

SHX_EXPORT int setxattr(const char *path, const char *name, const void *value, size_t size,
			int flags)
{
	XATTR_CALL(setxattr, set(BY_PATH, -1, path, name, value, size, flags, &p_), path, name,
		   value, size, flags);
}

SHX_EXPORT int lsetxattr(const char *path, const char *name, const void *value, size_t size,
			 int flags)
{
	XATTR_CALL(lsetxattr, set(BY_LINK, -1, path, name, value, size, flags, &p_), path, name,
		   value, size, flags);
}

SHX_EXPORT int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags)
{
	XATTR_FD_CALL(fsetxattr, set(BY_FD, fd, NULL, name, value, size, flags, &p_), fd, name,
		   value, size, flags);
}

SHX_EXPORT int removexattr(const char *path, const char *name)
{
	XATTR_CALL(removexattr, removex(BY_PATH, -1, path, name, &p_), path, name);
}

SHX_EXPORT int lremovexattr(const char *path, const char *name)
{
	XATTR_CALL(lremovexattr, removex(BY_LINK, -1, path, name, &p_), path, name);
}

SHX_EXPORT int fremovexattr(int fd, const char *name)
{
	XATTR_FD_CALL(fremovexattr, removex(BY_FD, fd, NULL, name, &p_), fd, name);
}
