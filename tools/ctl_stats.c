/* ctl_stats.c -- `shmemctl stats`: the manager's pid and uptime, and how
 * much of its size and inode limits is in use.
 *
 *   pid:      4242
 *   socket:   /run/user/1000/shmemx/sock
 *   uptime:   3m12s
 *   size:     97.7K of 7.8G (0.0%)
 *   inodes:   3 of 2036001 (0.0%)
 *   objects:  2
 *   clients:  1
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "shmemctl.h"

static int fetch_stats(const struct ctl *ctl, struct shx_stats *st)
{
	static uint8_t data[SHX_DATA_MAX];
	struct shx_req req = { .op = SHX_OP_STATS };
	struct shx_rep rep = { .data = data, .datacap = sizeof(data) };
	int sock = ctl_connect(ctl), r = -1;

	if (sock < 0)
		return -1;
	if (ctl_call(ctl, sock, &req, &rep) == 0) {
		r = shx_stats_get(&rep, st);
		if (r < 0)
			ctl_error("malformed stats reply from the manager on %s", ctl->sock);
	}
	close(sock);
	return r;
}

/* "12.3%", or "-" for a limit of 0 (which no figure can be a part of). */
static char *percent(uint64_t used, uint64_t limit, char *buf, size_t cap)
{
	if (limit == 0)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%.1f%%", 100.0 * (double)used / (double)limit);
	return buf;
}

static void print_text(const struct ctl *ctl, const struct shx_stats *st, uint64_t clients,
		       int64_t uptime)
{
	char used[16], limit[16], pct[16], up[32];

	printf("pid:      %" PRIu64 "\n", st->manager_pid);
	printf("socket:   %s\n", ctl->sock);
	printf("uptime:   %s\n", ctl_uptime(uptime, up, sizeof(up)));
	printf("size:     %s of %s (%s)\n", shx_format_size(st->size_used, used, sizeof(used)),
	       shx_format_size(st->size_limit, limit, sizeof(limit)),
	       percent(st->size_used, st->size_limit, pct, sizeof(pct)));
	printf("inodes:   %" PRIu64 " of %" PRIu64 " (%s)\n", st->inodes_used, st->inodes_limit,
	       percent(st->inodes_used, st->inodes_limit, pct, sizeof(pct)));
	printf("objects:  %" PRIu64 "\n", st->objects);
	printf("clients:  %" PRIu64 "\n", clients);
}

/* Raw figures: bytes and counts as integers, for programs to compute
 * with. */
static void print_json(const struct shx_stats *st, uint64_t clients, int64_t uptime)
{
	printf("{\"manager_pid\": %" PRIu64 ", \"uptime_seconds\": %" PRId64
	       ", \"size_used\": %" PRIu64 ", \"size_limit\": %" PRIu64
	       ", \"inodes_used\": %" PRIu64 ", \"inodes_limit\": %" PRIu64
	       ", \"objects\": %" PRIu64 ", \"clients\": %" PRIu64 "}\n",
	       st->manager_pid, uptime, st->size_used, st->size_limit, st->inodes_used,
	       st->inodes_limit, st->objects, clients);
}

int ctl_stats(const struct ctl *ctl, int argc, char **argv)
{
	struct shx_stats st;
	uint64_t clients;
	int64_t uptime;

	if (fetch_stats(ctl, &st) < 0)
		return CTL_FAIL;
	/* The manager counts our own connection among its clients; the
	 * user asked about everyone else. */
	clients = st.clients > 0 ? st.clients - 1 : 0;
	uptime = (ctl_now_ns() - st.started_ns) / 1000000000;
	if (uptime < 0)
		uptime = 0;
	if (ctl->json)
		print_json(&st, clients, uptime);
	else
		print_text(ctl, &st, clients, uptime);
	return CTL_OK;
}
