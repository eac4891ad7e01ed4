/* check_path.c -- unit tests of core/path.c: which paths are managed.
 *
 * shx_path_classify decides, for every path-taking call of a preloaded
 * process, whether the manager or the kernel handles it.  A false
 * "unmanaged" lets a program write to the real /dev/shm behind the
 * manager's back; a false "managed" breaks an unrelated file.  The tables
 * below spell /dev/shm every way the kernel would accept, plus near
 * misses, and then repeat with the mount lists of $SHMEMX_MOUNTS and of
 * the config file.
 *
 * The mount list is static state set once by shx_mounts_init(), so every
 * test runs in its own process (CK_FORK is forced in main) and the ones
 * that need $SHMEMX_MOUNTS set it before calling shx_mounts_init().
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "path.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define UNMANAGED (-1)

struct classify_case {
	const char *path;
	int want;	 /* mount index, UNMANAGED or -errno */
	const char *out; /* what classify writes, for managed paths */
};

/* The default mounts: /dev/shm and /tmp. */
static const struct classify_case default_cases[] = {
	{ "/dev/shm", 0, "/dev/shm" },
	{ "/dev/shm/", 0, "/dev/shm/" },
	{ "/dev/shm/x", 0, "/dev/shm/x" },
	{ "/dev/shm/a/b/c", 0, "/dev/shm/a/b/c" },
	/* near misses: a longer name, a shorter one, another directory */
	{ "/dev/shmx", UNMANAGED, NULL },
	{ "/dev/shmx/y", UNMANAGED, NULL },
	{ "/dev/sh", UNMANAGED, NULL },
	{ "/dev/sh/m", UNMANAGED, NULL },
	{ "/dev", UNMANAGED, NULL },
	{ "/tmp/x", 1, "/tmp/x" },
	{ "/tmp", 1, "/tmp" },
	{ "/tmp/dev/shm/x", 1, "/tmp/dev/shm/x" },
	{ "/tmpx", UNMANAGED, NULL },
	{ "/tm/p", UNMANAGED, NULL },
	{ "/var/tmp/x", UNMANAGED, NULL },
	{ "//tmp/x", 1, "/tmp/x" },
	{ "/usr/../tmp/x", 1, "/tmp/x" },
	{ "/DEV/SHM/x", UNMANAGED, NULL },
	/* other spellings of the mount, squeezed to the canonical prefix */
	{ "/dev//shm/x", 0, "/dev/shm/x" },
	{ "//dev/shm/x", 0, "/dev/shm/x" },
	{ "/dev/./shm/x", 0, "/dev/shm/x" },
	{ "/./dev/shm", 0, "/dev/shm" },
	{ "/./dev/shm/x", 0, "/dev/shm/x" },
	{ "/.//dev/./shm/x", 0, "/dev/shm/x" },
	{ "/dev//shm", 0, "/dev/shm" },
	{ "/dev/shm/.", 0, "/dev/shm/." },
	{ "/usr/../dev/shm/x", 0, "/dev/shm/x" },
	{ "/../dev/shm/x", 0, "/dev/shm/x" },	      /* "/.." is "/" */
	{ "/dev/shmem/../shm/a", 0, "/dev/shm/a" }, /* ".." of a name sharing the prefix */
	{ "/a/b/../../dev/shm/y", 0, "/dev/shm/y" },
	/* below the mount root the rest is the manager's to walk, as it is */
	{ "/dev/shm/../x", 0, "/dev/shm/../x" },
	{ "/dev/shm/..", 0, "/dev/shm/.." },
	{ "/dev/shm/./x", 0, "/dev/shm/./x" },
	{ "/dev/shm//x", 0, "/dev/shm//x" },
	{ "/dev//shm//x/../y", 0, "/dev/shm//x/../y" },
	/* ways of not reaching it */
	{ "/dev/../shm/x", UNMANAGED, NULL },
	{ "/dev/./shmx", UNMANAGED, NULL },
	{ "/dev/shm/../../dev/shmx", 0, "/dev/shm/../../dev/shmx" }, /* lexically managed */
	{ "/.hidden/../dev/shm", 0, "/dev/shm" },
	/* relative, empty, the root */
	{ "dev/shm/x", UNMANAGED, NULL },
	{ "./dev/shm", UNMANAGED, NULL },
	{ "shm/x", UNMANAGED, NULL },
	{ "", UNMANAGED, NULL },
	{ NULL, UNMANAGED, NULL },
	{ "/", UNMANAGED, NULL },
	{ "//", UNMANAGED, NULL },
	{ "/.", UNMANAGED, NULL },
	{ "/..", UNMANAGED, NULL },
};

static void check_case(const struct classify_case *c)
{
	char out[PATH_MAX];
	int r;

	memset(out, '#', sizeof(out));
	r = shx_path_classify(c->path, out, sizeof(out));
	ck_assert_msg(r == c->want, "%s: got %d, want %d", c->path ? c->path : "(null)", r,
		      c->want);
	if (c->out)
		ck_assert_str_eq(out, c->out);
}

START_TEST(classify_default)
{
	unsetenv("SHMEMX_MOUNTS");
	shx_mounts_init();
	check_case(&default_cases[_i]);
}
END_TEST

/* Without shx_mounts_init(), the default mounts are managed all the
 * same: a path can be classified before the library's constructor has
 * run.  Nothing is announced to a manager then (shmemctl). */
START_TEST(classify_before_init)
{
	const struct shx_mount *m;
	char list[64] = "x";

	ck_assert_int_eq(shx_mounts(&m), 2);
	ck_assert_str_eq(m[0].prefix, "/dev/shm");
	ck_assert_uint_eq(m[0].len, 8);
	ck_assert_str_eq(m[1].prefix, "/tmp");
	ck_assert_uint_eq(m[1].len, 4);
	check_case(&(struct classify_case){ "/dev/shm/x", 0, "/dev/shm/x" });
	check_case(&(struct classify_case){ "/dev//shm/x", 0, "/dev/shm/x" });
	check_case(&(struct classify_case){ "/tmp/x", 1, "/tmp/x" });
	ck_assert_uint_eq(shx_mounts_list(list, sizeof(list)), 0);
	ck_assert_str_eq(list, "");
}
END_TEST

/* Length limits: the output holds cap bytes with the NUL.  `len` is the
 * length of the whole input, made of `head` and filler. */
static const struct {
	const char *head;
	size_t len, cap;
	int want;
} long_cases[] = {
	{ "/dev/shm/", PATH_MAX - 1, PATH_MAX, 0 },
	{ "/dev/shm/", PATH_MAX, PATH_MAX, -ENAMETOOLONG },
	{ "/dev/shm/", PATH_MAX + 100, PATH_MAX, -ENAMETOOLONG },
	/* squeezed: the input is one byte longer than its clean form */
	{ "/dev//shm/", PATH_MAX, PATH_MAX, 0 },
	{ "/dev//shm/", PATH_MAX + 1, PATH_MAX, -ENAMETOOLONG },
	{ "/dev//shm/", PATH_MAX + 100, PATH_MAX, -ENAMETOOLONG },
	/* a small caller buffer */
	{ "/dev/shm/", 10, 11, 0 },
	{ "/dev/shm/", 10, 10, -ENAMETOOLONG },
	{ "/dev//shm/", 11, 11, 0 },
	{ "/dev//shm/", 12, 11, -ENAMETOOLONG },
	/* a long path elsewhere is the kernel's business, not an error here */
	{ "/usr/", PATH_MAX + 100, PATH_MAX, UNMANAGED },
	/* ...unless cleaning it up (it may lead into /dev/shm) would
	 * overflow the caller's buffer */
	{ "/dev/./", 12, 10, -ENAMETOOLONG }, /* "/dev/aaaaa" and its NUL: 11 */
	{ "/dev/./", 12, 11, UNMANAGED },
	{ "/dev//", 15, 8, -ENAMETOOLONG }, /* "/dev/aaaaaaaaa" and its NUL: 15 */
};

START_TEST(classify_long)
{
	static char path[PATH_MAX + 200], out[PATH_MAX + 200];
	size_t hl = strlen(long_cases[_i].head), len = long_cases[_i].len;
	size_t cap = long_cases[_i].cap;
	int r;

	ck_assert_uint_lt(len, sizeof(path));
	memcpy(path, long_cases[_i].head, hl);
	memset(path + hl, 'a', len - hl);
	path[len] = 0;
	/* nothing may be written past cap, whatever the result */
	memset(out, '#', sizeof(out));
	r = shx_path_classify(path, out, cap);
	ck_assert_int_eq(r, long_cases[_i].want);
	for (size_t i = cap; i < cap + 64; i++)
		ck_assert_msg(out[i] == '#', "byte %zu written (cap %zu)", i, cap);
	if (r == 0) {
		/* the filler arrives whole, after the clean prefix */
		ck_assert_uint_lt(strlen(out), long_cases[_i].cap);
		ck_assert_int_eq(strncmp(out, "/dev/shm/", 9), 0);
		ck_assert_uint_eq(strspn(out + 9, "a"), len - hl);
		ck_assert_int_eq(out[9 + len - hl], 0);
	}
}
END_TEST

/* $SHMEMX_MOUNTS is the list of mounts: /dev/shm first whatever it says,
 * then its entries in order, up to SHX_MNT_MAX in all; trailing slashes
 * go; relative entries, "/", unclean ones, duplicates and entries inside
 * (or around) another mount are left out. */
static const struct {
	const char *env;
	int n;
	const char *prefix[SHX_MNT_MAX];
	struct classify_case paths[8];
} mount_cases[] = {
	{ "/scratch:/var/x", 3, { "/dev/shm", "/scratch", "/var/x" },
	  { { "/scratch/a", 1, "/scratch/a" },
	    { "/scratch", 1, "/scratch" },
	    { "/var/x/b", 2, "/var/x/b" },
	    { "/var//x/c", 2, "/var/x/c" },
	    { "/var/xy", UNMANAGED, NULL },
	    { "/scratchy/a", UNMANAGED, NULL },
	    { "/tmp/a", UNMANAGED, NULL }, /* not in the list: not managed */
	    { "/scratch/../var/x/d", 1, "/scratch/../var/x/d" } } },
	{ "/scratch/:relative::/dev/shm:/:/dev/shm/", 2, { "/dev/shm", "/scratch" },
	  { { "/scratch/a", 1, "/scratch/a" },
	    { "/relative/a", UNMANAGED, NULL },
	    { "/x", UNMANAGED, NULL },
	    { "/dev/shm/a", 0, "/dev/shm/a" } } },
	{ "/a:/b:/c:/d:/e:/f:/g:/h:/i", SHX_MNT_MAX,
	  { "/dev/shm", "/a", "/b", "/c", "/d", "/e", "/f", "/g" },
	  { { "/c/x", 3, "/c/x" },
	    { "/g/x", 7, "/g/x" },
	    { "/h/x", UNMANAGED, NULL },
	    { "/i/x", UNMANAGED, NULL } } },
	{ "", 1, { "/dev/shm" }, { { "/dev/shm/a", 0, "/dev/shm/a" }, { "/tmp/a", UNMANAGED, NULL } } },
	{ "/dev/shm", 1, { "/dev/shm" }, { { "/tmp/a", UNMANAGED, NULL } } },
	{ "/tmp:/dev/shm", 2, { "/dev/shm", "/tmp" }, { { "/tmp/a", 1, "/tmp/a" } } },
	{ "/mnt/ram///", 2, { "/dev/shm", "/mnt/ram" },
	  { { "/mnt/ram", 1, "/mnt/ram" },
	    { "/mnt/./ram/f", 1, "/mnt/ram/f" },
	    { "/mnt/ramdisk", UNMANAGED, NULL } } },
	/* one mount inside another, either way round, and around /dev/shm */
	{ "/tmp:/tmp/a:/var:/var/tmp:/dev:/dev/shm/x", 3, { "/dev/shm", "/tmp", "/var" },
	  { { "/tmp/a/b", 1, "/tmp/a/b" }, { "/var/tmp/b", 2, "/var/tmp/b" } } },
	{ "/x/y:/x", 2, { "/dev/shm", "/x/y" }, { { "/x/z", UNMANAGED, NULL } } },
	/* not clean: the client compares prefixes byte by byte */
	{ "/a//b:/a/./b:/a/../b:/a/.:/a/..:/./a:/c", 2, { "/dev/shm", "/c" },
	  { { "/a/b/x", UNMANAGED, NULL } } },
};

START_TEST(classify_with_mounts)
{
	const struct shx_mount *m;
	int n;

	ck_assert_int_eq(setenv("SHMEMX_MOUNTS", mount_cases[_i].env, 1), 0);
	shx_mounts_init();
	n = shx_mounts(&m);
	ck_assert_int_eq(n, mount_cases[_i].n);
	for (int k = 0; k < n; k++) {
		ck_assert_str_eq(m[k].prefix, mount_cases[_i].prefix[k]);
		ck_assert_uint_eq(m[k].len, strlen(mount_cases[_i].prefix[k]));
	}
	for (size_t k = 0; k < N(mount_cases[_i].paths) && mount_cases[_i].paths[k].path; k++)
		check_case(&mount_cases[_i].paths[k]);
}
END_TEST

/* A prefix too long for the table is left out; the others stay. */
START_TEST(mounts_env_too_long)
{
	static char env[2048];
	const struct shx_mount *m;

	memset(env, 'a', sizeof(env) - 1);
	env[0] = '/';
	memcpy(env + 1000, ":/tmp:", 6);
	ck_assert_int_eq(setenv("SHMEMX_MOUNTS", env, 1), 0);
	shx_mounts_init();
	ck_assert_int_eq(shx_mounts(&m), 2);
	ck_assert_str_eq(m[1].prefix, "/tmp");
}
END_TEST

/* What shx_mount_add says about each kind of prefix. */
START_TEST(mount_add_results)
{
	char list[128];

	shx_mounts_set("/tmp");
	ck_assert_int_eq(shx_mount_add("/tmp"), 1);
	ck_assert_int_eq(shx_mount_add("/tmp//"), 1);
	ck_assert_int_eq(shx_mount_add("/dev/shm"), 1);
	ck_assert_int_eq(shx_mount_add("/tmp/x"), -EBUSY);
	ck_assert_int_eq(shx_mount_add("/dev"), -EBUSY);
	ck_assert_int_eq(shx_mount_add("/"), -EINVAL);
	ck_assert_int_eq(shx_mount_add(""), -EINVAL);
	ck_assert_int_eq(shx_mount_add("rel"), -EINVAL);
	ck_assert_int_eq(shx_mount_add("/a/../b"), -EINVAL);
	ck_assert_int_eq(shx_mount_add("/scratch/"), 0);
	ck_assert_uint_eq(shx_mounts_list(list, sizeof(list)), strlen("/dev/shm:/tmp:/scratch"));
	ck_assert_str_eq(list, "/dev/shm:/tmp:/scratch");
	check_case(&(struct classify_case){ "/scratch/f", 2, "/scratch/f" });
	/* a list that does not fit is not half-written */
	ck_assert_uint_eq(shx_mounts_list(list, 10), 0);
	for (int i = 3; i < SHX_MNT_MAX; i++)
		ck_assert_int_eq(shx_mount_add((char[]){ '/', (char)('a' + i), 0 }), 0);
	ck_assert_int_eq(shx_mount_add("/full"), -ENOSPC);
}
END_TEST

/* Without $SHMEMX_MOUNTS the config file's "mounts =" is the list; with
 * it, the environment wins. */
static void write_config(const char *text, char *name, size_t cap)
{
	FILE *f;

	snprintf(name, cap, "/dev/shm/check_path.%d.conf", (int)getpid());
	f = fopen(name, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	setenv("SHMEMX_CONFIG", name, 1);
}

START_TEST(mounts_from_config)
{
	const struct shx_mount *m;
	char name[128];

	unsetenv("SHMEMX_MOUNTS");
	write_config("size = 1G\n mounts = /tmp:/scratch \n", name, sizeof(name));
	shx_mounts_init();
	ck_assert_int_eq(shx_mounts(&m), 3);
	ck_assert_str_eq(m[2].prefix, "/scratch");
	setenv("SHMEMX_MOUNTS", "/var/tmp", 1);
	shx_mounts_init();
	ck_assert_int_eq(shx_mounts(&m), 2);
	ck_assert_str_eq(m[1].prefix, "/var/tmp");
	/* a config file without the key: the default list */
	unsetenv("SHMEMX_MOUNTS");
	write_config("size = 1G\n", name, sizeof(name));
	shx_mounts_init();
	ck_assert_int_eq(shx_mounts(&m), 2);
	ck_assert_str_eq(m[1].prefix, "/tmp");
	unlink(name);
}
END_TEST

static Suite *path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc;

	tc = tcase_create("classify");
	tcase_add_loop_test(tc, classify_default, 0, N(default_cases));
	tcase_add_test(tc, classify_before_init);
	tcase_add_loop_test(tc, classify_long, 0, N(long_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("mounts");
	tcase_add_loop_test(tc, classify_with_mounts, 0, N(mount_cases));
	tcase_add_test(tc, mounts_env_too_long);
	tcase_add_test(tc, mount_add_results);
	tcase_add_test(tc, mounts_from_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(path_suite());
	int failed;

	/* a fresh process, hence fresh mount state, for every test; no
	 * config file of the machine's */
	srunner_set_fork_status(sr, CK_FORK);
	setenv("SHMEMX_CONFIG", "/dev/null", 1);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
