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
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pgstate.h"
#include "preload.h"

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

	if (t && t != NO_TABLE)
		shx_fdtab_each(pin_again, t);
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

static uint64_t iov_len(const struct iovec *iov, int cnt)
{
	uint64_t t = 0;

	for (int i = 0; i < cnt && i < 1024; i++)
		t += iov[i].iov_len;
	return t;
}

SHX_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct pg_entry *e;
	ssize_t r;

	if (!shx_fdtab_get(fd) || cnt <= 0)
		return REAL(readv)(fd, iov, cnt);
	e = enter_fd(fd, -1, iov_len(iov, cnt), 0);
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
	e = enter_fd(fd, off, iov_len(iov, cnt), 0);
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
	e = enter_fd(fd, off, iov_len(iov, cnt), 0);
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
