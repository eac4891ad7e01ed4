/* nftw.c -- nftw(3) and ftw(3).
 *
 * libc's tree walkers read directories and stat entries with internal
 * calls that no wrapper sees, and a walk from anywhere ("/", a tree with a
 * symlink into /tmp) can enter a mount; so these are the library's own,
 * built on its wrapped opendir, fdopendir, openat, readdir, fstatat, stat,
 * lstat, chdir and fchdir, which send managed paths to the manager and the
 * rest to the kernel.  They behave as glibc's io/ftw.c does: the order of
 * the calls, the FTW_* flags, struct FTW, which errors stop the walk and
 * which become FTW_NS or FTW_DNR, at most `fds` directories open at once
 * (the oldest one read to the end and closed when another must open),
 * directories already seen skipped when symlinks are followed, FTW_CHDIR's
 * working directory, FTW_ACTIONRETVAL.  (Not glibc's code: its rules.) */
#include <ftw.h>
#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#ifndef FTW_ACTIONRETVAL /* musl has no FTW_ACTIONRETVAL */
#define FTW_ACTIONRETVAL 16
#define FTW_CONTINUE 0
#define FTW_STOP 1
#define FTW_SKIP_SUBTREE 2
#define FTW_SKIP_SIBLINGS 3
#endif

typedef int nftw_fn(const char *, const struct stat *, int, struct FTW *);
typedef int ftw_fn(const char *, const struct stat *, int);

struct wdir {
	DIR *stream;
	int fd;	       /* its dirfd, -1 once it has been read to the end */
	char *content; /* then: the names it still had, each with its NUL */
};

struct walk {
	nftw_fn *nftw;
	ftw_fn *ftw;	 /* ftw(3): 3 arguments, and fewer FTW_* values */
	int flags;
	dev_t dev;	 /* of the start, for FTW_MOUNT */
	void *seen;	 /* (dev, ino) of the directories entered, unless FTW_PHYS */
	struct wdir **ring; /* the open directories */
	size_t maxdir, act;
	char *path;	 /* the current object's path */
	size_t cap;
	struct FTW f;
};

struct seen {
	dev_t dev;
	ino_t ino;
};

static int seen_cmp(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

static int report(struct walk *w, const struct stat *st, int flag)
{
	if (w->ftw) {
		/* ftw knows no symlinks and no post-order */
		if (flag == FTW_SL)
			flag = FTW_F;
		else if (flag == FTW_DP)
			flag = FTW_D;
		else if (flag == FTW_SLN)
			flag = FTW_NS;
		return w->ftw(w->path, st, flag);
	}
	return w->nftw(w->path, st, flag, &w->f);
}

static int grow(struct walk *w, size_t need)
{
	char *p;

	if (need <= w->cap)
		return 0;
	p = realloc(w->path, 2 * need);
	if (!p)
		return -1;
	w->path = p;
	w->cap = 2 * need;
	return 0;
}

/* The oldest open directory is read to the end and closed, so that one
 * more may open within the limit. */
static int drain(struct wdir *d)
{
	size_t len = 0, cap = 256;
	char *buf = malloc(cap), *nb;
	struct dirent *e;

	if (!buf)
		return -1;
	while ((e = readdir(d->stream))) {
		size_t n = strlen(e->d_name) + 1;

		if (len + n + 1 > cap) {
			nb = realloc(buf, cap = 2 * (len + n + 1));
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
		}
		memcpy(buf + len, e->d_name, n);
		len += n;
	}
	buf[len] = 0;
	closedir(d->stream);
	d->stream = NULL;
	d->fd = -1;
	d->content = buf;
	return 0;
}

static int open_dir(struct walk *w, const struct wdir *parent, struct wdir *d)
{
	const char *name = w->path + w->f.base;

	if (w->ring[w->act]) {
		if (drain(w->ring[w->act]) < 0)
			return -1;
		w->ring[w->act] = NULL;
	}
	d->stream = NULL;
	d->content = NULL;
	if (parent && parent->fd >= 0) {
		int fd = openat(parent->fd, name, O_RDONLY | O_DIRECTORY | O_NDELAY);

		if (fd >= 0 && !(d->stream = fdopendir(fd)))
			close(fd);
	} else {
		d->stream = opendir(!(w->flags & FTW_CHDIR) ? w->path : *name ? name : ".");
	}
	if (!d->stream)
		return -1;
	d->fd = dirfd(d->stream);
	w->ring[w->act] = d;
	w->act = (w->act + 1) % w->maxdir;
	return 0;
}

static void close_dir(struct walk *w, struct wdir *d)
{
	int saved = errno;

	closedir(d->stream);
	d->stream = NULL;
	d->fd = -1;
	errno = saved;
	w->act = (w->act + w->maxdir - 1) % w->maxdir;
	w->ring[w->act] = NULL;
}

static int walk_dir(struct walk *w, const struct stat *st, struct wdir *parent);

static int visit(struct walk *w, struct wdir *dir, const char *name)
{
	size_t n = strlen(name);
	int follow = !(w->flags & FTW_PHYS), r = 0, flag;
	struct stat st;

	if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
		return 0;
	if (grow(w, w->f.base + n + 2) < 0)
		return -1;
	memcpy(w->path + w->f.base, name, n + 1);
	if (dir->fd >= 0)
		r = fstatat(dir->fd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
	else if (!(w->flags & FTW_CHDIR))
		r = follow ? stat(w->path, &st) : lstat(w->path, &st);
	else
		r = follow ? stat(name, &st) : lstat(name, &st);
	if (r < 0) {
		if (errno != EACCES && errno != ENOENT)
			return -1;
		/* a dangling symlink is FTW_SLN, with the link's own stat */
		flag = FTW_NS;
		if (follow && (dir->fd >= 0 ? fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW)
					    : lstat(w->flags & FTW_CHDIR ? name : w->path, &st)) == 0 &&
		    S_ISLNK(st.st_mode))
			flag = FTW_SLN;
	} else {
		flag = S_ISDIR(st.st_mode) ? FTW_D : S_ISLNK(st.st_mode) ? FTW_SL : FTW_F;
	}
	if (flag != FTW_NS && (w->flags & FTW_MOUNT) && st.st_dev != w->dev)
		return 0;
	if (flag == FTW_D) {
		struct seen key = { st.st_dev, st.st_ino }, *k;

		if (follow) {
			if (tfind(&key, &w->seen, seen_cmp))
				return 0; /* entered already: a cycle, or two ways in */
			k = malloc(sizeof(*k));
			if (k)
				*k = key;
			if (!k || !tsearch(k, &w->seen, seen_cmp)) {
				free(k);
				return -1;
			}
		}
		r = walk_dir(w, &st, dir);
	} else {
		r = report(w, &st, flag);
	}
	if ((w->flags & FTW_ACTIONRETVAL) && r == FTW_SKIP_SUBTREE)
		r = 0;
	return r;
}

static int walk_dir(struct walk *w, const struct stat *st, struct wdir *parent)
{
	int prev = w->f.base, r, saved;
	struct dirent *e;
	struct wdir d;
	char *end;

	if (open_dir(w, parent, &d) != 0)
		return errno == EACCES ? report(w, st, FTW_DNR) : -1;
	if (!(w->flags & FTW_DEPTH)) {
		r = report(w, st, FTW_D);
		if (r != 0) {
			close_dir(w, &d);
			return r;
		}
	}
	if ((w->flags & FTW_CHDIR) && fchdir(d.fd) < 0) {
		close_dir(w, &d);
		return -1;
	}
	w->f.level++;
	end = strchr(w->path, 0);
	if (end[-1] != '/')
		*end++ = '/';
	w->f.base = end - w->path;
	r = 0;
	while (d.stream && (e = readdir(d.stream)))
		if ((r = visit(w, &d, e->d_name)) != 0)
			break;
	if (d.stream) {
		close_dir(w, &d);
	} else { /* drained while its subdirectories were walked */
		for (char *p = d.content; r == 0 && *p; p = strchr(p, 0) + 1)
			r = visit(w, &d, p);
		saved = errno;
		free(d.content);
		errno = saved;
	}
	if ((w->flags & FTW_ACTIONRETVAL) && r == FTW_SKIP_SIBLINGS)
		r = 0;
	w->path[w->f.base - 1] = 0;
	w->f.level--;
	w->f.base = prev;
	if (r == 0 && (w->flags & FTW_DEPTH))
		r = report(w, st, FTW_DP);
	if (parent && (w->flags & FTW_CHDIR) &&
	    (r == 0 || ((w->flags & FTW_ACTIONRETVAL) && r != -1 && r != FTW_STOP))) {
		/* back to the parent */
		if (!parent->stream || fchdir(dirfd(parent->stream)) != 0)
			if (chdir(w->f.base == 1 ? "/" : "..") < 0)
				r = -1;
	}
	return r;
}

static int start(const char *dir, nftw_fn *nftw, ftw_fn *ftw, int fds, int flags)
{
	struct walk w = { .nftw = nftw, .ftw = ftw, .flags = flags };
	int r = 0, cwd = -1, saved;
	const char *name;
	char *home = NULL;
	struct stat st;
	size_t len;
	char *p;

	dir = shx_opaque(dir);
	if (!dir)
		return shx_ret(-EFAULT);
	if (!*dir)
		return shx_ret(-ENOENT);
	if (flags & ~(FTW_PHYS | FTW_MOUNT | FTW_CHDIR | FTW_DEPTH | FTW_ACTIONRETVAL))
		return shx_ret(-EINVAL);
	len = strlen(dir);
	w.maxdir = fds < 1 ? 1 : fds;
	w.ring = calloc(w.maxdir, sizeof(*w.ring));
	r = -1;
	if (!w.ring || grow(&w, len + 1 < PATH_MAX ? PATH_MAX : len + 1) < 0)
		goto out;
	r = 0;
	memcpy(w.path, dir, len + 1);
	for (p = w.path + len; p > w.path + 1 && p[-1] == '/'; p--)
		;
	*p = 0;
	while (p > w.path && p[-1] != '/')
		p--;
	w.f.base = p - w.path;
	if (flags & FTW_CHDIR) {
		/* the way back: an fd of the working directory, or its name */
		cwd = open(".", O_RDONLY | O_DIRECTORY);
		if (cwd < 0) {
			if (errno == EACCES)
				home = getcwd(NULL, 0);
			if (!home) {
				r = -1;
				goto out;
			}
		} else if (w.maxdir > 1) {
			w.maxdir--;
		}
		if (w.f.base == 1) {
			r = chdir("/");
		} else if (w.f.base > 1) {
			char c = w.path[w.f.base - 1];

			w.path[w.f.base - 1] = 0;
			r = chdir(w.path);
			w.path[w.f.base - 1] = c;
		}
	}
	if (r == 0) {
		name = !(flags & FTW_CHDIR) ? w.path : w.path[w.f.base] ? w.path + w.f.base : ".";
		if (((flags & FTW_PHYS) ? lstat(name, &st) : stat(name, &st)) < 0) {
			if (!(flags & FTW_PHYS) && errno == ENOENT && lstat(name, &st) == 0 &&
			    S_ISLNK(st.st_mode))
				r = report(&w, &st, FTW_SLN);
			else
				r = -1;
		} else if (S_ISDIR(st.st_mode)) {
			struct seen *k = NULL;

			w.dev = st.st_dev;
			if (!(flags & FTW_PHYS)) {
				k = malloc(sizeof(*k));
				if (k)
					*k = (struct seen){ st.st_dev, st.st_ino };
				if (!k || !tsearch(k, &w.seen, seen_cmp)) {
					free(k);
					r = -1;
				}
			}
			if (r == 0)
				r = walk_dir(&w, &st, NULL);
		} else {
			r = report(&w, &st, S_ISLNK(st.st_mode) ? FTW_SL : FTW_F);
		}
		if ((flags & FTW_ACTIONRETVAL) && (r == FTW_SKIP_SUBTREE || r == FTW_SKIP_SIBLINGS))
			r = 0;
	}
	saved = errno;
	if (cwd >= 0) {
		fchdir(cwd);
		close(cwd);
	} else if (home) {
		int back = chdir(home); /* as glibc: the walk's result stands */

		(void)back;
		free(home);
	}
	errno = saved;
out:
	saved = errno;
	tdestroy(w.seen, free);
	free(w.ring);
	free(w.path);
	errno = saved;
	return r;
}

SHX_EXPORT int nftw(const char *dir, nftw_fn *fn, int fds, int flags)
{
	return start(dir, fn, NULL, fds, flags);
}

SHX_EXPORT int ftw(const char *dir, ftw_fn *fn, int fds)
{
	return start(dir, NULL, fn, fds, 0);
}

#ifdef __GLIBC__
/* On the 64-bit targets we build for, struct stat64 is struct stat. */
SHX_EXPORT int nftw64(const char *dir,
		      int (*fn)(const char *, const struct stat64 *, int, struct FTW *), int fds,
		      int flags)
{
	return start(dir, (nftw_fn *)(void *)fn, NULL, fds, flags);
}

SHX_EXPORT int ftw64(const char *dir, int (*fn)(const char *, const struct stat64 *, int),
		     int fds)
{
	return start(dir, NULL, (ftw_fn *)(void *)fn, fds, 0);
}
#endif
