/* check_sysv.c -- unit tests of core/sysv.c, System V shared memory in the
 * manager.
 *
 * The expectations are the kernel's (ipc/shm.c, ipc/util.c), checked on
 * Linux 6.x: the id scheme (cyclic indices below max(in_use * 3/2, 64),
 * the sequence number when the index comes round, 32768 * seq + index),
 * shmget's keys, flags, size rules and limits (EINVAL, ENOENT, EEXIST,
 * EACCES, ENOSPC for shmall, shmmni and the manager's size limit, ENOMEM
 * past RAM and swap), ipcperms for owner, creator, group (effective and
 * supplementary) and others, with and without CAP_IPC_OWNER; shmat's
 * checks and counts, and an undone shmat; shmdt; every shmctl command
 * (IPC_STAT, SHM_STAT by index, SHM_STAT_ANY, IPC_SET, IPC_RMID deferred
 * while attached with the key turned private, IPC_INFO, SHM_INFO,
 * SHM_LOCK with RLIMIT_MEMLOCK, SHM_UNLOCK); fork in both orders of the
 * parent's and the child's messages; and the counts taken from what
 * processes really map: this process and forked children map segments'
 * memfds for real, unmap them, exec, exit and are killed.
 *
 * Each test builds a fresh namespace (one mount, /dev/shm, memfds only)
 * and table; the capabilities, supplementary groups and memlock limit of
 * the fake callers come from the test, not from /proc.  Every test runs
 * in its own process.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sysv.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE 4096ULL
#define MiB (1ULL << 20)

static struct ns ns;
static struct sysv sv;
static int up;

/* What the fake callers are: capabilities by pid, one supplementary
 * group, a memlock limit. */
static uint64_t caps_of_root = ~0ULL;
static gid_t extra_group = (gid_t)-1;
static uint64_t memlock = UINT64_MAX;

static struct shx_cred ROOT = { .uid = 0, .gid = 0 };
static const struct shx_cred USER = { .pid = 1000001, .uid = 1000, .gid = 1000 };
static const struct shx_cred OTHER = { .pid = 1000002, .uid = 2000, .gid = 2000 };
static const struct shx_cred GROUPMATE = { .pid = 1000003, .uid = 3000, .gid = 1000 };

static int fake_capable(pid_t pid, int cap)
{
	return pid == ROOT.pid && (caps_of_root >> cap & 1);
}

static int fake_in_group(pid_t pid, gid_t gid)
{
	return pid == OTHER.pid && gid == extra_group;
}

static uint64_t fake_memlock(pid_t pid)
{
	return memlock;
}

static void start(uint64_t size_limit, uint64_t shmmax, uint64_t shmall, uint64_t shmmni)
{
	struct shx_config cfg = { .size_limit = size_limit, .nr_inodes = 1000,
				  .shmmax = shmmax, .shmall = shmall, .shmmni = shmmni };
	struct sysv_ops ops = { .capable = fake_capable, .in_group = fake_in_group,
				.memlock_limit = fake_memlock };

	ck_assert_int_eq(ns_init(&ns, &cfg, "/nonexistent"), 0);
	ck_assert_int_eq(ns_add_mount(&ns, "/dev/shm"), 0);
	ck_assert_int_eq(sysv_init(&sv, &ns, &cfg, &ops), 0);
	up = 1;
}

static void setup(void)
{
	/* the caller that maps for real is this very process */
	ROOT.pid = getpid();
	start(64 * MiB, UINT64_MAX - (1ULL << 24), UINT64_MAX - (1ULL << 24), 4096);
}

static void teardown(void)
{
	if (up) {
		sysv_destroy(&sv);
		ns_destroy(&ns);
	}
	up = 0;
}

static void restart(uint64_t size_limit, uint64_t shmmax, uint64_t shmall, uint64_t shmmni)
{
	teardown();
	start(size_limit, shmmax, shmall, shmmni);
}

static int get(const struct shx_cred *cr, int32_t key, uint64_t size, int flags)
{
	return sysv_shmget(&sv, cr, key, size, flags);
}

static int mkseg(const struct shx_cred *cr, int32_t key, uint64_t size, int mode)
{
	int id = get(cr, key, size, IPC_CREAT | IPC_EXCL | mode);

	ck_assert_int_ge(id, 0);
	return id;
}

static struct shx_shmid_ds stat_of(int id)
{
	struct shx_shmid_ds ds;

	ck_assert_int_eq(sysv_shmctl(&sv, &ROOT, id, IPC_STAT, &ds, NULL), 0);
	return ds;
}

static int ctl(const struct shx_cred *cr, int id, int cmd)
{
	struct shx_shmid_ds ds = { 0 };
	struct shx_shminfo info;

	return sysv_shmctl(&sv, cr, id, cmd, &ds, &info);
}

static int set(const struct shx_cred *cr, int id, uint32_t uid, uint32_t gid, uint32_t mode)
{
	struct shx_shmid_ds ds = { .uid = uid, .gid = gid, .mode = mode };

	return sysv_shmctl(&sv, cr, id, IPC_SET, &ds, NULL);
}

static struct sysv_seg *attach(const struct shx_cred *cr, int id, int flags)
{
	struct sysv_seg *seg = NULL;

	ck_assert_int_eq(sysv_shmat(&sv, cr, id, flags, &seg), 0);
	ck_assert_ptr_nonnull(seg);
	return seg;
}

/* sysv's record of process pid, or NULL */
static struct sysv_proc *proc_of(pid_t pid)
{
	for (int b = 0; b < SYSV_PROC_BUCKETS; b++)
		for (struct sysv_proc *p = sv.procs[b]; p; p = p->hnext)
			if (p->pid == pid)
				return p;
	return NULL;
}

/* --- ids: ipc_idr_alloc ---------------------------------------------------- */

START_TEST(ids_count_up_then_come_round)
{
	int id;

	/* made and removed one by one: indices 0..63 (the minimum cycle),
	 * then index 0 again with the next sequence number */
	for (int i = 0; i < 64; i++) {
		id = mkseg(&ROOT, IPC_PRIVATE, 100, 0600);
		ck_assert_int_eq(id, i);
		ck_assert_int_eq(ctl(&ROOT, id, IPC_RMID), 0);
	}
	id = mkseg(&ROOT, IPC_PRIVATE, 100, 0600);
	ck_assert_int_eq(id, 32768);
	ck_assert_uint_eq(stat_of(id).seq, 1);
	/* the old id of index 0 is another segment's no more */
	ck_assert_int_eq(ctl(&ROOT, 0, IPC_STAT), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, 0, IPC_RMID), -EINVAL);
	/* SHM_STAT takes the index and answers with the full id */
	ck_assert_int_eq(ctl(&ROOT, 0, SHM_STAT), 32768);
}
END_TEST

START_TEST(ids_cycle_grows_with_use)
{
	int ids[100];

	/* 64 at once take indices 0..63; the cycle is then 96 long */
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(ids[i] = mkseg(&ROOT, IPC_PRIVATE, 1, 0600), i);
	ck_assert_int_eq(mkseg(&ROOT, IPC_PRIVATE, 1, 0600), 64);
	/* a freed low index is not taken before the cursor comes round */
	ck_assert_int_eq(ctl(&ROOT, ids[3], IPC_RMID), 0);
	ck_assert_int_eq(mkseg(&ROOT, IPC_PRIVATE, 1, 0600), 65);
	ck_assert_int_eq(ctl(&ROOT, 0, IPC_INFO), 65); /* the highest index */
}
END_TEST

START_TEST(ids_wrap_to_the_free_index)
{
	int keep;

	ck_assert_int_eq(ctl(&ROOT, mkseg(&ROOT, IPC_PRIVATE, 1, 0600), IPC_RMID), 0);
	keep = mkseg(&ROOT, IPC_PRIVATE, 1, 0600);
	ck_assert_int_eq(keep, 1);
	for (int i = 2; i < 64; i++)
		ck_assert_int_eq(ctl(&ROOT, mkseg(&ROOT, IPC_PRIVATE, 1, 0600), IPC_RMID), 0);
	/* the cursor is at the end of the cycle: round to the first free
	 * index, 0, with the next sequence number; then past 1, still taken */
	ck_assert_int_eq(mkseg(&ROOT, IPC_PRIVATE, 1, 0600), 32768 + 0);
	ck_assert_int_eq(mkseg(&ROOT, IPC_PRIVATE, 1, 0600), 32768 + 2);
	ck_assert_uint_eq(stat_of(keep).seq, 0);
}
END_TEST

/* --- shmget: ipcget, newseg, shm_more_checks -------------------------------- */

START_TEST(keys)
{
	int id = get(&ROOT, 0x1234, 8192, IPC_CREAT | 0640);

	ck_assert_int_ge(id, 0);
	ck_assert_int_eq(get(&ROOT, 0x1234, 8192, IPC_CREAT | 0640), id);
	ck_assert_int_eq(get(&ROOT, 0x1234, 0, 0), id);
	ck_assert_int_eq(get(&ROOT, 0x1234, 100, 0), id); /* smaller is fine */
	ck_assert_int_eq(get(&ROOT, 0x1234, 8193, 0), -EINVAL);
	ck_assert_int_eq(get(&ROOT, 0x1234, 8193, IPC_CREAT), -EINVAL);
	ck_assert_int_eq(get(&ROOT, 0x1234, 8192, IPC_CREAT | IPC_EXCL | 0640), -EEXIST);
	/* IPC_EXCL means nothing without IPC_CREAT */
	ck_assert_int_eq(get(&ROOT, 0x1234, 8192, IPC_EXCL), id);
	ck_assert_int_eq(get(&ROOT, 0x4321, 8192, 0), -ENOENT);
	ck_assert_int_eq(get(&ROOT, 0x4321, 8192, IPC_EXCL), -ENOENT);
	/* IPC_PRIVATE always makes a new one, IPC_CREAT or not */
	ck_assert_int_ne(get(&ROOT, IPC_PRIVATE, 10, 0), get(&ROOT, IPC_PRIVATE, 10, 0));
	/* keys that only differ in their sign are different keys */
	ck_assert_int_eq(get(&ROOT, -0x1234, 10, 0), -ENOENT);
}
END_TEST

START_TEST(created_fields)
{
	struct shx_cred me = USER;
	struct shx_shmid_ds ds;
	int id = mkseg(&me, 0x77, 5000, 0640);

	ck_assert_int_eq(sysv_shmctl(&sv, &me, id, IPC_STAT, &ds, NULL), 0);
	ck_assert_int_eq(ds.key, 0x77);
	ck_assert_int_eq(ds.id, id);
	ck_assert_uint_eq(ds.mode, 0640);
	ck_assert_uint_eq(ds.uid, 1000);
	ck_assert_uint_eq(ds.cuid, 1000);
	ck_assert_uint_eq(ds.gid, 1000);
	ck_assert_uint_eq(ds.cgid, 1000);
	ck_assert_uint_eq(ds.segsz, 5000); /* as asked, not in pages */
	ck_assert_int_eq(ds.cpid, USER.pid);
	ck_assert_int_eq(ds.lpid, 0);
	ck_assert_int_eq(ds.atime, 0);
	ck_assert_int_eq(ds.dtime, 0);
	ck_assert_int_le(ds.ctime, ns_now() / 1000000000);
	ck_assert_int_ge(ds.ctime, ns_now() / 1000000000 - 5);
	ck_assert_uint_eq(ds.nattch, 0);
	/* only the permission bits of shmflg make the mode */
	id = mkseg(&me, IPC_PRIVATE, 1, 0777 | SHM_NORESERVE);
	ck_assert_uint_eq(stat_of(id).mode, 0777);
}
END_TEST

START_TEST(size_rules)
{
	restart(64 * MiB, 1 * MiB, 300, 4096);
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 0, 0600), -EINVAL);
	ck_assert_int_eq(get(&ROOT, 5, 0, IPC_CREAT | 0600), -EINVAL);
	ck_assert_int_ge(get(&ROOT, IPC_PRIVATE, 1, 0600), 0);
	ck_assert_int_ge(get(&ROOT, IPC_PRIVATE, 1 * MiB, 0600), 0);
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 1 * MiB + 1, 0600), -EINVAL);
	/* shmall counts pages: 1 + 256 are taken of 300 */
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 44 * PAGE, 0600), -ENOSPC);
	ck_assert_int_ge(get(&ROOT, IPC_PRIVATE, 43 * PAGE, 0600), 0);
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 1, 0600), -ENOSPC);
	/* a size whose page count wraps */
	restart(0, UINT64_MAX, UINT64_MAX, 4096);
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, UINT64_MAX, 0600), -ENOSPC);
	/* past what a file can be: MAX_LFS_FILESIZE */
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, (uint64_t)INT64_MAX + 1, 0600), -EINVAL);
}
END_TEST

START_TEST(shmmni_limit)
{
	restart(64 * MiB, UINT64_MAX, UINT64_MAX, 3);
	for (int i = 0; i < 3; i++)
		mkseg(&ROOT, IPC_PRIVATE, 1, 0600);
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 1, 0600), -ENOSPC);
	ck_assert_int_eq(get(&ROOT, 99, 1, IPC_CREAT | 0600), -ENOSPC);
	/* and the failed ones left nothing: three objects, no more */
	ck_assert_uint_eq(ns.objects, 3);
	ck_assert_uint_eq(ns.size_used, 3 * PAGE);
}
END_TEST

START_TEST(size_limit_is_enospc)
{
	/* the manager's limit is paid at shmget: ENOSPC, never a fault later */
	restart(1 * MiB, UINT64_MAX, UINT64_MAX, 4096);
	ck_assert_int_ge(get(&ROOT, IPC_PRIVATE, 512 * 1024, 0600), 0);
	ck_assert_uint_eq(ns.size_used, 512 * 1024);
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 512 * 1024 + 1, 0600), -ENOSPC);
	ck_assert_uint_eq(ns.size_used, 512 * 1024);
	ck_assert_uint_eq(ns.objects, 1);
	ck_assert_int_ge(get(&ROOT, IPC_PRIVATE, 512 * 1024, 0600), 0);
	ck_assert_uint_eq(ns.size_used, 1 * MiB);
}
END_TEST

START_TEST(more_than_memory_is_enomem)
{
	struct sysinfo si;
	uint64_t all;

	ck_assert_int_eq(sysinfo(&si), 0);
	if (sv.overcommit != 0)
		return; /* the heuristic applies in vm.overcommit_memory=0 only */
	restart(0, UINT64_MAX, UINT64_MAX, 4096);
	all = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, all + 2 * PAGE, 0600), -ENOMEM);
	/* SHM_NORESERVE is not accounted (and the manager has no limit) */
	ck_assert_int_ge(get(&ROOT, IPC_PRIVATE, all + 2 * PAGE, 0600 | SHM_NORESERVE), 0);
}
END_TEST

START_TEST(hugetlb)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	unsigned long free_pages = 1;

	if (f) {
		ck_assert_int_eq(fscanf(f, "%lu", &free_pages), 1);
		fclose(f);
	}
	/* a huge page size the machine does not have */
	ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 1, SHM_HUGETLB | (int)(63U << 26) | 0600), -EINVAL);
	if (free_pages == 0)
		ck_assert_int_eq(get(&ROOT, IPC_PRIVATE, 2 * MiB, SHM_HUGETLB | 0600), -ENOMEM);
}
END_TEST

/* --- ipcperms -------------------------------------------------------------- */

START_TEST(permissions)
{
	struct sysv_seg *seg;
	int id = mkseg(&USER, 0x55, 4096, 0640);

	/* owner: rw; group member by gid: r; others: nothing */
	ck_assert_int_eq(get(&USER, 0x55, 0, 0600), id);
	ck_assert_int_eq(get(&GROUPMATE, 0x55, 0, 0400), id);
	ck_assert_int_eq(get(&GROUPMATE, 0x55, 0, 0600), -EACCES);
	ck_assert_int_eq(get(&GROUPMATE, 0x55, 0, 0040), id); /* any class asks: mode >> 3 */
	ck_assert_int_eq(get(&OTHER, 0x55, 0, 0400), -EACCES);
	ck_assert_int_eq(get(&OTHER, 0x55, 0, 0), id); /* asking for nothing */
	ck_assert_int_eq(get(&OTHER, 0x55, 0, IPC_CREAT), id);
	/* a supplementary group counts as the group */
	extra_group = 1000;
	ck_assert_int_eq(get(&OTHER, 0x55, 0, 0400), id);
	extra_group = (gid_t)-1;
	/* shmat: read for SHM_RDONLY, read and write otherwise, exec too
	 * with SHM_EXEC */
	ck_assert_int_eq(sysv_shmat(&sv, &GROUPMATE, id, 0, &seg), -EACCES);
	ck_assert_int_eq(sysv_shmat(&sv, &GROUPMATE, id, SHM_RDONLY, &seg), 0);
	ck_assert_int_eq(sysv_shmat(&sv, &USER, id, SHM_EXEC, &seg), -EACCES);
	ck_assert_int_eq(sysv_shmat(&sv, &OTHER, id, SHM_RDONLY, &seg), -EACCES);
	/* IPC_STAT and SHM_STAT need read access; SHM_STAT_ANY does not */
	ck_assert_int_eq(ctl(&OTHER, id, IPC_STAT), -EACCES);
	ck_assert_int_eq(ctl(&OTHER, id, SHM_STAT), -EACCES);
	ck_assert_int_eq(ctl(&OTHER, id, SHM_STAT_ANY), id);
	ck_assert_int_eq(ctl(&GROUPMATE, id, IPC_STAT), 0);
	/* root passes by CAP_IPC_OWNER, and only by it */
	ck_assert_int_eq(get(&ROOT, 0x55, 0, 0666), id);
	caps_of_root = ~0ULL & ~(1ULL << SYSV_CAP_IPC_OWNER);
	ck_assert_int_eq(get(&ROOT, 0x55, 0, 0444), -EACCES);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_STAT), -EACCES);
}
END_TEST

START_TEST(owner_and_creator)
{
	int id = mkseg(&USER, IPC_PRIVATE, 4096, 0600);

	/* IPC_SET and IPC_RMID: owner, creator or CAP_SYS_ADMIN */
	ck_assert_int_eq(set(&OTHER, id, 2000, 2000, 0666), -EPERM);
	ck_assert_int_eq(ctl(&OTHER, id, IPC_RMID), -EPERM);
	/* the creator keeps its rights after giving the segment away, and
	 * the new owner has them too */
	ck_assert_int_eq(set(&USER, id, 2000, 2000, 0600), 0);
	ck_assert_uint_eq(stat_of(id).uid, 2000);
	ck_assert_uint_eq(stat_of(id).cuid, 1000);
	ck_assert_int_eq(set(&USER, id, 1000, 1000, 0600), 0);
	ck_assert_int_eq(set(&USER, id, 2000, 2000, 0000), 0);
	/* the owner by uid, with mode 0: ipcperms as owner fails */
	ck_assert_int_eq(ctl(&OTHER, id, IPC_STAT), -EACCES);
	ck_assert_int_eq(set(&OTHER, id, 2000, 2000, 0600), 0);
	ck_assert_int_eq(ctl(&OTHER, id, IPC_STAT), 0);
	caps_of_root = 1ULL << SYSV_CAP_SYS_ADMIN;
	ck_assert_int_eq(set(&ROOT, id, 2000, 2000, 0644), 0);
	caps_of_root = 0;
	ck_assert_int_eq(ctl(&ROOT, id, IPC_RMID), -EPERM);
	ck_assert_int_eq(ctl(&USER, id, IPC_RMID), 0);
}
END_TEST

START_TEST(ipc_set)
{
	struct shx_shmid_ds ds;
	int id = mkseg(&ROOT, 0x66, 4096, 0600);

	ck_assert_int_eq(set(&ROOT, id, 12, 34, 07777), 0);
	ds = stat_of(id);
	ck_assert_uint_eq(ds.uid, 12);
	ck_assert_uint_eq(ds.gid, 34);
	ck_assert_uint_eq(ds.mode, 0777); /* only the permissions */
	ck_assert_uint_eq(ds.cuid, 0);
	ck_assert_int_ge(ds.ctime, ns_now() / 1000000000 - 5);
	/* (uid_t)-1 is not an id */
	ck_assert_int_eq(set(&ROOT, id, (uint32_t)-1, 0, 0600), -EINVAL);
	ck_assert_int_eq(set(&ROOT, id, 0, (uint32_t)-1, 0600), -EINVAL);
	ck_assert_uint_eq(stat_of(id).uid, 12);
	/* SHM_DEST and SHM_LOCKED are not the caller's to set or clear */
	ck_assert_int_eq(ctl(&ROOT, id, SHM_LOCK), 0);
	ck_assert_int_eq(set(&ROOT, id, 0, 0, 0), 0);
	ck_assert_uint_eq(stat_of(id).mode, SYSV_LOCKED);
	ck_assert_int_eq(set(&ROOT, id + 1, 0, 0, 0), -EINVAL);
}
END_TEST

/* --- shmctl --------------------------------------------------------------- */

START_TEST(ctl_errors)
{
	int id = mkseg(&ROOT, IPC_PRIVATE, 4096, 0600);

	ck_assert_int_eq(ctl(&ROOT, -1, IPC_STAT), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, id, -1), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, id, 99), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, -1, IPC_INFO), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, id + 1, IPC_STAT), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, id + 1, SHM_LOCK), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, id + 32768, IPC_STAT), -EINVAL); /* another seq */
	ck_assert_int_eq(ctl(&ROOT, id + 32768, SHM_STAT), id);	     /* the index is id's */
	ck_assert_int_eq(ctl(&ROOT, 5, SHM_STAT), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, 40000, SHM_STAT_ANY), -EINVAL);
}
END_TEST

START_TEST(info)
{
	struct shx_shminfo info;
	struct shx_shmid_ds ds;

	restart(64 * MiB, 1 * MiB, 5000, 17);
	ck_assert_int_eq(sysv_shmctl(&sv, &ROOT, 0, IPC_INFO, &ds, &info), 0);
	ck_assert_uint_eq(info.shmmax, 1 * MiB);
	ck_assert_uint_eq(info.shmmin, 1);
	ck_assert_uint_eq(info.shmmni, 17);
	ck_assert_uint_eq(info.shmseg, 17);
	ck_assert_uint_eq(info.shmall, 5000);
	ck_assert_uint_eq(info.used_ids, 0);
	mkseg(&ROOT, IPC_PRIVATE, 100, 0600);
	mkseg(&ROOT, 7, 3 * PAGE + 1, 0600);
	/* any shmid (not below 0) will do; the result is the highest index */
	ck_assert_int_eq(sysv_shmctl(&sv, &ROOT, 12345, SHM_INFO, &ds, &info), 1);
	ck_assert_uint_eq(info.used_ids, 2);
	ck_assert_uint_eq(info.shm_tot, 1 + 4);
	ck_assert_uint_eq(info.shm_rss, 0); /* nothing touched */
}
END_TEST

START_TEST(rmid_unattached)
{
	int id = mkseg(&ROOT, 0x88, 4096, 0600);

	ck_assert_uint_eq(ns.objects, 1);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_RMID), 0);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_STAT), -EINVAL);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_RMID), -EINVAL);
	ck_assert_int_eq(get(&ROOT, 0x88, 0, 0), -ENOENT);
	ck_assert_uint_eq(ns.objects, 0);
	ck_assert_uint_eq(ns.size_used, 0);
	ck_assert_int_eq(ctl(&ROOT, 0, IPC_INFO), 0);
}
END_TEST

/* This process maps the segment's memfd as a client would. */
static void *map(struct sysv_seg *seg)
{
	void *p = mmap(NULL, seg->segsz, PROT_READ | PROT_WRITE, MAP_SHARED, seg->ip->memfd, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

START_TEST(rmid_attached_is_deferred)
{
	struct shx_cred me = USER;
	struct shx_shmid_ds ds;
	struct sysv_seg *seg;
	int id, id2;
	void *m1, *m2;

	me.pid = getpid();
	id = mkseg(&me, 0x99, 4096, 0600);
	seg = attach(&me, id, 0);
	m1 = map(seg);
	ck_assert_int_eq(ctl(&me, id, IPC_RMID), 0);
	ds = stat_of(id);
	ck_assert_uint_eq(ds.mode, 0600 | SYSV_DEST);
	ck_assert_int_eq(ds.key, IPC_PRIVATE); /* the key is free for another */
	ck_assert_uint_eq(ds.nattch, 1);
	ck_assert_int_eq(get(&me, 0x99, 0, 0), -ENOENT);
	id2 = mkseg(&me, 0x99, 4096, 0600);
	ck_assert_int_ne(id2, id);
	/* removed twice is still removed; attaching it is still possible */
	ck_assert_int_eq(ctl(&me, id, IPC_RMID), 0);
	attach(&me, id, 0);
	m2 = map(seg);
	ck_assert_uint_eq(stat_of(id).nattch, 2);
	munmap(m2, 4096);
	sysv_shmdt(&sv, &me, id, seg->ip->ino, 1);
	ck_assert_uint_eq(stat_of(id).nattch, 1);
	ck_assert_int_eq(stat_of(id).lpid, me.pid);
	munmap(m1, 4096);
	sysv_shmdt(&sv, &me, id, seg->ip->ino, 0);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_STAT), -EINVAL);
	ck_assert_uint_eq(ns.objects, 1); /* id2's */
	ck_assert_uint_eq(stat_of(id2).nattch, 0);
}
END_TEST

/* Counts as the clients tell them, before any look at their maps (the
 * callers' pids are made up: a look would find them gone). */
START_TEST(shmat_counts)
{
	struct sysv_seg *seg;
	int id = mkseg(&ROOT, IPC_PRIVATE, 4096, 0600);

	ck_assert_int_eq(sysv_shmat(&sv, &USER, -1, 0, &seg), -EINVAL);
	ck_assert_int_eq(sysv_shmat(&sv, &USER, id + 1, 0, &seg), -EINVAL);
	ck_assert_int_eq(sysv_shmat(&sv, &USER, id, 0, &seg), -EACCES);
	ck_assert_int_eq(set(&ROOT, id, 0, 0, 0666), 0);
	seg = attach(&USER, id, 0);
	attach(&OTHER, id, SHM_RDONLY);
	ck_assert_uint_eq(seg->nattch, 2);
	ck_assert_int_eq(seg->lpid, OTHER.pid);
	ck_assert_int_ge(seg->atime, ns_now() / 1000000000 - 5);
	ck_assert_int_eq(seg->dtime, 0);
	/* a detach of a segment that is gone, or another, is ignored */
	sysv_shmdt(&sv, &USER, id, seg->ip->ino + 1, 0);
	sysv_shmdt(&sv, &USER, id + 1, seg->ip->ino, 0);
	ck_assert_uint_eq(seg->nattch, 2);
	sysv_shmdt(&sv, &USER, id, seg->ip->ino, 0);
	ck_assert_uint_eq(seg->nattch, 1);
	ck_assert_int_eq(seg->lpid, USER.pid);
	ck_assert_int_ge(seg->dtime, seg->atime);
	/* one of two attachments of one process goes; the other stays
	 * counted even if the count was short */
	attach(&USER, id, 0);
	attach(&USER, id, 0);
	sysv_shmdt(&sv, &USER, id, seg->ip->ino, 1);
	ck_assert_uint_eq(seg->nattch, 2);
	sysv_shmdt(&sv, &USER, id, seg->ip->ino, 5);
	ck_assert_uint_eq(seg->nattch, 2);
}
END_TEST

START_TEST(shmat_undo)
{
	struct sysv_seg *seg;
	int id = mkseg(&USER, IPC_PRIVATE, 4096, 0600);
	int64_t atime;
	pid_t lpid;

	seg = attach(&USER, id, 0);
	atime = seg->atime;
	lpid = seg->lpid;
	seg->atime -= 100; /* so that a change shows */
	atime -= 100;
	attach(&USER, id, 0);
	ck_assert_int_ne(seg->atime, atime);
	sysv_shmat_undo(&sv, &USER, id, seg->ip->ino);
	ck_assert_uint_eq(seg->nattch, 1);
	ck_assert_int_eq(seg->atime, atime);
	ck_assert_int_eq(seg->lpid, lpid);
	ck_assert_int_eq(seg->dtime, 0);
	/* the last one undone on a removed segment takes it away */
	sysv_shmdt(&sv, &USER, id, seg->ip->ino, 0);
	attach(&USER, id, 0);
	seg->mode |= SYSV_DEST; /* as IPC_RMID leaves it (which would look at the maps) */
	sysv_shmat_undo(&sv, &USER, id, seg->ip->ino);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_STAT), -EINVAL);
	ck_assert_uint_eq(ns.objects, 0);
}
END_TEST

START_TEST(shm_lock)
{
	struct shx_cred me = USER;
	int a = mkseg(&me, IPC_PRIVATE, 3 * PAGE, 0600), b = mkseg(&me, IPC_PRIVATE, 2 * PAGE, 0600);

	/* not the owner or creator, and no CAP_IPC_LOCK */
	ck_assert_int_eq(ctl(&OTHER, a, SHM_LOCK), -EPERM);
	ck_assert_int_eq(ctl(&OTHER, a, SHM_UNLOCK), -EPERM);
	memlock = 0;
	ck_assert_int_eq(ctl(&me, a, SHM_LOCK), -EPERM);
	ck_assert_int_eq(ctl(&me, a, SHM_UNLOCK), 0); /* not locked: nothing to do */
	memlock = 4 * PAGE;
	ck_assert_int_eq(ctl(&me, a, SHM_LOCK), 0);
	ck_assert_uint_eq(stat_of(a).mode, 0600 | SYSV_LOCKED);
	ck_assert_int_eq(ctl(&me, a, SHM_LOCK), 0); /* again: no more pages */
	ck_assert_int_eq(ctl(&me, b, SHM_LOCK), -ENOMEM); /* 3 + 2 > 4 */
	ck_assert_uint_eq(stat_of(b).mode, 0600);
	ck_assert_int_eq(ctl(&me, a, SHM_UNLOCK), 0);
	ck_assert_uint_eq(stat_of(a).mode, 0600);
	ck_assert_int_eq(ctl(&me, b, SHM_LOCK), 0);
	/* a removed locked segment gives its pages back */
	ck_assert_int_eq(ctl(&me, b, IPC_RMID), 0);
	ck_assert_int_eq(ctl(&me, a, SHM_LOCK), 0);
	/* with CAP_IPC_LOCK: anyone, no limit */
	caps_of_root = 1ULL << SYSV_CAP_IPC_LOCK;
	memlock = 0;
	ck_assert_int_eq(ctl(&ROOT, mkseg(&me, IPC_PRIVATE, 100 * PAGE, 0600), SHM_LOCK), 0);
}
END_TEST

/* --- fork ------------------------------------------------------------------ */

START_TEST(fork_parent_first)
{
	struct shx_cred child = { .pid = 1000009, .uid = 1000, .gid = 1000 };
	struct sysv_seg *seg;
	int id = mkseg(&USER, IPC_PRIVATE, 4096, 0600);

	seg = attach(&USER, id, 0);
	attach(&USER, id, 0);
	/* a pid that is no process: the child has gone already */
	ck_assert_int_eq(sysv_fork(&sv, USER.pid, child.pid), 0);
	ck_assert_uint_eq(seg->nattch, 2);
	/* a live child (this process, as far as sysv can tell) */
	child.pid = getpid();
	ck_assert_int_eq(sysv_fork(&sv, USER.pid, child.pid), 0);
	ck_assert_int_eq(sysv_fork(&sv, USER.pid, child.pid), 0); /* said twice */
	sysv_fork_child(&sv, child.pid, USER.pid); /* the child's word comes after */
	ck_assert_uint_eq(sv.in_use, 1);
	ck_assert_uint_eq(seg->nattch, 4);
	/* the parent maps for the child, in dup_mmap */
	ck_assert_int_eq(seg->lpid, USER.pid);
	sysv_shmdt(&sv, &child, id, seg->ip->ino, 1);
	ck_assert_uint_eq(seg->nattch, 3);
}
END_TEST

START_TEST(fork_child_first)
{
	struct shx_cred child = { .pid = getpid(), .uid = 1000, .gid = 1000 };
	struct sysv_seg *seg;
	int id = mkseg(&USER, IPC_PRIVATE, 4096, 0600);

	seg = attach(&USER, id, 0);
	/* the child speaks first, then detaches, before the parent's word */
	sysv_fork_child(&sv, child.pid, USER.pid);
	ck_assert_uint_eq(seg->nattch, 2);
	sysv_shmdt(&sv, &child, id, seg->ip->ino, 0);
	ck_assert_uint_eq(seg->nattch, 1);
	ck_assert_int_eq(sysv_fork(&sv, USER.pid, child.pid), 0);
	ck_assert_uint_eq(seg->nattch, 1); /* not counted again */
	/* the child, done with waiting, has nothing to be looked at for */
	ck_assert_ptr_nonnull(proc_of(child.pid));
	ck_assert(!proc_of(child.pid)->unsure);
	ck_assert(!proc_of(child.pid)->await_parent);
}
END_TEST

START_TEST(inherit_unreported_fork)
{
	struct shx_cred child = { .pid = getpid(), .uid = 1000, .gid = 1000 };
	struct sysv_seg *seg;
	int id = mkseg(&USER, IPC_PRIVATE, 4096, 0600);

	seg = attach(&USER, id, 0);
	sysv_inherit(&sv, &child, id, seg->ip->ino, USER.pid);
	ck_assert_uint_eq(seg->nattch, 2);
	ck_assert_int_eq(seg->lpid, USER.pid);
	sysv_inherit(&sv, &child, id, seg->ip->ino + 1, USER.pid); /* not that segment */
	ck_assert_uint_eq(seg->nattch, 2);
}
END_TEST

/* --- what processes really map --------------------------------------------- */

START_TEST(counts_follow_the_maps)
{
	struct shx_shmid_ds ds;
	struct sysv_seg *seg;
	int id = mkseg(&ROOT, IPC_PRIVATE, 3 * PAGE, 0600);
	char *p;

	seg = attach(&ROOT, id, 0);
	p = map(seg);
	ck_assert_uint_eq(stat_of(id).nattch, 1);
	/* unmapping the middle splits the mapping in two (the kernel
	 * counts VMAs) */
	ck_assert_int_eq(munmap(p + PAGE, PAGE), 0);
	ck_assert_uint_eq(stat_of(id).nattch, 2);
	/* unmapped without shmdt: the next look sees it */
	ck_assert_int_eq(munmap(p, 3 * PAGE), 0);
	ds = stat_of(id);
	ck_assert_uint_eq(ds.nattch, 0);
	ck_assert_int_eq(ds.lpid, getpid());
	ck_assert_int_ge(ds.dtime, ds.atime);
	/* a connection that closes makes sysv look too; a removed segment
	 * goes at its last unmapping */
	seg = attach(&ROOT, id, 0);
	p = map(seg);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_RMID), 0);
	sysv_conn_closed(&sv, getpid());
	ck_assert_uint_eq(stat_of(id).nattch, 1);
	munmap(p, 3 * PAGE);
	sysv_conn_closed(&sv, getpid());
	ck_assert_int_eq(ctl(&ROOT, id, IPC_STAT), -EINVAL);
	ck_assert_uint_eq(ns.objects, 0);
}
END_TEST

START_TEST(rmid_looks_before_it_decides)
{
	struct sysv_seg *seg;
	int id = mkseg(&ROOT, IPC_PRIVATE, PAGE, 0600);

	/* said to be attached, not mapped: IPC_RMID destroys at once, as the
	 * kernel does when nothing maps it */
	seg = attach(&ROOT, id, 0);
	ck_assert_uint_eq(seg->nattch, 1);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_RMID), 0);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_STAT), -EINVAL);
}
END_TEST

/* A child that maps seg and waits; returns its pid, the pipe end to stop
 * it at *stop. */
static pid_t mapping_child(struct sysv_seg *seg, int *stop, int exec_after)
{
	int ready[2], go[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		void *p = mmap(NULL, seg->segsz, PROT_READ, MAP_SHARED, seg->ip->memfd, 0);

		close(ready[0]);
		close(go[1]);
		if (p == MAP_FAILED || write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) == 1 && exec_after)
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*stop = go[1];
	return pid;
}

START_TEST(exit_and_kill)
{
	struct shx_cred child = ROOT;
	struct sysv_seg *seg;
	int id = mkseg(&ROOT, IPC_PRIVATE, PAGE, 0600), stop, st;
	pid_t pid;

	seg = attach(&ROOT, id, 0);
	/* a child that maps it, registered as a fork child would be (it
	 * inherits the attachment, that is not mapped yet), then its own */
	pid = mapping_child(seg, &stop, 0);
	child.pid = pid;
	ck_assert_int_eq(sysv_fork(&sv, ROOT.pid, pid), 0);
	attach(&child, id, SHM_RDONLY);
	ck_assert_uint_eq(seg->nattch, 3);
	map(seg);
	ck_assert_uint_eq(stat_of(id).nattch, 2);
	/* killed: a zombie maps nothing */
	kill(pid, SIGKILL);
	usleep(100000);
	ck_assert_uint_eq(stat_of(id).nattch, 1);
	ck_assert_int_eq(stat_of(id).lpid, pid);
	waitpid(pid, &st, 0);
	close(stop);
	/* exits: its pidfd says so */
	pid = mapping_child(seg, &stop, 0);
	child.pid = pid;
	attach(&child, id, SHM_RDONLY);
	ck_assert_uint_eq(seg->nattch, 2);
	close(stop);
	waitpid(pid, &st, 0);
	ck_assert_ptr_nonnull(proc_of(pid));
	sysv_proc_exited(proc_of(pid));
	ck_assert_uint_eq(seg->nattch, 1);
	ck_assert_ptr_null(proc_of(pid));
}
END_TEST

START_TEST(exec_drops_the_mappings)
{
	struct shx_cred child = ROOT;
	struct sysv_seg *seg;
	int id = mkseg(&ROOT, IPC_PRIVATE, PAGE, 0600), stop, st;
	pid_t pid;

	seg = attach(&ROOT, id, 0);
	pid = mapping_child(seg, &stop, 1);
	child.pid = pid;
	attach(&child, id, SHM_RDONLY);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_RMID), 0);
	ck_assert_uint_eq(stat_of(id).nattch, 1); /* this process maps nothing */
	/* the child execs: its connections would close; the segment goes */
	ck_assert_int_eq(write(stop, "x", 1), 1);
	usleep(200000);
	sysv_conn_closed(&sv, pid);
	ck_assert_int_eq(ctl(&ROOT, id, IPC_STAT), -EINVAL);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(stop);
}
END_TEST

START_TEST(poll_looks_at_the_unsure)
{
	struct sysv_seg *seg;
	struct sysv_proc *p;
	int id = mkseg(&ROOT, IPC_PRIVATE, PAGE, 0600);
	char *m;

	seg = attach(&ROOT, id, 0);
	m = map(seg);
	/* a connection closed: sysv is unsure of this process from now */
	sysv_conn_closed(&sv, getpid());
	ck_assert(sysv_wants_poll(&sv));
	munmap(m, PAGE);
	sysv_poll(&sv); /* not yet due */
	ck_assert_uint_eq(seg->nattch, 1);
	p = proc_of(getpid());
	ck_assert_ptr_nonnull(p);
	p->next_check_ns = 0;
	sysv_poll(&sv);
	ck_assert_uint_eq(seg->nattch, 0);
	ck_assert(!sysv_wants_poll(&sv));
}
END_TEST

START_TEST(listing)
{
	struct shx_shmid_ds ds;
	int idx = 0, a = mkseg(&ROOT, 1, 1, 0600), b = mkseg(&ROOT, 2, 1, 0600);

	ck_assert_int_eq(ctl(&ROOT, a, IPC_RMID), 0);
	mkseg(&ROOT, 3, 1, 0600);
	ck_assert_int_eq(sysv_next(&sv, &idx, &ds), 1);
	ck_assert_int_eq(ds.id, b);
	ck_assert_int_eq(sysv_next(&sv, &idx, &ds), 1);
	ck_assert_int_eq(ds.key, 3);
	ck_assert_int_eq(sysv_next(&sv, &idx, &ds), 0);
	ck_assert_int_eq(sysv_next(&sv, &idx, &ds), 0);
}
END_TEST

static Suite *sysv_suite(void)
{
	Suite *s = suite_create("sysv");
	TCase *tc;

	tc = tcase_create("ids");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ids_count_up_then_come_round);
	tcase_add_test(tc, ids_cycle_grows_with_use);
	tcase_add_test(tc, ids_wrap_to_the_free_index);
	suite_add_tcase(s, tc);

	tc = tcase_create("shmget");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, keys);
	tcase_add_test(tc, created_fields);
	tcase_add_test(tc, size_rules);
	tcase_add_test(tc, shmmni_limit);
	tcase_add_test(tc, size_limit_is_enospc);
	tcase_add_test(tc, more_than_memory_is_enomem);
	tcase_add_test(tc, hugetlb);
	suite_add_tcase(s, tc);

	tc = tcase_create("permissions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, permissions);
	tcase_add_test(tc, owner_and_creator);
	tcase_add_test(tc, ipc_set);
	suite_add_tcase(s, tc);

	tc = tcase_create("shmctl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ctl_errors);
	tcase_add_test(tc, info);
	tcase_add_test(tc, rmid_unattached);
	tcase_add_test(tc, rmid_attached_is_deferred);
	tcase_add_test(tc, shm_lock);
	tcase_add_test(tc, listing);
	suite_add_tcase(s, tc);

	tc = tcase_create("attach");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, shmat_counts);
	tcase_add_test(tc, shmat_undo);
	tcase_add_test(tc, fork_parent_first);
	tcase_add_test(tc, fork_child_first);
	tcase_add_test(tc, inherit_unreported_fork);
	suite_add_tcase(s, tc);

	tc = tcase_create("maps");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, counts_follow_the_maps);
	tcase_add_test(tc, rmid_looks_before_it_decides);
	tcase_add_test(tc, exit_and_kill);
	tcase_add_test(tc, exec_drops_the_mappings);
	tcase_add_test(tc, poll_looks_at_the_unsure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sysv_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
