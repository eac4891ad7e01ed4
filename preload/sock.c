/* sock.c -- AF_UNIX sockets named by paths under a mount.
 *
 * Programs bind their sockets under /tmp all the time (tmux, ssh-agent,
 * X11, test servers), usually in a directory they just made there -- a
 * managed directory the kernel knows nothing of.  So a socket's name lives
 * in the namespace (an S_IFSOCK node, as tmpfs has) and the socket itself
 * is bound to a real path the manager keeps for it, <socket dir>/nodes/INO:
 *
 *   bind      the manager makes the node (mknod's checks, EADDRINUSE if the
 *             name exists, the umask), the socket is bound to its real path;
 *   connect,  the manager looks the name up (write permission, then
 *   sendto    ECONNREFUSED for anything but a socket, as unix_find_bsd),
 *             the call goes to the real path;
 *   getsockname, getpeername, accept, recvfrom, recvmsg
 *             a real path of ours in the answer becomes the name the socket
 *             was bound by.
 *
 * Names outside the mounts, abstract and unnamed sockets, and sockets of
 * other families cost one compare. */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "preload.h"

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)

/* The path of an AF_UNIX address as the kernel reads it (unix_mkname_bsd:
 * at most sun_path's size, NUL-terminated at the address's end), or NULL
 * for an abstract or unnamed one and other families. */
static const char *sun_path_of(const struct sockaddr *sa, socklen_t len, char *buf)
{
	size_t n;

	if (!sa || len <= SUN_OFF || sa->sa_family != AF_UNIX)
		return NULL;
	n = len - SUN_OFF;
	if (n > sizeof(((struct sockaddr_un *)0)->sun_path))
		n = sizeof(((struct sockaddr_un *)0)->sun_path);
	memcpy(buf, ((const struct sockaddr_un *)sa)->sun_path, n);
	buf[n] = 0;
	return buf[0] ? buf : NULL;
}

/* A socket of fd's own family? (An AF_INET socket given an AF_UNIX
 * address fails in the kernel without looking at the name.) */
static int unix_socket(int fd)
{
	int dom;
	socklen_t n = sizeof(dom);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &n) == 0 && dom == AF_UNIX;
}

/* The real address for (dirfd AT_FDCWD) name, when name is managed: 1 and
 * *out filled, 0 if it is not ours, or -errno. */
static int real_address(const char *name, struct sockaddr_un *out, socklen_t *outlen)
{
	char data[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)data, .datacap = sizeof(data) - 1 };
	struct shx_path p;
	struct shx_req q;
	int r;

	if (shx_unmanaged(AT_FDCWD, name) || (r = shx_classify(AT_FDCWD, name, &p)) == 0)
		return 0;
	if (r < 0)
		return r;
	shx_req_init(&q, SHX_OP_SOCKET, &p);
	q.flags = SHX_SOCK_CONNECT;
	q.aux = rep.datacap;
	r = shx_request(&q, &rep, NULL, 0);
	if (r == -SHX_EESCAPE) { /* a symlink out of the mounts: that real path */
		rep.datalen = q.pathlen;
		memcpy(data, q.path, q.pathlen);
		r = 0;
	}
	if (r < 0)
		return r;
	if (rep.datalen >= sizeof(out->sun_path))
		return -ENAMETOOLONG;
	memset(out, 0, sizeof(*out));
	out->sun_family = AF_UNIX;
	memcpy(out->sun_path, data, rep.datalen);
	*outlen = SUN_OFF + rep.datalen + 1;
	return 1;
}

SHX_EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	char buf[sizeof(struct sockaddr_un)], node[SHX_PATH_MAX];
	const char *name = sun_path_of(sa, len, buf);
	struct sockaddr_un real = { .sun_family = AF_UNIX };
	struct shx_path p;
	struct shx_req q;
	struct shx_rep rep = { 0 };
	int r;

	if (!name || shx_unmanaged(AT_FDCWD, name) || !unix_socket(fd) ||
	    (r = shx_classify(AT_FDCWD, name, &p)) == 0)
		return REAL(bind)(fd, sa, len);
	if (r < 0)
		return shx_ret(r);
	/* unix_bind_bsd: the node first, mode 0777 less the umask; a name
	 * that exists is EADDRINUSE */
	shx_req_init(&q, SHX_OP_MKNOD, &p);
	q.mode = S_IFSOCK | (0777 & ~shx_umask());
	shx_req_set_path2(&q, name);
	rep.data = (uint8_t *)node;
	rep.datacap = sizeof(node) - 1;
	r = shx_request(&q, &rep, NULL, 0);
	if (r == -SHX_EESCAPE) /* a symlink out of the mounts */
		return shx_ret(-EADDRINUSE);
	if (r < 0)
		return shx_ret(r == -EEXIST ? -EADDRINUSE : r);
	if (rep.datalen >= sizeof(real.sun_path)) {
		r = -ENAMETOOLONG;
	} else {
		memcpy(real.sun_path, node, rep.datalen);
		if (REAL(bind)(fd, (struct sockaddr *)&real, SUN_OFF + rep.datalen + 1) < 0)
			r = -errno;
	}
	if (r < 0) { /* the socket was bound already, or the like: no node */
		shx_req_init(&q, SHX_OP_UNLINK, &p);
		shx_request(&q, &rep, NULL, 0);
	}
	return shx_ret(r);
}

/* The real address of a managed destination, for connect and sendto:
 * 1 with *real filled, 0 to pass sa on, -errno. */
static int destination(int fd, const struct sockaddr *sa, socklen_t len,
		       struct sockaddr_un *real, socklen_t *rlen)
{
	char buf[sizeof(struct sockaddr_un)];
	const char *name = sun_path_of(sa, len, buf);

	if (!name || shx_unmanaged(AT_FDCWD, name) || !unix_socket(fd))
		return 0;
	return real_address(name, real, rlen);
}

SHX_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_un real;
	socklen_t rlen;
	int r = destination(fd, sa, len, &real, &rlen);

	if (r == 0)
		return REAL(connect)(fd, sa, len);
	if (r < 0)
		return shx_ret(r);
	r = REAL(connect)(fd, (struct sockaddr *)&real, rlen);
	/* a node nobody bound (mknod S_IFSOCK) has no real socket */
	if (r < 0 && errno == ENOENT)
		errno = ECONNREFUSED;
	return r;
}

SHX_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
			  socklen_t len)
{
	struct sockaddr_un real;
	socklen_t rlen;
	int r;

	if (!sa)
		return REAL(sendto)(fd, buf, n, flags, sa, len);
	r = destination(fd, sa, len, &real, &rlen);
	if (r == 0)
		return REAL(sendto)(fd, buf, n, flags, sa, len);
	if (r < 0)
		return shx_ret(r);
	r = REAL(sendto)(fd, buf, n, flags, (struct sockaddr *)&real, rlen);
	if (r < 0 && errno == ENOENT)
		errno = ECONNREFUSED;
	return r;
}

SHX_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sockaddr_un real;
	struct msghdr m;
	socklen_t rlen;
	ssize_t r;

	if (!msg || !msg->msg_name)
		return REAL(sendmsg)(fd, msg, flags);
	r = destination(fd, msg->msg_name, msg->msg_namelen, &real, &rlen);
	if (r == 0)
		return REAL(sendmsg)(fd, msg, flags);
	if (r < 0)
		return shx_ret(r);
	m = *msg;
	m.msg_name = &real;
	m.msg_namelen = rlen;
	r = REAL(sendmsg)(fd, &m, flags);
	if (r < 0 && errno == ENOENT)
		errno = ECONNREFUSED;
	return r;
}

/* An address the kernel returned: if it is the real path of one of our
 * sockets, the name that socket was bound by, as unix_getname would give
 * it (the copy cut to the caller's room, *len the full length). */
static void rename_address(struct sockaddr *sa, socklen_t *len, socklen_t room)
{
	char data[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)data, .datacap = sizeof(data) - 1 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	const struct sockaddr_un *got = (const struct sockaddr_un *)sa;
	size_t plen, have;
	const char *pre = shx_conn_nodes(&plen);
	struct shx_req q;
	uint64_t ino = 0;
	const char *c;

	if (!sa || !len || room <= SUN_OFF || sa->sa_family != AF_UNIX || !plen)
		return;
	have = (room < *len ? room : *len) - SUN_OFF;
	if (have <= plen || memcmp(got->sun_path, pre, plen))
		return;
	for (c = got->sun_path + plen; c < got->sun_path + have && *c >= '0' && *c <= '9'; c++)
		ino = ino * 10 + (*c - '0');
	if (c < got->sun_path + have && *c)
		return;
	shx_req_init(&q, SHX_OP_SOCKET, NULL);
	q.ino = ino;
	q.flags = SHX_SOCK_NAME;
	q.aux = rep.datacap;
	if (shx_request(&q, &rep, NULL, 0) < 0 || rep.datalen >= sizeof(un.sun_path))
		return; /* a name that is gone: the real path stays */
	memcpy(un.sun_path, data, rep.datalen);
	*len = SUN_OFF + rep.datalen + 1;
	memcpy(sa, &un, room < *len ? room : *len);
}

/* The room the caller gave, before the kernel overwrites *len. */
#define ROOM(len) ((len) ? *(len) : 0)

SHX_EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	socklen_t room = ROOM(len);
	int r = REAL(getsockname)(fd, sa, len);

	if (r == 0)
		rename_address(sa, len, room);
	return r;
}

SHX_EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	socklen_t room = ROOM(len);
	int r = REAL(getpeername)(fd, sa, len);

	if (r == 0)
		rename_address(sa, len, room);
	return r;
}

SHX_EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	socklen_t room = ROOM(len);
	int r = REAL(accept)(fd, sa, len);

	if (r >= 0 && sa)
		rename_address(sa, len, room);
	return r;
}

SHX_EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	socklen_t room = ROOM(len);
	int r = REAL(accept4)(fd, sa, len, flags);

	if (r >= 0 && sa)
		rename_address(sa, len, room);
	return r;
}

SHX_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
			    socklen_t *len)
{
	socklen_t room = ROOM(len);
	ssize_t r = REAL(recvfrom)(fd, buf, n, flags, sa, len);

	if (r >= 0 && sa)
		rename_address(sa, len, room);
	return r;
}

SHX_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	socklen_t room = msg ? msg->msg_namelen : 0;
	ssize_t r = REAL(recvmsg)(fd, msg, flags);

	if (r >= 0 && msg && msg->msg_name)
		rename_address(msg->msg_name, &msg->msg_namelen, room);
	return r;
}
