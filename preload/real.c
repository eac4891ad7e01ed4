/* real.c -- the real functions, the library's initialisation, and the
 * helpers every wrapper family uses. */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "preload.h"

struct shx_real shx_real;
int shx_ready;

#ifndef SHX_BINDIR
#define SHX_BINDIR "/usr/local/bin"
#endif

static void hold_again(int fd, struct shx_fdent *e, void *arg)
{
	/* what the parent's reservation paid for, the child may write */
	struct shx_req q = { .op = SHX_OP_HOLD, .ino = e->ino, .size = e->reserved };

	/* the parent's append budget is the parent's: the child asks anew */
	atomic_store(&e->budget, 0);
	atomic_store(&e->inflight, 0);
	shx_notify(&q);
}

/* The child of fork holds the parent's fds and System V attachments too:
 * tell the manager so, on a connection of the child's own. */
static void after_fork_child(void)
{
	shx_conn_after_fork();
	shx_fdtab_each(hold_again, NULL);
	shx_cwd_after_fork();
	shx_sysv_after_fork_child();
	shx_pg_after_fork_child();
}

/* Managed fds inherited across exec: the new image starts with an empty
 * table, so find them (memfds named "shmemx") and hold them again, so that
 * their writes are charged and the objects stay known.  One getdents and a
 * readlink per open fd, at start-up only. */
static void adopt_inherited(void)
{
	char buf[2048], link[64];
	int dfd = syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long n;

	if (dfd < 0)
		return;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			int fd = atoi(d->d_name);
			struct shx_attr a;
			struct stat st;
			long len;

			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9' || fd == dfd)
				continue;
			len = syscall(SYS_readlinkat, dfd, d->d_name, link, sizeof(link) - 1);
			if (len < 14 || memcmp(link, "/memfd:shmemx ", 14))
				continue;
			if (REAL(fstat)(fd, &st) == 0)
				shx_fd_recognise(fd, &st, &a);
		}
	}
	syscall(SYS_close, dfd);
}

void shx_init(void)
{
	static atomic_int once;
	const char *shmemd = getenv("SHMEMX_SHMEMD");
	int saved = errno;

#define WRAP(ret, name, params) shx_real.name = (ret(*) params)dlsym(RTLD_NEXT, #name);
#include "wrappers.def"
#undef WRAP
	if (atomic_exchange(&once, 1)) {
		errno = saved;
		return;
	}
	shx_log_init("libshmemx");
	shx_mounts_init();
	shx_conn_set_app(getenv("SHMEMX_APP"));
	shx_backtrace_init();
	shx_conn_init(shmemd && *shmemd ? shmemd : SHX_BINDIR "/shmemd");
	shx_cwd_init(shx_conn_placeholder());
	pthread_atfork(shx_sysv_before_fork, shx_sysv_after_fork_parent, after_fork_child);
	atomic_store(&shx_ready, 1);
	adopt_inherited();
	errno = saved;
}

__attribute__((constructor)) static void shx_constructor(void)
{
	if (!shx_ready)
		shx_init();
}

/* rel in the managed directory of fd, if fd is one: 1, 0 if not, or
 * -ENAMETOOLONG. */
static int in_dir(int fd, const char *rel, struct shx_path *p)
{
	struct shx_fdent *e = shx_fdtab_get(fd);
	size_t n;

	if (!e || !(e->flags & SHX_FD_DIR))
		return 0;
	n = strnlen(rel, sizeof(p->path));
	if (n >= sizeof(p->path))
		return -ENAMETOOLONG;
	memcpy(p->path, rel, n + 1);
	p->start = e->ino;
	return 1;
}

/* "/dev/fd/N/rest" with N a managed directory fd is rest in that
 * directory (a process's own fds; they do not survive exec). */
static int dev_fd(const char *s, struct shx_path *p)
{
	int fd = 0;

	if (*s < '0' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9' && fd < SHX_FDTAB_SLOTS; s++)
		fd = fd * 10 + (*s - '0');
	if (*s && *s != '/')
		return 0;
	while (*s == '/')
		s++;
	return in_dir(fd, *s ? s : ".", p);
}

int shx_classify(int dirfd, const char *path, struct shx_path *p)
{
	int m;

	path = shx_opaque(path);
	if (!path)
		return 0;
	if (path[0] == '/') {
		m = shx_path_classify(path, p->path, sizeof(p->path));
		p->start = 0;
		if (m == -1 && !strncmp(path, "/dev/fd/", 8))
			return dev_fd(path + 8, p);
		return m >= 0 ? 1 : m == -1 ? 0 : m;
	}
	if (!path[0])
		return 0;
	if (dirfd == AT_FDCWD)
		return shx_cwd_join(path, p);
	return in_dir(dirfd, path, p);
}

void shx_req_init(struct shx_req *q, unsigned op, const struct shx_path *p)
{
	memset(q, 0, offsetof(struct shx_req, path));
	q->op = op;
	if (p) {
		q->ino = p->start;
		shx_req_set_path(q, p->path);
	}
}

int shx_request(struct shx_req *q, struct shx_rep *p, int *fd, int fd_flags)
{
	static atomic_int warned;
	char escape[SHX_PATH_MAX];
	uint8_t *data = p->data;
	uint32_t cap = p->datacap;
	int r;

	/* room for the real path an -SHX_EESCAPE answer carries; a smaller
	 * buffer of the caller's gets its data copied back */
	if (cap < sizeof(escape) - 1) {
		p->data = (uint8_t *)escape;
		p->datacap = sizeof(escape) - 1;
	}
	r = shx_call(q, p, fd, fd_flags);
	if (r == 0 && p->status == -SHX_EESCAPE) {
		memcpy(q->path, p->data, p->datalen);
		q->path[p->datalen] = 0;
		q->pathlen = p->datalen;
	} else if (r == 0 && p->data != data) {
		if (p->datalen > cap)
			r = -EPROTO;
		else if (p->datalen)
			memcpy(data, p->data, p->datalen);
	}
	p->data = data;
	p->datacap = cap;
	if (r == 0)
		return p->status;
	if (!atomic_exchange(&warned, 1))
		shx_log("cannot reach the manager: %s", strerror(-r));
	return -EIO;
}

/* An fd we did not open ourselves can still be a managed object: an fd
 * inherited across exec, received over a socket or duplicated.  Its memfd
 * gives it away: a regular file with no links, named "shmemx". */
struct shx_fdent *shx_fd_recognise(int fd, const struct stat *st, struct shx_attr *a)
{
	static struct shx_fdent vfork_entry;
	char proc[64], link[64];
	ssize_t n;

	if (!S_ISREG(st->st_mode) || st->st_nlink != 0 || major(st->st_dev) != 0)
		return NULL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = syscall(SYS_readlinkat, AT_FDCWD, proc, link, sizeof(link) - 1);
	if (n < 0)
		return NULL;
	link[n] = 0;
	if (strncmp(link, "/memfd:shmemx ", 14))
		return NULL;
	if (shx_getattr(st->st_ino, a) < 0)
		return NULL;
	if (shx_conn_vforked()) /* the table is the parent's */
		return &vfork_entry;
	shx_fd_adopt(fd, st->st_ino, fcntl(fd, F_GETFL));
	return shx_fdtab_get(fd);
}

void shx_fd_adopt(int fd, uint64_t ino, int fl)
{
	struct shx_req q;

	if (fl < 0 || shx_conn_vforked())
		return;
	shx_req_init(&q, SHX_OP_HOLD, NULL);
	q.ino = ino;
	shx_notify(&q);
	shx_fdtab_set(fd, ino, (fl & O_APPEND ? SHX_FD_APPEND : 0) |
				       ((fl & O_ACCMODE) != O_RDONLY && !(fl & O_PATH) ? SHX_FD_WRITE
										   : 0));
}
