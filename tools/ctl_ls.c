/* ctl_ls.c -- `shmemctl ls`: the objects the manager keeps, one a line.
 *
 *   SIZE CHARGED MODE       USER  APP   RESIDENT SWAPPED MAPPED-BY HOLDERS CREATOR  AGE PATH
 *      3      4K -rw-r--r-- alice -           4K       0 -               0    4242   5s /dev/shm/a
 *  68.4K    136K -rw------- alice build      36K   32.4K 4250,4251       1    4250   3m (deleted)
 *
 * USER is the owner, APP the app the object is charged to, RESIDENT what
 * of it is in memory, SWAPPED what is in swap files, MAPPED-BY the connected processes that map it (from
 * their /proc/PID/maps).  With --backtrace each object is followed by the
 * stack that created it, when its creator ran with SHMEMX_BACKTRACE=1.
 *
 * The manager sends the objects in pages (SHX_OP_LS, with a cookie to go
 * on from), in inode order.  All pages are read before anything is
 * printed, so that the listing can be sorted by path (unlinked objects,
 * which have none, last), the columns sized to fit, and a failure half
 * way leaves no half listing behind.  A PATH-PREFIX keeps the objects
 * whose path starts with it, byte for byte.
 */
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "shmemctl.h"

/* An object as listed: struct shx_obj without its 4 KiB path buffer. */
struct row {
	struct shx_attr attr;
	uint64_t charged, resident, swapped;
	uint32_t holders, creator_pid, cuid;
	int64_t created_ns;
	uint8_t nmappers;
	uint32_t mappers[SHX_OBJ_MAPPERS];
	char app[64];
	char *backtrace; /* NULL: none recorded */
	uint16_t pathlen; /* 0: unlinked, held open by someone */
	char path[];
};

struct ls {
	const struct ctl *ctl;
	const char *prefix; /* NULL: every object */
	size_t prefix_len;
	struct row **rows;
	size_t n, cap;
	int64_t now_ns; /* one "now" for every age in the listing */
	int backtrace;	/* --backtrace */
};

/* --- fields -------------------------------------------------------------- */

/* As ls -l: type, then rwx for user, group and others with the set-id and
 * sticky bits folded into the x columns. */
static char *mode_string(uint32_t mode, char buf[11])
{
	static const char rwx[] = "rwxrwxrwx";

	buf[0] = S_ISREG(mode) ? '-' : S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : '?';
	for (int i = 0; i < 9; i++)
		buf[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
	if (mode & S_ISUID)
		buf[3] = buf[3] == 'x' ? 's' : 'S';
	if (mode & S_ISGID)
		buf[6] = buf[6] == 'x' ? 's' : 'S';
	if (mode & S_ISVTX)
		buf[9] = buf[9] == 'x' ? 't' : 'T';
	buf[10] = 0;
	return buf;
}

/* The user's name, or NULL.  Nearly every object belongs to the one user
 * the manager serves: remember the last answer. */
static const char *user_name(uint32_t uid)
{
	static uint32_t last_uid;
	static char last_name[64];
	static int known;
	struct passwd *pw;

	if (!known || uid != last_uid) {
		pw = getpwuid(uid);
		snprintf(last_name, sizeof(last_name), "%s", pw ? pw->pw_name : "");
		last_uid = uid;
		known = 1;
	}
	return last_name[0] ? last_name : NULL;
}

/* The USER column: the name, else the number. */
static const char *user_label(uint32_t uid, char *buf, size_t cap)
{
	const char *name = user_name(uid);

	if (name)
		return name;
	snprintf(buf, cap, "%" PRIu32, uid);
	return buf;
}

static int64_t age_seconds(const struct ls *ls, const struct row *o)
{
	int64_t s = (ls->now_ns - o->created_ns) / 1000000000;

	return s < 0 ? 0 : s;
}

/* --- text ---------------------------------------------------------------- */

/* A name may hold any byte but '/' and NUL: control bytes (a newline
 * would forge a row), bytes that are not UTF-8 (the terminal would show
 * them as it likes) and backslashes are shown as C-style escapes. */
static void put_path(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t len = ctl_utf8_len(p + i, n - i);

		if (p[i] == '\\')
			fputs("\\\\", f);
		else if (p[i] < 0x20 || p[i] == 0x7f || len == 0)
			fprintf(f, "\\%03o", p[i]);
		else {
			fwrite(p + i, 1, len, f);
			i += len;
			continue;
		}
		i++;
	}
}

static int user_width(const struct ls *ls)
{
	char buf[16];
	int w = 4; /* "USER" */

	for (size_t i = 0; i < ls->n; i++) {
		int len = strlen(user_label(ls->rows[i]->attr.uid, buf, sizeof(buf)));

		if (len > w)
			w = len;
	}
	return w;
}

static int app_width(const struct ls *ls)
{
	int w = 3; /* "APP" */

	for (size_t i = 0; i < ls->n; i++) {
		int len = strlen(ls->rows[i]->app);

		if (len > w)
			w = len;
	}
	return w;
}

/* "4250,4251", "-" for none, "+" after the first few */
static char *mappers_string(const struct row *o, char *buf, size_t cap)
{
	size_t k = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < o->nmappers && k + 12 < cap; i++)
		k += snprintf(buf + k, cap - k, "%s%" PRIu32, i ? "," : "", o->mappers[i]);
	if (o->nmappers == SHX_OBJ_MAPPERS && k + 2 < cap)
		strcat(buf, "+");
	if (!o->nmappers)
		snprintf(buf, cap, "-");
	return buf;
}

static void text_row(const struct ls *ls, const struct row *o, int uw, int aw)
{
	char size[16], charged[16], mode[11], uid[16], age[16], res[16], swp[16], maps[128];

	printf("%6s %7s %-10s %-*s %-*s %8s %7s %-9s %7" PRIu32 " %7" PRIu32 " %4s ",
	       shx_format_size(o->attr.size, size, sizeof(size)),
	       shx_format_size(o->charged, charged, sizeof(charged)),
	       mode_string(o->attr.mode, mode), uw, user_label(o->attr.uid, uid, sizeof(uid)),
	       aw, o->app[0] ? o->app : "-", shx_format_size(o->resident, res, sizeof(res)),
	       shx_format_size(o->swapped, swp, sizeof(swp)),
	       mappers_string(o, maps, sizeof(maps)), o->holders, o->creator_pid,
	       ctl_age(age_seconds(ls, o), age, sizeof(age)));
	if (o->pathlen)
		put_path(stdout, o->path, o->pathlen);
	else
		fputs("(deleted)", stdout);
	putchar('\n');
	if (ls->backtrace && o->backtrace) {
		/* one frame a line, indented under the object */
		for (const char *f = o->backtrace; *f;) {
			size_t len = strcspn(f, "\n");

			fputs("    ", stdout);
			put_path(stdout, f, len);
			putchar('\n');
			f += len + (f[len] == '\n');
		}
	}
}

static void print_text(const struct ls *ls, size_t max)
{
	int uw = user_width(ls), aw = app_width(ls);

	printf("%6s %7s %-10s %-*s %-*s %8s %7s %-9s %7s %7s %4s %s\n", "SIZE", "CHARGED", "MODE",
	       uw, "USER", aw, "APP", "RESIDENT", "SWAPPED", "MAPPED-BY", "HOLDERS", "CREATOR", "AGE",
	       "PATH");
	for (size_t i = 0; i < ls->n && i < max; i++)
		text_row(ls, ls->rows[i], uw, aw);
}

/* --- JSON ---------------------------------------------------------------- */

/* A string, or null. */
static void json_string_or_null(const char *s, size_t n)
{
	if (s)
		ctl_json_string(stdout, s, n);
	else
		fputs("null", stdout);
}

/* Sizes and times are raw integers (bytes, ns since the epoch); "mode"
 * is the permission bits as a number, "perms" as ls -l shows them. */
static void json_row(const struct ls *ls, const struct row *o)
{
	const char *user = user_name(o->attr.uid);
	char mode[11];

	fputs("{\"path\": ", stdout);
	json_string_or_null(o->pathlen ? o->path : NULL, o->pathlen);
	printf(", \"deleted\": %s, \"ino\": %" PRIu64 ", \"size\": %" PRIu64
	       ", \"charged\": %" PRIu64 ", \"mode\": %" PRIu32 ", \"perms\": \"%s\""
	       ", \"uid\": %" PRIu32 ", \"user\": ",
	       o->pathlen ? "false" : "true", o->attr.ino, o->attr.size, o->charged,
	       o->attr.mode & 07777, mode_string(o->attr.mode, mode), o->attr.uid);
	json_string_or_null(user, user ? strlen(user) : 0);
	printf(", \"gid\": %" PRIu32 ", \"holders\": %" PRIu32 ", \"creator_pid\": %" PRIu32
	       ", \"created_ns\": %" PRId64 ", \"age_seconds\": %" PRId64,
	       o->attr.gid, o->holders, o->creator_pid, o->created_ns, age_seconds(ls, o));
	printf(", \"resident\": %" PRIu64 ", \"swapped\": %" PRIu64 ", \"charged_uid\": %" PRIu32
	       ", \"app\": ",
	       o->resident, o->swapped, o->cuid);
	json_string_or_null(o->app[0] ? o->app : NULL, strlen(o->app));
	fputs(", \"mapped_by\": [", stdout);
	for (unsigned i = 0; i < o->nmappers; i++)
		printf("%s%" PRIu32, i ? ", " : "", o->mappers[i]);
	fputs("], \"backtrace\": ", stdout);
	if (o->backtrace) {
		putchar('[');
		for (const char *f = o->backtrace; *f;) {
			size_t len = strcspn(f, "\n");

			if (f != o->backtrace)
				fputs(", ", stdout);
			ctl_json_string(stdout, f, len);
			f += len + (f[len] == '\n');
		}
		putchar(']');
	} else
		fputs("null", stdout);
	putchar('}');
}

/* An array of objects, a row a line -- or all of it on one (top). */
static void print_json(const struct ls *ls, size_t max, int oneline)
{
	size_t n = ls->n < max ? ls->n : max;

	if (n == 0) {
		fputs(oneline ? "[]" : "[]\n", stdout);
		return;
	}
	fputs(oneline ? "[" : "[\n", stdout);
	for (size_t i = 0; i < n; i++) {
		if (!oneline)
			fputs("  ", stdout);
		json_row(ls, ls->rows[i]);
		fputs(i + 1 < n ? (oneline ? ", " : ",\n") : (oneline ? "" : "\n"), stdout);
	}
	fputs(oneline ? "]" : "]\n", stdout);
}

/* --- collecting ---------------------------------------------------------- */

/* An unlinked object has no path, so it is under no prefix. */
static int wanted(const struct ls *ls, const struct shx_obj *o)
{
	return !ls->prefix ||
	       (o->pathlen >= ls->prefix_len && !memcmp(o->path, ls->prefix, ls->prefix_len));
}

static int add_row(struct ls *ls, const struct shx_obj *o)
{
	struct row *r;

	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 256;
		struct row **v = realloc(ls->rows, cap * sizeof(*v));

		if (!v)
			return -1;
		ls->rows = v;
		ls->cap = cap;
	}
	r = malloc(sizeof(*r) + o->pathlen + 1);
	if (!r)
		return -1;
	*r = (struct row){ .attr = o->attr, .charged = o->charged, .resident = o->resident,
			   .swapped = o->swapped, .holders = o->holders,
			   .creator_pid = o->creator_pid, .cuid = o->cuid,
			   .created_ns = o->created_ns, .nmappers = o->nmappers,
			   .pathlen = o->pathlen };
	memcpy(r->mappers, o->mappers, sizeof(r->mappers));
	memcpy(r->app, o->app, o->applen + 1);
	memcpy(r->path, o->path, o->pathlen + 1);
	if (o->btlen && !(r->backtrace = strdup(o->backtrace))) {
		free(r);
		return -1;
	}
	ls->rows[ls->n++] = r;
	return 0;
}

/* Keeps the wanted records of one page.  0, or -1 after a message. */
static int add_page(struct ls *ls, const struct shx_rep *rep)
{
	static struct shx_obj o;
	size_t off = 0;
	int r;

	while ((r = shx_obj_next(rep, &off, &o)) > 0)
		if (wanted(ls, &o) && add_row(ls, &o) < 0) {
			ctl_error("out of memory");
			return -1;
		}
	if (r < 0)
		ctl_error("malformed ls reply from the manager on %s", ls->ctl->sock);
	return r;
}

/* Every page, from cookie 0 until the manager says there is no more. */
static int fetch_all(struct ls *ls, int sock)
{
	static uint8_t data[SHX_DATA_MAX];
	uint64_t cookie = 0;

	for (;;) {
		struct shx_req req = { .op = SHX_OP_LS, .size = cookie, .aux = sizeof(data) };
		struct shx_rep rep = { .data = data, .datacap = sizeof(data) };

		if (ctl_call(ls->ctl, sock, &req, &rep) < 0 || add_page(ls, &rep) < 0)
			return -1;
		if (rep.hflags & SHX_HF_EOF)
			return 0;
		/* A page that moves nothing on would be asked for forever. */
		if (rep.value == cookie) {
			ctl_error("the manager on %s returned an empty page", ls->ctl->sock);
			return -1;
		}
		cookie = rep.value;
	}
}

/* By path; unlinked objects last, in inode order. */
static int by_path(const void *a, const void *b)
{
	const struct row *x = *(struct row *const *)a, *y = *(struct row *const *)b;

	if (!x->pathlen || !y->pathlen) {
		if (x->pathlen || y->pathlen)
			return x->pathlen ? -1 : 1;
		return x->attr.ino < y->attr.ino ? -1 : x->attr.ino > y->attr.ino;
	}
	return strcmp(x->path, y->path);
}

static void free_rows(struct ls *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->rows[i]->backtrace);
		free(ls->rows[i]);
	}
	free(ls->rows);
}

/* Largest charge first, then by path. */
static int by_charge(const void *a, const void *b)
{
	const struct row *x = *(struct row *const *)a, *y = *(struct row *const *)b;

	if (x->charged != y->charged)
		return x->charged > y->charged ? -1 : 1;
	return by_path(a, b);
}

int ctl_ls_largest(const struct ctl *ctl, int sock, size_t max, int json)
{
	struct ls ls = { .ctl = ctl };
	int r = fetch_all(&ls, sock);

	if (r == 0) {
		ls.now_ns = ctl_now_ns();
		if (ls.n > 1)
			qsort(ls.rows, ls.n, sizeof(*ls.rows), by_charge);
		if (json)
			print_json(&ls, max, 1);
		else
			print_text(&ls, max);
	}
	free_rows(&ls);
	return r;
}

int ctl_ls(const struct ctl *ctl, int argc, char **argv)
{
	struct ls ls = { .ctl = ctl, .backtrace = ctl->backtrace };
	int sock, r;

	if (argc > 0) {
		ls.prefix = argv[0];
		ls.prefix_len = strlen(argv[0]);
	}
	sock = ctl_connect(ctl);
	if (sock < 0)
		return CTL_FAIL;
	r = fetch_all(&ls, sock);
	close(sock);
	if (r == 0) {
		ls.now_ns = ctl_now_ns();
		if (ls.n > 1)
			qsort(ls.rows, ls.n, sizeof(*ls.rows), by_path);
		if (ctl->json)
			print_json(&ls, SIZE_MAX, 0);
		else
			print_text(&ls, SIZE_MAX);
	}
	free_rows(&ls);
	return r < 0 ? CTL_FAIL : CTL_OK;
}
