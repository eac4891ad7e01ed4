/* statfs.c -- statfs and statvfs of managed paths: what df shows, and
 * what programs that size /dev/shm before using it (Chromium does) read.
 * The answer is the manager's limits and use, dressed as a tmpfs. */
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "preload.h"

#define TMPFS_MAGIC 0x01021994
#define BLOCK 4096

/* The manager's figures for *path (or for fd's object when *path is
 * NULL) as a tmpfs's statfs: 0, -errno, or 1 when the real call must
 * answer -- with *path, which a symlink or ".." leading out of the mounts
 * replaced by the real path (kept in p). */
static int query(int fd, const char **path, struct statfs *f, struct shx_path *p)
{
	uint8_t data[128];
	struct shx_rep rep = { .data = data, .datacap = sizeof(data) };
	struct shx_stats s;
	struct shx_req q;
	struct shx_fdent *e;
	uint64_t used, total;
	int r;

	if (*path) {
		if (shx_unmanaged(AT_FDCWD, *path))
			return 1;
		r = shx_classify(AT_FDCWD, *path, p);
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
	if (r == -SHX_EESCAPE) {
		memcpy(p->path, q.path, q.pathlen + 1);
		*path = p->path;
		return 1;
	}
	if (r == -ESTALE) /* an fd closed behind our back */
		return 1;
	if (r < 0)
		return r;
	if (shx_stats_get(&rep, &s) < 0)
		return -EIO;
	used = (s.size_used + BLOCK - 1) / BLOCK;
	total = s.size_limit / BLOCK;
	memset(f, 0, sizeof(*f));
	f->f_type = TMPFS_MAGIC;
	f->f_bsize = f->f_frsize = BLOCK;
	f->f_blocks = total;
	f->f_bfree = f->f_bavail = total > used ? total - used : 0;
	f->f_files = s.inodes_limit;
	f->f_ffree = s.inodes_limit > s.inodes_used ? s.inodes_limit - s.inodes_used : 0;
	f->f_namelen = 255;
	f->f_flags = ST_NOSUID | ST_NODEV;
	return 0;
}

static void to_statvfs(const struct statfs *f, struct statvfs *v)
{
	memset(v, 0, sizeof(*v));
	v->f_bsize = f->f_bsize;
	v->f_frsize = f->f_frsize;
	v->f_blocks = f->f_blocks;
	v->f_bfree = f->f_bfree;
	v->f_bavail = f->f_bavail;
	v->f_files = f->f_files;
	v->f_ffree = v->f_favail = f->f_ffree;
	v->f_namemax = f->f_namelen;
	v->f_flag = f->f_flags;
}

SHX_EXPORT int statfs(const char *path, struct statfs *f)
{
	struct shx_path p;
	int r = query(-1, &path, f, &p);

	return r == 1 ? REAL(statfs)(path, f) : shx_ret(r);
}

SHX_EXPORT int fstatfs(int fd, struct statfs *f)
{
	const char *none = NULL;
	int r = query(fd, &none, f, NULL);

	return r == 1 ? REAL(fstatfs)(fd, f) : shx_ret(r);
}

SHX_EXPORT int statvfs(const char *path, struct statvfs *v)
{
	struct shx_path p;
	struct statfs f;
	int r = query(-1, &path, &f, &p);

	if (r == 1)
		return REAL(statvfs)(path, v);
	if (r == 0)
		to_statvfs(&f, v);
	return shx_ret(r);
}

SHX_EXPORT int fstatvfs(int fd, struct statvfs *v)
{
	const char *none = NULL;
	struct statfs f;
	int r = query(fd, &none, &f, NULL);

	if (r == 1)
		return REAL(fstatvfs)(fd, v);
	if (r == 0)
		to_statvfs(&f, v);
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
