/* check_ns.c -- unit tests of core/ns.c, the manager's tmpfs namespace.
 *
 * The namespace must answer every call as the kernel's tmpfs would, errno
 * for errno, so most tests are tables of (credentials, start directory,
 * path, flags) -> result, with results taken from Linux on a real tmpfs
 * mount.  Covered: open (O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_PATH,
 * O_TMPFILE; ENOENT, EEXIST, ENOTDIR, EISDIR, ENAMETOOLONG, EINVAL), the
 * walk (".", "..", "//", ".." out of the mount and the real path handed
 * back for it, relative paths from a start inode), unlink and rmdir (at
 * the root and in sub-directories made with ns_mkdir), permissions for a
 * non-root caller (owner/group/other classes, search permission, the
 * sticky bit), readdir cookies (dots, newest first, entries added or
 * removed mid-listing, small buffers), space accounting (ns_reserve,
 * ns_sync, the size limit) and the inode limit, ns_getattr, ns_open_fd,
 * ns_path, a second mount.
 *
 * Each test builds a fresh namespace with one mount, /dev/shm, backed by
 * memfds only: the real /dev/shm is never touched.  The placeholder
 * directory an open directory fd refers to is an empty directory made in
 * the current directory (the build tree) by main() and removed at exit.
 * Every test runs in its own process (CK_FORK is forced).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ns.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define KiB 1024ULL
#define MiB (1024 * KiB)
#define PAGE 4096ULL

/* Names of 255 (NAME_MAX) and 256 bytes. */
#define A16 "aaaaaaaaaaaaaaaa"
#define A64 A16 A16 A16 A16
#define A255 A64 A64 A64 A16 A16 A16 "aaaaaaaaaaaaaaa"
#define A256 A64 A64 A64 A64

static char placeholder[64];
static struct ns ns;
static int ns_up;
static struct ns_inode *root;

/* Callers: root, and two unprivileged users. */
static const struct shx_cred ROOT = { .pid = 100, .uid = 0, .gid = 0 };
static const struct shx_cred USER = { .pid = 101, .uid = 1000, .gid = 1000 };
static const struct shx_cred OTHER = { .pid = 102, .uid = 2000, .gid = 2000 };

/* --- fixture ------------------------------------------------------------- */

static void start(uint64_t size_limit, uint64_t nr_inodes)
{
	struct shx_config cfg = { .size_limit = size_limit, .nr_inodes = nr_inodes,
				  .idle_timeout = 60 };

	ck_assert_int_eq(ns_init(&ns, &cfg, placeholder), 0);
	ns_up = 1;
	ck_assert_int_eq(ns_add_mount(&ns, "/dev/shm"), 0);
	root = ns.mounts[0].root;
	ck_assert_ptr_nonnull(root);
	/* /dev/shm is root's, whoever runs the tests: the sticky-bit rules
	 * depend on the directory's owner */
	root->uid = 0;
	root->gid = 0;
}

static void stop(void)
{
	if (ns_up)
		ns_destroy(&ns);
	ns_up = 0;
}

/* A new namespace with other limits, for the accounting tests. */
static void restart(uint64_t size_limit, uint64_t nr_inodes)
{
	stop();
	start(size_limit, nr_inodes);
}

/* Creates a file the way open(O_CREAT|O_EXCL) and close() would. */
static struct ns_inode *mk(const struct shx_cred *cr, const char *path, mode_t mode)
{
	struct ns_inode *ip = NULL;
	int r = ns_open(&ns, cr, 0, path, O_CREAT | O_EXCL | O_RDWR, mode, &ip);

	ck_assert_msg(r == 1, "creating %s: %d", path, r);
	ns_release(&ns, ip);
	/* (the recount that release leaves for later) */
	ns_sync_pending(&ns);
	return ip;
}

static struct ns_inode *f_file, *f_secret, *f_mine, *f_grp, *f_theirs;

/* The files every test starts with, in this order:
 *   file    root:root   0644
 *   secret  root:root   0600
 *   mine    1000:1000   0066  its owner may not read it, others may
 *   grp     2000:1000   0640  readable by group 1000
 *   theirs  2000:2000   0666  anyone's to write, not to delete */
static void setup(void)
{
	start(64 * MiB, 1000);
	f_file = mk(&ROOT, "/dev/shm/file", 0644);
	f_secret = mk(&ROOT, "/dev/shm/secret", 0600);
	f_mine = mk(&USER, "/dev/shm/mine", 0066);
	f_grp = mk(&(struct shx_cred){ .pid = 103, .uid = 2000, .gid = 1000 }, "/dev/shm/grp", 0640);
	f_theirs = mk(&OTHER, "/dev/shm/theirs", 0666);
}

static const int NFIXTURE = 5;

static struct ns_inode *lookup(const char *path)
{
	struct ns_inode *ip = NULL;
	int r = ns_lookup(&ns, &ROOT, 0, path, 1, &ip);

	ck_assert_msg(r == 0, "lookup %s: %d", path, r);
	return ip;
}

static int exists(const char *path)
{
	struct ns_inode *ip;

	return ns_lookup(&ns, &ROOT, 0, path, 1, &ip);
}

/* An inode number no inode has. */
static uint64_t bogus_ino(void)
{
	uint64_t ino = 12345;

	while (ns_iget(&ns, ino))
		ino++;
	return ino;
}

/* Start directories for relative paths. */
enum { ABS, AT_ROOT, AT_FILE, AT_BOGUS };

static uint64_t start_ino(int at)
{
	switch (at) {
	case AT_ROOT: return root->ino;
	case AT_FILE: return f_file->ino;
	case AT_BOGUS: return bogus_ino();
	}
	return 0;
}

/* --- open ---------------------------------------------------------------- */

#define R (&ROOT)
#define U (&USER)

/* want: 1 created, 0 opened an existing inode, or -errno.  New files get
 * mode 0 on purpose: the creating open itself is not permission-checked. */
static const struct open_case {
	const struct shx_cred *cr;
	int at;
	const char *path;
	int flags;
	int want;
	int isdir;
} open_cases[] = {
	{ R, ABS, "/dev/shm/file", O_RDONLY, 0, 0 },
	{ R, ABS, "/dev/shm/file", O_RDWR, 0, 0 },
	{ R, ABS, "/dev/shm/missing", O_RDONLY, -ENOENT, 0 },
	{ R, ABS, "/dev/shm/missing", O_RDWR | O_TRUNC, -ENOENT, 0 },
	{ R, ABS, "/dev/shm/new", O_CREAT | O_WRONLY, 1, 0 },
	{ R, ABS, "/dev/shm/new", O_CREAT | O_EXCL | O_WRONLY, 1, 0 },
	{ R, ABS, "/dev/shm/file", O_CREAT | O_WRONLY, 0, 0 },
	{ R, ABS, "/dev/shm/file", O_CREAT | O_EXCL | O_WRONLY, -EEXIST, 0 },
	{ R, ABS, "/dev/shm/file", O_CREAT | O_EXCL | O_TRUNC | O_WRONLY, -EEXIST, 0 },
	/* a file is not a directory */
	{ R, ABS, "/dev/shm/file/x", O_RDONLY, -ENOTDIR, 0 },
	{ R, ABS, "/dev/shm/file/x", O_CREAT | O_RDWR, -ENOTDIR, 0 },
	{ R, ABS, "/dev/shm/file/", O_RDONLY, -ENOTDIR, 0 },
	{ R, ABS, "/dev/shm/file/", O_CREAT | O_RDONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm/file/.", O_RDONLY, -ENOTDIR, 0 },
	{ R, ABS, "/dev/shm/file/..", O_RDONLY, -ENOTDIR, 0 },
	{ R, ABS, "/dev/shm/file", O_RDONLY | O_DIRECTORY, -ENOTDIR, 0 },
	{ R, ABS, "/dev/shm/missing/x", O_RDONLY, -ENOENT, 0 },
	{ R, ABS, "/dev/shm/missing/x", O_CREAT | O_RDWR, -ENOENT, 0 },
	/* O_CREAT of something that is or must be a directory */
	{ R, ABS, "/dev/shm/x/", O_CREAT | O_RDONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm/x/", O_CREAT | O_EXCL | O_RDONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm", O_CREAT | O_RDONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm", O_CREAT | O_EXCL | O_RDONLY, -EEXIST, 0 },
	{ R, ABS, "/dev/shm/", O_CREAT | O_RDONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm/", O_CREAT | O_EXCL | O_RDONLY, -EISDIR, 0 }, /* the slash first */
	{ R, ABS, "/dev/shm/.", O_CREAT | O_RDONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm/.", O_CREAT | O_EXCL | O_RDONLY, -EEXIST, 0 },
	/* O_CREAT|O_DIRECTORY is refused outright (Linux 6.4 on) */
	{ R, ABS, "/dev/shm/new", O_CREAT | O_DIRECTORY | O_RDONLY, -EINVAL, 0 },
	{ R, ABS, "/dev/shm/file", O_CREAT | O_DIRECTORY | O_RDONLY, -EINVAL, 0 },
	/* ...unless O_PATH, which drops O_CREAT first */
	{ R, ABS, "/dev/shm/file", O_PATH | O_CREAT | O_DIRECTORY, -ENOTDIR, 0 },
	/* the mount root: readable, never writable */
	{ R, ABS, "/dev/shm", O_RDONLY, 0, 1 },
	{ R, ABS, "/dev/shm/", O_RDONLY | O_DIRECTORY, 0, 1 },
	{ R, ABS, "/dev/shm/.", O_RDONLY, 0, 1 },
	{ R, ABS, "/dev/shm", O_WRONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm", O_RDWR, -EISDIR, 0 },
	{ R, ABS, "/dev/shm", O_RDONLY | O_TRUNC, -EISDIR, 0 },
	{ R, ABS, "/dev/shm", O_PATH | O_RDWR, 0, 1 },
	/* name length */
	{ R, ABS, "/dev/shm/" A255, O_CREAT | O_RDWR, 1, 0 },
	{ R, ABS, "/dev/shm/" A256, O_CREAT | O_RDWR, -ENAMETOOLONG, 0 },
	{ R, ABS, "/dev/shm/" A256, O_RDONLY, -ENAMETOOLONG, 0 },
	{ R, ABS, "/dev/shm/" A256 "/x", O_RDONLY, -ENAMETOOLONG, 0 },
	{ R, ABS, "/dev/shm/missing/" A256, O_RDONLY, -ENOENT, 0 },
	/* spellings */
	{ R, ABS, "/dev/shm//file", O_RDONLY, 0, 0 },
	{ R, ABS, "/dev/shm/./file", O_RDONLY, 0, 0 },
	{ R, ABS, "/dev/shmx/file", O_RDONLY, -ENOENT, 0 },
	/* ".." out of the mount: the real file system's business, unless it
	 * leads back into the mount */
	{ R, ABS, "/dev/shm/..", O_RDONLY, -SHX_EESCAPE, 0 },
	{ R, ABS, "/dev/shm/../x", O_CREAT | O_RDWR, -SHX_EESCAPE, 0 },
	{ R, ABS, "/dev/shm/../shm/file", O_RDONLY, 0, 0 },
	{ R, ABS, "/dev/shm/../shm/../shm/new", O_CREAT | O_RDWR, 1, 0 },
	/* O_TMPFILE */
	{ R, ABS, "/dev/shm", O_TMPFILE | O_RDWR, 1, 0 },
	{ R, ABS, "/dev/shm/", O_TMPFILE | O_WRONLY, 1, 0 },
	{ R, ABS, "/dev/shm", O_TMPFILE | O_RDONLY, -EINVAL, 0 },
	{ R, ABS, "/dev/shm", O_TMPFILE | O_CREAT | O_RDWR, -EINVAL, 0 },
	{ R, ABS, "/dev/shm/file", O_TMPFILE | O_RDWR, -ENOTDIR, 0 },
	{ R, ABS, "/dev/shm/missing", O_TMPFILE | O_RDWR, -ENOENT, 0 },
	/* the flags are checked before the path is walked */
	{ R, ABS, "/dev/shm/missing/x", O_TMPFILE | O_RDONLY, -EINVAL, 0 },
	/* relative to a directory inode */
	{ R, AT_ROOT, "file", O_RDONLY, 0, 0 },
	{ R, AT_ROOT, "./file", O_RDONLY, 0, 0 },
	{ R, AT_ROOT, ".//file", O_RDONLY, 0, 0 },
	{ R, AT_ROOT, ".", O_RDONLY, 0, 1 },
	{ R, AT_ROOT, ".", O_WRONLY, -EISDIR, 0 },
	{ R, AT_ROOT, ".", O_CREAT | O_RDONLY, -EISDIR, 0 },
	{ R, AT_ROOT, ".", O_CREAT | O_EXCL | O_RDONLY, -EEXIST, 0 },
	{ R, AT_ROOT, "new", O_CREAT | O_RDWR, 1, 0 },
	{ R, AT_ROOT, "file/..", O_RDONLY, -ENOTDIR, 0 },
	{ R, AT_ROOT, "..", O_RDONLY, -SHX_EESCAPE, 0 },
	{ R, AT_ROOT, "../shm/file", O_RDONLY, 0, 0 },
	{ R, AT_ROOT, "", O_RDONLY, -ENOENT, 0 },
	{ R, AT_ROOT, A256, O_RDONLY, -ENAMETOOLONG, 0 },
	{ R, AT_FILE, "x", O_RDONLY, -ENOTDIR, 0 },
	{ R, AT_BOGUS, "x", O_RDONLY, -EBADF, 0 },
	{ R, AT_BOGUS, "/dev/shm/file", O_RDONLY, 0, 0 }, /* absolute: start unused */
	/* permissions of uid 1000, gid 1000 */
	{ U, ABS, "/dev/shm/file", O_RDONLY, 0, 0 },
	{ U, ABS, "/dev/shm/file", O_WRONLY, -EACCES, 0 },
	{ U, ABS, "/dev/shm/file", O_RDWR, -EACCES, 0 },
	{ U, ABS, "/dev/shm/file", O_RDONLY | O_TRUNC, -EACCES, 0 },
	{ U, ABS, "/dev/shm/file", O_PATH | O_RDWR, 0, 0 }, /* O_PATH needs no access */
	{ U, ABS, "/dev/shm/secret", O_RDONLY, -EACCES, 0 },
	{ U, ABS, "/dev/shm/secret", O_CREAT | O_RDONLY, -EACCES, 0 },
	{ U, ABS, "/dev/shm/secret", O_CREAT | O_EXCL | O_RDONLY, -EEXIST, 0 },
	{ U, ABS, "/dev/shm/mine", O_RDONLY, -EACCES, 0 }, /* the owner class decides */
	{ U, ABS, "/dev/shm/mine", O_WRONLY, -EACCES, 0 },
	{ U, ABS, "/dev/shm/grp", O_RDONLY, 0, 0 },
	{ U, ABS, "/dev/shm/grp", O_WRONLY, -EACCES, 0 },
	{ U, ABS, "/dev/shm/theirs", O_RDWR, 0, 0 },
	{ U, ABS, "/dev/shm/new", O_CREAT | O_RDWR, 1, 0 }, /* 1777: anyone creates */
	{ U, ABS, "/dev/shm", O_TMPFILE | O_RDWR, 1, 0 },
	{ U, ABS, "/dev/shm", O_RDONLY, 0, 1 },
	{ U, ABS, "/dev/shm", O_WRONLY, -EISDIR, 0 },
	{ R, ABS, "/dev/shm/secret", O_RDWR, 0, 0 }, /* root may */
	{ R, ABS, "/dev/shm/mine", O_RDWR, 0, 0 },
};

START_TEST(open_table)
{
	const struct open_case *c = &open_cases[_i];
	struct ns_inode *ip = NULL;
	uint64_t inodes = ns.inodes_used;
	uint32_t entries = root->nentries;
	int tmpfile = (c->flags & O_TMPFILE) == O_TMPFILE;
	int r = ns_open(&ns, c->cr, start_ino(c->at), c->path, c->flags, 0, &ip);

	ck_assert_msg(r == c->want, "%.40s (flags %#o, uid %u): got %d, want %d", c->path,
		      c->flags, c->cr->uid, r, c->want);
	if (r < 0) {
		/* a failed open leaves nothing behind */
		ck_assert_uint_eq(ns.inodes_used, inodes);
		ck_assert_uint_eq(root->nentries, entries);
		return;
	}
	ck_assert_ptr_nonnull(ip);
	ck_assert_ptr_eq(ns_iget(&ns, ip->ino), ip);
	ck_assert_uint_eq(ip->holders, 1); /* the open's own hold */
	ck_assert_int_eq(!!S_ISDIR(ip->mode), c->isdir);
	ck_assert_uint_eq(ns.inodes_used, inodes + (r == 1));
	ck_assert_uint_eq(root->nentries, entries + (r == 1 && !tmpfile));
	if (r == 1) {
		/* a new file is the caller's, with the mode asked for */
		ck_assert_uint_eq(ip->mode, S_IFREG);
		ck_assert_uint_eq(ip->uid, c->cr->uid);
		ck_assert_uint_eq(ip->gid, c->cr->gid);
		ck_assert_uint_eq(ip->nlink, tmpfile ? 0 : 1);
	}
	ns_release(&ns, ip);
}
END_TEST

/* O_TRUNC empties the file and refunds its space, when the open is
 * allowed; a refused open must not truncate. */
START_TEST(open_trunc)
{
	static const char data[10000];
	struct ns_inode *ip = NULL;
	uint64_t base = ns.size_used;
	struct stat st;

	ck_assert_int_eq(pwrite(f_file->memfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	ns_sync(&ns, f_file);
	ck_assert_uint_eq(f_file->charged, 3 * PAGE);
	ck_assert_uint_eq(ns.size_used, base + 3 * PAGE);

	ck_assert_int_eq(ns_open(&ns, &USER, 0, "/dev/shm/file", O_RDWR | O_TRUNC, 0, &ip), -EACCES);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/file", O_CREAT | O_EXCL | O_TRUNC | O_RDWR,
				 0, &ip),
			 -EEXIST);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/file", O_PATH | O_TRUNC, 0, &ip), 0);
	ns_release(&ns, ip);
	ck_assert_int_eq(fstat(f_file->memfd, &st), 0);
	ck_assert_int_eq(st.st_size, sizeof(data));
	ck_assert_uint_eq(ns.size_used, base + 3 * PAGE);

	/* O_RDONLY|O_TRUNC truncates too, as on Linux */
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/file", O_RDONLY | O_TRUNC, 0, &ip), 0);
	ck_assert_ptr_eq(ip, f_file);
	ck_assert_int_eq(fstat(f_file->memfd, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_uint_eq(f_file->charged, 0);
	ck_assert_uint_eq(ns.size_used, base);
	ns_release(&ns, ip);
}
END_TEST

/* What a new file and its directory look like afterwards. */
START_TEST(create_attributes)
{
	struct shx_attr a, d0, d1;
	struct ns_inode *ip = NULL;
	struct stat st;
	int64_t before, after;

	ck_assert_int_eq(ns_getattr(&ns, root, &d0), 0);
	before = ns_now();
	ck_assert_int_eq(ns_open(&ns, &USER, 0, "/dev/shm/new", O_CREAT | O_RDWR, 0640, &ip), 1);
	after = ns_now();
	ck_assert_int_eq(ns_getattr(&ns, ip, &a), 0);
	ck_assert_int_eq(fstat(ip->memfd, &st), 0);
	ck_assert_uint_eq(a.dev, makedev(0, SHX_DEV_BASE));
	ck_assert_uint_eq(a.ino, st.st_ino); /* what fstat on a client's fd says */
	ck_assert_uint_eq(a.ino, ip->ino);
	ck_assert_uint_eq(a.mode, S_IFREG | 0640);
	ck_assert_uint_eq(a.nlink, 1);
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert_uint_eq(a.gid, 1000);
	ck_assert_uint_eq(a.size, 0);
	ck_assert_uint_eq(a.blocks, 0);
	/* a new file's times are all the same moment, the moment of the call */
	ck_assert_int_eq(a.mtime_ns, a.ctime_ns);
	ck_assert_int_eq(a.atime_ns, a.mtime_ns);
	/* (the memfd's clock is the coarse one: allow a tick of 10 ms) */
	ck_assert_int_ge(a.mtime_ns, before - 10000000);
	ck_assert_int_le(a.mtime_ns, after);
	ck_assert_uint_eq(ip->creator_pid, USER.pid);

	/* the directory: one more entry of BOGO_DIRENT_SIZE, a new mtime */
	ck_assert_int_eq(ns_getattr(&ns, root, &d1), 0);
	ck_assert_uint_eq(d1.mode, S_IFDIR | 01777);
	ck_assert_uint_eq(d1.nlink, 2);
	ck_assert_uint_eq(d1.dev, a.dev);
	ck_assert_uint_eq(d1.ino, root->ino);
	ck_assert_uint_eq(d0.size, (NFIXTURE + 2) * 20);
	ck_assert_uint_eq(d1.size, d0.size + 20);
	ck_assert_uint_eq(d1.blocks, 0);
	ck_assert_int_ge(d1.mtime_ns, before);
	ck_assert_int_le(d1.mtime_ns, after);
	ck_assert_int_eq(d1.ctime_ns, d1.mtime_ns);
	ns_release(&ns, ip);
}
END_TEST

/* Data written through the memfd shows in the attributes. */
START_TEST(getattr_after_write)
{
	static const char data[5000];
	struct shx_attr a;

	ck_assert_int_eq(pwrite(f_file->memfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	ck_assert_int_eq(ns_getattr(&ns, f_file, &a), 0);
	ck_assert_uint_eq(a.size, 5000);
	ck_assert_uint_eq(a.blocks, 2 * PAGE / 512);
	ck_assert_uint_eq(a.nlink, 1);
	ck_assert_uint_eq(a.mode, S_IFREG | 0644);
}
END_TEST

/* The fds handed to clients: the memfd's inode with the open's access
 * mode, or the placeholder directory for a directory. */
START_TEST(open_fd)
{
	struct stat st, ph;
	char c = 'x';
	int fd;

	fd = ns_open_fd(&ns, f_file, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_ino, f_file->ino);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(pwrite(fd, "hello", 5, 0), 5);
	ck_assert_int_eq(pread(f_file->memfd, &c, 1, 4), 1);
	ck_assert_int_eq(c, 'o');
	close(fd);

	fd = ns_open_fd(&ns, f_file, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "!", 1), 1);
	ck_assert_int_eq(pread(f_file->memfd, &c, 1, 5), 1); /* appended at the end */
	ck_assert_int_eq(c, '!');
	close(fd);

	fd = ns_open_fd(&ns, f_file, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), -1);
	ck_assert_int_eq(errno, EBADF);
	close(fd);

	fd = ns_open_fd(&ns, root, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(stat(placeholder, &ph), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_ino, ph.st_ino);
	ck_assert_int_eq(read(fd, &c, 1), -1);
	ck_assert_int_eq(errno, EISDIR);
	close(fd);
}
END_TEST

/* uid 1000 in a /dev/shm of another mode, as root could chmod it.  The
 * walk needs search (x) permission on the directory before anything else,
 * even before a name's length is looked at; creating and removing names
 * need write permission too. */
enum { OPEN, UNLINK, LOOKUP };

static const struct dirperm_case {
	mode_t mode;
	int op;
	const char *path;
	int flags;
	int want;
} dirperm_cases[] = {
	{ 0755, OPEN, "/dev/shm/file", O_RDONLY, 0 },
	{ 0755, OPEN, "/dev/shm/missing", O_RDONLY, -ENOENT },
	{ 0755, OPEN, "/dev/shm/" A256, O_RDONLY, -ENAMETOOLONG },
	{ 0755, OPEN, "/dev/shm/new", O_CREAT | O_RDWR, -EACCES },
	{ 0755, OPEN, "/dev/shm/file", O_CREAT | O_EXCL | O_RDWR, -EEXIST },
	{ 0755, OPEN, "/dev/shm", O_TMPFILE | O_RDWR, -EACCES },
	{ 0755, OPEN, "/dev/shm", O_RDONLY, 0 },
	{ 0755, UNLINK, "/dev/shm/mine", 0, -EACCES },
	{ 0755, UNLINK, "/dev/shm/missing", 0, -ENOENT },
	{ 0755, UNLINK, "/dev/shm/file/", 0, -ENOTDIR },
	{ 0755, LOOKUP, "/dev/shm/file/x", 0, -ENOTDIR },
	{ 0700, OPEN, "/dev/shm/file", O_RDONLY, -EACCES },
	{ 0700, OPEN, "/dev/shm/missing", O_RDONLY, -EACCES },
	{ 0700, OPEN, "/dev/shm/" A256, O_RDONLY, -EACCES },
	{ 0700, OPEN, "/dev/shm/" A256, O_CREAT | O_RDONLY, -EACCES },
	{ 0700, OPEN, "/dev/shm/new", O_CREAT | O_RDWR, -EACCES },
	{ 0700, OPEN, "/dev/shm/file", O_CREAT | O_EXCL | O_RDWR, -EACCES },
	{ 0700, OPEN, "/dev/shm", O_TMPFILE | O_RDWR, -EACCES },
	{ 0700, OPEN, "/dev/shm", O_RDONLY, -EACCES },
	{ 0700, OPEN, "/dev/shm/..", O_RDONLY, -EACCES },
	{ 0700, LOOKUP, "/dev/shm", 0, 0 }, /* the mount root itself needs nothing */
	{ 0700, LOOKUP, "/dev/shm/file", 0, -EACCES },
	{ 0700, LOOKUP, "/dev/shm/file/x", 0, -EACCES },
	{ 0700, UNLINK, "/dev/shm/mine", 0, -EACCES },
	{ 0700, UNLINK, "/dev/shm/missing", 0, -EACCES },
	{ 0700, UNLINK, "/dev/shm/file/", 0, -EACCES },
	{ 01733, OPEN, "/dev/shm/file", O_RDONLY, 0 },
	{ 01733, OPEN, "/dev/shm/new", O_CREAT | O_RDWR, 1 },
	{ 01733, OPEN, "/dev/shm", O_TMPFILE | O_RDWR, 1 },
	{ 01733, OPEN, "/dev/shm", O_RDONLY, -EACCES }, /* no r */
	{ 01733, UNLINK, "/dev/shm/mine", 0, 0 },
	{ 01733, UNLINK, "/dev/shm/file", 0, -EPERM },
};

START_TEST(dirperm_table)
{
	const struct dirperm_case *c = &dirperm_cases[_i];
	struct ns_inode *ip = NULL;
	int r;

	root->mode = S_IFDIR | c->mode;
	switch (c->op) {
	case OPEN:
		r = ns_open(&ns, &USER, 0, c->path, c->flags, 0600, &ip);
		if (r >= 0)
			ns_release(&ns, ip);
		break;
	case UNLINK:
		r = ns_unlink(&ns, &USER, 0, c->path, c->flags);
		break;
	default:
		r = ns_lookup(&ns, &USER, 0, c->path, 1, &ip);
		break;
	}
	ck_assert_msg(r == c->want, "mode %04o, %.40s (flags %#o): got %d, want %d", c->mode,
		      c->path, c->flags, r, c->want);
}
END_TEST

/* check_sticky: in a sticky directory the directory's owner may remove
 * any name, as may the file's owner; nobody else but root. */
START_TEST(sticky_dir_owner_may_delete)
{
	root->uid = USER.uid;
	ck_assert_int_eq(ns_unlink(&ns, &OTHER, 0, "/dev/shm/file", 0), -EPERM);
	ck_assert_int_eq(ns_unlink(&ns, &USER, 0, "/dev/shm/theirs", 0), 0);
	ck_assert_int_eq(ns_unlink(&ns, &USER, 0, "/dev/shm/file", 0), 0);
	/* without the sticky bit, write permission on the directory is enough */
	root->uid = 0;
	root->mode = S_IFDIR | 0777;
	ck_assert_int_eq(ns_unlink(&ns, &OTHER, 0, "/dev/shm/secret", 0), 0);
	ck_assert_int_eq(exists("/dev/shm/secret"), -ENOENT);
}
END_TEST

/* --- O_TMPFILE --------------------------------------------------------------- */

START_TEST(tmpfile_lifecycle)
{
	struct ns_inode *ip = NULL;
	uint64_t inodes = ns.inodes_used, objects = ns.objects, used = ns.size_used, ino, granted;
	struct shx_attr a;
	char path[64];

	ck_assert_int_ge(ns_open(&ns, &USER, 0, "/dev/shm", O_TMPFILE | O_RDWR, 0600, &ip), 0);
	ino = ip->ino;
	ck_assert_int_eq(ns_getattr(&ns, ip, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	ck_assert_uint_eq(a.mode, S_IFREG | 0600);
	ck_assert_uint_eq(a.uid, 1000);
	ck_assert_uint_eq(ns.inodes_used, inodes + 1);
	ck_assert_uint_eq(ns.objects, objects + 1);
	ck_assert_uint_eq(root->nentries, NFIXTURE); /* no name */
	ck_assert_uint_eq(ns_path(&ns, ip, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "");
	ck_assert_int_eq(ns_reserve(&ns, ip, 3 * PAGE, 0, &granted), 0);
	ck_assert_uint_eq(ns.size_used, used + 3 * PAGE);

	/* a second holder keeps it */
	ns_hold(ip);
	ns_release(&ns, ip);
	ck_assert_ptr_eq(ns_iget(&ns, ino), ip);
	/* the last one frees it, with its inode and its space */
	ns_release(&ns, ip);
	ck_assert_ptr_null(ns_iget(&ns, ino));
	ck_assert_uint_eq(ns.inodes_used, inodes);
	ck_assert_uint_eq(ns.objects, objects);
	ck_assert_uint_eq(ns.size_used, used);
}
END_TEST

/* A path that ".." leads out of the mounts is answered -SHX_EESCAPE with
 * the path the real file system should resolve instead in ns.escape. */
static const struct escape_case {
	int at;
	const char *path;
	const char *real;
} escape_cases[] = {
	{ ABS, "/dev/shm/..", "/dev" },
	{ ABS, "/dev/shm/../", "/dev/" },
	{ ABS, "/dev/shm/../x", "/dev/x" },
	{ ABS, "/dev/shm/./../x/y", "/dev/x/y" },
	{ AT_ROOT, "..", "/dev" },
	{ AT_ROOT, "../null", "/dev/null" },
	{ AT_ROOT, "./../..", "/dev/.." },
};

START_TEST(escape_table)
{
	const struct escape_case *c = &escape_cases[_i];
	struct ns_inode *ip = NULL;

	memset(ns.escape, '#', sizeof(ns.escape));
	ns.escape[sizeof(ns.escape) - 1] = 0;
	ck_assert_int_eq(ns_lookup(&ns, &ROOT, start_ino(c->at), c->path, 1, &ip), -SHX_EESCAPE);
	ck_assert_str_eq(ns.escape, c->real);
	memset(ns.escape, '#', sizeof(ns.escape) - 1);
	ck_assert_int_eq(ns_open(&ns, &ROOT, start_ino(c->at), c->path, O_RDONLY, 0, &ip),
			 -SHX_EESCAPE);
	ck_assert_str_eq(ns.escape, c->real);
}
END_TEST

/* --- unlink and rmdir ------------------------------------------------------- */

#define RMDIR AT_REMOVEDIR

/* victim: the fixture file that must be gone afterwards, or NULL. */
static const struct unlink_case {
	const struct shx_cred *cr;
	int at;
	const char *path;
	int flags;
	int want;
	const char *victim;
} unlink_cases[] = {
	{ R, ABS, "/dev/shm/file", 0, 0, "/dev/shm/file" },
	{ R, ABS, "/dev/shm//file", 0, 0, "/dev/shm/file" },
	{ R, ABS, "/dev/shm/../shm/file", 0, 0, "/dev/shm/file" },
	{ R, ABS, "/dev/shm/missing", 0, -ENOENT, NULL },
	{ R, ABS, "/dev/shm/missing/", 0, -ENOENT, NULL },
	{ R, ABS, "/dev/shm/missing/x", 0, -ENOENT, NULL },
	{ R, ABS, "/dev/shm/file/", 0, -ENOTDIR, NULL },
	{ R, ABS, "/dev/shm/file/x", 0, -ENOTDIR, NULL },
	{ R, ABS, "/dev/shm/" A256, 0, -ENAMETOOLONG, NULL },
	{ R, ABS, "/dev/shm", 0, -EISDIR, NULL },
	{ R, ABS, "/dev/shm/", 0, -EISDIR, NULL },
	{ R, ABS, "/dev/shm/.", 0, -EISDIR, NULL },
	{ R, ABS, "/dev/shm/..", 0, -SHX_EESCAPE, NULL },
	/* rmdir */
	{ R, ABS, "/dev/shm", RMDIR, -EBUSY, NULL },
	{ R, ABS, "/dev/shm/", RMDIR, -EBUSY, NULL },
	{ R, ABS, "/dev/shm/.", RMDIR, -EINVAL, NULL },
	{ R, ABS, "/dev/shm/file", RMDIR, -ENOTDIR, NULL },
	{ R, ABS, "/dev/shm/file/", RMDIR, -ENOTDIR, NULL },
	{ R, ABS, "/dev/shm/missing", RMDIR, -ENOENT, NULL },
	{ R, ABS, "/dev/shm/..", RMDIR, -SHX_EESCAPE, NULL },
	/* relative */
	{ R, AT_ROOT, "file", 0, 0, "/dev/shm/file" },
	{ R, AT_ROOT, ".", 0, -EISDIR, NULL },
	{ R, AT_ROOT, ".", RMDIR, -EINVAL, NULL },
	{ R, AT_ROOT, "..", 0, -SHX_EESCAPE, NULL },
	{ R, AT_ROOT, "../shm/secret", 0, 0, "/dev/shm/secret" },
	{ R, AT_FILE, "x", 0, -ENOTDIR, NULL },
	{ R, AT_BOGUS, "x", 0, -EBADF, NULL },
	/* the sticky bit: only the file's or the directory's owner (or root)
	 * may remove a name from /dev/shm */
	{ U, ABS, "/dev/shm/file", 0, -EPERM, NULL },
	{ U, ABS, "/dev/shm/theirs", 0, -EPERM, NULL },
	{ U, ABS, "/dev/shm/theirs", RMDIR, -EPERM, NULL }, /* before ENOTDIR */
	{ U, ABS, "/dev/shm/mine", 0, 0, "/dev/shm/mine" },
	{ U, ABS, "/dev/shm/missing", 0, -ENOENT, NULL },
	{ U, ABS, "/dev/shm/file/", 0, -ENOTDIR, NULL }, /* the slash before permission */
	{ &OTHER, ABS, "/dev/shm/theirs", 0, 0, "/dev/shm/theirs" },
	{ &OTHER, ABS, "/dev/shm/grp", 0, 0, "/dev/shm/grp" },
	{ R, ABS, "/dev/shm/theirs", 0, 0, "/dev/shm/theirs" },
};

START_TEST(unlink_table)
{
	const struct unlink_case *c = &unlink_cases[_i];
	uint64_t inodes = ns.inodes_used;
	uint32_t entries = root->nentries;
	int r = ns_unlink(&ns, c->cr, start_ino(c->at), c->path, c->flags);

	ck_assert_msg(r == c->want, "%.40s (flags %#x, uid %u): got %d, want %d", c->path,
		      c->flags, c->cr->uid, r, c->want);
	if (r < 0) {
		ck_assert_uint_eq(root->nentries, entries);
		ck_assert_uint_eq(ns.inodes_used, inodes);
		ck_assert_int_eq(exists("/dev/shm/file"), 0);
		return;
	}
	ck_assert_ptr_nonnull(c->victim);
	ck_assert_int_eq(exists(c->victim), -ENOENT);
	ck_assert_uint_eq(root->nentries, entries - 1);
	/* nobody held it: the inode is gone too */
	ck_assert_uint_eq(ns.inodes_used, inodes - 1);
}
END_TEST

/* An unlinked object lives on while held, nameless, and goes with its
 * last holder, space and all. */
START_TEST(unlink_open_object)
{
	static const char data[6000];
	struct ns_inode *ip = NULL, *again = NULL;
	uint64_t ino = f_file->ino, inodes = ns.inodes_used, granted, charge;
	uint64_t base = ns.size_used;
	struct shx_attr a;
	char path[64];
	uint8_t buf[SHX_DATA_MAX];
	struct shx_rep rep = { .data = buf, .datacap = sizeof(buf) };
	struct shx_dirent d;
	size_t off = 0;

	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/file", O_RDWR, 0, &ip), 0);
	ck_assert_int_eq(ns_reserve(&ns, ip, sizeof(data), 0, &granted), 0);
	ck_assert_int_eq(pwrite(ip->memfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	charge = ip->charged;
	ck_assert_uint_eq(charge, 2 * PAGE);

	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/file", 0), 0);
	ck_assert_ptr_eq(ns_iget(&ns, ino), ip);
	ck_assert_int_eq(ns_getattr(&ns, ip, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	ck_assert_uint_eq(a.size, sizeof(data));
	ck_assert_uint_eq(ns_path(&ns, ip, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "");
	ck_assert_int_eq(exists("/dev/shm/file"), -ENOENT);
	ck_assert_uint_eq(ns.size_used, base + charge);
	ck_assert_uint_eq(ns.inodes_used, inodes);
	/* not listed */
	ck_assert_int_eq(ns_readdir(&ns, root, 0, &rep), 0);
	while (shx_dirent_next(&rep, &off, &d) == 1)
		ck_assert_str_ne(d.name, "file");
	/* the name is free for a new, different inode */
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/file", O_CREAT | O_EXCL | O_RDWR, 0600,
				 &again),
			 1);
	ck_assert_uint_ne(again->ino, ino);
	ns_release(&ns, again);

	ns_release(&ns, ip);
	ck_assert_ptr_null(ns_iget(&ns, ino));
	ck_assert_uint_eq(ns.size_used, base);
	ck_assert_uint_eq(ns.inodes_used, inodes); /* one gone, one made */
}
END_TEST

/* --- lookup and access ------------------------------------------------------ */

static const struct access_case {
	const struct shx_cred *cr;
	const char *path;
	int mode;
	int want;
} access_cases[] = {
	{ R, "/dev/shm/file", F_OK, 0 },
	{ R, "/dev/shm/file", R_OK | W_OK, 0 },
	{ R, "/dev/shm/file", X_OK, -EACCES }, /* root needs an x bit to execute */
	{ R, "/dev/shm/secret", R_OK | W_OK, 0 },
	{ R, "/dev/shm", R_OK | W_OK | X_OK, 0 },
	{ R, "/dev/shm/missing", F_OK, -ENOENT },
	{ R, "/dev/shm/file/", F_OK, -ENOTDIR },
	{ R, "/dev/shm/file/x", F_OK, -ENOTDIR },
	{ R, "/dev/shm/..", F_OK, -SHX_EESCAPE },
	{ R, "/dev/shm/" A256, F_OK, -ENAMETOOLONG },
	{ U, "/dev/shm/file", R_OK, 0 },
	{ U, "/dev/shm/file", W_OK, -EACCES },
	{ U, "/dev/shm/file", R_OK | W_OK, -EACCES },
	{ U, "/dev/shm/secret", F_OK, 0 },
	{ U, "/dev/shm/secret", R_OK, -EACCES },
	{ U, "/dev/shm/mine", R_OK, -EACCES },
	{ U, "/dev/shm/mine", F_OK, 0 },
	{ U, "/dev/shm/grp", R_OK, 0 },
	{ U, "/dev/shm/grp", W_OK, -EACCES },
	{ U, "/dev/shm/theirs", R_OK | W_OK, 0 },
	{ U, "/dev/shm/theirs", X_OK, -EACCES },
	{ U, "/dev/shm", R_OK | W_OK | X_OK, 0 },
	{ U, "/dev/shm/", W_OK, 0 },
};

START_TEST(access_table)
{
	const struct access_case *c = &access_cases[_i];
	int r = ns_access(&ns, c->cr, 0, c->path, c->mode, 0);

	ck_assert_msg(r == c->want, "%.40s (mode %d, uid %u): got %d, want %d", c->path, c->mode,
		      c->cr->uid, r, c->want);
}
END_TEST

START_TEST(lookup_finds_the_inode)
{
	struct ns_inode *ip = NULL;

	ck_assert_ptr_eq(lookup("/dev/shm/file"), f_file);
	ck_assert_ptr_eq(lookup("/dev/shm/mine"), f_mine);
	ck_assert_ptr_eq(lookup("/dev/shm"), root);
	ck_assert_ptr_eq(lookup("/dev/shm/"), root);
	ck_assert_ptr_eq(lookup("/dev/shm/."), root);
	ck_assert_ptr_eq(lookup("/dev/shm/../shm/grp"), f_grp);
	ck_assert_int_eq(ns_lookup(&ns, &ROOT, root->ino, "theirs", 1, &ip), 0);
	ck_assert_ptr_eq(ip, f_theirs);
	/* a lookup holds nothing */
	ck_assert_uint_eq(f_file->holders, 0);
	ck_assert_uint_eq(f_secret->holders, 0);
}
END_TEST

/* --- readdir ---------------------------------------------------------------- */

static uint8_t dbuf[SHX_DATA_MAX];

struct listing {
	int n;
	char names[64][256];
	uint64_t inos[64], cookies[64];
	uint8_t types[64];
	int batches;
	uint64_t last_cookie;
};

/* Reads one batch from `cookie` into l; returns rep.value, *eof. */
static uint64_t read_batch(struct ns_inode *dir, uint64_t cookie, size_t room, struct listing *l,
			   int *eof)
{
	struct shx_rep rep = { .data = dbuf, .datacap = room };
	struct shx_dirent d;
	size_t off = 0;
	int r;

	ck_assert_int_eq(ns_readdir(&ns, dir, cookie, &rep), 0);
	ck_assert_uint_le(rep.datalen, room);
	while ((r = shx_dirent_next(&rep, &off, &d)) == 1) {
		ck_assert_int_lt(l->n, 64);
		strcpy(l->names[l->n], d.name);
		l->inos[l->n] = d.ino;
		l->cookies[l->n] = d.cookie;
		l->types[l->n] = d.type;
		l->n++;
	}
	ck_assert_int_eq(r, 0);
	l->batches++;
	*eof = !!(rep.hflags & SHX_HF_EOF);
	l->last_cookie = rep.value;
	return rep.value;
}

/* The whole directory, in batches of at most `room` bytes. */
static void list_all(struct ns_inode *dir, size_t room, struct listing *l)
{
	uint64_t cookie = 0;
	int eof = 0;

	memset(l, 0, sizeof(*l));
	while (!eof) {
		int before = l->n;
		uint64_t next = read_batch(dir, cookie, room, l, &eof);

		/* every batch makes progress, and the cookie only goes up */
		ck_assert_msg(l->n > before || eof, "no progress at cookie %llu",
			      (unsigned long long)cookie);
		ck_assert_uint_ge(next, cookie);
		cookie = next;
		ck_assert_int_lt(l->batches, 200);
	}
}

static void assert_names(const struct listing *l, const char *const *want, int n)
{
	ck_assert_int_eq(l->n, n);
	for (int i = 0; i < n; i++)
		ck_assert_str_eq(l->names[i], want[i]);
}

/* Newest first, as tmpfs lists (Linux 6.14 and later). */
START_TEST(readdir_all)
{
	static const char *const want[] = { ".", "..", "theirs", "grp", "mine", "secret", "file" };
	struct ns_inode *const files[] = { f_theirs, f_grp, f_mine, f_secret, f_file };
	struct listing l;

	list_all(root, sizeof(dbuf), &l);
	ck_assert_int_eq(l.batches, 1);
	assert_names(&l, want, N(want));
	ck_assert_uint_eq(l.inos[0], root->ino);
	ck_assert_uint_eq(l.types[0], DT_DIR);
	ck_assert_uint_eq(l.types[1], DT_DIR);
	/* "." is cookie 0, ".." cookie 1; each record's cookie resumes after it */
	ck_assert_uint_eq(l.cookies[0], 1);
	ck_assert_uint_gt(l.cookies[1], 1);
	for (int i = 0; i < NFIXTURE; i++) {
		ck_assert_uint_eq(l.inos[2 + i], files[i]->ino);
		ck_assert_uint_eq(l.types[2 + i], DT_REG);
		ck_assert_uint_gt(l.cookies[2 + i], l.cookies[1 + i]);
	}
	ck_assert_uint_eq(l.last_cookie, l.cookies[l.n - 1]);
}
END_TEST

/* At a mount root the kernel reports ".." as the root itself: the root
 * dentry is its own parent within its file system. */
START_TEST(readdir_dotdot_of_mount_root)
{
	struct listing l;

	list_all(root, sizeof(dbuf), &l);
	ck_assert_str_eq(l.names[1], "..");
	ck_assert_uint_eq(l.inos[1], root->ino);
}
END_TEST

/* Resuming from any record's cookie gives exactly what followed it. */
START_TEST(readdir_resume_from_every_cookie)
{
	struct listing all, rest;
	int eof;

	list_all(root, sizeof(dbuf), &all);
	for (int i = 0; i < all.n; i++) {
		memset(&rest, 0, sizeof(rest));
		read_batch(root, all.cookies[i], sizeof(dbuf), &rest, &eof);
		ck_assert(eof);
		ck_assert_int_eq(rest.n, all.n - i - 1);
		for (int k = 0; k < rest.n; k++)
			ck_assert_str_eq(rest.names[k], all.names[i + 1 + k]);
	}
	/* past the end: nothing more, and the end again */
	memset(&rest, 0, sizeof(rest));
	read_batch(root, all.last_cookie + 100, sizeof(dbuf), &rest, &eof);
	ck_assert_int_eq(rest.n, 0);
	ck_assert(eof);
}
END_TEST

/* offset_iterate_dir: an entry made during a listing is not seen (it is
 * newer than the place the listing is at), one removed before it was
 * reached never is -- also when it was the very next one. */
START_TEST(readdir_changes_mid_listing)
{
	static const char *const want[] = { ".", "..", "theirs", "mine", "file" };
	struct listing l;
	uint64_t cookie;
	int eof;

	memset(&l, 0, sizeof(l));
	/* room for ".", ".." and "theirs": 20 + 21 + 25 bytes */
	cookie = read_batch(root, 0, 66, &l, &eof);
	ck_assert(!eof);
	ck_assert_int_eq(l.n, 3);
	mk(&ROOT, "/dev/shm/late", 0600);
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/grp", 0), 0); /* the next one */
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/secret", 0), 0); /* not reached */
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/theirs", 0), 0); /* listed */
	read_batch(root, cookie, sizeof(dbuf), &l, &eof);
	ck_assert(eof);
	assert_names(&l, want, N(want));
}
END_TEST

/* The same without a batch boundary: ".." says where the listing goes on,
 * so what is made after it is not seen. */
START_TEST(readdir_made_after_dotdot)
{
	static const char *const want[] = { ".", "..", "theirs", "grp", "mine", "secret", "file" };
	struct listing l;
	uint64_t cookie;
	int eof;

	memset(&l, 0, sizeof(l));
	cookie = read_batch(root, 0, 41, &l, &eof);
	ck_assert_int_eq(l.n, 2);
	mk(&ROOT, "/dev/shm/late", 0600);
	read_batch(root, cookie, sizeof(dbuf), &l, &eof);
	assert_names(&l, want, N(want));
}
END_TEST

START_TEST(readdir_recreated_name_moves_to_end)
{
	static const char *const want[] = { ".", "..", "file", "theirs", "grp", "mine", "secret" };
	struct listing l;

	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/file", 0), 0);
	mk(&ROOT, "/dev/shm/file", 0600);
	list_all(root, sizeof(dbuf), &l);
	assert_names(&l, want, N(want));
}
END_TEST

/* A small buffer takes several batches and loses nothing.  A record is
 * 19 bytes and its name; 22 bytes, for "f00", is the largest here, so
 * every room below holds at least one. */
static const size_t small_rooms[] = { 22, 23, 43, 44, 64, 100, 1000 };

START_TEST(readdir_small_buffers)
{
	char names[40][16];
	const char *want[42] = { ".", ".." };
	struct listing l;

	restart(64 * MiB, 1000);
	for (int i = 0; i < 40; i++) {
		char path[32];

		snprintf(names[i], sizeof(names[i]), "f%02d", i);
		snprintf(path, sizeof(path), "/dev/shm/f%02d", i);
		want[2 + 39 - i] = names[i]; /* newest first */
		mk(&ROOT, path, 0600);
	}
	list_all(root, small_rooms[_i], &l);
	assert_names(&l, want, 42);
	/* as many batches as it takes, and no more than one per record */
	if (small_rooms[_i] < 1000)
		ck_assert_int_ge(l.batches, (int)(40 * 22 / small_rooms[_i]));
	ck_assert_int_le(l.batches, 42);
}
END_TEST

START_TEST(readdir_not_a_directory)
{
	struct shx_rep rep = { .data = dbuf, .datacap = sizeof(dbuf) };

	ck_assert_int_eq(ns_readdir(&ns, f_file, 0, &rep), -ENOTDIR);
}
END_TEST

/* --- sub-directories ---------------------------------------------------------- */

/* With sub-directories: /dev/shm/d (holding f and sub) and an empty
 * /dev/shm/e, made with ns_mkdir. */
static struct ns_inode *d_dir, *d_f, *d_sub, *e_dir;

static void setup_subdirs(void)
{
	setup();
	ck_assert_int_eq(ns_mkdir(&ns, &ROOT, 0, "/dev/shm/d", 0755), 0);
	mk(&ROOT, "/dev/shm/d/f", 0644);
	ck_assert_int_eq(ns_mkdir(&ns, &ROOT, 0, "/dev/shm/d/sub", 0755), 0);
	ck_assert_int_eq(ns_mkdir(&ns, &ROOT, 0, "/dev/shm/e", 0755), 0);
	d_dir = lookup("/dev/shm/d");
	d_f = lookup("/dev/shm/d/f");
	d_sub = lookup("/dev/shm/d/sub");
	e_dir = lookup("/dev/shm/e");
}

enum { AT_D = AT_BOGUS + 1 };

static const struct subdir_case {
	int op; /* OPEN, UNLINK */
	int at;
	const char *path;
	int flags;
	int want;
} subdir_cases[] = {
	{ UNLINK, ABS, "/dev/shm/d", RMDIR, -ENOTEMPTY },
	{ UNLINK, ABS, "/dev/shm/e", RMDIR, 0 },
	{ UNLINK, ABS, "/dev/shm/e/", RMDIR, 0 },
	{ UNLINK, ABS, "/dev/shm/d/sub", RMDIR, 0 },
	{ UNLINK, ABS, "/dev/shm/d/.", RMDIR, -EINVAL },
	{ UNLINK, ABS, "/dev/shm/d/..", RMDIR, -ENOTEMPTY },
	{ UNLINK, ABS, "/dev/shm/d/sub/..", RMDIR, -ENOTEMPTY },
	{ UNLINK, ABS, "/dev/shm/d/f", RMDIR, -ENOTDIR },
	{ UNLINK, ABS, "/dev/shm/d/f/", RMDIR, -ENOTDIR },
	{ UNLINK, ABS, "/dev/shm/d", 0, -EISDIR },
	{ UNLINK, ABS, "/dev/shm/d/", 0, -EISDIR },
	{ UNLINK, ABS, "/dev/shm/e", 0, -EISDIR },
	{ UNLINK, ABS, "/dev/shm/d/sub/..", 0, -EISDIR },
	{ UNLINK, ABS, "/dev/shm/d/f", 0, 0 },
	{ UNLINK, AT_D, "f", 0, 0 },
	{ UNLINK, AT_D, "sub", RMDIR, 0 },
	{ UNLINK, AT_D, "..", RMDIR, -ENOTEMPTY },
	{ OPEN, ABS, "/dev/shm/d", O_WRONLY, -EISDIR },
	{ OPEN, ABS, "/dev/shm/d/f/..", O_RDONLY, -ENOTDIR },
	{ OPEN, ABS, "/dev/shm/d/..", O_RDONLY, 0 },
	{ OPEN, ABS, "/dev/shm/d/../d/f", O_RDONLY, 0 },
	{ OPEN, ABS, "/dev/shm/d/sub/../f", O_RDONLY, 0 },
	{ OPEN, ABS, "/dev/shm/d", O_CREAT | O_RDONLY, -EISDIR },
	{ OPEN, ABS, "/dev/shm/d", O_CREAT | O_EXCL | O_RDONLY, -EEXIST },
	{ OPEN, ABS, "/dev/shm/d/..", O_CREAT | O_RDONLY, -EISDIR },
	{ OPEN, ABS, "/dev/shm/d/..", O_CREAT | O_EXCL | O_RDONLY, -EEXIST },
	{ OPEN, ABS, "/dev/shm/d/new", O_CREAT | O_RDWR, 1 },
	{ OPEN, AT_D, "f", O_RDONLY, 0 },
	{ OPEN, AT_D, "../file", O_RDONLY, 0 },
	{ OPEN, AT_D, "../..", O_RDONLY, -SHX_EESCAPE },
	{ OPEN, AT_D, "sub/../../d/f", O_RDONLY, 0 },
};

START_TEST(subdir_table)
{
	const struct subdir_case *c = &subdir_cases[_i];
	uint64_t start = c->at == AT_D ? d_dir->ino : start_ino(c->at);
	uint32_t root_links = root->nlink, d_links = d_dir->nlink;
	struct ns_inode *ip = NULL;
	int r;

	ck_assert_uint_eq(root_links, 4); /* ".", its name, "d/..", "e/.." */
	ck_assert_uint_eq(d_links, 3);
	if (c->op == OPEN) {
		r = ns_open(&ns, &ROOT, start, c->path, c->flags, 0600, &ip);
		if (r >= 0)
			ns_release(&ns, ip);
	} else {
		r = ns_unlink(&ns, &ROOT, start, c->path, c->flags);
	}
	ck_assert_msg(r == c->want, "%s (flags %#o): got %d, want %d", c->path, c->flags, r,
		      c->want);
	/* a removed directory takes its ".." link from its parent */
	if (r == 0 && c->op == UNLINK && (c->flags & RMDIR)) {
		int in_d = strstr(c->path, "sub") != NULL;

		ck_assert_uint_eq(root->nlink, root_links - !in_d);
		ck_assert_uint_eq(d_dir->nlink, d_links - in_d);
	} else {
		ck_assert_uint_eq(root->nlink, root_links);
		ck_assert_uint_eq(d_dir->nlink, d_links);
	}
}
END_TEST

/* A sub-directory lists ".." as its parent; its attributes follow tmpfs. */
START_TEST(subdir_readdir_and_attrs)
{
	static const char *const want[] = { ".", "..", "sub", "f" };
	struct shx_attr a;
	struct listing *l = malloc(sizeof(*l));
	char path[64];

	ck_assert_ptr_nonnull(l);
	list_all(d_dir, sizeof(dbuf), l);
	assert_names(l, want, N(want));
	ck_assert_uint_eq(l->inos[0], d_dir->ino);
	ck_assert_uint_eq(l->inos[1], root->ino);
	ck_assert_uint_eq(l->inos[3], d_f->ino);
	ck_assert_uint_eq(l->types[2], DT_DIR);
	free(l);
	ck_assert_int_eq(ns_getattr(&ns, d_dir, &a), 0);
	ck_assert_uint_eq(a.mode, S_IFDIR | 0755);
	ck_assert_uint_eq(a.nlink, 3);
	ck_assert_uint_eq(a.size, 4 * 20);
	ck_assert_uint_eq(ns_path(&ns, d_sub, path, sizeof(path)), strlen("/dev/shm/d/sub"));
	ck_assert_str_eq(path, "/dev/shm/d/sub");
	ck_assert_ptr_eq(lookup("/dev/shm/d/sub/.."), d_dir);
	ck_assert_ptr_eq(lookup("/dev/shm/d/sub/../.."), root);
	/* rmdir of an empty directory frees it */
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/e", AT_REMOVEDIR), 0);
	ck_assert_int_eq(exists("/dev/shm/e"), -ENOENT);
	ck_assert_uint_eq(ns.inodes_used, 1 + NFIXTURE + 3);
}
END_TEST

/* --- space ------------------------------------------------------------------- */

/* Reservations against a 16-page limit, step by step. */
START_TEST(reserve_accounting)
{
	struct ns_inode *f, *g;
	uint64_t granted = 0;

	restart(16 * PAGE, 1000);
	f = mk(&ROOT, "/dev/shm/f", 0600);
	g = mk(&ROOT, "/dev/shm/g", 0600);
	ck_assert_uint_eq(ns.size_used, 0);

	/* page-rounded */
	ck_assert_int_eq(ns_reserve(&ns, f, 1, 0, &granted), 0);
	ck_assert_uint_eq(granted, PAGE);
	ck_assert_uint_eq(f->charged, PAGE);
	ck_assert_uint_eq(ns.size_used, PAGE);
	/* within what is paid for: no change */
	ck_assert_int_eq(ns_reserve(&ns, f, PAGE, 0, &granted), 0);
	ck_assert_uint_eq(granted, PAGE);
	ck_assert_int_eq(ns_reserve(&ns, f, 0, 0, &granted), 0);
	ck_assert_uint_eq(granted, PAGE);
	ck_assert_uint_eq(ns.size_used, PAGE);
	/* growing charges the difference */
	ck_assert_int_eq(ns_reserve(&ns, f, 10 * PAGE - 1, 0, &granted), 0);
	ck_assert_uint_eq(granted, 10 * PAGE);
	ck_assert_uint_eq(ns.size_used, 10 * PAGE);
	/* over the limit: all or nothing... */
	ck_assert_int_eq(ns_reserve(&ns, g, 7 * PAGE, 0, &granted), -ENOSPC);
	ck_assert_uint_eq(g->charged, 0);
	ck_assert_uint_eq(ns.size_used, 10 * PAGE);
	/* ...or what is left, like a short write */
	ck_assert_int_eq(ns_reserve(&ns, g, 7 * PAGE, 1, &granted), 0);
	ck_assert_uint_eq(granted, 6 * PAGE);
	ck_assert_uint_eq(g->charged, 6 * PAGE);
	ck_assert_uint_eq(ns.size_used, 16 * PAGE);
	/* full: a partial reservation grants what the object already has (a
	 * writer inside it gets its short write; the client makes ENOSPC of
	 * a grant that ends before its offset), and an existing one holds */
	ck_assert_int_eq(ns_reserve(&ns, g, 7 * PAGE, 1, &granted), 0);
	ck_assert_uint_eq(granted, 6 * PAGE);
	ck_assert_int_eq(ns_reserve(&ns, f, 11 * PAGE, 1, &granted), 0);
	ck_assert_uint_eq(granted, 10 * PAGE);
	ck_assert_uint_eq(ns.size_used, 16 * PAGE);
	ck_assert_int_eq(ns_reserve(&ns, f, 11 * PAGE, 0, &granted), -ENOSPC);
	ck_assert_int_eq(ns_reserve(&ns, f, 5 * PAGE, 0, &granted), 0);
	ck_assert_uint_eq(granted, 10 * PAGE);
	/* beyond what a file can be */
	ck_assert_int_eq(ns_reserve(&ns, f, (uint64_t)INT64_MAX + 1, 1, &granted), -EFBIG);
	ck_assert_int_eq(ns_reserve(&ns, f, UINT64_MAX, 0, &granted), -EFBIG);

	/* ns_sync recounts from what the memfd holds: f is empty */
	ns_sync(&ns, f);
	ck_assert_uint_eq(f->charged, 0);
	ck_assert_uint_eq(ns.size_used, 6 * PAGE);
	/* which frees room for others */
	ck_assert_int_eq(ns_reserve(&ns, g, 16 * PAGE, 0, &granted), 0);
	ck_assert_uint_eq(ns.size_used, 16 * PAGE);
}
END_TEST

/* ftruncate of the memfd (what a client does after reserving), then a
 * sync: the charge follows the size down and up. */
START_TEST(sync_follows_the_memfd)
{
	static const char data[3 * 4096 + 1];
	uint64_t granted;
	struct ns_inode *f, *g;

	restart(64 * PAGE, 1000);
	f = mk(&ROOT, "/dev/shm/f", 0600);
	ck_assert_int_eq(ns_reserve(&ns, f, 32 * PAGE, 0, &granted), 0);
	ck_assert_int_eq(ftruncate(f->memfd, 32 * PAGE), 0);
	ns_sync(&ns, f);
	ck_assert_uint_eq(f->charged, 32 * PAGE);
	ck_assert_uint_eq(ns.size_used, 32 * PAGE);
	ck_assert_int_eq(ftruncate(f->memfd, 100), 0);
	ns_sync(&ns, f);
	ck_assert_uint_eq(f->charged, PAGE);
	ck_assert_uint_eq(ns.size_used, PAGE);
	ck_assert_int_eq(pwrite(f->memfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	ns_sync(&ns, f);
	ck_assert_uint_eq(f->charged, 4 * PAGE);
	ck_assert_uint_eq(ns.size_used, 4 * PAGE);
	/* a directory has no charge to recount */
	ns_sync(&ns, root);
	ck_assert_uint_eq(ns.size_used, 4 * PAGE);
	/* releasing a holder recounts too: later, when idle, or when the
	 * figures are needed */
	ck_assert_int_eq(ftruncate(f->memfd, 0), 0);
	ns_hold(f);
	ns_release(&ns, f);
	ck_assert_uint_eq(f->charged, 4 * PAGE);
	ck_assert_int_eq(ns.nunsynced, 1);
	ns_sync_pending(&ns);
	ck_assert_uint_eq(f->charged, 0);
	ck_assert_uint_eq(ns.size_used, 0);
	ck_assert_int_eq(ns.nunsynced, 0);
	/* by ns_idle, one piece of work at a time */
	ck_assert_int_eq(pwrite(f->memfd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	ns_hold(f);
	ns_release(&ns, f);
	while (ns_idle(&ns))
		;
	ck_assert_uint_eq(f->charged, 4 * PAGE);
	/* a reservation short of room recounts first: what the closed file
	 * no longer needs is room again */
	g = mk(&ROOT, "/dev/shm/g", 0600);
	ck_assert_int_eq(ftruncate(f->memfd, 0), 0);
	ns_hold(f);
	ns_release(&ns, f);
	ck_assert_int_eq(ns.nunsynced, 1);
	ck_assert_int_eq(ns_reserve(&ns, g, 64 * PAGE, 0, &granted), 0);
	ck_assert_uint_eq(f->charged, 0);
	ck_assert_uint_eq(ns.size_used, 64 * PAGE);
}
END_TEST

/* Unlinking and releasing everything brings the figures back to zero. */
START_TEST(everything_returns)
{
	struct ns_inode *ip[3];
	uint64_t granted;
	char path[32];

	restart(64 * PAGE, 1000);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/dev/shm/o%d", i);
		ck_assert_int_eq(ns_open(&ns, &USER, 0, path, O_CREAT | O_RDWR, 0600, &ip[i]), 1);
		ck_assert_int_eq(ns_reserve(&ns, ip[i], (i + 1) * 5000, 0, &granted), 0);
	}
	ck_assert_uint_eq(ns.size_used, (2 + 3 + 4) * PAGE);
	ck_assert_uint_eq(ns.objects, 3);
	ck_assert_uint_eq(ns.inodes_used, 4); /* with the root */
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/dev/shm/o%d", i);
		ck_assert_int_eq(ns_unlink(&ns, &USER, 0, path, 0), 0);
	}
	/* still held */
	ck_assert_uint_eq(ns.size_used, (2 + 3 + 4) * PAGE);
	for (int i = 0; i < 3; i++)
		ns_release(&ns, ip[i]);
	ck_assert_uint_eq(ns.size_used, 0);
	ck_assert_uint_eq(ns.objects, 0);
	ck_assert_uint_eq(ns.inodes_used, 1);
}
END_TEST

/* tmpfs rounds size= up to whole pages: size=10000 holds 3 pages. */
START_TEST(size_limit_rounds_up_to_pages)
{
	struct ns_inode *f;
	uint64_t granted = 0;

	restart(10000, 1000);
	f = mk(&ROOT, "/dev/shm/f", 0600);
	ck_assert_int_eq(ns_reserve(&ns, f, 3 * PAGE, 0, &granted), 0);
	ck_assert_uint_eq(granted, 3 * PAGE);
	ck_assert_int_eq(ns_reserve(&ns, f, 3 * PAGE + 1, 0, &granted), -ENOSPC);
}
END_TEST

/* tmpfs: size=0 means no size limit... */
START_TEST(size_zero_is_unlimited)
{
	struct ns_inode *f;
	uint64_t granted = 0;

	restart(0, 1000);
	f = mk(&ROOT, "/dev/shm/f", 0600);
	ck_assert_int_eq(ns_reserve(&ns, f, 1ULL << 40, 0, &granted), 0);
	ck_assert_uint_eq(granted, 1ULL << 40);
	ck_assert_uint_eq(ns.size_used, 1ULL << 40);
}
END_TEST

/* ...and nr_inodes=0 no inode limit. */
START_TEST(nr_inodes_zero_is_unlimited)
{
	struct ns_inode *f = NULL;
	char path[32];

	restart(64 * MiB, 0);
	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/dev/shm/f%d", i);
		ck_assert_int_eq(ns_open(&ns, &ROOT, 0, path, O_CREAT | O_RDWR, 0600, &f), 1);
		ns_release(&ns, f);
	}
	ck_assert_uint_eq(ns.inodes_used, 21);
}
END_TEST

/* --- inodes ------------------------------------------------------------------- */

/* Whatever the exact count, a full namespace refuses new inodes with
 * ENOSPC, still opens existing ones, and takes new ones again after an
 * unlink. */
START_TEST(inode_limit)
{
	struct ns_inode *ip = NULL;
	char path[32];
	int made = 0, r = 0;

	restart(64 * MiB, 5);
	while (made < 10) {
		snprintf(path, sizeof(path), "/dev/shm/i%d", made);
		r = ns_open(&ns, &ROOT, 0, path, O_CREAT | O_RDWR, 0600, &ip);
		if (r < 0)
			break;
		ck_assert_int_eq(r, 1);
		ns_release(&ns, ip);
		made++;
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_int_ge(made, 4);
	ck_assert_int_le(made, 5);
	ck_assert_int_eq(exists(path), -ENOENT); /* no name without an inode */
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm", O_TMPFILE | O_RDWR, 0600, &ip), -ENOSPC);
	/* existing files open; O_EXCL says EEXIST, not ENOSPC */
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/i0", O_CREAT | O_RDWR, 0600, &ip), 0);
	ns_release(&ns, ip);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/i0", O_CREAT | O_EXCL | O_RDWR, 0600, &ip),
			 -EEXIST);
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/i0", 0), 0);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, path, O_CREAT | O_RDWR, 0600, &ip), 1);
	ns_release(&ns, ip);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/one-more", O_CREAT | O_RDWR, 0600, &ip),
			 -ENOSPC);
}
END_TEST

/* tmpfs counts its root against nr_inodes: nr_inodes=3 leaves room for 2
 * files (df -i on a fresh tmpfs shows IUsed 1). */
START_TEST(inode_limit_counts_the_root)
{
	struct ns_inode *ip = NULL;

	restart(64 * MiB, 3);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/a", O_CREAT | O_RDWR, 0600, &ip), 1);
	ns_release(&ns, ip);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/b", O_CREAT | O_RDWR, 0600, &ip), 1);
	ns_release(&ns, ip);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/c", O_CREAT | O_RDWR, 0600, &ip), -ENOSPC);
}
END_TEST

/* --- paths, mounts ---------------------------------------------------------- */

START_TEST(path_of_inodes)
{
	char buf[SHX_PATH_MAX];
	struct ns_inode *ip = NULL;

	ck_assert_uint_eq(ns_path(&ns, f_file, buf, sizeof(buf)), strlen("/dev/shm/file"));
	ck_assert_str_eq(buf, "/dev/shm/file");
	mk(&ROOT, "/dev/shm/" A255, 0600);
	ip = lookup("/dev/shm/" A255);
	ck_assert_uint_eq(ns_path(&ns, ip, buf, sizeof(buf)), 9 + 255);
	ck_assert_str_eq(buf, "/dev/shm/" A255);
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/secret", 0), 0);
	/* f_secret is freed now; an unlinked but held file has no path */
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/file", O_RDONLY, 0, &ip), 0);
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/dev/shm/file", 0), 0);
	memset(buf, 'x', 8);
	ck_assert_uint_eq(ns_path(&ns, ip, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ns_release(&ns, ip);
}
END_TEST

/* A second mount is a file system of its own: its own device, names and
 * root; ".." out of it leads into /dev/shm by the real path. */
START_TEST(second_mount)
{
	struct ns_inode *sroot, *ip = NULL;
	struct shx_attr a;
	char buf[64];

	ck_assert_int_eq(ns_add_mount(&ns, "/scratch"), 0);
	sroot = ns.mounts[1].root;
	ck_assert_int_eq(exists("/scratch/file"), -ENOENT);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/scratch/file", O_CREAT | O_RDWR, 0600, &ip), 1);
	ck_assert_ptr_ne(ip, f_file);
	ck_assert_int_eq(ns_getattr(&ns, ip, &a), 0);
	ck_assert_uint_eq(a.dev, makedev(0, SHX_DEV_BASE + 1));
	ck_assert_int_eq(ns_getattr(&ns, sroot, &a), 0);
	ck_assert_uint_eq(a.dev, makedev(0, SHX_DEV_BASE + 1));
	ck_assert_uint_eq(ns_path(&ns, ip, buf, sizeof(buf)), strlen("/scratch/file"));
	ck_assert_str_eq(buf, "/scratch/file");
	ns_release(&ns, ip);
	ck_assert_ptr_eq(lookup("/scratch/../dev/shm/file"), f_file);
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, "/scratch/file", 0), 0);
	ck_assert_int_eq(exists("/dev/shm/file"), 0);
	/* ".." of a mount at the top is "/" */
	ck_assert_int_eq(exists("/scratch/../tmp"), -SHX_EESCAPE);
	ck_assert_str_eq(ns.escape, "/tmp");
	ck_assert_int_eq(exists("/scratch/.."), -SHX_EESCAPE);
	ck_assert_str_eq(ns.escape, "/");
}
END_TEST

/* ns_each visits every inode once: the root and the fixture's files. */
static void count(struct ns_inode *ip, void *arg)
{
	int *n = arg;

	(void)ip;
	(*n)++;
}

START_TEST(each_visits_every_inode)
{
	int n = 0;
	struct ns_inode *ip = NULL;

	ns_each(&ns, count, &n);
	ck_assert_int_eq(n, 1 + NFIXTURE);
	ck_assert_int_ge(ns_open(&ns, &ROOT, 0, "/dev/shm", O_TMPFILE | O_RDWR, 0600, &ip), 0);
	n = 0;
	ns_each(&ns, count, &n);
	ck_assert_int_eq(n, 2 + NFIXTURE);
	ns_release(&ns, ip);
}
END_TEST

/* Hundreds of names: the hash tables grow, nothing gets lost. */
START_TEST(many_files)
{
	/* past the tables' initial 256 slots; one memfd each */
	enum { COUNT = 300 };
	char path[32];
	struct rlimit rl;
	struct shx_rep rep = { .data = dbuf, .datacap = sizeof(dbuf) };
	struct shx_dirent d;
	uint64_t cookie = 0;
	int seen = 0;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < COUNT + 64 && rl.rlim_max >= COUNT + 64) {
		rl.rlim_cur = COUNT + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	restart(64 * MiB, 100000);
	for (int i = 0; i < COUNT; i++) {
		snprintf(path, sizeof(path), "/dev/shm/n%d", i);
		mk(&ROOT, path, 0600);
	}
	ck_assert_uint_eq(ns.inodes_used, COUNT + 1);
	for (int i = 0; i < COUNT; i++) {
		snprintf(path, sizeof(path), "/dev/shm/n%d", i);
		ck_assert_int_eq(exists(path), 0);
	}
	/* listed newest first */
	for (;;) {
		size_t off = 0;

		ck_assert_int_eq(ns_readdir(&ns, root, cookie, &rep), 0);
		while (shx_dirent_next(&rep, &off, &d) == 1) {
			if (seen >= 2) {
				snprintf(path, sizeof(path), "n%d", COUNT - 1 - (seen - 2));
				ck_assert_str_eq(d.name, path);
			}
			seen++;
		}
		cookie = rep.value;
		if (rep.hflags & SHX_HF_EOF)
			break;
	}
	ck_assert_int_eq(seen, COUNT + 2);
	for (int i = 0; i < COUNT; i += 2) {
		snprintf(path, sizeof(path), "/dev/shm/n%d", i);
		ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, path, 0), 0);
	}
	ck_assert_uint_eq(ns.inodes_used, COUNT / 2 + 1);
	for (int i = 1; i < COUNT; i += 2) {
		snprintf(path, sizeof(path), "/dev/shm/n%d", i);
		ck_assert_int_eq(exists(path), 0);
	}
}
END_TEST

/* fs.protected_hardlinks: another user's file may be linked only when it
 * is a plain regular file the caller may read and write. */
START_TEST(protected_hardlinks)
{
	ck_assert_int_eq(ns_link(&ns, &USER, 0, "/dev/shm/file", 0, "/dev/shm/l1", 0), 0);
	ns.protected_hardlinks = 1;
	ck_assert_int_eq(ns_link(&ns, &USER, 0, "/dev/shm/file", 0, "/dev/shm/l2", 0), -EPERM);
	ck_assert_int_eq(ns_link(&ns, &USER, 0, "/dev/shm/theirs", 0, "/dev/shm/l3", 0), 0);
	ck_assert_int_eq(ns_link(&ns, &USER, 0, "/dev/shm/mine", 0, "/dev/shm/l4", 0), 0);
	ck_assert_int_eq(ns_link(&ns, &ROOT, 0, "/dev/shm/mine", 0, "/dev/shm/l5", 0), 0);
	f_theirs->mode = S_IFREG | S_ISUID | 0666;
	ck_assert_int_eq(ns_link(&ns, &USER, 0, "/dev/shm/theirs", 0, "/dev/shm/l6", 0), -EPERM);
	f_theirs->mode = S_IFREG | S_ISGID | 0676;
	ck_assert_int_eq(ns_link(&ns, &USER, 0, "/dev/shm/theirs", 0, "/dev/shm/l7", 0), -EPERM);
	f_theirs->mode = S_IFREG | S_ISGID | 0666; /* set-group-ID without group exec: fine */
	ck_assert_int_eq(ns_link(&ns, &USER, 0, "/dev/shm/theirs", 0, "/dev/shm/l8", 0), 0);
}
END_TEST

/* --- special files: mknod, FIFOs, devices, sockets -------------------------- */

static char nodes[80];

static void setup_nodes(void)
{
	setup();
	snprintf(nodes, sizeof(nodes), "%s.nodes", placeholder);
	ck_assert_int_eq(ns_set_nodes(&ns, nodes), 0);
}

static void stop_nodes(void)
{
	stop();
	rmdir(nodes);
}

/* may_mknod's type check comes before the walk; then filename_create's
 * EEXIST before its ENOENT for a trailing slash; then may_create; then
 * CAP_MKNOD for devices. */
static const struct {
	const char *path;
	mode_t mode;
	const struct shx_cred *cr;
	int want;
} mknod_cases[] = {
	{ "/dev/shm/nodir/x", S_IFDIR | 0755, &ROOT, -EPERM },
	{ "/dev/shm/nodir/x", 0170000 | 0644, &ROOT, -EINVAL },
	{ "/dev/shm/nodir/x", S_IFIFO | 0644, &ROOT, -ENOENT },
	{ "/dev/shm/file", S_IFIFO | 0644, &ROOT, -EEXIST },
	{ "/dev/shm/file/", S_IFIFO | 0644, &ROOT, -EEXIST },
	{ "/dev/shm/new/", S_IFIFO | 0644, &ROOT, -ENOENT },
	{ "/dev/shm", S_IFIFO | 0644, &ROOT, -EEXIST },
	{ "/dev/shm/file/x", S_IFIFO | 0644, &ROOT, -ENOTDIR },
	{ "/dev/shm/fifo", S_IFIFO | 0644, &USER, 0 },
	{ "/dev/shm/sock", S_IFSOCK | 0755, &USER, 0 },
	{ "/dev/shm/reg", 0644, &USER, 0 }, /* type 0: a regular file */
	{ "/dev/shm/chr", S_IFCHR | 0644, &USER, -EPERM },
	{ "/dev/shm/chr", S_IFCHR | 0644, &ROOT, 0 },
	{ "/dev/shm/blk", S_IFBLK | 0600, &ROOT, 0 },
};

START_TEST(mknod_table)
{
	struct ns_inode *ip = NULL;
	struct shx_attr a;
	struct stat st;
	char node[256];
	int r = ns_mknod(&ns, mknod_cases[_i].cr, 0, mknod_cases[_i].path, mknod_cases[_i].mode,
			 makedev(1, 3), &ip), want = mknod_cases[_i].want;

	/* a device's real node needs the test itself to have CAP_MKNOD */
	if (want == 0 && (S_ISCHR(mknod_cases[_i].mode) || S_ISBLK(mknod_cases[_i].mode)) &&
	    geteuid() != 0)
		want = -EPERM;
	ck_assert_msg(r == want, "%s %o: %d", mknod_cases[_i].path, mknod_cases[_i].mode, r);
	if (r < 0)
		return;
	ck_assert_int_eq(ns_getattr(&ns, ip, &a), 0);
	if (!(mknod_cases[_i].mode & S_IFMT))
		ck_assert_uint_eq(a.mode, S_IFREG | 0644);
	else
		ck_assert_uint_eq(a.mode, mknod_cases[_i].mode);
	ck_assert_uint_eq(a.uid, mknod_cases[_i].cr->uid);
	ck_assert_uint_eq(a.nlink, 1);
	ck_assert_uint_eq(a.size, 0);
	ck_assert_uint_eq(a.rdev, S_ISCHR(a.mode) || S_ISBLK(a.mode) ? makedev(1, 3) : 0);
	/* FIFOs and devices have their real node; a socket's is its binder's */
	if (S_ISREG(a.mode))
		return;
	ck_assert_int_eq(ns_node_path(&ns, ip, node, sizeof(node)), 0);
	if (S_ISSOCK(a.mode)) {
		ck_assert_int_eq(stat(node, &st), -1);
	} else {
		ck_assert_int_eq(stat(node, &st), 0);
		ck_assert_uint_eq(st.st_mode & S_IFMT, a.mode & S_IFMT);
		ck_assert_uint_eq(st.st_rdev, a.rdev);
	}
	/* the real node goes with the inode */
	ck_assert_int_eq(ns_unlink(&ns, &ROOT, 0, mknod_cases[_i].path, 0), 0);
	ck_assert_int_eq(stat(node, &st), -1);
}
END_TEST

/* A FIFO opens as an O_PATH fd of its real node, whatever the flags; the
 * client opens that. */
START_TEST(fifo_open)
{
	struct ns_inode *ip = NULL, *op = NULL;
	struct stat st;
	int fd;

	ck_assert_int_eq(ns_mknod(&ns, &ROOT, 0, "/dev/shm/p", S_IFIFO | 0600, 0, &ip), 0);
	ck_assert_int_eq(ns_open(&ns, &USER, 0, "/dev/shm/p", O_RDONLY, 0, &op), -EACCES);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/p", O_WRONLY | O_TRUNC, 0, &op), 0);
	ck_assert_ptr_eq(op, ip);
	fd = ns_open_fd(&ns, op, O_WRONLY | O_NONBLOCK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(fcntl(fd, F_GETFL) & O_PATH, O_PATH);
	close(fd);
	ns_release(&ns, op);
	ck_assert_int_eq(ns_open(&ns, &ROOT, 0, "/dev/shm/p", O_RDONLY | O_DIRECTORY, 0, &op),
			 -ENOTDIR);
}
END_TEST

/* connect's lookup: the path, write permission, then a socket or
 * ECONNREFUSED. */
START_TEST(find_socket)
{
	struct ns_inode *ip = NULL, *fp = NULL;

	ck_assert_int_eq(ns_mknod(&ns, &ROOT, 0, "/dev/shm/s", S_IFSOCK | 0755, 0, &ip), 0);
	ck_assert_int_eq(ns_find_socket(&ns, &ROOT, 0, "/dev/shm/s", &fp), 0);
	ck_assert_ptr_eq(fp, ip);
	ck_assert_int_eq(ns_find_socket(&ns, &USER, 0, "/dev/shm/s", &fp), -EACCES);
	ck_assert_int_eq(ns_find_socket(&ns, &ROOT, 0, "/dev/shm/file", &fp), -ECONNREFUSED);
	ck_assert_int_eq(ns_find_socket(&ns, &USER, 0, "/dev/shm/file", &fp), -EACCES);
	ck_assert_int_eq(ns_find_socket(&ns, &ROOT, 0, "/dev/shm/none", &fp), -ENOENT);
	ck_assert_int_eq(ns_symlink(&ns, &ROOT, "s", 0, "/dev/shm/l"), 0);
	ck_assert_int_eq(ns_find_socket(&ns, &ROOT, 0, "/dev/shm/l", &fp), 0);
	ck_assert_ptr_eq(fp, ip);
}
END_TEST

/* Without a directory for real nodes there are no FIFOs, devices or
 * sockets -- but mknod of a regular file still works. */
START_TEST(mknod_without_nodes)
{
	struct ns_inode *ip = NULL;

	ck_assert_int_eq(ns_mknod(&ns, &ROOT, 0, "/dev/shm/p", S_IFIFO | 0600, 0, &ip), -EPERM);
	ck_assert_int_eq(ns_mknod(&ns, &ROOT, 0, "/dev/shm/r", S_IFREG | 0600, 0, &ip), 0);
	ck_assert_int_eq(ns_lookup(&ns, &ROOT, 0, "/dev/shm/p", 0, &ip), -ENOENT);
}
END_TEST

static Suite *ns_suite(void)
{
	Suite *s = suite_create("ns");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, stop);
	tcase_add_loop_test(tc, open_table, 0, N(open_cases));
	tcase_add_loop_test(tc, dirperm_table, 0, N(dirperm_cases));
	tcase_add_loop_test(tc, escape_table, 0, N(escape_cases));
	tcase_add_test(tc, open_trunc);
	tcase_add_test(tc, create_attributes);
	tcase_add_test(tc, getattr_after_write);
	tcase_add_test(tc, open_fd);
	tcase_add_test(tc, tmpfile_lifecycle);
	suite_add_tcase(s, tc);

	tc = tcase_create("unlink");
	tcase_add_checked_fixture(tc, setup, stop);
	tcase_add_loop_test(tc, unlink_table, 0, N(unlink_cases));
	tcase_add_test(tc, unlink_open_object);
	tcase_add_test(tc, sticky_dir_owner_may_delete);
	suite_add_tcase(s, tc);

	tc = tcase_create("subdirs");
	tcase_add_checked_fixture(tc, setup_subdirs, stop);
	tcase_add_loop_test(tc, subdir_table, 0, N(subdir_cases));
	tcase_add_test(tc, subdir_readdir_and_attrs);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, setup, stop);
	tcase_add_loop_test(tc, access_table, 0, N(access_cases));
	tcase_add_test(tc, lookup_finds_the_inode);
	tcase_add_test(tc, path_of_inodes);
	tcase_add_test(tc, second_mount);
	tcase_add_test(tc, each_visits_every_inode);
	suite_add_tcase(s, tc);

	tc = tcase_create("readdir");
	tcase_add_checked_fixture(tc, setup, stop);
	tcase_add_test(tc, readdir_all);
	tcase_add_test(tc, readdir_dotdot_of_mount_root);
	tcase_add_test(tc, readdir_resume_from_every_cookie);
	tcase_add_test(tc, readdir_changes_mid_listing);
	tcase_add_test(tc, readdir_made_after_dotdot);
	tcase_add_test(tc, readdir_recreated_name_moves_to_end);
	tcase_add_loop_test(tc, readdir_small_buffers, 0, N(small_rooms));
	tcase_add_test(tc, readdir_not_a_directory);
	tcase_add_test(tc, many_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("space");
	tcase_add_checked_fixture(tc, setup, stop);
	tcase_add_test(tc, reserve_accounting);
	tcase_add_test(tc, sync_follows_the_memfd);
	tcase_add_test(tc, everything_returns);
	tcase_add_test(tc, size_limit_rounds_up_to_pages);
	tcase_add_test(tc, size_zero_is_unlimited);
	tcase_add_test(tc, nr_inodes_zero_is_unlimited);
	tcase_add_test(tc, inode_limit);
	tcase_add_test(tc, inode_limit_counts_the_root);
	tcase_add_test(tc, mknod_without_nodes);
	tcase_add_test(tc, protected_hardlinks);
	suite_add_tcase(s, tc);
	tc = tcase_create("special");
	tcase_add_checked_fixture(tc, setup_nodes, stop_nodes);
	tcase_add_loop_test(tc, mknod_table, 0, N(mknod_cases));
	tcase_add_test(tc, fifo_open);
	tcase_add_test(tc, find_socket);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* the placeholder: an empty directory here in the build tree */
	strcpy(placeholder, "shx-check-ns-XXXXXX");
	if (!mkdtemp(placeholder)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	sr = srunner_create(ns_suite());
	/* every test in a process of its own: a failing one cannot leave a
	 * namespace half torn down for the next */
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rmdir(placeholder);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
