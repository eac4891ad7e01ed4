/* path.h -- which paths the library manages.
 *
 * Called on every path-taking call of every preloaded process, so the
 * common case (a path outside the managed prefixes) costs a few compares:
 * no allocation, no system call.
 */
#ifndef SHX_PATH_H
#define SHX_PATH_H

#include <stddef.h>

#define SHX_MNT_MAX 8	  /* mounts, /dev/shm included */
#define SHX_MNT_LEN 256	  /* longest mount prefix, with its NUL */
#define SHX_MOUNTS_DEFAULT "/dev/shm:/tmp"

struct shx_mount {
	const char *prefix; /* "/dev/shm" */
	size_t len;
	size_t first;	    /* length of its first component with the slash: 4 */
};

/* Second bytes of absolute paths that may be managed: those of the mount
 * prefixes, and '/'.  Anything else is managed only through "/..". */
extern unsigned char shx_path_lead[256];

/* Managed mounts.  /dev/shm is always the first (shm_open and sem_open
 * names live there); the others come from the list in $SHMEMX_MOUNTS,
 * else the config file's "mounts =", else SHX_MOUNTS_DEFAULT.  Before
 * shx_mounts_init the table holds the default list. */
int shx_mounts(const struct shx_mount **mnts);
void shx_mounts_init(void);
/* Replaces the table by /dev/shm and the entries of a colon-separated
 * list; returns how many mounts there are then. */
int shx_mounts_set(const char *list);
/* Adds one prefix: 0 if added, 1 if it is there already, -EINVAL if it is
 * not a clean absolute directory ("/", "relative", "/a/../b", "/a//b"),
 * -EBUSY if it is inside another mount or holds one, -ENOSPC when the
 * table is full.  Trailing slashes are dropped. */
int shx_mount_add(const char *prefix);
/* The table as a colon-separated list, as shx_mounts_set reads it; the
 * length, or 0 if it does not fit.  Empty until the table is set (by
 * shx_mounts_init or shx_mounts_set): a tool such as shmemctl, which
 * manages nothing itself, has no mounts to announce. */
size_t shx_mounts_list(char *buf, size_t cap);

/* If `path` names something under a managed mount, copies the path, with
 * "//" and "/./" squeezed out and ".." resolved lexically up to the mount
 * root, into `out` and returns the mount's index.  Components below the
 * mount root are left for the manager to walk, since only it knows whether
 * "file/.." names a directory.  Returns -1 for unmanaged paths and
 * -ENAMETOOLONG when the path does not fit. */
int shx_path_classify(const char *path, char *out, size_t cap);

/* The cheap part of shx_path_classify, for callers to inline: 1 when an
 * absolute path cannot be managed (no scan needed beyond "/.."). */
static inline int shx_path_surely_unmanaged(const char *path)
{
	/* a "/.." anywhere could climb into a mount: one vectorised scan,
	 * which every unmanaged path pays (libc's strstr measured faster here
	 * than a strchr loop or a word-at-a-time loop) */
	return !shx_path_lead[(unsigned char)path[1]] && !__builtin_strstr(path, "/..");
}

#endif
