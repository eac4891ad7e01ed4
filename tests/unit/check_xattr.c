/* check_xattr.c -- unit tests of core/xattr.c: extended attributes as
 * tmpfs keeps them.
 *
 * The answers were taken from the kernel's tmpfs (6.x): which namespaces
 * exist, who may read and write each, on which file types, XATTR_CREATE
 * and XATTR_REPLACE, sizes and ERANGE, the order of a list (descending by
 * name), trusted.* hidden from others, and the inode space user.*
 * attributes share with inodes (ENOSPC).  Each test runs in a process of
 * its own, on a fresh namespace of memfds.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ns.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char placeholder[64];
static struct ns ns;
static struct ns_inode *root, *file, *dir, *link_, *sticky;

static const struct shx_cred ROOT = { .pid = 100, .uid = 0, .gid = 0 };
static const struct shx_cred USER = { .pid = 101, .uid = 1000, .gid = 1000 };
static const struct shx_cred OTHER = { .pid = 102, .uid = 2000, .gid = 2000 };

static struct ns_inode *lookup(const char *path)
{
	struct ns_inode *ip = NULL;

	ck_assert_int_eq(ns_lookup(&ns, &ROOT, 0, path, 0, &ip), 0);
	return ip;
}

static void start(uint64_t nr_inodes)
{
	struct shx_config cfg = { .size_limit = 1 << 20, .nr_inodes = nr_inodes };
	struct ns_inode *ip;

	ck_assert_int_eq(ns_init(&ns, &cfg, placeholder), 0);
	ck_assert_int_eq(ns_add_mount(&ns, "/dev/shm"), 0);
	root = ns.mounts[0].root;
	root->uid = root->gid = 0;
	ck_assert_int_eq(ns_open(&ns, &USER, 0, "/dev/shm/f", O_CREAT | O_RDWR, 0644, &ip), 1);
	ns_release(&ns, ip);
	ck_assert_int_eq(ns_mkdir(&ns, &USER, 0, "/dev/shm/d", 0755), 0);
	ck_assert_int_eq(ns_mkdir(&ns, &ROOT, 0, "/dev/shm/t", 01777), 0);
	ck_assert_int_eq(ns_symlink(&ns, &ROOT, "f", 0, "/dev/shm/l"), 0);
	file = lookup("/dev/shm/f");
	dir = lookup("/dev/shm/d");
	sticky = lookup("/dev/shm/t");
	link_ = lookup("/dev/shm/l");
}

static void setup(void)
{
	start(1000);
}

static void teardown(void)
{
	ns_destroy(&ns);
}

static int set(const struct shx_cred *cr, struct ns_inode *ip, const char *name, const char *v,
	       int flags)
{
	return ns_setxattr(&ns, cr, ip, name, v, strlen(v), flags);
}

/* Who may set what, where. */
static const struct {
	const char *name;
	const struct shx_cred *cr;
	int on; /* 0 file, 1 dir, 2 symlink, 3 sticky dir */
	int want;
} set_cases[] = {
	{ "user.a", &USER, 0, 0 },
	{ "user.a", &OTHER, 0, -EACCES }, /* write permission on the file */
	{ "user.a", &ROOT, 0, 0 },
	{ "user.a", &USER, 1, 0 },
	{ "user.a", &ROOT, 2, -EPERM }, /* not on symlinks */
	{ "user.a", &OTHER, 3, -EPERM }, /* a sticky directory's owner only */
	{ "user.a", &ROOT, 3, 0 },
	{ "trusted.a", &ROOT, 0, 0 },
	{ "trusted.a", &ROOT, 2, 0 },
	{ "trusted.a", &USER, 0, -EPERM },
	{ "security.a", &ROOT, 0, 0 },
	{ "security.a", &USER, 0, -EPERM }, /* CAP_SYS_ADMIN, commoncap */
	{ "security.a", &ROOT, 2, 0 },
	{ "system.posix_acl_access", &ROOT, 0, -EOPNOTSUPP },
	{ "system.other", &ROOT, 0, -EOPNOTSUPP },
	{ "foo.bar", &ROOT, 0, -EOPNOTSUPP },
	{ "user.", &ROOT, 0, -EINVAL },
	{ "trusted.", &ROOT, 0, -EINVAL },
};

START_TEST(set_table)
{
	struct ns_inode *on[] = { file, dir, link_, sticky };
	char buf[16];
	size_t len = 0;
	int r = set(set_cases[_i].cr, on[set_cases[_i].on], set_cases[_i].name, "value", 0);

	ck_assert_msg(r == set_cases[_i].want, "%s: %d", set_cases[_i].name, r);
	if (r == 0) {
		ck_assert_int_eq(ns_getxattr(&ns, &ROOT, on[set_cases[_i].on], set_cases[_i].name,
					     buf, sizeof(buf), &len),
				 0);
		ck_assert_uint_eq(len, 5);
		ck_assert_mem_eq(buf, "value", 5);
	}
}
END_TEST

START_TEST(get_rules)
{
	char buf[8];
	size_t len = 99;

	ck_assert_int_eq(set(&USER, file, "user.k", "12345", 0), 0);
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "user.k", NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 5); /* a size of 0 measures */
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "user.k", buf, 4, &len), -ERANGE);
	ck_assert_int_eq(ns_getxattr(&ns, &OTHER, file, "user.k", buf, 8, &len), 0); /* 0644 */
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "user.none", buf, 8, &len), -ENODATA);
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "foo.k", buf, 8, &len), -EOPNOTSUPP);
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "user.", buf, 8, &len), -EINVAL);
	ck_assert_int_eq(ns_getxattr(&ns, &ROOT, file, "system.posix_acl_access", buf, 8, &len),
			 -ENODATA);
	ck_assert_int_eq(ns_getxattr(&ns, &USER, link_, "user.k", buf, 8, &len), -ENODATA);
	ck_assert_int_eq(set(&ROOT, file, "trusted.t", "t", 0), 0);
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "trusted.t", buf, 8, &len), -ENODATA);
	file->mode = S_IFREG | 0600; /* no read permission for others */
	ck_assert_int_eq(ns_getxattr(&ns, &OTHER, file, "user.k", buf, 8, &len), -EACCES);
	/* an empty value is a value */
	ck_assert_int_eq(set(&USER, file, "user.empty", "", 0), 0);
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "user.empty", buf, 8, &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(create_replace_remove)
{
	char buf[8];
	size_t len;

	ck_assert_int_eq(set(&USER, file, "user.k", "a", XATTR_REPLACE), -ENODATA);
	ck_assert_int_eq(set(&USER, file, "user.k", "a", XATTR_CREATE), 0);
	ck_assert_int_eq(set(&USER, file, "user.k", "b", XATTR_CREATE), -EEXIST);
	ck_assert_int_eq(set(&USER, file, "user.k", "cc", XATTR_REPLACE), 0);
	ck_assert_int_eq(ns_getxattr(&ns, &USER, file, "user.k", buf, 8, &len), 0);
	ck_assert_mem_eq(buf, "cc", 2);
	ck_assert_int_eq(ns_removexattr(&ns, &OTHER, file, "user.k"), -EACCES);
	ck_assert_int_eq(ns_removexattr(&ns, &USER, file, "user.k"), 0);
	ck_assert_int_eq(ns_removexattr(&ns, &USER, file, "user.k"), -ENODATA);
	ck_assert_int_eq(ns_removexattr(&ns, &USER, file, "foo.k"), -EOPNOTSUPP);
}
END_TEST

/* tmpfs lists in descending name order; trusted.* only for the privileged */
START_TEST(list_order)
{
	static const char *const names[] = { "user.z", "user.a", "trusted.m", "user.m",
					     "security.b", "trusted.a", "security.z", "user.b" };
	char buf[256];
	size_t len;

	for (size_t i = 0; i < N(names); i++)
		ck_assert_int_eq(set(&ROOT, file, names[i], "v", 0), 0);
	ck_assert_int_eq(ns_listxattr(&ns, &ROOT, file, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 70);
	ck_assert_mem_eq(buf, "user.z\0user.m\0user.b\0user.a\0trusted.m\0trusted.a\0"
			      "security.z\0security.b",
			 len);
	ck_assert_int_eq(ns_listxattr(&ns, &USER, file, buf, sizeof(buf), &len), 0);
	ck_assert_mem_eq(buf, "user.z\0user.m\0user.b\0user.a\0security.z\0security.b", len);
	ck_assert_int_eq(ns_listxattr(&ns, &ROOT, file, NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 70);
	ck_assert_int_eq(ns_listxattr(&ns, &ROOT, file, buf, 69, &len), -ERANGE);
	ck_assert_int_eq(ns_listxattr(&ns, &ROOT, dir, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* user.* attributes take inode space: nr_inodes * 1024, of which each
 * inode takes 1024 -- a full inode space is ENOSPC for both. */
START_TEST(inode_space)
{
	static char big[60000];
	struct ns_inode *ip = NULL;
	int n = 0;

	teardown();
	start(8); /* the root and the 4 fixture inodes: 3 inodes' worth left */
	memset(big, 'x', sizeof(big));
	while (ns_setxattr(&ns, &ROOT, file, (char[]){ 'u', 's', 'e', 'r', '.', 'a' + n, 0 }, big,
			   1000, 0) == 0)
		n++;
	ck_assert_int_eq(n, 2); /* ~1050 bytes each */
	ck_assert_int_eq(ns_setxattr(&ns, &ROOT, file, "user.z", big, 1000, 0), -ENOSPC);
	/* trusted.* does not count */
	ck_assert_int_eq(ns_setxattr(&ns, &ROOT, file, "trusted.z", big, sizeof(big), 0), 0);
	/* the space is the inodes' too: one more inode does not fit now... */
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/g", O_CREAT | O_RDWR, 0600, &ip),
			 -ENOSPC);
	/* ...until the attributes go */
	ck_assert_int_eq(ns_removexattr(&ns, &ROOT, file, "user.a"), 0);
	ck_assert_int_eq(ns_removexattr(&ns, &ROOT, file, "user.b"), 0);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/g", O_CREAT | O_RDWR, 0600, &ip), 1);
	ns_release(&ns, ip);
	/* an inode's attributes go with it, and give their space back */
	ck_assert_uint_eq(ns.xattr_space, 0);
	ck_assert_int_eq(ns_setxattr(&ns, &ROOT, ip, "user.q", big, 100, 0), 0);
	ck_assert_uint_gt(ns.xattr_space, 100);
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/g", 0), 0);
	ck_assert_uint_eq(ns.xattr_space, 0);
}
END_TEST

static Suite *xattr_suite(void)
{
	Suite *s = suite_create("xattr");
	TCase *tc = tcase_create("xattr");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, set_table, 0, N(set_cases));
	tcase_add_test(tc, get_rules);
	tcase_add_test(tc, create_replace_remove);
	tcase_add_test(tc, list_order);
	tcase_add_test(tc, inode_space);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	strcpy(placeholder, "shx-check-xattr-XXXXXX");
	if (!mkdtemp(placeholder))
		return EXIT_FAILURE;
	sr = srunner_create(xattr_suite());
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rmdir(placeholder);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
