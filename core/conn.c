/* conn.c -- the client's connections to its manager (see conn.h).
 *
 * Everything here may run inside a wrapped call, from any thread or signal
 * handler: no locks, no allocation, and close() only as a raw system call
 * since the library wraps close().
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "config.h"
#include "log.h"
#include "path.h"
#include "spin.h"

extern char **environ;

#define NSLOTS 4

struct slot {
	atomic_int busy;
	atomic_int fd;
};

static struct slot slots[NSLOTS] = { { 0, -1 }, { 0, -1 }, { 0, -1 }, { 0, -1 } };
static atomic_uint next_id;
/* No fd below this is one of ours: close() of a lower fd skips the pool. */
atomic_int shx_conn_lowest = 1 << 30;
#define lowest_sock shx_conn_lowest

static void sys_close(int fd)
{
	syscall(SYS_close, fd);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Runs `shmemd --daemon`, which forks the manager into the background and
 * exits once it listens (or once another manager is found running). */
static int start_manager(const char *shmemd)
{
	static atomic_int told;
	char *argv[] = { (char *)"shmemd", (char *)"--daemon", NULL };
	pid_t pid;
	int r = posix_spawn(&pid, shmemd, NULL, NULL, argv, environ);

	if (r != 0) {
		if (!atomic_exchange(&told, 1))
			shx_log("cannot start %s: %s (set SHMEMX_SHMEMD?)", shmemd, strerror(r));
		return -r;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* Our sockets live high in the fd space so that they do not take the low
 * numbers that programs expect open() to return. */
static int move_high(int fd)
{
	struct rlimit rl;
	int min = 900, nfd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
		min = rl.rlim_cur > 64 ? (int)rl.rlim_cur - 64 : 3;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, min);
	if (nfd < 0)
		return fd;
	sys_close(fd);
	return nfd;
}

static int roundtrip(int sock, struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags);

/* The effective ids, when they are not the real ones (shx_conn_creds). */
static atomic_int eff_differ;
static atomic_uint eff_uid, eff_gid;

void shx_conn_creds(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return;
	atomic_store(&eff_uid, eu);
	atomic_store(&eff_gid, eg);
	atomic_store(&eff_differ, ru != eu || rg != eg);
}

/* The handshake also tells the manager which mounts this client manages,
 * so that both sides agree whatever environment the manager started in. */
static int hello(int sock)
{
	static atomic_int told;
	struct shx_req req = { .op = SHX_OP_HELLO, .size = SHX_PROTO_MAGIC,
			       .aux = SHX_PROTO_VERSION };
	struct shx_rep rep = { 0 };
	int r;

	req.pathlen = shx_mounts_list(req.path, sizeof(req.path));
	r = roundtrip(sock, &req, &rep, NULL, 0);
	if (r == 0 && rep.status < 0 && !atomic_exchange(&told, 1))
		shx_log("the manager cannot manage %s: %s", req.path, strerror(-rep.status));
	return r < 0 ? r : rep.status;
}

static int connect_once(const char *sock, const char *shmemd);

int shx_connect(const char *sock, const char *shmemd)
{
	int r = connect_once(sock, shmemd);

	/* reset during the handshake: a manager that was exiting as we came
	 * (or one that refuses us); one more try finds its successor */
	if ((r == -ECONNRESET || r == -EPIPE) && shmemd)
		r = connect_once(sock, shmemd);
	return r;
}

static int connect_once(const char *sock, const char *shmemd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = -1, r = -ECONNREFUSED, started = 0;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	/* Up to about 5 s for a manager we started to come up. */
	for (int attempt = 0; attempt < 200; attempt++) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		/* the raw call: the library's own connect() is a wrapper */
		if (syscall(SYS_connect, fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		r = -errno;
		sys_close(fd);
		fd = -1;
		if ((r != -ENOENT && r != -ECONNREFUSED) || !shmemd)
			return r;
		/* Start one; and again now and then: the first may have found
		 * the lock still held by a manager that was exiting. */
		if (!started || attempt % 40 == 0) {
			int e = start_manager(shmemd);

			if (e < 0) /* no manager to start: no point waiting */
				return e;
			started = 1;
			continue;
		}
		sleep_ms(attempt < 20 ? 5 : 50);
	}
	if (fd < 0)
		return r;
	fd = move_high(fd);
	r = hello(fd);
	if (r < 0)
		sys_close(fd);
	return r < 0 ? r : fd;
}

static char sock_path[SHX_PATH_MAX], placeholder[SHX_PATH_MAX], nodes[SHX_PATH_MAX];
static size_t nodes_len;
static const char *shmemd_path;
static atomic_int my_pid; /* the process these connections belong to */

int shx_conn_vforked(void)
{
	int pid = atomic_load_explicit(&my_pid, memory_order_relaxed);

	return pid && getpid() != pid;
}

void shx_conn_init(const char *shmemd)
{
	atomic_store(&my_pid, getpid());
	shx_conn_creds();
	if (shx_socket_path(sock_path, sizeof(sock_path)) < 0 ||
	    shx_socket_dir(sock_path, placeholder, sizeof(placeholder) - 8) < 0) {
		sock_path[0] = placeholder[0] = 0;
	} else {
		nodes_len = strlen(placeholder) + 7;
		memcpy(nodes, placeholder, nodes_len - 7);
		memcpy(nodes + nodes_len - 7, "/nodes/", 8);
		strcat(placeholder, "/empty");
	}
	shmemd_path = shmemd;
}

const char *shx_conn_placeholder(void)
{
	return placeholder;
}

const char *shx_conn_nodes(size_t *len)
{
	*len = nodes_len;
	return nodes;
}

/* How long to poll for an answer before sleeping in recvmsg (the raw
 * call: the library's own recvmsg is a wrapper).  A manager
 * answers in a few microseconds, but waking a sleeping thread on another
 * CPU costs tens (60 us on the VMs we measured): polling briefly makes a
 * round trip some fifteen times cheaper -- when the manager has a CPU of
 * its own, which spin.h learns.  Pointless with one CPU. */
#define SPIN_NS 50000
static int spin_ok = -1;
static struct shx_spin spin;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t recv_reply(int sock, struct msghdr *mh)
{
	ssize_t got;

	if (spin_ok < 0)
		spin_ok = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	if (spin_ok && shx_spin_try(&spin)) {
		int64_t deadline = mono_ns() + SPIN_NS;

		for (unsigned i = 0;; i++) {
			got = syscall(SYS_recvmsg, sock, mh,
				      MSG_CMSG_CLOEXEC | MSG_NOSIGNAL | MSG_DONTWAIT);
			if (got >= 0 || (errno != EAGAIN && errno != EINTR)) {
				/* (an answer found after the yield below gave the
				 * CPU away for long is no success of polling) */
				shx_spin_result(&spin, mono_ns() <= deadline);
				return got;
			}
			/* the manager may be waiting for this very CPU */
			sched_yield();
			if ((i & 7) == 7 && mono_ns() > deadline)
				break;
		}
		shx_spin_result(&spin, 0);
	}
	do
		got = syscall(SYS_recvmsg, sock, mh, MSG_CMSG_CLOEXEC | MSG_NOSIGNAL);
	while (got < 0 && errno == EINTR);
	return got;
}

static int roundtrip(int sock, struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags)
{
	uint8_t out[SHX_REQ_MAX], head[SHX_REP_HEAD];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov[2] = { { head, sizeof(head) }, { rep->data, rep->datacap } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	size_t n;
	ssize_t got;
	int rfd = -1;

	req->id = atomic_fetch_add(&next_id, 1);
	n = shx_req_encode_head(req, out, sizeof(out));
	if (n == 0)
		return -ENAMETOOLONG;
	{
		/* the data (an xattr's value) straight from the caller */
		struct iovec siov[2] = { { out, n }, { (void *)req->data, req->datalen } };
		struct msghdr smh = { .msg_iov = siov, .msg_iovlen = req->datalen ? 2 : 1 };
		char ccred[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];

		/* The kernel tells the manager who sends (pid, real ids); a
		 * process whose effective ids differ says those itself. */
		if (atomic_load_explicit(&eff_differ, memory_order_relaxed) && !shx_conn_vforked()) {
			struct cmsghdr *cm;
			struct ucred uc = { getpid(), atomic_load(&eff_uid), atomic_load(&eff_gid) };

			smh.msg_control = ccred;
			smh.msg_controllen = CMSG_SPACE(sizeof(struct ucred));
			cm = CMSG_FIRSTHDR(&smh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_CREDENTIALS;
			cm->cmsg_len = CMSG_LEN(sizeof(uc));
			memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
		}
		/* paging: a userfaultfd handed to the manager */
		if (req->sendfd1 > 0) {
			struct cmsghdr *cm;
			int sfd = req->sendfd1 - 1;

			if (!smh.msg_control) {
				smh.msg_control = ccred;
				smh.msg_controllen = 0;
			}
			smh.msg_controllen += CMSG_SPACE(sizeof(int));
			cm = (struct cmsghdr *)((char *)ccred + smh.msg_controllen -
						CMSG_SPACE(sizeof(int)));
			memset(cm, 0, CMSG_SPACE(sizeof(int)));
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &sfd, sizeof(int));
		}

		while (syscall(SYS_sendmsg, sock, &smh, MSG_NOSIGNAL) < 0)
			if (errno != EINTR)
				return -errno;
	}
	if (req->hflags & SHX_HF_NOREPLY)
		return 0;
	got = recv_reply(sock, &mh);
	if (got <= 0)
		return got < 0 ? -errno : -ECONNRESET;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&rfd, CMSG_DATA(cm), sizeof(int));
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    shx_rep_decode_head(head, got, rep) < 0 || rep->id != req->id ||
	    rep->op != req->op || !(rep->hflags & SHX_HF_FD) != (rfd < 0)) {
		if (rfd >= 0)
			sys_close(rfd);
		return -EPROTO;
	}
	/* MSG_CMSG_CLOEXEC always, then clear it if the caller wants the fd
	 * to survive exec: no window in which a concurrent exec leaks it. */
	if (rfd >= 0 && !(fd_flags & O_CLOEXEC))
		fcntl(rfd, F_SETFD, 0);
	if (fd)
		*fd = rfd;
	else if (rfd >= 0)
		sys_close(rfd);
	return 0;
}

int shx_call_on(int sock, struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags)
{
	if (fd)
		*fd = -1;
	return roundtrip(sock, req, rep, fd, fd_flags);
}

static int slot_take(void)
{
	for (int i = 0; i < NSLOTS; i++)
		if (!atomic_exchange_explicit(&slots[i].busy, 1, memory_order_acquire))
			return i;
	return -1;
}

static void slot_give(int i)
{
	atomic_store_explicit(&slots[i].busy, 0, memory_order_release);
}

int shx_call(struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags)
{
	/* a vfork child borrows none of the parent's connections */
	int i = shx_conn_vforked() ? -1 : slot_take(), sock, r, saved = errno;

	if (fd)
		*fd = -1;
	if (!sock_path[0])
		return -ENAMETOOLONG;
	sock = i >= 0 ? atomic_load(&slots[i].fd) : -1;
	for (int tries = 0; tries < 2; tries++) {
		if (sock < 0) {
			sock = shx_connect(sock_path, shmemd_path);
			if (sock < 0) {
				r = sock;
				break;
			}
			if (i >= 0)
				atomic_store(&slots[i].fd, sock);
			for (int low = atomic_load(&lowest_sock);
			     sock < low && !atomic_compare_exchange_weak(&lowest_sock, &low, sock);)
				;
		}
		r = roundtrip(sock, req, rep, fd, fd_flags);
		/* A manager that went away (idle exit, restart) gets one
		 * reconnect; a protocol error does not. */
		if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN || r == -EBADF) {
			if (i >= 0)
				atomic_store(&slots[i].fd, -1);
			sys_close(sock);
			sock = -1;
			continue;
		}
		if (r < 0 && r != -EPIPE) {
			if (i >= 0)
				atomic_store(&slots[i].fd, -1);
			sys_close(sock);
			sock = -1;
		}
		break;
	}
	if (i >= 0)
		slot_give(i);
	else if (sock >= 0)
		sys_close(sock);
	if (r < 0)
		shx_debug("%s: manager unreachable: %s", shx_op_name(req->op), strerror(-r));
	/* the polling left EAGAIN behind: a call that succeeds leaves errno
	 * as it found it, and a failing one sets it at the boundary */
	errno = saved;
	return r;
}

void shx_conn_prepare(void)
{
	for (int i = 0; i < NSLOTS; i++) {
		int sock;

		if (atomic_load(&slots[i].fd) >= 0 || !sock_path[0] ||
		    atomic_exchange_explicit(&slots[i].busy, 1, memory_order_acquire))
			continue;
		if (atomic_load(&slots[i].fd) < 0 && (sock = shx_connect(sock_path, shmemd_path)) >= 0) {
			atomic_store(&slots[i].fd, sock);
			for (int low = atomic_load(&lowest_sock);
			     sock < low && !atomic_compare_exchange_weak(&lowest_sock, &low, sock);)
				;
		}
		slot_give(i);
	}
}

void shx_notify(struct shx_req *req)
{
	struct shx_rep rep = { 0 };

	req->hflags |= SHX_HF_NOREPLY;
	shx_call(req, &rep, NULL, 0);
}

int shx_conn_owns_slow(int fd)
{
	for (int i = 0; i < NSLOTS; i++)
		if (atomic_load(&slots[i].fd) == fd)
			return 1;
	return 0;
}

void shx_conn_each(void (*fn)(int fd, void *arg), void *arg)
{
	for (int i = 0; i < NSLOTS; i++) {
		int fd = atomic_load(&slots[i].fd);

		if (fd >= 0)
			fn(fd, arg);
	}
}

void shx_conn_forget(int fd)
{
	for (int i = 0; i < NSLOTS; i++) {
		int expect = fd;

		atomic_compare_exchange_strong(&slots[i].fd, &expect, -1);
	}
}

void shx_conn_after_fork(void)
{
	atomic_store(&my_pid, getpid());
	for (int i = 0; i < NSLOTS; i++) {
		int fd = atomic_exchange(&slots[i].fd, -1);

		if (fd >= 0)
			sys_close(fd);
		atomic_store(&slots[i].busy, 0);
	}
}
