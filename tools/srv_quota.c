/* srv_quota.c -- shmemd's quota requests and what listings say of each
 * object and group: SHX_OP_QUOTA (the groups, setting their limits), and
 * the resident bytes, app and mapping processes of SHX_OP_LS.
 *
 * Who maps an object is read from /proc/PID/maps of the connected
 * clients: a mapping of a memfd shows the memfd's inode number, which is
 * the object's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "server.h"

/* --- who maps what --------------------------------------------------------- */

struct mapping {
	uint64_t ino;
	uint32_t pid;
};

static struct {
	struct mapping *v;
	size_t n, cap;
	uint32_t pid; /* the process being read */
} maps;

static void add_mapping(const struct procfs_map *m, void *arg)
{
	/* memfds live on the kernel's internal tmpfs mount, device 0:N */
	if (m->dev_major != 0 || !m->ino || strncmp(m->path, "/memfd:", 7))
		return;
	if (maps.n && maps.v[maps.n - 1].ino == m->ino && maps.v[maps.n - 1].pid == maps.pid)
		return; /* the next piece of the same mapping */
	if (maps.n == maps.cap) {
		size_t cap = maps.cap ? maps.cap * 2 : 256;
		struct mapping *v = realloc(maps.v, cap * sizeof(*v));

		if (!v)
			return;
		maps.v = v;
		maps.cap = cap;
	}
	maps.v[maps.n++] = (struct mapping){ m->ino, maps.pid };
}

static int by_ino_pid(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void srv_ls_begin(struct server *s, const pid_t *pids, size_t npids)
{
	maps.n = 0;
	for (size_t i = 0; i < npids; i++) {
		maps.pid = pids[i];
		procfs_maps(pids[i], add_mapping, NULL);
	}
	qsort(maps.v, maps.n, sizeof(*maps.v), by_ino_pid);
}

void srv_obj_fill(struct server *s, struct ns_inode *ip, struct shx_obj *o)
{
	struct stat st;
	size_t lo = 0, hi = maps.n;

	if (fstat(ip->memfd, &st) == 0)
		o->resident = (uint64_t)st.st_blocks * 512;
	o->swapped = ip->swapped;
	if (ip->backtrace) {
		o->btlen = strlen(ip->backtrace);
		memcpy(o->backtrace, ip->backtrace, o->btlen + 1);
	}
	o->cuid = ip->quser ? ip->quser->uid : ip->uid;
	if (ip->qapp) {
		o->applen = strlen(ip->qapp->name);
		memcpy(o->app, ip->qapp->name, o->applen + 1);
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (maps.v[mid].ino < ip->ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < maps.n && maps.v[lo].ino == ip->ino && o->nmappers < SHX_OBJ_MAPPERS; lo++)
		if (!o->nmappers || o->mappers[o->nmappers - 1] != maps.v[lo].pid)
			o->mappers[o->nmappers++] = maps.v[lo].pid;
}

/* --- groups ---------------------------------------------------------------- */

struct resident_sum {
	struct quota_group *g;
	uint64_t resident, swapped;
};

static void add_resident(struct ns_inode *ip, void *arg)
{
	struct resident_sum *r = arg;
	struct stat st;

	if (!S_ISREG(ip->mode) || (r->g && ip->quser != r->g && ip->qapp != r->g))
		return;
	if (fstat(ip->memfd, &st) == 0)
		r->resident += (uint64_t)st.st_blocks * 512;
	r->swapped += ip->swapped;
}

static void group_record(struct server *s, struct quota_group *g, struct shx_group *out)
{
	struct resident_sum r = { g, 0, 0 };

	ns_each(&s->ns, add_resident, &r);
	*out = (struct shx_group){ .resident = r.resident, .swapped = r.swapped };
	if (!g) {
		out->kind = SHX_GROUP_MANAGER;
		out->uid = getuid();
		out->size_limit = s->ns.cfg.size_limit;
		out->size_used = s->ns.size_used;
		out->inodes_limit = s->ns.cfg.nr_inodes;
		out->inodes_used = s->ns.inodes_used;
		out->objects = s->ns.objects;
		out->clients = s->nclients;
		return;
	}
	out->kind = g->kind == QUOTA_USER ? SHX_GROUP_USER : SHX_GROUP_APP;
	out->uid = g->uid;
	out->size_limit = g->size_limit;
	out->size_used = g->size_used;
	out->inodes_limit = g->inodes_limit;
	out->inodes_used = g->inodes_used;
	out->objects = g->objects;
	out->clients = g->clients;
	out->namelen = strlen(g->name);
	memcpy(out->name, g->name, out->namelen + 1);
}

/* The manager (index 0), then the users and the apps, from index q->size. */
static int quota_list(struct server *s, const struct shx_req *q, struct shx_rep *p)
{
	struct quota_group *g = NULL;

	if (q->aux < p->datacap)
		p->datacap = q->aux;
	p->value = q->size;
	for (uint64_t i = 0;; i++) {
		struct shx_group rec;

		g = i == 0 ? NULL : i == 1 ? s->ns.quota.groups : g->next;
		if (i > 0 && !g)
			break;
		if (i < q->size)
			continue;
		group_record(s, g, &rec);
		if (shx_group_append(p, &rec) < 0)
			return 0;
		p->value = i + 1;
	}
	p->hflags |= SHX_HF_EOF;
	return 0;
}

/* Who may set which limit: the manager's owner (and root) any of them;
 * on a system manager, a user the limits of apps of their own. */
static int may_set(const struct shx_cred *cr, unsigned kind, uint32_t uid)
{
	if (cr->uid == 0 || cr->uid == getuid())
		return 1;
	return kind == SHX_GROUP_APP && uid == cr->uid;
}

static int quota_set(struct server *s, const struct shx_cred *cr, const struct shx_req *q)
{
	uint64_t size = q->size ? (q->size + 4095) & ~(uint64_t)4095 : QUOTA_UNLIMITED;
	uint64_t inodes = q->mtime_ns > 0 ? (uint64_t)q->mtime_ns : QUOTA_UNLIMITED;
	struct quota_group *g;

	if (q->size > QUOTA_UNLIMITED - 4096 || q->mtime_ns < 0)
		return -EINVAL;
	if (!may_set(cr, q->aux, q->uid))
		return -EPERM;
	switch (q->aux) {
	case SHX_GROUP_MANAGER:
		/* as a remount of tmpfs with size= and nr_inodes=, which may
		 * not go below what is in use (shmem_reconfigure) */
		if (size < s->ns.size_used || inodes < s->ns.inodes_used)
			return -EINVAL;
		s->ns.cfg.size_limit = size;
		s->ns.cfg.nr_inodes = inodes;
		return 0;
	case SHX_GROUP_USER:
		g = quota_user(&s->ns.quota, q->uid);
		break;
	case SHX_GROUP_APP:
		if (shx_app_name_valid(q->path) < 0)
			return -EINVAL;
		g = quota_app(&s->ns.quota, q->uid, q->path);
		break;
	default:
		return -EINVAL;
	}
	if (!g)
		return -ENOMEM;
	quota_set_limits(g, size, inodes);
	return 0;
}

/* --- private /tmp ------------------------------------------------------------ */

static int quota_tmp(struct server *s, const struct shx_cred *cr, const struct shx_req *q,
		     struct shx_rep *p, struct quota_group **tmp_app)
{
	struct quota_group *g;
	int r;

	if (shx_app_name_valid(q->path) < 0)
		return -EINVAL;
	/* an app's /tmp is its user's to ask for */
	if (cr->uid != 0 && q->uid != cr->uid)
		return -EPERM;
	g = quota_app(&s->ns.quota, q->uid, q->path);
	if (!g)
		return -ENOMEM;
	if (!g->private_tmp) {
		r = ns_add_mount(&s->ns, "/tmp");
		if (r == 0)
			r = ns_private_root(&s->ns, "/tmp", &g->private_tmp);
		if (r < 0)
			return r;
	}
	g->tmp_users++;
	g->keep_tmp = q->mode & 1;
	p->value = g->private_tmp->ino;
	*tmp_app = g;
	return 0;
}

void srv_quota_tmp_done(struct server *s, struct quota_group *g)
{
	if (--g->tmp_users > 0 || g->keep_tmp || !g->private_tmp)
		return;
	ns_private_root_remove(&s->ns, g->private_tmp);
	g->private_tmp = NULL;
}

int srv_quota(struct server *s, const struct shx_cred *cr, const struct shx_req *q,
	      struct shx_rep *p, struct quota_group **tmp_app)
{
	switch (q->flags) {
	case SHX_QUOTA_LIST:
		return quota_list(s, q, p);
	case SHX_QUOTA_SET:
		return quota_set(s, cr, q);
	case SHX_QUOTA_TMP:
		return quota_tmp(s, cr, q, p, tmp_app);
	}
	return -EINVAL;
}
