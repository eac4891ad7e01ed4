/* sysv.c -- System V shared memory: shmget, shmat, shmdt, shmctl, and the
 * fork, munmap, mmap and mremap that change what a process has attached.
 *
 * Segments live in the manager (core/sysv.c), every one of them: a
 * preloaded process has no kernel segments.  shmat asks the manager for
 * the segment's memfd, maps it MAP_SHARED where do_shmat would, and
 * closes it; the process keeps a table of its attachments (address,
 * length, shmid, the memfd's inode) for shmdt, munmap and fork.
 *
 * The manager counts attachments per process and checks them against
 * /proc/PID/maps when it cannot be sure; what the library tells it makes
 * the counts right at once, as the kernel's are:
 *   shmat, shmdt   one more, one less (with how many the process has left);
 *   munmap         of a whole attachment is a shmdt, as is an mmap
 *                  MAP_FIXED over all of it; one over a part of it, or a
 *                  partial munmap, makes shmdt look at /proc/self/maps to
 *                  unmap only the segment's pieces, as ksys_shmdt does;
 *   mremap         of a whole attachment moves it;
 *   fork           the parent says, before fork() returns, that the child
 *                  has its attachments; a fork fork() did not see (glibc's
 *                  own, in daemon()) is told by the child itself.  Until a
 *                  child's first answer from the manager, it names its
 *                  parent in every request, so that the manager counts it
 *                  even if the parent's word comes second.
 * An exec needs no word: the manager sees the connections close.
 *
 * The kernel copies shmid_ds, shminfo and shm_info to and from the
 * caller's memory, and a bad pointer is EFAULT, not a crash: so do we,
 * with process_vm_readv/writev on ourselves.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload.h"
#include "procfs.h"

#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define PAGE_MASK_LOW 4095UL /* x86_64 and the 4 KiB-page arm64: SHMLBA is PAGE_SIZE */

/* --- the kernel's structures, which 64-bit libcs pass through as they are */

struct k_ipc64_perm {
	int32_t key;
	uint32_t uid, gid, cuid, cgid, mode;
	uint16_t seq, pad2;
	uint64_t unused1, unused2;
};

struct k_shmid64_ds {
	struct k_ipc64_perm perm;
	uint64_t segsz;
	int64_t atime, dtime, ctime;
	int32_t cpid, lpid;
	uint64_t nattch, unused4, unused5;
};

struct k_shminfo64 {
	uint64_t shmmax, shmmin, shmmni, shmseg, shmall, unused[4];
};

struct k_shm_info {
	int32_t used_ids;
	uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};

_Static_assert(sizeof(struct shmid_ds) == sizeof(struct k_shmid64_ds), "struct shmid_ds");
_Static_assert(offsetof(struct shmid_ds, shm_nattch) == offsetof(struct k_shmid64_ds, nattch),
	       "shm_nattch");
_Static_assert(sizeof(struct shminfo) == sizeof(struct k_shminfo64), "struct shminfo");

/* --- copies to and from the caller's memory ----------------------------- */

/* copy_to_user / copy_from_user: 0 or -EFAULT */
static int user_copy(void *to, const void *from, size_t n, int to_user)
{
	struct iovec mine = { (void *)(to_user ? from : to), n };
	struct iovec theirs = { (void *)(to_user ? to : from), n };
	ssize_t r;

	if (!(to_user ? to : from))
		return -EFAULT;
	r = to_user ? process_vm_writev(getpid(), &mine, 1, &theirs, 1, 0)
		    : process_vm_readv(getpid(), &mine, 1, &theirs, 1, 0);
	if (r == (ssize_t)n)
		return 0;
	/* forbidden (a seccomp filter): a plain copy, then */
	if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
		memcpy(to, from, n);
		return 0;
	}
	return -EFAULT;
}

/* --- the memory calls ------------------------------------------------------ */

/* libc's mmap, munmap and mremap -- but before the library is set up,
 * straight to the kernel: a runtime preloaded before it (ASan) calls
 * them while it starts, when the library may not yet read its
 * environment, so they must not set it up. */
static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (shx_ready)
		return shx_real.mmap(addr, len, prot, flags, fd, off);
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int sys_munmap(void *addr, size_t len)
{
	if (shx_ready)
		return shx_real.munmap(addr, len);
	return (int)syscall(SYS_munmap, addr, len);
}

static void *sys_mremap(void *old, size_t old_len, size_t new_len, int flags, void *want)
{
	if (shx_ready)
		return shx_real.mremap(old, old_len, new_len, flags, want);
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, want);
}

/* --- the attachments of this process ------------------------------------ */

struct att {
	uintptr_t addr;
	size_t len;
	int shmid;
	uint64_t ino;
	int dirty; /* part of it was unmapped or mapped over: shmdt looks at the maps */
};

static struct att *atts;
static size_t cap;
static atomic_size_t natts; /* read without the lock: 0 makes munmap and fork cost nothing */
static pthread_mutex_t atts_lock = PTHREAD_MUTEX_INITIALIZER;

/* In fork(): this thread's pid, for the child to know that its parent
 * will tell the manager about it. */
static __thread pid_t forking __attribute__((tls_model("initial-exec")));
/* In a child of fork(): the parent whose SHMFORK may not have come yet,
 * until the manager has answered us once. */
static atomic_int fork_parent;

static int att_add(uintptr_t addr, size_t len, int shmid, uint64_t ino)
{
	size_t n;

	pthread_mutex_lock(&atts_lock);
	n = atomic_load(&natts);
	if (n == cap) {
		size_t c = cap ? cap * 2 : 16;
		struct att *a = realloc(atts, c * sizeof(*a));

		if (!a) {
			pthread_mutex_unlock(&atts_lock);
			return -ENOMEM;
		}
		atts = a;
		cap = c;
	}
	atts[n] = (struct att){ addr, len, shmid, ino, 0 };
	atomic_store(&natts, n + 1);
	pthread_mutex_unlock(&atts_lock);
	return 0;
}

/* Removes entry i (the lock held); returns how many of its segment are
 * left. */
static uint64_t att_remove(size_t i)
{
	size_t n = atomic_load(&natts) - 1;
	struct att gone = atts[i];
	uint64_t left = 0;

	atts[i] = atts[n];
	atomic_store(&natts, n);
	for (size_t j = 0; j < n; j++)
		left += atts[j].shmid == gone.shmid && atts[j].ino == gone.ino;
	return left;
}

/* --- requests ------------------------------------------------------------ */

static int sysv_call(struct shx_req *q, struct shx_rep *p, int *fd)
{
	int parent = atomic_load(&fork_parent), r;

	q->atime_ns = parent;
	r = shx_request(q, p, fd, O_CLOEXEC);
	/* answered: the manager counts our inherited attachments now */
	if (parent && r != -EIO)
		atomic_compare_exchange_strong(&fork_parent, &parent, 0);
	return r;
}

/* A message that needs no answer -- unless this process is a fork child
 * not yet known to the manager, which must hear it first. */
static void sysv_tell(struct shx_req *q)
{
	struct shx_rep p = { 0 };

	if (atomic_load(&fork_parent))
		sysv_call(q, &p, NULL);
	else
		shx_notify(q);
}

static void tell_detach(int shmid, uint64_t ino, uint64_t left, unsigned flags)
{
	struct shx_req q;

	shx_req_init(&q, SHX_OP_SHMDT, NULL);
	q.aux = (uint32_t)shmid;
	q.ino = ino;
	q.size = left;
	q.flags = flags;
	sysv_tell(&q);
}

/* --- the calls ------------------------------------------------------------ */

SHX_EXPORT int shmget(key_t key, size_t size, int shmflg)
{
	struct shx_req q;
	struct shx_rep p = { 0 };
	int r;

	shx_req_init(&q, SHX_OP_SHMGET, NULL);
	q.aux = (uint32_t)key;
	q.size = size;
	q.flags = (uint32_t)shmflg;
	r = sysv_call(&q, &p, NULL);
	return r < 0 ? shx_ret(r) : (int)p.value;
}

static void *shmat_fail(int e)
{
	errno = e;
	return (void *)-1;
}

/* do_shmat: the address rules, the manager's checks, then the mapping */
SHX_EXPORT void *shmat(int shmid, const void *shmaddr, int shmflg)
{
	uintptr_t addr = (uintptr_t)shmaddr;
	int flags = MAP_SHARED, prot = PROT_READ, fd, r, e;
	struct shx_req q;
	struct shx_rep p = { 0 };
	size_t size;
	void *m;

	if (shmid < 0)
		return shmat_fail(EINVAL);
	if (addr) {
		if (addr & PAGE_MASK_LOW) {
			if (!(shmflg & SHM_RND))
				return shmat_fail(EINVAL);
			addr &= ~PAGE_MASK_LOW;
			/* a round-down to 0 cannot be remapped */
			if (!addr && (shmflg & SHM_REMAP))
				return shmat_fail(EINVAL);
		}
		flags |= MAP_FIXED;
	} else if (shmflg & SHM_REMAP) {
		return shmat_fail(EINVAL);
	}
	if (!(shmflg & SHM_RDONLY))
		prot |= PROT_WRITE;
	if (shmflg & SHM_EXEC)
		prot |= PROT_EXEC;
	shx_req_init(&q, SHX_OP_SHMAT, NULL);
	q.aux = (uint32_t)shmid;
	q.flags = (uint32_t)shmflg;
	r = sysv_call(&q, &p, &fd);
	if (r < 0)
		return shmat_fail(-r);
	if (fd < 0) {
		tell_detach(shmid, p.attr.ino, 0, SHX_SHMDT_UNDO);
		return shmat_fail(EIO);
	}
	size = p.value;
	/* a given address must be free unless SHM_REMAP: the kernel checks
	 * the range first, MAP_FIXED_NOREPLACE does it with the mapping */
	if (addr && !(shmflg & SHM_REMAP)) {
		flags ^= MAP_FIXED | MAP_FIXED_NOREPLACE;
		if (addr + size < addr) {
			REAL(close)(fd);
			tell_detach(shmid, p.attr.ino, 0, SHX_SHMDT_UNDO);
			return shmat_fail(EINVAL);
		}
	}
	/* the segment's fd is in no table: paging knows it by its inode */
	m = shx_pg_map(p.attr.ino, fd, (void *)addr, size, prot, flags, 0, mmap);
	e = errno;
	REAL(close)(fd);
	if (m != MAP_FAILED && (flags & MAP_FIXED_NOREPLACE) && (uintptr_t)m != addr) {
		munmap(m, size); /* a kernel that took it for a hint */
		m = MAP_FAILED;
		e = EEXIST;
	}
	if (m != MAP_FAILED && (r = att_add((uintptr_t)m, size, shmid, p.attr.ino)) < 0) {
		sys_munmap(m, size);
		m = MAP_FAILED;
		e = -r;
	}
	if (m == MAP_FAILED) {
		tell_detach(shmid, p.attr.ino, 0, SHX_SHMDT_UNDO);
		return shmat_fail(e == EEXIST ? EINVAL : e);
	}
	return m;
}

struct pieces {
	const struct att *a;
	uintptr_t end;
	uintptr_t at[64][2];
	size_t n;
};

static void find_piece(const struct procfs_map *m, void *arg)
{
	struct pieces *ps = arg;

	if (m->ino == ps->a->ino && !strncmp(m->path, "/memfd:shmemx", 13) &&
	    m->start >= ps->a->addr && m->start - ps->a->addr == m->offset &&
	    m->end <= ps->end && ps->n < 64) {
		ps->at[ps->n][0] = m->start;
		ps->at[ps->n++][1] = m->end;
	}
}

/* ksys_shmdt for an attachment that is no longer one piece: unmaps what
 * /proc/self/maps shows of the segment placed as if mapped at addr --
 * each piece at its own offset from addr, within the segment's length --
 * and nothing else.  0, or -EINVAL when no such piece is left. */
static int unmap_pieces(const struct att *a)
{
	struct pieces ps = { .a = a };

	ps.end = a->addr + ((a->len + PAGE_MASK_LOW) & ~PAGE_MASK_LOW);
	if (procfs_maps(0, find_piece, &ps) < 0)
		return sys_munmap((void *)a->addr, ps.end - a->addr) < 0 ? -errno : 0;
	for (size_t i = 0; i < ps.n; i++)
		sys_munmap((void *)ps.at[i][0], ps.at[i][1] - ps.at[i][0]);
	return ps.n ? 0 : -EINVAL;
}

/* ksys_shmdt: the attachment that starts at addr */
SHX_EXPORT int shmdt(const void *shmaddr)
{
	uintptr_t addr = (uintptr_t)shmaddr;
	struct att a;
	uint64_t left;
	size_t i, n;
	int r = 0;

	if (addr & PAGE_MASK_LOW)
		return shx_ret(-EINVAL);
	pthread_mutex_lock(&atts_lock);
	n = atomic_load(&natts);
	for (i = 0; i < n && atts[i].addr != addr; i++)
		;
	if (i == n) {
		pthread_mutex_unlock(&atts_lock);
		/* not ours: whatever it is, the kernel says what it says */
		return REAL(shmdt)(shmaddr);
	}
	a = atts[i];
	if (a.dirty)
		r = unmap_pieces(&a);
	else
		sys_munmap((void *)a.addr, a.len);
	left = att_remove(i);
	pthread_mutex_unlock(&atts_lock);
	tell_detach(a.shmid, a.ino, left, 0);
	return shx_ret(r);
}

/* The kernel's shmid64_ds from the manager's record. */
static void to_kernel(const struct shx_shmid_ds *d, struct k_shmid64_ds *k)
{
	*k = (struct k_shmid64_ds){
		.perm = { .key = d->key, .uid = d->uid, .gid = d->gid, .cuid = d->cuid,
			  .cgid = d->cgid, .mode = d->mode, .seq = d->seq },
		.segsz = d->segsz, .atime = d->atime, .dtime = d->dtime, .ctime = d->ctime,
		.cpid = d->cpid, .lpid = d->lpid, .nattch = d->nattch,
	};
}

/* ksys_shmctl: the buffer is read before (IPC_SET) or written after the
 * manager has answered */
SHX_EXPORT int shmctl(int shmid, int cmd, struct shmid_ds *buf)
{
	struct shx_shmid_ds d;
	struct shx_shminfo si;
	struct k_shmid64_ds k;
	uint8_t data[128];
	struct shx_req q;
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	size_t off = 0;
	int r;

	if (cmd < 0 || shmid < 0)
		return shx_ret(-EINVAL);
	shx_req_init(&q, SHX_OP_SHMCTL, NULL);
	q.aux = (uint32_t)shmid;
	q.flags = (uint32_t)cmd;
	if (cmd == IPC_SET) {
		r = user_copy(&k, buf, sizeof(k), 0);
		if (r < 0)
			return shx_ret(r);
		q.uid = k.perm.uid;
		q.gid = k.perm.gid;
		q.mode = k.perm.mode;
	}
	r = sysv_call(&q, &p, NULL);
	if (r < 0)
		return shx_ret(r);
	switch (cmd) {
	case IPC_STAT:
	case SHM_STAT:
	case SHM_STAT_ANY:
		if (shx_shmid_next(&p, &off, &d) != 1)
			return shx_ret(-EIO);
		to_kernel(&d, &k);
		r = user_copy(buf, &k, sizeof(k), 1);
		break;
	case IPC_INFO:
		if (shx_shminfo_get(&p, &si) < 0)
			return shx_ret(-EIO);
		r = user_copy(buf,
			      &(struct k_shminfo64){ .shmmax = si.shmmax, .shmmin = si.shmmin,
						     .shmmni = si.shmmni, .shmseg = si.shmseg,
						     .shmall = si.shmall },
			      sizeof(struct k_shminfo64), 1);
		break;
	case SHM_INFO:
		if (shx_shminfo_get(&p, &si) < 0)
			return shx_ret(-EIO);
		r = user_copy(buf,
			      &(struct k_shm_info){ .used_ids = (int32_t)si.used_ids,
						    .shm_tot = si.shm_tot, .shm_rss = si.shm_rss,
						    .shm_swp = si.shm_swp },
			      sizeof(struct k_shm_info), 1);
		break;
	}
	return r < 0 ? shx_ret(r) : (int)p.value;
}

/* --- fork and munmap ---------------------------------------------------- */

SHX_EXPORT pid_t fork(void)
{
	struct shx_req q;
	struct shx_rep p = { 0 };
	struct shx_pg_fork pf;
	pid_t pid;

	/* paging: the child's mappings are not registered for page-in until
	 * it says so itself; what this process maps stays in meanwhile */
	shx_pg_before_fork(&pf);
	if (atomic_load_explicit(&natts, memory_order_relaxed) == 0) {
		pid = REAL(fork)();
		if (pid != 0)
			shx_pg_after_fork_parent(&pf);
		return pid;
	}
	forking = getpid();
	pid = REAL(fork)();
	forking = 0;
	if (pid > 0) {
		/* dup_mmap's shm_open for each attachment, before fork
		 * returns: the child has them too (and if this process is
		 * itself a child not yet counted, it names its own parent) */
		shx_req_init(&q, SHX_OP_SHMFORK, NULL);
		q.size = pid;
		sysv_call(&q, &p, NULL);
	}
	if (pid != 0)
		shx_pg_after_fork_parent(&pf);
	return pid;
}

/* After [start, end) was unmapped or mapped over: an attachment inside it
 * is gone, as shm_close has it; one it cuts into is dirty.  The one at
 * `keep` (0: none) is what now lives there. */
static void range_changed(uintptr_t start, uintptr_t end, uintptr_t keep)
{
	while (end > start) {
		struct att gone;
		uint64_t left;
		size_t i, n;

		pthread_mutex_lock(&atts_lock);
		n = atomic_load(&natts);
		for (i = 0; i < n; i++) {
			if (keep && atts[i].addr == keep)
				continue;
			if (atts[i].addr >= start && atts[i].addr + atts[i].len <= end)
				break;
			if (atts[i].addr < end && atts[i].addr + atts[i].len > start)
				atts[i].dirty = 1;
		}
		if (i == n) {
			pthread_mutex_unlock(&atts_lock);
			return;
		}
		gone = atts[i];
		left = att_remove(i);
		pthread_mutex_unlock(&atts_lock);
		tell_detach(gone.shmid, gone.ino, left, 0);
	}
}

static uintptr_t page_end(uintptr_t start, size_t len)
{
	return start + ((len + PAGE_MASK_LOW) & ~PAGE_MASK_LOW);
}

static int attached(void)
{
	return atomic_load_explicit(&natts, memory_order_relaxed) != 0;
}

SHX_EXPORT int munmap(void *addr, size_t len)
{
	int r = sys_munmap(addr, len);

	if (r == 0 && attached())
		range_changed((uintptr_t)addr, page_end((uintptr_t)addr, len), 0);
	return r;
}

/* Only MAP_FIXED can land on an attachment. */
static void *map_at(void *addr, size_t len, int prot, int flags, int fd, off_t off,
		    void *(*real)(void *, size_t, int, int, int, off_t))
{
	/* paging: a mapping of an object is registered with the manager's
	 * page-in (or the object is brought in whole) */
	struct shx_fdent *f = !(flags & MAP_ANONYMOUS) && fd >= 0 && shx_ready ? shx_fdtab_get(fd)
									     : NULL;
	void *m = f && !(f->flags & (SHX_FD_DIR | SHX_FD_SPECIAL))
			  ? shx_pg_map(f->ino, fd, addr, len, prot, flags, off, real)
			  : real(addr, len, prot, flags, fd, off);

	if (m != MAP_FAILED && (flags & MAP_FIXED) && attached())
		range_changed((uintptr_t)m, page_end((uintptr_t)m, len), 0);
	return m;
}

SHX_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map_at(addr, len, prot, flags, fd, off, sys_mmap);
}

#ifdef __GLIBC__
SHX_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map_at(addr, len, prot, flags, fd, off, sys_mmap);
}
#endif

/* A whole attachment moved is the same attachment elsewhere (shmdt of its
 * new address finds it); anything else is a change of ranges. */
SHX_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *want = NULL, *m;
	uintptr_t moved = 0;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	struct shx_pg_remap pr;

	shx_pg_remap_begin(&pr, old);
	m = sys_mremap(old, old_len, new_len, flags, want);
	shx_pg_remap_end(&pr, old, old_len, m, new_len);
	if (m == MAP_FAILED || !attached())
		return m;
	pthread_mutex_lock(&atts_lock);
	for (size_t i = 0, n = atomic_load(&natts); i < n; i++) {
		struct att *a = &atts[i];

		if (a->addr == (uintptr_t)old && old_len >= a->len && new_len >= a->len) {
			a->addr = (uintptr_t)m;
			moved = (uintptr_t)m;
		} else if (a->addr < page_end((uintptr_t)old, old_len) &&
			   a->addr + a->len > (uintptr_t)old) {
			a->dirty = 1;
		}
	}
	pthread_mutex_unlock(&atts_lock);
	/* what was where it went, if it went */
	if (m != old)
		range_changed((uintptr_t)m, page_end((uintptr_t)m, new_len), moved);
	return m;
}

/* pthread_atfork: the table stays consistent across a fork */
void shx_sysv_before_fork(void)
{
	pthread_mutex_lock(&atts_lock);
}

void shx_sysv_after_fork_parent(void)
{
	pthread_mutex_unlock(&atts_lock);
}

/* In the child: its attachments are the parent's.  fork() will have the
 * parent say so; any other fork (glibc's own) leaves it to the child. */
void shx_sysv_after_fork_child(void)
{
	size_t n;

	/* what MADV_DONTFORK kept from the child is not attached here */
	for (size_t i = 0; i < atomic_load(&natts);)
		if (msync((void *)atts[i].addr, 1, MS_ASYNC) < 0 && errno == ENOMEM)
			att_remove(i);
		else
			i++;
	n = atomic_load(&natts);
	pthread_mutex_unlock(&atts_lock);
	if (n == 0)
		return;
	if (forking) {
		atomic_store(&fork_parent, forking);
		forking = 0;
		return;
	}
	/* whoever our parent waited for, it is not our business */
	atomic_store(&fork_parent, 0);
	for (size_t i = 0; i < n; i++) {
		struct shx_req q;

		shx_req_init(&q, SHX_OP_SHMINHERIT, NULL);
		q.aux = (uint32_t)atts[i].shmid;
		q.ino = atts[i].ino;
		q.size = getppid();
		shx_notify(&q);
	}
}
