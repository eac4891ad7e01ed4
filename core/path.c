/* path.c -- classifying paths as managed or not (see path.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

static struct shx_mount mounts[SHX_MNT_MAX] = { { "/dev/shm", 8, 4 } };
static int nmounts = 1;
static char extra[1024];
unsigned char shx_path_lead[256] = { ['/'] = 1, ['.'] = 1, ['d'] = 1 };

void shx_mounts_init(void)
{
	const char *env = getenv("SHMEMX_MOUNTS");
	char *p;

	if (!env || strlen(env) >= sizeof(extra))
		return;
	strcpy(extra, env);
	for (p = strtok(extra, ":"); p && nmounts < SHX_MNT_MAX; p = strtok(NULL, ":")) {
		size_t n = strlen(p);
		char *slash;

		while (n > 1 && p[n - 1] == '/')
			p[--n] = 0;
		if (*p != '/' || n < 2 || !strcmp(p, "/dev/shm"))
			continue;
		slash = strchr(p + 1, '/');
		mounts[nmounts++] = (struct shx_mount){ p, n, slash ? (size_t)(slash - p) : n };
		shx_path_lead[(unsigned char)p[1]] = 1;
	}
}

int shx_mounts(const struct shx_mount **mnts)
{
	*mnts = mounts;
	return nmounts;
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
