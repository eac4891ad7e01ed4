#!/bin/bash
# tests/e2e/paging.sh -- paging under a RAM budget of 16 MiB, with the
# manager's swap files in the sandbox.
#
# The model-checked data test (4 processes, random read/write/mapped
# calls on 64 MiB of objects, every byte against a model, SEEK_DATA and
# SEEK_HOLE against the kernel's), once with short-lived mappings and once
# with every object mapped all along; writes and stores through a mapping
# racing with page-out; a client killed with faults pending; the
# budget kept; programs reading swapped files (cmp, cp, cat, sha256sum);
# st_blocks; truncate and unlink freeing swap; the swap limit; the
# directory's and files' modes; an object held by a process that is not
# preloaded stays in; System V segments paged out when detached, never
# when SHM_LOCKed; `shmemctl swap` changing the budget live.  The Python
# test (3x the budget between two processes) is python-paging.sh.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

MiB=$((1 << 20))
export SHMEMX_SWAP_BUDGET=16M
shx_sandbox
cd "$SHX_TMP" || exit 99
PG="$top_builddir/tests/e2e/shx-paging"
CTL=${SHMEMX_SHMEMCTL:?}
TAP_TIMEOUT=120

# pre CMD...: CMD under the preload and the time limit
pre() {
	t env LD_PRELOAD="${SHX_PRELOAD_FIRST:+$SHX_PRELOAD_FIRST:}$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" \
		"$@"
}
# swap_of FIELD: one figure of `shmemctl swap --json`
swap_of() {
	"$CTL" --json swap | tr ',{}' '\n\n\n' | sed -n "s/^\"$1\"://p"
}
# wait_for CMD...: up to 5 s for CMD to succeed
wait_for() {
	local _
	for _ in $(seq 1 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
swapped_over() { [ "$(swap_of swapped)" -gt "$1" ]; }
resident_under() { [ "$(swap_of resident)" -le "$1" ]; }
swap_used_is() { [ "$(swap_of swap_used)" -eq "$1" ]; }
# run_tap CMD...: CMD's own "ok - ..." and "not ok - ..." lines as points
run_tap() {
	local out rc line
	out=$(pre "$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) tap_pass "${line#ok - }" ;;
		"not ok - "*) tap_fail "${line#not ok - }" ;;
		"# "*) echo "$line" ;;
		*) [ -n "$line" ] && diag "$line" ;;
		esac
	done <<<"$out"
	[ $rc -eq 0 ] || tap_fail "$* exited with status $rc"
}

# --- the model-checked data test -------------------------------------------------
run_tap "$PG" model 8 8 4 12 "${SHX_SEED:-$$}"
po=$(swap_of pageouts)
pi=$(swap_of pageins)
[ "$po" -gt 8192 ] && [ "$pi" -gt 8192 ]
ok $? "the model test ran mostly out of swap: $po pages out, $pi pages in"
wait_for resident_under $((16 * MiB))
ok $? "the objects' resident memory comes back under the budget ($(swap_of resident) bytes)"
wait_for swap_used_is 0
ok $? "the model's objects unlinked, their swap is free ($(swap_of swap_used) bytes in use)"

# the same with every object mapped by every process all along: pages go
# out of mapped objects and come back through userfaultfd
po0=$(swap_of pageouts)
run_tap "$PG" model 8 8 4 12 "${SHX_SEED:-$$}" keep
po=$(($(swap_of pageouts) - po0))
[ "$po" -gt 8192 ]
ok $? "with the objects mapped the whole time, pages still went out ($po pages)"
wait_for swap_used_is 0
ok $? "and their swap is free at the end ($(swap_of swap_used) bytes in use)"

# --- writes racing with page-out ------------------------------------------------------
"$CTL" swap budget 2M
run_tap "$PG" race /dev/shm/race 8 5
run_tap "$PG" race-map /dev/shm/race 8 5
pre rm -f /dev/shm/race
"$CTL" swap budget 16M

# --- programs reading a file that is mostly in swap --------------------------------------
t "$PG" fill "$SHX_TMP/native" 48 7
pre "$PG" fill /dev/shm/big 48 7
wait_for swapped_over $((30 * MiB))
ok $? "a 48 MiB file under a 16 MiB budget is paged out ($(swap_of swapped) bytes swapped)"
blocks=$(pre stat -c %b /dev/shm/big)
[ "$blocks" = $((48 * MiB / 512)) ]
ok $? "st_blocks counts the swapped pages ($blocks blocks)"
check "cmp reads it back (read)" pre cmp /dev/shm/big "$SHX_TMP/native"
wait_for swapped_over $((30 * MiB))
check "cp copies it (copy_file_range or sendfile)" pre cp /dev/shm/big "$SHX_TMP/copy"
check "the copy is exact" cmp "$SHX_TMP/copy" "$SHX_TMP/native"
wait_for swapped_over $((30 * MiB))
want=$(sha256sum <"$SHX_TMP/native" | cut -d' ' -f1)
got=$(pre sha256sum /dev/shm/big | cut -d' ' -f1)
check_eq "sha256sum of the file under the preload" "$got" "$want"
wait_for swapped_over $((30 * MiB))
pre "$PG" check /dev/shm/big 48 7 >/dev/null
ok $? "pread sees every page as written"
mode=$(stat -c %a "$SHX_TMP/swap"; stat -c %a "$SHX_TMP"/swap/swap.* | sort -u)
check_eq "the swap directory is 0700 and its files 0600" "$(echo $mode)" "700 600"

# --- truncate and unlink free the swap ------------------------------------------------------
wait_for swapped_over $((30 * MiB))
pre truncate -s $((8 * MiB + 100)) /dev/shm/big
used=$(swap_of swap_used)
[ "$used" -le $((8 * MiB + 4096)) ]
ok $? "a truncate to 8 MiB frees the swap past it ($used bytes left in use)"
head -c $((8 * MiB + 100)) "$SHX_TMP/native" >"$SHX_TMP/native8"
check "what is left is the first 8 MiB" pre cmp /dev/shm/big "$SHX_TMP/native8"
pre truncate -s $((16 * MiB)) /dev/shm/big
zeros=$(pre tail -c +$((8 * MiB + 101)) /dev/shm/big | tr -d '\0' | wc -c)
check_eq "grown again, the tail reads as zeros (not the old swapped data)" "$zeros" 0
pre rm /dev/shm/big
wait_for swap_used_is 0
ok $? "an unlink frees the rest ($(swap_of swap_used) bytes in use)"

# --- the swap limit ---------------------------------------------------------------------------
"$CTL" swap limit 4M
pre "$PG" fill /dev/shm/lim 32 3
sleep 1
used=$(swap_of swap_used)
[ "$used" -le $((4 * MiB)) ] && [ "$used" -gt 0 ]
ok $? "with a 4 MiB swap limit, no more than 4 MiB go out ($used bytes)"
pre "$PG" check /dev/shm/lim 32 3 >/dev/null
ok $? "and the file is whole"
pre rm /dev/shm/lim
"$CTL" swap limit 1G

# --- an fd held by a program that is not preloaded ------------------------------------------------
pre "$PG" fill /dev/shm/held 32 5
wait_for swapped_over $((14 * MiB))
ok $? "an object nobody holds is paged out"
# shmemctl ls shows it per object: resident and swapped add up to its pages
row=$("$CTL" ls /dev/shm/held | awk '$NF == "/dev/shm/held" { print $6, $7 }')
case $row in
0\ * | *\ 0 | "") false ;;
*) true ;;
esac
ok $? "shmemctl ls: the object's resident and swapped columns ($row)"
pre "$PG" check /dev/shm/held 32 5 >/dev/null
ok $? "read back whole"
# the shell holds it, and a sleep that is not preloaded inherits the fd;
# then a client reads it all back in (the pager may have paged some of it
# out before the sleep came), and over the next pager rounds, with memory
# over the budget, none of it may go out again
pre bash -c 'exec 3</dev/shm/held; LD_PRELOAD= exec sleep 4' &
holder=$!
sleep 0.5
pre "$PG" check /dev/shm/held 32 5 >/dev/null
sleep 1.5
swapped=$(swap_of swapped)
[ "$swapped" -eq 0 ]
ok $? "while a program that is not preloaded holds it, none of it is paged out ($swapped bytes)"
wait "$holder"
wait_for swapped_over $((14 * MiB))
ok $? "once it is gone, it is paged out again"
pre rm /dev/shm/held

# --- a client killed while its faults wait ------------------------------------------------------
pre "$PG" fill /dev/shm/victim 32 9
wait_for swapped_over $((14 * MiB))
# (not through pre: $! must be the toucher itself, not a timeout around it)
LD_PRELOAD="${SHX_PRELOAD_FIRST:+$SHX_PRELOAD_FIRST:}$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" \
	"$PG" touch /dev/shm/victim 32 >"$SHX_TMP/touch.out" &
toucher=$!
wait_for grep -q mapped "$SHX_TMP/touch.out"
sleep 0.5
kill -9 $toucher
wait $toucher 2>/dev/null
kill -0 "$SHX_MANAGER_PID"
ok $? "a client killed in the middle of its page faults leaves the manager running"
pre "$PG" check /dev/shm/victim 32 9 >/dev/null
ok $? "and the object it was reading is whole"
pre rm /dev/shm/victim

# --- System V segments ----------------------------------------------------------------------------
key=$((0x5a00 + $$ % 256))
pre "$PG" sysv-fill $key 32 11
wait_for swapped_over $((14 * MiB))
ok $? "a detached System V segment is paged out ($(swap_of swapped) bytes)"
run_tap "$PG" sysv-check $key 32 11
wait_for swap_used_is 0
ok $? "IPC_RMID frees its swap"
pre "$PG" sysv-fill $((key + 1)) 32 12 lock
sleep 1
swapped=$(swap_of swapped)
[ "$swapped" -eq 0 ]
ok $? "an SHM_LOCKed segment is never paged out ($swapped bytes)"
run_tap "$PG" sysv-check $((key + 1)) 32 12

# --- shmemctl swap ---------------------------------------------------------------------------------
out=$("$CTL" swap budget 25%)
ok $? "shmemctl swap budget 25% is taken"
check_match "shmemctl swap shows it" "$("$CTL" swap | head -1)" "^budget: +[0-9.]+[KMG]? \(25% of available memory\)$"
"$CTL" swap budget 16M
check_match "and a size" "$("$CTL" swap | head -1)" "^budget: +16M$"
check_fails "a bad budget is refused" "$CTL" swap budget 0
check_fails "an unknown setting is refused" "$CTL" swap colour blue
check_fails "a relative swap directory is refused" "$CTL" swap dir relative
tap_done
