#!/bin/bash
# tests/e2e/private-tmp.sh -- `shmemctl run --private-tmp`, as TAP.
#
# Two apps run at the same time, each with a /tmp of its own: each sees
# its own files and not the other's, a process outside both sees neither,
# /dev/shm stays shared, and when an app's last process ends -- a
# background one included -- its /tmp is gone with what was in it, unless
# --keep-tmp kept it for the app's next run.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}" "${SHMEMX_SHMEMCTL:?}"
if ! py=$("${PYTHON3:-python3}" -c 'import sys; print(sys.executable)' 2>/dev/null); then
	echo "1..0 # SKIP no python3"
	exit 0
fi
. "$top_srcdir/tests/e2e/tap.sh"
unset SHMEMX_APP SHMEMX_MOUNTS
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
export SHX_TMP

ctl() { timeout 20 "$SHMEMX_SHMEMCTL" "$@"; }
# wait_for FILE: up to 10 s
wait_for() {
	local _
	for _ in $(seq 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

shx_run sh -c 'echo shared > /tmp/outside'
# Each app writes its secret, says so, waits for the other's, then looks.
app() {
	local me=$1 other=$2
	timeout 60 "$SHMEMX_SHMEMCTL" run --app "$me" --private-tmp -- bash -c '
		me=$1 other=$2
		echo "$me" > /tmp/secret-$me && mkdir /tmp/dir-$me && echo x > /tmp/dir-$me/f
		echo "$me" > /dev/shm/from-$me
		touch "$SHX_TMP/ready-$me"
		for _ in $(seq 200); do [ -e "$SHX_TMP/ready-$other" ] && break; sleep 0.05; done
		ls -A /tmp | tr "\n" " "; echo
		cat /tmp/secret-$other 2>&1 | sed "s/.*: //"
		cat /dev/shm/from-$other
		touch "$SHX_TMP/looked-$me"
		for _ in $(seq 200); do [ -e "$SHX_TMP/looked-$other" ] && break; sleep 0.05; done
	' app "$me" "$other" >"$SHX_TMP/out-$me" 2>&1
}
app one two &
one=$!
app two one &
two=$!
wait_for "$SHX_TMP/ready-one" && wait_for "$SHX_TMP/ready-two"
ok $? "both apps are up"
out=$(shx_run sh -c 'ls -A /tmp | tr "\n" " "')
check_eq "outside them, /tmp has neither's files" "$out" "outside "
wait $one
st1=$?
wait $two
st2=$?
check_eq "both ran to the end" "$st1 $st2" "0 0"
check_eq "app one sees its own /tmp only; /dev/shm is shared" "$(cat "$SHX_TMP/out-one")" \
	$'dir-one secret-one \nNo such file or directory\ntwo'
check_eq "and app two its own" "$(cat "$SHX_TMP/out-two")" \
	$'dir-two secret-two \nNo such file or directory\none'
out=$(ctl --json ls | "$py" -c '
import json, sys
print(*sorted(str(o["path"]) for o in json.load(sys.stdin)))')
check_eq "when they end, their /tmp goes with what was in it" "$out" \
	"/dev/shm/from-one /dev/shm/from-two /tmp/outside"
out=$(ctl --json quota | "$py" -c '
import json, sys
print(*sorted("%s=%d/%d" % (g["app"], g["size_used"], g["inodes_used"])
              for g in json.load(sys.stdin) if g["kind"] == "app"))')
check_eq "nothing of it is charged any more (the /dev/shm files stay)" "$out" \
	"one=4096/1 two=4096/1"
shx_run rm /dev/shm/from-one /dev/shm/from-two

# --- the last process, not the first, ends it --------------------------------
timeout 60 "$SHMEMX_SHMEMCTL" run --app bg --private-tmp -- sh -c '
	echo early > /tmp/x
	(sleep 1; cat /tmp/x > "$SHX_TMP/late") &
	exit 3'
check_eq "run exits with the command's status" "$?" 3
check_eq "a background process of the app still had its /tmp" "$(cat "$SHX_TMP/late" 2>&1)" early
check_eq "and then it was gone" "$(ctl --json ls | "$py" -c 'import json, sys; print(len(json.load(sys.stdin)))')" 1

# --- --keep-tmp ---------------------------------------------------------------
timeout 60 "$SHMEMX_SHMEMCTL" run --app keeper --private-tmp --keep-tmp -- sh -c 'echo kept > /tmp/k'
out=$(timeout 60 "$SHMEMX_SHMEMCTL" run --app keeper --private-tmp -- cat /tmp/k 2>&1)
check_eq "--keep-tmp: the next run of the app finds its /tmp" "$out" kept
out=$(timeout 60 "$SHMEMX_SHMEMCTL" run --app keeper --private-tmp -- cat /tmp/k 2>&1)
check_match "a run without it lets it go at the end" "$out" "No such file"
out=$(timeout 60 "$SHMEMX_SHMEMCTL" run --app keeper -- cat /tmp/outside 2>&1)
check_eq "without --private-tmp an app sees the shared /tmp" "$out" shared
ctl run --keep-tmp -- true 2>/dev/null
check_eq "--keep-tmp alone is a usage error" "$?" 2
shx_run rm /tmp/outside
tap_done
