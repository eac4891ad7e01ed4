/* check_quota.c -- unit tests of core/quota.c and of the quota groups as
 * the namespace charges them (core/ns.c).
 *
 * Covered: groups made on first use with the default limits and the
 * limits the settings name; room and charges across several groups, with
 * the errno of the tightest (EDQUOT for a user, ENOSPC for an app); in the
 * namespace, byte and inode limits of users and apps (all or nothing for
 * ftruncate's reservation, partial grants for writes, never past any
 * group's limit), refunds on truncate, unlink and the last close, the
 * floor of what holders were granted, ns_statfs's tightest group, System
 * V segments charged like files, and private roots of a mount (an app's
 * own /tmp) and their removal.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ns.h"
#include "quota.h"

#define KiB  1024ULL
#define MiB  (1024 * KiB)
#define PAGE 4096ULL

static char placeholder[64];
static struct ns ns;
static int ns_up;

static const struct shx_cred ALICE = { .pid = 101, .uid = 1000, .gid = 1000 };

/* --- quota.c alone --------------------------------------------------------- */

static struct shx_config config(void)
{
	struct shx_config cfg = { .size_limit = 64 * MiB, .nr_inodes = 1000 };

	return cfg;
}

START_TEST(groups_made_with_defaults)
{
	struct shx_config cfg = config();
	struct quota qt;
	struct quota_group *u, *a, *b;

	cfg.user_size = 10 * MiB;
	cfg.app_size = 5 * MiB + 1; /* whole pages, as tmpfs's size= */
	cfg.app_nr_inodes = 7;
	quota_init(&qt, &cfg);
	u = quota_user(&qt, 1000);
	a = quota_app(&qt, 1000, "build");
	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(quota_user(&qt, 1000), u);
	ck_assert_ptr_eq(quota_app(&qt, 1000, "build"), a);
	ck_assert_uint_eq(u->size_limit, 10 * MiB);
	ck_assert_uint_eq(u->inodes_limit, QUOTA_UNLIMITED);
	ck_assert_uint_eq(a->size_limit, 5 * MiB + PAGE);
	ck_assert_uint_eq(a->inodes_limit, 7);
	/* one app name, two users: two apps */
	b = quota_app(&qt, 2000, "build");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(quota_find(&qt, QUOTA_APP, 2000, "build"), b);
	ck_assert_ptr_null(quota_find(&qt, QUOTA_APP, 1000, "test"));
	/* names a listing or a label could not carry are refused */
	ck_assert_ptr_null(quota_app(&qt, 1000, ""));
	ck_assert_ptr_null(quota_app(&qt, 1000, "a b"));
	ck_assert_ptr_null(quota_app(&qt, 1000, "x\"y"));
	/* users are listed before apps */
	ck_assert_int_eq(qt.groups->kind, QUOTA_USER);
	quota_destroy(&qt);
}
END_TEST

START_TEST(named_limits_from_settings)
{
	struct shx_config cfg = config();
	struct quota qt;
	struct quota_group *a, *u, *other;

	cfg.app_size = 5 * MiB;
	ck_assert_int_eq(shx_config_set(&cfg, "app.build.size", "1.5G"), 0);
	ck_assert_int_eq(shx_config_set(&cfg, "app.build.nr_inodes", "100"), 0);
	ck_assert_int_eq(shx_config_set(&cfg, "user.1000.size", "512M"), 0);
	ck_assert_int_eq(shx_config_set(&cfg, "app.build.colour", "1"), -ENOENT);
	ck_assert_int_eq(shx_config_set(&cfg, "app.a b.size", "1"), -EINVAL);
	ck_assert_int_eq(shx_config_set(&cfg, "user.alice.size", "1"), -EINVAL);
	ck_assert_int_eq(shx_config_set(&cfg, "app.build.size", "lots"), -EINVAL);
	ck_assert_int_eq(cfg.nlimits, 2);
	quota_init(&qt, &cfg);
	a = quota_app(&qt, 1000, "build");
	u = quota_user(&qt, 1000);
	other = quota_app(&qt, 1000, "test");
	ck_assert_uint_eq(a->size_limit, 1536 * MiB);
	ck_assert_uint_eq(a->inodes_limit, 100);
	ck_assert_uint_eq(u->size_limit, 512 * MiB);
	ck_assert_uint_eq(other->size_limit, 5 * MiB);
	/* an app named in the settings is limited whoever runs it */
	ck_assert_uint_eq(quota_app(&qt, 2000, "build")->size_limit, 1536 * MiB);
	ck_assert_uint_eq(quota_user(&qt, 2000)->size_limit, QUOTA_UNLIMITED);
	quota_destroy(&qt);
}
END_TEST

START_TEST(room_is_the_tightest)
{
	struct shx_config cfg = config();
	struct quota qt;
	struct quota_group *g[3];
	int err = 0;

	quota_init(&qt, &cfg);
	g[0] = quota_user(&qt, 1000);
	g[1] = quota_app(&qt, 1000, "build");
	g[2] = NULL;
	quota_set_limits(g[0], 10 * PAGE, 5);
	quota_set_limits(g[1], 20 * PAGE, 3);
	ck_assert_uint_eq(quota_room_bytes(g, 3, 4 * PAGE, &err), 4 * PAGE);
	ck_assert_int_eq(err, 0);
	quota_charge_bytes(g, 3, 8 * PAGE);
	ck_assert_uint_eq(g[0]->size_used, 8 * PAGE);
	ck_assert_uint_eq(g[1]->size_used, 8 * PAGE);
	/* the user has 2 pages left, the app 12: the user's EDQUOT */
	ck_assert_uint_eq(quota_room_bytes(g, 3, 4 * PAGE, &err), 2 * PAGE);
	ck_assert_int_eq(err, -EDQUOT);
	/* inodes: the app is the tighter, ENOSPC */
	err = 0;
	quota_charge_inode(g, 3, 1, 1);
	quota_charge_inode(g, 3, 1, 0);
	ck_assert_uint_eq(g[1]->objects, 1);
	ck_assert_uint_eq(quota_room_inodes(g, 3, 2, &err), 1);
	ck_assert_int_eq(err, -ENOSPC);
	/* refunds */
	quota_charge_bytes(g, 3, -(int64_t)(8 * PAGE));
	quota_charge_inode(g, 3, -1, 1);
	ck_assert_uint_eq(g[0]->size_used, 0);
	ck_assert_uint_eq(g[1]->inodes_used, 1);
	ck_assert_uint_eq(g[1]->objects, 0);
	/* a limit set below use leaves no room, and no underflow */
	quota_charge_bytes(g, 3, 8 * PAGE);
	quota_set_limits(g[0], 4 * PAGE, QUOTA_UNLIMITED);
	ck_assert_uint_eq(quota_room_bytes(g, 3, PAGE, &err), 0);
	quota_destroy(&qt);
}
END_TEST

/* --- in the namespace ------------------------------------------------------- */

static void start(struct shx_config *cfg)
{
	ck_assert_int_eq(ns_init(&ns, cfg, placeholder), 0);
	ns_up = 1;
	ck_assert_int_eq(ns_add_mount(&ns, "/dev/shm"), 0);
	ck_assert_int_eq(ns_add_mount(&ns, "/tmp"), 0);
}

static void stop(void)
{
	if (ns_up)
		ns_destroy(&ns);
	ns_up = 0;
}

/* ALICE, running under app `name` */
static struct shx_cred as_app(const char *name)
{
	struct shx_cred cr = ALICE;

	cr.app = quota_app(&ns.quota, cr.uid, name);
	ck_assert_ptr_nonnull(cr.app);
	return cr;
}

static struct ns_inode *create(const struct shx_cred *cr, const char *path, int expect)
{
	struct ns_inode *ip = NULL;
	int r = ns_open(&ns, cr, 0, path, O_CREAT | O_EXCL | O_RDWR, 0600, &ip);

	ck_assert_msg(r == expect, "creating %s: %d, not %d", path, r, expect);
	return r == 1 ? ip : NULL;
}

START_TEST(app_bytes_enospc)
{
	struct shx_config cfg = config();
	struct shx_cred cr;
	struct quota_group *app;
	struct ns_inode *a, *b;
	uint64_t granted;

	start(&cfg);
	cr = as_app("build");
	app = cr.app;
	quota_set_limits(app, 1 * MiB, QUOTA_UNLIMITED);
	a = create(&cr, "/dev/shm/a", 1);
	b = create(&cr, "/dev/shm/b", 1);
	ck_assert_ptr_eq(a->qapp, app);
	ck_assert_int_eq(ns_reserve(&ns, a, 768 * KiB, 0, &granted), 0);
	/* all or nothing: more than is left of the app's limit */
	ck_assert_int_eq(ns_reserve(&ns, b, 512 * KiB, 0, &granted), -ENOSPC);
	ck_assert_uint_eq(b->charged, 0);
	/* a write gets what is left */
	ck_assert_int_eq(ns_reserve(&ns, b, 512 * KiB, 1, &granted), 0);
	ck_assert_uint_eq(granted, 256 * KiB);
	ck_assert_int_eq(ns.short_errno, -ENOSPC);
	ck_assert_uint_eq(app->size_used, 1 * MiB);
	ck_assert_uint_eq(quota_user(&ns.quota, ALICE.uid)->size_used, 1 * MiB);
	ck_assert_uint_eq(ns.size_used, 1 * MiB);
	/* unlinking b with nobody holding it refunds every group */
	ns_release(&ns, b);
	ck_assert_int_eq(ns_unlink(&ns, &cr, 0, "/dev/shm/b", 0), 0);
	ck_assert_uint_eq(app->size_used, 768 * KiB);
	ck_assert_uint_eq(ns.size_used, 768 * KiB);
	ck_assert_uint_eq(app->objects, 1);
	ns_release(&ns, a);
	stop();
}
END_TEST

START_TEST(user_bytes_edquot)
{
	struct shx_config cfg = config();
	struct shx_cred cr;
	struct ns_inode *a;
	uint64_t granted;

	cfg.user_size = 100 * KiB;
	start(&cfg);
	cr = as_app("build");
	a = create(&cr, "/dev/shm/a", 1);
	ck_assert_int_eq(ns_reserve(&ns, a, 200 * KiB, 0, &granted), -EDQUOT);
	ck_assert_int_eq(ns_reserve(&ns, a, 200 * KiB, 1, &granted), 0);
	ck_assert_uint_eq(granted, 100 * KiB);
	ck_assert_int_eq(ns.short_errno, -EDQUOT);
	/* the manager's own limit stays ENOSPC */
	ns_release(&ns, a);
	stop();
	cfg = config();
	cfg.size_limit = 64 * KiB;
	start(&cfg);
	a = create(&ALICE, "/dev/shm/a", 1);
	ck_assert_int_eq(ns_reserve(&ns, a, 200 * KiB, 0, &granted), -ENOSPC);
	ns_release(&ns, a);
	stop();
}
END_TEST

START_TEST(inode_limits)
{
	struct shx_config cfg = config();
	struct shx_cred cr;

	cfg.app_nr_inodes = 2;
	start(&cfg);
	cr = as_app("build");
	ns_release(&ns, create(&cr, "/dev/shm/a", 1));
	ck_assert_int_eq(ns_mkdir(&ns, &cr, 0, "/dev/shm/d", 0700), 0);
	/* a third inode of the app: its own tmpfs would be full */
	create(&cr, "/dev/shm/c", -ENOSPC);
	ck_assert_int_eq(ns_mkdir(&ns, &cr, 0, "/dev/shm/e", 0700), -ENOSPC);
	/* another app of the same user is not limited by it */
	cr = as_app("other");
	ns_release(&ns, create(&cr, "/dev/shm/c", 1));
	ck_assert_uint_eq(quota_user(&ns.quota, ALICE.uid)->inodes_used, 3);
	/* a user's inode quota is EDQUOT */
	quota_set_limits(quota_user(&ns.quota, ALICE.uid), QUOTA_UNLIMITED, 3);
	create(&cr, "/dev/shm/f", -EDQUOT);
	ck_assert_int_eq(ns_unlink(&ns, &cr, 0, "/dev/shm/c", 0), 0);
	ns_release(&ns, create(&cr, "/dev/shm/f", 1));
	stop();
}
END_TEST

START_TEST(recount_keeps_the_floor)
{
	struct shx_config cfg = config();
	struct shx_cred cr;
	struct ns_inode *a;
	uint64_t granted;

	start(&cfg);
	cr = as_app("build");
	a = create(&cr, "/dev/shm/a", 1);
	ck_assert_int_eq(ns_reserve(&ns, a, 1 * MiB, 0, &granted), 0);
	ck_assert_int_eq(ftruncate(a->memfd, 10), 0);
	/* another holder may still write what it was granted */
	a->floor = 512 * KiB;
	ns_sync(&ns, a);
	ck_assert_uint_eq(a->charged, 512 * KiB);
	ck_assert_uint_eq(cr.app->size_used, 512 * KiB);
	/* nobody holds a grant: down to what it holds */
	a->floor = 0;
	ns_sync(&ns, a);
	ck_assert_uint_eq(a->charged, PAGE);
	ck_assert_uint_eq(cr.app->size_used, PAGE);
	ck_assert_uint_eq(ns.size_used, PAGE);
	ns_release(&ns, a);
	stop();
}
END_TEST

START_TEST(statfs_shows_the_tightest)
{
	struct shx_config cfg = config();
	struct shx_stats st = { 0 };
	struct shx_cred cr;
	struct ns_inode *a;
	uint64_t granted;

	start(&cfg);
	cr = as_app("build");
	quota_set_limits(cr.app, 1 * MiB, 10);
	a = create(&cr, "/dev/shm/a", 1);
	ck_assert_int_eq(ns_reserve(&ns, a, 100 * KiB, 0, &granted), 0);
	ns_statfs(&ns, &cr, &st);
	ck_assert_uint_eq(st.size_limit, 1 * MiB);
	ck_assert_uint_eq(st.size_used, 100 * KiB);
	ck_assert_uint_eq(st.inodes_limit, 10);
	ck_assert_uint_eq(st.inodes_used, 1);
	/* without the app: the manager's */
	ns_statfs(&ns, &ALICE, &st);
	ck_assert_uint_eq(st.size_limit, 64 * MiB);
	ck_assert_uint_eq(st.inodes_limit, 1000);
	/* the user's inodes are tighter than the app's bytes: each figure
	 * from its own tightest group */
	quota_set_limits(quota_user(&ns.quota, ALICE.uid), QUOTA_UNLIMITED, 2);
	ns_statfs(&ns, &cr, &st);
	ck_assert_uint_eq(st.size_limit, 1 * MiB);
	ck_assert_uint_eq(st.inodes_limit, 2);
	ns_release(&ns, a);
	stop();
}
END_TEST

START_TEST(segments_charged_like_files)
{
	struct shx_config cfg = config();
	struct shx_cred cr;
	struct ns_inode *seg;
	uint64_t granted;

	start(&cfg);
	cr = as_app("db");
	ck_assert_int_eq(ns_create_anon(&ns, &cr, 0600, &seg), 0);
	ck_assert_int_eq(ns_reserve(&ns, seg, 3 * PAGE, 0, &granted), 0);
	ck_assert_uint_eq(cr.app->size_used, 3 * PAGE);
	ck_assert_uint_eq(cr.app->objects, 1);
	/* IPC_RMID of an unattached segment: its last holder goes */
	ns_release(&ns, seg);
	ck_assert_uint_eq(cr.app->size_used, 0);
	ck_assert_uint_eq(cr.app->objects, 0);
	ck_assert_uint_eq(cr.app->inodes_used, 0);
	stop();
}
END_TEST

START_TEST(private_roots)
{
	struct shx_config cfg = config();
	struct shx_cred a, b;
	struct ns_inode *ra, *rb, *ip, *held;
	char path[64];
	uint64_t inodes;

	start(&cfg);
	inodes = ns.inodes_used;
	a = as_app("one");
	b = as_app("two");
	ck_assert_int_eq(ns_private_root(&ns, "/tmp", &ra), 0);
	ck_assert_int_eq(ns_private_root(&ns, "/nowhere", &rb), -ENOENT);
	ck_assert_int_eq(ns_private_root(&ns, "/tmp", &rb), 0);
	a.app->private_tmp = ra;
	b.app->private_tmp = rb;
	ns_release(&ns, create(&a, "/tmp/secret", 1));
	/* b and everyone else see their own /tmp */
	ck_assert_int_eq(ns_lookup(&ns, &b, 0, "/tmp/secret", 1, &ip), -ENOENT);
	ck_assert_int_eq(ns_lookup(&ns, &ALICE, 0, "/tmp/secret", 1, &ip), -ENOENT);
	ck_assert_int_eq(ns_lookup(&ns, &a, 0, "/tmp/secret", 1, &ip), 0);
	ck_assert_uint_eq(ns_path(&ns, ip, path, sizeof(path)), strlen("/tmp/secret"));
	ck_assert_str_eq(path, "/tmp/secret");
	ns_release(&ns, create(&b, "/tmp/secret", 1));
	/* .. of the private root leaves the mount, as from /tmp */
	ck_assert_int_eq(ns_lookup(&ns, &a, 0, "/tmp/..", 1, &ip), -SHX_EESCAPE);
	/* /dev/shm is shared */
	ns_release(&ns, create(&a, "/dev/shm/shared", 1));
	ck_assert_int_eq(ns_lookup(&ns, &b, 0, "/dev/shm/shared", 1, &ip), 0);
	/* removal: a tree with a file still open in it */
	ck_assert_int_eq(ns_mkdir(&ns, &a, 0, "/tmp/d", 0700), 0);
	ck_assert_int_eq(ns_mkdir(&ns, &a, 0, "/tmp/d/e", 0700), 0);
	held = create(&a, "/tmp/d/e/open", 1);
	ns_private_root_remove(&ns, ra);
	a.app->private_tmp = NULL;
	ck_assert_int_eq(held->nlink, 0);
	ns_release(&ns, held);
	ns_private_root_remove(&ns, rb);
	ck_assert_int_eq(ns_unlink(&ns, &a, 0, "/dev/shm/shared", 0), 0);
	ck_assert_uint_eq(ns.inodes_used, inodes);
	ck_assert_uint_eq(ns.size_used, 0);
	stop();
}
END_TEST

static Suite *quota_suite(void)
{
	Suite *s = suite_create("quota");
	TCase *tc = tcase_create("groups");

	tcase_add_test(tc, groups_made_with_defaults);
	tcase_add_test(tc, named_limits_from_settings);
	tcase_add_test(tc, room_is_the_tightest);
	suite_add_tcase(s, tc);
	tc = tcase_create("ns");
	tcase_add_test(tc, app_bytes_enospc);
	tcase_add_test(tc, user_bytes_edquot);
	tcase_add_test(tc, inode_limits);
	tcase_add_test(tc, recount_keeps_the_floor);
	tcase_add_test(tc, statfs_shows_the_tightest);
	tcase_add_test(tc, segments_charged_like_files);
	tcase_add_test(tc, private_roots);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	strcpy(placeholder, "shx-check-quota-XXXXXX");
	if (!mkdtemp(placeholder))
		return EXIT_FAILURE;
	sr = srunner_create(quota_suite());
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rmdir(placeholder);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
