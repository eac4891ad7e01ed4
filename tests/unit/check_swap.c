/* check_swap.c -- unit tests of core/swap.c, the swap files and slots.
 *
 * Covered: the directory (made 0700, refused when others may enter it,
 * when it is not a directory, or not ours to use), files made 0600 on
 * first use and removed at the end, contiguous runs that never cross
 * into the next file, pages written and read back, the limit (ENOSPC,
 * lowering it below slots in use is EBUSY), slots reused lowest first
 * after a free, the disk space of freed slots punched out, and moving
 * the directory only while it is empty.  Each test works in a directory
 * of its own under the build tree; CK_FORK is forced.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pgstate.h"
#include "swap.h"

static char base[4096], dir[4200];
static struct swap sw;

static void setup(void)
{
	const char *top = getenv("top_builddir");

	snprintf(base, sizeof(base), "%s/tests/sandbox", top ? top : ".");
	mkdir(base, 0755);
	strcat(base, "/check_swap.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/swap", base);
}

static void teardown(void)
{
	char cmd[8400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	ck_assert_int_eq(system(cmd), 0);
}

static void fill(uint8_t *buf, uint32_t pages, int seed)
{
	for (size_t i = 0; i < (size_t)pages * SWAP_PAGE; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

START_TEST(dir_made_private)
{
	struct stat st;

	ck_assert_int_eq(swap_init(&sw, dir, 1 << 20), 0);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	swap_fini(&sw);
}
END_TEST

START_TEST(dir_refused)
{
	char file[4300];
	int fd;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(swap_init(&sw, dir, 1 << 20), -EPERM);
	snprintf(file, sizeof(file), "%s/file", base);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(swap_init(&sw, file, 1 << 20), -ENOTDIR);
	ck_assert_int_eq(swap_init(&sw, "", 1 << 20), -EINVAL);
}
END_TEST

START_TEST(write_read_back)
{
	static uint8_t out[8 * SWAP_PAGE], in[8 * SWAP_PAGE];
	char file[4300];
	struct stat st;
	uint32_t slot;

	ck_assert_int_eq(swap_init(&sw, dir, 1 << 20), 0);
	ck_assert_int_eq(swap_alloc(&sw, 8, &slot), 8);
	ck_assert_uint_eq(slot, 0);
	fill(out, 8, 3);
	ck_assert_int_eq(swap_write(&sw, slot, out, 8), 0);
	ck_assert_int_eq(swap_read(&sw, slot + 2, in, 6), 0);
	ck_assert_int_eq(memcmp(in, out + 2 * SWAP_PAGE, 6 * SWAP_PAGE), 0);
	ck_assert_uint_eq(swap_bytes_used(&sw), 8 * SWAP_PAGE);
	snprintf(file, sizeof(file), "%s/swap.0", dir);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	swap_fini(&sw);
	ck_assert_int_eq(stat(file, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(limit_and_reuse)
{
	uint32_t a, b, c;

	ck_assert_int_eq(swap_init(&sw, dir, 10 * SWAP_PAGE + 100), 0);
	ck_assert_int_eq(swap_alloc(&sw, 4, &a), 4);
	ck_assert_int_eq(swap_alloc(&sw, 4, &b), 4);
	ck_assert_uint_eq(b, 4);
	/* only two are left: a shorter run */
	ck_assert_int_eq(swap_alloc(&sw, 4, &c), 2);
	ck_assert_uint_eq(c, 8);
	ck_assert_int_eq(swap_alloc(&sw, 1, &c), -ENOSPC);
	ck_assert_int_eq(swap_set_limit(&sw, 5 * SWAP_PAGE), -EBUSY);
	/* freed slots are the first to be taken again */
	swap_free(&sw, 1, 2);
	ck_assert_uint_eq(swap_bytes_used(&sw), 8 * SWAP_PAGE);
	ck_assert_int_eq(swap_alloc(&sw, 4, &c), 2);
	ck_assert_uint_eq(c, 1);
	swap_free(&sw, 4, 6);
	ck_assert_int_eq(swap_set_limit(&sw, 5 * SWAP_PAGE), 0);
	ck_assert_int_eq(swap_alloc(&sw, 1, &c), 1);
	ck_assert_uint_eq(c, 4);
	ck_assert_int_eq(swap_alloc(&sw, 1, &c), -ENOSPC);
	swap_fini(&sw);
}
END_TEST

START_TEST(runs_stay_in_one_file)
{
	static uint8_t buf[4 * SWAP_PAGE];
	uint32_t s, t;
	char file[4300];
	struct stat st;

	ck_assert_int_eq(swap_init(&sw, dir, (uint64_t)3 * SWAP_FILE_PAGES * SWAP_PAGE), 0);
	/* fill the first file up to its last 2 slots */
	for (uint32_t left = SWAP_FILE_PAGES - 2; left;) {
		int got = swap_alloc(&sw, left > 64 ? 64 : left, &s);

		ck_assert_int_gt(got, 0);
		left -= got;
	}
	ck_assert_int_eq(swap_alloc(&sw, 4, &s), 2);
	ck_assert_uint_eq(s, SWAP_FILE_PAGES - 2);
	ck_assert_int_eq(swap_alloc(&sw, 4, &t), 4);
	ck_assert_uint_eq(t, SWAP_FILE_PAGES);
	fill(buf, 4, 9);
	ck_assert_int_eq(swap_write(&sw, t, buf, 4), 0);
	snprintf(file, sizeof(file), "%s/swap.1", dir);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_eq(st.st_size, 4 * SWAP_PAGE);
	swap_fini(&sw);
}
END_TEST

START_TEST(freed_space_punched)
{
	static uint8_t buf[64 * SWAP_PAGE];
	char file[4300];
	struct stat st;
	uint32_t s;

	ck_assert_int_eq(swap_init(&sw, dir, 1 << 20), 0);
	ck_assert_int_eq(swap_alloc(&sw, 64, &s), 64);
	fill(buf, 64, 1);
	ck_assert_int_eq(swap_write(&sw, s, buf, 64), 0);
	snprintf(file, sizeof(file), "%s/swap.0", dir);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_ge(st.st_blocks * 512, 64 * SWAP_PAGE);
	swap_free(&sw, s, 64);
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_int_lt(st.st_blocks * 512, 64 * SWAP_PAGE);
	swap_fini(&sw);
}
END_TEST

START_TEST(dir_moves_only_when_empty)
{
	char other[4300];
	uint32_t s;

	snprintf(other, sizeof(other), "%s/other", base);
	ck_assert_int_eq(swap_init(&sw, dir, 1 << 20), 0);
	ck_assert_int_eq(swap_alloc(&sw, 1, &s), 1);
	ck_assert_int_eq(swap_set_dir(&sw, other), -EBUSY);
	swap_free(&sw, s, 1);
	ck_assert_int_eq(swap_set_dir(&sw, other), 0);
	ck_assert_str_eq(sw.dir, other);
	swap_fini(&sw);
}
END_TEST

/* --- the page-state table's slots (pgstate.h) ------------------------------ */

static struct pg_table *table(void)
{
	struct pg_table *t = calloc(1, PG_TABLE_SIZE);

	ck_assert_ptr_nonnull(t);
	return t;
}

static int put(struct pg_table *t, uint64_t ino)
{
	int i = pg_slot_new(t, ino);

	ck_assert_int_ge(i, 0);
	atomic_store(&t->ent[i].ino, ino);
	return i;
}

/* Three objects whose entries share a home slot: the middle one goes
 * (a tombstone: the last is still found past it), then the last (its
 * slot and the tombstone before it empty again). */
START_TEST(table_tombstones_only_where_needed)
{
	struct pg_table *t = table();
	uint64_t a = 4242, same[2];
	int n = 0, ia, ib, ic;

	for (uint64_t k = a + 1; n < 2; k++)
		if (pg_hash(k) == pg_hash(a))
			same[n++] = k;
	ia = put(t, a);
	ib = put(t, same[0]);
	ic = put(t, same[1]);
	ck_assert_int_eq(ib, (ia + 1) % (int)PG_SLOTS);
	ck_assert_int_eq(ic, (ib + 1) % (int)PG_SLOTS);
	pg_slot_free(t, ib);
	ck_assert_uint_eq(atomic_load(&t->ent[ib].ino), PG_TOMB);
	ck_assert_ptr_eq(pg_find(t, same[1]), &t->ent[ic]);
	ck_assert_ptr_null(pg_find(t, same[0]));
	pg_slot_free(t, ic);
	ck_assert_uint_eq(atomic_load(&t->ent[ic].ino), 0);
	ck_assert_uint_eq(atomic_load(&t->ent[ib].ino), 0);
	ck_assert_ptr_eq(pg_find(t, a), &t->ent[ia]);
	/* a new one takes the first free slot on its way */
	ck_assert_int_eq(put(t, same[1]), ib);
	free(t);
}
END_TEST

/* More creations and removals than the table has slots leave no
 * tombstones behind but just before a live entry (where one may be
 * needed): a lookup of what has no entry stops at once. */
START_TEST(table_churn_leaves_it_clean)
{
	struct pg_table *t = table();
	size_t tombs = 0, used = 0;

	put(t, 1); /* one that stays */
	for (uint64_t k = 2; k < 2 + 2 * (uint64_t)PG_SLOTS; k++) {
		int i = put(t, k);

		if (k % 3) /* some pairs live for a while */
			pg_slot_free(t, (uint32_t)i);
		else if (k > 4)
			pg_slot_free(t, (uint32_t)(pg_find(t, k - 3) - t->ent));
	}
	for (uint32_t i = 0; i < PG_SLOTS; i++) {
		uint64_t k = atomic_load(&t->ent[i].ino);
		uint32_t j = i;

		used += k != 0 && k != PG_TOMB;
		if (k != PG_TOMB)
			continue;
		tombs++;
		while (atomic_load(&t->ent[j].ino) == PG_TOMB)
			j = (j + 1) & (PG_SLOTS - 1);
		ck_assert_uint_ne(atomic_load(&t->ent[j].ino), 0);
	}
	ck_assert_uint_eq(used, 2); /* 1, and the last of the k % 3 == 0 ones */
	ck_assert_uint_le(tombs, 4);
	ck_assert_ptr_nonnull(pg_find(t, 1));
	ck_assert_ptr_null(pg_find(t, 5));
	free(t);
}
END_TEST

static Suite *swap_suite(void)
{
	Suite *s = suite_create("swap");
	TCase *tc = tcase_create("swap");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dir_made_private);
	tcase_add_test(tc, dir_refused);
	tcase_add_test(tc, write_read_back);
	tcase_add_test(tc, limit_and_reuse);
	tcase_add_test(tc, runs_stay_in_one_file);
	tcase_add_test(tc, freed_space_punched);
	tcase_add_test(tc, dir_moves_only_when_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("page-state table");
	tcase_add_test(tc, table_tombstones_only_where_needed);
	tcase_add_test(tc, table_churn_leaves_it_clean);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(swap_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
