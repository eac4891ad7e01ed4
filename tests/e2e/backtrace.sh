#!/bin/bash
# tests/e2e/backtrace.sh -- creation backtraces (SHMEMX_BACKTRACE=1), as TAP.
#
# A C++ program (tests/e2e/shx-throw.cc, built here with g++) throws and
# catches exceptions through frames that create objects, with backtraces
# on: the library loads libunwind for them, and the program's exceptions
# must still work (libunwind's unwinder must not take the place of the
# compiler's, none of its symbols may enter the program's scope).  Then
# `shmemctl ls --backtrace` must name the function that made the object
# the program left behind.  And the library itself exports no libunwind
# symbol and needs none.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}" "${SHMEMX_SHMEMCTL:?}"
. "$top_srcdir/tests/e2e/tap.sh"
if ! command -v g++ >/dev/null; then
	echo "1..0 # SKIP no g++ (./bootstrap installs it)"
	exit 0
fi
unset SHMEMX_APP
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
ctl() { timeout 20 "$SHMEMX_SHMEMCTL" "$@"; }

g++ -O2 -g -o "$SHX_TMP/shx-throw" "$top_srcdir/tests/e2e/shx-throw.cc" 2>"$SHX_TMP/cc.err"
ok $? "the C++ test program builds" || diag_file "$SHX_TMP/cc.err"

out=$(SHMEMX_BACKTRACE=1 shx_run timeout 60 "$SHX_TMP/shx-throw" 2>&1)
check_eq "with backtraces on, its 52 exceptions are thrown and caught right" "$out" "ok 52"
out=$(ctl ls --backtrace)
check_match "ls --backtrace: the object, then the stack that made it" "$out" \
	$'/dev/shm/shx-throw-leak\n +\\(anonymous namespace\\)::make_leaked_segment\\(char const\\*\\)[^\n]*\\+0x[0-9a-f]+ \\('"$SHX_TMP"$'/shx-throw\\)\n +main'
check_match "down to the program's start" "$out" $'\n +_start\\+0x[0-9a-f]+ '
json=$(ctl --json ls)
out=$("${PYTHON3:-python3}" -c '
import json, sys
o = [x for x in json.loads(sys.argv[1]) if x["path"] == "/dev/shm/shx-throw-leak"][0]
print(len(o["backtrace"]) >= 3, "make_leaked_segment" in o["backtrace"][0])' "$json")
check_eq "ls --json: the frames as a list" "$out" "True True"
out=$(ctl ls)
check_match "without --backtrace, ls shows no frames" "$out" $'/dev/shm/shx-throw-leak$'
shx_run rm /dev/shm/shx-throw-leak

out=$(shx_run timeout 60 "$SHX_TMP/shx-throw" 2>&1)
check_eq "and with backtraces off" "$out" "ok 52"
check_eq "objects made then have none" "$(ctl --json ls | "${PYTHON3:-python3}" -c 'import json, sys; print([o["backtrace"] for o in json.load(sys.stdin)])')" \
	"[None]"
shx_run rm /dev/shm/shx-throw-leak

out=$(nm -D --defined-only "$SHMEMX_LIB" | grep -ci -e unw -e _Unwind)
check_eq "the library exports no libunwind symbol" "$out" 0
# (but for the sanitizers' runtimes in make check-asan)
out=$(readelf -d "$SHMEMX_LIB" | grep NEEDED | grep -v -e 'libc\.so' -e 'lib[a-z]*san' | wc -l)
check_eq "and links nothing but libc" "$out" 0
tap_done
