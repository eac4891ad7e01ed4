/* path.h -- which paths the library manages.
 *
 * Called on every path-taking call of every preloaded process, so the
 * common case (a path outside the managed prefixes) costs a few compares:
 * no allocation, no system call.
 */
#ifndef SHX_PATH_H
#define SHX_PATH_H

#include <stddef.h>

#define SHX_MNT_MAX 4

struct shx_mount {
	const char *prefix; /* "/dev/shm" */
	size_t len;
	size_t first;	    /* length of its first component with the slash: 4 */
};

/* Second bytes of absolute paths that may be managed: those of the mount
 * prefixes, and '/'.  Anything else is managed only through "/..". */
extern unsigned char shx_path_lead[256];

/* Managed mounts: /dev/shm, plus the prefixes in $SHMEMX_MOUNTS
 * (colon-separated absolute directories). */
int shx_mounts(const struct shx_mount **mnts);
void shx_mounts_init(void);

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
