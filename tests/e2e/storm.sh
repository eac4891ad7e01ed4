#!/bin/bash
# tests/e2e/storm.sh -- quotas stay exact under concurrency, as TAP.
#
# 8 processes of 4 threads each append to, write into, truncate and unlink
# a dozen shared files under an app limited to 3M (tests/e2e/shx-storm.c).
# While they run, what the files hold must never pass the limit (the storm
# watches st_blocks; this script samples the manager's figures too), the limit
# must be reached (or the test proves nothing), no call may fail but with
# ENOSPC, and when it is over what is charged -- to the manager, the user
# and the app -- must be exactly what the remaining files hold.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}" "${SHMEMX_SHMEMCTL:?}"
storm="$top_builddir/tests/e2e/shx-storm"
[ -x "$storm" ] || { echo "Bail out! $storm is not built"; exit 99; }
if ! py=$("${PYTHON3:-python3}" -c 'import sys; print(sys.executable)' 2>/dev/null); then
	echo "1..0 # SKIP no python3"
	exit 0
fi
. "$top_srcdir/tests/e2e/tap.sh"

export SHMEMX_SIZE=64M
unset SHMEMX_NR_INODES SHMEMX_APP SHMEMX_USER_SIZE SHMEMX_APP_SIZE
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox

limit=$((3 * 1048576))
ctl() { timeout 20 "$SHMEMX_SHMEMCTL" "$@"; }
# figures: "manager-used user-used app-used app-inodes" from quota --json
figures() {
	ctl --json quota | "$py" -c '
import json, sys
g = {(x["kind"], x["app"]): x for x in json.load(sys.stdin)}
app = g.get(("app", "storm"), {"size_used": 0, "inodes_used": 0})
print(g[("manager", None)]["size_used"], g[("user", None)]["size_used"], app["size_used"],
      app["inodes_used"])'
}

shx_run mkdir /tmp/storm
ctl quota set --app storm "$limit"
ok $? "the storm's app is limited to 3M"

# the manager's figures, watched from outside while the storm blows
: >"$SHX_TMP/watch"
(
	while [ ! -e "$SHX_TMP/calm" ]; do
		figures >>"$SHX_TMP/watch"
		sleep 0.05
	done
) &
watcher=$!
timeout 240 "$SHMEMX_SHMEMCTL" run --app storm -- "$storm" /tmp/storm 8 4 400 "$limit" \
	>"$SHX_TMP/storm.out" 2>"$SHX_TMP/storm.err"
st=$?
touch "$SHX_TMP/calm"
wait "$watcher"
out=$(cat "$SHX_TMP/storm.out")
check_eq "every call succeeded or failed with ENOSPC, no process died" "$st" 0
[ -s "$SHX_TMP/storm.err" ] && diag_file "$SHX_TMP/storm.err"
enospc=$(sed -n 's/.*enospc=\([0-9]*\).*/\1/p' <<<"$out")
[ "${enospc:-0}" -gt 0 ]
ok $? "the limit was reached: $enospc calls got ENOSPC"
check_eq "the files never held more than the limit (samples over it)" \
	"$(sed -n 's/.*over=\([0-9]*\).*/\1/p' <<<"$out")" 0
# The manager's charge, sampled from outside: a known gap (see Quotas in
# doc/architecture.md) is that under heavy load a recount now and then
# finds a few pages no grant covered and charges them past the limit,
# while the data stays within it (checked above); it is reported, not
# (yet) a failure.
over=$(awk -v l="$limit" '$3 > l' "$SHX_TMP/watch" | wc -l)
[ "$over" -eq 0 ] || diag "the app's charge passed its limit in $over of $(wc -l <"$SHX_TMP/watch") samples"

# at rest: every fd is closed, so the charges are what the files hold
held=$(shx_run "$py" -c '
import os
n = t = 0
for f in os.listdir("/tmp/storm"):
    st = os.stat("/tmp/storm/" + f)
    t += max((st.st_size + 4095) // 4096 * 4096, st.st_blocks * 512)
    n += 1
print(t, n)')
read -r bytes files <<<"$held"
for _ in $(seq 40); do
	read -r mgr user app inodes <<<"$(figures)"
	[ "$app" = "$bytes" ] && [ "$mgr" = "$bytes" ] && break
	sleep 0.05
done
check_eq "what is charged to the app is what its files hold" "$app" "$bytes"
check_eq "to the user too" "$user" "$bytes"
check_eq "and to the manager" "$mgr" "$bytes"
check_eq "the app's inodes are its files" "$inodes" "$files"
out=$(ctl --json ls /tmp/storm | "$py" -c '
import json, sys
print(sum(o["charged"] for o in json.load(sys.stdin)))')
check_eq "ls: the objects' charges add up to the same" "$out" "$bytes"
shx_run rm -rf /tmp/storm
for _ in $(seq 40); do
	read -r mgr user app inodes <<<"$(figures)"
	[ "$mgr" = 0 ] && break
	sleep 0.05
done
check_eq "all of it comes back when they are removed" "$mgr $user $app" "0 0 0"
tap_done
