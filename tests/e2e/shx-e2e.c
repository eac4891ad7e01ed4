/* shx-e2e.c -- end-to-end test of the POSIX shared memory and /dev/shm
 * calls a program makes, printing TAP.
 *
 * Meant to run under libshmemx.so with a private manager (tests/e2e/c-api.sh),
 * where /dev/shm is the manager's namespace and starts empty: the listing
 * must be exactly what this program made, and the kernel's /dev/shm (asked
 * with raw system calls, past the preload) must not have its objects.
 * With --native it runs against the kernel's tmpfs instead, which is how
 * its expectations were checked; then only its own names are compared.
 * Every object it makes is named "shx-e2e.PID.*" and is removed again.
 *
 *   shx-e2e               run all the subtests (under the preload)
 *   shx-e2e --native      the same without the preload-only checks
 *   shx-e2e --child FD    (internal) the exec'd child of the inheritance
 *                         subtest: reports FD's fstat and contents on stdout
 *
 * Self-contained on purpose (libc and pthreads only, no glibc-only calls):
 * it is also built with musl-gcc against a musl build of the library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHM_DIR "/dev/shm"
#define TIME_LIMIT 50 /* seconds: a hang is a failure, not a stuck make check */

static int ntests, nfailed;
static int under_preload;
static char prefix[64];       /* "shx-e2e.PID." */
static char self_path[PATH_MAX]; /* for the re-exec */

/* --- TAP ----------------------------------------------------------------- */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	ntests++;
	if (!cond)
		nfailed++;
	printf("%sok %d - ", cond ? "" : "not ", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

/* ok() for two integers, with both shown on failure. */
#define check_int(got, want, ...)                                                          \
	do {                                                                               \
		long long g_ = (long long)(got), w_ = (long long)(want);                   \
		if (!ok(g_ == w_, __VA_ARGS__))                                            \
			diag("%s: got %lld, expected %lld", #got, g_, w_);                 \
	} while (0)

/* ok() for a call that should succeed (r >= 0), showing errno otherwise. */
#define check_call(r, ...)                                                                 \
	do {                                                                               \
		long long r_ = (long long)(r);                                             \
		int e_ = errno;                                                            \
		if (!ok(r_ >= 0, __VA_ARGS__))                                             \
			diag("%s = %lld: %s", #r, r_, strerror(e_));                       \
	} while (0)

/* ok() for a call that should fail with errno `want`. */
#define check_errno(r, want, ...)                                                          \
	do {                                                                               \
		long long r_ = (long long)(r);                                             \
		int e_ = errno;                                                            \
		if (!ok(r_ == -1 && e_ == (want), __VA_ARGS__))                            \
			diag("%s = %lld, errno %s; expected -1, errno %s", #r, r_,         \
			     r_ == -1 ? strerror(e_) : "-", strerror(want));               \
	} while (0)

static void hexdiff(const char *what, const unsigned char *got, const unsigned char *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i]) {
			diag("%s: first difference at byte %zu: got 0x%02x, expected 0x%02x", what, i,
			     got[i], want[i]);
			return;
		}
}

static int check_mem(const void *got, const void *want, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int check_mem(const void *got, const void *want, size_t n, const char *fmt, ...)
{
	char desc[256];
	va_list ap;
	int same = memcmp(got, want, n) == 0;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	ok(same, "%s", desc);
	if (!same)
		hexdiff(desc, got, want, n);
	return same;
}

/* --- helpers ------------------------------------------------------------- */

/* "shx-e2e.PID.TAG" for shm_open, and the same under /dev/shm. */
static const char *shm_name(char *buf, size_t cap, const char *tag)
{
	snprintf(buf, cap, "/%s%s", prefix, tag);
	return buf;
}

static const char *shm_path(char *buf, size_t cap, const char *tag)
{
	snprintf(buf, cap, SHM_DIR "/%s%s", prefix, tag);
	return buf;
}

/* Reads exactly n bytes at off (pread until done); bytes read, or -1. */
static ssize_t pread_all(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, off + got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

static ssize_t read_all(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The names in /dev/shm: those with our prefix (without it) into `ours`
 * as a sorted, newline-joined list, the number of the others into
 * *others; "." and ".." are counted in *dots when they are directories.
 * Non-regular entries of ours are reported in *nonreg.  -1 if the
 * directory cannot be read. */
struct listing {
	char **names;
	size_t n, cap;
	int others, dots, nonreg;
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_shm(struct listing *l)
{
	size_t plen = strlen(prefix);
	struct dirent *de;
	DIR *d;

	memset(l, 0, sizeof(*l));
	d = opendir(SHM_DIR);
	if (!d)
		return -1;
	/* errno is reset before each call: whether a successful readdir
	 * leaves it alone is test_errno's business */
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			l->dots += de->d_type == DT_DIR;
			continue;
		}
		if (strncmp(de->d_name, prefix, plen)) {
			l->others++;
			continue;
		}
		if (de->d_type != DT_REG)
			l->nonreg++;
		if (l->n == l->cap) {
			l->cap = l->cap ? 2 * l->cap : 64;
			l->names = realloc(l->names, l->cap * sizeof(*l->names));
			if (!l->names)
				abort();
		}
		l->names[l->n++] = strdup(de->d_name + plen);
	}
	if (errno) {
		int e = errno;

		closedir(d);
		listing_free(l);
		errno = e;
		return -1;
	}
	closedir(d);
	if (l->n)
		qsort(l->names, l->n, sizeof(*l->names), cmp_str);
	return 0;
}

/* --- the exec'd child ---------------------------------------------------- */

#define INHERIT_PARENT "written by the parent"
#define INHERIT_FORK "written by the forked child"
#define INHERIT_EXEC "written by the exec'd child"
#define OFF_FORK 100
#define OFF_EXEC 8192 /* past the end: the exec'd child grows the object */

/* Reports, one line: "ino SIZE DATA-OK WRITE-OK SIZE-AFTER". */
static int child_main(const char *fdarg)
{
	char buf[sizeof(INHERIT_PARENT) - 1];
	struct stat st, st2;
	int fd = atoi(fdarg), data_ok, write_ok;
	ssize_t w;

	if (fstat(fd, &st) < 0) {
		printf("fstat-failed %s\n", strerror(errno));
		return 1;
	}
	data_ok = pread_all(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
		  !memcmp(buf, INHERIT_PARENT, sizeof(buf));
	w = pwrite(fd, INHERIT_EXEC, strlen(INHERIT_EXEC), OFF_EXEC);
	write_ok = w == (ssize_t)strlen(INHERIT_EXEC);
	if (fstat(fd, &st2) < 0)
		st2.st_size = -1;
	printf("%llu %lld %d %d %lld\n", (unsigned long long)st.st_ino, (long long)st.st_size,
	       data_ok, write_ok, (long long)st2.st_size);
	return 0;
}

/* --- subtests ------------------------------------------------------------ */

/* Under the preload the object is the manager's: the kernel's /dev/shm,
 * asked with a raw openat that no wrapper sees, does not have it. */
static void kernel_view(const char *name)
{
	char path[256];
	long fd;

	snprintf(path, sizeof(path), SHM_DIR "%s", name);
	fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	if (under_preload)
		check_errno(fd, ENOENT, "the kernel's " SHM_DIR " does not have the object (raw openat)");
	else
		check_call(fd, "the kernel's " SHM_DIR " has the object (raw openat)");
}

static void test_fork_mmap(void)
{
	static const char msg[] = "hello from the child, through its mapping";
	long pg = sysconf(_SC_PAGESIZE);
	size_t len = 4 * pg;
	char name[128], buf[sizeof(msg)];
	unsigned char *map;
	pid_t pid;
	int fd;

	fd = shm_open(shm_name(name, sizeof(name), "fork-mmap"), O_CREAT | O_EXCL | O_RDWR, 0600);
	check_call(fd, "fork+mmap: shm_open O_CREAT|O_EXCL");
	if (fd < 0)
		return;
	check_call(ftruncate(fd, len), "fork+mmap: ftruncate to 4 pages");
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!ok(map != MAP_FAILED, "fork+mmap: mmap MAP_SHARED")) {
		diag("mmap: %s", strerror(errno));
		close(fd);
		shm_unlink(name);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		memcpy(map, msg, sizeof(msg));
		memcpy(map + 3 * pg + 17, msg, sizeof(msg));
		_exit(0);
	}
	check_int(wait_child(pid), 0, "fork+mmap: child exited 0");
	check_mem(map, msg, sizeof(msg), "fork+mmap: parent sees the child's write at offset 0");
	check_mem(map + 3 * pg + 17, msg, sizeof(msg),
		  "fork+mmap: parent sees the child's write in the last page");
	memset(buf, 0, sizeof(buf));
	pread_all(fd, buf, sizeof(buf), 3 * pg + 17);
	check_mem(buf, msg, sizeof(msg), "fork+mmap: pread sees what the child wrote to memory");
	kernel_view(name);
	munmap(map, len);
	close(fd);
	check_call(shm_unlink(name), "fork+mmap: shm_unlink");
}

static void test_inherit(void)
{
	char name[128], buf[64], line[256];
	unsigned long long c_ino = 0;
	long long c_size = -1, c_after = -1;
	int fd, pfd[2], c_data = 0, c_write = 0, fl;
	struct stat st;
	pid_t pid;
	ssize_t n;

	fd = shm_open(shm_name(name, sizeof(name), "inherit"), O_CREAT | O_EXCL | O_RDWR, 0600);
	check_call(fd, "inherit: shm_open");
	if (fd < 0)
		return;
	fl = fcntl(fd, F_GETFD);
	check_int(!!(fl & FD_CLOEXEC), 1, "inherit: shm_open's fd is close-on-exec");
	fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	check_int(pwrite(fd, INHERIT_PARENT, strlen(INHERIT_PARENT), 0), strlen(INHERIT_PARENT),
		  "inherit: parent writes");

	/* across fork */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char b[sizeof(INHERIT_PARENT) - 1];
		int good = pread_all(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b) &&
			   !memcmp(b, INHERIT_PARENT, sizeof(b));

		if (pwrite(fd, INHERIT_FORK, strlen(INHERIT_FORK), OFF_FORK) !=
		    (ssize_t)strlen(INHERIT_FORK))
			good = 0;
		_exit(good ? 0 : 1);
	}
	check_int(wait_child(pid), 0, "inherit: forked child reads the parent's data and writes");
	memset(buf, 0, sizeof(buf));
	pread_all(fd, buf, strlen(INHERIT_FORK), OFF_FORK);
	check_mem(buf, INHERIT_FORK, strlen(INHERIT_FORK), "inherit: parent reads the forked child's write");

	/* across exec */
	if (fstat(fd, &st) < 0) {
		ok(0, "inherit: fstat in the parent");
		diag("fstat: %s", strerror(errno));
		close(fd);
		shm_unlink(name);
		return;
	}
	if (pipe(pfd) < 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char fdarg[16];

		snprintf(fdarg, sizeof(fdarg), "%d", fd);
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl("/proc/self/exe", self_path, "--child", fdarg, (char *)NULL);
		execl(self_path, self_path, "--child", fdarg, (char *)NULL);
		printf("exec-failed %s\n", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	n = read_all(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	line[n > 0 ? n : 0] = 0;
	check_int(wait_child(pid), 0, "inherit: exec'd child ran");
	if (sscanf(line, "%llu %lld %d %d %lld", &c_ino, &c_size, &c_data, &c_write, &c_after) != 5)
		diag("exec'd child said: %s", line);
	check_int(c_ino, st.st_ino, "inherit: fstat after exec: same st_ino as the parent's");
	check_int(c_size, st.st_size, "inherit: fstat after exec: same st_size as the parent's");
	ok(c_data, "inherit: exec'd child reads the parent's data");
	ok(c_write, "inherit: exec'd child writes past the end");
	check_int(c_after, OFF_EXEC + strlen(INHERIT_EXEC), "inherit: exec'd child's fstat sees it grow");
	memset(buf, 0, sizeof(buf));
	pread_all(fd, buf, strlen(INHERIT_EXEC), OFF_EXEC);
	check_mem(buf, INHERIT_EXEC, strlen(INHERIT_EXEC), "inherit: parent reads the exec'd child's write");
	if (fstat(fd, &st) < 0)
		st.st_size = -1;
	check_int(st.st_size, OFF_EXEC + strlen(INHERIT_EXEC), "inherit: parent's fstat sees the new size");
	close(fd);
	check_call(shm_unlink(name), "inherit: shm_unlink");
}

static void test_readdir(void)
{
	static const char *const tags[] = { "dir-a", "dir-b", "dir-c", "dir-d", "dir-e" };
	const size_t n = sizeof(tags) / sizeof(tags[0]);
	char path[256], want[512] = "", got[512] = "";
	struct listing l;
	size_t i;

	for (i = 0; i < n; i++) {
		int fd;

		/* half through shm_open, half through open(2) on the path */
		if (i % 2)
			fd = shm_open(shm_name(path, sizeof(path), tags[i]), O_CREAT | O_RDWR, 0640);
		else
			fd = open(shm_path(path, sizeof(path), tags[i]), O_CREAT | O_RDWR, 0640);
		if (fd < 0)
			diag("creating %s: %s", path, strerror(errno));
		else
			close(fd);
		strcat(want, tags[i]);
		strcat(want, " ");
	}
	if (!ok(list_shm(&l) == 0, "readdir: opendir/readdir of " SHM_DIR)) {
		diag("%s", strerror(errno));
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		strncat(got, l.names[i], sizeof(got) - strlen(got) - 2);
		strcat(got, " ");
	}
	if (!ok(!strcmp(got, want), "readdir: lists exactly the names made"))
		diag("got '%s', expected '%s'", got, want);
	check_int(l.nonreg, 0, "readdir: each has d_type DT_REG");
	check_int(l.dots, 2, "readdir: . and .. are listed, as DT_DIR");
	if (under_preload)
		check_int(l.others, 0, "readdir: nothing else in the manager's " SHM_DIR);
	listing_free(&l);
out:
	for (i = 0; i < n; i++)
		if (unlink(shm_path(path, sizeof(path), tags[i])) < 0)
			diag("unlink %s: %s", path, strerror(errno));
	if (list_shm(&l) == 0) {
		check_int(l.n, 0, "readdir: empty again after unlink");
		listing_free(&l);
	}
}

static void test_unlink_open(void)
{
	static const char data[] = "still here after unlink";
	char name[128], path[256], buf[sizeof(data)];
	struct stat st;
	int fd, fd2;
	void *map;

	shm_name(name, sizeof(name), "nlink");
	shm_path(path, sizeof(path), "nlink");
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	check_call(fd, "nlink: shm_open");
	if (fd < 0)
		return;
	check_int(write(fd, data, sizeof(data)), sizeof(data), "nlink: write");
	st.st_nlink = 99;
	fstat(fd, &st);
	check_int(st.st_nlink, 1, "nlink: fstat st_nlink is 1 while linked");
	check_call(shm_unlink(name), "nlink: shm_unlink while open");
	st.st_nlink = 99;
	check_call(fstat(fd, &st), "nlink: fstat after unlink");
	check_int(st.st_nlink, 0, "nlink: fstat st_nlink is 0 after unlink");
	check_int(st.st_size, sizeof(data), "nlink: st_size unchanged after unlink");
	memset(buf, 0, sizeof(buf));
	check_int(pread_all(fd, buf, sizeof(buf), 0), sizeof(data), "nlink: pread after unlink");
	check_mem(buf, data, sizeof(data), "nlink: data still readable after unlink");
	map = mmap(NULL, sizeof(data), PROT_READ, MAP_SHARED, fd, 0);
	if (ok(map != MAP_FAILED, "nlink: mmap after unlink")) {
		check_mem(map, data, sizeof(data), "nlink: data in the mapping after unlink");
		munmap(map, sizeof(data));
	}
	check_errno(stat(path, &st), ENOENT, "nlink: stat of the path is ENOENT");
	fd2 = shm_open(name, O_RDWR, 0);
	check_errno(fd2, ENOENT, "nlink: shm_open without O_CREAT is ENOENT");
	if (fd2 >= 0)
		close(fd2);
	check_errno(shm_unlink(name), ENOENT, "nlink: second shm_unlink is ENOENT");
	close(fd);
}

static void test_append(void)
{
	char path[256], buf[64];
	int fd, fd2;
	off_t pos;

	shm_path(path, sizeof(path), "append");
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND, 0644);
	check_call(fd, "O_APPEND: open O_CREAT|O_WRONLY|O_APPEND");
	fd2 = open(path, O_WRONLY | O_APPEND);
	check_call(fd2, "O_APPEND: second O_APPEND fd");
	if (fd < 0 || fd2 < 0)
		goto out;
	check_int(write(fd, "abc", 3), 3, "O_APPEND: first write");
	lseek(fd, 0, SEEK_SET);
	check_int(write(fd, "def", 3), 3, "O_APPEND: write after lseek(0)");
	check_int(lseek(fd, 0, SEEK_CUR), 6, "O_APPEND: position is the end after the write");
	check_int(write(fd2, "GH", 2), 2, "O_APPEND: write through the other fd");
	check_int(write(fd, "ij", 2), 2, "O_APPEND: write through the first fd again");
	pos = lseek(fd2, 0, SEEK_CUR);
	check_int(pos, 8, "O_APPEND: the other fd's position is where its write ended");
	close(fd);
	fd = open(path, O_RDONLY);
	memset(buf, 0, sizeof(buf));
	check_int(read_all(fd, buf, sizeof(buf)), 10, "O_APPEND: size is the sum of the writes");
	if (!ok(!strcmp(buf, "abcdefGHij"), "O_APPEND: every write landed at the end"))
		diag("got '%s', expected 'abcdefGHij'", buf);
out:
	if (fd >= 0)
		close(fd);
	if (fd2 >= 0)
		close(fd2);
	unlink(path);
}

static void test_pread_pwrite(void)
{
	static const struct {
		off_t off;
		const char *s;
	} w[] = { { 0, "first" }, { 4096, "second page" }, { 10000, "far out" }, { 2, "OVER" } };
	const char *want0 = "fiOVER";
	char path[256], buf[64], zero[64] = { 0 };
	struct stat st;
	int fd, good = 1;

	fd = open(shm_path(path, sizeof(path), "pwrite"), O_CREAT | O_EXCL | O_RDWR, 0600);
	check_call(fd, "pread/pwrite: open");
	if (fd < 0)
		return;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (pwrite(fd, w[i].s, strlen(w[i].s), w[i].off) != (ssize_t)strlen(w[i].s)) {
			diag("pwrite at %lld: %s", (long long)w[i].off, strerror(errno));
			good = 0;
		}
	ok(good, "pread/pwrite: pwrites at 0, 4096, 10000 and 2");
	check_int(lseek(fd, 0, SEEK_CUR), 0, "pread/pwrite: the file position did not move");
	fstat(fd, &st);
	check_int(st.st_size, 10000 + strlen("far out"), "pread/pwrite: st_size is the furthest end");
	memset(buf, 0, sizeof(buf));
	pread_all(fd, buf, strlen(want0), 0);
	check_mem(buf, want0, strlen(want0), "pread/pwrite: overlapping pwrite at 2");
	memset(buf, 0, sizeof(buf));
	pread_all(fd, buf, strlen("second page"), 4096);
	check_mem(buf, "second page", strlen("second page"), "pread/pwrite: pread at 4096");
	memset(buf, 0, sizeof(buf));
	check_int(pread_all(fd, buf, sizeof(buf), 10000), strlen("far out"),
		  "pread/pwrite: pread at 10000 stops at the end");
	check_mem(buf, "far out", strlen("far out"), "pread/pwrite: pread at 10000");
	memset(buf, 'x', sizeof(buf));
	pread_all(fd, buf, sizeof(buf), 5000);
	check_mem(buf, zero, sizeof(buf), "pread/pwrite: the gap reads as zeros");
	check_int(pread(fd, buf, sizeof(buf), 20000), 0, "pread/pwrite: pread past the end is 0");
	check_int(lseek(fd, 0, SEEK_CUR), 0, "pread/pwrite: the file position still did not move");
	close(fd);
	unlink(path);
}

static void test_seek_hole(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	off_t size = 64 * pg, data = 16 * pg;
	char path[256], *page;
	int fd;

	fd = open(shm_path(path, sizeof(path), "sparse"), O_CREAT | O_EXCL | O_RDWR, 0600);
	check_call(fd, "SEEK_HOLE: open");
	if (fd < 0)
		return;
	check_call(ftruncate(fd, size), "SEEK_HOLE: ftruncate to 64 pages");
	page = malloc(pg);
	memset(page, 0x5a, pg);
	check_int(pwrite(fd, page, pg, data), pg, "SEEK_HOLE: write page 16");
	free(page);
	check_int(lseek(fd, 0, SEEK_DATA), data, "SEEK_DATA from 0 finds page 16");
	check_int(lseek(fd, data + 1, SEEK_DATA), data + 1, "SEEK_DATA inside data stays put");
	check_int(lseek(fd, 0, SEEK_HOLE), 0, "SEEK_HOLE from 0 is 0");
	check_int(lseek(fd, data, SEEK_HOLE), data + pg, "SEEK_HOLE from page 16 is page 17");
	check_errno(lseek(fd, data + pg, SEEK_DATA), ENXIO, "SEEK_DATA after the last data is ENXIO");
	check_int(lseek(fd, data + pg, SEEK_HOLE), data + pg, "SEEK_HOLE in the trailing hole stays put");
	check_errno(lseek(fd, size, SEEK_HOLE), ENXIO, "SEEK_HOLE at the end is ENXIO");
	close(fd);
	unlink(path);
}

static void test_stdio(void)
{
	char path[256], want[4096], got[4096], line[64];
	size_t wl = 0;
	ssize_t n;
	FILE *f;
	int fd, i;

	shm_path(path, sizeof(path), "stdio");
	f = fopen(path, "w");
	if (!ok(f != NULL, "stdio: fopen \"w\"")) {
		diag("fopen: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 100; i++) {
		fprintf(f, "line %d of %s\n", i, "stdio");
		wl += snprintf(want + wl, sizeof(want) - wl, "line %d of %s\n", i, "stdio");
	}
	check_int(fclose(f), 0, "stdio: fclose");
	fd = open(path, O_RDONLY);
	check_call(fd, "stdio: open the file fprintf wrote");
	n = fd < 0 ? -1 : read_all(fd, got, sizeof(got));
	check_int(n, wl, "stdio: read gets every byte fprintf wrote");
	if (n == (ssize_t)wl)
		check_mem(got, want, wl, "stdio: the contents are what fprintf wrote");
	if (fd >= 0)
		close(fd);

	f = fopen(path, "a");
	if (ok(f != NULL, "stdio: fopen \"a\"")) {
#ifdef __GLIBC__
		/* glibc positions an append stream at the end at once; musl
		 * only when it writes */
		check_int(ftell(f), wl, "stdio: an append stream starts at the end");
#endif
		fputs("appended\n", f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (ok(f != NULL, "stdio: fopen \"r\"")) {
		int lines = 0;

		while (fgets(line, sizeof(line), f))
			lines++;
		check_int(lines, 101, "stdio: fgets reads 101 lines");
		if (!ok(!strcmp(line, "appended\n"), "stdio: the last line is the appended one"))
			diag("last line: '%s'", line);
		fclose(f);
	}
	f = fopen(path, "wx");
	check_int(f == NULL && errno == EEXIST, 1, "stdio: fopen \"wx\" of an existing file is EEXIST");
	if (f)
		fclose(f);
	unlink(path);
	f = fopen(path, "r");
	check_int(f == NULL && errno == ENOENT, 1, "stdio: fopen \"r\" after unlink is ENOENT");
	if (f)
		fclose(f);
}

/* A call that succeeds leaves errno as it was (glibc's do, and the
 * `errno = 0; while ((de = readdir(d))) ...; if (errno)` idiom relies on
 * it for readdir). */
static void test_errno(void)
{
	const int rounds = 200;
	char name[128], path[256];
	int bad_open = 0, bad_stat = 0, bad_fstat = 0, bad_readdir = 0, fd, e = 0;
	struct stat st;

	shm_name(name, sizeof(name), "errno");
	shm_path(path, sizeof(path), "errno");
	for (int i = 0; i < rounds; i++) {
		errno = 0;
		fd = shm_open(name, O_CREAT | O_RDWR, 0600);
		if (fd >= 0 && errno)
			bad_open++, e = errno;
		errno = 0;
		if (stat(path, &st) == 0 && errno)
			bad_stat++, e = errno;
		errno = 0;
		if (fd >= 0 && fstat(fd, &st) == 0 && errno)
			bad_fstat++, e = errno;
		if (fd >= 0)
			close(fd);
	}
	for (int i = 0; i < rounds / 4; i++) {
		DIR *d = opendir(SHM_DIR);

		if (!d)
			continue;
		errno = 0;
		while (readdir(d))
			;
		if (errno)
			bad_readdir++, e = errno;
		closedir(d);
	}
	check_int(bad_open, 0, "errno: a successful shm_open leaves errno alone (%d rounds)", rounds);
	check_int(bad_stat, 0, "errno: a successful stat leaves errno alone (%d rounds)", rounds);
	check_int(bad_fstat, 0, "errno: a successful fstat leaves errno alone (%d rounds)", rounds);
	check_int(bad_readdir, 0, "errno: readdir to the end leaves errno 0 (%d rounds)", rounds / 4);
	if (e)
		diag("errno was left at %d (%s)", e, strerror(e));
	shm_unlink(name);
}

#define MANY 200

static void test_many(void)
{
	char name[128], tag[32], buf[32];
	int created = 0, sized = 0, removed = 0, missing = 0;
	struct listing l;
	struct stat st;
	int i;

	for (i = 0; i < MANY; i++) {
		int fd, len;

		snprintf(tag, sizeof(tag), "many-%03d", i);
		fd = shm_open(shm_name(name, sizeof(name), tag), O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0) {
			if (created == i)
				diag("shm_open %s: %s", name, strerror(errno));
			continue;
		}
		len = snprintf(buf, sizeof(buf), "%d", i);
		if (write(fd, buf, len) == len)
			created++;
		close(fd);
	}
	check_int(created, MANY, "many: %d objects created and written", MANY);
	if (!ok(list_shm(&l) == 0, "many: readdir")) {
		diag("opendir/readdir " SHM_DIR ": %s", strerror(errno));
	} else {
		int in_order = l.n == MANY;

		for (i = 0; in_order && i < MANY; i++) {
			snprintf(tag, sizeof(tag), "many-%03d", i);
			in_order = !strcmp(l.names[i], tag);
		}
		check_int(l.n, MANY, "many: readdir lists %d names", MANY);
		ok(in_order, "many: readdir lists each name once");
		if (under_preload)
			check_int(l.others, 0, "many: and nothing else");
		listing_free(&l);
	}
	for (i = 0; i < MANY; i++) {
		char path[256];
		int fd;

		snprintf(tag, sizeof(tag), "many-%03d", i);
		if (stat(shm_path(path, sizeof(path), tag), &st) == 0 &&
		    st.st_size == snprintf(buf, sizeof(buf), "%d", i))
			sized++;
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			char b[32] = { 0 };

			if (read(fd, b, sizeof(b) - 1) < 0 || strcmp(b, buf))
				sized--;
			close(fd);
		}
		if (shm_unlink(shm_name(name, sizeof(name), tag)) == 0)
			removed++;
		if (stat(path, &st) < 0 && errno == ENOENT)
			missing++;
	}
	check_int(sized, MANY, "many: each has its size and contents");
	check_int(removed, MANY, "many: each shm_unlink succeeds");
	check_int(missing, MANY, "many: each is gone after its shm_unlink");
	if (ok(list_shm(&l) == 0, "many: readdir after unlinking")) {
		check_int(l.n, 0, "many: none is listed any more");
		listing_free(&l);
	} else {
		diag("opendir/readdir " SHM_DIR ": %s", strerror(errno));
	}
}

#define THREADS 4
#define PER_THREAD 100

struct worker {
	pthread_t tid;
	int id, started, done;
	char err[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[128], tag[32], want[64], got[64];
	struct stat st;

	for (int i = 0; i < PER_THREAD; i++) {
		int fd, len;

		snprintf(tag, sizeof(tag), "thr%d-%03d", w->id, i);
		shm_name(name, sizeof(name), tag);
		len = snprintf(want, sizeof(want), "thread %d object %d", w->id, i);
		fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0) {
			snprintf(w->err, sizeof(w->err), "shm_open %s: %s", name, strerror(errno));
			return NULL;
		}
		if (write(fd, want, len) != len) {
			snprintf(w->err, sizeof(w->err), "write %s: %s", name, strerror(errno));
			close(fd);
			return NULL;
		}
		memset(got, 0, sizeof(got));
		if (pread(fd, got, sizeof(got), 0) != len || memcmp(got, want, len)) {
			snprintf(w->err, sizeof(w->err), "pread %s: got '%s'", name, got);
			close(fd);
			return NULL;
		}
		if (fstat(fd, &st) < 0 || st.st_size != len) {
			snprintf(w->err, sizeof(w->err), "fstat %s: size %lld", name, (long long)st.st_size);
			close(fd);
			return NULL;
		}
		close(fd);
		fd = shm_open(name, O_RDONLY, 0);
		memset(got, 0, sizeof(got));
		if (fd < 0 || read(fd, got, sizeof(got)) != len || memcmp(got, want, len)) {
			snprintf(w->err, sizeof(w->err), "reopen/read %s: %s '%s'", name,
				 fd < 0 ? strerror(errno) : "got", got);
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		close(fd);
		if (shm_unlink(name) < 0) {
			snprintf(w->err, sizeof(w->err), "shm_unlink %s: %s", name, strerror(errno));
			return NULL;
		}
		fd = shm_open(name, O_RDONLY, 0);
		if (fd >= 0 || errno != ENOENT) {
			snprintf(w->err, sizeof(w->err), "%s still opens after shm_unlink (%s)", name,
				 fd >= 0 ? "fd" : strerror(errno));
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		w->done++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct worker w[THREADS];
	struct listing l;
	int i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].id = i;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) == 0)
			w[i].started = 1;
		else
			snprintf(w[i].err, sizeof(w[i].err), "pthread_create failed");
	}
	for (i = 0; i < THREADS; i++)
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
	for (i = 0; i < THREADS; i++) {
		if (!ok(w[i].done == PER_THREAD,
			"threads: thread %d created, wrote, read and unlinked %d objects", i,
			PER_THREAD))
			diag("thread %d: %d done; %s", i, w[i].done, w[i].err);
	}
	if (ok(list_shm(&l) == 0, "threads: readdir afterwards")) {
		check_int(l.n, 0, "threads: no object is left");
		listing_free(&l);
	} else {
		diag("opendir/readdir " SHM_DIR ": %s", strerror(errno));
	}
}

/* System V shared memory: a segment shared with a child, shm_nattch
 * across fork and exit, IPC_RMID while attached; under the preload, the
 * kernel has no such segment (asked with a raw system call). */
static void test_sysv(void)
{
	static const char msg[] = "written by the child";
	long pg = sysconf(_SC_PAGESIZE);
	size_t size = 3 * pg + 123; /* a size to know it by */
	struct shmid_ds ds;
	char *map;
	pid_t pid;
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);

	check_call(id, "sysv: shmget IPC_PRIVATE");
	if (id < 0)
		return;
	map = shmat(id, NULL, 0);
	if (!ok(map != (void *)-1, "sysv: shmat")) {
		shmctl(id, IPC_RMID, NULL);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* the child's attachment counts as soon as it exists */
		if (shmctl(id, IPC_STAT, &ds) < 0 || ds.shm_nattch != 2)
			_exit(3);
		memcpy(map + 2 * pg, msg, sizeof(msg));
		_exit(0); /* without shmdt */
	}
	check_int(wait_child(pid), 0, "sysv: the child saw shm_nattch 2 and wrote");
	check_mem(map + 2 * pg, msg, sizeof(msg), "sysv: the parent sees what the child wrote");
	check_call(shmctl(id, IPC_STAT, &ds), "sysv: IPC_STAT");
	check_int(ds.shm_nattch, 1, "sysv: the child's exit took its attachment");
	check_int(ds.shm_segsz, size, "sysv: shm_segsz is the size asked for");
	check_int(ds.shm_lpid, pid, "sysv: shm_lpid is the child's");
	if (under_preload) {
		long r = syscall(SYS_shmctl, id, IPC_STAT, &ds);

		ok(r < 0 || ds.shm_segsz != size || ds.shm_cpid != getpid(),
		   "sysv: the kernel has no such segment (raw shmctl)");
	}
	check_call(shmctl(id, IPC_RMID, NULL), "sysv: IPC_RMID while attached");
	check_call(shmctl(id, IPC_STAT, &ds), "sysv: IPC_STAT of the removed segment");
	check_int(ds.shm_perm.mode & 01000, 01000, "sysv: it is SHM_DEST");
	check_call(shmdt(map), "sysv: shmdt");
	check_errno(shmctl(id, IPC_STAT, &ds), EINVAL, "sysv: the last detach destroyed it");
}

/* Removes whatever a failed subtest left behind. */
static void sweep(void)
{
	struct listing l;
	char path[256];

	if (list_shm(&l) < 0)
		return;
	for (size_t i = 0; i < l.n; i++) {
		snprintf(path, sizeof(path), SHM_DIR "/%s%s", prefix, l.names[i]);
		unlink(path);
	}
	listing_free(&l);
}

int main(int argc, char **argv)
{
	struct listing l;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(argv[2]);
	under_preload = argc == 1;
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--native"))) {
		fprintf(stderr, "usage: %s [--native]\n", argv[0]);
		return 2;
	}
	if (!realpath(argv[0], self_path))
		snprintf(self_path, sizeof(self_path), "%s", argv[0]);
	snprintf(prefix, sizeof(prefix), "shx-e2e.%d.", (int)getpid());
	signal(SIGPIPE, SIG_IGN);
	alarm(TIME_LIMIT);

	if (under_preload && list_shm(&l) == 0) {
		check_int(l.n + l.others, 0, "the manager's " SHM_DIR " is empty at the start");
		listing_free(&l);
	}
	test_fork_mmap();
	test_inherit();
	test_readdir();
	test_unlink_open();
	test_append();
	test_pread_pwrite();
	test_seek_hole();
	test_stdio();
	test_errno();
	test_many();
	test_threads();
	test_sysv();
	sweep();

	printf("1..%d\n", ntests);
	if (nfailed)
		diag("%d of %d failed", nfailed, ntests);
	return nfailed ? 1 : 0;
}
