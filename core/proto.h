/* proto.h -- the wire protocol between libshmemx clients and shmemd.
 *
 * Messages travel over an AF_UNIX SOCK_SEQPACKET socket, one message per
 * packet.  Every message starts with a fixed header (length, opcode, flags,
 * request id) followed by a fixed body and at most one variable field.  All
 * integers are little-endian.  The decoders accept only well-formed messages
 * and return -EBADMSG for anything else; the manager closes the connection
 * of a client that sends one.
 */
#ifndef SHX_PROTO_H
#define SHX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define SHX_PROTO_MAGIC 0x31584853u /* "SHX1" */
#define SHX_PROTO_VERSION 4 /* 2: the channel (SHX_OP_CHAN); 3: HELLO names the app (path2);
				4: self-opens (SHX_HF_SELFOPEN, SHX_OP_REOPEN) */
#define SHX_HDR_LEN 12
#define SHX_PATH_MAX 4096 /* PATH_MAX, including the NUL */
#define SHX_REQ_DATA_MAX 65536 /* a request's data: an xattr value (XATTR_SIZE_MAX) */
#define SHX_REQ_MAX (SHX_HDR_LEN + 56 + 2 * SHX_PATH_MAX + 4) /* without its data */
#define SHX_REQ_PACKET_MAX (SHX_REQ_MAX + SHX_REQ_DATA_MAX)
#define SHX_DATA_MAX 65536 /* a reply's data (XATTR_LIST_MAX, XATTR_SIZE_MAX) */
#define SHX_REP_HEAD 108 /* a reply's fixed part; its data follows */
#define SHX_REP_MAX (SHX_REP_HEAD + SHX_DATA_MAX)

enum shx_op {
	SHX_OP_HELLO = 1, /* size: magic, aux: version -> value: manager pid */
	SHX_OP_OPEN,	  /* path, flags, mode -> attr + fd, value: bytes paid for */
	SHX_OP_CLOSE,	  /* ino; no reply: the client dropped a hold */
	SHX_OP_HOLD,	  /* ino; no reply: the client holds an fd it inherited */
	SHX_OP_UNLINK,	  /* path */
	SHX_OP_STAT,	  /* path -> attr */
	SHX_OP_GETATTR,	  /* ino -> attr */
	SHX_OP_ACCESS,	  /* path, mode (R_OK...), flags (AT_EACCESS) */
	SHX_OP_RESERVE,	  /* ino, size (end offset), flags -> value: granted end */
	SHX_OP_SYNC,	  /* ino: recount the object's charge from its size */
	SHX_OP_READDIR,	  /* ino, size: cookie, aux: room for data -> data: dirents, value: next cookie */
	SHX_OP_STATS,	  /* -> data: one shx_stats record */
	SHX_OP_LS,	  /* size: cookie, aux: room for data -> data: shx_obj records, value: next cookie */
	SHX_OP_SETATTR,	  /* path (relative to ino), or ino alone; flags: SHX_SET_*,
			     mode, uid, gid, atime_ns, mtime_ns, size */
	SHX_OP_RENAME,	  /* ino/path -> size/path2 (start dir, path), flags: RENAME_* */
	SHX_OP_MKDIR,	  /* path, mode (umask applied) */
	SHX_OP_LINK,	  /* ino/path -> size/path2, flags: AT_SYMLINK_FOLLOW */
	SHX_OP_CHDIR,	  /* path, or ino alone -> attr, data: the directory's path */
	SHX_OP_SYMLINK,	  /* path: the new link, path2: its target */
	SHX_OP_READLINK,  /* path -> data: the target */
	SHX_OP_STATFS,	  /* path, or ino alone -> data: one shx_stats record */
	SHX_OP_REALPATH,  /* path -> data: the path with symlinks, "." and ".." resolved */
	/* System V shared memory (core/sysv.c).  In all of them aux is the
	 * key or the shmid, and atime_ns the pid of the fork parent whose
	 * SHMFORK may still be on its way for this process (0: none) */
	SHX_OP_SHMGET,	  /* aux: key, size, flags: shmflg -> value: shmid */
	SHX_OP_SHMAT,	  /* aux: shmid, flags: shmflg -> fd of the segment, value: its size,
			     attr.ino: its memfd's inode */
	SHX_OP_SHMDT,	  /* aux: shmid, ino, size: attachments of it the caller has left,
			     flags: SHX_SHMDT_*; no reply unless atime_ns is set */
	SHX_OP_SHMCTL,	  /* aux: shmid, flags: cmd, uid, gid, mode: IPC_SET's -> value: the
			     result, data: a shx_shmid_ds (the STATs) or shx_shminfo (the INFOs) */
	SHX_OP_SHMFORK,	  /* size: the pid of a child of the caller, which has its attachments */
	SHX_OP_SHMINHERIT, /* aux: shmid, ino, size: the parent's pid; no reply: one attachment
			      the caller has from a fork that fork() did not see (no SHMFORK
			      comes for it) */
	SHX_OP_SHMLIST,	  /* size: index to start from, aux: room for data -> data: shx_shmid_ds
			     records, value: the index to go on from */
	/* /tmp as a complete tmpfs: special files */
	SHX_OP_MKNOD,	  /* path, mode (umask applied), size: rdev, path2: a socket's
			     bind name -> data: the node's real path */
	SHX_OP_SOCKET,	  /* flags SHX_SOCK_CONNECT: path -> data: the socket's real path;
			     SHX_SOCK_NAME: ino -> data: the name it was bound by */
	SHX_OP_XATTR,	  /* path, or ino alone; flags: SHX_XATTR_*, path2: the name,
			     mode: XATTR_CREATE/REPLACE, data: the value, aux: room
			     -> data: value or list, value: its size */
	/* speed */
	SHX_OP_CHAN,	  /* an fd: the connection's channel (chan.h), a sealed memfd */
	/* quotas and statistics (tools/srv_quota.c) */
	SHX_OP_QUOTA,	  /* flags SHX_QUOTA_LIST: size: index to start from, aux: room
			     -> data: shx_group records, value: the index to go on from;
			     SHX_QUOTA_SET: aux: SHX_GROUP_*, uid, path: an app's name,
			     size: byte limit, mtime_ns: inode limit (0: none);
			     SHX_QUOTA_TMP: uid, path: the app, mode: 1 to keep it -> value:
			     the inode of the app's private /tmp, which stays while the
			     sender's connection does (and after, if kept) */
	/* paging (tools/pager.c) */
	SHX_OP_PGTABLE,	  /* -> fd of the page-state table (core/pgstate.h) */
	SHX_OP_SWAPIN,	  /* ino, size: offset, atime_ns: length (-1: all), flags:
			     SHX_SWAPIN_TRUNC (about to truncate to size) */
	SHX_OP_SEEK,	  /* ino, size: offset, flags: SEEK_DATA/SEEK_HOLE -> value */
	SHX_OP_SWAPINFO,  /* -> data: one shx_swapinfo record */
	SHX_OP_SWAPSET,	  /* flags: SHX_SWAPSET_*, size: the value, path: the directory */
	SHX_OP_PGUFFD,	  /* with an fd: the caller's userfaultfd, for its mappings' page-ins */
	SHX_OP_PGMAP,	  /* ino, size: address, atime_ns: length, mtime_ns: file offset: a
			     shared mapping of an object with pages out, to register with the
			     caller's uffd */
	SHX_OP_REOPEN,	  /* ino, flags -> fd: another fd of an object the caller holds (its
			     self-open failed: SHX_HF_SELFOPEN) */
	SHX_OP_MAX
};

/* Header flags. */
#define SHX_HF_NOREPLY 0x1 /* request: the client does not wait for an answer */
#define SHX_HF_FD 0x2	   /* reply: an fd travels with this message */
#define SHX_HF_EOF 0x4	   /* reply: no more entries after these */
#define SHX_HF_EDQUOT 0x8  /* reply to RESERVE: short because of a user's quota */
/* OPEN request: the client can open a regular file itself, through
 * /proc/<manager>/fd/N; reply: no fd comes, N is the reply's data (a u32),
 * and the client holds the object (it sends REOPEN if its open fails). */
#define SHX_HF_SELFOPEN 0x10

/* What of an open's flags the fd of a memfd keeps, whoever opens it (the
 * manager, or a self-open): the access mode and the status flags. */
#define SHX_FD_KEEP_FLAGS                                                                 \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_SYNC | O_DSYNC | O_PATH | \
	 O_LARGEFILE)

/* A status of -SHX_EESCAPE answers a path that ".." or a symlink leads out
 * of the mounts: the reply's data is the path the real file system should
 * resolve instead, so a client leaves room for SHX_PATH_MAX bytes of data
 * in every request that names a path. */
#define SHX_EESCAPE 4000

/* SHX_OP_RESERVE flags */
#define SHX_RESERVE_PARTIAL 0x1 /* grant as much as is free, like a short write */
#define SHX_RESERVE_APPEND 0x2	/* size: bytes to append, wherever the end is; atime_ns:
				   the sender's unspent append budget of the object;
				   value: the bytes granted */

/* SHX_OP_SHMDT flags */
#define SHX_SHMDT_UNDO 0x1 /* the mmap of a granted shmat failed: take it back */

/* SHX_OP_SOCKET flags */
#define SHX_SOCK_CONNECT 0x1
#define SHX_SOCK_NAME 0x2

/* SHX_OP_XATTR flags */
#define SHX_XATTR_GET 0x1
#define SHX_XATTR_SET 0x2
#define SHX_XATTR_LIST 0x3
#define SHX_XATTR_REMOVE 0x4
#define SHX_XATTR_OP 0xf
#define SHX_XATTR_NOFOLLOW 0x10

/* SHX_OP_SETATTR: what to change (notify_change's ATTR_*) */
#define SHX_SET_MODE 0x01
#define SHX_SET_UID 0x02
#define SHX_SET_GID 0x04
#define SHX_SET_ATIME 0x08
#define SHX_SET_MTIME 0x10
#define SHX_SET_SIZE 0x20    /* truncate(2) by path */
#define SHX_SET_NOFOLLOW 0x40
/* atime_ns/mtime_ns values with a meaning of their own */
#define SHX_TIME_NOW INT64_MIN

/* Inode attributes, as the manager knows them. */
struct shx_attr {
	uint64_t dev; /* the mount's st_dev */
	uint64_t ino;
	uint32_t mode;
	uint32_t nlink;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	uint64_t blocks; /* 512-byte units */
	int64_t atime_ns, mtime_ns, ctime_ns;
	uint64_t rdev; /* character and block devices */
};

struct shx_req {
	uint16_t op;
	uint16_t hflags;
	uint32_t id;
	uint64_t ino;
	uint64_t size;
	uint32_t flags;
	uint32_t mode;
	uint32_t aux;
	uint32_t uid, gid;
	int64_t atime_ns, mtime_ns;
	/* bytes after the paths (an xattr's value), only when datalen > 0:
	 * u32 length, then the bytes; decoded, data points into the packet.
	 * (Before the paths, so that clearing the fixed part clears them.) */
	const void *data;
	uint32_t datalen;
	int sendfd1; /* paging: an fd to pass with the request, plus one (0: none); not encoded */
	int vforked; /* what shx_conn_vforked() says, if the caller asked it already, plus one
			(0: ask it); not encoded */
	uint16_t pathlen; /* without the NUL */
	uint16_t path2len;
	char path[SHX_PATH_MAX];
	char path2[SHX_PATH_MAX]; /* the second path of a rename */
};

struct shx_rep {
	uint16_t op;
	uint16_t hflags;
	uint32_t id;
	int32_t status; /* 0 or -errno */
	struct shx_attr attr;
	uint64_t value;
	uint32_t datalen;
	uint32_t datacap; /* size of the buffer at data; not sent */
	uint8_t *data;
};

/* A directory entry in a SHX_OP_READDIR reply. */
struct shx_dirent {
	uint64_t ino;
	uint64_t cookie; /* pass this back to read the entries after this one */
	uint8_t type;	 /* DT_* */
	uint8_t namelen;
	char name[256];
};

/* Manager-wide figures, for shmemctl stats. */
struct shx_stats {
	uint64_t size_limit, size_used;
	uint64_t inodes_limit, inodes_used;
	uint64_t objects, clients;
	uint64_t manager_pid;
	int64_t started_ns;
};

/* A creation backtrace: frames a line each, sent as an OPEN's data. */
#define SHX_BACKTRACE_MAX 2048

/* One object, for shmemctl ls. */
#define SHX_OBJ_MAPPERS 8
struct shx_obj {
	struct shx_attr attr;
	uint64_t charged;
	uint32_t holders;    /* client connections holding it open */
	uint32_t creator_pid;
	int64_t created_ns;
	uint64_t resident, swapped; /* bytes in memory (the memfd's blocks), in swap */
	uint32_t cuid;		    /* the user it is charged to */
	uint8_t nmappers;	    /* how many of mappers[] are set */
	uint32_t mappers[SHX_OBJ_MAPPERS]; /* client pids that map it */
	uint16_t applen;	    /* the app it is charged to ("": none) */
	char app[64];
	uint16_t pathlen;
	char path[SHX_PATH_MAX];
	uint16_t btlen;		    /* the stack that created it (SHMEMX_BACKTRACE) */
	char backtrace[SHX_BACKTRACE_MAX];
};

/* SHX_OP_QUOTA */
#define SHX_QUOTA_LIST 1
#define SHX_QUOTA_SET 2
#define SHX_QUOTA_TMP 3
#define SHX_GROUP_MANAGER 0
#define SHX_GROUP_USER 1
#define SHX_GROUP_APP 2

/* A quota group, for shmemctl stats, quota, top. */
struct shx_group {
	uint8_t kind; /* SHX_GROUP_* */
	uint32_t uid;
	uint64_t size_limit, size_used, inodes_limit, inodes_used; /* UINT64_MAX: no limit */
	uint64_t objects, clients, resident, swapped;
	uint16_t namelen; /* an app's */
	char name[64];
};

/* A System V segment, as IPC_STAT tells it (the kernel's shmid64_ds), and
 * for listings what it uses. */
struct shx_shmid_ds {
	int32_t key, id;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode; /* permissions, SHM_DEST, SHM_LOCKED */
	uint16_t seq;
	uint64_t segsz;
	int64_t atime, dtime, ctime; /* seconds since the epoch */
	int32_t cpid, lpid;
	uint64_t nattch;
	uint64_t rss, swap; /* bytes resident and paged out */
};

/* IPC_INFO's shminfo and SHM_INFO's shm_info, in one record. */
struct shx_shminfo {
	uint64_t shmmax, shmmin, shmmni, shmseg, shmall;
	uint64_t used_ids, shm_tot, shm_rss, shm_swp; /* the last three in pages */
};

size_t shx_req_encode(const struct shx_req *req, uint8_t *buf, size_t cap);
/* All of a request but its data bytes, which must follow in the same
 * packet (the header's length counts them); the length written, 0 if it
 * does not fit or the request is malformed. */
size_t shx_req_encode_head(const struct shx_req *req, uint8_t *buf, size_t cap);
int shx_req_decode(const uint8_t *buf, size_t len, struct shx_req *req);
size_t shx_rep_encode(const struct shx_rep *rep, uint8_t *buf, size_t cap);
int shx_rep_decode(const uint8_t *buf, size_t len, struct shx_rep *rep);
/* Decodes the SHX_REP_HEAD bytes at head of a reply `total` bytes long
 * whose data was received straight into rep->data. */
int shx_rep_decode_head(const uint8_t *head, size_t total, struct shx_rep *rep);

int shx_req_set_path(struct shx_req *req, const char *path);
int shx_req_set_path2(struct shx_req *req, const char *path);

/* Record lists inside a reply's data.  The append functions return 0, or
 * -ENOSPC when the record does not fit (the reply is then full). */
int shx_dirent_append(struct shx_rep *rep, const struct shx_dirent *d);
int shx_dirent_next(const struct shx_rep *rep, size_t *off, struct shx_dirent *d);
int shx_obj_append(struct shx_rep *rep, const struct shx_obj *o);
int shx_obj_next(const struct shx_rep *rep, size_t *off, struct shx_obj *o);
int shx_stats_put(struct shx_rep *rep, const struct shx_stats *s);
int shx_stats_get(const struct shx_rep *rep, struct shx_stats *s);
int shx_shmid_append(struct shx_rep *rep, const struct shx_shmid_ds *d);
int shx_shmid_next(const struct shx_rep *rep, size_t *off, struct shx_shmid_ds *d);
int shx_group_append(struct shx_rep *rep, const struct shx_group *g);
int shx_group_next(const struct shx_rep *rep, size_t *off, struct shx_group *g);

/* --- paging ------------------------------------------------------------- */

#define SHX_SWAPIN_TRUNC 0x1

#define SHX_SWAPSET_BUDGET 1	 /* bytes */
#define SHX_SWAPSET_BUDGET_PCT 2 /* percent of available memory */
#define SHX_SWAPSET_LIMIT 3	 /* bytes of swap */
#define SHX_SWAPSET_DIR 4

/* shmemctl swap: the pager's settings and counters */
struct shx_swapinfo {
	uint64_t budget, resident, swapped, swap_limit, swap_used;
	uint64_t pageins, pageouts, objects_out; /* pages, pages, objects */
	uint32_t budget_pct; /* 0 when the budget is a size */
	uint32_t enabled;
	char dir[SHX_PATH_MAX];
};

int shx_swapinfo_put(struct shx_rep *rep, const struct shx_swapinfo *si);
int shx_swapinfo_get(const struct shx_rep *rep, struct shx_swapinfo *si);
int shx_shminfo_put(struct shx_rep *rep, const struct shx_shminfo *i);
int shx_shminfo_get(const struct shx_rep *rep, struct shx_shminfo *i);

const char *shx_op_name(unsigned op);

#endif
