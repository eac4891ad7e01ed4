/* pager.c -- shmemd's pager (see pager.h and "Paging" in architecture.md).
 *
 * Page-out (shmem_writepage): when the objects' resident pages exceed the
 * budget, the coldest objects that no process outside the clients maps or
 * holds give their pages, a run at a time: read from the memfd,
 * written to swap slots, punched out with FALLOC_FL_PUNCH_HOLE.  A page of
 * zeros needs no slot, only a mark (it is still data for SEEK_DATA).
 * Page-in (shmem_swapin_folio): a client's SWAPIN writes the slots back
 * into the memfd, reading ahead along the swapped run, and frees them; a
 * fault in a client's mapping is answered through its userfaultfd (the
 * end of this file).  Every page move is ordered with the clients' calls by the page-state
 * table (core/pgstate.h); the manager never waits for a client.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "pager.h"
#include "procfs.h"

#define PAGE SWAP_PAGE
#define PGS_ZERO UINT32_MAX /* a page of zeros, out without a slot */
#define RUN_MAX 64	    /* pages moved by one read or write */
#define READAHEAD 16	    /* pages a swap-in brings beyond what was asked */
#define PERIOD_NS 100000000 /* how often the budget is looked at */

struct pg_obj {
	uint32_t *slots;   /* per page: 0, PGS_ZERO, or slot + 1 */
	uint32_t cap;
	uint32_t nswapped; /* pages out */
	uint32_t scan_mapseq;
	uint64_t pinned;   /* == the scan's generation: mapped, or held by a stranger */
	int64_t ctime_before, ctime_after; /* the memfd's ctime around our last move */
};

static int64_t ts_ns(struct timespec t)
{
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int obj_index(struct pager *pg, uint64_t ino)
{
	struct pg_entry *e = pg->tab ? pg_find(pg->tab, ino) : NULL;

	return e ? (int)(e - pg->tab->ent) : -1;
}

/* --- the table and the namespace's events --------------------------------- */

static void obj_create(struct pager *pg, struct ns_inode *ip)
{
	int i = pg_slot_new(pg->tab, ip->ino);
	struct pg_entry *e;

	if (i < 0) /* full: this object stays in memory */
		return;
	e = &pg->tab->ent[i];
	atomic_store(&e->state, 0);
	atomic_store(&e->users, 0);
	atomic_store(&e->mapseq, 0);
	atomic_store(&e->tick, atomic_load(&pg->tab->tick));
	memset(&pg->objs[i], 0, sizeof(pg->objs[i]));
	atomic_store(&e->ino, ip->ino);
}

static void slots_free(struct pager *pg, struct pg_obj *o, uint32_t from, uint32_t to)
{
	for (uint32_t p = from; p < to && p < o->cap; p++) {
		if (!o->slots[p])
			continue;
		if (o->slots[p] != PGS_ZERO)
			swap_free(&pg->swap, o->slots[p] - 1, 1);
		o->slots[p] = 0;
		o->nswapped--;
	}
}

static void state_update(struct pager *pg, int idx, struct ns_inode *ip)
{
	struct pg_obj *o = &pg->objs[idx];

	ip->swapped = (uint64_t)o->nswapped * PAGE;
	atomic_store(&pg->tab->ent[idx].state, o->nswapped ? PG_SWAPPED : 0);
}

static void obj_free(struct pager *pg, struct ns_inode *ip)
{
	int idx = obj_index(pg, ip->ino);
	struct pg_obj *o;

	if (idx < 0)
		return;
	o = &pg->objs[idx];
	slots_free(pg, o, 0, o->cap);
	free(o->slots);
	memset(o, 0, sizeof(*o));
	atomic_store(&pg->tab->ent[idx].state, 0);
	pg_slot_free(pg->tab, idx);
	ip->swapped = 0;
}

/* The attributes as if nothing had moved: swapped pages count in
 * st_blocks (as shmem's alloced does), and our own writes and punches
 * did not change the ctime. */
static void obj_attr(struct pager *pg, struct ns_inode *ip, struct shx_attr *a)
{
	int idx = obj_index(pg, ip->ino);
	struct pg_obj *o;

	if (idx < 0)
		return;
	o = &pg->objs[idx];
	a->blocks += (uint64_t)o->nswapped * (PAGE / 512);
	if (o->ctime_after && a->ctime_ns == o->ctime_after && o->ctime_before)
		a->ctime_ns = o->ctime_before;
}

static void ns_event(void *ctx, struct ns_inode *ip, int ev, uint64_t size, struct shx_attr *a)
{
	struct pager *pg = ctx;

	switch (ev) {
	case NS_PG_CREATE:
		obj_create(pg, ip);
		break;
	case NS_PG_FREE:
		obj_free(pg, ip);
		break;
	case NS_PG_TRUNC:
		pager_swapin(pg, ip, size, 0, 1);
		break;
	case NS_PG_ATTR:
		obj_attr(pg, ip, a);
		break;
	}
}

/* --- moving pages, with the memfd's times kept ------------------------------ */

struct saved_times {
	struct timespec t[2];
	int64_t ctime;
	off_t size;
};

static int times_save(int fd, struct saved_times *s)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	s->t[0] = st.st_atim;
	s->t[1] = st.st_mtim;
	s->ctime = ts_ns(st.st_ctim);
	s->size = st.st_size;
	return 0;
}

static void times_restore(struct pg_obj *o, int fd, const struct saved_times *s)
{
	struct stat st;

	futimens(fd, s->t);
	if (fstat(fd, &st) < 0)
		return;
	/* what the file's ctime was before the first of our moves since
	 * the last real change */
	if (s->ctime != o->ctime_after || !o->ctime_before)
		o->ctime_before = s->ctime;
	o->ctime_after = ts_ns(st.st_ctim);
}

static int slots_grow(struct pg_obj *o, uint32_t pages)
{
	uint32_t cap = o->cap ? o->cap : 64;
	uint32_t *n;

	if (pages <= o->cap)
		return 0;
	while (cap < pages)
		cap *= 2;
	n = realloc(o->slots, (size_t)cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + o->cap, 0, (size_t)(cap - o->cap) * sizeof(*n));
	o->slots = n;
	o->cap = cap;
	return 0;
}

static int zero_page(const uint8_t *p)
{
	static const uint8_t zeros[64];

	for (size_t i = 0; i < PAGE; i += sizeof(zeros))
		if (memcmp(p + i, zeros, sizeof(zeros)))
			return 0;
	return 1;
}

static int wp_object(struct pager *pg, uint64_t ino, uint64_t off, uint64_t len, int on);
static void ranges_scan_begin(struct pager *pg);
static void ranges_from_scan(struct pager *pg);
static int ranges_register(struct pager *pg, uint64_t ino, uint64_t off, uint64_t len);
static void ranges_release(struct pager *pg);

/* Pages [p, p + n) of the object, present in its memfd, to swap: how many
 * went (from p on), or -errno when none could. */
static int write_run(struct pager *pg, struct pg_obj *o, struct ns_inode *ip, uint32_t p,
		     uint32_t n, off_t size)
{
	int fd = ip->memfd;
	ssize_t k;
	uint32_t done = 0;

	/* mapped: every registered mapping of the run is write-protected
	 * while its pages are copied and punched, so that a store through
	 * one waits (a write fault we answer once they are out) */
	if (ranges_register(pg, ip->ino, (uint64_t)p * PAGE, (uint64_t)n * PAGE) < 0 ||
	    wp_object(pg, ip->ino, (uint64_t)p * PAGE, (uint64_t)n * PAGE, 1) < 0) {
		shx_debug("page-out of ino %llu: a mapping changed (%s)", (unsigned long long)ip->ino,
			  strerror(errno));
		wp_object(pg, ip->ino, (uint64_t)p * PAGE, (uint64_t)n * PAGE, 0);
		return -EAGAIN;
	}
	k = pread(fd, pg->buf, (size_t)n * PAGE, (off_t)p * PAGE);
	if (k < 0) {
		k = -errno;
		wp_object(pg, ip->ino, (uint64_t)p * PAGE, (uint64_t)n * PAGE, 0);
		return k;
	}
	if ((size_t)k < (size_t)n * PAGE) /* the end of the file */
		memset(pg->buf + k, 0, (size_t)n * PAGE - k);
	n = (k + PAGE - 1) / PAGE;
	if (n == 0 || slots_grow(o, p + n) < 0)
		return -ENOMEM;
	while (done < n) {
		uint32_t m = 0, slot;
		int got, r;

		if (zero_page(pg->buf + (size_t)done * PAGE)) {
			slots_free(pg, o, p + done, p + done + 1);
			o->slots[p + done] = PGS_ZERO;
			o->nswapped++;
			done++;
			continue;
		}
		while (done + m < n && !zero_page(pg->buf + (size_t)(done + m) * PAGE))
			m++;
		got = swap_alloc(&pg->swap, m, &slot);
		if (got < 0)
			break;
		r = swap_write(&pg->swap, slot, pg->buf + (size_t)done * PAGE, got);
		if (r < 0) {
			swap_free(&pg->swap, slot, got);
			shx_log("swap: write: %s", strerror(-r));
			break;
		}
		for (int i = 0; i < got; i++) {
			slots_free(pg, o, p + done + i, p + done + i + 1);
			o->slots[p + done + i] = slot + i + 1;
			o->nswapped++;
		}
		done += got;
	}
	(void)size;
	if (done == 0) {
		wp_object(pg, ip->ino, (uint64_t)p * PAGE, (uint64_t)n * PAGE, 0);
		return -ENOSPC;
	}
	/* the saved pages leave memory; nobody wrote them meanwhile (no
	 * call in flight, no mapping that is not write-protected) */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)p * PAGE,
		      (off_t)done * PAGE) < 0) {
		int r = -errno;

		slots_free(pg, o, p, p + done);
		wp_object(pg, ip->ino, (uint64_t)p * PAGE, (uint64_t)n * PAGE, 0);
		return r;
	}
	/* and a store that waited faults again, on a missing page now */
	wp_object(pg, ip->ino, (uint64_t)p * PAGE, (uint64_t)n * PAGE, 0);
	pg->pageouts += done;
	return done;
}

/* Up to `want` bytes of the object out; returns what went. */
static uint64_t page_out(struct pager *pg, int idx, struct ns_inode *ip, uint64_t want)
{
	struct pg_entry *e = &pg->tab->ent[idx];
	struct pg_obj *o = &pg->objs[idx];
	struct saved_times st;
	uint64_t freed = 0;
	off_t pos = 0;

	/* the Dekker handshake with the clients (pgstate.h) */
	atomic_fetch_or(&e->state, PG_PAGING);
	if (atomic_load(&e->users) || atomic_load(&e->mapseq) != o->scan_mapseq ||
	    times_save(ip->memfd, &st) < 0) {
		state_update(pg, idx, ip);
		return 0;
	}
	while (freed < want && pos < st.size) {
		off_t d = lseek(ip->memfd, pos, SEEK_DATA), h;
		uint32_t p, end;

		if (d < 0)
			break;
		h = lseek(ip->memfd, d, SEEK_HOLE);
		if (h < 0)
			break;
		p = d / PAGE;
		end = (h + PAGE - 1) / PAGE;
		while (p < end && freed < want) {
			uint32_t n = end - p < RUN_MAX ? end - p : RUN_MAX;
			int r = write_run(pg, o, ip, p, n, st.size);

			if (r < 0) {
				want = 0; /* a mapping changed; or the swap is full,
					     out of fds... (the whole run stops) */
				if (r != -EAGAIN)
					pg->out_failed = 1;
				break;
			}
			p += r;
			freed += (uint64_t)r * PAGE;
		}
		pos = (off_t)p * PAGE > h ? (off_t)p * PAGE : h;
		if (p < end)
			break;
	}
	times_restore(o, ip->memfd, &st);
	state_update(pg, idx, ip);
	return freed;
}

/* Writes the slots of pages [p0, p1) back into the memfd. */
static void bring_in(struct pager *pg, int idx, struct ns_inode *ip, uint32_t p0, uint32_t p1)
{
	struct pg_obj *o = &pg->objs[idx];
	struct saved_times st;

	if (times_save(ip->memfd, &st) < 0)
		return;
	for (uint32_t p = p0; p < p1 && p < o->cap;) {
		uint32_t s = o->slots[p], n = 1;
		off_t off = (off_t)p * PAGE;
		size_t len;

		if (!s) {
			p++;
			continue;
		}
		if (off >= st.size || lseek(ip->memfd, off, SEEK_DATA) == off) {
			/* past the end (never: a truncate dropped them), or a page
			 * written since it went out, by a program that did not ask
			 * for it back (not preloaded): the newer one stays */
			slots_free(pg, o, p, p + 1);
			p++;
			continue;
		}
		if (s == PGS_ZERO) {
			/* written, not fallocated: tmpfs's SEEK_DATA counts only
			 * pages that are uptodate as data */
			len = st.size - off < PAGE ? (size_t)(st.size - off) : PAGE;
			memset(pg->buf, 0, len);
			if (pwrite(ip->memfd, pg->buf, len, off) != (ssize_t)len) {
				shx_log("swap-in of ino %llu failed: %s",
					(unsigned long long)ip->ino, strerror(errno));
				p++;
				continue;
			}
		} else {
			while (p + n < p1 && p + n < o->cap && n < RUN_MAX &&
			       o->slots[p + n] == s + n && o->slots[p + n] != PGS_ZERO &&
			       ((s - 1 + n) >> SWAP_FILE_SHIFT) == ((s - 1) >> SWAP_FILE_SHIFT) &&
			       lseek(ip->memfd, off + (off_t)n * PAGE, SEEK_DATA) != off + (off_t)n * PAGE)
				n++;
			len = (size_t)n * PAGE;
			if ((off_t)len > st.size - off)
				len = st.size - off;
			if (swap_read(&pg->swap, s - 1, pg->buf, n) < 0 ||
			    pwrite(ip->memfd, pg->buf, len, off) != (ssize_t)len) {
				/* keep the slots: the data is still there */
				shx_log("swap-in of ino %llu failed: %s", (unsigned long long)ip->ino,
					strerror(errno));
				p += n;
				continue;
			}
		}
		slots_free(pg, o, p, p + n);
		pg->pageins += n;
		p += n;
	}
	times_restore(o, ip->memfd, &st);
}

int pager_swapin(struct pager *pg, struct ns_inode *ip, uint64_t off, uint64_t len, int trunc)
{
	int idx = obj_index(pg, ip->ino);
	struct pg_obj *o;
	uint32_t p0, p1;

	if (idx < 0)
		return 0;
	o = &pg->objs[idx];
	if (!o->nswapped)
		return 0;
	if (trunc) {
		/* truncate_inode_pages_range: the page that the new end cuts
		 * comes in, so that the kernel zeroes its tail; the rest go */
		p0 = off / PAGE;
		if (off % PAGE)
			bring_in(pg, idx, ip, p0, p0 + 1);
		slots_free(pg, o, (off + PAGE - 1) / PAGE, o->cap);
	} else {
		p0 = off / PAGE < o->cap ? off / PAGE : o->cap;
		if (len == UINT64_MAX || len > (uint64_t)o->cap * PAGE)
			p1 = o->cap;
		else
			p1 = (off + len + PAGE - 1) / PAGE < o->cap ? (off + len + PAGE - 1) / PAGE
								    : o->cap;
		/* read ahead along the swapped run */
		for (uint32_t n = 0; p1 < o->cap && n < READAHEAD && o->slots[p1]; n++)
			p1++;
		bring_in(pg, idx, ip, p0, p1);
	}
	state_update(pg, idx, ip);
	return 0;
}

static int swapped_at(const struct pg_obj *o, uint64_t p)
{
	return p < o->cap && o->slots[p];
}

/* shmem_file_llseek, with the swapped pages as data */
int pager_seek(struct pager *pg, struct ns_inode *ip, int64_t off, int whence, int64_t *res)
{
	int idx = obj_index(pg, ip->ino);
	struct pg_obj *o = idx >= 0 ? &pg->objs[idx] : NULL;
	struct stat st;
	int64_t pos;

	if (fstat(ip->memfd, &st) < 0)
		return -errno;
	if (off < 0 || off >= st.st_size)
		return -ENXIO;
	if (whence == SEEK_DATA) {
		int64_t k = lseek(ip->memfd, off, SEEK_DATA);
		uint64_t p = off / PAGE;

		if (k < 0)
			k = st.st_size;
		while (o && p < o->cap && !o->slots[p] && (int64_t)(p * PAGE) < k)
			p++;
		if (o && swapped_at(o, p) && (int64_t)(p * PAGE) < k)
			k = (int64_t)(p * PAGE) > off ? (int64_t)(p * PAGE) : off;
		if (k >= st.st_size)
			return -ENXIO;
		*res = k;
		return 0;
	}
	for (pos = off;;) {
		int64_t h = lseek(ip->memfd, pos, SEEK_HOLE);
		uint64_t p;

		if (h < 0 || h >= st.st_size) {
			*res = st.st_size;
			return 0;
		}
		p = h / PAGE;
		if (!o || !swapped_at(o, p)) {
			*res = h;
			return 0;
		}
		while (swapped_at(o, p))
			p++;
		pos = p * PAGE;
		if (pos >= st.st_size) {
			*res = st.st_size;
			return 0;
		}
	}
}

/* --- the budget -------------------------------------------------------------- */

/* The memory limit of the cgroup this manager runs in (v2's memory.max,
 * else v1's limit_in_bytes), or UINT64_MAX. */
static uint64_t cgroup_limit(void)
{
	char line[4096], path[4200];
	uint64_t best = UINT64_MAX;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return best;
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		const char *file = NULL;
		unsigned long long v;
		FILE *g;

		if (!cg)
			continue;
		*cg++ = 0;
		cg[strcspn(cg, "\n")] = 0;
		if (!strcmp(ctrl + 1, ""))
			file = "/sys/fs/cgroup/unified%s/memory.max";
		else if (strstr(ctrl + 1, "memory"))
			file = "/sys/fs/cgroup/memory%s/memory.limit_in_bytes";
		if (!file)
			continue;
		for (int pass = 0; pass < 2; pass++) {
			/* v2 may be mounted at /sys/fs/cgroup itself */
			snprintf(path, sizeof(path), pass ? "/sys/fs/cgroup%s/memory.max" : file, cg);
			g = fopen(path, "re");
			if (!g)
				continue;
			if (fscanf(g, "%llu", &v) == 1 && v < best)
				best = v;
			fclose(g);
			break;
		}
	}
	fclose(f);
	return best;
}

static uint64_t default_budget(const struct pager *pg)
{
	uint64_t avail = procfs_meminfo_kb("MemAvailable") * 1024, cg = cgroup_limit();

	if (!avail)
		avail = procfs_meminfo_kb("MemTotal") * 1024;
	/* /proc/meminfo unreadable (out of fds, say): what was, else no
	 * limit -- never a budget of nothing, which pages everything out */
	if (!avail)
		return pg->budget ? pg->budget : UINT64_MAX;
	if (cg < avail)
		avail = cg;
	return avail / 100 * pg->budget_pct;
}

struct census {
	struct pager *pg;
	uint64_t resident;
	int collect; /* also list the candidates for page-out */
	int *cand;
	size_t n, cap;
};

static void count_one(struct ns_inode *ip, void *arg)
{
	struct census *c = arg;
	struct stat st;
	int idx;

	if (!S_ISREG(ip->mode) || fstat(ip->memfd, &st) < 0)
		return;
	c->resident += (uint64_t)st.st_blocks * 512;
	idx = obj_index(c->pg, ip->ino);
	if (idx < 0 || !st.st_blocks || !c->collect)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		int *n = realloc(c->cand, cap * sizeof(*n));

		if (!n)
			return;
		c->cand = n;
		c->cap = cap;
	}
	c->cand[c->n++] = idx;
	/* before the scan, so that a mapping made during it is seen */
	c->pg->objs[idx].scan_mapseq = atomic_load(&c->pg->tab->ent[idx].mapseq);
}

struct scan {
	struct pager *pg;
	uint64_t gen;
	pid_t pid;
};

static int registered(struct pager *pg, pid_t pid, const struct procfs_map *m);

static void pin(struct scan *sc, uint64_t ino)
{
	int idx = obj_index(sc->pg, ino);

	if (idx >= 0)
		sc->pg->objs[idx].pinned = sc->gen;
}

/* A mapping pins its object unless the manager answers its faults: a
 * shared mapping registered with the process's userfaultfd. */
static void pin_mapped(const struct procfs_map *m, void *arg)
{
	struct scan *sc = arg;

	if (m->dev_major == 0 && !strncmp(m->path, "/memfd:shmemx", 13) &&
	    !registered(sc->pg, sc->pid, m))
		pin(sc, m->ino);
}

/* An fd of ours held by a process that is not a client: its reads and
 * writes would not wait for a page-in. */
static void pin_held(struct scan *sc, pid_t pid)
{
	char dir[64];
	struct dirent *d;
	struct stat st;
	DIR *fds;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	fds = opendir(dir);
	if (!fds)
		return;
	while ((d = readdir(fds)))
		if (d->d_name[0] != '.' && fstatat(dirfd(fds), d->d_name, &st, 0) == 0 &&
		    S_ISREG(st.st_mode) && major(st.st_dev) == 0)
			pin(sc, st.st_ino);
	closedir(fds);
}

static void scan_processes(struct pager *pg, uint64_t gen, const pid_t *clients, size_t n)
{
	struct scan sc = { pg, gen, 0 };
	pid_t self = getpid();
	struct dirent *d;
	DIR *proc = opendir("/proc");

	if (!proc)
		return;
	while ((d = readdir(proc))) {
		pid_t pid = atoi(d->d_name);
		int client = 0;

		if (pid <= 0 || pid == self)
			continue;
		sc.pid = pid;
		procfs_maps(pid, pin_mapped, &sc);
		for (size_t i = 0; i < n && !client; i++)
			client = clients[i] == pid;
		if (!client)
			pin_held(&sc, pid);
	}
	closedir(proc);
}

static struct pager *sort_pg;

static int colder(const void *a, const void *b)
{
	uint32_t ta = atomic_load(&sort_pg->tab->ent[*(const int *)a].tick);
	uint32_t tb = atomic_load(&sort_pg->tab->ent[*(const int *)b].tick);

	return ta < tb ? -1 : ta > tb;
}

static int pageable(struct pager *pg, struct ns_inode *ip, int idx, uint64_t gen)
{
	if (pg->objs[idx].pinned == gen || atomic_load(&pg->tab->ent[idx].users))
		return 0;
	/* SHM_LOCK: shmem_lock keeps the pages off the LRU */
	return !(ip->seg && (ip->seg->mode & SYSV_LOCKED));
}

void pager_run(struct pager *pg, const pid_t *clients, size_t nclients)
{
	static uint64_t gen;
	struct census c = { pg, 0, 0, NULL, 0, 0 };
	int64_t now = ns_now();
	uint64_t target;

	if (!pg->tab || now < pg->next_run_ns)
		return;
	pg->next_run_ns = now + PERIOD_NS;
	atomic_fetch_add(&pg->tab->tick, 1);
	ranges_release(pg);
	/* What the machine gives (/proc/meminfo, the cgroup) moves slowly:
	 * read every tenth period.  The objects' memory is charged before
	 * it is written (by clients with the library; quotas), swapped pages
	 * included: charges within the budget leave nothing to page out but
	 * what writers without the library added, which the full look of
	 * every tenth period finds.  So most periods cost no fstat of every
	 * object. */
	if (pg->budget_set)
		pg->budget = pg->budget_set;
	else if (pg->periods % 10 == 0 || !pg->budget)
		pg->budget = default_budget(pg);
	if (pg->periods++ % 10 != 0 && pg->ns->size_used <= pg->budget)
		return;
	ns_each(pg->ns, count_one, &c);
	pg->resident = c.resident;
	if (c.resident <= pg->budget)
		return;
	/* go down to 7/8 of the budget, so that a writer just over it does
	 * not make every period a page-out */
	target = pg->budget - pg->budget / 8;
	c.resident = 0;
	c.collect = 1;
	ns_each(pg->ns, count_one, &c);
	if (!pg->swap_ready) {
		char parent[SHX_PATH_MAX], *slash;
		int r;

		snprintf(parent, sizeof(parent), "%s", pg->swap_dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = 0;
			shx_make_private_dir(parent);
		}
		r = swap_init(&pg->swap, pg->swap_dir, pg->swap_limit);

		if (r < 0) {
			shx_log("swap directory %s: %s; not paging", pg->swap_dir, strerror(-r));
			pg->next_run_ns = now + 10 * 1000000000LL;
			free(c.cand);
			return;
		}
		pg->swap_ready = 1;
	}
	ranges_scan_begin(pg);
	scan_processes(pg, ++gen, clients, nclients);
	ranges_from_scan(pg);
	shx_debug("over budget: %llu resident of %llu, %zu candidates",
		  (unsigned long long)pg->resident, (unsigned long long)pg->budget, c.n);
	sort_pg = pg;
	qsort(c.cand, c.n, sizeof(*c.cand), colder);
	pg->out_failed = 0;
	for (size_t i = 0; i < c.n && pg->resident > target && !pg->out_failed; i++) {
		int idx = c.cand[i];
		struct ns_inode *ip = ns_iget(pg->ns, atomic_load(&pg->tab->ent[idx].ino));
		uint64_t out;

		if (!ip || !pageable(pg, ip, idx, gen))
			continue;
		out = page_out(pg, idx, ip, pg->resident - target);
		shx_debug("page-out of ino %llu: %llu bytes", (unsigned long long)ip->ino,
			  (unsigned long long)out);
		pg->resident -= out < pg->resident ? out : pg->resident;
	}
	/* the swap is full or failing (its cause logged): not again at
	 * once, which would spend every period on it */
	if (pg->out_failed)
		pg->next_run_ns = now + 1000000000LL;
	free(c.cand);
}

int pager_timeout_ms(const struct pager *pg)
{
	int64_t left = (pg->next_run_ns - ns_now()) / 1000000;

	if (!pg->tab || pg->ns->objects == 0)
		return 1000;
	return left < 0 ? 0 : left > 1000 ? 1000 : (int)left + 1;
}

/* --- set-up, settings, statistics ---------------------------------------------- */

int pager_init(struct pager *pg, struct ns *ns, struct sysv *sv, const struct shx_config *cfg,
	       const char *state_dir)
{
	memset(pg, 0, sizeof(*pg));
	pg->ns = ns;
	pg->sysv = sv;
	pg->tabfd = -1;
	pg->budget_set = cfg->swap_budget;
	pg->budget_pct = cfg->swap_budget_pct;
	pg->swap_limit = cfg->swap_limit ? cfg->swap_limit : cfg->size_limit;
	if (cfg->swap_dir[0])
		snprintf(pg->swap_dir, sizeof(pg->swap_dir), "%s", cfg->swap_dir);
	else
		snprintf(pg->swap_dir, sizeof(pg->swap_dir), "%s/swap", state_dir);
	pg->buf = malloc((size_t)RUN_MAX * PAGE);
	pg->objs = calloc(PG_SLOTS, sizeof(*pg->objs));
	pg->tabfd = memfd_create("pgstate", MFD_CLOEXEC);
	if (!pg->buf || !pg->objs || pg->tabfd < 0 || ftruncate(pg->tabfd, PG_TABLE_SIZE) < 0)
		goto fail;
	pg->tab = mmap(NULL, PG_TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, pg->tabfd, 0);
	if (pg->tab == MAP_FAILED) {
		pg->tab = NULL;
		goto fail;
	}
	pg->tab->magic = PG_MAGIC;
	pg->tab->nslots = PG_SLOTS;
	ns->pg_hook = ns_event;
	ns->pg_ctx = pg;
	return 0;
fail:
	/* no paging, but everything else works */
	shx_log("paging off: %s", strerror(errno));
	pager_fini(pg);
	return 0;
}

static void uctx_free(struct pager *pg, struct pg_uctx *u, int swapin);

void pager_fini(struct pager *pg)
{
	while (pg->uctxs)
		uctx_free(pg, pg->uctxs, 0);
	if (pg->ns && pg->ns->pg_ctx == pg)
		pg->ns->pg_hook = NULL;
	if (pg->tab)
		munmap(pg->tab, PG_TABLE_SIZE);
	pg->tab = NULL;
	if (pg->tabfd >= 0)
		close(pg->tabfd);
	pg->tabfd = -1;
	if (pg->objs)
		for (uint32_t i = 0; i < PG_SLOTS; i++)
			free(pg->objs[i].slots);
	free(pg->objs);
	pg->objs = NULL;
	free(pg->buf);
	pg->buf = NULL;
	if (pg->swap_ready)
		swap_fini(&pg->swap);
	pg->swap_ready = 0;
}

int pager_table_fd(const struct pager *pg)
{
	return pg->tab ? pg->tabfd : -1;
}

struct swapped_count {
	uint64_t bytes, objects;
};

static void count_swapped(struct ns_inode *ip, void *arg)
{
	struct swapped_count *s = arg;

	if (ip->swapped) {
		s->bytes += ip->swapped;
		s->objects++;
	}
}

void pager_info(struct pager *pg, struct shx_swapinfo *si)
{
	struct swapped_count s = { 0, 0 };
	struct census c = { pg, 0, 0, NULL, 0, 0 };

	ns_each(pg->ns, count_swapped, &s);
	ns_each(pg->ns, count_one, &c);
	memset(si, 0, sizeof(*si));
	si->budget = pg->budget_set ? pg->budget_set : default_budget(pg);
	si->budget_pct = pg->budget_set ? 0 : pg->budget_pct;
	si->resident = c.resident;
	si->swapped = s.bytes;
	si->objects_out = s.objects;
	si->swap_limit = pg->swap_limit;
	si->swap_used = pg->swap_ready ? swap_bytes_used(&pg->swap) : 0;
	si->pageins = pg->pageins;
	si->pageouts = pg->pageouts;
	si->enabled = pg->tab != NULL;
	snprintf(si->dir, sizeof(si->dir), "%s", pg->swap_dir);
}

int pager_set(struct pager *pg, unsigned what, uint64_t value, const char *dir)
{
	int r = 0;

	switch (what) {
	case SHX_SWAPSET_BUDGET:
		pg->budget_set = value;
		pg->budget = 0; /* the next period works it out, and looks */
		pg->periods = 0;
		break;
	case SHX_SWAPSET_BUDGET_PCT:
		if (value < 1 || value > 100)
			return -EINVAL;
		pg->budget_set = 0;
		pg->budget_pct = value;
		pg->budget = 0;
		pg->periods = 0;
		break;
	case SHX_SWAPSET_LIMIT:
		if (pg->swap_ready)
			r = swap_set_limit(&pg->swap, value);
		if (r == 0)
			pg->swap_limit = value;
		break;
	case SHX_SWAPSET_DIR:
		if (dir[0] != '/')
			return -EINVAL;
		if (pg->swap_ready)
			r = swap_set_dir(&pg->swap, dir);
		if (r == 0)
			snprintf(pg->swap_dir, sizeof(pg->swap_dir), "%s", dir);
		break;
	default:
		return -EINVAL;
	}
	pg->next_run_ns = 0; /* look at the budget again now */
	return r;
}

/* --- mapped pages: the clients' userfaultfds ------------------------------------
 *
 * A client hands the manager a userfaultfd of its own (MISSING and WP
 * on shmem), and each shared mapping it makes of an object: the manager
 * registers the range.  A fault on a page that is out is answered with
 * UFFDIO_COPY of the slots (reading ahead along the run), which puts
 * the page back into the object's page cache for everyone; a fault on
 * a hole with a page of zeros, as shmem's own fault would allocate one.
 * The manager never blocks on a client: its uffds are non-blocking, and
 * a client gone (ESRCH) is dropped.
 */

struct pg_range {
	uint64_t start, end; /* addresses */
	uint64_t ino, off;   /* the object, and the file offset at start */
	int reg;	     /* registered with the uffd: only while the object has pages out */
};

struct pg_uctx {
	struct pg_uctx *next;
	struct pager *pg;
	int fd;
	pid_t pid;
	struct pg_range *r;
	size_t n, cap;
	struct pg_range *seen; /* the scan's: its shared mappings of objects */
	size_t nseen, capseen;
};

static struct pg_uctx *uctx_of(struct pager *pg, pid_t pid)
{
	for (struct pg_uctx *u = pg->uctxs; u; u = u->next)
		if (u->pid == pid)
			return u;
	return NULL;
}

/* A shared mapping seen in the maps of a process whose uffd we hold: its
 * faults can be ours, so it does not pin its object; it is noted for the
 * list that replaces the process's at the end of the scan. */
static int registered(struct pager *pg, pid_t pid, const struct procfs_map *m)
{
	struct pg_uctx *u = uctx_of(pg, pid);

	if (!u || m->perms[3] != 's')
		return 0;
	if (u->nseen == u->capseen) {
		size_t cap = u->capseen ? u->capseen * 2 : 16;
		struct pg_range *n = realloc(u->seen, cap * sizeof(*n));

		if (!n)
			return 0;
		u->seen = n;
		u->capseen = cap;
	}
	u->seen[u->nseen++] = (struct pg_range){ m->start, m->end, m->ino, m->offset, 0 };
	return 1;
}

static void ranges_scan_begin(struct pager *pg)
{
	for (struct pg_uctx *u = pg->uctxs; u; u = u->next)
		u->nseen = 0;
}

/* The scan is over: each process's list is what its maps showed (a range
 * keeps being "registered" if it overlaps one that was, so that release
 * unregisters it). */
static void ranges_from_scan(struct pager *pg)
{
	for (struct pg_uctx *u = pg->uctxs; u; u = u->next) {
		struct pg_range *t;
		size_t tc;

		for (size_t i = 0; i < u->nseen; i++)
			for (size_t k = 0; k < u->n; k++)
				if (u->r[k].reg && u->r[k].start < u->seen[i].end &&
				    u->seen[i].start < u->r[k].end)
					u->seen[i].reg = 1;
		t = u->r;
		tc = u->cap;
		u->r = u->seen;
		u->n = u->nseen;
		u->cap = u->capseen;
		u->seen = t;
		u->capseen = tc;
		u->nseen = 0;
	}
}

/* Forgets [start, end) of u's ranges: whole ones go, others are cut. */
static void ranges_cut(struct pg_uctx *u, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < u->n;) {
		struct pg_range *r = &u->r[i];

		if (r->end <= start || r->start >= end) {
			i++;
			continue;
		}
		if (r->start < start && r->end > end && u->n < u->cap) {
			/* a hole in the middle: the tail becomes a range of its own */
			u->r[u->n] = (struct pg_range){ end, r->end, r->ino, r->off + (end - r->start),
							r->reg };
			u->n++;
			r->end = start;
			i++;
		} else if (r->start < start) {
			r->end = start;
			i++;
		} else if (r->end > end) {
			r->off += end - r->start;
			r->start = end;
			i++;
		} else {
			*r = u->r[--u->n];
		}
	}
}

static void uctx_free(struct pager *pg, struct pg_uctx *u, int swapin)
{
	for (struct pg_uctx **pp = &pg->uctxs; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	/* a process that lives on keeps its mappings, which no fault will
	 * bring in any more: what they map comes in now */
	for (size_t i = 0; swapin && i < u->n; i++) {
		struct ns_inode *ip = ns_iget(pg->ns, u->r[i].ino);

		if (ip)
			pager_swapin(pg, ip, 0, UINT64_MAX, 0);
	}
	if (pg->unwatch)
		pg->unwatch(pg->watch_ctx, u->fd);
	close(u->fd);
	free(u->r);
	free(u->seen);
	free(u);
}

static int is_uffd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = 0;
	return !strcmp(link, "anon_inode:[userfaultfd]");
}

int pager_uffd_add(struct pager *pg, pid_t pid, int fd)
{
	struct pg_uctx *u, *old = uctx_of(pg, pid);

	if (!pg->tab || !pg->watch || !is_uffd(fd) || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		close(fd);
		return -EINVAL;
	}
	if (old)
		uctx_free(pg, old, 1);
	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		return -ENOMEM;
	}
	*u = (struct pg_uctx){ .pg = pg, .fd = fd, .pid = pid };
	if (pg->watch(pg->watch_ctx, fd, u) < 0) {
		close(fd);
		free(u);
		return -ENOMEM;
	}
	u->next = pg->uctxs;
	pg->uctxs = u;
	return 0;
}

/* The part of mapping r that shows file range [off, off + len), as
 * addresses; 0 when they do not meet. */
static int range_part(const struct pg_range *r, uint64_t off, uint64_t len, __u64 *a,
		      __u64 *n)
{
	uint64_t rlen = r->end - r->start, lo, hi;

	if (r->off >= off + len || r->off + rlen <= off)
		return 0;
	lo = off > r->off ? off : r->off;
	hi = off + len < r->off + rlen ? off + len : r->off + rlen;
	*a = r->start + (lo - r->off);
	*n = hi - lo;
	return 1;
}

/* Registers the part of mapping r over file range [off, off + len):
 * only pages that are out are registered, so that a fault on a hole stays
 * the kernel's (which leaves it a hole for SEEK_DATA). */
struct vma_check {
	const struct pg_range *r;
	int bad;
};

/* Every VMA in r's range maps our object at r's offsets. */
static void vma_is_ours(const struct procfs_map *m, void *arg)
{
	struct vma_check *c = arg;

	if (m->end <= c->r->start || m->start >= c->r->end)
		return;
	if (m->dev_major != 0 || m->ino != c->r->ino || m->perms[3] != 's' ||
	    m->offset + (c->r->start - m->start) != c->r->off)
		c->bad = 1;
}

/* Registers mapping r (the whole of it, so that its VMA is not split; a
 * fault on a hole gets the page of zeros shmem's own fault would
 * allocate).  The mapping was learnt from the maps a moment ago; if
 * something else lives there now, the registration is undone: a VMA keeps
 * its registration until it goes, so one look after registering is
 * enough, and a registered range needs no other. */
static int range_register(struct pg_uctx *u, struct pg_range *r, uint64_t off, uint64_t len)
{
	struct uffdio_register reg = { .range = { r->start, r->end - r->start },
				       .mode = UFFDIO_REGISTER_MODE_MISSING |
					       UFFDIO_REGISTER_MODE_WP };
	struct vma_check c = { r, 0 };
	__u64 a, n;

	if (r->reg || !range_part(r, off, len, &a, &n))
		return 0;
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg) < 0)
		return -errno;
	procfs_maps(u->pid, vma_is_ours, &c);
	if (c.bad) {
		struct uffdio_range undo = { r->start, r->end - r->start };

		ioctl(u->fd, UFFDIO_UNREGISTER, &undo);
		return -ESTALE;
	}
	r->reg = 1;
	return 0;
}

/* Every mapping of file range [off, off + len) of object ino registered,
 * before its pages go out; a mapping that cannot be is forgotten (it was
 * unmapped under us: the scan will tell) and the call fails. */
static int ranges_register(struct pager *pg, uint64_t ino, uint64_t off, uint64_t len)
{
	int res = 0;

	for (struct pg_uctx *u = pg->uctxs; u; u = u->next)
		for (size_t i = 0; i < u->n; i++) {
			int e;

			if (u->r[i].ino != ino || (e = range_register(u, &u->r[i], off, len)) == 0)
				continue;
			shx_debug("pid %d: a mapping at %#llx cannot be registered: %s", (int)u->pid,
				  (unsigned long long)u->r[i].start, strerror(-e));
			res = -EAGAIN;
			u->r[i] = u->r[--u->n];
			i--;
		}
	return res;
}

int pager_map(struct pager *pg, pid_t pid, uint64_t addr, uint64_t len, uint64_t off,
	      struct ns_inode *ip)
{
	struct pg_uctx *u = uctx_of(pg, pid);
	struct pg_range *r;
	int idx = obj_index(pg, ip->ino);

	if (!u || idx < 0)
		return -ENOENT;
	if (addr % PAGE || off % PAGE || len == 0 || addr + len < addr)
		return -EINVAL;
	len = (len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	ranges_cut(u, addr, addr + len); /* what was mapped there before */
	if (u->n + 2 > u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		struct pg_range *n = realloc(u->r, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		u->r = n;
		u->cap = cap;
	}
	r = &u->r[u->n];
	*r = (struct pg_range){ addr, addr + len, ip->ino, off, 0 };
	/* pages out already: its faults are ours from now on */
	if (pg->objs[idx].nswapped) {
		int e = range_register(u, r, off, len);

		if (e < 0) {
			if (e == -ESRCH)
				uctx_free(pg, u, 0);
			return e;
		}
	}
	u->n++;
	return 0;
}

/* Objects with nothing out any more go back to the kernel's faults. */
static void ranges_release(struct pager *pg)
{
	for (struct pg_uctx *u = pg->uctxs; u; u = u->next)
		for (size_t i = 0; i < u->n; i++) {
			struct pg_range *r = &u->r[i];
			int idx;

			if (!r->reg)
				continue;
			idx = obj_index(pg, r->ino);
			if (idx < 0 || !pg->objs[idx].nswapped) {
				struct uffdio_range range = { r->start, r->end - r->start };

				if (ioctl(u->fd, UFFDIO_UNREGISTER, &range) == 0)
					r->reg = 0;
			}
		}
}

void pager_proc_gone(struct pager *pg, pid_t pid)
{
	struct pg_uctx *u = uctx_of(pg, pid);

	if (u)
		uctx_free(pg, u, kill(pid, 0) == 0);
}

/* Write-protects (on) or releases the registered mappings of file range
 * [off, off + len) of object ino in every client.  A range the kernel no
 * longer has (unmapped, its process gone) is forgotten and, when
 * protecting, makes the call fail: the caller then does not page. */
static int wp_object(struct pager *pg, uint64_t ino, uint64_t off, uint64_t len, int on)
{
	int res = 0;

	for (struct pg_uctx *u = pg->uctxs; u; u = u->next) {
		for (size_t i = 0; i < u->n; i++) {
			struct pg_range *r = &u->r[i];
			struct uffdio_writeprotect wp = { .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };

			if (r->ino != ino || !range_part(r, off, len, &wp.range.start, &wp.range.len))
				continue;
			if (ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp) == 0)
				continue;
			if (on)
				res = -errno;
			if (errno == ENOENT || errno == EINVAL || errno == ESRCH) {
				*r = u->r[--u->n];
				i--;
			}
		}
	}
	return res;
}

struct vma_find {
	uint64_t addr;
	uint64_t ino, off;
	int found;
};

static void find_vma(const struct procfs_map *m, void *arg)
{
	struct vma_find *f = arg;

	if (!f->found && m->start <= f->addr && f->addr < m->end && m->dev_major == 0 &&
	    !strncmp(m->path, "/memfd:shmemx", 13)) {
		f->ino = m->ino;
		f->off = m->offset + (f->addr - m->start);
		f->found = 1;
	}
}

static void wake(struct pg_uctx *u, uint64_t page, uint64_t len)
{
	struct uffdio_range r = { page, len };

	ioctl(u->fd, UFFDIO_WAKE, &r);
}

/* A fault at addr in u's process: 0, or -ESRCH when it is gone. */
static int fault(struct pg_uctx *u, uint64_t addr, uint64_t flags)
{
	struct pager *pg = u->pg;
	uint64_t page = addr & ~(uint64_t)(PAGE - 1), end = page + PAGE, ino = 0, off = 0;
	struct ns_inode *ip;
	struct pg_obj *o;
	struct uffdio_copy cp;
	struct stat st;
	uint32_t first, n = 0;
	int idx;

	for (size_t i = 0; i < u->n; i++)
		if (u->r[i].start <= page && page < u->r[i].end) {
			ino = u->r[i].ino;
			off = u->r[i].off + (page - u->r[i].start);
			end = u->r[i].end;
			break;
		}
	if (!ino) { /* a range we lost track of: the kernel's maps say */
		struct vma_find f = { .addr = page };

		procfs_maps(u->pid, find_vma, &f);
		ino = f.ino;
		off = f.off;
	}
	ip = ino ? ns_iget(pg->ns, ino) : NULL;
	if (!ip && !(flags & UFFD_PAGEFAULT_FLAG_WP)) {
		/* registered, yet no object of ours: let the kernel have it */
		struct uffdio_range range = { page, PAGE };

		ioctl(u->fd, UFFDIO_UNREGISTER, &range);
	}
	if (!ip || (flags & UFFD_PAGEFAULT_FLAG_WP) || fstat(ip->memfd, &st) < 0 ||
	    (off_t)off >= st.st_size) {
		/* write-protection is never left on; past the end the kernel
		 * says SIGBUS when the fault comes again */
		struct uffdio_writeprotect wp = { { page, PAGE }, 0 };

		if ((flags & UFFD_PAGEFAULT_FLAG_WP) && ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp) == 0)
			return 0;
		wake(u, page, PAGE);
		return 0;
	}
	idx = obj_index(pg, ino);
	o = idx >= 0 ? &pg->objs[idx] : NULL;
	first = off / PAGE;
	/* the run of swapped pages from here, within the mapping and the file */
	while (o && n < READAHEAD && swapped_at(o, first + n) && page + (uint64_t)n * PAGE < end &&
	       (off_t)(off + (uint64_t)n * PAGE) < st.st_size) {
		uint32_t s = o->slots[first + n];

		if (s == PGS_ZERO)
			memset(pg->buf + (size_t)n * PAGE, 0, PAGE);
		else if (swap_read(&pg->swap, s - 1, pg->buf + (size_t)n * PAGE, 1) < 0)
			break;
		n++;
	}
	if (n == 0) { /* a hole: shmem would allocate a page of zeros */
		memset(pg->buf, 0, PAGE);
		n = 1;
	}
	cp = (struct uffdio_copy){ .dst = page, .src = (uintptr_t)pg->buf,
				   .len = (uint64_t)n * PAGE, .mode = 0 };
	if (ioctl(u->fd, UFFDIO_COPY, &cp) < 0 && errno == ESRCH)
		return -ESRCH;
	if (cp.copy < 0 && cp.copy != -EEXIST && cp.copy != -EAGAIN && n > 1) {
		/* the run crosses into another VMA: the faulting page alone */
		cp = (struct uffdio_copy){ .dst = page, .src = (uintptr_t)pg->buf, .len = PAGE };
		if (ioctl(u->fd, UFFDIO_COPY, &cp) < 0 && errno == ESRCH)
			return -ESRCH;
	}
	if (cp.copy > 0 && o && swapped_at(o, first)) {
		uint32_t done = cp.copy / PAGE;

		slots_free(pg, o, first, first + done);
		pg->pageins += done;
		state_update(pg, idx, ip);
	}
	if (cp.copy <= 0) /* there already (EEXIST), or the mm is changing */
		wake(u, page, PAGE);
	return 0;
}

void pager_uffd_ready(struct pg_uctx *u)
{
	struct uffd_msg msg[16];

	for (;;) {
		ssize_t n = read(u->fd, msg, sizeof(msg));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (size_t i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
			if (msg[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			if (fault(u, msg[i].arg.pagefault.address, msg[i].arg.pagefault.flags) < 0) {
				uctx_free(u->pg, u, 0);
				return;
			}
		}
	}
}
