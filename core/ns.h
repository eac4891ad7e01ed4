/* ns.h -- the namespace: shmemd's tmpfs.
 *
 * One tree per managed mount.  Each inode is backed by a memfd owned by
 * the manager; its kernel inode number is the object's inode number, so a
 * client can tell which object an fd refers to with fstat alone.  Space is
 * charged by reservation (ns_reserve) against the size limit, inodes
 * against nr_inodes.  All functions return 0 or -errno, as the kernel's
 * tmpfs would for the same call; names follow mm/shmem.c and fs/namei.c.
 */
#ifndef SHX_NS_H
#define SHX_NS_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "path.h"
#include "proto.h"
#include "quota.h"

struct shx_cred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	/* quotas: the app the sender runs under (NULL: none); system: an
	 * inode of the manager's own (a mount's root), charged to no user */
	struct quota_group *app;
	int system;
};

struct ns_inode;
struct ns_xattr;
struct sysv_seg;

/* shmem's BOGO_INODE_SIZE: what an inode takes of the inode space, which
 * user.* xattrs share (nr_inodes of it) */
#define NS_BOGO_INODE_SIZE 1024

struct ns_dentry {
	struct ns_dentry *hnext;	   /* hash chain */
	struct ns_dentry *prev, *next;	   /* the parent's entries, oldest first */
	struct ns_inode *parent, *inode;
	uint64_t offset;		   /* readdir cookie, stable for life */
	uint8_t namelen;
	char name[];
};

struct ns_inode {
	uint64_t ino;
	uint64_t dev;	   /* st_dev of its mount */
	uint32_t mode, nlink, uid, gid;
	int memfd;
	uint64_t charged;  /* bytes reserved against the size limit */
	uint64_t swapped;  /* bytes of it in swap files (paging) */
	/* quotas: the groups it is charged to (core/quota.h), and the
	 * highest end a holder was granted and may still write up to
	 * without asking, below which a recount never goes */
	struct quota_group *quser, *qapp;
	uint64_t floor;
	uint64_t appending; /* holders' unspent append budgets (bytes), paid for too */
	/* an app's private root of a mount (shmemctl run --private-tmp):
	 * 1 + the index of the mount it stands for; 0 for every other inode */
	int root_of;
	char *backtrace; /* the stack that created it (SHMEMX_BACKTRACE), or NULL */
	uint32_t holders;  /* client connections holding it open */
	int linkable;	   /* an O_TMPFILE inode that linkat may give a name */
	int unsynced;	   /* in ns->unsynced: its charge is to be recounted (ns_idle) */
	char *target;	   /* symlinks: where it points; sockets: the name they were bound by */
	pid_t creator_pid;
	int64_t created_ns;
	int64_t atime_ns, mtime_ns, ctime_ns; /* directories only: files use the memfd's */
	uint64_t rdev;	   /* character and block devices */
	struct ns_xattr *xattrs; /* in name order (core/xattr.c) */
	struct ns_dentry *dentry; /* one of its names, for listings; NULL once unlinked */
	struct ns_inode *hnext;	  /* ino hash chain */
	/* directories */
	struct ns_inode *parent;
	struct ns_dentry *first, *last;
	uint64_t next_offset;
	uint32_t nentries;
	/* the System V segment this nameless inode backs (core/sysv.c) */
	struct sysv_seg *seg;
};

struct ns_mount {
	char *prefix;
	size_t len;
	struct ns_inode *root;
};

/* Paths are absolute, or relative to the directory inode `start` (a
 * client's managed directory fd). */
#define SHX_DEV_BASE 0xfffe0 /* st_dev of mount i: makedev(0, SHX_DEV_BASE + i) */

struct ns {
	struct shx_config cfg;
	const char *placeholder; /* an empty directory: the fd behind an open directory */
	char nodes[SHX_PATH_MAX]; /* where FIFOs, devices and sockets have their real
				     nodes, named by inode number; "" for none */
	int procfd;		 /* /proc/self/fd */
	char escape[SHX_PATH_MAX]; /* the real path of the last -SHX_EESCAPE */
	struct ns_mount mounts[SHX_MNT_MAX];
	int nmounts;
	uint64_t size_used, inodes_used, objects;
	uint64_t xattr_space; /* taken by user.* xattrs of the inode space */
	struct quota quota;   /* users and apps */
	int short_errno;      /* why the last partial ns_reserve granted less */
	int protected_hardlinks; /* fs.protected_hardlinks, as the kernel has it */
	struct ns_inode **itab; /* by ino */
	size_t itab_size;
	struct ns_dentry **dtab; /* by (parent, name) */
	size_t dtab_size, ndentries;
	int reap[32]; /* memfds of freed inodes, closed when idle (ns_idle, ns_reap) */
	int nreap;
	struct { int fd; uint64_t ino; } pool[8]; /* new memfds, made while idle (ns_idle) */
	/* regular inodes whose charge a last close left to recount (ns_sync):
	 * later, when idle, or before anything needs it exact */
	struct ns_inode *unsynced[32];
	int nunsynced;
	int npool;
	/* paging (tools/pager.c): told when a regular object is made, is
	 * about to be truncated to `size`, is freed, and when its attributes
	 * are read (swapped pages are blocks too) */
	void (*pg_hook)(void *ctx, struct ns_inode *ip, int ev, uint64_t size, struct shx_attr *a);
	void *pg_ctx;
};
enum { NS_PG_CREATE, NS_PG_TRUNC, NS_PG_FREE, NS_PG_ATTR };

int ns_init(struct ns *ns, const struct shx_config *cfg, const char *placeholder);
void ns_destroy(struct ns *ns);
/* Mounts a new tree at prefix (trailing slashes dropped): 0, also when it
 * is mounted already, or -EINVAL, -EBUSY, -ENOSPC as shx_mount_add says. */
int ns_add_mount(struct ns *ns, const char *prefix);

struct ns_inode *ns_iget(struct ns *ns, uint64_t ino);
/* Closes the memfds of the inodes freed since the last call.  Closing the
 * last fd of a memfd frees its pages, which can take longer than the rest
 * of an unlink; the manager does it after it has answered. */
void ns_reap(struct ns *ns);
/* One piece of what waits for the manager to have nothing else to do: a
 * freed inode's memfd to close (its pages go then: that close can cost
 * more than the unlink did), or a memfd to make for the next creation
 * (memfd_create is most of what a creation costs).  1 if it did one,
 * 0 when nothing is left to do. */
int ns_idle(struct ns *ns);
/* Recounts now what ns_release left for later: before the figures are
 * reported (a refusal for want of space recounts by itself). */
void ns_sync_pending(struct ns *ns);

/* The open(2) of a path under a mount: creates, truncates and checks
 * permissions as the kernel would.  On success *ip is the inode, with one
 * more holder, and the result is 1 if this call created it, else 0. */
int ns_open(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	    int flags, mode_t mode, struct ns_inode **ip);
/* A regular inode with no name, held once by the caller: the memfd of a
 * System V segment.  It is an object like any other (charged, counted,
 * listed in the statistics) and goes with its last holder. */
int ns_create_anon(struct ns *ns, const struct shx_cred *cr, mode_t mode, struct ns_inode **ip);
/* A new open file description of the inode's memfd, with the access mode
 * and status flags of `flags`. */
int ns_open_fd(struct ns *ns, struct ns_inode *ip, int flags);
/* unlinkat(2); with AT_REMOVEDIR, rmdir */
int ns_unlink(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	      int flags);
/* follow: a symlink in the last component is followed (stat, not lstat) */
int ns_lookup(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	      int follow, struct ns_inode **ip);
int ns_access(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	      int mode, int flags);
int ns_getattr(struct ns *ns, struct ns_inode *ip, struct shx_attr *a);
/* ns_getattr of a regular file that ns_open has just created, which
 * nobody has an fd of yet: empty, its times its creation's (no fstat; to
 * the grain of the coarse clock when its memfd came from the pool). */
void ns_getattr_new(const struct ns_inode *ip, struct shx_attr *a);

/* chmod, chown, utimensat, truncate: what q->flags (SHX_SET_*) names,
 * with the permission rules of setattr_prepare. */
int ns_setattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip,
	       const struct shx_req *q);
int ns_mkdir(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	     mode_t mode);
/* Where FIFOs, devices and sockets get their real nodes (a private
 * directory of the manager's, emptied here); without one, mknod of them
 * fails with EPERM. */
int ns_set_nodes(struct ns *ns, const char *dir);
/* mknod(2), mkfifo: a regular file, FIFO, socket or device node; the real
 * node behind it is made too (a socket's is left to the client's bind).
 * *ipp is the new inode. */
int ns_mknod(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
	     mode_t mode, uint64_t rdev, struct ns_inode **ipp);
/* The real node behind a FIFO, device or socket, into buf. */
int ns_node_path(const struct ns *ns, const struct ns_inode *ip, char *buf, size_t cap);
/* connect(2)'s lookup of a socket (unix_find_bsd): write permission, then
 * ECONNREFUSED for anything but a socket. */
int ns_find_socket(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
		   struct ns_inode **ipp);
/* linkat(2): a new name for a file, in the same mount */
int ns_link(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *from,
	    uint64_t start2, const char *to, int follow);
int ns_symlink(struct ns *ns, const struct shx_cred *cr, const char *target, uint64_t start,
	       const char *path);
int ns_readlink(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *path,
		const char **target);
/* renameat2(2) within one mount, RENAME_NOREPLACE and RENAME_EXCHANGE
 * included; -EXDEV across mounts. */
int ns_rename(struct ns *ns, const struct shx_cred *cr, uint64_t start, const char *from,
	      uint64_t start2, const char *to, unsigned flags);
/* Fills rep->data with the entries of a directory from cookie on ("." is
 * cookie 0, ".." cookie 1); rep->value is the cookie to continue with and
 * SHX_HF_EOF is set after the last entry. */
int ns_readdir(struct ns *ns, struct ns_inode *dir, uint64_t cookie, struct shx_rep *rep);

/* Reserves space for the object to extend to `end` bytes.  *granted is
 * the end up to which the space is paid for, at least `end` unless
 * `partial` allowed less (as a short write on a full tmpfs). */
int ns_reserve(struct ns *ns, struct ns_inode *ip, uint64_t end, int partial, uint64_t *granted);
/* Charges `bytes` more (whole pages, or what is free) for appends, which
 * land wherever the end is when they are done; *granted is what was
 * charged, which the caller adds to ip->appending. */
int ns_reserve_append(struct ns *ns, struct ns_inode *ip, uint64_t bytes, uint64_t *granted);
/* Recounts the object's charge from what it really holds, never below
 * ip->floor (what holders may still write without asking). */
void ns_sync(struct ns *ns, struct ns_inode *ip);
/* statfs(2) for the caller: of the manager, the caller's user and app,
 * the byte figures of the one with the least room, and the inode figures
 * of the one with the fewest inodes left. */
void ns_statfs(struct ns *ns, const struct shx_cred *cr, struct shx_stats *st);

void ns_hold(struct ns_inode *ip);
/* Drops a holder that is known not to be the last (no recount). */
void ns_unhold(struct ns_inode *ip);
/* Drops a holder; the inode goes when it has neither names nor holders. */
void ns_release(struct ns *ns, struct ns_inode *ip);

/* chdir(2)'s checks: a directory (ENOTDIR) the caller may search
 * (EACCES). */
int ns_chdir(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip);
/* Writes the absolute path of ip into buf ("" once unlinked). */
size_t ns_path(struct ns *ns, struct ns_inode *ip, char *buf, size_t cap);
/* A private root of the mount at `prefix` (an app's own /tmp): an empty
 * directory like the mount's root, held once, reached by the paths of
 * the mount for the requests of that app (cr->app->private_tmp).  -ENOENT
 * if there is no such mount. */
int ns_private_root(struct ns *ns, const char *prefix, struct ns_inode **ip);
/* Removes everything under a private root, and the root itself (what is
 * still open goes with its last holder, as after rm -rf). */
void ns_private_root_remove(struct ns *ns, struct ns_inode *root);

/* Calls fn for every inode (for listings). */
void ns_each(struct ns *ns, void (*fn)(struct ns_inode *ip, void *arg), void *arg);

int64_t ns_now(void);
/* generic_permission: mask of 4 (read), 2 (write), 1 (search/exec) */
int ns_permission(const struct shx_cred *cr, const struct ns_inode *ip, int mask);

/* xattr.c: getxattr, setxattr, listxattr, removexattr of an inode, as
 * tmpfs does them (the checks of the syscalls themselves -- flags, the
 * name's length, the value's -- are the caller's).  get and list put
 * the length in *len; with cap 0 they only measure. */
int ns_getxattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip, const char *name,
		void *buf, size_t cap, size_t *len);
int ns_setxattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip, const char *name,
		const void *value, size_t size, int flags);
int ns_removexattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip,
		   const char *name);
int ns_listxattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip, char *buf,
		 size_t cap, size_t *len);
void ns_xattr_free(struct ns *ns, struct ns_inode *ip);

#endif
