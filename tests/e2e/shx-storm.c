/* shx-storm.c -- the concurrent quota storm, run under the preload.
 *
 *   shx-storm DIR PROCS THREADS OPS LIMIT
 *
 * PROCS processes of THREADS threads each do OPS operations on a few
 * files in DIR shared by all of them: appends (open O_APPEND, a few
 * writes, close), writes at an offset through a descriptor each thread
 * keeps open, ftruncate up and down, unlink.  Every thread draws its
 * operations from a seeded generator, so a run is the same mix each time
 * (the interleaving is not).  Meanwhile the first process watches: what
 * the files in DIR hold (st_blocks) must never be more than LIMIT bytes.
 *
 * Prints "enospc=N over=M" (how many calls failed for lack of space, how
 * many times the watcher saw more than LIMIT), and exits 0 unless a call
 * failed otherwise (the errno is printed) or a process died.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NFILES 12

static const char *dir;
static int ops;
static uint64_t limit;
static atomic_long enospc, failures;
static atomic_int done;

static uint32_t next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void path_of(char *buf, size_t cap, unsigned i)
{
	snprintf(buf, cap, "%s/f%u", dir, i % NFILES);
}

/* Out of space is what the storm is about; anything else is a bug. */
static void check(long r, const char *what)
{
	if (r >= 0)
		return;
	if (errno == ENOSPC || errno == EDQUOT) {
		atomic_fetch_add(&enospc, 1);
		return;
	}
	if (errno == ENOENT) /* another thread unlinked it first */
		return;
	fprintf(stderr, "shx-storm: %s: %s\n", what, strerror(errno));
	atomic_fetch_add(&failures, 1);
}

static void *worker(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	static char buf[65536];
	char path[512];
	int keep = -1;

	for (int n = 0; n < ops; n++) {
		unsigned op = next(&seed) % 10, len = 1 + next(&seed) % sizeof(buf);
		int fd;

		path_of(path, sizeof(path), next(&seed));
		switch (op) {
		case 0:
		case 1:
		case 2: /* append */
			fd = open(path, O_CREAT | O_WRONLY | O_APPEND, 0600);
			check(fd, "open for append");
			if (fd < 0)
				break;
			for (int k = 0; k < 3; k++)
				check(write(fd, buf, len), "append");
			close(fd);
			break;
		case 3:
		case 4: /* a write at an offset through the kept fd */
			if (keep < 0) {
				keep = open(path, O_CREAT | O_RDWR, 0600);
				check(keep, "open");
				break;
			}
			check(pwrite(keep, buf, len, next(&seed) % (512 << 10)), "pwrite");
			break;
		case 5: /* the kept fd goes, another comes */
			if (keep >= 0)
				close(keep);
			keep = open(path, O_CREAT | O_RDWR, 0600);
			check(keep, "open");
			break;
		case 6:
		case 7: /* truncate, mostly down */
			fd = open(path, O_CREAT | O_RDWR, 0600);
			check(fd, "open for truncate");
			if (fd < 0)
				break;
			check(ftruncate(fd, next(&seed) % (op == 6 ? 4096 : 300 << 10)), "ftruncat"
											 "e");
			close(fd);
			break;
		default:
			check(unlink(path), "unlink");
			break;
		}
	}
	if (keep >= 0)
		close(keep);
	return NULL;
}

/* What the visible files hold, in bytes of memory. */
static uint64_t held(void)
{
	char path[512];
	uint64_t sum = 0;
	struct stat st;

	for (unsigned i = 0; i < NFILES; i++) {
		path_of(path, sizeof(path), i);
		if (stat(path, &st) == 0)
			sum += (uint64_t)st.st_blocks * 512;
	}
	return sum;
}

static void *watcher(void *arg)
{
	long *over = arg;

	while (!atomic_load(&done))
		if (held() > limit)
			(*over)++;
	return NULL;
}

static int process(int index, int threads, long *over)
{
	pthread_t t[64], w;

	if (over && pthread_create(&w, NULL, watcher, over) != 0)
		return 1;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(index * 64 + i));
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	if (over) {
		atomic_store(&done, 1);
		pthread_join(w, NULL);
	}
	return atomic_load(&failures) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int procs, threads, status, bad = 0;
	long over = 0;
	pid_t pids[64];
	int pipefd[2];

	if (argc != 6) {
		fprintf(stderr, "usage: shx-storm DIR PROCS THREADS OPS LIMIT\n");
		return 2;
	}
	dir = argv[1];
	procs = atoi(argv[2]);
	threads = atoi(argv[3]);
	ops = atoi(argv[4]);
	limit = strtoull(argv[5], NULL, 10);
	if (procs < 1 || procs > 64 || threads < 1 || threads > 64 || pipe(pipefd) < 0)
		return 2;
	for (int p = 1; p < procs; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			long n;

			status = process(p, threads, NULL);
			n = atomic_load(&enospc);
			write(pipefd[1], &n, sizeof(n));
			_exit(status);
		}
	}
	bad |= process(0, threads, &over);
	for (int p = 1; p < procs; p++) {
		long n = 0;

		if (waitpid(pids[p], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
		if (read(pipefd[0], &n, sizeof(n)) == sizeof(n))
			atomic_fetch_add(&enospc, n);
	}
	printf("enospc=%ld over=%ld\n", atomic_load(&enospc), over);
	return bad;
}
