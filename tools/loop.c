/* loop.c -- the epoll backend of loop.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

struct handler {
	loop_fn fn;
	void *arg;
};

struct loop {
	int ep;
	struct handler *h; /* by fd */
	int nh;
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	close(l->ep);
	free(l->h);
	free(l);
}

int loop_add(struct loop *l, int fd, unsigned events, loop_fn fn, void *arg)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (fd >= l->nh) {
		int n = fd * 2 + 16;
		struct handler *h = realloc(l->h, n * sizeof(*h));

		if (!h)
			return -ENOMEM;
		for (int i = l->nh; i < n; i++)
			h[i] = (struct handler){ 0 };
		l->h = h;
		l->nh = n;
	}
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->h[fd] = (struct handler){ fn, arg };
	return 0;
}

void loop_del(struct loop *l, int fd)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	if (fd < l->nh)
		l->h[fd] = (struct handler){ 0 };
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(l->ep, ev, 64, timeout_ms);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		/* an earlier handler in this batch may have removed it */
		if (fd < l->nh && l->h[fd].fn)
			l->h[fd].fn(l, fd, l->h[fd].arg, ev[i].events);
	}
	return n;
}
