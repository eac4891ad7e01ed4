/* pagein.c -- the client's side of paging: the page-state table and the
 * calls that read or move data of a managed object without a mapping.
 *
 * The kernel reads a page that the manager punched out as zeros, with no
 * fault anyone could catch, so every call that reads (or partly writes)
 * an object's data counts itself in the object's entry of the shared
 * page-state table (core/pgstate.h) and, only while the object has pages
 * out, asks the manager to bring the range in first.  An object with no
 * pages out costs two atomic operations; an fd of no object, one load.
 */
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pgstate.h"
#include "preload.h"
#include "procfs.h"

#define NO_TABLE ((struct pg_table *)1)

static _Atomic(struct pg_table *) table;

/* The manager's table, mapped on first use (a fork child has it; an exec
 * maps it again).  NULL when the manager pages nothing. */
static struct pg_table *pg_table(void)
{
	struct pg_table *t = atomic_load_explicit(&table, memory_order_acquire), *none = NULL;
	struct shx_req q;
	struct shx_rep p = { 0 };
	int fd = -1, r;

	if (t)
		return t == NO_TABLE ? NULL : t;
	shx_req_init(&q, SHX_OP_PGTABLE, NULL);
	r = shx_request(&q, &p, &fd, O_CLOEXEC);
	if (r < 0 || fd < 0) {
		if (fd >= 0)
			syscall(SYS_close, fd);
		/* a manager without paging; any other failure is asked again */
		if (r == -EOPNOTSUPP)
			atomic_store(&table, NO_TABLE);
		return NULL;
	}
	t = (void *)syscall(SYS_mmap, NULL, PG_TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    0);
	syscall(SYS_close, fd);
	if (t == MAP_FAILED)
		return NULL;
	if (t->magic != PG_MAGIC || t->nslots != PG_SLOTS) {
		syscall(SYS_munmap, t, PG_TABLE_SIZE);
		atomic_store(&table, NO_TABLE);
		return NULL;
	}
	if (!atomic_compare_exchange_strong(&table, &none, t)) {
		syscall(SYS_munmap, t, PG_TABLE_SIZE);
		t = none == NO_TABLE ? NULL : none;
	}
	return t;
}

/* Where a call without an offset reads or writes: the fd's position, or
 * its end when it appends. */
static off_t position(int fd, int append)
{
	struct stat st;

	off_t pos;

	if (append)
		return REAL(fstat)(fd, &st) < 0 ? 0 : st.st_size;
	pos = REAL(lseek)(fd, 0, SEEK_CUR);
	return pos < 0 ? 0 : pos;
}

struct pg_entry *shx_pg_enter(int fd, uint64_t ino, int64_t off, uint64_t len, int flags)
{
	struct pg_table *t = pg_table();
	struct pg_entry *e = t ? pg_find(t, ino) : NULL;
	uint32_t now;

	if (!e)
		return NULL;
	atomic_fetch_add(&e->users, 1);
	now = atomic_load_explicit(&t->tick, memory_order_relaxed);
	if (atomic_load_explicit(&e->tick, memory_order_relaxed) != now)
		atomic_store_explicit(&e->tick, now, memory_order_relaxed);
	if (atomic_load(&e->state) && !(flags & SHX_PG_COUNT_ONLY)) {
		struct shx_req q;
		struct shx_rep p = { 0 };

		shx_req_init(&q, SHX_OP_SWAPIN, NULL);
		q.ino = ino;
		q.size = off >= 0 ? (uint64_t)off : (uint64_t)position(fd, off == SHX_PG_APPEND);
		q.atime_ns = (int64_t)len;
		q.flags = flags & SHX_SWAPIN_TRUNC;
		/* a failure leaves the pages out, which the call then reads as
		 * holes: the manager logs why */
		shx_request(&q, &p, NULL, 0);
	}
	return e;
}

void shx_pg_leave(struct pg_entry *e)
{
	if (e)
		atomic_fetch_sub(&e->users, 1);
}

void shx_pg_mapped(struct pg_entry *e)
{
	if (e)
		atomic_fetch_add(&e->mapseq, 1);
}

/* The entry of a managed fd, for a call on [off, off + len). */
static struct pg_entry *enter_fd(int fd, int64_t off, uint64_t len, int writing)
{
	struct shx_fdent *f = shx_fdtab_get(fd);

	if (!f || (f->flags & (SHX_FD_DIR | SHX_FD_SPECIAL)))
		return NULL;
	if (off < 0 && writing && (f->flags & SHX_FD_APPEND))
		off = SHX_PG_APPEND;
	return shx_pg_enter(fd, f->ino, off, len, 0);
}

struct pg_entry *shx_pg_enter_fd(int fd, int64_t off, uint64_t len, int writing)
{
	return enter_fd(fd, off, len, writing);
}

/* --- mappings: this process's userfaultfd, in the manager's hands ---------------
 *
 * A shared mapping of an object is registered with a userfaultfd of this
 * process that the manager holds (we keep no copy: were the manager to die,
 * the uffd goes with it and faults are the kernel's again).  Then the
 * manager may page the object out while it is mapped, and answers the
 * faults; without one (no userfaultfd here, a kernel that lacks shmem
 * write-protection) a mapped object is brought in whole and stays in.
 * Only full userfaultfds do: one limited to user-mode faults would make a
 * system call that reads a swapped mapped page fail with EFAULT. */

/* the few of <linux/userfaultfd.h> we need (musl has no kernel headers) */
struct shx_uffdio_api {
	uint64_t api, features, ioctls;
};
#define SHX_UFFD_API 0xAAull
#define SHX_UFFDIO_API _IOWR(0xAA, 0x3F, struct shx_uffdio_api)
#define SHX_USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#define SHX_UFFD_FEATURES ((1ull << 5) | (1ull << 12)) /* MISSING_SHMEM, WP_HUGETLBFS_SHMEM */

static atomic_int uffd_state; /* 0: not tried yet, 1: the manager has ours, -1: none */

static int new_uffd(void)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 && errno == EPERM) { /* vm.unprivileged_userfaultfd=0: the device may let us */
		long dev = syscall(SYS_openat, AT_FDCWD, "/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev >= 0) {
			fd = syscall(SYS_ioctl, dev, SHX_USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
			syscall(SYS_close, dev);
		}
	}
	return fd;
}

/* 1 when the manager answers this process's faults. */
static int uffd_active(void)
{
	int st = atomic_load(&uffd_state), fd, r;
	struct shx_uffdio_api api = { SHX_UFFD_API, SHX_UFFD_FEATURES, 0 };
	struct shx_req q;
	struct shx_rep p = { 0 };

	if (st)
		return st > 0;
	if (!pg_table() || shx_conn_vforked())
		return 0;
	fd = new_uffd();
	if (fd < 0) {
		atomic_store(&uffd_state, -1);
		return 0;
	}
	if (syscall(SYS_ioctl, fd, SHX_UFFDIO_API, &api) < 0 ||
	    (api.features & SHX_UFFD_FEATURES) != SHX_UFFD_FEATURES) {
		syscall(SYS_close, fd);
		atomic_store(&uffd_state, -1);
		return 0;
	}
	shx_req_init(&q, SHX_OP_PGUFFD, NULL);
	q.sendfd1 = fd + 1;
	r = shx_request(&q, &p, NULL, 0);
	syscall(SYS_close, fd);
	st = r == 0 ? 1 : -1;
	atomic_store(&uffd_state, st);
	return st > 0;
}

/* After a shared mapping of object ino (entry e) at m (len bytes, file
 * offset off) was made: 0 when the manager may answer its faults, else
 * -errno (the caller then brings the object in whole).  Of an object with
 * nothing out the manager learns the mapping from /proc/PID/maps when it
 * looks before a page-out, as this process has its uffd: no message.  One
 * with pages out is registered now. */
static int register_map(struct pg_entry *e, uint64_t ino, void *m, size_t len, off_t off)
{
	struct shx_req q;
	struct shx_rep p = { 0 };

	if (!uffd_active())
		return -ENOSYS;
	if (!atomic_load(&e->state))
		return 0;
	shx_req_init(&q, SHX_OP_PGMAP, NULL);
	q.ino = ino;
	q.size = (uintptr_t)m;
	q.atime_ns = (int64_t)len;
	q.mtime_ns = (int64_t)off;
	return shx_request(&q, &p, NULL, 0);
}

/* All of object ino comes in (a mapping whose faults nobody answers). */
static void swapin_all(uint64_t ino)
{
	struct shx_req q;
	struct shx_rep p = { 0 };

	shx_req_init(&q, SHX_OP_SWAPIN, NULL);
	q.ino = ino;
	q.atime_ns = -1;
	shx_request(&q, &p, NULL, 0);
}

void *shx_pg_map(uint64_t ino, int fd, void *addr, size_t len, int prot, int flags, off_t off,
		 void *(*real)(void *, size_t, int, int, int, off_t))
{
	struct pg_table *t = atomic_load(&table);
	struct pg_entry *e;
	void *m = NULL;
	int mapped = 0;

	/* The table is mapped on first use: not before the caller's own
	 * mapping, which could then not have the address the caller found
	 * free.  Counting users after the mapping is made is as safe: it is
	 * not touched before we return, and a page-out that came between is
	 * seen in state below. */
	if (!t) {
		m = real(addr, len, prot, flags, fd, off);
		mapped = 1;
		t = pg_table();
	}
	e = t && t != NO_TABLE ? pg_find(t, ino) : NULL;
	if (!e)
		return mapped ? m : real(addr, len, prot, flags, fd, off);
	/* counted in users from before the mapping exists until the manager
	 * knows of it (registered, or mapseq moved for its scan) */
	atomic_fetch_add(&e->users, 1);
	if (!mapped)
		m = real(addr, len, prot, flags, fd, off);
	if (m == MAP_FAILED || (flags & MAP_TYPE) != MAP_SHARED ||
	    register_map(e, ino, m, len, off) < 0) {
		/* faults nobody answers: no page of it may be out */
		if (atomic_load(&e->state))
			swapin_all(ino);
	}
	atomic_fetch_add(&e->mapseq, 1);
	atomic_fetch_sub(&e->users, 1);
	return m;
}

static int managed_map(const struct procfs_map *m)
{
	return m->dev_major == 0 && !strncmp(m->path, "/memfd:shmemx", 13);
}

/* Raises users of object ino, bringing it in whole if it has pages out:
 * the entry, or NULL. */
static struct pg_entry *hold_in(uint64_t ino)
{
	struct pg_table *t = pg_table();
	struct pg_entry *e = t ? pg_find(t, ino) : NULL;

	if (!e)
		return NULL;
	atomic_fetch_add(&e->users, 1);
	if (atomic_load(&e->state))
		swapin_all(ino);
	return e;
}

static void fork_collect(const struct procfs_map *m, void *arg)
{
	struct shx_pg_fork *f = arg;

	if (!managed_map(m) || m->perms[3] != 's' || f->n >= SHX_PG_FORK_MAX)
		return;
	for (int i = 0; i < f->n; i++)
		if (f->ino[i] == m->ino)
			return;
	f->ino[f->n++] = m->ino;
}

/* dup_mmap does not carry our registrations into the child (no
 * UFFD_FEATURE_EVENT_FORK): until the child has registered its own, its
 * faults are the kernel's, so nothing it maps may be out -- brought in now
 * and kept in (users) until fork has returned here. */
void shx_pg_before_fork(struct shx_pg_fork *f)
{
	f->n = 0;
	if (atomic_load(&uffd_state) <= 0)
		return;
	procfs_maps(0, fork_collect, f);
	for (int i = 0; i < f->n; i++)
		if (!hold_in(f->ino[i]))
			f->ino[i] = 0;
}

void shx_pg_after_fork_parent(struct shx_pg_fork *f)
{
	struct pg_table *t = atomic_load(&table);

	if (!t || t == NO_TABLE)
		return;
	for (int i = 0; i < f->n; i++) {
		struct pg_entry *e = f->ino[i] ? pg_find(t, f->ino[i]) : NULL;

		if (!e)
			continue;
		/* the child's mappings are new to the manager's scan */
		atomic_fetch_add(&e->mapseq, 1);
		atomic_fetch_sub(&e->users, 1);
	}
}

static void register_again(const struct procfs_map *m, void *arg)
{
	struct pg_table *t = arg;
	struct pg_entry *e;

	if (!managed_map(m) || m->perms[3] != 's' || !(e = pg_find(t, m->ino)))
		return;
	register_map(e, m->ino, (void *)(uintptr_t)m->start, m->end - m->start, m->offset);
	atomic_fetch_add(&e->mapseq, 1);
}

/* In a fork child: a userfaultfd of its own, and its mappings on it. */
static void uffd_after_fork_child(struct pg_table *t)
{
	int had = atomic_load(&uffd_state) > 0;

	atomic_store(&uffd_state, 0);
	if (had)
		procfs_maps(0, register_again, t);
}

struct remap_find {
	uintptr_t addr;
	struct shx_pg_remap *r;
};

static void remap_find(const struct procfs_map *m, void *arg)
{
	struct remap_find *f = arg;

	if (m->start == f->addr && managed_map(m) && m->perms[3] == 's') {
		f->r->ino = m->ino;
		f->r->off = m->offset;
	}
}

/* mremap drops the registration of what it moves (no
 * UFFD_FEATURE_EVENT_REMAP): the object is held in across it, and the new
 * place registered (or learnt by the manager's scan). */
void shx_pg_remap_begin(struct shx_pg_remap *r, void *old)
{
	struct remap_find f = { (uintptr_t)old, r };

	r->ino = 0;
	if (atomic_load(&uffd_state) <= 0)
		return;
	procfs_maps(0, remap_find, &f);
	if (r->ino && !hold_in(r->ino))
		r->ino = 0;
}

void shx_pg_remap_end(struct shx_pg_remap *r, void *old, size_t old_len, void *m, size_t len)
{
	struct pg_table *t = atomic_load(&table);
	struct pg_entry *e;

	if (!r->ino || !t || t == NO_TABLE || !(e = pg_find(t, r->ino)))
		return;
	if (m != MAP_FAILED) {
		if (register_map(e, r->ino, m, len, r->off) < 0 && atomic_load(&e->state))
			swapin_all(r->ino);
	}
	atomic_fetch_add(&e->mapseq, 1);
	atomic_fetch_sub(&e->users, 1);
}

/* --- stdio streams -------------------------------------------------------------- */

void shx_pg_pin(int fd)
{
	struct shx_fdent *f = shx_fdtab_get(fd);

	if (!f || (f->flags & (SHX_FD_DIR | SHX_FD_SPECIAL | SHX_FD_PINNED)))
		return;
	if (shx_pg_enter(fd, f->ino, 0, UINT64_MAX, 0))
		f->flags |= SHX_FD_PINNED;
}

void shx_pg_unpin(int fd)
{
	struct shx_fdent *f = shx_fdtab_get(fd);
	struct pg_table *t = atomic_load(&table);

	if (!f || !(f->flags & SHX_FD_PINNED))
		return;
	f->flags &= ~SHX_FD_PINNED;
	if (t && t != NO_TABLE)
		shx_pg_leave(pg_find(t, f->ino));
}

static void pin_again(int fd, struct shx_fdent *f, void *arg)
{
	struct pg_entry *e;

	if ((f->flags & SHX_FD_PINNED) && (e = pg_find(arg, f->ino)))
		atomic_fetch_add(&e->users, 1);
}

void shx_pg_after_fork_child(void)
{
	struct pg_table *t = atomic_load(&table);

	if (t && t != NO_TABLE) {
		shx_fdtab_each(pin_again, t);
		uffd_after_fork_child(t);
	}
}

/* --- read, pread, readv, preadv -------------------------------------------- */

SHX_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct pg_entry *e;
	ssize_t r;

	if (!shx_fdtab_get(fd))
		return REAL(read)(fd, buf, n);
	e = enter_fd(fd, -1, n, 0);
	r = REAL(read)(fd, buf, n);
	shx_pg_leave(e);
	return r;
}

SHX_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct pg_entry *e;
	ssize_t r;

	if (!shx_fdtab_get(fd) || off < 0)
		return REAL(pread)(fd, buf, n, off);
	e = enter_fd(fd, off, n, 0);
	r = REAL(pread)(fd, buf, n, off);
	shx_pg_leave(e);
	return r;
}

SHX_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct pg_entry *e;
	ssize_t r;

	if (!shx_fdtab_get(fd) || cnt <= 0)
		return REAL(readv)(fd, iov, cnt);
	e = enter_fd(fd, -1, shx_iov_total(iov, cnt), 0);
	r = REAL(readv)(fd, iov, cnt);
	shx_pg_leave(e);
	return r;
}

SHX_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	struct pg_entry *e;
	ssize_t r;

	if (!shx_fdtab_get(fd) || cnt <= 0 || off < 0)
		return REAL(preadv)(fd, iov, cnt, off);
	e = enter_fd(fd, off, shx_iov_total(iov, cnt), 0);
	r = REAL(preadv)(fd, iov, cnt, off);
	shx_pg_leave(e);
	return r;
}

#ifdef __GLIBC__
SHX_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off);
}

SHX_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return preadv(fd, iov, cnt, off);
}

/* off -1: at the fd's position, as readv */
SHX_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct pg_entry *e;
	ssize_t r;

	if (!shx_fdtab_get(fd) || cnt <= 0 || off < -1)
		return REAL(preadv2)(fd, iov, cnt, off, flags);
	e = enter_fd(fd, off, shx_iov_total(iov, cnt), 0);
	r = REAL(preadv2)(fd, iov, cnt, off, flags);
	shx_pg_leave(e);
	return r;
}

SHX_EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return preadv2(fd, iov, cnt, off, flags);
}
#endif

/* --- fd to fd: sendfile, copy_file_range, splice ------------------------------ */

static struct pg_entry *enter_at(int fd, const off_t *off, uint64_t len, int writing)
{
	if (!shx_fdtab_get(fd))
		return NULL;
	return enter_fd(fd, off ? *off : -1, len, writing);
}

SHX_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	struct pg_entry *ei, *eo;
	ssize_t r;

	if (!shx_fdtab_get(in) && !shx_fdtab_get(out))
		return REAL(sendfile)(out, in, off, n);
	ei = enter_at(in, off, n, 0);
	eo = enter_at(out, NULL, n, 1);
	r = REAL(sendfile)(out, in, off, n);
	shx_pg_leave(eo);
	shx_pg_leave(ei);
	return r;
}

#ifdef __GLIBC__
SHX_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	return sendfile(out, in, off, n);
}
#endif

SHX_EXPORT ssize_t copy_file_range(int in, off_t *off_in, int out, off_t *off_out, size_t n,
				   unsigned flags)
{
	struct pg_entry *ei, *eo;
	ssize_t r;

	if (!shx_fdtab_get(in) && !shx_fdtab_get(out))
		return REAL(copy_file_range)(in, off_in, out, off_out, n, flags);
	ei = enter_at(in, off_in, n, 0);
	eo = enter_at(out, off_out, n, 1);
	r = REAL(copy_file_range)(in, off_in, out, off_out, n, flags);
	shx_pg_leave(eo);
	shx_pg_leave(ei);
	return r;
}

SHX_EXPORT ssize_t splice(int in, off_t *off_in, int out, off_t *off_out, size_t n,
			  unsigned flags)
{
	struct pg_entry *ei, *eo;
	ssize_t r;

	if (!shx_fdtab_get(in) && !shx_fdtab_get(out))
		return REAL(splice)(in, off_in, out, off_out, n, flags);
	ei = enter_at(in, off_in, n, 0);
	eo = enter_at(out, off_out, n, 1);
	r = REAL(splice)(in, off_in, out, off_out, n, flags);
	shx_pg_leave(eo);
	shx_pg_leave(ei);
	return r;
}

/* --- lseek: SEEK_DATA and SEEK_HOLE see swapped pages as data ------------------ */

SHX_EXPORT off_t lseek(int fd, off_t off, int whence)
{
	struct shx_fdent *f;
	struct pg_entry *e;
	off_t r;

	if ((whence != SEEK_DATA && whence != SEEK_HOLE) || !(f = shx_fdtab_get(fd)) ||
	    (f->flags & (SHX_FD_DIR | SHX_FD_SPECIAL)))
		return REAL(lseek)(fd, off, whence);
	e = shx_pg_enter(fd, f->ino, 0, 0, SHX_PG_COUNT_ONLY);
	if (e && (atomic_load(&e->state) & PG_SWAPPED)) {
		struct shx_req q;
		struct shx_rep p = { 0 };
		int s;

		shx_req_init(&q, SHX_OP_SEEK, NULL);
		q.ino = f->ino;
		q.size = (uint64_t)off;
		q.flags = whence;
		s = shx_request(&q, &p, NULL, 0);
		r = s < 0 ? shx_ret(s) : REAL(lseek)(fd, (off_t)p.value, SEEK_SET);
	} else {
		r = REAL(lseek)(fd, off, whence);
	}
	shx_pg_leave(e);
	return r;
}

#ifdef __GLIBC__
SHX_EXPORT off_t lseek64(int fd, off_t off, int whence)
{
	return lseek(fd, off, whence);
}
#endif
