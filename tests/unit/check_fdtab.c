/* check_fdtab.c -- unit tests of core/fdtab.c, the client's fd table.
 *
 * The table says which fds refer to managed objects; a stale or missing
 * entry makes write() skip the reservation or close() forget to tell the
 * manager.  Tested: set/get/clear at low, page-crossing and the highest
 * fds; refusal of negative and out-of-range fds; shx_fdtab_each visiting
 * exactly the live entries; and set/clear racing from several threads,
 * including the first use that creates the table.
 *
 * The table is process-wide static state, so every test runs in its own
 * process (CK_FORK is forced in main) and starts with no table at all.
 */
#include <check.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdtab.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* One past the highest fd the table holds; fdtab.c's FDTAB_SLOTS. */
#define SLOTS (1 << 20)

/* An inode number that encodes its fd, so that any entry can be checked
 * against the slot it was found in. */
static uint64_t ino_of(int fd, unsigned gen)
{
	return ((uint64_t)gen << 32) | (uint64_t)(fd + 1);
}

/* fds around the places a table layout could go wrong: the first ones,
 * page boundaries of 24-byte entries, powers of two, the last slot. */
static const int good_fds[] = { 0, 1, 2, 3, 170, 171, 1023, 1024, 4095, 4096, 65535, 65536,
				SLOTS / 2, SLOTS - 2, SLOTS - 1 };

START_TEST(set_get_clear)
{
	int fd = good_fds[_i];
	uint64_t ino = ino_of(fd, 7);
	struct shx_fdent *e;

	ck_assert_ptr_null(shx_fdtab_get(fd));
	ck_assert_int_eq(shx_fdtab_set(fd, ino, SHX_FD_WRITE | SHX_FD_APPEND), 0);
	e = shx_fdtab_get(fd);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->ino, ino);
	ck_assert_uint_eq(e->flags, SHX_FD_WRITE | SHX_FD_APPEND);
	ck_assert_uint_eq(e->reserved, 0);
	/* the neighbours are untouched */
	if (fd > 0)
		ck_assert_ptr_null(shx_fdtab_get(fd - 1));
	if (fd < SLOTS - 1)
		ck_assert_ptr_null(shx_fdtab_get(fd + 1));
	ck_assert_uint_eq(shx_fdtab_clear(fd), ino);
	ck_assert_ptr_null(shx_fdtab_get(fd));
	/* a second clear finds nothing */
	ck_assert_uint_eq(shx_fdtab_clear(fd), 0);
}
END_TEST

static const int bad_fds[] = { -1, -2, INT_MIN, SLOTS, SLOTS + 1, INT_MAX };

START_TEST(bad_fd)
{
	int fd = bad_fds[_i];

	/* before the table exists, and after */
	ck_assert_ptr_null(shx_fdtab_get(fd));
	ck_assert_uint_eq(shx_fdtab_clear(fd), 0);
	ck_assert_int_eq(shx_fdtab_set(fd, 1, 0), -1);
	ck_assert_int_eq(shx_fdtab_set(5, 55, 0), 0);
	ck_assert_int_eq(shx_fdtab_set(fd, 1, 0), -1);
	ck_assert_ptr_null(shx_fdtab_get(fd));
	ck_assert_uint_eq(shx_fdtab_clear(fd), 0);
	ck_assert_uint_eq(shx_fdtab_get(5)->ino, 55);
}
END_TEST

/* Setting a set fd replaces the entry: a reused fd number must not
 * inherit the old object's reservation or flags. */
START_TEST(set_replaces)
{
	struct shx_fdent *e;

	ck_assert_int_eq(shx_fdtab_set(9, 100, SHX_FD_WRITE | SHX_FD_APPEND), 0);
	e = shx_fdtab_get(9);
	e->reserved = 1 << 20;
	ck_assert_int_eq(shx_fdtab_set(9, 200, SHX_FD_DIR), 0);
	e = shx_fdtab_get(9);
	ck_assert_uint_eq(e->ino, 200);
	ck_assert_uint_eq(e->flags, SHX_FD_DIR);
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_uint_eq(shx_fdtab_clear(9), 200);
}
END_TEST

/* Inode 0 means "not ours": setting it does not make the fd managed. */
START_TEST(zero_ino_is_not_managed)
{
	ck_assert_int_eq(shx_fdtab_set(4, 0, SHX_FD_WRITE), 0);
	ck_assert_ptr_null(shx_fdtab_get(4));
	ck_assert_uint_eq(shx_fdtab_clear(4), 0);
}
END_TEST

struct visit {
	int fds[64];
	uint64_t inos[64];
	int n;
	int bad_arg;
};

static void collect(int fd, struct shx_fdent *e, void *arg)
{
	struct visit *v = arg;

	if (v->n < (int)N(v->fds)) {
		v->fds[v->n] = fd;
		v->inos[v->n] = e->ino;
	}
	v->n++;
}

START_TEST(each_before_any_set)
{
	struct visit v = { .n = 0 };

	shx_fdtab_each(collect, &v);
	ck_assert_int_eq(v.n, 0);
}
END_TEST

/* each visits the live entries once, in fd order, and nothing cleared,
 * up to the highest fd ever set. */
START_TEST(each_visits_exactly_the_set_entries)
{
	static const int set[] = { 0, 3, 4, 100, 4096, 70000, SLOTS - 1 };
	static const int cleared[] = { 4, 70000 };
	static const int want[] = { 0, 3, 100, 4096, SLOTS - 1 };
	struct visit v = { .n = 0 };

	for (size_t i = 0; i < N(set); i++)
		ck_assert_int_eq(shx_fdtab_set(set[i], ino_of(set[i], 1), 0), 0);
	for (size_t i = 0; i < N(cleared); i++)
		ck_assert_uint_eq(shx_fdtab_clear(cleared[i]), ino_of(cleared[i], 1));
	shx_fdtab_each(collect, &v);
	ck_assert_int_eq(v.n, N(want));
	for (size_t i = 0; i < N(want); i++) {
		ck_assert_int_eq(v.fds[i], want[i]);
		ck_assert_uint_eq(v.inos[i], ino_of(want[i], 1));
	}
	/* clearing the highest does not hide the others */
	ck_assert_uint_eq(shx_fdtab_clear(SLOTS - 1), ino_of(SLOTS - 1, 1));
	v.n = 0;
	shx_fdtab_each(collect, &v);
	ck_assert_int_eq(v.n, N(want) - 1);
	ck_assert_int_eq(v.fds[v.n - 1], 4096);
}
END_TEST

/* --- threads ----------------------------------------------------------------- */

#define THREADS 8
#define ROUNDS 20000
#define PER_THREAD 16

static pthread_barrier_t go;

struct worker {
	int id;
	int errors;
};

/* Each thread owns PER_THREAD fds and sets and clears them over and over;
 * every clear must return what that thread set there, and every get must
 * see an entry that belongs to its fd. */
static void *own_fds(void *arg)
{
	struct worker *w = arg;
	int base = 10 + w->id * PER_THREAD;

	pthread_barrier_wait(&go);
	for (unsigned r = 1; r <= ROUNDS; r++) {
		int fd = base + r % PER_THREAD;
		struct shx_fdent *e;

		if (shx_fdtab_set(fd, ino_of(fd, r), SHX_FD_WRITE) != 0)
			w->errors++;
		e = shx_fdtab_get(fd);
		if (!e || e->ino != ino_of(fd, r) || e->flags != SHX_FD_WRITE)
			w->errors++;
		/* leave the last round's entries in place */
		if (r + PER_THREAD <= ROUNDS && shx_fdtab_clear(fd) != ino_of(fd, r))
			w->errors++;
	}
	return NULL;
}

/* Meanwhile, a walker checks that whatever each() shows belongs to the
 * fd it is shown for.  The entry may be cleared between each() finding it
 * and this look (0), but never hold another fd's inode. */
static void check_entry(int fd, struct shx_fdent *e, void *arg)
{
	int *errors = arg;
	uint64_t ino = __atomic_load_n(&e->ino, __ATOMIC_ACQUIRE);

	if (ino && (ino & 0xffffffffu) != (uint64_t)fd + 1)
		(*errors)++;
}

static atomic_int stop;

static void *walk(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&go);
	while (!atomic_load(&stop))
		shx_fdtab_each(check_entry, &w->errors);
	return NULL;
}

START_TEST(concurrent_set_clear)
{
	pthread_t t[THREADS], walker;
	struct worker w[THREADS], ww = { .id = -1 };
	struct visit v = { .n = 0 };

	/* all threads start at once, on a process that has no table yet,
	 * so that they race to create it as well */
	pthread_barrier_init(&go, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, own_fds, &w[i]), 0);
	}
	ck_assert_int_eq(pthread_create(&walker, NULL, walk, &ww), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(w[i].errors == 0, "thread %d: %d errors", i, w[i].errors);
	}
	atomic_store(&stop, 1);
	pthread_join(walker, NULL);
	ck_assert_int_eq(ww.errors, 0);
	pthread_barrier_destroy(&go);

	/* exactly the last round's entries remain */
	shx_fdtab_each(collect, &v);
	ck_assert_int_eq(v.n, THREADS * PER_THREAD);
	for (int i = 0; i < v.n && i < (int)N(v.fds); i++) {
		int fd = v.fds[i], r = ROUNDS - PER_THREAD + 1;

		/* the round in which fd was set last */
		while (r % PER_THREAD != (fd - 10) % PER_THREAD)
			r++;
		ck_assert_uint_eq(v.inos[i], ino_of(fd, r));
	}
}
END_TEST

/* Several threads set and clear the same fd: each clear hands back at
 * most one set, so no inode comes back twice. */
#define SHARED_FD 7

static uint64_t returned[THREADS][ROUNDS];

static void *share_fd(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&go);
	for (unsigned r = 0; r < ROUNDS; r++) {
		shx_fdtab_set(SHARED_FD, ((uint64_t)(w->id + 1) << 32) | (r + 1), 0);
		returned[w->id][r] = shx_fdtab_clear(SHARED_FD);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(concurrent_same_fd)
{
	pthread_t t[THREADS];
	struct worker w[THREADS];
	uint64_t *all = &returned[0][0];
	size_t n = THREADS * ROUNDS, got = 0;

	pthread_barrier_init(&go, NULL, THREADS + 1);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, share_fd, &w[i]), 0);
	}
	pthread_barrier_wait(&go);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	/* the table is empty again: every set was followed by a clear */
	ck_assert_ptr_null(shx_fdtab_get(SHARED_FD));
	qsort(all, n, sizeof(*all), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		if (!all[i])
			continue;
		got++;
		ck_assert_msg(i == 0 || all[i] != all[i - 1], "inode %#llx cleared twice",
			      (unsigned long long)all[i]);
		ck_assert_uint_ge(all[i] >> 32, 1);
		ck_assert_uint_le(all[i] >> 32, THREADS);
	}
	/* the last clear of all found the last set */
	ck_assert_uint_ge(got, 1);
}
END_TEST

/* The table is created by the first set.  Threads that all make their
 * first set at once must still end up in one table: each sets a fd of its
 * own once, and all must be there afterwards.  The race is the first use
 * of a process, so it is run in several fresh processes. */
#define RACERS 16
#define RACE_RUNS 20

static void *race_first_set(void *arg)
{
	int fd = (int)(intptr_t)arg;

	pthread_barrier_wait(&go);
	shx_fdtab_set(fd, ino_of(fd, 1), 0);
	return NULL;
}

static int race_once(void)
{
	pthread_t t[RACERS];
	int missing = 0;

	pthread_barrier_init(&go, NULL, RACERS);
	for (int i = 0; i < RACERS; i++)
		if (pthread_create(&t[i], NULL, race_first_set, (void *)(intptr_t)(100 + i * 500)))
			return 99;
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < RACERS; i++) {
		struct shx_fdent *e = shx_fdtab_get(100 + i * 500);

		missing += !e || e->ino != ino_of(100 + i * 500, 1);
	}
	return missing;
}

START_TEST(concurrent_first_use)
{
	for (int run = 0; run < RACE_RUNS; run++) {
		int status;
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(race_once());
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "run %d: %d entries lost", run, WEXITSTATUS(status));
	}
}
END_TEST

static Suite *fdtab_suite(void)
{
	Suite *s = suite_create("fdtab");
	TCase *tc;

	tc = tcase_create("entries");
	tcase_add_loop_test(tc, set_get_clear, 0, N(good_fds));
	tcase_add_loop_test(tc, bad_fd, 0, N(bad_fds));
	tcase_add_test(tc, set_replaces);
	tcase_add_test(tc, zero_ino_is_not_managed);
	suite_add_tcase(s, tc);

	tc = tcase_create("each");
	tcase_add_test(tc, each_before_any_set);
	tcase_add_test(tc, each_visits_exactly_the_set_entries);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, concurrent_set_clear);
	tcase_add_test(tc, concurrent_same_fd);
	tcase_add_test(tc, concurrent_first_use);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fdtab_suite());
	int failed;

	/* a fresh process, hence no table yet, for every test */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
