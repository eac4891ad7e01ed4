/* ctl_ipcs.c -- `shmemctl ipcs` and `shmemctl ipcrm`: the manager's System
 * V shared memory segments as util-linux's ipcs -m shows the kernel's,
 * and their removal as ipcrm does it.
 *
 *   shmemctl ipcs [-m] [-t | -p | -c | -l | -u] [--human | -b] [--json]
 *   shmemctl ipcs [-m] -i ID [--human] [--json]
 *   shmemctl ipcrm [-v] [-m ID]... [-M KEY]... [-a[=shm]] | shm ID...
 *
 * The segments come from the manager in pages (SHX_OP_SHMLIST) -- its
 * first page brings every shm_nattch up to date -- and are printed in
 * index order, the order of ipcs's walk.  Column for column, headers,
 * "Not set" and the human-readable sizes are those of util-linux 2.38,
 * so that a script reading ipcs -m can read this.  The limits and the
 * summary are IPC_INFO's and SHM_INFO's.  ipcrm removes with IPC_RMID,
 * a key found with shmget(key, 0, 0) first; its messages and exit status
 * are ipcrm's.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "shmemctl.h"

enum format { LIST, TIMES, PIDS, CREATORS, LIMITS, SUMMARY };
enum unit { UNIT_DEFAULT, UNIT_BYTES, UNIT_HUMAN };

struct segs {
	struct shx_shmid_ds *v;
	size_t n, cap;
};

/* --- asking the manager ---------------------------------------------------- */

static int fetch_segs(const struct ctl *ctl, int sock, struct segs *s)
{
	static uint8_t data[SHX_DATA_MAX];
	uint64_t from = 0;

	for (;;) {
		struct shx_req req = { .op = SHX_OP_SHMLIST, .size = from, .aux = sizeof(data) };
		struct shx_rep rep = { .data = data, .datacap = sizeof(data) };
		struct shx_shmid_ds d;
		size_t off = 0;
		int r;

		if (ctl_call(ctl, sock, &req, &rep) < 0)
			return -1;
		while ((r = shx_shmid_next(&rep, &off, &d)) > 0) {
			if (s->n == s->cap) {
				size_t cap = s->cap ? 2 * s->cap : 64;
				struct shx_shmid_ds *v = realloc(s->v, cap * sizeof(*v));

				if (!v) {
					ctl_error("out of memory");
					return -1;
				}
				s->v = v;
				s->cap = cap;
			}
			s->v[s->n++] = d;
		}
		if (r < 0) {
			ctl_error("malformed shmlist reply from the manager on %s", ctl->sock);
			return -1;
		}
		if (rep.hflags & SHX_HF_EOF)
			return 0;
		if (rep.value <= from) {
			ctl_error("the manager on %s returned an empty page", ctl->sock);
			return -1;
		}
		from = rep.value;
	}
}

/* shmctl(0, IPC_INFO or SHM_INFO) of the manager; its result, or -1. */
static int fetch_info(const struct ctl *ctl, int sock, int cmd, struct shx_shminfo *info)
{
	uint8_t data[128];
	struct shx_req req = { .op = SHX_OP_SHMCTL, .flags = (uint32_t)cmd };
	struct shx_rep rep = { .data = data, .datacap = sizeof(data) };

	if (ctl_call(ctl, sock, &req, &rep) < 0)
		return -1;
	if (shx_shminfo_get(&rep, info) < 0) {
		ctl_error("malformed shmctl reply from the manager on %s", ctl->sock);
		return -1;
	}
	return (int)rep.value;
}

/* --- ipcs's ways of writing things ------------------------------------------ */

/* size_to_human_string(SIZE_SUFFIX_1LETTER): "100B", "4.9K", "16E" */
static char *human(uint64_t n, char *buf, size_t cap)
{
	int exp = 0;
	uint64_t dec, frac;

	for (uint64_t v = n; exp < 60 && v >= 1024; v >>= 10)
		exp += 10;
	dec = exp ? n >> exp : n;
	frac = exp ? n & ((1ULL << exp) - 1) : 0;
	if (frac) { /* three digits, rounded to one */
		frac = frac >= UINT64_MAX / 1000 ? frac / 1024 * 1000 / (1ULL << (exp - 10))
						 : frac * 1000 / (1ULL << exp);
		frac = (frac + 50) / 100;
		if (frac > 9) {
			dec++;
			frac = 0;
		}
	}
	if (frac)
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 "%c", dec, frac, "BKMGTPE"[exp / 10]);
	else
		snprintf(buf, cap, "%" PRIu64 "%c", dec, "BKMGTPE"[exp / 10]);
	return buf;
}

/* ipc_print_size: "MSG (bytes) = N", "MSG (kbytes) = N", "MSG = 4.9K" */
static void print_size(enum unit unit, int kb, const char *msg, uint64_t n)
{
	char h[32];

	if (unit == UNIT_HUMAN)
		printf("%s = %s\n", msg, human(n, h, sizeof(h)));
	else if (kb)
		printf("%s (kbytes) = %" PRIu64 "\n", msg, n / 1024);
	else
		printf("%s (bytes) = %" PRIu64 "\n", msg, n);
}

static const char *user_of(uint32_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : NULL;
}

static const char *group_of(uint32_t gid)
{
	struct group *gr = getgrgid(gid);

	return gr ? gr->gr_name : NULL;
}

/* "%-10d %-10.10s": the id and its owner's name, or uid */
static void id_owner(const struct shx_shmid_ds *d)
{
	const char *u = user_of(d->uid);

	if (u)
		printf("%-10d %-10.10s", d->id, u);
	else
		printf("%-10d %-10u", d->id, d->uid);
}

static void name_col(const char *name, uint32_t id, const char *end)
{
	if (name)
		printf(" %-10s%s", name, end);
	else
		printf(" %-10u%s", id, end);
}

/* ctime without its weekday, 16 columns of it in 20, or "Not set" */
static void time_col(int64_t t, const char *end)
{
	char buf[32];
	time_t tt = t;

	if (t && ctime_r(&tt, buf))
		printf(" %-20.16s%s", buf + 4, end);
	else
		printf(" %-20.16s%s", "Not set", end);
}

static void print_list(const struct segs *s, enum format f, enum unit unit)
{
	static const char *const heads[] = {
		[LIST] = "Segments", [TIMES] = "Attach/Detach/Change Times",
		[PIDS] = "Creator/Last-op PIDs", [CREATORS] = "Segment Creators/Owners",
	};

	printf("------ Shared Memory %s --------\n", heads[f]);
	if (f == CREATORS)
		printf("%-10s %-10s %-10s %-10s %-10s %-10s\n", "shmid", "perms", "cuid", "cgid",
		       "uid", "gid");
	else if (f == TIMES)
		printf("%-10s %-10s %-20s %-20s %-20s\n", "shmid", "owner", "attached", "detached",
		       "changed");
	else if (f == PIDS)
		printf("%-10s %-10s %-10s %-10s\n", "shmid", "owner", "cpid", "lpid");
	else
		printf("%-10s %-10s %-10s %-10s %-10s %-10s %-12s\n", "key", "shmid", "owner",
		       "perms", unit == UNIT_HUMAN ? "size" : "bytes", "nattch", "status");
	for (size_t i = 0; i < s->n; i++) {
		const struct shx_shmid_ds *d = &s->v[i];
		char h[32];

		switch (f) {
		case CREATORS: /* ipc_print_perms */
			printf("%-10d %-10o", d->id, d->mode & 0777);
			name_col(user_of(d->cuid), d->cuid, "");
			name_col(group_of(d->cgid), d->cgid, "");
			name_col(user_of(d->uid), d->uid, "");
			name_col(group_of(d->gid), d->gid, "\n");
			break;
		case TIMES:
			id_owner(d);
			time_col(d->atime, "");
			time_col(d->dtime, "");
			time_col(d->ctime, "\n");
			break;
		case PIDS:
			id_owner(d);
			printf(" %-10d %-10d\n", d->cpid, d->lpid);
			break;
		default:
			printf("0x%08x ", (uint32_t)d->key);
			id_owner(d);
			printf(" %-10o ", d->mode & 0777);
			if (unit == UNIT_HUMAN)
				printf("%6s    ", human(d->segsz, h, sizeof(h)));
			else
				printf("%-10" PRIu64, d->segsz);
			printf(" %-10" PRIu64 " %-6s %-6s\n", d->nattch,
			       d->mode & SHM_DEST ? "dest" : " ", d->mode & SHM_LOCKED ? "locked" : " ");
			break;
		}
	}
}

static void print_limits(const struct shx_shminfo *i, enum unit unit)
{
	uint64_t pg = sysconf(_SC_PAGESIZE), per = unit == UNIT_DEFAULT ? pg / 1024 : pg, tot;

	printf("------ Shared Memory Limits --------\n");
	printf("max number of segments = %" PRIu64 "\n", i->shmmni);
	print_size(unit, unit == UNIT_DEFAULT, "max seg size", i->shmmax);
	/* shmall is in pages; a product that overflows is shown as the most */
	tot = i->shmall * per;
	if (i->shmall && tot / i->shmall != per)
		tot = UINT64_MAX - UINT64_MAX % per;
	if (unit == UNIT_DEFAULT)
		printf("max total shared memory (kbytes) = %" PRIu64 "\n", tot);
	else
		print_size(unit, 0, "max total shared memory", tot);
	if (unit == UNIT_HUMAN)
		print_size(unit, 0, "min seg size", i->shmmin);
	else
		printf("min seg size (bytes) = %" PRIu64 "\n", i->shmmin);
}

static void print_summary(const struct shx_shminfo *i)
{
	printf("------ Shared Memory Status --------\n"
	       "segments allocated %" PRIu64 "\n"
	       "pages allocated %" PRIu64 "\n"
	       "pages resident  %" PRIu64 "\n"
	       "pages swapped   %" PRIu64 "\n"
	       "Swap performance: 0 attempts\t 0 successes\n",
	       i->used_ids, i->shm_tot, i->shm_rss, i->shm_swp);
}

/* print_shm: one segment in full */
static void print_one(const struct shx_shmid_ds *d, enum unit unit)
{
	char buf[32], h[32];
	time_t t;

	printf("\nShared memory Segment shmid=%d\n", d->id);
	printf("uid=%u\tgid=%u\tcuid=%u\tcgid=%u\n", d->uid, d->gid, d->cuid, d->cgid);
	printf("mode=%#o\taccess_perms=%#o\n", d->mode, d->mode & 0777);
	if (unit == UNIT_HUMAN)
		printf("size=%s\t", human(d->segsz, h, sizeof(h)));
	else
		printf("bytes=%" PRIu64 "\t", d->segsz);
	printf("lpid=%u\tcpid=%u\tnattch=%" PRIu64 "\n", (unsigned)d->lpid, (unsigned)d->cpid,
	       d->nattch);
	t = d->atime;
	printf("att_time=%-26.24s\n", d->atime && ctime_r(&t, buf) ? buf : "Not set");
	t = d->dtime;
	printf("det_time=%-26.24s\n", d->dtime && ctime_r(&t, buf) ? buf : "Not set");
	t = d->ctime;
	printf("change_time=%-26.24s\n", ctime_r(&t, buf) ? buf : "");
	printf("\n");
}

/* --- JSON ------------------------------------------------------------------ */

static void json_name(const char *key, const char *name)
{
	printf(", \"%s\": ", key);
	if (name)
		ctl_json_string(stdout, name, strlen(name));
	else
		fputs("null", stdout);
}

/* Raw figures: bytes, seconds since the epoch (0: never), pids. */
static void json_seg(const struct shx_shmid_ds *d)
{
	printf("  {\"key\": %d, \"shmid\": %d, \"uid\": %u", d->key, d->id, d->uid);
	json_name("owner", user_of(d->uid));
	printf(", \"gid\": %u, \"cuid\": %u, \"cgid\": %u, \"perms\": %u, \"mode\": %u"
	       ", \"bytes\": %" PRIu64 ", \"nattch\": %" PRIu64 ", \"dest\": %s, \"locked\": %s"
	       ", \"cpid\": %d, \"lpid\": %d, \"atime\": %" PRId64 ", \"dtime\": %" PRId64
	       ", \"ctime\": %" PRId64 ", \"rss\": %" PRIu64 ", \"swap\": %" PRIu64 "}",
	       d->gid, d->cuid, d->cgid, d->mode & 0777, d->mode, d->segsz, d->nattch,
	       d->mode & SHM_DEST ? "true" : "false", d->mode & SHM_LOCKED ? "true" : "false",
	       d->cpid, d->lpid, d->atime, d->dtime, d->ctime, d->rss, d->swap);
}

static void json_list(const struct segs *s)
{
	if (s->n == 0) {
		puts("[]");
		return;
	}
	puts("[");
	for (size_t i = 0; i < s->n; i++) {
		json_seg(&s->v[i]);
		puts(i + 1 < s->n ? "," : "");
	}
	puts("]");
}

static void json_info(const struct shx_shminfo *i, enum format f)
{
	if (f == LIMITS)
		printf("{\"shmmni\": %" PRIu64 ", \"shmmax\": %" PRIu64 ", \"shmall\": %" PRIu64
		       ", \"shmmin\": %" PRIu64 ", \"page_size\": %ld}\n",
		       i->shmmni, i->shmmax, i->shmall, i->shmmin, sysconf(_SC_PAGESIZE));
	else
		printf("{\"segments\": %" PRIu64 ", \"pages\": %" PRIu64 ", \"pages_resident\": %" PRIu64
		       ", \"pages_swapped\": %" PRIu64 "}\n",
		       i->used_ids, i->shm_tot, i->shm_rss, i->shm_swp);
}

/* --- ipcs ------------------------------------------------------------------ */

/* strtos32_or_err: a whole number that fits an int */
static int parse_int(const char *s, int *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 0);
	if (errno || end == s || *end || n < INT_MIN || n > INT_MAX)
		return -1;
	*v = (int)n;
	return 0;
}

int ctl_ipcs(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shmems", no_argument, NULL, 'm' },	{ "all", no_argument, NULL, 'a' },
		{ "time", no_argument, NULL, 't' },	{ "pid", no_argument, NULL, 'p' },
		{ "creator", no_argument, NULL, 'c' },	{ "limits", no_argument, NULL, 'l' },
		{ "summary", no_argument, NULL, 'u' },	{ "human", no_argument, NULL, 'H' },
		{ "bytes", no_argument, NULL, 'b' },	{ "id", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },	{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum format f = LIST;
	enum unit unit = UNIT_DEFAULT;
	int json = ctl->json, id = 0, one = 0, sock, o, r = CTL_OK;
	struct shx_shminfo info;
	struct segs s = { 0 };

	optind = 0;
	while ((o = getopt_long(argc, argv, ":matpcluHbi:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'm': case 'a': break;
		case 't': f = TIMES; break;
		case 'p': f = PIDS; break;
		case 'c': f = CREATORS; break;
		case 'l': f = LIMITS; break;
		case 'u': f = SUMMARY; break;
		case 'H': unit = UNIT_HUMAN; break;
		case 'b': unit = UNIT_BYTES; break;
		case 'j': json = 1; break;
		case 'h': ctl_usage("ipcs"); return CTL_OK;
		case 'i':
			if (parse_int(optarg, &id) < 0) {
				ctl_error("failed to parse id argument: '%s'", optarg);
				return CTL_USAGE;
			}
			one = 1;
			break;
		default:
			ctl_error("ipcs: %s (try 'shmemctl ipcs --help')",
				  o == ':' ? "an option needs an argument" : "unknown option");
			return CTL_USAGE;
		}
	}
	if (optind < argc) {
		ctl_error("ipcs: too many arguments (try 'shmemctl ipcs --help')");
		return CTL_USAGE;
	}
	sock = ctl_connect(ctl);
	if (sock < 0)
		return CTL_FAIL;
	if (f == LIMITS || f == SUMMARY) {
		if (fetch_info(ctl, sock, f == LIMITS ? IPC_INFO : SHM_INFO, &info) < 0)
			r = CTL_FAIL;
		else if (json)
			json_info(&info, f);
		else if (f == LIMITS) {
			printf("\n");
			print_limits(&info, unit);
			printf("\n");
		} else {
			printf("\n");
			print_summary(&info);
			printf("\n");
		}
	} else if (fetch_segs(ctl, sock, &s) < 0) {
		r = CTL_FAIL;
	} else if (one) {
		size_t i;

		for (i = 0; i < s.n && s.v[i].id != id; i++)
			;
		if (i == s.n)
			ctl_error("id %d not found", id);
		else if (json) {
			json_seg(&s.v[i]);
			putchar('\n');
		} else
			print_one(&s.v[i], unit);
	} else if (json) {
		json_list(&s);
	} else {
		printf("\n");
		print_list(&s, f, unit);
		printf("\n");
	}
	free(s.v);
	close(sock);
	return r;
}

/* --- ipcrm ----------------------------------------------------------------- */

/* shmctl(IPC_RMID) of the manager: 0 or -errno (-1 after a message for
 * a failure of the transport). */
static int rmid(const struct ctl *ctl, int sock, int id)
{
	struct shx_req req = { .op = SHX_OP_SHMCTL, .aux = (uint32_t)id, .flags = IPC_RMID };
	struct shx_rep rep = { 0 };

	if (shx_call_on(sock, &req, &rep, NULL, 0) < 0) {
		ctl_error("shmctl request to the manager on %s failed", ctl->sock);
		return -1;
	}
	return rep.status;
}

/* ipcrm's remove_id; 0 or 1 (a failure, told) */
static int remove_id(const struct ctl *ctl, int sock, int id, const char *as, int verbose)
{
	int r;

	if (verbose)
		printf("removing shared memory segment id `%d'\n", id);
	r = rmid(ctl, sock, id);
	if (r == 0)
		return 0;
	if (r == -EACCES || r == -EPERM)
		ctl_error("permission denied for %s", as);
	else if (r == -EINVAL)
		ctl_error("invalid %s", as);
	else if (r == -EIDRM)
		ctl_error("already removed %s", as);
	else if (r != -1)
		ctl_error("%s: %s", as, strerror(-r));
	return 1;
}

/* key_to_id: shmget(key, 0, 0) */
static int key_id(const struct ctl *ctl, int sock, const char *arg, int *id)
{
	struct shx_req req = { .op = SHX_OP_SHMGET };
	struct shx_rep rep = { 0 };
	char *end;
	unsigned long long k;

	errno = 0;
	k = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || k > UINT32_MAX) {
		ctl_error("failed to parse argument: '%s'", arg);
		return -1;
	}
	if (k == IPC_PRIVATE) {
		ctl_error("illegal key (%s)", arg);
		return -1;
	}
	req.aux = (uint32_t)k;
	if (shx_call_on(sock, &req, &rep, NULL, 0) < 0) {
		ctl_error("shmget request to the manager on %s failed", ctl->sock);
		return -1;
	}
	if (rep.status == -ENOENT)
		ctl_error("invalid key (%s)", arg);
	else if (rep.status == -EACCES)
		ctl_error("permission denied for key (%s)", arg);
	else if (rep.status < 0)
		ctl_error("key (%s): %s", arg, strerror(-rep.status));
	if (rep.status < 0)
		return -1;
	*id = (int)rep.value;
	return 0;
}

/* -a: every segment the caller may remove */
static int remove_all(const struct ctl *ctl, int sock, int verbose)
{
	struct segs s = { 0 };
	int failed = 0;

	if (fetch_segs(ctl, sock, &s) < 0) {
		free(s.v);
		return 1;
	}
	for (size_t i = 0; i < s.n; i++) {
		char as[48];

		snprintf(as, sizeof(as), "id (%d)", s.v[i].id);
		failed |= remove_id(ctl, sock, s.v[i].id, as, verbose);
	}
	free(s.v);
	return failed;
}

int ctl_ipcrm(const struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shmem-id", required_argument, NULL, 'm' },
		{ "shmem-key", required_argument, NULL, 'M' },
		{ "all", optional_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int verbose = 0, failed = 0, did = 0, all = 0, sock, o, id;
	char as[48];

	/* a first pass for what changes how the rest is done */
	optind = 0;
	while ((o = getopt_long(argc, argv, ":m:M:a::vh", opts, NULL)) != -1) {
		if (o == 'v')
			verbose = 1;
		else if (o == 'h') {
			ctl_usage("ipcrm");
			return CTL_OK;
		} else if (o == 'a') {
			if (optarg && strcmp(optarg, "shm")) {
				ctl_error("ipcrm: only shared memory segments are kept here (-a shm)");
				return CTL_USAGE;
			}
			all = 1;
		} else if (o == ':' || o == '?') {
			ctl_error("ipcrm: %s (try 'shmemctl ipcrm --help')",
				  o == ':' ? "an option needs an argument" : "unknown option");
			return CTL_USAGE;
		}
	}
	/* the old form: ipcrm shm ID... */
	if (optind < argc && strcmp(argv[optind], "shm")) {
		ctl_error("ipcrm: unknown resource type '%s' (only shm is kept here)", argv[optind]);
		return CTL_USAGE;
	}
	sock = ctl_connect(ctl);
	if (sock < 0)
		return CTL_FAIL;
	optind = 0;
	while ((o = getopt_long(argc, argv, ":m:M:a::vh", opts, NULL)) != -1) {
		if (o == 'm') {
			did = 1;
			if (parse_int(optarg, &id) < 0) {
				ctl_error("failed to parse argument: '%s'", optarg);
				failed = 1;
				continue;
			}
			snprintf(as, sizeof(as), "id (%s)", optarg);
			failed |= remove_id(ctl, sock, id, as, verbose);
		} else if (o == 'M') {
			did = 1;
			if (key_id(ctl, sock, optarg, &id) < 0) {
				failed = 1;
				continue;
			}
			snprintf(as, sizeof(as), "key (%s)", optarg);
			failed |= remove_id(ctl, sock, id, as, verbose);
		}
	}
	if (optind < argc) { /* shm ID... */
		for (int i = optind + 1; i < argc; i++) {
			did = 1;
			if (parse_int(argv[i], &id) < 0) {
				ctl_error("failed to parse argument: '%s'", argv[i]);
				failed = 1;
				continue;
			}
			snprintf(as, sizeof(as), "id (%s)", argv[i]);
			failed |= remove_id(ctl, sock, id, as, verbose);
		}
	}
	if (all) {
		did = 1;
		failed |= remove_all(ctl, sock, verbose);
	}
	close(sock);
	if (!did) {
		ctl_error("ipcrm: nothing to remove (try 'shmemctl ipcrm --help')");
		return CTL_USAGE;
	}
	return failed ? CTL_FAIL : CTL_OK;
}
