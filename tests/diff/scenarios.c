/* tests/diff/scenarios.c -- the scenarios of the differential test and their
 * table.  Each scenario makes calls on /dev/shm and records what it sees with
 * the API of diff.h; the kernel's tmpfs gives the expected lines.  Scenarios
 * go on after a failed step (the next calls then fail with EBADF and the
 * like, which the comparison shows), create objects only through path(),
 * shmname() and objname(), and unlink them before returning. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <spawn.h>
#include <sys/wait.h>
#include <semaphore.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "diff.h"

/* ============================================================ shm_open */

static void sc_shm_create_excl(void)
{
	int fd, fd2;

	fd = obs_shm_open("shm_open O_CREAT|O_EXCL|O_RDWR 0600", "a",
			  O_CREAT | O_EXCL | O_RDWR, 0600);
	obs_fstat("fstat", fd);
	xclose(obs_shm_open("shm_open O_CREAT|O_EXCL on existing", "a",
			    O_CREAT | O_EXCL | O_RDWR, 0600));
	/* the mode argument only applies to a new object */
	fd2 = obs_shm_open("shm_open O_CREAT on existing 0644", "a",
			   O_CREAT | O_RDWR, 0644);
	obs_fstat("fstat second fd", fd2);
	obs_pstat("stat path", path("a"));
	obs_ret("shm_unlink", shm_unlink(shmname("a")));
	obs_ret("shm_unlink again", shm_unlink(shmname("a")));
	xclose(obs_shm_open("shm_open without O_CREAT after unlink", "a",
			    O_RDWR, 0));
	obs_pstat("stat path after unlink", path("a"));
	xclose(fd);
	xclose(fd2);
}

static void sc_shm_names(void)
{
	static const char *bad[] = { "", "/", "//", ".", ".." };
	size_t i;
	int fd;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fd = shm_open(bad[i], O_CREAT | O_RDWR, 0600);
		obs_fd(fmt("shm_open \"%s\" O_CREAT|O_RDWR", bad[i]), fd);
		xclose(fd);
		obs_ret(fmt("shm_unlink \"%s\"", bad[i]), shm_unlink(bad[i]));
	}
	fd = shm_open(fmt("%s/b", shmname("a")), O_CREAT | O_RDWR, 0600);
	obs_fd("shm_open \"/<name>/b\"", fd);
	xclose(fd);
	obs_ret("shm_unlink \"/<name>/b\"",
		shm_unlink(fmt("%s/b", shmname("a"))));
	/* leading slashes are stripped, any number of them */
	fd = shm_open(fmt("//%s", objname("a")), O_CREAT | O_RDWR, 0600);
	obs_fd("shm_open \"//<name>\"", fd);
	obs_pstat("stat path of \"//<name>\"", path("a"));
	obs_fstat("fstat", fd);
	xclose(fd);
	fd = shm_open(objname("a"), O_RDWR, 0);
	obs_fd("shm_open without leading slash", fd);
	obs_fstat("fstat", fd);
	xclose(fd);
	obs_ret("shm_unlink \"///<name>\"",
		shm_unlink(fmt("///%s", objname("a"))));
	obs_pstat("stat path after unlink", path("a"));
}

static void sc_shm_name_length(void)
{
	/* glibc 2.36 hands names of up to 259 chars to the kernel and fails
	 * longer ones itself, with other errnos */
	static const size_t lens[] = { 254, 255, 256, 259, 260, 300 };
	size_t i;
	int fd;

	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		const char *tag = tag_of_len(lens[i]);
		fd = shm_open(shmname(tag), O_CREAT | O_RDWR, 0600);
		obs_fd(fmt("shm_open name of %zu chars", lens[i]), fd);
		xclose(fd);
		obs_ret(fmt("shm_unlink name of %zu chars", lens[i]),
			shm_unlink(shmname(tag)));
	}
}

static void sc_shm_rdonly(void)
{
	int fd, ro;
	void *m;

	fd = obs_shm_open("shm_open O_CREAT|O_RDWR", "a", O_CREAT | O_RDWR,
			  0644);
	obs_write("write", fd, "hello");
	xclose(fd);
	ro = obs_shm_open("shm_open O_RDONLY", "a", O_RDONLY, 0);
	obs_fdflags("flags", ro);
	obs_write("write on O_RDONLY", ro, "x");
	obs_ret("ftruncate on O_RDONLY", ftruncate(ro, 0));
	obs_ret("fallocate on O_RDONLY", fallocate(ro, 0, 0, PAGE));
	obs_read("read", ro, 16);
	obs_mmap("mmap PROT_WRITE MAP_SHARED on O_RDONLY", PAGE,
		 PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
	m = obs_mmap("mmap PROT_READ MAP_SHARED", PAGE, PROT_READ, MAP_SHARED,
		     ro, 0);
	if (m) {
		obs_data("mapping", m, 6);
		munmap(m, PAGE);
	}
	obs_fstat("fstat", ro);
	xclose(ro);
	obs_ret("shm_unlink", shm_unlink(shmname("a")));
}

static void sc_shm_flags(void)
{
	int fd, fd2;
	mode_t old;

	fd = obs_shm_open("shm_open O_CREAT|O_RDWR", "a", O_CREAT | O_RDWR,
			  0666);
	obs_fdflags("flags (glibc adds O_CLOEXEC)", fd);
	obs_fstat("fstat (umask 022)", fd);
	obs_write("write", fd, "some data");
	fd2 = obs_shm_open("shm_open O_RDWR|O_TRUNC", "a", O_RDWR | O_TRUNC,
			   0);
	obs_fstat("fstat after O_TRUNC", fd);
	xclose(fd2);
	fd2 = obs_shm_open("shm_open O_RDONLY", "a", O_RDONLY, 0);
	obs_fdflags("flags", fd2);
	xclose(fd2);
	old = umask(027);
	fd2 = obs_shm_open("shm_open b O_CREAT 0666 under umask 027", "b",
			   O_CREAT | O_RDWR, 0666);
	umask(old);
	obs_fstat("fstat b", fd2);
	xclose(fd2);
	xclose(fd);
	obs_ret("shm_unlink a", shm_unlink(shmname("a")));
	obs_ret("shm_unlink b", shm_unlink(shmname("b")));
}

static void create_with_data(void *arg)
{
	int fd = obs_shm_open("shm_open O_CREAT|O_EXCL|O_RDWR", "a",
			      O_CREAT | O_EXCL | O_RDWR, 0640);
	obs_write("write", fd, (const char *)arg);
	/* exits without closing: the object must outlive the process */
}

static void sc_shm_child_persist(void)
{
	int fd;

	obs_child("child creates the object and exits", create_with_data,
		  "made by the child");
	fd = obs_shm_open("shm_open in parent", "a", O_RDONLY, 0);
	obs_fstat("fstat", fd);
	obs_read("read", fd, 64);
	xclose(fd);
	obs_ret("shm_unlink", shm_unlink(shmname("a")));
}

static void sc_shm_unlink_open(void)
{
	int fd, fd2;

	fd = obs_shm_open("shm_open", "a", O_CREAT | O_RDWR, 0600);
	obs_write("write", fd, "still here");
	obs_ret("shm_unlink while open", shm_unlink(shmname("a")));
	obs_fstat("fstat after unlink", fd);
	obs_pread("pread after unlink", fd, 64, 0);
	obs_pwrite("pwrite after unlink", fd, "STILL", 0);
	obs_pread("pread after unlink", fd, 64, 0);
	fd2 = obs_shm_open("shm_open same name again", "a", O_CREAT | O_RDWR,
			   0600);
	obs_fstat("fstat new object", fd2);
	obs_fstat("fstat old object", fd);
	xclose(fd2);
	xclose(fd);
	obs_ret("shm_unlink new object", shm_unlink(shmname("a")));
}

/* Both processes map the object while both are alive; each sees the
 * other's stores without any msync. */
static void sc_shm_mmap_two_procs(void)
{
	int fd, to_child[2], to_parent[2];
	char *m;
	pid_t pid;

	fd = obs_shm_open("shm_open", "a", O_CREAT | O_RDWR, 0600);
	obs_ret("ftruncate", ftruncate(fd, PAGE));
	m = obs_mmap("parent mmap", PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		     fd, 0);
	if (!m || pipe(to_child) != 0 || pipe(to_parent) != 0) {
		obs("setup failed");
		goto out;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int cfd;
		char *cm;
		child_mode();
		close(to_child[1]);
		close(to_parent[0]);
		/* its own open and mapping, not the inherited ones */
		cfd = obs_shm_open("shm_open", "a", O_RDWR, 0);
		cm = obs_mmap("mmap", PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			      cfd, 0);
		if (cm)
			memcpy(cm, "from child", 10);
		sync_post(to_parent[1]);
		if (sync_wait(to_child[0]) && cm)
			obs_data("mapping after parent's store", cm, 11);
		exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	if (pid < 0) {
		obs("fork failed");
		close(to_child[1]);
		close(to_parent[0]);
		goto out;
	}
	if (sync_wait(to_parent[0]))
		obs_data("parent mapping after child's store", m, 11);
	memcpy(m, "from parent", 11);
	sync_post(to_child[1]);
	close(to_child[1]);
	close(to_parent[0]);
	obs_wait("child", pid);
	obs_pread("pread", fd, 16, 0);
out:
	if (m)
		munmap(m, PAGE);
	xclose(fd);
	obs_ret("shm_unlink", shm_unlink(shmname("a")));
}

/* ======================================================== open family */

static void sc_open_creat_umask(void)
{
	static const struct {
		const char *tag;
		mode_t umask, mode;
	} cases[] = {
		{ "a", 022, 0666 }, { "b", 077, 0666 }, { "c", 0, 0777 },
		{ "d", 0, 04755 },  { "e", 0777, 0666 },
	};
	mode_t old = umask(022);
	size_t i;
	int fd;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		umask(cases[i].umask);
		fd = obs_open(fmt("open %s O_CREAT|O_RDWR %04o umask %03o",
				  cases[i].tag, (unsigned)cases[i].mode,
				  (unsigned)cases[i].umask),
			      path(cases[i].tag), O_CREAT | O_RDWR,
			      cases[i].mode);
		obs_fstat("fstat", fd);
		/* the creator's fd works whatever mode the file got */
		obs_write("write", fd, "x");
		xclose(fd);
	}
	umask(0);
	probe_open("open a O_CREAT 0600 on existing", path("a"),
		   O_CREAT | O_RDWR, 0600);
	obs_pstat("stat a keeps its mode", path("a"));
	umask(old);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		rm(cases[i].tag);
}

static void sc_open_excl(void)
{
	xclose(mk("a", "abc"));
	probe_open("open O_CREAT|O_EXCL on existing", path("a"),
		   O_CREAT | O_EXCL | O_RDWR, 0644);
	/* without O_CREAT, O_EXCL is ignored for regular files */
	probe_open("open O_EXCL without O_CREAT on existing", path("a"),
		   O_EXCL | O_RDWR, 0);
	probe_open("open O_CREAT|O_EXCL on missing", path("b"),
		   O_CREAT | O_EXCL | O_RDWR, 0644);
	obs_pstat("stat b", path("b"));
	probe_open("open /dev/shm O_CREAT|O_EXCL", SHM_DIR,
		   O_CREAT | O_EXCL | O_RDWR, 0644);
	rm("a");
	rm("b");
}

static void sc_open_missing(void)
{
	probe_open("open missing O_RDONLY", path("a"), O_RDONLY, 0);
	probe_open("open missing O_RDWR", path("a"), O_RDWR, 0);
	probe_open("open missing O_WRONLY|O_TRUNC", path("a"),
		   O_WRONLY | O_TRUNC, 0);
	probe_open("open /dev/shm/nodir/x O_CREAT",
		   fmt("%s/x", path("nodir")), O_CREAT | O_RDWR, 0644);
	obs_pstat("stat: the failed opens created nothing", path("a"));
	obs_pstat("stat nodir", path("nodir"));
}

static void sc_open_notdir(void)
{
	xclose(mk("a", "abc"));
	probe_open("open file/x O_RDONLY", fmt("%s/x", path("a")), O_RDONLY,
		   0);
	probe_open("open file/x O_CREAT", fmt("%s/x", path("a")),
		   O_CREAT | O_RDWR, 0644);
	probe_open("open file/x/y", fmt("%s/x/y", path("a")), O_RDONLY, 0);
	obs_pstat("stat file", path("a"));
	rm("a");
}

static void sc_open_trailing_slash(void)
{
	probe_open("open missing/ O_CREAT|O_WRONLY",
		   fmt("%s/", path("a")), O_CREAT | O_WRONLY, 0644);
	obs_pstat("stat: nothing created", path("a"));
	xclose(mk("a", "abc"));
	probe_open("open file/ O_CREAT|O_WRONLY", fmt("%s/", path("a")),
		   O_CREAT | O_WRONLY, 0644);
	probe_open("open file/ O_RDONLY", fmt("%s/", path("a")), O_RDONLY, 0);
	probe_open("open file/. O_RDONLY", fmt("%s/.", path("a")), O_RDONLY,
		   0);
	obs_pstat("stat file", path("a"));
	rm("a");
}

static void sc_open_dir(void)
{
	struct stat st;
	int fd;

	probe_open("open /dev/shm O_RDWR", SHM_DIR, O_RDWR, 0);
	probe_open("open /dev/shm O_WRONLY", SHM_DIR, O_WRONLY, 0);
	probe_open("open /dev/shm O_CREAT|O_RDWR", SHM_DIR, O_CREAT | O_RDWR,
		   0644);
	probe_open("open /dev/shm/ O_RDWR", SHM_DIR "/", O_RDWR, 0);
	fd = obs_open("open /dev/shm O_RDONLY", SHM_DIR, O_RDONLY, 0);
	obs_dirstat("fstat", fstat(fd, &st), &st);
	obs_read("read on directory fd", fd, 16);
	obs_write("write on directory fd", fd, "x");
	xclose(fd);
	fd = obs_open("open /dev/shm/ O_RDONLY|O_DIRECTORY", SHM_DIR "/",
		      O_RDONLY | O_DIRECTORY, 0);
	obs_dirstat("fstat", fstat(fd, &st), &st);
	xclose(fd);
}

static void sc_open_odirectory(void)
{
	xclose(mk("a", "abc"));
	probe_open("open file O_DIRECTORY", path("a"), O_RDONLY | O_DIRECTORY,
		   0);
	probe_open("open missing O_DIRECTORY", path("b"),
		   O_RDONLY | O_DIRECTORY, 0);
	/* the combination is refused outright by recent kernels */
	probe_open("open missing O_DIRECTORY|O_CREAT", path("b"),
		   O_RDWR | O_DIRECTORY | O_CREAT, 0644);
	obs_pstat("stat b", path("b"));
	rm("a");
}

static void sc_open_name_length(void)
{
	char t255[NAME_MAX + 1], t256[NAME_MAX + 2], deep[PATH_MAX + 200];
	size_t n;

	/* own copies: the ring of name buffers turns over during the test */
	snprintf(t255, sizeof t255, "%s", tag_of_len(NAME_MAX));
	snprintf(t256, sizeof t256, "%s", tag_of_len(NAME_MAX + 1));

	probe_open("open name of 255 chars O_CREAT", path(t255),
		   O_CREAT | O_RDWR, 0644);
	obs_pstat("stat name of 255 chars", path(t255));
	obs_ret("unlink name of 255 chars", unlink(path(t255)));
	probe_open("open name of 256 chars O_CREAT", path(t256),
		   O_CREAT | O_RDWR, 0644);
	probe_open("open name of 256 chars", path(t256), O_RDONLY, 0);
	obs_pstat("stat name of 256 chars", path(t256));
	obs_ret("unlink name of 256 chars", unlink(path(t256)));
	/* short components but more than PATH_MAX in all */
	n = (size_t)snprintf(deep, sizeof deep, "%s", SHM_DIR);
	while (n < PATH_MAX + 10)
		n += (size_t)snprintf(deep + n, sizeof deep - n, "/.");
	snprintf(deep + n, sizeof deep - n, "/%s", objname("a"));
	probe_open("open path longer than PATH_MAX O_CREAT", deep,
		   O_CREAT | O_RDWR, 0644);
	obs_pstat("stat path longer than PATH_MAX", deep);
	obs_pstat("stat a: nothing created", path("a"));
}

/* form with each '@' replaced by name */
static const char *spell(const char *form, const char *name)
{
	char buf[1024];
	size_t n = 0;

	for (; *form && n + strlen(name) + 1 < sizeof buf; form++) {
		if (*form == '@') {
			memcpy(buf + n, name, strlen(name));
			n += strlen(name);
		} else {
			buf[n++] = *form;
		}
	}
	buf[n] = '\0';
	return fmt("%s", buf);
}

/* Non-canonical spellings of the same object; the kernel resolves
 * components one by one, so "nodir/.." fails although it reads as "". */
static void sc_open_path_forms(void)
{
	static const char *forms[] = {
		"/dev/shm//@",	       "/dev/shm/./@",	     "/dev//shm/@",
		"//dev/shm/@",	       "/dev/../dev/shm/@", "/dev/shm/../shm/@",
		"/dev/shm/nodir/../@", "/dev/shm/@/../@",
	};
	size_t i;
	int fd;

	fd = mk("a", "abc");
	obs_fstat("fstat a", fd);
	for (i = 0; i < sizeof forms / sizeof forms[0]; i++)
		obs_pstat(fmt("stat %s", forms[i]), spell(forms[i], objname("a")));
	probe_open("open /dev/shm/./b O_CREAT", spell("/dev/shm/./@",
						      objname("b")),
		   O_CREAT | O_RDWR, 0644);
	probe_open("open /dev//shm/c O_CREAT", spell("/dev//shm/@",
						     objname("c")),
		   O_CREAT | O_RDWR, 0644);
	obs_pstat("stat b", path("b"));
	obs_pstat("stat c", path("c"));
	obs_list("readdir", SHM_DIR);
	xclose(fd);
	rm("a");
	rm("b");
	rm("c");
}

static void sc_open_trunc(void)
{
	int fd, fd2;

	fd = mk("a", "hello world");
	fd2 = obs_open("open O_WRONLY|O_TRUNC", path("a"), O_WRONLY | O_TRUNC,
		       0);
	obs_fstat("fstat", fd);
	obs_write("write", fd2, "hi");
	xclose(fd2);
	/* Linux truncates even with O_RDONLY (the result is unspecified by
	 * POSIX, but it is what programs on /dev/shm get) */
	fd2 = obs_open("open O_RDONLY|O_TRUNC", path("a"), O_RDONLY | O_TRUNC,
		       0);
	obs_fstat("fstat", fd);
	xclose(fd2);
	obs_pwrite("pwrite", fd, "again", 0);
	probe_open("open O_RDWR|O_TRUNC|O_CREAT on existing", path("a"),
		   O_RDWR | O_TRUNC | O_CREAT, 0600);
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

static void sc_open_append(void)
{
	int fd;

	xclose(mk("a", "abc"));
	fd = obs_open("open O_WRONLY|O_APPEND", path("a"), O_WRONLY | O_APPEND,
		      0);
	obs_fdflags("flags", fd);
	obs_off("offset after open", fd);
	obs_write("write def", fd, "def");
	obs_off("offset", fd);
	obs_ret("lseek 0", lseek(fd, 0, SEEK_SET));
	obs_write("write gh after lseek 0", fd, "gh");
	obs_off("offset", fd);
	/* Linux appends even for pwrite (a documented deviation) */
	obs_pwrite("pwrite X at 0", fd, "X", 0);
	obs_off("offset after pwrite", fd);
	obs_ret("F_SETFL 0 (clear O_APPEND)", fcntl(fd, F_SETFL, 0));
	obs_fdflags("flags", fd);
	obs_ret("lseek 1", lseek(fd, 1, SEEK_SET));
	obs_write("write Y", fd, "Y");
	obs_ret("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
	obs_fdflags("flags", fd);
	obs_write("write Z", fd, "Z");
	xclose(fd);
	fd = obs_open("open O_RDONLY", path("a"), O_RDONLY, 0);
	obs_read("read", fd, 64);
	xclose(fd);
	rm("a");
}

static void sc_open_cloexec(void)
{
	int fd;

	fd = obs_open("open O_CREAT|O_RDWR|O_CLOEXEC", path("a"),
		      O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	obs_fdflags("flags", fd);
	obs_ret("F_SETFD 0", fcntl(fd, F_SETFD, 0));
	obs_fdflags("flags", fd);
	xclose(fd);
	fd = obs_open("open O_RDWR", path("a"), O_RDWR, 0);
	obs_fdflags("flags", fd);
	obs_ret("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
	obs_fdflags("flags", fd);
	xclose(fd);
	fd = obs_open("open O_RDONLY|O_NONBLOCK", path("a"),
		      O_RDONLY | O_NONBLOCK, 0);
	obs_fdflags("flags", fd);
	xclose(fd);
	rm("a");
}

static void sc_open_accmode(void)
{
	static const struct {
		const char *name;
		int flags;
	} modes[] = { { "O_RDONLY", O_RDONLY },
		      { "O_WRONLY", O_WRONLY },
		      { "O_RDWR", O_RDWR } };
	size_t i;
	int fd;

	xclose(mk("a", "0123456789"));
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		fd = obs_open(fmt("open %s", modes[i].name), path("a"),
			      modes[i].flags, 0);
		obs_fdflags("flags", fd);
		obs_read("read 4", fd, 4);
		obs_write("write", fd, "ab");
		obs_off("offset", fd);
		xclose(fd);
	}
	obs_pstat("stat", path("a"));
	rm("a");
}

static void sc_open64(void)
{
	int fd;

	fd = open64(path("a"), O_CREAT | O_RDWR, 0640);
	obs_fd("open64 O_CREAT", fd);
	obs_write("write", fd, "sixty-four");
	obs_fstat("fstat", fd);
	xclose(fd);
	fd = openat64(AT_FDCWD, path("a"), O_RDONLY);
	obs_fd("openat64 AT_FDCWD", fd);
	obs_read("read", fd, 64);
	xclose(fd);
	fd = creat64(path("b"), 0600);
	obs_fd("creat64", fd);
	obs_fdflags("flags", fd);
	xclose(fd);
	obs_pstat("stat b", path("b"));
	fd = open64(path("c"), O_RDONLY);
	obs_fd("open64 missing", fd);
	xclose(fd);
	rm("a");
	rm("b");
}

static void sc_openat(void)
{
	int fd, root;

	fd = openat(AT_FDCWD, path("a"), O_CREAT | O_RDWR | O_EXCL, 0644);
	obs_fd("openat AT_FDCWD absolute O_CREAT", fd);
	obs_write("write", fd, "at");
	xclose(fd);
	/* an absolute path ignores the directory fd, even a bad one */
	root = open("/", O_RDONLY | O_DIRECTORY);
	fd = openat(root, path("a"), O_RDONLY);
	obs_fd("openat dirfd=/ absolute", fd);
	obs_read("read", fd, 8);
	xclose(fd);
	xclose(root);
	fd = openat(-1, path("a"), O_RDONLY);
	obs_fd("openat dirfd=-1 absolute", fd);
	obs_fstat("fstat", fd);
	xclose(fd);
	fd = openat(AT_FDCWD, path("b"), O_RDONLY);
	obs_fd("openat AT_FDCWD missing", fd);
	xclose(fd);
	rm("a");
}

/* Relative names resolved against the cwd or a directory fd that is
 * /dev/shm are the same objects as the absolute ones. */
static void sc_openat_relative(void)
{
	struct stat st;
	int dfd, fd, fd2;

	dfd = obs_open("open /dev/shm O_DIRECTORY", SHM_DIR,
		       O_RDONLY | O_DIRECTORY, 0);
	fd = openat(dfd, objname("a"), O_CREAT | O_RDWR, 0644);
	obs_fd("openat dirfd relative O_CREAT", fd);
	obs_write("write", fd, "relative");
	obs_fstat("fstat", fd);
	obs_pstat("stat absolute", path("a"));
	obs_stat("fstatat dirfd relative",
		 fstatat(dfd, objname("a"), &st, 0), &st);
	fd2 = openat(fd, objname("a"), O_RDONLY);
	obs_fd("openat with a file as dirfd", fd2);
	xclose(fd2);
	fd2 = openat(-1, objname("a"), O_RDONLY);
	obs_fd("openat dirfd=-1 relative", fd2);
	xclose(fd2);
	xclose(fd);
	obs_ret("chdir /dev/shm", chdir(SHM_DIR));
	fd = open(objname("b"), O_CREAT | O_RDWR, 0600);
	obs_fd("open relative to cwd O_CREAT", fd);
	obs_fstat("fstat", fd);
	obs_pstat("stat absolute", path("b"));
	obs_pstat("stat ./name", fmt("./%s", objname("a")));
	xclose(fd);
	obs_ret("unlinkat dirfd relative", unlinkat(dfd, objname("a"), 0));
	obs_ret("unlink relative to cwd", unlink(objname("b")));
	obs_pstat("stat a", path("a"));
	obs_pstat("stat b", path("b"));
	xclose(dfd);
}

static void sc_creat(void)
{
	int fd;

	fd = creat(path("a"), 0640);
	obs_fd("creat 0640", fd);
	obs_fdflags("flags", fd);
	obs_write("write", fd, "created");
	obs_read("read on creat fd", fd, 8);
	obs_fstat("fstat", fd);
	xclose(fd);
	/* creat on an existing file truncates it and keeps its mode */
	fd = creat(path("a"), 0600);
	obs_fd("creat on existing", fd);
	obs_fstat("fstat", fd);
	xclose(fd);
	fd = creat(fmt("%s/x", path("nodir")), 0600);
	obs_fd("creat in missing dir", fd);
	xclose(fd);
	rm("a");
}

/* Whole contents of an object, through a separate open. */
static void obs_contents(const char *label, const char *tag)
{
	int fd = open(path(tag), O_RDONLY);
	if (fd < 0)
		obs_fd(label, fd);
	else
		obs_pread(label, fd, 256, 0);
	xclose(fd);
}

/* =============================================================== fopen */

static FILE *obs_fopen(const char *label, const char *p, const char *mode)
{
	FILE *f = fopen(p, mode);
	int e = errno;
	obs("%s \"%s\": ret=%s errno=%s", label, mode, f ? "FILE" : "NULL",
	    f ? "0" : errname(e));
	return f;
}

static void probe_fopen(const char *label, const char *p, const char *mode)
{
	FILE *f = obs_fopen(label, p, mode);
	if (f)
		fclose(f);
}

static void sc_fopen_errors(void)
{
	probe_fopen("fopen missing", path("a"), "r");
	probe_fopen("fopen missing", path("a"), "r+");
	obs_pstat("stat: nothing created", path("a"));
	probe_fopen("fopen nodir/x", fmt("%s/x", path("nodir")), "w");
	/* glibc needs r, w or a first: "x" alone is not a mode */
	probe_fopen("fopen", path("a"), "x");
	probe_fopen("fopen", path("a"), "q");
	obs_pstat("stat: nothing created", path("a"));
	probe_fopen("fopen /dev/shm", SHM_DIR, "w");
	probe_fopen("fopen /dev/shm", SHM_DIR, "r+");
}

static void sc_fopen_write_read(void)
{
	char line[64] = "";
	FILE *f;
	size_t n;

	f = obs_fopen("fopen", path("a"), "w");
	if (f) {
		obs("fputs: %s",
		    fputs("hello\nworld\n", f) == EOF ? "EOF" : "ok");
		obs("fclose: %d", fclose(f));
	}
	obs_pstat("stat", path("a"));
	f = obs_fopen("fopen", path("a"), "r");
	if (f) {
		obs("fgets: %s", fgets(line, sizeof line, f) ? "ok" : "NULL");
		obs_data("line", line, (long)strlen(line));
		obs("ftell: %ld", ftell(f));
		n = fwrite("x", 1, 1, f);
		obs("fwrite on \"r\" stream: %zu ferror=%d", n, ferror(f) != 0);
		obs("fclose: %d", fclose(f));
	}
	f = obs_fopen("fopen (glibc reads through mmap)", path("a"), "rm");
	if (f) {
		n = fread(line, 1, sizeof line, f);
		obs_data("fread", line, (long)n);
		obs("feof: %d", feof(f) != 0);
		obs("fclose: %d", fclose(f));
	}
	obs_contents("contents", "a");
	rm("a");
}

static void sc_fopen_append(void)
{
	char buf[64];
	FILE *f;
	size_t n;

	xclose(mk("a", "abc"));
	f = obs_fopen("fopen", path("a"), "a");
	if (f) {
		obs("ftell after open: %ld", ftell(f));
		fputs("def", f);
		obs("fseek 0: %d", fseek(f, 0, SEEK_SET));
		fputs("g", f);
		obs("ftell after write: %ld", ftell(f));
		obs("fclose: %d", fclose(f));
	}
	obs_contents("contents", "a");
	f = obs_fopen("fopen", path("a"), "a+");
	if (f) {
		/* a+ reads from the start, writes at the end */
		n = fread(buf, 1, 3, f);
		obs_data("fread 3", buf, (long)n);
		obs("fseek (switch to writing): %d", fseek(f, 0, SEEK_CUR));
		fputs("h", f);
		obs("fclose: %d", fclose(f));
	}
	obs_contents("contents", "a");
	f = obs_fopen("fopen missing", path("b"), "a");
	if (f)
		obs("fclose: %d", fclose(f));
	obs_pstat("stat b", path("b"));
	rm("a");
	rm("b");
}

static void sc_fopen_update(void)
{
	char buf[64];
	FILE *f;
	size_t n;

	xclose(mk("a", "hello"));
	f = obs_fopen("fopen", path("a"), "r+");
	if (f) {
		obs("ftell: %ld", ftell(f));
		fputs("J", f);
		obs("fseek 0: %d", fseek(f, 0, SEEK_SET));
		n = fread(buf, 1, sizeof buf, f);
		obs_data("fread", buf, (long)n);
		obs("fclose: %d", fclose(f));
	}
	f = obs_fopen("fopen existing", path("a"), "w+");
	if (f) {
		obs_pstat("stat after open", path("a"));
		fputs("new", f);
		rewind(f);
		n = fread(buf, 1, sizeof buf, f);
		obs_data("fread", buf, (long)n);
		obs("fclose: %d", fclose(f));
	}
	obs_pstat("stat", path("a"));
	obs_contents("contents", "a");
	rm("a");
}

static void sc_fopen_excl(void)
{
	FILE *f;

	xclose(mk("a", "abc"));
	probe_fopen("fopen existing", path("a"), "wx");
	obs_contents("contents untouched", "a");
	f = obs_fopen("fopen missing", path("b"), "wx");
	if (f) {
		fputs("exclusive", f);
		obs("fclose: %d", fclose(f));
	}
	obs_contents("contents", "b");
	probe_fopen("fopen existing", path("b"), "w+x");
	/* "e" is O_CLOEXEC */
	f = obs_fopen("fopen", path("a"), "re");
	if (f) {
		obs_fdflags("flags of fileno", fileno(f));
		fclose(f);
	}
	f = obs_fopen("fopen", path("a"), "r+");
	if (f) {
		obs_fdflags("flags of fileno", fileno(f));
		fclose(f);
	}
	f = obs_fopen("fopen", path("a"), "a");
	if (f) {
		obs_fdflags("flags of fileno", fileno(f));
		fclose(f);
	}
	rm("a");
	rm("b");
}

/* ======================================================= close, unlink */

static void sc_close_double(void)
{
	int fd, fd2;

	fd = mk("a", "abc");
	fd2 = dup(fd);
	obs_ret("close", close(fd));
	obs_ret("close again", close(fd));
	obs_ret("read on closed fd", read(fd, (char[4]){ 0 }, 4));
	obs_ret("lseek on closed fd", lseek(fd, 0, SEEK_SET));
	obs_fstat("fstat on closed fd", fd);
	/* the dup still refers to the open file */
	obs_pread("pread on dup", fd2, 8, 0);
	obs_ret("close dup", close(fd2));
	obs_ret("close dup again", close(fd2));
	rm("a");
}

static void sc_unlink_basic(void)
{
	xclose(mk("a", "abc"));
	obs_ret("unlink", unlink(path("a")));
	obs_pstat("stat after unlink", path("a"));
	obs_ret("unlink again", unlink(path("a")));
	probe_open("open after unlink", path("a"), O_RDONLY, 0);
	xclose(mk("b", "abc"));
	obs_ret("unlinkat AT_FDCWD", unlinkat(AT_FDCWD, path("b"), 0));
	obs_pstat("stat b", path("b"));
}

static void sc_unlink_errors(void)
{
	xclose(mk("a", "abc"));
	/* removing /dev/shm needs write access to /dev first: EACCES for a
	 * normal user, EISDIR for root */
	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	obs_ret("unlink /dev/shm", unlink(SHM_DIR));
	obs_ret("unlink /dev/shm/", unlink(SHM_DIR "/"));
	obs_ret("unlink nodir/x", unlink(fmt("%s/x", path("nodir"))));
	obs_ret("unlink file/x", unlink(fmt("%s/x", path("a"))));
	obs_ret("unlink file/", unlink(fmt("%s/", path("a"))));
	obs_ret("unlink name of 256 chars",
		unlink(path(tag_of_len(NAME_MAX + 1))));
	obs_ret("unlinkat file AT_REMOVEDIR",
		unlinkat(AT_FDCWD, path("a"), AT_REMOVEDIR));
	obs_ret("rmdir file", rmdir(path("a")));
	obs_pstat("stat a survived", path("a"));
	rm("a");
}

static void sc_unlink_open(void)
{
	int fd, fd2;
	char *m;

	fd = mk("a", "data of an unlinked file");
	m = obs_mmap("mmap", PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	obs_ret("unlink while open and mapped", unlink(path("a")));
	obs_fstat("fstat", fd);
	obs_pread("pread", fd, 64, 0);
	obs_pwrite("pwrite", fd, "DATA", 0);
	if (m)
		obs_data("mapping", m, 24);
	obs_ret("ftruncate", ftruncate(fd, 2 * PAGE));
	obs_fstat("fstat", fd);
	fd2 = obs_open("open by name", path("a"), O_RDONLY, 0);
	xclose(fd2);
	fd2 = mk("a", "");
	obs_fstat("fstat of a new file with the name", fd2);
	obs_fstat("fstat of the unlinked file", fd);
	if (m)
		munmap(m, PAGE);
	xclose(fd2);
	xclose(fd);
	rm("a");
}

/* ========================================================= stat family */

/* stat64 is its own symbol; its result is narrowed into a struct stat,
 * which loses nothing on 64-bit systems. */
static void obs_stat64(const char *label, const char *p)
{
	struct stat64 s64;
	struct stat st;
	int r = stat64(p, &s64);

	memset(&st, 0, sizeof st);
	st.st_dev = s64.st_dev;
	st.st_ino = (ino_t)s64.st_ino;
	st.st_mode = s64.st_mode;
	st.st_nlink = s64.st_nlink;
	st.st_uid = s64.st_uid;
	st.st_gid = s64.st_gid;
	st.st_size = (off_t)s64.st_size;
	st.st_blocks = (blkcnt_t)s64.st_blocks;
	st.st_blksize = s64.st_blksize;
	obs_stat(label, r, &st);
}

static void sc_stat_basic(void)
{
	struct stat st;
	int fd;

	fd = mk("a", "hello");
	obs_stat("stat", stat(path("a"), &st), &st);
	obs_stat("lstat", lstat(path("a"), &st), &st);
	obs_fstat("fstat", fd);
	obs_stat64("stat64", path("a"));
	xclose(fd);
	fd = obs_open("open O_RDONLY", path("a"), O_RDONLY, 0);
	obs_fstat("fstat of another open", fd);
	xclose(fd);
	fd = mk("b", "");
	obs_fstat("fstat of another file", fd);
	xclose(fd);
	rm("a");
	rm("b");
}

static void sc_stat_devshm(void)
{
	struct stat st;

	obs_dirstat("stat /dev/shm", stat(SHM_DIR, &st), &st);
	obs_dirstat("lstat /dev/shm", lstat(SHM_DIR, &st), &st);
	obs_dirstat("stat /dev/shm/", stat(SHM_DIR "/", &st), &st);
	obs_dirstat("stat /dev/shm/.", stat(SHM_DIR "/.", &st), &st);
	obs_dirstat("stat /dev/shm/..", stat(SHM_DIR "/..", &st), &st);
	obs_dirstat("stat /dev", stat("/dev", &st), &st);
	xclose(mk("a", ""));
	obs_pstat("stat a", path("a"));
	obs_dirstat("stat a/..", stat(fmt("%s/..", path("a")), &st), &st);
	rm("a");
}

static void sc_stat_errors(void)
{
	struct stat st;

	obs_pstat("stat missing", path("a"));
	obs_stat("lstat missing", lstat(path("a"), &st), &st);
	xclose(mk("a", "abc"));
	obs_pstat("stat file/", fmt("%s/", path("a")));
	obs_stat("lstat file/", lstat(fmt("%s/", path("a")), &st), &st);
	obs_pstat("stat file/x", fmt("%s/x", path("a")));
	obs_pstat("stat file/.", fmt("%s/.", path("a")));
	obs_pstat("stat nodir/x", fmt("%s/x", path("nodir")));
	obs_pstat("stat name of 256 chars", path(tag_of_len(NAME_MAX + 1)));
	obs_stat("fstat -1", fstat(-1, &st), &st);
	rm("a");
}

static void sc_fstatat(void)
{
	struct stat st;
	int fd;

	fd = mk("a", "at");
	obs_fstat("fstat", fd);
	obs_stat("fstatat AT_FDCWD", fstatat(AT_FDCWD, path("a"), &st, 0), &st);
	obs_stat("fstatat AT_FDCWD AT_SYMLINK_NOFOLLOW",
		 fstatat(AT_FDCWD, path("a"), &st, AT_SYMLINK_NOFOLLOW), &st);
	obs_stat("fstatat fd \"\" AT_EMPTY_PATH",
		 fstatat(fd, "", &st, AT_EMPTY_PATH), &st);
	obs_stat("fstatat fd \"\" without AT_EMPTY_PATH",
		 fstatat(fd, "", &st, 0), &st);
	obs_stat("fstatat AT_FDCWD missing",
		 fstatat(AT_FDCWD, path("b"), &st, 0), &st);
	obs_stat("fstatat bad flag",
		 fstatat(AT_FDCWD, path("a"), &st, 0x40000000), &st);
	obs_ret("unlink", unlink(path("a")));
	obs_stat("fstatat AT_EMPTY_PATH after unlink",
		 fstatat(fd, "", &st, AT_EMPTY_PATH), &st);
	xclose(fd);
}

static void sc_statx(void)
{
	struct statx x;
	struct stat st;
	int fd;

	fd = mk("a", "statx data");
	obs_fstat("fstat", fd);
	obs_statx("statx AT_FDCWD BASIC_STATS",
		  statx(AT_FDCWD, path("a"), 0, STATX_BASIC_STATS, &x), &x);
	obs_statx("statx fd \"\" AT_EMPTY_PATH",
		  statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x), &x);
	obs_statx("statx AT_SYMLINK_NOFOLLOW size only",
		  statx(AT_FDCWD, path("a"), AT_SYMLINK_NOFOLLOW, STATX_SIZE,
			&x), &x);
	obs_statx("statx missing",
		  statx(AT_FDCWD, path("b"), 0, STATX_BASIC_STATS, &x), &x);
	obs_statx("statx file/",
		  statx(AT_FDCWD, fmt("%s/", path("a")), 0, STATX_BASIC_STATS,
			&x), &x);
	obs_statx("statx reserved mask bit",
		  statx(AT_FDCWD, path("a"), 0, 0x80000000U, &x), &x);
	if (statx(AT_FDCWD, SHM_DIR, 0, STATX_BASIC_STATS, &x) == 0 &&
	    stat(SHM_DIR, &st) == 0)
		obs("statx /dev/shm: type=%s mode=%04o same dev as stat: %s",
		    S_ISDIR(x.stx_mode) ? "dir" : "other",
		    (unsigned)(x.stx_mode & 07777),
		    makedev(x.stx_dev_major, x.stx_dev_minor) == st.st_dev ?
			    "yes" : "no");
	else
		obs("statx /dev/shm: errno=%s", errname(errno));
	xclose(fd);
	rm("a");
}

/* tmpfs charges whole pages: st_blocks counts 512-byte units of them. */
static void sc_stat_blocks(void)
{
	int fd;

	fd = mk("a", "");
	obs_fstat("empty", fd);
	obs_pwrite("1 byte at 0", fd, "x", 0);
	obs_fstat("fstat", fd);
	obs_pwrite("1 byte at 4095", fd, "x", PAGE - 1);
	obs_fstat("fstat", fd);
	obs_pwrite("1 byte at 4096", fd, "x", PAGE);
	obs_fstat("fstat", fd);
	obs_pwrite("1 byte at 40960", fd, "x", 10 * PAGE);
	obs_fstat("fstat", fd);
	obs_ret("ftruncate 0", ftruncate(fd, 0));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* ============================================================== access */

static void sc_access(void)
{
	xclose(mk("a", "abc"));
	obs_ret("access F_OK", access(path("a"), F_OK));
	obs_ret("access R_OK|W_OK", access(path("a"), R_OK | W_OK));
	obs_ret("access missing F_OK", access(path("b"), F_OK));
	obs_ret("access file/x F_OK", access(fmt("%s/x", path("a")), F_OK));
	obs_ret("access bad mode", access(path("a"), 0100));
	obs_ret("faccessat AT_FDCWD R_OK",
		faccessat(AT_FDCWD, path("a"), R_OK, 0));
	obs_ret("faccessat AT_EACCESS W_OK",
		faccessat(AT_FDCWD, path("a"), W_OK, AT_EACCESS));
	obs_ret("faccessat missing", faccessat(AT_FDCWD, path("b"), F_OK, 0));
	obs_ret("access /dev/shm W_OK|X_OK", access(SHM_DIR, W_OK | X_OK));
	rm("a");
}

/* Root passes read/write checks regardless of the mode bits, but needs an
 * x bit somewhere for X_OK; the kernel decides, the euid is recorded so
 * the expectation is readable. */
static void sc_access_perm(void)
{
	int fd;

	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	fd = mk("a", "secret");
	obs_ret("fchmod 0000", fchmod(fd, 0));
	xclose(fd);
	obs_ret("access R_OK on 0000", access(path("a"), R_OK));
	obs_ret("access W_OK on 0000", access(path("a"), W_OK));
	obs_ret("access X_OK on 0000", access(path("a"), X_OK));
	probe_open("open O_RDWR on 0000", path("a"), O_RDWR, 0);
	obs_ret("chmod 0100", chmod(path("a"), 0100));
	obs_ret("access X_OK on 0100", access(path("a"), X_OK));
	obs_ret("chmod 0400", chmod(path("a"), 0400));
	obs_ret("access R_OK on 0400", access(path("a"), R_OK));
	obs_ret("access W_OK on 0400", access(path("a"), W_OK));
	fd = shm_open(shmname("a"), O_RDWR, 0);
	obs_fd("shm_open O_RDWR on 0400", fd);
	xclose(fd);
	rm("a");
}

/* =========================================================== ftruncate */

static void sc_ftruncate_resize(void)
{
	int fd;

	fd = mk("a", "0123456789");
	obs_ret("ftruncate grow 10000", ftruncate(fd, 10000));
	obs_fstat("fstat", fd);
	obs_pread("pread across old end", fd, 16, 4);
	obs_pread("pread near new end", fd, 64, 9990);
	obs_ret("ftruncate shrink 3", ftruncate(fd, 3));
	obs_fstat("fstat", fd);
	obs_ret("ftruncate grow 8", ftruncate(fd, 8));
	obs_pread("bytes past the shrink point are gone", fd, 64, 0);
	/* the offset is not clamped by a shrink */
	obs_off("offset", fd);
	obs_write("write at old offset", fd, "Z");
	obs_fstat("fstat", fd);
	obs_ret("ftruncate 0", ftruncate(fd, 0));
	obs_fstat("fstat", fd);
	obs_ret("ftruncate same size 0", ftruncate(fd, 0));
	xclose(fd);
	rm("a");
}

static void sc_ftruncate_errors(void)
{
	int fd, ro;

	fd = mk("a", "abc");
	obs_ret("ftruncate -1", ftruncate(fd, -1));
	ro = obs_open("open O_RDONLY", path("a"), O_RDONLY, 0);
	obs_ret("ftruncate on O_RDONLY", ftruncate(ro, 0));
	xclose(ro);
	ro = obs_open("open /dev/shm", SHM_DIR, O_RDONLY, 0);
	obs_ret("ftruncate on directory", ftruncate(ro, 0));
	xclose(ro);
	obs_ret("ftruncate on closed fd", ftruncate(-1, 0));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* Holes cost nothing: only written pages count in st_blocks. */
static void sc_ftruncate_sparse(void)
{
	int fd;

	fd = mk("a", "");
	obs_ret("ftruncate 1 MiB", ftruncate(fd, 256 * PAGE));
	obs_fstat("fstat", fd);
	obs_pwrite("1 byte at 64 KiB", fd, "x", 16 * PAGE);
	obs_fstat("fstat", fd);
	obs_pwrite("1 byte at 0", fd, "y", 0);
	obs_fstat("fstat", fd);
	obs_ret("ftruncate 64 KiB (drops the page at 64 KiB)",
		ftruncate(fd, 16 * PAGE));
	obs_fstat("fstat", fd);
	obs_ret("ftruncate 100 (partial first page stays)", ftruncate(fd, 100));
	obs_fstat("fstat", fd);
	obs_pread("pread", fd, 8, 0);
	xclose(fd);
	rm("a");
}

static void sc_truncate_path(void)
{
	int fd;

	fd = mk("a", "truncate me");
	obs_ret("truncate 8", truncate(path("a"), 8));
	obs_pread("pread", fd, 64, 0);
	obs_ret("truncate 2 pages", truncate(path("a"), 2 * PAGE));
	obs_fstat("fstat", fd);
	obs_ret("truncate -1", truncate(path("a"), -1));
	obs_ret("truncate missing", truncate(path("b"), 0));
	obs_ret("truncate /dev/shm", truncate(SHM_DIR, 0));
	obs_ret("truncate file/", truncate(fmt("%s/", path("a")), 0));
	obs_ret("truncate64 0", truncate64(path("a"), 0));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* =========================================================== fallocate */

static void sc_fallocate_modes(void)
{
	int fd;

	fd = mk("a", "");
	obs_ret("fallocate 0 0..8192", fallocate(fd, 0, 0, 2 * PAGE));
	obs_fstat("fstat", fd);
	obs_ret("fallocate KEEP_SIZE 8192..16384",
		fallocate(fd, FALLOC_FL_KEEP_SIZE, 2 * PAGE, 2 * PAGE));
	obs_fstat("fstat", fd);
	obs_pread("pread allocated range", fd, 2 * PAGE, 0);
	obs_pread("pread past size", fd, 16, 2 * PAGE);
	obs_ret("fallocate 0 inside (no change)", fallocate(fd, 0, 100, 100));
	obs_fstat("fstat", fd);
	obs_ret("fallocate 0 unaligned 10000..10001",
		fallocate(fd, 0, 10000, 1));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

static void sc_fallocate_punch(void)
{
	char page[PAGE];
	int fd;

	memset(page, 'p', sizeof page);
	fd = mk("a", "");
	obs_ret("pwrite page 0", pwrite(fd, page, PAGE, 0));
	obs_ret("pwrite page 1", pwrite(fd, page, PAGE, PAGE));
	obs_ret("pwrite page 2", pwrite(fd, page, PAGE, 2 * PAGE));
	obs_fstat("fstat", fd);
	obs_ret("PUNCH_HOLE|KEEP_SIZE page 1",
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PAGE,
			  PAGE));
	obs_fstat("fstat", fd);
	obs_pread("pread page 1", fd, PAGE, PAGE);
	obs_pread("pread page 2", fd, PAGE, 2 * PAGE);
	/* a partial page is zeroed but stays allocated */
	obs_ret("PUNCH_HOLE|KEEP_SIZE 10..20",
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10,
			  10));
	obs_fstat("fstat", fd);
	obs_pread("pread 0..24", fd, 24, 0);
	obs_ret("PUNCH_HOLE|KEEP_SIZE past the end",
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  10 * PAGE, PAGE));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

static void sc_fallocate_errors(void)
{
	int fd, ro;

	fd = mk("a", "abc");
	obs_ret("PUNCH_HOLE without KEEP_SIZE",
		fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE));
	obs_ret("COLLAPSE_RANGE",
		fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PAGE));
	obs_ret("ZERO_RANGE", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PAGE));
	obs_ret("INSERT_RANGE", fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, PAGE));
	obs_ret("unknown mode 0x4000", fallocate(fd, 0x4000, 0, PAGE));
	obs_ret("len 0", fallocate(fd, 0, 0, 0));
	obs_ret("len -1", fallocate(fd, 0, 0, -1));
	obs_ret("offset -1", fallocate(fd, 0, -1, PAGE));
	obs_ret("offset+len overflows",
		fallocate(fd, 0, INT64_MAX - 10, 100));
	ro = obs_open("open O_RDONLY", path("a"), O_RDONLY, 0);
	obs_ret("fallocate on O_RDONLY", fallocate(ro, 0, 0, PAGE));
	xclose(ro);
	ro = obs_open("open O_WRONLY|O_APPEND", path("a"), O_WRONLY | O_APPEND,
		      0);
	obs_ret("fallocate KEEP_SIZE on O_APPEND",
		fallocate(ro, FALLOC_FL_KEEP_SIZE, 0, PAGE));
	obs_ret("PUNCH_HOLE|KEEP_SIZE on O_APPEND",
		fallocate(ro, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			  PAGE));
	xclose(ro);
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* posix_fallocate reports failure by its return value, errno untouched. */
static void sc_posix_fallocate(void)
{
	int fd, ro;

	fd = mk("a", "abc");
	obs_err("posix_fallocate 0..3 pages", posix_fallocate(fd, 0, 3 * PAGE));
	obs_fstat("fstat", fd);
	obs_err("posix_fallocate inside", posix_fallocate(fd, 10, 10));
	obs_fstat("fstat", fd);
	obs_pread("pread", fd, 8, 0);
	obs_err("posix_fallocate len 0", posix_fallocate(fd, 0, 0));
	obs_err("posix_fallocate len -1", posix_fallocate(fd, 0, -1));
	obs_err("posix_fallocate offset+len overflows",
		posix_fallocate(fd, INT64_MAX - 10, 100));
	ro = open(path("a"), O_RDONLY);
	obs_err("posix_fallocate on O_RDONLY", posix_fallocate(ro, 0, PAGE));
	xclose(ro);
	obs_err("posix_fallocate on closed fd", posix_fallocate(-1, 0, PAGE));
	obs_err("posix_fallocate64", posix_fallocate64(fd, 0, 4 * PAGE));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* ============================================================ read/write */

static void sc_rw_roundtrip(void)
{
	int fd;

	fd = obs_open("open O_CREAT|O_RDWR", path("a"), O_CREAT | O_RDWR,
		      0644);
	obs_write("write", fd, "hello, world");
	obs_off("offset", fd);
	obs_read("read at end", fd, 16);
	obs_ret("lseek 0", lseek(fd, 0, SEEK_SET));
	obs_read("read 5", fd, 5);
	obs_read("read more than is left", fd, 64);
	obs_read("read at EOF", fd, 64);
	obs_ret("write 0 bytes", write(fd, "", 0));
	obs_read("read 0 bytes", fd, 0);
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

static void sc_pread_pwrite(void)
{
	int fd, wo;

	fd = mk("a", "0123456789");
	obs_ret("lseek 2", lseek(fd, 2, SEEK_SET));
	obs_pwrite("pwrite AB at 4", fd, "AB", 4);
	obs_off("offset unchanged", fd);
	obs_pread("pread 0..10", fd, 10, 0);
	obs_off("offset unchanged", fd);
	obs_pread("pread at EOF", fd, 10, 10);
	obs_pread("pread past EOF", fd, 10, 1000);
	obs_pwrite("pwrite past EOF at 20", fd, "end", 20);
	obs_pread("pread the gap", fd, 64, 0);
	obs_ret("pwrite at -1", pwrite(fd, "x", 1, -1));
	obs_ret("pread at -1", pread(fd, (char[4]){ 0 }, 1, -1));
	wo = obs_open("open O_WRONLY", path("a"), O_WRONLY, 0);
	obs_pread("pread on O_WRONLY", wo, 4, 0);
	xclose(wo);
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

static void sc_readv_writev(void)
{
	char b1[3], b2[5], b3[32];
	struct iovec w[3] = { { "abc", 3 }, { "", 0 }, { "defghij", 7 } };
	struct iovec r[3] = { { b1, 3 }, { b2, 5 }, { b3, sizeof b3 } };
	volatile int bad_count = -1; /* hidden from the compiler's checks */
	int fd;

	fd = mk("a", "");
	obs_ret("writev 3 iovecs", writev(fd, w, 3));
	obs_off("offset", fd);
	obs_ret("lseek 0", lseek(fd, 0, SEEK_SET));
	obs_ret("readv 3 iovecs", readv(fd, r, 3));
	obs_data("iov 0", b1, 3);
	obs_data("iov 1", b2, 5);
	obs_data("iov 2", b3, 2);
	obs_ret("pwritev at 2", pwritev(fd, w, 3, 2));
	obs_off("offset unchanged", fd);
	memset(b3, 0, sizeof b3);
	obs_ret("preadv at 1", preadv(fd, r, 3, 1));
	obs_data("iov 0", b1, 3);
	obs_data("iov 1", b2, 5);
	obs_data("iov 2", b3, 4);
	obs_ret("writev 0 iovecs", writev(fd, w, 0));
	obs_ret("writev -1 iovecs", writev(fd, w, bad_count));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* A megabyte of pattern in odd-sized pieces, read back in other pieces. */
static void sc_rw_large(void)
{
	static unsigned char buf[1 << 20], back[1 << 20];
	size_t i, done;
	ssize_t r;
	int fd;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + i / 4099);
	fd = mk("a", "");
	for (done = 0; done < sizeof buf; done += (size_t)r) {
		size_t n = sizeof buf - done < 12345 ? sizeof buf - done : 12345;
		r = write(fd, buf + done, n);
		if (r <= 0) {
			obs_ret("write", r);
			break;
		}
	}
	obs("written: %zu", done);
	obs_fstat("fstat", fd);
	obs_ret("lseek 0", lseek(fd, 0, SEEK_SET));
	for (done = 0; done < sizeof back; done += (size_t)r) {
		r = read(fd, back + done, 65536 + 3);
		if (r <= 0) {
			obs_ret("read", r);
			break;
		}
	}
	obs("read back: %zu", done);
	obs_data("data", back, (long)done);
	obs("equal to what was written: %s",
	    done == sizeof buf && memcmp(buf, back, done) == 0 ? "yes" : "no");
	xclose(fd);
	rm("a");
}

/* ================================================================ lseek */

static void sc_lseek_basic(void)
{
	int fd;

	fd = mk("a", "0123456789");
	obs_ret("SEEK_SET 3", lseek(fd, 3, SEEK_SET));
	obs_ret("SEEK_CUR +2", lseek(fd, 2, SEEK_CUR));
	obs_read("read 2", fd, 2);
	obs_ret("SEEK_CUR -4", lseek(fd, -4, SEEK_CUR));
	obs_ret("SEEK_END 0", lseek(fd, 0, SEEK_END));
	obs_ret("SEEK_END -3", lseek(fd, -3, SEEK_END));
	obs_read("read", fd, 8);
	obs_ret("SEEK_SET past EOF", lseek(fd, 1000000, SEEK_SET));
	obs_read("read past EOF", fd, 8);
	obs_write("write past EOF", fd, "!");
	obs_fstat("fstat", fd);
	obs_ret("SEEK_END +5", lseek(fd, 5, SEEK_END));
	obs_ret("lseek64 SEEK_SET 7", lseek64(fd, 7, SEEK_SET));
	xclose(fd);
	rm("a");
}

static void sc_lseek_errors(void)
{
	int fd;

	fd = mk("a", "0123456789");
	obs_ret("SEEK_SET 4", lseek(fd, 4, SEEK_SET));
	obs_ret("SEEK_SET -1", lseek(fd, -1, SEEK_SET));
	obs_ret("SEEK_CUR -5 before start", lseek(fd, -5, SEEK_CUR));
	obs_ret("SEEK_END -11 before start", lseek(fd, -11, SEEK_END));
	obs_ret("whence 99", lseek(fd, 0, 99));
	obs_ret("whence -1", lseek(fd, 0, -1));
	obs_off("offset kept after the errors", fd);
	obs_ret("lseek on closed fd", lseek(-1, 0, SEEK_SET));
	xclose(fd);
	rm("a");
}

/* Five pages: hole, data, hole, data, hole (the last only by ftruncate). */
static void sc_lseek_data_hole(void)
{
	static const struct {
		const char *what;
		off_t off;
	} at[] = {
		{ "0", 0 },		 { "page 1", PAGE },
		{ "page 1 + 100", PAGE + 100 }, { "page 2", 2 * PAGE },
		{ "page 3 + 1", 3 * PAGE + 1 }, { "page 4", 4 * PAGE },
		{ "size - 1", 5 * PAGE - 1 },	{ "size", 5 * PAGE },
		{ "past size", 6 * PAGE },	{ "-1", -1 },
	};
	size_t i;
	int fd;

	fd = mk("a", "");
	obs_ret("ftruncate 5 pages", ftruncate(fd, 5 * PAGE));
	obs_pwrite("pwrite page 1", fd, "data", PAGE);
	obs_pwrite("pwrite page 3", fd, "data", 3 * PAGE);
	for (i = 0; i < sizeof at / sizeof at[0]; i++) {
		obs_ret(fmt("SEEK_DATA from %s", at[i].what),
			lseek(fd, at[i].off, SEEK_DATA));
		obs_ret(fmt("SEEK_HOLE from %s", at[i].what),
			lseek(fd, at[i].off, SEEK_HOLE));
	}
	/* data up to the end: the only hole is the virtual one at EOF */
	obs_ret("ftruncate 4 pages", ftruncate(fd, 4 * PAGE - 10));
	obs_ret("SEEK_HOLE from page 3", lseek(fd, 3 * PAGE, SEEK_HOLE));
	obs_ret("SEEK_DATA from page 3 + 10", lseek(fd, 3 * PAGE + 10, SEEK_DATA));
	xclose(fd);
	rm("a");
}

static void sc_lseek_empty(void)
{
	int fd;

	fd = mk("a", "");
	obs_ret("SEEK_DATA 0 on empty", lseek(fd, 0, SEEK_DATA));
	obs_ret("SEEK_HOLE 0 on empty", lseek(fd, 0, SEEK_HOLE));
	obs_ret("ftruncate 3 pages", ftruncate(fd, 3 * PAGE));
	obs_ret("SEEK_DATA 0 on all-hole file", lseek(fd, 0, SEEK_DATA));
	obs_ret("SEEK_HOLE 0 on all-hole file", lseek(fd, 0, SEEK_HOLE));
	obs_ret("SEEK_HOLE from 5000", lseek(fd, 5000, SEEK_HOLE));
	xclose(fd);
	rm("a");
}

static void sc_lseek_punched(void)
{
	char page[PAGE];
	int fd, i;

	memset(page, 'd', sizeof page);
	fd = mk("a", "");
	for (i = 0; i < 4; i++)
		if (pwrite(fd, page, PAGE, i * PAGE) != PAGE)
			obs("setup: pwrite page %d: errno=%s", i,
			    errname(errno));
	obs_ret("SEEK_HOLE 0 on fully written", lseek(fd, 0, SEEK_HOLE));
	obs_ret("PUNCH_HOLE|KEEP_SIZE page 2",
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  2 * PAGE, PAGE));
	obs_ret("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	obs_ret("SEEK_DATA page 2", lseek(fd, 2 * PAGE, SEEK_DATA));
	obs_ret("PUNCH_HOLE|KEEP_SIZE 10..100 (partial page)",
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10,
			  90));
	obs_ret("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	obs_ret("SEEK_DATA 20", lseek(fd, 20, SEEK_DATA));
	xclose(fd);
	rm("a");
}

/* fallocate'd pages that were never written: tmpfs has them allocated
 * (st_blocks) but reports them as a hole to SEEK_DATA. */
static void sc_lseek_fallocated(void)
{
	int fd;

	fd = mk("a", "");
	obs_ret("fallocate 0 3 pages", fallocate(fd, 0, 0, 3 * PAGE));
	obs_fstat("fstat", fd);
	obs_ret("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
	obs_ret("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	obs_pwrite("pwrite page 1", fd, "x", PAGE);
	obs_ret("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
	obs_ret("SEEK_HOLE page 1", lseek(fd, PAGE, SEEK_HOLE));
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* ================================================================= mmap */

static void sc_mmap_shared(void)
{
	char *m;
	int fd;

	fd = mk("a", "");
	obs_ret("ftruncate 2 pages", ftruncate(fd, 2 * PAGE));
	m = obs_mmap("mmap MAP_SHARED rw", 2 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED, fd, 0);
	if (m) {
		memcpy(m, "via mapping", 11);
		memcpy(m + PAGE + 10, "page two", 8);
	}
	obs_pread("pread page 0", fd, 11, 0);
	obs_pread("pread page 1", fd, 8, PAGE + 10);
	obs_pwrite("pwrite", fd, "VIA FD", 0);
	if (m)
		obs_data("mapping after pwrite", m, 11);
	obs_fstat("fstat", fd);
	if (m) {
		obs_ret("msync", msync(m, 2 * PAGE, MS_SYNC));
		obs_ret("munmap", munmap(m, 2 * PAGE));
	}
	m = obs_mmap("mmap offset 1 page", PAGE, PROT_READ, MAP_SHARED, fd,
		     PAGE);
	if (m) {
		obs_data("mapping", m + 10, 8);
		munmap(m, PAGE);
	}
	obs_mmap("mmap unaligned offset", PAGE, PROT_READ, MAP_SHARED, fd, 100);
	obs_mmap("mmap length 0", 0, PROT_READ, MAP_SHARED, fd, 0);
	xclose(fd);
	rm("a");
}

static void sc_mmap_private(void)
{
	char *m;
	int fd;

	fd = mk("a", "original");
	m = obs_mmap("mmap MAP_PRIVATE rw", PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE, fd, 0);
	if (m) {
		obs_data("mapping", m, 8);
		memcpy(m, "PRIVATE!", 8);
	}
	obs_pread("file unchanged", fd, 8, 0);
	obs_pwrite("pwrite to page 0 after the copy", fd, "changed.", 0);
	if (m) {
		obs_data("private copy unchanged", m, 8);
		munmap(m, PAGE);
	}
	xclose(fd);
	rm("a");
}

static void sc_mmap_rdonly(void)
{
	char *m;
	int fd;

	xclose(mk("a", "read only"));
	fd = obs_open("open O_RDONLY", path("a"), O_RDONLY, 0);
	obs_mmap("mmap MAP_SHARED PROT_WRITE", PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	/* a private copy needs only read access to the file */
	m = obs_mmap("mmap MAP_PRIVATE PROT_WRITE", PAGE,
		     PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m) {
		memcpy(m, "READ", 4);
		munmap(m, PAGE);
	}
	obs_pread("file", fd, 16, 0);
	m = obs_mmap("mmap MAP_SHARED PROT_READ", PAGE, PROT_READ, MAP_SHARED,
		     fd, 0);
	if (m) {
		obs_ret("mprotect PROT_WRITE on it",
			mprotect(m, PAGE, PROT_READ | PROT_WRITE));
		munmap(m, PAGE);
	}
	xclose(fd);
	fd = obs_open("open O_WRONLY", path("a"), O_WRONLY, 0);
	obs_mmap("mmap O_WRONLY fd PROT_WRITE MAP_SHARED", PAGE, PROT_WRITE,
		 MAP_SHARED, fd, 0);
	xclose(fd);
	rm("a");
}

static void touch_second_page(void *arg)
{
	volatile char *m = arg;
	obs("byte in the last page, past EOF: %d", m[PAGE - 1]);
	obs("byte in the page after EOF: %d", m[PAGE]);
}

static void sc_mmap_sigbus(void)
{
	char *m;
	int fd;

	fd = mk("a", "one page");
	m = obs_mmap("mmap 2 pages of a 1-page file", 2 * PAGE, PROT_READ,
		     MAP_SHARED, fd, 0);
	if (m) {
		obs_child("touch page 2", touch_second_page, m);
		obs_ret("ftruncate 2 pages", ftruncate(fd, 2 * PAGE));
		obs_child("touch page 2 after growing", touch_second_page, m);
		munmap(m, 2 * PAGE);
	}
	xclose(fd);
	rm("a");
}

/* A mapping inherited across fork stays shared with the parent. */
static void store_in_mapping(void *arg)
{
	memcpy(arg, "child store", 11);
	obs("stored");
}

static void sc_mmap_fork(void)
{
	char *m;
	int fd;

	fd = mk("a", "");
	obs_ret("ftruncate", ftruncate(fd, PAGE));
	m = obs_mmap("mmap MAP_SHARED", PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED, fd, 0);
	if (m) {
		obs_child("child stores through inherited mapping",
			  store_in_mapping, m);
		obs_data("parent mapping", m, 11);
		munmap(m, PAGE);
	}
	obs_pread("pread", fd, 11, 0);
	xclose(fd);
	rm("a");
}

static void sc_mmap_grow(void)
{
	char *m;
	int fd;

	fd = mk("a", "x");
	m = obs_mmap("mmap 3 pages of a 1-byte file", 3 * PAGE,
		     PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	obs_ret("ftruncate 3 pages", ftruncate(fd, 3 * PAGE));
	obs_pwrite("pwrite in page 2", fd, "late", 2 * PAGE);
	if (m) {
		obs_data("mapping sees it", m + 2 * PAGE, 4);
		memcpy(m + PAGE, "mid", 3);
		munmap(m, 3 * PAGE);
	}
	obs_pread("pread page 1", fd, 3, PAGE);
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

/* ========================================================== descriptors */

static void sc_fd_independent(void)
{
	int fd1, fd2;

	fd1 = obs_open("open 1 O_CREAT|O_RDWR", path("a"), O_CREAT | O_RDWR,
		       0644);
	fd2 = obs_open("open 2 O_RDWR", path("a"), O_RDWR, 0);
	obs_write("write hello via 1", fd1, "hello");
	obs_off("offset 1", fd1);
	obs_off("offset 2", fd2);
	obs_read("read via 2", fd2, 3);
	obs_write("write XY via 2", fd2, "XY");
	obs_off("offset 1", fd1);
	obs_off("offset 2", fd2);
	obs_pread("contents", fd1, 16, 0);
	obs_fstat("fstat 1", fd1);
	obs_fstat("fstat 2", fd2);
	xclose(fd1);
	xclose(fd2);
	rm("a");
}

static void sc_fd_dup(void)
{
	int fd, d1, d2, d3;

	fd = obs_open("open O_CREAT|O_RDWR|O_CLOEXEC", path("a"),
		      O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	d1 = dup(fd);
	obs_fd("dup", d1);
	obs_fdflags("dup flags (FD_CLOEXEC not copied)", d1);
	obs_write("write ab via original", fd, "ab");
	obs_off("offset of dup", d1);
	obs_write("write cd via dup", d1, "cd");
	obs_off("offset of original", fd);
	d2 = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	obs_fd("F_DUPFD_CLOEXEC", d2);
	obs("F_DUPFD_CLOEXEC got at least 10: %s", d2 >= 10 ? "yes" : "no");
	obs_fdflags("flags", d2);
	/* file status flags are shared, descriptor flags are not */
	obs_ret("F_SETFL O_APPEND on dup", fcntl(d1, F_SETFL, O_APPEND));
	obs_fdflags("original", fd);
	d3 = open(SHM_DIR, O_RDONLY);
	obs_ret("dup2 onto another fd returns it",
		dup2(fd, d3) == d3 ? 0 : -1);
	obs_fstat("fstat of dup2 target", d3);
	obs_ret("dup3 O_CLOEXEC", dup3(fd, d3, O_CLOEXEC) == d3 ? 0 : -1);
	obs_fdflags("dup3 flags", d3);
	obs_ret("close original", close(fd));
	obs_ret("lseek 0 via dup", lseek(d1, 0, SEEK_SET));
	obs_read("read via dup", d1, 16);
	obs_off("offset of F_DUPFD_CLOEXEC copy", d2);
	obs_fstat("fstat dup", d1);
	xclose(d1);
	xclose(d2);
	xclose(d3);
	rm("a");
}

static void write_inherited(void *arg)
{
	int fd = *(int *)arg;
	obs_off("offset", fd);
	obs_write("write via inherited fd", fd, "child");
	obs_fstat("fstat", fd);
}

static void sc_fork_inherit_fd(void)
{
	int fd;

	fd = obs_open("open O_CREAT|O_RDWR", path("a"), O_CREAT | O_RDWR,
		      0644);
	obs_write("write parent", fd, "parent ");
	obs_child("child", write_inherited, &fd);
	/* one open file description: the child's write moved our offset */
	obs_off("offset in parent", fd);
	obs_pread("contents", fd, 64, 0);
	obs_fstat("fstat", fd);
	xclose(fd);
	rm("a");
}

static void create_and_exit(void *arg)
{
	int fd = mk("a", (const char *)arg);
	obs_fstat("fstat", fd);
	xclose(fd);
}

static void sc_fork_child_creates(void)
{
	int fd;

	obs_child("child creates a with open and exits", create_and_exit,
		  "child's data");
	fd = obs_open("open in parent", path("a"), O_RDONLY, 0);
	obs_fstat("fstat", fd);
	obs_read("read", fd, 64);
	xclose(fd);
	obs_list("readdir", SHM_DIR);
	rm("a");
}

/* Each child appends a line through its own O_APPEND open; the parent's
 * plain fd keeps its offset and overwrites what the first child added. */
static void append_line(void *arg)
{
	int fd = open(path("a"), O_WRONLY | O_APPEND);
	obs_write("append", fd, (const char *)arg);
	xclose(fd);
}

static void sc_fork_append(void)
{
	int fd;

	fd = mk("a", "start\n");
	obs_child("child 1", append_line, "one\n");
	obs_child("child 2", append_line, "two\n");
	obs_write("parent writes at its own offset", fd, "P");
	obs_pread("contents", fd, 64, 0);
	xclose(fd);
	rm("a");
}

/* ============================================================= readdir */

static void sc_readdir_list(void)
{
	int fd;

	xclose(mk("a", ""));
	xclose(mk("c", "data"));
	xclose(mk("b", ""));
	fd = shm_open(shmname("d"), O_CREAT | O_RDWR, 0600);
	obs_fd("shm_open d", fd);
	xclose(fd);
	obs_list("readdir /dev/shm", SHM_DIR);
	obs_list("readdir /dev/shm/", SHM_DIR "/");
	rm("a");
	rm("b");
	rm("c");
	obs_ret("shm_unlink d", shm_unlink(shmname("d")));
	obs_list("readdir after unlinking all", SHM_DIR);
}

static void sc_readdir_unlink(void)
{
	xclose(mk("a", ""));
	xclose(mk("b", ""));
	obs_list("readdir", SHM_DIR);
	obs_ret("unlink a", unlink(path("a")));
	obs_list("readdir after unlink a", SHM_DIR);
	xclose(mk("a", ""));
	obs_list("readdir after re-creating a", SHM_DIR);
	rm("a");
	rm("b");
}

/* Listing through an fd (fdopendir), readdir64, rewinddir and a
 * telldir/seekdir round trip. */
static void sc_readdir_fd(void)
{
	char pre[NAME_MAX + 1];
	size_t plen;
	struct dirent64 *de;
	int fd, seen, after;
	DIR *d;

	snprintf(pre, sizeof pre, "%s", objname(""));
	plen = strlen(pre);
	xclose(mk("a", ""));
	xclose(mk("b", ""));
	fd = obs_open("open /dev/shm O_DIRECTORY", SHM_DIR,
		      O_RDONLY | O_DIRECTORY, 0);
	d = fdopendir(fd);
	obs("fdopendir: %s", d ? "DIR" : errname(errno));
	if (!d) {
		xclose(fd);
		goto out;
	}
	seen = 0;
	while ((de = readdir64(d)) != NULL)
		seen += strncmp(de->d_name, pre, plen) == 0;
	obs("readdir64 entries of this scenario: %d", seen);
	obs_ret("unlink b", unlink(path("b")));
	rewinddir(d);
	after = 0;
	while ((de = readdir64(d)) != NULL)
		after += strncmp(de->d_name, pre, plen) == 0;
	obs("after unlink b and rewinddir: %d", after);
	obs("dirfd is the fd: %s", dirfd(d) == fd ? "yes" : "no");
	obs_ret("closedir", closedir(d));
	obs_fstat("fstat fd after closedir", fd);
out:
	rm("a");
}

/* ===================================================== ino, dev, times */

static void sc_ino_relations(void)
{
	struct stat st;
	int fa, fb, fa2;

	fa = mk("a", "a");
	fb = mk("b", "b");
	obs_fstat("fstat a", fa);
	obs_fstat("fstat b", fb);
	obs_pstat("stat a", path("a"));
	obs_pstat("stat b", path("b"));
	obs_stat("lstat a", lstat(path("a"), &st), &st);
	fa2 = obs_open("reopen a", path("a"), O_RDONLY, 0);
	obs_fstat("fstat reopened a", fa2);
	xclose(fa2);
	obs_ret("unlink a", unlink(path("a")));
	fa2 = mk("a", "new a");
	obs_fstat("fstat new a", fa2);
	obs_fstat("fstat old a", fa);
	obs_pstat("stat a", path("a"));
	xclose(fa);
	xclose(fa2);
	xclose(fb);
	rm("a");
	rm("b");
}

static void sc_dev_relations(void)
{
	struct stat dir, st;
	int fd;

	fd = mk("a", "");
	if (stat(SHM_DIR, &dir) != 0) {
		obs_ret("stat /dev/shm", -1);
		dir.st_dev = 0;
	}
	obs("stat(file) dev == stat(/dev/shm) dev: %s",
	    stat(path("a"), &st) == 0 && st.st_dev == dir.st_dev ? "yes" : "no");
	obs("fstat(fd) dev == stat(/dev/shm) dev: %s",
	    fstat(fd, &st) == 0 && st.st_dev == dir.st_dev ? "yes" : "no");
	xclose(fd);
	fd = shm_open(shmname("b"), O_CREAT | O_RDWR, 0600);
	obs("fstat(shm_open fd) dev == stat(/dev/shm) dev: %s",
	    fstat(fd, &st) == 0 && st.st_dev == dir.st_dev ? "yes" : "no");
	xclose(fd);
	obs("stat(/dev) dev == stat(/dev/shm) dev: %s",
	    stat("/dev", &st) == 0 && st.st_dev == dir.st_dev ? "yes" : "no");
	rm("a");
	rm("b");
}

static struct stat fstat_or_zero(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		obs_ret("fstat", -1);
		memset(&st, 0, sizeof st);
	}
	return st;
}

static void sc_times_update(void)
{
	struct stat t0, t1;
	char buf[8];
	int fd;

	fd = mk("a", "");
	t0 = fstat_or_zero(fd);
	obs_ts("ctime vs mtime at creation", t0.st_mtim, t0.st_ctim);
	nap();
	obs_write("write", fd, "data");
	t1 = fstat_or_zero(fd);
	obs_ts("mtime after write", t0.st_mtim, t1.st_mtim);
	obs_ts("ctime after write", t0.st_ctim, t1.st_ctim);
	t0 = t1;
	nap();
	obs_ret("pread", pread(fd, buf, sizeof buf, 0));
	t1 = fstat_or_zero(fd);
	obs_ts("mtime after read", t0.st_mtim, t1.st_mtim);
	obs_ts("ctime after read", t0.st_ctim, t1.st_ctim);
	t0 = t1;
	nap();
	obs_ret("fchmod 0600", fchmod(fd, 0600));
	t1 = fstat_or_zero(fd);
	obs_ts("mtime after fchmod", t0.st_mtim, t1.st_mtim);
	obs_ts("ctime after fchmod", t0.st_ctim, t1.st_ctim);
	t0 = t1;
	nap();
	obs_ret("ftruncate 2", ftruncate(fd, 2));
	t1 = fstat_or_zero(fd);
	obs_ts("mtime after ftruncate", t0.st_mtim, t1.st_mtim);
	obs_ts("ctime after ftruncate", t0.st_ctim, t1.st_ctim);
	xclose(fd);
	rm("a");
}

/* Times that were set explicitly are data, not clock readings. */
static void sc_utimensat(void)
{
	const struct timespec set[2] = { { 1000000000, 123 },
					 { 1200000000, 456789 } };
	const struct timespec now_atime[2] = { { 0, UTIME_NOW },
					       { 0, UTIME_OMIT } };
	struct timespec before;
	struct stat st;
	int fd;

	fd = mk("a", "x");
	obs_ret("utimensat", utimensat(AT_FDCWD, path("a"), set, 0));
	st = fstat_or_zero(fd);
	obs("atime: %lld.%09ld mtime: %lld.%09ld", (long long)st.st_atim.tv_sec,
	    st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec);
	clock_gettime(CLOCK_REALTIME_COARSE, &before);
	obs_ret("futimens atime=UTIME_NOW mtime=UTIME_OMIT",
		futimens(fd, now_atime));
	st = fstat_or_zero(fd);
	obs("mtime kept: %s", st.st_mtim.tv_sec == set[1].tv_sec &&
				      st.st_mtim.tv_nsec == set[1].tv_nsec ?
			      "yes" : "no");
	obs("atime now: %s",
	    st.st_atim.tv_sec > before.tv_sec ||
			    (st.st_atim.tv_sec == before.tv_sec &&
			     st.st_atim.tv_nsec >= before.tv_nsec) ?
		    "yes" : "no");
	obs_ret("utimensat missing", utimensat(AT_FDCWD, path("b"), set, 0));
	obs_ret("utimensat bad nsec",
		utimensat(AT_FDCWD, path("a"),
			  (const struct timespec[2]){ { 0, 1000000000 },
						      { 0, 0 } },
			  0));
	xclose(fd);
	rm("a");
}

/* =================================================== rename, chmod, sync */

static void sc_rename(void)
{
	int fa, fc;

	fa = mk("a", "A");
	fc = mk("c", "C");
	obs_fstat("fstat a", fa);
	obs_fstat("fstat c", fc);
	obs_ret("rename a -> b", rename(path("a"), path("b")));
	obs_pstat("stat a", path("a"));
	obs_pstat("stat b", path("b"));
	/* replacing c leaves c's open file alive but nameless */
	obs_ret("rename b -> c", rename(path("b"), path("c")));
	obs_pstat("stat c", path("c"));
	obs_fstat("fstat old c", fc);
	obs_list("readdir", SHM_DIR);
	obs_ret("renameat AT_FDCWD c -> a",
		renameat(AT_FDCWD, path("c"), AT_FDCWD, path("a")));
	obs_ret("rename a -> a", rename(path("a"), path("a")));
	obs_pstat("stat a", path("a"));
	xclose(fa);
	xclose(fc);
	rm("a");
}

static void sc_rename_errors(void)
{
	char outside[NAME_MAX + 8];

	snprintf(outside, sizeof outside, "/tmp/%s", objname("x"));
	xclose(mk("a", "A"));
	xclose(mk("b", "B"));
	obs_ret("rename missing", rename(path("x"), path("y")));
	obs_ret("rename into missing dir",
		rename(path("a"), fmt("%s/b", path("nodir"))));
	obs_ret("rename to file/x", rename(path("a"), fmt("%s/x", path("b"))));
	obs_ret("rename onto /dev/shm", rename(path("a"), SHM_DIR));
	obs_ret("renameat2 RENAME_NOREPLACE onto existing",
		renameat2(AT_FDCWD, path("a"), AT_FDCWD, path("b"),
			  RENAME_NOREPLACE));
	obs_ret("renameat2 RENAME_EXCHANGE",
		renameat2(AT_FDCWD, path("a"), AT_FDCWD, path("b"),
			  RENAME_EXCHANGE));
	obs_contents("a after exchange", "a");
	obs_ret("rename out of /dev/shm", rename(path("a"), outside));
	unlink(outside); /* only there if the rename wrongly worked */
	obs_ret("rename name of 256 chars",
		rename(path("a"), path(tag_of_len(NAME_MAX + 1))));
	obs_list("readdir", SHM_DIR);
	rm("a");
	rm("b");
}

static void sc_chmod(void)
{
	int fd, ro;

	fd = mk("a", "");
	obs_ret("chmod 0600", chmod(path("a"), 0600));
	obs_fstat("fstat", fd);
	obs_ret("fchmod 0751", fchmod(fd, 0751));
	obs_pstat("stat", path("a"));
	ro = obs_open("open O_RDONLY", path("a"), O_RDONLY, 0);
	obs_ret("fchmod via O_RDONLY fd 0640", fchmod(ro, 0640));
	xclose(ro);
	obs_ret("fchmodat 04755", fchmodat(AT_FDCWD, path("a"), 04755, 0));
	obs_pstat("stat", path("a"));
	obs_ret("chmod with type bits 0100644", chmod(path("a"), 0100644));
	obs_pstat("stat", path("a"));
	obs_ret("chmod missing", chmod(path("b"), 0600));
	obs_ret("chmod file/", chmod(fmt("%s/", path("a")), 0600));
	xclose(fd);
	rm("a");
}

static void sc_fsync(void)
{
	int fd, ro;

	fd = mk("a", "sync me");
	obs_ret("fsync", fsync(fd));
	obs_ret("fdatasync", fdatasync(fd));
	obs_ret("sync_file_range",
		sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	ro = obs_open("open O_RDONLY", path("a"), O_RDONLY, 0);
	obs_ret("fsync on O_RDONLY", fsync(ro));
	xclose(ro);
	obs_ret("fsync on closed fd", fsync(-1));
	obs_pread("data", fd, 16, 0);
	xclose(fd);
	rm("a");
}

/* ========================================================= directories */

/* Helpers for scenarios that build trees under /dev/shm: a path inside the
 * object tag, and silent setup and cleanup that only speak on failure. */
static const char *sub(const char *tag, const char *rest)
{
	return fmt("%s/%s", path(tag), rest);
}

static void mkd(const char *p)
{
	if (mkdir(p, 0755) != 0)
		obs("setup: mkdir %s: errno=%s", p, errname(errno));
}

static void mkln(const char *target, const char *p)
{
	if (symlink(target, p) != 0)
		obs("setup: symlink %s: errno=%s", p, errname(errno));
}

static void mkf(const char *p, const char *data)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t len = strlen(data);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		obs("setup: create %s: errno=%s", p, errname(errno));
	xclose(fd);
}

static void rmd(const char *p)
{
	if (rmdir(p) != 0)
		obs("cleanup: rmdir %s: errno=%s", p, errname(errno));
}

static void rmp(const char *p)
{
	if (unlink(p) != 0)
		obs("cleanup: unlink %s: errno=%s", p, errname(errno));
}

/* An fd on the current directory, for going back after a chdir. */
static int save_cwd(void)
{
	int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		obs("setup: open . errno=%s", errname(errno));
	return fd;
}

static void restore_cwd(int fd)
{
	if (fchdir(fd) != 0)
		obs("cleanup: fchdir back errno=%s", errname(errno));
	xclose(fd);
}

static void obs_getcwd(const char *label)
{
	char buf[PATH_MAX];
	char *r = getcwd(buf, sizeof buf);
	int e = errno;
	if (r)
		obs("%s: %s", label, r);
	else
		obs("%s: ret=NULL errno=%s", label, errname(e));
}

static void sc_mkdir_basic(void)
{
	obs_ret("mkdir d 0755", mkdir(path("d"), 0755));
	obs_dstat("stat d", path("d"));
	obs_lstat("lstat d", path("d"));
	obs_list_all("readdir d", path("d"));
	obs_ret("mkdir e/ (trailing slash)", mkdir(fmt("%s/", path("e")), 0700));
	obs_dstat("stat e", path("e"));
	obs_ret("mkdir d/s", mkdir(sub("d", "s"), 0755));
	obs_dstat("stat d/s", sub("d", "s"));
	obs_list("readdir /dev/shm", SHM_DIR);
	obs_list_all("readdir d", path("d"));
	obs_ret("rmdir d/s", rmdir(sub("d", "s")));
	obs_ret("rmdir d", rmdir(path("d")));
	obs_ret("rmdir e/", rmdir(fmt("%s/", path("e"))));
	obs_dstat("stat d after rmdir", path("d"));
	obs_list("readdir /dev/shm", SHM_DIR);
}

static void sc_mkdir_eexist(void)
{
	mkd(path("d"));
	xclose(mk("f", "x"));
	mkln(objname("d"), path("ld"));
	mkln(objname("gone"), path("dang"));
	obs_ret("mkdir existing dir", mkdir(path("d"), 0755));
	obs_ret("mkdir existing file", mkdir(path("f"), 0755));
	obs_ret("mkdir symlink to dir", mkdir(path("ld"), 0755));
	obs_ret("mkdir dangling symlink", mkdir(path("dang"), 0755));
	obs_pstat("stat the dangling target: not created", path("gone"));
	obs_ret("mkdir existing dir/", mkdir(fmt("%s/", path("d")), 0755));
	obs_ret("mkdir existing file/", mkdir(fmt("%s/", path("f")), 0755));
	obs_ret("mkdir /dev/shm", mkdir(SHM_DIR, 0755));
	obs_ret("mkdir /dev/shm/.", mkdir(SHM_DIR "/.", 0755));
	obs_ret("mkdir d/..", mkdir(sub("d", ".."), 0755));
	obs_lstat("lstat f unchanged", path("f"));
	obs_lstat("lstat ld unchanged", path("ld"));
	rmp(path("dang"));
	rmp(path("ld"));
	rm("f");
	rmd(path("d"));
}

static void sc_mkdir_errors(void)
{
	xclose(mk("f", "x"));
	mkln(objname("f"), path("lf"));
	obs_ret("mkdir missing parent", mkdir(sub("nodir", "x"), 0755));
	obs_ret("mkdir missing grandparent",
		mkdir(fmt("%s/x/y", path("nodir")), 0755));
	obs_ret("mkdir under a file", mkdir(sub("f", "x"), 0755));
	obs_ret("mkdir under a link to a file", mkdir(sub("lf", "x"), 0755));
	obs_ret("mkdir nodir/..", mkdir(sub("nodir", ".."), 0755));
	obs_ret("mkdir name of 256 chars",
		mkdir(path(tag_of_len(NAME_MAX + 1)), 0755));
	obs_ret("mkdir name of 255 chars",
		mkdir(path(tag_of_len(NAME_MAX)), 0755));
	obs_dstat("stat name of 255 chars", path(tag_of_len(NAME_MAX)));
	obs_ret("rmdir name of 255 chars", rmdir(path(tag_of_len(NAME_MAX))));
	obs_pstat("stat nodir", path("nodir"));
	rmp(path("lf"));
	rm("f");
}

static void sc_mkdir_mode(void)
{
	static const struct {
		const char *tag;
		mode_t umask, mode;
	} cases[] = {
		{ "a", 022, 0777 }, { "b", 077, 0777 }, { "c", 0, 0700 },
		{ "d", 0, 01777 },  { "e", 0, 02755 },	{ "f", 0, 04755 },
		{ "g", 0, 07777 },  { "h", 0, 0 },	{ "i", 027, 0757 },
	};
	mode_t old = umask(022);
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		umask(cases[i].umask);
		obs_ret(fmt("mkdir %s %04o umask %03o", cases[i].tag,
			    (unsigned)cases[i].mode, (unsigned)cases[i].umask),
			mkdir(path(cases[i].tag), cases[i].mode));
		obs_dstat("stat", path(cases[i].tag));
	}
	umask(old);
	/* root enters a mode-0 directory */
	obs_ret("mkdir h/x (h is 0000)", mkdir(sub("h", "x"), 0755));
	obs_dstat("stat h/x", sub("h", "x"));
	obs_ret("chmod h 0711", chmod(path("h"), 0711));
	obs_dstat("stat h", path("h"));
	rmd(sub("h", "x"));
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		rmd(path(cases[i].tag));
}

static void sc_mkdir_nlink(void)
{
	mkd(path("p"));
	obs_dstat("p empty", path("p"));
	obs_ret("mkdir p/a", mkdir(sub("p", "a"), 0755));
	obs_dstat("p after mkdir a", path("p"));
	obs_ret("mkdirat p/b", mkdirat(AT_FDCWD, sub("p", "b"), 0755));
	obs_dstat("p after mkdir b", path("p"));
	mkf(sub("p", "f"), "");
	obs_dstat("p after creating a file", path("p"));
	mkln("a", sub("p", "l"));
	obs_dstat("p after a symlink", path("p"));
	obs_ret("mkdir p/a/c", mkdir(sub("p", "a/c"), 0755));
	obs_dstat("p after mkdir a/c", path("p"));
	obs_dstat("p/a after mkdir a/c", sub("p", "a"));
	obs_dstat("p/a/c", sub("p", "a/c"));
	obs_ret("rename p/b -> p/a/b", rename(sub("p", "b"), sub("p", "a/b")));
	obs_dstat("p after moving b into a", path("p"));
	obs_dstat("p/a after moving b into a", sub("p", "a"));
	obs_ret("rmdir p/a/b", rmdir(sub("p", "a/b")));
	obs_ret("rmdir p/a/c", rmdir(sub("p", "a/c")));
	obs_dstat("p/a after its rmdirs", sub("p", "a"));
	obs_ret("rmdir p/a", rmdir(sub("p", "a")));
	obs_dstat("p after rmdir a", path("p"));
	rmp(sub("p", "l"));
	rmp(sub("p", "f"));
	rmd(path("p"));
}

/* A set-group-ID directory hands its group and, to subdirectories, the
 * bit itself on; needs root to give the directory a foreign group. */
static void sc_mkdir_setgid(void)
{
	mode_t old;

	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	mkd(path("p"));
	obs_ret("chown p 0:4321", chown(path("p"), 0, 4321));
	obs_ret("chmod p 02775", chmod(path("p"), 02775));
	obs_dstat("stat p", path("p"));
	old = umask(0);
	obs_ret("mkdir p/d 0755", mkdir(sub("p", "d"), 0755));
	obs_dstat("stat p/d", sub("p", "d"));
	obs_ret("mkdir p/d/e 0700", mkdir(sub("p", "d/e"), 0700));
	obs_dstat("stat p/d/e", sub("p", "d/e"));
	probe_open("create p/f 0644", sub("p", "f"), O_CREAT | O_RDWR, 0644);
	obs_pstat("stat p/f", sub("p", "f"));
	probe_open("create p/g 02755", sub("p", "g"), O_CREAT | O_RDWR, 02755);
	obs_pstat("stat p/g", sub("p", "g"));
	obs_ret("symlink p/l", symlink("f", sub("p", "l")));
	obs_lstat("lstat p/l", sub("p", "l"));
	/* outside a set-group-ID directory mkdir drops the bit */
	obs_ret("mkdir q 02755", mkdir(path("q"), 02755));
	obs_dstat("stat q", path("q"));
	umask(old);
	rmp(sub("p", "l"));
	rmp(sub("p", "g"));
	rmp(sub("p", "f"));
	rmd(sub("p", "d/e"));
	rmd(sub("p", "d"));
	rmd(path("p"));
	rmd(path("q"));
}

static void sc_mkdirat(void)
{
	int dfd, sfd, ffd;

	dfd = obs_open("open /dev/shm O_DIRECTORY", SHM_DIR,
		       O_RDONLY | O_DIRECTORY, 0);
	obs_ret("mkdirat dirfd relative", mkdirat(dfd, objname("d"), 0750));
	obs_dstat("stat d", path("d"));
	sfd = obs_open("open d O_DIRECTORY", path("d"), O_RDONLY | O_DIRECTORY,
		       0);
	obs_ret("mkdirat d-fd \"s\"", mkdirat(sfd, "s", 0700));
	obs_dstat("stat d/s", sub("d", "s"));
	obs_ret("mkdirat d-fd \"s\" again", mkdirat(sfd, "s", 0700));
	obs_ret("mkdirat d-fd \"x/y\"", mkdirat(sfd, "x/y", 0700));
	obs_ret("mkdirat AT_FDCWD absolute", mkdirat(AT_FDCWD, path("e"), 0755));
	obs_ret("mkdirat dirfd=-1 absolute", mkdirat(-1, path("g"), 0755));
	obs_ret("mkdirat dirfd=-1 relative", mkdirat(-1, "x", 0755));
	ffd = mk("f", "");
	obs_ret("mkdirat file fd relative", mkdirat(ffd, "x", 0755));
	obs_list_all("readdir d", path("d"));
	obs_list("readdir /dev/shm", SHM_DIR);
	obs_ret("unlinkat d-fd \"s\" AT_REMOVEDIR",
		unlinkat(sfd, "s", AT_REMOVEDIR));
	obs_ret("unlinkat dirfd d without AT_REMOVEDIR",
		unlinkat(dfd, objname("d"), 0));
	obs_ret("unlinkat dirfd d AT_REMOVEDIR",
		unlinkat(dfd, objname("d"), AT_REMOVEDIR));
	obs_ret("unlinkat file AT_REMOVEDIR",
		unlinkat(AT_FDCWD, path("f"), AT_REMOVEDIR));
	xclose(ffd);
	xclose(sfd);
	xclose(dfd);
	rm("f");
	rmd(path("e"));
	rmd(path("g"));
}

/* The size of a tmpfs directory counts its entries. */
static void sc_mkdir_size(void)
{
	struct stat st;

	mkd(path("d"));
	obs_stat("stat empty dir", stat(path("d"), &st), &st);
	mkf(sub("d", "f"), "");
	obs_stat("stat with a file", stat(path("d"), &st), &st);
	mkd(sub("d", "s"));
	mkln("f", sub("d", "l"));
	obs_stat("stat with file, dir and link", stat(path("d"), &st), &st);
	rmp(sub("d", "l"));
	rmd(sub("d", "s"));
	rmp(sub("d", "f"));
	obs_stat("stat emptied", stat(path("d"), &st), &st);
	rmd(path("d"));
}

static void sc_rmdir_errors(void)
{
	mkd(path("d"));
	mkf(sub("d", "f"), "x");
	xclose(mk("f", "x"));
	mkln(objname("d"), path("ld"));
	obs_ret("rmdir dir with a file", rmdir(path("d")));
	rmp(sub("d", "f"));
	mkd(sub("d", "s"));
	obs_ret("rmdir dir with a subdir", rmdir(path("d")));
	obs_ret("rmdir a file", rmdir(path("f")));
	obs_ret("rmdir file/", rmdir(fmt("%s/", path("f"))));
	obs_ret("rmdir d/s/.", rmdir(sub("d", "s/.")));
	obs_ret("rmdir d/s/..", rmdir(sub("d", "s/..")));
	obs_ret("rmdir /dev/shm", rmdir(SHM_DIR));
	obs_ret("rmdir /dev/shm/.", rmdir(SHM_DIR "/."));
	obs_ret("rmdir missing", rmdir(path("nodir")));
	obs_ret("rmdir nodir/x", rmdir(sub("nodir", "x")));
	obs_ret("rmdir file/x", rmdir(sub("f", "x")));
	obs_ret("rmdir symlink to dir", rmdir(path("ld")));
	obs_ret("rmdir symlink to dir/", rmdir(fmt("%s/", path("ld"))));
	obs_ret("rmdir through the link: ld/s", rmdir(sub("ld", "s")));
	obs_dstat("stat d", path("d"));
	obs_ret("rmdir d/", rmdir(fmt("%s/", path("d"))));
	obs_dstat("stat d", path("d"));
	obs_lstat("lstat ld", path("ld"));
	rmp(path("ld"));
	rm("f");
}

/* A removed directory lives on while open, empty and unlinked. */
static void sc_rmdir_open(void)
{
	struct stat st;
	int fd, home;

	home = save_cwd();
	mkd(path("d"));
	fd = obs_open("open d O_DIRECTORY", path("d"), O_RDONLY | O_DIRECTORY,
		      0);
	obs_ret("chdir d", chdir(path("d")));
	obs_ret("rmdir d", rmdir(path("d")));
	if (fstat(fd, &st) == 0)
		obs("fstat after rmdir: type=%s nlink=%lu",
		    S_ISDIR(st.st_mode) ? "dir" : "other",
		    (unsigned long)st.st_nlink);
	else
		obs_ret("fstat after rmdir", -1);
	obs_fd("openat removed dir O_CREAT",
	       openat(fd, "x", O_CREAT | O_RDWR, 0644));
	obs_ret("mkdirat removed dir", mkdirat(fd, "x", 0755));
	obs_getcwd("getcwd in removed dir");
	obs_fd("open ./x O_CREAT in removed cwd",
	       open("x", O_CREAT | O_RDWR, 0644));
	obs_ret("mkdir in removed cwd", mkdir("y", 0755));
	if (stat(".", &st) == 0)
		obs("stat . after rmdir: type=%s nlink=%lu",
		    S_ISDIR(st.st_mode) ? "dir" : "other",
		    (unsigned long)st.st_nlink);
	else
		obs_ret("stat .", -1);
	obs_ret("chdir .. from removed dir", chdir(".."));
	obs_getcwd("getcwd");
	obs_pstat("stat d", path("d"));
	xclose(fd);
	restore_cwd(home);
}

static void sc_dir_nested(void)
{
	struct stat st;
	int fd;

	mkd(path("a"));
	mkd(sub("a", "b"));
	mkd(sub("a", "b/c"));
	fd = open(sub("a", "b/c/f"), O_CREAT | O_RDWR | O_EXCL, 0640);
	obs_fd("create a/b/c/f", fd);
	obs_write("write", fd, "deep");
	obs_fstat("fstat f", fd);
	obs_pstat("stat a/b/c/f", sub("a", "b/c/f"));
	obs_pstat("stat a/./b/../b/c/f", sub("a", "./b/../b/c/f"));
	obs_pstat("stat a/b/c/../c/f", sub("a", "b/c/../c/f"));
	obs_pstat("stat a/b/c//f", sub("a", "b/c//f"));
	obs_pstat("stat a/b/c/f/", sub("a", "b/c/f/"));
	obs_pstat("stat a/b/x/../c/f", sub("a", "b/x/../c/f"));
	obs_dirstat("stat /dev/shm", stat(SHM_DIR, &st), &st);
	obs_dstat("stat a", path("a"));
	obs_dstat("stat a/b", sub("a", "b"));
	obs_dstat("stat a/b/c", sub("a", "b/c"));
	obs_dstat("stat a/.", sub("a", "."));
	obs_dirstat("stat a/..", stat(sub("a", ".."), &st), &st);
	obs_dstat("stat a/b/..", sub("a", "b/.."));
	obs_dstat("stat a/b/c/..", sub("a", "b/c/.."));
	obs_dstat("stat a/b/c/../..", sub("a", "b/c/../.."));
	obs_dirstat("stat a/b/c/../../..", stat(sub("a", "b/c/../../.."), &st),
		    &st);
	obs_pread("read a/b/c/f", fd, 16, 0);
	xclose(fd);
	obs_ret("unlink a/b/c/f", unlink(sub("a", "b/c/f")));
	obs_ret("rmdir a/b/c", rmdir(sub("a", "b/c")));
	obs_ret("rmdir a/b", rmdir(sub("a", "b")));
	obs_ret("rmdir a", rmdir(path("a")));
}

static void sc_readdir_subdir(void)
{
	xclose(mk("f", ""));
	mkd(path("d"));
	mkf(sub("d", "file"), "data");
	mkd(sub("d", "dir"));
	mkln("file", sub("d", "lnk"));
	mkln("nothing", sub("d", "dangling"));
	mkln(objname("d"), path("ld"));
	obs_list_all("readdir d", path("d"));
	obs_list_all("readdir d/", fmt("%s/", path("d")));
	obs_list_all("readdir d/dir", sub("d", "dir"));
	obs_list_all("readdir d/dir/..", sub("d", "dir/.."));
	obs_list_all("readdir through link ld", path("ld"));
	obs_list_all("readdir d/lnk (link to file)", sub("d", "lnk"));
	obs_list_all("readdir file", path("f"));
	obs_list_all("readdir missing", path("nodir"));
	obs_list("readdir /dev/shm", SHM_DIR);
	rmp(path("ld"));
	rmp(sub("d", "dangling"));
	rmp(sub("d", "lnk"));
	rmd(sub("d", "dir"));
	rmp(sub("d", "file"));
	obs_list_all("readdir d emptied", path("d"));
	rmd(path("d"));
	rm("f");
}

/* d_ino of each entry, ".." included, is the st_ino of what it names. */
static void obs_dino(const char *label, const char *dir, const char *name,
		     const char *target)
{
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);
	int found = 0;

	if (!d) {
		obs("%s: opendir errno=%s", label, errname(errno));
		return;
	}
	if (lstat(target, &st) != 0) {
		obs("%s: lstat errno=%s", label, errname(errno));
		closedir(d);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, name) == 0)
			found = de->d_ino == st.st_ino ? 1 : 2;
	closedir(d);
	obs("%s: %s", label,
	    found == 1 ? "same" : found == 2 ? "different" : "no entry");
}

static void sc_readdir_dino(void)
{
	mkd(path("d"));
	mkd(sub("d", "s"));
	mkf(sub("d", "f"), "");
	mkln("f", sub("d", "l"));
	obs_dino("d_ino of d/. == st_ino of d", path("d"), ".", path("d"));
	obs_dino("d_ino of d/.. == st_ino of /dev/shm", path("d"), "..",
		 SHM_DIR);
	obs_dino("d_ino of d/f == st_ino of d/f", path("d"), "f", sub("d", "f"));
	obs_dino("d_ino of d/l == lstat ino of d/l", path("d"), "l",
		 sub("d", "l"));
	obs_dino("d_ino of d/s == st_ino of d/s", path("d"), "s", sub("d", "s"));
	obs_dino("d_ino of d/s/.. == st_ino of d", sub("d", "s"), "..",
		 path("d"));
	obs_dino("d_ino of d in /dev/shm == st_ino of d", SHM_DIR, objname("d"),
		 path("d"));
	rmp(sub("d", "l"));
	rmp(sub("d", "f"));
	rmd(sub("d", "s"));
	rmd(path("d"));
}

/* A directory stream sees entries made after rewinddir. */
static void sc_readdir_subdir_fd(void)
{
	struct dirent *de;
	int fd, n;
	DIR *d;

	mkd(path("d"));
	mkf(sub("d", "a"), "");
	fd = obs_open("open d O_DIRECTORY", path("d"), O_RDONLY | O_DIRECTORY,
		      0);
	d = fdopendir(fd);
	obs("fdopendir: %s", d ? "DIR" : errname(errno));
	if (d) {
		for (n = 0; readdir(d) != NULL; n++)
			;
		obs("entries: %d", n);
		mkf(sub("d", "b"), "");
		mkd(sub("d", "c"));
		rewinddir(d);
		for (n = 0; (de = readdir(d)) != NULL; n++)
			;
		obs("entries after adding two and rewinddir: %d", n);
		rmp(sub("d", "a"));
		rewinddir(d);
		for (n = 0; readdir(d) != NULL; n++)
			;
		obs("entries after unlink a and rewinddir: %d", n);
		obs_ret("closedir", closedir(d));
	} else {
		xclose(fd);
		rmp(sub("d", "a"));
	}
	obs_list_all("readdir d", path("d"));
	rmd(sub("d", "c"));
	rmp(sub("d", "b"));
	rmd(path("d"));
}

/* =============================================================== links */

static void sc_link_basic(void)
{
	int fa, fb;

	fa = mk("a", "one");
	obs_ret("link a b", link(path("a"), path("b")));
	obs_fstat("fstat a", fa);
	obs_pstat("stat b", path("b"));
	fb = obs_open("open b O_WRONLY|O_APPEND", path("b"),
		      O_WRONLY | O_APPEND, 0);
	obs_write("append via b", fb, "+two");
	xclose(fb);
	obs_pread("read via a", fa, 16, 0);
	obs_list("readdir", SHM_DIR);
	mkd(path("d"));
	obs_ret("link b d/c", link(path("b"), sub("d", "c")));
	obs_pstat("stat d/c", sub("d", "c"));
	obs_ret("unlink a", unlink(path("a")));
	obs_pstat("stat b", path("b"));
	obs_fstat("fstat a (unlinked name)", fa);
	obs_contents("contents via b", "b");
	obs_ret("chmod d/c 0600", chmod(sub("d", "c"), 0600));
	obs_pstat("stat b", path("b"));
	obs_ret("unlink b", unlink(path("b")));
	obs_ret("unlink d/c", unlink(sub("d", "c")));
	obs_fstat("fstat a after the last name went", fa);
	obs_pread("read after the last name went", fa, 16, 0);
	xclose(fa);
	rmd(path("d"));
}

static void sc_link_errors(void)
{
	char outside[NAME_MAX + 8];

	snprintf(outside, sizeof outside, "/tmp/%s", objname("x"));
	xclose(mk("a", "A"));
	xclose(mk("b", "B"));
	mkd(path("d"));
	obs_ret("link onto existing file", link(path("a"), path("b")));
	obs_ret("link onto itself", link(path("a"), path("a")));
	obs_ret("link onto existing dir", link(path("a"), path("d")));
	obs_ret("link a directory", link(path("d"), path("e")));
	obs_ret("link missing", link(path("m"), path("e")));
	obs_ret("link into missing dir", link(path("a"), sub("nodir", "e")));
	obs_ret("link into file/x", link(path("a"), sub("b", "x")));
	obs_ret("link file/ as source", link(fmt("%s/", path("a")), path("e")));
	obs_ret("link to new name with trailing slash",
		link(path("a"), fmt("%s/", path("e"))));
	obs_ret("link name of 256 chars",
		link(path("a"), path(tag_of_len(NAME_MAX + 1))));
	obs_ret("link out of /dev/shm", link(path("a"), outside));
	unlink(outside); /* only there if the link wrongly worked */
	obs_ret("link /etc/hostname into /dev/shm",
		link("/etc/hostname", path("e")));
	obs_pstat("stat a", path("a"));
	obs_pstat("stat e", path("e"));
	obs_list("readdir", SHM_DIR);
	rmd(path("d"));
	rm("a");
	rm("b");
}

/* linkat without AT_SYMLINK_FOLLOW links the symlink itself. */
static void sc_linkat_symlink(void)
{
	struct stat st;
	int dfd;

	xclose(mk("a", "A"));
	mkln(objname("a"), path("l"));
	obs_ret("linkat l h1 flags 0",
		linkat(AT_FDCWD, path("l"), AT_FDCWD, path("h1"), 0));
	obs_lstat("lstat h1", path("h1"));
	obs_lstat("lstat l", path("l"));
	obs_ret("linkat l h2 AT_SYMLINK_FOLLOW",
		linkat(AT_FDCWD, path("l"), AT_FDCWD, path("h2"),
		       AT_SYMLINK_FOLLOW));
	obs_lstat("lstat h2", path("h2"));
	obs_pstat("stat a", path("a"));
	obs_ret("link l h3 (link(2) does not follow)",
		link(path("l"), path("h3")));
	obs_lstat("lstat h3", path("h3"));
	obs_ret("linkat bad flag",
		linkat(AT_FDCWD, path("a"), AT_FDCWD, path("h4"), 0x1));
	dfd = obs_open("open /dev/shm O_DIRECTORY", SHM_DIR,
		       O_RDONLY | O_DIRECTORY, 0);
	obs_ret("linkat dirfd relative a h5",
		linkat(dfd, objname("a"), dfd, objname("h5"), 0));
	obs_stat("fstatat dirfd h5", fstatat(dfd, objname("h5"), &st, 0), &st);
	obs_ret("linkat dirfd relative missing",
		linkat(dfd, objname("m"), dfd, objname("h6"), 0));
	xclose(dfd);
	obs_ret("linkat h1 (a link) h7 AT_SYMLINK_FOLLOW",
		linkat(AT_FDCWD, path("h1"), AT_FDCWD, path("h7"),
		       AT_SYMLINK_FOLLOW));
	obs_ret("unlink a", unlink(path("a")));
	obs_lstat("lstat h7", path("h7"));
	obs_pstat("stat l (now dangling)", path("l"));
	mkln(objname("gone"), path("dang"));
	obs_ret("linkat dangling AT_SYMLINK_FOLLOW",
		linkat(AT_FDCWD, path("dang"), AT_FDCWD, path("h8"),
		       AT_SYMLINK_FOLLOW));
	obs_ret("linkat dangling flags 0",
		linkat(AT_FDCWD, path("dang"), AT_FDCWD, path("h9"), 0));
	obs_lstat("lstat h9", path("h9"));
	obs_pstat("stat h7", path("h7"));
	obs_list("readdir", SHM_DIR);
	unlink(path("h8")); /* only there if the linkat wrongly worked */
	rmp(path("h9"));
	rmp(path("dang"));
	rmp(path("h7"));
	rmp(path("h5"));
	rmp(path("h3"));
	rmp(path("h2"));
	rmp(path("h1"));
	rmp(path("l"));
}

/* O_TMPFILE makes a nameless file that linkat AT_EMPTY_PATH can name;
 * root holds CAP_DAC_READ_SEARCH, which AT_EMPTY_PATH needs. */
static void sc_linkat_tmpfile(void)
{
	int fd, fd2;

	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	fd = obs_open("open /dev/shm O_TMPFILE|O_RDWR 0640", SHM_DIR,
		      O_TMPFILE | O_RDWR, 0640);
	obs_fstat("fstat", fd);
	obs_write("write", fd, "anonymous");
	obs_list("readdir: nothing visible", SHM_DIR);
	obs_ret("linkat fd \"\" a AT_EMPTY_PATH",
		linkat(fd, "", AT_FDCWD, path("a"), AT_EMPTY_PATH));
	obs_fstat("fstat after linkat", fd);
	obs_pstat("stat a", path("a"));
	obs_contents("contents of a", "a");
	obs_ret("linkat fd \"\" b AT_EMPTY_PATH again",
		linkat(fd, "", AT_FDCWD, path("b"), AT_EMPTY_PATH));
	obs_ret("linkat fd \"\" a (exists)",
		linkat(fd, "", AT_FDCWD, path("a"), AT_EMPTY_PATH));
	obs_ret("linkat fd \"\" without AT_EMPTY_PATH",
		linkat(fd, "", AT_FDCWD, path("c"), 0));
	obs_list("readdir", SHM_DIR);
	obs_ret("unlink a", unlink(path("a")));
	obs_ret("unlink b", unlink(path("b")));
	obs_fstat("fstat after both names went", fd);
	obs_ret("linkat again once it was linked and unlinked",
		linkat(fd, "", AT_FDCWD, path("c"), AT_EMPTY_PATH));
	obs_pstat("stat c", path("c"));
	unlink(path("c"));
	xclose(fd);
	mkd(path("d"));
	fd2 = obs_open("open d O_TMPFILE|O_WRONLY 0600", path("d"),
		       O_TMPFILE | O_WRONLY, 0600);
	obs_ret("linkat into d", linkat(fd2, "", AT_FDCWD, sub("d", "t"),
					AT_EMPTY_PATH));
	obs_pstat("stat d/t", sub("d", "t"));
	obs_fdflags("flags", fd2);
	xclose(fd2);
	unlink(sub("d", "t"));
	rmd(path("d"));
	probe_open("open /dev/shm O_TMPFILE|O_RDONLY", SHM_DIR,
		   O_TMPFILE | O_RDONLY, 0600);
	probe_open("open missing dir O_TMPFILE", path("nodir"),
		   O_TMPFILE | O_RDWR, 0600);
	xclose(mk("f", ""));
	probe_open("open file O_TMPFILE", path("f"), O_TMPFILE | O_RDWR, 0600);
	rm("f");
}

static void sc_linkat_tmpfile_excl(void)
{
	int fd;

	fd = obs_open("open /dev/shm O_TMPFILE|O_EXCL|O_RDWR", SHM_DIR,
		      O_TMPFILE | O_EXCL | O_RDWR, 0600);
	obs_write("write", fd, "never named");
	obs_fstat("fstat", fd);
	obs_ret("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, path("a"),
					       AT_EMPTY_PATH));
	obs_pstat("stat a", path("a"));
	obs_pread("pread", fd, 16, 0);
	unlink(path("a"));
	xclose(fd);
}

/* The idiom of open(2)'s manual page: name a temporary file through
 * /proc/self/fd with AT_SYMLINK_FOLLOW, no capability needed. */
static void sc_linkat_tmpfile_proc(void)
{
	int fd;

	fd = obs_open("open /dev/shm O_TMPFILE|O_RDWR 0600", SHM_DIR,
		      O_TMPFILE | O_RDWR, 0600);
	obs_write("write", fd, "via proc");
	obs_ret("linkat /proc/self/fd/N AT_SYMLINK_FOLLOW",
		linkat(AT_FDCWD, fmt("/proc/self/fd/%d", fd), AT_FDCWD,
		       path("a"), AT_SYMLINK_FOLLOW));
	obs_pstat("stat a", path("a"));
	obs_fstat("fstat", fd);
	obs_contents("contents of a", "a");
	unlink(path("a"));
	xclose(fd);
}

/* ============================================================ symlinks */

static void sc_symlink_relative(void)
{
	struct stat st;
	int fd, dfd;

	fd = mk("a", "target data");
	obs_fstat("fstat a", fd);
	obs_ret("symlink l -> <a>", symlink(objname("a"), path("l")));
	obs_lstat("lstat l", path("l"));
	obs_pstat("stat l", path("l"));
	obs_readlink("readlink l", path("l"), 256);
	xclose(fd);
	fd = obs_open("open l O_RDWR", path("l"), O_RDWR, 0);
	obs_fstat("fstat", fd);
	obs_read("read", fd, 64);
	obs_pwrite("pwrite via l", fd, "T", 0);
	xclose(fd);
	obs_contents("contents of a", "a");
	dfd = obs_open("open /dev/shm O_DIRECTORY", SHM_DIR,
		       O_RDONLY | O_DIRECTORY, 0);
	obs_stat("fstatat dirfd l AT_SYMLINK_NOFOLLOW",
		 fstatat(dfd, objname("l"), &st, AT_SYMLINK_NOFOLLOW), &st);
	obs_stat("fstatat dirfd l", fstatat(dfd, objname("l"), &st, 0), &st);
	xclose(dfd);
	obs_list("readdir", SHM_DIR);
	obs_ret("unlink l", unlink(path("l")));
	obs_pstat("stat a after unlinking the link", path("a"));
	rm("a");
}

static void sc_symlink_absolute(void)
{
	int fd;

	xclose(mk("a", "abs"));
	obs_ret("symlink l -> /dev/shm/<a>", symlink(path("a"), path("l")));
	obs_ret("symlink l2 -> /dev/shm/<l>", symlink(path("l"), path("l2")));
	obs_ret("symlink l3 -> /dev/shm/../shm/<a>",
		symlink(fmt("/dev/shm/../shm/%s", objname("a")), path("l3")));
	obs_lstat("lstat l", path("l"));
	obs_lstat("lstat l2", path("l2"));
	obs_pstat("stat a", path("a"));
	obs_pstat("stat l", path("l"));
	obs_pstat("stat l2", path("l2"));
	obs_pstat("stat l3", path("l3"));
	obs_readlink("readlink l", path("l"), 256);
	obs_readlink("readlink l2", path("l2"), 256);
	fd = obs_open("open l2 O_WRONLY|O_APPEND", path("l2"),
		      O_WRONLY | O_APPEND, 0);
	obs_write("append via l2", fd, "+more");
	xclose(fd);
	fd = obs_open("open l3 O_RDONLY", path("l3"), O_RDONLY, 0);
	obs_read("read via l3", fd, 32);
	xclose(fd);
	obs_ret("truncate via l", truncate(path("l"), 2));
	obs_contents("contents of a", "a");
	rmp(path("l3"));
	rmp(path("l2"));
	rmp(path("l"));
	rm("a");
}

static void sc_symlink_dangling(void)
{
	struct stat st;
	int fd;

	obs_ret("symlink l -> <t> (missing)", symlink(objname("t"), path("l")));
	obs_pstat("stat l", path("l"));
	obs_lstat("lstat l", path("l"));
	obs_ret("access l F_OK", access(path("l"), F_OK));
	obs_ret("faccessat l F_OK AT_SYMLINK_NOFOLLOW",
		faccessat(AT_FDCWD, path("l"), F_OK, AT_SYMLINK_NOFOLLOW));
	probe_open("open l O_RDONLY", path("l"), O_RDONLY, 0);
	probe_open("open l O_CREAT|O_EXCL", path("l"), O_CREAT | O_EXCL | O_RDWR,
		   0600);
	obs_pstat("stat t: still missing", path("t"));
	fd = obs_open("open l O_CREAT|O_RDWR 0600", path("l"), O_CREAT | O_RDWR,
		      0600);
	obs_write("write", fd, "made through the link");
	obs_fstat("fstat", fd);
	xclose(fd);
	obs_pstat("stat t: created", path("t"));
	obs_lstat("lstat l: still a link", path("l"));
	obs_stat("stat l", stat(path("l"), &st), &st);
	obs_contents("contents of t", "t");
	obs_list("readdir", SHM_DIR);
	/* a link into a missing directory cannot create its target */
	obs_ret("symlink m -> nodir/t", symlink(fmt("%s/t", objname("nodir")),
						path("m")));
	probe_open("open m O_CREAT", path("m"), O_CREAT | O_RDWR, 0600);
	rmp(path("m"));
	rmp(path("l"));
	rm("t");
}

static void sc_readlink_edges(void)
{
	char buf[64];
	size_t len = strlen(objname("a"));
	int dfd, lfd;

	xclose(mk("a", "A"));
	mkd(path("d"));
	mkln(objname("a"), path("l"));
	mkln(objname("d"), path("ld"));
	mkln("inner", sub("d", "in"));
	obs("target length %zu", len);
	obs_readlink("readlink exact size", path("l"), len);
	obs_readlink("readlink size+1", path("l"), len + 1);
	obs_readlink("readlink 5 bytes", path("l"), 5);
	obs_readlink("readlink 1 byte", path("l"), 1);
	obs_ret("readlink 0 bytes", readlink(path("l"), buf, 0));
	obs_readlink("readlink a regular file", path("a"), 64);
	obs_readlink("readlink a directory", path("d"), 64);
	obs_readlink("readlink /dev/shm", SHM_DIR, 64);
	obs_readlink("readlink missing", path("m"), 64);
	obs_readlink("readlink l/", fmt("%s/", path("l")), 64);
	obs_readlink("readlink ld/ (follows to the dir)",
		     fmt("%s/", path("ld")), 64);
	obs_readlink("readlink ld/in (through a link)", sub("ld", "in"), 64);
	obs_readlink("readlink file/x", sub("a", "x"), 64);
	dfd = obs_open("open d O_DIRECTORY", path("d"), O_RDONLY | O_DIRECTORY,
		       0);
	memset(buf, 0, sizeof buf);
	obs_ret("readlinkat d-fd \"in\"", readlinkat(dfd, "in", buf, sizeof buf));
	obs_data("buffer", buf, 8);
	obs_ret("readlinkat d-fd missing",
		readlinkat(dfd, "nothing", buf, sizeof buf));
	xclose(dfd);
	lfd = obs_open("open l O_PATH|O_NOFOLLOW", path("l"),
		       O_PATH | O_NOFOLLOW, 0);
	obs_fstat("fstat O_PATH fd", lfd);
	memset(buf, 0, sizeof buf);
	obs_ret("readlinkat O_PATH fd \"\"", readlinkat(lfd, "", buf,
							 sizeof buf));
	obs_data("buffer", buf, (long)len);
	xclose(lfd);
	rmp(sub("d", "in"));
	rmp(path("ld"));
	rmp(path("l"));
	rmd(path("d"));
	rm("a");
}

static void sc_symlink_loop(void)
{
	mkln(objname("s"), path("s"));
	mkln(objname("b"), path("a"));
	mkln(objname("a"), path("b"));
	obs_pstat("stat self-loop", path("s"));
	obs_lstat("lstat self-loop", path("s"));
	obs_readlink("readlink self-loop", path("s"), 64);
	probe_open("open self-loop", path("s"), O_RDONLY, 0);
	probe_open("open self-loop O_CREAT", path("s"), O_CREAT | O_RDWR, 0600);
	obs_ret("access self-loop", access(path("s"), F_OK));
	obs_pstat("stat 2-cycle a", path("a"));
	obs_lstat("lstat 2-cycle a", path("a"));
	probe_open("open 2-cycle b", path("b"), O_RDWR, 0);
	obs_pstat("stat self-loop/x", sub("s", "x"));
	obs_ret("mkdir self-loop/x", mkdir(sub("s", "x"), 0755));
	obs_ret("chmod 2-cycle", chmod(path("a"), 0600));
	obs_ret("truncate 2-cycle", truncate(path("a"), 0));
	obs_lstat("lstat b unchanged", path("b"));
	obs_list("readdir", SHM_DIR);
	rmp(path("b"));
	rmp(path("a"));
	rmp(path("s"));
}

/* The kernel follows at most 40 links in one lookup. */
static void sc_symlink_maxlinks(void)
{
	int i;

	xclose(mk("f", "end"));
	mkln(objname("f"), path("c40"));
	for (i = 39; i >= 0; i--)
		mkln(objname(fmt("c%d", i + 1)), path(fmt("c%d", i)));
	obs_pstat("stat through 40 links", path("c1"));
	obs_pstat("stat through 41 links", path("c0"));
	probe_open("open through 40 links", path("c1"), O_RDONLY, 0);
	probe_open("open through 41 links", path("c0"), O_RDONLY, 0);
	for (i = 0; i <= 40; i++)
		rmp(path(fmt("c%d", i)));
	rm("f");
}

static void sc_open_nofollow(void)
{
	int fd;

	xclose(mk("a", "A"));
	mkd(path("d"));
	mkf(sub("d", "f"), "F");
	mkln(objname("a"), path("l"));
	mkln(objname("d"), path("ld"));
	mkln(objname("gone"), path("dang"));
	probe_open("open link O_NOFOLLOW", path("l"), O_RDONLY | O_NOFOLLOW, 0);
	probe_open("open link O_NOFOLLOW|O_CREAT", path("l"),
		   O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	probe_open("open dangling O_NOFOLLOW|O_CREAT", path("dang"),
		   O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	obs_pstat("stat gone: not created", path("gone"));
	probe_open("open file O_NOFOLLOW", path("a"), O_RDONLY | O_NOFOLLOW, 0);
	probe_open("open link-to-dir O_NOFOLLOW|O_DIRECTORY", path("ld"),
		   O_RDONLY | O_NOFOLLOW | O_DIRECTORY, 0);
	/* only the last component is exempt from following */
	fd = obs_open("open ld/f O_NOFOLLOW", sub("ld", "f"),
		      O_RDONLY | O_NOFOLLOW, 0);
	obs_read("read", fd, 8);
	xclose(fd);
	fd = obs_open("open link O_PATH|O_NOFOLLOW", path("l"),
		      O_PATH | O_NOFOLLOW, 0);
	obs_fstat("fstat", fd);
	obs_read("read on O_PATH fd", fd, 8);
	xclose(fd);
	rmp(path("dang"));
	rmp(path("ld"));
	rmp(path("l"));
	rmp(sub("d", "f"));
	rmd(path("d"));
	rm("a");
}

static void sc_symlink_dir(void)
{
	struct stat st;
	int fd;

	mkd(path("d"));
	mkln(objname("d"), path("ld"));
	obs_dstat("stat ld", path("ld"));
	obs_lstat("lstat ld", path("ld"));
	obs_dstat("stat ld/", fmt("%s/", path("ld")));
	obs_stat("lstat ld/ (a trailing slash follows)",
		 lstat(fmt("%s/", path("ld")), &st), &st);
	obs_dstat("stat ld/.", sub("ld", "."));
	fd = obs_open("open ld/f O_CREAT", sub("ld", "f"), O_CREAT | O_RDWR,
		      0644);
	obs_write("write", fd, "in d");
	xclose(fd);
	obs_pstat("stat d/f", sub("d", "f"));
	obs_ret("mkdir ld/s", mkdir(sub("ld", "s"), 0755));
	obs_dstat("stat d/s", sub("d", "s"));
	obs_list_all("readdir ld", path("ld"));
	probe_open("open ld O_DIRECTORY", path("ld"), O_RDONLY | O_DIRECTORY, 0);
	probe_open("open ld/ O_RDONLY", fmt("%s/", path("ld")), O_RDONLY, 0);
	obs_ret("unlink ld/", unlink(fmt("%s/", path("ld"))));
	obs_ret("rmdir ld", rmdir(path("ld")));
	obs_ret("rmdir ld/", rmdir(fmt("%s/", path("ld"))));
	obs_ret("rmdir ld/s", rmdir(sub("ld", "s")));
	obs_ret("unlink ld/f", unlink(sub("ld", "f")));
	obs_ret("unlink ld", unlink(path("ld")));
	obs_dstat("stat d", path("d"));
	obs_list_all("readdir d", path("d"));
	rmd(path("d"));
}

/* The same bytes as a direct read of p, or why not. */
static void obs_same_as(const char *label, const char *via, const char *p)
{
	char a[256], b[256];
	ssize_t na = -1, nb = -1;
	int fa, fb, e = 0;

	fa = open(via, O_RDONLY);
	if (fa >= 0)
		na = read(fa, a, sizeof a);
	else
		e = errno;
	fb = open(p, O_RDONLY);
	if (fb >= 0)
		nb = read(fb, b, sizeof b);
	xclose(fa);
	xclose(fb);
	if (na < 0)
		obs("%s: open errno=%s", label, errname(e));
	else
		obs("%s: len %s, bytes %s", label, na == nb ? "same" : "differ",
		    na == nb && memcmp(a, b, (size_t)na) == 0 ? "same" :
								 "differ");
}

/* Links from /dev/shm out to the real filesystem. */
static void sc_symlink_outside(void)
{
	struct stat st, real;
	int ok;

	mkln("/etc/hostname", path("abs"));
	mkln("../../etc/hostname", path("rel"));
	mkln("/etc", path("etc"));
	mkln("..", path("up"));
	obs_lstat("lstat abs", path("abs"));
	obs_lstat("lstat rel", path("rel"));
	obs_readlink("readlink rel", path("rel"), 64);
	ok = stat("/etc/hostname", &real) == 0;
	obs("stat /etc/hostname: %s", ok ? "ok" : errname(errno));
	obs("stat abs is /etc/hostname: %s",
	    stat(path("abs"), &st) == 0 ?
		    (ok && st.st_ino == real.st_ino && st.st_dev == real.st_dev ?
			     "yes" : "no") :
		    errname(errno));
	obs("stat rel is /etc/hostname: %s",
	    stat(path("rel"), &st) == 0 ?
		    (ok && st.st_ino == real.st_ino && st.st_dev == real.st_dev ?
			     "yes" : "no") :
		    errname(errno));
	obs("stat etc/hostname is /etc/hostname: %s",
	    stat(sub("etc", "hostname"), &st) == 0 ?
		    (ok && st.st_ino == real.st_ino && st.st_dev == real.st_dev ?
			     "yes" : "no") :
		    errname(errno));
	obs("stat up is /dev: %s",
	    stat(path("up"), &st) == 0 && stat("/dev", &real) == 0 ?
		    (st.st_ino == real.st_ino && st.st_dev == real.st_dev ?
			     "yes" : "no") :
		    errname(errno));
	obs_same_as("read via abs", path("abs"), "/etc/hostname");
	obs_same_as("read via rel", path("rel"), "/etc/hostname");
	obs_same_as("read via etc/hostname", sub("etc", "hostname"),
		    "/etc/hostname");
	obs_ret("access abs R_OK", access(path("abs"), R_OK));
	obs_ret("access up/shm X_OK", access(sub("up", "shm"), X_OK));
	obs_dirstat("stat up/shm", stat(sub("up", "shm"), &st), &st);
	obs_dirstat("stat /dev/shm", stat(SHM_DIR, &st), &st);
	rmp(path("up"));
	rmp(path("etc"));
	rmp(path("rel"));
	rmp(path("abs"));
}

/* O_CREAT through a dangling link whose target is outside /dev/shm. */
static void sc_symlink_dangling_out(void)
{
	char outside[NAME_MAX + 8];
	struct stat st;
	int fd;

	snprintf(outside, sizeof outside, "/tmp/%s", objname("t"));
	unlink(outside);
	obs_ret("symlink l -> /tmp/<t>", symlink(outside, path("l")));
	obs_pstat("stat l", path("l"));
	fd = obs_open("open l O_CREAT|O_RDWR", path("l"), O_CREAT | O_RDWR,
		      0600);
	obs_write("write", fd, "outside");
	xclose(fd);
	obs_stat("stat /tmp/<t>", stat(outside, &st), &st);
	obs_pstat("stat l", path("l"));
	obs_same_as("read via l", path("l"), outside);
	obs_ret("unlink /tmp/<t>", unlink(outside));
	rmp(path("l"));
}

static void sc_symlink_errors(void)
{
	static char target[PATH_MAX + 2];

	xclose(mk("f", ""));
	mkd(path("d"));
	mkln(objname("f"), path("l"));
	obs_ret("symlink empty target", symlink("", path("e")));
	obs_ret("symlink onto a file", symlink("x", path("f")));
	obs_ret("symlink onto a dir", symlink("x", path("d")));
	obs_ret("symlink onto a link", symlink("x", path("l")));
	obs_ret("symlink onto dir/", symlink("x", fmt("%s/", path("d"))));
	obs_ret("symlink new name with trailing slash",
		symlink("x", fmt("%s/", path("n"))));
	obs_ret("symlink in missing dir", symlink("x", sub("nodir", "n")));
	obs_ret("symlink under a file", symlink("x", sub("f", "n")));
	obs_ret("symlink name of 256 chars",
		symlink("x", path(tag_of_len(NAME_MAX + 1))));
	memset(target, 't', PATH_MAX - 1);
	target[PATH_MAX - 1] = '\0';
	obs_ret("symlink target of 4095 chars", symlink(target, path("long")));
	obs_lstat("lstat", path("long"));
	obs_readlink("readlink", path("long"), PATH_MAX);
	memset(target, 't', PATH_MAX);
	target[PATH_MAX] = '\0';
	obs_ret("symlink target of 4096 chars", symlink(target, path("long2")));
	obs_list("readdir", SHM_DIR);
	unlink(path("long2"));
	rmp(path("long"));
	rmp(path("l"));
	rmd(path("d"));
	rm("f");
}

static void sc_symlinkat(void)
{
	char buf[64];
	struct stat st;
	int dfd, sfd, ffd;

	xclose(mk("a", "A"));
	mkd(path("d"));
	dfd = obs_open("open /dev/shm O_DIRECTORY", SHM_DIR,
		       O_RDONLY | O_DIRECTORY, 0);
	sfd = obs_open("open d O_DIRECTORY", path("d"), O_RDONLY | O_DIRECTORY,
		       0);
	obs_ret("symlinkat dirfd relative",
		symlinkat(objname("a"), dfd, objname("l")));
	obs_ret("symlinkat d-fd up -> ../<a>",
		symlinkat(fmt("../%s", objname("a")), sfd, "up"));
	obs_ret("symlinkat d-fd here -> <a> (relative to d: dangling)",
		symlinkat(objname("a"), sfd, "here"));
	obs_ret("symlinkat AT_FDCWD absolute",
		symlinkat(objname("a"), AT_FDCWD, path("l2")));
	obs_ret("symlinkat dirfd=-1 absolute",
		symlinkat(objname("a"), -1, path("l3")));
	obs_ret("symlinkat dirfd=-1 relative", symlinkat("x", -1, "n"));
	ffd = obs_open("open a", path("a"), O_RDONLY, 0);
	obs_ret("symlinkat file fd relative", symlinkat("x", ffd, "n"));
	xclose(ffd);
	obs_pstat("stat l", path("l"));
	obs_pstat("stat d/up", sub("d", "up"));
	obs_pstat("stat d/here", sub("d", "here"));
	obs_stat("fstatat d-fd up AT_SYMLINK_NOFOLLOW",
		 fstatat(sfd, "up", &st, AT_SYMLINK_NOFOLLOW), &st);
	memset(buf, 0, sizeof buf);
	obs_ret("readlinkat d-fd up", readlinkat(sfd, "up", buf, sizeof buf));
	obs_data("target", buf, (long)strlen(buf));
	obs_list_all("readdir d", path("d"));
	obs_ret("unlinkat d-fd up", unlinkat(sfd, "up", 0));
	obs_ret("unlinkat d-fd here", unlinkat(sfd, "here", 0));
	obs_ret("unlinkat dirfd l", unlinkat(dfd, objname("l"), 0));
	xclose(sfd);
	xclose(dfd);
	rmp(path("l3"));
	rmp(path("l2"));
	rmd(path("d"));
	rm("a");
}

/* ================================================== renaming directories */

static void sc_rename_dir(void)
{
	struct stat st;

	mkd(path("d"));
	mkf(sub("d", "f"), "inside");
	mkd(sub("d", "s"));
	mkd(path("g"));
	obs_dstat("stat d", path("d"));
	obs_ret("rename d -> e", rename(path("d"), path("e")));
	obs_dstat("stat d", path("d"));
	obs_dstat("stat e", path("e"));
	obs_pstat("stat e/f", sub("e", "f"));
	obs_dstat("stat e/s/..", sub("e", "s/.."));
	obs_ret("rename e -> g (empty dir)", rename(path("e"), path("g")));
	obs_dstat("stat g", path("g"));
	obs_dstat("stat e", path("e"));
	obs_ret("rename g/s -> t (moves up)", rename(sub("g", "s"), path("t")));
	obs_dstat("stat g", path("g"));
	obs_dirstat("stat t/..", stat(sub("t", ".."), &st), &st);
	obs_dirstat("stat /dev/shm", stat(SHM_DIR, &st), &st);
	obs_ret("rename t -> g/u (moves down)", rename(path("t"), sub("g", "u")));
	obs_dstat("stat g", path("g"));
	obs_dstat("stat g/u/..", sub("g", "u/.."));
	obs_ret("rename g -> g", rename(path("g"), path("g")));
	obs_ret("rename g -> h/ (trailing slash)",
		rename(path("g"), fmt("%s/", path("h"))));
	obs_ret("rename h/ -> i/", rename(fmt("%s/", path("h")),
					  fmt("%s/", path("i"))));
	obs_list("readdir", SHM_DIR);
	obs_list_all("readdir i", path("i"));
	rmd(sub("i", "u"));
	rmp(sub("i", "f"));
	rmd(path("i"));
}

static void sc_rename_dir_errors(void)
{
	mkd(path("d"));
	mkd(sub("d", "s"));
	mkd(path("full"));
	mkf(sub("full", "x"), "");
	mkd(path("empty"));
	xclose(mk("f", "F"));
	obs_ret("rename d -> d/x", rename(path("d"), sub("d", "x")));
	obs_ret("rename d -> d/s/x", rename(path("d"), sub("d", "s/x")));
	obs_ret("rename d -> d/s", rename(path("d"), sub("d", "s")));
	obs_ret("rename d/s -> d", rename(sub("d", "s"), path("d")));
	obs_ret("rename d over a non-empty dir", rename(path("d"), path("full")));
	obs_ret("rename dir over a file", rename(path("d"), path("f")));
	obs_ret("rename file over a dir", rename(path("f"), path("empty")));
	obs_ret("rename file -> n/", rename(path("f"), fmt("%s/", path("n"))));
	obs_ret("rename d/. -> n", rename(sub("d", "."), path("n")));
	obs_ret("rename d/.. -> n", rename(sub("d", ".."), path("n")));
	obs_ret("rename d -> empty/.", rename(path("d"), sub("empty", ".")));
	obs_ret("rename /dev/shm -> n", rename(SHM_DIR, path("n")));
	obs_ret("rename d onto /dev/shm", rename(path("d"), SHM_DIR));
	obs_ret("renameat2 RENAME_NOREPLACE dir over empty dir",
		renameat2(AT_FDCWD, path("d"), AT_FDCWD, path("empty"),
			  RENAME_NOREPLACE));
	obs_dstat("stat d", path("d"));
	obs_dstat("stat d/s", sub("d", "s"));
	obs_dstat("stat full", path("full"));
	obs_dstat("stat empty", path("empty"));
	obs_pstat("stat f", path("f"));
	obs_list("readdir", SHM_DIR);
	rm("f");
	rmd(path("empty"));
	rmp(sub("full", "x"));
	rmd(path("full"));
	rmd(sub("d", "s"));
	rmd(path("d"));
}

static void sc_rename_exchange_dir(void)
{
	xclose(mk("f", "file data"));
	mkd(path("d"));
	mkf(sub("d", "x"), "");
	mkd(path("p"));
	mkd(sub("p", "q"));
	obs_pstat("stat f", path("f"));
	obs_dstat("stat d", path("d"));
	obs_ret("RENAME_EXCHANGE f <-> d",
		renameat2(AT_FDCWD, path("f"), AT_FDCWD, path("d"),
			  RENAME_EXCHANGE));
	obs_lstat("lstat f", path("f"));
	obs_dstat("stat f", path("f"));
	obs_pstat("stat d", path("d"));
	obs_contents("contents of d", "d");
	obs_list_all("readdir f", path("f"));
	/* a directory moving to another parent moves a link count with it */
	obs_dstat("stat p", path("p"));
	obs_ret("RENAME_EXCHANGE p/q <-> d (file)",
		renameat2(AT_FDCWD, sub("p", "q"), AT_FDCWD, path("d"),
			  RENAME_EXCHANGE));
	obs_dstat("stat p", path("p"));
	obs_dstat("stat d", path("d"));
	obs_pstat("stat p/q", sub("p", "q"));
	obs_ret("RENAME_EXCHANGE with missing",
		renameat2(AT_FDCWD, path("f"), AT_FDCWD, path("m"),
			  RENAME_EXCHANGE));
	obs_ret("RENAME_EXCHANGE dir with its own child",
		renameat2(AT_FDCWD, path("f"), AT_FDCWD, sub("f", "x"),
			  RENAME_EXCHANGE));
	obs_ret("RENAME_EXCHANGE|RENAME_NOREPLACE",
		renameat2(AT_FDCWD, path("f"), AT_FDCWD, path("d"),
			  RENAME_EXCHANGE | RENAME_NOREPLACE));
	rmp(sub("p", "q"));
	rmd(path("p"));
	rmd(path("d"));
	rmp(sub("f", "x"));
	rmd(path("f"));
}

/* Renaming a link moves the link; a relative target is read from its new
 * directory. */
static void sc_rename_symlink(void)
{
	xclose(mk("a", "A"));
	mkd(path("d"));
	mkln(objname("a"), path("l"));
	obs_ret("rename l -> d/l", rename(path("l"), sub("d", "l")));
	obs_lstat("lstat d/l", sub("d", "l"));
	obs_pstat("stat d/l (dangling now)", sub("d", "l"));
	obs_readlink("readlink d/l", sub("d", "l"), 64);
	obs_ret("rename d/l -> m", rename(sub("d", "l"), path("m")));
	obs_pstat("stat m", path("m"));
	obs_ret("rename a -> b", rename(path("a"), path("b")));
	obs_pstat("stat m (target renamed)", path("m"));
	obs_ret("rename m onto b", rename(path("m"), path("b")));
	obs_lstat("lstat b (the link now)", path("b"));
	obs_pstat("stat b", path("b"));
	mkln(objname("d"), path("ld"));
	obs_ret("rename ld -> ld2", rename(path("ld"), path("ld2")));
	obs_ret("rename file into dir through link: b -> ld2/b",
		rename(path("b"), sub("ld2", "b")));
	obs_lstat("lstat d/b", sub("d", "b"));
	obs_ret("rename link-to-dir over a dir",
		rename(path("ld2"), path("d")));
	rmp(sub("d", "b"));
	rmp(path("ld2"));
	rmd(path("d"));
}

/* ===================================================== cwd under /dev/shm */

static void sc_chdir_subdir(void)
{
	struct stat st;
	int home, fd;

	home = save_cwd();
	mkd(path("d"));
	obs_ret("chdir d", chdir(path("d")));
	obs_getcwd("getcwd");
	fd = obs_open("open f O_CREAT (relative)", "f", O_CREAT | O_RDWR, 0640);
	obs_write("write", fd, "rel");
	obs_fstat("fstat", fd);
	xclose(fd);
	obs_pstat("stat f", "f");
	obs_pstat("stat ./f", "./f");
	obs_pstat("stat d/f (absolute)", sub("d", "f"));
	obs_ret("mkdir s", mkdir("s", 0750));
	obs_dstat("stat s", "s");
	obs_dstat("stat .", ".");
	obs_dstat("stat d (absolute)", path("d"));
	obs_dirstat("stat ..", stat("..", &st), &st);
	obs_dirstat("stat /dev/shm", stat(SHM_DIR, &st), &st);
	obs_ret("symlink l -> f", symlink("f", "l"));
	obs_readlink("readlink l", "l", 16);
	obs_ret("access l R_OK", access("l", R_OK));
	obs_ret("rename f -> s/g", rename("f", "s/g"));
	obs_ret("chdir s", chdir("s"));
	obs_getcwd("getcwd");
	obs_pstat("stat g", "g");
	obs_pstat("stat ../l (dangling now)", "../l");
	obs_ret("chdir ../..", chdir("../.."));
	obs_getcwd("getcwd");
	obs_ret("unlink <d>/s/g", unlink(fmt("%s/s/g", objname("d"))));
	obs_ret("unlink <d>/l", unlink(fmt("%s/l", objname("d"))));
	obs_ret("rmdir <d>/s", rmdir(fmt("%s/s", objname("d"))));
	obs_ret("rmdir <d>", rmdir(objname("d")));
	obs_ret("chdir ..", chdir(".."));
	obs_getcwd("getcwd");
	restore_cwd(home);
}

static void sc_fchdir(void)
{
	int home, dfd, pfd, ffd, fd;

	home = save_cwd();
	mkd(path("d"));
	ffd = mk("f", "");
	dfd = obs_open("open d O_DIRECTORY", path("d"), O_RDONLY | O_DIRECTORY,
		       0);
	obs_ret("fchdir d", fchdir(dfd));
	obs_getcwd("getcwd");
	fd = obs_open("creat x (relative)", "x", O_CREAT | O_WRONLY, 0600);
	xclose(fd);
	obs_ret("access x W_OK", access("x", W_OK));
	obs_ret("mkdir y", mkdir("y", 0755));
	obs_list_all("readdir .", ".");
	obs_ret("fchdir on a file fd", fchdir(ffd));
	obs_ret("fchdir -1", fchdir(-1));
	obs_getcwd("getcwd after failed fchdirs");
	pfd = obs_open("open d/y O_PATH", sub("d", "y"), O_PATH | O_DIRECTORY,
		       0);
	obs_ret("fchdir on O_PATH fd", fchdir(pfd));
	obs_getcwd("getcwd");
	obs_pstat("stat ../x", "../x");
	xclose(pfd);
	obs_ret("fchdir d again", fchdir(dfd));
	obs_ret("unlink x", unlink("x"));
	obs_ret("rmdir y", rmdir("y"));
	xclose(dfd);
	xclose(ffd);
	restore_cwd(home);
	rm("f");
	rmd(path("d"));
}

static void sc_chdir_errors(void)
{
	int home;

	home = save_cwd();
	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	xclose(mk("f", ""));
	mkd(path("d"));
	mkln(objname("d"), path("ld"));
	mkln(objname("gone"), path("dang"));
	mkln(objname("loop"), path("loop"));
	obs_ret("chdir missing", chdir(path("m")));
	obs_ret("chdir a file", chdir(path("f")));
	obs_ret("chdir file/", chdir(fmt("%s/", path("f"))));
	obs_ret("chdir dangling link", chdir(path("dang")));
	obs_ret("chdir loop", chdir(path("loop")));
	obs_ret("chdir name of 256 chars", chdir(path(tag_of_len(NAME_MAX + 1))));
	obs_ret("chdir link to dir", chdir(path("ld")));
	obs_getcwd("getcwd (the link resolved)");
	obs_ret("chmod d 0000", chmod(path("d"), 0));
	obs_ret("chdir /dev/shm/<d> (mode 0000)", chdir(path("d")));
	obs_ret("chdir .", chdir("."));
	obs_getcwd("getcwd");
	obs_ret("chdir /dev/shm", chdir(SHM_DIR));
	obs_ret("chdir <ld>/.. ", chdir(fmt("%s/..", objname("ld"))));
	obs_getcwd("getcwd");
	restore_cwd(home);
	rmp(path("loop"));
	rmp(path("dang"));
	rmp(path("ld"));
	rmd(path("d"));
	rm("f");
}

static void sc_getcwd_forms(void)
{
	char buf[PATH_MAX], *p;
	size_t len;
	int home;

	home = save_cwd();
	mkd(path("d"));
	len = strlen(path("d"));
	obs_ret("chdir d", chdir(path("d")));
	p = getcwd(buf, len);
	obs("getcwd size len: %s errno=%s", p ? "ok" : "NULL",
	    p ? "0" : errname(errno));
	p = getcwd(buf, len + 1);
	obs("getcwd size len+1: %s", p ? p : errname(errno));
	p = getcwd(buf, 0);
	obs("getcwd size 0: %s errno=%s", p ? "ok" : "NULL",
	    p ? "0" : errname(errno));
	p = getcwd(NULL, 0);
	obs("getcwd NULL 0: %s", p ? p : errname(errno));
	free(p);
	p = getcwd(NULL, len);
	obs("getcwd NULL len: %s errno=%s", p ? p : "NULL",
	    p ? "0" : errname(errno));
	free(p);
	setenv("PWD", path("d"), 1);
	p = get_current_dir_name();
	obs("get_current_dir_name with PWD set: %s", p ? p : errname(errno));
	free(p);
	unsetenv("PWD");
	p = get_current_dir_name();
	obs("get_current_dir_name without PWD: %s", p ? p : errname(errno));
	free(p);
	obs_ret("chdir /dev/shm/.", chdir(SHM_DIR "/."));
	obs_getcwd("getcwd");
	restore_cwd(home);
	rmd(path("d"));
}

/* ============================================================ realpath */

static void obs_realpath(const char *label, const char *p)
{
	char buf[PATH_MAX];
	char *r = realpath(p, buf);
	int e = errno;
	if (r)
		obs("%s: %s", label, r);
	else
		obs("%s: ret=NULL errno=%s", label, errname(e));
}

/* mkstemp and friends create under a mount with glibc's rules: the
 * X's, the suffix, mode 0600 (0700 for mkdtemp), the extra open flags. */
static void copy_tmpl(char *buf, size_t cap, const char *p)
{
	snprintf(buf, cap, "%s", p);
}

static void sc_mkstemp(void)
{
	char t[512];
	struct stat st;
	size_t n;
	int fd;

	copy_tmpl(t, sizeof(t), path("fXXXXXX"));
	n = strlen(t);
	fd = mkstemp(t);
	obs_fd("mkstemp", fd);
	obs("the name keeps its length and prefix: %s",
	    strlen(t) == n && !strncmp(t, path("f"), strlen(path("f"))) && strcmp(t, path("fXXXXXX"))
		    ? "yes" : "no");
	obs_fstat("fstat", fd);
	obs_pstat("stat of the name", t);
	obs_fdflags("its flags", fd);
	xclose(fd);
	unlink(t);
	copy_tmpl(t, sizeof(t), path("bad"));
	obs_ret("mkstemp without XXXXXX", mkstemp(t));
	obs("the template is unchanged: %s", strcmp(t, path("bad")) ? "no" : "yes");
	copy_tmpl(t, sizeof(t), path("fXXXXX"));
	obs_ret("mkstemp with five X", mkstemp(t));
	copy_tmpl(t, sizeof(t), path("sXXXXXX.txt"));
	fd = mkstemps(t, 4);
	obs_fd("mkstemps with a 4-byte suffix", fd);
	obs("the suffix stays: %s", !strcmp(t + strlen(t) - 4, ".txt") ? "yes" : "no");
	xclose(fd);
	unlink(t);
	copy_tmpl(t, sizeof(t), path("sXXXXXX.txt"));
	obs_ret("mkstemps with a 5-byte suffix", mkstemps(t, 5));
	copy_tmpl(t, sizeof(t), path("oXXXXXX"));
	fd = mkostemp(t, O_CLOEXEC | O_APPEND);
	obs_fdflags("mkostemp O_CLOEXEC|O_APPEND", fd);
	xclose(fd);
	unlink(t);
	copy_tmpl(t, sizeof(t), path("dXXXXXX"));
	obs("mkdtemp: %s", mkdtemp(t) ? "ok" : errname(errno));
	obs_dirstat("the directory", stat(t, &st), &st);
	rmdir(t);
	copy_tmpl(t, sizeof(t), fmt("%s/fXXXXXX", path("nodir")));
	obs_ret("mkstemp in a missing directory", mkstemp(t));
}

/* scandir: glibc's own directory walk, over the namespace. */
static const char *scan_prefix;

static int scan_ours(const struct dirent *e)
{
	return !strncmp(e->d_name, scan_prefix, strlen(scan_prefix));
}

static void obs_scandir(const char *label, const char *dir)
{
	struct dirent **v;
	int n = scandir(dir, &v, scan_ours, alphasort), e = errno;

	if (n < 0) {
		obs("%s: ret=-1 errno=%s", label, errname(e));
		return;
	}
	obs("%s: %d entries", label, n);
	for (int i = 0; i < n; i++) {
		obs("  %s type=%d", v[i]->d_name + strlen(scan_prefix), v[i]->d_type);
		free(v[i]);
	}
	free(v);
}

static void sc_scandir(void)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "%s", objname(""));
	scan_prefix = prefix;
	xclose(mk("b", "B"));
	xclose(mk("a", "A"));
	mkd(path("c"));
	mkln(objname("a"), path("d"));
	obs_scandir("scandir /dev/shm", "/dev/shm");
	obs_scandir("scandir of a file", path("a"));
	obs_scandir("scandir of a missing directory", path("nope"));
	rmdir(path("c"));
	unlink(path("d"));
	obs_scandir("scandir after removals", "/dev/shm");
	unlink(path("a"));
	unlink(path("b"));
}

/* Extended attributes on tmpfs: user.* are stored, security.selinux is
 * not there; lists and lookups of a missing file say ENOENT. */
static void sc_xattr(void)
{
	char buf[64];
	ssize_t n;

	xclose(mk("a", "A"));
	obs_ret("lgetxattr security.selinux",
		lgetxattr(path("a"), "security.selinux", buf, sizeof(buf)));
	obs_ret("getxattr of a missing file", getxattr(path("m"), "user.k", buf, sizeof(buf)));
	obs_ret("listxattr of a missing file", listxattr(path("m"), buf, sizeof(buf)));
	obs_ret("setxattr user.k", setxattr(path("a"), "user.k", "v1", 2, 0));
	n = getxattr(path("a"), "user.k", buf, sizeof(buf));
	obs_ret("getxattr user.k", n);
	if (n > 0)
		obs_data("its value", buf, n);
	obs_ret("listxattr", listxattr(path("a"), buf, sizeof(buf)));
	obs_ret("removexattr user.k", removexattr(path("a"), "user.k"));
	obs_ret("removexattr user.k again", removexattr(path("a"), "user.k"));
	unlink(path("a"));
}

/* NULL, hidden from the compiler's nonnull checks */
static void *shx_null(void)
{
	void *p = NULL;

	__asm__("" : "+r"(p));
	return p;
}

/* What the kernel refuses before it looks the path up (import_xattr_name,
 * setxattr_copy), on a missing path and on an existing one. */
static void sc_xattr_names(void)
{
	char name[300], buf[16];
	static char big[XATTR_SIZE_MAX + 1];
	const char *where[] = { "m", "a" };

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	memcpy(name, "user.", 5);
	xclose(mk("a", "A"));
	for (int i = 0; i < 2; i++) {
		const char *p = path(where[i]), *w = where[i];

		obs_ret(fmt("%s: getxattr \"\"", w), getxattr(p, "", buf, sizeof(buf)));
		obs_ret(fmt("%s: getxattr 299-byte name", w), getxattr(p, name, buf, sizeof(buf)));
		obs_ret(fmt("%s: getxattr NULL name", w), getxattr(p, NULL, buf, sizeof(buf)));
		obs_ret(fmt("%s: setxattr \"\"", w), setxattr(p, "", "v", 1, 0));
		obs_ret(fmt("%s: setxattr bad flags", w), setxattr(p, "user.k", "v", 1, 8));
		obs_ret(fmt("%s: setxattr bad flags and name", w), setxattr(p, "", "v", 1, 8));
		obs_ret(fmt("%s: setxattr 64 KiB + 1", w), setxattr(p, "user.k", big, sizeof(big), 0));
		obs_ret(fmt("%s: setxattr NULL value", w),
			setxattr(p, "user.k", (const void *)shx_null(), 1, 0));
		obs_ret(fmt("%s: removexattr \"\"", w), removexattr(p, ""));
		obs_ret(fmt("%s: getxattr unknown prefix", w), getxattr(p, "bogus.k", buf, 16));
		obs_ret(fmt("%s: setxattr unknown prefix", w), setxattr(p, "bogus.k", "v", 1, 0));
		obs_ret(fmt("%s: getxattr \"user\"", w), getxattr(p, "user", buf, sizeof(buf)));
		obs_ret(fmt("%s: getxattr \"user.\"", w), getxattr(p, "user.", buf, sizeof(buf)));
		obs_ret(fmt("%s: setxattr \"user.\"", w), setxattr(p, "user.", "v", 1, 0));
		obs_ret(fmt("%s: listxattr", w), listxattr(p, buf, sizeof(buf)));
	}
	unlink(path("a"));
}

/* Values: sizes, XATTR_CREATE and XATTR_REPLACE, buffers too small, the
 * list, and the ctime that a change moves. */
static void sc_xattr_values(void)
{
	char buf[64];
	struct stat t0, t1;
	ssize_t n;
	int fd = mk("a", "A");

	obs_ret("setxattr XATTR_REPLACE of a missing one",
		setxattr(path("a"), "user.k", "v", 1, XATTR_REPLACE));
	fstat(fd, &t0);
	nap();
	obs_ret("setxattr XATTR_CREATE", setxattr(path("a"), "user.k", "value", 5, XATTR_CREATE));
	fstat(fd, &t1);
	obs_ts("ctime after setxattr", t0.st_ctim, t1.st_ctim);
	obs_ts("mtime after setxattr", t0.st_mtim, t1.st_mtim);
	obs_ret("setxattr XATTR_CREATE again",
		setxattr(path("a"), "user.k", "other", 5, XATTR_CREATE));
	obs_ret("getxattr size 0", getxattr(path("a"), "user.k", NULL, 0));
	obs_ret("getxattr buffer too small", getxattr(path("a"), "user.k", buf, 2));
	obs_ret("setxattr XATTR_REPLACE", setxattr(path("a"), "user.k", "v2", 2, XATTR_REPLACE));
	n = fgetxattr(fd, "user.k", buf, sizeof(buf));
	obs_ret("fgetxattr", n);
	if (n > 0)
		obs_data("its value", buf, n);
	obs_ret("fsetxattr user.e empty", fsetxattr(fd, "user.e", "", 0, 0));
	obs_ret("getxattr of the empty one", getxattr(path("a"), "user.e", buf, sizeof(buf)));
	obs_ret("setxattr security.t", setxattr(path("a"), "security.t", "s", 1, 0));
	obs_ret("setxattr trusted.t", setxattr(path("a"), "trusted.t", "t", 1, 0));
	obs_ret("listxattr size 0", listxattr(path("a"), NULL, 0));
	obs_ret("listxattr buffer too small", listxattr(path("a"), buf, 3));
	n = flistxattr(fd, buf, sizeof(buf));
	obs_ret("flistxattr", n);
	if (n > 0)
		obs_data("the names", buf, n);
	obs_ret("getxattr system.posix_acl_access",
		getxattr(path("a"), "system.posix_acl_access", buf, sizeof(buf)));
	obs_ret("getxattr system.other", getxattr(path("a"), "system.other", buf, sizeof(buf)));
	obs_ret("fremovexattr user.k", fremovexattr(fd, "user.k"));
	obs_ret("removexattr user.k again", removexattr(path("a"), "user.k"));
	obs_ret("removexattr security.t", removexattr(path("a"), "security.t"));
	xclose(fd);
	/* attributes belong to the inode: a new name sees them, a new file
	 * by the old name does not */
	obs_ret("link a b", link(path("a"), path("b")));
	obs_ret("getxattr through the link", getxattr(path("b"), "user.e", buf, sizeof(buf)));
	unlink(path("a"));
	xclose(mk("a", "new"));
	obs_ret("getxattr of a new a", getxattr(path("a"), "user.e", buf, sizeof(buf)));
	unlink(path("a"));
	unlink(path("b"));
}

/* Directories and symlinks: user.* only on files and directories, the
 * directory's own attributes through its fd, a link followed or not. */
static void sc_xattr_types(void)
{
	char buf[64];
	struct stat t0, t1;
	DIR *d;
	ssize_t n;

	obs_ret("mkdir d", mkdir(path("d"), 0755));
	lstat(path("d"), &t0);
	nap();
	obs_ret("setxattr on d", setxattr(path("d"), "user.k", "dv", 2, 0));
	lstat(path("d"), &t1);
	obs_ts("d's ctime after setxattr", t0.st_ctim, t1.st_ctim);
	obs_ts("d's mtime after setxattr", t0.st_mtim, t1.st_mtim);
	d = opendir(path("d"));
	if (d) {
		n = fgetxattr(dirfd(d), "user.k", buf, sizeof(buf));
		obs_ret("fgetxattr on the directory's fd", n);
		if (n > 0)
			obs_data("its value", buf, n);
		obs_ret("fsetxattr on the directory's fd", fsetxattr(dirfd(d), "user.f", "x", 1, 0));
		obs_ret("flistxattr on the directory's fd", flistxattr(dirfd(d), buf, sizeof(buf)));
		closedir(d);
	}
	obs_ret("getxattr user.f by path", getxattr(path("d"), "user.f", buf, sizeof(buf)));
	{
		int pfd = open(path("d"), O_PATH | O_DIRECTORY);

		obs_ret("fgetxattr on an O_PATH fd", fgetxattr(pfd, "user.k", buf, sizeof(buf)));
		xclose(pfd);
	}
	xclose(mk("f", "F"));
	obs_ret("setxattr on f", setxattr(path("f"), "user.k", "fv", 2, 0));
	obs_ret("symlink l -> f", symlink(objname("f"), path("l")));
	obs_ret("lsetxattr user.k on the link", lsetxattr(path("l"), "user.k", "lv", 2, 0));
	obs_ret("lgetxattr user.k on the link", lgetxattr(path("l"), "user.k", buf, sizeof(buf)));
	obs_ret("lsetxattr trusted.k on the link", lsetxattr(path("l"), "trusted.k", "t", 1, 0));
	obs_ret("llistxattr of the link", llistxattr(path("l"), buf, sizeof(buf)));
	n = getxattr(path("l"), "user.k", buf, sizeof(buf));
	obs_ret("getxattr through the link", n);
	if (n > 0)
		obs_data("its value", buf, n);
	obs_ret("lremovexattr trusted.k", lremovexattr(path("l"), "trusted.k"));
	obs_ret("removexattr through the link", removexattr(path("l"), "user.k"));
	obs_ret("getxattr of f now", getxattr(path("f"), "user.k", buf, sizeof(buf)));
	obs_ret("symlink m -> missing", symlink(objname("missing"), path("m")));
	obs_ret("getxattr through a dangling link", getxattr(path("m"), "user.k", buf, 16));
	obs_ret("getxattr below a file", getxattr(fmt("%s/x", path("f")), "user.k", buf, 16));
	unlink(path("l"));
	unlink(path("m"));
	unlink(path("f"));
	rmdir(path("d"));
}

/* sem_open's result: reads errno after the call, as obs_ret does. */
static sem_t *obs_sem(const char *label, sem_t *r)
{
	int e = errno;

	obs("%s: %s errno=%s", label, r == SEM_FAILED ? "failed" : "ok",
	    r == SEM_FAILED ? errname(e) : "0");
	return r;
}

/* POSIX named semaphores: /dev/shm/sem.NAME, glibc's name rules, one
 * mapping per process, shared across fork. */
static void sc_sem(void)
{
	const char *name = shmname("s"), *file = fmt("/dev/shm/sem.%s", objname("s"));
	char keep[256];
	sem_t *s, *again;
	int v = -1;

	snprintf(keep, sizeof(keep), "%s", file);
	sem_unlink(name);
	s = obs_sem("sem_open O_CREAT|O_EXCL", sem_open(name, O_CREAT | O_EXCL, 0640, 3));
	if (s == SEM_FAILED)
		return;
	obs_pstat("stat /dev/shm/sem.NAME", keep);
	obs_sem("sem_open O_CREAT|O_EXCL again", sem_open(name, O_CREAT | O_EXCL, 0640, 0));
	again = sem_open(name, 0);
	obs("opened again: the same address: %s", again == s ? "yes" : "no");
	if (fork() == 0) {
		sem_t *c = sem_open(name, 0);

		sem_post(c);
		_exit(0);
	}
	wait(NULL);
	sem_getvalue(s, &v);
	obs("value after a child's post: %d", v);
	obs_ret("sem_trywait", sem_trywait(s));
	obs_ret("sem_close", sem_close(again));
	obs_ret("sem_close", sem_close(s));
	obs_ret("sem_unlink", sem_unlink(name));
	obs_ret("sem_unlink again", sem_unlink(name));
	obs_pstat("stat after unlink", keep);
	obs_sem("sem_open missing", sem_open(name, 0));
	obs_sem("sem_open \"a/b\"", sem_open("a/b", O_CREAT, 0600, 1));
	obs_sem("sem_open value over SEM_VALUE_MAX",
		sem_open(name, O_CREAT, 0600, (unsigned)SEM_VALUE_MAX + 1));
	obs_ret("sem_unlink \"\"", sem_unlink(""));
	/* the name's length: the kernel's limit on "sem." NAME, then glibc's
	 * buffer (EINVAL, and ENOENT for sem_unlink) */
	for (size_t len = 250; len <= 257; len++) {
		char *long_name = malloc(len + 2);

		long_name[0] = '/';
		memset(long_name + 1, 'z', len);
		long_name[len + 1] = 0;
		s = obs_sem(fmt("sem_open name of %zu bytes", len),
			    sem_open(long_name, O_CREAT, 0600, 1));
		if (s != SEM_FAILED)
			sem_close(s);
		obs_ret(fmt("sem_unlink name of %zu bytes", len), sem_unlink(long_name));
		free(long_name);
	}
}

static void sc_realpath(void)
{
	char *p;
	int home;

	xclose(mk("a", "A"));
	mkd(path("d"));
	mkf(sub("d", "f"), "");
	mkln(objname("a"), path("la"));
	mkln(objname("d"), path("ld"));
	mkln(fmt("%s/../%s", objname("d"), objname("a")), path("lx"));
	mkln(path("la"), path("labs"));
	mkln(objname("gone"), path("dang"));
	mkln(objname("loop"), path("loop"));
	mkln("../../etc/hostname", path("out"));
	obs_realpath("realpath a", path("a"));
	obs_realpath("realpath /dev/shm/./a", spell("/dev/shm/./@", objname("a")));
	obs_realpath("realpath /dev//shm///d/../a",
		     fmt("/dev//shm///%s/../%s", objname("d"), objname("a")));
	obs_realpath("realpath d/f/", fmt("%s/", sub("d", "f")));
	obs_realpath("realpath d/", fmt("%s/", path("d")));
	obs_realpath("realpath la", path("la"));
	obs_realpath("realpath labs (link to link)", path("labs"));
	obs_realpath("realpath ld/f", sub("ld", "f"));
	obs_realpath("realpath ld/..", sub("ld", ".."));
	obs_realpath("realpath lx", path("lx"));
	obs_realpath("realpath out", path("out"));
	obs_realpath("realpath dangling", path("dang"));
	obs_realpath("realpath missing", path("m"));
	obs_realpath("realpath missing/x", sub("m", "x"));
	obs_realpath("realpath file/x", sub("a", "x"));
	obs_realpath("realpath loop", path("loop"));
	obs_realpath("realpath /dev/shm", SHM_DIR);
	obs_realpath("realpath /dev/shm/..", SHM_DIR "/..");
	obs_realpath("realpath /dev/shm/../shm/.", SHM_DIR "/../shm/.");
	home = save_cwd();
	obs_ret("chdir d", chdir(path("d")));
	obs_realpath("realpath . in d", ".");
	obs_realpath("realpath f in d", "f");
	obs_realpath("realpath ../<la> in d", fmt("../%s", objname("la")));
	obs_realpath("realpath ../.. in d", "../..");
	p = canonicalize_file_name(fmt("../%s/f", objname("ld")));
	obs("canonicalize_file_name ../<ld>/f: %s", p ? p : errname(errno));
	free(p);
	p = realpath(path("la"), NULL);
	obs("realpath la NULL buffer: %s", p ? p : errname(errno));
	free(p);
	restore_cwd(home);
	rmp(path("out"));
	rmp(path("loop"));
	rmp(path("dang"));
	rmp(path("labs"));
	rmp(path("lx"));
	rmp(path("ld"));
	rmp(path("la"));
	rmp(sub("d", "f"));
	rmd(path("d"));
	rm("a");
}

/* ============================================================== statfs */

static void obs_statvfs(const char *label, int r, const struct statvfs *v)
{
	if (r != 0)
		obs_ret(label, r);
	else
		obs("%s: f_bsize=%lu f_namemax=%lu", label, v->f_bsize,
		    v->f_namemax);
}

static void obs_statfs(const char *label, int r, const struct statfs *f)
{
	if (r != 0)
		obs_ret(label, r);
	else
		obs("%s: f_type=0x%lx f_bsize=%ld f_namelen=%ld", label,
		    (unsigned long)f->f_type, (long)f->f_bsize,
		    (long)f->f_namelen);
}

static void sc_statfs_devshm(void)
{
	struct statvfs v;
	struct statvfs64 v64;
	struct statfs f;
	int fd, dfd;

	fd = mk("a", "x");
	mkd(path("d"));
	mkln(objname("a"), path("l"));
	obs_statvfs("statvfs /dev/shm", statvfs(SHM_DIR, &v), &v);
	obs_statfs("statfs /dev/shm", statfs(SHM_DIR, &f), &f);
	obs_statvfs("statvfs file", statvfs(path("a"), &v), &v);
	obs_statfs("statfs file", statfs(path("a"), &f), &f);
	obs_statfs("statfs subdir", statfs(path("d"), &f), &f);
	obs_statfs("statfs link", statfs(path("l"), &f), &f);
	obs_statvfs("fstatvfs file fd", fstatvfs(fd, &v), &v);
	obs_statfs("fstatfs file fd", fstatfs(fd, &f), &f);
	dfd = obs_open("open d O_DIRECTORY", path("d"), O_RDONLY | O_DIRECTORY,
		       0);
	obs_statfs("fstatfs dir fd", fstatfs(dfd, &f), &f);
	xclose(dfd);
	if (statvfs64(SHM_DIR, &v64) == 0)
		obs("statvfs64 /dev/shm: f_bsize=%lu f_namemax=%lu",
		    v64.f_bsize, v64.f_namemax);
	else
		obs_ret("statvfs64 /dev/shm", -1);
	obs_statfs("statfs missing", statfs(path("m"), &f), &f);
	obs_statvfs("statvfs file/x", statvfs(sub("a", "x"), &v), &v);
	obs_statfs("fstatfs -1", fstatfs(-1, &f), &f);
	/* relative paths from "/" (a working directory above the mount):
	 * "dev/shm" is the mount, "proc" the real /proc */
	{
		int home = save_cwd();

		if (chdir("/") == 0) {
			obs_statfs("statfs dev/shm from /", statfs("dev/shm", &f), &f);
			obs_statfs("statfs proc from /", statfs("proc", &f), &f);
			obs_statvfs("statvfs proc from /", statvfs("proc", &v), &v);
			obs_statfs("statfs nowhere from /", statfs("shxd-nowhere", &f), &f);
		}
		restore_cwd(home);
	}
	xclose(fd);
	rmp(path("l"));
	rmd(path("d"));
	rm("a");
}

/* ============================================ metadata through symlinks */

static void sc_chmod_symlink(void)
{
	struct stat st;

	xclose(mk("a", ""));
	mkd(path("d"));
	mkln(objname("a"), path("l"));
	mkln(objname("d"), path("ld"));
	mkln(objname("gone"), path("dang"));
	obs_ret("chmod l 0600", chmod(path("l"), 0600));
	obs_pstat("stat a", path("a"));
	obs_lstat("lstat l", path("l"));
	obs_ret("fchmodat l 0640 AT_SYMLINK_NOFOLLOW",
		fchmodat(AT_FDCWD, path("l"), 0640, AT_SYMLINK_NOFOLLOW));
	obs_ret("fchmodat a 0640 AT_SYMLINK_NOFOLLOW",
		fchmodat(AT_FDCWD, path("a"), 0640, AT_SYMLINK_NOFOLLOW));
	obs_ret("fchmodat l 0604 flags 0",
		fchmodat(AT_FDCWD, path("l"), 0604, 0));
	obs_pstat("stat a", path("a"));
	obs_lstat("lstat l", path("l"));
	obs_ret("chmod ld 0700", chmod(path("ld"), 0700));
	obs_dstat("stat d", path("d"));
	obs_ret("fchmodat d 0750 AT_SYMLINK_NOFOLLOW",
		fchmodat(AT_FDCWD, path("d"), 0750, AT_SYMLINK_NOFOLLOW));
	obs_dstat("stat d", path("d"));
	obs_ret("chmod dangling", chmod(path("dang"), 0600));
	obs_ret("fchmodat dangling AT_SYMLINK_NOFOLLOW",
		fchmodat(AT_FDCWD, path("dang"), 0600, AT_SYMLINK_NOFOLLOW));
	obs_ret("fchmodat bad flag",
		fchmodat(AT_FDCWD, path("a"), 0600, AT_REMOVEDIR));
	obs_stat("lstat dangling", lstat(path("dang"), &st), &st);
	rmp(path("dang"));
	rmp(path("ld"));
	rmp(path("l"));
	rmd(path("d"));
	rm("a");
}

/* Root gives files away; chown drops set-user-ID and set-group-ID. */
static void sc_chown_symlink(void)
{
	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	xclose(mk("a", ""));
	mkln(objname("a"), path("l"));
	mkln(objname("gone"), path("dang"));
	obs_ret("chown l 1234:5678", chown(path("l"), 1234, 5678));
	obs_pstat("stat a", path("a"));
	obs_lstat("lstat l", path("l"));
	obs_ret("lchown l 4321:8765", lchown(path("l"), 4321, 8765));
	obs_pstat("stat a", path("a"));
	obs_lstat("lstat l", path("l"));
	obs_ret("fchownat l 11:12 AT_SYMLINK_NOFOLLOW",
		fchownat(AT_FDCWD, path("l"), 11, 12, AT_SYMLINK_NOFOLLOW));
	obs_lstat("lstat l", path("l"));
	obs_ret("fchownat l -1:99 flags 0",
		fchownat(AT_FDCWD, path("l"), (uid_t)-1, 99, 0));
	obs_pstat("stat a", path("a"));
	obs_ret("chown dangling", chown(path("dang"), 1, 1));
	obs_ret("lchown dangling", lchown(path("dang"), 1, 1));
	obs_lstat("lstat dangling", path("dang"));
	obs_ret("chmod a 06755", chmod(path("a"), 06755));
	obs_pstat("stat a", path("a"));
	obs_ret("chown a -1:-1", chown(path("a"), (uid_t)-1, (gid_t)-1));
	obs_pstat("stat a after a no-op chown", path("a"));
	obs_ret("chown l 0:0", chown(path("l"), 0, 0));
	obs_pstat("stat a after chown", path("a"));
	rmp(path("dang"));
	rmp(path("l"));
	rm("a");
}

static void obs_times(const char *label, int r, const struct stat *st)
{
	if (r != 0)
		obs_ret(label, r);
	else
		obs("%s: atime=%lld.%09ld mtime=%lld.%09ld", label,
		    (long long)st->st_atim.tv_sec, st->st_atim.tv_nsec,
		    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

static void sc_utimensat_symlink(void)
{
	const struct timespec t1[2] = { { 1000000000, 1 }, { 1100000000, 2 } };
	const struct timespec t2[2] = { { 1300000000, 3 }, { 1400000000, 4 } };
	const struct timespec t3[2] = { { 1500000000, 5 }, { 1600000000, 6 } };
	struct stat st;

	xclose(mk("a", ""));
	mkd(path("d"));
	mkln(objname("a"), path("l"));
	mkln(objname("gone"), path("dang"));
	obs_ret("utimensat l t1", utimensat(AT_FDCWD, path("l"), t1, 0));
	obs_times("stat a", stat(path("a"), &st), &st);
	obs_ret("utimensat l t2 AT_SYMLINK_NOFOLLOW",
		utimensat(AT_FDCWD, path("l"), t2, AT_SYMLINK_NOFOLLOW));
	obs_times("lstat l", lstat(path("l"), &st), &st);
	obs_times("stat a", stat(path("a"), &st), &st);
	obs_ret("utimensat dangling", utimensat(AT_FDCWD, path("dang"), t1, 0));
	obs_ret("utimensat dangling AT_SYMLINK_NOFOLLOW",
		utimensat(AT_FDCWD, path("dang"), t3, AT_SYMLINK_NOFOLLOW));
	obs_times("lstat dangling", lstat(path("dang"), &st), &st);
	obs_ret("utimensat d t3", utimensat(AT_FDCWD, path("d"), t3, 0));
	obs_times("stat d", stat(path("d"), &st), &st);
	obs_ret("utimensat bad flag",
		utimensat(AT_FDCWD, path("a"), t3, AT_REMOVEDIR));
	rmp(path("dang"));
	rmp(path("l"));
	rmd(path("d"));
	rm("a");
}

static void sc_access_symlink(void)
{
	xclose(mk("a", ""));
	mkd(path("d"));
	mkln(objname("a"), path("l"));
	mkln(objname("d"), path("ld"));
	mkln(objname("gone"), path("dang"));
	mkln(objname("loop"), path("loop"));
	obs_ret("access dangling F_OK", access(path("dang"), F_OK));
	obs_ret("access dangling W_OK", access(path("dang"), W_OK));
	obs_ret("faccessat dangling F_OK AT_SYMLINK_NOFOLLOW",
		faccessat(AT_FDCWD, path("dang"), F_OK, AT_SYMLINK_NOFOLLOW));
	obs_ret("access l R_OK|W_OK", access(path("l"), R_OK | W_OK));
	obs_ret("access l X_OK (a is 0644)", access(path("l"), X_OK));
	obs_ret("access l/", access(fmt("%s/", path("l")), F_OK));
	obs_ret("access ld X_OK", access(path("ld"), X_OK));
	obs_ret("access ld/", access(fmt("%s/", path("ld")), F_OK));
	obs_ret("access loop", access(path("loop"), F_OK));
	obs_ret("faccessat loop AT_SYMLINK_NOFOLLOW",
		faccessat(AT_FDCWD, path("loop"), F_OK, AT_SYMLINK_NOFOLLOW));
	obs_ret("faccessat l X_OK AT_EACCESS",
		faccessat(AT_FDCWD, path("l"), X_OK, AT_EACCESS));
	obs_ret("access dang/x", access(sub("dang", "x"), F_OK));
	rmp(path("loop"));
	rmp(path("dang"));
	rmp(path("ld"));
	rmp(path("l"));
	rmd(path("d"));
	rm("a");
}

/* The System V scenarios, in sysv.c. */
#define SYSV_SCENARIO(name, fn) void fn(void);
#include "sysv.def"
#undef SYSV_SCENARIO

/* ================================================================ table */

/* ================================================= the whole tmpfs API */

/* A path below path(base), for printing: what follows the base. */
static const char *rel(const char *p, const char *base)
{
	size_t n = strlen(base);

	return strncmp(p, base, n) ? p : p[n] ? p + n + 1 : ".";
}

/* Removes a tree the scenario made. */
static void rmtree(const char *path_)
{
	char p[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;

	snprintf(p, sizeof(p), "%s", path_); /* fmt()'s buffers do not last */
	if (lstat(p, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		rmp(p);
		return;
	}
	chmod(p, 0700);
	d = opendir(p);
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rmtree(fmt("%s/%s", p, e->d_name));
	}
	if (d)
		closedir(d);
	rmd(p);
}

/* The tree the walkers walk: files, directories, symlinks to a file, to a
 * directory, dangling, to the parent (a cycle), an empty directory. */
static void mktree(const char *t)
{
	mkd(path(t));
	mkf(sub(t, "f"), "file");
	mkd(sub(t, "d"));
	mkf(sub(t, "d/g"), "g");
	mkd(sub(t, "d/e"));
	mkf(sub(t, ".hidden"), "h");
	mkln("f", sub(t, "lf"));
	mkln("d", sub(t, "ld"));
	mkln("nowhere", sub(t, "dangling"));
	mkln("..", sub(t, "d/up"));
}

static void obs_glob(const char *label, const char *pattern, int flags)
{
	glob_t g;
	int r = glob(pattern, flags, NULL, &g);
	char line[2048] = "";

	for (size_t i = 0; r == 0 && i < g.gl_pathc; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s",
			 rel(g.gl_pathv[i], path("t")));
	obs("%s: ret=%d n=%zu%s", label, r, r == 0 ? g.gl_pathc : 0, line);
	if (r == 0)
		globfree(&g);
}

static int glob_err(const char *p, int e)
{
	obs("  errfunc %s %s", rel(p, path("t")), errname(e));
	return 0;
}

static void sc_glob(void)
{
	glob_t g;
	int r;

	mktree("t");
	mkf(sub("t", "a.txt"), "");
	mkf(sub("t", "b.txt"), "");
	mkf(sub("t", "[x]"), "");
	obs_glob("*", sub("t", "*"), 0);
	obs_glob("*.txt", sub("t", "*.txt"), 0);
	obs_glob("* GLOB_MARK", sub("t", "*"), GLOB_MARK);
	obs_glob("* GLOB_ONLYDIR", sub("t", "*"), GLOB_ONLYDIR);
	obs_glob("* GLOB_PERIOD", sub("t", "*"), GLOB_PERIOD);
	obs_glob("*/ (directories)", sub("t", "*/"), 0);
	obs_glob("*/* GLOB_MARK", sub("t", "*/*"), GLOB_MARK);
	obs_glob("{a,b}.txt GLOB_BRACE", sub("t", "{a,b}.txt"), GLOB_BRACE);
	obs_glob("\\[x\\] (escaped)", sub("t", "\\[x\\]"), 0);
	obs_glob("[x] GLOB_NOESCAPE", sub("t", "[x]"), GLOB_NOESCAPE);
	obs_glob("none* GLOB_NOCHECK", sub("t", "none*"), GLOB_NOCHECK);
	obs_glob("none*", sub("t", "none*"), 0);
	obs_glob("dangling (no magic: lstat)", sub("t", "dangling"), 0);
	obs_glob("missing (no magic)", sub("t", "missing"), 0);
	obs_glob("nodir/*", sub("t", "nodir/*"), 0);
	obs_glob("f/* (not a directory)", sub("t", "f/*"), 0);
	r = glob(sub("t", "nodir/*"), GLOB_ERR, glob_err, &g);
	obs("nodir/* GLOB_ERR with errfunc: ret=%d", r);
	r = glob(sub("t", "*.txt"), GLOB_NOSORT, NULL, &g);
	obs("GLOB_NOSORT: ret=%d n=%zu", r, r == 0 ? g.gl_pathc : 0);
	if (r == 0)
		r = glob(sub("t", "d/*"), GLOB_APPEND, NULL, &g);
	obs("GLOB_APPEND: ret=%d n=%zu flags-altdirfunc=%s", r, r == 0 ? g.gl_pathc : 0,
	    r == 0 && (g.gl_flags & GLOB_ALTDIRFUNC) ? "yes" : "no");
	if (r == 0)
		globfree(&g);
	obs("glob(bad flags): ret=%d", glob(sub("t", "*"), 1 << 30, NULL, &g));
	rmtree(path("t"));
}

static int walk_cb(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	char cwd[PATH_MAX];
	const char *c = getcwd(cwd, sizeof(cwd));

	obs("  %s fl=%d level=%d base=%s type=%s cwd=%s", rel(p, path("t")), fl, f->level,
	    rel(p + f->base, path("t")),
	    fl == FTW_NS ? "-" : S_ISDIR(st->st_mode) ? "dir" : S_ISLNK(st->st_mode) ? "lnk" : "reg",
	    c ? rel(c, path("t")) : errname(errno));
	if (strstr(p, "stop-here"))
		return 77;
	return 0;
}

static void obs_nftw(const char *label, const char *start, int fds, int flags)
{
	int r;

	obs("%s:", label);
	r = nftw(start, walk_cb, fds, flags);
	obs("  -> %d errno=%s", r, r < 0 ? errname(errno) : "0");
}

static void sc_nftw(void)
{
	int cwd = save_cwd();

	mktree("t");
	obs_nftw("FTW_PHYS", path("t"), 8, FTW_PHYS);
	obs_nftw("FTW_PHYS|FTW_DEPTH, one fd", path("t"), 1, FTW_PHYS | FTW_DEPTH);
	obs_nftw("following symlinks (cycles skipped)", path("t"), 8, 0);
	obs_nftw("FTW_CHDIR", fmt("%s/", path("t")), 4, FTW_CHDIR | FTW_PHYS);
	obs_nftw("FTW_MOUNT", path("t"), 8, FTW_MOUNT | FTW_PHYS);
	obs_nftw("a file", sub("t", "f"), 8, 0);
	obs_nftw("a dangling symlink", sub("t", "dangling"), 8, 0);
	obs_nftw("a dangling symlink, FTW_PHYS", sub("t", "dangling"), 8, FTW_PHYS);
	obs_nftw("missing", sub("t", "missing"), 8, 0);
	obs_nftw("empty", "", 8, 0);
	obs_nftw("through a file", sub("t", "f/x"), 8, 0);
	obs_nftw("bad flags", path("t"), 8, 1 << 20);
	mkf(sub("t", "d/stop-here"), "");
	obs_nftw("a callback's non-zero stops the walk", path("t"), 8, FTW_PHYS);
	if (cwd >= 0 && fchdir(cwd) != 0)
		obs("fchdir back: %s", errname(errno));
	xclose(cwd);
	rmtree(path("t"));
}

static int retval_cb(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	const char *r = rel(p, path("t"));

	obs("  %s fl=%d", r, fl);
	if (!strcmp(r, "d"))
		return FTW_SKIP_SUBTREE;
	if (!strcmp(r, "e/b"))
		return FTW_SKIP_SIBLINGS;
	if (!strcmp(r, "z"))
		return FTW_STOP;
	return FTW_CONTINUE;
}

static int ftw_cb(const char *p, const struct stat *st, int fl)
{
	obs("  %s fl=%d", rel(p, path("t")), fl);
	return 0;
}

static void sc_nftw_actionretval(void)
{
	mkd(path("t"));
	mkd(sub("t", "d"));
	mkf(sub("t", "d/in"), "");
	mkd(sub("t", "e"));
	mkf(sub("t", "e/a"), "");
	mkf(sub("t", "e/b"), "");
	mkf(sub("t", "e/c"), "");
	mkf(sub("t", "z"), "");
	mkf(sub("t", "after"), "");
	mkln("nowhere", sub("t", "dangling"));
	mkln("e", sub("t", "le"));
	obs("FTW_ACTIONRETVAL: skip d's subtree, e's siblings after b, stop at z");
	obs("  -> %d", nftw(path("t"), retval_cb, 8, FTW_ACTIONRETVAL | FTW_PHYS));
	obs("ftw: symlinks are FTW_F, dangling FTW_NS");
	obs("  -> %d", ftw(path("t"), ftw_cb, 8));
	rmtree(path("t"));
}

static int by_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

static void obs_fts(const char *label, const char *root, int opts, int sorted, int skip_d)
{
	char *argv[] = { (char *)root, NULL };
	FTS *f = fts_open(argv, opts, sorted ? by_name : NULL);
	char cwd[PATH_MAX];
	FTSENT *e;

	obs("%s: fts_open %s", label, f ? "ok" : errname(errno));
	while (f && (e = fts_read(f))) {
		const char *c = getcwd(cwd, sizeof(cwd));

		obs("  %s name=%s acc=%s info=%d level=%d err=%s cwd=%s", rel(e->fts_path, path("t")),
		    e->fts_name, rel(e->fts_accpath, path("t")), e->fts_info, e->fts_level,
		    errname(e->fts_errno), c ? rel(c, path("t")) : errname(errno));
		if (skip_d && e->fts_info == FTS_D && !strcmp(e->fts_name, "d"))
			fts_set(f, e, FTS_SKIP);
		if (skip_d && e->fts_info == FTS_SL && !strcmp(e->fts_name, "ld"))
			fts_set(f, e, FTS_FOLLOW);
	}
	if (f) {
		obs("  end errno=%s", errname(errno));
		obs("  fts_close=%d", fts_close(f));
	}
}

static void sc_fts(void)
{
	mktree("t");
	obs_fts("FTS_PHYSICAL sorted", path("t"), FTS_PHYSICAL, 1, 0);
	obs_fts("FTS_PHYSICAL|FTS_NOCHDIR", path("t"), FTS_PHYSICAL | FTS_NOCHDIR, 1, 0);
	obs_fts("FTS_LOGICAL (cycles FTS_DC, dangling FTS_SLNONE)", path("t"), FTS_LOGICAL, 1, 0);
	obs_fts("fts_set FTS_SKIP on d, FTS_FOLLOW on ld", path("t"), FTS_PHYSICAL, 1, 1);
	obs_fts("FTS_NOSTAT", path("t"), FTS_PHYSICAL | FTS_NOSTAT, 1, 0);
	obs_fts("FTS_SEEDOT", path("t"), FTS_PHYSICAL | FTS_SEEDOT, 1, 0);
	obs_fts("unsorted (directory order)", path("t"), FTS_PHYSICAL, 0, 0);
	obs_fts("a missing root", sub("t", "missing"), FTS_PHYSICAL, 0, 0);
	obs_fts("a symlink root, FTS_COMFOLLOW", sub("t", "ld"), FTS_PHYSICAL | FTS_COMFOLLOW, 1, 0);
	obs_fts("bad options", path("t"), 1 << 12, 0, 0);
	obs_fts("an empty root", "", FTS_PHYSICAL, 0, 0);
	rmtree(path("t"));
}

static void sc_fts_children(void)
{
	char *argv[] = { NULL, NULL };
	FTSENT *e, *c;
	FTS *f;

	mktree("t");
	argv[0] = (char *)path("t");
	f = fts_open(argv, FTS_PHYSICAL, by_name);
	c = f ? fts_children(f, 0) : NULL;
	obs("fts_children before fts_read: %s", c ? c->fts_name[0] ? "the roots" : "?" : "none");
	while (f && (e = fts_read(f))) {
		if (e->fts_info != FTS_D)
			continue;
		c = fts_children(f, e->fts_level == 0 ? FTS_NAMEONLY : 0);
		obs("children of %s:", rel(e->fts_path, path("t")));
		for (; c; c = c->fts_link)
			obs("  %s info=%d", c->fts_name, c->fts_info);
		obs("  errno=%s", errname(errno));
	}
	obs("fts_children bad instr: %s", f && !fts_children(f, 99) ? errname(errno) : "?");
	if (f)
		obs("fts_close=%d", fts_close(f));
	rmtree(path("t"));
}

static void sc_tmpfile(void)
{
	FILE *f = tmpfile();
	struct stat st;
	char buf[32] = "";

	obs("tmpfile: %s", f ? "FILE" : errname(errno));
	if (!f)
		return;
	if (fstat(fileno(f), &st) == 0)
		obs("fstat: type=%s mode=%04o nlink=%lu size=%lld", S_ISREG(st.st_mode) ? "reg" : "?",
		    (unsigned)(st.st_mode & 07777), (unsigned long)st.st_nlink, (long long)st.st_size);
	obs_fdflags("flags", fileno(f));
	fputs("through a tmpfile", f);
	rewind(f);
	obs("read back: %s", fgets(buf, sizeof(buf), f) ? buf : errname(errno));
	if (fstat(fileno(f), &st) == 0)
		obs("size after: %lld", (long long)st.st_size);
	obs("fclose=%d", fclose(f));
}

static void sc_freopen(void)
{
	FILE *f = fopen(path("a"), "w"), *g;
	int fd = f ? fileno(f) : -1;
	char buf[64] = "";
	struct stat st;

	fputs("first", f);
	g = freopen(path("b"), "w+", f);
	obs("freopen b w+: %s, same fd: %s", g ? "FILE" : errname(errno),
	    g && fileno(g) == fd ? "yes" : "no");
	if (g) {
		fputs("second", g);
		rewind(g);
		obs("read back: %s", fgets(buf, sizeof(buf), g) ? buf : "?");
		fstat(fileno(g), &st);
		obs("fstat: size=%lld nlink=%lu", (long long)st.st_size, (unsigned long)st.st_nlink);
		g = freopen(NULL, "r", g);
		obs("freopen NULL r: %s", g ? "FILE" : errname(errno));
		if (g)
			obs("read: %s", fgets(buf, sizeof(buf), g) ? buf : "?");
		if (g)
			obs("write on r: %s", fputs("x", g) == EOF || fflush(g) ? "fails" : "works");
	}
	obs_contents("a", "a");
	f = fopen(path("a"), "r");
	g = f ? freopen(path("missing"), "r", f) : NULL;
	obs("freopen of a missing file: %s", g ? "FILE" : errname(errno));
	f = fopen(path("a"), "r");
	g = f ? freopen(path("b"), "wx", f) : NULL;
	obs("freopen wx of an existing file: %s", g ? "FILE" : errname(errno));
	f = fopen(path("a"), "r");
	g = f ? freopen(path("c"), "a", f) : NULL;
	if (g) {
		fputs("appended", g);
		fclose(g);
	}
	obs_contents("c", "c");
	f = fopen(path("a"), "r");
	g = f ? freopen("/dev/null", "w", f) : NULL;
	obs("freopen of /dev/null: %s", g ? "FILE" : errname(errno));
	if (g)
		fclose(g);
	rm("a");
	rm("b");
	rm("c");
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sc_readdir_r(void)
{
	struct dirent ent, *res = NULL;
	char *names[16];
	int n = 0, r = 0;
	DIR *d;

	mktree("t");
	d = opendir(path("t"));
	/* deprecated, and still called by programs */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	while (d && (r = readdir_r(d, &ent, &res)) == 0 && res && n < 16)
#pragma GCC diagnostic pop
		names[n++] = strdup(fmt("%s:%d", ent.d_name, ent.d_type));
	obs("readdir_r: last ret=%d res=%s", r, res ? "entry" : "NULL");
	qsort(names, n, sizeof(names[0]), cmp_name);
	for (int i = 0; i < n; i++) {
		obs("  %s", names[i]);
		free(names[i]);
	}
	if (d)
		closedir(d);
	rmtree(path("t"));
}

static void sc_euidaccess(void)
{
	static const int modes[] = { 0000, 0100, 0400, 0200, 0700 };

	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		xclose(mk("a", "x"));
		chmod(path("a"), modes[i]);
		obs("mode %04o: euidaccess R=%s W=%s X=%s F=%s eaccess X=%s", modes[i],
		    euidaccess(path("a"), R_OK) ? errname(errno) : "0",
		    euidaccess(path("a"), W_OK) ? errname(errno) : "0",
		    euidaccess(path("a"), X_OK) ? errname(errno) : "0",
		    euidaccess(path("a"), F_OK) ? errname(errno) : "0",
		    eaccess(path("a"), X_OK) ? errname(errno) : "0");
		rm("a");
	}
	obs_ret("euidaccess of a missing file", euidaccess(path("a"), F_OK));
	mkd(path("d"));
	obs_ret("euidaccess X_OK of a directory", euidaccess(path("d"), X_OK));
	rmd(path("d"));
}

/* Entries made and removed while a directory is read: tmpfs lists newest
 * first, so new ones are not seen, and removed ones are not either. */
static void sc_readdir_mutate(void)
{
	enum { FILES = 2000 };
	int seen = 0, new_seen = 0, gone_seen = 0, r;
	struct dirent *e;
	DIR *d;

	mkd(path("t"));
	for (int i = 0; i < FILES; i++)
		xclose(open(sub("t", fmt("file-with-a-longish-name-%04d", i)), O_CREAT | O_WRONLY,
			    0600));
	d = opendir(path("t"));
	e = d ? readdir(d) : NULL;
	seen += e != NULL;
	for (int i = 0; i < 5; i++) {
		xclose(open(sub("t", fmt("new-%d", i)), O_CREAT | O_WRONLY, 0600));
		rmp(sub("t", fmt("file-with-a-longish-name-%04d", i)));
	}
	r = rename(sub("t", "file-with-a-longish-name-0010"), sub("t", "renamed"));
	while (d && (e = readdir(d))) {
		seen++;
		new_seen += !strncmp(e->d_name, "new-", 4) || !strcmp(e->d_name, "renamed");
		gone_seen += !strcmp(e->d_name, "file-with-a-longish-name-0000") ||
			     !strcmp(e->d_name, "file-with-a-longish-name-0010");
	}
	obs("rename=%d; seen %d entries, %d of the new, %d of the removed", r, seen, new_seen,
	    gone_seen);
	if (d) {
		rewinddir(d);
		seen = 0;
		while ((e = readdir(d)))
			seen++;
		obs("after rewinddir: %d entries", seen);
		closedir(d);
	}
	rmtree(path("t"));
}

static const char *dtname(unsigned char t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_FIFO: return "fifo";
	case DT_SOCK: return "sock";
	case DT_CHR: return "chr";
	default: return "?";
	}
}

static void sc_dtype_dino(void)
{
	struct dirent *e;
	struct stat st;
	DIR *d;

	mktree("t");
	if (mkfifo(sub("t", "fifo"), 0600) != 0)
		obs("mkfifo: %s", errname(errno));
	if (mknod(sub("t", "sock"), S_IFSOCK | 0600, 0) != 0)
		obs("mknod sock: %s", errname(errno));
	if (geteuid() == 0 && mknod(sub("t", "null"), S_IFCHR | 0666, makedev(1, 3)) != 0)
		obs("mknod chr: %s", errname(errno));
	d = opendir(path("t"));
	while (d && (e = readdir(d))) {
		int r = lstat(sub("t", e->d_name), &st);

		obs("%s: d_type=%s d_ino %s st_ino", e->d_name, dtname(e->d_type),
		    r == 0 && st.st_ino == e->d_ino ? "==" : "!=");
	}
	if (d)
		closedir(d);
	rmtree(path("t"));
}

static void sc_mknod(void)
{
	struct stat st;
	int fd;

	mkd(path("t"));
	obs_ret("mkfifo", mkfifo(sub("t", "p"), 0640));
	obs_lstat("lstat fifo", sub("t", "p"));
	obs_ret("mkfifo again", mkfifo(sub("t", "p"), 0600));
	obs_ret("mkfifo through a missing dir", mkfifo(sub("t", "no/p"), 0600));
	obs_ret("mkfifo a trailing slash", mkfifo(sub("t", "q/"), 0600));
	obs_ret("mknod S_IFDIR", mknod(sub("t", "x"), S_IFDIR | 0700, 0));
	obs_ret("mknod bad type", mknod(sub("t", "x"), 0170000 | 0600, 0));
	obs_ret("mknod S_IFREG", mknod(sub("t", "r"), S_IFREG | 0600, 0));
	obs_lstat("lstat regular", sub("t", "r"));
	obs_ret("mknod type 0", mknod(sub("t", "r0"), 0600, 0));
	obs_ret("mknod S_IFSOCK", mknod(sub("t", "s"), S_IFSOCK | 0755, 0));
	obs_lstat("lstat socket", sub("t", "s"));
	obs_ret("mknodat relative to a dir fd", mknodat(AT_FDCWD, sub("t", "p2"), S_IFIFO | 0600, 0));
	fd = open(sub("t", "p"), O_RDONLY | O_NONBLOCK);
	obs_fd("open fifo O_RDONLY|O_NONBLOCK", fd);
	obs_fdflags("its flags", fd);
	if (fstat(fd, &st) == 0)
		obs("fstat: %s", S_ISFIFO(st.st_mode) ? "fifo" : "?");
	probe_open("open fifo O_WRONLY|O_NONBLOCK (a reader)", sub("t", "p"), O_WRONLY | O_NONBLOCK, 0);
	xclose(fd);
	probe_open("open fifo O_WRONLY|O_NONBLOCK (no reader)", sub("t", "p"), O_WRONLY | O_NONBLOCK,
		   0);
	probe_open("open socket", sub("t", "s"), O_RDONLY, 0);
	probe_open("open socket O_PATH", sub("t", "s"), O_PATH, 0);
	obs_ret("unlink fifo", unlink(sub("t", "p")));
	rmtree(path("t"));
}

static void sc_eloop(void)
{
	char buf[PATH_MAX];

	mkd(path("t"));
	mkln("loop", sub("t", "loop"));
	mkln("b", sub("t", "a"));
	mkln("a", sub("t", "b"));
	mkf(sub("t", "f"), "x");
	mkln("f", sub("t", "lf"));
	obs_pstat("stat loop", sub("t", "loop"));
	obs_lstat("lstat loop", sub("t", "loop"));
	obs_pstat("stat loop/x (a middle component)", sub("t", "loop/x"));
	obs_pstat("stat a (a <-> b)", sub("t", "a"));
	probe_open("open loop", sub("t", "loop"), O_RDONLY, 0);
	probe_open("open loop O_CREAT", sub("t", "loop"), O_CREAT | O_WRONLY, 0600);
	probe_open("open lf O_NOFOLLOW", sub("t", "lf"), O_RDONLY | O_NOFOLLOW, 0);
	probe_open("open lf O_NOFOLLOW|O_PATH", sub("t", "lf"), O_NOFOLLOW | O_PATH, 0);
	obs_ret("mkdir loop/x", mkdir(sub("t", "loop/x"), 0700));
	obs_ret("unlink loop/x", unlink(sub("t", "loop/x")));
	obs_ret("rename into loop/x", rename(sub("t", "f"), sub("t", "loop/x")));
	obs_ret("chdir loop", chdir(sub("t", "loop")));
	obs_ret("access loop", access(sub("t", "loop"), F_OK));
	obs_ret("truncate loop", truncate(sub("t", "loop"), 0));
	obs_ret("chmod a", chmod(sub("t", "a"), 0600));
	obs("realpath loop: %s", realpath(sub("t", "loop"), buf) ? "resolved" : errname(errno));
	obs_list_all("opendir loop", sub("t", "loop"));
	obs_ret("unlink loop itself", unlink(sub("t", "loop")));
	rmtree(path("t"));
}

static void sc_enotdir(void)
{
	const char *x;

	mkd(path("t"));
	mkf(sub("t", "f"), "x");
	mkln("f", sub("t", "lf"));
	x = sub("t", "f/x");
	obs_pstat("stat f/x", x);
	obs_pstat("stat f/", sub("t", "f/"));
	obs_lstat("lstat lf/", sub("t", "lf/"));
	probe_open("open f/x O_CREAT", x, O_CREAT | O_WRONLY, 0600);
	probe_open("open f/ O_RDONLY", sub("t", "f/"), O_RDONLY, 0);
	probe_open("open f O_DIRECTORY", sub("t", "f"), O_RDONLY | O_DIRECTORY, 0);
	obs_ret("mkdir f/x", mkdir(x, 0700));
	obs_ret("rmdir f", rmdir(sub("t", "f")));
	obs_ret("rmdir f/x", rmdir(x));
	obs_ret("unlink f/", unlink(sub("t", "f/")));
	obs_ret("unlink f/x", unlink(x));
	obs_ret("rename f/x", rename(x, sub("t", "y")));
	obs_ret("rename to f/x", rename(sub("t", "lf"), x));
	obs_ret("rename f to f/ (trailing slash)", rename(sub("t", "f"), sub("t", "g/")));
	obs_ret("link to f/x", link(sub("t", "f"), x));
	obs_ret("symlink at f/x", symlink("t", x));
	obs_ret("chdir f", chdir(sub("t", "f")));
	obs_list_all("opendir f", sub("t", "f"));
	obs_readlink("readlink f/x", x, 64);
	obs_ret("truncate f/x", truncate(x, 0));
	obs_ret("chmod f/x", chmod(x, 0600));
	obs_ret("mkfifo f/x", mkfifo(x, 0600));
	obs_ret("utimensat f/x", utimensat(AT_FDCWD, x, NULL, 0));
	obs_ret("access f/x", access(x, F_OK));
	rmtree(path("t"));
}

static void sc_enotempty_eisdir(void)
{
	int fd;

	mkd(path("t"));
	mkd(sub("t", "full"));
	mkf(sub("t", "full/x"), "x");
	mkd(sub("t", "empty"));
	mkd(sub("t", "other"));
	mkf(sub("t", "f"), "x");
	obs_ret("rmdir a non-empty directory", rmdir(sub("t", "full")));
	obs_ret("rename a directory over a non-empty one", rename(sub("t", "other"), sub("t", "full")));
	obs_ret("rename a directory over an empty one", rename(sub("t", "other"), sub("t", "empty")));
	obs_ret("rename a file over a directory", rename(sub("t", "f"), sub("t", "full")));
	obs_ret("rename a directory over a file", rename(sub("t", "empty"), sub("t", "f")));
	obs_ret("rename a directory into itself", rename(sub("t", "full"), sub("t", "full/in")));
	obs_ret("RENAME_EXCHANGE a file and a directory",
		renameat2(AT_FDCWD, sub("t", "f"), AT_FDCWD, sub("t", "empty"), RENAME_EXCHANGE));
	obs_lstat("f is now", sub("t", "f"));
	probe_open("open a directory O_WRONLY", sub("t", "full"), O_WRONLY, 0);
	probe_open("open a directory O_RDWR", sub("t", "full"), O_RDWR, 0);
	probe_open("open a directory O_CREAT", sub("t", "full"), O_CREAT | O_RDONLY, 0600);
	probe_open("open a directory O_TRUNC", sub("t", "full"), O_TRUNC | O_RDONLY, 0);
	obs_ret("unlink a directory", unlink(sub("t", "full")));
	obs_ret("truncate a directory", truncate(sub("t", "full"), 0));
	obs_ret("link a directory", link(sub("t", "full"), sub("t", "hard")));
	fd = open(sub("t", "full"), O_RDONLY | O_DIRECTORY);
	obs_read("read a directory fd", fd, 8);
	obs_write("write a directory fd", fd, "x");
	xclose(fd);
	rmtree(path("t"));
}

/* /dev/shm and the rest: other file systems, under the preload too
 * (/tmp is a mount of its own there, the kernel's ext4 or tmpfs here). */
static void sc_exdev(void)
{
	const char *vt = fmt("/var/tmp/%s", objname("x")), *tm = fmt("/tmp/%s", objname("x"));

	xclose(mk("a", "A"));
	mkd(path("d"));
	obs_ret("rename to /var/tmp", rename(path("a"), vt));
	unlink(vt);
	obs_ret("rename to /tmp", rename(path("a"), tm));
	unlink(tm);
	obs_ret("rename a directory to /var/tmp", rename(path("d"), vt));
	rmdir(vt);
	obs_ret("rename into a missing directory of /var/tmp",
		rename(path("a"), fmt("/var/tmp/%s/x", objname("nodir"))));
	obs_ret("rename a missing file to /var/tmp", rename(path("m"), vt));
	obs_ret("rename from a missing directory to /var/tmp", rename(sub("nodir", "x"), vt));
	obs_ret("RENAME_EXCHANGE with /var/tmp",
		renameat2(AT_FDCWD, path("a"), AT_FDCWD, "/var/tmp", RENAME_EXCHANGE));
	obs_ret("link to /var/tmp", link(path("a"), vt));
	unlink(vt);
	obs_ret("link of a missing file to /var/tmp", link(path("m"), vt));
	obs_ret("link onto an existing name in /var/tmp", link(path("a"), "/var/tmp"));
	obs_ret("link into a missing directory of /var/tmp",
		link(path("a"), fmt("/var/tmp/%s/x", objname("nodir"))));
	obs_ret("link from /etc/hostname", link("/etc/hostname", path("h")));
	unlink(path("h"));
	obs_ret("symlink to /var/tmp (a name, no EXDEV)", symlink("/var/tmp", path("l")));
	obs_readlink("readlink it", path("l"), 64);
	rm("l");
	rmd(path("d"));
	rm("a");
}

/* The sticky bit and mode bits for a second user, as the kernel checks
 * them: a child takes uid and gid 65534. */
static void as_nobody(const char *label, void (*fn)(void *), void *arg)
{
	obs_child(label, fn, arg);
}

static void nobody(void)
{
	if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
		obs("setresuid: %s", errname(errno));
}

static void sticky_child(void *arg)
{
	(void)arg;
	nobody();
	obs_ret("unlink root's file", unlink(sub("t", "rootf")));
	obs_ret("rename root's file", rename(sub("t", "rootf"), sub("t", "x")));
	obs_ret("rename onto root's file", rename(sub("t", "mine0"), sub("t", "rootf")));
	obs_ret("rmdir root's directory", rmdir(sub("t", "rootd")));
	probe_open("write root's 0666 file", sub("t", "rootf"), O_WRONLY, 0);
	probe_open("create a file", sub("t", "mine"), O_CREAT | O_WRONLY | O_EXCL, 0644);
	obs_lstat("it is mine", sub("t", "mine"));
	obs_ret("rename my file", rename(sub("t", "mine"), sub("t", "mine2")));
	obs_ret("unlink my file", unlink(sub("t", "mine2")));
	obs_ret("link root's 0666 file", link(sub("t", "rootf"), sub("t", "hl")));
	obs_ret("link root's 0644 file (protected_hardlinks, when on)",
		link(sub("t", "rootd/in"), sub("t", "hl2")));
	unlink(sub("t", "hl"));
	obs_ret("chmod root's file", chmod(sub("t", "rootf"), 0600));
	obs_ret("chown root's file to me", chown(sub("t", "rootf"), 65534, 65534));
	obs_ret("utimensat NULL on root's 0666 file", utimensat(AT_FDCWD, sub("t", "rootf"), NULL, 0));
	obs_ret("utimensat times on root's 0666 file",
		utimensat(AT_FDCWD, sub("t", "rootf"),
			  (struct timespec[]){ { 1, 0 }, { 1, 0 } }, 0));
	obs_ret("unlink in a 0755 root directory", unlink(sub("t", "rootd/in")));
	obs_ret("create in a 0755 root directory", mkdir(sub("t", "rootd/new"), 0700));
	obs_pstat("stat in a 0700 root directory", sub("t", "closed/in"));
	obs_ret("access W_OK of root's 0644 file", access(sub("t", "rootd/in"), W_OK));
	obs_ret("euidaccess R_OK of root's 0644 file", euidaccess(sub("t", "rootd/in"), R_OK));
	obs_ret("setxattr user.* on root's 0666 file",
		setxattr(sub("t", "rootf"), "user.k", "v", 1, 0));
	obs_ret("setxattr trusted.* on my file", setxattr(sub("t", "mine0"), "trusted.k", "v", 1, 0));
	obs_ret("remove my file", unlink(sub("t", "mine0")));
}

static int protected_hardlinks(void)
{
	FILE *f = fopen("/proc/sys/fs/protected_hardlinks", "r");
	int v = 0;

	if (f && fscanf(f, "%d", &v) != 1)
		v = 0;
	if (f)
		fclose(f);
	return v;
}

static void sc_sticky_second_user(void)
{
	mkd(path("t"));
	chmod(path("t"), 01777);
	mkf(sub("t", "rootf"), "root");
	chmod(sub("t", "rootf"), 0666);
	mkd(sub("t", "rootd"));
	mkf(sub("t", "rootd/in"), "x");
	mkd(sub("t", "closed"));
	chmod(sub("t", "closed"), 0700);
	mkf(sub("t", "closed/in"), "x");
	mkf(sub("t", "mine0"), "x");
	if (chown(sub("t", "mine0"), 65534, 65534) != 0)
		obs("setup: chown: %s", errname(errno));
	obs("euid is root: %s", geteuid() == 0 ? "yes" : "no");
	as_nobody("as uid 65534 in a sticky directory", sticky_child, NULL);
	obs_lstat("root's file is still there", sub("t", "rootf"));
	obs("protected_hardlinks: %s", protected_hardlinks() ? "on" : "off");
	rmtree(path("t"));
}

static int obs_spawn(const char *label, const char *prog, char *const argv[],
		     posix_spawn_file_actions_t *fa)
{
	extern char **environ;
	pid_t pid;
	int r = posix_spawn(&pid, prog, fa, NULL, argv, environ);

	if (r) {
		obs("%s: %s", label, errname(r));
		return -1;
	}
	obs_wait(label, pid);
	return 0;
}

static void sc_posix_spawn(void)
{
	posix_spawn_file_actions_t fa;

	mkd(path("t"));
	/* a program kept in the mount, and a script */
	mkf(sub("t", "s.sh"), "#!/bin/sh\necho \"script $0 $1\" > \"$2\"\nexit 3\n");
	chmod(sub("t", "s.sh"), 0755);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, sub("t", "out"), O_WRONLY | O_CREAT | O_TRUNC,
					 0644);
	obs_spawn("spawn /bin/echo, stdout on a file in the mount", "/bin/echo",
		  (char *[]){ "echo", "via", "file", "actions", NULL }, &fa);
	posix_spawn_file_actions_destroy(&fa);
	obs_contents("what it wrote", "t/out");
	obs_spawn("spawn the script", sub("t", "s.sh"),
		  (char *[]){ "s.sh", "arg", (char *)sub("t", "out2"), NULL }, NULL);
	obs_contents("what the script wrote", "t/out2");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, sub("t", "missing"), O_RDONLY, 0);
	obs_spawn("spawn with an open action on a missing file", "/bin/true",
		  (char *[]){ "true", NULL }, &fa);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addchdir_np(&fa, path("t"));
	obs_spawn("spawn ./s.sh after a chdir action", "./s.sh",
		  (char *[]){ "s.sh", "x", "out3", NULL }, &fa);
	posix_spawn_file_actions_destroy(&fa);
	obs_contents("what it wrote", "t/out3");
	obs_spawn("spawn a missing program in the mount", sub("t", "none"),
		  (char *[]){ "none", NULL }, NULL);
	chmod(sub("t", "s.sh"), 0644);
	obs_spawn("spawn a program without x", sub("t", "s.sh"), (char *[]){ "s.sh", NULL }, NULL);
	rmtree(path("t"));
}

static void exec_child(void *arg)
{
	const char **a = arg;

	execl(a[0], a[0], a[1], (char *)NULL);
	obs("execl %s: %s", rel(a[0], path("t")), errname(errno));
	fflush(stdout);
	_exit(126);
}

static void sc_exec_managed(void)
{
	mkd(path("t"));
	mkf(sub("t", "ok.sh"), "#!/bin/sh\nexit 5\n");
	mkf(sub("t", "noshebang"), "exit 6\n");
	mkf(sub("t", "bare"), "#!");
	mkf(sub("t", "nointerp"), "#!/nonexistent\n");
	mkf(sub("t", "nox"), "#!/bin/sh\n");
	chmod(sub("t", "ok.sh"), 0755);
	chmod(sub("t", "noshebang"), 0755);
	chmod(sub("t", "bare"), 0755);
	chmod(sub("t", "nointerp"), 0755);
	chmod(sub("t", "nox"), 0644);
	mkd(sub("t", "dir"));
	obs_child("execl a script", exec_child, (const char *[]){ sub("t", "ok.sh"), "x" });
	obs_child("execl no #!", exec_child, (const char *[]){ sub("t", "noshebang"), "x" });
	obs_child("execl a bare #!", exec_child, (const char *[]){ sub("t", "bare"), "x" });
	obs_child("execl a missing interpreter", exec_child,
		  (const char *[]){ sub("t", "nointerp"), "x" });
	obs_child("execl without x", exec_child, (const char *[]){ sub("t", "nox"), "x" });
	obs_child("execl a directory", exec_child, (const char *[]){ sub("t", "dir"), "x" });
	obs_child("execl a missing file", exec_child, (const char *[]){ sub("t", "none"), "x" });
	obs_child("execl through a file", exec_child, (const char *[]){ sub("t", "ok.sh/x"), "x" });
	rmtree(path("t"));
}

static void sc_unix_socket(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX }, got;
	socklen_t len = sizeof(got);
	int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0), x;
	char buf[16] = "";

	mkd(path("t"));
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sub("t", "s"));
	obs_ret("bind", bind(s, (struct sockaddr *)&a, sizeof(a)));
	obs_lstat("the node", sub("t", "s"));
	obs_ret("listen", listen(s, 4));
	obs_ret("getsockname", getsockname(s, (struct sockaddr *)&got, &len));
	obs("  name is the bound one: %s", !strcmp(got.sun_path, a.sun_path) ? "yes" : "no");
	obs_ret("bind another to the same name",
		bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, sizeof(a)));
	obs_ret("connect", connect(c, (struct sockaddr *)&a, sizeof(a)));
	x = accept(s, NULL, NULL);
	obs_fd("accept", x);
	obs_ret("send", send(c, "hello", 5, 0));
	obs_ret("recv", recv(x, buf, sizeof(buf), 0));
	len = sizeof(got);
	obs_ret("getpeername", getpeername(c, (struct sockaddr *)&got, &len));
	obs("  peer is the bound name: %s", !strcmp(got.sun_path, a.sun_path) ? "yes" : "no");
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sub("t", "none"));
	obs_ret("connect to a missing name", connect(socket(AF_UNIX, SOCK_STREAM, 0),
						     (struct sockaddr *)&a, sizeof(a)));
	mkf(sub("t", "file"), "");
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sub("t", "file"));
	obs_ret("connect to a file", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a,
					     sizeof(a)));
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sub("t", "nodir/s"));
	obs_ret("bind in a missing directory",
		bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, sizeof(a)));
	obs_ret("unlink the socket", unlink(sub("t", "s")));
	close(x);
	close(c);
	close(s);
	rmtree(path("t"));
}

const struct scenario scenarios[] = {
	{ "shm-create-excl", sc_shm_create_excl },
	{ "shm-names", sc_shm_names },
	{ "shm-name-length", sc_shm_name_length },
	{ "shm-rdonly", sc_shm_rdonly },
	{ "shm-flags", sc_shm_flags },
	{ "shm-child-persist", sc_shm_child_persist },
	{ "shm-unlink-open", sc_shm_unlink_open },
	{ "shm-mmap-two-procs", sc_shm_mmap_two_procs },
	{ "open-creat-umask", sc_open_creat_umask },
	{ "open-excl", sc_open_excl },
	{ "open-missing", sc_open_missing },
	{ "open-notdir", sc_open_notdir },
	{ "open-trailing-slash", sc_open_trailing_slash },
	{ "open-dir", sc_open_dir },
	{ "open-odirectory", sc_open_odirectory },
	{ "open-name-length", sc_open_name_length },
	{ "open-path-forms", sc_open_path_forms },
	{ "open-trunc", sc_open_trunc },
	{ "open-append", sc_open_append },
	{ "open-cloexec", sc_open_cloexec },
	{ "open-accmode", sc_open_accmode },
	{ "open64", sc_open64 },
	{ "openat", sc_openat },
	{ "openat-relative", sc_openat_relative },
	{ "creat", sc_creat },
	{ "fopen-errors", sc_fopen_errors },
	{ "fopen-write-read", sc_fopen_write_read },
	{ "fopen-append", sc_fopen_append },
	{ "fopen-update", sc_fopen_update },
	{ "fopen-excl", sc_fopen_excl },
	{ "close-double", sc_close_double },
	{ "unlink-basic", sc_unlink_basic },
	{ "unlink-errors", sc_unlink_errors },
	{ "unlink-open", sc_unlink_open },
	{ "stat-basic", sc_stat_basic },
	{ "stat-devshm", sc_stat_devshm },
	{ "stat-errors", sc_stat_errors },
	{ "fstatat", sc_fstatat },
	{ "statx", sc_statx },
	{ "stat-blocks", sc_stat_blocks },
	{ "access", sc_access },
	{ "access-perm", sc_access_perm },
	{ "ftruncate-resize", sc_ftruncate_resize },
	{ "ftruncate-errors", sc_ftruncate_errors },
	{ "ftruncate-sparse", sc_ftruncate_sparse },
	{ "truncate-path", sc_truncate_path },
	{ "fallocate-modes", sc_fallocate_modes },
	{ "fallocate-punch", sc_fallocate_punch },
	{ "fallocate-errors", sc_fallocate_errors },
	{ "posix-fallocate", sc_posix_fallocate },
	{ "rw-roundtrip", sc_rw_roundtrip },
	{ "pread-pwrite", sc_pread_pwrite },
	{ "readv-writev", sc_readv_writev },
	{ "rw-large", sc_rw_large },
	{ "lseek-basic", sc_lseek_basic },
	{ "lseek-errors", sc_lseek_errors },
	{ "lseek-data-hole", sc_lseek_data_hole },
	{ "lseek-empty", sc_lseek_empty },
	{ "lseek-punched", sc_lseek_punched },
	{ "lseek-fallocated", sc_lseek_fallocated },
	{ "mmap-shared", sc_mmap_shared },
	{ "mmap-private", sc_mmap_private },
	{ "mmap-rdonly", sc_mmap_rdonly },
	{ "mmap-sigbus", sc_mmap_sigbus },
	{ "mmap-fork", sc_mmap_fork },
	{ "mmap-grow", sc_mmap_grow },
	{ "fd-independent", sc_fd_independent },
	{ "fd-dup", sc_fd_dup },
	{ "fork-inherit-fd", sc_fork_inherit_fd },
	{ "fork-child-creates", sc_fork_child_creates },
	{ "fork-append", sc_fork_append },
	{ "readdir-list", sc_readdir_list },
	{ "readdir-unlink", sc_readdir_unlink },
	{ "readdir-fd", sc_readdir_fd },
	{ "ino-relations", sc_ino_relations },
	{ "dev-relations", sc_dev_relations },
	{ "times-update", sc_times_update },
	{ "utimensat", sc_utimensat },
	{ "rename", sc_rename },
	{ "rename-errors", sc_rename_errors },
	{ "chmod", sc_chmod },
	{ "fsync", sc_fsync },
	{ "mkdir-basic", sc_mkdir_basic },
	{ "mkdir-eexist", sc_mkdir_eexist },
	{ "mkdir-errors", sc_mkdir_errors },
	{ "mkdir-mode", sc_mkdir_mode },
	{ "mkdir-nlink", sc_mkdir_nlink },
	{ "mkdir-setgid", sc_mkdir_setgid },
	{ "mkdirat", sc_mkdirat },
	{ "mkdir-size", sc_mkdir_size },
	{ "rmdir-errors", sc_rmdir_errors },
	{ "rmdir-open", sc_rmdir_open },
	{ "dir-nested", sc_dir_nested },
	{ "readdir-subdir", sc_readdir_subdir },
	{ "readdir-dino", sc_readdir_dino },
	{ "readdir-subdir-fd", sc_readdir_subdir_fd },
	{ "link-basic", sc_link_basic },
	{ "link-errors", sc_link_errors },
	{ "linkat-symlink", sc_linkat_symlink },
	{ "linkat-tmpfile", sc_linkat_tmpfile },
	{ "linkat-tmpfile-excl", sc_linkat_tmpfile_excl },
	{ "linkat-tmpfile-proc", sc_linkat_tmpfile_proc },
	{ "symlink-relative", sc_symlink_relative },
	{ "symlink-absolute", sc_symlink_absolute },
	{ "symlink-dangling", sc_symlink_dangling },
	{ "readlink-edges", sc_readlink_edges },
	{ "symlink-loop", sc_symlink_loop },
	{ "symlink-maxlinks", sc_symlink_maxlinks },
	{ "open-nofollow", sc_open_nofollow },
	{ "symlink-dir", sc_symlink_dir },
	{ "symlink-outside", sc_symlink_outside },
	{ "symlink-dangling-out", sc_symlink_dangling_out },
	{ "symlink-errors", sc_symlink_errors },
	{ "symlinkat", sc_symlinkat },
	{ "rename-dir", sc_rename_dir },
	{ "rename-dir-errors", sc_rename_dir_errors },
	{ "rename-exchange-dir", sc_rename_exchange_dir },
	{ "rename-symlink", sc_rename_symlink },
	{ "chdir-subdir", sc_chdir_subdir },
	{ "fchdir", sc_fchdir },
	{ "chdir-errors", sc_chdir_errors },
	{ "getcwd-forms", sc_getcwd_forms },
	{ "realpath", sc_realpath },
	{ "mkstemp", sc_mkstemp },
	{ "sem", sc_sem },
	{ "scandir", sc_scandir },
	{ "xattr", sc_xattr },
	{ "xattr-names", sc_xattr_names },
	{ "xattr-values", sc_xattr_values },
	{ "xattr-types", sc_xattr_types },
	{ "statfs-devshm", sc_statfs_devshm },
	{ "chmod-symlink", sc_chmod_symlink },
	{ "chown-symlink", sc_chown_symlink },
	{ "utimensat-symlink", sc_utimensat_symlink },
	{ "access-symlink", sc_access_symlink },
	{ "glob", sc_glob },
	{ "nftw", sc_nftw },
	{ "nftw-actionretval", sc_nftw_actionretval },
	{ "fts", sc_fts },
	{ "fts-children", sc_fts_children },
	{ "tmpfile", sc_tmpfile },
	{ "freopen", sc_freopen },
	{ "readdir-r", sc_readdir_r },
	{ "euidaccess", sc_euidaccess },
	{ "readdir-mutate", sc_readdir_mutate },
	{ "dtype-dino", sc_dtype_dino },
	{ "mknod", sc_mknod },
	{ "eloop", sc_eloop },
	{ "enotdir", sc_enotdir },
	{ "enotempty-eisdir", sc_enotempty_eisdir },
	{ "exdev", sc_exdev },
	{ "sticky-second-user", sc_sticky_second_user },
	{ "posix-spawn", sc_posix_spawn },
	{ "exec-managed", sc_exec_managed },
	{ "unix-socket", sc_unix_socket },
#define SYSV_SCENARIO(name, fn) { name, fn },
#include "sysv.def"
#undef SYSV_SCENARIO
};

const size_t n_scenarios = sizeof scenarios / sizeof scenarios[0];
