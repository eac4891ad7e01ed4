/* ctl_quota.c -- `shmemctl quota`: the quota groups' use and limits, and
 * setting them on the running manager.
 *
 *   shmemctl quota [show]
 *   shmemctl quota set (--app NAME | --user USER | --manager) SIZE[,INODES]
 *
 * SIZE is a size with a unit (512M, 1.5G) or "none"; INODES a count or
 * "none".  Without INODES the inode limit stays as it is.  A user's or an
 * app's limit may be set below what it uses (it can then only shrink); the
 * manager's may not, as tmpfs refuses a remount smaller than its use.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "shmemctl.h"

static int show(const struct ctl *ctl)
{
	struct shx_group *g;
	size_t n;
	int sock = ctl_connect(ctl), r;

	if (sock < 0)
		return CTL_FAIL;
	r = ctl_groups(ctl, sock, &g, &n);
	close(sock);
	if (r < 0)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_json_groups(g, n, 1);
		putchar('\n');
	} else
		ctl_print_groups(g, n, 1);
	free(g);
	return CTL_OK;
}

/* A user by name or number. */
static int parse_user(const char *s, uint32_t *uid)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || *end || v > UINT32_MAX - 1)
			return -1;
		*uid = v;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -1;
	*uid = pw->pw_uid;
	return 0;
}

static int set(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "app", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "manager", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct shx_req q = {
		.op = SHX_OP_QUOTA, .flags = SHX_QUOTA_SET, .aux = SHX_GROUP_USER, .uid = getuid()
	};
	struct shx_rep rep = { 0 };
	struct shx_group *g = NULL;
	const char *app = NULL;
	uint64_t size, inodes = 0;
	int c, kinds = 0, have_inodes, sock, r;
	size_t n;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (shx_app_name_valid(optarg) < 0) {
				ctl_error("quota set: bad app name '%s': 1 to 63 of A-Z a-z 0-9 . "
					  "_ -",
					  optarg);
				return CTL_USAGE;
			}
			app = optarg;
			q.aux = SHX_GROUP_APP;
			kinds++;
			break;
		case 'u':
			if (parse_user(optarg, &q.uid) < 0) {
				ctl_error("quota set: no such user '%s'", optarg);
				return CTL_USAGE;
			}
			q.aux = SHX_GROUP_USER;
			kinds++;
			break;
		case 'm':
			q.aux = SHX_GROUP_MANAGER;
			kinds++;
			break;
		case 'h':
			ctl_usage("quota");
			return CTL_OK;
		default:
			ctl_error("quota set: bad option '%s' (try 'shmemctl quota --help')",
				  argv[optind - 1]);
			return CTL_USAGE;
		}
	}
	if (kinds > 1) {
		ctl_error("quota set: one of --app, --user, --manager");
		return CTL_USAGE;
	}
	if (optind + 1 != argc) {
		ctl_error("quota set: %s (try 'shmemctl quota --help')",
			  optind == argc ? "no limit given" : "too many arguments");
		return CTL_USAGE;
	}
	if (ctl_parse_quota(argv[optind], &size, &inodes, &have_inodes) < 0) {
		ctl_error("quota set: bad limit '%s': SIZE[,INODES], as 512M or 1.5G,100000 "
			  "or none",
			  argv[optind]);
		return CTL_USAGE;
	}
	if (app)
		shx_req_set_path(&q, app);
	sock = ctl_connect(ctl);
	if (sock < 0)
		return CTL_FAIL;
	/* without INODES, the group keeps its inode limit */
	if (!have_inodes) {
		if (ctl_groups(ctl, sock, &g, &n) < 0) {
			close(sock);
			return CTL_FAIL;
		}
		inodes = UINT64_MAX;
		for (size_t i = 0; i < n; i++)
			if (g[i].kind == q.aux &&
			    (q.aux == SHX_GROUP_MANAGER || g[i].uid == q.uid) &&
			    (q.aux != SHX_GROUP_APP || !strcmp(g[i].name, app)))
				inodes = g[i].inodes_limit;
		free(g);
		if (inodes == UINT64_MAX)
			inodes = 0;
	}
	q.size = size;
	q.mtime_ns = (int64_t)inodes;
	r = ctl_call(ctl, sock, &q, &rep);
	close(sock);
	return r < 0 ? CTL_FAIL : CTL_OK;
}

int ctl_quota(const struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "show")) {
		if (argc > 2) {
			ctl_error("quota show: too many arguments");
			return CTL_USAGE;
		}
		return show(ctl);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		ctl_usage("quota");
		return CTL_OK;
	}
	if (!strcmp(argv[1], "set"))
		return set(ctl, argc - 1, argv + 1);
	ctl_error("quota: unknown action '%s': show or set (try 'shmemctl quota --help')", argv[1]);
	return CTL_USAGE;
}
