/* cred.c -- the set*id family.
 *
 * The manager checks each request with its sender's credentials, which
 * the kernel attaches (the real ids).  A process whose effective ids
 * differ from its real ones -- seteuid(2), a setuid program -- must say
 * the effective ones, which the kernel checks too: these wrappers tell the
 * connection code when the ids change.  (Supplementary groups are not
 * passed: the manager knows a process's primary group only.)
 */
#include <unistd.h>

#include "preload.h"

static int changed(int r)
{
	/* a vfork child's ids are its own; the parent's record is left be */
	if (r == 0 && !shx_conn_vforked())
		shx_conn_creds();
	return r;
}

/* Before the ids change: connections made while the process is still its
 * manager's user, which it keeps after (the manager's socket is in that
 * user's private directory). */
static void before(void)
{
	if (!shx_conn_vforked())
		shx_conn_prepare();
}

#define CHANGE(call) (before(), changed(call))

SHX_EXPORT int setuid(uid_t uid)
{
	return CHANGE(REAL(setuid)(uid));
}

SHX_EXPORT int seteuid(uid_t uid)
{
	return CHANGE(REAL(seteuid)(uid));
}

SHX_EXPORT int setreuid(uid_t r, uid_t e)
{
	return CHANGE(REAL(setreuid)(r, e));
}

SHX_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	return CHANGE(REAL(setresuid)(r, e, s));
}

SHX_EXPORT int setgid(gid_t gid)
{
	return CHANGE(REAL(setgid)(gid));
}

SHX_EXPORT int setegid(gid_t gid)
{
	return CHANGE(REAL(setegid)(gid));
}

SHX_EXPORT int setregid(gid_t r, gid_t e)
{
	return CHANGE(REAL(setregid)(r, e));
}

SHX_EXPORT int setresgid(gid_t r, gid_t e, gid_t s)
{
	return CHANGE(REAL(setresgid)(r, e, s));
}
