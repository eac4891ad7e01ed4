#!/bin/bash
# tests/e2e/mounts.sh -- which prefixes are managed, as TAP for automake's
# tap-driver: /dev/shm and /tmp by default; $SHMEMX_MOUNTS, else the
# config file's "mounts =", chooses the list; a manager started with
# another list mounts what a client announces in its HELLO, so that no
# client's files fall between the two; a list the manager cannot take is
# refused loudly; a program started in a real directory under a mount
# prefix keeps its relative paths real.
#
# Mounts other than /dev/shm and /tmp are directories of the sandbox
# (real on disk, managed under the preload).  The one file made under the
# real /tmp has this run's pid in its name and is removed at exit.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

unset SHMEMX_MOUNTS
shx_sandbox
cd "$SHX_TMP" || exit 99
name=shx-mounts-$$
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local st=$?
	rm -f "/tmp/$name"
	[ -z "${other_pid:-}" ] || kill "$other_pid" 2>/dev/null
	(exit "$st")
	shx_cleanup
}
trap cleanup EXIT

# --- the default list: /dev/shm and /tmp ----------------------------------------------
check "echo > /tmp/NAME under the preload" shx_run t bash -c "echo managed > /tmp/$name"
check_eq "cat /tmp/NAME under the preload" "$(shx_run t cat "/tmp/$name" 2>&1)" managed
check_fails "the kernel's /tmp has no such file" test -e "/tmp/$name"
check_eq "df /tmp shows the manager's size limit" \
	"$(shx_run df -B1 --output=size /tmp | tail -n 1 | tr -d ' ')" \
	"$("$SHMEMX_SHMEMCTL" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["size_limit"])')"
check_eq "/dev/shm and /tmp are two file systems (st_dev differ)" \
	"$(shx_run stat -c %d /dev/shm /tmp | sort -u | wc -l)" 2
check_eq "rename from /tmp to /dev/shm: EXDEV (mv copies)" \
	"$(shx_run t python3 -c "
import os
try:
    os.rename('/tmp/$name', '/dev/shm/$name')
except OSError as e:
    print(e.strerror)")" "Invalid cross-device link"
shx_run rm -f "/tmp/$name"

# --- SHMEMX_MOUNTS chooses ------------------------------------------------------------------
mkdir -p "$SHX_TMP/scratch" "$SHX_TMP/real"
echo real >"$SHX_TMP/scratch/f"
check_eq "SHMEMX_MOUNTS=/dev/shm: /tmp is the kernel's" \
	"$(SHMEMX_MOUNTS=/dev/shm shx_run t bash -c "echo native > /tmp/$name; cat /tmp/$name"; cat "/tmp/$name")" \
	$'native\nnative'
rm -f "/tmp/$name"
check_eq "SHMEMX_MOUNTS adds a prefix: the real file under it is hidden" \
	"$(SHMEMX_MOUNTS=/dev/shm:/tmp:$SHX_TMP/scratch shx_run t cat "$SHX_TMP/scratch/f" 2>&1)" \
	"cat: $SHX_TMP/scratch/f: No such file or directory"
check "and a file made there lives in the manager" \
	env SHMEMX_MOUNTS="/dev/shm:/tmp:$SHX_TMP/scratch" LD_PRELOAD="$SHMEMX_LIB" \
	bash -c "echo managed > $SHX_TMP/scratch/f && [ \"\$(cat $SHX_TMP/scratch/f)\" = managed ]"
check_eq "while the real one is unchanged" "$(cat "$SHX_TMP/scratch/f")" real
check_eq "shmemctl stats counts the manager's three roots and the file" \
	"$(SHMEMX_MOUNTS=/dev/shm "$SHMEMX_SHMEMCTL" --json stats |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["inodes_used"])')" 4

# --- the config file's "mounts =" ------------------------------------------------------------
printf 'size = 64M\nmounts = /dev/shm:%s/scratch\n' "$SHX_TMP" >"$SHX_TMP/shmemx.conf"
check_eq "mounts = in the config file: the prefix is managed, /tmp is not" \
	"$(SHMEMX_CONFIG=$SHX_TMP/shmemx.conf shx_run t bash -c \
		"cat $SHX_TMP/scratch/f; echo native > /tmp/$name"; cat "/tmp/$name")" \
	$'managed\nnative'
rm -f "/tmp/$name"
check_eq "SHMEMX_MOUNTS wins over the config file" \
	"$(SHMEMX_CONFIG=$SHX_TMP/shmemx.conf SHMEMX_MOUNTS=/dev/shm shx_run t cat "$SHX_TMP/scratch/f")" \
	real

# --- a manager started with another list mounts what its clients announce --------------------
osock=$SHX_TMP/other/sock
mkdir -p "$SHX_TMP/other"
SHMEMX_MOUNTS=/dev/shm shx_manager "$osock" "$SHX_TMP/other.log"
other_pid=$SHX_PID
stats_other() {
	SHMEMX_SOCKET=$osock "$SHMEMX_SHMEMCTL" --json stats |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["inodes_used"])'
}
check_eq "a manager started with SHMEMX_MOUNTS=/dev/shm has one root" "$(stats_other)" 1
check_eq "a client with the default list still gets a managed /tmp from it" \
	"$(SHMEMX_SOCKET=$osock shx_run t bash -c "echo kept > /tmp/$name; cat /tmp/$name"; cat "/tmp/$name" 2>&1)" \
	$'kept\ncat: /tmp/'"$name"$': No such file or directory'
check_eq "and the manager now has a /tmp root and the file" "$(stats_other)" 3
check_eq "a second client finds the file there" \
	"$(SHMEMX_SOCKET=$osock shx_run t cat "/tmp/$name")" kept
SHMEMX_SOCKET=$osock shx_run rm -f "/tmp/$name"
out=$(SHMEMX_SOCKET=$osock SHMEMX_MOUNTS=/dev/shm:/tmp/sub shx_run t bash -c \
	"echo x > /dev/shm/y" 2>&1)
check_match "a client whose mount lies inside the manager's /tmp is refused, and says so" \
	"$out" "cannot manage /dev/shm:/tmp/sub: Device or resource busy"
check_match "the manager says why too" "$(cat "$SHX_TMP/other.log")" \
	"cannot mount /tmp/sub: Device or resource busy"

# --- a program started in a real directory under a mount prefix --------------------------------
echo "real file" >"$SHX_TMP/real/rel"
cd "$SHX_TMP/real" || exit 99
check_eq "started in a real directory under a mount: relative paths are the real ones" \
	"$(SHMEMX_MOUNTS=/dev/shm:$SHX_TMP/real shx_run t cat rel 2>&1)" "real file"
check_eq "absolute paths under the mount are the manager's" \
	"$(SHMEMX_MOUNTS=/dev/shm:$SHX_TMP/real shx_run t cat "$SHX_TMP/real/rel" 2>&1)" \
	"cat: $SHX_TMP/real/rel: No such file or directory"
cd "$SHX_TMP" || exit 99

tap_done
