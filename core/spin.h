/* spin.h -- whether polling for the other side pays, learnt as it goes.
 *
 * A round trip whose both ends poll costs a few microseconds, one that
 * wakes a sleeper some sixty -- when both ends have a CPU.  On a machine
 * busier than its CPUs (a CI runner, a build) the other side is rarely
 * running while we poll: polling then only takes CPU time from it, and
 * every poll that gives up has cost its whole window (measured on two
 * CPUs under a load of eight: three to eight times slower than not
 * polling at all).  So each side keeps score: a poll that saw the other
 * side within its window keeps polling on; one that did not makes the
 * next 1, 3, 7 ... 63 waits sleep at once, until a poll succeeds again.
 * A burst of requests on a quiet machine polls throughout, a loaded one
 * polls one wait in 64; a manager that sat idle (where every poll fails)
 * is polling again 63 requests into the next burst.  Racy on purpose: threads sharing the
 * score only blur it. */
#ifndef SHX_SPIN_H
#define SHX_SPIN_H

#include <stdatomic.h>

#define SHX_SPIN_LEVEL_MAX 6 /* at most 2^6 - 1 waits without polling */

struct shx_spin {
	atomic_uint skip;  /* waits left that sleep without polling */
	atomic_uint level; /* polls that failed in a row */
};

/* Whether to poll for this wait. */
static inline int shx_spin_try(struct shx_spin *s)
{
	unsigned skip = atomic_load_explicit(&s->skip, memory_order_relaxed);

	if (!skip)
		return 1;
	atomic_store_explicit(&s->skip, skip - 1, memory_order_relaxed);
	return 0;
}

/* What the poll that shx_spin_try allowed came to: ok if the other side
 * answered within the window. */
static inline void shx_spin_result(struct shx_spin *s, int ok)
{
	unsigned level = atomic_load_explicit(&s->level, memory_order_relaxed);

	if (ok) {
		if (level)
			atomic_store_explicit(&s->level, 0, memory_order_relaxed);
		/* (a poll made without asking shx_spin_try may succeed while
		 * waits are still to be skipped: polling pays again now) */
		if (atomic_load_explicit(&s->skip, memory_order_relaxed))
			atomic_store_explicit(&s->skip, 0, memory_order_relaxed);
		return;
	}
	if (level < SHX_SPIN_LEVEL_MAX)
		level++;
	atomic_store_explicit(&s->level, level, memory_order_relaxed);
	atomic_store_explicit(&s->skip, (1u << level) - 1, memory_order_relaxed);
}

#endif
