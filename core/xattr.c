/* xattr.c -- extended attributes of the namespace's inodes, as tmpfs keeps
 * them (mm/shmem.c's xattr handlers over fs/xattr.c's simple_xattr).
 *
 * Namespaces: user.* (regular files and directories only; a sticky
 * directory's only for its owner to write), trusted.* (CAP_SYS_ADMIN, here
 * root), security.* (writable with CAP_SYS_ADMIN, as commoncap says).
 * Anything else is EOPNOTSUPP.  POSIX ACLs are not kept: system.posix_acl_*
 * reads as absent (ENODATA), and setting one is EOPNOTSUPP where tmpfs
 * would take it.  The checks come in xattr_permission's order, then the
 * handler's.  Lists are in descending name order, as tmpfs gives them, and
 * trusted.* is only listed for root.  A user.*
 * attribute takes its size from the inode space (shmem's free_ispace:
 * BOGO_INODE_SIZE per inode of nr_inodes), ENOSPC when it is gone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "ns.h"

#define XATTR_NAME_MAX 255
#define XATTR_SIZE_MAX 65536
#define XATTR_LIST_MAX 65536

struct ns_xattr {
	struct ns_xattr *next; /* in descending name order */
	size_t size;
	char *name;
	unsigned char value[];
};

static const char *const prefixes[] = { "user.", "trusted.", "security." };

static int prefix_of(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return i;
	return -1;
}

#define USER 0
#define TRUSTED 1
#define SECURITY 2

/* simple_xattr_space: what an attribute costs */
static uint64_t space(const char *name, size_t size)
{
	return sizeof(struct ns_xattr) + strlen(name) + 1 + size;
}

/* xattr_permission */
static int may_xattr(const struct shx_cred *cr, const struct ns_inode *ip, const char *name,
		     int write)
{
	int kind = prefix_of(name);

	if (kind == SECURITY || !strncmp(name, "system.", 7))
		return 0;
	if (kind == TRUSTED)
		return cr->uid == 0 ? 0 : write ? -EPERM : -ENODATA;
	if (kind == USER) {
		if (!S_ISREG(ip->mode) && !S_ISDIR(ip->mode))
			return write ? -EPERM : -ENODATA;
		if (S_ISDIR(ip->mode) && (ip->mode & S_ISVTX) && write && cr->uid != 0 &&
		    cr->uid != ip->uid)
			return -EPERM;
	}
	return ns_permission(cr, ip, write ? 2 : 4);
}

#define ACL 3 /* system.posix_acl_access, system.posix_acl_default */

/* xattr_resolve_name: a known namespace with a name after it */
static int handler(const char *name)
{
	int kind = prefix_of(name);

	if (!strcmp(name, "system.posix_acl_access") || !strcmp(name, "system.posix_acl_default"))
		return ACL;
	if (kind < 0)
		return -EOPNOTSUPP;
	return name[strlen(prefixes[kind])] ? kind : -EINVAL;
}

static struct ns_xattr **find(struct ns_inode *ip, const char *name, int *found)
{
	struct ns_xattr **pp = &ip->xattrs;
	int c = 1;

	while (*pp && (c = strcmp((*pp)->name, name)) > 0)
		pp = &(*pp)->next;
	*found = *pp && c == 0;
	return pp;
}

int ns_getxattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip, const char *name,
		void *buf, size_t cap, size_t *len)
{
	struct ns_xattr **pp;
	int r = may_xattr(cr, ip, name, 0), found;

	(void)ns;
	if (r == 0)
		r = handler(name) < 0 ? handler(name) : 0;
	if (r < 0)
		return r;
	if (handler(name) == ACL)
		return -ENODATA;
	pp = find(ip, name, &found);
	if (!found)
		return -ENODATA;
	*len = (*pp)->size;
	if (cap == 0) /* how big it is */
		return 0;
	if (cap < (*pp)->size)
		return -ERANGE;
	memcpy(buf, (*pp)->value, (*pp)->size);
	return 0;
}

int ns_setxattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip, const char *name,
		const void *value, size_t size, int flags)
{
	struct ns_xattr **pp, *x, *old;
	uint64_t need = space(name, size), freed;
	int r = may_xattr(cr, ip, name, 1), found, kind;

	if (r < 0)
		return r;
	/* commoncap's cap_inode_setxattr: security.* wants CAP_SYS_ADMIN */
	kind = handler(name);
	if (kind == SECURITY && cr->uid != 0)
		return -EPERM;
	if (kind < 0)
		return kind;
	if (kind == ACL)
		return -EOPNOTSUPP;
	pp = find(ip, name, &found);
	if (found && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!found && (flags & XATTR_REPLACE))
		return -ENODATA;
	freed = found ? space(name, (*pp)->size) : 0;
	if (kind == USER && ns->cfg.nr_inodes != UINT64_MAX &&
	    ns->xattr_space - freed + need + ns->inodes_used * NS_BOGO_INODE_SIZE >
		    ns->cfg.nr_inodes * NS_BOGO_INODE_SIZE)
		return -ENOSPC;
	x = malloc(sizeof(*x) + size);
	if (!x || !(x->name = strdup(name))) {
		free(x);
		return -ENOMEM;
	}
	x->size = size;
	memcpy(x->value, value, size);
	old = found ? *pp : NULL;
	x->next = old ? old->next : *pp;
	*pp = x;
	if (old) {
		free(old->name);
		free(old);
	}
	if (kind == USER)
		ns->xattr_space += need - freed;
	ip->ctime_ns = ns_now();
	return 0;
}

int ns_removexattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip,
		   const char *name)
{
	struct ns_xattr **pp, *x;
	int r = may_xattr(cr, ip, name, 1), found, kind;

	if (r < 0)
		return r;
	kind = handler(name);
	if (kind < 0)
		return kind;
	pp = find(ip, name, &found);
	if (!found || kind == ACL)
		return -ENODATA;
	x = *pp;
	*pp = x->next;
	if (kind == USER)
		ns->xattr_space -= space(x->name, x->size);
	free(x->name);
	free(x);
	ip->ctime_ns = ns_now();
	return 0;
}

int ns_listxattr(struct ns *ns, const struct shx_cred *cr, struct ns_inode *ip, char *buf,
		 size_t cap, size_t *len)
{
	size_t n = 0;

	(void)ns;
	for (struct ns_xattr *x = ip->xattrs; x; x = x->next) {
		size_t k = strlen(x->name) + 1;

		if (prefix_of(x->name) == TRUSTED && cr->uid != 0)
			continue;
		if (cap && n + k > cap)
			return -ERANGE;
		if (cap)
			memcpy(buf + n, x->name, k);
		n += k;
	}
	if (n > XATTR_LIST_MAX)
		return -E2BIG;
	*len = n;
	return 0;
}

void ns_xattr_free(struct ns *ns, struct ns_inode *ip)
{
	while (ip->xattrs) {
		struct ns_xattr *x = ip->xattrs;

		ip->xattrs = x->next;
		if (prefix_of(x->name) == USER)
			ns->xattr_space -= space(x->name, x->size);
		free(x->name);
		free(x);
	}
}
