#!/bin/bash
# tests/e2e/exports.sh -- what libshmemx.so shows the programs it is
# preloaded into, as TAP for automake's tap-driver.
#
# A preloaded library shares the global symbol namespace with every
# program: it must export exactly the functions it interposes (the list in
# preload/wrappers.def), no helper of its own and nothing of libc, depend
# on nothing but libc, and leave alone a program that happens to define a
# function with the name of one of its internal helpers.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.  The interposition check compiles a small program with
# $CC (default cc) and is skipped when there is no compiler.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}"
evil="$top_builddir/tests/e2e/shx-evil"
def="$top_srcdir/preload/wrappers.def"
lib=$SHMEMX_LIB
for tool in nm readelf; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP no $tool"
		exit 0
	fi
done
if [ ! -f "$lib" ] || [ ! -f "$def" ]; then
	echo "Bail out! $lib or $def is missing"
	exit 99
fi

. "$top_srcdir/tests/e2e/tap.sh"

# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
export TMPDIR="$SHX_TMP"

# --- the dynamic symbol table ---------------------------------------------------------
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
glibc=no
echo "$needed" | grep -qx 'libc\.so\.6' && glibc=yes

# wrappers.def: WRAP(type, name, (params)); WRAP_GLIBC only when built on glibc
if [ $glibc = yes ]; then
	pattern='s/^WRAP\(_GLIBC\)\{0,1\}([^,]*, *\([A-Za-z0-9_]*\),.*/\2/p'
else
	pattern='s/^WRAP([^,]*, *\([A-Za-z0-9_]*\),.*/\1/p'
fi
sed -n "$pattern" "$def" | sort -u >"$SHX_TMP/expected"
nm -D --defined-only "$lib" >"$SHX_TMP/nm.defined"
awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' "$SHX_TMP/nm.defined" | sort -u >"$SHX_TMP/exported"

[ -s "$SHX_TMP/expected" ]
ok $? "wrappers.def lists $(grep -c . "$SHX_TMP/expected") functions"

missing=$(comm -23 "$SHX_TMP/expected" "$SHX_TMP/exported")
extra=$(comm -13 "$SHX_TMP/expected" "$SHX_TMP/exported")
[ -z "$missing" ] && [ -z "$extra" ]
ok $? "nm -D --defined-only lists exactly the names in wrappers.def ($(grep -c . "$SHX_TMP/exported") exported)"
[ -z "$missing" ] || echo "$missing" | sed 's/^/missing: /' | diag
[ -z "$extra" ] || echo "$extra" | sed 's/^/not in wrappers.def: /' | diag

helpers=$(grep -E '^(shx_|ns_|server_|loop_|cur_|proto_)' "$SHX_TMP/exported")
[ -z "$helpers" ]
ok $? "no helper of core/ or preload/ is exported (shx_*, ns_*...)"
[ -z "$helpers" ] || echo "$helpers" | diag

# Only functions: a data symbol (the table of real functions, a flag) would
# be shared with -- and could be taken over by -- the program.
data=$(awk 'NF >= 3 && $2 !~ /^[TtWi]$/' "$SHX_TMP/nm.defined")
[ -z "$data" ]
ok $? "every exported symbol is a function"
[ -z "$data" ] || echo "$data" | diag

# Every symbol it takes from outside is libc's (versioned), or one of the
# toolchain's weak hooks; an unversioned helper name would be bound to
# whatever the program defines under that name.
nm -D --undefined-only "$lib" | awk '{ print $NF }' >"$SHX_TMP/nm.undefined"
# A sanitizer build (make check-asan) links its runtimes and takes their
# symbols: these two checks are about the library as shipped.
if [ -n "${SHX_PRELOAD_FIRST:-}" ]; then
	skip "every symbol it uses comes from libc" "a sanitizer build links the ASan and UBSan runtimes"
	skip "readelf -d: NEEDED is libc alone" "a sanitizer build links the ASan and UBSan runtimes"
elif [ $glibc = yes ]; then
	foreign=$(grep -v -E '@GLIBC_|^(_ITM_deregisterTMCloneTable|_ITM_registerTMCloneTable|__gmon_start__|__cxa_finalize)$' \
		"$SHX_TMP/nm.undefined")
	[ -z "$foreign" ]
	ok $? "every symbol it uses comes from glibc ($(grep -c . "$SHX_TMP/nm.undefined") symbols)"
	[ -z "$foreign" ] || echo "$foreign" | diag
else
	skip "every symbol it uses comes from libc" "not a glibc build"
fi

if [ -z "${SHX_PRELOAD_FIRST:-}" ]; then
	others=$(echo "$needed" | grep -v -x -E 'libc\.so\.6|ld-linux[-a-z0-9_.]*\.so\.[0-9]+|libc\.musl-[a-z0-9_]+\.so\.1')
	[ -n "$needed" ] && [ -z "$others" ]
	ok $? "readelf -d: NEEDED is libc alone ($(echo "$needed" | tr '\n' ' '))"
fi

# --- a program with functions named like the library's helpers ---------------------------
cc=${CC:-cc}
if command -v "$cc" >/dev/null; then
	cat >"$SHX_TMP/interpose.c" <<'EOF'
/* Defines, and exports (-rdynamic), functions and variables named like
 * libshmemx's internals.  Were the library to bind to any of them, the
 * program would abort with "taken: NAME". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int own; /* set while main calls them itself */

static long taken(const char *name)
{
	if (!own) {
		fprintf(stderr, "taken: %s\n", name);
		abort();
	}
	return 4242;
}

#define HELPER(name) long name(long a, long b, long c, long d) { return taken(#name); }
HELPER(shx_call)
HELPER(shx_call_on)
HELPER(shx_connect)
HELPER(shx_notify)
HELPER(shx_request)
HELPER(shx_classify)
HELPER(shx_open)
HELPER(shx_open_managed)
HELPER(shx_init)
HELPER(shx_log)
HELPER(shx_log_init)
HELPER(shx_req_init)
HELPER(shx_req_encode)
HELPER(shx_req_set_path)
HELPER(shx_rep_decode_head)
HELPER(shx_path_classify)
HELPER(shx_mounts)
HELPER(shx_mounts_init)
HELPER(shx_socket_path)
HELPER(shx_conn_init)
HELPER(shx_conn_owns)
HELPER(shx_fdtab_get)
HELPER(shx_fdtab_set)
HELPER(shx_fdtab_clear)
HELPER(shx_fd_forget)
HELPER(shx_fd_recognise)
HELPER(shx_getattr)
HELPER(shx_attr_to_stat)
HELPER(shx_umask)
HELPER(shx_config_load)
HELPER(ns_open)
HELPER(ns_lookup)
HELPER(ns_reserve)
HELPER(roundtrip)
HELPER(hello)
HELPER(start_manager)
HELPER(room_for)
HELPER(reserve_to)
/* data: a copy relocation would put the library's table in the program */
int shx_ready = 0;
char shx_real[8192];
int shx_log_debug_on = 1;

static void fail(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(void)
{
	const char *path = "/dev/shm/interpose-keep";
	char buf[16] = "";
	struct stat st;
	int fd;

	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0)
		fail("open");
	if (write(fd, "hello", 5) != 5 || ftruncate(fd, 5) < 0 || fstat(fd, &st) < 0 || st.st_size != 5)
		fail("write/ftruncate/fstat");
	close(fd);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 5 || memcmp(buf, "hello", 5))
		fail("read back");
	close(fd);
	fd = shm_open("/interpose-shm", O_CREAT | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		fail("shm_open");
	close(fd);
	if (shm_unlink("/interpose-shm") < 0 || stat(path, &st) < 0)
		fail("shm_unlink/stat");
	own = 1;
	if (shx_call(0, 0, 0, 0) != 4242 || ns_open(0, 0, 0, 0) != 4242)
		fail("own functions");
	printf("ok\n");
	return 0;
}
EOF
	if "$cc" -O1 -rdynamic -o "$SHX_TMP/interpose" "$SHX_TMP/interpose.c" -lrt \
		>"$SHX_TMP/cc.out" 2>&1; then
		out=$(timeout 30 env LD_PRELOAD="$lib" "$SHX_TMP/interpose" 2>&1)
		st=$?
		echo "$out" | diag
		[ $st -eq 0 ] && [ "$out" = ok ]
		ok $? "a program defining shx_call, ns_open, shx_real... runs under the preload (status $st)"
		timeout 10 "$evil" obj "$SHMEMX_SOCKET" /dev/shm/interpose-keep >/dev/null 2>&1
		ok $? "and its /dev/shm file went to the manager"
	else
		diag <"$SHX_TMP/cc.out"
		for t in "a program defining the helpers' names runs" "its file went to the manager"; do
			skip "$t" "$cc cannot build the test program"
		done
	fi
else
	for t in "a program defining the helpers' names runs" "its file went to the manager"; do
		skip "$t" "no C compiler ($cc)"
	done
fi

tap_done
