/* tests/diff/shx-diff.c -- runner and observation API of the differential
 * test.  `shx-diff --list` prints the scenario names; `shx-diff [NAME...]`
 * runs the named scenarios (all by default), printing "== NAME" and then one
 * observation per line.  run-diff.sh runs it once natively (the kernel's
 * tmpfs is the oracle) and once under libshmemx and compares the sections.
 *
 * Lines starting with "!!" mean the run itself is broken (a scenario crashed,
 * timed out or left objects or System V segments behind); they are never
 * expected in a native run. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"

/* A scenario that has not finished by then is hung, not slow. */
#define SCENARIO_TIMEOUT 20
#define RUNNER_TIMEOUT 60

static const char *g_scenario = "";
static const char *g_who = ""; /* "child " in a scenario's forked child */
static bool g_broken;          /* some "!!" line was printed */

/* ---------------------------------------------------------------- names */

/* Results of fmt() and friends live until NBUF more have been made, far
 * more than one statement uses. */
#define NBUF 64
#define BUFLEN 4400 /* a path a little longer than PATH_MAX */

static char *ring(void)
{
	static char bufs[NBUF][BUFLEN];
	static unsigned next;
	return bufs[next++ % NBUF];
}

/* Keeps errno: names and labels are often built in the same argument list
 * as the call under test, in an unspecified order. */
const char *fmt(const char *f, ...)
{
	int e = errno;
	char *b = ring();
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, BUFLEN, f, ap);
	va_end(ap);
	errno = e;
	return b;
}

/* The run's own tag ($SHXD_RUN, the same for the native and the preloaded
 * run) keeps two test runs on one machine out of each other's objects. */
static const char *run_tag(void)
{
	const char *t = getenv("SHXD_RUN");

	return t ? t : "";
}

/* '.' never occurs in scenario names, so "shxd-open." cannot match the
 * objects of a scenario called "open-trunc". */
static const char *prefix_of(const char *scenario)
{
	return fmt("shxd%s-%s.", run_tag(), scenario);
}

const char *objname(const char *tag)
{
	return fmt("%s%s", prefix_of(g_scenario), tag);
}

const char *path(const char *tag)
{
	return fmt(SHM_DIR "/%s", objname(tag));
}

const char *shmname(const char *tag)
{
	return fmt("/%s", objname(tag));
}

const char *tag_of_len(size_t len)
{
	size_t pre = strlen(prefix_of(g_scenario));
	char *b = ring();
	size_t n = len > pre ? len - pre : 1;
	if (n >= BUFLEN)
		n = BUFLEN - 1;
	memset(b, 'n', n);
	b[n] = '\0';
	return b;
}

/* --------------------------------------------------------- observations */

const char *errname(int e)
{
	static char buf[32];
	const char *n;
	if (e == 0)
		return "0";
	n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, sizeof buf, "errno#%d", e);
	return buf;
}

static const char *signame(int sig)
{
	static char buf[32];
	const char *n = sigabbrev_np(sig);
	if (n)
		snprintf(buf, sizeof buf, "SIG%s", n);
	else
		snprintf(buf, sizeof buf, "signal#%d", sig);
	return buf;
}

static void vobs(const char *f, va_list ap)
{
	fputs(g_who, stdout);
	vprintf(f, ap);
	putchar('\n');
}

void obs(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vobs(f, ap);
	va_end(ap);
}

static void broken(const char *f, ...) __attribute__((format(printf, 1, 2)));
static void broken(const char *f, ...)
{
	va_list ap;
	g_broken = true;
	fputs("!! ", stdout);
	va_start(ap, f);
	vprintf(f, ap);
	va_end(ap);
	putchar('\n');
}

void obs_ret(const char *label, long long r)
{
	int e = errno;
	obs("%s: ret=%lld errno=%s", label, r, r == -1 ? errname(e) : "0");
}

void obs_fd(const char *label, int fd)
{
	int e = errno;
	if (fd >= 0)
		obs("%s: ret=fd errno=0", label);
	else
		obs("%s: ret=%d errno=%s", label, fd, errname(e));
}

void obs_err(const char *label, int err)
{
	/* -1 would be the classic mistake of reporting through errno */
	if (err < 0)
		obs("%s: ret=%d errno=%s", label, err, errname(errno));
	else
		obs("%s: ret=%s", label, errname(err));
}

void obs_map(const char *label, const void *p)
{
	int e = errno;
	if (p != MAP_FAILED)
		obs("%s: ret=addr errno=0", label);
	else
		obs("%s: ret=MAP_FAILED errno=%s", label, errname(e));
}

/* FNV-1a: a stable digest for data too long to print. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static const char *render(const void *buf, long n)
{
	const unsigned char *p = buf;
	char *b = ring();
	size_t o = 0;
	bool zero = true;
	long i;

	if (n <= 0)
		return "\"\"";
	if (n > 48) {
		for (i = 0; i < n; i++)
			zero = zero && p[i] == 0;
		snprintf(b, BUFLEN, "fnv1a:%016llx%s",
			 (unsigned long long)fnv1a(p, (size_t)n),
			 zero ? " (all zero)" : "");
		return b;
	}
	b[o++] = '"';
	for (i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			b[o++] = (char)p[i];
		else
			o += (size_t)snprintf(b + o, BUFLEN - o, "\\x%02x",
					      p[i]);
	}
	b[o++] = '"';
	b[o] = '\0';
	return b;
}

void obs_data(const char *label, const void *buf, long n)
{
	obs("%s: len=%ld data=%s", label, n, render(buf, n));
}

/* Inode identities are numbered in order of first appearance within the
 * scenario, so "ino=#1" twice means the same inode without printing it. */
static struct {
	dev_t dev;
	ino_t ino;
} g_inos[256];
static int g_n_inos;
static dev_t g_devs[16];
static int g_n_devs;
static dev_t g_shm_dev;
static bool g_have_shm_dev;

static int ino_class(dev_t dev, ino_t ino)
{
	int i;
	for (i = 0; i < g_n_inos; i++)
		if (g_inos[i].dev == dev && g_inos[i].ino == ino)
			return i + 1;
	if (g_n_inos == (int)(sizeof g_inos / sizeof g_inos[0]))
		return 0;
	g_inos[g_n_inos].dev = dev;
	g_inos[g_n_inos].ino = ino;
	return ++g_n_inos;
}

static const char *dev_class(dev_t dev)
{
	int i;
	if (g_have_shm_dev && dev == g_shm_dev)
		return "shm";
	for (i = 0; i < g_n_devs; i++)
		if (g_devs[i] == dev)
			return fmt("#%d", i + 1);
	if (g_n_devs == (int)(sizeof g_devs / sizeof g_devs[0]))
		return "?";
	g_devs[g_n_devs++] = dev;
	return fmt("#%d", g_n_devs);
}

static const char *ftype(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	default: return "?";
	}
}

void obs_stat(const char *label, int r, const struct stat *st)
{
	if (r != 0) {
		obs_ret(label, r);
		return;
	}
	obs("%s: type=%s mode=%04o nlink=%lu uid=%u gid=%u size=%lld "
	    "blocks=%lld blksize=%ld ino=#%d dev=%s",
	    label, ftype(st->st_mode), (unsigned)(st->st_mode & 07777),
	    (unsigned long)st->st_nlink, (unsigned)st->st_uid,
	    (unsigned)st->st_gid, (long long)st->st_size,
	    (long long)st->st_blocks, (long)st->st_blksize,
	    ino_class(st->st_dev, st->st_ino), dev_class(st->st_dev));
}

/* The directory's size and link count depend on what else lives in it. */
void obs_dirstat(const char *label, int r, const struct stat *st)
{
	if (r != 0) {
		obs_ret(label, r);
		return;
	}
	obs("%s: type=%s mode=%04o uid=%u gid=%u ino=#%d dev=%s", label,
	    ftype(st->st_mode), (unsigned)(st->st_mode & 07777),
	    (unsigned)st->st_uid, (unsigned)st->st_gid,
	    ino_class(st->st_dev, st->st_ino), dev_class(st->st_dev));
}

void obs_statx(const char *label, int r, const struct statx *x)
{
	static const struct {
		unsigned bit;
		const char *name;
	} bits[] = {
		{ STATX_TYPE, "type" },	    { STATX_MODE, "mode" },
		{ STATX_NLINK, "nlink" },   { STATX_UID, "uid" },
		{ STATX_GID, "gid" },	    { STATX_INO, "ino" },
		{ STATX_SIZE, "size" },	    { STATX_BLOCKS, "blocks" },
	};
	char have[128] = "";
	size_t i;
	dev_t dev;

	if (r != 0) {
		obs_ret(label, r);
		return;
	}
	/* only the basic bits: btime, mnt_id etc. legitimately vary */
	for (i = 0; i < sizeof bits / sizeof bits[0]; i++)
		if (x->stx_mask & bits[i].bit)
			snprintf(have + strlen(have), sizeof have - strlen(have),
				 "%s%s", *have ? "," : "", bits[i].name);
	dev = makedev(x->stx_dev_major, x->stx_dev_minor);
	obs("%s: mask=%s type=%s mode=%04o nlink=%u uid=%u gid=%u size=%llu "
	    "blocks=%llu blksize=%u ino=#%d dev=%s",
	    label, have, ftype(x->stx_mode), (unsigned)(x->stx_mode & 07777),
	    x->stx_nlink, x->stx_uid, x->stx_gid,
	    (unsigned long long)x->stx_size, (unsigned long long)x->stx_blocks,
	    x->stx_blksize, ino_class(dev, x->stx_ino), dev_class(dev));
}

void obs_fdflags(const char *label, int fd)
{
	static const char *acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "3" };
	int fd_flags, fl_flags;

	fd_flags = fcntl(fd, F_GETFD);
	if (fd_flags == -1) {
		obs_ret(fmt("%s F_GETFD", label), fd_flags);
		return;
	}
	fl_flags = fcntl(fd, F_GETFL);
	if (fl_flags == -1) {
		obs_ret(fmt("%s F_GETFL", label), fl_flags);
		return;
	}
	/* only the bits libshmemx must reproduce: O_LARGEFILE and friends
	 * depend on how the descriptor is backed */
	obs("%s: cloexec=%s accmode=%s append=%s nonblock=%s", label,
	    fd_flags & FD_CLOEXEC ? "yes" : "no", acc[fl_flags & O_ACCMODE],
	    fl_flags & O_APPEND ? "yes" : "no",
	    fl_flags & O_NONBLOCK ? "yes" : "no");
}

static long long ts_ns_diff(struct timespec a, struct timespec b)
{
	return (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
}

void obs_ts(const char *label, struct timespec before, struct timespec after)
{
	long long d = ts_ns_diff(before, after);
	obs("%s: %s", label, d > 0 ? "advanced" : d == 0 ? "same" : "went back");
}

/* ---------------------------------------------------------- shorthands */

int obs_open(const char *label, const char *p, int flags, mode_t mode)
{
	int fd = open(p, flags, mode);
	obs_fd(label, fd);
	return fd;
}

void probe_open(const char *label, const char *p, int flags, mode_t mode)
{
	xclose(obs_open(label, p, flags, mode));
}

int obs_shm_open(const char *label, const char *tag, int flags, mode_t mode)
{
	int fd = shm_open(shmname(tag), flags, mode);
	obs_fd(label, fd);
	return fd;
}

void obs_fstat(const char *label, int fd)
{
	struct stat st;
	obs_stat(label, fstat(fd, &st), &st);
}

void obs_pstat(const char *label, const char *p)
{
	struct stat st;
	obs_stat(label, stat(p, &st), &st);
}

static void obs_io(const char *label, ssize_t r, const char *buf)
{
	int e = errno;
	if (r < 0) {
		errno = e;
		obs_ret(label, r);
	} else {
		obs("%s: ret=%zd errno=0 data=%s", label, r, render(buf, r));
	}
}

void obs_read(const char *label, int fd, size_t n)
{
	static char buf[1 << 16];
	if (n > sizeof buf)
		n = sizeof buf;
	obs_io(label, read(fd, buf, n), buf);
}

void obs_pread(const char *label, int fd, size_t n, off_t off)
{
	static char buf[1 << 16];
	if (n > sizeof buf)
		n = sizeof buf;
	obs_io(label, pread(fd, buf, n, off), buf);
}

void obs_write(const char *label, int fd, const char *s)
{
	obs_ret(label, write(fd, s, strlen(s)));
}

void obs_pwrite(const char *label, int fd, const char *s, off_t off)
{
	obs_ret(label, pwrite(fd, s, strlen(s), off));
}

void obs_off(const char *label, int fd)
{
	obs_ret(label, lseek(fd, 0, SEEK_CUR));
}

void *obs_mmap(const char *label, size_t len, int prot, int flags, int fd,
	       off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);
	obs_map(label, p);
	return p == MAP_FAILED ? NULL : p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *dtype(unsigned char t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_UNKNOWN: return "unknown";
	default: return "other";
	}
}

/* Lists the running scenario's entries of dir, sorted, with their d_type:
 * readdir order is the filesystem's business. */
void obs_list(const char *label, const char *dir)
{
	const char *pre = prefix_of(g_scenario);
	size_t plen = strlen(pre), n = 0, i;
	char *names[64], line[2048] = "";
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		obs("%s: opendir ret=NULL errno=%s", label, errname(errno));
		return;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, pre, plen) == 0 &&
		    n < sizeof names / sizeof names[0])
			names[n++] = strdup(fmt("%s:%s", de->d_name + plen,
						dtype(de->d_type)));
		errno = 0;
	}
	if (errno)
		obs("%s: readdir errno=%s", label, errname(errno));
	qsort(names, n, sizeof names[0], cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(line + strlen(line), sizeof line - strlen(line),
			 " %s", names[i]);
		free(names[i]);
	}
	obs("%s: n=%zu%s closedir=%d", label, n, line, closedir(d));
}

void obs_list_all(const char *label, const char *dir)
{
	size_t n = 0, i;
	char *names[64], line[2048] = "";
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		obs("%s: opendir ret=NULL errno=%s", label, errname(errno));
		return;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (n < sizeof names / sizeof names[0])
			names[n++] = strdup(fmt("%s:%s", de->d_name,
						dtype(de->d_type)));
		errno = 0;
	}
	if (errno)
		obs("%s: readdir errno=%s", label, errname(errno));
	qsort(names, n, sizeof names[0], cmp_str);
	for (i = 0; i < n; i++) {
		snprintf(line + strlen(line), sizeof line - strlen(line),
			 " %s", names[i]);
		free(names[i]);
	}
	obs("%s: n=%zu%s closedir=%d", label, n, line, closedir(d));
}

void obs_lstat(const char *label, const char *p)
{
	struct stat st;
	obs_stat(label, lstat(p, &st), &st);
}

void obs_dstat(const char *label, const char *p)
{
	struct stat st;
	int r = stat(p, &st);

	if (r != 0) {
		obs_ret(label, r);
		return;
	}
	obs("%s: type=%s mode=%04o nlink=%lu uid=%u gid=%u ino=#%d dev=%s",
	    label, ftype(st.st_mode), (unsigned)(st.st_mode & 07777),
	    (unsigned long)st.st_nlink, (unsigned)st.st_uid,
	    (unsigned)st.st_gid, ino_class(st.st_dev, st.st_ino),
	    dev_class(st.st_dev));
}

void obs_readlink(const char *label, const char *p, size_t bufsiz)
{
	char buf[PATH_MAX + 16];
	ssize_t r;

	if (bufsiz > sizeof buf)
		bufsiz = sizeof buf;
	memset(buf, 0, sizeof buf);
	r = readlink(p, buf, bufsiz);
	obs_io(label, r, buf);
}

/* ----------------------------------------------------- setup / cleanup */

int mk(const char *tag, const char *data)
{
	int fd = open(path(tag), O_RDWR | O_CREAT | O_TRUNC, 0644);
	size_t len = strlen(data);
	if (fd < 0)
		obs("setup: create %s: errno=%s", tag, errname(errno));
	else if (write(fd, data, len) != (ssize_t)len)
		obs("setup: write %s: errno=%s", tag, errname(errno));
	return fd;
}

void rm(const char *tag)
{
	if (unlink(path(tag)) != 0)
		obs("cleanup: unlink %s: errno=%s", tag, errname(errno));
}

void xclose(int fd)
{
	if (fd >= 0 && close(fd) != 0)
		obs("cleanup: close: errno=%s", errname(errno));
}

/* tmpfs stamps with the coarse clock (one tick, at most 10 ms at HZ=100);
 * three ticks make "advanced" certain. */
void nap(void)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ----------------------------------------------------------- processes */

void child_mode(void)
{
	g_who = "child ";
	alarm(SCENARIO_TIMEOUT);
}

void obs_wait(const char *label, pid_t pid)
{
	int status;
	pid_t r;
	while ((r = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	if (r == -1)
		obs("%s: waitpid errno=%s", label, errname(errno));
	else if (WIFEXITED(status))
		obs("%s: child exited %d", label, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		obs("%s: child killed by %s", label, signame(WTERMSIG(status)));
	else
		obs("%s: child status 0x%x", label, (unsigned)status);
}

void obs_child(const char *label, void (*fn)(void *), void *arg)
{
	pid_t pid;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		obs("%s: fork errno=%s", label, errname(errno));
		return;
	}
	if (pid == 0) {
		child_mode();
		fn(arg);
		exit(0);
	}
	obs_wait(label, pid);
}

void sync_post(int fd)
{
	char c = 'x';
	fflush(stdout); /* the peer prints next */
	if (write(fd, &c, 1) != 1)
		obs("sync: write errno=%s", errname(errno));
}

bool sync_wait(int fd)
{
	char c;
	ssize_t r;
	while ((r = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	if (r != 1)
		obs("sync: peer gone (ret=%zd)", r);
	return r == 1;
}

/* -------------------------------------------------------------- runner */

/* Unlinks every object of the scenario; with report set, each one is a
 * leftover the scenario should have removed itself. */
static void sweep(const char *scenario, bool report)
{
	char pre[300], *names[256];
	size_t plen, n = 0, i;
	struct dirent *de;
	DIR *d;

	snprintf(pre, sizeof pre, "%s", prefix_of(scenario));
	plen = strlen(pre);
	d = opendir(SHM_DIR);
	if (!d) {
		if (report)
			broken("sweep: opendir " SHM_DIR ": %s", errname(errno));
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, pre, plen) == 0 &&
		    n < sizeof names / sizeof names[0])
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_str);
	for (i = 0; i < n; i++) {
		const char *p = fmt(SHM_DIR "/%s", names[i]);
		if (report)
			broken("leftover %s", names[i]);
		if (unlink(p) != 0 && errno == EISDIR)
			rmdir(p);
		free(names[i]);
	}
}

/* Removes every System V segment of the scenario: those with its keys, and
 * the private ones its process (pid, when known) made.  With report set,
 * each one is a leftover. */
static void sweep_sysv(const char *scenario, pid_t pid, bool report)
{
	key_t base = sysv_key_base_of(prefix_of(scenario));
	struct shminfo si;
	int top = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);

	for (int i = 0; i <= top; i++) {
		struct shmid_ds d;
		int id = shmctl(i, SHM_STAT_ANY, &d);
		key_t k = d.shm_perm.__key;

		if (id < 0 || !((k >= base && k < base + 256) || (pid && d.shm_cpid == pid)))
			continue;
		if (report)
			broken("leftover System V segment (key %s, %lu attached)",
			       k ? fmt("K+%d", k - base) : "private", (unsigned long)d.shm_nattch);
		shmctl(id, IPC_RMID, NULL);
	}
}

static void run_one(const struct scenario *sc)
{
	struct stat st;
	pid_t pid;
	int status;

	printf("== %s\n", sc->name);
	fflush(stdout);
	alarm(RUNNER_TIMEOUT); /* a hung sweep kills the run, not the machine */
	sweep(sc->name, false); /* remains of an interrupted earlier run */
	sweep_sysv(sc->name, 0, false);
	pid = fork();
	if (pid < 0) {
		broken("fork: %s", errname(errno));
		return;
	}
	if (pid == 0) {
		/* each scenario gets a fresh process: a crash ends only it,
		 * and umask, cwd and the inode numbering start the same */
		g_scenario = sc->name;
		alarm(SCENARIO_TIMEOUT);
		umask(022);
		if (stat(SHM_DIR, &st) == 0) {
			g_shm_dev = st.st_dev;
			g_have_shm_dev = true;
		}
		sc->fn();
		exit(0);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		broken("scenario killed by %s%s", signame(WTERMSIG(status)),
		       WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		broken("scenario exited with status %d", WEXITSTATUS(status));
	sweep(sc->name, true);
	sweep_sysv(sc->name, pid, true);
	alarm(0);
}

static bool valid_names(void)
{
	size_t i, j;
	for (i = 0; i < n_scenarios; i++) {
		const char *n = scenarios[i].name;
		if (!*n || strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
				   strlen(n)) {
			fprintf(stderr, "shx-diff: bad scenario name '%s'\n", n);
			return false;
		}
		for (j = 0; j < i; j++)
			if (strcmp(scenarios[j].name, n) == 0) {
				fprintf(stderr, "shx-diff: duplicate '%s'\n", n);
				return false;
			}
	}
	return true;
}

static const struct scenario *find(const char *name)
{
	size_t i;
	for (i = 0; i < n_scenarios; i++)
		if (strcmp(scenarios[i].name, name) == 0)
			return &scenarios[i];
	return NULL;
}

int main(int argc, char **argv)
{
	size_t i;
	int a;

	/* line buffering: children inherit an empty buffer at fork, and a
	 * crash loses no earlier observation */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!valid_names())
		return 2;
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < n_scenarios; i++)
			puts(scenarios[i].name);
		return 0;
	}
	for (a = 1; a < argc; a++)
		if (!find(argv[a])) {
			fprintf(stderr,
				"usage: shx-diff --list | shx-diff [NAME...]\n"
				"shx-diff: no scenario '%s'\n", argv[a]);
			return 2;
		}
	if (argc == 1)
		for (i = 0; i < n_scenarios; i++)
			run_one(&scenarios[i]);
	for (a = 1; a < argc; a++)
		run_one(find(argv[a]));
	return g_broken ? 1 : 0;
}
