/* server.c -- shmemd's side of the protocol: accepts clients, checks who
 * they are, decodes their requests and runs them against the namespace.
 *
 * A client is one connection.  It holds the inodes it has open (counted
 * per inode, so a process's open fds keep an unlinked object alive), and
 * everything it holds is released when the connection ends, however it
 * ends.  System V attachments belong to the process, not to a connection
 * (core/sysv.c counts them).  A malformed message ends the connection;
 * nothing else is harmed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"
#include "server.h"

struct hold {
	uint64_t ino;
	uint32_t count;
	uint64_t granted; /* the end this connection may write to without asking */
	uint64_t budget;  /* what it may still append without asking (bytes) */
};

/* A hold that outlived its connection: the process (same pid after exec,
 * or a program that is not preloaded) still has the memfd open, which
 * /proc says, so the unlinked object must stay. */
struct orphan {
	struct orphan *next;
	uint64_t ino;
	pid_t pid;
};

struct client {
	struct server *srv;
	int fd;
	int greeted;
	struct shx_cred cred; /* the current request's sender (SO_PASSCRED) */
	pid_t pid;	      /* the process that connected (SO_PEERCRED): its holds */
	struct hold *holds; /* sorted by ino */
	size_t nholds, cap;
	struct shx_chan *ch; /* its channel, mapped here too; or NULL */
	size_t chan_index;   /* in srv->chans */
	/* quotas: the groups of its user and app (counting it as connected) */
	struct quota_group *user, *app;
	struct quota_group *tmp_app; /* the app whose private /tmp it keeps */
	struct client *prev, *next;  /* the server's clients */
};

/* --- holds --------------------------------------------------------------- */

static size_t hold_find(const struct client *c, uint64_t ino)
{
	size_t lo = 0, hi = c->nholds;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->holds[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int hold_add(struct client *c, struct ns_inode *ip)
{
	size_t i = hold_find(c, ip->ino);

	if (i < c->nholds && c->holds[i].ino == ip->ino) {
		c->holds[i].count++;
		return 0;
	}
	if (c->nholds == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct hold *h = realloc(c->holds, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		c->holds = h;
		c->cap = cap;
	}
	memmove(&c->holds[i + 1], &c->holds[i], (c->nholds - i) * sizeof(*c->holds));
	c->holds[i] = (struct hold){ ip->ino, 1, 0, 0 };
	c->nholds++;
	/* The inode counts its holders by connection, not by fd. */
	ns_hold(ip);
	return 0;
}

static struct hold *hold_of(struct client *c, uint64_t ino)
{
	size_t i = hold_find(c, ino);

	return i < c->nholds && c->holds[i].ino == ino ? &c->holds[i] : NULL;
}

/* The hold of ino that a request of c's process counts on: c's own, else
 * that of another connection of the same process (a process has a few,
 * and any of them may carry a request), or NULL. */
static struct hold *proc_hold(struct client *c, uint64_t ino, struct client **owner)
{
	struct hold *h = hold_of(c, ino);

	*owner = c;
	for (struct client *o = c->srv->clients; !h && o; o = o->next)
		if (o != c && o->pid == c->pid && (h = hold_of(o, ino)))
			*owner = o;
	return h;
}

/* ip->floor: the highest end any connection was granted and still holds,
 * so that a truncate by one process does not refund the space another is
 * writing into on the strength of its own grant (exact quotas under
 * concurrency). */
static void floor_recount(struct server *s, struct ns_inode *ip)
{
	uint64_t floor = 0;

	for (struct client *c = s->clients; c; c = c->next) {
		struct hold *h = hold_of(c, ip->ino);

		if (h && h->granted > floor)
			floor = h->granted;
	}
	ip->floor = floor;
}

/* This connection was granted space up to `end` of ip (or, lower = 1,
 * now needs no more than `end`). */
static void hold_granted(struct client *c, struct ns_inode *ip, uint64_t end, int lower)
{
	struct client *owner;
	struct hold *h = proc_hold(c, ip->ino, &owner);

	if (!h)
		return;
	if (lower) {
		h->granted = end;
		floor_recount(c->srv, ip);
	} else if (end > h->granted) {
		h->granted = end;
		if (end > ip->floor)
			ip->floor = end;
	}
}

/* A hold of c's goes.  A process opens on one of its connections and may
 * close on another: while another connection of the process still holds
 * the object, the process's fds of it are open, and what it was granted
 * (an end, an append budget) stays with that hold; else the unspent
 * budget is no more. */
static void hold_pass_on(struct server *s, struct client *c, const struct hold *h,
			 struct ns_inode *ip)
{
	for (struct client *o = s->clients; o; o = o->next) {
		struct hold *oh = o != c && o->pid == c->pid ? hold_of(o, h->ino) : NULL;

		if (oh) {
			if (h->granted > oh->granted)
				oh->granted = h->granted;
			oh->budget += h->budget;
			return;
		}
	}
	ip->appending -= h->budget;
}

/* c ends while another connection of its process is left: c's hold h
 * becomes that one's.  1 if it did, 0 if c was the process's last. */
static int hold_inherit(struct server *s, struct client *c, const struct hold *h,
			struct ns_inode *ip)
{
	struct client *heir = NULL;
	struct hold *oh;

	for (struct client *o = s->clients; o && !heir; o = o->next)
		if (o != c && o->pid == c->pid)
			heir = o;
	if (!heir || hold_add(heir, ip) < 0)
		return 0;
	oh = hold_of(heir, h->ino);
	/* hold_add counted one: the rest of h's count, its grants */
	oh->count += h->count - 1;
	if (h->granted > oh->granted)
		oh->granted = h->granted;
	oh->budget += h->budget;
	/* the inode counts holders by connection: c's holding goes */
	ns_unhold(ip);
	return 1;
}

static void hold_drop(struct client *c, uint64_t ino)
{
	struct client *owner;
	struct ns_inode *ip;
	struct hold gone;
	size_t i;

	/* the close may come on another connection of the process */
	if (proc_hold(c, ino, &owner))
		c = owner;
	i = hold_find(c, ino);

	if (i >= c->nholds || c->holds[i].ino != ino || --c->holds[i].count > 0)
		return;
	gone = c->holds[i];
	memmove(&c->holds[i], &c->holds[i + 1], (c->nholds - i - 1) * sizeof(*c->holds));
	c->nholds--;
	ip = ns_iget(&c->srv->ns, ino);
	if (ip) {
		hold_pass_on(c->srv, c, &gone, ip);
		floor_recount(c->srv, ip);
		ns_release(&c->srv->ns, ip);
	}
}

/* --- handlers: each returns 0 or -errno, the status of the reply -------- */

typedef int handler_fn(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd);

static int do_hello(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	if (q->size != SHX_PROTO_MAGIC)
		return -EPROTO;
	if (q->aux != SHX_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	/* The client's mounts (its path field, colon-separated): it decides
	 * on its own what it manages, so a manager started with other
	 * settings mounts what it lacks rather than lose the client's files. */
	for (const char *m = q->path; *m;) {
		const char *end = strchr(m, ':');
		size_t n = end ? (size_t)(end - m) : strlen(m);
		char prefix[SHX_MNT_LEN];
		int r = n && n < sizeof(prefix) ? 0 : -EINVAL;

		if (r == 0) {
			memcpy(prefix, m, n);
			prefix[n] = 0;
			r = ns_add_mount(&c->srv->ns, prefix);
		}
		if (r < 0) {
			shx_log("pid %d: cannot mount %.*s: %s", (int)c->cred.pid, (int)n, m,
				strerror(-r));
			return r;
		}
		m += n + (end != NULL);
	}
	/* the app it runs under (path2), which its objects are charged to */
	if (q->path2len && !c->app) {
		/* the uid it connected as (SO_PEERCRED): the handshake may
		 * come before SO_PASSCRED was set, with no credentials */
		c->app = quota_app(&c->srv->ns.quota, c->user ? c->user->uid : c->cred.uid,
				   q->path2);
		if (!c->app)
			return shx_app_name_valid(q->path2) < 0 ? -EINVAL : -ENOMEM;
		c->app->clients++;
		/* requests through the channel carry no credentials: they are
		 * the connection's, with its app */
		c->cred.app = c->app;
	}
	c->greeted = 1;
	p->value = getpid();
	return 0;
}

/* What a new object's first writer gets paid for up front, so that its
 * ftruncate or first writes need no round trip of their own; the unused
 * part goes back when it is closed (ns_release recounts). */
#define CREATE_CREDIT (256 << 10)

static int do_open(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns *ns = &c->srv->ns;
	struct ns_inode *ip;
	int r = ns_open(ns, &c->cred, q->ino, q->path, q->flags, q->mode, &ip), created = r;

	if (r < 0)
		return r;
	/* A regular file the client can open itself, through /proc: its
	 * memfd's number is the answer (SHX_HF_SELFOPEN), no fd travels. */
	if ((q->hflags & SHX_HF_SELFOPEN) && S_ISREG(ip->mode)) {
		uint32_t n = ip->memfd;

		memcpy(p->data, &n, sizeof(n));
		p->datalen = sizeof(n);
		p->hflags |= SHX_HF_SELFOPEN;
		r = 0;
	} else {
		r = ns_open_fd(ns, ip, q->flags);
		if (r >= 0)
			*fd = r;
	}
	if (r >= 0)
		r = hold_add(c, ip);
	if (r < 0) {
		ns_release(ns, ip);
		return r;
	}
	/* ns_open's hold is now the client's */
	ns_unhold(ip);
	/* who made it (SHMEMX_BACKTRACE): kept only by the open that did */
	if (created && q->datalen && !ip->backtrace)
		ip->backtrace = strndup(q->data, q->datalen < SHX_BACKTRACE_MAX ? q->datalen
										 : SHX_BACKTRACE_MAX - 1);
	/* what it may write up to without asking: the charge but for what
	 * appenders have yet to add past the end */
	p->value = ip->charged - ip->appending;
	if (created && S_ISREG(ip->mode) && (q->flags & (O_WRONLY | O_RDWR)))
		ns_reserve(ns, ip, CREATE_CREDIT, 1, &p->value);
	/* the fd may write up to what it is told without asking */
	hold_granted(c, ip, p->value, 0);
	if (created && S_ISREG(ip->mode)) {
		ns_getattr_new(ip, &p->attr);
		return 0;
	}
	return ns_getattr(ns, ip, &p->attr);
}

static int do_close(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	hold_drop(c, q->ino);
	return 0;
}

/* An object by inode number; a System V segment is reached by its id
 * only, never as a file. */
static struct ns_inode *iget(struct client *c, uint64_t ino)
{
	struct ns_inode *ip = ns_iget(&c->srv->ns, ino);

	return ip && !ip->seg ? ip : NULL;
}

/* The fd a self-open could not get (SHX_HF_SELFOPEN): of an object the
 * process holds, so its open passed the checks already. */
static int do_reopen(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = iget(c, q->ino);
	struct client *owner;
	int r;

	if (!ip || !proc_hold(c, q->ino, &owner))
		return -ESTALE;
	r = ns_open_fd(&c->srv->ns, ip, q->flags);
	if (r < 0)
		return r;
	*fd = r;
	return 0;
}

static int orphan_take(struct server *s, pid_t pid, uint64_t ino);

static int do_hold(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = iget(c, q->ino);
	int r;

	if (!ip)
		return -ESTALE;
	r = hold_add(c, ip);
	/* an inherited fd keeps what its parent's reservation paid for */
	if (r == 0)
		hold_granted(c, ip, q->size, 0);
	/* the process exec'd and holds it again: its orphaned hold is this */
	if (r == 0 && orphan_take(c->srv, c->pid, ip->ino))
		ns_unhold(ip);
	return r;
}

static int do_unlink(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	return ns_unlink(&c->srv->ns, &c->cred, q->ino, q->path, q->flags);
}

static int do_stat(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip;
	int r = ns_lookup(&c->srv->ns, &c->cred, q->ino, q->path, !(q->flags & AT_SYMLINK_NOFOLLOW),
			  &ip);

	return r < 0 ? r : ns_getattr(&c->srv->ns, ip, &p->attr);
}

static int do_getattr(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = iget(c, q->ino);

	return ip ? ns_getattr(&c->srv->ns, ip, &p->attr) : -ESTALE;
}

static int do_access(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	return ns_access(&c->srv->ns, &c->cred, q->ino, q->path, q->mode, q->flags);
}

/* Bytes to append: the object is recounted with what the sender says it
 * has left unspent, and charged size more on top of all that. */
static int reserve_append(struct client *c, struct ns_inode *ip, const struct shx_req *q,
			  struct shx_rep *p)
{
	struct ns *ns = &c->srv->ns;
	struct client *owner;
	struct hold *h = proc_hold(c, ip->ino, &owner);
	uint64_t unspent = q->atime_ns > 0 ? (uint64_t)q->atime_ns : 0;
	int r;

	if (!h)
		return -ESTALE;
	/* what the process has unspent, all of it on one of its holds */
	for (struct client *o = c->srv->clients; o; o = o->next) {
		struct hold *other = o->pid == c->pid ? hold_of(o, ip->ino) : NULL;

		if (other && other != h) {
			ip->appending -= other->budget;
			other->budget = 0;
		}
	}
	ip->appending = ip->appending - h->budget + unspent;
	h->budget = unspent;
	ns_sync(ns, ip);
	r = ns_reserve_append(ns, ip, q->size, &p->value);
	if (r < 0)
		return r;
	h->budget += p->value;
	ip->appending += p->value;
	if (p->value < q->size && ns->short_errno == -EDQUOT)
		p->hflags |= SHX_HF_EDQUOT;
	return 0;
}

static int do_reserve(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = iget(c, q->ino);

	struct ns *ns = &c->srv->ns;
	int r;

	if (!ip || !S_ISREG(ip->mode))
		return -ESTALE;
	if (q->flags & SHX_RESERVE_APPEND)
		return reserve_append(c, ip, q, p);
	r = ns_reserve(ns, ip, q->size, q->flags & SHX_RESERVE_PARTIAL, &p->value);
	if (r < 0)
		return r;
	hold_granted(c, ip, p->value, 0);
	/* a short grant: the client's write comes out short, then fails
	 * with the errno of the limit that was reached */
	if (p->value < q->size && ns->short_errno == -EDQUOT)
		p->hflags |= SHX_HF_EDQUOT;
	return 0;
}

static int do_sync(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = iget(c, q->ino);

	if (!ip)
		return -ESTALE;
	/* size: the most the sender's fds of it may still write to */
	hold_granted(c, ip, q->size, 1);
	ns_sync(&c->srv->ns, ip);
	return 0;
}

static int do_readdir(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = iget(c, q->ino);

	if (q->aux < p->datacap)
		p->datacap = q->aux;
	return ip ? ns_readdir(&c->srv->ns, ip, q->size, p) : -ESTALE;
}

/* statfs(2) of a path in a mount: the limits and use of the manager */
static int do_statfs(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd);

static int do_stats(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct server *s = c->srv;
	struct shx_stats st = {
		.size_limit = s->ns.cfg.size_limit,
		.size_used = s->ns.size_used,
		.inodes_limit = s->ns.cfg.nr_inodes,
		.inodes_used = s->ns.inodes_used,
		.objects = s->ns.objects,
		.clients = s->nclients,
		.manager_pid = getpid(),
		.started_ns = s->started_ns,
	};

	return shx_stats_put(p, &st);
}

struct ls_state {
	struct ns_inode **v;
	size_t n, cap;
	uint64_t after;
};

static void ls_collect(struct ns_inode *ip, void *arg)
{
	struct ls_state *st = arg;

	/* segments are listed by SHMLIST (shmemctl ipcs) */
	if (!S_ISREG(ip->mode) || ip->ino <= st->after || ip->seg)
		return;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct ns_inode **v = realloc(st->v, cap * sizeof(*v));

		if (!v)
			return;
		st->v = v;
		st->cap = cap;
	}
	st->v[st->n++] = ip;
}

static int by_ino(const void *a, const void *b)
{
	uint64_t x = (*(struct ns_inode *const *)a)->ino, y = (*(struct ns_inode *const *)b)->ino;

	return x < y ? -1 : x > y;
}

/* Reads who maps what from every connected process (once per pid). */
static void ls_maps(struct server *s)
{
	pid_t pids[256];
	size_t n = 0;

	for (struct client *c = s->clients; c && n < sizeof(pids) / sizeof(pids[0]); c = c->next) {
		size_t i = 0;

		while (i < n && pids[i] != c->pid)
			i++;
		if (i == n)
			pids[n++] = c->pid;
	}
	srv_ls_begin(s, pids, n);
}

/* Objects in inode order, from the cookie (the last inode sent) on. */
static int do_ls(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns *ns = &c->srv->ns;
	struct ls_state st = { .after = q->size };
	size_t i;

	if (q->aux < p->datacap)
		p->datacap = q->aux;
	ns_each(ns, ls_collect, &st);
	qsort(st.v, st.n, sizeof(*st.v), by_ino);
	ls_maps(c->srv);
	p->value = q->size;
	for (i = 0; i < st.n; i++) {
		struct ns_inode *ip = st.v[i];
		struct shx_obj o = { .charged = ip->charged, .holders = ip->holders,
				     .creator_pid = ip->creator_pid, .created_ns = ip->created_ns };

		ns_getattr(ns, ip, &o.attr);
		o.pathlen = ns_path(ns, ip, o.path, sizeof(o.path));
		srv_obj_fill(c->srv, ip, &o);
		if (shx_obj_append(p, &o) < 0)
			break;
		p->value = ip->ino;
	}
	if (i == st.n)
		p->hflags |= SHX_HF_EOF;
	free(st.v);
	return 0;
}

static int do_setattr(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns *ns = &c->srv->ns;
	struct ns_inode *ip = NULL;
	int r = q->pathlen ? ns_lookup(ns, &c->cred, q->ino, q->path,
				       !(q->flags & SHX_SET_NOFOLLOW), &ip)
			   : (ip = iget(c, q->ino)) ? 0 : -ESTALE;

	if (r == 0)
		r = ns_setattr(ns, &c->cred, ip, q);
	if (r == 0)
		r = ns_getattr(ns, ip, &p->attr);
	return r;
}

static int do_rename(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	return ns_rename(&c->srv->ns, &c->cred, q->ino, q->path, q->size, q->path2, q->flags);
}

static int do_mkdir(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	return ns_mkdir(&c->srv->ns, &c->cred, q->ino, q->path, q->mode);
}

static int do_link(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	return ns_link(&c->srv->ns, &c->cred, q->ino, q->path, q->size, q->path2,
		       q->flags & AT_SYMLINK_FOLLOW);
}

static int do_symlink(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	return ns_symlink(&c->srv->ns, &c->cred, q->path2, q->ino, q->path);
}

static int do_readlink(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	const char *target;
	/* an empty path: the link an O_PATH fd refers to */
	int r = ns_readlink(&c->srv->ns, &c->cred, q->ino, q->path, &target);
	size_t n;

	if (r < 0)
		return r;
	n = strlen(target);
	if (n > p->datacap)
		return -ENAMETOOLONG;
	memcpy(p->data, target, n);
	p->datalen = n;
	return 0;
}

/* chdir (checks, then the directory's path) and realpath (the path) */
static int do_chdir(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns *ns = &c->srv->ns;
	struct ns_inode *ip = NULL;
	char path[SHX_PATH_MAX];
	size_t n;
	int r = q->pathlen ? ns_lookup(ns, &c->cred, q->ino, q->path, 1, &ip)
			   : (ip = iget(c, q->ino)) ? 0 : -ESTALE;

	if (r == 0 && q->op == SHX_OP_CHDIR)
		r = ns_chdir(ns, &c->cred, ip);
	if (r < 0)
		return r;
	n = ns_path(ns, ip, path, sizeof(path));
	if (n == 0 || n >= sizeof(path) || n > p->datacap)
		return -ENOENT; /* a removed directory */
	memcpy(p->data, path, n);
	p->datalen = n;
	return ns_getattr(ns, ip, &p->attr);
}

static int do_statfs(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = NULL;
	int r = q->pathlen ? ns_lookup(&c->srv->ns, &c->cred, q->ino, q->path, 1, &ip)
			   : iget(c, q->ino) ? 0 : -ESTALE;

	struct shx_stats st = { .manager_pid = getpid(), .started_ns = c->srv->started_ns,
				.objects = c->srv->ns.objects, .clients = c->srv->nclients };

	if (r < 0)
		return r;
	/* the caller's own limit: the tightest of manager, user and app */
	ns_statfs(&c->srv->ns, &c->cred, &st);
	return shx_stats_put(p, &st);
}

static void dead_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
	}
}

/* mknod: the new node's real path comes back, for a socket to bind to */
static int do_mknod(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns *ns = &c->srv->ns;
	struct ns_inode *ip;
	char node[SHX_PATH_MAX];
	int r = ns_mknod(ns, &c->cred, q->ino, q->path, q->mode, q->size, &ip);

	if (r < 0)
		return r;
	/* getsockname says what bind was given, whatever became of the name */
	if (S_ISSOCK(ip->mode) && q->path2len && !(ip->target = strdup(q->path2))) {
		ns_unlink(ns, &c->cred, q->ino, q->path, 0);
		return -ENOMEM;
	}
	if (ns_node_path(ns, ip, node, sizeof(node)) == 0 && strlen(node) <= p->datacap) {
		p->datalen = strlen(node);
		memcpy(p->data, node, p->datalen);
		/* mknod(S_IFSOCK), not bind: a socket node nobody listens on,
		 * which the kernel opens as ENXIO and connects as ECONNREFUSED */
		if (S_ISSOCK(ip->mode) && !q->path2len)
			dead_socket(node);
	}
	return ns_getattr(ns, ip, &p->attr);
}

/* connect's lookup of a socket (its real path), or a bound socket's name */
static int do_socket(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns *ns = &c->srv->ns;
	struct ns_inode *ip = NULL;
	char node[SHX_PATH_MAX];
	const char *out = node;
	int r;

	if (q->flags == SHX_SOCK_CONNECT) {
		r = ns_find_socket(ns, &c->cred, q->ino, q->path, &ip);
		if (r == 0)
			r = ns_node_path(ns, ip, node, sizeof(node));
	} else if (q->flags == SHX_SOCK_NAME) {
		ip = iget(c, q->ino);
		r = ip && S_ISSOCK(ip->mode) && ip->target ? 0 : -ESTALE;
		out = r == 0 ? ip->target : node;
	} else {
		r = -EINVAL;
	}
	if (r < 0)
		return r;
	if (strlen(out) > p->datacap)
		return -ENAMETOOLONG;
	p->datalen = strlen(out);
	memcpy(p->data, out, p->datalen);
	return 0;
}

/* getxattr, setxattr, listxattr, removexattr of a path or an inode */
static int do_xattr(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns *ns = &c->srv->ns;
	struct ns_inode *ip = NULL;
	size_t len = 0, cap = q->aux < p->datacap ? q->aux : p->datacap;
	int r = q->pathlen ? ns_lookup(ns, &c->cred, q->ino, q->path,
				       !(q->flags & SHX_XATTR_NOFOLLOW), &ip)
			   : (ip = iget(c, q->ino)) ? 0 : -ESTALE;

	if (r < 0)
		return r;
	switch (q->flags & SHX_XATTR_OP) {
	case SHX_XATTR_GET:
		r = ns_getxattr(ns, &c->cred, ip, q->path2, p->data, cap, &len);
		break;
	case SHX_XATTR_LIST:
		r = ns_listxattr(ns, &c->cred, ip, (char *)p->data, cap, &len);
		break;
	case SHX_XATTR_SET:
		return ns_setxattr(ns, &c->cred, ip, q->path2, q->data ? q->data : "", q->datalen,
				   q->mode);
	case SHX_XATTR_REMOVE:
		return ns_removexattr(ns, &c->cred, ip, q->path2);
	default:
		return -EINVAL;
	}
	if (r == 0) {
		p->value = len;
		p->datalen = cap ? len : 0;
	}
	return r;
}

/* --- System V shared memory (core/sysv.c) --------------------------------- */

/* A fork child tells whose attachments it has, in case its message comes
 * before its parent's SHMFORK. */
static struct sysv *sysv_of(struct client *c, const struct shx_req *q)
{
	struct sysv *sv = &c->srv->sysv;

	if (q->atime_ns > 0 && q->atime_ns <= INT32_MAX)
		sysv_fork_child(sv, c->cred.pid, (pid_t)q->atime_ns);
	return sv;
}

static int do_shmget(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	int r = sysv_shmget(sysv_of(c, q), &c->cred, (int32_t)q->aux, q->size, (int)q->flags);

	if (r < 0)
		return r;
	p->value = r;
	return 0;
}

/* The segment's memfd goes to the client, which maps it and closes it:
 * the memfd's own open file for a writable attachment, a read-only one
 * of its own for SHM_RDONLY (so that mprotect cannot make it writable). */
static int do_shmat(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct sysv *sv = sysv_of(c, q);
	struct sysv_seg *seg;
	int r = sysv_shmat(sv, &c->cred, (int)q->aux, (int)q->flags, &seg);

	if (r < 0)
		return r;
	if (q->flags & SHM_RDONLY) {
		r = ns_open_fd(&c->srv->ns, seg->ip, O_RDONLY);
	} else {
		r = fcntl(seg->ip->memfd, F_DUPFD_CLOEXEC, 0);
		if (r < 0)
			r = -errno;
	}
	if (r < 0) {
		sysv_shmat_undo(sv, &c->cred, seg->id, seg->ip->ino);
		return r == -EMFILE ? -ENFILE : r;
	}
	*fd = r;
	p->value = seg->segsz;
	p->attr.ino = seg->ip->ino;
	return 0;
}

static int do_shmdt(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct sysv *sv = sysv_of(c, q);

	if (q->flags & SHX_SHMDT_UNDO)
		sysv_shmat_undo(sv, &c->cred, (int)q->aux, q->ino);
	else
		sysv_shmdt(sv, &c->cred, (int)q->aux, q->ino, q->size);
	return 0;
}

static int do_shmctl(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct shx_shmid_ds ds = { .uid = q->uid, .gid = q->gid, .mode = q->mode };
	struct shx_shminfo info;
	int cmd = (int)q->flags;
	int r = sysv_shmctl(sysv_of(c, q), &c->cred, (int)q->aux, cmd, &ds, &info);

	if (r < 0)
		return r;
	p->value = r;
	if (cmd == IPC_INFO || cmd == SHM_INFO)
		return shx_shminfo_put(p, &info);
	if (cmd == IPC_STAT || cmd == SHM_STAT || cmd == SHM_STAT_ANY)
		return shx_shmid_append(p, &ds);
	return 0;
}

static int do_shmfork(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	if (q->size == 0 || q->size > INT32_MAX || q->size == (uint64_t)c->cred.pid)
		return -EINVAL;
	/* (the caller may itself be a fork child not yet counted) */
	return sysv_fork(sysv_of(c, q), c->cred.pid, (pid_t)q->size);
}

static int do_shminherit(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	sysv_inherit(sysv_of(c, q), &c->cred, (int)q->aux, q->ino,
		     q->size <= INT32_MAX ? (pid_t)q->size : 0);
	return 0;
}

/* Segments by index, from the one at `size` on; the first page of a
 * listing brings every shm_nattch up to date. */
static int do_shmlist(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct sysv *sv = &c->srv->sysv;
	struct shx_shmid_ds ds;
	int idx = q->size < SYSV_IPCMNI ? (int)q->size : SYSV_IPCMNI, at;

	if (q->aux < p->datacap)
		p->datacap = q->aux;
	if (idx == 0)
		sysv_refresh_all(sv);
	for (at = idx; sysv_next(sv, &idx, &ds); at = idx)
		if (shx_shmid_append(p, &ds) < 0) {
			p->value = ds.id & (SYSV_IPCMNI - 1);
			return 0;
		}
	p->value = at;
	p->hflags |= SHX_HF_EOF;
	return 0;
}

/* --- channels (core/chan.h) ----------------------------------------------- */

static int passed_fd = -1; /* an fd that came with the current request */

/* The client hands over its channel: a memfd sealed against shrinking
 * (so that our accesses cannot fault), as large as a channel. */
static int do_chan(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct server *s = c->srv;
	struct stat st;
	int seals;
	void *m;

	(void)q;
	(void)p;
	(void)fd;
	if (c->ch || passed_fd < 0)
		return -EINVAL;
	seals = fcntl(passed_fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(passed_fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size < (off_t)SHX_CHAN_SIZE)
		return -EINVAL;
	if (s->nchans == s->chancap) {
		size_t cap = s->chancap ? 2 * s->chancap : 16;
		struct client **v = realloc(s->chans, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->chans = v;
		s->chancap = cap;
	}
	m = mmap(NULL, SHX_CHAN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, passed_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	c->ch = m;
	c->chan_index = s->nchans;
	s->chans[s->nchans++] = c;
	return 0;
}

static void chan_drop(struct client *c)
{
	struct server *s = c->srv;
	struct client *last;

	if (!c->ch)
		return;
	munmap(c->ch, SHX_CHAN_SIZE);
	c->ch = NULL;
	last = s->chans[--s->nchans];
	s->chans[c->chan_index] = last;
	last->chan_index = c->chan_index;
}

static int do_quota(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct quota_group *tmp_app = NULL;
	int r = srv_quota(c->srv, &c->cred, q, p, &tmp_app);

	if (tmp_app) {
		if (c->tmp_app) /* one private /tmp per connection */
			srv_quota_tmp_done(c->srv, c->tmp_app);
		c->tmp_app = tmp_app;
	}
	return r;
}

/* --- paging (tools/pager.c) --------------------------------------------- */

static int do_pgtable(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	int tfd = pager_table_fd(&c->srv->pager);

	if (tfd < 0)
		return -EOPNOTSUPP;
	*fd = fcntl(tfd, F_DUPFD_CLOEXEC, 0);
	return *fd < 0 ? -errno : 0;
}

/* Objects and segments alike: the client names the memfd it has. */
static struct ns_inode *pg_iget(struct client *c, uint64_t ino)
{
	struct ns_inode *ip = ns_iget(&c->srv->ns, ino);

	return ip && S_ISREG(ip->mode) ? ip : NULL;
}

static int do_swapin(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = pg_iget(c, q->ino);

	if (!ip)
		return -ESTALE;
	return pager_swapin(&c->srv->pager, ip, q->size, (uint64_t)q->atime_ns,
			    q->flags & SHX_SWAPIN_TRUNC);
}

static int do_seek(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = pg_iget(c, q->ino);
	int64_t res;
	int r;

	if (!ip)
		return -ESTALE;
	if (q->flags != SEEK_DATA && q->flags != SEEK_HOLE)
		return -EINVAL;
	r = pager_seek(&c->srv->pager, ip, (int64_t)q->size, q->flags, &res);
	p->value = res;
	return r;
}

static int do_swapinfo(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	static struct shx_swapinfo si;

	pager_info(&c->srv->pager, &si);
	return shx_swapinfo_put(p, &si);
}

static int do_swapset(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	return pager_set(&c->srv->pager, q->flags, q->size, q->path);
}

static void client_pid_add(struct server *s, pid_t pid)
{
	if (s->nclient_pids == s->client_pids_cap) {
		size_t cap = s->client_pids_cap ? s->client_pids_cap * 2 : 64;
		pid_t *n = realloc(s->client_pids, cap * sizeof(*n));

		if (!n)
			return;
		s->client_pids = n;
		s->client_pids_cap = cap;
	}
	s->client_pids[s->nclient_pids++] = pid;
}

static void client_pid_drop(struct server *s, pid_t pid)
{
	for (size_t i = 0; i < s->nclient_pids; i++)
		if (s->client_pids[i] == pid) {
			s->client_pids[i] = s->client_pids[--s->nclient_pids];
			return;
		}
}

static int client_pid_known(const struct server *s, pid_t pid)
{
	for (size_t i = 0; i < s->nclient_pids; i++)
		if (s->client_pids[i] == pid)
			return 1;
	return 0;
}

static int do_pguffd(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	int r;

	if (passed_fd < 0)
		return -EBADF;
	r = pager_uffd_add(&c->srv->pager, c->pid, passed_fd);
	passed_fd = -1; /* the pager's now, or closed */
	return r;
}

static int do_pgmap(struct client *c, const struct shx_req *q, struct shx_rep *p, int *fd)
{
	struct ns_inode *ip = pg_iget(c, q->ino);

	if (!ip)
		return -ESTALE;
	return pager_map(&c->srv->pager, c->pid, q->size, (uint64_t)q->atime_ns,
			 (uint64_t)q->mtime_ns, ip);
}

static int watch_uffd(void *ctx, int fd, void *arg);
static void unwatch_uffd(void *ctx, int fd);

int server_timeout_ms(const struct server *s)
{
	return pager_timeout_ms(&s->pager);
}

void server_page(struct server *s)
{
	pager_run(&s->pager, s->client_pids, s->nclient_pids);
}

int server_init_pager(struct server *s, const struct shx_config *cfg, const char *state_dir)
{
	int r = pager_init(&s->pager, &s->ns, &s->sysv, cfg, state_dir);

	s->pager.watch = watch_uffd;
	s->pager.unwatch = unwatch_uffd;
	s->pager.watch_ctx = s;
	return r;
}

static handler_fn *const handlers[SHX_OP_MAX] = {
	[SHX_OP_HELLO] = do_hello,     [SHX_OP_OPEN] = do_open,	      [SHX_OP_CLOSE] = do_close,
	[SHX_OP_HOLD] = do_hold,       [SHX_OP_UNLINK] = do_unlink,   [SHX_OP_STAT] = do_stat,
	[SHX_OP_GETATTR] = do_getattr, [SHX_OP_ACCESS] = do_access,   [SHX_OP_RESERVE] = do_reserve,
	[SHX_OP_SYNC] = do_sync,       [SHX_OP_READDIR] = do_readdir, [SHX_OP_STATS] = do_stats,
	[SHX_OP_LS] = do_ls,	       [SHX_OP_SETATTR] = do_setattr, [SHX_OP_RENAME] = do_rename,
	[SHX_OP_MKDIR] = do_mkdir,     [SHX_OP_LINK] = do_link,	      [SHX_OP_CHDIR] = do_chdir,
	[SHX_OP_SYMLINK] = do_symlink, [SHX_OP_READLINK] = do_readlink, [SHX_OP_STATFS] = do_statfs,
	[SHX_OP_REALPATH] = do_chdir,  [SHX_OP_SHMGET] = do_shmget,   [SHX_OP_SHMAT] = do_shmat,
	[SHX_OP_SHMDT] = do_shmdt,     [SHX_OP_SHMCTL] = do_shmctl,   [SHX_OP_SHMFORK] = do_shmfork,
	[SHX_OP_SHMINHERIT] = do_shminherit, [SHX_OP_SHMLIST] = do_shmlist,
	/* /tmp as a complete tmpfs */
	[SHX_OP_MKNOD] = do_mknod,     [SHX_OP_SOCKET] = do_socket,   [SHX_OP_XATTR] = do_xattr,
	/* speed */
	[SHX_OP_CHAN] = do_chan,
	/* quotas and statistics (tools/srv_quota.c) */
	[SHX_OP_QUOTA] = do_quota,
	/* paging */
	[SHX_OP_PGTABLE] = do_pgtable, [SHX_OP_SWAPIN] = do_swapin,   [SHX_OP_SEEK] = do_seek,
	[SHX_OP_SWAPINFO] = do_swapinfo, [SHX_OP_SWAPSET] = do_swapset,
	[SHX_OP_PGUFFD] = do_pguffd,   [SHX_OP_PGMAP] = do_pgmap,
	[SHX_OP_REOPEN] = do_reopen,
};

/* --- connections --------------------------------------------------------- */

static void listen_ready(struct loop *l, int fd, void *arg, unsigned events);

/* Does process pid have an fd open on the memfd with inode ino? */
static int pid_holds(pid_t pid, uint64_t ino)
{
	char dir[64];
	struct dirent *d;
	struct stat st;
	DIR *fds;
	int found = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	fds = opendir(dir);
	if (!fds)
		return 0;
	while (!found && (d = readdir(fds)))
		found = d->d_name[0] != '.' && fstatat(dirfd(fds), d->d_name, &st, 0) == 0 &&
			st.st_ino == ino && S_ISREG(st.st_mode) && major(st.st_dev) == 0;
	closedir(fds);
	return found;
}

static void orphan_add(struct server *s, uint64_t ino, pid_t pid)
{
	struct orphan *o = malloc(sizeof(*o));
	struct ns_inode *ip = ns_iget(&s->ns, ino);

	if (!o) {
		ns_release(&s->ns, ip);
		return;
	}
	*o = (struct orphan){ s->orphans, ino, pid };
	s->orphans = o;
}

static int orphan_take(struct server *s, pid_t pid, uint64_t ino)
{
	for (struct orphan **pp = &s->orphans, *o; (o = *pp); pp = &o->next) {
		if (o->pid == pid && o->ino == ino) {
			*pp = o->next;
			free(o);
			return 1;
		}
	}
	return 0;
}

void server_check_orphans(struct server *s)
{
	for (struct orphan **pp = &s->orphans, *o; (o = *pp);) {
		struct ns_inode *ip = ns_iget(&s->ns, o->ino);

		if (ip && pid_holds(o->pid, o->ino)) {
			pp = &o->next;
			continue;
		}
		*pp = o->next;
		if (ip)
			ns_release(&s->ns, ip);
		free(o);
	}
	if (server_idle(s) && !s->idle_since_ns)
		s->idle_since_ns = ns_now();
}

static void client_end(struct client *c)
{
	struct server *s = c->srv;

	shx_debug("client %d (pid %d) gone, %zu holds", c->fd, (int)c->pid, c->nholds);
	chan_drop(c);
	loop_del(s->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->user)
		c->user->clients--;
	if (c->app)
		c->app->clients--;
	if (c->tmp_app)
		srv_quota_tmp_done(s, c->tmp_app);
	for (size_t i = 0; i < c->nholds; i++) {
		struct ns_inode *ip = ns_iget(&s->ns, c->holds[i].ino);

		if (!ip)
			continue;
		/* the process goes on (one of its connections is left): its
		 * fds of the object are still open, and so is what they were
		 * granted */
		if (hold_inherit(s, c, &c->holds[i], ip))
			continue;
		hold_pass_on(s, c, &c->holds[i], ip);
		floor_recount(s, ip);
		/* an unlinked object this process still has open (it exec'd,
		 * or its fds went to a program that is not preloaded) stays */
		if (ip->nlink == 0 && pid_holds(c->pid, ip->ino))
			orphan_add(s, ip->ino, c->pid);
		else
			ns_release(&s->ns, ip);
	}
	free(c->holds);
	client_pid_drop(s, c->pid);
	if (!client_pid_known(s, c->pid)) /* its last connection: an exec, an exit */
		pager_proc_gone(&s->pager, c->pid);
	/* an exec closes every connection: the attachments may be gone */
	sysv_conn_closed(&s->sysv, c->cred.pid);
	free(c);
	s->nclients--;
	if (s->listen_paused && loop_add(s->loop, s->listen_fd, EPOLLIN, listen_ready, s) == 0)
		s->listen_paused = 0;
	if (server_idle(s))
		s->idle_since_ns = ns_now();
	ns_reap(&s->ns);
}

/* The answer to a request that came through the channel: in the channel,
 * and an fd that goes with it through the socket, before. */
static int send_reply_chan(struct client *c, struct shx_rep *p, int fd)
{
	struct shx_chan *ch = c->ch;
	size_t n;

	if (fd >= 0) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { (void *)"", 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		shx_msg_put_fd(&mh, cbuf, fd);
		p->hflags |= SHX_HF_FD;
		if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			return -errno;
	}
	n = shx_rep_encode(p, ch->buf, SHX_CHAN_BUF);
	if (n == 0)
		return -EMSGSIZE;
	atomic_store_explicit(&ch->len, n, memory_order_relaxed);
	atomic_store(&ch->state, SHX_CHAN_REP);
	if (atomic_load(&ch->waiting)) {
		shx_chan_wake(ch);
		c->srv->woke_client = 1;
	}
	return 0;
}

static int send_reply(struct client *c, struct shx_rep *p, int fd)
{
	static uint8_t buf[SHX_REP_MAX];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, 0 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		p->hflags |= SHX_HF_FD;
		shx_msg_put_fd(&mh, cbuf, fd);
	}
	iov.iov_len = shx_rep_encode(p, buf, sizeof(buf));
	if (iov.iov_len == 0)
		return -EMSGSIZE;
	/* Never block on a client that does not read its answers. */
	if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

/* One request.  Its sender's credentials come with it (SO_PASSCRED: the
 * kernel checks them), and permission checks use those: a process that
 * connected as the manager's user and then dropped privileges (setresuid
 * to nobody) is checked as what it is now, as the kernel checks each call
 * with the caller's current credentials. */
static ssize_t recv_request(struct client *c, uint8_t *buf, size_t cap)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm)) {
		struct ucred uc;

		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(uc))) {
			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			c->cred = (struct shx_cred){ uc.pid, uc.uid, uc.gid, c->app, 0 };
		} else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			/* one fd comes with SHX_OP_CHAN (a channel) or SHX_OP_PGUFFD (a
			 * userfaultfd): keep the first, close the rest */
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (passed_fd < 0)
					passed_fd = fd;
				else
					close(fd);
			}
		}
	}
	return n;
}

static int chan_serve(struct client *c);

/* One request of n bytes at in, from the socket or (via_chan) copied out
 * of the client's channel. */
static void serve(struct client *c, const uint8_t *in, size_t n, int via_chan)
{
	static uint8_t data[SHX_DATA_MAX];
	static struct shx_req q;
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	int rfd = -1, r;

	if (shx_req_decode(in, n, &q) < 0 || (!c->greeted && q.op != SHX_OP_HELLO) ||
	    !handlers[q.op] || (via_chan && q.op == SHX_OP_CHAN)) {
		shx_log("pid %d: malformed request (%zu bytes), closing its connection",
			(int)c->cred.pid, n);
		client_end(c);
		return;
	}
	if (via_chan && (q.hflags & SHX_HF_NOREPLY)) {
		/* taken: the client may post its next request */
		atomic_store(&c->ch->state, SHX_CHAN_IDLE);
		if (atomic_load(&c->ch->waiting)) {
			shx_chan_wake(c->ch);
			c->srv->woke_client = 1;
		}
	}
	/* figures reported are exact: what closes left to recount, now */
	if (q.op == SHX_OP_STATS || q.op == SHX_OP_LS || q.op == SHX_OP_QUOTA)
		ns_sync_pending(&c->srv->ns);
	r = handlers[q.op](c, &q, &p, &rfd);
	shx_debug("pid %d: %s %s -> %d", (int)c->cred.pid, shx_op_name(q.op), q.path, r);
	if (r == -SHX_EESCAPE) { /* tell the client where the real file system takes over */
		p.datalen = strlen(c->srv->ns.escape);
		memcpy(p.data, c->srv->ns.escape, p.datalen);
	}
	if (!(q.hflags & SHX_HF_NOREPLY)) {
		p.op = q.op;
		p.id = q.id;
		p.status = r;
		if (r < 0 && rfd >= 0) {
			close(rfd);
			rfd = -1;
		}
		if ((via_chan ? send_reply_chan(c, &p, rfd) : send_reply(c, &p, rfd)) < 0) {
			if (rfd >= 0)
				close(rfd);
			client_end(c);
			return;
		}
	}
	if (rfd >= 0)
		close(rfd);
	/* answered: now the memory of removed segments may go (and that of
	 * files when the manager is idle: ns_idle) */
	sysv_reap(&c->srv->sysv);
	if (q.op == SHX_OP_HELLO && r < 0)
		client_end(c);
}

static void client_ready(struct loop *l, int fd, void *arg, unsigned events)
{
	static uint8_t in[SHX_REQ_PACKET_MAX + 1];
	struct client *c = arg;
	ssize_t n;

	(void)l;
	(void)fd;
	(void)events;
	n = recv_request(c, in, sizeof(in));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_end(c);
		return;
	}
	if (n == 1 && c->ch && passed_fd < 0) { /* a wake-up: look at the channel */
		chan_serve(c);
		return;
	}
	serve(c, in, n, 0);
	if (passed_fd >= 0) {
		close(passed_fd);
		passed_fd = -1;
	}
}

/* The request waiting in c's channel, if there is one: 1 if served. */
static int chan_serve(struct client *c)
{
	static uint8_t in[SHX_REQ_PACKET_MAX];
	struct shx_chan *ch = c->ch;
	uint32_t len;

	if (atomic_load_explicit(&ch->state, memory_order_acquire) != SHX_CHAN_REQ)
		return 0;
	len = atomic_load_explicit(&ch->len, memory_order_relaxed);
	if (len > sizeof(in)) {
		shx_log("pid %d: malformed request (%u bytes), closing its connection",
			(int)c->cred.pid, len);
		client_end(c);
		return 1;
	}
	memcpy(in, ch->buf, len);
	serve(c, in, len, 1);
	return 1;
}

int server_poll_chans(struct server *s)
{
	int served = 0;

	/* downwards: a client that ends is replaced by the last one */
	for (size_t i = s->nchans; i-- > 0;)
		served += chan_serve(s->chans[i]);
	return served;
}

int server_chans_asleep(struct server *s, int asleep)
{
	int waiting = 0;

	for (size_t i = 0; i < s->nchans; i++)
		atomic_store(&s->chans[i]->ch->asleep, asleep);
	for (size_t i = 0; asleep && i < s->nchans; i++)
		waiting |= atomic_load(&s->chans[i]->ch->state) == SHX_CHAN_REQ;
	return waiting;
}

static void listen_ready(struct loop *l, int fd, void *arg, unsigned events)
{
	struct server *s = arg;
	struct ucred uc;
	socklen_t len = sizeof(uc);
	struct client *c;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (cfd < 0) {
		/* Out of fds (every object holds one): stop listening until a
		 * client leaves, or epoll reports the pending connection
		 * forever. */
		if (errno == EMFILE || errno == ENFILE) {
			shx_log("out of file descriptors: not accepting until a client leaves");
			loop_del(l, fd);
			s->listen_paused = 1;
		}
		return;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 ||
	    (uc.uid != getuid() && !s->system)) {
		shx_log("refusing a client of uid %d", (int)uc.uid);
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || setsockopt(cfd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0 ||
	    loop_add(s->loop, cfd, EPOLLIN, client_ready, c) < 0) {
		free(c);
		close(cfd);
		return;
	}
	c->srv = s;
	c->fd = cfd;
	c->cred = (struct shx_cred){ uc.pid, uc.uid, uc.gid, NULL, 0 };
	c->pid = uc.pid;
	c->user = quota_user(&s->ns.quota, uc.uid);
	if (c->user)
		c->user->clients++;
	c->next = s->clients;
	if (c->next)
		c->next->prev = c;
	s->clients = c;
	client_pid_add(s, uc.pid);
	s->nclients++;
	s->idle_since_ns = 0;
	shx_debug("client %d: pid %d", cfd, (int)uc.pid);
}

int server_wants_tick(const struct server *s)
{
	return s->orphans || sysv_wants_poll(&s->sysv);
}

void server_tick(struct server *s)
{
	server_check_orphans(s);
	sysv_poll(&s->sysv);
	ns_reap(&s->ns);
}

/* A process attaching segments has exited. */
static void pidfd_ready(struct loop *l, int fd, void *arg, unsigned events)
{
	sysv_proc_exited(arg);
}

static int watch_pidfd(void *ctx, struct sysv_proc *p)
{
	struct server *s = ctx;

	return loop_add(s->loop, p->pidfd, EPOLLIN, pidfd_ready, p);
}

static void unwatch_pidfd(void *ctx, struct sysv_proc *p)
{
	struct server *s = ctx;

	loop_del(s->loop, p->pidfd);
}

/* A client's userfaultfd has a fault or an event to read. */
static void uffd_ready(struct loop *l, int fd, void *arg, unsigned events)
{
	pager_uffd_ready(arg);
}

static int watch_uffd(void *ctx, int fd, void *arg)
{
	struct server *s = ctx;

	return loop_add(s->loop, fd, EPOLLIN, uffd_ready, arg);
}

static void unwatch_uffd(void *ctx, int fd)
{
	struct server *s = ctx;

	loop_del(s->loop, fd);
}

int server_idle(const struct server *s)
{
	return s->nclients == 0 && !s->orphans && s->ns.inodes_used == (uint64_t)s->ns.nmounts;
}

int server_init(struct server *s, const struct shx_config *cfg, const char *placeholder,
		int listen_fd)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->listen_fd = listen_fd;
	s->started_ns = s->idle_since_ns = ns_now();
	r = ns_init(&s->ns, cfg, placeholder);
	if (r == 0)
		r = ns_add_mount(&s->ns, "/dev/shm");
	if (r < 0)
		return r;
	s->loop = loop_new();
	if (!s->loop)
		return -ENOMEM;
	r = sysv_init(&s->sysv, &s->ns, cfg,
		      &(struct sysv_ops){ .watch = watch_pidfd, .unwatch = unwatch_pidfd, .ctx = s });
	if (r < 0)
		return r;
	s->sysv.defer_release = 1;
	return loop_add(s->loop, listen_fd, EPOLLIN, listen_ready, s);
}

void server_fini(struct server *s)
{
	while (s->orphans) {
		struct orphan *o = s->orphans;

		s->orphans = o->next;
		free(o);
	}
	free(s->chans);
	/* the segments first: their inodes are the namespace's */
	sysv_destroy(&s->sysv);
	pager_fini(&s->pager);
	free(s->client_pids);
	loop_free(s->loop);
	ns_destroy(&s->ns);
}
