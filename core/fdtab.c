/* fdtab.c -- fd -> managed object table (see fdtab.h). */
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

#include "fdtab.h"

/* Address space only: pages are touched when an fd that high is used. */
#define FDTAB_SLOTS SHX_FDTAB_SLOTS
#define table shx_fdtab

_Atomic(void *) shx_fdtab;
static atomic_int high; /* no fd above this was ever set */

void *shx_map_once(_Atomic(void *) *slot, size_t len, int create)
{
	void *p = atomic_load_explicit(slot, memory_order_acquire), *none = NULL;

	if (p || !create)
		return p;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (!atomic_compare_exchange_strong(slot, &none, p)) {
		munmap(p, len);
		p = none;
	}
	return p;
}

static struct shx_fdent *table_get(int create)
{
	return shx_map_once(&table, FDTAB_SLOTS * sizeof(struct shx_fdent), create);
}

int shx_fdtab_set(int fd, uint64_t ino, uint32_t flags)
{
	struct shx_fdent *t = table_get(1);

	if (!t || fd < 0 || fd >= FDTAB_SLOTS)
		return -1;
	t[fd].flags = flags;
	t[fd].reserved = 0;
	atomic_store(&t[fd].budget, 0);
	atomic_store(&t[fd].inflight, 0);
	for (int h = atomic_load(&high); fd > h && !atomic_compare_exchange_weak(&high, &h, fd);)
		;
	atomic_store_explicit((_Atomic uint64_t *)&t[fd].ino, ino, memory_order_release);
	return 0;
}

int shx_fdtab_high(void)
{
	return atomic_load(&table) ? atomic_load(&high) : -1;
}

uint64_t shx_fdtab_clear(int fd)
{
	struct shx_fdent *t = table_get(0);

	/* a plain load first: most fds were never ours, and the exchange is a
	 * locked instruction */
	if (!t || fd < 0 || fd >= FDTAB_SLOTS || !atomic_load((_Atomic uint64_t *)&t[fd].ino))
		return 0;
	return atomic_exchange((_Atomic uint64_t *)&t[fd].ino, 0);
}

void shx_fdtab_each(void (*fn)(int fd, struct shx_fdent *e, void *arg), void *arg)
{
	struct shx_fdent *t = table_get(0);

	if (!t)
		return;
	for (int fd = 0, h = atomic_load(&high); fd <= h; fd++)
		if (t[fd].ino)
			fn(fd, &t[fd], arg);
}
