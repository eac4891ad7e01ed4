/* check_proto.c -- unit tests of core/proto.c, the wire protocol.
 *
 * Covers: the byte layout of a request and a reply (little-endian, fixed
 * offsets), a request round trip for every opcode, reply round trips with
 * attributes, value and data, the decoders' rejection of every kind of
 * malformed message with -EBADMSG, the record lists inside a reply's data
 * (dirents, objects, stats, System V segments and limits) filled until
 * -ENOSPC and read back, and the
 * small helpers (shx_req_set_path, shx_op_name).
 *
 * The decoders guard the manager against hostile clients, so most tests
 * here build a valid message and then damage one thing about it.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* --- helpers ------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/* Offsets inside an encoded request: header, then ino, size, flags, mode,
 * aux, uid, gid, atime_ns, mtime_ns, then two strings (path, path2), each
 * a u16 length and its bytes. */
#define RQ_OP 4
#define RQ_HFLAGS 6
#define RQ_FIXED 56 /* the body without the strings' bytes */
#define RQ_PATHLEN (SHX_HDR_LEN + 52)
#define RQ_PATH (RQ_PATHLEN + 2)
#define REQ_LEN(pathlen, path2len) (SHX_HDR_LEN + RQ_FIXED + (pathlen) + (path2len))
/* Offsets inside an encoded reply. */
#define RP_OP 4
#define RP_HFLAGS 6
#define RP_STATUS 12
#define RP_DATALEN 104

static struct shx_req make_req(unsigned op, uint16_t hflags, const char *path,
			       const char *path2)
{
	struct shx_req q;

	/* Every field distinct and using all its bytes, so a swapped or
	 * truncated field shows up in the comparison. */
	memset(&q, 0, sizeof(q));
	q.op = op;
	q.hflags = hflags;
	q.id = 0xfeedf000u + op;
	q.ino = 0x1122334455667788ULL ^ op;
	q.size = UINT64_MAX - op;
	q.flags = 0x80000000u | op;
	q.mode = 0100644;
	q.aux = 0xdeadbeefu;
	q.uid = 0xfffffffeu;
	q.gid = 1000 + op;
	q.atime_ns = SHX_TIME_NOW; /* INT64_MIN */
	q.mtime_ns = -1000000001LL * op;
	ck_assert_int_eq(shx_req_set_path(&q, path), 0);
	ck_assert_int_eq(shx_req_set_path2(&q, path2), 0);
	return q;
}

static void assert_req_eq(const struct shx_req *a, const struct shx_req *b)
{
	ck_assert_uint_eq(a->op, b->op);
	ck_assert_uint_eq(a->hflags, b->hflags);
	ck_assert_uint_eq(a->id, b->id);
	ck_assert_uint_eq(a->ino, b->ino);
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->mode, b->mode);
	ck_assert_uint_eq(a->aux, b->aux);
	ck_assert_uint_eq(a->uid, b->uid);
	ck_assert_uint_eq(a->gid, b->gid);
	ck_assert_int_eq(a->atime_ns, b->atime_ns);
	ck_assert_int_eq(a->mtime_ns, b->mtime_ns);
	ck_assert_uint_eq(a->pathlen, b->pathlen);
	ck_assert_mem_eq(a->path, b->path, a->pathlen + 1u);
	ck_assert_uint_eq(a->path2len, b->path2len);
	ck_assert_mem_eq(a->path2, b->path2, a->path2len + 1u);
	ck_assert_uint_eq(a->datalen, b->datalen);
	if (a->datalen)
		ck_assert_mem_eq(a->data, b->data, a->datalen);
	else
		ck_assert_ptr_null(b->data);
}

static struct shx_attr make_attr(uint64_t seed)
{
	return (struct shx_attr){
		.dev = 0xfffe0 + seed,
		.ino = 0x0102030405060708ULL + seed,
		.mode = 0100600,
		.nlink = 0xfffffff0u,
		.uid = 1000,
		.gid = 0x80000001u,
		.size = 0x7fffffffffffffffULL - seed,
		.blocks = 0x123456789ULL,
		/* negative times must survive the unsigned wire format */
		.atime_ns = -1,
		.mtime_ns = INT64_MIN,
		.ctime_ns = INT64_MAX - (int64_t)seed,
	};
}

static void assert_attr_eq(const struct shx_attr *a, const struct shx_attr *b)
{
	ck_assert_uint_eq(a->dev, b->dev);
	ck_assert_uint_eq(a->ino, b->ino);
	ck_assert_uint_eq(a->mode, b->mode);
	ck_assert_uint_eq(a->nlink, b->nlink);
	ck_assert_uint_eq(a->uid, b->uid);
	ck_assert_uint_eq(a->gid, b->gid);
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_uint_eq(a->blocks, b->blocks);
	ck_assert_int_eq(a->atime_ns, b->atime_ns);
	ck_assert_int_eq(a->mtime_ns, b->mtime_ns);
	ck_assert_int_eq(a->ctime_ns, b->ctime_ns);
}

/* A valid RENAME request with both paths, encoded into buf; returns its
 * length.  The first path's bytes are at RQ_PATH, the second's length at
 * *path2_at and its bytes right after. */
#define VICTIM "/dev/shm/victim"
#define VICTIM2 "/dev/shm/other"
static size_t valid_req(uint8_t *buf, size_t cap, size_t *path2_at)
{
	static struct shx_req q;
	size_t n;

	q = make_req(SHX_OP_RENAME, 0, VICTIM, VICTIM2);
	n = shx_req_encode(&q, buf, cap);
	ck_assert_uint_eq(n, REQ_LEN(strlen(VICTIM), strlen(VICTIM2)));
	if (path2_at)
		*path2_at = RQ_PATH + strlen(VICTIM);
	return n;
}

static int decode_req(const uint8_t *buf, size_t len)
{
	struct shx_req q;

	return shx_req_decode(buf, len, &q);
}

/* A valid reply with `datalen` bytes of data, encoded into buf. */
static size_t valid_rep(uint8_t *buf, size_t cap, uint32_t datalen)
{
	static uint8_t data[64];
	struct shx_rep p = { .op = SHX_OP_READDIR, .hflags = SHX_HF_EOF, .id = 7,
			     .status = 0, .attr = make_attr(1), .value = 42,
			     .datalen = datalen, .datacap = sizeof(data), .data = data };
	size_t n;

	ck_assert_uint_le(datalen, sizeof(data));
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = 'a' + i % 26;
	n = shx_rep_encode(&p, buf, cap);
	ck_assert_uint_eq(n, SHX_REP_HEAD + datalen);
	return n;
}

static int decode_rep(const uint8_t *buf, size_t len, uint32_t datacap)
{
	uint8_t *data = malloc(datacap ? datacap : 1);
	struct shx_rep p = { .datacap = datacap, .data = data };
	int r;

	ck_assert_ptr_nonnull(data);
	r = shx_rep_decode(buf, len, &p);
	free(data);
	return r;
}

/* --- layout ---------------------------------------------------------------- */

/* The exact bytes of one request: the wire format is an interface between
 * separately built clients and managers, so it is pinned here. */
START_TEST(req_golden_bytes)
{
	static const uint8_t want[] = {
		0x47, 0x00, 0x00, 0x00,				/* length 71 */
		0x05, 0x00, 0x01, 0x00,				/* op UNLINK, NOREPLY */
		0x44, 0x33, 0x22, 0x11,				/* id */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* ino */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, /* size */
		0x24, 0x23, 0x22, 0x21,				/* flags */
		0x34, 0x33, 0x32, 0x31,				/* mode */
		0x44, 0x43, 0x42, 0x41,				/* aux */
		0x54, 0x53, 0x52, 0x51,				/* uid */
		0x64, 0x63, 0x62, 0x61,				/* gid */
		0x78, 0x77, 0x76, 0x75, 0x74, 0x73, 0x72, 0x71, /* atime_ns */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* mtime_ns -1 */
		0x02, 0x00, 'a', 'b',				/* path */
		0x01, 0x00, 'c',				/* path2 */
	};
	static struct shx_req q = { .op = SHX_OP_UNLINK, .hflags = SHX_HF_NOREPLY,
				    .id = 0x11223344, .ino = 0x0102030405060708ULL,
				    .size = 0x1112131415161718ULL, .flags = 0x21222324,
				    .mode = 0x31323334, .aux = 0x41424344, .uid = 0x51525354,
				    .gid = 0x61626364, .atime_ns = 0x7172737475767778LL,
				    .mtime_ns = -1 };
	uint8_t buf[SHX_REQ_MAX];

	ck_assert_int_eq(SHX_OP_UNLINK, 5);
	ck_assert_int_eq(shx_req_set_path(&q, "ab"), 0);
	ck_assert_int_eq(shx_req_set_path2(&q, "c"), 0);
	ck_assert_uint_eq(shx_req_encode(&q, buf, sizeof(buf)), sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

/* The same for a reply: the header, status, every attribute in order,
 * value, data length and data, built here field by field. */
static uint8_t *w(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		*p++ = v >> (8 * i);
	return p;
}

START_TEST(rep_layout)
{
	uint8_t buf[SHX_REP_MAX], want[SHX_REP_HEAD + 3], *p = want, data[3] = { 'x', 'y', 'z' };
	struct shx_rep rep = {
		.op = SHX_OP_STAT, .hflags = SHX_HF_FD, .id = 0xa1b2c3d4, .status = -ENOENT,
		.attr = { .dev = 0x0101010101010102ULL, .ino = 0x0202020202020203ULL,
			  .mode = 0x03030304, .nlink = 0x04040405, .uid = 0x05050506,
			  .gid = 0x06060607, .size = 0x0707070707070708ULL,
			  .blocks = 0x0808080808080809ULL, .atime_ns = 0x090909090909090aLL,
			  .mtime_ns = 0x0a0a0a0a0a0a0a0bLL, .ctime_ns = -2,
			  .rdev = 0x0c0c0c0c0c0c0c0dULL },
		.value = 0x0b0b0b0b0b0b0b0cULL, .datalen = 3, .datacap = 3, .data = data,
	};

	p = w(p, SHX_REP_HEAD + 3, 4);
	p = w(p, 0x8000 | SHX_OP_STAT, 2); /* the reply bit */
	p = w(p, SHX_HF_FD, 2);
	p = w(p, 0xa1b2c3d4, 4);
	p = w(p, (uint32_t)-ENOENT, 4);
	p = w(p, rep.attr.dev, 8);
	p = w(p, rep.attr.ino, 8);
	p = w(p, rep.attr.mode, 4);
	p = w(p, rep.attr.nlink, 4);
	p = w(p, rep.attr.uid, 4);
	p = w(p, rep.attr.gid, 4);
	p = w(p, rep.attr.size, 8);
	p = w(p, rep.attr.blocks, 8);
	p = w(p, rep.attr.atime_ns, 8);
	p = w(p, rep.attr.mtime_ns, 8);
	p = w(p, (uint64_t)rep.attr.ctime_ns, 8);
	p = w(p, rep.attr.rdev, 8);
	p = w(p, rep.value, 8);
	ck_assert_uint_eq(p - want, RP_DATALEN);
	p = w(p, 3, 4);
	ck_assert_uint_eq(p - want, SHX_REP_HEAD);
	memcpy(p, data, 3);
	ck_assert_uint_eq(shx_rep_encode(&rep, buf, sizeof(buf)), sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

/* --- round trips ------------------------------------------------------------ */

/* One request per opcode, as the clients send them. */
static const struct {
	unsigned op;
	uint16_t hflags;
	const char *path, *path2;
} req_cases[] = {
	{ SHX_OP_HELLO, 0, "", "" },
	{ SHX_OP_OPEN, 0, "/dev/shm/a", "" },
	{ SHX_OP_CLOSE, SHX_HF_NOREPLY, "", "" },
	{ SHX_OP_HOLD, SHX_HF_NOREPLY, "", "" },
	{ SHX_OP_UNLINK, 0, "/dev/shm/dir/b", "" },
	{ SHX_OP_STAT, 0, "relative/c", "" },
	{ SHX_OP_GETATTR, 0, "", "" },
	{ SHX_OP_ACCESS, 0, "/dev/shm/d e", "" },
	{ SHX_OP_RESERVE, 0, "", "" },
	{ SHX_OP_SYNC, SHX_HF_NOREPLY, "", "" },
	{ SHX_OP_READDIR, 0, "", "" },
	{ SHX_OP_STATS, 0, "", "" },
	{ SHX_OP_LS, 0, "", "" },
	{ SHX_OP_SETATTR, 0, "f", "" },
	{ SHX_OP_RENAME, 0, "/dev/shm/from", "to/here" },
	{ SHX_OP_MKDIR, 0, "/dev/shm/dir", "" },
	{ SHX_OP_LINK, 0, "", "/dev/shm/name" }, /* AT_EMPTY_PATH: the inode itself */
	{ SHX_OP_CHDIR, 0, "/dev/shm/dir", "" },
	{ SHX_OP_SYMLINK, 0, "/dev/shm/link", "../target" },
	{ SHX_OP_READLINK, 0, "/dev/shm/link", "" },
	{ SHX_OP_STATFS, 0, "/dev/shm", "" },
	{ SHX_OP_REALPATH, 0, "/dev/shm/a/../b", "" },
	{ SHX_OP_SHMGET, 0, "", "" },
	{ SHX_OP_SHMAT, 0, "", "" },
	{ SHX_OP_SHMDT, SHX_HF_NOREPLY, "", "" },
	{ SHX_OP_SHMCTL, 0, "", "" },
	{ SHX_OP_SHMFORK, 0, "", "" },
	{ SHX_OP_SHMINHERIT, SHX_HF_NOREPLY, "", "" },
	{ SHX_OP_SHMLIST, 0, "", "" },
	{ SHX_OP_MKNOD, 0, "/tmp/sock", "sock" },
	{ SHX_OP_SOCKET, 0, "/tmp/sock", "" },
	{ SHX_OP_XATTR, 0, "/tmp/f", "user.k" },
	{ SHX_OP_CHAN, 0, "", "" },
	{ SHX_OP_QUOTA, 0, "build", "" },
	/* paging */
	{ SHX_OP_PGTABLE, 0, "", "" },
	{ SHX_OP_SWAPIN, 0, "", "" },
	{ SHX_OP_SEEK, 0, "", "" },
	{ SHX_OP_SWAPINFO, 0, "", "" },
	{ SHX_OP_SWAPSET, 0, "/var/tmp/swap", "" },
	{ SHX_OP_PGUFFD, 0, "", "" },
	{ SHX_OP_PGMAP, 0, "", "" },
	{ SHX_OP_REOPEN, 0, "", "" },
};

/* A new opcode must get a case above. */
START_TEST(req_cases_cover_every_op)
{
	uint64_t seen = 0;

	ck_assert_uint_le(SHX_OP_MAX, 64);
	ck_assert_uint_eq(N(req_cases), SHX_OP_MAX - 1);
	for (size_t i = 0; i < N(req_cases); i++)
		seen |= 1ULL << req_cases[i].op;
	ck_assert_uint_eq(seen, (SHX_OP_MAX == 64 ? ~0ULL : (1ULL << SHX_OP_MAX) - 1) & ~1ULL);
}
END_TEST

START_TEST(req_round_trip)
{
	static struct shx_req q, d;
	static uint8_t buf[SHX_REQ_MAX];
	size_t n;

	q = make_req(req_cases[_i].op, req_cases[_i].hflags, req_cases[_i].path,
		     req_cases[_i].path2);
	n = shx_req_encode(&q, buf, sizeof(buf));
	ck_assert_uint_eq(n, REQ_LEN(strlen(req_cases[_i].path), strlen(req_cases[_i].path2)));
	ck_assert_uint_eq(le32(buf), n);
	memset(&d, 0x55, sizeof(d));
	ck_assert_int_eq(shx_req_decode(buf, n, &d), 0);
	assert_req_eq(&q, &d);
}
END_TEST

/* The longest paths a request carries: PATH_MAX less the NUL, twice. */
START_TEST(req_round_trip_longest_path)
{
	static char path[SHX_PATH_MAX], path2[SHX_PATH_MAX];
	static struct shx_req q, d;
	static uint8_t buf[SHX_REQ_MAX];
	size_t n;

	memset(path, 'p', SHX_PATH_MAX - 1);
	memset(path2, 'q', SHX_PATH_MAX - 1);
	path[0] = '/';
	q = make_req(SHX_OP_RENAME, 0, path, path2);
	ck_assert_uint_eq(q.pathlen, SHX_PATH_MAX - 1);
	ck_assert_uint_eq(q.path2len, SHX_PATH_MAX - 1);
	n = shx_req_encode(&q, buf, sizeof(buf));
	ck_assert_uint_eq(n, REQ_LEN(SHX_PATH_MAX - 1, SHX_PATH_MAX - 1));
	ck_assert_uint_le(n, SHX_REQ_MAX);
	ck_assert_int_eq(shx_req_decode(buf, n, &d), 0);
	assert_req_eq(&q, &d);
}
END_TEST

/* The encoder fails (returns 0) rather than write past cap, for every cap
 * short of the message. */
START_TEST(req_encode_short_buffer)
{
	static struct shx_req q;
	static uint8_t buf[SHX_REQ_MAX + 1];
	size_t need = REQ_LEN(10, 2);

	q = make_req(SHX_OP_RENAME, 0, "/dev/shm/x", "/y");
	for (size_t cap = 0; cap < need; cap++) {
		size_t i = cap;

		memset(buf, 0xee, sizeof(buf));
		ck_assert_msg(shx_req_encode(&q, buf, cap) == 0, "cap %zu accepted", cap);
		/* (one assertion per cap: Check logs every assertion passed) */
		while (i < sizeof(buf) && buf[i] == 0xee)
			i++;
		ck_assert_msg(i == sizeof(buf), "cap %zu: byte %zu written", cap, i);
	}
	ck_assert_uint_eq(shx_req_encode(&q, buf, need), need);
	/* lengths that cannot be a path are refused too */
	q.pathlen = SHX_PATH_MAX;
	ck_assert_uint_eq(shx_req_encode(&q, buf, sizeof(buf)), 0);
	q.pathlen = 10;
	q.path2len = SHX_PATH_MAX;
	ck_assert_uint_eq(shx_req_encode(&q, buf, sizeof(buf)), 0);
}
END_TEST

static const struct {
	unsigned op;
	uint16_t hflags;
	int32_t status;
	uint32_t datalen;
} rep_cases[] = {
	{ SHX_OP_OPEN, SHX_HF_FD, 0, 0 },
	{ SHX_OP_STAT, 0, -ENOENT, 0 },
	{ SHX_OP_HELLO, 0, -SHX_EESCAPE, 0 }, /* the escape status is in range */
	{ SHX_OP_READDIR, SHX_HF_EOF, 0, 300 },
	{ SHX_OP_LS, SHX_HF_FD | SHX_HF_EOF, -4095, 1 },
	{ SHX_OP_LS, 0, 0, SHX_DATA_MAX },
};

START_TEST(rep_round_trip)
{
	static uint8_t data[SHX_DATA_MAX], got[SHX_DATA_MAX], buf[SHX_REP_MAX];
	struct shx_rep p = { .op = rep_cases[_i].op, .hflags = rep_cases[_i].hflags,
			     .id = 0x01020304u * (_i + 1), .status = rep_cases[_i].status,
			     .attr = make_attr(_i), .value = UINT64_MAX - _i,
			     .datalen = rep_cases[_i].datalen, .datacap = sizeof(data), .data = data };
	struct shx_rep d;
	size_t n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);
	n = shx_rep_encode(&p, buf, sizeof(buf));
	ck_assert_uint_eq(n, SHX_REP_HEAD + p.datalen);

	/* in one piece */
	memset(got, 0, sizeof(got));
	d = (struct shx_rep){ .datacap = p.datalen, .data = got };
	ck_assert_int_eq(shx_rep_decode(buf, n, &d), 0);
	ck_assert_uint_eq(d.op, p.op);
	ck_assert_uint_eq(d.hflags, p.hflags);
	ck_assert_uint_eq(d.id, p.id);
	ck_assert_int_eq(d.status, p.status);
	assert_attr_eq(&d.attr, &p.attr);
	ck_assert_uint_eq(d.value, p.value);
	ck_assert_uint_eq(d.datalen, p.datalen);
	ck_assert_mem_eq(got, data, p.datalen);

	/* head first, data received elsewhere, as conn.c does */
	d = (struct shx_rep){ .datacap = p.datalen, .data = got };
	ck_assert_int_eq(shx_rep_decode_head(buf, n, &d), 0);
	ck_assert_uint_eq(d.op, p.op);
	ck_assert_uint_eq(d.datalen, p.datalen);
	ck_assert_uint_eq(d.value, p.value);
}
END_TEST

START_TEST(rep_encode_limits)
{
	static uint8_t data[SHX_DATA_MAX + 1], buf[SHX_REP_MAX + 1];
	struct shx_rep p = { .op = SHX_OP_LS, .datalen = 10, .datacap = sizeof(data), .data = data };
	size_t need = SHX_REP_HEAD + 10;

	for (size_t cap = 0; cap < need; cap++)
		ck_assert_msg(shx_rep_encode(&p, buf, cap) == 0, "cap %zu accepted", cap);
	ck_assert_uint_eq(shx_rep_encode(&p, buf, need), need);
	p.datalen = SHX_DATA_MAX + 1;
	ck_assert_uint_eq(shx_rep_encode(&p, buf, sizeof(buf)), 0);
}
END_TEST

/* --- malformed requests -------------------------------------------------------- */

/* Every prefix of a valid request is refused, both as it is (its length
 * field then disagrees) and with the length field patched to match, which
 * leaves the body itself short. */
START_TEST(req_truncated_at_every_length)
{
	uint8_t buf[SHX_REQ_MAX], cut[SHX_REQ_MAX];
	size_t n = valid_req(buf, sizeof(buf), NULL);

	ck_assert_int_eq(decode_req(buf, n), 0);
	for (size_t k = 0; k < n; k++) {
		ck_assert_msg(decode_req(buf, k) == -EBADMSG, "raw prefix %zu accepted", k);
		memcpy(cut, buf, n);
		if (k >= 4)
			put_le32(cut, k);
		ck_assert_msg(decode_req(cut, k) == -EBADMSG, "patched prefix %zu accepted", k);
	}
}
END_TEST

static const uint32_t bad_lengths[] = { 0, 1, SHX_HDR_LEN, 96, 98, 0x10000, 0xffffffffu };

START_TEST(req_length_field_mismatch)
{
	uint8_t buf[SHX_REQ_MAX];
	size_t n = valid_req(buf, sizeof(buf), NULL);

	ck_assert_uint_ne(bad_lengths[_i], n);
	put_le32(buf, bad_lengths[_i]);
	ck_assert_int_eq(decode_req(buf, n), -EBADMSG);
}
END_TEST

/* A request's data (an xattr value, NULs and all, up to 64 KiB) follows
 * the paths: u32 length, then the bytes; encode_head leaves the bytes for
 * the caller to send after it, with the length counting them. */
static const size_t data_lens[] = { 1, 2, 7, 4096, SHX_REQ_DATA_MAX };

START_TEST(req_data_round_trip)
{
	static uint8_t buf[SHX_REQ_PACKET_MAX], head[SHX_REQ_MAX], value[SHX_REQ_DATA_MAX];
	static struct shx_req q, d;
	size_t n, h, len = data_lens[_i];

	for (size_t i = 0; i < len; i++)
		value[i] = (uint8_t)(i * 7); /* NUL bytes included */
	q = make_req(SHX_OP_XATTR, 0, "/tmp/f", "user.k");
	q.data = value;
	q.datalen = len;
	n = shx_req_encode(&q, buf, sizeof(buf));
	ck_assert_uint_eq(n, REQ_LEN(6, 6) + 4 + len);
	ck_assert_uint_eq(le32(buf), n);
	ck_assert_int_eq(shx_req_decode(buf, n, &d), 0);
	assert_req_eq(&q, &d);
	ck_assert_ptr_eq(d.data, buf + n - len);
	h = shx_req_encode_head(&q, head, sizeof(head));
	ck_assert_uint_eq(h, n - len);
	ck_assert_mem_eq(head, buf, h);
	/* one byte short of the data does not fit */
	ck_assert_uint_eq(shx_req_encode(&q, buf, n - 1), 0);
}
END_TEST

/* What cannot be data: 1 to 4 stray bytes, a zero length, a length that
 * disagrees with the packet, more than SHX_REQ_DATA_MAX. */
START_TEST(req_data_malformed)
{
	static uint8_t buf[SHX_REQ_PACKET_MAX + 8], value[SHX_REQ_DATA_MAX + 1];
	static struct shx_req q;
	size_t n = valid_req(buf, sizeof(buf), NULL), m;

	for (size_t extra = 1; extra <= 4; extra++) {
		memset(buf + n, 0, extra);
		buf[n] = extra == 4 ? 0 : 1;
		put_le32(buf, n + extra);
		ck_assert_msg(decode_req(buf, n + extra) == -EBADMSG, "%zu stray bytes", extra);
	}
	q = make_req(SHX_OP_XATTR, 0, "/f", "user.k");
	q.data = value;
	q.datalen = 5;
	m = shx_req_encode(&q, buf, sizeof(buf));
	ck_assert_int_eq(decode_req(buf, m), 0);
	put_le32(buf + m - 5 - 4, 4);
	ck_assert_int_eq(decode_req(buf, m), -EBADMSG);
	put_le32(buf + m - 5 - 4, 6);
	ck_assert_int_eq(decode_req(buf, m), -EBADMSG);
	q.datalen = SHX_REQ_DATA_MAX + 1;
	ck_assert_uint_eq(shx_req_encode(&q, buf, sizeof(buf)), 0);
	q.datalen = 0;
	m = shx_req_encode(&q, buf, sizeof(buf));
	put_le32(buf + m, 0);
	put_le32(buf, m + 4);
	ck_assert_int_eq(decode_req(buf, m + 4), -EBADMSG);
	/* a request as big as a packet can be, its data one byte too many */
	q = make_req(SHX_OP_XATTR, 0, "", "");
	m = REQ_LEN(0, 0);
	ck_assert_uint_eq(shx_req_encode(&q, buf, sizeof(buf)), m);
	put_le32(buf + m, SHX_REQ_DATA_MAX + 1);
	put_le32(buf, m + 4 + SHX_REQ_DATA_MAX + 1);
	ck_assert_int_eq(decode_req(buf, m + 4 + SHX_REQ_DATA_MAX + 1), -EBADMSG);
}
END_TEST

START_TEST(req_longer_than_max)
{
	static uint8_t buf[SHX_REQ_PACKET_MAX + 16];

	/* a header that claims the oversized length */
	memset(buf, 0, sizeof(buf));
	put_le32(buf, sizeof(buf));
	put_le16(buf + RQ_OP, SHX_OP_OPEN);
	ck_assert_int_eq(decode_req(buf, sizeof(buf)), -EBADMSG);
}
END_TEST

/* Opcodes a request may not carry: zero, past the last, and any with the
 * reply bit. */
static const uint16_t bad_req_ops[] = {
	0, SHX_OP_MAX, SHX_OP_MAX + 1, 0x7fff, 0x8000, 0x8000 | SHX_OP_OPEN,
	0x8000 | SHX_OP_HELLO, 0xffff,
};

START_TEST(req_bad_opcode)
{
	uint8_t buf[SHX_REQ_MAX];
	size_t n = valid_req(buf, sizeof(buf), NULL);

	put_le16(buf + RQ_OP, bad_req_ops[_i]);
	ck_assert_int_eq(decode_req(buf, n), -EBADMSG);
}
END_TEST

/* NOREPLY and SELFOPEN are the request flags; the reply flags and unknown
 * bits are not. */
static const uint16_t bad_req_hflags[] = { SHX_HF_FD, SHX_HF_EOF, 0x8, 0x20, 0x100, 0x8000,
					   SHX_HF_NOREPLY | SHX_HF_FD };

START_TEST(req_bad_hflags)
{
	uint8_t buf[SHX_REQ_MAX];
	size_t n = valid_req(buf, sizeof(buf), NULL);

	put_le16(buf + RQ_HFLAGS, SHX_HF_NOREPLY);
	ck_assert_int_eq(decode_req(buf, n), 0);
	put_le16(buf + RQ_HFLAGS, SHX_HF_SELFOPEN);
	ck_assert_int_eq(decode_req(buf, n), 0);
	put_le16(buf + RQ_HFLAGS, bad_req_hflags[_i]);
	ck_assert_int_eq(decode_req(buf, n), -EBADMSG);
}
END_TEST

/* The strings of a request: the path (0) and the second path (1).  Each
 * test below runs once for either; str_at finds the u16 length field of
 * the one under test in a message from valid_req. */
static size_t str_at(int which, size_t path2_at)
{
	return which ? path2_at : RQ_PATHLEN;
}

/* A string's length field against the bytes that are really there. */
START_TEST(req_bad_path_length)
{
	uint8_t buf[SHX_REQ_MAX];
	size_t path2_at, n = valid_req(buf, sizeof(buf), &path2_at);
	size_t at = str_at(_i, path2_at);
	uint16_t real = le16(buf + at);
	static const int delta[] = { 1, 2, 100, -1, -2 };

	ck_assert_uint_eq(real, _i ? strlen(VICTIM2) : strlen(VICTIM));
	for (size_t i = 0; i < N(delta); i++) {
		/* beyond the message, or leaving stray bytes after it */
		put_le16(buf + at, real + delta[i]);
		ck_assert_msg(decode_req(buf, n) == -EBADMSG, "length %+d accepted", delta[i]);
	}
	put_le16(buf + at, 0xffff);
	ck_assert_int_eq(decode_req(buf, n), -EBADMSG);
	put_le16(buf + at, 0);
	ck_assert_int_eq(decode_req(buf, n), -EBADMSG);
	put_le16(buf + at, real);
	ck_assert_int_eq(decode_req(buf, n), 0);
}
END_TEST

/* A string of SHX_PATH_MAX bytes has no room for its NUL: refused even
 * though the message is within SHX_REQ_MAX. */
START_TEST(req_path_of_path_max)
{
	static uint8_t buf[SHX_REQ_MAX];

	for (size_t len = SHX_PATH_MAX - 1; len <= SHX_PATH_MAX; len++) {
		size_t n = REQ_LEN(len, 0);
		size_t path2_at = _i ? RQ_PATH : RQ_PATH + len;

		ck_assert_uint_le(n, sizeof(buf));
		memset(buf, 'a', sizeof(buf));
		put_le32(buf, n);
		put_le16(buf + RQ_OP, SHX_OP_RENAME);
		put_le16(buf + RQ_HFLAGS, 0);
		/* the other string is empty */
		put_le16(buf + RQ_PATHLEN, _i ? 0 : len);
		put_le16(buf + path2_at, _i ? len : 0);
		ck_assert_msg(decode_req(buf, n) == (len < SHX_PATH_MAX ? 0 : -EBADMSG),
			      "string %d of %zu bytes", (int)_i, len);
	}
}
END_TEST

START_TEST(req_nul_in_path)
{
	uint8_t buf[SHX_REQ_MAX];
	size_t path2_at, n = valid_req(buf, sizeof(buf), &path2_at);
	size_t field = str_at(_i, path2_at), len = le16(buf + field);
	size_t at[] = { 0, len / 2, len - 1 };

	for (size_t i = 0; i < N(at); i++) {
		uint8_t *b = buf + field + 2 + at[i], save = *b;

		*b = 0;
		ck_assert_msg(decode_req(buf, n) == -EBADMSG, "NUL at %zu accepted", at[i]);
		*b = save;
	}
	ck_assert_int_eq(decode_req(buf, n), 0);
}
END_TEST

/* --- malformed replies ------------------------------------------------------------ */

START_TEST(rep_truncated_at_every_length)
{
	uint8_t buf[SHX_REP_MAX], cut[SHX_REP_MAX];
	size_t n = valid_rep(buf, sizeof(buf), 40);

	ck_assert_int_eq(decode_rep(buf, n, 64), 0);
	for (size_t k = 0; k < n; k++) {
		ck_assert_msg(decode_rep(buf, k, 64) == -EBADMSG, "raw prefix %zu accepted", k);
		memcpy(cut, buf, n);
		if (k >= 4)
			put_le32(cut, k);
		ck_assert_msg(decode_rep(cut, k, 64) == -EBADMSG, "patched prefix %zu accepted", k);
	}
}
END_TEST

START_TEST(rep_length_field_mismatch)
{
	uint8_t buf[SHX_REP_MAX];
	size_t n = valid_rep(buf, sizeof(buf), 10);
	static const uint32_t lens[] = { 0, SHX_REP_HEAD, SHX_REP_HEAD + 9, SHX_REP_HEAD + 11,
					 0xffffffffu };

	for (size_t i = 0; i < N(lens); i++) {
		put_le32(buf, lens[i]);
		ck_assert_msg(decode_rep(buf, n, 64) == -EBADMSG, "length %u accepted", lens[i]);
	}
}
END_TEST

/* The data length field disagreeing with the message length. */
START_TEST(rep_datalen_mismatch)
{
	uint8_t buf[SHX_REP_MAX];
	size_t n = valid_rep(buf, sizeof(buf), 10);
	static const uint32_t dl[] = { 0, 9, 11, 0xffffffffu };

	for (size_t i = 0; i < N(dl); i++) {
		put_le32(buf + RP_DATALEN, dl[i]);
		ck_assert_msg(decode_rep(buf, n, 64) == -EBADMSG, "datalen %u accepted", dl[i]);
	}
}
END_TEST

START_TEST(rep_longer_than_max)
{
	static uint8_t buf[SHX_REP_MAX + 1];
	size_t n = sizeof(buf);

	memset(buf, 0, sizeof(buf));
	put_le32(buf, n);
	put_le16(buf + RP_OP, 0x8000 | SHX_OP_LS);
	put_le32(buf + RP_DATALEN, n - SHX_REP_HEAD);
	ck_assert_int_eq(decode_rep(buf, n, n), -EBADMSG);
	/* the same at exactly the maximum decodes */
	n--;
	put_le32(buf, n);
	put_le32(buf + RP_DATALEN, n - SHX_REP_HEAD);
	ck_assert_int_eq(decode_rep(buf, n, n), 0);
}
END_TEST

/* A reply must carry the reply bit and a real opcode. */
static const uint16_t bad_rep_ops[] = { 0, 0x8000, SHX_OP_OPEN, SHX_OP_READDIR,
					0x8000 | SHX_OP_MAX, 0xffff };

START_TEST(rep_bad_opcode)
{
	uint8_t buf[SHX_REP_MAX];
	size_t n = valid_rep(buf, sizeof(buf), 0);

	put_le16(buf + RP_OP, bad_rep_ops[_i]);
	ck_assert_int_eq(decode_rep(buf, n, 0), -EBADMSG);
}
END_TEST

static const uint16_t bad_rep_hflags[] = { SHX_HF_NOREPLY, 0x20, 0x100, 0x8000,
					   SHX_HF_FD | SHX_HF_EOF | SHX_HF_NOREPLY };

START_TEST(rep_bad_hflags)
{
	uint8_t buf[SHX_REP_MAX];
	size_t n = valid_rep(buf, sizeof(buf), 0);

	put_le16(buf + RP_HFLAGS, SHX_HF_FD | SHX_HF_EOF | SHX_HF_EDQUOT | SHX_HF_SELFOPEN);
	ck_assert_int_eq(decode_rep(buf, n, 0), 0);
	put_le16(buf + RP_HFLAGS, bad_rep_hflags[_i]);
	ck_assert_int_eq(decode_rep(buf, n, 0), -EBADMSG);
}
END_TEST

/* A status is 0 or a negated errno (-SHX_EESCAPE included). */
static const struct {
	int32_t status;
	int ok;
} status_cases[] = {
	{ 0, 1 }, { -1, 1 }, { -ENOSPC, 1 }, { -SHX_EESCAPE, 1 }, { -4095, 1 },
	{ 1, 0 }, { 4096, 0 }, { INT32_MAX, 0 }, { -4096, 0 }, { INT32_MIN, 0 },
};

START_TEST(rep_status_range)
{
	uint8_t buf[SHX_REP_MAX];
	size_t n = valid_rep(buf, sizeof(buf), 0);

	put_le32(buf + RP_STATUS, (uint32_t)status_cases[_i].status);
	ck_assert_int_eq(decode_rep(buf, n, 0), status_cases[_i].ok ? 0 : -EBADMSG);
}
END_TEST

/* More data than the receiver made room for. */
START_TEST(rep_datalen_over_datacap)
{
	uint8_t buf[SHX_REP_MAX], head_only[SHX_REP_HEAD];
	size_t n = valid_rep(buf, sizeof(buf), 10);
	struct shx_rep p = { .datacap = 9 };

	ck_assert_int_eq(decode_rep(buf, n, 9), -EBADMSG);
	ck_assert_int_eq(decode_rep(buf, n, 0), -EBADMSG);
	ck_assert_int_eq(decode_rep(buf, n, 10), 0);
	memcpy(head_only, buf, sizeof(head_only));
	ck_assert_int_eq(shx_rep_decode_head(head_only, n, &p), -EBADMSG);
	p.datacap = 10;
	ck_assert_int_eq(shx_rep_decode_head(head_only, n, &p), 0);
}
END_TEST

/* --- records in a reply's data ---------------------------------------------------- */

START_TEST(dirent_fill_and_iterate)
{
	uint8_t data[1000];
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	struct shx_dirent d, got;
	int count = 0;
	size_t off = 0;

	/* names of growing length until the reply is full */
	for (;;) {
		uint32_t before = p.datalen;
		int r;

		memset(&d, 0, sizeof(d));
		d.ino = 1000 + count;
		d.cookie = 3 + count;
		d.type = count % 2 ? 8 : 4;
		d.namelen = 1 + count % 40;
		memset(d.name, 'a' + count % 26, d.namelen);
		r = shx_dirent_append(&p, &d);
		if (r == -ENOSPC) {
			ck_assert_uint_eq(p.datalen, before); /* nothing half-written */
			break;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(p.datalen, before + 19 + d.namelen);
		count++;
	}
	ck_assert_int_gt(count, 10);
	ck_assert_uint_le(p.datalen, sizeof(data));
	/* the one that did not fit really would not have */
	ck_assert_uint_gt(p.datalen + 19 + d.namelen, sizeof(data));

	for (int i = 0; i < count; i++) {
		ck_assert_int_eq(shx_dirent_next(&p, &off, &got), 1);
		ck_assert_uint_eq(got.ino, 1000 + i);
		ck_assert_uint_eq(got.cookie, 3 + i);
		ck_assert_uint_eq(got.type, i % 2 ? 8 : 4);
		ck_assert_uint_eq(got.namelen, 1 + i % 40);
		for (int k = 0; k < got.namelen; k++)
			ck_assert_int_eq(got.name[k], 'a' + i % 26);
		ck_assert_int_eq(got.name[got.namelen], 0);
	}
	ck_assert_uint_eq(off, p.datalen);
	ck_assert_int_eq(shx_dirent_next(&p, &off, &got), 0);
}
END_TEST

START_TEST(dirent_longest_name)
{
	uint8_t data[400];
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	struct shx_dirent d = { .ino = 5, .cookie = 6, .type = 8, .namelen = 255 }, got;
	size_t off = 0;

	memset(d.name, 'n', 255);
	ck_assert_int_eq(shx_dirent_append(&p, &d), 0);
	ck_assert_int_eq(shx_dirent_next(&p, &off, &got), 1);
	ck_assert_uint_eq(got.namelen, 255);
	ck_assert_mem_eq(got.name, d.name, 255);
}
END_TEST

/* Damaged dirent data is reported, not read past. */
START_TEST(dirent_malformed)
{
	uint8_t data[64];
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	struct shx_dirent d = { .ino = 1, .cookie = 2, .type = 8, .namelen = 3, .name = "abc" }, got;
	size_t off;

	ck_assert_int_eq(shx_dirent_append(&p, &d), 0);
	ck_assert_uint_eq(p.datalen, 22);
	/* every truncation of the record */
	for (uint32_t k = 1; k < 22; k++) {
		struct shx_rep t = p;

		t.datalen = k;
		off = 0;
		ck_assert_msg(shx_dirent_next(&t, &off, &got) == -EBADMSG, "cut at %u", k);
		ck_assert_uint_eq(off, 0);
	}
	/* a NUL in the name */
	data[19 + 1] = 0;
	off = 0;
	ck_assert_int_eq(shx_dirent_next(&p, &off, &got), -EBADMSG);
	data[19 + 1] = 'b';
	/* an empty name */
	p.datalen = 0;
	d.namelen = 0;
	ck_assert_int_eq(shx_dirent_append(&p, &d), 0);
	off = 0;
	ck_assert_int_eq(shx_dirent_next(&p, &off, &got), -EBADMSG);
	/* a name of 256 bytes cannot be a file name */
	{
		static uint8_t big[19 + 256];
		struct shx_rep b = { .data = big, .datacap = sizeof(big), .datalen = sizeof(big) };

		memset(big, 'x', sizeof(big));
		put_le16(big + 17, 256);
		off = 0;
		ck_assert_int_eq(shx_dirent_next(&b, &off, &got), -EBADMSG);
	}
}
END_TEST

START_TEST(obj_fill_and_iterate)
{
	static uint8_t data[3000];
	static struct shx_obj o, got;
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	int count = 0;
	size_t off = 0;
	/* attr, charged, holders, creator, created, resident, swapped, cuid,
	 * nmappers, then the lengths of app, path and backtrace */
	const size_t fixed = 80 + 8 + 4 + 4 + 8 + 8 + 8 + 4 + 1 + 2 + 2 + 2;

	for (;;) {
		uint32_t before = p.datalen;
		int r;

		memset(&o, 0, sizeof(o));
		o.attr = make_attr(count);
		o.charged = 4096ULL * count;
		o.holders = count * 3;
		o.creator_pid = 100 + count;
		o.created_ns = -count;
		/* unlinked objects have no path: length 0 is valid here */
		o.pathlen = (count * 37) % 300;
		memset(o.path, '/' + count % 40, o.pathlen);
		o.resident = 512ULL * count;
		o.swapped = 4096ULL * (count % 3);
		o.cuid = 1000 + count;
		o.nmappers = count % (SHX_OBJ_MAPPERS + 1);
		for (int k = 0; k < o.nmappers; k++)
			o.mappers[k] = 7000 + k + count;
		o.applen = count % 5;
		memset(o.app, 'a' + count % 26, o.applen);
		o.btlen = count % 2 ? 20 : 0;
		memset(o.backtrace, '#', o.btlen);
		r = shx_obj_append(&p, &o);
		if (r == -ENOSPC) {
			ck_assert_uint_eq(p.datalen, before);
			ck_assert_uint_gt(before + fixed + o.pathlen + 4 * o.nmappers + o.applen +
						  o.btlen,
					  sizeof(data));
			break;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(p.datalen, before + fixed + o.pathlen + 4 * o.nmappers + o.applen +
						     o.btlen);
		count++;
	}
	ck_assert_int_gt(count, 5);
	for (int i = 0; i < count; i++) {
		struct shx_attr a = make_attr(i);

		ck_assert_int_eq(shx_obj_next(&p, &off, &got), 1);
		assert_attr_eq(&got.attr, &a);
		ck_assert_uint_eq(got.charged, 4096ULL * i);
		ck_assert_uint_eq(got.holders, i * 3);
		ck_assert_uint_eq(got.creator_pid, 100 + i);
		ck_assert_int_eq(got.created_ns, -i);
		ck_assert_uint_eq(got.pathlen, (i * 37) % 300);
		for (int k = 0; k < got.pathlen; k++)
			ck_assert_int_eq(got.path[k], '/' + i % 40);
		ck_assert_int_eq(got.path[got.pathlen], 0);
		ck_assert_uint_eq(got.resident, 512ULL * i);
		ck_assert_uint_eq(got.swapped, 4096ULL * (i % 3));
		ck_assert_uint_eq(got.cuid, 1000 + i);
		ck_assert_uint_eq(got.nmappers, i % (SHX_OBJ_MAPPERS + 1));
		for (int k = 0; k < got.nmappers; k++)
			ck_assert_uint_eq(got.mappers[k], 7000 + k + i);
		ck_assert_uint_eq(got.applen, i % 5);
		ck_assert_int_eq(got.app[got.applen], 0);
		ck_assert_uint_eq(got.btlen, i % 2 ? 20 : 0);
	}
	ck_assert_uint_eq(off, p.datalen);
	ck_assert_int_eq(shx_obj_next(&p, &off, &got), 0);
	/* and a cut record is an error */
	p.datalen--;
	off = 0;
	for (int i = 0; i < count - 1; i++)
		ck_assert_int_eq(shx_obj_next(&p, &off, &got), 1);
	ck_assert_int_eq(shx_obj_next(&p, &off, &got), -EBADMSG);
}
END_TEST

START_TEST(group_append_and_iterate)
{
	static uint8_t data[1000];
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	struct shx_group g = { 0 }, got;
	size_t off = 0;
	int n = 0;

	for (;; n++) {
		g.kind = n % 3;
		g.uid = 1000 + n;
		g.size_limit = n % 2 ? UINT64_MAX : 4096ULL * n;
		g.size_used = 4096ULL * n / 2;
		g.inodes_limit = 100 + n;
		g.inodes_used = n;
		g.objects = n / 2;
		g.clients = n % 4;
		g.resident = 512ULL * n;
		g.swapped = 0;
		g.namelen = g.kind == SHX_GROUP_APP ? snprintf(g.name, sizeof(g.name), "app-%d", n) : 0;
		if (g.kind != SHX_GROUP_APP)
			g.name[0] = 0;
		if (shx_group_append(&p, &g) < 0)
			break;
	}
	ck_assert_int_gt(n, 5);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(shx_group_next(&p, &off, &got), 1);
		ck_assert_uint_eq(got.kind, i % 3);
		ck_assert_uint_eq(got.uid, 1000 + i);
		ck_assert_uint_eq(got.size_limit, i % 2 ? UINT64_MAX : 4096ULL * i);
		ck_assert_uint_eq(got.inodes_limit, 100 + i);
		ck_assert_uint_eq(got.clients, i % 4);
		ck_assert_uint_eq(got.resident, 512ULL * i);
		if (got.kind == SHX_GROUP_APP) {
			char want[16];

			snprintf(want, sizeof(want), "app-%d", i);
			ck_assert_str_eq(got.name, want);
		}
	}
	ck_assert_int_eq(shx_group_next(&p, &off, &got), 0);
	/* an unknown kind is malformed */
	data[0] = 3;
	off = 0;
	ck_assert_int_eq(shx_group_next(&p, &off, &got), -EBADMSG);
}
END_TEST

START_TEST(stats_put_get)
{
	uint8_t data[65];
	struct shx_stats s = { 1, 2, 3, 4, 5, 6, 7, -8 }, got;
	struct shx_rep p = { .data = data, .datacap = 63 };

	ck_assert_int_eq(shx_stats_put(&p, &s), -ENOSPC);
	ck_assert_uint_eq(p.datalen, 0);
	p.datacap = 64;
	ck_assert_int_eq(shx_stats_put(&p, &s), 0);
	ck_assert_uint_eq(p.datalen, 64);
	ck_assert_int_eq(shx_stats_get(&p, &got), 0);
	ck_assert_mem_eq(&got, &s, sizeof(s));
	/* the record is exactly the data: neither less nor more */
	p.datalen = 63;
	ck_assert_int_eq(shx_stats_get(&p, &got), -EBADMSG);
	p.datalen = 65;
	ck_assert_int_eq(shx_stats_get(&p, &got), -EBADMSG);
	p.datalen = 0;
	ck_assert_int_eq(shx_stats_get(&p, &got), -EBADMSG);
}
END_TEST

START_TEST(swapinfo_put_get)
{
	static uint8_t data[SHX_DATA_MAX];
	static struct shx_swapinfo si, got;
	struct shx_rep p = { .data = data, .datacap = 83 };

	si = (struct shx_swapinfo){ 1, 2, 3, 4, 5, 6, 7, UINT64_MAX, 50, 1, "/var/tmp/s" };
	/* 8 figures, 2 words, the directory with its length: 84 bytes */
	ck_assert_int_eq(shx_swapinfo_put(&p, &si), -ENOSPC);
	p.datacap = sizeof(data);
	ck_assert_int_eq(shx_swapinfo_put(&p, &si), 0);
	ck_assert_uint_eq(p.datalen, 8 * 8 + 2 * 4 + 2 + 10);
	ck_assert_int_eq(shx_swapinfo_get(&p, &got), 0);
	ck_assert_mem_eq(&got, &si, sizeof(si));
	p.datalen--;
	ck_assert_int_eq(shx_swapinfo_get(&p, &got), -EBADMSG);
	p.datalen += 2;
	ck_assert_int_eq(shx_swapinfo_get(&p, &got), -EBADMSG);
}
END_TEST

/* A System V segment record with every field distinct and using all its
 * bytes; negative values (keys, times, pids) survive the wire format. */
static struct shx_shmid_ds make_shmid(int seed)
{
	return (struct shx_shmid_ds){
		.key = seed & 1 ? -0x7edcba98 + seed : 0x12345678 + seed,
		.id = 0x7fff8000 + seed,
		.uid = 0xfffffffeu - seed,
		.gid = 1000 + seed,
		.cuid = 0x80000000u + seed,
		.cgid = 7,
		.mode = 03777 - seed,
		.seq = 0xfffe - seed,
		.segsz = UINT64_MAX - (1ULL << 24) - seed,
		.atime = -1 - seed,
		.dtime = INT64_MAX - seed,
		.ctime = INT64_MIN + seed,
		.cpid = -seed,
		.lpid = 0x7ffffff0 + seed,
		.nattch = 0x0102030405060708ULL + seed,
		.rss = 4096ULL * seed,
		.swap = ~0ULL - seed,
	};
}

static void assert_shmid_eq(const struct shx_shmid_ds *a, const struct shx_shmid_ds *b)
{
	ck_assert_int_eq(a->key, b->key);
	ck_assert_int_eq(a->id, b->id);
	ck_assert_uint_eq(a->uid, b->uid);
	ck_assert_uint_eq(a->gid, b->gid);
	ck_assert_uint_eq(a->cuid, b->cuid);
	ck_assert_uint_eq(a->cgid, b->cgid);
	ck_assert_uint_eq(a->mode, b->mode);
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->segsz, b->segsz);
	ck_assert_int_eq(a->atime, b->atime);
	ck_assert_int_eq(a->dtime, b->dtime);
	ck_assert_int_eq(a->ctime, b->ctime);
	ck_assert_int_eq(a->cpid, b->cpid);
	ck_assert_int_eq(a->lpid, b->lpid);
	ck_assert_uint_eq(a->nattch, b->nattch);
	ck_assert_uint_eq(a->rss, b->rss);
	ck_assert_uint_eq(a->swap, b->swap);
}

#define SHMID_LEN 94 /* bytes of one encoded shx_shmid_ds */

START_TEST(shmid_fill_and_iterate)
{
	static uint8_t data[1000];
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	struct shx_shmid_ds d, got;
	int count = 0;
	size_t off = 0;

	for (;;) {
		uint32_t before = p.datalen;
		int r;

		d = make_shmid(count);
		r = shx_shmid_append(&p, &d);
		if (r == -ENOSPC) {
			ck_assert_uint_eq(p.datalen, before);
			ck_assert_uint_gt(before + SHMID_LEN, sizeof(data));
			break;
		}
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(p.datalen, before + SHMID_LEN);
		count++;
	}
	ck_assert_int_eq(count, sizeof(data) / SHMID_LEN);
	for (int i = 0; i < count; i++) {
		d = make_shmid(i);
		ck_assert_int_eq(shx_shmid_next(&p, &off, &got), 1);
		assert_shmid_eq(&got, &d);
	}
	ck_assert_uint_eq(off, p.datalen);
	ck_assert_int_eq(shx_shmid_next(&p, &off, &got), 0);
	/* a cut record is an error, wherever the cut */
	for (uint32_t cut = 1; cut < SHMID_LEN; cut++) {
		p.datalen = (count - 1) * SHMID_LEN + cut;
		off = (count - 1) * SHMID_LEN;
		ck_assert_int_eq(shx_shmid_next(&p, &off, &got), -EBADMSG);
		ck_assert_uint_eq(off, (count - 1) * SHMID_LEN);
	}
}
END_TEST

START_TEST(shmid_layout)
{
	uint8_t data[SHMID_LEN];
	struct shx_rep p = { .data = data, .datacap = sizeof(data) };
	struct shx_shmid_ds d = { .key = 0x11223344, .id = 32769, .mode = 01600, .seq = 1,
				  .segsz = 4096, .nattch = 2 };

	ck_assert_int_eq(shx_shmid_append(&p, &d), 0);
	/* little-endian, in the order of the struct */
	ck_assert_uint_eq(le32(data), 0x11223344);
	ck_assert_uint_eq(le32(data + 4), 32769);
	ck_assert_uint_eq(le32(data + 24), 01600);
	ck_assert_uint_eq(le16(data + 28), 1);
	ck_assert_uint_eq(le32(data + 30), 4096);
	ck_assert_uint_eq(le32(data + 70), 2);
}
END_TEST

START_TEST(shminfo_put_get)
{
	uint8_t data[73];
	struct shx_shminfo i = { UINT64_MAX - (1ULL << 24), 1, 4096, 4096, UINT64_MAX, 5, 6, 7, 8 },
			   got;
	struct shx_rep p = { .data = data, .datacap = 71 };

	ck_assert_int_eq(shx_shminfo_put(&p, &i), -ENOSPC);
	ck_assert_uint_eq(p.datalen, 0);
	p.datacap = 72;
	ck_assert_int_eq(shx_shminfo_put(&p, &i), 0);
	ck_assert_uint_eq(p.datalen, 72);
	ck_assert_int_eq(shx_shminfo_get(&p, &got), 0);
	ck_assert_mem_eq(&got, &i, sizeof(i));
	/* the record is exactly the data */
	p.datalen = 71;
	ck_assert_int_eq(shx_shminfo_get(&p, &got), -EBADMSG);
	p.datalen = 73;
	ck_assert_int_eq(shx_shminfo_get(&p, &got), -EBADMSG);
	p.datalen = 0;
	ck_assert_int_eq(shx_shminfo_get(&p, &got), -EBADMSG);
}
END_TEST

/* --- helpers ------------------------------------------------------------------- */

static const struct {
	size_t len;
	int want;
} set_path_cases[] = {
	{ 0, 0 }, { 1, 0 }, { SHX_PATH_MAX - 1, 0 },
	{ SHX_PATH_MAX, -ENAMETOOLONG }, { SHX_PATH_MAX + 1000, -ENAMETOOLONG },
};

START_TEST(req_set_path)
{
	static char path[SHX_PATH_MAX + 1001];
	static struct shx_req q;
	size_t len = set_path_cases[_i].len;

	memset(path, 'x', len);
	path[len] = 0;
	/* both setters share the rule: a path of PATH_MAX bytes or more has
	 * no room for its NUL */
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(shx_req_set_path(&q, path), set_path_cases[_i].want);
	ck_assert_int_eq(shx_req_set_path2(&q, path), set_path_cases[_i].want);
	if (set_path_cases[_i].want == 0) {
		ck_assert_uint_eq(q.pathlen, len);
		ck_assert_mem_eq(q.path, path, len + 1);
		ck_assert_uint_eq(q.path2len, len);
		ck_assert_mem_eq(q.path2, path, len + 1);
	} else {
		ck_assert_uint_eq(q.pathlen, 0);
		ck_assert_uint_eq(q.path2len, 0);
	}
}
END_TEST

START_TEST(op_names)
{
	static const char *const want[] = {
		[SHX_OP_HELLO] = "hello",     [SHX_OP_OPEN] = "open",	      [SHX_OP_CLOSE] = "close",
		[SHX_OP_HOLD] = "hold",	      [SHX_OP_UNLINK] = "unlink",     [SHX_OP_STAT] = "stat",
		[SHX_OP_GETATTR] = "getattr", [SHX_OP_ACCESS] = "access",     [SHX_OP_RESERVE] = "reserve",
		[SHX_OP_SYNC] = "sync",	      [SHX_OP_READDIR] = "readdir",   [SHX_OP_STATS] = "stats",
		[SHX_OP_LS] = "ls",	      [SHX_OP_SETATTR] = "setattr",   [SHX_OP_RENAME] = "rename",
		[SHX_OP_MKDIR] = "mkdir",     [SHX_OP_LINK] = "link",	      [SHX_OP_CHDIR] = "chdir",
		[SHX_OP_SYMLINK] = "symlink", [SHX_OP_READLINK] = "readlink",
		[SHX_OP_STATFS] = "statfs",   [SHX_OP_REALPATH] = "realpath",
		[SHX_OP_SHMGET] = "shmget",   [SHX_OP_SHMAT] = "shmat",	      [SHX_OP_SHMDT] = "shmdt",
		[SHX_OP_SHMCTL] = "shmctl",   [SHX_OP_SHMFORK] = "shmfork",
		[SHX_OP_SHMINHERIT] = "shminherit", [SHX_OP_SHMLIST] = "shmlist",
		[SHX_OP_MKNOD] = "mknod",     [SHX_OP_SOCKET] = "socket",
		[SHX_OP_XATTR] = "xattr",
		[SHX_OP_CHAN] = "chan",
		[SHX_OP_QUOTA] = "quota",
		[SHX_OP_PGTABLE] = "pgtable", [SHX_OP_SWAPIN] = "swapin",     [SHX_OP_SEEK] = "seek",
		[SHX_OP_SWAPINFO] = "swapinfo", [SHX_OP_SWAPSET] = "swapset",
		[SHX_OP_PGUFFD] = "pguffd",   [SHX_OP_PGMAP] = "pgmap",
		[SHX_OP_REOPEN] = "reopen",
	};

	for (unsigned op = 1; op < SHX_OP_MAX; op++)
		ck_assert_str_eq(shx_op_name(op), want[op]);
	ck_assert_str_eq(shx_op_name(0), "?");
	ck_assert_str_eq(shx_op_name(SHX_OP_MAX), "?");
	ck_assert_str_eq(shx_op_name(0x8000 | SHX_OP_OPEN), "?");
	ck_assert_str_eq(shx_op_name(~0u), "?");
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_add_test(tc, req_golden_bytes);
	tcase_add_test(tc, rep_layout);
	suite_add_tcase(s, tc);

	tc = tcase_create("round-trip");
	tcase_add_test(tc, req_cases_cover_every_op);
	tcase_add_loop_test(tc, req_round_trip, 0, N(req_cases));
	tcase_add_test(tc, req_round_trip_longest_path);
	tcase_add_loop_test(tc, req_data_round_trip, 0, N(data_lens));
	tcase_add_test(tc, req_encode_short_buffer);
	tcase_add_loop_test(tc, rep_round_trip, 0, N(rep_cases));
	tcase_add_test(tc, rep_encode_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed-request");
	tcase_add_test(tc, req_truncated_at_every_length);
	tcase_add_loop_test(tc, req_length_field_mismatch, 0, N(bad_lengths));
	tcase_add_test(tc, req_longer_than_max);
	tcase_add_test(tc, req_data_malformed);
	tcase_add_loop_test(tc, req_bad_opcode, 0, N(bad_req_ops));
	tcase_add_loop_test(tc, req_bad_hflags, 0, N(bad_req_hflags));
	tcase_add_loop_test(tc, req_bad_path_length, 0, 2);
	tcase_add_loop_test(tc, req_path_of_path_max, 0, 2);
	tcase_add_loop_test(tc, req_nul_in_path, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed-reply");
	tcase_add_test(tc, rep_truncated_at_every_length);
	tcase_add_test(tc, rep_length_field_mismatch);
	tcase_add_test(tc, rep_datalen_mismatch);
	tcase_add_test(tc, rep_longer_than_max);
	tcase_add_loop_test(tc, rep_bad_opcode, 0, N(bad_rep_ops));
	tcase_add_loop_test(tc, rep_bad_hflags, 0, N(bad_rep_hflags));
	tcase_add_loop_test(tc, rep_status_range, 0, N(status_cases));
	tcase_add_test(tc, rep_datalen_over_datacap);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_test(tc, dirent_fill_and_iterate);
	tcase_add_test(tc, dirent_longest_name);
	tcase_add_test(tc, dirent_malformed);
	tcase_add_test(tc, obj_fill_and_iterate);
	tcase_add_test(tc, group_append_and_iterate);
	tcase_add_test(tc, stats_put_get);
	tcase_add_test(tc, swapinfo_put_get);
	tcase_add_test(tc, shmid_fill_and_iterate);
	tcase_add_test(tc, shmid_layout);
	tcase_add_test(tc, shminfo_put_get);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_loop_test(tc, req_set_path, 0, N(set_path_cases));
	tcase_add_test(tc, op_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
