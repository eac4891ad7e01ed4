/* shx-sysv.c -- System V shared memory from the shell, for the end-to-end
 * tests (tests/e2e/sysv.sh, tests/e2e/postgres.sh).
 *
 *   shx-sysv get KEY SIZE FLAGS    shmget; prints the id, or the errno's name
 *   shx-sysv hold ID [N]           attaches N times (1), writes its pid and
 *                                  "ready" on stdout, and waits for its stdin
 *                                  to close; exits without detaching
 *   shx-sysv ctl ID CMD            shmctl IPC_RMID, SHM_LOCK or SHM_UNLOCK
 *   shx-sysv stat ID               IPC_STAT: "key=0x.. mode=0.. nattch=N"
 *
 * KEY, SIZE and FLAGS take C syntax (0x.., 0..).  The exit status is 0
 * when the call worked, 1 when it failed, 2 for a bad command line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (end == s || *end) {
		fprintf(stderr, "shx-sysv: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static int fail(void)
{
	puts(strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	return 1;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";

	if (!strcmp(op, "get") && argc == 5) {
		int id = shmget((key_t)num(argv[2]), (size_t)num(argv[3]), (int)num(argv[4]));

		if (id < 0)
			return fail();
		printf("%d\n", id);
		return 0;
	}
	if (!strcmp(op, "hold") && (argc == 3 || argc == 4)) {
		long n = argc == 4 ? num(argv[3]) : 1;
		char c;

		for (long i = 0; i < n; i++)
			if (shmat((int)num(argv[2]), NULL, 0) == (void *)-1)
				return fail();
		printf("%d ready\n", (int)getpid());
		fflush(stdout);
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	if (!strcmp(op, "ctl") && argc == 4) {
		static const struct {
			const char *name;
			int cmd;
		} cmds[] = { { "IPC_RMID", IPC_RMID }, { "SHM_LOCK", SHM_LOCK }, { "SHM_UNLOCK", SHM_UNLOCK } };

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[3], cmds[i].name))
				return shmctl((int)num(argv[2]), cmds[i].cmd, NULL) < 0 ? fail() : 0;
	}
	if (!strcmp(op, "stat") && argc == 3) {
		struct shmid_ds d;

		if (shmctl((int)num(argv[2]), IPC_STAT, &d) < 0)
			return fail();
		printf("key=0x%08x mode=0%o nattch=%lu\n", (unsigned)d.shm_perm.__key,
		       (unsigned)d.shm_perm.mode, (unsigned long)d.shm_nattch);
		return 0;
	}
	fprintf(stderr, "usage: shx-sysv get KEY SIZE FLAGS | hold ID [N] | ctl ID CMD | stat ID\n");
	return 2;
}
