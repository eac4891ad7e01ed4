/* exec.c -- execve: programs stored under a mount, and the virtual
 * working directory handed to the new image through $SHMEMX_CWD.
 *
 * glibc's execv, execvp and execl* reach the kernel without calling
 * execve, but pass `environ`, where our chdir keeps $SHMEMX_CWD up to
 * date; a caller's own environment array (Python's subprocess, shells)
 * comes through here and gets it added. */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

#define CWD_VAR "SHMEMX_CWD="

static int run(int fd, const char *path, char *const argv[], char *const envp[])
{
	if (fd >= 0)
		return syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
	return REAL(execve)(path, argv, envp);
}

/* execve with envp's SHMEMX_CWD set to the virtual cwd, if there is one. */
static int exec_env(int fd, const char *path, char *const argv[], char *const envp[])
{
	char var[sizeof(CWD_VAR) + 32 + SHX_PATH_MAX];
	size_t n = 0, keep = 0;

	if (!envp || !shx_cwd_env(var, sizeof(var)))
		return run(fd, path, argv, envp);
	while (envp[n])
		n++;
	{
		char *env[n + 2];

		for (size_t i = 0; i < n; i++)
			if (strncmp(envp[i], CWD_VAR, sizeof(CWD_VAR) - 1))
				env[keep++] = envp[i];
		env[keep++] = var;
		env[keep] = NULL;
		return run(fd, path, argv, env);
	}
}

SHX_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	struct shx_path p;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int r = shx_classify(AT_FDCWD, path, &p), fd, saved;

	if (r == 0)
		return exec_env(-1, path, argv, envp);
	if (r < 0)
		return shx_ret(r);
	/* a program kept by the manager runs from its memfd: the kernel
	 * execs the fd, after the permission check the mode bits ask for */
	shx_req_init(&q, SHX_OP_ACCESS, &p);
	q.mode = X_OK;
	r = shx_request_path(&q, &rep, &p);
	if (r == -SHX_EESCAPE)
		return exec_env(-1, p.path, argv, envp);
	if (r < 0)
		return shx_ret(r);
	/* not close-on-exec: a script's interpreter opens it as /dev/fd/N */
	fd = shx_open(&p, O_RDONLY, 0);
	if (fd < 0)
		return shx_ret(fd);
	exec_env(fd, path, argv, envp);
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
