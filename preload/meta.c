/* meta.c -- changing what an inode says about itself: chmod, chown, the
 * utime family and truncate.  Each becomes one SHX_OP_SETATTR naming a
 * path or, for the f* calls, the fd's object. */
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "preload.h"

/* Sends the change for (dirfd, path), or for fd's object when path is
 * NULL; 1 if the call is not ours, -SHX_EESCAPE with q->path the real
 * path when a symlink or ".." leads out of the mounts. */
static int setattr(int fd, const char *path, struct shx_req *q)
{
	struct shx_path p;
	struct shx_rep rep = { 0 };
	struct shx_fdent *e;
	int r;

	if (!path) {
		e = shx_fdtab_get(fd);
		if (!e)
			return 1;
		q->op = SHX_OP_SETATTR;
		q->ino = e->ino;
		r = shx_request(q, &rep, NULL, 0);
		if (r == -ESTALE)
			shx_fdtab_clear(fd);
		return r == -ESTALE ? 1 : r;
	}
	r = shx_classify(fd, path, &p);
	if (r <= 0)
		return r == 0 ? 1 : r;
	q->op = SHX_OP_SETATTR;
	q->ino = p.start;
	shx_req_set_path(q, p.path);
	return shx_request(q, &rep, NULL, 0);
}

static void req_clear(struct shx_req *q, unsigned flags)
{
	memset(q, 0, offsetof(struct shx_req, path));
	q->flags = flags;
}

/* --- chmod --------------------------------------------------------------- */

static int mode_change(int fd, const char *path, mode_t mode, int flags, struct shx_req *q)
{
	req_clear(q, SHX_SET_MODE | (flags & AT_SYMLINK_NOFOLLOW ? SHX_SET_NOFOLLOW : 0));
	q->mode = mode;
	return setattr(fd, path, q);
}

SHX_EXPORT int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	struct shx_req q;
	int r;

	if (!shx_opaque(path))
		return REAL(fchmodat)(dirfd, path, mode, flags);
	if (flags & ~AT_SYMLINK_NOFOLLOW)
		return shx_classify(dirfd, path, &(struct shx_path){ 0 }) > 0
			       ? shx_ret(-EINVAL)
			       : REAL(fchmodat)(dirfd, path, mode, flags);
	r = mode_change(dirfd, path, mode, flags, &q);
	if (r == -SHX_EESCAPE)
		path = q.path;
	return r == 1 || r == -SHX_EESCAPE ? REAL(fchmodat)(dirfd, path, mode, flags) : shx_ret(r);
}

SHX_EXPORT int chmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, 0);
}

SHX_EXPORT int fchmod(int fd, mode_t mode)
{
	struct shx_req q;
	int r = mode_change(fd, NULL, mode, 0, &q);

	return r == 1 ? REAL(fchmod)(fd, mode) : shx_ret(r);
}

/* --- chown --------------------------------------------------------------- */

static int owner_change(int fd, const char *path, uid_t uid, gid_t gid, int flags,
			struct shx_req *q)
{
	/* always both: even chown(-1, -1) clears set-user-ID and changes ctime */
	req_clear(q, SHX_SET_UID | SHX_SET_GID | (flags & AT_SYMLINK_NOFOLLOW ? SHX_SET_NOFOLLOW : 0));
	q->uid = uid;
	q->gid = gid;
	return setattr(fd, path, q);
}

SHX_EXPORT int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	struct shx_req q;
	int r;

	if ((flags & AT_EMPTY_PATH) && shx_empty(path)) {
		r = owner_change(dirfd, NULL, uid, gid, flags, &q);
		return r == 1 ? REAL(fchownat)(dirfd, path, uid, gid, flags) : shx_ret(r);
	}
	if (!shx_opaque(path))
		return REAL(fchownat)(dirfd, path, uid, gid, flags);
	r = owner_change(dirfd, path, uid, gid, flags, &q);
	if (r == -SHX_EESCAPE)
		path = q.path;
	return r == 1 || r == -SHX_EESCAPE ? REAL(fchownat)(dirfd, path, uid, gid, flags)
					    : shx_ret(r);
}

SHX_EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, 0);
}

SHX_EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

SHX_EXPORT int fchown(int fd, uid_t uid, gid_t gid)
{
	struct shx_req q;
	int r = owner_change(fd, NULL, uid, gid, 0, &q);

	return r == 1 ? REAL(fchown)(fd, uid, gid) : shx_ret(r);
}

/* --- times --------------------------------------------------------------- */

/* utimensat's times as a request; 1 when both are UTIME_OMIT (nothing to
 * do), -EINVAL for a bad nanosecond field. */
static int times_req(const struct timespec *ts, struct shx_req *q)
{
	req_clear(q, 0);
	if (!ts) {
		q->flags = SHX_SET_ATIME | SHX_SET_MTIME;
		q->atime_ns = q->mtime_ns = SHX_TIME_NOW;
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		int64_t *t = i ? &q->mtime_ns : &q->atime_ns;

		if (ts[i].tv_nsec == UTIME_OMIT)
			continue;
		if (ts[i].tv_nsec == UTIME_NOW)
			*t = SHX_TIME_NOW;
		else if (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000)
			return -EINVAL;
		else
			*t = (int64_t)ts[i].tv_sec * 1000000000 + ts[i].tv_nsec;
		q->flags |= i ? SHX_SET_MTIME : SHX_SET_ATIME;
	}
	return q->flags ? 0 : 1;
}

/* utimensat, whose path may be NULL (Linux: the fd itself) */
static int times_at(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
	struct shx_req q;
	struct shx_path p;
	int r;

	path = shx_opaque(path);
	if (path && !(flags & AT_EMPTY_PATH && !path[0]) && shx_classify(dirfd, path, &p) <= 0)
		return REAL(utimensat)(dirfd, path, ts, flags);
	/* (glibc's utimensat refuses a NULL path: futimens is its way) */
	if (!path && !shx_fdtab_get(dirfd) && !flags)
		return REAL(futimens)(dirfd, ts);
	if ((!path || !path[0]) && !shx_fdtab_get(dirfd))
		return REAL(utimensat)(dirfd, path, ts, flags);
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return shx_ret(-EINVAL);
	r = times_req(ts, &q);
	if (r != 0)
		return r == 1 ? 0 : shx_ret(r);
	if (flags & AT_SYMLINK_NOFOLLOW)
		q.flags |= SHX_SET_NOFOLLOW;
	r = setattr(dirfd, path && path[0] ? path : NULL, &q);
	if (r == -SHX_EESCAPE)
		path = q.path;
	return r == 1 || r == -SHX_EESCAPE ? REAL(utimensat)(dirfd, path, ts, flags) : shx_ret(r);
}

SHX_EXPORT int utimensat(int dirfd, const char *path, const struct timespec ts[2], int flags)
{
	return times_at(dirfd, path, ts, flags);
}

SHX_EXPORT int futimens(int fd, const struct timespec ts[2])
{
	return times_at(fd, NULL, ts, 0);
}

static const struct timespec *from_timeval(const struct timeval *tv, struct timespec *ts)
{
	if (!tv)
		return NULL;
	for (int i = 0; i < 2; i++)
		ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
	return ts;
}

SHX_EXPORT int utimes(const char *path, const struct timeval tv[2])
{
	struct timespec ts[2];

	if (tv && (tv[0].tv_usec < 0 || tv[0].tv_usec >= 1000000 || tv[1].tv_usec < 0 ||
		   tv[1].tv_usec >= 1000000))
		return shx_ret(-EINVAL);
	return times_at(AT_FDCWD, path, from_timeval(tv, ts), 0);
}

SHX_EXPORT int utime(const char *path, const struct utimbuf *ub)
{
	struct timespec ts[2];

	if (!ub)
		return times_at(AT_FDCWD, path, NULL, 0);
	ts[0] = (struct timespec){ ub->actime, 0 };
	ts[1] = (struct timespec){ ub->modtime, 0 };
	return times_at(AT_FDCWD, path, ts, 0);
}

/* --- truncate -------------------------------------------------------------- */

SHX_EXPORT int truncate(const char *path, off_t len)
{
	struct shx_req q;
	int r;

	if (!shx_opaque(path) || shx_classify(AT_FDCWD, path, &(struct shx_path){ 0 }) == 0)
		return REAL(truncate)(path, len);
	if (len < 0)
		return shx_ret(-EINVAL);
	req_clear(&q, SHX_SET_SIZE);
	q.size = len;
	r = setattr(AT_FDCWD, path, &q);
	if (r == -SHX_EESCAPE)
		path = q.path;
	return r == 1 || r == -SHX_EESCAPE ? REAL(truncate)(path, len) : shx_ret(r);
}

#ifdef __GLIBC__
SHX_EXPORT int truncate64(const char *path, off_t len)
{
	return truncate(path, len);
}
#endif
