/* swap.c -- swap files and their slots (see swap.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "swap.h"

static uint32_t slots_for(uint64_t limit)
{
	uint64_t n = limit / SWAP_PAGE;

	if (n > (uint64_t)SWAP_FILES_MAX * SWAP_FILE_PAGES)
		n = (uint64_t)SWAP_FILES_MAX * SWAP_FILE_PAGES;
	return n;
}

/* The directory must be ours and closed to everyone else: the swap holds
 * every byte of the objects, whatever their modes. */
static int check_dir(const char *dir)
{
	struct stat st;

	if (!dir[0] || strlen(dir) >= sizeof(((struct swap *)0)->dir) - 16)
		return -EINVAL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

int swap_init(struct swap *sw, const char *dir, uint64_t limit)
{
	int r;

	memset(sw, 0, sizeof(*sw));
	for (int i = 0; i < SWAP_FILES_MAX; i++)
		sw->fds[i] = -1;
	r = check_dir(dir);
	if (r < 0)
		return r;
	snprintf(sw->dir, sizeof(sw->dir), "%s", dir);
	sw->nslots = slots_for(limit);
	sw->map = calloc((size_t)SWAP_FILES_MAX * SWAP_FILE_PAGES / 64, sizeof(uint64_t));
	return sw->map ? 0 : -ENOMEM;
}

static void file_name(const struct swap *sw, int i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/swap.%d", sw->dir, i);
}

static void close_files(struct swap *sw)
{
	char name[sizeof(sw->dir) + 32];

	for (int i = 0; i < SWAP_FILES_MAX; i++) {
		if (sw->fds[i] < 0)
			continue;
		close(sw->fds[i]);
		sw->fds[i] = -1;
		file_name(sw, i, name, sizeof(name));
		unlink(name);
	}
}

void swap_fini(struct swap *sw)
{
	close_files(sw);
	free(sw->map);
	sw->map = NULL;
}

static int in_use(const struct swap *sw, uint32_t s)
{
	return (sw->map[s / 64] >> (s % 64)) & 1;
}

int swap_set_limit(struct swap *sw, uint64_t limit)
{
	uint32_t n = slots_for(limit);

	for (uint32_t s = n; s < sw->nslots; s++)
		if (in_use(sw, s))
			return -EBUSY;
	sw->nslots = n;
	if (sw->hint > n)
		sw->hint = n;
	return 0;
}

int swap_set_dir(struct swap *sw, const char *dir)
{
	int r;

	if (sw->used)
		return -EBUSY;
	r = check_dir(dir);
	if (r < 0)
		return r;
	close_files(sw);
	snprintf(sw->dir, sizeof(sw->dir), "%s", dir);
	return 0;
}

static int file_of(struct swap *sw, uint32_t slot)
{
	int i = slot >> SWAP_FILE_SHIFT;
	char name[sizeof(sw->dir) + 32];

	if (sw->fds[i] >= 0)
		return sw->fds[i];
	file_name(sw, i, name, sizeof(name));
	/* a stale file of a manager that died is ours to reuse */
	sw->fds[i] = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sw->fds[i] < 0)
		return -errno;
	return sw->fds[i];
}

int swap_alloc(struct swap *sw, uint32_t n, uint32_t *slot)
{
	uint32_t s = sw->hint, got;

	while (s < sw->nslots) {
		if (sw->map[s / 64] == UINT64_MAX && s % 64 == 0) {
			s += 64;
			continue;
		}
		if (!in_use(sw, s))
			break;
		s++;
	}
	if (s >= sw->nslots)
		return -ENOSPC;
	sw->hint = s;
	/* as many as are free after it, not crossing into the next file */
	for (got = 1; got < n && s + got < sw->nslots && !in_use(sw, s + got) &&
		      ((s + got) >> SWAP_FILE_SHIFT) == (s >> SWAP_FILE_SHIFT);
	     got++)
		;
	for (uint32_t i = 0; i < got; i++)
		sw->map[(s + i) / 64] |= 1ull << ((s + i) % 64);
	sw->used += got;
	sw->hint = s + got;
	*slot = s;
	return got;
}

void swap_free(struct swap *sw, uint32_t slot, uint32_t n)
{
	int fd = sw->fds[slot >> SWAP_FILE_SHIFT];

	for (uint32_t i = 0; i < n; i++) {
		uint32_t s = slot + i;

		if (!in_use(sw, s))
			continue;
		sw->map[s / 64] &= ~(1ull << (s % 64));
		sw->used--;
	}
	if (slot < sw->hint)
		sw->hint = slot;
	/* the disk space goes back with the slots */
	if (fd >= 0)
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(slot & (SWAP_FILE_PAGES - 1)) * SWAP_PAGE, (off_t)n * SWAP_PAGE);
}

static int transfer(struct swap *sw, uint32_t slot, void *buf, uint32_t n, int out)
{
	int fd = file_of(sw, slot);
	off_t off = (off_t)(slot & (SWAP_FILE_PAGES - 1)) * SWAP_PAGE;
	size_t len = (size_t)n * SWAP_PAGE, done = 0;

	if (fd < 0)
		return fd;
	while (done < len) {
		ssize_t k = out ? pwrite(fd, (char *)buf + done, len - done, off + done)
				: pread(fd, (char *)buf + done, len - done, off + done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0) /* a read past what was written: never, but no loop */
			return -EIO;
		done += k;
	}
	return 0;
}

int swap_write(struct swap *sw, uint32_t slot, const void *buf, uint32_t n)
{
	return transfer(sw, slot, (void *)buf, n, 1);
}

int swap_read(struct swap *sw, uint32_t slot, void *buf, uint32_t n)
{
	return transfer(sw, slot, buf, n, 0);
}
