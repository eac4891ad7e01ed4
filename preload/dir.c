/* dir.c -- directory streams over managed directories.
 *
 * A managed directory's DIR is ours: its fd is the placeholder the
 * manager handed out, and its entries come from the manager in batches.
 * Our DIRs live in one reserved arena, so telling them from libc's is an
 * address compare, not a guess at libc's private layout.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#define NDIRS 4096
#define BATCH 4096

struct shx_dir {
	atomic_int used;
	int fd;
	uint64_t ino;
	uint64_t next;	/* the cookie the next batch starts at */
	uint64_t pos;	/* the cookie of the entry readdir returns next */
	size_t off;	/* in the batch */
	int eof;
	pthread_mutex_t lock;
	struct shx_rep rep;
	uint8_t data[BATCH];
	struct dirent ent;
#ifdef __GLIBC__
	struct dirent64 ent64;
#endif
};

static _Atomic(void *) arena;

static struct shx_dir *arena_get(int create)
{
	return shx_map_once(&arena, NDIRS * sizeof(struct shx_dir), create);
}

static struct shx_dir *ours(DIR *d)
{
	struct shx_dir *a = arena_get(0);
	uintptr_t p = (uintptr_t)d, base = (uintptr_t)a;

	if (!a || p < base || p >= base + NDIRS * sizeof(*a))
		return NULL;
	return (struct shx_dir *)d;
}

static DIR *dir_new(int fd, uint64_t ino)
{
	struct shx_dir *a = arena_get(1);

	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	for (int i = 0; i < NDIRS; i++) {
		struct shx_dir *d = &a[i];

		if (atomic_exchange(&d->used, 1))
			continue;
		d->fd = fd;
		d->ino = ino;
		d->next = d->pos = 0;
		d->off = 0;
		d->eof = 0;
		d->rep = (struct shx_rep){ .data = d->data, .datacap = sizeof(d->data) };
		pthread_mutex_init(&d->lock, NULL);
		return (DIR *)d;
	}
	errno = EMFILE;
	return NULL;
}

SHX_EXPORT DIR *opendir(const char *path)
{
	struct shx_path p;
	uint64_t ino = 0;
	DIR *d;
	int r = shx_classify(AT_FDCWD, path, &p), fd;

	if (r == 0)
		return REAL(opendir)(path);
	if (r > 0) {
		r = shx_open_ino(&p, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &ino);
		if (r == -SHX_EESCAPE)
			return REAL(opendir)(p.path);
	}
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	fd = r;
	d = dir_new(fd, ino);
	if (!d)
		close(fd);
	return d;
}

SHX_EXPORT DIR *fdopendir(int fd)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	int fl;

	if (!e)
		return REAL(fdopendir)(fd);
	if (!(e->flags & SHX_FD_DIR)) {
		errno = ENOTDIR;
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH)) {
		errno = EBADF;
		return NULL;
	}
	return dir_new(fd, e->ino);
}

/* The next entry, fetching a batch when this one is used up; NULL at the
 * end (errno untouched) or on error (errno set). */
static const struct shx_dirent *next_entry(struct shx_dir *d, struct shx_dirent *de)
{
	for (;;) {
		int r = shx_dirent_next(&d->rep, &d->off, de);
		struct shx_req q;

		if (r > 0) {
			d->pos = de->cookie;
			return de;
		}
		if (r < 0 || d->eof) {
			if (r < 0)
				errno = EIO;
			return NULL;
		}
		shx_req_init(&q, SHX_OP_READDIR, NULL);
		q.ino = d->ino;
		q.size = d->pos;
		q.aux = sizeof(d->data);
		d->rep.datalen = 0;
		d->off = 0;
		r = shx_request(&q, &d->rep, NULL, 0);
		if (r < 0) {
			d->rep.datalen = 0;
			errno = -r;
			return NULL;
		}
		d->eof = !!(d->rep.hflags & SHX_HF_EOF);
		if (d->rep.datalen == 0 && !d->eof) {
			errno = EOVERFLOW;
			return NULL;
		}
	}
}

#define FILL_DIRENT(ent, de)                                                                   \
	do {                                                                                   \
		(ent)->d_ino = (de)->ino;                                                      \
		(ent)->d_off = (de)->cookie;                                                   \
		(ent)->d_type = (de)->type;                                                    \
		memcpy((ent)->d_name, (de)->name, (de)->namelen + 1);                          \
		(ent)->d_reclen = offsetof(__typeof__(*(ent)), d_name) + (de)->namelen + 1;    \
	} while (0)

SHX_EXPORT struct dirent *readdir(DIR *dir)
{
	struct shx_dir *d = ours(dir);
	struct shx_dirent de;
	struct dirent *ent = NULL;

	if (!d)
		return REAL(readdir)(dir);
	pthread_mutex_lock(&d->lock);
	if (next_entry(d, &de)) {
		FILL_DIRENT(&d->ent, &de);
		ent = &d->ent;
	}
	pthread_mutex_unlock(&d->lock);
	return ent;
}

#ifdef __GLIBC__
SHX_EXPORT struct dirent64 *readdir64(DIR *dir)
{
	struct shx_dir *d = ours(dir);
	struct shx_dirent de;
	struct dirent64 *ent = NULL;

	if (!d)
		return REAL(readdir64)(dir);
	pthread_mutex_lock(&d->lock);
	if (next_entry(d, &de)) {
		FILL_DIRENT(&d->ent64, &de);
		ent = &d->ent64;
	}
	pthread_mutex_unlock(&d->lock);
	return ent;
}
#endif

/* readdir_r: the entry goes to the caller's buffer; 0 or the error. */
static int entry_r(struct shx_dir *d, struct dirent *entry, struct dirent **result)
{
	struct shx_dirent de;
	int saved = errno, r = 0;

	pthread_mutex_lock(&d->lock);
	errno = 0;
	*result = NULL;
	if (next_entry(d, &de)) {
		FILL_DIRENT(entry, &de);
		*result = entry;
	} else {
		r = errno;
	}
	pthread_mutex_unlock(&d->lock);
	errno = saved;
	return r;
}

SHX_EXPORT int readdir_r(DIR *dir, struct dirent *entry, struct dirent **result)
{
	struct shx_dir *d = ours(dir);

	return d ? entry_r(d, entry, result) : REAL(readdir_r)(dir, entry, result);
}

#ifdef __GLIBC__
SHX_EXPORT int readdir64_r(DIR *dir, struct dirent64 *entry, struct dirent64 **result)
{
	struct shx_dir *d = ours(dir);

	if (!d)
		return REAL(readdir64_r)(dir, entry, result);
	return entry_r(d, (struct dirent *)entry, (struct dirent **)result);
}
#endif

SHX_EXPORT int closedir(DIR *dir)
{
	struct shx_dir *d = ours(dir);
	int fd;

	if (!d)
		return REAL(closedir)(dir);
	fd = d->fd;
	pthread_mutex_destroy(&d->lock);
	atomic_store(&d->used, 0);
	return close(fd);
}

SHX_EXPORT int dirfd(DIR *dir)
{
	struct shx_dir *d = ours(dir);

	return d ? d->fd : REAL(dirfd)(dir);
}

static void reposition(struct shx_dir *d, uint64_t pos)
{
	pthread_mutex_lock(&d->lock);
	d->pos = pos;
	d->rep.datalen = 0;
	d->off = 0;
	d->eof = 0;
	pthread_mutex_unlock(&d->lock);
}

SHX_EXPORT void rewinddir(DIR *dir)
{
	struct shx_dir *d = ours(dir);

	if (d)
		reposition(d, 0);
	else
		REAL(rewinddir)(dir);
}

SHX_EXPORT long telldir(DIR *dir)
{
	struct shx_dir *d = ours(dir);

	return d ? (long)d->pos : REAL(telldir)(dir);
}

SHX_EXPORT void seekdir(DIR *dir, long pos)
{
	struct shx_dir *d = ours(dir);

	if (d)
		reposition(d, pos);
	else
		REAL(seekdir)(dir, pos);
}

/* --- scandir: glibc opens the directory internally ---------------------- */

typedef int scan_filter(const struct dirent *);
typedef int scan_compar(const struct dirent **, const struct dirent **);

/* glibc's scandir over one of our streams: each kept entry copied with
 * malloc, the array sorted with compar. */
static int scan(DIR *d, struct dirent ***list, scan_filter *filter, scan_compar *compar)
{
	struct dirent **v = NULL, *e;
	size_t n = 0, cap = 0;
	int saved = errno;

	errno = 0;
	while ((e = readdir(d))) {
		struct dirent *copy;

		if (filter && !filter(e)) {
			errno = 0;
			continue;
		}
		if (n == cap) {
			struct dirent **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv)
				goto fail;
			v = nv;
		}
		copy = malloc(e->d_reclen);
		if (!copy)
			goto fail;
		memcpy(copy, e, e->d_reclen);
		v[n++] = copy;
	}
	if (errno)
		goto fail;
	if (compar && n > 1)
		qsort(v, n, sizeof(*v), (int (*)(const void *, const void *))compar);
	closedir(d);
	*list = v;
	errno = saved;
	return (int)n;
fail:
	saved = errno;
	while (n > 0)
		free(v[--n]);
	free(v);
	closedir(d);
	errno = saved;
	return -1;
}

SHX_EXPORT int scandirat(int dirfd, const char *path, struct dirent ***list,
			 scan_filter *filter, scan_compar *compar)
{
	struct shx_path p;
	DIR *d;
	int fd;

	if (shx_unmanaged(dirfd, path) || shx_classify(dirfd, path, &p) <= 0)
		return REAL(scandirat)(dirfd, path, list, filter, compar);
	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return scan(d, list, filter, compar);
}

SHX_EXPORT int scandir(const char *path, struct dirent ***list, scan_filter *filter,
		       scan_compar *compar)
{
	return scandirat(AT_FDCWD, path, list, filter, compar);
}

#ifdef __GLIBC__
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "LFS64 dirent differs");

SHX_EXPORT int scandir64(const char *path, struct dirent64 ***list,
			 int (*filter)(const struct dirent64 *),
			 int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	return scandirat(AT_FDCWD, path, (struct dirent ***)list, (scan_filter *)filter,
			 (scan_compar *)compar);
}

SHX_EXPORT int scandirat64(int dirfd, const char *path, struct dirent64 ***list,
			   int (*filter)(const struct dirent64 *),
			   int (*compar)(const struct dirent64 **, const struct dirent64 **))
{
	return scandirat(dirfd, path, (struct dirent ***)list, (scan_filter *)filter,
			 (scan_compar *)compar);
}
#endif
