/* shmemctl.h -- what shmemctl's subcommands share: the parsed command
 * line, the connection to the manager, and output helpers.
 *
 * A subcommand is a function in its own file (ctl_<name>.c) listed in the
 * table in shmemctl.c.  main has parsed every option by the time it runs;
 * it gets only its operands, and returns the exit status.
 */
#ifndef SHMEMCTL_H
#define SHMEMCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

/* Exit statuses: as most tools, 2 is reserved for a bad command line. */
#define CTL_OK 0
#define CTL_FAIL 1
#define CTL_USAGE 2

struct ctl {
	char sock[SHX_PATH_MAX]; /* the manager's socket, resolved */
	int json;		 /* --json */
	int prometheus;		 /* --prometheus (stats) */
	int backtrace;		 /* --backtrace (ls) */
};

typedef int ctl_fn(const struct ctl *ctl, int argc, char **argv);

ctl_fn ctl_stats;
ctl_fn ctl_ls;
/* These parse their own options too. */
ctl_fn ctl_run;
ctl_fn ctl_quota;
ctl_fn ctl_top;

/* "SIZE[,INODES]" with units, "none" for no limit (0): 0, or -1. */
int ctl_parse_quota(const char *arg, uint64_t *size, uint64_t *inodes, int *have_inodes);
/* The `max` objects with the largest charges, as ls prints them (or as
 * JSON); 0, or -1 after an error message. */
int ctl_ls_largest(const struct ctl *ctl, int sock, size_t max, int json);
ctl_fn ctl_swap;
/* These two parse their own options: argv[0] is the command's name. */
ctl_fn ctl_ipcs;
ctl_fn ctl_ipcrm;

/* Quotas and statistics (ctl_stats.c): the groups the manager has (the
 * manager first, then users, then apps) into a malloc'd array; 0, or -1
 * after an error message. */
int ctl_groups(const struct ctl *ctl, int sock, struct shx_group **out, size_t *n);
/* "manager", "user alice", "app build" (an app of another user:
 * "app build@bob"). */
char *ctl_group_name(const struct shx_group *g, char *buf, size_t cap);
char *ctl_user_name(uint32_t uid, char *buf, size_t cap);
/* "512M", or "-" for no limit (UINT64_MAX); counts likewise. */
char *ctl_limit(uint64_t n, char *buf, size_t cap);
char *ctl_count_limit(uint64_t n, char *buf, size_t cap);
char *ctl_percent(uint64_t used, uint64_t limit, char *buf, size_t cap);
/* The groups as a table, and as a JSON array; `self` is how many of the
 * connections counted are the caller's own (left out of the figures). */
void ctl_print_groups(const struct shx_group *g, size_t n, uint64_t self);
void ctl_json_groups(const struct shx_group *g, size_t n, uint64_t self);
/* s as a Prometheus label value, escaped, without its quotes. */
void ctl_prometheus_label(const char *s);

/* Prints the usage line of command `name`. */
void ctl_usage(const char *name);

/* A connection to the running manager (never starts one), or -1 after a
 * one-line error naming the socket. */
int ctl_connect(const struct ctl *ctl);
/* One round trip; 0, or -1 after an error message (the transport failed
 * or the manager refused the request). */
int ctl_call(const struct ctl *ctl, int sock, struct shx_req *req, struct shx_rep *rep);

/* Error messages, prefixed with "shmemctl: ". */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Nanoseconds since the epoch, the manager's clock for created_ns and
 * started_ns. */
int64_t ctl_now_ns(void);
/* Durations, for humans.  Coarse: "5s", "3m", "2h", "4d".  Fine: two
 * units, "3m12s", "2h05m". */
char *ctl_age(int64_t seconds, char *buf, size_t cap);
char *ctl_uptime(int64_t seconds, char *buf, size_t cap);

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0 if there is none. */
size_t ctl_utf8_len(const unsigned char *s, size_t n);
/* A byte string as a JSON string, quotes included. */
void ctl_json_string(FILE *f, const char *s, size_t n);

#endif
