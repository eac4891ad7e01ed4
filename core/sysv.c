/* sysv.c -- System V shared memory in the manager (see sysv.h).
 *
 * The rules are those of ipc/shm.c and ipc/util.c, and the comments name
 * the kernel function each part mirrors: ids are built as ipc_idr_alloc
 * builds them (a cyclic index below max(in_use * 3/2, 64), and a sequence
 * number that moves on when the index wraps), keys are found as
 * ipc_findkey finds them, permissions are ipcperms', and the limits are
 * checked where newseg checks them.
 *
 * Attachments are counted per process.  The counts come from what clients
 * report, and are checked against /proc/PID/maps -- one line per mapping,
 * the memfd known by its device and inode -- whenever they may be wrong:
 * before shm_nattch is reported or decides a segment's fate, when a
 * connection of the process ends (an exec closes them all), now and then
 * for processes that may change their mappings without a word, and never
 * for the dead, whose pidfd says when they went.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "sysv.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SHM_HUGETLB
#define SHM_HUGETLB 04000
#endif
#ifndef SHM_NORESERVE
#define SHM_NORESERVE 010000
#endif
#ifndef SHM_RDONLY
#define SHM_RDONLY 010000
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#define SHM_HUGE_SHIFT 26
#define SHM_HUGE_MASK 0x3f

#define S_IRUGO 0444
#define S_IWUGO 0222
#define S_IXUGO 0111

/* the first look at a process that may unmap unseen, and the longest wait
 * between two looks */
#define CHECK_FIRST_NS 1000000000LL
#define CHECK_MAX_NS (64 * CHECK_FIRST_NS)

struct sysv_lock {
	uint32_t uid;
	uint64_t pages;
	struct sysv_lock *next;
};

/* ktime_get_real_seconds: the seconds of the last tick, which are what
 * time() reads -- CLOCK_REALTIME itself may already be a second on. */
static int64_t now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) < 0)
		return ns_now() / 1000000000;
	return ts.tv_sec;
}

/* --- what /proc says of a client ----------------------------------------- */

static uint64_t proc_memlock_limit(pid_t pid)
{
	struct rlimit rl;

	if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &rl) < 0 && getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		return 0;
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}

static int capable(struct sysv *sv, const struct shx_cred *cr, int cap)
{
	return sv->ops.capable(cr->pid, cap);
}

/* in_group_p: the effective group, else the supplementary ones */
static int in_group(struct sysv *sv, const struct shx_cred *cr, uint32_t gid)
{
	return cr->gid == gid || sv->ops.in_group(cr->pid, gid);
}

/* ipcperms: 0, or -1 when `flag` asks for more than the mode grants */
static int ipcperms(struct sysv *sv, const struct shx_cred *cr, const struct sysv_seg *seg,
		    short flag)
{
	int requested = (flag >> 6) | (flag >> 3) | flag;
	unsigned granted = seg->mode;

	if (cr->uid == seg->cuid || cr->uid == seg->uid)
		granted >>= 6;
	else if (in_group(sv, cr, seg->cgid) || in_group(sv, cr, seg->gid))
		granted >>= 3;
	if ((requested & ~granted & 7) && !capable(sv, cr, SYSV_CAP_IPC_OWNER))
		return -1;
	return 0;
}

/* ipcctl_obtain_check: the owner, the creator, or CAP_SYS_ADMIN */
static int may_change(struct sysv *sv, const struct shx_cred *cr, const struct sysv_seg *seg)
{
	if (cr->uid == seg->cuid || cr->uid == seg->uid || capable(sv, cr, SYSV_CAP_SYS_ADMIN))
		return 0;
	return -EPERM;
}

/* --- tables: keys, indices, processes ------------------------------------ */

static struct sysv_seg **key_slot(struct sysv *sv, int32_t key)
{
	return &sv->keys[((uint32_t)key * 2654435761u >> 8) % SYSV_KEY_BUCKETS];
}

/* ipc_findkey */
static struct sysv_seg *key_find(struct sysv *sv, int32_t key)
{
	struct sysv_seg *s = *key_slot(sv, key);

	while (s && s->key != key)
		s = s->knext;
	return s;
}

static void key_insert(struct sysv *sv, struct sysv_seg *seg)
{
	struct sysv_seg **pp = key_slot(sv, seg->key);

	seg->knext = *pp;
	*pp = seg;
}

/* ipc_kht_remove, as ipc_set_key_private and ipc_rmid do */
static void key_remove(struct sysv *sv, struct sysv_seg *seg)
{
	struct sysv_seg **pp;

	if (seg->key == IPC_PRIVATE)
		return;
	for (pp = key_slot(sv, seg->key); *pp; pp = &(*pp)->knext) {
		if (*pp == seg) {
			*pp = seg->knext;
			return;
		}
	}
}

/* ipc_obtain_object_idr: by index alone (SHM_STAT) */
static struct sysv_seg *seg_at(struct sysv *sv, int id)
{
	int i = id & (SYSV_IPCMNI - 1);

	return id >= 0 && i < sv->idx_cap ? sv->idx[i] : NULL;
}

/* ipc_obtain_object_check: the index, and the sequence number too */
static struct sysv_seg *seg_find(struct sysv *sv, int id)
{
	struct sysv_seg *s = seg_at(sv, id);

	return s && s->id == id ? s : NULL;
}

/* ipc_idr_alloc: idr_alloc_cyclic below max(in_use * 3/2, ipc_min_cycle),
 * the sequence number moving on when the index comes round again */
static int idx_alloc(struct sysv *sv, struct sysv_seg *seg)
{
	int end = sv->in_use * 3 / 2, i = -1;

	if (end < SYSV_MIN_CYCLE)
		end = SYSV_MIN_CYCLE;
	if (end > SYSV_IPCMNI)
		end = SYSV_IPCMNI;
	if (end > sv->idx_cap) {
		int cap = sv->idx_cap ? sv->idx_cap : SYSV_MIN_CYCLE;
		struct sysv_seg **t;

		while (cap < end)
			cap *= 2;
		t = realloc(sv->idx, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + sv->idx_cap, 0, (cap - sv->idx_cap) * sizeof(*t));
		sv->idx = t;
		sv->idx_cap = cap;
	}
	for (int j = sv->next_idx; j < end && i < 0; j++)
		if (!sv->idx[j])
			i = j;
	for (int j = 0; j < end && i < 0; j++)
		if (!sv->idx[j])
			i = j;
	if (i < 0)
		return -ENOSPC;
	sv->next_idx = i + 1;
	if (i <= sv->last_idx && ++sv->seq >= SYSV_SEQ_MAX)
		sv->seq = 0;
	sv->last_idx = i;
	seg->seq = sv->seq;
	seg->id = (sv->seq << SYSV_SEQ_SHIFT) + i;
	sv->idx[i] = seg;
	sv->in_use++;
	if (i > sv->max_idx)
		sv->max_idx = i;
	return 0;
}

/* ipc_rmid */
static void idx_remove(struct sysv *sv, struct sysv_seg *seg)
{
	int i = seg->id & (SYSV_IPCMNI - 1);

	sv->idx[i] = NULL;
	sv->in_use--;
	if (i == sv->max_idx)
		while (sv->max_idx >= 0 && !sv->idx[sv->max_idx])
			sv->max_idx--;
}

/* ipc_get_maxidx, as IPC_INFO and SHM_INFO return it (never below 0) */
static int maxidx(const struct sysv *sv)
{
	if (sv->in_use == 0)
		return 0;
	return sv->in_use == SYSV_IPCMNI ? SYSV_IPCMNI - 1 : sv->max_idx;
}

static struct sysv_proc **proc_slot(struct sysv *sv, pid_t pid)
{
	return &sv->procs[(uint32_t)pid % SYSV_PROC_BUCKETS];
}

static struct sysv_proc *proc_find(struct sysv *sv, pid_t pid)
{
	struct sysv_proc *p = *proc_slot(sv, pid);

	while (p && p->pid != pid)
		p = p->hnext;
	return p;
}

static void set_unsure(struct sysv_proc *p, int unsure)
{
	if (unsure && !p->unsure) {
		p->sv->nunsure++;
		p->backoff_ns = CHECK_FIRST_NS;
		p->next_check_ns = ns_now() + p->backoff_ns;
	} else if (!unsure && p->unsure) {
		p->sv->nunsure--;
	}
	p->unsure = unsure;
}

/* The record of pid, made if need be, with a pidfd to learn of its exit
 * (without one, it is looked at now and then instead). */
static struct sysv_proc *proc_get(struct sysv *sv, pid_t pid)
{
	struct sysv_proc *p = proc_find(sv, pid), **pp;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sv = sv;
	p->pid = pid;
	p->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd >= 0 && sv->ops.watch && sv->ops.watch(sv->ops.ctx, p) < 0) {
		close(p->pidfd);
		p->pidfd = -1;
	}
	if (p->pidfd < 0)
		set_unsure(p, 1);
	pp = proc_slot(sv, pid);
	p->hnext = *pp;
	*pp = p;
	return p;
}

static void proc_free(struct sysv_proc *p)
{
	struct sysv *sv = p->sv;
	struct sysv_proc **pp = proc_slot(sv, p->pid);

	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	set_unsure(p, 0);
	if (p->pidfd >= 0) {
		if (sv->ops.unwatch)
			sv->ops.unwatch(sv->ops.ctx, p);
		close(p->pidfd);
	}
	free(p);
}

/* A process with nothing attached need not be looked at any more; it is
 * forgotten when it exits (its pidfd says when), so that one that
 * attaches again and again does not open a pidfd each time -- or at
 * once if it has no pidfd, unless its fork parent's SHMFORK is still to
 * come and must not count it twice. */
static void proc_put(struct sysv_proc *p)
{
	if (!p || p->atts)
		return;
	if (p->pidfd >= 0)
		set_unsure(p, 0);
	else if (!p->await_parent)
		proc_free(p);
}

static int proc_gone_now(const struct sysv_proc *p)
{
	struct pollfd pfd = { p->pidfd, POLLIN, 0 };

	if (p->pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return kill(p->pid, 0) < 0 && errno == ESRCH;
}

/* --- attachments ---------------------------------------------------------- */

static struct sysv_att *att_find(const struct sysv_proc *p, const struct sysv_seg *seg)
{
	struct sysv_att *a = p->atts;

	while (a && a->seg != seg)
		a = a->pnext;
	return a;
}

static struct sysv_att *att_get(struct sysv_proc *p, struct sysv_seg *seg)
{
	struct sysv_att *a = att_find(p, seg);

	if (a)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->seg = seg;
	a->proc = p;
	a->pnext = p->atts;
	p->atts = a;
	a->snext = seg->atts;
	seg->atts = a;
	return a;
}

static void att_unlink(struct sysv_att *a)
{
	struct sysv_att **pp;

	for (pp = &a->proc->atts; *pp != a; pp = &(*pp)->pnext)
		;
	*pp = a->pnext;
	for (pp = &a->seg->atts; *pp != a; pp = &(*pp)->snext)
		;
	*pp = a->snext;
	free(a);
}

static void seg_destroy(struct sysv *sv, struct sysv_seg *seg);

/* shm_may_destroy: removed (SHM_DEST) and nobody attached */
static void seg_maybe_destroy(struct sysv *sv, struct sysv_seg *seg)
{
	if ((seg->mode & SYSV_DEST) && seg->nattch == 0)
		seg_destroy(sv, seg);
}

/* Sets a's count, as process `by` does: a going down is a shm_close
 * (lpid, dtime), up a shm_open (lpid, atime) -- which, for a fork's
 * mappings, the parent does in dup_mmap.  a may be freed, and its
 * segment destroyed. */
static void att_set_by(struct sysv *sv, struct sysv_att *a, uint32_t n, pid_t by)
{
	struct sysv_seg *seg = a->seg;

	if (n == a->n)
		return;
	seg->nattch = seg->nattch - a->n + n;
	seg->lpid = by;
	if (n < a->n)
		seg->dtime = now_s();
	else
		seg->atime = now_s();
	a->n = n;
	if (n == 0) {
		att_unlink(a);
		seg_maybe_destroy(sv, seg);
	}
}

static void att_set(struct sysv *sv, struct sysv_att *a, uint32_t n)
{
	att_set_by(sv, a, n, a->proc->pid);
}

/* exit_mm of a process: every mapping closes. */
static void proc_gone(struct sysv_proc *p)
{
	struct sysv *sv = p->sv;

	while (p->atts)
		att_set(sv, p->atts, 0);
	p->await_parent = 0;
	proc_free(p);
}

/* --- segments ------------------------------------------------------------- */

static struct sysv_lock *lock_of(struct sysv *sv, uint32_t uid, int create)
{
	struct sysv_lock *l = sv->locks;

	while (l && l->uid != uid)
		l = l->next;
	if (!l && create && (l = calloc(1, sizeof(*l)))) {
		l->uid = uid;
		l->next = sv->locks;
		sv->locks = l;
	}
	return l;
}

static uint64_t pages_of(uint64_t size)
{
	return (size + SYSV_PAGE - 1) / SYSV_PAGE;
}

/* user_shm_unlock */
static void unlock_pages(struct sysv *sv, struct sysv_seg *seg)
{
	struct sysv_lock *l = lock_of(sv, seg->lock_uid, 0);

	if (l)
		l->pages -= pages_of(seg->segsz);
	seg->mode &= ~SYSV_LOCKED;
}

/* shm_destroy */
static void seg_destroy(struct sysv *sv, struct sysv_seg *seg)
{
	while (seg->atts) { /* only when the manager itself goes */
		struct sysv_proc *p = seg->atts->proc;

		att_unlink(seg->atts);
		proc_put(p);
	}
	sv->shm_tot -= pages_of(seg->segsz);
	idx_remove(sv, seg);
	key_remove(sv, seg);
	if (seg->mode & SYSV_LOCKED)
		unlock_pages(sv, seg);
	seg->ip->seg = NULL;
	/* with defer_release the memory goes after the answer (sysv_reap):
	 * freeing the pages is what takes the time */
	if (sv->defer_release && sv->ndead < SYSV_DEAD_MAX)
		sv->dead[sv->ndead++] = seg->ip;
	else
		ns_release(sv->ns, seg->ip);
	free(seg);
}

void sysv_reap(struct sysv *sv)
{
	while (sv->ndead)
		ns_release(sv->ns, sv->dead[--sv->ndead]);
}

static void seg_fill(const struct sysv_seg *seg, struct shx_shmid_ds *ds)
{
	struct stat st;

	*ds = (struct shx_shmid_ds){
		.key = seg->key, .id = seg->id, .uid = seg->uid, .gid = seg->gid,
		.cuid = seg->cuid, .cgid = seg->cgid, .mode = seg->mode, .seq = seg->seq,
		.segsz = seg->segsz, .atime = seg->atime, .dtime = seg->dtime,
		.ctime = seg->ctime, .cpid = seg->cpid, .lpid = seg->lpid,
		.nattch = seg->nattch,
	};
	if (fstat(seg->ip->memfd, &st) == 0)
		ds->rss = (uint64_t)st.st_blocks * 512;
	ds->swap = seg->ip->swapped; /* paging: SHM_INFO's shm_swp */
}

/* --- what processes really map: /proc/PID/maps ------------------------------ */

struct scan {
	struct sysv *sv;
	struct sysv_proc *p;
};

static void scan_map(const struct procfs_map *m, void *arg)
{
	struct scan *sc = arg;
	struct ns_inode *ip;
	struct sysv_att *a;

	if (!sc->sv->have_mdev || m->dev_major != sc->sv->mdev_major ||
	    m->dev_minor != sc->sv->mdev_minor)
		return;
	ip = ns_iget(sc->sv->ns, m->ino);
	if (ip && ip->seg && (a = att_get(sc->p, ip->seg)))
		a->seen++;
}

/* Counts p's mappings of each segment into its attachments' `seen`, and
 * makes attachments for segments it maps unknown to us.  0, -ESRCH when
 * the process is gone, or -errno when its maps cannot be read. */
static int scan_maps(struct sysv *sv, struct sysv_proc *p)
{
	struct scan sc = { sv, p };

	for (struct sysv_att *a = p->atts; a; a = a->pnext)
		a->seen = 0;
	return procfs_maps(p->pid, scan_map, &sc);
}

/* Makes p's counts what its maps say; p may be freed. */
static void proc_check(struct sysv *sv, struct sysv_proc *p)
{
	int r;

	if (proc_gone_now(p)) {
		proc_gone(p);
		return;
	}
	r = scan_maps(sv, p);
	if (r == -ESRCH) {
		proc_gone(p);
		return;
	}
	if (r < 0) { /* not ours to read (not dumpable): trust what it said */
		for (struct sysv_att *a = p->atts, *next; a; a = next) {
			next = a->pnext;
			if (a->n == 0)
				att_unlink(a);
		}
		proc_put(p);
		return;
	}
	for (struct sysv_att *a = p->atts, *next; a; a = next) {
		next = a->pnext;
		att_set(sv, a, a->seen);
	}
	proc_put(p);
}

/* Checks every process attached to seg (shm_nattch is about to be told
 * or to decide something).  Afterwards seg may be gone: look it up
 * again. */
static void seg_refresh(struct sysv *sv, struct sysv_seg *seg)
{
	struct sysv_proc *few[16], **procs = few;
	size_t n = 0, cap = 16;

	for (struct sysv_att *a = seg->atts; a; a = a->snext) {
		if (n == cap) {
			struct sysv_proc **more = malloc(2 * cap * sizeof(*more));

			if (!more)
				break;
			memcpy(more, procs, n * sizeof(*more));
			if (procs != few)
				free(procs);
			procs = more;
			cap *= 2;
		}
		procs[n++] = a->proc;
	}
	/* a check can free other processes of the list only by freeing
	 * this one: each is checked once, before anything frees it */
	for (size_t i = 0; i < n; i++)
		proc_check(sv, procs[i]);
	if (procs != few)
		free(procs);
}

void sysv_refresh_all(struct sysv *sv)
{
	for (int b = 0; b < SYSV_PROC_BUCKETS; b++) {
		for (struct sysv_proc *p = sv->procs[b], *next; p; p = next) {
			next = p->hnext;
			/* checking p frees nobody but p */
			if (p->atts)
				proc_check(sv, p);
		}
	}
}

/* --- shmget: ipcget, newseg ------------------------------------------------ */

/* shmem_acct_size, __vm_enough_memory: can the memory be committed? */
static int enough_memory(struct sysv *sv, uint64_t pages, int shmflg)
{
	struct sysinfo si;
	uint64_t limit, used;

	if (sv->overcommit == 1 || ((shmflg & SHM_NORESERVE) && sv->overcommit != 2))
		return 1;
	if (sv->overcommit == 2) { /* OVERCOMMIT_NEVER: the commit limit */
		limit = procfs_meminfo_kb("CommitLimit");
		used = procfs_meminfo_kb("Committed_AS");
		return limit == 0 || (used < limit && pages <= (limit - used) / 4);
	}
	/* OVERCOMMIT_GUESS: no more than all of RAM and swap */
	if (sysinfo(&si) < 0)
		return 1;
	return pages <= ((uint64_t)si.totalram + si.totalswap) * si.mem_unit / SYSV_PAGE;
}

/* hugetlb_file_setup: huge pages of the size asked (the default size when
 * the flag names none) must exist and be free.  The segment itself is
 * then made of ordinary pages. */
static int hugetlb_check(uint64_t size, int shmflg)
{
	unsigned log = (unsigned)shmflg >> SHM_HUGE_SHIFT & SHM_HUGE_MASK;
	char path[96], buf[32];
	uint64_t kb = 0, free_pages = 0, huge;
	FILE *f;

	kb = log ? (1ULL << log) >> 10 : procfs_meminfo_kb("Hugepagesize");
	if (kb == 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages",
		 (unsigned long long)kb);
	f = fopen(path, "re");
	if (!f) /* hstate_sizelog: no such huge page size */
		return -EINVAL;
	if (fgets(buf, sizeof(buf), f))
		free_pages = strtoull(buf, NULL, 10);
	fclose(f);
	huge = kb << 10;
	if ((shmflg & SHM_NORESERVE) == 0 && (size + huge - 1) / huge > free_pages)
		return -ENOMEM;
	return 0;
}

/* newseg */
static int newseg(struct sysv *sv, const struct shx_cred *cr, int32_t key, uint64_t size,
		  int shmflg)
{
	/* (size + PAGE_SIZE - 1) wraps as the kernel's size_t does */
	uint64_t numpages = (size + SYSV_PAGE - 1) >> 12, granted;
	struct sysv_seg *seg;
	struct ns_inode *ip;
	struct stat st;
	int r;

	if (size < SYSV_SHMMIN || size > sv->shmmax)
		return -EINVAL;
	if (numpages << 12 < size)
		return -ENOSPC;
	if (sv->shm_tot + numpages < sv->shm_tot || sv->shm_tot + numpages > sv->shmall)
		return -ENOSPC;
	/* shmem_kernel_file_setup */
	if (shmflg & SHM_HUGETLB) {
		r = hugetlb_check(size, shmflg);
		if (r < 0)
			return r;
	}
	if (size > (uint64_t)INT64_MAX) /* MAX_LFS_FILESIZE */
		return -EINVAL;
	if (!enough_memory(sv, numpages, shmflg))
		return -ENOMEM;
	seg = calloc(1, sizeof(*seg));
	if (!seg)
		return -ENOMEM;
	r = ns_create_anon(sv->ns, cr, shmflg & 0777, &ip);
	if (r < 0) {
		free(seg);
		return r;
	}
	/* the space is paid for now, so that touching it never faults */
	r = ns_reserve(sv->ns, ip, size, 0, &granted);
	if (r == -EDQUOT) /* shmget knows no quotas: a full shm is ENOSPC */
		r = -ENOSPC;
	if (r == 0 && ftruncate(ip->memfd, size) < 0)
		r = errno == EFBIG ? -EINVAL : -errno;
	if (r == 0 && !sv->have_mdev && fstat(ip->memfd, &st) == 0) {
		sv->mdev_major = major(st.st_dev);
		sv->mdev_minor = minor(st.st_dev);
		sv->have_mdev = 1;
	}
	/* ipc_addid */
	if (r == 0 && sv->in_use >= (int)(sv->shmmni < SYSV_IPCMNI ? sv->shmmni : SYSV_IPCMNI))
		r = -ENOSPC;
	if (r == 0)
		r = idx_alloc(sv, seg);
	if (r < 0) {
		ns_release(sv->ns, ip);
		free(seg);
		return r;
	}
	seg->key = key;
	seg->mode = shmflg & 0777;
	seg->uid = seg->cuid = cr->uid;
	seg->gid = seg->cgid = cr->gid;
	seg->segsz = size;
	seg->cpid = cr->pid;
	seg->ctime = now_s();
	seg->ip = ip;
	ip->seg = seg;
	if (key != IPC_PRIVATE)
		key_insert(sv, seg);
	sv->shm_tot += numpages;
	return seg->id;
}

/* ipcget, ipcget_public */
int sysv_shmget(struct sysv *sv, const struct shx_cred *cr, int32_t key, uint64_t size,
		int shmflg)
{
	struct sysv_seg *seg;

	if (key == IPC_PRIVATE)
		return newseg(sv, cr, key, size, shmflg);
	seg = key_find(sv, key);
	if (!seg)
		return shmflg & IPC_CREAT ? newseg(sv, cr, key, size, shmflg) : -ENOENT;
	if ((shmflg & IPC_CREAT) && (shmflg & IPC_EXCL))
		return -EEXIST;
	if (seg->segsz < size) /* shm_more_checks */
		return -EINVAL;
	if (ipcperms(sv, cr, seg, (short)shmflg))
		return -EACCES;
	return seg->id;
}

/* --- shmat and shmdt ------------------------------------------------------- */

/* do_shmat, from the lookup to shm_open's shm_atim and shm_lprid */
int sysv_shmat(struct sysv *sv, const struct shx_cred *cr, int shmid, int shmflg,
	       struct sysv_seg **segp)
{
	short acc = S_IRUGO;
	struct sysv_seg *seg;
	struct sysv_proc *p;
	struct sysv_att *a;

	if (shmid < 0)
		return -EINVAL;
	if (!(shmflg & SHM_RDONLY))
		acc |= S_IWUGO;
	if (shmflg & SHM_EXEC)
		acc |= S_IXUGO;
	seg = seg_find(sv, shmid);
	if (!seg)
		return -EINVAL;
	if (ipcperms(sv, cr, seg, acc))
		return -EACCES;
	p = proc_get(sv, cr->pid);
	a = p ? att_get(p, seg) : NULL;
	if (!a) {
		proc_put(p);
		return -ENOMEM;
	}
	seg->prev_atime = seg->atime;
	seg->prev_lpid = seg->lpid;
	att_set(sv, a, a->n + 1);
	*segp = seg;
	return 0;
}

/* The segment of an attachment, if it is still the one the client has. */
static struct sysv_seg *seg_of(struct sysv *sv, int shmid, uint64_t ino)
{
	struct sysv_seg *seg = seg_find(sv, shmid);

	return seg && seg->ip->ino == ino ? seg : NULL;
}

void sysv_shmat_undo(struct sysv *sv, const struct shx_cred *cr, int shmid, uint64_t ino)
{
	struct sysv_seg *seg = seg_of(sv, shmid, ino);
	struct sysv_proc *p = proc_find(sv, cr->pid);
	struct sysv_att *a = seg && p ? att_find(p, seg) : NULL;

	if (!a)
		return;
	/* the attach never happened: shm_atim and shm_lprid go back, and a
	 * removed segment that nobody else has goes (do_shmat's out_nattch) */
	seg->nattch--;
	if (--a->n == 0)
		att_unlink(a);
	seg->atime = seg->prev_atime;
	seg->lpid = seg->prev_lpid;
	seg_maybe_destroy(sv, seg);
	proc_put(p);
}

/* ksys_shmdt, shm_close */
void sysv_shmdt(struct sysv *sv, const struct shx_cred *cr, int shmid, uint64_t ino,
		uint64_t left)
{
	struct sysv_seg *seg = seg_of(sv, shmid, ino);
	struct sysv_proc *p = proc_find(sv, cr->pid);
	struct sysv_att *a = seg && p ? att_find(p, seg) : NULL;

	if (!seg)
		return;
	if (!a) { /* a mapping we did not count: it still closes */
		seg->lpid = cr->pid;
		seg->dtime = now_s();
		return;
	}
	if (left == 0) {
		att_set(sv, a, 0);
	} else {
		/* one goes; the `left` others remain, each mapped at least once */
		uint32_t n = a->n - 1;

		if (n < left)
			n = left < a->n ? (uint32_t)left : a->n;
		att_set(sv, a, n);
	}
	proc_put(p);
}

/* --- shmctl ----------------------------------------------------------------- */

/* shmctl_do_lock */
static int shm_lock(struct sysv *sv, const struct shx_cred *cr, struct sysv_seg *seg, int lock)
{
	uint64_t limit = UINT64_MAX, pages = pages_of(seg->segsz);
	int cap = capable(sv, cr, SYSV_CAP_IPC_LOCK);
	struct sysv_lock *l;

	if (!cap) {
		if (cr->uid != seg->uid && cr->uid != seg->cuid)
			return -EPERM;
		limit = sv->ops.memlock_limit(cr->pid);
		if (lock && limit == 0)
			return -EPERM;
	}
	if (!lock) {
		if (seg->mode & SYSV_LOCKED)
			unlock_pages(sv, seg);
		return 0;
	}
	if (seg->mode & SYSV_LOCKED)
		return 0;
	/* user_shm_lock: the caller's locked pages against its limit */
	l = lock_of(sv, cr->uid, 1);
	if (!l)
		return -ENOMEM;
	if (limit != UINT64_MAX)
		limit /= SYSV_PAGE;
	if (l->pages + pages > limit && !cap)
		return -ENOMEM;
	l->pages += pages;
	seg->lock_uid = cr->uid;
	seg->mode |= SYSV_LOCKED;
	return 0;
}

static void shm_info(struct sysv *sv, struct shx_shminfo *info)
{
	*info = (struct shx_shminfo){
		.shmmax = sv->shmmax, .shmmin = SYSV_SHMMIN, .shmall = sv->shmall,
		.shmmni = sv->shmmni, .shmseg = sv->shmmni,
		.used_ids = sv->in_use, .shm_tot = sv->shm_tot,
	};
	for (int i = 0; i <= sv->max_idx; i++) {
		struct shx_shmid_ds ds;

		if (sv->idx[i]) {
			seg_fill(sv->idx[i], &ds);
			info->shm_rss += pages_of(ds.rss);
			info->shm_swp += pages_of(ds.swap);
		}
	}
}

/* Segments removed but still counted as attached may be due to go. */
static void refresh_removed(struct sysv *sv)
{
	for (int i = 0; i <= sv->max_idx; i++) {
		struct sysv_seg *seg = sv->idx[i];

		if (seg && (seg->mode & SYSV_DEST))
			seg_refresh(sv, seg);
	}
}

/* ksys_shmctl */
int sysv_shmctl(struct sysv *sv, const struct shx_cred *cr, int shmid, int cmd,
		struct shx_shmid_ds *ds, struct shx_shminfo *info)
{
	struct sysv_seg *seg;
	int r;

	if (cmd < 0 || shmid < 0)
		return -EINVAL;
	switch (cmd) {
	case IPC_INFO:
	case SHM_INFO: /* shmctl_ipc_info, shmctl_shm_info */
		refresh_removed(sv);
		shm_info(sv, info);
		return maxidx(sv);
	case IPC_STAT:
	case SHM_STAT:
	case SHM_STAT_ANY: /* shmctl_stat */
		seg = cmd == IPC_STAT ? seg_find(sv, shmid) : seg_at(sv, shmid);
		if (!seg)
			return -EINVAL;
		if (cmd != SHM_STAT_ANY && ipcperms(sv, cr, seg, S_IRUGO))
			return -EACCES;
		r = seg->id;
		seg_refresh(sv, seg);
		/* its last attacher was found gone: it went with it */
		seg = seg_find(sv, r);
		if (!seg)
			return -EINVAL;
		seg_fill(seg, ds);
		return cmd == IPC_STAT ? 0 : seg->id;
	case IPC_SET:
	case IPC_RMID: /* shmctl_down */
		seg = seg_find(sv, shmid);
		if (!seg)
			return -EINVAL;
		r = may_change(sv, cr, seg);
		if (r < 0)
			return r;
		if (cmd == IPC_RMID) { /* do_shm_rmid */
			if (seg->nattch)
				seg_refresh(sv, seg);
			seg = seg_find(sv, shmid);
			if (seg && seg->nattch) {
				seg->mode |= SYSV_DEST;
				key_remove(sv, seg); /* ipc_set_key_private */
				seg->key = IPC_PRIVATE;
			} else if (seg) {
				seg_destroy(sv, seg);
			}
			return 0;
		}
		/* ipc_update_perm: (uid_t)-1 is no valid id */
		if (ds->uid == UINT32_MAX || ds->gid == UINT32_MAX)
			return -EINVAL;
		seg->uid = ds->uid;
		seg->gid = ds->gid;
		seg->mode = (seg->mode & ~0777u) | (ds->mode & 0777);
		seg->ctime = now_s();
		return 0;
	case SHM_LOCK:
	case SHM_UNLOCK:
		seg = seg_find(sv, shmid);
		if (!seg)
			return -EINVAL;
		return shm_lock(sv, cr, seg, cmd == SHM_LOCK);
	default:
		return -EINVAL;
	}
}

/* --- fork, exec and exit ---------------------------------------------------- */

/* dup_mmap: the child gets the parent's mappings, each one a shm_open by
 * the parent */
static int copy_atts(struct sysv *sv, struct sysv_proc *from, struct sysv_proc *to)
{
	for (struct sysv_att *a = from->atts; a; a = a->pnext) {
		struct sysv_att *b = att_get(to, a->seg);

		if (!b)
			return -ENOMEM;
		att_set_by(sv, b, b->n + a->n, from->pid);
	}
	to->forked = 1;
	/* it may exec or unmap without ever talking to us */
	set_unsure(to, 1);
	return 0;
}

int sysv_fork(struct sysv *sv, pid_t parent, pid_t child)
{
	struct sysv_proc *pp = proc_find(sv, parent), *cp = proc_find(sv, child);
	int r;

	if (cp && cp->forked) { /* the child was first */
		cp->await_parent = 0;
		proc_put(cp);
		return 0;
	}
	if (!pp || !pp->atts)
		return 0;
	cp = proc_get(sv, child);
	if (!cp)
		return -ENOMEM;
	r = copy_atts(sv, pp, cp);
	/* a child that has exited already had them, and closed them */
	if (proc_gone_now(cp))
		proc_gone(cp);
	else
		proc_put(cp);
	return r;
}

static void fork_child(struct sysv *sv, pid_t child, pid_t parent, int depth)
{
	struct sysv_proc *pp = proc_find(sv, parent), *cp = proc_find(sv, child);

	if (cp && cp->forked)
		return;
	/* a parent with nothing counted may itself be a fork child whose
	 * parent's word is still on its way (a child that forked at once):
	 * its own parent is in /proc */
	if ((!pp || (!pp->atts && !pp->forked)) && depth < 8) {
		pid_t grand = procfs_parent(parent);

		if (grand > 1)
			fork_child(sv, parent, grand, depth + 1);
		pp = proc_find(sv, parent);
	}
	if (!pp || !pp->atts)
		return;
	cp = proc_get(sv, child);
	if (!cp)
		return;
	/* the parent's SHMFORK, still to come, must not count them again */
	if (copy_atts(sv, pp, cp) == 0)
		cp->await_parent = 1;
	proc_put(cp);
}

void sysv_fork_child(struct sysv *sv, pid_t child, pid_t parent)
{
	fork_child(sv, child, parent, 0);
}

void sysv_inherit(struct sysv *sv, const struct shx_cred *cr, int shmid, uint64_t ino,
		  pid_t parent)
{
	struct sysv_seg *seg = seg_of(sv, shmid, ino);
	struct sysv_proc *p = seg ? proc_get(sv, cr->pid) : NULL;
	struct sysv_att *a = p ? att_get(p, seg) : NULL;

	if (a) {
		att_set_by(sv, a, a->n + 1, parent);
		set_unsure(p, 1);
	}
	proc_put(p);
}

void sysv_conn_closed(struct sysv *sv, pid_t pid)
{
	struct sysv_proc *p = proc_find(sv, pid);

	if (!p || !p->atts)
		return;
	/* an exec closes every connection: what does it map now? */
	proc_check(sv, p);
	p = proc_find(sv, pid);
	if (p && p->atts)
		set_unsure(p, 1);
}

void sysv_proc_exited(struct sysv_proc *p)
{
	/* a readiness that is not (yet) an exit changes nothing */
	if (proc_gone_now(p))
		proc_gone(p);
}

int sysv_wants_poll(const struct sysv *sv)
{
	return sv->nunsure > 0;
}

void sysv_poll(struct sysv *sv)
{
	int64_t now = ns_now();

	for (int b = 0; b < SYSV_PROC_BUCKETS; b++) {
		for (struct sysv_proc *p = sv->procs[b], *next; p; p = next) {
			next = p->hnext;
			if (!p->unsure || p->next_check_ns > now)
				continue;
			/* each look the wait doubles: what changes, changes
			 * soon after a fork or a closed connection */
			if (p->backoff_ns < CHECK_MAX_NS)
				p->backoff_ns *= 2;
			p->next_check_ns = now + p->backoff_ns;
			proc_check(sv, p);
		}
	}
}

/* --- listings and set-up ---------------------------------------------------- */

int sysv_next(struct sysv *sv, int *idx, struct shx_shmid_ds *ds)
{
	for (int i = *idx < 0 ? 0 : *idx; i <= sv->max_idx; i++) {
		if (sv->idx[i]) {
			seg_fill(sv->idx[i], ds);
			*idx = i + 1;
			return 1;
		}
	}
	*idx = sv->max_idx + 1;
	return 0;
}

static int read_overcommit(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return buf[0] >= '0' && buf[0] <= '2' ? buf[0] - '0' : 0;
}

int sysv_init(struct sysv *sv, struct ns *ns, const struct shx_config *cfg,
	      const struct sysv_ops *ops)
{
	memset(sv, 0, sizeof(*sv));
	sv->ns = ns;
	if (ops)
		sv->ops = *ops;
	if (!sv->ops.capable)
		sv->ops.capable = procfs_capable;
	if (!sv->ops.in_group)
		sv->ops.in_group = procfs_in_group;
	if (!sv->ops.memlock_limit)
		sv->ops.memlock_limit = proc_memlock_limit;
	sv->shmmax = cfg->shmmax;
	sv->shmall = cfg->shmall;
	sv->shmmni = cfg->shmmni;
	sv->overcommit = read_overcommit();
	sv->max_idx = sv->last_idx = -1;
	return 0;
}

void sysv_destroy(struct sysv *sv)
{
	for (int i = 0; i <= sv->max_idx; i++)
		if (sv->idx[i])
			seg_destroy(sv, sv->idx[i]);
	sysv_reap(sv);
	for (int b = 0; b < SYSV_PROC_BUCKETS; b++)
		while (sv->procs[b])
			proc_free(sv->procs[b]);
	while (sv->locks) {
		struct sysv_lock *l = sv->locks;

		sv->locks = l->next;
		free(l);
	}
	free(sv->idx);
}
