/* log.c -- see log.h.  vsnprintf into a stack buffer and one write(2):
 * glibc's and musl's vsnprintf do not allocate for the formats we use. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

int shx_log_debug_on;
static char prefix[32] = "shmemx";

void shx_log_init(const char *who)
{
	const char *d = getenv("SHMEMX_DEBUG");

	shx_log_debug_on = d && *d && strcmp(d, "0");
	snprintf(prefix, sizeof(prefix), "%s", who);
}

void shx_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "%s[%d]: ", prefix, (int)getpid());

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* The raw system call: the preload library wraps write(). */
	syscall(SYS_write, 2, buf, n);
}
