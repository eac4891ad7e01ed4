/* procfs.c -- reading /proc (see procfs.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfs.h"

static int sys_open(const char *path)
{
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : (int)fd;
}

static void sys_close(int fd)
{
	syscall(SYS_close, fd);
}

/* The start of a small file into buf (NUL-terminated): its length, or
 * -errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = sys_open(path);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = syscall(SYS_read, fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	sys_close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/* The value of "Name:" in a "Name:\tvalue" file, or NULL. */
static char *field(char *text, const char *name)
{
	size_t len = strlen(name);

	for (char *p = text; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, name, len) && p[len] == ':') {
			p += len + 1;
			p[strcspn(p, "\n")] = 0;
			return p;
		}
	}
	return NULL;
}

static char *status_field(pid_t pid, const char *name, char *buf, size_t cap)
{
	char path[48];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return read_small(path, buf, cap) > 0 ? field(buf, name) : NULL;
}

int procfs_capable(pid_t pid, int cap)
{
	char buf[4096], *v = status_field(pid, "CapEff", buf, sizeof(buf));

	return v && cap >= 0 && cap < 64 && (strtoull(v, NULL, 16) >> cap & 1);
}

int procfs_in_group(pid_t pid, gid_t gid)
{
	char buf[4096], *v = status_field(pid, "Groups", buf, sizeof(buf)), *end;

	while (v && *v) {
		unsigned long g = strtoul(v, &end, 10);

		if (end == v)
			break;
		if (g == gid)
			return 1;
		v = end;
	}
	return 0;
}

/* "pid (comm) state ppid ...": comm may hold anything, so from the last ')' */
pid_t procfs_parent(pid_t pid)
{
	char path[48], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return 0;
	return (pid_t)strtol(p + 4, NULL, 10);
}

uint64_t procfs_meminfo_kb(const char *name)
{
	char buf[8192], *v;

	if (read_small("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return 0;
	v = field(buf, name);
	return v ? strtoull(v, NULL, 10) : 0;
}

/* A number of digits only (strtoull alone would take a sign or spaces). */
static const char *num(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!(base == 16 ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)))
		return NULL;
	*v = strtoull(s, &end, base);
	return end == s ? NULL : end;
}

int procfs_parse_map(const char *l, struct procfs_map *m)
{
	uint64_t major, minor;

	if (!(l = num(l, 16, &m->start)) || *l++ != '-' || !(l = num(l, 16, &m->end)) ||
	    *l++ != ' ')
		return -EINVAL;
	if (strlen(l) < 5 || l[4] != ' ')
		return -EINVAL;
	memcpy(m->perms, l, 4);
	m->perms[4] = 0;
	l += 5;
	if (!(l = num(l, 16, &m->offset)) || *l++ != ' ' || !(l = num(l, 16, &major)) ||
	    *l++ != ':' || !(l = num(l, 16, &minor)) || *l++ != ' ' ||
	    !(l = num(l, 10, &m->ino)))
		return -EINVAL;
	m->dev_major = major;
	m->dev_minor = minor;
	while (*l == ' ')
		l++;
	m->path = l;
	return 0;
}

int procfs_maps(pid_t pid, void (*fn)(const struct procfs_map *m, void *arg), void *arg)
{
	char path[48], buf[16384];
	size_t have = 0;
	int fd, r = 0, skip = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	fd = sys_open(path);
	if (fd < 0)
		return fd == -ENOENT ? -ESRCH : fd;
	for (;;) {
		ssize_t n = syscall(SYS_read, fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		have += n;
		buf[have] = 0;
		for (; (nl = strchr(line, '\n')); line = nl + 1) {
			struct procfs_map m;

			*nl = 0;
			if (!skip && procfs_parse_map(line, &m) == 0)
				fn(&m, arg);
			skip = 0;
		}
		have -= line - buf;
		if (have == sizeof(buf) - 1) {
			/* a line longer than the buffer (a path of PATH_MAX
			 * and more): dropped whole, up to its newline */
			have = 0;
			skip = 1;
		}
		memmove(buf, line, have);
	}
	sys_close(fd);
	return r;
}
