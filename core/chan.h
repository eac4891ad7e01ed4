/* chan.h -- a connection's request channel in shared memory.
 *
 * A round trip over the socket costs some 5 us on the machines we run on
 * even when both sides are polling: two system calls that allocate,
 * queue and free a socket buffer, and a reply that must be found by a
 * third.  Most requests need none of that, only the bytes.  So each of a
 * client's pooled connections also has a channel: a sealed memfd that the
 * client maps and hands the manager (SHX_OP_CHAN), holding one message at
 * a time.  The client writes a request into it and flips `state` to REQ;
 * the manager, which polls its channels while it is busy, copies the
 * request out, answers in place and flips `state` to REP.  The socket
 * still carries what only a socket can: the fds that replies hand over
 * (sent just before the REP flip, so they are there when the client
 * looks), and a one-byte wake-up when the manager sleeps.
 *
 * The states and who may change them:
 *
 *	IDLE --client--> REQ --manager--> REP --client--> IDLE
 *	                 REQ --manager--> IDLE	(a request with no reply)
 *
 * Sleeping on either side uses the same two-flag handshake: the sleeper
 * sets its flag (`waiting` for the client, `asleep` for the manager),
 * then looks at `state` once more before it sleeps; the other side
 * changes `state`, then looks at the flag.  Both in sequentially
 * consistent order, so one of the two always sees the other.  The client
 * sleeps in FUTEX_WAIT on `state`; the manager in epoll on the socket.
 *
 * The manager trusts nothing here: the request is copied out before it is
 * decoded, lengths are bounded, and a client can only confuse itself.  The
 * memfd must be sealed against shrinking, so that no client can make the
 * manager's accesses fault.
 */
#ifndef SHX_CHAN_H
#define SHX_CHAN_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

enum { SHX_CHAN_IDLE, SHX_CHAN_REQ, SHX_CHAN_REP };

/* (linux/futex.h's values; musl's headers do not carry it) */
#define SHX_FUTEX_WAIT 0
#define SHX_FUTEX_WAKE 1

struct shx_chan {
	_Atomic uint32_t state;	  /* SHX_CHAN_*: the futex word */
	_Atomic uint32_t waiting; /* the client sleeps (or is about to) on state */
	_Atomic uint32_t asleep;  /* the manager sleeps: wake it through the socket */
	_Atomic uint32_t len;	  /* bytes of the message in buf */
	uint8_t buf[];
};

#define SHX_CHAN_BUF                                                                    \
	(SHX_REQ_PACKET_MAX > SHX_REP_MAX ? SHX_REQ_PACKET_MAX : SHX_REP_MAX)
/* The memfd's size: the header and buf, in whole pages. */
#define SHX_CHAN_SIZE (((sizeof(struct shx_chan) + SHX_CHAN_BUF) + 4095) & ~(size_t)4095)

static inline void shx_chan_wake(struct shx_chan *ch)
{
	syscall(SYS_futex, &ch->state, SHX_FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Sleeps while ch->state is `was`, at most ms milliseconds. */
static inline void shx_chan_sleep(struct shx_chan *ch, uint32_t was, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	syscall(SYS_futex, &ch->state, SHX_FUTEX_WAIT, was, &ts, NULL, 0);
}

/* Makes mh carry fd (SCM_RIGHTS) in cbuf, CMSG_SPACE(sizeof(int)) bytes. */
static inline void shx_msg_put_fd(struct msghdr *mh, void *cbuf, int fd)
{
	struct cmsghdr *cm;

	memset(cbuf, 0, CMSG_SPACE(sizeof(int)));
	mh->msg_control = cbuf;
	mh->msg_controllen = CMSG_SPACE(sizeof(int));
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}

static inline void shx_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif
