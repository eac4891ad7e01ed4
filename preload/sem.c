/* sem.c -- POSIX named semaphores: sem_open, sem_close, sem_unlink.
 *
 * glibc keeps a named semaphore as /dev/shm/sem.NAME, made and opened with
 * internal calls no wrapper sees; here it is an object of the manager like
 * any other.  As glibc 2.36 does: the name rules of shm_open with a "sem."
 * prefix; a new semaphore is built in a temporary object and published
 * with link(), so that no process ever maps a half-made one; opening the
 * same semaphore twice gives the same address, counted, until sem_close.
 */
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload.h"

#define NSEMS 256

static struct {
	sem_t *addr;
	uint64_t ino;
	unsigned refs;
} sems[NSEMS];
static pthread_mutex_t sems_lock = PTHREAD_MUTEX_INITIALIZER;

/* A mapping of the semaphore in fd: the one this process has already, or
 * a new one. */
static sem_t *map_sem(int fd)
{
	struct stat st;
	sem_t *s = SEM_FAILED;
	int free_slot = -1;

	if (fstat(fd, &st) < 0)
		return SEM_FAILED;
	pthread_mutex_lock(&sems_lock);
	for (int i = 0; i < NSEMS; i++) {
		if (sems[i].addr && sems[i].ino == st.st_ino) {
			sems[i].refs++;
			s = sems[i].addr;
			goto out;
		}
		if (!sems[i].addr && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		errno = ENFILE;
		goto out;
	}
	s = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		s = SEM_FAILED;
		goto out;
	}
	sems[free_slot].addr = s;
	sems[free_slot].ino = st.st_ino;
	sems[free_slot].refs = 1;
out:
	pthread_mutex_unlock(&sems_lock);
	return s;
}

/* A new semaphore of `value`, published at path unless a name is there
 * already: an fd of it, -EEXIST, or -errno. */
static int publish(const char *path, mode_t mode, unsigned value)
{
	char tmp[sizeof("/dev/shm/XXXXXX")] = "/dev/shm/XXXXXX";
	sem_t init;
	int fd;

	memset(&init, 0, sizeof(init));
	sem_init(&init, 1, value);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode & ~shx_umask()) < 0 ||
	    write(fd, &init, sizeof(init)) != (ssize_t)sizeof(init) || link(tmp, path) < 0) {
		int r = -errno;

		unlink(tmp);
		close(fd);
		return r;
	}
	unlink(tmp);
	return fd;
}

SHX_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
	struct shx_path p;
	const char *path = p.path;
	mode_t mode = 0;
	unsigned value = 0;
	sem_t *s;
	int fd, r;

	if (oflag & O_CREAT) {
		va_list ap;

		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned);
		va_end(ap);
		if (value > SEM_VALUE_MAX)
			return errno = EINVAL, SEM_FAILED;
	}
	r = shx_shm_name(name, "sem.", &p);
	if (r < 0)
		return errno = -r, SEM_FAILED;
	for (;;) {
		/* an existing one, unless O_CREAT|O_EXCL asks for a new one */
		if ((oflag & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL)) {
			fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				break;
			if (!(oflag & O_CREAT) || errno != ENOENT)
				return SEM_FAILED;
		}
		fd = publish(path, mode, value);
		if (fd >= 0)
			break;
		/* made meanwhile by someone else: open that one */
		if (fd != -EEXIST || (oflag & O_EXCL))
			return errno = -fd, SEM_FAILED;
	}
	s = map_sem(fd);
	r = errno;
	close(fd);
	errno = r;
	return s;
}

SHX_EXPORT int sem_close(sem_t *s)
{
	pthread_mutex_lock(&sems_lock);
	for (int i = 0; i < NSEMS; i++) {
		if (sems[i].addr != s)
			continue;
		if (--sems[i].refs == 0) {
			munmap(s, sizeof(sem_t));
			sems[i].addr = NULL;
		}
		pthread_mutex_unlock(&sems_lock);
		return 0;
	}
	pthread_mutex_unlock(&sems_lock);
	return REAL(sem_close)(s);
}

SHX_EXPORT int sem_unlink(const char *name)
{
	struct shx_path p;

	if (shx_shm_name(name, "sem.", &p) < 0) /* glibc: any bad name */
		return shx_ret(-ENOENT);
	if (unlink(p.path) < 0) {
		if (errno == EPERM)
			errno = EACCES;
		return -1;
	}
	return 0;
}
