/* statfs.c -- statfs and statvfs of managed paths: what df shows, and
 * what programs that size /dev/shm before using it (Chromium does) read.
 * The answer is the manager's limits and use, dressed as a tmpfs. */
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "preload.h"

#define TMPFS_MAGIC 0x01021994
#define BLOCK 4096

/* The manager's figures for (dirfd, path), or for fd's object when path
 * is NULL; 1 if not ours. */
static int figures(int fd, const char *path, struct shx_stats *st, struct shx_path *p)
{
	uint8_t data[128];
	struct shx_rep rep = { .data = data, .datacap = sizeof(data) };
	struct shx_req q;
	struct shx_fdent *e;
	int r;

	if (path) {
		r = shx_classify(AT_FDCWD, path, p);
		if (r <= 0)
			return r == 0 ? 1 : r;
		shx_req_init(&q, SHX_OP_STATFS, p);
	} else {
		e = shx_fdtab_get(fd);
		if (!e)
			return 1;
		shx_req_init(&q, SHX_OP_STATFS, NULL);
		q.ino = e->ino;
	}
	q.aux = sizeof(data);
	r = shx_request(&q, &rep, NULL, 0);
	if (r == -SHX_EESCAPE || r == -ESTALE) {
		if (path)
			memcpy(p->path, q.path, q.pathlen + 1);
		return 1;
	}
	return r < 0 ? r : shx_stats_get(&rep, st) < 0 ? -EIO : 0;
}

static void to_statfs(const struct shx_stats *s, struct statfs *f)
{
	uint64_t used = (s->size_used + BLOCK - 1) / BLOCK, total = s->size_limit / BLOCK;

	memset(f, 0, sizeof(*f));
	f->f_type = TMPFS_MAGIC;
	f->f_bsize = f->f_frsize = BLOCK;
	f->f_blocks = total;
	f->f_bfree = f->f_bavail = total > used ? total - used : 0;
	f->f_files = s->inodes_limit;
	f->f_ffree = s->inodes_limit > s->inodes_used ? s->inodes_limit - s->inodes_used : 0;
	f->f_namelen = 255;
	f->f_flags = ST_NOSUID | ST_NODEV;
}

static void to_statvfs(const struct shx_stats *s, struct statvfs *v)
{
	struct statfs f;

	to_statfs(s, &f);
	memset(v, 0, sizeof(*v));
	v->f_bsize = v->f_frsize = BLOCK;
	v->f_blocks = f.f_blocks;
	v->f_bfree = v->f_bavail = f.f_bfree;
	v->f_files = f.f_files;
	v->f_ffree = v->f_favail = f.f_ffree;
	v->f_namemax = 255;
	v->f_flag = ST_NOSUID | ST_NODEV;
}

SHX_EXPORT int statfs(const char *path, struct statfs *f)
{
	struct shx_stats st;
	struct shx_path p;
	int r;

	if (shx_unmanaged(AT_FDCWD, path))
		return REAL(statfs)(path, f);
	r = figures(-1, path, &st, &p);
	if (r == 1)
		return REAL(statfs)(p.path[0] ? p.path : path, f);
	if (r == 0)
		to_statfs(&st, f);
	return shx_ret(r);
}

SHX_EXPORT int fstatfs(int fd, struct statfs *f)
{
	struct shx_stats st;
	int r = figures(fd, NULL, &st, NULL);

	if (r == 1)
		return REAL(fstatfs)(fd, f);
	if (r == 0)
		to_statfs(&st, f);
	return shx_ret(r);
}

SHX_EXPORT int statvfs(const char *path, struct statvfs *v)
{
	struct shx_stats st;
	struct shx_path p;
	int r;

	if (shx_unmanaged(AT_FDCWD, path))
		return REAL(statvfs)(path, v);
	r = figures(-1, path, &st, &p);
	if (r == 1)
		return REAL(statvfs)(p.path[0] ? p.path : path, v);
	if (r == 0)
		to_statvfs(&st, v);
	return shx_ret(r);
}

SHX_EXPORT int fstatvfs(int fd, struct statvfs *v)
{
	struct shx_stats st;
	int r = figures(fd, NULL, &st, NULL);

	if (r == 1)
		return REAL(fstatvfs)(fd, v);
	if (r == 0)
		to_statvfs(&st, v);
	return shx_ret(r);
}

#ifdef __GLIBC__
_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64), "LFS64 statfs differs");
_Static_assert(sizeof(struct statvfs) == sizeof(struct statvfs64), "LFS64 statvfs differs");

SHX_EXPORT int statfs64(const char *path, struct statfs64 *f)
{
	return statfs(path, (struct statfs *)f);
}

SHX_EXPORT int fstatfs64(int fd, struct statfs64 *f)
{
	return fstatfs(fd, (struct statfs *)f);
}

SHX_EXPORT int statvfs64(const char *path, struct statvfs64 *v)
{
	return statvfs(path, (struct statvfs *)v);
}

SHX_EXPORT int fstatvfs64(int fd, struct statvfs64 *v)
{
	return fstatvfs(fd, (struct statvfs *)v);
}
#endif
