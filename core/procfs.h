/* procfs.h -- what is read in /proc: a process's capabilities, groups and
 * parent (/proc/PID/status and stat), its mappings (/proc/PID/maps), and
 * the machine's memory (/proc/meminfo).
 *
 * The manager asks these of its clients when a decision depends on them
 * (core/sysv.c); the library reads its own maps with the same parser.
 * Everything here goes to the kernel with bare system calls, so that it
 * may run inside a wrapped call.
 */
#ifndef SHX_PROCFS_H
#define SHX_PROCFS_H

#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps: "start-end perms offset major:minor inode path" */
struct procfs_map {
	uint64_t start, end, offset, ino;
	unsigned dev_major, dev_minor;
	char perms[5];
	const char *path; /* "" for an anonymous mapping; valid during the callback */
};

/* 1 if the process has capability `cap` in its effective set; 0 if not,
 * or if it cannot be told. */
int procfs_capable(pid_t pid, int cap);
/* 1 if gid is one of the process's supplementary groups. */
int procfs_in_group(pid_t pid, gid_t gid);
/* The process's parent, or 0. */
pid_t procfs_parent(pid_t pid);
/* The "NAME:  N kB" of /proc/meminfo, in kB; 0 when there is none. */
uint64_t procfs_meminfo_kb(const char *name);

/* Parses a line of /proc/PID/maps (without its newline): 0, or -EINVAL. */
int procfs_parse_map(const char *line, struct procfs_map *m);
/* Calls fn for each mapping of process pid (0: this process).  Returns
 * 0, -ESRCH when the process is gone, or -errno when its maps cannot be
 * read; a zombie has none. */
int procfs_maps(pid_t pid, void (*fn)(const struct procfs_map *m, void *arg), void *arg);

#endif
