/* log.h -- diagnostics to stderr, safe in signal handlers (no stdio, no
 * allocation).  shx_debug prints only when $SHMEMX_DEBUG is set. */
#ifndef SHX_LOG_H
#define SHX_LOG_H

extern int shx_log_debug_on;

void shx_log_init(const char *who);
void shx_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define shx_debug(...) do { if (shx_log_debug_on) shx_log(__VA_ARGS__); } while (0)

#endif
