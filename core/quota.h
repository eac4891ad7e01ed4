/* quota.h -- quota groups: each user and each app, besides the manager.
 *
 * Every inode is charged to the user who created it and, when the
 * creator ran under an app (shmemctl run --app, SHMEMX_APP), to that app
 * too; the manager-wide figures stay in struct ns (size_used,
 * inodes_used), as tmpfs's size= and nr_inodes=.  A grant is what every
 * group it is charged to still has room for, so no group ever goes over
 * its limit.  Running out of a user's limit is EDQUOT, as the kernel's
 * tmpfs user quotas (usrquota, Linux 6.6) give it; running out of an
 * app's limit is ENOSPC, as a tmpfs of its own (size=) would.
 *
 * The manager is single-threaded, so the figures need no locking: each
 * request charges and refunds in one go.
 */
#ifndef SHX_QUOTA_H
#define SHX_QUOTA_H

#include <stdint.h>

#include "config.h"

struct ns_inode;

#define QUOTA_NAME_MAX	64 /* an app's name, with its NUL */
#define QUOTA_UNLIMITED UINT64_MAX

enum quota_kind { QUOTA_MANAGER, QUOTA_USER, QUOTA_APP };

struct quota_group {
	struct quota_group *next;
	enum quota_kind kind;
	uint32_t uid;		   /* a user's, or the user an app belongs to */
	char name[QUOTA_NAME_MAX]; /* an app's */
	uint64_t size_limit, inodes_limit;
	uint64_t size_used, inodes_used, objects;
	uint64_t clients; /* connections of it */
	int limits_set;	  /* limits given for it by name, not the defaults */
	/* private /tmp (shmemctl run --private-tmp): the root of the app's
	 * own /tmp, an inode of the namespace with no name */
	struct ns_inode *private_tmp;
	uint32_t tmp_users; /* runs of the app holding it (their connections) */
	int keep_tmp;	    /* it stays when the last of them ends */
};

struct quota {
	struct quota_group *groups; /* users and apps */
	/* what a user or an app gets when nothing names it, and the limits
	 * of those the settings name (config.h) */
	uint64_t user_size, user_inodes, app_size, app_inodes;
	struct shx_group_limit named[SHX_GROUP_LIMITS_MAX];
	int nnamed;
};

/* The limits of the settings: 0 is no limit, as for tmpfs. */
void quota_init(struct quota *qt, const struct shx_config *cfg);
void quota_destroy(struct quota *qt);

/* The group of user uid, or of app `name` of that user; made on first
 * use, with the default limits.  NULL only when out of memory. */
struct quota_group *quota_user(struct quota *qt, uint32_t uid);
struct quota_group *quota_app(struct quota *qt, uint32_t uid, const char *name);
/* The group if it exists (NULL if not). */
struct quota_group *quota_find(struct quota *qt, enum quota_kind kind, uint32_t uid,
			       const char *name);

/* How much of `want` bytes (or inodes) the groups g[0..n) (NULL entries
 * skipped) all have room for; when that is less than want, *err is the
 * errno of the tightest of them (-EDQUOT for a user, -ENOSPC for an
 * app). */
uint64_t quota_room_bytes(struct quota_group *const g[], int n, uint64_t want, int *err);
uint64_t quota_room_inodes(struct quota_group *const g[], int n, uint64_t want, int *err);
/* Charges (delta > 0) or refunds (delta < 0) each group. */
void quota_charge_bytes(struct quota_group *const g[], int n, int64_t delta);
void quota_charge_inode(struct quota_group *const g[], int n, int delta, int object);

/* Sets a group's limits (QUOTA_UNLIMITED: none); a limit below what is
 * used is allowed: nothing more can be charged until enough is freed, as
 * a tmpfs remounted smaller. */
void quota_set_limits(struct quota_group *g, uint64_t size, uint64_t inodes);

#endif
