/* io.c -- the calls that can grow a managed file, and fd bookkeeping.
 *
 * Reads, maps and seeks go straight to the kernel.  What grows a file is
 * paid for first (DESIGN.md, "ENOSPC, never SIGBUS"): an fd remembers how
 * far it may write, and asks the manager for more -- with some slack, so
 * that appending does not cost a round trip per write -- only when a
 * write would go past that.  A full quota gives a short write, then
 * ENOSPC, as a full tmpfs does.
 */
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#ifndef FALLOC_FL_COLLAPSE_RANGE /* not in musl's headers */
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#endif

#define SLACK_MIN (64 << 10)
#define SLACK_MAX (8 << 20)

/* An eighth of the end, 64 KiB to 8 MiB: what a write asks for beyond
 * its own bytes, so that the next ones need no round trip. */
static uint64_t slack_for(uint64_t end)
{
	return end / 8 < SLACK_MIN ? SLACK_MIN : end / 8 > SLACK_MAX ? SLACK_MAX : end / 8;
}

/* A partial RESERVE of fd's object (flags, size, atime_ns as proto.h
 * says): 0 with the reply in *p, 1 when the fd turned out not to be ours
 * (forgotten now), or -errno. */
static int ask_room(int fd, struct shx_fdent *e, uint32_t flags, uint64_t size, int64_t unspent,
		    struct shx_rep *p)
{
	struct shx_req q;
	int r;

	shx_req_init(&q, SHX_OP_RESERVE, NULL);
	q.ino = e->ino;
	q.size = size;
	q.flags = SHX_RESERVE_PARTIAL | flags;
	q.atime_ns = unspent;
	r = shx_request(&q, p, NULL, 0);
	if (r == -ESTALE) {
		shx_fdtab_clear(fd);
		return 1;
	}
	return r;
}

/* How many of the n bytes at off may be written: n, fewer when space runs
 * out, or -errno.  off < 0: at the fd's position (or its end if
 * O_APPEND). */
static ssize_t room_for(int fd, struct shx_fdent *e, off_t off, size_t n)
{
	struct shx_rep p = { 0 };
	uint64_t end;
	int r;

	if (!(e->flags & SHX_FD_WRITE) || n == 0)
		return n;
	if (off < 0 || (e->flags & SHX_FD_APPEND)) {
		struct stat st;

		if (e->flags & SHX_FD_APPEND)
			off = REAL(fstat)(fd, &st) < 0 ? -1 : st.st_size;
		else
			off = lseek(fd, 0, SEEK_CUR);
		if (off < 0) /* not the file we think: let the kernel say why */
			return n;
	}
	if (n > (uint64_t)INT64_MAX - off)
		return n; /* the kernel's EFBIG/EINVAL */
	end = off + n;
	if (end <= e->reserved)
		return n;
	r = ask_room(fd, e, 0, end + slack_for(end), 0, &p);
	if (r != 0)
		return r < 0 ? r : (ssize_t)n;
	e->reserved = p.value;
	if (p.value <= (uint64_t)off)
		return p.hflags & SHX_HF_EDQUOT ? -EDQUOT : -ENOSPC;
	return p.value - off < n ? (ssize_t)(p.value - off) : (ssize_t)n;
}

/* --- appends: paid for by amount ------------------------------------------ */

struct unspent {
	uint64_t ino, bytes;
};

static void add_unspent(int fd, struct shx_fdent *e, void *arg)
{
	struct unspent *u = arg;

	if (e->ino == u->ino)
		u->bytes += atomic_load(&e->budget) + atomic_load(&e->inflight);
}

/* Takes up to n bytes of the fd's budget for a write about to start. */
static size_t claim(struct shx_fdent *e, size_t n)
{
	uint64_t b = atomic_load(&e->budget), take;

	do
		take = b < n ? b : n;
	while (take && !atomic_compare_exchange_weak(&e->budget, &b, b - take));
	if (take)
		atomic_fetch_add(&e->inflight, take);
	return take;
}

/* How many of n bytes an O_APPEND fd may append now (claimed from its
 * budget, which the manager tops up), or -errno.  Concurrent appenders
 * each write past whatever end the others left, so each has paid for its
 * own bytes: together they never go past the limit.  What a process
 * still has unspent is told with every request (inflight included: a
 * write claimed but not yet done is not in the file's size yet). */
static ssize_t append_room(int fd, struct shx_fdent *e, size_t n)
{
	struct unspent u = { e->ino, 0 };
	struct shx_rep p = { 0 };
	struct stat st;
	size_t got = claim(e, n);
	int r;

	if (got == n)
		return n;
	if (got) /* give it back and ask for the whole */
		atomic_fetch_add(&e->budget, got), atomic_fetch_sub(&e->inflight, got);
	shx_fdtab_each(add_unspent, &u);
	r = ask_room(fd, e, SHX_RESERVE_APPEND,
		     n + slack_for(REAL(fstat)(fd, &st) == 0 ? (uint64_t)st.st_size : 0),
		     (int64_t)u.bytes, &p);
	if (r != 0)
		return r < 0 ? r : (ssize_t)n;
	atomic_fetch_add(&e->budget, p.value);
	got = claim(e, n);
	if (!got)
		return p.hflags & SHX_HF_EDQUOT ? -EDQUOT : -ENOSPC;
	return got;
}

/* After the write: what it did not use goes back to the budget. */
static void append_done(struct shx_fdent *e, size_t claimed, ssize_t wrote)
{
	size_t used = wrote > 0 ? (size_t)wrote : 0;

	if (used < claimed)
		atomic_fetch_add(&e->budget, claimed - used);
	atomic_fetch_sub(&e->inflight, claimed);
}

static int appending(const struct shx_fdent *e)
{
	return (e->flags & (SHX_FD_APPEND | SHX_FD_WRITE)) == (SHX_FD_APPEND | SHX_FD_WRITE);
}

SHX_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	struct pg_entry *pe;
	ssize_t room, r;

	if (!e)
		return REAL(write)(fd, buf, n);
	if (appending(e) && n > 0) {
		room = append_room(fd, e, n);
		if (room < 0)
			return shx_ret(room);
		pe = shx_pg_enter_fd(fd, SHX_PG_APPEND, room, 1);
		r = REAL(write)(fd, buf, room);
		shx_pg_leave(pe);
		append_done(e, room, r);
		return r;
	}
	room = room_for(fd, e, -1, n);
	if (room < 0)
		return shx_ret(room);
	pe = shx_pg_enter_fd(fd, SHX_PG_POS, room, 1);
	room = REAL(write)(fd, buf, room);
	shx_pg_leave(pe);
	return room;
}

SHX_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	struct pg_entry *pe;
	ssize_t room, r;

	if (!e || off < 0)
		return REAL(pwrite)(fd, buf, n, off);
	/* Linux appends pwrite's data to an O_APPEND file whatever the offset */
	if (appending(e) && n > 0) {
		room = append_room(fd, e, n);
		if (room < 0)
			return shx_ret(room);
		pe = shx_pg_enter_fd(fd, SHX_PG_APPEND, room, 1);
		r = REAL(pwrite)(fd, buf, room, off);
		shx_pg_leave(pe);
		append_done(e, room, r);
		return r;
	}
	room = room_for(fd, e, off, n);
	if (room < 0)
		return shx_ret(room);
	pe = shx_pg_enter_fd(fd, off, room, 1);
	room = REAL(pwrite)(fd, buf, room, off);
	shx_pg_leave(pe);
	return room;
}

size_t shx_iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	for (int i = 0; i < cnt && i < IOV_MAX; i++)
		t += iov[i].iov_len;
	return t;
}

/* A vector that space ran short for is cut to fit: the first iovecs
 * whole, the last one shortened, in a copy of the array. */
static int iov_cut(const struct iovec *iov, int cnt, size_t room, struct iovec *out)
{
	int i;

	for (i = 0; i < cnt && room > 0; i++) {
		out[i] = iov[i];
		if (out[i].iov_len > room)
			out[i].iov_len = room;
		room -= out[i].iov_len;
	}
	return i;
}

static ssize_t write_vec(int fd, const struct iovec *iov, int cnt, off_t off,
			 ssize_t (*real)(int, const struct iovec *, int, off_t))
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	struct iovec cut[64];
	struct pg_entry *pe;
	size_t total;
	ssize_t room, r;
	int app;

	if (!e || cnt <= 0 || cnt > IOV_MAX)
		return real(fd, iov, cnt, off);
	total = shx_iov_total(iov, cnt);
	app = appending(e) && total > 0;
	room = app ? append_room(fd, e, total) : room_for(fd, e, off, total);
	if (room < 0)
		return shx_ret(room);
	if ((size_t)room < total) {
		if (cnt > 64)
			cnt = 64;
		cnt = iov_cut(iov, cnt, room, cut);
		iov = cut;
	}
	pe = shx_pg_enter_fd(fd, app ? SHX_PG_APPEND : off, room, 1);
	r = real(fd, iov, cnt, off);
	shx_pg_leave(pe);
	if (app)
		append_done(e, room, r);
	return r;
}

static ssize_t real_writev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return REAL(writev)(fd, iov, cnt);
}

static ssize_t real_pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return REAL(pwritev)(fd, iov, cnt, off);
}

SHX_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	return write_vec(fd, iov, cnt, -1, real_writev);
}

SHX_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (off < 0)
		return REAL(pwritev)(fd, iov, cnt, off);
	return write_vec(fd, iov, cnt, off, real_pwritev);
}

/* Space for the file to reach `end`, all of it or nothing. */
static int reserve_to(struct shx_fdent *e, uint64_t end)
{
	struct shx_req q;
	struct shx_rep p = { 0 };
	int r;

	if (end <= e->reserved)
		return 0;
	shx_req_init(&q, SHX_OP_RESERVE, NULL);
	q.ino = e->ino;
	q.size = end;
	r = shx_request(&q, &p, NULL, 0);
	if (r == 0)
		e->reserved = p.value;
	return r;
}

struct most_reserved {
	uint64_t ino, end;
};

static void most_reserved(int fd, struct shx_fdent *e, void *arg)
{
	struct most_reserved *m = arg;

	if (e->ino == m->ino && e->reserved > m->end)
		m->end = e->reserved;
}

/* After a call that may have freed space, the manager recounts -- down
 * to what this process's fds of the object may still write without
 * asking (other threads may be writing into their reservations now). */
static void resync(struct shx_fdent *e)
{
	struct most_reserved m = { e->ino, 0 };
	struct shx_req q;

	shx_fdtab_each(most_reserved, &m);
	shx_req_init(&q, SHX_OP_SYNC, NULL);
	q.ino = e->ino;
	q.size = m.end;
	shx_notify(&q);
}

SHX_EXPORT int ftruncate(int fd, off_t len)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	int r;

	if (!e || len < 0 || !(e->flags & SHX_FD_WRITE))
		return REAL(ftruncate)(fd, len);
	struct pg_entry *pe;

	r = reserve_to(e, len);
	if (r == -ESTALE)
		return REAL(ftruncate)(fd, len);
	if (r < 0)
		return shx_ret(r);
	pe = shx_pg_enter(fd, e->ino, len, 0, SHX_SWAPIN_TRUNC);
	r = REAL(ftruncate)(fd, len);
	shx_pg_leave(pe);
	if (r == 0 && (uint64_t)len < e->reserved) {
		e->reserved = len;
		resync(e);
	}
	return r;
}

SHX_EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	int r;

	if (!e || off < 0 || len <= 0 || len > INT64_MAX - off || !(e->flags & SHX_FD_WRITE))
		return REAL(fallocate)(fd, mode, off, len);
	if (!(mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE))) {
		r = reserve_to(e, off + len);
		if (r < 0 && r != -ESTALE)
			return shx_ret(r);
	}
	struct pg_entry *pe = shx_pg_enter(fd, e->ino, off, len, 0);

	r = REAL(fallocate)(fd, mode, off, len);
	shx_pg_leave(pe);
	if (r == 0 && (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE)))
		resync(e);
	return r;
}

SHX_EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	int r;

	if (!e || off < 0 || len <= 0 || len > INT64_MAX - off || !(e->flags & SHX_FD_WRITE))
		return REAL(posix_fallocate)(fd, off, len);
	struct pg_entry *pe;

	r = reserve_to(e, off + len);
	if (r < 0 && r != -ESTALE)
		return -r;
	pe = shx_pg_enter(fd, e->ino, off, len, 0);
	r = REAL(posix_fallocate)(fd, off, len);
	shx_pg_leave(pe);
	return r;
}

#ifdef __GLIBC__
SHX_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

SHX_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return pwritev(fd, iov, cnt, off);
}

SHX_EXPORT int ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

SHX_EXPORT int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}

SHX_EXPORT int posix_fallocate64(int fd, off_t off, off_t len)
{
	return posix_fallocate(fd, off, len);
}
#endif

/* --- fd bookkeeping ------------------------------------------------------ */

static __attribute__((noinline)) void fd_forget(int fd)
{
	uint64_t ino = shx_fdtab_clear(fd);
	struct shx_req q;

	if (shx_conn_owns(fd))
		shx_conn_forget(fd);
	if (!ino)
		return;
	shx_req_init(&q, SHX_OP_CLOSE, NULL);
	q.ino = ino;
	q.vforked = 1; /* (not: see shx_fd_forget) */
	shx_notify(&q);
}

/* (A vfork child closes its own copy of the fd: the parent's stays open,
 * and so does its entry.) */
void shx_fd_forget(int fd)
{
	if ((shx_fdtab_get(fd) || shx_conn_owns(fd)) && !shx_conn_vforked())
		fd_forget(fd);
}

SHX_EXPORT int close(int fd)
{
	shx_fd_forget(fd);
	return REAL(close)(fd);
}

/* A duplicate is one more fd on the same object: the same entry, and one
 * more hold, so that closing either leaves the object held by the other. */
static int copy_entry(int old, int new)
{
	struct shx_fdent *e = shx_fdtab_get(old);
	struct shx_req q;

	if (new < 0 || !e || shx_conn_vforked())
		return new;
	shx_fdtab_set(new, e->ino, e->flags & ~SHX_FD_PINNED);
	shx_fdtab_get(new)->reserved = e->reserved;
	shx_req_init(&q, SHX_OP_HOLD, NULL);
	q.ino = e->ino;
	q.size = e->reserved;
	shx_notify(&q);
	return new;
}

SHX_EXPORT int dup(int old)
{
	return copy_entry(old, REAL(dup)(old));
}

SHX_EXPORT int dup3(int old, int new, int flags)
{
	if (old != new && new >= 0)
		shx_fd_forget(new);
	return copy_entry(old, REAL(dup3)(old, new, flags));
}

SHX_EXPORT int dup2(int old, int new)
{
	if (old == new || new < 0)
		return REAL(dup2)(old, new);
	shx_fd_forget(new);
	return copy_entry(old, REAL(dup2)(old, new));
}

static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, va_list ap)
{
	/* Every fcntl argument is an int or a pointer; both fit here. */
	void *arg = va_arg(ap, void *);
	struct shx_fdent *e;
	int r = real(fd, cmd, arg);

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		return copy_entry(fd, r);
	case F_SETFL:
		e = shx_fdtab_get(fd);
		if (r == 0 && e)
			e->flags = ((uintptr_t)arg & O_APPEND) ? e->flags | SHX_FD_APPEND
							      : e->flags & ~SHX_FD_APPEND;
		return r;
	}
	return r;
}

SHX_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = do_fcntl(REAL(fcntl), fd, cmd, ap);
	va_end(ap);
	return r;
}

#ifdef __GLIBC__
SHX_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = do_fcntl(REAL(fcntl64), fd, cmd, ap);
	va_end(ap);
	return r;
}
#endif

#ifdef __GLIBC__
static void forget_in_range(int fd, void *arg)
{
	const unsigned *range = arg;

	if ((unsigned)fd >= range[0] && (unsigned)fd <= range[1])
		shx_conn_forget(fd);
}

SHX_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	/* CLOSE_RANGE_CLOEXEC closes nothing now; exec will, and then the
	 * connection's end releases what it held.  The walk stops at the
	 * highest fd ever managed: close_range(3, ~0U) before every exec
	 * (Python's subprocess) must not cost a million steps. */
	if (!(flags & CLOSE_RANGE_CLOEXEC) && !shx_conn_vforked()) {
		int high = shx_fdtab_high();

		for (unsigned fd = first; (int)fd <= high && fd <= last; fd++)
			if (shx_fdtab_get(fd))
				shx_fd_forget(fd);
		shx_conn_each(forget_in_range, (unsigned[]){ first, last });
	}
	return REAL(close_range)(first, last, flags);
}
#endif
