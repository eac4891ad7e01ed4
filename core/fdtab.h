/* fdtab.h -- the client's table of fds that refer to managed objects.
 *
 * Indexed by fd number, lock-free and allocation-free after the first use,
 * so close() and write() may consult it from signal handlers.  An entry
 * caches what the data path needs without asking the manager: the object's
 * inode number (the memfd's own, which identifies it) and how far this fd
 * may write before it must reserve more space.
 */
#ifndef SHX_FDTAB_H
#define SHX_FDTAB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHX_FD_DIR 0x1	  /* a placeholder for a managed directory */
#define SHX_FD_APPEND 0x2 /* opened O_APPEND */
#define SHX_FD_WRITE 0x4  /* open for writing */
#define SHX_FD_SPECIAL 0x8 /* a FIFO or device: no space to pay for */
#define SHX_FD_PINNED 0x10 /* paging: a stdio stream reads it by calls no wrapper sees */

struct shx_fdent {
	uint64_t ino; /* 0: not ours */
	uint64_t reserved; /* writes up to this offset are paid for */
	/* O_APPEND: bytes it may still append without asking (appends land
	 * wherever the end is by then, so they are paid for by amount, not
	 * by offset), and bytes claimed by writes under way */
	_Atomic uint64_t budget, inflight;
	uint32_t flags;
};

#define SHX_FDTAB_SLOTS (1 << 20)

/* The table, allocated on first use; inlined lookups read it. */
extern _Atomic(void *) shx_fdtab;

/* The len bytes of address space at *slot, reserved (not committed) by
 * whichever thread gets there first; NULL if create is 0 and there is none
 * yet.  Lock-free, so usable from the wrappers. */
void *shx_map_once(_Atomic(void *) *slot, size_t len, int create);

int shx_fdtab_set(int fd, uint64_t ino, uint32_t flags);

/* The entry of `fd`, or NULL when fd is not a managed object.  Every
 * write() and close() asks, so it is inline: in a process with no managed
 * fd it is one load. */
static inline struct shx_fdent *shx_fdtab_get(int fd)
{
	struct shx_fdent *t = atomic_load_explicit(&shx_fdtab, memory_order_acquire);

	if (!t || fd < 0 || fd >= SHX_FDTAB_SLOTS ||
	    !atomic_load_explicit((_Atomic uint64_t *)&t[fd].ino, memory_order_acquire))
		return NULL;
	return &t[fd];
}
/* No fd above this was ever entered (-1: none). */
int shx_fdtab_high(void);
/* Forgets fd; returns the inode it referred to, or 0. */
uint64_t shx_fdtab_clear(int fd);
/* Calls fn for every managed fd (after fork, to hold them again). */
void shx_fdtab_each(void (*fn)(int fd, struct shx_fdent *e, void *arg), void *arg);

#endif
