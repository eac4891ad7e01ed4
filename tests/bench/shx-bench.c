/* shx-bench.c -- workloads for `make bench`.
 *
 * One program holds every benchmark workload.  It does not know whether it
 * runs natively or under the libshmemx preload: tests/bench/run-bench.sh runs
 * it both ways, round by round, and computes the ratio.  Each round prints one
 * line:
 *
 *     NAME ROUND VALUE UNIT
 *
 * where UNIT is "s" (elapsed seconds, lower is better) or "ops/s" (higher is
 * better).  `--list` prints "NAME TARGET UNIT" per workload, so the targets
 * live in one place, the TABLE below.
 *
 * Every call in a timed loop has its result checked and any failure aborts
 * loudly: a broken preload must show up as a crash, never as a fast number.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* The workloads touch "one byte per 4 KiB page" by definition, whatever the
 * machine's page size; on this machine it is the page size. */
#define PAGE (4 * KiB)

/* Options shared by all workloads. */
static const char *opt_dir = ".";	/* where the "outside" workloads work */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	fflush(stdout);
	fprintf(stderr, "shx-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* errno 0 marks a check of ours, not a failed call */
	if (err != 0)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	/* abort, not exit: a core and a signal status make the failure
	 * impossible to mistake for a result */
	abort();
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* write()/read() may legally be short (a user-space backend might do that),
 * so loop; only an error or an early EOF is a failure. */
static void write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		p += n;
		len -= (size_t)n;
	}
}

static void read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			errno = 0;
			die("read: unexpected end of file");
		}
		if (n < 0)
			die("read");
		p += n;
		len -= (size_t)n;
	}
}

/* ---- 1. seq-rw-512M ------------------------------------------------------ */

#define SEQ_TOTAL (512 * MiB)
#define SEQ_BLOCK (1 * MiB)

static double seq_rw(void)
{
	char path[64];
	char *wbuf, *rbuf;
	uint64_t stamp;
	double t0, t1;
	int fd;

	snprintf(path, sizeof path, "/dev/shm/shx-bench.%ld.seq", (long)getpid());
	wbuf = malloc(SEQ_BLOCK);
	rbuf = malloc(SEQ_BLOCK);
	if (!wbuf || !rbuf)
		die("malloc");
	/* fault the buffers in now so the timing sees only file work */
	memset(wbuf, 0xa5, SEQ_BLOCK);
	memset(rbuf, 0, SEQ_BLOCK);
	/* a leftover from a killed run with our pid would make O_EXCL fail */
	unlink(path);

	t0 = now();
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		die("open %s", path);
	for (stamp = 0; stamp < SEQ_TOTAL / SEQ_BLOCK; stamp++) {
		/* stamp each block so the read-back proves the data came
		 * from this file, in order */
		memcpy(wbuf, &stamp, sizeof stamp);
		memcpy(wbuf + SEQ_BLOCK - sizeof stamp, &stamp, sizeof stamp);
		write_full(fd, wbuf, SEQ_BLOCK);
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		die("lseek %s", path);
	for (stamp = 0; stamp < SEQ_TOTAL / SEQ_BLOCK; stamp++) {
		uint64_t head, tail;

		read_full(fd, rbuf, SEQ_BLOCK);
		memcpy(&head, rbuf, sizeof head);
		memcpy(&tail, rbuf + SEQ_BLOCK - sizeof tail, sizeof tail);
		if (head != stamp || tail != stamp || rbuf[SEQ_BLOCK / 2] != (char)0xa5) {
			errno = 0;
			die("%s: block %" PRIu64 " read back wrong", path, stamp);
		}
	}
	if (close(fd) != 0)
		die("close %s", path);
	if (unlink(path) != 0)
		die("unlink %s", path);
	t1 = now();

	free(wbuf);
	free(rbuf);
	return t1 - t0;
}

/* ---- 2. mmap-touch-1G ---------------------------------------------------- */

#define TOUCH_SIZE (1 * GiB)

static double mmap_touch(void)
{
	char name[64];
	volatile char *map;
	struct stat st;
	double t0, t1;
	size_t off;
	char c;
	int fd;

	snprintf(name, sizeof name, "/shx-bench.%ld.touch", (long)getpid());
	shm_unlink(name);	/* see seq_rw */
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		die("shm_open %s", name);
	if (ftruncate(fd, (off_t)TOUCH_SIZE) != 0)
		die("ftruncate %s", name);
	map = mmap(NULL, TOUCH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap %s", name);

	/* only the first touch is timed: that is where page allocation
	 * happens, and it is what a slow backing store would slow down */
	t0 = now();
	for (off = 0; off < TOUCH_SIZE; off += PAGE)
		map[off] = (char)(off / PAGE) | 1;
	t1 = now();

	/* the stores must have reached the shared object, not some private
	 * copy: check through the fd, outside the timed region */
	if (fstat(fd, &st) != 0)
		die("fstat %s", name);
	if ((size_t)st.st_size != TOUCH_SIZE) {
		errno = 0;
		die("%s: size %jd after ftruncate", name, (intmax_t)st.st_size);
	}
	for (off = 0; off < TOUCH_SIZE; off += TOUCH_SIZE / 8 - PAGE) {
		if (pread(fd, &c, 1, (off_t)off) != 1)
			die("pread %s", name);
		if (c != ((char)(off / PAGE) | 1)) {
			errno = 0;
			die("%s: byte at %zu not shared with the mapping", name, off);
		}
	}

	if (munmap((void *)map, TOUCH_SIZE) != 0)
		die("munmap %s", name);
	if (close(fd) != 0)
		die("close %s", name);
	if (shm_unlink(name) != 0)
		die("shm_unlink %s", name);
	return t1 - t0;
}

/* ---- 3. shm-cycle -------------------------------------------------------- */

#define CYCLE_SIZE (64 * KiB)
#define CYCLE_ITERS 20000

static double shm_cycle(void)
{
	char name[64];
	double t0, t1;
	long i;

	snprintf(name, sizeof name, "/shx-bench.%ld.cycle", (long)getpid());
	shm_unlink(name);	/* see seq_rw */

	t0 = now();
	for (i = 0; i < CYCLE_ITERS; i++) {
		volatile char *map;
		size_t off;
		int fd;

		/* O_EXCL: each iteration must really create the object,
		 * which also proves the previous shm_unlink worked */
		fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0)
			die("shm_open %s (iteration %ld)", name, i);
		if (ftruncate(fd, (off_t)CYCLE_SIZE) != 0)
			die("ftruncate %s", name);
		map = mmap(NULL, CYCLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			die("mmap %s", name);
		for (off = 0; off < CYCLE_SIZE; off += PAGE)
			map[off] = 1;
		if (munmap((void *)map, CYCLE_SIZE) != 0)
			die("munmap %s", name);
		if (close(fd) != 0)
			die("close %s", name);
		if (shm_unlink(name) != 0)
			die("shm_unlink %s", name);
	}
	t1 = now();
	return CYCLE_ITERS / (t1 - t0);
}

/* ---- 4. sysv-cycle ------------------------------------------------------- */

/* The System V version of shm-cycle: a segment made, attached, touched
 * page by page, detached and removed, each iteration. */
static double sysv_cycle(void)
{
	double t0, t1;
	long i;

	t0 = now();
	for (i = 0; i < CYCLE_ITERS; i++) {
		volatile char *map;
		size_t off;
		int id = shmget(IPC_PRIVATE, CYCLE_SIZE, IPC_CREAT | 0600);

		if (id < 0)
			die("shmget (iteration %ld)", i);
		map = shmat(id, NULL, 0);
		if (map == (void *)-1)
			die("shmat %d", id);
		for (off = 0; off < CYCLE_SIZE; off += PAGE)
			map[off] = 1;
		if (shmdt((void *)map) != 0)
			die("shmdt %d", id);
		if (shmctl(id, IPC_RMID, NULL) != 0)
			die("IPC_RMID %d", id);
	}
	t1 = now();
	return CYCLE_ITERS / (t1 - t0);
}

/* ---- 5./6. outside the managed prefixes ---------------------------------- */

/* These two measure the cost the preload adds to calls it must pass
 * through untouched, so their file lives in opt_dir, which the runner
 * puts under the build tree, never under /dev/shm. */

#define OUTSIDE_SIZE 4096

static void outside_create(char *path, size_t size)
{
	char buf[OUTSIDE_SIZE];
	int fd;

	snprintf(path, size, "%s/shx-bench.%ld.outside", opt_dir, (long)getpid());
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0)
		die("open %s", path);
	memset(buf, 'x', sizeof buf);
	write_full(fd, buf, sizeof buf);
	if (close(fd) != 0)
		die("close %s", path);
}

static void outside_remove(const char *path)
{
	if (unlink(path) != 0)
		die("unlink %s", path);
}

#define OPEN_ITERS 1000000

static double open_close_outside(void)
{
	char path[4096];
	double t0, t1;
	long i;

	outside_create(path, sizeof path);
	t0 = now();
	for (i = 0; i < OPEN_ITERS; i++) {
		int fd = open(path, O_RDONLY);

		if (fd < 0)
			die("open %s", path);
		if (close(fd) != 0)
			die("close %s", path);
	}
	t1 = now();
	outside_remove(path);
	return OPEN_ITERS / (t1 - t0);
}

#define STAT_ITERS 2000000

static double stat_outside(void)
{
	char path[4096];
	struct stat st;
	double t0, t1;
	long i;

	outside_create(path, sizeof path);
	t0 = now();
	for (i = 0; i < STAT_ITERS; i++) {
		if (stat(path, &st) != 0)
			die("stat %s", path);
		/* a cheap check that the answer is about our file */
		if (st.st_size != OUTSIDE_SIZE) {
			errno = 0;
			die("stat %s: size %jd", path, (intmax_t)st.st_size);
		}
	}
	t1 = now();
	outside_remove(path);
	return STAT_ITERS / (t1 - t0);
}

/* ---- 6./7. a tmpfs's small-file work ---------------------------------- */

/* The directory these work in: the kernel's tmpfs natively (/dev/shm), the
 * manager's /tmp under the preload; the runner says which (--tmp). */
static const char *opt_tmp = "/dev/shm";

static void tmp_dir(char *dir, size_t size, const char *what)
{
	snprintf(dir, size, "%s/shx-bench.%ld.%s", opt_tmp, (long)getpid(), what);
}

#define FILE_ITERS 20000

/* create + write 4 KiB + close + unlink, the life of a temporary file */
static double tmp_file(void)
{
	char dir[4096], path[4200], buf[4096];
	double t0, t1;
	long i;

	memset(buf, 'x', sizeof buf);
	tmp_dir(dir, sizeof dir, "file");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		die("mkdir %s", dir);
	snprintf(path, sizeof path, "%s/f", dir);
	t0 = now();
	for (i = 0; i < FILE_ITERS; i++) {
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);

		if (fd < 0)
			die("open %s (iteration %ld)", path, i);
		write_full(fd, buf, sizeof buf);
		if (close(fd) != 0)
			die("close %s", path);
		if (unlink(path) != 0)
			die("unlink %s", path);
	}
	t1 = now();
	if (rmdir(dir) != 0)
		die("rmdir %s", dir);
	return FILE_ITERS / (t1 - t0);
}

#define DIR_FILES 1000

/* mkdir, 1000 files, readdir with a stat of each, remove them all: what a
 * build's or a test suite's scratch directory goes through */
static double tmp_tree(void)
{
	char dir[4096], path[4200];
	struct dirent *e;
	struct stat st;
	double t0, t1;
	long n = 0;
	DIR *d;

	tmp_dir(dir, sizeof dir, "tree");
	t0 = now();
	if (mkdir(dir, 0700) != 0)
		die("mkdir %s", dir);
	for (long i = 0; i < DIR_FILES; i++) {
		int fd;

		snprintf(path, sizeof path, "%s/file-%ld", dir, i);
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600);
		if (fd < 0 || close(fd) != 0)
			die("create %s", path);
	}
	d = opendir(dir);
	if (!d)
		die("opendir %s", dir);
	while ((e = readdir(d))) {
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			die("stat %s/%s", dir, e->d_name);
		n += S_ISREG(st.st_mode);
	}
	if (closedir(d) != 0)
		die("closedir %s", dir);
	if (n != DIR_FILES) {
		errno = 0;
		die("%s: %ld files listed, not %d", dir, n, DIR_FILES);
	}
	for (long i = 0; i < DIR_FILES; i++) {
		snprintf(path, sizeof path, "%s/file-%ld", dir, i);
		if (unlink(path) != 0)
			die("unlink %s", path);
	}
	if (rmdir(dir) != 0)
		die("rmdir %s", dir);
	t1 = now();
	return 1 / (t1 - t0);
}

/* ---- paging-random -------------------------------------------------------- */

/* A working set of twice the RAM budget ($SHX_BENCH_BUDGET bytes, default
 * 64 MiB), mapped shared and touched at random pages, one in four a
 * store: page faults that must bring pages back from swap.  run-bench.sh
 * gives the native side a memory cgroup of the budget's size and a swap
 * file (when the machine allows), the preload side the manager's budget. */
#define PAGING_OPS 20000

static double paging_random(void)
{
	const char *b = getenv("SHX_BENCH_BUDGET");
	size_t size = 2 * (b ? (size_t)strtoull(b, NULL, 0) : 64 * MiB), pages, off;
	uint64_t r = 88172645463325252ull;
	volatile uint8_t *map;
	char name[64];
	double t0, t1;
	unsigned sum = 0;
	int fd;

	size &= ~(PAGE - 1);
	pages = size / PAGE;
	snprintf(name, sizeof name, "/shx-bench.%ld.paging", (long)getpid());
	shm_unlink(name);
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		die("shm_open/ftruncate %s", name);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap %s", name);
	for (off = 0; off < size; off += PAGE)
		memset((void *)(map + off), (int)(off / PAGE), 64);
	sleep(1); /* the pager's (or the kernel's) turn: the working set is out */
	t0 = now();
	for (long i = 0; i < PAGING_OPS; i++) {
		size_t p;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		p = r % pages;
		if (i % 4 == 0)
			map[p * PAGE + 1] = (uint8_t)p;
		else
			sum += map[p * PAGE];
	}
	t1 = now();
	for (off = 0; off < size; off += PAGE)
		if (map[off] != (uint8_t)(off / PAGE))
			die("paging-random: page %zu lost its byte", off / PAGE);
	munmap((void *)map, size);
	close(fd);
	shm_unlink(name);
	(void)sum;
	return PAGING_OPS / (t1 - t0);
}

/* ---- the table ----------------------------------------------------------- */

struct workload {
	const char *name;
	double (*fn)(void);
	double target_ratio;	/* preload throughput / native, at least */
	/* what fn returns: "s" = elapsed seconds of one run (lower is
	 * better), "ops/s" = throughput (higher is better) */
	const char *unit;
};

static const struct workload TABLE[] = {
	{ "seq-rw-512M",        seq_rw,             0.95, "s" },
	{ "mmap-touch-1G",      mmap_touch,         0.95, "s" },
	{ "shm-cycle",          shm_cycle,          0.50, "ops/s" },
	{ "sysv-cycle",         sysv_cycle,         0.50, "ops/s" },
	{ "open-close-outside", open_close_outside, 0.97, "ops/s" },
	{ "stat-outside",       stat_outside,       0.97, "ops/s" },
	{ "tmp-file-4k",        tmp_file,           0.40, "ops/s" },
	{ "tmp-tree-1000",      tmp_tree,           0.30, "ops/s" },
	{ "paging-random",      paging_random,      0.50, "ops/s" },
};
#define NWORKLOADS (sizeof TABLE / sizeof TABLE[0])

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shx-bench --list\n"
		"       shx-bench --run NAME [--rounds R] [--warmup W] [--dir DIR] [--tmp TMP]\n"
		"--list prints NAME TARGET UNIT per workload; --run runs W\n"
		"unreported rounds (default 0), then R rounds (default 1), printing\n"
		"NAME ROUND VALUE UNIT per round.  DIR (default .) holds the\n"
		"file of the *-outside workloads, TMP (default /dev/shm) the\n"
		"directories of the tmp-* ones.\n");
}

static int parse_count(const char *opt, const char *arg, long min, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || *out < min) {
		fprintf(stderr, "shx-bench: bad %s %s\n", opt, arg);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	const struct workload *w = NULL;
	const char *run = NULL;
	long rounds = 1, warmup = 0, r;
	size_t i;
	int list = 0;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--list") == 0) {
			list = 1;
		} else if (strcmp(argv[a], "--run") == 0 && a + 1 < argc) {
			run = argv[++a];
		} else if (strcmp(argv[a], "--rounds") == 0 && a + 1 < argc) {
			if (!parse_count(argv[a], argv[a + 1], 1, &rounds))
				return 2;
			a++;
		} else if (strcmp(argv[a], "--warmup") == 0 && a + 1 < argc) {
			if (!parse_count(argv[a], argv[a + 1], 0, &warmup))
				return 2;
			a++;
		} else if (strcmp(argv[a], "--dir") == 0 && a + 1 < argc) {
			opt_dir = argv[++a];
		} else if (strcmp(argv[a], "--tmp") == 0 && a + 1 < argc) {
			opt_tmp = argv[++a];
		} else if (strcmp(argv[a], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	if (list) {
		for (i = 0; i < NWORKLOADS; i++)
			printf("%s %.2f %s\n", TABLE[i].name, TABLE[i].target_ratio,
			       TABLE[i].unit);
		return 0;
	}
	if (!run) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < NWORKLOADS; i++)
		if (strcmp(TABLE[i].name, run) == 0)
			w = &TABLE[i];
	if (!w) {
		fprintf(stderr, "shx-bench: no workload %s (try --list)\n", run);
		return 2;
	}

	/* Untimed rounds first.  On this VM, memory the guest freed a few
	 * seconds ago has been handed back to the host (free page reporting),
	 * and touching it again costs a host fault per page: a cold first
	 * round of the 512 MiB and 1 GiB workloads takes 2-5x longer.  A
	 * warm-up round in the same process leaves recently freed, still
	 * backed pages for the timed rounds to reuse (mostly: see the note on
	 * best-of-runs in run-bench.sh). */
	for (r = 1; r <= warmup; r++)
		w->fn();
	for (r = 1; r <= rounds; r++) {
		double v = w->fn();

		printf("%s %ld %.6f %s\n", w->name, r, v, w->unit);
		/* flush per round: if a later round crashes, the runner still
		 * sees the earlier ones */
		fflush(stdout);
	}
	return 0;
}
