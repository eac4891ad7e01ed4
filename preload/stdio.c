/* stdio.c -- fopen, freopen, tmpfile and fclose.  glibc's stdio opens
 * and closes with internal calls that no wrapper sees, so managed paths
 * are opened here and the stream is built on the fd (fdopen, or freopen
 * of /proc/self/fd/N, which keeps the FILE), and the fd table is told
 * what the stream's fd becomes. */
#include <stdio.h>
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

/* A stream on fd, our fresh open of a managed file: its object stays in
 * memory until fclose (glibc reads streams with calls no wrapper sees);
 * fd is closed if no stream can be made. */
static FILE *stream_of(int fd, const char *mode)
{
	FILE *f = fdopen(fd, mode);
	int saved;

	if (!f) {
		saved = errno;
		close(fd);
		errno = saved;
	} else {
		shx_pg_pin(fd);
	}
	return f;
}

static FILE *open_stream(const char *path, const char *mode, FILE *(*real)(const char *, const char *))
{
	struct shx_path p;
	int r = shx_classify(AT_FDCWD, path, &p), flags, fd;

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
	return stream_of(fd, mode);
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

/* glibc's tmpfile opens P_tmpdir, /tmp, O_TMPFILE (ignoring $TMPDIR), and
 * makes a "w+b" stream of the fd. */
static FILE *tmp_stream(FILE *(*real)(void))
{
	int fd;

	if (shx_unmanaged(AT_FDCWD, "/tmp"))
		return real();
	fd = open("/tmp", O_RDWR | O_TMPFILE | O_EXCL, S_IRUSR | S_IWUSR);
	if (fd < 0)
		return NULL;
	return stream_of(fd, "w+b");
}

SHX_EXPORT FILE *tmpfile(void)
{
	return tmp_stream(REAL(tmpfile));
}

#ifdef __GLIBC__
SHX_EXPORT FILE *tmpfile64(void)
{
	return tmp_stream(REAL(tmpfile64));
}
#endif

/* freopen: the stream's fd keeps its number (glibc dup3s the new file
 * onto it), and now refers to the new file, or to nothing if freopen
 * fails.  A managed path is opened here and handed to glibc as
 * /proc/self/fd/N, a new open file description of the same memfd with the
 * stream's mode; with a NULL path glibc reopens the stream's own fd that
 * way, which needs nothing but the table's flags. */
static FILE *reopen_stream(const char *path, const char *mode, FILE *f,
			   FILE *(*real)(const char *, const char *, FILE *))
{
	char proc[32], m[16];
	struct shx_fdent *e;
	struct shx_path p;
	uint64_t ino = 0;
	int old = f ? fileno(f) : -1, r = 0, flags = 0, fd = -1, saved;
	size_t k = 0;
	FILE *res;

	path = shx_opaque(path);
	mode = shx_opaque(mode);
	if (!mode)
		return real(path, mode, f);
	if (path && (r = shx_classify(AT_FDCWD, path, &p)) > 0) {
		r = mode_flags(mode, &flags);
		if (r == 0) {
			fd = shx_open_managed(AT_FDCWD, &p, flags, 0666);
			r = fd < 0 ? fd : 0;
		}
	}
	if (r < 0) {
		/* glibc's own failure -- the stream's file closed, the FILE
		 * kept -- through a name that cannot be opened, with our
		 * error */
		if (old >= 0)
			shx_fd_forget(old);
		real("", mode, f);
		errno = -r;
		return NULL;
	}
	e = fd >= 0 ? shx_fdtab_get(fd) : NULL;
	if (e)
		ino = e->ino;
	else if (!path && old >= 0 && (e = shx_fdtab_get(old)))
		ino = e->ino; /* the same object, reopened */
	if (old >= 0) {
		shx_pg_unpin(old);
		shx_fd_forget(old);
	}
	if (fd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		path = proc;
		/* the file exists now: no 'x' */
		for (const char *c = mode; *c && k < sizeof(m) - 1; c++)
			if (*c != 'x')
				m[k++] = *c;
		m[k] = 0;
		mode = m;
	}
	res = real(path, mode, f);
	saved = errno;
	if (res && ino) {
		shx_fd_adopt(fileno(res), ino, fcntl(fileno(res), F_GETFL));
		shx_pg_pin(fileno(res));
	}
	if (fd >= 0)
		close(fd);
	errno = saved;
	return res;
}

SHX_EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
	return reopen_stream(path, mode, f, REAL(freopen));
}

#ifdef __GLIBC__
SHX_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	return reopen_stream(path, mode, f, REAL(freopen64));
}
#endif

/* fclose closes the fd internally: forget it first. */
SHX_EXPORT int fclose(FILE *f)
{
	int fd = f ? fileno(f) : -1;

	if (fd >= 0) {
		shx_pg_unpin(fd);
		shx_fd_forget(fd);
	}
	return REAL(fclose)(f);
}
