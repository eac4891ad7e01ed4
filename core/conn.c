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
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
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
	struct shx_chan *ch; /* its channel (chan.h), used by whoever holds busy */
};

static struct slot slots[NSLOTS] = {
	{ 0, -1, NULL }, { 0, -1, NULL }, { 0, -1, NULL }, { 0, -1, NULL }
};
/* Channels are not used: SHMEMX_CHANNEL=0, or the process changed its
 * ids, which only a socket message tells the manager (SCM_CREDENTIALS). */
static atomic_int chan_off;
static atomic_uint next_id;
/* Counts pooled connections gone (an error, the application closing one,
 * fork): a self-open that saw it move checks what it opened. */
static atomic_uint conn_gen;
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

/* The manager's environment: ours without the library.  (shmemd drops
 * LD_PRELOAD itself, but only in main: the library's start-up in it, in a
 * managed working directory ($SHMEMX_CWD, $PWD), would reach for a manager
 * first -- and start one, which would start one...)  What the manager
 * reads comes first, should the environment be longer than env holds. */
static char **manager_env(char **env, size_t cap)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++)
		for (char **e = environ; e && *e && n + 1 < cap; e++) {
			int wanted = !strncmp(*e, "SHMEMX_", 7) || !strncmp(*e, "XDG_", 4) ||
				     !strncmp(*e, "HOME=", 5);

			if (wanted == !pass && strncmp(*e, "LD_PRELOAD=", 11) &&
			    strncmp(*e, "SHMEMX_CWD=", 11) && strncmp(*e, "PWD=", 4))
				env[n++] = *e;
		}
	env[n] = NULL;
	return env;
}

/* Runs `shmemd --daemon`, which forks the manager into the background and
 * exits once it listens (or once another manager is found running). */
static int start_manager(const char *shmemd)
{
	static atomic_int told;
	char *argv[] = { (char *)"shmemd", (char *)"--daemon", NULL }, *env[512];
	pid_t pid;
	int r = posix_spawn(&pid, shmemd, NULL, NULL, argv,
			    manager_env(env, sizeof(env) / sizeof(env[0])));

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

static int roundtrip(int sock, struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags,
		     int send_fd);

/* The effective ids, when they are not the real ones (shx_conn_creds). */
static atomic_int eff_differ;
static atomic_uint eff_uid, eff_gid;
static atomic_int ids_known;
static uid_t first_ruid;
static gid_t first_rgid;

void shx_conn_creds(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return;
	atomic_store(&eff_uid, eu);
	atomic_store(&eff_gid, eg);
	atomic_store(&eff_differ, ru != eu || rg != eg);
	if (!atomic_exchange(&ids_known, 1)) {
		first_ruid = ru;
		first_rgid = rg;
	}
	if (ru != eu || rg != eg || ru != first_ruid || rg != first_rgid)
		atomic_store(&chan_off, 1);
}

static char app_name[64];

void shx_conn_set_app(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	/* a name the manager would refuse (too long) is not sent at all
	 * rather than cut to some other app's name */
	if (n >= sizeof(app_name))
		n = 0;
	memcpy(app_name, name ? name : "", n);
	app_name[n] = 0;
}

const char *shx_conn_app(void)
{
	return app_name;
}

/* The handshake also tells the manager which mounts this client manages,
 * so that both sides agree whatever environment the manager started in,
 * and which app it runs under. */
static int hello(int sock)
{
	static atomic_int told;
	struct shx_req req = { .op = SHX_OP_HELLO, .size = SHX_PROTO_MAGIC,
			       .aux = SHX_PROTO_VERSION };
	struct shx_rep rep = { 0 };
	int r;

	req.pathlen = shx_mounts_list(req.path, sizeof(req.path));
	shx_req_set_path2(&req, app_name);
	r = roundtrip(sock, &req, &rep, NULL, 0, -1);
	if (r == 0 && rep.status < 0 && !atomic_exchange(&told, 1))
		shx_log("the manager cannot manage %s: %s", req.path, strerror(-rep.status));
	return r < 0 ? r : rep.status;
}

static int connect_once(const char *sock, const char *shmemd);

/* The manager's pid, as this process's pid namespace (and so its /proc)
 * knows it: the socket's peer, not what the manager says of itself.
 * -1: self-opens do not work here. */
static atomic_int selfopen_pid;

static void note_manager(int sock)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (atomic_load_explicit(&selfopen_pid, memory_order_relaxed) < 0)
		return;
	if (syscall(SYS_getsockopt, sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || uc.pid <= 0)
		uc.pid = 0;
	atomic_store(&selfopen_pid, uc.pid);
}

static int selfopen_pid_now(void)
{
	int pid = atomic_load_explicit(&selfopen_pid, memory_order_relaxed);

	return pid > 0 && !atomic_load_explicit(&eff_differ, memory_order_relaxed) ? pid : 0;
}

unsigned shx_conn_generation(void)
{
	return atomic_load(&conn_gen);
}

int shx_conn_selfopen_ok(void)
{
	return selfopen_pid_now() != 0;
}

/* /proc/<manager>/fd, kept open (O_PATH, high, as the sockets are): the
 * self-opens look up one name in it, not four. */
static atomic_int fd_dir = -1, fd_dir_pid;

static char *put_uint(char *end, unsigned v)
{
	do
		*--end = '0' + v % 10;
	while (v /= 10);
	return end;
}

/* fd_dir for the manager pid, opened if need be: fd or -errno.  (Only a
 * pooled connection's OPEN self-opens, so never a vfork child, whose fds
 * are not its parent's: see shx_call.) */
static int fd_dir_get(int pid)
{
	char path[32], *e = path + sizeof(path);
	int dir = atomic_load(&fd_dir), nd, low;

	if (dir >= 0 && atomic_load(&fd_dir_pid) == pid)
		return dir;
	*--e = 0;
	e -= 3;
	memcpy(e, "/fd", 3);
	e = put_uint(e, (unsigned)pid) - 6;
	memcpy(e, "/proc/", 6);
	nd = syscall(SYS_openat, AT_FDCWD, e, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (nd < 0)
		return -errno;
	nd = move_high(nd);
	if (!atomic_compare_exchange_strong(&fd_dir, &dir, nd)) {
		sys_close(nd); /* another thread's is as good */
		return dir;
	}
	atomic_store(&fd_dir_pid, pid);
	if (dir >= 0)
		sys_close(dir); /* a previous manager's */
	for (low = atomic_load(&lowest_sock);
	     nd < low && !atomic_compare_exchange_weak(&lowest_sock, &low, nd);)
		;
	return nd;
}

int shx_conn_selfopen(uint32_t n, int flags)
{
	char name[16], *e = name + sizeof(name);
	int pid = selfopen_pid_now(), dir, fd;

	if (!pid)
		return -EPERM;
	*--e = 0;
	e = put_uint(e, n);
	dir = fd_dir_get(pid);
	fd = dir < 0 ? dir : syscall(SYS_openat, dir, e, flags);
	if (fd >= 0)
		return fd;
	if (dir >= 0)
		fd = -errno;
	/* (closed behind our back: open it again next time) */
	if (fd == -EBADF || fd == -ENOTDIR)
		atomic_compare_exchange_strong(&fd_dir, &dir, -1);
	/* not allowed to look into the manager: ask it from now on */
	if (fd == -EACCES || fd == -EPERM || fd == -ENOENT)
		atomic_store(&selfopen_pid, -1);
	return fd;
}

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
	if (r < 0) {
		sys_close(fd);
		return r;
	}
	note_manager(fd);
	return fd;
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
	const char *ch = getenv("SHMEMX_CHANNEL");

	if (ch && !strcmp(ch, "0"))
		atomic_store(&chan_off, 1);
	ch = getenv("SHMEMX_SELFOPEN");
	if (ch && !strcmp(ch, "0"))
		atomic_store(&selfopen_pid, -1);
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

/* Polls for up to SPIN_NS while polling pays (spin.h): `ready` is asked
 * every turn, and every `yield_every` turns the CPU is given away (the
 * manager may be waiting for this very CPU) and the clock looked at.
 * Returns 1 once ready said so, 0 when the caller must sleep.
 *
 * `waking`: the manager was asleep and this request woke it.  Its answer
 * then comes a wake-up later, which says nothing about whether polling
 * pays; but a client that sleeps now is the one to be woken next, slowly,
 * and the manager, polling for its next request in vain, learns to sleep
 * as well -- two sides that each wait for the other to poll first.  So
 * a request that woke the manager polls (twice as long) whatever the
 * score, and only its success counts. */
static int poll_a_while(int (*ready)(void *), void *arg, unsigned yield_every, int waking)
{
	int64_t deadline;

	if (spin_ok < 0)
		spin_ok = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	if (!spin_ok || (!waking && !shx_spin_try(&spin)))
		return 0;
	deadline = mono_ns() + (waking ? 2 * SPIN_NS : SPIN_NS);
	for (unsigned i = 1;; i++) {
		if (ready(arg)) {
			/* (an answer found after a yield gave the CPU away for
			 * long is no success of polling) */
			shx_spin_result(&spin, mono_ns() <= deadline);
			return 1;
		}
		if (i % yield_every == 0) {
			if (mono_ns() > deadline)
				break;
			sched_yield();
		} else {
			shx_cpu_relax();
		}
	}
	if (!waking)
		shx_spin_result(&spin, 0);
	return 0;
}

struct recv_try {
	int sock;
	struct msghdr *mh;
	ssize_t got;
};

static int recv_ready(void *arg)
{
	struct recv_try *t = arg;

	t->got = syscall(SYS_recvmsg, t->sock, t->mh,
			 MSG_CMSG_CLOEXEC | MSG_NOSIGNAL | MSG_DONTWAIT);
	return t->got >= 0 || (errno != EAGAIN && errno != EINTR);
}

static ssize_t recv_reply(int sock, struct msghdr *mh)
{
	struct recv_try t = { sock, mh, -1 };

	/* a system call a turn: yield on every one */
	if (poll_a_while(recv_ready, &t, 1, 0))
		return t.got;
	do
		t.got = syscall(SYS_recvmsg, sock, mh, MSG_CMSG_CLOEXEC | MSG_NOSIGNAL);
	while (t.got < 0 && errno == EINTR);
	return t.got;
}

/* Takes the fd that a reply's SHX_HF_FD announces from the socket, where
 * it arrived just before the reply: the fd (MSG_CMSG_CLOEXEC) or -1. */
static int recv_fd(struct msghdr *mh)
{
	struct cmsghdr *cm;
	int rfd = -1;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&rfd, CMSG_DATA(cm), sizeof(int));
	return rfd;
}

/* The caller's wishes for a received fd, or its end if nobody wants it. */
static void give_fd(int rfd, int *fd, int fd_flags)
{
	/* MSG_CMSG_CLOEXEC always, then clear it if the caller wants the fd
	 * to survive exec: no window in which a concurrent exec leaks it. */
	if (rfd >= 0 && !(fd_flags & O_CLOEXEC))
		syscall(SYS_fcntl, rfd, F_SETFD, 0);
	if (fd)
		*fd = rfd;
	else if (rfd >= 0)
		sys_close(rfd);
}

struct chan_try {
	struct shx_chan *ch;
	uint32_t busy, st;
};

static int chan_ready(void *arg)
{
	struct chan_try *t = arg;

	t->st = atomic_load_explicit(&t->ch->state, memory_order_acquire);
	return t->st != t->busy;
}

/* Waits while ch->state is `busy` (the manager has not taken or answered
 * the message yet): polling first, as recv_reply does, then asleep on the
 * futex.  Returns the new state, or -ECONNRESET once the manager is gone. */
static int chan_wait(struct shx_chan *ch, int sock, uint32_t busy, int waking)
{
	struct chan_try t = { ch, busy, busy };
	uint32_t st;

	/* a load a turn: yield now and then */
	if (poll_a_while(chan_ready, &t, 256, waking))
		return t.st;
	for (;;) {
		char b;
		ssize_t n;

		atomic_store(&ch->waiting, 1);
		st = atomic_load(&ch->state);
		if (st == busy) {
			shx_chan_sleep(ch, busy, 100);
			st = atomic_load(&ch->state);
		}
		if (st != busy) {
			atomic_store_explicit(&ch->waiting, 0, memory_order_relaxed);
			return st;
		}
		/* a tenth of a second without an answer: is anyone there? */
		n = syscall(SYS_recvfrom, sock, &b, 1, MSG_PEEK | MSG_DONTWAIT, NULL, NULL);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -ECONNRESET;
	}
}

/* roundtrip() through the connection's channel. */
static int roundtrip_chan(int sock, struct shx_chan *ch, struct shx_req *req, struct shx_rep *rep,
			  int *fd, int fd_flags)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	uint32_t len;
	size_t n;
	int st, rfd = -1, waking;

	/* a message that needed no answer may not have been taken yet */
	st = atomic_load_explicit(&ch->state, memory_order_acquire);
	if (st == SHX_CHAN_REQ)
		st = chan_wait(ch, sock, SHX_CHAN_REQ, 0);
	if (st < 0)
		return st;
	if (st != SHX_CHAN_IDLE)
		return -EPROTO;
	req->id = atomic_fetch_add(&next_id, 1);
	n = shx_req_encode_head(req, ch->buf, SHX_CHAN_BUF - req->datalen);
	if (n == 0)
		return -ENAMETOOLONG;
	if (req->datalen)
		memcpy(ch->buf + n, req->data, req->datalen);
	atomic_store_explicit(&ch->len, n + req->datalen, memory_order_relaxed);
	atomic_store(&ch->state, SHX_CHAN_REQ);
	waking = atomic_load(&ch->asleep);
	if (waking && syscall(SYS_sendto, sock, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0) < 0 &&
	    errno != EAGAIN) /* (a full queue holds a wake-up already) */
		return -errno;
	if (req->hflags & SHX_HF_NOREPLY)
		return 0;
	st = chan_wait(ch, sock, SHX_CHAN_REQ, waking);
	if (st < 0)
		return st;
	len = atomic_load_explicit(&ch->len, memory_order_relaxed);
	if (st != SHX_CHAN_REP || len > SHX_CHAN_BUF ||
	    shx_rep_decode_head(ch->buf, len, rep) < 0 || rep->id != req->id || rep->op != req->op)
		return -EPROTO;
	if (rep->datalen)
		memcpy(rep->data, ch->buf + SHX_REP_HEAD, rep->datalen);
	if (rep->hflags & SHX_HF_FD) {
		ssize_t got;

		do
			got = syscall(SYS_recvmsg, sock, &mh, MSG_CMSG_CLOEXEC | MSG_NOSIGNAL);
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			return got < 0 ? -errno : -ECONNRESET;
		rfd = recv_fd(&mh);
		if (rfd < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
			if (rfd >= 0)
				sys_close(rfd);
			return -EPROTO;
		}
	}
	atomic_store_explicit(&ch->state, SHX_CHAN_IDLE, memory_order_release);
	give_fd(rfd, fd, fd_flags);
	return 0;
}

/* Gives the pooled connection sock a channel: a sealed memfd mapped here
 * and handed to the manager.  NULL when anything fails: the socket alone
 * still does everything. */
static struct shx_chan *chan_attach(int sock)
{
	struct shx_req req = { .op = SHX_OP_CHAN };
	struct shx_rep rep = { 0 };
	struct shx_chan *ch = NULL;
	int mfd, r;
	long m;

	if (atomic_load(&chan_off))
		return NULL;
	mfd = syscall(SYS_memfd_create, "shx-chan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return NULL;
	if (syscall(SYS_ftruncate, mfd, (long)SHX_CHAN_SIZE) < 0 ||
	    syscall(SYS_fcntl, mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto out;
	m = syscall(SYS_mmap, NULL, SHX_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (m < 0 && m > -4096)
		goto out;
	ch = (struct shx_chan *)m;
	/* a forked child must not share it: it has connections of its own */
	syscall(SYS_madvise, ch, SHX_CHAN_SIZE, MADV_DONTFORK);
	r = roundtrip(sock, &req, &rep, NULL, 0, mfd);
	if (r < 0 || rep.status < 0) {
		syscall(SYS_munmap, ch, SHX_CHAN_SIZE);
		ch = NULL;
	}
out:
	sys_close(mfd);
	return ch;
}

static void chan_detach(struct slot *sl)
{
	if (sl->ch)
		syscall(SYS_munmap, sl->ch, SHX_CHAN_SIZE);
	sl->ch = NULL;
}

static int roundtrip(int sock, struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags,
		     int send_fd)
{
	uint8_t out[SHX_REQ_MAX], head[SHX_REP_HEAD];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov[2] = { { head, sizeof(head) }, { rep->data, rep->datacap } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
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
		char ccred[CMSG_SPACE(sizeof(struct ucred))];
		char cfd[CMSG_SPACE(sizeof(int))];

		/* (only SHX_OP_CHAN sends an fd, and no credentials) */
		if (send_fd >= 0)
			shx_msg_put_fd(&smh, cfd, send_fd);

		/* The kernel tells the manager who sends (pid, real ids); a
		 * process whose effective ids differ says those itself. */
		if (send_fd < 0 && atomic_load_explicit(&eff_differ, memory_order_relaxed) &&
		    !shx_conn_vforked()) {
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
		while (syscall(SYS_sendmsg, sock, &smh, MSG_NOSIGNAL) < 0)
			if (errno != EINTR)
				return -errno;
	}
	if (req->hflags & SHX_HF_NOREPLY)
		return 0;
	got = recv_reply(sock, &mh);
	if (got <= 0)
		return got < 0 ? -errno : -ECONNRESET;
	rfd = recv_fd(&mh);
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    shx_rep_decode_head(head, got, rep) < 0 || rep->id != req->id ||
	    rep->op != req->op || !(rep->hflags & SHX_HF_FD) != (rfd < 0)) {
		if (rfd >= 0)
			sys_close(rfd);
		return -EPROTO;
	}
	give_fd(rfd, fd, fd_flags);
	return 0;
}

int shx_call_on(int sock, struct shx_req *req, struct shx_rep *rep, int *fd, int fd_flags)
{
	if (fd)
		*fd = -1;
	return roundtrip(sock, req, rep, fd, fd_flags, -1);
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
	int vforked = req->vforked ? req->vforked - 1 : shx_conn_vforked();
	int i = vforked ? -1 : slot_take(), sock, r, saved = errno;

	if (fd)
		*fd = -1;
	if (!sock_path[0])
		return -ENAMETOOLONG;
	/* A connection of the call's own goes when it is answered, and the
	 * hold an OPEN took with it: the manager's fd of an object could
	 * then go too (and its number be another object's) before a
	 * self-open looked it up.  Such an OPEN takes its fd by the socket. */
	if (i < 0)
		req->hflags &= ~SHX_HF_SELFOPEN;
	sock = i >= 0 ? atomic_load(&slots[i].fd) : -1;
	for (int tries = 0; tries < 2; tries++) {
		struct shx_chan *ch;

		if (sock < 0) {
			if (i >= 0)
				chan_detach(&slots[i]);
			sock = shx_connect(sock_path, shmemd_path);
			if (sock < 0) {
				r = sock;
				break;
			}
			if (i >= 0) {
				atomic_store(&slots[i].fd, sock);
				slots[i].ch = chan_attach(sock);
			}
			for (int low = atomic_load(&lowest_sock);
			     sock < low && !atomic_compare_exchange_weak(&lowest_sock, &low, sock);)
				;
		}
		ch = i >= 0 && !atomic_load_explicit(&chan_off, memory_order_relaxed) ? slots[i].ch
										    : NULL;
		/* an fd to hand over (paging's userfaultfd) goes by the socket */
		r = ch && !req->sendfd1 ? roundtrip_chan(sock, ch, req, rep, fd, fd_flags)
					: roundtrip(sock, req, rep, fd, fd_flags, req->sendfd1 - 1);
		/* A manager that went away (idle exit, restart) gets one
		 * reconnect; a protocol error does not. */
		if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN || r == -EBADF) {
			if (i >= 0) {
				atomic_store(&slots[i].fd, -1);
				atomic_fetch_add(&conn_gen, 1);
			}
			sys_close(sock);
			sock = -1;
			continue;
		}
		if (r < 0 && r != -EPIPE) {
			if (i >= 0) {
				atomic_store(&slots[i].fd, -1);
				atomic_fetch_add(&conn_gen, 1);
				chan_detach(&slots[i]);
			}
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
			chan_detach(&slots[i]);
			atomic_store(&slots[i].fd, sock);
			slots[i].ch = chan_attach(sock);
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
	return atomic_load(&fd_dir) == fd;
}

void shx_conn_each(void (*fn)(int fd, void *arg), void *arg)
{
	int dir = atomic_load(&fd_dir);

	for (int i = 0; i < NSLOTS; i++) {
		int fd = atomic_load(&slots[i].fd);

		if (fd >= 0)
			fn(fd, arg);
	}
	if (dir >= 0)
		fn(dir, arg);
}

void shx_conn_forget(int fd)
{
	int expect = fd;

	for (int i = 0; i < NSLOTS; i++) {
		expect = fd;
		if (atomic_compare_exchange_strong(&slots[i].fd, &expect, -1))
			atomic_fetch_add(&conn_gen, 1);
	}
	expect = fd;
	atomic_compare_exchange_strong(&fd_dir, &expect, -1);
}

void shx_conn_after_fork(void)
{
	atomic_store(&my_pid, getpid());
	for (int i = 0; i < NSLOTS; i++) {
		int fd = atomic_exchange(&slots[i].fd, -1);

		if (fd >= 0)
			sys_close(fd);
		/* (MADV_DONTFORK: the channel's mapping stayed with the parent) */
		slots[i].ch = NULL;
		atomic_store(&slots[i].busy, 0);
	}
}
