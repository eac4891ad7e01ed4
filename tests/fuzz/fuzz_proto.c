/* fuzz_proto.c -- libFuzzer target for the protocol decoders (core/proto.c).
 *
 * The manager decodes whatever a client sends, and a client decodes what
 * arrives on its socket, so every decoder must survive any bytes.  Each
 * input is tried as:
 *
 *  - a request: shx_req_decode; one that decodes must re-encode to the very
 *    same bytes (the encoding is canonical) and decode again to the same
 *    struct;
 *  - a reply, with its data received into a buffer of exactly `datacap`
 *    bytes (heap, so ASan sees a write past it): shx_rep_decode with room
 *    for the data and with one byte less, which must be refused; one that
 *    decodes must round-trip like a request, and its data is then walked
 *    as dirent records, object records and System V segment records, each
 *    record list that is well-formed being re-appended and compared with
 *    the original bytes; and read as a stats record and as a System V
 *    limits record.
 *
 * Build and run (see also `make fuzz`):
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Icore tests/fuzz/fuzz_proto.c core/proto.c -o /tmp/fuzz_proto
 *   /tmp/fuzz_proto -max_total_time=60 -max_len=40000
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* A failed property: say which and crash, so libFuzzer keeps the input. */
#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                    \
			abort();                                                     \
		}                                                                    \
	} while (0)

static void same_attr(const struct shx_attr *a, const struct shx_attr *b)
{
	CHECK(a->dev == b->dev && a->ino == b->ino && a->mode == b->mode &&
	      a->nlink == b->nlink && a->uid == b->uid && a->gid == b->gid &&
	      a->size == b->size && a->blocks == b->blocks && a->atime_ns == b->atime_ns &&
	      a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns);
}

static void fuzz_req(const uint8_t *data, size_t size)
{
	/* static: two paths make the struct 8 KiB */
	static struct shx_req q, q2;
	static uint8_t buf[SHX_REQ_MAX];
	size_t n;

	if (shx_req_decode(data, size, &q) != 0)
		return;
	CHECK(q.op > 0 && q.op < SHX_OP_MAX);
	CHECK(q.pathlen < SHX_PATH_MAX && q.path[q.pathlen] == 0 &&
	      strlen(q.path) == q.pathlen);
	CHECK(q.path2len < SHX_PATH_MAX && q.path2[q.path2len] == 0 &&
	      strlen(q.path2) == q.path2len);
	n = shx_req_encode(&q, buf, sizeof(buf));
	CHECK(n == size);
	CHECK(memcmp(buf, data, size) == 0);
	memset(&q2, 0xa5, sizeof(q2));
	CHECK(shx_req_decode(buf, n, &q2) == 0);
	CHECK(q2.op == q.op && q2.hflags == q.hflags && q2.id == q.id && q2.ino == q.ino &&
	      q2.size == q.size && q2.flags == q.flags && q2.mode == q.mode &&
	      q2.aux == q.aux && q2.uid == q.uid && q2.gid == q.gid &&
	      q2.atime_ns == q.atime_ns && q2.mtime_ns == q.mtime_ns);
	CHECK(q2.pathlen == q.pathlen && memcmp(q2.path, q.path, q.pathlen + 1) == 0);
	CHECK(q2.path2len == q.path2len && memcmp(q2.path2, q.path2, q.path2len + 1) == 0);
}

/* Walks the data as dirents; if the whole list is well-formed, appending
 * the records again must give back the same bytes. */
static void walk_dirents(const struct shx_rep *p)
{
	uint8_t *again = malloc(p->datalen ? p->datalen : 1);
	struct shx_rep w = { .data = again, .datacap = p->datalen };
	struct shx_dirent d;
	size_t off = 0;
	int r;

	CHECK(again);
	while ((r = shx_dirent_next(p, &off, &d)) == 1) {
		CHECK(off <= p->datalen);
		CHECK(d.namelen > 0 && d.name[d.namelen] == 0 && strlen(d.name) == d.namelen);
		CHECK(shx_dirent_append(&w, &d) == 0);
	}
	CHECK(r == 0 || r == -EBADMSG);
	if (r == 0) {
		CHECK(off == p->datalen || p->datalen == 0);
		CHECK(w.datalen == p->datalen);
		CHECK(memcmp(again, p->data, p->datalen) == 0);
	}
	free(again);
}

static void walk_objs(const struct shx_rep *p)
{
	uint8_t *again = malloc(p->datalen ? p->datalen : 1);
	struct shx_rep w = { .data = again, .datacap = p->datalen };
	static struct shx_obj o;
	size_t off = 0;
	int r;

	CHECK(again);
	while ((r = shx_obj_next(p, &off, &o)) == 1) {
		CHECK(off <= p->datalen);
		CHECK(o.path[o.pathlen] == 0 && strlen(o.path) == o.pathlen);
		CHECK(shx_obj_append(&w, &o) == 0);
	}
	CHECK(r == 0 || r == -EBADMSG);
	if (r == 0) {
		CHECK(w.datalen == p->datalen);
		CHECK(memcmp(again, p->data, p->datalen) == 0);
	}
	free(again);
}

static void walk_shmids(const struct shx_rep *p)
{
	uint8_t *again = malloc(p->datalen ? p->datalen : 1);
	struct shx_rep w = { .data = again, .datacap = p->datalen };
	struct shx_shmid_ds d;
	size_t off = 0;
	int r;

	CHECK(again);
	while ((r = shx_shmid_next(p, &off, &d)) == 1) {
		CHECK(off <= p->datalen);
		CHECK(shx_shmid_append(&w, &d) == 0);
	}
	CHECK(r == 0 || r == -EBADMSG);
	if (r == 0) {
		CHECK(w.datalen == p->datalen);
		CHECK(memcmp(again, p->data, p->datalen) == 0);
	}
	free(again);
}

/* A record that must be the whole data: put again, the same bytes. */
static void read_shminfo(const struct shx_rep *p)
{
	struct shx_shminfo i;
	uint8_t again[72];
	struct shx_rep w = { .data = again, .datacap = sizeof(again) };

	if (shx_shminfo_get(p, &i) != 0)
		return;
	CHECK(p->datalen == 72);
	CHECK(shx_shminfo_put(&w, &i) == 0 && w.datalen == 72);
	CHECK(memcmp(again, p->data, 72) == 0);
}

static void fuzz_rep(const uint8_t *data, size_t size)
{
	static uint8_t buf[SHX_REP_MAX];
	struct shx_rep p = { 0 }, p2 = { 0 };
	struct shx_stats st;
	uint32_t need = size > SHX_REP_HEAD ? size - SHX_REP_HEAD : 0;
	uint8_t *room = malloc(need ? need : 1), *room2;
	size_t n;

	if (!room)
		abort();
	/* one byte short of the data: never accepted, never overrun */
	if (need > 0) {
		p.data = room;
		p.datacap = need - 1;
		CHECK(shx_rep_decode(data, size, &p) == -EBADMSG);
	}
	p = (struct shx_rep){ .data = room, .datacap = need };
	if (shx_rep_decode(data, size, &p) != 0) {
		free(room);
		return;
	}
	CHECK(p.datalen == need && size <= SHX_REP_MAX);
	CHECK(p.op > 0 && p.op < SHX_OP_MAX && p.status <= 0);
	CHECK(memcmp(room, data + SHX_REP_HEAD, need) == 0);

	/* head-only decoding agrees */
	p2 = (struct shx_rep){ .datacap = need };
	CHECK(shx_rep_decode_head(data, size, &p2) == 0);
	CHECK(p2.op == p.op && p2.datalen == p.datalen && p2.value == p.value);

	n = shx_rep_encode(&p, buf, sizeof(buf));
	CHECK(n == size);
	CHECK(memcmp(buf, data, size) == 0);
	room2 = malloc(need ? need : 1);
	CHECK(room2);
	p2 = (struct shx_rep){ .data = room2, .datacap = need };
	CHECK(shx_rep_decode(buf, n, &p2) == 0);
	CHECK(p2.op == p.op && p2.hflags == p.hflags && p2.id == p.id &&
	      p2.status == p.status && p2.value == p.value && p2.datalen == p.datalen);
	same_attr(&p2.attr, &p.attr);
	CHECK(memcmp(room2, room, need) == 0);
	free(room2);

	walk_dirents(&p);
	walk_objs(&p);
	walk_shmids(&p);
	read_shminfo(&p);
	if (shx_stats_get(&p, &st) == 0) {
		uint8_t again[64];
		struct shx_rep w = { .data = again, .datacap = sizeof(again) };

		CHECK(p.datalen == 64);
		CHECK(shx_stats_put(&w, &st) == 0 && w.datalen == 64);
		CHECK(memcmp(again, p.data, 64) == 0);
	}
	free(room);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_req(data, size);
	fuzz_rep(data, size);
	return 0;
}
