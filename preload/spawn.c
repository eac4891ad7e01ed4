/* spawn.c -- posix_spawn and posix_spawnp.
 *
 * glibc's posix_spawn runs its file actions and the exec in a CLONE_VM
 * child with internal calls that no wrapper sees: an open action on
 * /tmp/x, a program stored under a mount or a chdir into one would reach
 * the kernel's file system.  So the library keeps its own copy of every
 * file actions object (the add functions are wrapped; the object itself
 * is glibc's and stays opaque), and when a spawn involves a managed path
 * it spawns by itself, as glibc's __spawni does (sysdeps/unix/sysv/linux/
 * spawni.c): a CLONE_VM|CLONE_VFORK child on a stack of its own, with
 * every signal blocked, sets the attributes, replays the actions through
 * the library's own wrappers and execs; a failure comes back through
 * shared memory as the return value, with the child reaped.  The wrappers
 * know they run in such a child (shx_conn_vforked) and leave the parent's
 * state alone.  Every other spawn goes to glibc, with $SHMEMX_CWD added
 * to its environment when the working directory is virtual.
 *
 * system() and popen() spawn /bin/sh with glibc's internal posix_spawn
 * and `environ`, where chdir keeps $SHMEMX_CWD: the preloaded shell does
 * the rest, so they need nothing here. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload.h"

/* Under AddressSanitizer the child runs on a stack ASan does not know, in
 * the parent's thread (same TLS): it is announced as a fiber switch, and the
 * parent switches back when the child has gone.  The child's frames also
 * poison the stack's shadow and are never unwound (it execs or exits), so
 * the shadow is cleaned before the stack is used and unmapped. */
#if defined(__SANITIZE_ADDRESS__)
#define SHX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHX_ASAN 1
#endif
#endif
#ifdef SHX_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define CLEAN_STACK(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define CLEAN_STACK(p, n) ((void)(p), (void)(n))
#endif

#define SPAWN_ERROR 127	      /* the child's exit status when it fails */
#define CHILD_STACK (256 << 10) /* the wrappers keep a few PATH_MAX buffers */

enum fa_tag { FA_OPEN, FA_CLOSE, FA_DUP2, FA_CHDIR, FA_FCHDIR, FA_CLOSEFROM, FA_TCSETPGRP };

struct fa_op {
	enum fa_tag tag;
	int fd, newfd, oflag;
	mode_t mode;
	char *path;
};

/* Our copy of one posix_spawn_file_actions_t, found by its address. */
struct fa_copy {
	struct fa_copy *next;
	const posix_spawn_file_actions_t *fa;
	struct fa_op *ops;
	size_t n, cap;
	int broken; /* an action could not be copied: leave the spawn to glibc */
};

static struct fa_copy *copies;
static pthread_mutex_t copies_lock = PTHREAD_MUTEX_INITIALIZER;

static struct fa_copy **find(const posix_spawn_file_actions_t *fa)
{
	struct fa_copy **pp = &copies;

	while (*pp && (*pp)->fa != fa)
		pp = &(*pp)->next;
	return pp;
}

static void forget(const posix_spawn_file_actions_t *fa)
{
	struct fa_copy **pp, *c;

	pthread_mutex_lock(&copies_lock);
	pp = find(fa);
	c = *pp;
	if (c)
		*pp = c->next;
	pthread_mutex_unlock(&copies_lock);
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->ops[i].path);
	free(c->ops);
	free(c);
}

SHX_EXPORT int posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
	struct fa_copy *c;
	int r = REAL(posix_spawn_file_actions_init)(fa);

	if (r)
		return r;
	forget(fa); /* an object initialised again without destroy */
	c = calloc(1, sizeof(*c));
	if (c) {
		c->fa = fa;
		pthread_mutex_lock(&copies_lock);
		c->next = copies;
		copies = c;
		pthread_mutex_unlock(&copies_lock);
	}
	return 0;
}

SHX_EXPORT int posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	forget(fa);
	return REAL(posix_spawn_file_actions_destroy)(fa);
}

/* Appends what glibc accepted (r == 0) to our copy. */
static int record(const posix_spawn_file_actions_t *fa, int r, struct fa_op op)
{
	struct fa_copy *c;

	if (r)
		return r;
	pthread_mutex_lock(&copies_lock);
	c = *find(fa);
	if (c && !c->broken) {
		if (op.path)
			op.path = strdup(op.path);
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 8;
			struct fa_op *ops = realloc(c->ops, cap * sizeof(*ops));

			if (ops) {
				c->ops = ops;
				c->cap = cap;
			}
		}
		if (c->n < c->cap && (op.path || (op.tag != FA_OPEN && op.tag != FA_CHDIR)))
			c->ops[c->n++] = op;
		else
			c->broken = 1;
	}
	pthread_mutex_unlock(&copies_lock);
	return 0;
}

SHX_EXPORT int posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd,
						const char *path, int oflag, mode_t mode)
{
	int r = REAL(posix_spawn_file_actions_addopen)(fa, fd, path, oflag, mode);

	return record(fa, r, (struct fa_op){ FA_OPEN, fd, 0, oflag, mode, (char *)path });
}

SHX_EXPORT int posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	int r = REAL(posix_spawn_file_actions_addclose)(fa, fd);

	return record(fa, r, (struct fa_op){ FA_CLOSE, fd, 0, 0, 0, NULL });
}

SHX_EXPORT int posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd, int newfd)
{
	int r = REAL(posix_spawn_file_actions_adddup2)(fa, fd, newfd);

	return record(fa, r, (struct fa_op){ FA_DUP2, fd, newfd, 0, 0, NULL });
}

SHX_EXPORT int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa,
						    const char *path)
{
	int r = REAL(posix_spawn_file_actions_addchdir_np)(fa, path);

	return record(fa, r, (struct fa_op){ FA_CHDIR, 0, 0, 0, 0, (char *)path });
}

SHX_EXPORT int posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *fa, int fd)
{
	int r = REAL(posix_spawn_file_actions_addfchdir_np)(fa, fd);

	return record(fa, r, (struct fa_op){ FA_FCHDIR, fd, 0, 0, 0, NULL });
}

#ifdef __GLIBC__
SHX_EXPORT int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa, int from)
{
	int r = REAL(posix_spawn_file_actions_addclosefrom_np)(fa, from);

	return record(fa, r, (struct fa_op){ FA_CLOSEFROM, from, 0, 0, 0, NULL });
}

SHX_EXPORT int posix_spawn_file_actions_addtcsetpgrp_np(posix_spawn_file_actions_t *fa, int fd)
{
	int r = REAL(posix_spawn_file_actions_addtcsetpgrp_np)(fa, fd);

	return record(fa, r, (struct fa_op){ FA_TCSETPGRP, fd, 0, 0, 0, NULL });
}
#endif

/* --- the spawn ---------------------------------------------------------- */

struct spawn {
	const char *file;
	int search;		/* posix_spawnp */
	const struct fa_copy *fa;
	const posix_spawnattr_t *attr;
	char *const *argv, *const *envp;
	sigset_t oldmask;
	volatile int err;	/* the child's errno when it fails */
#ifdef SHX_ASAN
	const void *asan_bottom; /* the parent's stack, as ASan knew it */
	size_t asan_size;
#endif
};

static int managed(const char *path)
{
	struct shx_path p;

	return !shx_unmanaged(AT_FDCWD, path) && shx_classify(AT_FDCWD, path, &p) != 0;
}

/* Does the spawn need the library's own child?  A chdir in the actions
 * always does (what follows is relative to a directory the library must
 * know); so do an open of a managed path and a managed program, or a
 * $PATH with a managed directory in it for posix_spawnp. */
static int needs_us(const struct spawn *s)
{
	const char *path, *end;

	for (size_t i = 0; s->fa && i < s->fa->n; i++) {
		const struct fa_op *op = &s->fa->ops[i];

		if (op->tag == FA_CHDIR || op->tag == FA_FCHDIR ||
		    (op->tag == FA_OPEN && managed(op->path)))
			return 1;
	}
	if (!s->search || strchr(s->file, '/'))
		return managed(s->file);
	path = getenv("PATH");
	for (path = path ? path : "/bin:/usr/bin";; path = end + 1) {
		char dir[SHX_PATH_MAX];
		size_t n;

		end = strchrnul(path, ':');
		n = end - path;
		if (n == 0 && !shx_cwd_plain())
			return 1;
		if (n > 0 && n < sizeof(dir)) {
			memcpy(dir, path, n);
			dir[n] = 0;
			if (managed(dir))
				return 1;
		}
		if (!*end)
			return 0;
	}
}

static int run_actions(const struct spawn *s)
{
	const struct fa_copy *fa = s->fa;
	struct rlimit lim;
	short flags = 0;
	pid_t pgrp = 0;

	if (s->attr) {
		posix_spawnattr_getflags(s->attr, &flags);
		posix_spawnattr_getpgroup(s->attr, &pgrp);
	}
	for (size_t i = 0; fa && i < fa->n; i++) {
		const struct fa_op *op = &fa->ops[i];
		int fd;

		switch (op->tag) {
		case FA_CLOSE:
			/* an fd that was not open is no error, one out of range is */
			if (close(op->fd) != 0 &&
			    (op->fd < 0 || (getrlimit(RLIMIT_NOFILE, &lim) == 0 &&
					    (rlim_t)op->fd >= lim.rlim_cur)))
				return -1;
			break;
		case FA_OPEN:
			close(op->fd); /* POSIX: closed first */
			fd = open(op->path, op->oflag | O_LARGEFILE, op->mode);
			if (fd < 0)
				return -1;
			if (fd != op->fd && (dup2(fd, op->fd) != op->fd || close(fd) != 0))
				return -1;
			break;
		case FA_DUP2:
			if (op->fd == op->newfd) { /* Austin Group 411: clears FD_CLOEXEC */
				int fl = fcntl(op->fd, F_GETFD);

				if (fl < 0 || fcntl(op->fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
					return -1;
			} else if (dup2(op->fd, op->newfd) != op->newfd) {
				return -1;
			}
			break;
		case FA_CHDIR:
			if (chdir(op->path) != 0)
				return -1;
			break;
		case FA_FCHDIR:
			if (fchdir(op->fd) != 0)
				return -1;
			break;
		case FA_CLOSEFROM:
			if (syscall(SYS_close_range, op->fd, ~0U, 0) != 0)
				return -1;
			break;
		case FA_TCSETPGRP:
			if (tcsetpgrp(op->fd, (flags & POSIX_SPAWN_SETPGROUP) && pgrp ? pgrp
										 : getpgid(0)) != 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* The child: __spawni_child's order, through the library's wrappers. */
static int child(void *arg)
{
	struct spawn *s = arg;
	struct sigaction sa = { 0 };
	struct sched_param sp;
	sigset_t def, mask;
	short flags = 0;
	pid_t pgrp = 0;
	int policy = 0;

#ifdef SHX_ASAN
	__sanitizer_finish_switch_fiber(NULL, &s->asan_bottom, &s->asan_size);
#endif
	sigemptyset(&def);
	if (s->attr) {
		posix_spawnattr_getflags(s->attr, &flags);
		posix_spawnattr_getsigdefault(s->attr, &def);
	}
	/* no handler of the parent's may run here, on its memory */
	for (int sig = 1; sig < NSIG; sig++) {
		if (!((flags & POSIX_SPAWN_SETSIGDEF) && sigismember(&def, sig))) {
			if (sigaction(sig, NULL, &sa) != 0 || sa.sa_handler == SIG_IGN ||
			    sa.sa_handler == SIG_DFL)
				continue;
		}
		sa = (struct sigaction){ .sa_handler = SIG_DFL };
		sigaction(sig, &sa, NULL);
	}
	if (s->attr) {
		posix_spawnattr_getpgroup(s->attr, &pgrp);
		posix_spawnattr_getschedpolicy(s->attr, &policy);
		posix_spawnattr_getschedparam(s->attr, &sp);
	}
	if ((flags & (POSIX_SPAWN_SETSCHEDPARAM | POSIX_SPAWN_SETSCHEDULER)) ==
	    POSIX_SPAWN_SETSCHEDPARAM) {
		if (sched_setparam(0, &sp) != 0)
			goto fail;
	} else if ((flags & POSIX_SPAWN_SETSCHEDULER) && sched_setscheduler(0, policy, &sp) < 0) {
		goto fail;
	}
	if ((flags & POSIX_SPAWN_SETSID) && setsid() < 0)
		goto fail;
	if ((flags & POSIX_SPAWN_SETPGROUP) && setpgid(0, pgrp) != 0)
		goto fail;
	if ((flags & POSIX_SPAWN_RESETIDS) && (seteuid(getuid()) != 0 || setegid(getgid()) != 0))
		goto fail;
	if (run_actions(s) != 0)
		goto fail;
	mask = s->oldmask;
	if (s->attr && (flags & POSIX_SPAWN_SETSIGMASK))
		posix_spawnattr_getsigmask(s->attr, &mask);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	/* posix_spawnp searches $PATH without execvp's /bin/sh for ENOEXEC */
	if (s->search)
		shx_exec_search(s->file, s->argv, s->envp, 0);
	else
		execve(s->file, s->argv, s->envp);
fail:
	s->err = errno ? errno : ECHILD;
	shx_cwd_exec_begin(); /* the parent's cwd is its own again */
	_exit(SPAWN_ERROR);
}

static int spawn_here(pid_t *pid, struct spawn *s)
{
	void *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	sigset_t all;
	pid_t p;
	int state, r;

	if (stack == MAP_FAILED)
		return errno;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &s->oldmask);
	s->err = 0;
	CLEAN_STACK(stack, CHILD_STACK);
#ifdef SHX_ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, stack, CHILD_STACK);
#endif
	p = clone(child, (char *)stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, s);
#ifdef SHX_ASAN
	if (p < 0) /* no child: finish the switch it never made */
		__sanitizer_finish_switch_fiber(NULL, &s->asan_bottom, &s->asan_size);
	__sanitizer_start_switch_fiber(NULL, s->asan_bottom, s->asan_size);
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	if (p > 0) {
		r = s->err;
		if (r)
			while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
				;
	} else {
		r = errno;
	}
	CLEAN_STACK(stack, CHILD_STACK);
	munmap(stack, CHILD_STACK);
	if (r == 0 && pid)
		*pid = p;
	pthread_sigmask(SIG_SETMASK, &s->oldmask, NULL);
	pthread_setcancelstate(state, NULL);
	return r;
}

static int spawn(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[], int search)
{
	struct spawn s = { .file = shx_opaque(file), .search = search, .attr = attr,
			   .argv = argv, .envp = envp };
	struct fa_copy *c = NULL;
	int us = 0, r;

	if (fa) {
		pthread_mutex_lock(&copies_lock);
		c = *find(fa);
		pthread_mutex_unlock(&copies_lock);
	}
	/* without our copy of the actions (or a broken one) it is glibc's */
	if (s.file && (!fa || (c && !c->broken))) {
		s.fa = c;
		us = needs_us(&s);
	}
	if (us)
		return spawn_here(pid, &s);
	{
		char *env[shx_child_env_slots(envp)];
		struct shx_child_env buf;
		char *const *e = shx_child_env(envp, env, &buf);

		if (search)
			r = REAL(posix_spawnp)(pid, file, fa, attr, argv, e ? e : envp);
		else
			r = REAL(posix_spawn)(pid, file, fa, attr, argv, e ? e : envp);
	}
	return r;
}

SHX_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn(pid, path, fa, attr, argv, envp, 0);
}

SHX_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn(pid, file, fa, attr, argv, envp, 1);
}
