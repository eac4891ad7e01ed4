/* exec.c -- the exec family: programs stored under a mount, and the
 * virtual working directory handed to the new image through $SHMEMX_CWD.
 *
 * glibc's execv, execvp, execvpe, execl* and fexecve reach the kernel
 * through its internal __execve, which no wrapper sees: each is wrapped
 * here and comes down to shx_execve.  A managed program is run with
 * execveat on its memfd, after the manager's X_OK check; a caller's own
 * environment array (Python's subprocess, shells) gets $SHMEMX_CWD added
 * when the working directory is virtual.  Everything here may run in a
 * vfork child: no allocation, no lock, the stack only. */
#include <limits.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

#define CWD_VAR "SHMEMX_CWD="
#define DEFAULT_PATH "/bin:/usr/bin" /* glibc's _CS_PATH */

extern char **environ;

static int real_execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
			 int flags)
{
#ifdef __GLIBC__
	return REAL(execveat)(dirfd, path, argv, envp, flags);
#else
	return syscall(SYS_execveat, dirfd, path, argv, envp, flags);
#endif
}

static int run(int dirfd, const char *path, int flags, char *const argv[], char *const envp[])
{
	int token = shx_cwd_exec_begin(), r, saved;

	if (dirfd == AT_FDCWD && !flags)
		r = REAL(execve)(path, argv, envp);
	else
		r = real_execveat(dirfd, path, argv, envp, flags);
	saved = errno;
	shx_cwd_exec_failed(token);
	errno = saved;
	return r;
}

/* --- the environment a child gets ---------------------------------------- */

static const char *var_of(char *const envp[], const char *name, size_t len)
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], name, len) && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

/* Whether a child with this environment runs under the library. */
static int env_has_lib(char *const envp[])
{
	const char *pre = var_of(envp, "LD_PRELOAD", 10);

	return pre && strstr(pre, "libshmemx");
}

size_t shx_child_env_slots(char *const envp[])
{
	size_t n = 0;

	while (envp && envp[n])
		n++;
	return n + 3;
}

/* envp with SHMEMX_CWD naming the virtual working directory (and without
 * it when there is none); NULL when envp needs no change.  (A child whose
 * environment lacks LD_PRELOAD runs without the library, as LD_PRELOAD
 * means: it sees the kernel's /tmp.) */
char *const *shx_child_env(char *const envp[], char **out, struct shx_child_env *buf)
{
	int cwd = shx_cwd_env(buf->cwd, sizeof(buf->cwd)) > 0;
	/* the app goes on in the child even when the caller built its
	 * environment anew (one that names an app of its own keeps it) */
	const char *app = shx_conn_app();
	int add_app = envp && *app && !var_of(envp, "SHMEMX_APP", 10);
	size_t k = 0;

	if (!envp || (!cwd && !add_app && !var_of(envp, "SHMEMX_CWD", 10)))
		return NULL;
	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], CWD_VAR, sizeof(CWD_VAR) - 1))
			out[k++] = envp[i];
	if (cwd)
		out[k++] = buf->cwd;
	if (add_app) {
		snprintf(buf->app, sizeof(buf->app), "SHMEMX_APP=%s", app);
		out[k++] = buf->app;
	}
	out[k] = NULL;
	return out;
}

/* execveat in the environment a child gets; returns -errno. */
static int exec_env(int dirfd, const char *path, int flags, char *const argv[],
		    char *const envp[])
{
	char *env[shx_child_env_slots(envp)];
	struct shx_child_env buf;
	char *const *e = shx_child_env(envp, env, &buf);

	return run(dirfd, path, flags, argv, e ? e : envp), -errno;
}

#define BINPRM_BUF_SIZE 256 /* what the kernel reads of a #! line */
#define MAX_INTERP 4	    /* BINPRM_MAX_RECURSION: a script for a script ... */

static int exec_at(int dirfd, const char *path, char *const argv[], char *const envp[],
		   int flags, int depth);

static int spacetab(char c)
{
	return c == ' ' || c == '\t';
}

/* The first of [p, end) that is not a space or tab, or NULL. */
static char *skip_spacetab(char *p, char *end)
{
	for (; p < end; p++)
		if (!spacetab(*p))
			return p;
	return NULL;
}

/* The first space, tab or NUL of [p, end), or NULL. */
static char *terminator(char *p, char *end)
{
	for (; p < end; p++)
		if (spacetab(*p) || !*p)
			return p;
	return NULL;
}

/* The kernel's binfmt_script (load_script), for a script kept by the
 * manager: its first BINPRM_BUF_SIZE bytes, NUL-padded, parsed the same
 * way.  1 and the interpreter's name and optional argument (pointing into
 * buf) if the file starts with "#!", 0 if it does not (a binary), or
 * -ENOEXEC. */
static int script_line(int fd, char buf[BINPRM_BUF_SIZE], char **name, char **arg)
{
	char *end = buf + BINPRM_BUF_SIZE - 1, *i_end, *i_sep;

	memset(buf, 0, BINPRM_BUF_SIZE);
	if (pread(fd, buf, BINPRM_BUF_SIZE, 0) < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	i_end = memchr(buf, '\n', BINPRM_BUF_SIZE);
	if (!i_end) {
		/* no newline: the interpreter's name must end inside */
		i_end = skip_spacetab(buf + 2, end);
		if (!i_end || !terminator(i_end, end))
			return -ENOEXEC;
		i_end = end;
	}
	while (spacetab(i_end[-1]))
		i_end--;
	*name = skip_spacetab(buf + 2, i_end);
	if (!*name || *name == i_end)
		return -ENOEXEC;
	*arg = NULL;
	i_sep = terminator(*name, i_end);
	if (i_sep && *i_sep)
		*arg = skip_spacetab(i_sep, i_end);
	*i_end = 0;
	if (*arg)
		*i_sep = 0;
	return 1;
}

/* The interpreter of a script gets what the kernel would pass it: its
 * name, the optional argument, the script's path as the caller gave it
 * (so that "$0" and dirname "$0" are what they are on a tmpfs), then
 * argv[1...]. */
static int exec_interp(char *name, char *arg, const char *path, char *const argv[],
		       char *const envp[], int depth)
{
	size_t argc = 0, k = 0;

	if (depth >= MAX_INTERP)
		return -ELOOP;
	while (argv && argv[argc])
		argc++;
	{
		char *nargv[argc + 4];

		nargv[k++] = name;
		if (arg)
			nargv[k++] = arg;
		nargv[k++] = (char *)path;
		for (size_t i = 1; i < argc; i++)
			nargv[k++] = argv[i];
		nargv[k] = NULL;
		/* the kernel opens the name as it is: "" is the working
		 * directory (so EACCES) */
		return exec_at(AT_FDCWD, *name ? name : ".", nargv, envp, 0, depth + 1);
	}
}

/* A managed program: the manager checks what execve would (search
 * permission on the way, X_OK on the file); a script goes to its
 * interpreter, a binary is run from its memfd -- opened O_PATH when it
 * may not be read, as exec needs no read permission.  Not close-on-exec,
 * in case the kernel hands it to an interpreter as /dev/fd/N.  Returns
 * only on failure, -errno; -SHX_EESCAPE with p->path the real path. */
static int exec_managed(struct shx_path *p, const char *path, int nofollow, char *const argv[],
			char *const envp[], int depth)
{
	char line[BINPRM_BUF_SIZE], *name = NULL, *arg = NULL;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int r, fd;

	if (nofollow) { /* execveat's AT_SYMLINK_NOFOLLOW: a link is ELOOP */
		shx_req_init(&q, SHX_OP_STAT, p);
		q.flags = AT_SYMLINK_NOFOLLOW;
		r = shx_request_path(&q, &rep, p);
		if (r == 0 && S_ISLNK(rep.attr.mode))
			return -ELOOP;
		if (r < 0)
			return r;
	}
	shx_req_init(&q, SHX_OP_ACCESS, p);
	q.mode = X_OK;
	r = shx_request_path(&q, &rep, p);
	if (r < 0)
		return r;
	fd = shx_open(p, O_RDONLY, 0);
	if (fd == -EACCES)
		fd = shx_open(p, O_PATH, 0);
	if (fd < 0)
		return fd;
	/* a child without the library could not open the script by its
	 * path: the kernel hands its interpreter /dev/fd/N instead */
	r = env_has_lib(envp) ? script_line(fd, line, &name, &arg) : 0;
	if (r == 0)
		r = exec_env(fd, "", AT_EMPTY_PATH, argv, envp);
	REAL(close)(fd);
	/* a script named through a close-on-exec dirfd: its interpreter could
	 * not open it (BINPRM_FLAGS_PATH_INACCESSIBLE) */
	if (r > 0 && !path)
		return -ENOENT;
	return r > 0 ? exec_interp(name, arg, path, argv, envp, depth) : r;
}

/* The absolute path of name in the managed directory ino, into buf. */
static int dir_path(uint64_t ino, const char *name, char *buf, size_t cap)
{
	struct shx_rep rep = { .data = (uint8_t *)buf, .datacap = cap - 1 };
	struct shx_req q;

	shx_req_init(&q, SHX_OP_REALPATH, NULL);
	q.ino = ino;
	q.aux = rep.datacap;
	if (shx_request(&q, &rep, NULL, 0) < 0)
		return 0;
	buf[rep.datalen] = 0;
	return (size_t)snprintf(buf + rep.datalen, cap - rep.datalen, "/%s", name) <
	       cap - rep.datalen;
}

/* execveat(2) of (dirfd, path): -errno on failure. */
static int exec_at(int dirfd, const char *path, char *const argv[], char *const envp[],
		   int flags, int depth)
{
	char fdpath[SHX_PATH_MAX + 32];
	const char *name = path;
	struct shx_path p;
	int r = shx_classify(dirfd, path, &p), fl;

	if (r == 0)
		return exec_env(dirfd, path, flags, argv, envp);
	if (r > 0 && dirfd != AT_FDCWD && path[0] != '/') {
		/* The kernel would name a script "/dev/fd/N/path"
		 * (do_execveat_common), which its interpreter could not open:
		 * a managed directory fd does not survive exec.  It gets the
		 * script's absolute path instead -- but fails as the kernel
		 * does when the dirfd is close-on-exec. */
		fl = fcntl(dirfd, F_GETFD);
		name = fl >= 0 && (fl & FD_CLOEXEC) ? NULL
		       : dir_path(p.start, path, fdpath, sizeof(fdpath)) ? fdpath
									: path;
	}
	if (r > 0) {
		r = exec_managed(&p, name, flags & AT_SYMLINK_NOFOLLOW, argv, envp, depth);
		if (r == -SHX_EESCAPE) /* a symlink or ".." out of the mounts */
			return exec_env(AT_FDCWD, p.path, flags & AT_SYMLINK_NOFOLLOW, argv, envp);
	}
	return r;
}

SHX_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (shx_unmanaged(AT_FDCWD, path))
		return shx_ret(exec_env(AT_FDCWD, path, 0, argv, envp));
	return shx_ret(exec_at(AT_FDCWD, path, argv, envp, 0, 0));
}

SHX_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* A file the kernel would not run (ENOEXEC: no #! line, not ELF) is a
 * shell script, as glibc's execvp says (maybe_script_execute). */
static void exec_sh(const char *file, char *const argv[], char *const envp[])
{
	size_t argc = 1;

	while (argv[0] && argv[argc])
		argc++;
	{
		char *sh[argc + 2];

		sh[0] = (char *)"/bin/sh";
		sh[1] = (char *)file;
		for (size_t i = 1; i <= argc; i++)
			sh[i + 1] = argv[0] ? argv[i] : NULL;
		execve(sh[0], sh, envp);
	}
}

/* glibc's __execvpe: a file with a slash is run as it is; else each
 * $PATH entry (glibc's default when unset) is tried in turn, an empty one
 * meaning the working directory.  Missing files and the like go on to
 * the next entry; EACCES is remembered; any other error ends the search.
 * try_sh: a file the kernel cannot run is given to /bin/sh (execvp; not
 * posix_spawnp).  Returns -errno. */
int shx_exec_search(const char *file, char *const argv[], char *const envp[], int try_sh)
{
	const char *path = getenv("PATH"), *p, *end;
	size_t flen, plen;
	int eacces = 0;

	file = shx_opaque(file);
	if (!file)
		return -EFAULT;
	if (!*file)
		return -ENOENT;
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		if (errno == ENOEXEC && try_sh)
			exec_sh(file, argv, envp);
		return -errno;
	}
	if (!path)
		path = DEFAULT_PATH;
	flen = strnlen(file, NAME_MAX + 1);
	plen = strnlen(path, PATH_MAX - 1);
	if (flen > NAME_MAX)
		return -ENAMETOOLONG;
	{
		char buf[plen + 1 + flen + 1];

		for (p = path;; p = end + 1) {
			end = strchrnul(p, ':');
			if ((size_t)(end - p) <= plen) {
				size_t n = end - p;

				memcpy(buf, p, n);
				if (n)
					buf[n++] = '/';
				memcpy(buf + n, file, flen + 1);
				execve(buf, argv, envp);
				if (errno == ENOEXEC && try_sh)
					exec_sh(buf, argv, envp);
				switch (errno) {
				case EACCES:
					eacces = 1;
					break;
				case ENOENT:
				case ESTALE:
				case ENOTDIR:
				case ENODEV:
				case ETIMEDOUT:
					break;
				default:
					return -errno;
				}
			}
			if (!*end)
				break;
		}
	}
	return eacces ? -EACCES : -errno;
}

SHX_EXPORT int execvp(const char *file, char *const argv[])
{
	return shx_ret(shx_exec_search(file, argv, environ, 1));
}

#ifdef __GLIBC__
SHX_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return shx_ret(shx_exec_search(file, argv, envp, 1));
}
#endif

/* execl, execlp and execle: the arguments after arg0, up to the NULL, as
 * an argv on the stack; execle's envp comes after the NULL. */
enum { EXECL, EXECLP, EXECLE };

static int execl_common(int kind, const char *path, const char *arg0, va_list ap)
{
	va_list cp;
	size_t n = 1;

	va_copy(cp, ap);
	while (va_arg(cp, char *))
		n++;
	va_end(cp);
	{
		char *argv[n + 1], *const *envp = environ;

		argv[0] = (char *)arg0;
		for (size_t i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		if (kind == EXECLE)
			envp = va_arg(ap, char *const *);
		return kind == EXECLP ? execvp(path, argv) : execve(path, argv, envp);
	}
}

SHX_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = execl_common(EXECL, path, arg, ap);
	va_end(ap);
	return r;
}

SHX_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = execl_common(EXECLP, file, arg, ap);
	va_end(ap);
	return r;
}

SHX_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = execl_common(EXECLE, path, arg, ap);
	va_end(ap);
	return r;
}

/* An fd of a managed file: the X_OK check on its inode, then its memfd.
 * 1 when fd is not managed. */
static int exec_fd(int fd, char *const argv[], char *const envp[])
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	struct shx_attr a = { 0 };
	struct stat st;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int r;

	if (!e) {
		if (REAL(fstat)(fd, &st) < 0 || !shx_fd_recognise(fd, &st, &a))
			return 1;
		e = shx_fdtab_get(fd);
	}
	shx_req_init(&q, SHX_OP_ACCESS, NULL);
	q.ino = e ? e->ino : a.ino;
	q.mode = X_OK;
	q.flags = AT_EMPTY_PATH;
	r = shx_request(&q, &rep, NULL, 0);
	if (r < 0)
		return r;
	return exec_env(fd, "", AT_EMPTY_PATH, argv, envp);
}

SHX_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	int r = exec_fd(fd, argv, envp);

	if (r == 1)
		r = exec_env(fd, "", AT_EMPTY_PATH, argv, envp);
	return shx_ret(r);
}

#ifdef __GLIBC__
SHX_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
			int flags)
{
	int r;

	if ((flags & AT_EMPTY_PATH) && shx_empty(path)) {
		r = exec_fd(dirfd, argv, envp);
		if (r != 1)
			return shx_ret(r);
	} else if (!shx_unmanaged(dirfd, path) &&
		   !(flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))) {
		return shx_ret(exec_at(dirfd, path, argv, envp, flags, 0));
	}
	return shx_ret(exec_env(dirfd, path, flags, argv, envp));
}
#endif
