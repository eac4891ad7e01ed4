/* config.c -- defaults, the config file, the environment, socket paths. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"

static uint64_t physical_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

	return pages > 0 && psz > 0 ? (uint64_t)pages * psz : (uint64_t)1 << 32;
}

int shx_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	int shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	/* a plain number is taken exactly, not through a double: shmmax's
	 * default, 2^64 - 2^24 - 1, has more digits than a double holds */
	if (s[strspn(s, "0123456789")] == 0) {
		unsigned long long n;

		errno = 0;
		n = strtoull(s, &end, 10);
		if (errno)
			return -ERANGE;
		*out = n;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case '%':
		end++;
		if (*end || v > 100)
			return -EINVAL;
		*out = (uint64_t)(physical_memory() * (v / 100));
		return 0;
	}
	if (*end == 'i' && shift && end[1] == 'B')
		end += 2;
	else if (*end == 'B' && shift)
		end++;
	if (*end)
		return -EINVAL;
	v *= (double)((uint64_t)1 << shift);
	if (v >= 18446744073709551615.0)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

char *shx_format_size(uint64_t n, char *buf, size_t cap)
{
	static const char units[] = "KMGTPE";
	int u = -1;
	double v = n;

	/* 1023.96K prints as 1.0M, not 1024K */
	while (v >= 1023.95 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, cap, "%llu", (unsigned long long)n);
	else if (v == (uint64_t)v || v >= 99.95)
		snprintf(buf, cap, "%.0f%c", v, units[u]);
	else
		snprintf(buf, cap, "%.1f%c", v, units[u]);
	return buf;
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

int shx_app_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 64 && strspn(name, NAME_CHARS) == n ? 0 : -EINVAL;
}

/* "app.NAME.size", "app.NAME.nr_inodes", "user.UID.size",
 * "user.UID.nr_inodes": one limit of one group */
static int set_group_limit(struct shx_config *cfg, const char *key, const char *val)
{
	int app = key[0] == 'a';
	const char *name = key + (app ? 4 : 5), *what = strrchr(name, '.');
	size_t len = what ? (size_t)(what - name) : 0;
	struct shx_group_limit *l = NULL;
	char buf[64];
	uint64_t n;

	if (!what || len == 0 || len >= sizeof(buf) || shx_parse_size(val, &n) < 0)
		return -EINVAL;
	if (strcmp(what, ".size") && strcmp(what, ".nr_inodes"))
		return -ENOENT;
	memcpy(buf, name, len);
	buf[len] = 0;
	if (app ? shx_app_name_valid(buf) < 0 : strspn(buf, "0123456789") != len)
		return -EINVAL;
	for (int i = 0; i < cfg->nlimits && !l; i++)
		if (cfg->limits[i].app == app &&
		    (app ? !strcmp(cfg->limits[i].name, buf)
			 : cfg->limits[i].uid == strtoul(buf, NULL, 10)))
			l = &cfg->limits[i];
	if (!l) {
		if (cfg->nlimits == SHX_GROUP_LIMITS_MAX)
			return -ENOSPC;
		l = &cfg->limits[cfg->nlimits++];
		*l = (struct shx_group_limit){ .app = app, .size = SHX_LIMIT_DEFAULT,
					       .nr_inodes = SHX_LIMIT_DEFAULT };
		if (app)
			strcpy(l->name, buf);
		else
			l->uid = strtoul(buf, NULL, 10);
	}
	if (what[1] == 's')
		l->size = n;
	else
		l->nr_inodes = n;
	return 0;
}
static int swap_config_set(struct shx_config *cfg, const char *key, const char *val);

int shx_config_set(struct shx_config *cfg, const char *key, const char *val)
{
	uint64_t n;

	if (!strcmp(key, "mounts")) /* read by shx_config_mounts */
		return 0;
	if (!strncmp(key, "app.", 4) || !strncmp(key, "user.", 5))
		return set_group_limit(cfg, key, val);
	if (!strncmp(key, "swap_", 5))
		return swap_config_set(cfg, key, val);
	if (shx_parse_size(val, &n) < 0)
		return -EINVAL;
	if (!strcmp(key, "size"))
		cfg->size_limit = n;
	else if (!strcmp(key, "nr_inodes"))
		cfg->nr_inodes = n;
	else if (!strcmp(key, "user_size"))
		cfg->user_size = n;
	else if (!strcmp(key, "user_nr_inodes"))
		cfg->user_nr_inodes = n;
	else if (!strcmp(key, "app_size"))
		cfg->app_size = n;
	else if (!strcmp(key, "app_nr_inodes"))
		cfg->app_nr_inodes = n;
	else if (!strcmp(key, "idle_timeout"))
		cfg->idle_timeout = n;
	else if (!strcmp(key, "shmmax"))
		cfg->shmmax = n;
	else if (!strcmp(key, "shmall"))
		cfg->shmall = n;
	else if (!strcmp(key, "shmmni")) {
		/* as the sysctl: 0 to ipc_mni */
		if (n > SHX_SHMMNI_MAX)
			return -EINVAL;
		cfg->shmmni = n;
	} else
		return -ENOENT;
	return 0;
}

/* A kernel.* System V limit as the running kernel has it, else the
 * kernel's own default (include/uapi/linux/shm.h). */
static uint64_t kernel_limit(const char *name, uint64_t dflt)
{
	char path[64], buf[32] = "";
	uint64_t v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return shx_parse_size(buf, &v) == 0 ? v : dflt;
}

/* Calls fn(arg, key, value) for each "key = value" line of the file; 1
 * if there is no such file, else 0 or what fn returned first (< 0), with
 * the line in err.  Read with raw system calls: the preloaded library
 * reads its settings during its own initialisation, when its wrappers
 * of open and fopen must not run. */
static int each_setting(const char *path, int (*fn)(void *, const char *, const char *),
			void *arg, char *err, size_t errlen)
{
	char buf[16384], *line, *next;
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC), n, got = 0;
	int lineno = 0, r = 0;

	if (fd < 0)
		return errno == ENOENT ? 1 : -errno;
	while ((n = syscall(SYS_read, fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	syscall(SYS_close, fd);
	if (n < 0)
		return -EIO;
	buf[got] = 0;
	for (line = buf; r == 0 && line && *line; line = next) {
		char *key = line, *val, *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		while (isspace((unsigned char)*key))
			key++;
		if (*key == '#' || *key == 0)
			continue;
		val = strchr(key, '=');
		if (!val) {
			r = -EINVAL;
			break;
		}
		for (end = val; end > key && isspace((unsigned char)end[-1]); end--)
			;
		*end = 0;
		for (val++; isspace((unsigned char)*val); val++)
			;
		for (end = val + strlen(val); end > val && isspace((unsigned char)end[-1]); end--)
			;
		*end = 0;
		r = fn(arg, key, val);
	}
	if (r < 0 && err)
		snprintf(err, errlen, "%s:%d: bad setting", path, lineno);
	return r;
}

/* The config file's settings: $SHMEMX_CONFIG, else the user's, else the
 * system's (the first that exists). */
static int each_config_setting(int (*fn)(void *, const char *, const char *), void *arg,
			       char *err, size_t errlen)
{
	const char *path = getenv("SHMEMX_CONFIG"), *home = getenv("HOME");
	char buf[4096];
	int r = 1;

	if (path)
		return each_setting(path, fn, arg, err, errlen);
	if (home) {
		snprintf(buf, sizeof(buf), "%s/.config/shmemx/shmemx.conf", home);
		r = each_setting(buf, fn, arg, err, errlen);
	}
	if (r == 1)
		r = each_setting("/etc/shmemx.conf", fn, arg, err, errlen);
	return r;
}

static int set_one(void *cfg, const char *key, const char *val)
{
	return shx_config_set(cfg, key, val) < 0 ? -EINVAL : 0;
}

struct mounts_arg {
	char *buf;
	size_t cap;
	int found;
};

static int get_mounts(void *arg, const char *key, const char *val)
{
	struct mounts_arg *m = arg;

	if (strcmp(key, "mounts"))
		return 0;
	if (strlen(val) >= m->cap)
		return 0;
	strcpy(m->buf, val);
	m->found = 1;
	return 0;
}

int shx_config_mounts(char *buf, size_t cap)
{
	struct mounts_arg m = { buf, cap, 0 };

	each_config_setting(get_mounts, &m, NULL, 0);
	return m.found;
}

int shx_config_load(struct shx_config *cfg, char *err, size_t errlen)
{
	static const char *const env[][2] = {
		{ "SHMEMX_SIZE", "size" },
		{ "SHMEMX_NR_INODES", "nr_inodes" },
		{ "SHMEMX_IDLE_TIMEOUT", "idle_timeout" },
		{ "SHMEMX_SHMMAX", "shmmax" },
		{ "SHMEMX_SHMALL", "shmall" },
		{ "SHMEMX_SHMMNI", "shmmni" },
		{ "SHMEMX_USER_SIZE", "user_size" },
		{ "SHMEMX_USER_NR_INODES", "user_nr_inodes" },
		{ "SHMEMX_APP_SIZE", "app_size" },
		{ "SHMEMX_APP_NR_INODES", "app_nr_inodes" },
		{ "SHMEMX_SWAP_BUDGET", "swap_budget" },
		{ "SHMEMX_SWAP_LIMIT", "swap_limit" },
		{ "SHMEMX_SWAP_DIR", "swap_dir" },
	};
	int r;

	/* The kernel's tmpfs defaults: half of RAM, and as many inodes as
	 * half of RAM has pages. */
	cfg->size_limit = physical_memory() / 2;
	cfg->nr_inodes = physical_memory() / 2 / 4096;
	cfg->idle_timeout = 60;
	/* quotas: none unless asked for */
	cfg->user_size = cfg->user_nr_inodes = cfg->app_size = cfg->app_nr_inodes = 0;
	cfg->nlimits = 0;
	/* System V: what programs would get from this kernel */
	cfg->shmmax = kernel_limit("shmmax", UINT64_MAX - (1ULL << 24));
	cfg->shmall = kernel_limit("shmall", UINT64_MAX - (1ULL << 24));
	cfg->shmmni = kernel_limit("shmmni", 4096);
	if (cfg->shmmni > SHX_SHMMNI_MAX)
		cfg->shmmni = SHX_SHMMNI_MAX;
	cfg->swap_budget = 0;
	cfg->swap_budget_pct = 50;
	cfg->swap_limit = 0;
	cfg->swap_dir[0] = 0;

	r = each_config_setting(set_one, cfg, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *v = getenv(env[i][0]);

		if (v && shx_config_set(cfg, env[i][1], v) < 0) {
			snprintf(err, errlen, "%s: bad value '%s'", env[i][0], v);
			return -EINVAL;
		}
	}
	return 0;
}

int shx_socket_path(char *buf, size_t cap)
{
	const char *s = getenv("SHMEMX_SOCKET"), *rt = getenv("XDG_RUNTIME_DIR");
	int n;

	if (s && *s)
		n = snprintf(buf, cap, "%s", s);
	else if (rt && *rt == '/')
		n = snprintf(buf, cap, "%s/shmemx/sock", rt);
	else
		n = snprintf(buf, cap, "/var/tmp/shmemx-%u/sock", (unsigned)getuid());
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int shx_socket_dir(const char *sock, char *dir, size_t cap)
{
	const char *slash = strrchr(sock, '/');
	size_t n = slash ? (size_t)(slash - sock) : 0;

	if (n == 0 || n >= cap)
		return -EINVAL;
	memcpy(dir, sock, n);
	dir[n] = 0;
	return 0;
}

/* A directory only we can enter: made 0700 if missing; an existing one
 * must be ours and closed to others, or someone could plant a socket. */
int shx_make_private_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return -EPERM;
	if ((st.st_mode & 077) && chmod(dir, st.st_mode & 0700) < 0)
		return -errno;
	return 0;
}

/* --- paging ------------------------------------------------------------------ */

/* swap_budget = SIZE or N% (of available memory or the cgroup's limit,
 * which only the manager knows when it runs); swap_limit = SIZE;
 * swap_dir = an absolute directory. */
static int swap_config_set(struct shx_config *cfg, const char *key, const char *val)
{
	uint64_t n;

	if (!strcmp(key, "swap_dir")) {
		if (val[0] != '/' || strlen(val) >= sizeof(cfg->swap_dir))
			return -EINVAL;
		strcpy(cfg->swap_dir, val);
		return 0;
	}
	if (!strcmp(key, "swap_budget") && val[0] && val[strlen(val) - 1] == '%') {
		char *end;
		unsigned long pct = strtoul(val, &end, 10);

		if (end == val || strcmp(end, "%") || pct < 1 || pct > 100)
			return -EINVAL;
		cfg->swap_budget = 0;
		cfg->swap_budget_pct = pct;
		return 0;
	}
	if (shx_parse_size(val, &n) < 0)
		return -EINVAL;
	if (!strcmp(key, "swap_budget"))
		cfg->swap_budget = n;
	else if (!strcmp(key, "swap_limit"))
		cfg->swap_limit = n;
	else
		return -ENOENT;
	return 0;
}
