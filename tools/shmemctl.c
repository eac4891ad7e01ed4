/* shmemctl.c -- the command-line tool that inspects a running shmemd:
 * global options, the table of subcommands, and the helpers they share.
 *
 *   shmemctl [--socket PATH] [--json] COMMAND [ARGS]
 *
 * shmemctl never starts a manager (that would create the very state it is
 * asked to report) -- but for run, whose command would start one anyway
 * and whose limits must be in place first.  It changes nothing but with
 * ipcrm (which removes System V segments as ipcrm(1) would), quota set
 * and run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "shmemctl.h"

/* --- subcommands --------------------------------------------------------- */

struct cmd {
	const char *name;
	ctl_fn *fn;
	const char *args; /* its synopsis, after the name */
	int max_args;	  /* operands it takes; -1: it parses its own options */
	const char *help; /* one line */
};

static ctl_fn ctl_help;

static const struct cmd cmds[] = {
	{ "stats", ctl_stats, "[--json|--prometheus]", 0,
	  "show the manager's pid, uptime, and each quota group's use and limits" },
	{ "ls", ctl_ls, "[--json] [--backtrace] [PATH-PREFIX]", 1,
	  "list the objects, or those under PATH-PREFIX" },
	{ "top", ctl_top, "[-n COUNT] [-d SECONDS] [--once] [--json]", -1,
	  "a live view of the groups and the largest objects" },
	{ "run", ctl_run,
	  "[--app NAME] [--quota SIZE[,INODES]] [--private-tmp [--keep-tmp]] -- CMD [ARG...]", -1,
	  "run CMD under the library as an app of its own" },
	{ "quota", ctl_quota,
	  "[show] | set [--app NAME|--user USER|--manager] SIZE[,INODES]", -1,
	  "show the quota groups, or set a group's limits" },
	{ "ipcs", ctl_ipcs, "[-t|-p|-c|-l|-u] [--human|-b] [-i ID] [--json]", -1,
	  "list the System V shared memory segments, as ipcs -m" },
	{ "ipcrm", ctl_ipcrm, "[-v] [-m ID]... [-M KEY]... [-a] | shm ID...", -1,
	  "remove System V segments by id or key, as ipcrm" },
	{ "swap", ctl_swap, "[--json] [budget SIZE|N%] [limit SIZE] [dir PATH]", 6,
	  "show the paging budget, swap and counters, or change them" },
	{ "help", ctl_help, "[COMMAND]", 1, "show this help, or COMMAND's" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: shmemctl [--socket PATH] [--json] COMMAND [ARGS]\n"
		   "Inspect the libshmemx manager (shmemd) of the current user.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCMDS; i++) {
		char syn[64];

		snprintf(syn, sizeof(syn), "%s %s", cmds[i].name, cmds[i].args);
		if (strlen(syn) > 26)
			fprintf(f, "  %s\n  %-26s %s\n", syn, "", cmds[i].help);
		else
			fprintf(f, "  %-26s %s\n", syn, cmds[i].help);
	}
	fprintf(f, "\nOptions:\n"
		   "  --socket PATH   the manager's socket (default: $SHMEMX_SOCKET, else\n"
		   "                  $XDG_RUNTIME_DIR/shmemx/sock, else /var/tmp/shmemx-UID/sock)\n"
		   "  --json          print JSON instead of text\n"
		   "  -h, --help      print this help (after COMMAND: the command's)\n"
		   "  -V, --version   print the version\n"
		   "See shmemctl(1).\n");
}

static void cmd_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: shmemctl [--socket PATH] %s %s\n  %s\n", c->name, c->args, c->help);
}

void ctl_usage(const char *name)
{
	const struct cmd *c = find_cmd(name);

	if (c)
		cmd_usage(stdout, c);
}

static int ctl_help(const struct ctl *ctl, int argc, char **argv)
{
	const struct cmd *c;

	if (argc == 0) {
		usage(stdout);
		return CTL_OK;
	}
	c = find_cmd(argv[0]);
	if (!c) {
		ctl_error("unknown command '%s' (try 'shmemctl --help')", argv[0]);
		return CTL_USAGE;
	}
	cmd_usage(stdout, c);
	return CTL_OK;
}

/* --- options ------------------------------------------------------------- */

struct opts {
	const char *socket;
	int json, prometheus, backtrace, help, version;
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "prometheus", no_argument, NULL, 'P' },
	{ "backtrace", no_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *long_name(int val)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == val)
			return o->name;
	return NULL;
}

/* getopt's own messages would be prefixed with a subcommand's name when
 * it parses a subcommand's arguments: we print ours instead.  Which
 * option failed is told by optopt: 0 for an unknown long option (then the
 * last element taken), else the option's value -- which is a long one's
 * when no short option has it (only -h and -V exist, and cannot fail). */
static void bad_option(int c, char **argv)
{
	const char *name = optopt ? long_name(optopt) : NULL;

	if (c == ':')
		ctl_error("option '--%s' needs an argument (try 'shmemctl --help')", name);
	else if (name)
		ctl_error("option '--%s' takes no argument (try 'shmemctl --help')", name);
	else if (optopt)
		ctl_error("unknown option '-%c' (try 'shmemctl --help')", optopt);
	else
		ctl_error("unknown option '%s' (try 'shmemctl --help')", argv[optind - 1]);
}

/* The same options are accepted before and after the command, so that
 * both "shmemctl --json ls" and "shmemctl ls --json" work.  Returns 0, or
 * -1 after an error message. */
static int parse_options(struct opts *o, int argc, char **argv, const char *optstring)
{
	int c;

	while ((c = getopt_long(argc, argv, optstring, long_opts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'j': o->json = 1; break;
		case 'P': o->prometheus = 1; break;
		case 'B': o->backtrace = 1; break;
		case 'h': o->help = 1; break;
		case 'V': o->version = 1; break;
		default: bad_option(c, argv); return -1;
		}
	}
	return 0;
}

static void resolve_socket(struct ctl *ctl, const char *opt)
{
	int n;

	/* An unusable path is left empty, for ctl_connect to report: only
	 * the commands that talk to the manager care. */
	if (!opt) {
		if (shx_socket_path(ctl->sock, sizeof(ctl->sock)) < 0)
			ctl->sock[0] = 0;
		return;
	}
	n = snprintf(ctl->sock, sizeof(ctl->sock), "%s", opt);
	if (n < 0 || (size_t)n >= sizeof(ctl->sock))
		ctl->sock[0] = 0;
}

/* Output that could not be written is a failure, not a success with
 * nothing to show (a full disk behind a redirection). */
static int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("write error: %s", strerror(errno));
		return CTL_FAIL;
	}
	return status;
}

int main(int argc, char **argv)
{
	static struct ctl ctl;
	struct opts o = { 0 };
	const struct cmd *cmd;
	int nargs;

	opterr = 0;
	/* "+": stop at the command name, whose arguments are its own. */
	if (parse_options(&o, argc, argv, "+:hV") < 0)
		return CTL_USAGE;
	if (o.version) {
		puts("shmemctl " PACKAGE_VERSION);
		return finish(CTL_OK);
	}
	if (o.help || optind == argc) {
		usage(stdout);
		return finish(CTL_OK);
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		ctl_error("unknown command '%s' (try 'shmemctl --help')", argv[optind]);
		return CTL_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (cmd->max_args < 0) { /* its options are its own */
		resolve_socket(&ctl, o.socket);
		ctl.json = o.json;
		return finish(cmd->fn(&ctl, argc, argv));
	}
	optind = 0; /* glibc: start over, on the command's arguments */
	if (parse_options(&o, argc, argv, ":hV") < 0)
		return CTL_USAGE;
	if (o.help) {
		cmd_usage(stdout, cmd);
		return finish(CTL_OK);
	}
	nargs = argc - optind;
	if (nargs > cmd->max_args) {
		ctl_error("%s: too many arguments (try 'shmemctl %s --help')", cmd->name, cmd->name);
		return CTL_USAGE;
	}
	if (o.socket && !o.socket[0]) {
		ctl_error("--socket needs a path (try 'shmemctl --help')");
		return CTL_USAGE;
	}
	if (o.prometheus && cmd->fn != ctl_stats) {
		ctl_error("--prometheus is for stats only (try 'shmemctl --help')");
		return CTL_USAGE;
	}
	if (o.backtrace && cmd->fn != ctl_ls) {
		ctl_error("--backtrace is for ls only (try 'shmemctl --help')");
		return CTL_USAGE;
	}
	resolve_socket(&ctl, o.socket);
	ctl.json = o.json;
	ctl.prometheus = o.prometheus;
	ctl.backtrace = o.backtrace;
	return finish(cmd->fn(&ctl, nargs, argv + optind));
}

/* --- helpers for the subcommands ----------------------------------------- */

void ctl_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* keep the order of what both streams show */
	fputs("shmemctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_connect(const struct ctl *ctl)
{
	int sock;

	if (!ctl->sock[0]) {
		ctl_error("the manager's socket path is too long");
		return -1;
	}
	/* No shmemd path: a manager we started would only report itself. */
	sock = shx_connect(ctl->sock, NULL);
	if (sock == -ENOENT || sock == -ECONNREFUSED)
		ctl_error("no manager is running on %s", ctl->sock);
	else if (sock < 0)
		ctl_error("cannot talk to the manager on %s: %s", ctl->sock, strerror(-sock));
	return sock < 0 ? -1 : sock;
}

int ctl_call(const struct ctl *ctl, int sock, struct shx_req *req, struct shx_rep *rep)
{
	int r = shx_call_on(sock, req, rep, NULL, 0);

	if (r < 0) {
		ctl_error("%s request to the manager on %s failed: %s", shx_op_name(req->op),
			  ctl->sock, strerror(-r));
		return -1;
	}
	if (rep->status < 0) {
		ctl_error("the manager on %s refused the %s request: %s", ctl->sock,
			  shx_op_name(req->op), strerror(-rep->status));
		return -1;
	}
	return 0;
}

int64_t ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *ctl_age(int64_t s, char *buf, size_t cap)
{
	if (s < 0) /* a clock stepped back since */
		s = 0;
	if (s < 60)
		snprintf(buf, cap, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, cap, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, cap, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, cap, "%lldd", (long long)(s / 86400));
	return buf;
}

char *ctl_uptime(int64_t s, char *buf, size_t cap)
{
	long long v = s < 0 ? 0 : s;

	if (v < 60)
		snprintf(buf, cap, "%llds", v);
	else if (v < 3600)
		snprintf(buf, cap, "%lldm%02llds", v / 60, v % 60);
	else if (v < 86400)
		snprintf(buf, cap, "%lldh%02lldm", v / 3600, v % 3600 / 60);
	else
		snprintf(buf, cap, "%lldd%02lldh", v / 86400, v % 86400 / 3600);
	return buf;
}

size_t ctl_utf8_len(const unsigned char *s, size_t n)
{
	unsigned lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* JSON's two-character escapes; 0 for a byte that has none. */
static char json_short_escape(unsigned char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '\b': return 'b';
	case '\f': return 'f';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	default: return 0;
	}
}

/* Names are bytes, JSON strings are Unicode: a byte that is not part of
 * valid UTF-8 becomes the code point of the same value (\u00XX), as
 * Latin-1 would read it.  Readable, though not reversible. */
void ctl_json_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	putc('"', f);
	for (size_t i = 0; i < n;) {
		size_t len = ctl_utf8_len(p + i, n - i);
		char e = json_short_escape(p[i]);

		if (e)
			fprintf(f, "\\%c", e);
		else if (p[i] < 0x20 || p[i] == 0x7f || len == 0)
			fprintf(f, "\\u%04x", p[i]);
		else {
			fwrite(p + i, 1, len, f);
			i += len;
			continue;
		}
		i++;
	}
	putc('"', f);
}
