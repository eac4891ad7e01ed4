/* ns.c -- shmemd's tmpfs: mounts, inodes, directories, names, space.
 *
 * The behaviour follows fs/namei.c (path walk, open, unlink) and
 * mm/shmem.c (inodes, space accounting); the comments name the kernel
 * function a piece mirrors.  Inodes live in a hash by inode number,
 * directory entries in one hash by (parent, name) plus a list per
 * directory in creation order, whose offsets are the readdir cookies
 * (as tmpfs's simple_offset: an entry added while a directory is being
 * read shows up in the same pass, a removed one never comes back).
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ns.h"
#include "path.h"

#define PAGE 4096ULL
#define MAY_EXEC 1
#define MAY_WRITE 2
#define MAY_READ 4

#ifndef MFD_EXEC
#define MFD_EXEC 0x10U
#endif

int64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t page_up(uint64_t n)
{
	return (n + PAGE - 1) & ~(PAGE - 1);
}

static uint64_t hash_name(const struct ns_inode *parent, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ (uintptr_t)parent;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

/* --- inode hash ---------------------------------------------------------- */

static size_t ihash(const struct ns *ns, uint64_t ino)
{
	return (ino * 0x9e3779b97f4a7c15ULL >> 17) & (ns->itab_size - 1);
}

static int itab_resize(struct ns *ns, size_t size)
{
	struct ns_inode **t = calloc(size, sizeof(*t));
	size_t old = ns->itab_size;
	struct ns_inode **ot = ns->itab;

	if (!t)
		return -ENOMEM;
	ns->itab = t;
	ns->itab_size = size;
	for (size_t i = 0; i < old; i++) {
		for (struct ns_inode *ip = ot[i], *n; ip; ip = n) {
			size_t h = ihash(ns, ip->ino);

			n = ip->hnext;
			ip->hnext = t[h];
			t[h] = ip;
		}
	}
	free(ot);
	return 0;
}

struct ns_inode *ns_iget(struct ns *ns, uint64_t ino)
{
	struct ns_inode *ip = ns->itab[ihash(ns, ino)];

	while (ip && ip->ino != ino)
		ip = ip->hnext;
	return ip;
}

static void iunhash(struct ns *ns, struct ns_inode *ip)
{
	struct ns_inode **pp = &ns->itab[ihash(ns, ip->ino)];

	while (*pp != ip)
		pp = &(*pp)->hnext;
	*pp = ip->hnext;
}

/* --- dentry hash --------------------------------------------------------- */

static int dtab_resize(struct ns *ns, size_t size)
{
	struct ns_dentry **t = calloc(size, sizeof(*t));
	size_t old = ns->dtab_size;
	struct ns_dentry **ot = ns->dtab;

	if (!t)
		return -ENOMEM;
	ns->dtab = t;
	ns->dtab_size = size;
	for (size_t i = 0; i < old; i++) {
		for (struct ns_dentry *d = ot[i], *n; d; d = n) {
			size_t h = hash_name(d->parent, d->name, d->namelen) & (size - 1);

			n = d->hnext;
			d->hnext = t[h];
			t[h] = d;
		}
	}
	free(ot);
	return 0;
}

static struct ns_dentry *d_lookup(struct ns *ns, struct ns_inode *dir, const char *name,
				  size_t len)
{
	struct ns_dentry *d = ns->dtab[hash_name(dir, name, len) & (ns->dtab_size - 1)];

	for (; d; d = d->hnext)
		if (d->parent == dir && d->namelen == len && !memcmp(d->name, name, len))
			return d;
	return NULL;
}

static int d_add(struct ns *ns, struct ns_inode *dir, const char *name, size_t len,
		 struct ns_inode *ip)
{
	struct ns_dentry *d;
	size_t h;

	if (ns->ndentries + 1 > ns->dtab_size && dtab_resize(ns, ns->dtab_size * 2) < 0)
		return -ENOMEM;
	d = malloc(sizeof(*d) + len + 1);
	if (!d)
		return -ENOMEM;
	memcpy(d->name, name, len);
	d->name[len] = 0;
	d->namelen = len;
	d->parent = dir;
	d->inode = ip;
	d->offset = dir->next_offset++;
	d->next = NULL;
	d->prev = dir->last;
	if (dir->last)
		dir->last->next = d;
	else
		dir->first = d;
	dir->last = d;
	dir->nentries++;
	h = hash_name(dir, name, len) & (ns->dtab_size - 1);
	d->hnext = ns->dtab[h];
	ns->dtab[h] = d;
	ns->ndentries++;
	if (!ip->dentry)
		ip->dentry = d;
	return 0;
}

static void d_delete(struct ns *ns, struct ns_dentry *d)
{
	struct ns_inode *dir = d->parent, *ip = d->inode;
	struct ns_dentry **pp = &ns->dtab[hash_name(dir, d->name, d->namelen) & (ns->dtab_size - 1)];

	while (*pp != d)
		pp = &(*pp)->hnext;
	*pp = d->hnext;
	if (d->prev)
		d->prev->next = d->next;
	else
		dir->first = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		dir->last = d->prev;
	dir->nentries--;
	ns->ndentries--;
	if (ip->dentry == d)
		ip->dentry = NULL;
	free(d);
}

/* --- inodes: shmem_get_inode, shmem_free_inode, shmem_evict_inode -------- */

/* A new memfd, fstat'ed into *st: fd or -errno. */
static int memfd_new(struct stat *st)
{
	int fd = memfd_create("shmemx", MFD_CLOEXEC | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("shmemx", MFD_CLOEXEC);
	if (fd < 0 || fstat(fd, st) < 0) {
		int e = -errno;

		if (fd >= 0)
			close(fd);
		return e;
	}
	return fd;
}

#define POOL_MAX ((int)(sizeof(((struct ns *)0)->pool) / sizeof(((struct ns *)0)->pool[0])))

static int pool_fill(struct ns *ns)
{
	struct stat st;
	int fd;

	if (ns->npool == POOL_MAX)
		return 0;
	fd = memfd_new(&st);
	if (fd < 0)
		return 0;
	ns->pool[ns->npool].fd = fd;
	ns->pool[ns->npool++].ino = st.st_ino;
	return 1;
}

static void sync_later(struct ns *ns, struct ns_inode *ip)
{
	if (ip->unsynced)
		return;
	if (ns->nunsynced == (int)(sizeof(ns->unsynced) / sizeof(ns->unsynced[0]))) {
		ns_sync(ns, ip);
		return;
	}
	ip->unsynced = 1;
	ns->unsynced[ns->nunsynced++] = ip;
}

/* ip goes: it needs no recount */
static void sync_forget(struct ns *ns, struct ns_inode *ip)
{
	for (int i = 0; ip->unsynced && i < ns->nunsynced; i++)
		if (ns->unsynced[i] == ip) {
			ns->unsynced[i] = ns->unsynced[--ns->nunsynced];
			ip->unsynced = 0;
		}
}

static int sync_one(struct ns *ns)
{
	struct ns_inode *ip;

	if (ns->nunsynced == 0)
		return 0;
	ip = ns->unsynced[--ns->nunsynced];
	ip->unsynced = 0;
	ns_sync(ns, ip);
	return 1;
}

void ns_sync_pending(struct ns *ns)
{
	while (sync_one(ns))
		;
}

int ns_idle(struct ns *ns)
{
	/* a creation is what the next request may well be: a few memfds
	 * ready first, then the recounts and the freed memfds closed, then
	 * the pool full */
	if (ns->npool < POOL_MAX / 2 && pool_fill(ns))
		return 1;
	if (sync_one(ns))
		return 1;
	if (ns->nreap > 0) {
		close(ns->reap[--ns->nreap]);
		return 1;
	}
	return pool_fill(ns);
}

/* The memfd of a new inode: fd, with its st_ino and times in *st, or
 * -errno.  One from the pool was made a while ago: its times are made now
 * (UTIME_NOW for both: atime, mtime and ctime one instant, as a creation
 * leaves them).  That instant is the kernel's to choose, at the grain of
 * its coarse clock or finer; *st gets the coarse clock's time from just
 * before, which is never later -- so that the inode's ctime, a floor for
 * the memfd's (ns_getattr), does not push the ctime past the mtime --
 * and an fstat to learn the exact one is spared. */
static int memfd_take(struct ns *ns, struct stat *st)
{
	struct timespec t;
	int fd, e;

	if (ns->npool == 0)
		return memfd_new(st);
	fd = ns->pool[--ns->npool].fd;
	memset(st, 0, sizeof(*st));
	st->st_ino = ns->pool[ns->npool].ino;
	clock_gettime(CLOCK_REALTIME_COARSE, &t);
	st->st_atim = st->st_mtim = st->st_ctim = t;
	if (futimens(fd, NULL) == 0)
		return fd;
	e = -errno;
	close(fd);
	return e;
}

static struct ns_inode *new_inode(struct ns *ns, const struct shx_cred *cr,
				  const struct ns_inode *dir, uint64_t dev, mode_t mode, int *err)
{
	struct ns_inode *ip;
	struct stat st;
	int fd;

	/* shmem_reserve_inode: an inode's share of the inode space, which
	 * user.* xattrs take from too */
	struct quota_group *g[2] = { NULL, NULL };

	if (ns->inodes_used >= ns->cfg.nr_inodes ||
	    (ns->cfg.nr_inodes != UINT64_MAX &&
	     (ns->inodes_used + 1) * NS_BOGO_INODE_SIZE + ns->xattr_space >
		     ns->cfg.nr_inodes * NS_BOGO_INODE_SIZE)) {
		*err = -ENOSPC;
		return NULL;
	}
	/* the creator's user and app pay for it too (shmem_inquota: a
	 * user's inode quota is EDQUOT) */
	if (!cr->system) {
		g[0] = quota_user(&ns->quota, cr->uid);
		g[1] = cr->app;
		if (!g[0]) {
			*err = -ENOMEM;
			return NULL;
		}
		*err = 0;
		if (quota_room_inodes(g, 2, 1, err) < 1)
			return NULL;
	}
	if (ns->inodes_used + 1 > ns->itab_size && itab_resize(ns, ns->itab_size * 2) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	fd = memfd_take(ns, &st);
	if (fd < 0) {
		*err = fd == -EMFILE || fd == -ENFILE ? -ENOSPC : fd;
		return NULL;
	}
	/* The memfd keeps the mode memfd_create gave it: only the manager
	 * opens it (doing tmpfs's permission checks itself), and a chmod
	 * here would move its ctime past its mtime. */
	ip = calloc(1, sizeof(*ip));
	if (!ip) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	ip->ino = st.st_ino;
	ip->dev = dev;
	ip->mode = mode;
	ip->uid = cr->uid;
	ip->gid = cr->gid;
	/* inode_init_owner: a set-group-ID directory hands down its group,
	 * and to directories its set-group-ID bit */
	if (dir && (dir->mode & S_ISGID)) {
		ip->gid = dir->gid;
		if (S_ISDIR(mode))
			ip->mode |= S_ISGID;
	}
	ip->memfd = fd;
	ip->creator_pid = cr->pid;
	ip->created_ns = ns_now();
	/* the memfd's own times, so that a new file's ctime is its mtime */
	ip->atime_ns = ip->mtime_ns = ip->ctime_ns =
		st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	ip->next_offset = 2;
	ip->hnext = ns->itab[ihash(ns, ip->ino)];
	ns->itab[ihash(ns, ip->ino)] = ip;
	ns->inodes_used++;
	if (S_ISREG(mode))
		ns->objects++;
	ip->quser = g[0];
	ip->qapp = g[1];
	quota_charge_inode(g, 2, 1, S_ISREG(mode));
	if (S_ISREG(mode) && ns->pg_hook)
		ns->pg_hook(ns->pg_ctx, ip, NS_PG_CREATE, 0, NULL);
	return ip;
}

/* FIFOs, devices and sockets: files the kernel must open (or bind) */
static int special(mode_t mode)
{
	return S_ISFIFO(mode) || S_ISCHR(mode) || S_ISBLK(mode) || S_ISSOCK(mode);
}

int ns_node_path(const struct ns *ns, const struct ns_inode *ip, char *buf, size_t cap)
{
	int n;

	if (!ns->nodes[0])
		return -EPERM;
	n = snprintf(buf, cap, "%s/%llu", ns->nodes, (unsigned long long)ip->ino);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The groups an inode is charged to, besides the manager. */
#define charged_to(ip) ((struct quota_group *const[2]){ (ip)->quser, (ip)->qapp })

static void charge(struct ns_inode *ip, int64_t delta)
{
	quota_charge_bytes(charged_to(ip), 2, delta);
}

static void free_inode(struct ns *ns, struct ns_inode *ip)
{
	char node[SHX_PATH_MAX];

	if (special(ip->mode) && ns_node_path(ns, ip, node, sizeof(node)) == 0)
		unlink(node);
	if (S_ISREG(ip->mode) && ns->pg_hook)
		ns->pg_hook(ns->pg_ctx, ip, NS_PG_FREE, 0, NULL);
	ns_xattr_free(ns, ip);
	sync_forget(ns, ip);
	iunhash(ns, ip);
	ns->size_used -= ip->charged;
	ns->inodes_used--;
	if (S_ISREG(ip->mode))
		ns->objects--;
	charge(ip, -(int64_t)ip->charged);
	quota_charge_inode(charged_to(ip), 2, -1, S_ISREG(ip->mode));
	if (ip->memfd >= 0 && ns->nreap < (int)(sizeof(ns->reap) / sizeof(ns->reap[0])))
		ns->reap[ns->nreap++] = ip->memfd;
	else if (ip->memfd >= 0)
		close(ip->memfd);
	free(ip->target);
	free(ip->backtrace);
	free(ip);
}

void ns_reap(struct ns *ns)
{
	while (ns->nreap > 0)
		close(ns->reap[--ns->nreap]);
}

void ns_hold(struct ns_inode *ip)
{
	ip->holders++;
}

void ns_unhold(struct ns_inode *ip)
{
	ip->holders--;
}

void ns_release(struct ns *ns, struct ns_inode *ip)
{
	if (ip->holders > 0)
		ip->holders--;
	if (ip->holders == 0 && ip->nlink == 0)
		free_inode(ns, ip);
	else if (S_ISREG(ip->mode))
		sync_later(ns, ip);
}

/* shmem_kernel_file_setup: an inode on no mount's tree */
int ns_create_anon(struct ns *ns, const struct shx_cred *cr, mode_t mode, struct ns_inode **ip)
{
	uint64_t dev = ns->nmounts ? ns->mounts[0].root->dev : 0;
	int r;

	*ip = new_inode(ns, cr, NULL, dev, S_IFREG | (mode & 07777), &r);
	if (!*ip)
		return r;
	(*ip)->holders = 1;
	return 0;
}

/* --- space: shmem_inode_acct_blocks ------------------------------------- */

/* Charges ip `want` more bytes (whole pages), or with partial what the
 * manager, the user and the app all still have room for: no grant takes
 * any of them past its limit.  The bytes charged are in *got. */
static int charge_more(struct ns *ns, struct ns_inode *ip, uint64_t want, int partial,
		       uint64_t *got)
{
	uint64_t avail;
	int err = -ENOSPC;

	for (;;) {
		avail = ns->size_used < ns->cfg.size_limit ? ns->cfg.size_limit - ns->size_used : 0;
		avail = quota_room_bytes(charged_to(ip), 2, avail, &err);
		avail &= ~(PAGE - 1);
		/* short of room: first what closed files still have charged
		 * and no longer need, then the answer */
		if (want <= avail || ns->nunsynced == 0)
			break;
		ns_sync_pending(ns);
	}
	*got = 0;
	if (want > avail) {
		ns->short_errno = err;
		if (!partial)
			return err;
		want = avail;
	}
	ns->size_used += want;
	charge(ip, want);
	ip->charged += want;
	*got = want;
	return 0;
}

int ns_reserve(struct ns *ns, struct ns_inode *ip, uint64_t end, int partial, uint64_t *granted)
{
	/* what appenders may add is theirs: offsets are paid by the rest */
	uint64_t want = page_up(end), covered = ip->charged - ip->appending, got;
	int r;

	if (end > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (want <= covered) {
		*granted = covered;
		return 0;
	}
	/* partial: what is free, or at least what the object already has --
	 * a writer whose end is past it gets a short write */
	r = charge_more(ns, ip, want - covered, partial, &got);
	*granted = covered + got;
	return r;
}

int ns_reserve_append(struct ns *ns, struct ns_inode *ip, uint64_t bytes, uint64_t *granted)
{
	if (bytes > (uint64_t)INT64_MAX)
		return -EFBIG;
	return charge_more(ns, ip, page_up(bytes), 1, granted);
}

void ns_sync(struct ns *ns, struct ns_inode *ip)
{
	struct stat st;
	uint64_t base, real;

	if (!S_ISREG(ip->mode) || fstat(ip->memfd, &st) < 0)
		return;
	base = page_up(st.st_size);
	/* (pages in swap files are the object's too) */
	if ((uint64_t)st.st_blocks * 512 + ip->swapped > base)
		base = (uint64_t)st.st_blocks * 512 + ip->swapped;
	/* space a holder was granted stays paid for until it lets go: it
	 * may be writing into it now; so do the bytes appenders may still
	 * add past whatever the end will be */
	if (ip->floor > base)
		base = ip->floor;
	real = page_up(base + ip->appending);
	/* Appenders' budgets are as last reported, and what they appended
	 * since is in the size too: counted twice, it must not push the
	 * charge up (past a limit, even).  Only data no reservation paid
	 * for (a writer without the library) raises it. */
	if (real > ip->charged)
		real = base > ip->charged ? base : ip->charged;

	ns->size_used = ns->size_used - ip->charged + real;
	charge(ip, (int64_t)real - (int64_t)ip->charged);
	ip->charged = real;
}

static uint64_t room(uint64_t limit, uint64_t used)
{
	return used < limit ? limit - used : 0;
}

void ns_statfs(struct ns *ns, const struct shx_cred *cr, struct shx_stats *st)
{
	struct quota_group *g[2] = { quota_user(&ns->quota, cr->uid), cr->app };

	ns_sync_pending(ns);
	st->size_limit = ns->cfg.size_limit;
	st->size_used = ns->size_used;
	st->inodes_limit = ns->cfg.nr_inodes;
	st->inodes_used = ns->inodes_used;
	for (int i = 0; i < 2; i++) {
		if (!g[i])
			continue;
		if (room(g[i]->size_limit, g[i]->size_used) < room(st->size_limit, st->size_used)) {
			st->size_limit = g[i]->size_limit;
			st->size_used = g[i]->size_used;
		}
		if (room(g[i]->inodes_limit, g[i]->inodes_used) <
		    room(st->inodes_limit, st->inodes_used)) {
			st->inodes_limit = g[i]->inodes_limit;
			st->inodes_used = g[i]->inodes_used;
		}
	}
}

/* --- permissions: generic_permission, may_delete ------------------------- */

static int permission(const struct shx_cred *cr, const struct ns_inode *ip, int mask)
{
	unsigned m = ip->mode;

	if (cr->uid == 0) /* CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH */
		return !(mask & MAY_EXEC) || S_ISDIR(m) || (m & 0111) ? 0 : -EACCES;
	if (cr->uid == ip->uid)
		m >>= 6;
	else if (cr->gid == ip->gid)
		m >>= 3;
	return (mask & ~m & 7) ? -EACCES : 0;
}

int ns_permission(const struct shx_cred *cr, const struct ns_inode *ip, int mask)
{
	return permission(cr, ip, mask);
}

static int may_delete(const struct shx_cred *cr, const struct ns_inode *dir,
		      const struct ns_inode *victim)
{
	int r = permission(cr, dir, MAY_WRITE | MAY_EXEC);

	if (r < 0)
		return r;
	/* check_sticky */
	if ((dir->mode & S_ISVTX) && cr->uid != 0 && cr->uid != victim->uid && cr->uid != dir->uid)
		return -EPERM;
	return 0;
}

/* --- path walk: link_path_walk ------------------------------------------- */

struct nameidata {
	struct ns_inode *dir;	/* the directory holding the last component */
	const char *last;	/* the last component; NULL when the path is a mount root,
				   "." or ".." */
	size_t lastlen;
	struct ns_inode *inode; /* what the path names, NULL if the last is missing */
	int trailing;		/* the path ends with '/' */
	int dots;		/* the last component is "." (1) or ".." (2) */
	int follow;		/* in: WALK_FOLLOW, WALK_NOFOLLOW or WALK_PARENT */
	char buf[SHX_PATH_MAX]; /* where a symlink or ".." leads, to walk again */
};

/* What the walk does with a symlink in the last component: follow it
 * (stat), not (lstat: but a trailing slash still follows, as in
 * lookup_last), or never (unlink, rmdir, rename, mkdir: the name itself). */
#define WALK_NOFOLLOW 0
#define WALK_FOLLOW 1
#define WALK_PARENT 2

/* walk_once: a symlink or ".." led elsewhere in the mounts; walk nd->buf */
#define REDIRECT 4001
#define MAXSYMLINKS 40

static struct ns_mount *find_mount(struct ns *ns, const char *path)
{
	for (int i = 0; i < ns->nmounts; i++) {
		struct ns_mount *m = &ns->mounts[i];

		if (!strncmp(path, m->prefix, m->len) && (path[m->len] == '/' || !path[m->len]))
			return m;
	}
	return NULL;
}

static struct ns_mount *mount_of(struct ns *ns, const struct ns_inode *root);

/* The walk goes on at head + rest (rest empty or starting with '/'): in
 * the mounts (REDIRECT, nd->buf), or out of them (SHX_EESCAPE, with the
 * path for the real file system in ns->escape). */
static int go_on(struct ns *ns, struct nameidata *nd, const char *head, size_t headlen,
		 const char *rest)
{
	char tmp[SHX_PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%.*s%s", (int)headlen, head, rest);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (shx_path_classify(tmp, nd->buf, sizeof(nd->buf)) >= 0 && find_mount(ns, nd->buf))
		return -REDIRECT;
	memcpy(ns->escape, tmp, n + 1);
	return -SHX_EESCAPE;
}

/* ".." out of a mount root: on from the real parent directory, which may
 * lead back into a mount (/dev/shm/../shm/x). */
static int leave_mount(struct ns *ns, const struct ns_inode *root, const char *rest,
		       struct nameidata *nd)
{
	const struct ns_mount *m = mount_of(ns, root);
	size_t up = strrchr(m->prefix, '/') - m->prefix;

	return up ? go_on(ns, nd, m->prefix, up, rest) : go_on(ns, nd, "/", *rest ? 0 : 1, rest);
}

/* pick_link, step_into: a symlink's target, relative to its directory. */
static int follow_link(struct ns *ns, struct ns_inode *dir, const struct ns_inode *link,
		       const char *rest, struct nameidata *nd)
{
	char head[SHX_PATH_MAX];
	int n;

	if (link->target[0] == '/')
		return go_on(ns, nd, link->target, strlen(link->target), rest);
	n = ns_path(ns, dir, head, sizeof(head));
	if (n == 0)
		return -ENOENT; /* its directory is gone */
	n = snprintf(head + n, sizeof(head) - n, "/%s", link->target) + n;
	if ((size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	return go_on(ns, nd, head, n, rest);
}

static int walk_once(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
		     struct nameidata *nd)
{
	struct ns_inode *cur;
	const char *p = path, *top;

	if (path[0] == '/') {
		struct ns_mount *m = find_mount(ns, path);

		if (!m)
			return -ENOENT;
		cur = m->root;
		/* an app with a private root of this mount sees that instead */
		if (cr->app && cr->app->private_tmp &&
		    cr->app->private_tmp->root_of == (int)(m - ns->mounts) + 1)
			cur = cr->app->private_tmp;
		p += m->len;
	} else {
		cur = ns_iget(ns, start);
		if (!cur)
			return -EBADF;
		if (!S_ISDIR(cur->mode))
			return -ENOTDIR;
		if (!*p)
			return -ENOENT;
	}
	top = p;
	for (;;) {
		const char *c, *e;
		size_t n;
		int last;
		struct ns_dentry *d;

		while (*p == '/')
			p++;
		if (!*p) { /* the mount root, possibly with slashes */
			nd->dir = nd->inode = cur;
			nd->trailing = p > top;
			return 0;
		}
		c = p;
		for (e = c; *e && *e != '/'; e++)
			;
		n = e - c;
		for (p = e; *p == '/'; p++)
			;
		last = !*p;
		/* may_lookup, then the name */
		int r = permission(cr, cur, MAY_EXEC);
		if (r < 0)
			return r;
		if (n > 255)
			return -ENAMETOOLONG;
		if (n == 1 && c[0] == '.') {
			if (last) {
				nd->dir = nd->inode = cur;
				nd->trailing = *e == '/';
				nd->dots = 1;
				return 0;
			}
			continue;
		}
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (!cur->parent)
				return leave_mount(ns, cur, e, nd);
			cur = cur->parent;
			if (last) {
				nd->dir = nd->inode = cur;
				nd->trailing = *e == '/';
				nd->dots = 2;
				return 0;
			}
			continue;
		}
		d = d_lookup(ns, cur, c, n);
		/* a trailing slash, like a later component, follows a link */
		if (d && S_ISLNK(d->inode->mode) &&
		    (!last || nd->follow == WALK_FOLLOW || (*e == '/' && nd->follow != WALK_PARENT)))
			return follow_link(ns, cur, d->inode, e, nd);
		if (last) {
			nd->dir = cur;
			nd->last = c;
			nd->lastlen = n;
			nd->inode = d ? d->inode : NULL;
			nd->trailing = *e == '/';
			return 0;
		}
		if (!d)
			return -ENOENT;
		if (!S_ISDIR(d->inode->mode))
			return -ENOTDIR;
		cur = d->inode;
	}
}

static int walk(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
		struct nameidata *nd, int follow)
{
	for (int hops = 0;; hops++) {
		int r;

		memset(nd, 0, offsetof(struct nameidata, buf));
		nd->follow = follow;
		r = walk_once(ns, cr, start, path, nd);
		if (r != -REDIRECT)
			return r;
		if (hops == MAXSYMLINKS)
			return -ELOOP;
		path = nd->buf;
		start = 0;
	}
}

/* --- operations ---------------------------------------------------------- */

static void dir_touch(struct ns_inode *dir)
{
	dir->mtime_ns = dir->ctime_ns = ns_now();
}

static int may_open(const struct shx_cred *cr, struct ns_inode *ip, int flags)
{
	int mask = 0;

	if (flags & O_PATH)
		return 0;
	switch (flags & O_ACCMODE) {
	case O_RDONLY: mask = MAY_READ; break;
	case O_WRONLY: mask = MAY_WRITE; break;
	default: mask = MAY_READ | MAY_WRITE; break;
	}
	if (flags & O_TRUNC)
		mask |= MAY_WRITE;
	if (S_ISDIR(ip->mode) && (mask & MAY_WRITE))
		return -EISDIR;
	return permission(cr, ip, mask);
}

/* shmem_mknod: a new inode of `mode` under the walk's last name, in a
 * directory that is alive and writable. */
static int mknod_at(struct ns *ns, const struct shx_cred *cr, struct nameidata *nd, mode_t mode,
		    struct ns_inode **ipp)
{
	struct ns_inode *ip;
	int r;

	if (!nd->dir->nlink) /* IS_DEADDIR */
		return -ENOENT;
	r = permission(cr, nd->dir, MAY_WRITE | MAY_EXEC);
	if (r < 0)
		return r;
	ip = new_inode(ns, cr, nd->dir, nd->dir->dev, mode, &r);
	if (!ip)
		return r;
	r = d_add(ns, nd->dir, nd->last, nd->lastlen, ip);
	if (r < 0) {
		free_inode(ns, ip);
		return r;
	}
	ip->nlink = 1;
	if (S_ISDIR(mode)) {
		ip->nlink = 2;
		ip->parent = nd->dir;
		nd->dir->nlink++;
	}
	dir_touch(nd->dir);
	*ipp = ip;
	return 0;
}

/* The O_TMPFILE open: an inode with no name, held by its opener. */
static int open_tmpfile(struct ns *ns, const struct shx_cred *cr, struct nameidata *nd,
			int flags, mode_t mode, struct ns_inode **ip)
{
	struct ns_inode *dir = nd->inode;
	int r;

	if (!dir)
		return -ENOENT;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	r = permission(cr, dir, MAY_WRITE | MAY_EXEC);
	if (r < 0)
		return r;
	*ip = new_inode(ns, cr, dir, dir->dev, S_IFREG | (mode & 07777), &r);
	if (!*ip)
		return r;
	(*ip)->linkable = !(flags & O_EXCL); /* I_LINKABLE */
	ns_hold(*ip);
	return 1;
}

/* path_openat, open_last_lookups, do_open */
int ns_open(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	    int flags, mode_t mode, struct ns_inode **ipp)
{
	struct nameidata nd;
	struct ns_inode *ip;
	int r, created = 0;

	if ((flags & O_CREAT) && (flags & O_DIRECTORY) && !(flags & O_PATH))
		return -EINVAL;
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	/* build_open_flags: O_TMPFILE needs write access, whatever the path */
	if ((flags & O_TMPFILE) == O_TMPFILE && !(flags & (O_WRONLY | O_RDWR)))
		return -EINVAL;
	r = walk(ns, cr, start, path, &nd,
		 !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL));
	if (r < 0)
		return r;
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return open_tmpfile(ns, cr, &nd, flags, mode, ipp);
	ip = nd.inode;
	if (flags & O_CREAT) {
		/* do_open: the mount root, "." and ".." exist and are
		 * directories */
		if (!nd.last)
			return (nd.trailing && !nd.dots) || !(flags & O_EXCL) ? -EISDIR : -EEXIST;
		if (nd.trailing)
			return -EISDIR;
		if (ip && (flags & O_EXCL))
			return -EEXIST;
		if (!ip) {
			r = mknod_at(ns, cr, &nd, S_IFREG | (mode & 07777), &ip);
			if (r < 0)
				return r;
			created = 1;
		}
	}
	if (!ip)
		return -ENOENT;
	/* not followed (O_NOFOLLOW): only O_PATH may open the link itself */
	if (S_ISLNK(ip->mode) && (!(flags & O_PATH) || (flags & O_DIRECTORY)))
		return (flags & O_DIRECTORY) ? -ENOTDIR : -ELOOP;
	if (nd.trailing && !S_ISDIR(ip->mode))
		return -ENOTDIR;
	if ((flags & O_DIRECTORY) && !S_ISDIR(ip->mode))
		return -ENOTDIR;
	if (S_ISDIR(ip->mode) && (flags & O_CREAT))
		return -EISDIR;
	if (!created) {
		r = may_open(cr, ip, flags);
		if (r < 0)
			return r;
		/* handle_truncate */
		if ((flags & O_TRUNC) && S_ISREG(ip->mode) && !(flags & O_PATH)) {
			if (ns->pg_hook)
				ns->pg_hook(ns->pg_ctx, ip, NS_PG_TRUNC, 0, NULL);
			if (ftruncate(ip->memfd, 0) < 0)
				return -errno;
			ns_sync(ns, ip);
		}
	}
	ns_hold(ip);
	*ipp = ip;
	return created;
}

int ns_open_fd(struct ns *ns, struct ns_inode *ip, int flags)
{
	char path[64];
	int fd;

	/* A directory's fd is a placeholder: a real, empty directory, so
	 * that read() gives EISDIR and fchdir() has something to enter; the
	 * client lists the managed directory itself. */
	if (S_ISDIR(ip->mode)) {
		fd = open(ns->placeholder, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (flags & O_PATH));
	} else if (special(ip->mode)) {
		/* the client opens the real node itself through this O_PATH
		 * fd, so that a FIFO's open blocks in the client, not here */
		char node[SHX_PATH_MAX];
		int r = ns_node_path(ns, ip, node, sizeof(node));

		if (r < 0)
			return r;
		fd = open(node, O_PATH | O_CLOEXEC);
	} else {
		snprintf(path, sizeof(path), "%d", ip->memfd);
		fd = openat(ns->procfd, path, (flags & SHX_FD_KEEP_FLAGS) | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

/* do_unlinkat, vfs_unlink; do_rmdir for AT_REMOVEDIR */
int ns_unlink(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	      int flags)
{
	int rmdir = flags & AT_REMOVEDIR;
	struct nameidata nd;
	struct ns_dentry *d;
	struct ns_inode *ip;
	int r = walk(ns, cr, start, path, &nd, WALK_PARENT);

	if (r < 0)
		return r;
	if (!nd.last) {
		if (!rmdir)
			return -EISDIR;
		/* do_rmdir: LAST_DOT, LAST_DOTDOT, LAST_ROOT */
		return nd.dots == 1 ? -EINVAL : nd.dots == 2 ? -ENOTEMPTY : -EBUSY;
	}
	if (!nd.inode)
		return -ENOENT;
	ip = nd.inode;
	if (nd.trailing && !rmdir)
		return S_ISDIR(ip->mode) ? -EISDIR : -ENOTDIR;
	r = may_delete(cr, nd.dir, ip);
	if (r < 0)
		return r;
	if (rmdir && !S_ISDIR(ip->mode))
		return -ENOTDIR;
	if (!rmdir && S_ISDIR(ip->mode))
		return -EISDIR;
	if (rmdir) {
		if (ip->nentries)
			return -ENOTEMPTY;
		nd.dir->nlink--;
		ip->nlink = 1; /* its "." goes with it */
	}
	d = d_lookup(ns, nd.dir, nd.last, nd.lastlen);
	d_delete(ns, d);
	dir_touch(nd.dir);
	ip->nlink--;
	ip->ctime_ns = ns_now();
	if (ip->nlink == 0 && ip->holders == 0)
		free_inode(ns, ip);
	return 0;
}

int ns_lookup(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	      int follow, struct ns_inode **ip)
{
	struct nameidata nd;
	int r = walk(ns, cr, start, path, &nd, follow ? WALK_FOLLOW : WALK_NOFOLLOW);

	if (r < 0)
		return r;
	if (!nd.inode)
		return -ENOENT;
	if (nd.trailing && !S_ISDIR(nd.inode->mode))
		return -ENOTDIR;
	*ip = nd.inode;
	return 0;
}

/* do_faccessat */
int ns_access(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	      int mode, int flags)
{
	struct ns_inode *ip;
	int r;

	/* AT_EMPTY_PATH: the inode itself (faccessat of an fd, fexecve) */
	if (!path[0] && (flags & AT_EMPTY_PATH))
		r = (ip = ns_iget(ns, start)) ? 0 : -EBADF;
	else
		r = ns_lookup(ns, cr, start, path, !(flags & AT_SYMLINK_NOFOLLOW), &ip);
	if (r < 0 || mode == F_OK)
		return r;
	return permission(cr, ip, ((mode & R_OK) ? MAY_READ : 0) | ((mode & W_OK) ? MAY_WRITE : 0) |
					  ((mode & X_OK) ? MAY_EXEC : 0));
}

static void attr_ids(const struct ns_inode *ip, struct shx_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->dev = ip->dev;
	a->ino = ip->ino;
	a->mode = ip->mode;
	a->nlink = ip->nlink;
	a->uid = ip->uid;
	a->gid = ip->gid;
}

void ns_getattr_new(const struct ns_inode *ip, struct shx_attr *a)
{
	attr_ids(ip, a);
	a->atime_ns = ip->atime_ns;
	a->mtime_ns = ip->mtime_ns;
	a->ctime_ns = ip->ctime_ns;
}

int ns_getattr(struct ns *ns, struct ns_inode *ip, struct shx_attr *a)
{
	struct stat st;

	attr_ids(ip, a);
	if (S_ISREG(ip->mode)) {
		if (fstat(ip->memfd, &st) < 0)
			return -errno;
		a->size = st.st_size;
		a->blocks = st.st_blocks;
		a->atime_ns = st.st_atim.tv_sec * 1000000000LL + st.st_atim.tv_nsec;
		a->mtime_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		a->ctime_ns = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
		if (ns->pg_hook)
			ns->pg_hook(ns->pg_ctx, ip, NS_PG_ATTR, 0, a);
		if (a->ctime_ns < ip->ctime_ns)
			a->ctime_ns = ip->ctime_ns;
	} else if (S_ISLNK(ip->mode)) {
		a->size = strlen(ip->target);
		/* shmem_symlink: a target longer than SHORT_SYMLINK_LEN takes a page */
		a->blocks = a->size > 128 ? 4096 / 512 : 0;
		a->atime_ns = ip->atime_ns;
		a->mtime_ns = ip->mtime_ns;
		a->ctime_ns = ip->ctime_ns;
	} else {
		/* tmpfs: a directory's size grows by BOGO_DIRENT_SIZE per entry */
		if (S_ISDIR(ip->mode))
			a->size = (ip->nentries + 2) * 20;
		a->rdev = ip->rdev;
		a->atime_ns = ip->atime_ns;
		a->mtime_ns = ip->mtime_ns;
		a->ctime_ns = ip->ctime_ns;
	}
	(void)ns;
	return 0;
}

/* --- setattr: setattr_prepare, notify_change, shmem_setattr ------------- */

static int owner_or_cap(const struct shx_cred *cr, const struct ns_inode *ip)
{
	return cr->uid == 0 || cr->uid == ip->uid;
}

static int set_times(struct ns_inode *ip, const struct shx_req *q)
{
	int64_t now = ns_now();
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	const int64_t t[2] = { q->atime_ns, q->mtime_ns };

	for (int i = 0; i < 2; i++) {
		if (!(q->flags & (i ? SHX_SET_MTIME : SHX_SET_ATIME)))
			continue;
		if (t[i] == SHX_TIME_NOW)
			ts[i] = (struct timespec){ 0, UTIME_NOW };
		else
			ts[i] = (struct timespec){ t[i] / 1000000000, t[i] % 1000000000 };
		if (ts[i].tv_nsec < 0) {
			ts[i].tv_sec--;
			ts[i].tv_nsec += 1000000000;
		}
	}
	/* A file's times are its memfd's, which the kernel keeps. */
	if (S_ISREG(ip->mode))
		return futimens(ip->memfd, ts) < 0 ? -errno : 0;
	for (int i = 0; i < 2; i++) {
		int64_t v = ts[i].tv_nsec == UTIME_OMIT ? -1
			    : ts[i].tv_nsec == UTIME_NOW ? now
							 : ts[i].tv_sec * 1000000000 + ts[i].tv_nsec;

		if (v != -1)
			*(i ? &ip->mtime_ns : &ip->atime_ns) = v;
	}
	return 0;
}

int ns_setattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip,
	       const struct shx_req *q)
{
	unsigned f = q->flags;
	int r;

	if (f & SHX_SET_SIZE) {
		uint64_t granted;

		if (S_ISDIR(ip->mode))
			return -EISDIR;
		if ((int64_t)q->size < 0)
			return -EINVAL;
		r = permission(cr, ip, MAY_WRITE);
		if (r < 0)
			return r;
		r = ns_reserve(ns, ip, q->size, 0, &granted);
		if (r < 0)
			return r;
		if (ns->pg_hook)
			ns->pg_hook(ns->pg_ctx, ip, NS_PG_TRUNC, q->size, NULL);
		if (ftruncate(ip->memfd, q->size) < 0)
			r = -errno;
		ns_sync(ns, ip);
		return r;
	}
	/* inode_owner_or_capable for chmod and explicit times; chown needs
	 * CAP_CHOWN, or is the owner changing the group to one of its own */
	if ((f & SHX_SET_MODE) && !owner_or_cap(cr, ip))
		return -EPERM;
	/* a symlink's mode cannot change (fchmodat AT_SYMLINK_NOFOLLOW) */
	if ((f & SHX_SET_MODE) && S_ISLNK(ip->mode))
		return -EOPNOTSUPP;
	/* (an id of -1 is no change, as chown(2) says) */
	if ((f & SHX_SET_UID) && q->uid != (uint32_t)-1 && q->uid != ip->uid && cr->uid != 0)
		return -EPERM;
	if ((f & SHX_SET_GID) && q->gid != (uint32_t)-1 && q->gid != ip->gid && cr->uid != 0 &&
	    (cr->uid != ip->uid || q->gid != cr->gid))
		return -EPERM;
	if (f & (SHX_SET_ATIME | SHX_SET_MTIME)) {
		int now = (!(f & SHX_SET_ATIME) || q->atime_ns == SHX_TIME_NOW) &&
			  (!(f & SHX_SET_MTIME) || q->mtime_ns == SHX_TIME_NOW);

		/* utimensat: "now" needs write access, any other time ownership */
		if (!owner_or_cap(cr, ip) && (!now || permission(cr, ip, MAY_WRITE) < 0))
			return now ? -EACCES : -EPERM;
		r = set_times(ip, q);
		if (r < 0)
			return r;
	}
	if (f & SHX_SET_MODE) {
		ip->mode = (ip->mode & S_IFMT) | (q->mode & 07777);
		/* setattr_should_drop_sgid: not in the group, not capable */
		if (cr->uid != 0 && cr->gid != ip->gid)
			ip->mode &= ~S_ISGID;
	}
	if (f & (SHX_SET_UID | SHX_SET_GID)) {
		if ((f & SHX_SET_UID) && q->uid != (uint32_t)-1)
			ip->uid = q->uid;
		if ((f & SHX_SET_GID) && q->gid != (uint32_t)-1)
			ip->gid = q->gid;
		/* chown clears set-user-ID, and set-group-ID with group exec */
		if (!S_ISDIR(ip->mode)) {
			ip->mode &= ~S_ISUID;
			if (ip->mode & S_IXGRP)
				ip->mode &= ~S_ISGID;
		}
	}
	ip->ctime_ns = ns_now();
	return 0;
}

/* --- mkdir, link: do_mkdirat, do_linkat, shmem_mkdir, shmem_link -------- */

int ns_mkdir(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	     mode_t mode)
{
	struct nameidata nd;
	struct ns_inode *ip;
	int r = walk(ns, cr, start, path, &nd, WALK_PARENT);

	if (r < 0)
		return r;
	if (!nd.last || nd.inode)
		return -EEXIST;
	/* vfs_mkdir: only the permission bits and the sticky bit */
	return mknod_at(ns, cr, &nd, S_IFDIR | (mode & 01777), &ip);
}

/* do_mknodat, may_mknod, vfs_mknod, shmem_mknod */
int ns_mknod(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	     mode_t mode, uint64_t rdev, struct ns_inode **ipp)
{
	char node[SHX_PATH_MAX];
	struct nameidata nd;
	struct ns_inode *ip;
	int r;

	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	r = walk(ns, cr, start, path, &nd, WALK_PARENT);
	if (r < 0)
		return r;
	if (!nd.last || nd.inode)
		return -EEXIST;
	if (nd.trailing) /* filename_create: a trailing slash asks for a directory */
		return -ENOENT;
	if (!nd.dir->nlink)
		return -ENOENT;
	r = permission(cr, nd.dir, MAY_WRITE | MAY_EXEC); /* may_create */
	if (r < 0)
		return r;
	if ((S_ISCHR(mode) || S_ISBLK(mode)) && cr->uid != 0) /* CAP_MKNOD */
		return -EPERM;
	if (special(mode) && !ns->nodes[0])
		return -EPERM;
	r = mknod_at(ns, cr, &nd, mode & (S_IFMT | 07777), &ip);
	if (r < 0)
		return r;
	ip->rdev = S_ISCHR(mode) || S_ISBLK(mode) ? rdev : 0;
	/* the real node: a socket's is made by the client's bind */
	if (special(mode) && !S_ISSOCK(mode)) {
		r = ns_node_path(ns, ip, node, sizeof(node));
		if (r == 0 && mknod(node, (mode & S_IFMT) | 0600, ip->rdev) < 0)
			r = -errno;
		if (r < 0) {
			struct ns_dentry *d = d_lookup(ns, nd.dir, nd.last, nd.lastlen);

			d_delete(ns, d);
			ip->nlink = 0;
			free_inode(ns, ip);
			return r == -EEXIST ? -EIO : r;
		}
	}
	*ipp = ip;
	return 0;
}

int ns_find_socket(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
		   struct ns_inode **ipp)
{
	struct ns_inode *ip;
	int r = ns_lookup(ns, cr, start, path, 1, &ip);

	if (r == 0)
		r = permission(cr, ip, MAY_WRITE);
	if (r == 0 && !S_ISSOCK(ip->mode))
		r = -ECONNREFUSED;
	if (r == 0)
		*ipp = ip;
	return r;
}

int ns_set_nodes(struct ns *ns, const char *dir)
{
	DIR *d;
	struct dirent *e;

	if (strlen(dir) >= sizeof(ns->nodes))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	/* what a manager before us left (it held the lock, and is gone) */
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	strcpy(ns->nodes, dir);
	return 0;
}

/* may_linkat, with fs.protected_hardlinks: only the owner (or root) may
 * link a file that is not a plain regular one the caller may read and
 * write (safe_hardlink_source). */
static int may_linkat(const struct ns *ns, const struct shx_cred *cr, const struct ns_inode *ip)
{
	if (!ns->protected_hardlinks || cr->uid == 0 || cr->uid == ip->uid)
		return 0;
	if (S_ISREG(ip->mode) && !(ip->mode & S_ISUID) &&
	    (ip->mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
	    permission(cr, ip, MAY_READ | MAY_WRITE) == 0)
		return 0;
	return -EPERM;
}

int ns_link(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *from,
	    uint64_t start2, const char *to, int follow)
{
	struct nameidata *o = malloc(sizeof(*o)), *n = malloc(sizeof(*n));
	struct ns_inode *ip;
	int r;

	if (!o || !n) {
		r = -ENOMEM;
		goto out;
	}
	/* an empty source names the inode itself (AT_EMPTY_PATH on an fd) */
	memset(o, 0, offsetof(struct nameidata, buf));
	o->inode = from[0] ? NULL : ns_iget(ns, start);
	r = from[0] ? walk(ns, cr, start, from, o, follow ? WALK_FOLLOW : WALK_PARENT) : 0;
	if (r == 0)
		r = walk(ns, cr, start2, to, n, WALK_PARENT);
	if (r < 0)
		goto out;
	ip = o->inode;
	r = -ENOENT;
	if (!ip)
		goto out;
	r = -ENOTDIR;
	if (o->trailing && !S_ISDIR(ip->mode))
		goto out;
	r = -EEXIST;
	if (!n->last || n->inode)
		goto out;
	r = -EXDEV;
	if (ip->dev != n->dir->dev)
		goto out;
	r = may_linkat(ns, cr, ip);
	if (r < 0)
		goto out;
	r = -ENOENT; /* do_linkat refuses a trailing slash on the new name */
	if (n->trailing || !n->dir->nlink)
		goto out;
	r = permission(cr, n->dir, MAY_WRITE | MAY_EXEC);
	if (r < 0)
		goto out;
	r = -EPERM;
	if (S_ISDIR(ip->mode))
		goto out;
	r = -ENOENT; /* unlinked, or an O_TMPFILE inode opened O_EXCL */
	if (ip->nlink == 0 && !ip->linkable)
		goto out;
	r = d_add(ns, n->dir, n->last, n->lastlen, ip);
	if (r < 0)
		goto out;
	ip->nlink++;
	ip->linkable = 0;
	ip->ctime_ns = ns_now();
	dir_touch(n->dir);
out:
	free(o);
	free(n);
	return r;
}

/* --- symlinks: do_symlinkat, shmem_symlink, do_readlinkat --------------- */

int ns_symlink(struct ns *ns, const struct shx_cred *cr, const char *target, uint64_t start,
	       const char *path)
{
	struct nameidata nd;
	struct ns_inode *ip;
	char *copy;
	int r;

	if (!target[0])
		return -ENOENT;
	r = walk(ns, cr, start, path, &nd, WALK_PARENT);
	if (r < 0)
		return r;
	if (!nd.last || nd.inode)
		return -EEXIST;
	if (nd.trailing)
		return -ENOENT;
	copy = strdup(target);
	if (!copy)
		return -ENOMEM;
	r = mknod_at(ns, cr, &nd, S_IFLNK | 0777, &ip);
	if (r < 0) {
		free(copy);
		return r;
	}
	ip->target = copy;
	return 0;
}

int ns_readlink(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
		const char **target)
{
	struct ns_inode *ip;
	int r = path[0] ? ns_lookup(ns, cr, start, path, 0, &ip)
			: (ip = ns_iget(ns, start)) ? 0 : -ENOENT;

	if (r < 0)
		return r;
	if (!S_ISLNK(ip->mode))
		return path[0] ? -EINVAL : -ENOENT;
	*target = ip->target;
	return 0;
}

/* --- rename: do_renameat2, vfs_rename, shmem_rename2 --------------------- */

static int is_ancestor(const struct ns_inode *dir, const struct ns_inode *ip)
{
	for (; dir; dir = dir->parent)
		if (dir == ip)
			return 1;
	return 0;
}

static int may_create_in(const struct shx_cred *cr, const struct ns_inode *dir)
{
	return permission(cr, dir, MAY_WRITE | MAY_EXEC);
}

static void move_dentry(struct ns *ns, struct ns_dentry *d, struct ns_inode *dir,
			const char *name, size_t len, int *err)
{
	struct ns_inode *ip = d->inode;

	d_delete(ns, d);
	*err = d_add(ns, dir, name, len, ip);
	if (S_ISDIR(ip->mode))
		ip->parent = dir;
}

int ns_rename(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *from,
	      uint64_t start2, const char *to, unsigned flags)
{
	struct nameidata *o = malloc(sizeof(*o)), *n = malloc(sizeof(*n));
	struct ns_inode *src, *dst;
	struct ns_dentry *od, *nd;
	int r, exchange = flags & RENAME_EXCHANGE;

	if (!o || !n) {
		r = -ENOMEM;
		goto out;
	}
	r = -EINVAL;
	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    ((flags & RENAME_NOREPLACE) && exchange))
		goto out;
	r = walk(ns, cr, start, from, o, WALK_PARENT);
	if (r == 0)
		r = walk(ns, cr, start2, to, n, WALK_PARENT);
	if (r < 0)
		goto out;
	/* different mounts: different file systems */
	r = -EXDEV;
	if (o->dir->dev != n->dir->dev)
		goto out;
	/* A mount root's parent is in another file system... */
	if ((!o->last && !o->dots) || (!n->last && !n->dots))
		goto out;
	/* ...while "." and ".." are busy (LAST_DOT, LAST_DOTDOT) */
	r = -EBUSY;
	if (!o->last || !n->last)
		goto out;
	src = o->inode;
	dst = n->inode;
	r = -ENOENT;
	if (!src || (exchange && !dst))
		goto out;
	r = -EEXIST;
	if ((flags & RENAME_NOREPLACE) && dst)
		goto out;
	r = -ENOTDIR;
	if (!S_ISDIR(src->mode) && (o->trailing || (n->trailing && !exchange)))
		goto out;
	if (exchange && dst && !S_ISDIR(dst->mode) && n->trailing)
		goto out;
	r = 0;
	if (src == dst)
		goto out;
	r = may_delete(cr, o->dir, src);
	if (r == 0)
		r = dst ? may_delete(cr, n->dir, dst) : may_create_in(cr, n->dir);
	if (r < 0)
		goto out;
	/* a directory cannot move under itself */
	r = -EINVAL;
	if (S_ISDIR(src->mode) && is_ancestor(n->dir, src))
		goto out;
	if (exchange && S_ISDIR(dst->mode) && is_ancestor(o->dir, dst))
		goto out;
	if (dst && !exchange) {
		r = S_ISDIR(src->mode) ? -ENOTDIR : -EISDIR;
		if (!!S_ISDIR(src->mode) != !!S_ISDIR(dst->mode))
			goto out;
		r = -ENOTEMPTY;
		if (S_ISDIR(dst->mode) && dst->nentries)
			goto out;
	}
	/* a directory needs write access to itself to change its ".." */
	if (o->dir != n->dir) {
		if (S_ISDIR(src->mode) && (r = permission(cr, src, MAY_WRITE)) < 0)
			goto out;
		if (exchange && S_ISDIR(dst->mode) && (r = permission(cr, dst, MAY_WRITE)) < 0)
			goto out;
	}
	od = d_lookup(ns, o->dir, o->last, o->lastlen);
	nd = dst ? d_lookup(ns, n->dir, n->last, n->lastlen) : NULL;
	r = 0;
	if (exchange) {
		/* swap what the two names point at */
		od->inode = dst;
		nd->inode = src;
		if (src->dentry == od)
			src->dentry = nd;
		if (dst->dentry == nd)
			dst->dentry = od;
		if (S_ISDIR(src->mode) != S_ISDIR(dst->mode)) {
			o->dir->nlink += S_ISDIR(dst->mode) ? 1 : -1;
			n->dir->nlink += S_ISDIR(src->mode) ? 1 : -1;
		}
		if (S_ISDIR(src->mode))
			src->parent = n->dir;
		if (S_ISDIR(dst->mode))
			dst->parent = o->dir;
		dst->ctime_ns = ns_now();
	} else {
		if (dst) {
			d_delete(ns, nd);
			dst->nlink -= S_ISDIR(dst->mode) ? 2 : 1;
			if (S_ISDIR(dst->mode))
				n->dir->nlink--;
			dst->ctime_ns = ns_now();
			if (dst->nlink == 0 && dst->holders == 0)
				free_inode(ns, dst);
		}
		if (S_ISDIR(src->mode) && o->dir != n->dir) {
			o->dir->nlink--;
			n->dir->nlink++;
		}
		move_dentry(ns, od, n->dir, n->last, n->lastlen, &r);
	}
	src->ctime_ns = ns_now();
	dir_touch(o->dir);
	dir_touch(n->dir);
out:
	free(o);
	free(n);
	return r;
}

static int emit(struct shx_rep *rep, uint64_t ino, uint64_t cookie, unsigned type,
		const char *name, size_t len)
{
	struct shx_dirent d = { .ino = ino, .cookie = cookie, .type = type, .namelen = len };

	memcpy(d.name, name, len);
	return shx_dirent_append(rep, &d);
}

static struct ns_mount *mount_of(struct ns *ns, const struct ns_inode *root)
{
	if (root->root_of)
		return &ns->mounts[root->root_of - 1];
	for (int i = 0; i < ns->nmounts; i++)
		if (ns->mounts[i].root == root)
			return &ns->mounts[i];
	return NULL;
}

/* offset_iterate_dir (simple_offset, as of Linux 6.14): a directory lists
 * its entries newest first -- the order of its d_children -- and a
 * listing resumes at the newest entry not newer than where it stopped: an
 * entry made during a listing is not seen by it, one removed before it was
 * reached never is, one renamed is new.  A cookie is where to resume:
 * "." is 0, ".." 1; an entry's position is TOP - its offset, so that
 * positions grow along a listing; a record's cookie is the position of
 * what comes after it. */
#define TOP (UINT64_C(1) << 62)

static uint64_t position(const struct ns_dentry *d)
{
	return TOP - d->offset;
}

int ns_readdir(struct ns *ns, struct ns_inode *dir, uint64_t cookie, struct shx_rep *rep)
{
	/* Only a removed directory (nlink 0) lists nothing past the dots. */
	struct ns_dentry *d = dir->nlink ? dir->last : NULL;

	(void)ns;
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	rep->datalen = 0;
	rep->hflags &= ~SHX_HF_EOF;
	if (cookie == 0) {
		if (emit(rep, dir->ino, 1, DT_DIR, ".", 1) < 0)
			goto full;
		cookie = 1;
	}
	if (cookie == 1) {
		/* a mount root's ".." is itself, as dcache_readdir says; what
		 * follows is what is newest now */
		uint64_t up = dir->parent ? dir->parent->ino : dir->ino;

		cookie = d ? position(d) : TOP;
		if (emit(rep, up, cookie, DT_DIR, "..", 2) < 0) {
			cookie = 1;
			goto full;
		}
	}
	while (d && position(d) < cookie)
		d = d->prev;
	for (; d; d = d->prev) {
		uint64_t next = d->prev ? position(d->prev) : position(d) + 1;

		if (emit(rep, d->inode->ino, next, IFTODT(d->inode->mode), d->name, d->namelen) <
		    0)
			goto full;
		cookie = next;
	}
	rep->hflags |= SHX_HF_EOF;
full:
	rep->value = cookie;
	return 0;
}

int ns_chdir(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip)
{
	(void)ns;
	if (!S_ISDIR(ip->mode))
		return -ENOTDIR;
	return permission(cr, ip, MAY_EXEC);
}

/* Builds the path from the inode's first name up to its mount. */
size_t ns_path(struct ns *ns, struct ns_inode *ip, char *buf, size_t cap)
{
	char tmp[SHX_PATH_MAX];
	size_t o = sizeof(tmp) - 1;
	struct ns_mount *m;

	tmp[o] = 0;
	while (ip->dentry) {
		struct ns_dentry *d = ip->dentry;

		if (o < (size_t)d->namelen + 1)
			return buf[0] = 0;
		o -= d->namelen;
		memcpy(tmp + o, d->name, d->namelen);
		tmp[--o] = '/';
		ip = d->parent;
	}
	m = mount_of(ns, ip); /* NULL: the chain ended at an unlinked inode */
	if (!m)
		return buf[0] = 0;
	return (size_t)snprintf(buf, cap, "%s%s", m->prefix, tmp + o);
}

void ns_each(struct ns *ns, void (*fn)(struct ns_inode *ip, void *arg), void *arg)
{
	for (size_t i = 0; i < ns->itab_size; i++)
		for (struct ns_inode *ip = ns->itab[i], *n; ip; ip = n) {
			n = ip->hnext;
			fn(ip, arg);
		}
}

int ns_add_mount(struct ns *ns, const char *prefix)
{
	struct shx_cred cr = { .pid = getpid(), .uid = getuid(), .gid = getgid(), .system = 1 };
	size_t len = strlen(prefix);
	struct ns_mount *m;
	int r, i;

	/* the path classification the walk uses must know the mount too, and
	 * it says whether the prefix can be one (path.h) */
	r = shx_mount_add(prefix);
	if (r < 0)
		return r;
	while (len > 1 && prefix[len - 1] == '/')
		len--;
	for (i = 0; i < ns->nmounts; i++)
		if (ns->mounts[i].len == len && !strncmp(ns->mounts[i].prefix, prefix, len))
			return 0; /* mounted already */
	if ((size_t)ns->nmounts >= sizeof(ns->mounts) / sizeof(ns->mounts[0]))
		return -ENOSPC;
	m = &ns->mounts[ns->nmounts];
	m->len = len;
	m->prefix = strndup(prefix, len);
	if (!m->prefix)
		return -ENOMEM;
	m->root = new_inode(ns, &cr, NULL, makedev(0, SHX_DEV_BASE + ns->nmounts), S_IFDIR | 01777,
			    &r);
	if (!m->root) {
		free(m->prefix);
		return r;
	}
	m->root->nlink = 2;
	ns->nmounts++;
	return 0;
}

int ns_private_root(struct ns *ns, const char *prefix, struct ns_inode **ip)
{
	struct shx_cred cr = { .pid = getpid(), .uid = getuid(), .gid = getgid(), .system = 1 };
	struct ns_mount *m = find_mount(ns, prefix);
	int r;

	if (!m || strlen(prefix) != m->len)
		return -ENOENT;
	*ip = new_inode(ns, &cr, NULL, m->root->dev, m->root->mode, &r);
	if (!*ip)
		return r;
	(*ip)->nlink = 2;
	(*ip)->holders = 1;
	(*ip)->root_of = (int)(m - ns->mounts) + 1;
	return 0;
}

/* Empties a directory, depth first (as rm -rf). */
static void remove_tree(struct ns *ns, struct ns_inode *dir)
{
	while (dir->first) {
		struct ns_dentry *d = dir->first;
		struct ns_inode *ip = d->inode;

		if (S_ISDIR(ip->mode)) {
			remove_tree(ns, ip);
			dir->nlink--;
			ip->nlink = 1;
		}
		d_delete(ns, d);
		ip->nlink--;
		if (ip->nlink == 0 && ip->holders == 0)
			free_inode(ns, ip);
	}
}

void ns_private_root_remove(struct ns *ns, struct ns_inode *root)
{
	remove_tree(ns, root);
	root->nlink = 0;
	ns_release(ns, root);
}

int ns_init(struct ns *ns, const struct shx_config *cfg, const char *placeholder)
{
	memset(ns, 0, sizeof(*ns));
	ns->cfg = *cfg;
	/* shmem_parse_one: size= in whole pages, rounded up; 0 is no limit,
	 * for size= and nr_inodes= alike */
	ns->cfg.size_limit = cfg->size_limit ? page_up(cfg->size_limit) : UINT64_MAX;
	if (!cfg->nr_inodes)
		ns->cfg.nr_inodes = UINT64_MAX;
	ns->placeholder = placeholder;
	quota_init(&ns->quota, cfg);
	/* memfds are opened again through here: /proc/self/fd/N, resolved
	 * once */
	if (itab_resize(ns, 256) < 0 || dtab_resize(ns, 256) < 0)
		return -ENOMEM;
	ns->procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return ns->procfd < 0 ? -errno : 0;
}

static void drop(struct ns_inode *ip, void *arg)
{
	struct ns *ns = arg;

	while (ip->first)
		d_delete(ns, ip->first);
}

void ns_destroy(struct ns *ns)
{
	ns_each(ns, drop, ns);
	for (size_t i = 0; i < ns->itab_size; i++)
		while (ns->itab[i])
			free_inode(ns, ns->itab[i]);
	ns_reap(ns);
	while (ns->npool > 0)
		close(ns->pool[--ns->npool].fd);
	for (int i = 0; i < ns->nmounts; i++)
		free(ns->mounts[i].prefix);
	free(ns->itab);
	free(ns->dtab);
	close(ns->procfd);
	quota_destroy(&ns->quota);
}
