/* ctl_stats.c -- `shmemctl stats`: the manager's pid and uptime, how much
 * of its size and inode limits is in use, and the same for each quota
 * group (users and apps).
 *
 *   pid:      4242
 *   socket:   /run/user/1000/shmemx/sock
 *   uptime:   3m12s
 *   size:     97.7K of 7.8G (0.0%)
 *   inodes:   3 of 2036001 (0.0%)
 *   objects:  2
 *   clients:  1
 *
 *   GROUP        USED  LIMIT  USE%  INODES   LIMIT RESIDENT SWAPPED OBJECTS CLIENTS
 *   manager     97.7K   7.8G  0.0%       3 2036001    97.7K       0       2       1
 *   user alice  97.7K      -     -       2       -    97.7K       0       2       1
 *   app build     64K   512M  0.0%       1       -      64K       0       1       0
 *
 * --json gives the same figures as integers, --prometheus in the text
 * exposition format of Prometheus (for node_exporter's textfile
 * collector).
 */
#include <inttypes.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "shmemctl.h"

static int fetch_stats(const struct ctl *ctl, int sock, struct shx_stats *st)
{
	static uint8_t data[SHX_DATA_MAX];
	struct shx_req req = { .op = SHX_OP_STATS };
	struct shx_rep rep = { .data = data, .datacap = sizeof(data) };
	int r = -1;

	if (ctl_call(ctl, sock, &req, &rep) == 0) {
		r = shx_stats_get(&rep, st);
		if (r < 0)
			ctl_error("malformed stats reply from the manager on %s", ctl->sock);
	}
	return r;
}

int ctl_groups(const struct ctl *ctl, int sock, struct shx_group **out, size_t *n)
{
	static uint8_t data[SHX_DATA_MAX];
	struct shx_group *v = NULL;
	uint64_t index = 0;
	size_t cap = 0;

	*n = 0;
	for (;;) {
		struct shx_req req = { .op = SHX_OP_QUOTA, .flags = SHX_QUOTA_LIST, .size = index,
				       .aux = sizeof(data) };
		struct shx_rep rep = { .data = data, .datacap = sizeof(data) };
		struct shx_group g;
		size_t off = 0;
		int r;

		if (ctl_call(ctl, sock, &req, &rep) < 0)
			goto fail;
		while ((r = shx_group_next(&rep, &off, &g)) > 0) {
			if (*n == cap) {
				struct shx_group *w;

				cap = cap ? cap * 2 : 16;
				w = realloc(v, cap * sizeof(*v));
				if (!w) {
					ctl_error("out of memory");
					goto fail;
				}
				v = w;
			}
			v[(*n)++] = g;
		}
		if (r < 0 || (rep.value <= index && !(rep.hflags & SHX_HF_EOF))) {
			ctl_error("malformed quota reply from the manager on %s", ctl->sock);
			goto fail;
		}
		if (rep.hflags & SHX_HF_EOF)
			break;
		index = rep.value;
	}
	*out = v;
	return 0;
fail:
	free(v);
	return -1;
}

char *ctl_user_name(uint32_t uid, char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, cap, "%s", pw->pw_name);
	else
		snprintf(buf, cap, "%" PRIu32, uid);
	return buf;
}

char *ctl_group_name(const struct shx_group *g, char *buf, size_t cap)
{
	char user[64];

	ctl_user_name(g->uid, user, sizeof(user));
	if (g->kind == SHX_GROUP_MANAGER)
		snprintf(buf, cap, "manager");
	else if (g->kind == SHX_GROUP_USER)
		snprintf(buf, cap, "user %s", user);
	else if (g->uid == getuid())
		snprintf(buf, cap, "app %s", g->name);
	else
		snprintf(buf, cap, "app %s@%s", g->name, user);
	return buf;
}

char *ctl_limit(uint64_t n, char *buf, size_t cap)
{
	if (n == UINT64_MAX)
		snprintf(buf, cap, "-");
	else
		shx_format_size(n, buf, cap);
	return buf;
}

char *ctl_count_limit(uint64_t n, char *buf, size_t cap)
{
	if (n == UINT64_MAX)
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, "%" PRIu64, n);
	return buf;
}

/* "12.3%", or "-" for a limit of 0 (which no figure can be a part of). */
char *ctl_percent(uint64_t used, uint64_t limit, char *buf, size_t cap)
{
	if (limit == 0 || limit == UINT64_MAX)
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
	       ctl_percent(st->size_used, st->size_limit, pct, sizeof(pct)));
	printf("inodes:   %" PRIu64 " of %" PRIu64 " (%s)\n", st->inodes_used, st->inodes_limit,
	       ctl_percent(st->inodes_used, st->inodes_limit, pct, sizeof(pct)));
	printf("objects:  %" PRIu64 "\n", st->objects);
	printf("clients:  %" PRIu64 "\n", clients);
}

/* Our own connection is among the clients of the manager and of our
 * user (never of an app): the figures are of everyone else. */
static uint64_t others(const struct shx_group *g, uint64_t self)
{
	return g->clients >= self && g->kind != SHX_GROUP_APP ? g->clients - self : g->clients;
}

void ctl_print_groups(const struct shx_group *g, size_t n, uint64_t self)
{
	printf("%-16s %7s %7s %6s %8s %8s %8s %8s %7s %7s\n", "GROUP", "USED", "LIMIT", "USE%",
	       "INODES", "LIMIT", "RESIDENT", "SWAPPED", "OBJECTS", "CLIENTS");
	for (size_t i = 0; i < n; i++) {
		char name[128], used[16], limit[16], pct[16], ilimit[24], res[16], swp[16];

		printf("%-16s %7s %7s %6s %8" PRIu64 " %8s %8s %8s %7" PRIu64 " %7" PRIu64 "\n",
		       ctl_group_name(&g[i], name, sizeof(name)),
		       shx_format_size(g[i].size_used, used, sizeof(used)),
		       ctl_limit(g[i].size_limit, limit, sizeof(limit)),
		       ctl_percent(g[i].size_used, g[i].size_limit, pct, sizeof(pct)),
		       g[i].inodes_used, ctl_count_limit(g[i].inodes_limit, ilimit, sizeof(ilimit)),
		       shx_format_size(g[i].resident, res, sizeof(res)),
		       shx_format_size(g[i].swapped, swp, sizeof(swp)), g[i].objects,
		       others(&g[i], self));
	}
}

/* A limit in JSON: null for none. */
static void json_limit(const char *key, uint64_t n)
{
	if (n == UINT64_MAX)
		printf(", \"%s\": null", key);
	else
		printf(", \"%s\": %" PRIu64, key, n);
}

void ctl_json_groups(const struct shx_group *g, size_t n, uint64_t self)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		static const char *const kinds[] = { "manager", "user", "app" };
		char user[64];

		printf("%s{\"kind\": \"%s\", \"uid\": %" PRIu32 ", \"user\": ", i ? ", " : "",
		       kinds[g[i].kind], g[i].uid);
		ctl_user_name(g[i].uid, user, sizeof(user));
		ctl_json_string(stdout, user, strlen(user));
		printf(", \"app\": ");
		if (g[i].kind == SHX_GROUP_APP)
			ctl_json_string(stdout, g[i].name, g[i].namelen);
		else
			printf("null");
		printf(", \"size_used\": %" PRIu64, g[i].size_used);
		json_limit("size_limit", g[i].size_limit);
		printf(", \"inodes_used\": %" PRIu64, g[i].inodes_used);
		json_limit("inodes_limit", g[i].inodes_limit);
		printf(", \"resident\": %" PRIu64 ", \"swapped\": %" PRIu64
		       ", \"objects\": %" PRIu64 ", \"clients\": %" PRIu64 "}",
		       g[i].resident, g[i].swapped, g[i].objects, others(&g[i], self));
	}
	putchar(']');
}

/* Raw figures: bytes and counts as integers, for programs to compute
 * with. */
static void print_json(const struct shx_stats *st, uint64_t clients, int64_t uptime,
		       const struct shx_group *g, size_t n)
{
	printf("{\"manager_pid\": %" PRIu64 ", \"uptime_seconds\": %" PRId64
	       ", \"size_used\": %" PRIu64 ", \"size_limit\": %" PRIu64
	       ", \"inodes_used\": %" PRIu64 ", \"inodes_limit\": %" PRIu64
	       ", \"objects\": %" PRIu64 ", \"clients\": %" PRIu64 ", \"groups\": ",
	       st->manager_pid, uptime, st->size_used, st->size_limit, st->inodes_used,
	       st->inodes_limit, st->objects, clients);
	ctl_json_groups(g, n, 1);
	printf("}\n");
}

/* The text exposition format: a HELP and a TYPE line per metric, then
 * one sample per group, labelled by kind, user and app. */
static void print_prometheus(const struct shx_stats *st, int64_t uptime,
			     const struct shx_group *g, size_t n)
{
	static const struct {
		const char *name, *help;
		size_t off;
		int limit; /* UINT64_MAX is no limit: +Inf */
	} metrics[] = {
		{ "shmemx_size_used_bytes", "Bytes charged to the group.",
		  offsetof(struct shx_group, size_used), 0 },
		{ "shmemx_size_limit_bytes", "The group's byte limit (+Inf: none).",
		  offsetof(struct shx_group, size_limit), 1 },
		{ "shmemx_inodes_used", "Inodes charged to the group.",
		  offsetof(struct shx_group, inodes_used), 0 },
		{ "shmemx_inodes_limit", "The group's inode limit (+Inf: none).",
		  offsetof(struct shx_group, inodes_limit), 1 },
		{ "shmemx_resident_bytes", "Bytes of the group's objects in memory.",
		  offsetof(struct shx_group, resident), 0 },
		{ "shmemx_swapped_bytes", "Bytes of the group's objects in swap files.",
		  offsetof(struct shx_group, swapped), 0 },
		{ "shmemx_objects", "Files and segments charged to the group.",
		  offsetof(struct shx_group, objects), 0 },
		{ "shmemx_clients", "Connections of the group's processes to the manager.",
		  offsetof(struct shx_group, clients), 0 },
	};
	static const char *const kinds[] = { "manager", "user", "app" };

	printf("# HELP shmemx_up_seconds How long the manager has run.\n"
	       "# TYPE shmemx_up_seconds gauge\n"
	       "shmemx_up_seconds{pid=\"%" PRIu64 "\"} %" PRId64 "\n",
	       st->manager_pid, uptime);
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		printf("# HELP %s %s\n# TYPE %s gauge\n", metrics[m].name, metrics[m].help,
		       metrics[m].name);
		for (size_t i = 0; i < n; i++) {
			uint64_t v;
			char user[64];

			memcpy(&v, (const char *)&g[i] + metrics[m].off, sizeof(v));
			/* user and app names are [A-Za-z0-9._-] or from passwd, with
			 * nothing a label value must escape but what we escape */
			ctl_user_name(g[i].uid, user, sizeof(user));
			printf("%s{group=\"%s\",user=\"", metrics[m].name, kinds[g[i].kind]);
			ctl_prometheus_label(user);
			printf("\"");
			if (g[i].kind == SHX_GROUP_APP) {
				printf(",app=\"");
				ctl_prometheus_label(g[i].name);
				printf("\"");
			}
			if (metrics[m].limit && v == UINT64_MAX)
				printf("} +Inf\n");
			else
				printf("} %" PRIu64 "\n", v);
		}
	}
}

void ctl_prometheus_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else
			putchar(*s);
	}
}

int ctl_stats(const struct ctl *ctl, int argc, char **argv)
{
	struct shx_stats st;
	struct shx_group *g = NULL;
	uint64_t clients;
	int64_t uptime;
	size_t n;
	int sock = ctl_connect(ctl), r;

	if (sock < 0)
		return CTL_FAIL;
	r = fetch_stats(ctl, sock, &st) < 0 || ctl_groups(ctl, sock, &g, &n) < 0;
	close(sock);
	if (r)
		return CTL_FAIL;
	/* The manager counts our own connection among its clients; the
	 * user asked about everyone else. */
	clients = st.clients > 0 ? st.clients - 1 : 0;
	uptime = (ctl_now_ns() - st.started_ns) / 1000000000;
	if (uptime < 0)
		uptime = 0;
	if (ctl->prometheus)
		print_prometheus(&st, uptime, g, n);
	else if (ctl->json)
		print_json(&st, clients, uptime, g, n);
	else {
		print_text(ctl, &st, clients, uptime);
		putchar('\n');
		ctl_print_groups(g, n, 1);
	}
	free(g);
	return CTL_OK;
}
