/* swap.h -- the manager's swap files: page-sized slots on disk.
 *
 * Slots live in files of SWAP_FILE_PAGES pages each (swap.0, swap.1 ...)
 * in a private directory (0700, files 0600), made when first needed and
 * removed by swap_fini.  A slot is allocated in contiguous runs so that a
 * run of pages goes out and comes back in one system call; a freed run is
 * punched out of its file so that the disk space goes back too.  The
 * total is bounded by a limit (bytes).  All functions return 0 (or a
 * count) or -errno.
 */
#ifndef SHX_SWAP_H
#define SHX_SWAP_H

#include <stddef.h>
#include <stdint.h>

#define SWAP_PAGE 4096
#define SWAP_FILE_SHIFT 14 /* 16384 pages: 64 MiB per file */
#define SWAP_FILE_PAGES (1u << SWAP_FILE_SHIFT)
#define SWAP_FILES_MAX 256 /* 16 GiB of swap at most */

struct swap {
	char dir[4096];
	int fds[SWAP_FILES_MAX]; /* -1 until the file is made */
	uint64_t *map;		 /* one bit per slot, set when in use */
	uint32_t nslots;	 /* the limit, in slots */
	uint32_t used;
	uint32_t hint;		 /* no free slot below this */
};

/* dir is created 0700 if missing and must be a directory of ours that
 * only we may enter.  limit is in bytes (rounded down to pages, at most
 * SWAP_FILES_MAX files). */
int swap_init(struct swap *sw, const char *dir, uint64_t limit);
void swap_fini(struct swap *sw);
/* Changes the limit: -EBUSY if slots beyond the new one are in use. */
int swap_set_limit(struct swap *sw, uint64_t limit);
/* Moves to another directory: only while no slot is in use (-EBUSY). */
int swap_set_dir(struct swap *sw, const char *dir);

/* Up to n contiguous slots in one file: the number taken (>= 1), the
 * first in *slot, or -ENOSPC when the limit is reached. */
int swap_alloc(struct swap *sw, uint32_t n, uint32_t *slot);
/* Frees n slots from slot on (which swap_alloc gave, in one file). */
void swap_free(struct swap *sw, uint32_t slot, uint32_t n);
/* n pages between buf and the slots from slot on (all in one file). */
int swap_write(struct swap *sw, uint32_t slot, const void *buf, uint32_t n);
int swap_read(struct swap *sw, uint32_t slot, void *buf, uint32_t n);

static inline uint64_t swap_bytes_used(const struct swap *sw)
{
	return (uint64_t)sw->used * SWAP_PAGE;
}

#endif
