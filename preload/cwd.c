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
	int virtual; /* inside a mount: the real cwd is a placeholder */
	size_t len;
	char path[SHX_PATH_MAX];
};

static struct cwd cwds[2];
static atomic_int current = -1; /* -1: the real cwd, unrelated to any mount */

/* The working directory is nowhere near a mount: relative paths are not
 * ours. */
int shx_cwd_plain(void)
{
	return atomic_load_explicit(&current, memory_order_relaxed) < 0;
}

/* Is dir a mount or a directory above one? */
static int near_mount(const char *dir, size_t len)
{
	const struct shx_mount *m;
	int n = shx_mounts(&m);

	for (int i = 0; i < n; i++) {
		if (len == 1 && dir[0] == '/')
			return 1;
		if (!strncmp(m[i].prefix, dir, len) && (m[i].prefix[len] == '/' || !m[i].prefix[len]))
			return 1;
		if (!strncmp(dir, m[i].prefix, m[i].len) && (dir[m[i].len] == '/' || !dir[m[i].len]))
			return 1;
	}
	return 0;
}

static void cwd_set(const char *path, int virtual)
{
	int next = atomic_load(&current) == 0 ? 1 : 0;
	size_t len = strlen(path);

	if (!virtual && !near_mount(path, len)) {
		atomic_store(&current, -1);
		return;
	}
	memcpy(cwds[next].path, path, len + 1);
	cwds[next].len = len;
	cwds[next].virtual = virtual;
	atomic_store(&current, next);
}

/* After a real chdir: remember the new directory if it is near a mount. */
static void cwd_export(const char *path);

static void cwd_refresh(void)
{
	char buf[SHX_PATH_MAX];

	if (syscall(SYS_getcwd, buf, sizeof(buf)) > 0)
		cwd_set(buf, 0);
	else
		atomic_store(&current, -1);
	cwd_export(NULL);
}

/* A preloaded program exec'd in a virtual cwd starts in the placeholder;
 * $SHMEMX_CWD (set by our chdir and by our execve) or else $PWD (which
 * shells keep) says where it really is. */
void shx_cwd_init(const char *placeholder)
{
	char buf[SHX_PATH_MAX];
	const char *env[] = { getenv("SHMEMX_CWD"), getenv("PWD") };
	struct shx_path p;

	if (syscall(SYS_getcwd, buf, sizeof(buf)) <= 0) {
		atomic_store(&current, -1);
		return;
	}
	if (strcmp(buf, placeholder)) {
		cwd_set(buf, 0);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (env[i] && shx_path_classify(env[i], p.path, sizeof(p.path)) >= 0) {
			cwd_set(p.path, 1);
			return;
		}
	cwd_set(buf, 0);
}

/* Children of this process, exec'd by whatever means, learn the virtual
 * cwd from the environment. */
static void cwd_export(const char *path)
{
	if (path)
		setenv("SHMEMX_CWD", path, 1);
	else if (getenv("SHMEMX_CWD"))
		unsetenv("SHMEMX_CWD");
}

const char *shx_cwd_virtual(void)
{
	int i = atomic_load(&current);

	return i >= 0 && cwds[i].virtual ? cwds[i].path : NULL;
}

int shx_cwd_join(const char *rel, struct shx_path *p)
{
	int i = atomic_load(&current);
	const struct cwd *c;
	size_t n;
	int m;

	if (i < 0)
		return 0;
	c = &cwds[i];
	n = strlen(rel);
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

/* Enters a managed directory: the manager checks it and names it, the
 * real working directory becomes its placeholder. */
static int enter(struct shx_path *path, int fd)
{
	char data[SHX_PATH_MAX];
	struct shx_rep rep = { .data = (uint8_t *)data, .datacap = sizeof(data) - 1 };
	struct shx_req q;
	int r, own = fd < 0;

	shx_req_init(&q, SHX_OP_CHDIR, path);
	if (!path)
		q.ino = shx_fdtab_get(fd)->ino;
	q.aux = rep.datacap;
	r = shx_request(&q, &rep, NULL, 0);
	if (r == -SHX_EESCAPE)
		memcpy(path->path, q.path, q.pathlen + 1);
	if (r < 0)
		return r;
	data[rep.datalen] = 0;
	if (own) {
		fd = shx_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd < 0)
			return fd;
	}
	r = REAL(fchdir)(fd) < 0 ? -errno : 0;
	if (own)
		close(fd);
	if (r == 0) {
		cwd_set(data, 1);
		cwd_export(data);
	}
	return r;
}

SHX_EXPORT int chdir(const char *path)
{
	struct shx_path p;
	int r = shx_classify(AT_FDCWD, path, &p);

	if (r > 0)
		r = enter(&p, -1);
	if (r == -SHX_EESCAPE) /* ".." out of the mounts: the real directory */
		path = p.path;
	else if (r != 0 || shx_classify(AT_FDCWD, path, &p) != 0)
		return shx_ret(r);
	if (REAL(chdir)(path) < 0)
		return -1;
	cwd_refresh();
	return 0;
}

SHX_EXPORT int fchdir(int fd)
{
	struct shx_fdent *e = shx_fdtab_get(fd);

	if (e && (e->flags & SHX_FD_DIR)) {
		int r = enter(NULL, fd);

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
	int i = atomic_load(&current);
	const struct cwd *c = i >= 0 ? &cwds[i] : NULL;

	if (!c || !c->virtual)
		return REAL(getcwd)(buf, size);
	if (!buf) { /* glibc: allocate, of at least `size` bytes */
		size = size > c->len ? size : c->len + 1;
		buf = malloc(size);
		if (!buf)
			return NULL;
	} else if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (size <= c->len) {
		errno = ERANGE;
		return NULL;
	}
	memcpy(buf, c->path, c->len + 1);
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
