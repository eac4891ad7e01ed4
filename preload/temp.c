/* temp.c -- mkstemp and friends, mkdtemp.  glibc makes the file with an
 * internal open that no wrapper sees, so a template under a mount is
 * filled in and created here, with glibc's rules: the template ends in
 * "XXXXXX" (before a suffix of suffixlen bytes for the *s variants) or it
 * is EINVAL; the file is created O_RDWR|O_CREAT|O_EXCL, mode 0600, the
 * directory 0700; a name that exists already is tried again. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

#define ATTEMPTS (62 * 62 * 62) /* glibc's TMP_MAX */

static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

static void fill(char *x)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
	}
	for (int i = 0; i < 6; i++, v /= 62)
		x[i] = letters[v % 62];
}

/* The fd (or 0 for a directory), -errno, or 1 when the template is not
 * under a mount and glibc should have it. */
static int make_temp(char *tmpl, int suffixlen, int flags, int dir)
{
	struct shx_path p;
	size_t len;
	char *x;
	int r;

	if (shx_unmanaged(AT_FDCWD, tmpl) || shx_classify(AT_FDCWD, tmpl, &p) <= 0)
		return 1;
	len = strlen(tmpl);
	if (suffixlen < 0 || len < 6 + (size_t)suffixlen ||
	    memcmp(tmpl + len - suffixlen - 6, "XXXXXX", 6))
		return -EINVAL;
	x = tmpl + len - suffixlen - 6;
	for (int i = 0; i < ATTEMPTS; i++) {
		fill(x);
		if (shx_classify(AT_FDCWD, tmpl, &p) <= 0)
			return -EINVAL;
		if (dir) {
			r = mkdir(tmpl, 0700) < 0 ? -errno : 0;
		} else {
			r = shx_open_managed(AT_FDCWD, &p,
					     (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL, 0600);
		}
		if (r != -EEXIST)
			return r;
	}
	return -EEXIST;
}

SHX_EXPORT int mkostemps(char *tmpl, int suffixlen, int flags)
{
	int r = make_temp(tmpl, suffixlen, flags, 0);

	return r == 1 ? REAL(mkostemps)(tmpl, suffixlen, flags) : shx_ret(r);
}

SHX_EXPORT int mkstemps(char *tmpl, int suffixlen)
{
	int r = make_temp(tmpl, suffixlen, 0, 0);

	return r == 1 ? REAL(mkstemps)(tmpl, suffixlen) : shx_ret(r);
}

SHX_EXPORT int mkostemp(char *tmpl, int flags)
{
	int r = make_temp(tmpl, 0, flags, 0);

	return r == 1 ? REAL(mkostemp)(tmpl, flags) : shx_ret(r);
}

SHX_EXPORT int mkstemp(char *tmpl)
{
	int r = make_temp(tmpl, 0, 0, 0);

	return r == 1 ? REAL(mkstemp)(tmpl) : shx_ret(r);
}

SHX_EXPORT char *mkdtemp(char *tmpl)
{
	int r = make_temp(tmpl, 0, 0, 1);

	if (r == 1)
		return REAL(mkdtemp)(tmpl);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return tmpl;
}

#ifdef __GLIBC__
SHX_EXPORT int mkstemp64(char *tmpl)
{
	return mkstemp(tmpl);
}

SHX_EXPORT int mkostemp64(char *tmpl, int flags)
{
	return mkostemp(tmpl, flags);
}

SHX_EXPORT int mkstemps64(char *tmpl, int suffixlen)
{
	return mkstemps(tmpl, suffixlen);
}

SHX_EXPORT int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	return mkostemps(tmpl, suffixlen, flags);
}
#endif
