/* ctl_run.c -- `shmemctl run`: a command under the library, as an app of
 * its own.
 *
 *   shmemctl run [--app NAME] [--quota SIZE[,INODES]] [--private-tmp [--keep-tmp]]
 *                [--] CMD [ARG...]
 *
 * The app is the process tree of CMD: SHMEMX_APP names it in the
 * environment, which the library reads at start-up, tells the manager in
 * its handshake and hands on to every program it executes, so that what
 * any of them creates is charged to the app.  --quota sets the app's
 * limits before CMD starts.  With --private-tmp the app gets a /tmp of
 * its own from the manager, which lasts as long as this process holds
 * its connection: shmemctl becomes the subreaper of CMD's tree and waits
 * for its last process (daemons included) before it lets go, so the
 * private /tmp goes when the app's last process ends (unless --keep-tmp,
 * which keeps it for the app's next run).  The exit status is CMD's (128
 * + the signal if it was killed; 126/127 if it could not be run).
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "path.h"
#include "shmemctl.h"

#ifndef SHX_LIBDIR
#define SHX_LIBDIR "/usr/local/lib"
#endif
#ifndef SHX_BINDIR
#define SHX_BINDIR "/usr/local/bin"
#endif

struct run {
	const char *app;
	char app_buf[64];
	int quota, private_tmp, keep_tmp;
	uint64_t size, inodes;
};

int ctl_parse_quota(const char *arg, uint64_t *size, uint64_t *inodes, int *have_inodes)
{
	char buf[64], *comma;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	comma = strchr(buf, ',');
	if (comma)
		*comma++ = 0;
	*have_inodes = comma != NULL;
	if (!strcmp(buf, "none") || !strcmp(buf, "unlimited"))
		*size = 0;
	else if (!buf[0] || shx_parse_size(buf, size) < 0)
		return -1;
	if (!comma)
		return 0;
	if (!strcmp(comma, "none") || !strcmp(comma, "unlimited")) {
		*inodes = 0;
		return 0;
	}
	return comma[strspn(comma, "0123456789")] || !*comma || shx_parse_size(comma, inodes) < 0
		       ? -1
		       : 0;
}

/* An app name from the command: its base name, cut to the characters a
 * name may have, and this process's pid, so that two runs of one command
 * are two apps unless --app says otherwise. */
static void default_app(struct run *r, const char *cmd)
{
	char tmp[SHX_PATH_MAX], *base;
	size_t k = 0;

	snprintf(tmp, sizeof(tmp), "%s", cmd);
	base = basename(tmp);
	for (const char *p = base; *p && k < 40; p++) {
		char one[2] = { *p, 0 };

		if (shx_app_name_valid(one) == 0)
			r->app_buf[k++] = *p;
	}
	snprintf(r->app_buf + k, sizeof(r->app_buf) - k, "%s%d", k ? "-" : "app-", (int)getpid());
	r->app = r->app_buf;
}

/* LD_PRELOAD with the library in front, unless it is there already. */
static int preload_env(void)
{
	const char *lib = getenv("SHMEMX_LIB"), *pre = getenv("LD_PRELOAD");
	char buf[8192];

	if (!lib || !*lib)
		lib = SHX_LIBDIR "/libshmemx.so";
	if (pre && strstr(pre, "libshmemx"))
		return 0;
	if (snprintf(buf, sizeof(buf), "%s%s%s", lib, pre && *pre ? ":" : "", pre ? pre : "") >=
	    (int)sizeof(buf))
		return -1;
	return setenv("LD_PRELOAD", buf, 1);
}

/* A private /tmp needs /tmp managed: add it to the app's mounts. */
static int mounts_env(void)
{
	char list[4096];
	const struct shx_mount *m;
	int n;

	shx_mounts_init();
	n = shx_mounts(&m);
	for (int i = 0; i < n; i++)
		if (m[i].len == 4 && !memcmp(m[i].prefix, "/tmp", 4))
			return 0;
	if (shx_mount_add("/tmp") < 0 || shx_mounts_list(list, sizeof(list)) == 0)
		return -1;
	return setenv("SHMEMX_MOUNTS", list, 1);
}

static int set_up_app(const struct ctl *ctl, const struct run *r, int *sock)
{
	const char *shmemd = getenv("SHMEMX_SHMEMD");
	struct shx_rep rep = { 0 };
	struct shx_req q;

	if (!r->quota && !r->private_tmp)
		return 0;
	if (!ctl->sock[0]) {
		ctl_error("the manager's socket path is too long");
		return -1;
	}
	/* the app's processes would start it anyway: its limits must be in
	 * place before the first of them */
	*sock = shx_connect(ctl->sock, shmemd && *shmemd ? shmemd : SHX_BINDIR "/shmemd");
	if (*sock < 0) {
		ctl_error("cannot reach or start the manager on %s: %s", ctl->sock,
			  strerror(-*sock));
		return -1;
	}
	if (r->quota) {
		memset(&q, 0, sizeof(q));
		q.op = SHX_OP_QUOTA;
		q.flags = SHX_QUOTA_SET;
		q.aux = SHX_GROUP_APP;
		q.uid = getuid();
		q.size = r->size;
		q.mtime_ns = (int64_t)r->inodes;
		shx_req_set_path(&q, r->app);
		if (ctl_call(ctl, *sock, &q, &rep) < 0)
			return -1;
	}
	if (r->private_tmp) {
		memset(&q, 0, sizeof(q));
		q.op = SHX_OP_QUOTA;
		q.flags = SHX_QUOTA_TMP;
		q.uid = getuid();
		q.mode = r->keep_tmp;
		shx_req_set_path(&q, r->app);
		if (ctl_call(ctl, *sock, &q, &rep) < 0)
			return -1;
	}
	return 0;
}

static int exit_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : CTL_FAIL;
}

static pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int run_cmd(const struct run *r, char **argv)
{
	struct sigaction sa = { .sa_handler = forward }, ign = { .sa_handler = SIG_IGN }, old_int,
			 old_quit;
	int st = 0;
	pid_t pid;

	/* orphans of the app come to us, so that we see its last process */
	if (r->private_tmp && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		ctl_error("cannot watch the app's processes: %s", strerror(errno));
		return CTL_FAIL;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* the terminal sends these to CMD itself; as system() does */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(stdout);
	child = fork();
	if (child < 0) {
		ctl_error("fork: %s", strerror(errno));
		return CTL_FAIL;
	}
	if (child == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		ctl_error("%s: %s", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	while ((pid = waitpid(child, &st, 0)) < 0 && errno == EINTR)
		;
	if (pid < 0)
		return CTL_FAIL;
	child = 0;
	/* the rest of the tree, which the private /tmp must outlive */
	if (r->private_tmp)
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
	return exit_status(st);
}

int ctl_run(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "app", required_argument, NULL, 'a' },
		{ "quota", required_argument, NULL, 'q' },
		{ "private-tmp", no_argument, NULL, 't' },
		{ "keep-tmp", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r = { 0 };
	int c, sock = -1, have_inodes = 0, status;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (shx_app_name_valid(optarg) < 0) {
				ctl_error("run: bad app name '%s': 1 to 63 of A-Z a-z 0-9 . _ -",
					  optarg);
				return CTL_USAGE;
			}
			r.app = optarg;
			break;
		case 'q':
			if (ctl_parse_quota(optarg, &r.size, &r.inodes, &have_inodes) < 0) {
				ctl_error("run: bad quota '%s': SIZE[,INODES], as 512M or "
					  "1.5G,100000",
					  optarg);
				return CTL_USAGE;
			}
			r.quota = 1;
			break;
		case 't':
			r.private_tmp = 1;
			break;
		case 'k':
			r.keep_tmp = 1;
			break;
		case 'h':
			ctl_usage("run");
			return CTL_OK;
		case ':':
			ctl_error("run: option '%s' needs an argument (try 'shmemctl run --help')",
				  argv[optind - 1]);
			return CTL_USAGE;
		default:
			ctl_error("run: unknown option '%s' (try 'shmemctl run --help')",
				  argv[optind - 1]);
			return CTL_USAGE;
		}
	}
	if (optind == argc) {
		ctl_error("run: no command given (try 'shmemctl run --help')");
		return CTL_USAGE;
	}
	if (r.keep_tmp && !r.private_tmp) {
		ctl_error("run: --keep-tmp goes with --private-tmp");
		return CTL_USAGE;
	}
	if (!r.app)
		default_app(&r, argv[optind]);
	if (setenv("SHMEMX_APP", r.app, 1) < 0 || preload_env() < 0 ||
	    (r.private_tmp && mounts_env() < 0) ||
	    (ctl->sock[0] && setenv("SHMEMX_SOCKET", ctl->sock, 1) < 0)) {
		ctl_error("run: cannot set up the environment");
		return CTL_FAIL;
	}
	if (set_up_app(ctl, &r, &sock) < 0) {
		if (sock >= 0)
			close(sock);
		return CTL_FAIL;
	}
	status = run_cmd(&r, argv + optind);
	/* the manager lets the private /tmp go with this connection */
	if (sock >= 0)
		close(sock);
	return status;
}
