/* ctl_top.c -- `shmemctl top`: the quota groups and the largest objects,
 * refreshed every few seconds as top(1) does.
 *
 *   shmemctl top [-n COUNT] [-d SECONDS] [--once] [--json]
 *
 * On a terminal each refresh clears the screen; otherwise (a pipe, a
 * test) the screens follow one another, separated by a blank line.
 * -n COUNT stops after COUNT screens (--once is -n 1), as top -b -n does;
 * --json prints each screen as one JSON object on a line of its own
 * ({"groups": [...], "objects": [...]}).  q or Ctrl-C ends it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "shmemctl.h"

#define TOP_OBJECTS 15

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int screen(const struct ctl *ctl, int json, int tty)
{
	struct shx_group *g;
	size_t n;
	int sock = ctl_connect(ctl), r;
	char now[32];
	time_t t = time(NULL);

	if (sock < 0)
		return -1;
	r = ctl_groups(ctl, sock, &g, &n);
	if (r < 0) {
		close(sock);
		return -1;
	}
	if (json) {
		printf("{\"time\": %lld, \"groups\": ", (long long)t);
		ctl_json_groups(g, n, 1);
		printf(", \"objects\": ");
		fflush(stdout);
		r = ctl_ls_largest(ctl, sock, TOP_OBJECTS, 1);
		printf("}\n");
	} else {
		if (tty)
			fputs("\033[H\033[2J", stdout);
		strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
		printf("shmemctl top - %s - %s\n\n", now, ctl->sock);
		ctl_print_groups(g, n, 1);
		putchar('\n');
		r = ctl_ls_largest(ctl, sock, TOP_OBJECTS, 0);
	}
	free(g);
	close(sock);
	fflush(stdout);
	return r;
}

/* Waits `ms`, or less if q is typed or a signal comes: 1 to go on. */
static int pause_for(int ms, int tty)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	char c;

	if (stop)
		return 0;
	if (!tty) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		return !stop;
	}
	if (poll(&p, 1, ms) > 0 && read(0, &c, 1) == 1 && (c == 'q' || c == 'Q'))
		return 0;
	return !stop;
}

int ctl_top(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct termios old, raw;
	long count = -1;
	double delay = 2;
	int c, json = ctl->json, tty = isatty(1), keys, status = CTL_OK;
	char *end;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:n:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || count < 1) {
				ctl_error("top: bad count '%s': a number of screens, 1 or more",
					  optarg);
				return CTL_USAGE;
			}
			break;
		case 'd':
			errno = 0;
			delay = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(delay >= 0.1 && delay <= 86400)) {
				ctl_error("top: bad delay '%s': seconds, 0.1 or more", optarg);
				return CTL_USAGE;
			}
			break;
		case '1':
			count = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			ctl_usage("top");
			return CTL_OK;
		case ':':
			ctl_error("top: option '%s' needs an argument (try 'shmemctl top --help')",
				  argv[optind - 1]);
			return CTL_USAGE;
		default:
			ctl_error("top: unknown option '%s' (try 'shmemctl top --help')",
				  argv[optind - 1]);
			return CTL_USAGE;
		}
	}
	if (optind < argc) {
		ctl_error("top: too many arguments (try 'shmemctl top --help')");
		return CTL_USAGE;
	}
	if (json)
		tty = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* keys without Enter, so that q ends it */
	keys = tty && isatty(0) && tcgetattr(0, &old) == 0;
	if (keys) {
		raw = old;
		raw.c_lflag &= ~(ICANON | ECHO);
		tcsetattr(0, TCSANOW, &raw);
	}
	for (long i = 0; count < 0 || i < count; i++) {
		if (i > 0 && !tty && !json)
			putchar('\n');
		if (screen(ctl, json, tty) < 0) {
			status = CTL_FAIL;
			break;
		}
		if ((count >= 0 && i + 1 >= count) || !pause_for((int)(delay * 1000), keys))
			break;
	}
	if (keys)
		tcsetattr(0, TCSANOW, &old);
	return status;
}
