/* glob.c -- glob(3) over managed directories.
 *
 * glibc's glob reads directories and stats names with internal calls
 * (__opendir, __readdir64, __fstatat64) that no wrapper sees; but it has
 * a door for other file systems, GLOB_ALTDIRFUNC, through which it takes
 * the directory and stat functions from the glob_t.  So glob is glibc's
 * own -- patterns, braces, tildes, GLOB_MARK, GLOB_ONLYDIR, sorting,
 * errfunc -- with the library's opendir, readdir, closedir, stat and
 * lstat behind it, which go to the manager for managed paths and to libc
 * for the rest: "/t*" or "*" in the working directory can lead anywhere.
 * A caller's own GLOB_ALTDIRFUNC is left alone (its functions go through
 * the wrappers by themselves).  globfree frees only what glibc's glob
 * allocated, so it needs no wrapper.
 *
 * musl's glob has no such door: it is not wrapped there. */
#include <glob.h>

#include "preload.h"

#ifdef __GLIBC__
_Static_assert(sizeof(glob_t) == sizeof(glob64_t), "LFS64 glob_t differs");

typedef int glob_fn(const char *, int, int (*)(const char *, int), glob_t *);

static void *dir_open(const char *path)
{
	return opendir(path);
}

static struct dirent *dir_read(void *d)
{
	return readdir(d);
}

static void dir_close(void *d)
{
	closedir(d);
}

static int glob_with(glob_fn *real, const char *pattern, int flags,
		     int (*errfunc)(const char *, int), glob_t *g)
{
	int r;

	if (!g || (flags & GLOB_ALTDIRFUNC) || (flags & ~__GLOB_FLAGS))
		return real(pattern, flags, errfunc, g);
	g->gl_opendir = dir_open;
	g->gl_readdir = dir_read;
	g->gl_closedir = dir_close;
	g->gl_stat = stat;
	g->gl_lstat = lstat;
	r = real(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
	/* as if the caller's flags had been used */
	g->gl_flags &= ~GLOB_ALTDIRFUNC;
	return r;
}

SHX_EXPORT int glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
		    glob_t *g)
{
	return glob_with(REAL(glob), pattern, flags, errfunc, g);
}

/* On the 64-bit targets we build for, glob64_t is glob_t. */
SHX_EXPORT int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int),
		      glob64_t *g)
{
	return glob_with((glob_fn *)(void *)REAL(glob64), pattern, flags, errfunc, (glob_t *)g);
}
#endif
