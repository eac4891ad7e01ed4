/* pgstate.h -- the page-state table that the manager shares with its
 * clients, so that the data path of an object with no pages out costs two
 * atomic operations and no round trip (see "Paging" in architecture.md).
 *
 * One memfd made by the manager, mapped shared by every client: a header
 * and an open-addressing hash of entries keyed by inode number, one per
 * regular object, made when the object is made (an object with no entry
 * is never paged out).  Per entry:
 *
 *   users   data calls (read, write, lseek, mmap ...) a client has in
 *           flight on the object, counted by the client around the call;
 *   state   PG_SWAPPED while some page is in swap, PG_PAGING while the
 *           manager is moving pages out;
 *   mapseq  bumped by a client after each mmap of the object;
 *   tick    the manager's clock at the object's last access (the LRU).
 *
 * A client raises users, then reads state (both sequentially consistent);
 * the manager sets PG_PAGING, then reads users and mapseq.  One of the
 * two sees the other: either the manager backs off, or the client finds
 * PG_PAGING and asks the manager, which answers only when the page-out is
 * over.  While state is non-zero a client asks the manager to bring the
 * range in (SHX_OP_SWAPIN) before its call, still counted in users, and
 * the manager pages nothing out of an object with users.
 */
#ifndef SHX_PGSTATE_H
#define SHX_PGSTATE_H

#include <stdatomic.h>
#include <stdint.h>

#define PG_MAGIC 0x70676531u /* "pge1" */
#define PG_SLOTS (1u << 18) /* objects the table can follow */
#define PG_TOMB UINT64_MAX  /* an entry whose object is gone */

#define PG_SWAPPED 0x1
#define PG_PAGING 0x2

struct pg_entry {
	_Atomic uint64_t ino; /* 0: never used */
	_Atomic uint32_t state;
	_Atomic uint32_t users;
	_Atomic uint32_t mapseq;
	_Atomic uint32_t tick;
};

struct pg_table {
	uint32_t magic, nslots;
	_Atomic uint32_t tick;
	uint32_t pad;
	struct pg_entry ent[];
};

#define PG_TABLE_SIZE (sizeof(struct pg_table) + PG_SLOTS * sizeof(struct pg_entry))

static inline uint32_t pg_hash(uint64_t ino)
{
	ino ^= ino >> 29;
	ino *= 0xbf58476d1ce4e5b9ull;
	ino ^= ino >> 32;
	return (uint32_t)ino & (PG_SLOTS - 1);
}

/* The entry of ino, or NULL when the object has none. */
static inline struct pg_entry *pg_find(struct pg_table *t, uint64_t ino)
{
	uint32_t i = pg_hash(ino);

	for (uint32_t n = 0; n < PG_SLOTS; n++, i = (i + 1) & (PG_SLOTS - 1)) {
		uint64_t k = atomic_load_explicit(&t->ent[i].ino, memory_order_acquire);

		if (k == ino)
			return &t->ent[i];
		if (k == 0)
			return NULL;
	}
	return NULL;
}

/* The manager's side (its only writer).  A free slot for a new entry,
 * from the hash on: an empty one or a tombstone; -1 when none is left. */
static inline int pg_slot_new(struct pg_table *t, uint64_t ino)
{
	uint32_t i = pg_hash(ino);

	for (uint32_t n = 0; n < PG_SLOTS; n++, i = (i + 1) & (PG_SLOTS - 1)) {
		uint64_t k = atomic_load_explicit(&t->ent[i].ino, memory_order_relaxed);

		if (k == 0 || k == PG_TOMB)
			return (int)i;
	}
	return -1;
}

/* Entry i goes.  A lookup stops at an empty slot, so what goes must stay
 * a tombstone while an entry further on may need the lookup to go past
 * it -- but not when the next slot is empty: then no entry lies beyond
 * on any lookup's way, the slot can be empty too, and so can the
 * tombstones just before it.  (Else, after PG_SLOTS creations, every
 * slot would be a tombstone, and every lookup of an object that has no
 * entry would read the whole table.)  Lookups that race with this stop
 * at the empty slot either way. */
static inline void pg_slot_free(struct pg_table *t, uint32_t i)
{
	uint32_t next = (i + 1) & (PG_SLOTS - 1);

	if (atomic_load_explicit(&t->ent[next].ino, memory_order_relaxed) != 0) {
		atomic_store_explicit(&t->ent[i].ino, PG_TOMB, memory_order_release);
		return;
	}
	atomic_store_explicit(&t->ent[i].ino, 0, memory_order_release);
	for (uint32_t n = 1; n < PG_SLOTS; n++) {
		i = (i - 1) & (PG_SLOTS - 1);
		if (atomic_load_explicit(&t->ent[i].ino, memory_order_relaxed) != PG_TOMB)
			break;
		atomic_store_explicit(&t->ent[i].ino, 0, memory_order_release);
	}
}

#endif
