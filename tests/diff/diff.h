/* tests/diff/diff.h -- observation API of shx-diff, the differential test
 * program.  shx-diff.c implements the runner and the API; scenarios.c holds
 * the scenario table.  Every observation is one line on stdout; a scenario's
 * lines must be the same whether /dev/shm is the kernel's tmpfs or shmemd
 * behind libshmemx, so nothing printed here may depend on inode or device
 * numbers, pids, fd numbers, addresses or clock readings. */
#ifndef SHX_DIFF_H
#define SHX_DIFF_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any #include (struct statx, O_* flags)"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define SHM_DIR "/dev/shm"
#define PAGE 4096L /* tmpfs allocation unit on the machines we target */

struct scenario {
	const char *name; /* [a-z0-9-]+, also part of its object names */
	void (*fn)(void);
};

extern const struct scenario scenarios[];
extern const size_t n_scenarios;

/* --- object names of the running scenario ------------------------------
 * Each returns one of a ring of static buffers, valid for the next few
 * dozen calls: use it in the statement that made it, or copy it.  A tag is
 * a short suffix such as "a". */
const char *objname(const char *tag); /* shxd-<scenario>.<tag> */
const char *path(const char *tag);    /* /dev/shm/shxd-<scenario>.<tag> */
const char *shmname(const char *tag); /* /shxd-<scenario>.<tag> */
const char *tag_of_len(size_t len);   /* a tag making objname() len chars */
const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* The System V keys of a scenario: this base (from its object name prefix,
 * objname("")) and the 255 after it. */
key_t sysv_key_base_of(const char *prefix);

/* --- observations ------------------------------------------------------
 * Each reads errno first, so the call under test can be an argument. */
const char *errname(int e); /* "ENOENT"; "0" for 0 */
void obs(const char *f, ...) __attribute__((format(printf, 1, 2)));
void obs_ret(const char *label, long long r);   /* ret=N errno=E */
void obs_fd(const char *label, int fd);         /* ret=fd, never the number */
void obs_err(const char *label, int err);       /* calls returning an errno */
void obs_map(const char *label, const void *p); /* mmap result */
void obs_data(const char *label, const void *buf, long n);
void obs_stat(const char *label, int r, const struct stat *st);
void obs_statx(const char *label, int r, const struct statx *stx);
void obs_dirstat(const char *label, int r, const struct stat *st);
void obs_fdflags(const char *label, int fd);
void obs_ts(const char *label, struct timespec before, struct timespec after);

/* --- call + observe shorthands ------------------------------------------ */
int obs_open(const char *label, const char *p, int flags, mode_t mode);
void probe_open(const char *label, const char *p, int flags, mode_t mode);
int obs_shm_open(const char *label, const char *tag, int flags, mode_t mode);
void obs_fstat(const char *label, int fd);
void obs_pstat(const char *label, const char *p); /* stat(2) of a path */
void obs_read(const char *label, int fd, size_t n);
void obs_pread(const char *label, int fd, size_t n, off_t off);
void obs_write(const char *label, int fd, const char *s);
void obs_pwrite(const char *label, int fd, const char *s, off_t off);
void obs_off(const char *label, int fd); /* lseek(fd, 0, SEEK_CUR) */
void *obs_mmap(const char *label, size_t len, int prot, int flags, int fd,
	       off_t off); /* NULL when mmap failed */
void obs_list(const char *label, const char *dir); /* opendir+readdir */
/* Every entry of dir, "." and ".." included, sorted, with its d_type: for
 * directories the scenario made itself, whose entries need no prefix. */
void obs_list_all(const char *label, const char *dir);
void obs_lstat(const char *label, const char *p); /* lstat(2) of a path */
/* A directory the scenario made: like obs_dirstat plus its link count,
 * which counts only the scenario's own subdirectories. */
void obs_dstat(const char *label, const char *p);
/* readlink(p) into a buffer of bufsiz bytes: ret and the bytes returned. */
void obs_readlink(const char *label, const char *p, size_t bufsiz);

/* --- setup and cleanup: silent when they work, an observation when not -- */
int mk(const char *tag, const char *data); /* O_RDWR fd, offset at end */
void rm(const char *tag);
void xclose(int fd);
void nap(void); /* long enough for a tmpfs timestamp to move on */

/* --- processes ---------------------------------------------------------- */
/* Runs fn(arg) in a forked child (its observations are marked "child") and
 * records how the child ended. */
void obs_child(const char *label, void (*fn)(void *), void *arg);
void obs_wait(const char *label, pid_t pid); /* how a child ended */
/* One-byte handshakes over a pipe between a parent and its child. */
void sync_post(int fd);
bool sync_wait(int fd);
void child_mode(void); /* mark this process's observations as the child's */

#endif
