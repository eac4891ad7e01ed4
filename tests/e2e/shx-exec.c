/* shx-exec.c -- runs a program by one of the ways libc offers, for
 * tests/e2e/exec.sh, which compares what happens under the preload (the
 * programs stored in the manager's /tmp) with the same natively.
 *
 *   shx-exec [-c DIR] [-o FD:PATH[:a]] CALL PROGRAM [ARG...]
 *
 * CALL is execv, execve, execvp, execvpe, execl, execlp, execle, fexecve,
 * fexecve-cloexec, fexecve-path, execveat (PROGRAM relative to the -c
 * directory, as a dirfd), spawn, spawnp, system, popen, or vfork (vfork,
 * chdir to the -c directory in the child, execv; the parent reports its
 * own working directory afterwards).  -c DIR: for spawn and spawnp a
 * chdir file action, for execveat the dirfd; -o FD:PATH: an open file
 * action (spawn, spawnp), O_WRONLY|O_CREAT|O_TRUNC, or O_APPEND with :a.
 *
 * A call that fails prints "CALL: ERRNO-NAME" and exits 126; a spawned
 * child is waited for and its exit status printed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *call, *dir, *out;

static int fail(void)
{
	const char *n = strerrorname_np(errno);

	printf("%s: %s\n", call, n ? n : "?");
	return 126;
}

static int failed_with(int err)
{
	errno = err;
	return fail();
}

static void report(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		printf("waitpid: %s\n", strerrorname_np(errno));
	else if (WIFEXITED(st))
		printf("%s: exit %d\n", call, WEXITSTATUS(st));
	else
		printf("%s: signal %d\n", call, WTERMSIG(st));
}

int main(int argc, char **argv)
{
	char **args, *prog;
	int o;

	while ((o = getopt(argc, argv, "+c:o:")) != -1) {
		if (o == 'c')
			dir = optarg;
		else if (o == 'o')
			out = optarg;
		else
			return 2;
	}
	if (argc - optind < 2)
		return 2;
	call = argv[optind];
	prog = argv[optind + 1];
	args = argv + optind + 1;
	fflush(stdout);
	setvbuf(stdout, NULL, _IONBF, 0);

	if (!strcmp(call, "execv"))
		execv(prog, args);
	else if (!strcmp(call, "execve"))
		execve(prog, args, environ);
	else if (!strcmp(call, "execvp"))
		execvp(prog, args);
	else if (!strcmp(call, "execvpe"))
		execvpe(prog, args, environ);
	else if (!strcmp(call, "execl"))
		execl(prog, prog, args[1], (char *)NULL);
	else if (!strcmp(call, "execlp"))
		execlp(prog, prog, args[1], (char *)NULL);
	else if (!strcmp(call, "execle"))
		execle(prog, prog, args[1], (char *)NULL, environ);
	else if (!strncmp(call, "fexecve", 7)) {
		int fl = !strcmp(call, "fexecve-cloexec") ? O_RDONLY | O_CLOEXEC
			 : !strcmp(call, "fexecve-path")  ? O_PATH
							  : O_RDONLY;
		int fd = open(prog, fl);

		if (fd < 0)
			return fail();
		fexecve(fd, args, environ);
	} else if (!strcmp(call, "execveat")) {
		int dfd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY);

		if (dfd < 0)
			return fail();
		execveat(dfd, prog, args, environ, 0);
	} else if (!strcmp(call, "spawn") || !strcmp(call, "spawnp")) {
		posix_spawn_file_actions_t fa;
		pid_t pid;
		int r;

		posix_spawn_file_actions_init(&fa);
		if (dir)
			posix_spawn_file_actions_addchdir_np(&fa, dir);
		if (out) {
			char path[PATH_MAX];
			int fd = atoi(out), append;
			const char *p = strchr(out, ':');

			if (!p || strlen(p + 1) >= sizeof(path))
				return 2;
			strcpy(path, p + 1);
			append = strlen(path) > 2 && !strcmp(path + strlen(path) - 2, ":a");
			if (append)
				path[strlen(path) - 2] = 0;
			posix_spawn_file_actions_addopen(&fa, fd, path,
							 O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
							 0644);
		}
		r = (call[5] ? posix_spawnp : posix_spawn)(&pid, prog, &fa, NULL, args, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (r)
			return failed_with(r);
		report(pid);
		return 0;
	} else if (!strcmp(call, "system")) {
		int st = system(prog);

		printf("system: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return 0;
	} else if (!strcmp(call, "popen")) {
		char buf[4096];
		FILE *f = popen(prog, "r");
		size_t n;

		if (!f)
			return fail();
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
		printf("popen: exit %d\n", WEXITSTATUS(pclose(f)));
		return 0;
	} else if (!strcmp(call, "vfork")) {
		char cwd[PATH_MAX];
		volatile int err = 0;
		pid_t pid = vfork();

		if (pid == 0) {
			if (dir && chdir(dir) != 0)
				err = errno;
			else
				execv(prog, args);
			if (!err)
				err = errno;
			_exit(127);
		}
		if (pid < 0)
			return fail();
		if (err)
			printf("vfork child: %s\n", strerrorname_np(err));
		report(pid);
		printf("parent cwd: %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : strerrorname_np(errno));
		return 0;
	} else {
		return 2;
	}
	return fail();
}
