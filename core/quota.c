/* quota.c -- quota groups of users and apps (see quota.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quota.h"

#define PAGE 4096

/* size= in whole pages, 0 for none (shmem_parse_one) */
static uint64_t size_limit(uint64_t n)
{
	return n == 0 || n > QUOTA_UNLIMITED - PAGE ? QUOTA_UNLIMITED
						    : (n + PAGE - 1) & ~(PAGE - 1);
}

static uint64_t inodes_limit(uint64_t n)
{
	return n ? n : QUOTA_UNLIMITED;
}

void quota_init(struct quota *qt, const struct shx_config *cfg)
{
	memset(qt, 0, sizeof(*qt));
	qt->user_size = size_limit(cfg->user_size);
	qt->user_inodes = inodes_limit(cfg->user_nr_inodes);
	qt->app_size = size_limit(cfg->app_size);
	qt->app_inodes = inodes_limit(cfg->app_nr_inodes);
	qt->nnamed = cfg->nlimits;
	memcpy(qt->named, cfg->limits, sizeof(qt->named));
}

void quota_destroy(struct quota *qt)
{
	while (qt->groups) {
		struct quota_group *g = qt->groups;

		qt->groups = g->next;
		free(g);
	}
}

struct quota_group *quota_find(struct quota *qt, enum quota_kind kind, uint32_t uid,
			       const char *name)
{
	for (struct quota_group *g = qt->groups; g; g = g->next)
		if (g->kind == kind && g->uid == uid &&
		    (kind != QUOTA_APP || !strcmp(g->name, name)))
			return g;
	return NULL;
}

static struct quota_group *get(struct quota *qt, enum quota_kind kind, uint32_t uid,
			       const char *name)
{
	struct quota_group *g = quota_find(qt, kind, uid, name), **pp;

	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->kind = kind;
	g->uid = uid;
	if (kind == QUOTA_APP) {
		strncpy(g->name, name, sizeof(g->name) - 1);
		g->size_limit = qt->app_size;
		g->inodes_limit = qt->app_inodes;
	} else {
		g->size_limit = qt->user_size;
		g->inodes_limit = qt->user_inodes;
	}
	/* the settings may name it: an app by its name (whoever runs it), a
	 * user by uid */
	for (int i = 0; i < qt->nnamed; i++) {
		const struct shx_group_limit *l = &qt->named[i];

		if (kind == QUOTA_APP ? !l->app || strcmp(l->name, name) : l->app || l->uid != uid)
			continue;
		if (l->size != SHX_LIMIT_DEFAULT)
			g->size_limit = size_limit(l->size);
		if (l->nr_inodes != SHX_LIMIT_DEFAULT)
			g->inodes_limit = inodes_limit(l->nr_inodes);
	}
	/* users first, then apps, each in the order they came: listings
	 * read in that order */
	for (pp = &qt->groups; *pp && (kind == QUOTA_APP || (*pp)->kind == QUOTA_USER);
	     pp = &(*pp)->next)
		;
	g->next = *pp;
	*pp = g;
	return g;
}

struct quota_group *quota_user(struct quota *qt, uint32_t uid)
{
	return get(qt, QUOTA_USER, uid, "");
}

struct quota_group *quota_app(struct quota *qt, uint32_t uid, const char *name)
{
	return shx_app_name_valid(name) == 0 ? get(qt, QUOTA_APP, uid, name) : NULL;
}

static uint64_t room(uint64_t limit, uint64_t used)
{
	return used < limit ? limit - used : 0;
}

static int limit_errno(const struct quota_group *g)
{
	return g->kind == QUOTA_USER ? -EDQUOT : -ENOSPC;
}

/* The least room of the groups, in bytes or in inodes. */
static uint64_t least_room(struct quota_group *const g[], int n, uint64_t want, int *err,
			   int inodes)
{
	for (int i = 0; i < n; i++) {
		uint64_t r;

		if (!g[i])
			continue;
		r = inodes ? room(g[i]->inodes_limit, g[i]->inodes_used)
			   : room(g[i]->size_limit, g[i]->size_used);
		if (r < want) {
			want = r;
			*err = limit_errno(g[i]);
		}
	}
	return want;
}

uint64_t quota_room_bytes(struct quota_group *const g[], int n, uint64_t want, int *err)
{
	return least_room(g, n, want, err, 0);
}

uint64_t quota_room_inodes(struct quota_group *const g[], int n, uint64_t want, int *err)
{
	return least_room(g, n, want, err, 1);
}

void quota_charge_bytes(struct quota_group *const g[], int n, int64_t delta)
{
	for (int i = 0; i < n; i++)
		if (g[i])
			g[i]->size_used += (uint64_t)delta;
}

void quota_charge_inode(struct quota_group *const g[], int n, int delta, int object)
{
	for (int i = 0; i < n; i++) {
		if (!g[i])
			continue;
		g[i]->inodes_used += (uint64_t)(int64_t)delta;
		if (object)
			g[i]->objects += (uint64_t)(int64_t)delta;
	}
}

void quota_set_limits(struct quota_group *g, uint64_t size, uint64_t inodes)
{
	g->size_limit = size;
	g->inodes_limit = inodes;
	g->limits_set = 1;
}
