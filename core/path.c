/* path.c -- classifying paths as managed or not (see path.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

static struct shx_mount mounts[SHX_MNT_MAX] = { { "/dev/shm", 8 } };
static int nmounts = 1;
static char extra[1024];

void shx_mounts_init(void)
{
	const char *env = getenv("SHMEMX_MOUNTS");
	char *p;

	if (!env || strlen(env) >= sizeof(extra))
		return;
	strcpy(extra, env);
	for (p = strtok(extra, ":"); p && nmounts < SHX_MNT_MAX; p = strtok(NULL, ":")) {
		size_t n = strlen(p);

		while (n > 1 && p[n - 1] == '/')
			p[--n] = 0;
		if (*p == '/' && n > 1 && strcmp(p, "/dev/shm"))
			mounts[nmounts++] = (struct shx_mount){ p, n };
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

		if (!strncmp(path, m->prefix, m->len) &&
		    (path[m->len] == '/' || path[m->len] == 0))
			return i;
	}
	return -1;
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
	const char *p;
	int m;

	if (!path || path[0] != '/')
		return -1;
	m = match(path);
	if (m >= 0) {
		size_t n = strnlen(path, cap);

		if (n >= cap)
			return -ENAMETOOLONG;
		memcpy(out, path, n + 1);
		return m;
	}
	/* Only a path with "//", "/." or "/.." can reach a mount by another
	 * spelling. */
	for (p = path; (p = strchr(p, '/')); p++)
		if (p[1] == '/' || p[1] == '.')
			return squeeze(path, out, cap);
	return -1;
}
