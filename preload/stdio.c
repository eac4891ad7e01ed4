/* stdio.c -- fopen and fclose.  glibc's fopen opens with an internal
 * open that no wrapper sees, so managed paths are opened here and the
 * stream is built on the fd with fdopen. */
#include <string.h>
#include <unistd.h>

#include "preload.h"

/* fopen's mode string as open flags (glibc's rules: the first letter,
 * then '+', 'x', 'e' anywhere before ',ccs='). */
static int mode_flags(const char *mode, int *flags)
{
	int f;

	switch (mode[0]) {
	case 'r': f = O_RDONLY; break;
	case 'w': f = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': f = O_WRONLY | O_CREAT | O_APPEND; break;
	default: return -EINVAL;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			f = (f & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'x')
			f |= O_EXCL;
		else if (*m == 'e')
			f |= O_CLOEXEC;
	}
	*flags = f;
	return 0;
}

static FILE *open_stream(const char *path, const char *mode, FILE *(*real)(const char *, const char *))
{
	struct shx_path p;
	FILE *f;
	int r = shx_classify(AT_FDCWD, path, &p), flags, fd, saved;

	if (r == 0 || !shx_opaque(mode))
		return real(path, mode);
	if (r > 0)
		r = mode_flags(mode, &flags);
	if (r == 0)
		r = shx_open_managed(AT_FDCWD, &p, flags, 0666);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	fd = r;
	/* glibc's fopen starts an append-only stream at the end (ftell
	 * says so at once); fdopen would not. */
	if ((flags & O_APPEND) && (flags & O_ACCMODE) == O_WRONLY)
		lseek(fd, 0, SEEK_END);
	f = fdopen(fd, mode);
	if (!f) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return f;
}

SHX_EXPORT FILE *fopen(const char *path, const char *mode)
{
	return open_stream(path, mode, REAL(fopen));
}

#ifdef __GLIBC__
SHX_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return open_stream(path, mode, REAL(fopen64));
}
#endif

/* fclose closes the fd internally: forget it first. */
SHX_EXPORT int fclose(FILE *f)
{
	int fd = f ? fileno(f) : -1;

	if (fd >= 0)
		shx_fd_forget(fd);
	return REAL(fclose)(f);
}
