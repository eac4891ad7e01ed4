/* check_spin.c -- unit tests of core/spin.h: when a round trip's ends poll.
 *
 * A poll that succeeds keeps polling on; failures in a row make the next
 * 1, 3, 7 ... 2^SHX_SPIN_LEVEL_MAX - 1 waits sleep without polling; one
 * success after the pause puts polling back at once. */
#include <check.h>
#include <stdlib.h>

#include "spin.h"

/* How many waits in a row sleep without polling. */
static unsigned skipped(struct shx_spin *s)
{
	unsigned n = 0;

	while (!shx_spin_try(s))
		n++;
	return n;
}

START_TEST(polls_at_first_and_while_it_pays)
{
	struct shx_spin s = { 0 };

	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(shx_spin_try(&s), 1);
		shx_spin_result(&s, 1);
	}
}
END_TEST

START_TEST(failures_pause_polling_longer_each_time)
{
	struct shx_spin s = { 0 };

	for (unsigned level = 1; level <= SHX_SPIN_LEVEL_MAX + 3; level++) {
		unsigned want = (1u << (level < SHX_SPIN_LEVEL_MAX ? level : SHX_SPIN_LEVEL_MAX)) - 1;

		ck_assert_int_eq(shx_spin_try(&s), 1);
		shx_spin_result(&s, 0);
		ck_assert_uint_eq(skipped(&s), want);
	}
}
END_TEST

START_TEST(one_success_resets)
{
	struct shx_spin s = { 0 };

	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(shx_spin_try(&s), 1);
		shx_spin_result(&s, 0);
		skipped(&s);
	}
	shx_spin_result(&s, 1); /* the poll after the pause paid */
	ck_assert_int_eq(shx_spin_try(&s), 1);
	shx_spin_result(&s, 0); /* and a new failure starts from one wait */
	ck_assert_uint_eq(skipped(&s), 1);
}
END_TEST

/* A poll made without asking (the manager was asleep and this request
 * woke it: conn.c's poll_a_while) that pays ends the pause at once. */
START_TEST(a_forced_success_ends_the_pause)
{
	struct shx_spin s = { 0 };

	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(shx_spin_try(&s), 1);
		shx_spin_result(&s, 0);
		if (i < 3)
			skipped(&s);
	}
	/* 15 waits to skip; one forced poll pays */
	shx_spin_result(&s, 1);
	ck_assert_int_eq(shx_spin_try(&s), 1);
	shx_spin_result(&s, 0);
	ck_assert_uint_eq(skipped(&s), 1);
}
END_TEST

static Suite *spin_suite(void)
{
	Suite *s = suite_create("spin");
	TCase *tc = tcase_create("score");

	tcase_add_test(tc, polls_at_first_and_while_it_pays);
	tcase_add_test(tc, failures_pause_polling_longer_each_time);
	tcase_add_test(tc, one_success_resets);
	tcase_add_test(tc, a_forced_success_ends_the_pause);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(spin_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
