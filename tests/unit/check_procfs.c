/* check_procfs.c -- unit tests of core/procfs.c, what is read in /proc.
 *
 * Covered: the parser of /proc/PID/maps lines (paths, anonymous and
 * special mappings, 64-bit addresses, hexadecimal devices, malformed
 * lines), procfs_maps over this process and over a child (a memfd mapped
 * at an offset found with its device, inode, offset and permissions;
 * more mappings than the read buffer holds; a zombie; a reaped child),
 * procfs_parent (a command name with ") " in it), procfs_capable against
 * capget, procfs_in_group against getgroups, procfs_meminfo_kb against
 * sysinfo.  Every test runs in its own process (CK_FORK is forced).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"

#define PAGE 4096UL

/* --- the parser ------------------------------------------------------------ */

START_TEST(parse_file_mapping)
{
	struct procfs_map m;

	ck_assert_int_eq(procfs_parse_map("7f12a4c00000-7f12a4c22000 r--p 00001000 fd:01 1835123"
					  "                    /usr/lib/x86_64-linux-gnu/libc.so.6",
					  &m),
			 0);
	ck_assert_uint_eq(m.start, 0x7f12a4c00000ULL);
	ck_assert_uint_eq(m.end, 0x7f12a4c22000ULL);
	ck_assert_str_eq(m.perms, "r--p");
	ck_assert_uint_eq(m.offset, 0x1000);
	ck_assert_uint_eq(m.dev_major, 0xfd);
	ck_assert_uint_eq(m.dev_minor, 1);
	ck_assert_uint_eq(m.ino, 1835123);
	ck_assert_str_eq(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
}
END_TEST

START_TEST(parse_anonymous_and_special)
{
	struct procfs_map m;

	ck_assert_int_eq(procfs_parse_map("7ffd1000-7ffd3000 rw-p 00000000 00:00 0 ", &m), 0);
	ck_assert_uint_eq(m.ino, 0);
	ck_assert_str_eq(m.path, "");
	ck_assert_int_eq(procfs_parse_map("55d0c1a2b000-55d0c1a4c000 rw-p 00000000 00:00 0"
					  "                          [heap]",
					  &m),
			 0);
	ck_assert_str_eq(m.path, "[heap]");
	ck_assert_int_eq(procfs_parse_map("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
					  "                  [vsyscall]",
					  &m),
			 0);
	ck_assert_uint_eq(m.start, 0xffffffffff600000ULL);
	ck_assert_uint_eq(m.end, 0xffffffffff601000ULL);
	ck_assert_str_eq(m.perms, "--xp");
	/* a memfd that was, and a path with spaces in it */
	ck_assert_int_eq(procfs_parse_map("7f0000000000-7f0000002000 rw-s 00002000 00:01 4242"
					  "                       /memfd:shmemx (deleted)",
					  &m),
			 0);
	ck_assert_uint_eq(m.offset, 0x2000);
	ck_assert_uint_eq(m.dev_major, 0);
	ck_assert_uint_eq(m.dev_minor, 1);
	ck_assert_str_eq(m.path, "/memfd:shmemx (deleted)");
	/* a major and minor of more than two digits */
	ck_assert_int_eq(procfs_parse_map("1000-2000 r-xp 00000000 103:1a2 99 /x", &m), 0);
	ck_assert_uint_eq(m.dev_major, 0x103);
	ck_assert_uint_eq(m.dev_minor, 0x1a2);
}
END_TEST

START_TEST(parse_malformed)
{
	static const char *bad[] = {
		"",
		"7ffd1000",
		"7ffd1000 7ffd3000 rw-p 00000000 00:00 0",
		"7ffd1000-7ffd3000",
		"7ffd1000-7ffd3000 rw- 00000000 00:00 0",
		"7ffd1000-7ffd3000 rw-p",
		"7ffd1000-7ffd3000 rw-p 00000000",
		"7ffd1000-7ffd3000 rw-p 00000000 0000 0",
		"7ffd1000-7ffd3000 rw-p 00000000 00:00",
		"7ffd1000-7ffd3000 rw-p 00000000 00:00 x",
		"-7ffd3000 rw-p 00000000 00:00 0",
		" 7ffd1000-7ffd3000 rw-p 00000000 00:00 0",
		"7ffd1000-+7ffd3000 rw-p 00000000 00:00 0",
		"7ffd1000-7ffd3000 rw-p 00000000 00:00 -1",
	};
	struct procfs_map m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(procfs_parse_map(bad[i], &m) == -EINVAL, "accepted \"%s\"", bad[i]);
}
END_TEST

/* --- the maps of a process ------------------------------------------------- */

struct want {
	struct stat st;
	uint64_t start, end, offset;
	int found;
	char perms[5], path[64];
	size_t all;
};

static void look(const struct procfs_map *m, void *arg)
{
	struct want *w = arg;

	w->all++;
	if (m->ino == w->st.st_ino && m->dev_major == major(w->st.st_dev) &&
	    m->dev_minor == minor(w->st.st_dev)) {
		w->found++;
		w->start = m->start;
		w->end = m->end;
		w->offset = m->offset;
		memcpy(w->perms, m->perms, 5);
		snprintf(w->path, sizeof(w->path), "%s", m->path);
	}
}

/* A memfd of three pages, its last two mapped shared at *addr. */
static int mapped_memfd(void **addr)
{
	int fd = memfd_create("shx-procfs-test", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 3 * PAGE), 0);
	*addr = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
	ck_assert_ptr_ne(*addr, MAP_FAILED);
	return fd;
}

START_TEST(maps_of_self)
{
	struct want w = { 0 };
	void *addr;
	int fd = mapped_memfd(&addr);

	ck_assert_int_eq(fstat(fd, &w.st), 0);
	ck_assert_int_eq(procfs_maps(0, look, &w), 0);
	ck_assert_int_eq(w.found, 1);
	ck_assert_uint_eq(w.start, (uintptr_t)addr);
	ck_assert_uint_eq(w.end, (uintptr_t)addr + 2 * PAGE);
	ck_assert_uint_eq(w.offset, PAGE);
	ck_assert_str_eq(w.perms, "rw-s");
	ck_assert_str_eq(w.path, "/memfd:shx-procfs-test (deleted)");
	ck_assert_uint_gt(w.all, 5);
	/* by pid, the same */
	memset(&w.start, 0, sizeof(w) - sizeof(w.st));
	ck_assert_int_eq(procfs_maps(getpid(), look, &w), 0);
	ck_assert_int_eq(w.found, 1);
	ck_assert_uint_eq(w.start, (uintptr_t)addr);
}
END_TEST

/* Far more mappings than 16 KiB of text: every one is seen once, across
 * the reads' boundaries. */
START_TEST(maps_many)
{
	enum { N = 1200 };
	struct want w = { 0 };
	char *base;
	int fd = memfd_create("shx-procfs-many", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, N * PAGE), 0);
	base = mmap(NULL, N * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(base, MAP_FAILED);
	/* alternate protections: no two neighbours merge */
	for (size_t i = 0; i < N; i += 2)
		ck_assert_int_eq(mprotect(base + i * PAGE, PAGE, PROT_READ), 0);
	ck_assert_int_eq(fstat(fd, &w.st), 0);
	ck_assert_int_eq(procfs_maps(0, look, &w), 0);
	ck_assert_int_eq(w.found, N);
	ck_assert_uint_eq(w.end, (uintptr_t)base + N * PAGE);
	ck_assert_uint_eq(w.offset, (N - 1) * PAGE);
}
END_TEST

static void nothing(const struct procfs_map *m, void *arg)
{
	(void)m;
	++*(int *)arg;
}

START_TEST(maps_of_child)
{
	struct want w = { 0 };
	int go[2], ready[2], n = 0;
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		void *addr;
		int fd = mapped_memfd(&addr);
		struct stat st;

		fstat(fd, &st);
		if (write(ready[1], &st, sizeof(st)) != sizeof(st) ||
		    write(ready[1], &addr, sizeof(addr)) != sizeof(addr))
			_exit(1);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &w.st, sizeof(w.st)), sizeof(w.st));
	{
		void *addr;

		ck_assert_int_eq(read(ready[0], &addr, sizeof(addr)), sizeof(addr));
		ck_assert_int_eq(procfs_maps(pid, look, &w), 0);
		ck_assert_int_eq(w.found, 1);
		ck_assert_uint_eq(w.start, (uintptr_t)addr);
		ck_assert_uint_eq(w.offset, PAGE);
	}
	ck_assert_int_eq(procfs_parent(pid), getpid());
	/* a zombie maps nothing */
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	ck_assert_int_eq(waitid(P_PID, pid, NULL, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(procfs_maps(pid, nothing, &n), 0);
	ck_assert_int_eq(n, 0);
	/* a reaped one is gone */
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_eq(procfs_maps(pid, nothing, &n), -ESRCH);
	ck_assert_int_eq(procfs_parent(pid), 0);
}
END_TEST

/* --- status, stat, meminfo --------------------------------------------------- */

START_TEST(parent_past_a_strange_name)
{
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(procfs_parent(getpid()), getppid());
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, "a) S 1 (b");
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(procfs_parent(pid), getpid());
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

START_TEST(capable_as_capget_says)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t eff;

	ck_assert_int_eq(syscall(SYS_capget, &h, d), 0);
	eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	for (int cap = 0; cap < 64; cap++)
		ck_assert_msg(procfs_capable(getpid(), cap) == (int)(eff >> cap & 1),
			      "capability %d", cap);
	ck_assert_int_eq(procfs_capable(getpid(), -1), 0);
	ck_assert_int_eq(procfs_capable(getpid(), 64), 0);
}
END_TEST

START_TEST(groups_as_getgroups_says)
{
	gid_t groups[256], other = 4242;
	int n = getgroups(256, groups);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(procfs_in_group(getpid(), groups[i]), 1);
	for (int i = 0; i < n; i++)
		if (groups[i] == other) {
			other++;
			i = -1;
		}
	ck_assert_int_eq(procfs_in_group(getpid(), other), 0);
}
END_TEST

START_TEST(meminfo_as_sysinfo_says)
{
	struct sysinfo si;

	ck_assert_int_eq(sysinfo(&si), 0);
	ck_assert_uint_eq(procfs_meminfo_kb("MemTotal"), (uint64_t)si.totalram * si.mem_unit / 1024);
	ck_assert_uint_eq(procfs_meminfo_kb("SwapTotal"),
			  (uint64_t)si.totalswap * si.mem_unit / 1024);
	ck_assert_uint_eq(procfs_meminfo_kb("Mem"), 0); /* a name is matched whole */
	ck_assert_uint_eq(procfs_meminfo_kb("NoSuchLine"), 0);
}
END_TEST

static Suite *procfs_suite(void)
{
	Suite *s = suite_create("procfs");
	TCase *tc = tcase_create("maps");

	tcase_add_test(tc, parse_file_mapping);
	tcase_add_test(tc, parse_anonymous_and_special);
	tcase_add_test(tc, parse_malformed);
	tcase_add_test(tc, maps_of_self);
	tcase_add_test(tc, maps_many);
	tcase_add_test(tc, maps_of_child);
	suite_add_tcase(s, tc);

	tc = tcase_create("status");
	tcase_add_test(tc, parent_past_a_strange_name);
	tcase_add_test(tc, capable_as_capget_says);
	tcase_add_test(tc, groups_as_getgroups_says);
	tcase_add_test(tc, meminfo_as_sysinfo_says);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(procfs_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
