/* proto.c -- encoders and decoders of the wire protocol (see proto.h).
 *
 * Encoding goes through a bounded cursor: a put past the end marks the
 * cursor failed instead of writing, and a get past the end marks it failed
 * and yields zero.  A decoder succeeds only if its cursor never failed and
 * consumed the message exactly.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"

struct cur {
	uint8_t *w;	  /* encoding */
	const uint8_t *r; /* decoding */
	size_t len, off;
	int bad;
};

static int room(struct cur *c, size_t n)
{
	if (c->bad || n > c->len - c->off) {
		c->bad = 1;
		return 0;
	}
	return 1;
}

static void put(struct cur *c, uint64_t v, size_t n)
{
	if (!room(c, n))
		return;
	for (size_t i = 0; i < n; i++)
		c->w[c->off + i] = (uint8_t)(v >> (8 * i));
	c->off += n;
}

static uint64_t get(struct cur *c, size_t n)
{
	uint64_t v = 0;

	if (!room(c, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)c->r[c->off + i] << (8 * i);
	c->off += n;
	return v;
}

static void put_bytes(struct cur *c, const void *p, size_t n)
{
	if (!room(c, n))
		return;
	memcpy(c->w + c->off, p, n);
	c->off += n;
}

static void get_bytes(struct cur *c, void *p, size_t n)
{
	if (!room(c, n))
		return;
	memcpy(p, c->r + c->off, n);
	c->off += n;
}

/* A name or path: u16 length, then the bytes, which may not contain NUL. */
static void put_str(struct cur *c, const char *s, size_t n)
{
	put(c, n, 2);
	put_bytes(c, s, n);
}

static size_t get_str(struct cur *c, char *s, size_t cap)
{
	size_t n = get(c, 2);

	if (n >= cap) {
		c->bad = 1;
		return 0;
	}
	get_bytes(c, s, n);
	if (!c->bad && memchr(s, 0, n))
		c->bad = 1;
	s[c->bad ? 0 : n] = 0;
	return c->bad ? 0 : n;
}

static void put_hdr(struct cur *c, unsigned op, unsigned hflags, uint32_t id)
{
	put(c, 0, 4); /* length, patched at the end */
	put(c, op, 2);
	put(c, hflags, 2);
	put(c, id, 4);
}

static size_t finish(struct cur *c)
{
	if (c->bad)
		return 0;
	for (size_t i = 0; i < 4; i++)
		c->w[i] = (uint8_t)(c->off >> (8 * i));
	return c->off;
}

static int get_hdr(struct cur *c, uint16_t *op, uint16_t *hflags, uint32_t *id)
{
	if (get(c, 4) != c->len)
		return -EBADMSG;
	*op = get(c, 2);
	*hflags = get(c, 2);
	*id = get(c, 4);
	if (c->bad || *op == 0 || (*op & 0x7fff) >= SHX_OP_MAX)
		return -EBADMSG;
	return 0;
}

static void put_attr(struct cur *c, const struct shx_attr *a)
{
	put(c, a->dev, 8);
	put(c, a->ino, 8);
	put(c, a->mode, 4);
	put(c, a->nlink, 4);
	put(c, a->uid, 4);
	put(c, a->gid, 4);
	put(c, a->size, 8);
	put(c, a->blocks, 8);
	put(c, a->atime_ns, 8);
	put(c, a->mtime_ns, 8);
	put(c, a->ctime_ns, 8);
	put(c, a->rdev, 8);
}

static void get_attr(struct cur *c, struct shx_attr *a)
{
	a->dev = get(c, 8);
	a->ino = get(c, 8);
	a->mode = get(c, 4);
	a->nlink = get(c, 4);
	a->uid = get(c, 4);
	a->gid = get(c, 4);
	a->size = get(c, 8);
	a->blocks = get(c, 8);
	a->atime_ns = get(c, 8);
	a->mtime_ns = get(c, 8);
	a->ctime_ns = get(c, 8);
	a->rdev = get(c, 8);
}

size_t shx_req_encode(const struct shx_req *req, uint8_t *buf, size_t cap)
{
	size_t n = shx_req_encode_head(req, buf, cap);

	if (n == 0 || req->datalen > cap - n)
		return 0;
	if (req->datalen)
		memcpy(buf + n, req->data, req->datalen);
	return n + req->datalen;
}

size_t shx_req_encode_head(const struct shx_req *req, uint8_t *buf, size_t cap)
{
	struct cur c = { .w = buf, .len = cap };
	size_t n;

	put_hdr(&c, req->op, req->hflags, req->id);
	put(&c, req->ino, 8);
	put(&c, req->size, 8);
	put(&c, req->flags, 4);
	put(&c, req->mode, 4);
	put(&c, req->aux, 4);
	put(&c, req->uid, 4);
	put(&c, req->gid, 4);
	put(&c, req->atime_ns, 8);
	put(&c, req->mtime_ns, 8);
	if (req->pathlen >= SHX_PATH_MAX || req->path2len >= SHX_PATH_MAX)
		c.bad = 1;
	put_str(&c, req->path, req->pathlen);
	put_str(&c, req->path2, req->path2len);
	if (req->datalen > SHX_REQ_DATA_MAX || (req->datalen && !req->data))
		c.bad = 1;
	if (req->datalen)
		put(&c, req->datalen, 4);
	n = finish(&c);
	/* the length counts the data that follows */
	for (size_t i = 0; n && i < 4; i++)
		buf[i] = (uint8_t)((n + req->datalen) >> (8 * i));
	return n;
}

int shx_req_decode(const uint8_t *buf, size_t len, struct shx_req *req)
{
	struct cur c = { .r = buf, .len = len };

	if (len < SHX_HDR_LEN || len > SHX_REQ_PACKET_MAX)
		return -EBADMSG;
	if (get_hdr(&c, &req->op, &req->hflags, &req->id) < 0 || (req->op & 0x8000))
		return -EBADMSG;
	req->ino = get(&c, 8);
	req->size = get(&c, 8);
	req->flags = get(&c, 4);
	req->mode = get(&c, 4);
	req->aux = get(&c, 4);
	req->uid = get(&c, 4);
	req->gid = get(&c, 4);
	req->atime_ns = get(&c, 8);
	req->mtime_ns = get(&c, 8);
	req->pathlen = get_str(&c, req->path, sizeof(req->path));
	req->path2len = get_str(&c, req->path2, sizeof(req->path2));
	req->data = NULL;
	req->datalen = 0;
	if (!c.bad && c.off < len) {
		req->datalen = get(&c, 4);
		if (req->datalen == 0 || req->datalen > SHX_REQ_DATA_MAX || c.off > len ||
		    len - c.off != req->datalen)
			c.bad = 1;
		else
			req->data = buf + c.off;
		c.off = len;
	}
	if (c.bad || c.off != len || (req->hflags & ~(SHX_HF_NOREPLY | SHX_HF_SELFOPEN)))
		return -EBADMSG;
	return 0;
}

size_t shx_rep_encode(const struct shx_rep *rep, uint8_t *buf, size_t cap)
{
	struct cur c = { .w = buf, .len = cap };

	put_hdr(&c, rep->op | 0x8000, rep->hflags, rep->id);
	put(&c, (uint32_t)rep->status, 4);
	put_attr(&c, &rep->attr);
	put(&c, rep->value, 8);
	if (rep->datalen > SHX_DATA_MAX || c.off != SHX_REP_HEAD - 4)
		c.bad = 1;
	put(&c, rep->datalen, 4);
	put_bytes(&c, rep->data, rep->datalen);
	return finish(&c);
}

int shx_rep_decode_head(const uint8_t *head, size_t total, struct shx_rep *rep)
{
	struct cur c = { .r = head, .len = SHX_REP_HEAD };
	uint32_t len;

	if (total < SHX_REP_HEAD || total > SHX_REP_MAX)
		return -EBADMSG;
	len = get(&c, 4);
	rep->op = get(&c, 2);
	rep->hflags = get(&c, 2);
	rep->id = get(&c, 4);
	if (len != total || !(rep->op & 0x8000) || (rep->op & 0x7fff) == 0 ||
	    (rep->op & 0x7fff) >= SHX_OP_MAX)
		return -EBADMSG;
	rep->op &= 0x7fff;
	rep->status = (int32_t)get(&c, 4);
	get_attr(&c, &rep->attr);
	rep->value = get(&c, 8);
	rep->datalen = get(&c, 4);
	if (c.bad || rep->datalen != total - SHX_REP_HEAD || rep->datalen > rep->datacap ||
	    rep->status > 0 || rep->status < -4095 ||
	    (rep->hflags & ~(SHX_HF_FD | SHX_HF_EOF | SHX_HF_EDQUOT | SHX_HF_SELFOPEN)))
		return -EBADMSG;
	return 0;
}

int shx_rep_decode(const uint8_t *buf, size_t len, struct shx_rep *rep)
{
	int r = shx_rep_decode_head(buf, len, rep);

	if (r == 0 && rep->datalen)
		memcpy(rep->data, buf + SHX_REP_HEAD, rep->datalen);
	return r;
}

static int set_str(char *dst, uint16_t *len, const char *src)
{
	size_t n = strnlen(src, SHX_PATH_MAX);

	if (n >= SHX_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	*len = n;
	return 0;
}

int shx_req_set_path(struct shx_req *req, const char *path)
{
	return set_str(req->path, &req->pathlen, path);
}

int shx_req_set_path2(struct shx_req *req, const char *path)
{
	return set_str(req->path2, &req->path2len, path);
}

/* Records inside rep->data use the same cursor. */
static struct cur data_writer(struct shx_rep *rep)
{
	return (struct cur){ .w = rep->data, .len = rep->datacap, .off = rep->datalen };
}

static int data_done(struct shx_rep *rep, struct cur *c)
{
	if (c->bad)
		return -ENOSPC;
	rep->datalen = c->off;
	return 0;
}

static struct cur data_reader(const struct shx_rep *rep, size_t off)
{
	return (struct cur){ .r = rep->data, .len = rep->datalen, .off = off };
}

int shx_dirent_append(struct shx_rep *rep, const struct shx_dirent *d)
{
	struct cur c = data_writer(rep);

	put(&c, d->ino, 8);
	put(&c, d->cookie, 8);
	put(&c, d->type, 1);
	put_str(&c, d->name, d->namelen);
	return data_done(rep, &c);
}

/* Returns 1 and the next record, 0 at the end, -EBADMSG if malformed. */
int shx_dirent_next(const struct shx_rep *rep, size_t *off, struct shx_dirent *d)
{
	struct cur c = data_reader(rep, *off);

	if (*off >= rep->datalen)
		return 0;
	d->ino = get(&c, 8);
	d->cookie = get(&c, 8);
	d->type = get(&c, 1);
	d->namelen = get_str(&c, d->name, sizeof(d->name));
	if (c.bad || d->namelen == 0)
		return -EBADMSG;
	*off = c.off;
	return 1;
}

int shx_obj_append(struct shx_rep *rep, const struct shx_obj *o)
{
	struct cur c = data_writer(rep);

	put_attr(&c, &o->attr);
	put(&c, o->charged, 8);
	put(&c, o->holders, 4);
	put(&c, o->creator_pid, 4);
	put(&c, o->created_ns, 8);
	put(&c, o->resident, 8);
	put(&c, o->swapped, 8);
	put(&c, o->cuid, 4);
	put(&c, o->nmappers, 1);
	for (unsigned i = 0; i < o->nmappers && i < SHX_OBJ_MAPPERS; i++)
		put(&c, o->mappers[i], 4);
	put_str(&c, o->app, o->applen);
	put_str(&c, o->path, o->pathlen);
	put_str(&c, o->backtrace, o->btlen);
	if (o->nmappers > SHX_OBJ_MAPPERS)
		c.bad = 1;
	return data_done(rep, &c);
}

int shx_obj_next(const struct shx_rep *rep, size_t *off, struct shx_obj *o)
{
	struct cur c = data_reader(rep, *off);

	if (*off >= rep->datalen)
		return 0;
	get_attr(&c, &o->attr);
	o->charged = get(&c, 8);
	o->holders = get(&c, 4);
	o->creator_pid = get(&c, 4);
	o->created_ns = get(&c, 8);
	o->resident = get(&c, 8);
	o->swapped = get(&c, 8);
	o->cuid = get(&c, 4);
	o->nmappers = get(&c, 1);
	if (o->nmappers > SHX_OBJ_MAPPERS)
		return -EBADMSG;
	for (unsigned i = 0; i < o->nmappers; i++)
		o->mappers[i] = get(&c, 4);
	o->applen = get_str(&c, o->app, sizeof(o->app));
	o->pathlen = get_str(&c, o->path, sizeof(o->path));
	o->btlen = get_str(&c, o->backtrace, sizeof(o->backtrace));
	if (c.bad)
		return -EBADMSG;
	*off = c.off;
	return 1;
}

int shx_group_append(struct shx_rep *rep, const struct shx_group *g)
{
	struct cur c = data_writer(rep);

	put(&c, g->kind, 1);
	put(&c, g->uid, 4);
	put(&c, g->size_limit, 8);
	put(&c, g->size_used, 8);
	put(&c, g->inodes_limit, 8);
	put(&c, g->inodes_used, 8);
	put(&c, g->objects, 8);
	put(&c, g->clients, 8);
	put(&c, g->resident, 8);
	put(&c, g->swapped, 8);
	put_str(&c, g->name, g->namelen);
	return data_done(rep, &c);
}

int shx_group_next(const struct shx_rep *rep, size_t *off, struct shx_group *g)
{
	struct cur c = data_reader(rep, *off);

	if (*off >= rep->datalen)
		return 0;
	g->kind = get(&c, 1);
	g->uid = get(&c, 4);
	g->size_limit = get(&c, 8);
	g->size_used = get(&c, 8);
	g->inodes_limit = get(&c, 8);
	g->inodes_used = get(&c, 8);
	g->objects = get(&c, 8);
	g->clients = get(&c, 8);
	g->resident = get(&c, 8);
	g->swapped = get(&c, 8);
	g->namelen = get_str(&c, g->name, sizeof(g->name));
	if (c.bad || g->kind > SHX_GROUP_APP)
		return -EBADMSG;
	*off = c.off;
	return 1;
}

int shx_stats_put(struct shx_rep *rep, const struct shx_stats *s)
{
	struct cur c = data_writer(rep);

	put(&c, s->size_limit, 8);
	put(&c, s->size_used, 8);
	put(&c, s->inodes_limit, 8);
	put(&c, s->inodes_used, 8);
	put(&c, s->objects, 8);
	put(&c, s->clients, 8);
	put(&c, s->manager_pid, 8);
	put(&c, s->started_ns, 8);
	return data_done(rep, &c);
}

int shx_stats_get(const struct shx_rep *rep, struct shx_stats *s)
{
	struct cur c = data_reader(rep, 0);

	s->size_limit = get(&c, 8);
	s->size_used = get(&c, 8);
	s->inodes_limit = get(&c, 8);
	s->inodes_used = get(&c, 8);
	s->objects = get(&c, 8);
	s->clients = get(&c, 8);
	s->manager_pid = get(&c, 8);
	s->started_ns = get(&c, 8);
	return c.bad || c.off != rep->datalen ? -EBADMSG : 0;
}

int shx_shmid_append(struct shx_rep *rep, const struct shx_shmid_ds *d)
{
	struct cur c = data_writer(rep);

	put(&c, (uint32_t)d->key, 4);
	put(&c, (uint32_t)d->id, 4);
	put(&c, d->uid, 4);
	put(&c, d->gid, 4);
	put(&c, d->cuid, 4);
	put(&c, d->cgid, 4);
	put(&c, d->mode, 4);
	put(&c, d->seq, 2);
	put(&c, d->segsz, 8);
	put(&c, d->atime, 8);
	put(&c, d->dtime, 8);
	put(&c, d->ctime, 8);
	put(&c, (uint32_t)d->cpid, 4);
	put(&c, (uint32_t)d->lpid, 4);
	put(&c, d->nattch, 8);
	put(&c, d->rss, 8);
	put(&c, d->swap, 8);
	return data_done(rep, &c);
}

/* Returns 1 and the next record, 0 at the end, -EBADMSG if malformed. */
int shx_shmid_next(const struct shx_rep *rep, size_t *off, struct shx_shmid_ds *d)
{
	struct cur c = data_reader(rep, *off);

	if (*off >= rep->datalen)
		return 0;
	d->key = (int32_t)get(&c, 4);
	d->id = (int32_t)get(&c, 4);
	d->uid = get(&c, 4);
	d->gid = get(&c, 4);
	d->cuid = get(&c, 4);
	d->cgid = get(&c, 4);
	d->mode = get(&c, 4);
	d->seq = get(&c, 2);
	d->segsz = get(&c, 8);
	d->atime = get(&c, 8);
	d->dtime = get(&c, 8);
	d->ctime = get(&c, 8);
	d->cpid = (int32_t)get(&c, 4);
	d->lpid = (int32_t)get(&c, 4);
	d->nattch = get(&c, 8);
	d->rss = get(&c, 8);
	d->swap = get(&c, 8);
	if (c.bad)
		return -EBADMSG;
	*off = c.off;
	return 1;
}

int shx_shminfo_put(struct shx_rep *rep, const struct shx_shminfo *i)
{
	struct cur c = data_writer(rep);

	put(&c, i->shmmax, 8);
	put(&c, i->shmmin, 8);
	put(&c, i->shmmni, 8);
	put(&c, i->shmseg, 8);
	put(&c, i->shmall, 8);
	put(&c, i->used_ids, 8);
	put(&c, i->shm_tot, 8);
	put(&c, i->shm_rss, 8);
	put(&c, i->shm_swp, 8);
	return data_done(rep, &c);
}

int shx_shminfo_get(const struct shx_rep *rep, struct shx_shminfo *i)
{
	struct cur c = data_reader(rep, 0);

	i->shmmax = get(&c, 8);
	i->shmmin = get(&c, 8);
	i->shmmni = get(&c, 8);
	i->shmseg = get(&c, 8);
	i->shmall = get(&c, 8);
	i->used_ids = get(&c, 8);
	i->shm_tot = get(&c, 8);
	i->shm_rss = get(&c, 8);
	i->shm_swp = get(&c, 8);
	return c.bad || c.off != rep->datalen ? -EBADMSG : 0;
}

const char *shx_op_name(unsigned op)
{
	static const char *const names[SHX_OP_MAX] = {
		[SHX_OP_HELLO] = "hello",     [SHX_OP_OPEN] = "open",
		[SHX_OP_CLOSE] = "close",     [SHX_OP_HOLD] = "hold",
		[SHX_OP_UNLINK] = "unlink",   [SHX_OP_STAT] = "stat",
		[SHX_OP_GETATTR] = "getattr", [SHX_OP_ACCESS] = "access",
		[SHX_OP_RESERVE] = "reserve", [SHX_OP_SYNC] = "sync",
		[SHX_OP_READDIR] = "readdir", [SHX_OP_STATS] = "stats",
		[SHX_OP_LS] = "ls",	      [SHX_OP_SETATTR] = "setattr",
		[SHX_OP_RENAME] = "rename",   [SHX_OP_MKDIR] = "mkdir",
		[SHX_OP_LINK] = "link",	      [SHX_OP_CHDIR] = "chdir",
		[SHX_OP_SYMLINK] = "symlink", [SHX_OP_READLINK] = "readlink",
		[SHX_OP_STATFS] = "statfs",   [SHX_OP_REALPATH] = "realpath",
		[SHX_OP_SHMGET] = "shmget",   [SHX_OP_SHMAT] = "shmat",
		[SHX_OP_SHMDT] = "shmdt",     [SHX_OP_SHMCTL] = "shmctl",
		[SHX_OP_SHMFORK] = "shmfork", [SHX_OP_SHMINHERIT] = "shminherit",
		[SHX_OP_SHMLIST] = "shmlist",
		[SHX_OP_MKNOD] = "mknod",     [SHX_OP_SOCKET] = "socket",
		[SHX_OP_XATTR] = "xattr",
		[SHX_OP_CHAN] = "chan",
		[SHX_OP_QUOTA] = "quota",
		[SHX_OP_PGTABLE] = "pgtable", [SHX_OP_SWAPIN] = "swapin",
		[SHX_OP_SEEK] = "seek",	      [SHX_OP_SWAPINFO] = "swapinfo",
		[SHX_OP_SWAPSET] = "swapset", [SHX_OP_PGUFFD] = "pguffd",
		[SHX_OP_PGMAP] = "pgmap",
		[SHX_OP_REOPEN] = "reopen",
	};

	return op < SHX_OP_MAX && names[op] ? names[op] : "?";
}

/* --- paging ------------------------------------------------------------------ */

int shx_swapinfo_put(struct shx_rep *rep, const struct shx_swapinfo *si)
{
	struct cur c = data_writer(rep);
	size_t n = strnlen(si->dir, sizeof(si->dir) - 1);

	put(&c, si->budget, 8);
	put(&c, si->resident, 8);
	put(&c, si->swapped, 8);
	put(&c, si->swap_limit, 8);
	put(&c, si->swap_used, 8);
	put(&c, si->pageins, 8);
	put(&c, si->pageouts, 8);
	put(&c, si->objects_out, 8);
	put(&c, si->budget_pct, 4);
	put(&c, si->enabled, 4);
	put_str(&c, si->dir, n);
	return data_done(rep, &c);
}

int shx_swapinfo_get(const struct shx_rep *rep, struct shx_swapinfo *si)
{
	struct cur c = data_reader(rep, 0);

	si->budget = get(&c, 8);
	si->resident = get(&c, 8);
	si->swapped = get(&c, 8);
	si->swap_limit = get(&c, 8);
	si->swap_used = get(&c, 8);
	si->pageins = get(&c, 8);
	si->pageouts = get(&c, 8);
	si->objects_out = get(&c, 8);
	si->budget_pct = get(&c, 4);
	si->enabled = get(&c, 4);
	get_str(&c, si->dir, sizeof(si->dir));
	return c.bad || c.off != rep->datalen ? -EBADMSG : 0;
}
