/* shx-evil.c -- a misbehaving client of shmemd, and the small helpers of
 * the robustness tests (tests/e2e/bad-input.sh, manager.sh, quota.sh).
 *
 * Talking to a manager directly (never under the preload):
 *
 *   shx-evil cases                 the names of the malformed-message cases
 *   shx-evil abuse SOCK CASE       one malformed message on a connection of
 *                                  its own; then checks that the manager
 *                                  closed that connection and still answers
 *                                  a well-behaved client (exit 0 if so)
 *   shx-evil random SOCK SEED N    N random or mangled packets, a fresh
 *                                  connection for each, with fixed-seed PRNG
 *   shx-evil noread SOCK PATH      clients that send requests and do not
 *                                  read the answers: one exits at once, one
 *                                  floods the manager with requests
 *   shx-evil passfd SOCK           requests with fds attached: the manager must
 *                                  not keep them
 *   shx-evil chan SOCK             the shared-memory channel (core/chan.h):
 *                                  bad memfds refused, garbage in a channel
 *                                  closes that connection only, a request
 *                                  left in one by a client that exits harms
 *                                  nothing, and a good one works
 *   shx-evil selfopen SOCK DIR     self-opens (SHX_HF_SELFOPEN) of a file in the
 *                                  managed directory DIR, and who may REOPEN
 *   shx-evil conns SOCK N SECS     N connections at once, held SECS seconds
 *   shx-evil hello SOCK            raw connect + HELLO: exit 0 greeted,
 *                                  1 connection closed, 2 cannot connect
 *   shx-evil hold SOCK SECS        a client that stays connected SECS seconds,
 *                                  then checks its connection still works
 *   shx-evil stats SOCK            the manager's figures, as key=value
 *   shx-evil obj SOCK PATH         one object's holders, size and charge
 *
 * Under the preload (they use plain libc calls):
 *
 *   shx-evil put PATH DATA [GO]    create/truncate PATH and write DATA (after
 *                                  the file GO appears, if given)
 *   shx-evil get PATH              print PATH's contents
 *   shx-evil rm PATH               unlink PATH
 *   shx-evil shm NAME              shm_open(NAME, O_CREAT|O_RDWR): "ok" or the
 *                                  errno name
 *   shx-evil probe BASE            the error cases of bad-input.sh, one line
 *                                  each, in the directory BASE (/dev/shm under
 *                                  the preload, a scratch directory natively)
 *   shx-evil churn BASE            opens, writes, unlinks forever (to be
 *                                  killed with SIGKILL)
 *
 * Exit status 0 means the check passed; anything else is explained on
 * stdout as "# " lines.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "conn.h"
#include "proto.h"

#define REPLY_WAIT_MS 3000

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static const char *errname(int e)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
#define E(x) { x, #x }
		E(EPERM),	 E(ENOENT),	  E(EIO),	    E(EBADF),	    E(EACCES),
		E(EFAULT),	 E(EBUSY),	  E(EEXIST),	    E(EXDEV),	    E(ENOTDIR),
		E(EISDIR),	 E(EINVAL),	  E(EMFILE),	    E(EFBIG),	    E(ENOSPC),
		E(EMLINK),	 E(EPIPE),	  E(EAGAIN),	    E(ENAMETOOLONG), E(ENOTEMPTY),
		E(ELOOP),	 E(EOPNOTSUPP),	  E(EPROTO),	    E(EBADMSG),	    E(EMSGSIZE),
		E(EPROTONOSUPPORT), E(ECONNRESET), E(ENOTCONN),	    E(ETIMEDOUT),   E(ECONNREFUSED),
		E(ESTALE),
#undef E
	};
	static char buf[32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == e)
			return names[i].name;
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- raw connections ------------------------------------------------------ */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int send_pkt(int fd, const void *buf, size_t n)
{
	while (send(fd, buf, n, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* One packet within timeout_ms: its length, 0 at the end of the connection,
 * -ETIMEDOUT, or -errno (-ECONNRESET when the manager reset it).  Passed
 * fds are dropped. */
static ssize_t recv_pkt(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t end = now_ms() + timeout_ms;

	for (;;) {
		int64_t left = end - now_ms();
		ssize_t n;
		int r;

		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

static size_t encode(struct shx_req *q, uint8_t *buf, size_t cap)
{
	size_t n = shx_req_encode(q, buf, cap);

	if (n == 0) {
		diag("internal: cannot encode a %s request", shx_op_name(q->op));
		exit(99);
	}
	return n;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t req_hello(uint8_t *buf, size_t cap, uint32_t magic, uint32_t version)
{
	struct shx_req q = { .op = SHX_OP_HELLO, .id = 1, .size = magic, .aux = version };

	return encode(&q, buf, cap);
}

static size_t req_path(unsigned op, const char *path, uint32_t flags, uint8_t *buf, size_t cap)
{
	struct shx_req q = { .op = op, .id = 2, .flags = flags, .mode = 0600 };

	if (path && shx_req_set_path(&q, path) < 0)
		exit(99);
	return encode(&q, buf, cap);
}

/* HELLO and its answer: 0, the manager's refusal (< 0), or -ECONNRESET when
 * the connection ends instead. */
static int greet(int fd, uint64_t *pid)
{
	uint8_t buf[SHX_REP_MAX];
	struct shx_rep p = { .data = buf + SHX_REP_HEAD, .datacap = SHX_DATA_MAX };
	size_t n = req_hello(buf, sizeof(buf), SHX_PROTO_MAGIC, SHX_PROTO_VERSION);
	ssize_t got;
	int r = send_pkt(fd, buf, n);

	if (r < 0)
		return r;
	got = recv_pkt(fd, buf, sizeof(buf), REPLY_WAIT_MS);
	if (got == 0)
		return -ECONNRESET;
	if (got < 0)
		return (int)got;
	if (shx_rep_decode_head(buf, got, &p) < 0 || p.op != SHX_OP_HELLO)
		return -EBADMSG;
	if (pid)
		*pid = p.value;
	return p.status;
}

/* --- a well-behaved client ------------------------------------------------ */

static int ctl_open(const char *sock)
{
	struct timeval tv = { 5, 0 };
	int fd = shx_connect(sock, NULL);

	if (fd < 0)
		return fd;
	/* a manager that stops answering is a failure, not a hang */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int stats_on(int fd, struct shx_stats *st)
{
	static uint8_t data[SHX_DATA_MAX];
	struct shx_req q = { .op = SHX_OP_STATS };
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	int r = shx_call_on(fd, &q, &p, NULL, 0);

	if (r < 0)
		return r;
	if (p.status < 0)
		return p.status;
	return shx_stats_get(&p, st);
}

static int get_stats(const char *sock, struct shx_stats *st)
{
	int fd = ctl_open(sock), r;

	if (fd < 0)
		return fd;
	r = stats_on(fd, st);
	close(fd);
	return r;
}

/* The object at `path`, from SHX_OP_LS: 1 found, 0 not, -errno. */
static int find_obj(const char *sock, const char *path, struct shx_obj *o)
{
	static uint8_t data[SHX_DATA_MAX];
	uint64_t cookie = 0;
	int fd = ctl_open(sock), r = 0;

	if (fd < 0)
		return fd;
	for (int rounds = 0; rounds < 100000; rounds++) {
		struct shx_req q = { .op = SHX_OP_LS, .size = cookie, .aux = sizeof(data) };
		struct shx_rep p = { .data = data, .datacap = sizeof(data) };
		size_t off = 0;

		r = shx_call_on(fd, &q, &p, NULL, 0);
		if (r == 0)
			r = p.status;
		if (r < 0)
			break;
		while ((r = shx_obj_next(&p, &off, o)) > 0)
			if (!strcmp(o->path, path))
				goto out;
		if (r < 0 || (p.hflags & SHX_HF_EOF) || p.value == cookie)
			break;
		cookie = p.value;
	}
out:
	close(fd);
	return r;
}

/* The manager answers STATS, is still the one it was, and (when
 * want_clients is not 0) has exactly that many clients, this one included. */
static int control(const char *sock, uint64_t want_pid, uint64_t want_clients)
{
	struct shx_stats st;
	int r = get_stats(sock, &st);

	if (r < 0) {
		diag("control client: no answer: %s", errname(-r));
		return -1;
	}
	if (want_pid && st.manager_pid != want_pid) {
		diag("control client: manager pid %llu, was %llu", (unsigned long long)st.manager_pid,
		     (unsigned long long)want_pid);
		return -1;
	}
	if (want_clients && st.clients != want_clients) {
		diag("control client: the manager counts %llu clients, expected %llu",
		     (unsigned long long)st.clients, (unsigned long long)want_clients);
		return -1;
	}
	return 0;
}

static uint64_t manager_pid(const char *sock)
{
	struct shx_stats st;
	int r = get_stats(sock, &st);

	if (r < 0) {
		diag("cannot reach the manager at %s: %s", sock, errname(-r));
		exit(1);
	}
	return st.manager_pid;
}

/* --- malformed messages --------------------------------------------------- */

struct abuse {
	const char *name;
	int greet;	 /* a good HELLO first */
	int may_answer; /* the manager may send (one) error reply before closing */
	size_t (*build)(uint8_t *buf, size_t cap);
};

/* The offset of the u16 length of `path` in an encoded request (a string
 * is its length, then its bytes): found by looking, so that the test
 * follows the layout of proto.c. */
static size_t pathlen_off(const uint8_t *b, size_t n, const char *path)
{
	const uint8_t *p = memmem(b + SHX_HDR_LEN, n - SHX_HDR_LEN, path, strlen(path));

	if (!p || p - b < SHX_HDR_LEN + 2) {
		diag("internal: no %s in the encoded request", path);
		exit(99);
	}
	return (size_t)(p - b) - 2;
}

static size_t b_empty(uint8_t *b, size_t cap)
{
	return 0;
}

static size_t b_short_header(uint8_t *b, size_t cap)
{
	req_path(SHX_OP_STATS, NULL, 0, b, cap);
	return 6;
}

static size_t b_header_only(uint8_t *b, size_t cap)
{
	req_path(SHX_OP_STATS, NULL, 0, b, cap);
	put_le(b, SHX_HDR_LEN, 4);
	return SHX_HDR_LEN;
}

static size_t b_len_long(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b, n + 8, 4);
	return n;
}

static size_t b_len_short(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b, n - 1, 4);
	return n;
}

static size_t b_len_huge(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b, 0xffffffffu, 4);
	return n;
}

static size_t b_len_zero(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b, 0, 4);
	return n;
}

static size_t b_op_zero(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b + 4, 0, 2);
	return n;
}

static size_t b_op_max(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b + 4, SHX_OP_MAX, 2);
	return n;
}

static size_t b_op_7fff(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b + 4, 0x7fff, 2);
	return n;
}

static size_t b_op_ffff(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b + 4, 0xffff, 2);
	return n;
}

/* A request whose opcode has the reply bit set. */
static size_t b_op_reply_bit(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b + 4, SHX_OP_STATS | 0x8000, 2);
	return n;
}

/* A whole, well-formed reply message sent as a request. */
static size_t b_reply(uint8_t *b, size_t cap)
{
	static uint8_t data[64];
	struct shx_rep p = { .op = SHX_OP_STATS, .id = 3, .data = data, .datalen = sizeof(data) };
	size_t n = shx_rep_encode(&p, b, cap);

	if (n == 0)
		exit(99);
	return n;
}

static size_t b_bad_hflags(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	put_le(b + 6, 0x40, 2);
	return n;
}

/* The path length says 4000 bytes; the packet has 15. */
static size_t b_path_beyond(uint8_t *b, size_t cap)
{
	const char *path = "/dev/shm/canary";
	size_t n = req_path(SHX_OP_STAT, path, 0, b, cap);

	put_le(b + pathlen_off(b, n, path), 4000, 2);
	return n;
}

/* The path length says fewer bytes than follow. */
static size_t b_path_short(uint8_t *b, size_t cap)
{
	const char *path = "/dev/shm/canary";
	size_t n = req_path(SHX_OP_STAT, path, 0, b, cap);

	put_le(b + pathlen_off(b, n, path), 9, 2);
	return n;
}

/* A path of SHX_PATH_MAX bytes: one too many (the NUL does not fit).  The
 * longest path that encodes, one more byte put in it. */
static size_t b_path_4096(uint8_t *b, size_t cap)
{
	static char path[SHX_PATH_MAX];
	size_t n, o;

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	n = req_path(SHX_OP_STAT, path, 0, b, cap);
	o = pathlen_off(b, n, path);
	if (n + 1 > cap)
		exit(99);
	memmove(b + o + 2 + SHX_PATH_MAX, b + o + 2 + SHX_PATH_MAX - 1, n - (o + 2 + SHX_PATH_MAX - 1));
	b[o + 2 + SHX_PATH_MAX - 1] = 'a';
	n++;
	put_le(b + o, SHX_PATH_MAX, 2);
	put_le(b, n, 4);
	return n;
}

/* "/dev/shm/canary\0zz", opened O_RDWR|O_TRUNC: a manager that stopped at
 * the NUL would empty the canary, which the script checks at the end. */
static size_t b_nul_in_path(uint8_t *b, size_t cap)
{
	const char *path = "/dev/shm/canary.zz";
	size_t n = req_path(SHX_OP_OPEN, path, O_RDWR | O_TRUNC, b, cap);

	b[n - 3] = 0;
	return n;
}

static size_t b_trailing(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_STATS, NULL, 0, b, cap);

	b[n] = 0;
	put_le(b, n + 1, 4);
	return n + 1;
}

/* 65 KiB: an OPEN followed by junk, the length field telling the truth
 * about the packet. */
static size_t b_oversize(uint8_t *b, size_t cap)
{
	size_t n = req_path(SHX_OP_OPEN, "/dev/shm/x", O_RDWR | O_CREAT, b, cap);
	size_t big = 65 * 1024;

	if (big > cap)
		exit(99);
	memset(b + n, 'a', big - n);
	put_le(b, big, 4);
	return big;
}

/* Requests that would do harm if served before HELLO. */
static size_t b_open_trunc_canary(uint8_t *b, size_t cap)
{
	return req_path(SHX_OP_OPEN, "/dev/shm/canary", O_RDWR | O_TRUNC, b, cap);
}

static size_t b_unlink_canary(uint8_t *b, size_t cap)
{
	return req_path(SHX_OP_UNLINK, "/dev/shm/canary", 0, b, cap);
}

static size_t b_stats(uint8_t *b, size_t cap)
{
	return req_path(SHX_OP_STATS, NULL, 0, b, cap);
}

static size_t b_bad_magic(uint8_t *b, size_t cap)
{
	return req_hello(b, cap, 0x12345678, SHX_PROTO_VERSION);
}

static size_t b_bad_version(uint8_t *b, size_t cap)
{
	return req_hello(b, cap, SHX_PROTO_MAGIC, 99);
}

static size_t b_bad_magic_noreply(uint8_t *b, size_t cap)
{
	size_t n = req_hello(b, cap, 0x12345678, SHX_PROTO_VERSION);

	put_le(b + 6, SHX_HF_NOREPLY, 2);
	return n;
}

static const struct abuse cases[] = {
	{ "empty-packet", 1, 0, b_empty },
	{ "empty-packet-first", 0, 0, b_empty },
	{ "truncated-header", 1, 0, b_short_header },
	{ "truncated-header-first", 0, 0, b_short_header },
	{ "header-without-body", 1, 0, b_header_only },
	{ "length-says-more", 1, 0, b_len_long },
	{ "length-says-less", 1, 0, b_len_short },
	{ "length-0xffffffff", 1, 0, b_len_huge },
	{ "length-zero", 1, 0, b_len_zero },
	{ "opcode-0", 1, 0, b_op_zero },
	{ "opcode-max", 1, 0, b_op_max },
	{ "opcode-0x7fff", 1, 0, b_op_7fff },
	{ "opcode-0xffff", 1, 0, b_op_ffff },
	{ "request-with-reply-bit", 1, 0, b_op_reply_bit },
	{ "reply-as-request", 1, 0, b_reply },
	{ "reply-as-first-message", 0, 0, b_reply },
	{ "unknown-header-flags", 1, 0, b_bad_hflags },
	{ "path-length-beyond-packet", 1, 0, b_path_beyond },
	{ "path-length-short-of-packet", 1, 0, b_path_short },
	{ "path-of-4096-bytes", 1, 0, b_path_4096 },
	{ "nul-inside-path", 1, 0, b_nul_in_path },
	{ "trailing-byte", 1, 0, b_trailing },
	{ "oversize-65k", 1, 0, b_oversize },
	{ "oversize-65k-first", 0, 0, b_oversize },
	{ "open-before-hello", 0, 0, b_open_trunc_canary },
	{ "unlink-before-hello", 0, 0, b_unlink_canary },
	{ "stats-before-hello", 0, 0, b_stats },
	{ "hello-wrong-magic", 0, 1, b_bad_magic },
	{ "hello-wrong-magic-noreply", 0, 0, b_bad_magic_noreply },
	{ "hello-wrong-version", 0, 1, b_bad_version },
	{ "second-hello-wrong-magic", 1, 1, b_bad_magic },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Waits for the manager to end the connection.  Returns 1 if it did (EOF or
 * reset), 0 if it was still open after the wait.  *answers counts the
 * packets that came first, *good those that were replies with a success
 * status, *junk those that were no replies at all. */
static int wait_closed(int fd, int timeout_ms, int *answers, int *good, int *junk)
{
	static uint8_t buf[SHX_REP_MAX + 1];
	int64_t end = now_ms() + timeout_ms;

	*answers = *good = *junk = 0;
	for (;;) {
		int64_t left = end - now_ms();
		ssize_t n = recv_pkt(fd, buf, sizeof(buf), left > 0 ? (int)left : 0);
		struct shx_rep p = { .data = buf + SHX_REP_HEAD, .datacap = SHX_DATA_MAX };

		if (n == 0 || n == -ECONNRESET)
			return 1;
		if (n < 0)
			return 0;
		++*answers;
		if (shx_rep_decode_head(buf, n, &p) < 0)
			++*junk;
		else if (p.status >= 0)
			++*good;
	}
}

static int cmd_abuse(const char *sock, const char *name)
{
	static uint8_t buf[70 * 1024];
	const struct abuse *a = NULL;
	uint64_t pid = manager_pid(sock), gpid = 0;
	int fd, r, answers, good, junk, closed, ok = 1;
	size_t n;

	for (size_t i = 0; i < NCASES; i++)
		if (!strcmp(cases[i].name, name))
			a = &cases[i];
	if (!a) {
		diag("no case %s", name);
		return 99;
	}
	fd = raw_connect(sock);
	if (fd < 0) {
		diag("connect: %s", errname(-fd));
		return 1;
	}
	if (a->greet && (r = greet(fd, &gpid)) < 0) {
		diag("HELLO failed: %s", errname(-r));
		return 1;
	}
	n = a->build(buf, sizeof(buf));
	r = send_pkt(fd, buf, n);
	if (r < 0) {
		diag("sending the %zu-byte packet: %s", n, errname(-r));
		ok = 0;
	}
	closed = wait_closed(fd, REPLY_WAIT_MS, &answers, &good, &junk);
	close(fd);
	if (!closed) {
		diag("%s: the manager kept the connection open (%d answers)", name, answers);
		ok = 0;
	} else if (good || junk || answers > a->may_answer) {
		diag("%s: %d answers before the close: %d successes, %d malformed", name, answers,
		     good, junk);
		ok = 0;
	} else {
		diag("%s (%zu bytes): connection closed after %d error answer(s)", name, n, answers);
	}
	if (control(sock, pid, 1) < 0)
		ok = 0;
	return ok ? 0 : 1;
}

/* --- random packets ------------------------------------------------------- */

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint64_t rnd64(void)
{
	return (uint64_t)rnd() << 32 | rnd();
}

static void rnd_path(char *p, size_t cap)
{
	static const char *const heads[] = { "/dev/shm/r", "/dev/shm/../shm/r", "r", "../r",
					     "/dev/shm/./r", "/dev/shm//r", "/dev/shmr", "/" };
	int n = snprintf(p, cap, "%s%x", heads[rnd() % 8], rnd() % 64);

	if (rnd() % 4 == 0 && (size_t)n + 2 < cap)
		strcat(p, rnd() % 2 ? "/" : "/..");
}

/* Inode numbers that exist: the mount root and an object of the test's own
 * (random numbers alone would hardly ever name one). */
static uint64_t known_ino[2];

/* A valid request of any kind with random fields, then perhaps mangled. */
static size_t rnd_request(uint8_t *b, size_t cap)
{
	static const uint64_t sizes[] = { 0, 1, 4096, 1ULL << 40, INT64_MAX, UINT64_MAX };
	struct shx_req q = { .op = 1 + rnd() % (SHX_OP_MAX - 1), .id = rnd() };
	char path[64];
	size_t n;

	q.hflags = rnd() % 3 == 0 ? SHX_HF_NOREPLY : 0;
	switch (rnd() % 3) {
	case 0: q.ino = known_ino[rnd() % 2]; break;
	case 1: q.ino = rnd() % 4096; break;
	default: q.ino = rnd64(); break;
	}
	q.size = rnd() % 2 ? sizes[rnd() % 6] : rnd64();
	if (rnd() % 4 == 0)
		q.size = known_ino[rnd() % 2];
	q.flags = rnd() % 2 ? rnd() : rnd() & (O_ACCMODE | O_CREAT | O_EXCL | O_DIRECTORY);
	q.mode = rnd();
	q.aux = rnd() % 2 ? rnd() : rnd() % 256;
	rnd_path(path, sizeof(path));
	shx_req_set_path(&q, path);
	/* a second path: a rename's or link's target, a symlink's contents */
	rnd_path(path, sizeof(path));
	n = strlen(path);
	memcpy(q.path2, path, n + 1);
	q.path2len = rnd() % 4 ? n : 0;
	n = encode(&q, b, cap);
	switch (rnd() % 4) {
	case 0: /* as it is */
		break;
	case 1: /* a few bytes flipped */
		for (int k = 1 + rnd() % 3; k > 0; k--)
			b[rnd() % n] ^= (uint8_t)(1 + rnd() % 255);
		break;
	case 2: /* cut short */
		n = rnd() % n;
		break;
	case 3: /* a tail of junk */
		for (int k = 1 + rnd() % 8; k > 0; k--)
			b[n++] = (uint8_t)rnd();
		break;
	}
	return n;
}

/* A request on a control connection: its status, *attr filled. */
static int ctl_req(const char *sock, unsigned op, const char *path, uint32_t flags,
		   struct shx_attr *attr)
{
	static uint8_t data[SHX_DATA_MAX];
	struct shx_req q = { .op = op, .flags = flags, .mode = 0600 };
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	int fd = ctl_open(sock), rfd = -1, r;

	if (fd < 0)
		return fd;
	shx_req_set_path(&q, path);
	r = shx_call_on(fd, &q, &p, &rfd, 0);
	if (rfd >= 0)
		close(rfd);
	close(fd);
	if (r == 0)
		r = p.status;
	if (r == 0 && attr)
		*attr = p.attr;
	return r;
}

/* After all clients are gone: no object may be held, and none may live on
 * without a name (an unlinked object whose holds leaked). */
static int no_orphans(const char *sock)
{
	static uint8_t data[SHX_DATA_MAX];
	uint64_t cookie = 0;
	int fd = ctl_open(sock), r = 0, bad = 0;

	if (fd < 0)
		return fd;
	for (int rounds = 0; rounds < 100000; rounds++) {
		struct shx_req q = { .op = SHX_OP_LS, .size = cookie, .aux = sizeof(data) };
		struct shx_rep p = { .data = data, .datacap = sizeof(data) };
		struct shx_obj o;
		size_t off = 0;

		r = shx_call_on(fd, &q, &p, NULL, 0);
		if (r == 0)
			r = p.status;
		if (r < 0)
			break;
		while ((r = shx_obj_next(&p, &off, &o)) > 0) {
			if (o.holders == 0 && o.pathlen > 0)
				continue;
			diag("object %llu (%s): %u holders, no client connected",
			     (unsigned long long)o.attr.ino, o.pathlen ? o.path : "unlinked", o.holders);
			bad++;
		}
		if (r < 0 || (p.hflags & SHX_HF_EOF) || p.value == cookie)
			break;
		cookie = p.value;
	}
	close(fd);
	return r < 0 ? r : bad ? -EBADMSG : 0;
}

static int cmd_random(const char *sock, unsigned long seed, long count)
{
	static uint8_t buf[SHX_REQ_MAX + 64], junk[SHX_REP_MAX];
	uint64_t pid = manager_pid(sock);
	int failures = 0, connect_errors = 0, r;
	long sent = 0, closed_by_manager = 0;
	struct shx_attr a = { 0 };

	rng ^= seed * 0x9e3779b97f4a7c15ULL;
	r = ctl_req(sock, SHX_OP_STAT, "/dev/shm", 0, &a);
	known_ino[0] = a.ino;
	if (r == 0)
		r = ctl_req(sock, SHX_OP_OPEN, "/dev/shm/rvictim", O_CREAT | O_RDWR, &a);
	known_ino[1] = a.ino;
	if (r < 0) {
		diag("cannot set up: %s", errname(-r));
		return 1;
	}
	for (long i = 0; i < count; i++) {
		int fd = raw_connect(sock);
		size_t n;

		if (fd < 0) {
			if (++connect_errors == 1)
				diag("packet %ld: connect: %s", i, errname(-fd));
			continue;
		}
		if (rnd() % 4 != 0 && greet(fd, NULL) != 0) {
			diag("packet %ld: HELLO failed", i);
			failures++;
		}
		if (rnd() % 3 == 0) { /* pure noise */
			n = rnd() % 300;
			for (size_t k = 0; k < n; k++)
				buf[k] = (uint8_t)rnd();
			if (n >= 4 && rnd() % 2)
				put_le(buf, n, 4); /* with a believable length */
		} else {
			n = rnd_request(buf, sizeof(buf));
		}
		if (send_pkt(fd, buf, n) == 0)
			sent++;
		/* Half the time, read what comes (at most briefly); else go away
		 * without reading. */
		if (rnd() % 2) {
			ssize_t got = recv_pkt(fd, junk, sizeof(junk), 20);

			if (got == 0 || got == -ECONNRESET)
				closed_by_manager++;
		}
		close(fd);
		if (i % 100 == 99 && control(sock, pid, 0) < 0) {
			diag("after packet %ld the manager no longer answers", i);
			return 1;
		}
	}
	if (connect_errors) {
		diag("%d connects failed", connect_errors);
		failures++;
	}
	/* every one of those connections must be gone from the manager */
	for (int tries = 0;; tries++) {
		struct shx_stats st;

		if (get_stats(sock, &st) < 0 || st.manager_pid != pid) {
			diag("the manager no longer answers after the random packets");
			return 1;
		}
		if (st.clients == 1)
			break;
		if (tries == 50) {
			diag("%llu clients still counted after the random packets",
			     (unsigned long long)st.clients - 1);
			failures++;
			break;
		}
		sleep_ms(100);
	}
	diag("%ld packets sent, %ld connections seen closed by the manager", sent,
	     closed_by_manager);
	r = ctl_req(sock, SHX_OP_UNLINK, "/dev/shm/rvictim", 0, NULL);
	if (r < 0 && r != -ENOENT) {
		diag("unlink /dev/shm/rvictim: %s", errname(-r));
		failures++;
	}
	if (no_orphans(sock) < 0)
		failures++;
	return failures ? 1 : 0;
}

/* --- clients that do not read ---------------------------------------------- */

static int cmd_noread(const char *sock, const char *canary)
{
	static uint8_t buf[SHX_REQ_MAX];
	uint64_t pid = manager_pid(sock);
	int ok = 1, status = 0, fd, answers = 0, sent = 0, r = 0, good, junk;
	struct shx_obj o;
	pid_t child;
	size_t n;

	/* 1. opens the canary (an fd comes with the answer) and exits */
	child = fork();
	if (child == 0) {
		fd = raw_connect(sock);
		if (fd < 0 || greet(fd, NULL) != 0)
			_exit(2);
		n = req_path(SHX_OP_OPEN, canary, O_RDWR, buf, sizeof(buf));
		_exit(send_pkt(fd, buf, n) == 0 ? 0 : 3);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		diag("the client that exits without reading failed (status %d)", status);
		ok = 0;
	}
	/* its hold on the canary must go with its connection */
	for (int tries = 0;; tries++) {
		r = find_obj(sock, canary, &o);
		if (r <= 0) {
			diag("%s: not listed (%s)", canary, r < 0 ? errname(-r) : "absent");
			ok = 0;
			break;
		}
		if (o.holders == 0)
			break;
		if (tries == 30) {
			diag("%s: still %u holders after its only opener went away", canary,
			     o.holders);
			ok = 0;
			break;
		}
		sleep_ms(100);
	}
	if (control(sock, pid, 1) < 0)
		ok = 0;
	else
		diag("a client that sent OPEN and exited unread: hold released, manager fine");

	/* 2. floods the manager with STATS and never reads: the manager must
	 * neither block on it nor stop serving others; it drops it. */
	fd = raw_connect(sock);
	if (fd < 0 || greet(fd, NULL) != 0) {
		diag("flooding client: cannot connect");
		return 1;
	}
	{
		struct timeval tv = { 2, 0 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	n = req_path(SHX_OP_STATS, NULL, 0, buf, sizeof(buf));
	for (sent = 0; sent < 20000; sent++) {
		r = send_pkt(fd, buf, n);
		if (r < 0)
			break;
	}
	diag("flooding client: %d requests sent, then %s", sent, r < 0 ? errname(-r) : "done");
	if (control(sock, pid, 0) < 0) {
		diag("the manager stopped serving others while a client did not read");
		ok = 0;
	}
	/* now read: the answers that were queued, then the end */
	if (!wait_closed(fd, 5000, &answers, &good, &junk)) {
		diag("flooding client: %d answers and the connection is still open", answers);
		ok = 0;
	} else if (answers >= sent) {
		diag("flooding client: all %d requests answered: nothing was ever full?", answers);
		ok = 0;
	} else {
		diag("flooding client: dropped by the manager after %d answers", answers);
	}
	close(fd);
	for (int tries = 0;; tries++) {
		if (control(sock, pid, 1) == 0)
			break;
		if (tries == 30) {
			ok = 0;
			break;
		}
		sleep_ms(100);
	}
	return ok ? 0 : 1;
}

/* --- many connections ------------------------------------------------------- */

/* Opens n connections and greets each (the manager answers or not within
 * a short wait), keeps them for secs seconds, then lets them all go. */
static int cmd_conns(const char *sock, int n, int secs)
{
	uint8_t buf[SHX_REP_MAX];
	int *fds = calloc(n, sizeof(int)), greeted = 0, refused = 0, unanswered = 0;

	if (!fds)
		return 99;
	for (int i = 0; i < n; i++) {
		size_t len = req_hello(buf, sizeof(buf), SHX_PROTO_MAGIC, SHX_PROTO_VERSION);
		ssize_t got;

		fds[i] = raw_connect(sock);
		if (fds[i] < 0) {
			refused++;
			continue;
		}
		if (send_pkt(fds[i], buf, len) < 0) {
			refused++;
			continue;
		}
		got = recv_pkt(fds[i], buf, sizeof(buf), 50);
		if (got > 0)
			greeted++;
		else if (got == -ETIMEDOUT)
			unanswered++;
		else
			refused++;
	}
	printf("greeted=%d unanswered=%d refused=%d\n", greeted, unanswered, refused);
	fflush(stdout);
	sleep_ms(secs * 1000L);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

/* --- requests carrying fds ---------------------------------------------------- */

/* The fds of pid that are /dev/null: what cmd_passfd passes.  (Not all
 * of them: the manager's own come and go -- memfds it makes ahead while
 * idle, freed ones it closes when idle.) */
static int count_fds(pid_t pid)
{
	char path[64], link[320], target[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = 0;
			n += !strcmp(target, "/dev/null");
		}
	}
	closedir(d);
	return n;
}

/* Well-formed requests with fds attached (SCM_RIGHTS), which no request
 * carries: the manager must not keep them. */
static int cmd_passfd(const char *sock)
{
	uint64_t pid = manager_pid(sock);
	uint8_t buf[SHX_REP_MAX];
	int before = count_fds((pid_t)pid), after = -1, fd, answers = 0, nul;
	size_t n;

	if (before < 0) {
		diag("cannot count the manager's fds: %s", errname(-before));
		return 1;
	}
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd = raw_connect(sock);
	if (nul < 0 || fd < 0 || greet(fd, NULL) != 0) {
		diag("cannot set up");
		return 1;
	}
	n = req_path(SHX_OP_STATS, NULL, 0, buf, sizeof(buf));
	for (int i = 0; i < 64; i++) {
		int fds[3] = { nul, nul, nul };
		char cbuf[CMSG_SPACE(sizeof(fds))] = { 0 };
		struct iovec iov = { buf, n };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		uint8_t rbuf[SHX_REP_MAX];

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
		if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
			break;
		if (recv_pkt(fd, rbuf, sizeof(rbuf), REPLY_WAIT_MS) <= 0)
			break;
		answers++;
	}
	close(fd);
	close(nul);
	for (int tries = 0; tries < 30; tries++) {
		if (control(sock, pid, 1) < 0)
			return 1;
		after = count_fds((pid_t)pid);
		if (after == before)
			break;
		sleep_ms(100);
	}
	diag("64 requests with 3 fds of /dev/null each: %d answered; the manager had %d fds of "
	     "/dev/null, now %d", answers, before, after);
	return after == before ? 0 : 1;
}

/* --- self-opens -------------------------------------------------------------- */

/* An OPEN of path with flags (SHX_HF_SELFOPEN if asked) on fd: 0 with
 * the reply in *p (and an fd passed in *rfd, else -1), or -errno. */
static int open_on(int fd, const char *path, int flags, int selfopen, struct shx_rep *p,
		   uint8_t *data, int *rfd)
{
	struct shx_req q = { .op = SHX_OP_OPEN, .flags = flags, .mode = 0600 };
	int r;

	if (shx_req_set_path(&q, path) < 0)
		return -ENAMETOOLONG;
	if (selfopen)
		q.hflags = SHX_HF_SELFOPEN;
	*p = (struct shx_rep){ .data = data, .datacap = SHX_DATA_MAX };
	r = shx_call_on(fd, &q, p, rfd, O_CLOEXEC);
	return r < 0 ? r : p->status;
}

static int reopen_on(int fd, uint64_t ino, int flags, int *rfd)
{
	static uint8_t data[SHX_DATA_MAX];
	struct shx_req q = { .op = SHX_OP_REOPEN, .ino = ino, .flags = flags };
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	int r = shx_call_on(fd, &q, &p, rfd, O_CLOEXEC);

	if (r == 0 && p.status == 0 && *rfd < 0)
		return -EPROTO;
	return r < 0 ? r : p.status;
}

/* SHX_HF_SELFOPEN and SHX_OP_REOPEN (regular files in dir, a managed
 * directory): a self-open is answered with the manager's fd number and
 * no fd, and that fd is the object; a directory still comes as an fd;
 * REOPEN gives an fd of what the process holds, and nothing else. */
static int cmd_selfopen(const char *sock, const char *dir)
{
	static uint8_t data[SHX_DATA_MAX];
	char path[PATH_MAX], proc[64], buf[8] = "";
	int fd = ctl_open(sock), rfd = -1, sfd = -1, ofd = -1, bad = 0, r;
	uint64_t mpid = manager_pid(sock);
	struct shx_rep p;
	struct stat st;
	uint32_t n;
	pid_t child;

	snprintf(path, sizeof(path), "%s/selfopen", dir);
	if (fd < 0 || !mpid) {
		diag("cannot set up: %s", errname(-fd));
		return 1;
	}
	r = open_on(fd, path, O_CREAT | O_EXCL | O_RDWR, 1, &p, data, &rfd);
	if (r < 0 || rfd >= 0 || !(p.hflags & SHX_HF_SELFOPEN) || p.datalen != sizeof(n)) {
		diag("self-open of a new file: %s, fd %d, flags %#x, %u bytes of data", errname(-r),
		     rfd, p.hflags, p.datalen);
		return 1;
	}
	memcpy(&n, data, sizeof(n));
	snprintf(proc, sizeof(proc), "/proc/%llu/fd/%u", (unsigned long long)mpid, n);
	sfd = open(proc, O_RDWR | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) < 0 || st.st_ino != p.attr.ino || write(sfd, "xyz", 3) != 3) {
		diag("%s: not the object (ino %llu): %s", proc, (unsigned long long)p.attr.ino,
		     strerror(errno));
		bad = 1;
	}
	/* the same object, opened the old way: an fd comes, with the data */
	r = open_on(fd, path, O_RDONLY, 0, &p, data, &ofd);
	if (r < 0 || ofd < 0 || (p.hflags & SHX_HF_SELFOPEN) || pread(ofd, buf, 3, 0) != 3 ||
	    memcmp(buf, "xyz", 3) != 0) {
		diag("plain open after a self-open: %s, fd %d, data '%.3s'", errname(-r), ofd, buf);
		bad = 1;
	}
	if (ofd >= 0)
		close(ofd);
	ofd = -1;
	/* what a process holds it may reopen, with the access mode asked */
	r = reopen_on(fd, p.attr.ino, O_WRONLY, &ofd);
	if (r < 0 || fstat(ofd, &st) < 0 || st.st_ino != p.attr.ino ||
	    (fcntl(ofd, F_GETFL) & O_ACCMODE) != O_WRONLY) {
		diag("REOPEN of a held object: %s", errname(-r));
		bad = 1;
	}
	if (ofd >= 0)
		close(ofd);
	/* another process, which holds nothing, may not */
	child = fork();
	if (child == 0) {
		int cfd = ctl_open(sock), cr, got = -1;

		cr = cfd < 0 ? cfd : reopen_on(cfd, p.attr.ino, O_RDWR, &got);
		if (cr != -ESTALE)
			diag("REOPEN of an object another process holds: %s, fd %d, not ESTALE",
			     cr < 0 ? errname(-cr) : "ok", got);
		cr = cfd < 0 ? cfd : reopen_on(cfd, 1ull << 62, O_RDWR, &got);
		if (cr != -ESTALE)
			diag("REOPEN of no object: %s, not ESTALE", cr < 0 ? errname(-cr) : "ok");
		_exit(cr == -ESTALE ? 0 : 1);
	}
	if (child < 0 || waitpid(child, &r, 0) != child || !WIFEXITED(r) || WEXITSTATUS(r) != 0)
		bad = 1;
	/* a directory is no memfd: it comes as an fd, self-open or not */
	rfd = -1;
	r = open_on(fd, dir, O_RDONLY | O_DIRECTORY, 1, &p, data, &rfd);
	if (r < 0 || rfd < 0 || (p.hflags & SHX_HF_SELFOPEN)) {
		diag("self-open of a directory: %s, fd %d, flags %#x", errname(-r), rfd, p.hflags);
		bad = 1;
	}
	if (rfd >= 0)
		close(rfd);
	if (sfd >= 0)
		close(sfd);
	{
		struct shx_req q = { .op = SHX_OP_UNLINK };

		shx_req_set_path(&q, path);
		p = (struct shx_rep){ .data = data, .datacap = SHX_DATA_MAX };
		shx_call_on(fd, &q, &p, NULL, 0);
	}
	close(fd);
	if (!bad)
		diag("self-open of %s through %s; REOPEN as the holder only", path, proc);
	return bad;
}

/* --- connection helpers ---------------------------------------------------- */

static int cmd_hello(const char *sock)
{
	uint64_t pid = 0;
	int fd = raw_connect(sock), r;

	if (fd < 0) {
		printf("connect: %s\n", errname(-fd));
		return 2;
	}
	printf("connect: ok\n");
	r = greet(fd, &pid);
	close(fd);
	if (r == 0) {
		printf("hello: manager pid %llu\n", (unsigned long long)pid);
		return 0;
	}
	if (r == -ECONNRESET || r == -EPIPE) {
		printf("hello: connection closed by the manager (%s)\n", errname(-r));
		return 1;
	}
	printf("hello: %s\n", errname(-r));
	return 3;
}

static int cmd_hold(const char *sock, int secs)
{
	struct shx_stats st;
	int fd = ctl_open(sock), r;

	if (fd < 0) {
		diag("connect: %s", errname(-fd));
		return 2;
	}
	sleep_ms(secs * 1000L);
	r = stats_on(fd, &st);
	close(fd);
	if (r < 0) {
		diag("after %d s connected: %s", secs, errname(-r));
		return 1;
	}
	printf("pid=%llu\n", (unsigned long long)st.manager_pid);
	return 0;
}

static int cmd_stats(const char *sock)
{
	struct shx_stats st;
	int r = get_stats(sock, &st);

	if (r < 0) {
		fprintf(stderr, "shx-evil: stats: %s\n", errname(-r));
		return 1;
	}
	/* clients: not counting this one */
	printf("pid=%llu clients=%llu objects=%llu inodes_used=%llu inodes_limit=%llu "
	       "size_used=%llu size_limit=%llu\n",
	       (unsigned long long)st.manager_pid, (unsigned long long)st.clients - 1,
	       (unsigned long long)st.objects, (unsigned long long)st.inodes_used,
	       (unsigned long long)st.inodes_limit, (unsigned long long)st.size_used,
	       (unsigned long long)st.size_limit);
	return 0;
}

static int cmd_obj(const char *sock, const char *path)
{
	struct shx_obj o;
	int r = find_obj(sock, path, &o);

	if (r <= 0) {
		fprintf(stderr, "shx-evil: %s: %s\n", path, r < 0 ? errname(-r) : "not found");
		return 1;
	}
	printf("holders=%u size=%llu charged=%llu\n", o.holders, (unsigned long long)o.attr.size,
	       (unsigned long long)o.charged);
	return 0;
}

/* --- under the preload ------------------------------------------------------ */

static int cmd_put(const char *path, const char *data, const char *go)
{
	size_t n = strlen(data);
	int fd;

	if (go) {
		int64_t end = now_ms() + 20000;

		while (access(go, F_OK) < 0 && now_ms() < end)
			sleep_ms(1);
	}
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n || close(fd) < 0) {
		fprintf(stderr, "shx-evil: put %s: %s\n", path, errname(errno));
		return 1;
	}
	return 0;
}

static int cmd_get(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "shx-evil: get %s: %s\n", path, errname(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
	return n < 0;
}

static int cmd_shm(const char *name)
{
	int fd = shm_open(name, O_CREAT | O_RDWR, 0600);

	if (fd < 0) {
		printf("shm_open %s: %s\n", name, errname(errno));
		return 1;
	}
	printf("shm_open %s: ok\n", name);
	close(fd);
	return 0;
}

static int cmd_rm(const char *path)
{
	if (unlink(path) < 0) {
		fprintf(stderr, "shx-evil: rm %s: %s\n", path, errname(errno));
		return 1;
	}
	return 0;
}

/* --- probes: calls with bad arguments, compared with the kernel's answers -- */

static char result[256];

static void res(int r)
{
	if (r < 0)
		snprintf(result, sizeof(result), "-1 %s", errname(errno));
	else
		snprintf(result, sizeof(result), "ok");
}

static void res_fd(int fd)
{
	res(fd);
	if (fd >= 0)
		close(fd);
}

static char *const volatile nullpath; /* NULL, out of the compiler's sight */

static char longpath[5200], longname[5001];
static const char *base;

static const char *at(const char *name)
{
	static char buf[4][PATH_MAX * 2];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", base, name);
	return buf[k];
}

static void long_path(void)
{
	size_t o = (size_t)snprintf(longpath, sizeof(longpath), "%s/", base);

	while (o < 5000) { /* 5000 bytes in all, in components of 99 */
		size_t k = 5000 - o < 100 ? 5000 - o : 100;

		memset(longpath + o, 'a', k);
		o += k;
		if (o < 5000)
			longpath[o - 1] = '/';
	}
	longpath[5000] = 0;
	memset(longname, 'n', 5000);
}

static void p_shm_open_null(void) { res_fd(shm_open(nullpath, O_RDWR, 0)); }
static void p_shm_open_null_creat(void) { res_fd(shm_open(nullpath, O_RDWR | O_CREAT, 0600)); }
static void p_shm_open_empty(void) { res_fd(shm_open("", O_RDWR | O_CREAT, 0600)); }
static void p_shm_open_slash(void) { res_fd(shm_open("a/b", O_RDWR | O_CREAT, 0600)); }
static void p_shm_open_long(void) { res_fd(shm_open(longname + 1000, O_RDWR | O_CREAT, 0600)); }
static void p_open_null(void) { res_fd(open(nullpath, O_RDONLY)); }
static void p_open_null_creat(void) { res_fd(open(nullpath, O_RDWR | O_CREAT, 0600)); }
static void p_openat_null(void) { res_fd(openat(AT_FDCWD, nullpath, O_RDONLY)); }
static void p_stat_null(void)
{
	struct stat st;

	res(stat(nullpath, &st));
}
static void p_lstat_null(void)
{
	struct stat st;

	res(lstat(nullpath, &st));
}
static void p_access_null(void) { res(access(nullpath, F_OK)); }
static void p_unlink_null(void) { res(unlink(nullpath)); }
static void p_long_open(void) { res_fd(open(longpath, O_RDONLY)); }
static void p_long_creat(void) { res_fd(open(longpath, O_RDWR | O_CREAT, 0600)); }
static void p_long_stat(void)
{
	struct stat st;

	res(stat(longpath, &st));
}
static void p_long_unlink(void) { res(unlink(longpath)); }
static void p_long_access(void) { res(access(longpath, F_OK)); }
static void p_long_name(void)
{
	char name[300];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	res_fd(open(at(name), O_RDWR | O_CREAT, 0600));
}

/* creates the file, then what exists afterwards */
static void exists_after(const char *name)
{
	struct stat st;
	size_t n = strlen(result);

	snprintf(result + n, sizeof(result) - n, "; afterwards %s", stat(at(name), &st) < 0 ? errname(errno) : S_ISDIR(st.st_mode) ? "a directory" : "a file");
}

static void p_creat_directory_new(void)
{
	res_fd(open(at("probe-new1"), O_RDWR | O_CREAT | O_DIRECTORY, 0600));
	exists_after("probe-new1");
}
static void p_creat_directory_file(void) { res_fd(open(at("probe-file"), O_RDWR | O_CREAT | O_DIRECTORY, 0600)); }
static void p_directory_on_file(void) { res_fd(open(at("probe-file"), O_RDONLY | O_DIRECTORY)); }
static void p_tmpfile_rdonly(void) { res_fd(open(base, O_TMPFILE | O_RDONLY, 0600)); }
static void p_tmpfile_on_file(void) { res_fd(open(at("probe-file"), O_TMPFILE | O_RDWR, 0600)); }
static void p_excl_existing(void) { res_fd(open(at("probe-file"), O_RDWR | O_CREAT | O_EXCL, 0600)); }
static void p_excl_without_creat(void) { res_fd(open(at("probe-file"), O_RDWR | O_EXCL)); }
static void p_excl_dir(void) { res_fd(open(base, O_RDWR | O_CREAT | O_EXCL, 0600)); }
static void p_wronly_dir(void) { res_fd(open(base, O_WRONLY)); }
static void p_creat_dir(void) { res_fd(open(base, O_RDONLY | O_CREAT, 0600)); }
static void p_trunc_dir(void) { res_fd(open(base, O_RDONLY | O_TRUNC)); }
static void p_accmode3(void) { res_fd(open(at("probe-file"), O_WRONLY | O_RDWR)); }
static void p_trailing_slash_new(void)
{
	res_fd(open(at("probe-new2/"), O_RDWR | O_CREAT, 0600));
	exists_after("probe-new2");
}
static void p_trailing_slash_file(void) { res_fd(open(at("probe-file/"), O_RDONLY)); }
static void p_path_creat(void)
{
	res_fd(open(at("probe-new3"), O_PATH | O_CREAT, 0600));
	exists_after("probe-new3");
}
static void p_path_creat_directory(void) { res_fd(open(at("probe-new4"), O_PATH | O_CREAT | O_DIRECTORY, 0600)); }
static void p_rdonly_trunc(void)
{
	struct stat st;

	res_fd(open(at("probe-full"), O_RDONLY | O_TRUNC));
	if (stat(at("probe-full"), &st) == 0) {
		size_t n = strlen(result);

		snprintf(result + n, sizeof(result) - n, "; size %lld", (long long)st.st_size);
	}
}

static int probe_file(const char *name, int fl)
{
	int fd = open(at(name), O_RDWR | O_CREAT | fl, 0600);

	if (fd < 0)
		printf("setup: %s: %s\n", at(name), errname(errno));
	return fd;
}

static void p_ftruncate_neg(void)
{
	int fd = probe_file("probe-trunc", O_TRUNC);

	res(ftruncate(fd, -1));
	close(fd);
}

static void p_ftruncate_huge(void)
{
	int fd = probe_file("probe-huge", O_TRUNC);
	struct stat st;

	if (write(fd, "1234", 4) != 4)
		printf("setup: write: %s\n", errname(errno));
	res(ftruncate(fd, (off_t)1 << 62));
	if (fstat(fd, &st) == 0) {
		size_t n = strlen(result);

		snprintf(result + n, sizeof(result) - n, "; size %lld", (long long)st.st_size);
	}
	if (ftruncate(fd, 0) < 0)
		printf("cleanup: ftruncate: %s\n", errname(errno));
	close(fd);
}

static void p_pwrite_neg(void)
{
	int fd = probe_file("probe-trunc", 0);

	res((int)pwrite(fd, "x", 1, -1));
	close(fd);
}

static void p_write_badbuf(void)
{
	int fd = probe_file("probe-trunc", 0);

	res((int)write(fd, nullpath, 16));
	close(fd);
}

static void p_shm_unlink_null(void) { res(shm_unlink(nullpath)); }
static void p_tmpfile_rdwr(void) { res_fd(open(base, O_TMPFILE | O_RDWR, 0600)); }

static int dir_fd(void)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		printf("setup: %s: %s\n", base, errname(errno));
	return fd;
}

static void p_openat_dir_null(void) { res_fd(openat(dir_fd(), nullpath, O_RDONLY)); }
static void p_openat_dir_empty(void) { res_fd(openat(dir_fd(), "", O_RDONLY)); }
static void p_openat_dir_long(void) { res_fd(openat(dir_fd(), longpath + strlen(base) + 1, O_RDWR | O_CREAT, 0600)); }
static void p_fstatat_null_empty(void)
{
	struct stat st;

	res(fstatat(dir_fd(), nullpath, &st, AT_EMPTY_PATH));
}
static void p_fstatat_badflags(void)
{
	struct stat st;

	res(fstatat(AT_FDCWD, at("probe-file"), &st, 0x40000000));
}
static void p_unlinkat_badflags(void) { res(unlinkat(dir_fd(), "probe-file", 0x1234)); }
static void p_access_badmode(void) { res(access(at("probe-file"), 0x100)); }
static void p_faccessat_badflags(void) { res(faccessat(AT_FDCWD, at("probe-file"), R_OK, 0x40000000)); }
static void p_stat_file_dotdot(void)
{
	struct stat st;

	res(stat(at("probe-file/.."), &st));
}
static void p_stat_file_slash(void)
{
	struct stat st;

	res(stat(at("probe-file/"), &st));
}
static void p_unlink_dir(void) { res(unlink(base)); }
static void p_rmdir_file(void) { res(rmdir(at("probe-file"))); }
static void p_creat_dir2(void) { res_fd(creat(base, 0600)); }

static void p_pwrite_max(void)
{
	int fd = probe_file("probe-trunc", 0);

	res((int)pwrite(fd, "x", 1, INT64_MAX));
	close(fd);
}

static void p_pwrite_huge(void)
{
	int fd = probe_file("probe-huge", O_TRUNC);

	res((int)pwrite(fd, "x", 1, (off_t)1 << 62));
	close(fd);
}

static void p_fallocate_neg_len(void)
{
	int fd = probe_file("probe-trunc", 0);

	res(fallocate(fd, 0, 0, -1));
	close(fd);
}

static void p_fallocate_neg_off(void)
{
	int fd = probe_file("probe-trunc", 0);

	res(fallocate(fd, 0, -1, 10));
	close(fd);
}

static void p_fallocate_badmode(void)
{
	int fd = probe_file("probe-trunc", 0);

	res(fallocate(fd, 0x100, 0, 10));
	close(fd);
}

static void p_posix_fallocate_neg(void)
{
	int fd = probe_file("probe-trunc", 0), r = posix_fallocate(fd, 0, -1);

	errno = r;
	res(r ? -1 : 0);
	close(fd);
}

static void p_ftruncate_rdonly(void)
{
	int fd = open(at("probe-file"), O_RDONLY);

	res(ftruncate(fd, 10));
	close(fd);
}

static void p_write_rdonly(void)
{
	int fd = open(at("probe-file"), O_RDONLY);

	res((int)write(fd, "x", 1));
	close(fd);
}

static void res_file(FILE *f)
{
	res(f ? 0 : -1);
	if (f)
		fclose(f);
}

static void res_dir(DIR *d)
{
	res(d ? 0 : -1);
	if (d)
		closedir(d);
}

static void p_fopen_null(void) { res_file(fopen(nullpath, "r")); }
static void p_fopen_empty_mode(void) { res_file(fopen(at("probe-file"), "")); }
static void p_fopen_bad_mode(void) { res_file(fopen(at("probe-file"), "q")); }
static void p_fopen_dir_w(void) { res_file(fopen(base, "w")); }
static void p_fopen_dir_r(void) { res_file(fopen(base, "r")); }
static void p_fopen_new_r(void) { res_file(fopen(at("probe-new5"), "r")); }
static void p_fopen_wx(void) { res_file(fopen(at("probe-file"), "wx")); }
static void p_fopen_long(void) { res_file(fopen(longpath, "w")); }
static void p_fopen_slash(void) { res_file(fopen(at("probe-file/"), "r")); }
static void p_opendir_null(void) { res_dir(opendir(nullpath)); }
static void p_opendir_file(void) { res_dir(opendir(at("probe-file"))); }
static void p_opendir_new(void) { res_dir(opendir(at("probe-new5"))); }
static void p_opendir_long(void) { res_dir(opendir(longpath)); }
static void p_opendir_empty(void) { res_dir(opendir("")); }
static void p_fdopendir_bad(void) { res_dir(fdopendir(-1)); }
static void p_fdopendir_file(void) { res_dir(fdopendir(open(at("probe-file"), O_RDONLY))); }
static void p_closedir_null(void) { res(closedir((DIR *)nullpath)); }

static const struct {
	const char *name;
	void (*fn)(void);
} probes[] = {
	{ "shm_open(NULL)", p_shm_open_null },
	{ "shm_open(NULL, O_CREAT)", p_shm_open_null_creat },
	{ "shm_open(\"\")", p_shm_open_empty },
	{ "shm_open(\"a/b\")", p_shm_open_slash },
	{ "shm_open(4000-byte name)", p_shm_open_long },
	{ "open(NULL)", p_open_null },
	{ "open(NULL, O_CREAT)", p_open_null_creat },
	{ "openat(AT_FDCWD, NULL)", p_openat_null },
	{ "stat(NULL)", p_stat_null },
	{ "lstat(NULL)", p_lstat_null },
	{ "access(NULL)", p_access_null },
	{ "unlink(NULL)", p_unlink_null },
	{ "open(5000-byte path)", p_long_open },
	{ "open(5000-byte path, O_CREAT)", p_long_creat },
	{ "stat(5000-byte path)", p_long_stat },
	{ "unlink(5000-byte path)", p_long_unlink },
	{ "access(5000-byte path)", p_long_access },
	{ "open(299-byte name, O_CREAT)", p_long_name },
	{ "open(new, O_CREAT|O_DIRECTORY)", p_creat_directory_new },
	{ "open(file, O_CREAT|O_DIRECTORY)", p_creat_directory_file },
	{ "open(file, O_DIRECTORY)", p_directory_on_file },
	{ "open(dir, O_TMPFILE|O_RDONLY)", p_tmpfile_rdonly },
	{ "open(file, O_TMPFILE|O_RDWR)", p_tmpfile_on_file },
	{ "open(file, O_CREAT|O_EXCL)", p_excl_existing },
	{ "open(file, O_EXCL)", p_excl_without_creat },
	{ "open(dir, O_CREAT|O_EXCL)", p_excl_dir },
	{ "open(dir, O_WRONLY)", p_wronly_dir },
	{ "open(dir, O_CREAT)", p_creat_dir },
	{ "open(dir, O_TRUNC)", p_trunc_dir },
	{ "open(file, O_WRONLY|O_RDWR)", p_accmode3 },
	{ "open(new/, O_CREAT)", p_trailing_slash_new },
	{ "open(file/)", p_trailing_slash_file },
	{ "open(new, O_PATH|O_CREAT)", p_path_creat },
	{ "open(new, O_PATH|O_CREAT|O_DIRECTORY)", p_path_creat_directory },
	{ "open(file, O_RDONLY|O_TRUNC)", p_rdonly_trunc },
	{ "shm_unlink(NULL)", p_shm_unlink_null },
	{ "open(dir, O_TMPFILE|O_RDWR)", p_tmpfile_rdwr },
	{ "openat(dirfd, NULL)", p_openat_dir_null },
	{ "openat(dirfd, \"\")", p_openat_dir_empty },
	{ "openat(dirfd, 5000-byte path, O_CREAT)", p_openat_dir_long },
	{ "fstatat(dirfd, NULL, AT_EMPTY_PATH)", p_fstatat_null_empty },
	{ "fstatat(file, bad flags)", p_fstatat_badflags },
	{ "unlinkat(dirfd, file, bad flags)", p_unlinkat_badflags },
	{ "access(file, bad mode)", p_access_badmode },
	{ "faccessat(file, bad flags)", p_faccessat_badflags },
	{ "stat(file/..)", p_stat_file_dotdot },
	{ "stat(file/)", p_stat_file_slash },
	{ "unlink(dir)", p_unlink_dir },
	{ "rmdir(file)", p_rmdir_file },
	{ "creat(dir)", p_creat_dir2 },
	{ "ftruncate(fd, -1)", p_ftruncate_neg },
	{ "ftruncate(fd, 1<<62)", p_ftruncate_huge },
	{ "pwrite(fd, 1, -1)", p_pwrite_neg },
	{ "pwrite(fd, 1, INT64_MAX)", p_pwrite_max },
	{ "pwrite(fd, 1, 1<<62)", p_pwrite_huge },
	{ "fallocate(fd, 0, 0, -1)", p_fallocate_neg_len },
	{ "fallocate(fd, 0, -1, 10)", p_fallocate_neg_off },
	{ "fallocate(fd, bad mode)", p_fallocate_badmode },
	{ "posix_fallocate(fd, 0, -1)", p_posix_fallocate_neg },
	{ "ftruncate(O_RDONLY fd)", p_ftruncate_rdonly },
	{ "write(O_RDONLY fd)", p_write_rdonly },
	{ "fopen(NULL, r)", p_fopen_null },
	{ "fopen(file, \"\")", p_fopen_empty_mode },
	{ "fopen(file, q)", p_fopen_bad_mode },
	{ "fopen(dir, w)", p_fopen_dir_w },
	{ "fopen(dir, r)", p_fopen_dir_r },
	{ "fopen(missing, r)", p_fopen_new_r },
	{ "fopen(file, wx)", p_fopen_wx },
	{ "fopen(5000-byte path, w)", p_fopen_long },
	{ "fopen(file/, r)", p_fopen_slash },
	{ "opendir(NULL)", p_opendir_null },
	{ "opendir(file)", p_opendir_file },
	{ "opendir(missing)", p_opendir_new },
	{ "opendir(5000-byte path)", p_opendir_long },
	{ "opendir(\"\")", p_opendir_empty },
	{ "fdopendir(-1)", p_fdopendir_bad },
	{ "fdopendir(file fd)", p_fdopendir_file },
	{ "closedir(NULL)", p_closedir_null },
	{ "write(fd, NULL, 16)", p_write_badbuf },
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

/* Each probe in a child of its own, so that a crash is a result too. */
static int cmd_probe(const char *dir)
{
	int fd;

	base = dir;
	long_path();
	fd = probe_file("probe-file", O_TRUNC);
	if (fd < 0)
		return 1;
	close(fd);
	fd = probe_file("probe-full", O_TRUNC);
	if (fd < 0 || write(fd, "full", 4) != 4)
		return 1;
	close(fd);
	for (size_t i = 0; i < NPROBES; i++) {
		int pfd[2], status;
		ssize_t n;
		pid_t pid;

		if (pipe(pfd) < 0)
			return 1;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			result[0] = 0;
			probes[i].fn();
			n = write(pfd[1], result, strlen(result));
			_exit(n < 0);
		}
		close(pfd[1]);
		n = read(pfd[0], result, sizeof(result) - 1);
		close(pfd[0]);
		result[n > 0 ? n : 0] = 0;
		waitpid(pid, &status, 0);
		if (WIFSIGNALED(status))
			printf("%s: killed by signal %d\n", probes[i].name, WTERMSIG(status));
		else
			printf("%s: %s\n", probes[i].name, result);
	}
	for (int i = 1; i <= 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "probe-new%d", i);
		unlink(at(name));
	}
	unlink(at("probe-file"));
	unlink(at("probe-full"));
	unlink(at("probe-trunc"));
	unlink(at("probe-huge"));
	return 0;
}

/* --- churn: killed at a random moment, over and over ------------------------ */

static void fail(const char *what, const char *path)
{
	printf("churn: %s %s: %s\n", what, path, errname(errno));
	fflush(stdout);
	_exit(3);
}

static int cmd_churn(const char *dir)
{
	static char data[16384];
	int keep[8];

	base = dir;
	memset(data, 'c', sizeof(data));
	for (int k = 0; k < 8; k++)
		keep[k] = -1;
	for (unsigned i = 0;; i++) {
		char name[32];
		const char *p;
		int fd, t;
		void *m;

		snprintf(name, sizeof(name), "churn-%u", i % 4);
		p = at(name);
		fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0600);
		if (fd < 0)
			fail("open", p);
		for (int k = 0; k < 4; k++)
			if (write(fd, data, sizeof(data)) != (ssize_t)sizeof(data))
				fail("write", p);
		if (ftruncate(fd, 8192) < 0)
			fail("ftruncate", p);
		if (i % 3 == 0) { /* unlinked while open: held only by this fd */
			if (unlink(p) < 0)
				fail("unlink", p);
			if (pwrite(fd, data, sizeof(data), 1 << 20) < 0)
				fail("pwrite", p);
		}
		if (i % 5 == 0) {
			t = open(dir, O_TMPFILE | O_RDWR, 0600);
			if (t < 0)
				fail("O_TMPFILE", dir);
			if (write(t, data, sizeof(data)) < 0)
				fail("write", "O_TMPFILE");
			if (keep[(i + 4) % 8] >= 0)
				close(keep[(i + 4) % 8]);
			keep[(i + 4) % 8] = t;
		}
		snprintf(name, sizeof(name), "churn-shm-%u", i % 2);
		t = shm_open(name, O_CREAT | O_RDWR, 0600);
		if (t < 0)
			fail("shm_open", name);
		if (ftruncate(t, 65536) < 0)
			fail("ftruncate", name);
		m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, t, 0);
		if (m == MAP_FAILED)
			fail("mmap", name);
		memset(m, (int)i, 65536);
		munmap(m, 65536);
		close(t);
		if (i % 7 == 0 && shm_unlink(name) < 0 && errno != ENOENT)
			fail("shm_unlink", name);
		/* some fds stay open for a while: holds the kill must release */
		if (keep[i % 8] >= 0)
			close(keep[i % 8]);
		keep[i % 8] = fd;
	}
	return 0;
}

/* ---------------------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: shx-evil cases | abuse SOCK CASE | random SOCK SEED N | "
			"noread SOCK PATH | passfd SOCK | selfopen SOCK DIR | conns SOCK N SECS | hello SOCK | hold SOCK SECS | stats SOCK | "
			"obj SOCK PATH | put PATH DATA [GO] | get PATH | rm PATH | shm NAME | "
			"probe DIR | churn DIR\n");
	return 99;
}

/* --- the shared-memory channel -------------------------------------------- */

/* A memfd for a channel: `size` bytes, sealed against shrinking if asked. */
static int chan_memfd(size_t size, int seal)
{
	int fd = memfd_create("shx-evil", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)) {
		diag("cannot make a memfd: %s", errname(errno));
		exit(99);
	}
	return fd;
}

/* SHX_OP_CHAN with `pass` attached on the greeted connection fd: the
 * answer's status, or -ECONNRESET / -ETIMEDOUT. */
static int chan_offer(int fd, int pass)
{
	uint8_t buf[SHX_REP_MAX];
	struct shx_rep p = { .data = buf + SHX_REP_HEAD, .datacap = SHX_DATA_MAX };
	size_t n = req_path(SHX_OP_CHAN, NULL, 0, buf, sizeof(buf));
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, n };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t got;

	shx_msg_put_fd(&mh, cbuf, pass);
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		return -errno;
	got = recv_pkt(fd, buf, sizeof(buf), REPLY_WAIT_MS);
	if (got <= 0)
		return got == 0 ? -ECONNRESET : (int)got;
	if (shx_rep_decode_head(buf, got, &p) < 0 || p.op != SHX_OP_CHAN)
		return -EBADMSG;
	return p.status;
}

/* A greeted connection with a good channel mapped at *ch. */
static int chan_conn(const char *sock, struct shx_chan **ch)
{
	int fd = raw_connect(sock), mfd = chan_memfd(SHX_CHAN_SIZE, 1), r;

	if (fd < 0 || greet(fd, NULL) != 0) {
		diag("cannot connect and greet");
		exit(1);
	}
	*ch = mmap(NULL, SHX_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (*ch == MAP_FAILED) {
		diag("mmap: %s", errname(errno));
		exit(99);
	}
	r = chan_offer(fd, mfd);
	close(mfd);
	if (r != 0) {
		diag("a good channel was refused: %s", errname(-r));
		exit(1);
	}
	return fd;
}

/* Posts a request of len bytes in ch, of which the first (at most cap)
 * come from msg, and wakes the manager through the socket in case it
 * sleeps. */
static void chan_post(int fd, struct shx_chan *ch, const void *msg, size_t cap, uint32_t len)
{
	memcpy(ch->buf, msg, len < cap ? len : cap);
	atomic_store(&ch->len, len);
	atomic_store(&ch->state, SHX_CHAN_REQ);
	send_pkt(fd, "", 1);
}

/* Whether the manager ends connection fd within the reply timeout. */
static int closed_soon(int fd)
{
	uint8_t buf[SHX_REP_MAX];
	ssize_t got;

	do
		got = recv_pkt(fd, buf, sizeof(buf), REPLY_WAIT_MS);
	while (got > 0);
	return got == 0 || got == -ECONNRESET;
}

static int cmd_chan(const char *sock)
{
	uint64_t pid = manager_pid(sock);
	uint8_t msg[SHX_REQ_MAX];
	struct shx_chan *ch;
	int fd, mfd, r, bad = 0;
	int64_t end;
	size_t n;

	/* refused, and the connection goes on: a memfd not sealed against
	 * shrinking (the client could make the manager's accesses fault),
	 * one too small, something that is not a memfd at all */
	struct {
		const char *what;
		int mfd;
	} refuse[] = {
		{ "unsealed memfd", chan_memfd(SHX_CHAN_SIZE, 0) },
		{ "memfd too small", chan_memfd(SHX_CHAN_SIZE / 2, 1) },
		{ "/dev/null", open("/dev/null", O_RDWR | O_CLOEXEC) },
	};
	for (size_t i = 0; i < sizeof(refuse) / sizeof(refuse[0]); i++) {
		struct shx_stats st;

		fd = raw_connect(sock);
		if (fd < 0 || greet(fd, NULL) != 0) {
			diag("cannot connect and greet");
			return 1;
		}
		r = chan_offer(fd, refuse[i].mfd);
		if (r != -EINVAL) {
			diag("%s as a channel: %s, not EINVAL", refuse[i].what, errname(-r));
			bad = 1;
		}
		if ((r = stats_on(fd, &st)) < 0) {
			diag("after the %s the connection fails: %s", refuse[i].what, errname(-r));
			bad = 1;
		}
		close(fd);
		close(refuse[i].mfd);
	}

	/* a good channel answers a request in place; a second one is refused */
	fd = chan_conn(sock, &ch);
	n = req_path(SHX_OP_STATS, NULL, 0, msg, sizeof(msg));
	chan_post(fd, ch, msg, sizeof(msg), (uint32_t)n);
	for (end = now_ms() + REPLY_WAIT_MS; atomic_load(&ch->state) != SHX_CHAN_REP;) {
		if (now_ms() > end) {
			diag("no answer in the channel");
			return 1;
		}
		sleep_ms(1);
	}
	{
		struct shx_rep p = { .data = ch->buf + SHX_REP_HEAD, .datacap = SHX_DATA_MAX };

		if (shx_rep_decode_head(ch->buf, atomic_load(&ch->len), &p) < 0 ||
		    p.op != SHX_OP_STATS || p.status != 0) {
			diag("the channel's answer is not STATS' (op %u, status %d)", p.op, p.status);
			bad = 1;
		}
	}
	atomic_store(&ch->state, SHX_CHAN_IDLE);
	mfd = chan_memfd(SHX_CHAN_SIZE, 1);
	if ((r = chan_offer(fd, mfd)) != -EINVAL) {
		diag("a second channel: %s, not EINVAL", errname(-r));
		bad = 1;
	}
	close(mfd);
	close(fd);
	munmap(ch, SHX_CHAN_SIZE);

	/* garbage in a channel ends that connection, and only that one */
	struct {
		const char *what;
		uint32_t len;
		int chan_op; /* a well-formed SHX_OP_CHAN, which needs the socket */
	} garbage[] = {
		{ "a length beyond the channel", 0xffffffffu, 0 },
		{ "random bytes", 64, 0 },
		{ "an empty message", 0, 0 },
		{ "SHX_OP_CHAN through the channel", 0, 1 },
	};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		uint32_t len = garbage[i].len;

		fd = chan_conn(sock, &ch);
		for (size_t k = 0; k < sizeof(msg); k++)
			msg[k] = (uint8_t)(k * 151 + 7);
		if (garbage[i].chan_op)
			len = (uint32_t)req_path(SHX_OP_CHAN, NULL, 0, msg, sizeof(msg));
		chan_post(fd, ch, msg, sizeof(msg), len);
		if (!closed_soon(fd)) {
			diag("%s in the channel: the connection stays", garbage[i].what);
			bad = 1;
		}
		close(fd);
		munmap(ch, SHX_CHAN_SIZE);
		if (control(sock, pid, 0) < 0)
			return 1;
	}

	/* a client that posts a request and exits without its answer */
	for (int i = 0; i < 20; i++) {
		pid_t kid = fork();

		if (kid == 0) {
			fd = chan_conn(sock, &ch);
			n = req_path(SHX_OP_STAT, "/dev/shm", 0, msg, sizeof(msg));
			chan_post(fd, ch, msg, sizeof(msg), (uint32_t)n);
			_exit(0);
		}
		if (kid < 0 || waitpid(kid, NULL, 0) < 0) {
			diag("fork: %s", errname(errno));
			return 99;
		}
	}
	if (control(sock, pid, 0) < 0)
		return 1;
	return bad;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "cases") && argc == 2) {
		for (size_t i = 0; i < NCASES; i++)
			puts(cases[i].name);
		return 0;
	}
	if (!strcmp(cmd, "abuse") && argc == 4)
		return cmd_abuse(argv[2], argv[3]);
	if (!strcmp(cmd, "random") && argc == 5)
		return cmd_random(argv[2], strtoul(argv[3], NULL, 0), strtol(argv[4], NULL, 0));
	if (!strcmp(cmd, "noread") && argc == 4)
		return cmd_noread(argv[2], argv[3]);
	if (!strcmp(cmd, "passfd") && argc == 3)
		return cmd_passfd(argv[2]);
	if (!strcmp(cmd, "chan") && argc == 3)
		return cmd_chan(argv[2]);
	if (!strcmp(cmd, "selfopen") && argc == 4)
		return cmd_selfopen(argv[2], argv[3]);
	if (!strcmp(cmd, "conns") && argc == 5)
		return cmd_conns(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(cmd, "hello") && argc == 3)
		return cmd_hello(argv[2]);
	if (!strcmp(cmd, "hold") && argc == 4)
		return cmd_hold(argv[2], atoi(argv[3]));
	if (!strcmp(cmd, "stats") && argc == 3)
		return cmd_stats(argv[2]);
	if (!strcmp(cmd, "obj") && argc == 4)
		return cmd_obj(argv[2], argv[3]);
	if (!strcmp(cmd, "put") && (argc == 4 || argc == 5))
		return cmd_put(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (!strcmp(cmd, "get") && argc == 3)
		return cmd_get(argv[2]);
	if (!strcmp(cmd, "shm") && argc == 3)
		return cmd_shm(argv[2]);
	if (!strcmp(cmd, "rm") && argc == 3)
		return cmd_rm(argv[2]);
	if (!strcmp(cmd, "probe") && argc == 3)
		return cmd_probe(argv[2]);
	if (!strcmp(cmd, "churn") && argc == 3)
		return cmd_churn(argv[2]);
	return usage();
}
