/* loop.h -- shmemd's event loop: a few calls over epoll, knowing nothing
 * of the requests it carries (after redis's ae). */
#ifndef SHX_LOOP_H
#define SHX_LOOP_H

struct loop;
typedef void (*loop_fn)(struct loop *l, int fd, void *arg, unsigned events);

struct loop *loop_new(void);
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, unsigned events, loop_fn fn, void *arg);
void loop_del(struct loop *l, int fd);
/* Waits up to timeout_ms for events and dispatches them; returns the
 * number handled, or -errno (-EINTR when a signal came). */
int loop_run_once(struct loop *l, int timeout_ms);

#endif
