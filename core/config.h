/* config.h -- settings of the manager and where clients find it.
 *
 * Settings come from built-in defaults (those of a kernel tmpfs, and the
 * running kernel's System V limits), then the config file ($SHMEMX_CONFIG,
 * else ~/.config/shmemx/shmemx.conf, else /etc/shmemx.conf), then the
 * environment (SHMEMX_SIZE, SHMEMX_NR_INODES, SHMEMX_IDLE_TIMEOUT,
 * SHMEMX_SHMMAX, SHMEMX_SHMALL, SHMEMX_SHMMNI, SHMEMX_USER_SIZE,
 * SHMEMX_USER_NR_INODES, SHMEMX_APP_SIZE, SHMEMX_APP_NR_INODES), later
 * ones winning.  The
 * file may also say which mounts are managed ("mounts ="), which the
 * client reads too.
 */
#ifndef SHX_CONFIG_H
#define SHX_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define SHX_GROUP_LIMITS_MAX 32
#define SHX_LIMIT_DEFAULT UINT64_MAX /* a named group's limit not given: the default's */

struct shx_group_limit {
	int app;       /* an app's (by name), else a user's (by uid) */
	uint32_t uid;
	char name[64];
	uint64_t size, nr_inodes;
};

struct shx_config {
	uint64_t size_limit; /* bytes, as tmpfs size= */
	uint64_t nr_inodes;  /* as tmpfs nr_inodes= */
	unsigned idle_timeout; /* seconds idle and empty before the manager exits */
	/* System V shared memory: kernel.shmmax (bytes), kernel.shmall
	 * (pages), kernel.shmmni (segments, at most SHX_SHMMNI_MAX) */
	uint64_t shmmax, shmall, shmmni;
	/* quotas (core/quota.h): what each user and each app may use, 0 for
	 * no limit ("user_size", "user_nr_inodes", "app_size",
	 * "app_nr_inodes"), and the limits of groups named in the settings
	 * ("app.NAME.size", "app.NAME.nr_inodes", "user.UID.size", ...) */
	uint64_t user_size, user_nr_inodes, app_size, app_nr_inodes;
	struct shx_group_limit limits[SHX_GROUP_LIMITS_MAX];
	int nlimits;
	/* paging (tools/pager.c): swap_budget is the bytes the objects may
	 * keep in memory (0: swap_budget_pct percent of available memory, or
	 * of the cgroup's limit when lower); swap_limit the swap size (0:
	 * size_limit); swap_dir where the swap files go ("": the default) */
	uint64_t swap_budget;
	unsigned swap_budget_pct;
	uint64_t swap_limit;
	char swap_dir[256];
};

/* ipc_mni: how many segments the id scheme can tell apart */
#define SHX_SHMMNI_MAX 32768

int shx_config_load(struct shx_config *cfg, char *err, size_t errlen);
/* The config file's "mounts = /dev/shm:/tmp" into buf: 1 if there is one,
 * 0 if not.  (The client reads it at start-up to know what it manages;
 * the environment's SHMEMX_MOUNTS goes first, see path.h.) */
int shx_config_mounts(char *buf, size_t cap);
int shx_config_set(struct shx_config *cfg, const char *key, const char *val);

/* An app's name (SHMEMX_APP, shmemctl run --app): 1 to 63 characters out
 * of [A-Za-z0-9._-], since it appears in listings and Prometheus labels;
 * 0 or -EINVAL. */
int shx_app_name_valid(const char *name);

/* "1024", "64k", "512M", "1.5G", "2T", or "50%" of physical memory. */
int shx_parse_size(const char *s, uint64_t *out);
/* Formats with a binary unit: "512M", "1.5G". */
char *shx_format_size(uint64_t n, char *buf, size_t cap);

/* The manager's socket: $SHMEMX_SOCKET, else <runtime dir>/shmemx/sock
 * where the runtime dir is $XDG_RUNTIME_DIR or /var/tmp/shmemx-<uid>,
 * which is never under a managed prefix. */
int shx_socket_path(char *buf, size_t cap);
/* The directory of the socket path; created 0700 and checked to be ours. */
int shx_socket_dir(const char *sock, char *dir, size_t cap);
int shx_make_private_dir(const char *dir);

#endif
