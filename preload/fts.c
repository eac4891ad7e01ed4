/* fts.c -- the fts(3) family: fts_open, fts_read, fts_children, fts_set,
 * fts_close, and their fts64_ names.
 *
 * glibc's fts reads, stats and changes directories with internal calls
 * (__opendir, __lstat, __open, __fchdir) that no wrapper sees, so this is
 * the library's own, on its wrapped opendir, readdir, stat, lstat, open,
 * fstat, fchdir and chdir.  It keeps glibc's io/fts.c behaviour, which
 * programs see through the public FTS and FTSENT structures: the 4.4BSD
 * algorithm -- the order of the nodes, fts_info, fts_accpath relative to a
 * working directory the walk moves through (unless FTS_NOCHDIR or
 * FTS_LOGICAL), fts_path and fts_pathlen, cycles as FTS_DC, FTS_NOSTAT's
 * shortcut by link counts, fts_set's instructions, and the
 * "disinformation" ENOENT when a directory changed under the walk.
 *
 * Only glibc has fts in libc (musl's is a separate library). */
#include <limits.h> /* (and <features.h>, which says whether this is glibc) */
#ifdef __GLIBC__
#include <fts.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#define ISDOT(s) ((s)[0] == '.' && (!(s)[1] || ((s)[1] == '.' && !(s)[2])))
#define ISSET(sp, opt) ((sp)->fts_options & (opt))

/* what fts_build is for */
enum { BUILD_CHILD = 1, BUILD_NAMES, BUILD_READ };

static int fd_chdir(FTS *sp, int fd)
{
	return !ISSET(sp, FTS_NOCHDIR) && fchdir(fd) != 0;
}

/* The path of a node with the slash after it, unless it ends in one. */
static size_t path_end(const FTSENT *p)
{
	return p->fts_path[p->fts_pathlen - 1] == '/' ? p->fts_pathlen - 1 : p->fts_pathlen;
}

static FTSENT *node_new(FTS *sp, const char *name, size_t len)
{
	size_t size = offsetof(FTSENT, fts_name) + len + 1;
	FTSENT *p;

	/* the stat buffer after the name, aligned */
	if (!ISSET(sp, FTS_NOSTAT))
		size = (size + alignof(struct stat) - 1) / alignof(struct stat) * alignof(struct stat) +
		       sizeof(struct stat);
	p = malloc(size);
	if (!p)
		return NULL;
	memset(p, 0, offsetof(FTSENT, fts_name));
	memcpy(p->fts_name, name, len);
	p->fts_name[len] = 0;
	p->fts_namelen = len;
	p->fts_path = sp->fts_path;
	p->fts_instr = FTS_NOINSTR;
	if (!ISSET(sp, FTS_NOSTAT))
		p->fts_statp = (struct stat *)((char *)p + size - sizeof(struct stat));
	return p;
}

static void list_free(FTSENT *p)
{
	while (p) {
		FTSENT *next = p->fts_link;

		free(p);
		p = next;
	}
}

/* The path buffer grows by what is asked plus 256; it is addressed by
 * unsigned shorts in FTSENT, so it stays below USHRT_MAX. */
static int path_grow(FTS *sp, size_t more)
{
	char *p;

	if ((size_t)sp->fts_pathlen + more + 256 >= USHRT_MAX) {
		free(sp->fts_path);
		sp->fts_path = NULL;
		errno = ENAMETOOLONG;
		return -1;
	}
	sp->fts_pathlen += more + 256;
	p = realloc(sp->fts_path, sp->fts_pathlen);
	if (!p) {
		free(sp->fts_path);
		sp->fts_path = NULL;
		return -1;
	}
	sp->fts_path = p;
	return 0;
}

/* After the path buffer moved: every node still around points into it. */
static void path_moved(FTS *sp, FTSENT *head)
{
	char *addr = sp->fts_path;

#define MOVE(p)                                                                                \
	do {                                                                                   \
		if ((p)->fts_accpath != (p)->fts_name)                                         \
			(p)->fts_accpath = addr + ((p)->fts_accpath - (p)->fts_path);          \
		(p)->fts_path = addr;                                                          \
	} while (0)
	for (FTSENT *p = sp->fts_child; p; p = p->fts_link)
		MOVE(p);
	for (FTSENT *p = head; p && p->fts_level >= FTS_ROOTLEVEL;) {
		MOVE(p);
		p = p->fts_link ? p->fts_link : p->fts_parent;
	}
#undef MOVE
}

static unsigned short node_stat(FTS *sp, FTSENT *p, int follow)
{
	struct stat sb, *st = ISSET(sp, FTS_NOSTAT) ? &sb : p->fts_statp;
	int saved;

	if (ISSET(sp, FTS_LOGICAL) || follow) {
		if (stat(p->fts_accpath, st) != 0) {
			saved = errno;
			if (lstat(p->fts_accpath, st) == 0) {
				errno = 0;
				return FTS_SLNONE;
			}
			p->fts_errno = saved;
			memset(st, 0, sizeof(*st));
			return FTS_NS;
		}
	} else if (lstat(p->fts_accpath, st) != 0) {
		p->fts_errno = errno;
		memset(st, 0, sizeof(*st));
		return FTS_NS;
	}
	if (S_ISDIR(st->st_mode)) {
		p->fts_dev = st->st_dev;
		p->fts_ino = st->st_ino;
		p->fts_nlink = st->st_nlink;
		if (ISDOT(p->fts_name))
			return FTS_DOT;
		for (FTSENT *t = p->fts_parent; t->fts_level >= FTS_ROOTLEVEL; t = t->fts_parent)
			if (t->fts_ino == p->fts_ino && t->fts_dev == p->fts_dev) {
				p->fts_cycle = t;
				return FTS_DC;
			}
		return FTS_D;
	}
	return S_ISLNK(st->st_mode) ? FTS_SL : S_ISREG(st->st_mode) ? FTS_F : FTS_DEFAULT;
}

static FTSENT *sort(FTS *sp, FTSENT *head, int n)
{
	FTSENT **a = sp->fts_array, *p;
	int i = 0;

	if (n > sp->fts_nitems) {
		a = realloc(sp->fts_array, (size_t)(n + 40) * sizeof(*a));
		if (!a) { /* unsorted, then */
			free(sp->fts_array);
			sp->fts_array = NULL;
			sp->fts_nitems = 0;
			return head;
		}
		sp->fts_array = a;
		sp->fts_nitems = n + 40;
	}
	for (p = head; p; p = p->fts_link)
		a[i++] = p;
	qsort(a, n, sizeof(*a), sp->fts_compar);
	for (i = 0; i < n - 1; i++)
		a[i]->fts_link = a[i + 1];
	a[n - 1]->fts_link = NULL;
	return a[0];
}

/* Into a directory, by fd or by path, only if it is still the one that
 * was stat'ed (else ENOENT: someone moved things under the walk). */
static int safe_chdir(FTS *sp, const FTSENT *p, int fd, const char *path)
{
	struct stat sb;
	int nfd = fd, r = -1, saved;

	if (ISSET(sp, FTS_NOCHDIR))
		return 0;
	if (fd < 0 && (nfd = open(path, O_RDONLY)) < 0)
		return -1;
	if (fstat(nfd, &sb) == 0) {
		if (p->fts_dev != sb.st_dev || p->fts_ino != sb.st_ino)
			errno = ENOENT;
		else
			r = fchdir(nfd);
	}
	saved = errno;
	if (fd < 0)
		close(nfd);
	errno = saved;
	return r;
}

/* The children of the current node, in directory order (or sorted); NULL
 * when there are none or on error, with the node's fts_info saying which
 * for fts_read. */
static FTSENT *build(FTS *sp, int type)
{
	FTSENT *cur = sp->fts_cur, *head = NULL, *tail = NULL, *p;
	int nitems = 0, descend = 0, moved = 0, nostat = 0, nlinks, saved;
	size_t len, maxlen;
	struct dirent *dp;
	char *cp = NULL;
	DIR *dirp = opendir(cur->fts_accpath);

	if (!dirp) {
		if (type == BUILD_READ) {
			cur->fts_info = FTS_DNR;
			cur->fts_errno = errno;
		}
		return NULL;
	}
	/* how many entries may be directories if stats are spared (the
	 * directory's links), 0 if none is stat'ed, -1 if all are */
	if (type == BUILD_NAMES) {
		nlinks = 0;
	} else if (ISSET(sp, FTS_NOSTAT) && ISSET(sp, FTS_PHYSICAL)) {
		nlinks = cur->fts_nlink - (ISSET(sp, FTS_SEEDOT) ? 0 : 2);
		nostat = 1;
	} else {
		nlinks = -1;
	}
	if (nlinks || type == BUILD_READ) {
		if (safe_chdir(sp, cur, dirfd(dirp), NULL) != 0) {
			if (nlinks && type == BUILD_READ)
				cur->fts_errno = errno;
			cur->fts_flags |= FTS_DONTCHDIR;
			closedir(dirp);
			dirp = NULL;
		} else {
			descend = 1;
		}
	}
	len = path_end(cur);
	if (ISSET(sp, FTS_NOCHDIR)) {
		cp = sp->fts_path + len;
		*cp++ = '/';
	}
	len++;
	maxlen = sp->fts_pathlen - len;
	while (dirp && (dp = readdir(dirp))) {
		size_t n = strlen(dp->d_name);

		if (!ISSET(sp, FTS_SEEDOT) && ISDOT(dp->d_name))
			continue;
		p = node_new(sp, dp->d_name, n);
		if (!p)
			goto nomem;
		if (n >= maxlen) {
			char *old = sp->fts_path;

			if (path_grow(sp, n + len + 1) != 0) {
			nomem:
				saved = errno;
				free(p);
				list_free(head);
				closedir(dirp);
				cur->fts_info = FTS_ERR;
				sp->fts_options |= FTS_STOP;
				errno = saved;
				return NULL;
			}
			if (old != sp->fts_path) {
				moved = 1;
				if (ISSET(sp, FTS_NOCHDIR))
					cp = sp->fts_path + len;
			}
			maxlen = sp->fts_pathlen - len;
		}
		if (len + n >= USHRT_MAX) {
			free(p);
			list_free(head);
			closedir(dirp);
			cur->fts_info = FTS_ERR;
			sp->fts_options |= FTS_STOP;
			errno = ENAMETOOLONG;
			return NULL;
		}
		p->fts_level = cur->fts_level + 1;
		p->fts_parent = sp->fts_cur;
		p->fts_pathlen = len + n;
		if (nlinks == 0 || (nostat && dp->d_type != DT_DIR && dp->d_type != DT_UNKNOWN)) {
			p->fts_accpath = ISSET(sp, FTS_NOCHDIR) ? p->fts_path : p->fts_name;
			p->fts_info = FTS_NSOK;
		} else {
			if (ISSET(sp, FTS_NOCHDIR)) {
				p->fts_accpath = p->fts_path;
				memcpy(cp, p->fts_name, p->fts_namelen + 1);
			} else {
				p->fts_accpath = p->fts_name;
			}
			p->fts_info = node_stat(sp, p, 0);
			if (nlinks > 0 && (p->fts_info == FTS_D || p->fts_info == FTS_DC ||
					   p->fts_info == FTS_DOT))
				nlinks--;
		}
		if (tail)
			tail->fts_link = p;
		else
			head = p;
		tail = p;
		nitems++;
	}
	if (dirp)
		closedir(dirp);
	if (moved)
		path_moved(sp, head);
	if (ISSET(sp, FTS_NOCHDIR)) {
		if (len == (size_t)sp->fts_pathlen || nitems == 0)
			cp--;
		*cp = 0;
	}
	/* back where fts_read expects to be, if it is not going down */
	if (descend && (type == BUILD_CHILD || !nitems) &&
	    (cur->fts_level == FTS_ROOTLEVEL ? fd_chdir(sp, sp->fts_rfd)
					     : safe_chdir(sp, cur->fts_parent, -1, ".."))) {
		cur->fts_info = FTS_ERR;
		sp->fts_options |= FTS_STOP;
		list_free(head);
		return NULL;
	}
	if (!nitems) {
		if (type == BUILD_READ)
			cur->fts_info = FTS_DP;
		return NULL;
	}
	if (sp->fts_compar && nitems > 1)
		head = sort(sp, head, nitems);
	return head;
}

/* A root goes into the path buffer; its name becomes its last component. */
static void load(FTS *sp, FTSENT *p)
{
	size_t len = p->fts_pathlen = p->fts_namelen;
	char *cp;

	memmove(sp->fts_path, p->fts_name, len + 1);
	cp = strrchr(p->fts_name, '/');
	if (cp && (cp != p->fts_name || cp[1])) {
		len = strlen(++cp);
		memmove(p->fts_name, cp, len + 1);
		p->fts_namelen = len;
	}
	p->fts_accpath = p->fts_path = sp->fts_path;
	sp->fts_dev = p->fts_dev;
}

static FTS *open_walk(char *const *argv, int options,
		      int (*compar)(const FTSENT **, const FTSENT **))
{
	FTSENT *parent = NULL, *root = NULL, *tail = NULL, *p;
	size_t maxlen = 0;
	int n = 0, saved;
	FTS *sp;

	if (options & ~FTS_OPTIONMASK) {
		errno = EINVAL;
		return NULL;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->fts_compar = (int (*)(const void *, const void *))compar;
	sp->fts_options = options;
	if (ISSET(sp, FTS_LOGICAL)) /* symlinks and chdir do not mix */
		sp->fts_options |= FTS_NOCHDIR;
	for (char *const *a = argv; *a; a++)
		if (strlen(*a) + 1 > maxlen)
			maxlen = strlen(*a) + 1;
	if (path_grow(sp, maxlen > PATH_MAX ? maxlen : PATH_MAX) != 0)
		goto fail;
	if (*argv && !(parent = node_new(sp, "", 0)))
		goto fail;
	if (parent)
		parent->fts_level = FTS_ROOTPARENTLEVEL;
	for (; *argv; argv++, n++) {
		size_t len = strlen(*argv);

		if (len == 0) {
			errno = ENOENT;
			goto fail;
		}
		p = node_new(sp, *argv, len);
		if (!p)
			goto fail;
		p->fts_level = FTS_ROOTLEVEL;
		p->fts_parent = parent;
		p->fts_accpath = p->fts_name;
		p->fts_info = node_stat(sp, p, ISSET(sp, FTS_COMFOLLOW));
		if (p->fts_info == FTS_DOT) /* "." and ".." given are real directories */
			p->fts_info = FTS_D;
		if (compar) {
			p->fts_link = root;
			root = p;
		} else {
			if (tail)
				tail->fts_link = p;
			else
				root = p;
			tail = p;
		}
	}
	if (compar && n > 1)
		root = sort(sp, root, n);
	/* a node before the roots, so that fts_read starts with them */
	sp->fts_cur = node_new(sp, "", 0);
	if (!sp->fts_cur)
		goto fail;
	sp->fts_cur->fts_link = root;
	sp->fts_cur->fts_info = FTS_INIT;
	if (!ISSET(sp, FTS_NOCHDIR) && (sp->fts_rfd = open(".", O_RDONLY)) < 0)
		sp->fts_options |= FTS_NOCHDIR; /* slower, then */
	return sp;
fail:
	saved = errno;
	list_free(root);
	free(parent);
	free(sp->fts_array);
	free(sp->fts_path);
	free(sp);
	errno = saved;
	return NULL;
}

/* A symlink to follow: its target's stat, and a way back from it. */
static void follow(FTS *sp, FTSENT *p)
{
	p->fts_info = node_stat(sp, p, 1);
	if (p->fts_info == FTS_D && !ISSET(sp, FTS_NOCHDIR)) {
		if ((p->fts_symfd = open(".", O_RDONLY)) < 0) {
			p->fts_errno = errno;
			p->fts_info = FTS_ERR;
		} else {
			p->fts_flags |= FTS_SYMFOLLOW;
		}
	}
}

static FTSENT *read_walk(FTS *sp)
{
	FTSENT *p, *tmp;
	int instr, saved;
	char *t;

	if (!sp->fts_cur || ISSET(sp, FTS_STOP))
		return NULL;
	p = sp->fts_cur;
	instr = p->fts_instr;
	p->fts_instr = FTS_NOINSTR;
	if (instr == FTS_AGAIN) {
		p->fts_info = node_stat(sp, p, 0);
		return p;
	}
	if (instr == FTS_FOLLOW && (p->fts_info == FTS_SL || p->fts_info == FTS_SLNONE)) {
		follow(sp, p);
		return p;
	}
	if (p->fts_info == FTS_D) {
		/* skipped, or another device under FTS_XDEV: post-order now */
		if (instr == FTS_SKIP || (ISSET(sp, FTS_XDEV) && p->fts_dev != sp->fts_dev)) {
			if (p->fts_flags & FTS_SYMFOLLOW)
				close(p->fts_symfd);
			list_free(sp->fts_child);
			sp->fts_child = NULL;
			p->fts_info = FTS_DP;
			return p;
		}
		if (sp->fts_child && ISSET(sp, FTS_NAMEONLY)) {
			sp->fts_options &= ~FTS_NAMEONLY;
			list_free(sp->fts_child);
			sp->fts_child = NULL;
		}
		if (sp->fts_child) {
			/* read by fts_children already: only the chdir is left */
			if (safe_chdir(sp, p, -1, p->fts_accpath) != 0) {
				p->fts_errno = errno;
				p->fts_flags |= FTS_DONTCHDIR;
				for (FTSENT *c = sp->fts_child; c; c = c->fts_link)
					c->fts_accpath = c->fts_parent->fts_accpath;
			}
		} else if (!(sp->fts_child = build(sp, BUILD_READ))) {
			return ISSET(sp, FTS_STOP) ? NULL : p;
		}
		p = sp->fts_child;
		sp->fts_child = NULL;
		sp->fts_cur = p;
		goto name;
	}
next:
	tmp = p;
	if ((p = p->fts_link)) {
		sp->fts_cur = p;
		free(tmp);
		if (p->fts_level == FTS_ROOTLEVEL) {
			/* the next root, from where the walk started */
			if (fd_chdir(sp, sp->fts_rfd)) {
				sp->fts_options |= FTS_STOP;
				return NULL;
			}
			load(sp, p);
			return p;
		}
		if (p->fts_instr == FTS_SKIP)
			goto next;
		if (p->fts_instr == FTS_FOLLOW) {
			follow(sp, p);
			p->fts_instr = FTS_NOINSTR;
		}
	name:
		t = sp->fts_path + path_end(p->fts_parent);
		*t++ = '/';
		memmove(t, p->fts_name, p->fts_namelen + 1);
		return p;
	}
	/* up to the parent */
	p = tmp->fts_parent;
	sp->fts_cur = p;
	free(tmp);
	if (p->fts_level == FTS_ROOTPARENTLEVEL) {
		free(p);
		errno = 0; /* the end, not an error */
		return sp->fts_cur = NULL;
	}
	sp->fts_path[p->fts_pathlen] = 0;
	if (p->fts_level == FTS_ROOTLEVEL) {
		if (fd_chdir(sp, sp->fts_rfd)) {
			sp->fts_options |= FTS_STOP;
			return NULL;
		}
	} else if (p->fts_flags & FTS_SYMFOLLOW) {
		if (fd_chdir(sp, p->fts_symfd)) {
			saved = errno;
			close(p->fts_symfd);
			errno = saved;
			sp->fts_options |= FTS_STOP;
			return NULL;
		}
		close(p->fts_symfd);
	} else if (!(p->fts_flags & FTS_DONTCHDIR) &&
		   safe_chdir(sp, p->fts_parent, -1, "..") != 0) {
		sp->fts_options |= FTS_STOP;
		return NULL;
	}
	p->fts_info = p->fts_errno ? FTS_ERR : FTS_DP;
	return p;
}

static FTSENT *children_walk(FTS *sp, int instr)
{
	FTSENT *p = sp->fts_cur;
	int fd;

	if (instr != 0 && instr != FTS_NAMEONLY) {
		errno = EINVAL;
		return NULL;
	}
	errno = 0; /* an empty directory, not an error */
	if (ISSET(sp, FTS_STOP))
		return NULL;
	if (p->fts_info == FTS_INIT)
		return p->fts_link;
	if (p->fts_info != FTS_D)
		return NULL;
	list_free(sp->fts_child);
	sp->fts_child = NULL;
	if (instr == FTS_NAMEONLY) {
		sp->fts_options |= FTS_NAMEONLY;
		instr = BUILD_NAMES;
	} else {
		instr = BUILD_CHILD;
	}
	/* a relative root read before fts_read entered it: come back after */
	if (p->fts_level != FTS_ROOTLEVEL || p->fts_accpath[0] == '/' || ISSET(sp, FTS_NOCHDIR))
		return sp->fts_child = build(sp, instr);
	if ((fd = open(".", O_RDONLY)) < 0)
		return NULL;
	sp->fts_child = build(sp, instr);
	if (fchdir(fd) != 0)
		return NULL; /* (the fd stays open: glibc's way too) */
	close(fd);
	return sp->fts_child;
}

static int set_walk(FTS *sp, FTSENT *p, int instr)
{
	(void)sp;
	if (instr != 0 && instr != FTS_AGAIN && instr != FTS_FOLLOW && instr != FTS_NOINSTR &&
	    instr != FTS_SKIP) {
		errno = EINVAL;
		return 1;
	}
	p->fts_instr = instr;
	return 0;
}

static int close_walk(FTS *sp)
{
	FTSENT *p, *f;
	int saved = 0;

	if (sp->fts_cur) {
		/* the dummy node still leads through the roots to the parent */
		for (p = sp->fts_cur; p->fts_level >= FTS_ROOTLEVEL;) {
			f = p;
			p = p->fts_link ? p->fts_link : p->fts_parent;
			free(f);
		}
		free(p);
	}
	list_free(sp->fts_child);
	free(sp->fts_array);
	free(sp->fts_path);
	if (!ISSET(sp, FTS_NOCHDIR)) {
		saved = fchdir(sp->fts_rfd) ? errno : 0;
		close(sp->fts_rfd);
	}
	free(sp);
	if (saved) {
		errno = saved;
		return -1;
	}
	return 0;
}

SHX_EXPORT FTS *fts_open(char *const *argv, int options,
			 int (*compar)(const FTSENT **, const FTSENT **))
{
	return open_walk(argv, options, compar);
}

SHX_EXPORT FTSENT *fts_read(FTS *sp)
{
	return read_walk(sp);
}

SHX_EXPORT FTSENT *fts_children(FTS *sp, int instr)
{
	return children_walk(sp, instr);
}

SHX_EXPORT int fts_set(FTS *sp, FTSENT *p, int instr)
{
	return set_walk(sp, p, instr);
}

SHX_EXPORT int fts_close(FTS *sp)
{
	return close_walk(sp);
}

/* On the 64-bit targets we build for, FTS64 and FTSENT64 are FTS and
 * FTSENT. */
_Static_assert(sizeof(FTSENT64) == sizeof(FTSENT) && sizeof(FTS64) == sizeof(FTS),
	       "LFS64 fts differs");

SHX_EXPORT FTS64 *fts64_open(char *const *argv, int options,
			     int (*compar)(const FTSENT64 **, const FTSENT64 **))
{
	return (FTS64 *)open_walk(argv, options,
				  (int (*)(const FTSENT **, const FTSENT **))(void *)compar);
}

SHX_EXPORT FTSENT64 *fts64_read(FTS64 *sp)
{
	return (FTSENT64 *)read_walk((FTS *)sp);
}

SHX_EXPORT FTSENT64 *fts64_children(FTS64 *sp, int instr)
{
	return (FTSENT64 *)children_walk((FTS *)sp, instr);
}

SHX_EXPORT int fts64_set(FTS64 *sp, FTSENT64 *p, int instr)
{
	return set_walk((FTS *)sp, (FTSENT *)p, instr);
}

SHX_EXPORT int fts64_close(FTS64 *sp)
{
	return close_walk((FTS *)sp);
}
#endif
