/* shmemd.c -- the per-user manager: startup, the socket, the main loop.
 *
 *   shmemd --foreground     run in the terminal (logs to stderr)
 *   shmemd --daemon         what the library runs: detach, and return once
 *                           the manager listens or another one already does
 *   shmemd --system         one manager for all users (run by root, as a
 *                           service): its socket, /run/shmemx/sock unless
 *                           --socket says otherwise, is open to everyone,
 *                           each user is a quota group, and it never exits
 *                           for being idle
 *
 * Only one manager runs per socket: it holds an exclusive lock on the
 * "lock" file beside the socket for its whole life, so two clients racing
 * to start one end with one manager.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "path.h"
#include "server.h"
#include "spin.h"

#define SPIN_NS 100000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: shmemd [--foreground | --daemon] [--system] [--pidfile FILE] "
		   "[--socket PATH]\n"
		   "The libshmemx manager: keeps the /dev/shm and /tmp namespaces and the System V\n"
		   "shared memory segments of one user (of every user with --system).\n"
		   "Settings: SHMEMX_SIZE, SHMEMX_NR_INODES, SHMEMX_IDLE_TIMEOUT, SHMEMX_MOUNTS,\n"
		   "SHMEMX_SHMMAX, SHMEMX_SHMALL, SHMEMX_SHMMNI, SHMEMX_USER_SIZE,\n"
		   "SHMEMX_USER_NR_INODES, SHMEMX_APP_SIZE, SHMEMX_APP_NR_INODES, SHMEMX_SOCKET,\n"
		   "SHMEMX_CONFIG (see shmemd(8)).\n");
}

/* The library is preloaded into every program, maybe into us too: the
 * manager must not manage itself. */
static void drop_preload(char **argv)
{
	const char *p = getenv("LD_PRELOAD");

	if (p && strstr(p, "libshmemx")) {
		unsetenv("LD_PRELOAD");
		execv("/proc/self/exe", argv);
	}
}

#define SYSTEM_SOCKET "/run/shmemx/sock"

static int listen_on(const char *path, int system)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* stale: whoever made it no longer holds the lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	/* a system manager serves everyone: it checks each request's
	 * credentials as the kernel would */
	chmod(path, system ? 0666 : 0600);
	return fd;
}

/* An integer sysctl; 0 if it cannot be read. */
static int sysctl_value(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = 0;

	if (f && fscanf(f, "%d", &v) != 1)
		v = 0;
	if (f)
		fclose(f);
	return v;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Detaches; the returned fd is written once the manager knows whether it
 * runs ('1') or another one does ('0'), which ends the waiting parent. */
static int daemonize(void)
{
	int p[2];
	pid_t pid;
	char c = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (fork() > 0)
		_exit(0);
	if (chdir("/") < 0)
		_exit(1);
	/* Nothing of the client that started us stays open here: a pipe it
	 * holds must see its end when the client goes, not when we do. */
	if (p[1] != 3) {
		dup3(p[1], 3, O_CLOEXEC);
		close(p[1]);
	}
	syscall(SYS_close_range, 4, ~0U, 0);
	return 3;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' }, { "daemon", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' }, { "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },	  { "version", no_argument, NULL, 'V' },
		{ "system", no_argument, NULL, 'S' },	  { NULL, 0, NULL, 0 },
	};
	struct shx_config cfg;
	struct server srv;
	char sock[SHX_PATH_MAX], dir[SHX_PATH_MAX], lockpath[SHX_PATH_MAX + 16];
	char placeholder[SHX_PATH_MAX + 16], nodes[SHX_PATH_MAX + 16], err[256] = "";
	const char *pidfile = NULL;
	int daemon = 0, system = 0, socket_given = 0, ready = -1, lockfd, lfd, o, r, e;
	const struct shx_mount *mnts;

	drop_preload(argv);
	while ((o = getopt_long(argc, argv, "fdp:s:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'f': daemon = 0; break;
		case 'd': daemon = 1; break;
		case 'p': pidfile = optarg; break;
		case 's':
			setenv("SHMEMX_SOCKET", optarg, 1);
			socket_given = 1;
			break;
		case 'S': system = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("shmemd " PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	shx_log_init("shmemd");
	if (system && !socket_given)
		setenv("SHMEMX_SOCKET", SYSTEM_SOCKET, 1);
	if (shx_config_load(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "shmemd: %s\n", err);
		return 2;
	}
	if (shx_socket_path(sock, sizeof(sock)) < 0 || shx_socket_dir(sock, dir, sizeof(dir)) < 0) {
		fprintf(stderr, "shmemd: bad socket path\n");
		return 2;
	}
	r = shx_make_private_dir(dir);
	/* others must reach the socket (and the nodes of FIFOs and sockets) */
	if (r == 0 && system && chmod(dir, 0755) < 0)
		r = -errno;
	if (r < 0) {
		fprintf(stderr, "shmemd: %s: %s\n", dir, strerror(-r));
		return 1;
	}
	if (daemon) {
		ready = daemonize();
		if (ready < 0)
			return 1;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		snprintf(lockpath, sizeof(lockpath), "%s/shmemd.log", dir);
		int log = open(lockpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dup2(null, 0);
		dup2(null, 1);
		dup2(log >= 0 ? log : null, 2);
		close(null);
		if (log >= 0)
			close(log);
	}
	snprintf(lockpath, sizeof(lockpath), "%s/lock", dir);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (ready >= 0 && write(ready, "0", 1) < 0)
			return 1;
		if (!daemon)
			fprintf(stderr, "shmemd: another manager runs on %s\n", sock);
		return daemon ? 0 : 1;
	}
	snprintf(placeholder, sizeof(placeholder), "%s/empty", dir);
	if (mkdir(placeholder, 0500) < 0 && errno != EEXIST) {
		shx_log("%s: %s", placeholder, strerror(errno));
		return 1;
	}
	raise_nofile();
	lfd = listen_on(sock, system);
	if (lfd < 0) {
		shx_log("%s: %s", sock, strerror(-lfd));
		return 1;
	}
	shx_mounts_init();
	r = server_init(&srv, &cfg, placeholder, lfd);
	srv.system = system;
	if (r == 0) {
		/* swap goes to disk: beside a socket set by hand (a private
		 * manager's), else in /var/tmp, never in the runtime dir's tmpfs */
		char state[SHX_PATH_MAX];

		if (getenv("SHMEMX_SOCKET"))
			snprintf(state, sizeof(state), "%s", dir);
		else
			snprintf(state, sizeof(state), "/var/tmp/shmemx-%u", (unsigned)getuid());
		r = server_init_pager(&srv, &cfg, state);
	}
	for (int i = 1, n = shx_mounts(&mnts); r == 0 && i < n; i++)
		r = ns_add_mount(&srv.ns, mnts[i].prefix);
	srv.ns.protected_hardlinks = sysctl_value("/proc/sys/fs/protected_hardlinks");
	/* the real nodes of FIFOs, devices and sockets, beside the socket */
	snprintf(nodes, sizeof(nodes), "%s/nodes", dir);
	if (r == 0 && (e = ns_set_nodes(&srv.ns, nodes)) < 0)
		shx_log("%s: %s: no FIFOs, devices or sockets", nodes, strerror(-e));
	else if (r == 0 && system)
		chmod(nodes, 0711);
	if (r < 0) {
		shx_log("cannot start: %s", strerror(-r));
		return 1;
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "we");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* The mask is inherited from whoever started us: a client that the
	 * library started us from may have had SIGTERM blocked (bash does,
	 * around a redirection), and a manager that SIGTERM cannot stop is
	 * no good. */
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	if (ready >= 0) {
		if (write(ready, "1", 1) < 0)
			return 1;
		close(ready);
	}
	int spin = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	struct shx_spin polling = { 0 }; /* whether polling pays (spin.h) */
	int64_t next_check = ns_now();
	shx_debug("listening on %s", sock);
	while (!stop) {
		/* After a request, poll a little before sleeping: the next one
		 * of a burst usually follows within microseconds, and a wake-up
		 * costs tens of them (see SPIN_NS in core/conn.c). */
		/* A client we just woke takes a wake-up to send its next
		 * request: wait for it whatever the score, and only count a
		 * success (see poll_a_while in core/conn.c: the other half of
		 * the same rule). */
		int woke = srv.woke_client;
		int64_t spin_until = spin && (woke || shx_spin_try(&polling))
					     ? ns_now() + (woke ? 2 : 1) * SPIN_NS
					     : 0;
		unsigned turn = 0;

		srv.woke_client = 0;

		/* The channels are looked at on every turn, the sockets (a
		 * system call) on every 16th: most requests come through the
		 * channels once a client has made its first. */
		do {
			r = server_poll_chans(&srv);
			if (r == 0 && (turn++ % 16 == 0 || !srv.nchans))
				r = loop_run_once(srv.loop, 0);
			/* nothing to do: what waits for that (ns_idle) */
			if (r == 0 && ns_idle(&srv.ns))
				r = server_poll_chans(&srv);
		} while (r == 0 && !stop && ns_now() < spin_until);
		if (spin_until && !stop && (r != 0 || !woke))
			shx_spin_result(&polling, r != 0);
		if (r == 0) {
			while (ns_idle(&srv.ns))
				;
			/* Clients that post now must wake us; one may have
			 * posted before it could see that. */
			if (server_chans_asleep(&srv, 1))
				r = server_poll_chans(&srv);
			else
				r = loop_run_once(srv.loop, server_timeout_ms(&srv));
			server_chans_asleep(&srv, 0);
		}
		server_page(&srv);
		if (r < 0 && r != -EINTR) {
			shx_log("event loop: %s", strerror(-r));
			break;
		}
		if (server_wants_tick(&srv) && ns_now() >= next_check) {
			server_tick(&srv);
			next_check = ns_now() + 1000000000;
		}
		if (!system && server_idle(&srv) && srv.idle_since_ns &&
		    ns_now() - srv.idle_since_ns >= (int64_t)cfg.idle_timeout * 1000000000) {
			shx_debug("idle for %us, exiting", cfg.idle_timeout);
			break;
		}
	}
	/* Unlink the socket only while we still hold the lock, so that it is
	 * never a successor's socket that goes; then let a successor start. */
	unlink(sock);
	if (pidfile)
		unlink(pidfile);
	close(lfd);
	close(lockfd);
	server_fini(&srv);
	return 0;
}
