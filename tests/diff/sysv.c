/* tests/diff/sysv.c -- the System V shared memory scenarios of the
 * differential test (listed in sysv.def, run from the same table as the
 * others).  Natively they use the kernel's own segments; under the
 * preload, the manager's.
 *
 * The kernel's key and id space is shared with everything else on the
 * machine, so nothing printed depends on it: keys are the scenario's own
 * (derived from its object names, which carry the run's tag) and are
 * printed as "K+n"; ids, pids and addresses only as relations ("id#1",
 * "child1", "where=given"); the namespace-wide figures of IPC_INFO and
 * SHM_INFO only as comparisons.  The runner removes, and reports, any
 * segment a scenario leaves behind (shx-diff.c, sweep_sysv).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "diff.h"

#define FAIL ((void *)-1)

/* --- keys, ids and pids as the output names them ------------------------- */

key_t sysv_key_base_of(const char *prefix)
{
	uint32_t h = 2166136261u;

	for (const char *p = prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	/* a positive key, never IPC_PRIVATE, with 256 free below the next */
	return (key_t)(0x10000000u + (h % 0x6fff0000u)) & ~0xff;
}

static key_t base(void)
{
	static key_t b;

	if (!b)
		b = sysv_key_base_of(objname(""));
	return b;
}

static key_t K(int k)
{
	return base() + k;
}

static const char *keyn(key_t k)
{
	if (k == IPC_PRIVATE)
		return "private";
	if (k >= base() && k < base() + 256)
		return fmt("K+%d", k - base());
	return fmt("other");
}

/* ids in order of first appearance */
static int ids[64], nids;

static const char *idn(int id)
{
	int i;

	for (i = 0; i < nids; i++)
		if (ids[i] == id)
			return fmt("id#%d", i + 1);
	if (nids == 64)
		return "id#?";
	ids[nids++] = id;
	return fmt("id#%d", nids);
}

/* the scenario's process is "main", its children child1, child2...
 * (both sides number them alike) */
static pid_t main_pid, kids[8];
static int nkids;

static const char *pidn(pid_t p)
{
	if (p == 0)
		return "0";
	if (p == main_pid)
		return "main";
	for (int i = 0; i < nkids; i++)
		if (kids[i] == p)
			return fmt("child%d", i + 1);
	return "other";
}

/* a time: 0, or one of the last minute's */
static const char *when(time_t t)
{
	time_t now = time(NULL);

	return t == 0 ? "0" : t <= now && t > now - 60 ? "now" : "odd";
}

static void start(void)
{
	if (!main_pid)
		main_pid = getpid();
}

/* --- observations ---------------------------------------------------------- */

static int obs_get(const char *label, key_t key, size_t size, int flags)
{
	int e, id;

	start();
	id = shmget(key, size, flags);
	e = errno;
	if (id < 0)
		obs("%s: ret=-1 errno=%s", label, errname(e));
	else
		obs("%s: ret=%s", label, idn(id));
	return id;
}

static void obs_ds(const char *label, int r, const struct shmid_ds *d)
{
	int e = errno;

	if (r < 0) {
		obs("%s: ret=-1 errno=%s", label, errname(e));
		return;
	}
	obs("%s: ret=%s key=%s mode=%04o segsz=%zu nattch=%lu uid=%u gid=%u cuid=%u cgid=%u "
	    "cpid=%s lpid=%s atime=%s dtime=%s ctime=%s",
	    label, r == 0 ? "0" : idn(r), keyn(d->shm_perm.__key), (unsigned)d->shm_perm.mode,
	    d->shm_segsz, (unsigned long)d->shm_nattch, d->shm_perm.uid, d->shm_perm.gid,
	    d->shm_perm.cuid, d->shm_perm.cgid, pidn(d->shm_cpid), pidn(d->shm_lpid),
	    when(d->shm_atime), when(d->shm_dtime), when(d->shm_ctime));
}

static void obs_st(const char *label, int id)
{
	struct shmid_ds d;

	memset(&d, 0, sizeof(d));
	obs_ds(label, shmctl(id, IPC_STAT, &d), &d);
}

/* just the attach count */
static void obs_nattch(const char *label, int id)
{
	struct shmid_ds d;
	int r = shmctl(id, IPC_STAT, &d);

	if (r < 0)
		obs_ret(label, r);
	else
		obs("%s: nattch=%lu", label, (unsigned long)d.shm_nattch);
}

/* shmat; with an address, where the segment landed */
static void *obs_at(const char *label, int id, const void *addr, int flags)
{
	void *p = shmat(id, addr, flags);
	int e = errno;
	uintptr_t a = (uintptr_t)addr;

	if (p == FAIL)
		obs("%s: ret=-1 errno=%s", label, errname(e));
	else if (!addr)
		obs("%s: ret=addr", label);
	else
		obs("%s: ret=addr where=%s", label,
		    (uintptr_t)p == a ? "given" : (uintptr_t)p == (a & ~(PAGE - 1)) ? "rounded"
										: "elsewhere");
	return p == FAIL ? NULL : p;
}

static void obs_dt(const char *label, const void *addr)
{
	obs_ret(label, shmdt(addr));
}

static void obs_ctl(const char *label, int id, int cmd)
{
	obs_ret(label, shmctl(id, cmd, NULL));
}

/* the permissions column of the mapping at p in /proc/self/maps */
static void obs_perms(const char *label, const void *p)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	char perms[8] = "none";

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && (uintptr_t)p >= lo &&
		    (uintptr_t)p < hi)
			break;
		else
			strcpy(perms, "none");
	if (f)
		fclose(f);
	obs("%s: %s", label, perms);
}

/* is anything mapped at p? */
static void obs_mapped(const char *label, const void *p)
{
	obs("%s: %s", label, msync((void *)p, PAGE, MS_ASYNC) == 0 ? "yes" : errname(errno));
}

static int mkseg(key_t key, size_t size, int mode)
{
	int id;

	start();
	id = shmget(key, size, IPC_CREAT | IPC_EXCL | mode);
	if (id < 0)
		obs("setup: shmget: errno=%s", errname(errno));
	else
		idn(id);
	return id;
}

static void rmseg(int id)
{
	if (id >= 0 && shmctl(id, IPC_RMID, NULL) < 0)
		obs("cleanup: IPC_RMID: errno=%s", errname(errno));
}

static void unmap(void *p)
{
	if (p && shmdt(p) < 0)
		obs("cleanup: shmdt: errno=%s", errname(errno));
}

/* A free, page-aligned range of n pages (mapped, then let go). */
static char *free_range(size_t n)
{
	char *p = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, n * PAGE);
	return p;
}

/* --- processes ---------------------------------------------------------- */

/* pipes between main and the child of spawn() */
static int p2c[2], c2p[2];

/* Forks a child (child1, child2...); returns its pid in the parent, 0 in
 * the child, whose observations are then marked.  A failure ends the
 * scenario. */
static pid_t spawn(void)
{
	pid_t pid;

	start();
	/* a scenario cannot go on without its child (and must never take
	 * -1 for a pid to signal) */
	if (pipe(p2c) || pipe(c2p)) {
		obs("setup: pipe: errno=%s", errname(errno));
		exit(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		obs("setup: fork: errno=%s", errname(errno));
		exit(1);
	}
	if (pid == 0) {
		kids[nkids++] = getpid();
		child_mode();
		close(p2c[1]);
		close(c2p[0]);
		return 0;
	}
	kids[nkids++] = pid;
	close(p2c[0]);
	close(c2p[1]);
	return pid;
}

static void tell_child(void)
{
	sync_post(p2c[1]);
}
static bool wait_child(void)
{
	return sync_wait(c2p[0]);
}
static void tell_parent(void)
{
	sync_post(c2p[1]);
}
static bool wait_parent(void)
{
	return sync_wait(p2c[0]);
}

/* The child has ended (its end of the pipe is gone), whether or not it
 * has been waited for. */
static void wait_child_gone(void)
{
	char c;

	while (read(c2p[0], &c, 1) > 0)
		;
}

static void finish_child(pid_t pid)
{
	close(p2c[1]);
	obs_wait("child", pid);
	close(c2p[0]);
}

/* Takes caps out of this process's effective set. */
static void drop_caps(uint64_t caps)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0) {
		obs("setup: capget: errno=%s", errname(errno));
		return;
	}
	d[0].effective &= ~(uint32_t)caps;
	d[1].effective &= ~(uint32_t)(caps >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		obs("setup: capset: errno=%s", errname(errno));
}

#define CAP(c) (1ULL << (c))

/* ================================================================ shmget */

void sc_sysv_private(void)
{
	int a = obs_get("shmget IPC_PRIVATE 100 0600", IPC_PRIVATE, 100, 0600);
	int b = obs_get("shmget IPC_PRIVATE 100 0600 again", IPC_PRIVATE, 100, 0600);
	int c = obs_get("shmget IPC_PRIVATE with IPC_CREAT|IPC_EXCL", IPC_PRIVATE, 100,
			IPC_CREAT | IPC_EXCL | 0600);

	obs_st("IPC_STAT a", a);
	rmseg(a);
	rmseg(b);
	rmseg(c);
}

void sc_sysv_stat_fields(void)
{
	int id = obs_get("shmget K+1 8192 IPC_CREAT 0640", K(1), 8192, IPC_CREAT | 0640);
	char *p;

	obs_st("IPC_STAT new", id);
	p = obs_at("shmat", id, NULL, 0);
	obs_st("IPC_STAT attached", id);
	unmap(p);
	obs_st("IPC_STAT detached", id);
	rmseg(id);
}

void sc_sysv_key_create(void)
{
	int id = obs_get("shmget K+1 IPC_CREAT 0600", K(1), 4096, IPC_CREAT | 0600);

	obs_get("shmget K+1 IPC_CREAT again", K(1), 4096, IPC_CREAT | 0600);
	obs_get("shmget K+1 0 0", K(1), 0, 0);
	obs_get("shmget K+1 smaller", K(1), 10, 0);
	obs_get("shmget K+1 with another mode", K(1), 4096, IPC_CREAT | 0644);
	obs_st("IPC_STAT (the mode is the first one)", id);
	obs_get("shmget K+2 IPC_CREAT (another key)", K(2), 4096, IPC_CREAT | 0600);
	rmseg(id);
	rmseg(shmget(K(2), 0, 0));
}

void sc_sysv_key_excl(void)
{
	int id = obs_get("shmget K+1 IPC_CREAT|IPC_EXCL", K(1), 4096, IPC_CREAT | IPC_EXCL | 0600);

	obs_get("shmget K+1 IPC_CREAT|IPC_EXCL again", K(1), 4096, IPC_CREAT | IPC_EXCL | 0600);
	obs_get("shmget K+1 IPC_EXCL without IPC_CREAT", K(1), 4096, IPC_EXCL | 0600);
	obs_get("shmget K+1 IPC_CREAT|IPC_EXCL size 0", K(1), 0, IPC_CREAT | IPC_EXCL);
	rmseg(id);
}

void sc_sysv_key_enoent(void)
{
	obs_get("shmget missing K+1 0", K(1), 4096, 0);
	obs_get("shmget missing K+1 IPC_EXCL", K(1), 4096, IPC_EXCL);
	obs_get("shmget missing K+1 0600", K(1), 4096, 0600);
	obs_get("shmget missing K+1 size 0", K(1), 0, 0);
}

void sc_sysv_key_negative(void)
{
	int a = obs_get("shmget -(K+1) IPC_CREAT", -K(1), 4096, IPC_CREAT | 0600);
	int b;

	obs_get("shmget K+1 (another key)", K(1), 0, 0);
	b = obs_get("shmget K+1 IPC_CREAT", K(1), 4096, IPC_CREAT | 0600);
	obs_get("shmget -(K+1) again", -K(1), 0, 0);
	rmseg(a);
	rmseg(b);
}

void sc_sysv_size_rules(void)
{
	struct shminfo si;
	int r = shmctl(0, IPC_INFO, (struct shmid_ds *)&si), id;

	obs("IPC_INFO: ret>=0=%s", r >= 0 ? "yes" : "no");
	obs_get("shmget IPC_PRIVATE size 0", IPC_PRIVATE, 0, 0600);
	obs_get("shmget K+1 size 0 IPC_CREAT", K(1), 0, IPC_CREAT | 0600);
	id = obs_get("shmget IPC_PRIVATE size 1", IPC_PRIVATE, 1, 0600);
	rmseg(id);
	obs_get("shmget IPC_PRIVATE size shmmax+1", IPC_PRIVATE, si.shmmax + 1, 0600);
	obs_get("shmget IPC_PRIVATE size SIZE_MAX", IPC_PRIVATE, SIZE_MAX, 0600);
	obs_get("shmget IPC_PRIVATE size 2^63", IPC_PRIVATE, (size_t)1 << 63, 0600);
}

void sc_sysv_size_existing(void)
{
	int id = mkseg(K(1), 8192, 0600);

	obs_get("shmget K+1 8193", K(1), 8193, 0);
	obs_get("shmget K+1 8193 IPC_CREAT", K(1), 8193, IPC_CREAT | 0600);
	obs_get("shmget K+1 8192", K(1), 8192, 0);
	obs_get("shmget K+1 1", K(1), 1, 0);
	obs_get("shmget K+1 8193 IPC_CREAT|IPC_EXCL", K(1), 8193, IPC_CREAT | IPC_EXCL | 0600);
	rmseg(id);
}

void sc_sysv_size_unaligned(void)
{
	int id = mkseg(IPC_PRIVATE, 5000, 0600);
	char *p = obs_at("shmat 5000 bytes", id, NULL, 0);

	obs_st("IPC_STAT (segsz as asked)", id);
	if (p) {
		/* the mapping is two whole pages */
		p[8191] = 'z';
		obs_data("last byte of the second page", p + 8191, 1);
		obs_data("bytes past the size", p + 5000, 4);
	}
	unmap(p);
	rmseg(id);
}

void sc_sysv_enomem(void)
{
	struct sysinfo si;
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
	int mode = -1, id;
	size_t all;

	if (f) {
		if (fscanf(f, "%d", &mode) != 1)
			mode = -1;
		fclose(f);
	}
	obs("vm.overcommit_memory is 0: %s", mode == 0 ? "yes" : "no");
	sysinfo(&si);
	all = ((size_t)si.totalram + si.totalswap) * si.mem_unit;
	/* more than all of RAM and swap cannot be committed */
	id = obs_get("shmget more than RAM and swap", IPC_PRIVATE, all + 16 * PAGE, 0600);
	rmseg(id);
}

void sc_sysv_hugetlb(void)
{
	int id;

	/* no such huge page size */
	id = obs_get("shmget SHM_HUGETLB size log 63", IPC_PRIVATE, 1, SHM_HUGETLB | (int)(63U << 26) | 0600);
	rmseg(id);
	/* the default size: what the machine has of it */
	id = obs_get("shmget SHM_HUGETLB 2M", IPC_PRIVATE, 2 << 20, SHM_HUGETLB | 0600);
	rmseg(id);
}

void sc_sysv_mode_bits(void)
{
	int id = obs_get("shmget 0777|SHM_NORESERVE", IPC_PRIVATE, 4096, 0777 | SHM_NORESERVE);
	struct shmid_ds d;

	obs_st("IPC_STAT (only the permissions)", id);
	memset(&d, 0, sizeof(d));
	shmctl(id, IPC_STAT, &d);
	d.shm_perm.mode = 07777;
	obs_ret("IPC_SET mode 07777", shmctl(id, IPC_SET, &d));
	obs_st("IPC_STAT", id);
	obs_ctl("SHM_LOCK", id, SHM_LOCK);
	d.shm_perm.mode = 0;
	obs_ret("IPC_SET mode 0", shmctl(id, IPC_SET, &d));
	obs_st("IPC_STAT (SHM_LOCKED stays)", id);
	obs_ctl("SHM_UNLOCK", id, SHM_UNLOCK);
	rmseg(id);
}

/* ================================================================= shmat */

void sc_sysv_attach_basic(void)
{
	int id = mkseg(IPC_PRIVATE, 4096, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *q;

	if (p)
		strcpy(p, "shared");
	q = obs_at("shmat again", id, NULL, 0);
	if (q)
		obs_data("the second mapping", q, 7);
	obs_st("IPC_STAT", id);
	obs_dt("shmdt first", p);
	obs_nattch("after one shmdt", id);
	obs_dt("shmdt second", q);
	obs_st("IPC_STAT", id);
	rmseg(id);
}

void sc_sysv_attach_twice(void)
{
	int id = mkseg(K(1), 8192, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *q = obs_at("shmat", id, NULL, 0);

	obs_nattch("two attachments", id);
	obs_dt("shmdt the second", q);
	obs_nattch("one", id);
	obs_dt("shmdt the second again", q);
	obs_dt("shmdt the first", p);
	obs_nattch("none", id);
	rmseg(id);
}

static void write_to(void *arg)
{
	*(volatile char *)arg = 'x';
	obs("the write went through");
}

void sc_sysv_attach_rdonly(void)
{
	int id = mkseg(IPC_PRIVATE, 8192, 0600);
	char *p = obs_at("shmat SHM_RDONLY", id, NULL, SHM_RDONLY);

	obs_perms("its mapping", p);
	if (p) {
		obs_data("read", p, 4);
		obs_ret("mprotect PROT_WRITE", mprotect(p, PAGE, PROT_READ | PROT_WRITE));
		obs_ret("mprotect PROT_EXEC", mprotect(p, PAGE, PROT_READ | PROT_EXEC));
		obs_nattch("a split by mprotect counts", id);
		obs_child("a write to it", write_to, p + PAGE);
	}
	unmap(p);
	obs_nattch("after shmdt", id);
	rmseg(id);
}

void sc_sysv_attach_exec(void)
{
	int id = mkseg(IPC_PRIVATE, 4096, 0700);
	char *p = obs_at("shmat SHM_EXEC", id, NULL, SHM_EXEC),
	     *q = obs_at("shmat SHM_EXEC|SHM_RDONLY", id, NULL, SHM_EXEC | SHM_RDONLY),
	     *r = obs_at("shmat", id, NULL, 0);

	obs_perms("SHM_EXEC", p);
	obs_perms("SHM_EXEC|SHM_RDONLY", q);
	obs_perms("neither", r);
	unmap(p);
	unmap(q);
	unmap(r);
	rmseg(id);
	id = mkseg(IPC_PRIVATE, 4096, 0600);
	obs_at("shmat SHM_EXEC on 0600 (root may)", id, NULL, SHM_EXEC);
	rmseg(id);
	/* (the last attachment goes with the process) */
}

void sc_sysv_attach_addr(void)
{
	int id = mkseg(IPC_PRIVATE, 2 * PAGE, 0600);
	char *area = free_range(16), *p, *q;

	if (!area) {
		obs("setup: no free range");
		rmseg(id);
		return;
	}
	p = obs_at("shmat at a free address", id, area, 0);
	q = obs_at("shmat at an unaligned address with SHM_RND", id, area + 8 * PAGE + 123, SHM_RND);
	obs_at("shmat over the first (no SHM_REMAP)", id, area + PAGE, 0);
	obs_at("shmat unaligned without SHM_RND", id, area + 12 * PAGE + 1, 0);
	obs_nattch("two", id);
	obs_dt("shmdt the rounded one", q);
	obs_dt("shmdt at the given address", p);
	obs_mapped("the address after shmdt", area);
	rmseg(id);
}

void sc_sysv_attach_remap(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *area = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (area == MAP_FAILED) {
		obs("setup: mmap: errno=%s", errname(errno));
		rmseg(id);
		return;
	}
	memset(area, 'a', 4 * PAGE);
	p = obs_at("shmat SHM_REMAP over an anonymous mapping", id, area + PAGE, SHM_REMAP);
	if (p)
		obs_data("what is there now", p, 4);
	obs_data("the page before", area, 4);
	obs_data("the page after", area + 2 * PAGE, 4);
	obs_dt("shmdt", p);
	obs_mapped("the remapped page after shmdt", area + PAGE);
	obs_mapped("the page after", area + 2 * PAGE);
	munmap(area, 4 * PAGE);
	rmseg(id);
}

void sc_sysv_attach_errors(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600), gone = mkseg(IPC_PRIVATE, PAGE, 0600);

	rmseg(gone);
	obs_at("shmat id -1", -1, NULL, 0);
	obs_at("shmat a removed id", gone, NULL, 0);
	obs_at("shmat SHM_REMAP without an address", id, NULL, SHM_REMAP);
	obs_at("shmat address 100 with SHM_RND|SHM_REMAP", id, (void *)100, SHM_RND | SHM_REMAP);
	obs_at("shmat address 100 without SHM_RND", id, (void *)100, 0);
	/* the checks on the address come before the lookup of the id */
	obs_at("shmat bad id, unaligned address", gone, (void *)(PAGE + 1), 0);
	obs_at("shmat where the range wraps", id, (void *)-PAGE, 0);
	obs_nattch("nothing attached", id);
	rmseg(id);
}

void sc_sysv_detach_errors(void)
{
	int id = mkseg(IPC_PRIVATE, 2 * PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	char *anon = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	obs_dt("shmdt NULL", NULL);
	obs_dt("shmdt unaligned", p ? p + 1 : (char *)1);
	obs_dt("shmdt inside the attachment", p ? p + PAGE : (char *)PAGE);
	obs_dt("shmdt an anonymous mapping", anon);
	obs_nattch("still attached", id);
	obs_dt("shmdt", p);
	obs_dt("shmdt again", p);
	munmap(anon, PAGE);
	rmseg(id);
}

void sc_sysv_split(void)
{
	int id = mkseg(IPC_PRIVATE, 4 * PAGE, 0600);
	char *p = obs_at("shmat 4 pages", id, NULL, 0);

	if (!p) {
		rmseg(id);
		return;
	}
	/* each piece of a split mapping is counted, as the kernel counts VMAs */
	obs_ret("munmap the second page", munmap(p + PAGE, PAGE));
	obs_nattch("after", id);
	obs_ret("mprotect the third page", mprotect(p + 2 * PAGE, PAGE, PROT_READ));
	obs_nattch("after", id);
	obs_ret("munmap the first page", munmap(p, PAGE));
	obs_nattch("after", id);
	/* shmdt of the start still finds the pieces */
	obs_dt("shmdt at the start", p);
	obs_nattch("after", id);
	rmseg(id);
}

void sc_sysv_munmap_whole(void)
{
	int id = mkseg(IPC_PRIVATE, 2 * PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *area;

	obs_ret("munmap the whole attachment", munmap(p, 2 * PAGE));
	obs_st("IPC_STAT", id);
	obs_dt("shmdt of it then", p);
	area = free_range(4);
	p = obs_at("shmat in a free range", id, area + PAGE, 0);
	obs_ret("munmap the range around it", munmap(area, 4 * PAGE));
	obs_nattch("after", id);
	obs_dt("shmdt of it then", p);
	rmseg(id);
}

void sc_sysv_mmap_over(void)
{
	int id = mkseg(IPC_PRIVATE, 3 * PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *m;

	if (!p) {
		rmseg(id);
		return;
	}
	m = mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	obs_map("mmap MAP_FIXED over the first page", m);
	obs_nattch("after", id);
	obs_dt("shmdt at the start", p);
	obs_nattch("after", id);
	obs_mapped("the anonymous page", p);
	obs_mapped("the rest of the attachment", p + PAGE);
	munmap(p, PAGE);
	rmseg(id);
}

/* Something else in a hole of an attachment stays when it is detached. */
void sc_sysv_hole(void)
{
	int id = mkseg(IPC_PRIVATE, 3 * PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *m;

	if (!p) {
		rmseg(id);
		return;
	}
	obs_ret("munmap the middle page", munmap(p + PAGE, PAGE));
	m = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	obs_map("mmap into the hole", m);
	obs_nattch("after", id);
	obs_dt("shmdt", p);
	obs_nattch("after", id);
	obs_mapped("the page in the hole", p + PAGE);
	obs_mapped("the first page", p);
	obs_mapped("the last page", p + 2 * PAGE);
	munmap(p + PAGE, PAGE);
	rmseg(id);
}

void sc_sysv_mremap(void)
{
	int id = mkseg(IPC_PRIVATE, 2 * PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *to = free_range(8), *m;

	if (!p || !to) {
		rmseg(id);
		return;
	}
	strcpy(p, "moved");
	m = mremap(p, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to + 2 * PAGE);
	obs_map("mremap the attachment elsewhere", m);
	obs_nattch("after", id);
	if (m != MAP_FAILED)
		obs_data("its data", m, 6);
	obs_dt("shmdt at the old address", p);
	obs_dt("shmdt at the new address", m);
	obs_nattch("after", id);
	p = obs_at("shmat", id, NULL, 0);
	m = mremap(p, 2 * PAGE, PAGE, 0);
	obs_map("mremap it smaller", m);
	obs_nattch("after", id);
	obs_dt("shmdt", p);
	obs_nattch("after", id);
	obs_mapped("its second page", p + PAGE);
	rmseg(id);
}

/* ================================================================ shmctl */

void sc_sysv_rmid_unattached(void)
{
	int id = mkseg(K(1), PAGE, 0600);

	obs_ctl("IPC_RMID", id, IPC_RMID);
	obs_st("IPC_STAT after", id);
	obs_ctl("IPC_RMID again", id, IPC_RMID);
	obs_get("shmget K+1", K(1), 0, 0);
	obs_at("shmat", id, NULL, 0);
}

void sc_sysv_rmid_attached(void)
{
	int id = mkseg(K(1), PAGE, 0640);
	char *p = obs_at("shmat", id, NULL, 0), *q;

	obs_ctl("IPC_RMID while attached", id, IPC_RMID);
	obs_st("IPC_STAT (SHM_DEST, key private)", id);
	obs_get("shmget K+1 (the key is private now)", K(1), 0, 0);
	obs_ctl("IPC_RMID again", id, IPC_RMID);
	q = obs_at("shmat a removed segment", id, NULL, 0);
	obs_nattch("two", id);
	obs_dt("shmdt one", q);
	obs_st("IPC_STAT", id);
	obs_dt("shmdt the last", p);
	obs_st("IPC_STAT: gone", id);
}

void sc_sysv_rmid_key_reuse(void)
{
	int id = mkseg(K(1), PAGE, 0600), id2;
	char *p = obs_at("shmat", id, NULL, 0);

	obs_ctl("IPC_RMID while attached", id, IPC_RMID);
	id2 = obs_get("shmget K+1 IPC_CREAT: a new segment", K(1), 2 * PAGE, IPC_CREAT | 0600);
	obs_st("IPC_STAT new", id2);
	obs_st("IPC_STAT old", id);
	obs_dt("shmdt the old", p);
	obs_st("IPC_STAT new", id2);
	rmseg(id2);
}

void sc_sysv_rmid_data(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *q = obs_at("shmat", id, NULL, 0);

	if (p && q) {
		strcpy(p, "before");
		obs_ctl("IPC_RMID", id, IPC_RMID);
		strcpy(q, "after!");
		obs_data("seen through the other mapping", p, 7);
	}
	unmap(p);
	unmap(q);
}

void sc_sysv_id_reuse(void)
{
	int a = mkseg(IPC_PRIVATE, PAGE, 0600), b;

	rmseg(a);
	b = obs_get("shmget after a removal", IPC_PRIVATE, PAGE, 0600);
	obs("the new id is the removed one: %s", a == b ? "yes" : "no");
	obs_st("IPC_STAT of the removed id", a);
	rmseg(b);
}

void sc_sysv_ipc_set(void)
{
	int id = mkseg(K(1), PAGE, 0600), gone = mkseg(IPC_PRIVATE, PAGE, 0600);
	struct shmid_ds d;

	memset(&d, 0, sizeof(d));
	shmctl(id, IPC_STAT, &d);
	d.shm_perm.uid = 1234;
	d.shm_perm.gid = 5678;
	d.shm_perm.mode = 0644;
	d.shm_segsz = 1; /* ignored, as the times and pids are */
	d.shm_nattch = 9;
	obs_ret("IPC_SET uid 1234 gid 5678 mode 0644", shmctl(id, IPC_SET, &d));
	obs_st("IPC_STAT", id);
	d.shm_perm.uid = (uid_t)-1;
	obs_ret("IPC_SET uid -1", shmctl(id, IPC_SET, &d));
	d.shm_perm.uid = 0;
	d.shm_perm.gid = (gid_t)-1;
	obs_ret("IPC_SET gid -1", shmctl(id, IPC_SET, &d));
	d.shm_perm.gid = 0;
	rmseg(gone);
	obs_ret("IPC_SET of a removed id", shmctl(gone, IPC_SET, &d));
	obs_st("IPC_STAT", id);
	rmseg(id);
}

void sc_sysv_ctl_errors(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600), gone = mkseg(IPC_PRIVATE, PAGE, 0600);
	struct shmid_ds d;

	rmseg(gone);
	obs_ret("shmctl cmd 99", shmctl(id, 99, &d));
	obs_ret("shmctl cmd -1", shmctl(id, -1, &d));
	obs_ret("shmctl cmd IPC_STAT|0x100", shmctl(id, IPC_STAT | 0x100, &d));
	obs_ret("IPC_STAT id -1", shmctl(-1, IPC_STAT, &d));
	obs_ret("IPC_INFO id -1", shmctl(-1, IPC_INFO, &d));
	obs_ret("IPC_STAT of a removed id", shmctl(gone, IPC_STAT, &d));
	obs_ret("IPC_RMID of a removed id", shmctl(gone, IPC_RMID, NULL));
	obs_ret("SHM_LOCK of a removed id", shmctl(gone, SHM_LOCK, NULL));
	obs_ret("SHM_UNLOCK of a removed id", shmctl(gone, SHM_UNLOCK, NULL));
	obs_ret("IPC_STAT with another sequence number", shmctl(id ^ (1 << 20), IPC_STAT, &d));
	obs_ret("SHM_STAT index 32767", shmctl(32767, SHM_STAT, &d));
	obs_ret("SHM_STAT_ANY index 32767", shmctl(32767, SHM_STAT_ANY, &d));
	obs_ret("IPC_RMID with a buffer", shmctl(id, IPC_RMID, &d));
}

void sc_sysv_efault(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600), gone = mkseg(IPC_PRIVATE, PAGE, 0600);
	void *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	rmseg(gone);
	obs_ret("IPC_STAT into NULL", shmctl(id, IPC_STAT, NULL));
	obs_ret("IPC_STAT into (void *)1", shmctl(id, IPC_STAT, (void *)1));
	obs_ret("IPC_STAT into a read-only page", shmctl(id, IPC_STAT, ro));
	obs_ret("IPC_STAT of a removed id into NULL", shmctl(gone, IPC_STAT, NULL));
	obs_ret("SHM_STAT into NULL", shmctl(id & (32768 - 1), SHM_STAT, NULL));
	obs_ret("IPC_SET from NULL", shmctl(id, IPC_SET, NULL));
	obs_ret("IPC_SET from NULL, removed id", shmctl(gone, IPC_SET, NULL));
	obs_ret("IPC_SET from NULL, id -1", shmctl(-1, IPC_SET, NULL));
	obs_ret("IPC_INFO into NULL", shmctl(0, IPC_INFO, NULL));
	obs_ret("SHM_INFO into NULL", shmctl(0, SHM_INFO, NULL));
	obs_ret("IPC_RMID ignores the buffer", shmctl(id, IPC_RMID, (void *)1));
	munmap(ro, PAGE);
}

void sc_sysv_ipc_info(void)
{
	struct shminfo si;
	int r;

	memset(&si, 0xa5, sizeof(si));
	r = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
	obs("IPC_INFO: ret>=0=%s shmmax=%lu shmmin=%lu shmmni=%lu shmseg=%lu shmall=%lu", r >= 0 ? "yes" : "no",
	    si.shmmax, si.shmmin, si.shmmni, si.shmseg, si.shmall);
	obs("the reserved words: %lx %lx %lx %lx", si.__glibc_reserved1, si.__glibc_reserved2,
	    si.__glibc_reserved3, si.__glibc_reserved4);
	r = shmctl(12345, IPC_INFO, (struct shmid_ds *)&si);
	obs("IPC_INFO with another shmid: ret>=0=%s", r >= 0 ? "yes" : "no");
}

void sc_sysv_shm_info(void)
{
	int a = mkseg(IPC_PRIVATE, PAGE, 0600), b = mkseg(K(1), 3 * PAGE, 0600);
	struct shm_info info;
	struct shminfo si;
	char *p = obs_at("shmat", b, NULL, 0);
	int r, top;

	if (p) {
		p[0] = 1;
		p[PAGE] = 1;
	}
	memset(&info, 0xa5, sizeof(info));
	r = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
	top = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
	obs("SHM_INFO: ret>=0=%s (same as IPC_INFO's: %s) used_ids>=2=%s shm_tot>=4=%s "
	    "shm_rss>=2=%s swap_attempts=%lu swap_successes=%lu",
	    r >= 0 ? "yes" : "no", r == top ? "yes" : "no", info.used_ids >= 2 ? "yes" : "no",
	    info.shm_tot >= 4 ? "yes" : "no", info.shm_rss >= 2 ? "yes" : "no",
	    info.swap_attempts, info.swap_successes);
	obs("the highest index is at least ours: %s",
	    r >= (a & 32767) && r >= (b & 32767) ? "yes" : "no");
	unmap(p);
	rmseg(a);
	rmseg(b);
}

void sc_sysv_stat_walk(void)
{
	int id[3] = { mkseg(K(1), PAGE, 0600), mkseg(K(2), 2 * PAGE, 0644), mkseg(K(3), PAGE, 0) };
	int found[3] = { 0 }, same[3] = { 0 }, top;
	struct shminfo si;

	top = shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
	/* ipcs's walk: every index up to the highest, with SHM_STAT_ANY */
	for (int i = 0; i <= top; i++) {
		struct shmid_ds d;
		int r = shmctl(i, SHM_STAT_ANY, &d);
		key_t k = d.shm_perm.__key;

		if (r >= 0 && k >= K(1) && k <= K(3)) {
			found[k - K(1)]++;
			same[k - K(1)] = r == id[k - K(1)];
		}
	}
	for (int k = 0; k < 3; k++)
		obs("K+%d: found %d time(s), the id is shmget's: %s", k + 1, found[k],
		    same[k] ? "yes" : "no");
	{
		struct shmid_ds d;

		obs_ds("SHM_STAT of K+1's index", shmctl(id[0] & 32767, SHM_STAT, &d), &d);
		obs_ds("SHM_STAT of K+1's id", shmctl(id[0], SHM_STAT, &d), &d);
		obs_ds("SHM_STAT of K+3's index (mode 0: root may)", shmctl(id[2] & 32767, SHM_STAT, &d),
		       &d);
	}
	for (int k = 0; k < 3; k++)
		rmseg(id[k]);
}

void sc_sysv_lock(void)
{
	int id = mkseg(IPC_PRIVATE, 2 * PAGE, 0600);

	obs_ctl("SHM_UNLOCK (not locked)", id, SHM_UNLOCK);
	obs_ctl("SHM_LOCK", id, SHM_LOCK);
	obs_st("IPC_STAT", id);
	obs_ctl("SHM_LOCK again", id, SHM_LOCK);
	obs_ctl("SHM_UNLOCK", id, SHM_UNLOCK);
	obs_st("IPC_STAT", id);
	obs_ctl("SHM_LOCK", id, SHM_LOCK);
	obs_ctl("IPC_RMID while locked", id, IPC_RMID);
	obs_st("IPC_STAT: gone", id);
}

/* A root without the capabilities a container does not give it: the
 * permission bits apply to it too. */
void sc_sysv_nocap_perms(void)
{
	int id = mkseg(K(1), PAGE, 0400);
	pid_t pid = spawn();
	struct shmid_ds d;
	char *p;

	if (pid == 0) {
		drop_caps(CAP(CAP_IPC_OWNER) | CAP(CAP_SYS_ADMIN) | CAP(CAP_IPC_LOCK) |
			  CAP(CAP_DAC_OVERRIDE) | CAP(CAP_DAC_READ_SEARCH));
		obs_get("shmget K+1 0600 on 0400", K(1), 0, 0600);
		obs_get("shmget K+1 0400", K(1), 0, 0400);
		obs_get("shmget K+1 0", K(1), 0, 0);
		obs_at("shmat read-write", id, NULL, 0);
		p = obs_at("shmat SHM_RDONLY", id, NULL, SHM_RDONLY);
		obs_at("shmat SHM_RDONLY|SHM_EXEC", id, NULL, SHM_RDONLY | SHM_EXEC);
		unmap(p);
		memset(&d, 0, sizeof(d));
		obs_ret("IPC_SET mode 0 (the owner may)", shmctl(id, IPC_SET, &d));
		obs_ret("IPC_STAT on 0000", shmctl(id, IPC_STAT, &d));
		obs_ret("SHM_STAT on 0000", shmctl(id & 32767, SHM_STAT, &d));
		obs_ds("SHM_STAT_ANY on 0000", shmctl(id & 32767, SHM_STAT_ANY, &d), &d);
		d.shm_perm.mode = 0600;
		obs_ret("IPC_SET mode 0600", shmctl(id, IPC_SET, &d));
		obs_ret("IPC_STAT on 0600", shmctl(id, IPC_STAT, &d));
		exit(0);
	}
	finish_child(pid);
	rmseg(id);
}

void sc_sysv_nocap_lock(void)
{
	int a = mkseg(IPC_PRIVATE, 40 * PAGE, 0600), b = mkseg(IPC_PRIVATE, 40 * PAGE, 0600);
	pid_t pid = spawn();

	if (pid == 0) {
		struct rlimit rl = { 0, 64 * PAGE };

		drop_caps(CAP(CAP_IPC_LOCK));
		if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			obs("setup: setrlimit: errno=%s", errname(errno));
		obs_ctl("SHM_LOCK with RLIMIT_MEMLOCK 0", a, SHM_LOCK);
		obs_ctl("SHM_UNLOCK with RLIMIT_MEMLOCK 0", a, SHM_UNLOCK);
		rl.rlim_cur = 64 * PAGE;
		if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			obs("setup: setrlimit: errno=%s", errname(errno));
		obs_ctl("SHM_LOCK 40 of 64 pages", a, SHM_LOCK);
		obs_ctl("SHM_LOCK 40 more", b, SHM_LOCK);
		obs_ctl("SHM_UNLOCK the first", a, SHM_UNLOCK);
		obs_ctl("SHM_LOCK the other then", b, SHM_LOCK);
		obs_ctl("SHM_UNLOCK", b, SHM_UNLOCK);
		exit(0);
	}
	finish_child(pid);
	rmseg(a);
	rmseg(b);
}

/* ========================================================= two processes */

void sc_sysv_fork(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid;

	if (p)
		strcpy(p, "parent");
	pid = spawn();
	if (pid == 0) {
		wait_parent();
		obs_st("IPC_STAT in the child", id);
		if (p)
			strcpy(p, "child");
		obs_dt("shmdt in the child", p);
		obs_nattch("after", id);
		tell_parent();
		exit(0);
	}
	/* the child's attachment is there the moment fork returns */
	obs_st("IPC_STAT right after fork", id);
	tell_child();
	wait_child();
	if (p)
		obs_data("what the child wrote", p, 6);
	obs_st("IPC_STAT after the child's shmdt", id);
	finish_child(pid);
	obs_dt("shmdt", p);
	obs_st("IPC_STAT", id);
	rmseg(id);
}

void sc_sysv_fork_child_detaches(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid;

	obs_ctl("IPC_RMID", id, IPC_RMID);
	pid = spawn();
	if (pid == 0) {
		/* at once, before anything else */
		obs_dt("shmdt in the child", p);
		tell_parent();
		exit(0);
	}
	wait_child();
	obs_st("IPC_STAT: the parent's is left", id);
	finish_child(pid);
	obs_dt("shmdt the last", p);
	obs_st("IPC_STAT: gone", id);
}

void sc_sysv_fork_quick_exit(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		obs("setup: fork: errno=%s", errname(errno));
		exit(1);
	}
	if (pid == 0)
		_exit(7);
	kids[nkids++] = pid;
	obs_wait("child", pid);
	obs_st("IPC_STAT after the child's exit", id);
	unmap(p);
	rmseg(id);
}

void sc_sysv_fork_grandchild(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid = spawn();

	if (pid == 0) {
		pid_t gc;

		fflush(stdout);
		/* at once: before the manager may have heard of this child */
		gc = fork();
		if (gc == 0) {
			obs_nattch("grandchild", id);
			exit(0);
		}
		kids[nkids++] = gc;
		obs_wait("grandchild", gc);
		obs_nattch("child", id);
		exit(0);
	}
	finish_child(pid);
	obs_nattch("parent", id);
	unmap(p);
	rmseg(id);
}

void sc_sysv_fork_dontfork(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid;

	obs_ret("madvise MADV_DONTFORK", madvise(p, PAGE, MADV_DONTFORK));
	pid = spawn();
	if (pid == 0) {
		obs_nattch("the child (has none)", id);
		obs_mapped("the attachment in the child", p);
		obs_dt("shmdt in the child", p);
		exit(0);
	}
	finish_child(pid);
	obs_nattch("the parent", id);
	unmap(p);
	rmseg(id);
}

/* A fork that fork() does not see: glibc's daemon() calls its own. */
void sc_sysv_daemon(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid = spawn();

	if (pid == 0) {
		pid_t me = getpid();

		if (daemon(1, 1) < 0) {
			obs("daemon: errno=%s", errname(errno));
			exit(1);
		}
		/* the daemon, once its parent (this child) has gone */
		while (getppid() == me)
			usleep(1000);
		obs_nattch("the daemon", id);
		if (p)
			strcpy(p, "daemon");
		obs_dt("shmdt in the daemon", p);
		obs_nattch("the daemon after shmdt", id);
		exit(0);
	}
	/* both ends gone: the child, and the daemon after its output */
	wait_child_gone();
	obs_wait("child (daemon's parent)", pid);
	close(p2c[1]);
	close(c2p[0]);
	if (p)
		obs_data("what the daemon wrote", p, 6);
	obs_nattch("the parent", id);
	unmap(p);
	rmseg(id);
}

void sc_sysv_exec(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600), gone[2];
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid;

	if (pipe2(gone, O_CLOEXEC) < 0) {
		obs("setup: pipe2: errno=%s", errname(errno));
		return;
	}
	pid = spawn();
	if (pid == 0) {
		close(gone[0]);
		execl("/bin/sleep", "sleep", "20", (char *)NULL);
		obs("execl: errno=%s", errname(errno));
		exit(1);
	}
	close(gone[1]);
	/* the close-on-exec pipe ends with the exec */
	while (read(gone[0], p2c, 1) > 0)
		;
	close(gone[0]);
	obs_st("IPC_STAT after the child's exec", id);
	if (pid > 0)
		kill(pid, SIGKILL);
	finish_child(pid);
	unmap(p);
	rmseg(id);
}

void sc_sysv_exit_no_detach(void)
{
	int id = mkseg(K(1), PAGE, 0600);
	pid_t pid = spawn();

	if (pid == 0) {
		char *p = obs_at("shmat in the child", id, NULL, 0);

		if (p)
			strcpy(p, "left");
		obs_nattch("the child", id);
		exit(0); /* no shmdt */
	}
	finish_child(pid);
	obs_st("IPC_STAT after the child's exit", id);
	rmseg(id);
}

void sc_sysv_zombie(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	pid_t pid = spawn();

	if (pid == 0) {
		obs_at("shmat in the child", id, NULL, 0);
		exit(0);
	}
	/* it has exited, and is not yet waited for */
	wait_child_gone();
	obs_st("IPC_STAT while the child is a zombie", id);
	finish_child(pid);
	rmseg(id);
}

void sc_sysv_killed(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	pid_t pid = spawn();

	if (pid == 0) {
		obs_at("shmat in the child", id, NULL, 0);
		obs_at("shmat in the child again", id, NULL, SHM_RDONLY);
		tell_parent();
		pause();
		exit(0);
	}
	wait_child();
	obs_nattch("the child's two", id);
	if (pid > 0)
		kill(pid, SIGKILL);
	finish_child(pid);
	obs_st("IPC_STAT after SIGKILL", id);
	rmseg(id);
}

void sc_sysv_killed_last(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0);
	pid_t pid = spawn();

	if (pid == 0) {
		tell_parent();
		pause();
		exit(0);
	}
	wait_child();
	obs_ctl("IPC_RMID", id, IPC_RMID);
	obs_dt("shmdt (the child's is the last)", p);
	obs_st("IPC_STAT", id);
	if (pid > 0)
		kill(pid, SIGKILL);
	finish_child(pid);
	obs_st("IPC_STAT after the last one was killed", id);
}

void sc_sysv_two_procs_key(void)
{
	int id = mkseg(K(1), PAGE, 0666);
	pid_t pid = spawn();
	char *p;

	if (pid == 0) {
		int cid = obs_get("shmget K+1 in the child", K(1), 0, 0);

		p = obs_at("shmat in the child", cid, NULL, 0);
		if (p)
			strcpy(p, "from the child");
		obs_dt("shmdt in the child", p);
		exit(0);
	}
	finish_child(pid);
	p = obs_at("shmat in the parent", id, NULL, SHM_RDONLY);
	if (p)
		obs_data("what the child wrote", p, 14);
	obs_st("IPC_STAT", id);
	unmap(p);
	rmseg(id);
}

void sc_sysv_lpid(void)
{
	int id = mkseg(IPC_PRIVATE, PAGE, 0600);
	char *p = obs_at("shmat", id, NULL, 0), *q;
	pid_t pid;

	obs_st("IPC_STAT", id);
	pid = spawn();
	if (pid == 0) {
		wait_parent();
		obs_dt("shmdt in the child", p);
		tell_parent();
		wait_parent();
		exit(0);
	}
	obs_st("IPC_STAT after fork", id);
	tell_child();
	wait_child();
	obs_st("IPC_STAT after the child's shmdt", id);
	q = obs_at("shmat", id, NULL, 0);
	obs_st("IPC_STAT after another shmat", id);
	tell_child();
	finish_child(pid);
	unmap(p);
	unmap(q);
	obs_st("IPC_STAT", id);
	rmseg(id);
}
