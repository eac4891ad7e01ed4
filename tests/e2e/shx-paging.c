/* shx-paging.c -- the data test of paging, run under the preload by
 * tests/e2e/paging.sh with a small RAM budget.
 *
 *   shx-paging model NOBJ OBJ_MIB NPROC SECONDS SEED [keep]
 *	NPROC processes do random pwrite, write, pread, read, readv,
 *	preadv and mapped reads and writes on NOBJ objects of OBJ_MIB MiB,
 *	each call checked against a reference model kept in memory that is
 *	not managed (a page lock per page orders the processes).  At the
 *	end every byte of every object is compared with the model, and
 *	SEEK_DATA/SEEK_HOLE at every page boundary and inside pages with
 *	the kernel's own answers on a memfd of the same content.  With
 *	"keep", every process maps every object once and keeps the mappings
 *	for its mapped calls, so that pages go out of mapped objects and
 *	come back through faults.
 *   shx-paging fill PATH MIB SEED / check PATH MIB SEED
 *	writes / verifies a file of a pattern.
 *   shx-paging sysv-fill KEY MIB SEED [lock] / sysv-check KEY MIB SEED
 *	makes a System V segment of the pattern (SHM_LOCKed with "lock")
 *	and detaches / attaches it again, verifies and removes it.
 *   shx-paging race-map PATH MIB SECONDS
 *	the same through a shared mapping kept all along.
 *   shx-paging touch PATH MIB
 *	maps the file and reads it over and over, until killed.
 *   shx-paging race PATH MIB SECONDS
 *	one process rewrites every page of the file with pwrite, over and
 *	over, each time with a new generation number, while the pager
 *	pages it out; then every page must hold its last generation.
 *
 * Prints TAP-style "ok"/"not ok" lines; exits 0 only if all passed.
 */
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static int failures;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		failures++;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* --- model ------------------------------------------------------------------ */

struct model {
	size_t objsize;
	int nobj;
	uint8_t *bytes;		  /* nobj * objsize: what each object must hold */
	uint8_t *written;	  /* per page: ever written (data for SEEK_DATA) */
	atomic_flag *locks;	  /* per page */
	atomic_long errors;
	atomic_long ops[8];
};

static struct model *M;
static char names[64][64];

static size_t npages(void)
{
	return (size_t)M->nobj * (M->objsize / PAGE);
}

static void lock_range(size_t first, size_t last)
{
	for (size_t p = first; p <= last; p++)
		while (atomic_flag_test_and_set(&M->locks[p]))
			;
}

static void unlock_range(size_t first, size_t last)
{
	for (size_t p = first; p <= last; p++)
		atomic_flag_clear(&M->locks[p]);
}

static void mismatch(const char *what, int obj, size_t off, size_t len)
{
	fprintf(stderr, "proc %d: %s of object %d at %zu+%zu differs from the model\n",
		(int)getpid(), what, obj, off, len);
	M->errors++;
}

enum { OP_PWRITE, OP_WRITE, OP_PREAD, OP_READ, OP_READV, OP_PREADV, OP_MAPR, OP_MAPW };

static int keep_maps;

static void worker(int id, double seconds, uint64_t seed)
{
	static uint8_t buf[3 * PAGE], buf2[3 * PAGE];
	uint8_t *maps[64] = { 0 };
	int fds[64];
	uint64_t s = seed * 7919 + id * 104729 + 1;
	double end = now() + seconds;

	for (int i = 0; i < M->nobj; i++) {
		fds[i] = open(names[i], O_RDWR);
		if (fds[i] < 0) {
			perror(names[i]);
			M->errors++;
			_exit(1);
		}
		if (keep_maps) {
			maps[i] = mmap(NULL, M->objsize, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
			if (maps[i] == MAP_FAILED) {
				perror("mmap");
				M->errors++;
				_exit(1);
			}
		}
	}
	while (now() < end) {
		int obj = rng(&s) % M->nobj, op = rng(&s) % 16;
		size_t len = 1 + rng(&s) % (2 * PAGE), off = rng(&s) % (M->objsize - len);
		size_t first = ((size_t)obj * M->objsize + off) / PAGE;
		size_t last = ((size_t)obj * M->objsize + off + len - 1) / PAGE;
		uint8_t *model = M->bytes + (size_t)obj * M->objsize + off;
		ssize_t n = -2;

		/* mostly calls on the fd, one in eight through a mapping; with
		 * mappings kept, half of them */
		if (keep_maps)
			op = op < 4 ? OP_PWRITE : op < 6 ? OP_PREAD : op < 7 ? OP_READ
			   : op < 8 ? OP_PREADV : op < 12 ? OP_MAPR : OP_MAPW;
		else
			op = op < 4 ? OP_PWRITE : op < 5 ? OP_WRITE : op < 9 ? OP_PREAD : op < 11 ? OP_READ
		   : op < 12 ? OP_READV : op < 14 ? OP_PREADV : op < 15 ? OP_MAPR : OP_MAPW;
		lock_range(first, last);
		switch (op) {
		case OP_PWRITE:
		case OP_WRITE:
			for (size_t i = 0; i < len; i++)
				buf[i] = rng(&s);
			/* now and then a run of zeros: pages of zeros go out
			 * without a slot and must still be data */
			if (rng(&s) % 8 == 0)
				memset(buf, 0, len);
			if (op == OP_PWRITE)
				n = pwrite(fds[obj], buf, len, off);
			else if (lseek(fds[obj], off, SEEK_SET) == (off_t)off)
				n = write(fds[obj], buf, len);
			if (n != (ssize_t)len) {
				mismatch("write", obj, off, len);
				break;
			}
			memcpy(model, buf, len);
			memset(M->written + first, 1, last - first + 1);
			break;
		case OP_PREAD:
		case OP_READ:
			if (op == OP_PREAD)
				n = pread(fds[obj], buf, len, off);
			else if (lseek(fds[obj], off, SEEK_SET) == (off_t)off)
				n = read(fds[obj], buf, len);
			if (n != (ssize_t)len || memcmp(buf, model, len))
				mismatch(op == OP_PREAD ? "pread" : "read", obj, off, len);
			break;
		case OP_READV:
		case OP_PREADV: {
			size_t half = len / 2;
			struct iovec iov[2] = { { buf, half }, { buf2, len - half } };

			if (op == OP_PREADV)
				n = preadv(fds[obj], iov, 2, off);
			else if (lseek(fds[obj], off, SEEK_SET) == (off_t)off)
				n = readv(fds[obj], iov, 2);
			if (n != (ssize_t)len || memcmp(buf, model, half) ||
			    memcmp(buf2, model + half, len - half))
				mismatch(op == OP_PREADV ? "preadv" : "readv", obj, off, len);
			break;
		}
		case OP_MAPR:
		case OP_MAPW: {
			size_t moff = off & ~(size_t)(PAGE - 1), mlen = off + len - moff;
			uint8_t *m = keep_maps ? maps[obj] + moff
					       : mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED,
						      fds[obj], moff);

			if (m == MAP_FAILED) {
				mismatch("mmap", obj, off, len);
				break;
			}
			if (op == OP_MAPR) {
				if (memcmp(m + (off - moff), model, len))
					mismatch("mapped read", obj, off, len);
				/* a read fault on a hole allocates the page (shmem_fault):
				 * data for SEEK_DATA from now on, as on the kernel's */
				memset(M->written + first, 1, last - first + 1);
			} else {
				for (size_t i = 0; i < len; i++)
					m[off - moff + i] = model[i] = rng(&s);
				memset(M->written + first, 1, last - first + 1);
			}
			if (!keep_maps)
				munmap(m, mlen);
			break;
		}
		}
		unlock_range(first, last);
		M->ops[op]++;
	}
	_exit(0);
}

/* SEEK_DATA and SEEK_HOLE from off on both files: equal answers and
 * errnos. */
static int seek_same(int a, int b, off_t off, int whence)
{
	off_t ra, rb;
	int ea, eb;

	errno = 0;
	ra = lseek(a, off, whence);
	ea = errno;
	errno = 0;
	rb = lseek(b, off, whence);
	eb = errno;
	if (ra == rb && (ra >= 0 || ea == eb))
		return 1;
	fprintf(stderr, "lseek(%jd, %s): %jd (%s) under the preload, %jd (%s) on the kernel's\n",
		(intmax_t)off, whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE", (intmax_t)ra,
		strerror(ea), (intmax_t)rb, strerror(eb));
	return 0;
}

static int model_test(int nobj, int mib, int nproc, double seconds, uint64_t seed)
{
	static uint8_t buf[1 << 16];
	size_t objsize = (size_t)mib << 20;
	pid_t pids[64];
	long total = 0;
	int bad_bytes = 0, bad_seeks = 0, seeks = 0;

	if (nobj < 1 || nobj > 64 || nproc < 1 || nproc > 64)
		return 2;
	M = mmap(NULL, sizeof(*M), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	M->objsize = objsize;
	M->nobj = nobj;
	M->bytes = mmap(NULL, nobj * objsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	M->written = mmap(NULL, npages(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
	M->locks = mmap(NULL, npages() * sizeof(atomic_flag), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (M->bytes == MAP_FAILED || M->written == MAP_FAILED || M->locks == MAP_FAILED)
		return 2;
	/* the objects: sparse, with every other MiB written, so that holes,
	 * data and swapped pages all occur */
	for (int i = 0; i < nobj; i++) {
		int fd;

		snprintf(names[i], sizeof(names[i]), "/dev/shm/shx-paging-%d-%d", (int)getpid(), i);
		fd = open(names[i], O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, objsize) < 0) {
			perror(names[i]);
			return 2;
		}
		for (size_t off = 0; off < objsize; off += sizeof(buf)) {
			if ((off >> 20) % 2)
				continue;
			for (size_t k = 0; k < sizeof(buf); k++)
				buf[k] = (uint8_t)(k * 13 + off / sizeof(buf) + i);
			if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
				return 2;
			memcpy(M->bytes + i * objsize + off, buf, sizeof(buf));
			memset(M->written + (i * objsize + off) / PAGE, 1, sizeof(buf) / PAGE);
		}
		close(fd);
	}
	for (int i = 0; i < nproc; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			worker(i, seconds, seed);
	}
	for (int i = 0; i < nproc; i++) {
		int st;

		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			M->errors++;
	}
	for (int i = 0; i < 8; i++)
		total += M->ops[i];
	ok(M->errors == 0 && total > 0,
	   "%d processes%s, %ld calls (pwrite %ld, write %ld, pread %ld, read %ld, readv %ld, "
	   "preadv %ld, mapped read %ld, mapped write %ld): %ld differ from the model",
	   nproc, keep_maps ? " keeping every object mapped" : "", total, M->ops[0], M->ops[1], M->ops[2], M->ops[3], M->ops[4], M->ops[5],
	   M->ops[6], M->ops[7], (long)M->errors);
	/* every byte, then the holes and the data against the kernel's */
	for (int i = 0; i < nobj; i++) {
		int fd = open(names[i], O_RDONLY), mfd = memfd_create("ref", 0);
		struct stat st;

		if (fd < 0 || mfd < 0 || ftruncate(mfd, objsize) < 0)
			return 2;
		for (size_t off = 0; off < objsize; off += sizeof(buf)) {
			if (pread(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf) ||
			    memcmp(buf, M->bytes + i * objsize + off, sizeof(buf)))
				bad_bytes++;
		}
		for (size_t p = 0; p < objsize / PAGE; p++)
			if (M->written[i * objsize / PAGE + p] &&
			    pwrite(mfd, M->bytes + i * objsize + p * PAGE, PAGE, p * PAGE) != PAGE)
				return 2;
		/* and once more with pages out: the reads above brought them in */
		sleep(1);
		for (off_t off = 0; off <= (off_t)objsize; off += PAGE) {
			seeks += 4;
			bad_seeks += !seek_same(fd, mfd, off, SEEK_DATA);
			bad_seeks += !seek_same(fd, mfd, off, SEEK_HOLE);
			bad_seeks += !seek_same(fd, mfd, off + 1000, SEEK_DATA);
			bad_seeks += !seek_same(fd, mfd, off + 1000, SEEK_HOLE);
		}
		if (fstat(fd, &st) == 0 && i == 0)
			printf("# object 0: %jd blocks\n", (intmax_t)st.st_blocks);
		close(fd);
		close(mfd);
	}
	ok(bad_bytes == 0, "every byte of the %d objects (%d MiB) equals the model: %d blocks of "
	   "64 KiB differ", nobj, nobj * mib, bad_bytes);
	ok(bad_seeks == 0, "SEEK_DATA and SEEK_HOLE: %d calls, %d differ from the kernel's answers "
	   "on a memfd of the same content", seeks, bad_seeks);
	for (int i = 0; i < nobj; i++)
		unlink(names[i]);
	return failures ? 1 : 0;
}

/* --- fill, check, race -------------------------------------------------------- */

static void pattern(uint8_t *b, size_t off, uint64_t seed)
{
	uint64_t s = off / PAGE * 2654435761u + seed + 1;

	for (size_t i = 0; i < PAGE; i += 8) {
		uint64_t v = rng(&s);

		memcpy(b + i, &v, 8);
	}
}

static int fill_check(const char *path, int mib, uint64_t seed, int check)
{
	uint8_t b[PAGE], got[PAGE];
	size_t size = (size_t)mib << 20;
	int fd = open(path, check ? O_RDONLY : O_RDWR | O_CREAT | O_TRUNC, 0600), bad = 0;

	if (fd < 0) {
		perror(path);
		return 2;
	}
	for (size_t off = 0; off < size; off += PAGE) {
		pattern(b, off, seed);
		if (check)
			bad += pread(fd, got, PAGE, off) != PAGE || memcmp(got, b, PAGE);
		else if (pwrite(fd, b, PAGE, off) != PAGE)
			return 2;
	}
	close(fd);
	if (check)
		ok(bad == 0, "%s: %d MiB as written (%d pages differ)", path, mib, bad);
	return bad ? 1 : 0;
}

static int race(const char *path, int mib, double seconds)
{
	size_t pages = (size_t)mib << 8;
	uint64_t gen = 0, *b = malloc(PAGE);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), bad = 0;
	double end = now() + seconds;

	if (fd < 0 || !b)
		return 2;
	/* rounds of writes over the whole file: each page gets the round's
	 * number; the pager moves pages out all the while */
	while (now() < end || gen == 0) {
		gen++;
		for (size_t p = 0; p < pages; p++) {
			for (size_t i = 0; i < PAGE / 8; i++)
				b[i] = gen << 32 | p;
			if (pwrite(fd, b, PAGE, p * PAGE) != PAGE)
				return 2;
		}
	}
	for (size_t p = 0; p < pages; p++) {
		if (pread(fd, b, PAGE, p * PAGE) != PAGE) {
			bad++;
			continue;
		}
		for (size_t i = 0; i < PAGE / 8; i++)
			if (b[i] != (gen << 32 | p)) {
				bad++;
				break;
			}
	}
	close(fd);
	ok(bad == 0, "%llu rounds of writes over %d MiB racing with page-out: %d pages lost",
	   (unsigned long long)gen, mib, bad);
	return bad ? 1 : 0;
}

static int sysv(int key, int mib, uint64_t seed, int check, int lock)
{
	size_t size = (size_t)mib << 20;
	int id = shmget(key, size, check ? 0 : IPC_CREAT | IPC_EXCL | 0600), bad = 0;
	uint8_t *m, b[PAGE];

	if (id < 0 || (m = shmat(id, NULL, 0)) == (void *)-1) {
		perror("shm");
		return 2;
	}
	/* locked before a page is written: none may ever go out */
	if (lock && shmctl(id, SHM_LOCK, NULL) < 0)
		perror("SHM_LOCK");
	for (size_t off = 0; off < size; off += PAGE) {
		pattern(b, off, seed);
		if (check)
			bad += memcmp(m + off, b, PAGE) != 0;
		else
			memcpy(m + off, b, PAGE);
	}
	shmdt(m);
	if (check) {
		shmctl(id, IPC_RMID, NULL);
		ok(bad == 0, "segment %#x: %d MiB as written (%d pages differ)", key, mib, bad);
	}
	return bad ? 1 : 0;
}

static int race_map(const char *path, int mib, double seconds)
{
	size_t pages = (size_t)mib << 8, size = (size_t)mib << 20;
	uint64_t gen = 0, *m;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), bad = 0;
	double end = now() + seconds;

	if (fd < 0 || ftruncate(fd, size) < 0)
		return 2;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 2;
	while (now() < end || gen == 0) {
		gen++;
		for (size_t p = 0; p < pages; p++)
			for (size_t i = 0; i < PAGE / 8; i++)
				m[p * (PAGE / 8) + i] = gen << 32 | p;
	}
	munmap(m, size);
	/* through the fd, then through a new mapping */
	for (size_t p = 0; p < pages; p++) {
		uint64_t b[PAGE / 8];

		if (pread(fd, b, PAGE, p * PAGE) != PAGE || b[0] != (gen << 32 | p) ||
		    b[PAGE / 8 - 1] != (gen << 32 | p))
			bad++;
	}
	close(fd);
	ok(bad == 0, "%llu rounds of stores through a mapping of %d MiB racing with page-out: %d "
	   "pages lost", (unsigned long long)gen, mib, bad);
	return bad ? 1 : 0;
}

static int touch(const char *path, int mib)
{
	size_t size = (size_t)mib << 20;
	int fd = open(path, O_RDONLY);
	volatile uint8_t *m;
	unsigned sum = 0;

	if (fd < 0)
		return 2;
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 2;
	printf("mapped\n");
	fflush(stdout);
	/* until killed; a minute at most, should the kill miss */
	for (time_t end = time(NULL) + 60; time(NULL) < end;)
		for (size_t off = 0; off < size; off += PAGE)
			sum += m[off];
	return sum == 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "touch"))
		return touch(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "race-map"))
		return race_map(argv[2], atoi(argv[3]), atof(argv[4]));
	if ((argc == 5 || argc == 6) && !strncmp(argv[1], "sysv-", 5))
		return sysv(strtol(argv[2], NULL, 0), atoi(argv[3]), strtoull(argv[4], NULL, 0),
			    !strcmp(argv[1], "sysv-check"), argc == 6);
	if (argc == 8 && !strcmp(argv[1], "model") && !strcmp(argv[7], "keep"))
		keep_maps = 1;
	if ((argc == 7 || (argc == 8 && keep_maps)) && !strcmp(argv[1], "model"))
		return model_test(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]),
				  strtoull(argv[6], NULL, 0));
	if (argc == 5 && (!strcmp(argv[1], "fill") || !strcmp(argv[1], "check")))
		return fill_check(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0),
				  argv[1][0] == 'c');
	if (argc == 5 && !strcmp(argv[1], "race"))
		return race(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: shx-paging model NOBJ MIB NPROC SECONDS SEED | fill|check PATH "
			"MIB SEED | race PATH MIB SECONDS\n");
	return 2;
}
