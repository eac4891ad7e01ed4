/* ctl_swap.c -- `shmemctl swap`: the pager's budget, swap and counters,
 * and its settings changed live.
 *
 *   shmemctl swap                          show
 *   shmemctl swap budget 64M | 25%         the RAM budget of the objects
 *   shmemctl swap limit 1G                 the swap size limit
 *   shmemctl swap dir /var/tmp/myswap      where the swap files go
 *
 * Output:
 *   budget:    16M (a size)  or  5.8G (50% of available memory)
 *   resident:  12.1M
 *   swapped:   48.0M in 3 objects
 *   swap:      48.0M of 1.0G used, in /var/tmp/shmemx-1000/swap
 *   page-ins:  1024 pages
 *   page-outs: 13312 pages
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "shmemctl.h"

int ctl_swapinfo(const struct ctl *ctl, int sock, struct shx_swapinfo *si)
{
	static uint8_t data[SHX_DATA_MAX];
	struct shx_req req = { .op = SHX_OP_SWAPINFO };
	struct shx_rep rep = { .data = data, .datacap = sizeof(data) };

	if (ctl_call(ctl, sock, &req, &rep) < 0)
		return -1;
	if (shx_swapinfo_get(&rep, si) < 0) {
		ctl_error("malformed swap reply from the manager on %s", ctl->sock);
		return -1;
	}
	return 0;
}

void ctl_swap_text(const struct shx_swapinfo *si)
{
	char a[16], b[16];

	if (si->budget_pct)
		printf("budget:    %s (%u%% of available memory)\n",
		       shx_format_size(si->budget, a, sizeof(a)), si->budget_pct);
	else
		printf("budget:    %s\n", shx_format_size(si->budget, a, sizeof(a)));
	printf("resident:  %s\n", shx_format_size(si->resident, a, sizeof(a)));
	printf("swapped:   %s in %" PRIu64 " objects\n", shx_format_size(si->swapped, a, sizeof(a)),
	       si->objects_out);
	printf("swap:      %s of %s used, in %s\n", shx_format_size(si->swap_used, a, sizeof(a)),
	       shx_format_size(si->swap_limit, b, sizeof(b)), si->dir);
	printf("page-ins:  %" PRIu64 " pages\n", si->pageins);
	printf("page-outs: %" PRIu64 " pages\n", si->pageouts);
	if (!si->enabled)
		printf("paging:    off (the manager could not set it up)\n");
}

void ctl_swap_json(const struct shx_swapinfo *si, int newline)
{
	printf("{\"budget\":%" PRIu64 ",\"budget_percent\":%u,\"resident\":%" PRIu64
	       ",\"swapped\":%" PRIu64 ",\"objects_swapped\":%" PRIu64 ",\"swap_used\":%" PRIu64
	       ",\"swap_limit\":%" PRIu64 ",\"swap_dir\":",
	       si->budget, si->budget_pct, si->resident, si->swapped, si->objects_out,
	       si->swap_used, si->swap_limit);
	ctl_json_string(stdout, si->dir, strlen(si->dir));
	printf(",\"pageins\":%" PRIu64 ",\"pageouts\":%" PRIu64 ",\"enabled\":%s}%s", si->pageins,
	       si->pageouts, si->enabled ? "true" : "false", newline ? "\n" : "");
}

/* One "KEY VALUE" operand pair into a SWAPSET request. */
static int parse_setting(const char *key, const char *val, struct shx_req *q)
{
	memset(q, 0, sizeof(*q));
	q->op = SHX_OP_SWAPSET;
	if (!strcmp(key, "budget")) {
		size_t n = strlen(val);

		if (n && val[n - 1] == '%') {
			char *end;
			unsigned long pct = strtoul(val, &end, 10);

			if (end == val || strcmp(end, "%") || pct < 1 || pct > 100)
				return -EINVAL;
			q->flags = SHX_SWAPSET_BUDGET_PCT;
			q->size = pct;
			return 0;
		}
		q->flags = SHX_SWAPSET_BUDGET;
		return shx_parse_size(val, &q->size) < 0 || q->size == 0 ? -EINVAL : 0;
	}
	if (!strcmp(key, "limit")) {
		q->flags = SHX_SWAPSET_LIMIT;
		return shx_parse_size(val, &q->size) < 0 ? -EINVAL : 0;
	}
	if (!strcmp(key, "dir")) {
		if (val[0] != '/' || strlen(val) >= SHX_PATH_MAX)
			return -EINVAL;
		q->flags = SHX_SWAPSET_DIR;
		strcpy(q->path, val);
		q->pathlen = strlen(val);
		return 0;
	}
	return -ENOENT;
}

int ctl_swap(const struct ctl *ctl, int argc, char **argv)
{
	static struct shx_req q;
	struct shx_swapinfo si;
	int sock, r = CTL_OK;

	if (argc % 2) {
		ctl_error("swap: '%s' needs a value (try 'shmemctl swap --help')", argv[argc - 1]);
		return CTL_USAGE;
	}
	/* every setting is checked before any is sent */
	for (int i = 0; i < argc; i += 2) {
		int e = parse_setting(argv[i], argv[i + 1], &q);

		if (e == -ENOENT) {
			ctl_error("swap: unknown setting '%s' (budget, limit or dir)", argv[i]);
			return CTL_USAGE;
		}
		if (e < 0) {
			ctl_error("swap: bad %s '%s'", argv[i], argv[i + 1]);
			return CTL_USAGE;
		}
	}
	sock = ctl_connect(ctl);
	if (sock < 0)
		return CTL_FAIL;
	for (int i = 0; i < argc && r == CTL_OK; i += 2) {
		struct shx_rep rep = { 0 };

		parse_setting(argv[i], argv[i + 1], &q);
		if (ctl_call(ctl, sock, &q, &rep) < 0)
			r = CTL_FAIL;
	}
	if (r == CTL_OK && argc == 0) {
		if (ctl_swapinfo(ctl, sock, &si) < 0)
			r = CTL_FAIL;
		else if (ctl->json)
			ctl_swap_json(&si, 1);
		else
			ctl_swap_text(&si);
	}
	close(sock);
	return r;
}
