#!/bin/bash
# tests/e2e/system.sh -- `shmemd --system`: one manager for every user, as TAP.
#
# A system manager (run here by root on a socket of the sandbox) accepts
# clients of any user, charges each user's objects to that user's group,
# enforces a user's limit with EDQUOT, and lets a user set the limits of
# their own apps but not their own or anyone else's.  A per-user manager
# still refuses other users.  Needs root and setpriv (util-linux).
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}" "${SHMEMX_SHMEMCTL:?}"
. "$top_srcdir/tests/e2e/tap.sh"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "1..0 # SKIP needs root and setpriv"
	exit 0
fi
unset SHMEMX_APP
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
# the other user must reach the system manager's socket, the library and
# the tools in the build tree
chmod 0755 "$SHX_TMP"
for d in "$SHMEMX_LIB" "$SHMEMX_SHMEMCTL"; do
	while d=$(dirname "$d") && [ "$d" != / ]; do
		[ -x "$d" ] && [ "$(stat -c %A "$d" | cut -c10)" = x ] || {
			echo "1..0 # SKIP $d is closed to other users"
			exit 0
		}
	done
done

sys="$SHX_TMP/system/sock"
shx_manager "$sys" "$SHX_TMP/system.log" --system --socket "$sys"
system=$SHX_PID
trap 'st=$?; kill $system 2>/dev/null; wait $system 2>/dev/null; (exit $st); shx_cleanup' EXIT
nobody=65534
# as USER: a command as user nobody, under the library, on the system manager
as_nobody() {
	timeout 20 setpriv --reuid=$nobody --regid=$nobody --clear-groups \
		env SHMEMX_SOCKET="$sys" LD_PRELOAD="$SHMEMX_LIB" "$@"
}
ctl() { timeout 20 env SHMEMX_SOCKET="$sys" "$SHMEMX_SHMEMCTL" "$@"; }

check_eq "the socket is open to every user" "$(stat -c %a "$sys")" 666
as_nobody sh -c 'printf 12345 > /dev/shm/of-nobody'
ok $? "another user creates an object"
check_match "it is theirs" "$(ctl ls /dev/shm/of-nobody)" $'\n +5 +4K +-rw-r--r-- +(nobody|65534) '
shx_run env SHMEMX_SOCKET="$sys" sh -c 'printf 1 > /dev/shm/of-root'
out=$(ctl --json quota | "${PYTHON3:-python3}" -c '
import json, sys
print(*sorted("%d:%d/%d" % (g["uid"], g["size_used"], g["objects"])
              for g in json.load(sys.stdin) if g["kind"] == "user"))')
check_eq "each user is a group of its own" "$out" "0:4096/1 $nobody:4096/1"
out=$(as_nobody sh -c 'cat /dev/shm/of-root; echo x >> /dev/shm/of-root' 2>&1)
check_match "tmpfs's permissions between them" "$out" '^1.*Permission denied'

ctl quota set --user $nobody 64K
ok $? "root sets the other user's limit"
out=$(as_nobody sh -c 'truncate -s 1M /dev/shm/big' 2>&1)
check_match "over it, the user gets EDQUOT" "$out" 'Disk quota exceeded'
out=$(as_nobody df -B1 --output=size /dev/shm | tail -n 1 | tr -d ' ')
check_eq "and df shows the user their limit" "$out" 65536
as_nobody "$SHMEMX_SHMEMCTL" quota set --user $nobody 1G 2>"$SHX_TMP/err"
check_eq "a user may not raise their own limit" "$?" 1
check_match "the manager says so" "$(cat "$SHX_TMP/err")" 'Operation not permitted'
as_nobody "$SHMEMX_SHMEMCTL" quota set --manager 1G 2>/dev/null
check_eq "nor the manager's" "$?" 1
as_nobody "$SHMEMX_SHMEMCTL" quota set --app mine 32K
ok $? "but sets the limits of an app of their own"
out=$(ctl --json quota | "${PYTHON3:-python3}" -c '
import json, sys
print(*["%d:%s:%d" % (g["uid"], g["app"], g["size_limit"]) for g in json.load(sys.stdin) if g["kind"] == "app"])')
check_eq "an app of that user" "$out" "$nobody:mine:32768"
out=$(as_nobody env SHMEMX_APP=mine dd if=/dev/zero of=/dev/shm/app-file bs=4096 count=10 2>&1)
check_match "whose limit holds (ENOSPC)" "$out" 'No space left on device'
as_nobody rm -f /dev/shm/of-nobody /dev/shm/app-file /dev/shm/big
shx_run env SHMEMX_SOCKET="$sys" rm /dev/shm/of-root

# the per-user manager of this script refuses the other user
out=$(as_nobody env SHMEMX_SOCKET="$SHMEMX_SOCKET" SHMEMX_SHMEMD=/nonexistent sh -c 'echo x > /dev/shm/refused' 2>&1)
check_match "a per-user manager still refuses other users" "$out" '.'
check_eq "and nothing was made there" "$(timeout 20 "$SHMEMX_SHMEMCTL" ls /dev/shm/refused | wc -l)" 1
tap_done
