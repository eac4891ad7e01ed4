/* path.c -- classifying paths as managed or not (see path.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "path.h"

static char names[SHX_MNT_MAX][SHX_MNT_LEN] = { "/dev/shm", "/tmp" };
static struct shx_mount mounts[SHX_MNT_MAX] = { { names[0], 8, 4 }, { names[1], 4, 4 } };
static int nmounts = 2;
static int chosen; /* the table was set: by shx_mounts_init or shx_mounts_set */
unsigned char shx_path_lead[256] = { ['/'] = 1, ['.'] = 1, ['d'] = 1, ['t'] = 1 };

/* A mount prefix must be a clean absolute path: the client compares paths
 * with it byte by byte, and the manager's walk starts below it. */
static int clean(const char *p, size_t n)
{
	if (n < 2 || p[0] != '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t c;

		if (p[i] != '/')
			continue;
		for (c = i + 1; c < n && p[c] != '/'; c++)
			;
		c -= i + 1; /* the component after this slash */
		if (c == 0 || (c == 1 && p[i + 1] == '.') ||
		    (c == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
			return 0;
	}
	return 1;
}

/* a is b, or one of them holds the other */
static int overlap(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;

	return !strncmp(a, b, n) && (an == bn || (an < bn ? b[an] : a[bn]) == '/');
}

static int add(const char *p, size_t n)
{
	const char *slash;

	while (n > 1 && p[n - 1] == '/')
		n--;
	if (n >= SHX_MNT_LEN || !clean(p, n))
		return -EINVAL;
	for (int i = 0; i < nmounts; i++)
		if (overlap(p, n, mounts[i].prefix, mounts[i].len))
			return n == mounts[i].len ? 1 : -EBUSY;
	if (nmounts == SHX_MNT_MAX)
		return -ENOSPC;
	memcpy(names[nmounts], p, n);
	names[nmounts][n] = 0;
	slash = memchr(p + 1, '/', n - 1);
	mounts[nmounts] = (struct shx_mount){ names[nmounts], n, slash ? (size_t)(slash - p) : n };
	nmounts++;
	shx_path_lead[(unsigned char)p[1]] = 1;
	return 0;
}

int shx_mount_add(const char *prefix)
{
	return add(prefix, strlen(prefix));
}

int shx_mounts_set(const char *list)
{
	chosen = 1;
	nmounts = 1; /* /dev/shm stays */
	for (int c = 0; c < 256; c++)
		if (c != '/' && c != '.' && c != 'd')
			shx_path_lead[c] = 0;
	while (list && *list) {
		const char *end = strchr(list, ':');
		size_t n = end ? (size_t)(end - list) : strlen(list);

		/* what cannot be a mount is left out: the same rules on both
		 * sides of the socket, so client and manager agree */
		if (n)
			add(list, n);
		list += n + (end != NULL);
	}
	return nmounts;
}

void shx_mounts_init(void)
{
	char conf[1024];
	const char *list = getenv("SHMEMX_MOUNTS");

	if (!list && shx_config_mounts(conf, sizeof(conf)) > 0)
		list = conf;
	shx_mounts_set(list ? list : SHX_MOUNTS_DEFAULT);
}

int shx_mounts(const struct shx_mount **mnts)
{
	*mnts = mounts;
	return nmounts;
}

size_t shx_mounts_list(char *buf, size_t cap)
{
	size_t o = 0;

	if (!chosen) {
		buf[0] = 0;
		return 0;
	}
	for (int i = 0; i < nmounts; i++) {
		if (o + mounts[i].len + 2 > cap)
			return 0;
		if (i)
			buf[o++] = ':';
		memcpy(buf + o, mounts[i].prefix, mounts[i].len);
		o += mounts[i].len;
	}
	buf[o] = 0;
	return o;
}

static int match(const char *path)
{
	for (int i = 0; i < nmounts; i++) {
		const struct shx_mount *m = &mounts[i];

		/* the second byte rejects almost every path before strncmp */
		if (path[1] == m->prefix[1] && !strncmp(path, m->prefix, m->len) &&
		    (path[m->len] == '/' || path[m->len] == 0))
			return i;
	}
	return -1;
}

/* Does the path start in the first directory of a mount ("/dev/...",
 * "/tmp/...")?  Only there can "//" or "/./" lead into one. */
static int near(const char *path)
{
	for (int i = 0; i < nmounts; i++) {
		const char *pre = mounts[i].prefix;
		size_t n = mounts[i].first;

		if (path[1] == pre[1] && !strncmp(path, pre, n) && (path[n] == '/' || !path[n]))
			return 1;
	}
	return 0;
}

/* Lexical clean-up of an absolute path, stopping at the managed mount:
 * once the cleaned prefix is a mount, the rest is copied as it is. */
static int squeeze(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	while (*in) {
		const char *c = in, *e;
		size_t n;

		while (*c == '/')
			c++;
		for (e = c; *e && *e != '/'; e++)
			;
		n = e - c;
		in = e;
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		if (o + 1 + n >= cap)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
		out[o] = 0;
		if (match(out) >= 0) {
			size_t rest = strlen(in);

			if (o + rest >= cap)
				return -ENAMETOOLONG;
			memcpy(out + o, in, rest + 1);
			return match(out);
		}
	}
	out[o ? o : (out[0] = '/', 1)] = 0;
	return match(out);
}

int shx_path_classify(const char *path, char *out, size_t cap)
{
	int m;

	if (!path || path[0] != '/' || shx_path_surely_unmanaged(path))
		return -1;
	m = match(path);
	if (m >= 0) {
		size_t n = strnlen(path, cap);

		if (n >= cap)
			return -ENAMETOOLONG;
		memcpy(out, path, n + 1);
		return m;
	}
	/* Another spelling of a mount path: "//dev/shm", "/dev//shm",
	 * "/dev/./shm", or ".." from anywhere ("/usr/../dev/shm").  Every
	 * unmanaged path pays for this, so the common case is one scan. */
	if (path[1] == '/' || path[1] == '.' || strstr(path, "/..") ||
	    (near(path) && (strstr(path, "//") || strstr(path, "/."))))
		return squeeze(path, out, cap);
	return -1;
}
