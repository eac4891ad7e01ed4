/* check_config.c -- unit tests of core/config.c: sizes, settings, the
 * config file, the environment and the socket path.
 *
 * Tested: shx_parse_size on the forms tmpfs's size= takes (plain bytes,
 * k/M/G/T with optional "B" or "iB", decimals, a percentage of RAM) and on
 * malformed ones; shx_format_size; shx_config_load with a config file
 * named by $SHMEMX_CONFIG (comments, blank lines, spaces, a bad line), the
 * file found under $HOME, and the environment overriding the file;
 * shx_socket_path with $SHMEMX_SOCKET, $XDG_RUNTIME_DIR or neither;
 * shx_socket_dir; shx_make_private_dir.
 *
 * Files are made in the current directory (the build tree) and removed
 * before anything is asserted, so a failing test leaves nothing behind.
 * Each test runs in its own process (CK_FORK is forced in main) so that
 * environment changes stay within it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

/* What config.c takes as the machine's memory. */
static uint64_t phys(void)
{
	return (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* --- shx_parse_size ---------------------------------------------------------- */

/* A size in bytes, a percentage of RAM (computed as config.c does), or
 * an error. */
#define BYTES(s, v) { s, 0, v, 0 }
#define PERCENT(s) { s, 0, 0, 1 }
#define BAD(s, e) { s, e, 0, 0 }

static const struct {
	const char *s;
	int err;	/* 0 or -errno */
	uint64_t value;
	int pct;
} size_cases[] = {
	BYTES("0", 0),
	BYTES("1", 1),
	BYTES("4096", 4096),
	BYTES("64k", 64 * KiB),
	BYTES("64K", 64 * KiB),
	BYTES("512M", 512 * MiB),
	BYTES("512m", 512 * MiB),
	BYTES("1.5G", 3 * GiB / 2),
	BYTES("2T", 2 * TiB),
	BYTES("2t", 2 * TiB),
	BYTES("1GiB", GiB),
	BYTES("1GB", GiB),
	BYTES("64KiB", 64 * KiB),
	BYTES("0.5k", 512),
	BYTES("16777215T", 16777215 * TiB),
	/* plain numbers exactly, to the last of 64 bits (kernel.shmmax) */
	BYTES("18446744073692774399", UINT64_MAX - (1ULL << 24)),
	BYTES("18446744073709551615", UINT64_MAX),
	BYTES("9007199254740993", (1ULL << 53) + 1),
	PERCENT("50%"),
	PERCENT("100%"),
	PERCENT("0%"),
	PERCENT("12.5%"), /* checked against the same arithmetic below */
	/* malformed */
	BAD("", -EINVAL),
	BAD("x", -EINVAL),
	BAD("-1", -EINVAL),
	BAD("+1", -EINVAL),
	BAD(" 1", -EINVAL),
	BAD("1 ", -EINVAL),
	BAD(".5G", -EINVAL),
	BAD("12Q", -EINVAL),
	BAD("1KK", -EINVAL),
	BAD("1iB", -EINVAL), /* a suffix without a unit */
	BAD("1B", -EINVAL),
	BAD("1Gi", -EINVAL),
	BAD("1GiBx", -EINVAL),
	BAD("101%", -EINVAL),
	BAD("50%x", -EINVAL),
	BAD("50%%", -EINVAL),
	BAD("inf", -EINVAL),
	BAD("nan", -EINVAL),
	/* beyond 64 bits */
	BAD("16777216T", -ERANGE),
	BAD("99999999999999999999", -ERANGE),
	BAD("18446744073709551616", -ERANGE),
};

START_TEST(parse_size)
{
	uint64_t v = 0xdeadbeef;
	int r = shx_parse_size(size_cases[_i].s, &v);

	ck_assert_msg(r == size_cases[_i].err, "\"%s\": got %d, want %d", size_cases[_i].s, r,
		      size_cases[_i].err);
	if (r < 0) {
		ck_assert_uint_eq(v, 0xdeadbeef); /* untouched */
	} else if (size_cases[_i].pct) {
		double pct = strtod(size_cases[_i].s, NULL);
		uint64_t want = (uint64_t)(phys() * (pct / 100));

		ck_assert_uint_eq(v, want);
		if (pct == 50)
			ck_assert_uint_eq(v, phys() / 2);
	} else {
		ck_assert_uint_eq(v, size_cases[_i].value);
	}
}
END_TEST

START_TEST(parse_size_null)
{
	uint64_t v;

	ck_assert_int_eq(shx_parse_size(NULL, &v), -EINVAL);
}
END_TEST

/* --- shx_format_size ---------------------------------------------------------- */

static const struct {
	uint64_t n;
	const char *s;
} format_cases[] = {
	{ 0, "0" },
	{ 1, "1" },
	{ 1023, "1023" },
	{ 1024, "1K" },
	{ 1536, "1.5K" },
	{ 64 * KiB, "64K" },
	{ 150 * KiB, "150K" },
	{ 512 * MiB, "512M" },
	{ 3 * GiB / 2, "1.5G" },
	{ 2 * TiB, "2T" },
	{ 1ULL << 50, "1P" },
	{ 3ULL << 59, "1.5E" },
	{ UINT64_MAX, "16E" },
};

START_TEST(format_size)
{
	char buf[32];

	memset(buf, '#', sizeof(buf));
	ck_assert_ptr_eq(shx_format_size(format_cases[_i].n, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, format_cases[_i].s);
}
END_TEST

/* What format writes, parse reads back (for sizes format shows exactly). */
START_TEST(format_parse_round_trip)
{
	char buf[32];
	uint64_t v;

	if (format_cases[_i].n == UINT64_MAX || format_cases[_i].n >= (1ULL << 50))
		return; /* P and E are beyond what parse takes */
	shx_format_size(format_cases[_i].n, buf, sizeof(buf));
	ck_assert_int_eq(shx_parse_size(buf, &v), 0);
	ck_assert_uint_eq(v, format_cases[_i].n);
}
END_TEST

START_TEST(format_size_small_buffer)
{
	char buf[4];

	memset(buf, '#', sizeof(buf));
	shx_format_size(512 * MiB, buf, 3);
	ck_assert_str_eq(buf, "51"); /* cut, but terminated and within cap */
	ck_assert_int_eq(buf[3], '#');
}
END_TEST

/* --- shx_config_set ----------------------------------------------------------- */

START_TEST(config_set)
{
	struct shx_config c = { .size_limit = 1, .nr_inodes = 2, .idle_timeout = 3 };

	ck_assert_int_eq(shx_config_set(&c, "size", "1G"), 0);
	ck_assert_uint_eq(c.size_limit, GiB);
	ck_assert_int_eq(shx_config_set(&c, "nr_inodes", "10k"), 0);
	ck_assert_uint_eq(c.nr_inodes, 10 * KiB);
	ck_assert_int_eq(shx_config_set(&c, "idle_timeout", "30"), 0);
	ck_assert_uint_eq(c.idle_timeout, 30);
	ck_assert_int_eq(shx_config_set(&c, "colour", "1"), -ENOENT);
	ck_assert_int_eq(shx_config_set(&c, "size", "lots"), -EINVAL);
	ck_assert_int_eq(shx_config_set(&c, "Size", "1"), -ENOENT);
	/* failed settings change nothing */
	ck_assert_uint_eq(c.size_limit, GiB);
	/* System V limits: shmmax in bytes, shmall in pages, shmmni up to
	 * what the id scheme allows */
	ck_assert_int_eq(shx_config_set(&c, "shmmax", "1G"), 0);
	ck_assert_uint_eq(c.shmmax, GiB);
	ck_assert_int_eq(shx_config_set(&c, "shmall", "18446744073692774399"), 0);
	ck_assert_uint_eq(c.shmall, UINT64_MAX - (1ULL << 24));
	ck_assert_int_eq(shx_config_set(&c, "shmmni", "32768"), 0);
	ck_assert_uint_eq(c.shmmni, 32768);
	ck_assert_int_eq(shx_config_set(&c, "shmmni", "32769"), -EINVAL);
	ck_assert_uint_eq(c.shmmni, 32768);
}
END_TEST

/* --- shx_config_load ---------------------------------------------------------- */

/* Writes text to a new file in the current directory; returns its name. */
static char *write_file(const char *text)
{
	static char name[64];
	int fd;
	size_t len = strlen(text);

	strcpy(name, "shx-check-config-XXXXXX");
	fd = mkstemp(name);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return name;
}

/* Loads the configuration with `text` as the file named by $SHMEMX_CONFIG
 * and removes the file again; returns shx_config_load's result. */
static int load_text(const char *text, struct shx_config *c, char *err, size_t errlen,
		     char *name, size_t namelen)
{
	char *f = write_file(text);
	int r;

	snprintf(name, namelen, "%s", f);
	setenv("SHMEMX_CONFIG", f, 1);
	err[0] = 0;
	r = shx_config_load(c, err, errlen);
	unlink(f);
	return r;
}

static void clear_env(void)
{
	unsetenv("SHMEMX_SIZE");
	unsetenv("SHMEMX_NR_INODES");
	unsetenv("SHMEMX_IDLE_TIMEOUT");
	unsetenv("SHMEMX_SHMMAX");
	unsetenv("SHMEMX_SHMALL");
	unsetenv("SHMEMX_SHMMNI");
	unsetenv("SHMEMX_CONFIG");
}

/* The running kernel's kernel.NAME, read here independently of config.c. */
static uint64_t sysctl_kernel(const char *name)
{
	char path[64];
	unsigned long long v;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fscanf(f, "%llu", &v);
	fclose(f);
	ck_assert_int_eq(n, 1);
	return v;
}

/* An empty file leaves the defaults: those of a kernel tmpfs. */
START_TEST(load_defaults)
{
	struct shx_config c;
	char err[256], name[64];

	clear_env();
	ck_assert_int_eq(load_text("", &c, err, sizeof(err), name, sizeof(name)), 0);
	ck_assert_uint_eq(c.size_limit, phys() / 2);
	ck_assert_uint_eq(c.nr_inodes, phys() / 2 / 4096);
	ck_assert_uint_eq(c.idle_timeout, 60);
	/* System V limits: the running kernel's */
	ck_assert_uint_eq(c.shmmax, sysctl_kernel("shmmax"));
	ck_assert_uint_eq(c.shmall, sysctl_kernel("shmall"));
	ck_assert_uint_eq(c.shmmni, sysctl_kernel("shmmni"));
}
END_TEST

/* The System V limits from the file and the environment. */
START_TEST(load_sysv_limits)
{
	static const char text[] = "shmmax = 64M\nshmall = 1000\nshmmni = 16\n";
	struct shx_config c;
	char err[256], name[64];

	clear_env();
	ck_assert_int_eq(load_text(text, &c, err, sizeof(err), name, sizeof(name)), 0);
	ck_assert_uint_eq(c.shmmax, 64 * MiB);
	ck_assert_uint_eq(c.shmall, 1000);
	ck_assert_uint_eq(c.shmmni, 16);
	setenv("SHMEMX_SHMMNI", "100", 1);
	setenv("SHMEMX_SHMMAX", "4096", 1);
	ck_assert_int_eq(load_text(text, &c, err, sizeof(err), name, sizeof(name)), 0);
	ck_assert_uint_eq(c.shmmax, 4096);
	ck_assert_uint_eq(c.shmall, 1000);
	ck_assert_uint_eq(c.shmmni, 100);
}
END_TEST

START_TEST(load_file)
{
	static const char text[] = "# shmemx.conf\n"
				   "\n"
				   "   \t \n"
				   "size = 64M\n"
				   "   # an indented comment\n"
				   "  nr_inodes=1000   \n"
				   "\tidle_timeout =\t30\r\n"
				   "# the end";
	struct shx_config c;
	char err[256], name[64];

	clear_env();
	ck_assert_int_eq(load_text(text, &c, err, sizeof(err), name, sizeof(name)), 0);
	ck_assert_uint_eq(c.size_limit, 64 * MiB);
	ck_assert_uint_eq(c.nr_inodes, 1000);
	ck_assert_uint_eq(c.idle_timeout, 30);
	ck_assert_str_eq(err, "");
}
END_TEST

/* A later line wins over an earlier one. */
START_TEST(load_file_last_wins)
{
	struct shx_config c;
	char err[256], name[64];

	clear_env();
	ck_assert_int_eq(load_text("size=1M\nsize=2M\n", &c, err, sizeof(err), name, sizeof(name)),
			 0);
	ck_assert_uint_eq(c.size_limit, 2 * MiB);
}
END_TEST

/* A bad line fails the load and is named, with its line number. */
static const struct {
	const char *text;
	int line;
} bad_files[] = {
	{ "size 64M\n", 1 },			     /* no '=' */
	{ "size = 12Q\n", 1 },			     /* bad value */
	{ "size =\n", 1 },			     /* no value */
	{ "colour = blue\n", 1 },		     /* unknown key */
	{ "# ok\n\nsize=1M\n= 5\n", 4 },	     /* no key */
	{ "nr_inodes = 1000\nidle_timeout = -1\n", 2 }, /* negative */
	{ "size = 64M # comment\n", 1 },	     /* no comments after a value */
};

START_TEST(load_bad_line)
{
	struct shx_config c;
	char err[256], name[64], want[128];

	clear_env();
	ck_assert_int_eq(load_text(bad_files[_i].text, &c, err, sizeof(err), name, sizeof(name)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s:%d: bad setting", name, bad_files[_i].line);
	ck_assert_str_eq(err, want);
}
END_TEST

/* The environment overrides the file, setting by setting. */
START_TEST(env_overrides_file)
{
	static const char text[] = "size = 64M\nnr_inodes = 1000\nidle_timeout = 30\n";
	struct shx_config c;
	char err[256], name[64];

	clear_env();
	setenv("SHMEMX_SIZE", "1G", 1);
	setenv("SHMEMX_IDLE_TIMEOUT", "0", 1);
	ck_assert_int_eq(load_text(text, &c, err, sizeof(err), name, sizeof(name)), 0);
	ck_assert_uint_eq(c.size_limit, GiB);
	ck_assert_uint_eq(c.nr_inodes, 1000); /* from the file */
	ck_assert_uint_eq(c.idle_timeout, 0);
	setenv("SHMEMX_NR_INODES", "5", 1);
	ck_assert_int_eq(load_text(text, &c, err, sizeof(err), name, sizeof(name)), 0);
	ck_assert_uint_eq(c.nr_inodes, 5);
}
END_TEST

static const struct {
	const char *var, *val;
} bad_env[] = {
	{ "SHMEMX_SIZE", "lots" },
	{ "SHMEMX_NR_INODES", "" },
	{ "SHMEMX_IDLE_TIMEOUT", "-5" },
	{ "SHMEMX_SHMMNI", "40000" },
	{ "SHMEMX_SHMMAX", "1X" },
};

START_TEST(env_bad_value)
{
	struct shx_config c;
	char err[256], name[64], want[128];

	clear_env();
	setenv(bad_env[_i].var, bad_env[_i].val, 1);
	ck_assert_int_eq(load_text("size = 64M\n", &c, err, sizeof(err), name, sizeof(name)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s: bad value '%s'", bad_env[_i].var, bad_env[_i].val);
	ck_assert_str_eq(err, want);
}
END_TEST

/* Without $SHMEMX_CONFIG the file is $HOME/.config/shmemx/shmemx.conf. */
START_TEST(load_from_home)
{
	char home[64], d1[96], d2[128], f[160];
	struct shx_config c;
	char err[256];
	FILE *fp;
	int r;

	clear_env();
	strcpy(home, "shx-check-home-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(home));
	snprintf(d1, sizeof(d1), "%s/.config", home);
	snprintf(d2, sizeof(d2), "%s/shmemx", d1);
	snprintf(f, sizeof(f), "%s/shmemx.conf", d2);
	r = mkdir(d1, 0700) || mkdir(d2, 0700) || !(fp = fopen(f, "w"));
	if (!r) {
		fputs("size = 3M\nidle_timeout = 7\n", fp);
		fclose(fp);
		setenv("HOME", home, 1);
		r = shx_config_load(&c, err, sizeof(err));
	}
	unlink(f);
	rmdir(d2);
	rmdir(d1);
	rmdir(home);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(c.size_limit, 3 * MiB);
	ck_assert_uint_eq(c.idle_timeout, 7);
}
END_TEST

/* --- socket path ------------------------------------------------------------ */

static const struct {
	const char *socket, *runtime; /* NULL: unset */
	const char *want;	      /* "%u": the uid */
} socket_cases[] = {
	{ "/tmp/s.sock", "/run/user/7", "/tmp/s.sock" },
	{ "/tmp/s.sock", NULL, "/tmp/s.sock" },
	{ "", "/run/user/7", "/run/user/7/shmemx/sock" }, /* empty is unset */
	{ NULL, "/run/user/7", "/run/user/7/shmemx/sock" },
	{ NULL, "relative/dir", "/var/tmp/shmemx-%u/sock" }, /* must be absolute */
	{ NULL, "", "/var/tmp/shmemx-%u/sock" },
	{ NULL, NULL, "/var/tmp/shmemx-%u/sock" },
};

static void set_or_unset(const char *var, const char *val)
{
	if (val)
		setenv(var, val, 1);
	else
		unsetenv(var);
}

START_TEST(socket_path)
{
	char buf[256], want[256];

	set_or_unset("SHMEMX_SOCKET", socket_cases[_i].socket);
	set_or_unset("XDG_RUNTIME_DIR", socket_cases[_i].runtime);
	snprintf(want, sizeof(want), socket_cases[_i].want, (unsigned)getuid());
	ck_assert_int_eq(shx_socket_path(buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
	/* exactly the length and its NUL fit; one byte less does not */
	ck_assert_int_eq(shx_socket_path(buf, strlen(want) + 1), 0);
	ck_assert_int_eq(shx_socket_path(buf, strlen(want)), -ENAMETOOLONG);
}
END_TEST

static const struct {
	const char *sock;
	size_t cap;
	int err;
	const char *dir;
} dir_cases[] = {
	{ "/run/user/7/shmemx/sock", 64, 0, "/run/user/7/shmemx" },
	{ "/a/b", 64, 0, "/a" },
	{ "rel/sock", 64, 0, "rel" },
	{ "/a/b/sock", 5, 0, "/a/b" },
	{ "/a/b/sock", 4, -EINVAL, NULL }, /* no room */
	{ "sock", 64, -EINVAL, NULL },	   /* no directory part */
	{ "/sock", 64, -EINVAL, NULL },	   /* the root is not a private dir */
};

START_TEST(socket_dir)
{
	char dir[64];

	ck_assert_int_eq(shx_socket_dir(dir_cases[_i].sock, dir, dir_cases[_i].cap),
			 dir_cases[_i].err);
	if (dir_cases[_i].dir)
		ck_assert_str_eq(dir, dir_cases[_i].dir);
}
END_TEST

/* The socket directory: made 0700 when missing, closed to others when
 * open, refused when it is not a directory of ours (a file, a symlink
 * someone planted). */
enum { MISSING, OPEN_DIR, PRIVATE_DIR, PLAIN_FILE, SYMLINK, NO_PARENT, FOREIGN_DIR };

static const struct {
	int kind;
	int err;
} private_cases[] = {
	{ MISSING, 0 }, { OPEN_DIR, 0 }, { PRIVATE_DIR, 0 },
	{ PLAIN_FILE, -EPERM }, { SYMLINK, -EPERM }, { NO_PARENT, -ENOENT },
	{ FOREIGN_DIR, -EPERM }, /* someone else's, even if private */
};

START_TEST(make_private_dir)
{
	char base[64], path[128], target[128];
	struct stat st;
	int r, stat_r = -1, chown_failed = 0;

	strcpy(base, "shx-check-priv-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/%s", base,
		 private_cases[_i].kind == NO_PARENT ? "none/dir" : "dir");
	snprintf(target, sizeof(target), "%s/target", base);
	switch (private_cases[_i].kind) {
	case OPEN_DIR: mkdir(path, 0755); chmod(path, 0755); break;
	case PRIVATE_DIR: mkdir(path, 0700); break;
	case PLAIN_FILE: close(creat(path, 0600)); break;
	case SYMLINK: mkdir(target, 0700); symlink("target", path); break;
	case FOREIGN_DIR:
		/* only root can give a directory away; for anyone else a
		 * directory of another user cannot be made, so it passes */
		if (getuid() != 0) {
			rmdir(base);
			return;
		}
		mkdir(path, 0700);
		chown_failed = chown(path, 4242, 4242) < 0;
		break;
	}
	r = shx_make_private_dir(path);
	if (r == 0)
		stat_r = lstat(path, &st);
	unlink(path);
	rmdir(path);
	rmdir(target);
	rmdir(base);
	ck_assert(!chown_failed);
	ck_assert_int_eq(r, private_cases[_i].err);
	if (r == 0) {
		ck_assert_int_eq(stat_r, 0);
		ck_assert(S_ISDIR(st.st_mode));
		ck_assert_uint_eq(st.st_mode & 07777, 0700);
		ck_assert_uint_eq(st.st_uid, getuid());
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("sizes");
	tcase_add_loop_test(tc, parse_size, 0, N(size_cases));
	tcase_add_test(tc, parse_size_null);
	tcase_add_loop_test(tc, format_size, 0, N(format_cases));
	tcase_add_loop_test(tc, format_parse_round_trip, 0, N(format_cases));
	tcase_add_test(tc, format_size_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("settings");
	tcase_add_test(tc, config_set);
	tcase_add_test(tc, load_defaults);
	tcase_add_test(tc, load_sysv_limits);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, load_file_last_wins);
	tcase_add_loop_test(tc, load_bad_line, 0, N(bad_files));
	tcase_add_test(tc, env_overrides_file);
	tcase_add_loop_test(tc, env_bad_value, 0, N(bad_env));
	tcase_add_test(tc, load_from_home);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_loop_test(tc, socket_path, 0, N(socket_cases));
	tcase_add_loop_test(tc, socket_dir, 0, N(dir_cases));
	tcase_add_loop_test(tc, make_private_dir, 0, N(private_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	/* environment changes stay in each test's own process */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
