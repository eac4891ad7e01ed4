/* cwd.c -- the working directory.
 *
 * The kernel cannot enter a managed directory, so inside a mount the
 * working directory is virtual: the library keeps its path, the process's
 * real working directory is the manager's empty placeholder, and relative
 * paths are made absolute here before they are classified.  The same is
 * done when the real working directory is above a mount ("/", "/dev"),
 * where a relative path such as "shm/x" leads into one.  Anywhere else the
 * library keeps no path and relative paths cost nothing.
 *
 * Two path buffers, flipped atomically, so that readers (any call with a
 * relative path, signal handlers included) never see one half-written.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload.h"

struct cwd {
	int virtual;  /* inside a mount: the real cwd is a placeholder */
	uint64_t ino; /* virtual: the directory, which this process holds */
	size_t len;
	char path[SHX_PATH_MAX];
};

static struct cwd cwds[2];
static atomic_int current = -1; /* -1: the real cwd, unrelated to any mount */

/* A vfork child shares our memory but has a working directory of its own
 * (Python's subprocess with cwd= does chdir, then exec, in one): its cwd
 * lives here, tagged with its pid, until it execs, so that the parent
 * finds its own untouched when it resumes. */
static struct cwd vcwd;
static atomic_int vcwd_pid; /* 0: no vfork child has a cwd of its own */
static int vcwd_plain;

/* The working directory is nowhere near a mount: relative paths are not
 * ours. */
int shx_cwd_plain(void)
{
	return atomic_load_explicit(&current, memory_order_relaxed) < 0 &&
	       !atomic_load_explicit(&vcwd_pid, memory_order_relaxed);
}

/* The working directory of this process, NULL when it is plain. */
static const struct cwd *cwd_now(void)
{
	int pid = atomic_load(&vcwd_pid), i;

	if (pid && pid == getpid())
		return vcwd_plain ? NULL : &vcwd;
	i = atomic_load(&current);
	return i < 0 ? NULL : &cwds[i];
}

/* The exec'd image takes the child's cwd from the environment, and the
 * parent will resume with no trace of it; an exec that fails puts it
 * back. */
int shx_cwd_exec_begin(void)
{
	int pid = atomic_load(&vcwd_pid);

	if (!pid || pid != getpid())
		return 0;
	atomic_store(&vcwd_pid, 0);
	return pid;
}

void shx_cwd_exec_failed(int token)
{
	if (token)
		atomic_store(&vcwd_pid, token);
}

/* Is the real directory dir above a mount ("/", "/dev"), where a
 * relative path can lead into one?  A real directory inside a mount's
 * prefix (a program started in the real /tmp/build) stays real: its
 * relative paths are the kernel's, since that is where the process is. */
static int near_mount(const char *dir, size_t len)
{
	const struct shx_mount *m;
	int n = shx_mounts(&m);

	if (len == 1 && dir[0] == '/')
		return 1;
	for (int i = 0; i < n; i++)
		if (len < m[i].len && !strncmp(m[i].prefix, dir, len) && m[i].prefix[len] == '/')
			return 1;
	return 0;
}

/* The manager keeps a virtual cwd alive as it would an open directory:
 * held from chdir until the next one. */
static void cwd_hold(unsigned op, uint64_t ino)
{
	struct shx_req q;

	shx_req_init(&q, op, NULL);
	q.ino = ino;
	shx_notify(&q);
}

static void cwd_set(const char *path, uint64_t ino)
{
	int cur = atomic_load(&current), next = cur == 0 ? 1 : 0;
	uint64_t old = cur >= 0 && cwds[cur].virtual ? cwds[cur].ino : 0;
	size_t len = strlen(path);

	if (shx_conn_vforked()) {
		vcwd_plain = !ino && !near_mount(path, len);
		memcpy(vcwd.path, path, len + 1);
		vcwd.len = len;
		vcwd.virtual = ino != 0;
		vcwd.ino = ino;
		atomic_store(&vcwd_pid, getpid());
		return;
	}
	atomic_store(&vcwd_pid, 0); /* a vfork child's, left behind */
	if (!ino && !near_mount(path, len)) {
		atomic_store(&current, -1);
	} else {
		memcpy(cwds[next].path, path, len + 1);
		cwds[next].len = len;
		cwds[next].virtual = ino != 0;
		cwds[next].ino = ino;
		atomic_store(&current, next);
	}
	if (old)
		cwd_hold(SHX_OP_CLOSE, old);
}

/* After fork: the child holds the virtual cwd too. */
void shx_cwd_after_fork(void)
{
	int i = atomic_load(&current);

	if (i >= 0 && cwds[i].virtual)
		cwd_hold(SHX_OP_HOLD, cwds[i].ino);
}

/* After a real chdir: remember the new directory if it is near a mount. */
static void cwd_export(int virtual);
static int enter(struct shx_path *path, int fd, uint64_t ino);

static void cwd_refresh(void)
{
	char buf[SHX_PATH_MAX];

	if (syscall(SYS_getcwd, buf, sizeof(buf)) > 0)
		cwd_set(buf, 0);
	else
		cwd_set("", 0);
	cwd_export(0);
}

/* A preloaded program exec'd in a virtual cwd starts in the placeholder;
 * $SHMEMX_CWD ("INO:PATH", set by our chdir and our execve: the inode
 * first, since the directory may have moved) or else $PWD (which shells
 * keep) says where it really is. */
void shx_cwd_init(const char *placeholder)
{
	char buf[SHX_PATH_MAX], *colon;
	const char *cwd = getenv("SHMEMX_CWD"), *env[] = { cwd, getenv("PWD") };
	struct shx_path p;

	if (syscall(SYS_getcwd, buf, sizeof(buf)) <= 0) {
		atomic_store(&current, -1);
		return;
	}
	if (strcmp(buf, placeholder)) {
		cwd_set(buf, 0);
		return;
	}
	if (cwd && (colon = strchr(cwd, ':'))) {
		if (enter(NULL, -1, strtoull(cwd, NULL, 10)) == 0)
			return;
		env[0] = colon + 1;
	}
	for (int i = 0; i < 2; i++)
		if (env[i] && shx_path_classify(env[i], p.path, sizeof(p.path)) >= 0) {
			p.start = 0;
			if (enter(&p, -1, 0) == 0)
				return;
		}
	cwd_set(buf, 0);
}

/* SHMEMX_CWD=INO:PATH for the virtual cwd into buf; 0 if there is none. */
int shx_cwd_env(char *buf, size_t cap)
{
	const struct cwd *c = cwd_now();

	if (!c || !c->virtual)
		return 0;
	return snprintf(buf, cap, "SHMEMX_CWD=%llu:%s", (unsigned long long)c->ino, c->path) <
	       (int)cap;
}

/* Children of this process, exec'd by whatever means, learn the virtual
 * cwd from the environment. */
static void cwd_export(int virtual)
{
	char var[SHX_PATH_MAX + 64];

	if (shx_conn_vforked()) /* environ is the parent's; exec adds it */
		return;

	if (virtual && shx_cwd_env(var, sizeof(var)))
		setenv("SHMEMX_CWD", var + sizeof("SHMEMX_CWD"), 1);
	else if (getenv("SHMEMX_CWD"))
		unsetenv("SHMEMX_CWD");
}

int shx_cwd_join(const char *rel, struct shx_path *p)
{
	const struct cwd *c = cwd_now();
	size_t n;
	int m;

	if (!c)
		return 0;
	n = strlen(rel);
	/* inside a mount: relative to the directory itself, which may have
	 * been renamed or removed since */
	if (c->virtual) {
		if (n >= sizeof(p->path))
			return -ENAMETOOLONG;
		memcpy(p->path, rel, n + 1);
		p->start = c->ino;
		return 1;
	}
	if (c->len + 1 + n >= sizeof(p->path))
		return -ENAMETOOLONG;
	/* a path with "/." or "//" in it gets classified (squeezed) from a
	 * scratch copy */
	char tmp[SHX_PATH_MAX];

	memcpy(tmp, c->path, c->len);
	tmp[c->len] = '/';
	memcpy(tmp + c->len + 1, rel, n + 1);
	m = shx_path_classify(tmp, p->path, sizeof(p->path));
	p->start = 0;
	return m == -1 ? 0 : m < 0 ? m : 1;
}

/* Enters a managed directory -- by path, by a directory fd, or by inode
 * (when the real cwd is the placeholder already) --: the manager checks it
 * and names it, the real working directory becomes its placeholder. */
static int enter(struct shx_path *path, int fd, uint64_t ino)
{
	char data[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)data, .datacap = sizeof(data) - 1 };
	struct shx_req q;
	int r, held;

	shx_req_init(&q, SHX_OP_CHDIR, path);
	if (!path)
		q.ino = fd >= 0 ? shx_fdtab_get(fd)->ino : ino;
	q.aux = rep.datacap;
	r = shx_request(&q, &rep, NULL, 0);
	if (r == -SHX_EESCAPE)
		memcpy(path->path, q.path, q.pathlen + 1);
	if (r < 0)
		return r;
	data[rep.datalen] = 0;
	/* A vfork child holds nothing: its requests went on a connection of
	 * its own, already closed, and the image it execs holds the
	 * directory again (SHMEMX_CWD). */
	held = !shx_conn_vforked();
	if (path) {
		fd = shx_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd < 0)
			return fd;
	} else if (held) {
		cwd_hold(SHX_OP_HOLD, rep.attr.ino);
	}
	r = fd < 0 ? 0 : REAL(fchdir)(fd) < 0 ? -errno : 0;
	if (path) { /* its hold becomes the cwd's */
		if (held)
			shx_fdtab_clear(fd);
		REAL(close)(fd);
	}
	if (r < 0) {
		if (held)
			cwd_hold(SHX_OP_CLOSE, rep.attr.ino);
		return r;
	}
	cwd_set(data, rep.attr.ino);
	cwd_export(1);
	return 0;
}

SHX_EXPORT int chdir(const char *path)
{
	struct shx_path p;
	int r = shx_classify(AT_FDCWD, path, &p);

	if (r < 0)
		return shx_ret(r);
	if (r > 0) {
		r = enter(&p, -1, 0);
		if (r != -SHX_EESCAPE)
			return shx_ret(r);
		path = p.path; /* ".." or a symlink led out of the mounts */
	}
	if (REAL(chdir)(path) < 0)
		return -1;
	cwd_refresh();
	return 0;
}

SHX_EXPORT int fchdir(int fd)
{
	struct shx_fdent *e = shx_fdtab_get(fd);

	if (e && (e->flags & SHX_FD_DIR)) {
		int r = enter(NULL, fd, 0);

		if (r != -ESTALE)
			return shx_ret(r);
	}
	if (REAL(fchdir)(fd) < 0)
		return -1;
	cwd_refresh();
	return 0;
}

SHX_EXPORT char *getcwd(char *buf, size_t size)
{
	const struct cwd *c = cwd_now();
	char data[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)data, .datacap = sizeof(data) - 1 };
	struct shx_req q;
	size_t len;
	int r;

	if (!c || !c->virtual)
		return REAL(getcwd)(buf, size);
	/* where the directory is now: it may have moved, or be gone */
	shx_req_init(&q, SHX_OP_REALPATH, NULL);
	q.ino = c->ino;
	q.aux = rep.datacap;
	r = shx_request(&q, &rep, NULL, 0);
	if (r < 0) {
		errno = r == -ESTALE ? ENOENT : -r;
		return NULL;
	}
	len = rep.datalen;
	data[len] = 0;
	if (!buf && size == 0) /* glibc: as long as needed */
		size = len + 1;
	else if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (size <= len) {
		errno = ERANGE;
		return NULL;
	}
	if (!buf && !(buf = malloc(size)))
		return NULL;
	memcpy(buf, data, len + 1);
	return buf;
}

#ifdef __GLIBC__
SHX_EXPORT char *get_current_dir_name(void)
{
	return getcwd(NULL, 0);
}
#endif

/* realpath: glibc resolves with internal lstat and readlink calls that no
 * wrapper sees, so a managed path is resolved by the manager. */
static char *real_path(const char *path, char *resolved,
		       char *(*real)(const char *, char *))
{
	char data[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)data, .datacap = sizeof(data) - 1 };
	struct shx_path p;
	struct shx_req q;
	int r;

	if (shx_unmanaged(AT_FDCWD, path))
		return real(path, resolved);
	r = shx_classify(AT_FDCWD, path, &p);
	if (r == 0)
		return real(path, resolved);
	if (r > 0) {
		shx_req_init(&q, SHX_OP_REALPATH, &p);
		q.aux = rep.datacap;
		r = shx_request(&q, &rep, NULL, 0);
		if (r == -SHX_EESCAPE)
			return real(q.path, resolved);
	}
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	data[rep.datalen] = 0;
	if (!resolved) {
		resolved = malloc(rep.datalen + 1);
		if (!resolved)
			return NULL;
	}
	memcpy(resolved, data, rep.datalen + 1);
	return resolved;
}

SHX_EXPORT char *realpath(const char *path, char *resolved)
{
	return real_path(path, resolved, REAL(realpath));
}

#ifdef __GLIBC__
static char *real_canonicalize(const char *path, char *resolved)
{
	(void)resolved;
	return REAL(canonicalize_file_name)(path);
}

SHX_EXPORT char *canonicalize_file_name(const char *path)
{
	return real_path(path, NULL, real_canonicalize);
}
#endif
