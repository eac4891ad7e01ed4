#!/usr/bin/env bash
# sysv.sh -- System V shared memory end to end, as TAP: shmemctl ipcs next
# to util-linux's ipcs -m (the same segments made natively and under the
# preload must print the same, but for ids and pids), --json, shmemctl
# ipcrm's ways and messages, the limits (the size limit is ENOSPC at
# shmget, SHMEMX_SHMMNI, SHMEMX_SHMMAX), a killed attacher, that nothing
# goes to the kernel, and that segments keep the manager alive.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}"
tool="$top_builddir/tests/e2e/shx-sysv"
if [ ! -x "$tool" ]; then
	echo "Bail out! $tool is not built"
	exit 99
fi
if ! command -v ipcs >/dev/null; then
	echo "1..0 # SKIP no ipcs"
	exit 0
fi

. "$top_srcdir/tests/e2e/tap.sh"
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
export TMPDIR="$SHX_TMP"

ctl() { t "$SHMEMX_SHMEMCTL" "$@"; }
P() { t env LD_PRELOAD="$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" "$@"; }
py() { "${PYTHON3:-python3}" "$@"; }

# keys of this run only: the kernel's key space is everyone's
base=$(( (($$ * 2654435761) % 0x3fff0000 + 0x10000000) & ~0xff ))
K() { printf '0x%08x' $((base + $1)); }

holders=()
native=()
extra_pids=()
sysv_cleanup() {
	local st=$? p id
	for p in "${holders[@]}" "${extra_pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for id in "${native[@]}"; do
		"$tool" ctl "$id" IPC_RMID >/dev/null 2>&1
	done
	(exit $st)
	shx_cleanup
}
trap sysv_cleanup EXIT

# hold WHERE ID [N]: a process attaching ID N times ("native" or
# "preload"), until hold_end; its pid in $held
hold() {
	local fifo="$SHX_TMP/hold.$RANDOM" line
	mkfifo "$fifo"
	if [ "$1" = preload ]; then
		env LD_PRELOAD="$SHMEMX_LIB" "$tool" hold "$2" "${3:-1}" <"$fifo" >"$fifo.out" &
	else
		"$tool" hold "$2" "${3:-1}" <"$fifo" >"$fifo.out" &
	fi
	held=$!
	holders+=("$held")
	exec {hold_fd}>"$fifo"
	eval "hold_fd_$held=$hold_fd"
	for _ in $(seq 100); do
		line=$(cat "$fifo.out" 2>/dev/null)
		[[ $line == *ready* ]] && return 0
		sleep 0.05
	done
	return 1
}
hold_end() { # hold_end PID: its stdin closes, it exits without shmdt
	local fdvar="hold_fd_$1"
	eval "exec ${!fdvar}>&-"
	wait "$1" 2>/dev/null
}

# --- the same segments natively and under the preload -------------------------------
make_set() { # make_set RUN...: prints the three ids
	"$@" "$tool" get "$(K 1)" 5000 01640 &&
		"$@" "$tool" get "$(K 2)" 100 01600 &&
		"$@" "$tool" get "$(K 3)" $((3 << 20)) 01666
}
mapfile -t nid < <(make_set)
native=("${nid[@]}")
mapfile -t pid_ < <(make_set P)
[ ${#nid[@]} -eq 3 ] && [ ${#pid_[@]} -eq 3 ]
ok $? "three segments made natively (${nid[*]}) and under the preload (${pid_[*]})" ||
	bail_out "cannot make segments"
"$tool" ctl "${nid[1]}" SHM_LOCK && P "$tool" ctl "${pid_[1]}" SHM_LOCK
ok $? "SHM_LOCK on both sides"
hold native "${nid[2]}" 2 && n_holder=$held && hold preload "${pid_[2]}" 2 && p_holder=$held
ok $? "a process attaches the third twice, on both sides"

# rows of our keys, the shmid column (and its width) made neutral, sorted
# (the kernel's index order is everyone's)
rows() { # rows FIELD-OF-SHMID: stdin's lines about our segments
	awk -v f="$1" -v k1="$(K 1)" -v k2="$(K 2)" -v k3="$(K 3)" \
		-v ids=" ${nid[*]} ${pid_[*]} " '
		($1 == k1 || $1 == k2 || $1 == k3 || index(ids, " " $f " ")) {
			sub(sprintf("%-10s", $f), sprintf("%-10s", "ID")); print }' | sort
}
check_eq "ipcs -m: the header lines" "$(ctl ipcs | head -n 3)" "$(ipcs -m | head -n 3)"
check_eq "ipcs -m: our three rows on each side" \
	"$(ctl ipcs | rows 2 | wc -l) $(ipcs -m | rows 2 | wc -l) $(ipcs -m -c | rows 1 | wc -l)" "3 3 3"
check_eq "ipcs -m: the rows" "$(ctl ipcs | rows 2)" "$(ipcs -m | rows 2)"
check_eq "ipcs -m --human: the rows" "$(ctl ipcs --human | rows 2)" "$(ipcs -m --human | rows 2)"
check_eq "ipcs -m -c: creators and owners" "$(ctl ipcs -c | rows 1)" "$(ipcs -m -c | rows 1)"
check_eq "ipcs -m -l: the limits (the kernel's, by default)" "$(ctl ipcs -l)" "$(ipcs -m -l)"
check_eq "ipcs -m -l -b" "$(ctl ipcs -l -b)" "$(ipcs -m -l -b)"
check_eq "ipcs -m -l --human" "$(ctl ipcs -l --human)" "$(ipcs -m -l --human)"
# times and pids differ from side to side: their shapes must not
shape() { sed -E 's/[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8}/TIME/g; s/^[0-9]+ +/ID /; s/ [1-9][0-9]* / PID /g'; }
check_eq "ipcs -m -t: which times are set" "$(ctl ipcs -t | rows 1 | shape)" \
	"$(ipcs -m -t | rows 1 | shape)"
check_eq "ipcs -m -p: creator and last pid" "$(ctl ipcs -p | rows 1 | awk '{ print $3 != 0, $4 != 0 }' | sort)" \
	"$(ipcs -m -p | rows 1 | awk '{ print $3 != 0, $4 != 0 }' | sort)"
ipcs -m -p | rows 1 | awk -v h="$n_holder" '$4 == h { f = 1 } END { exit !f }' &&
	ctl ipcs -p | rows 1 | awk -v h="$p_holder" '$4 == h { f = 1 } END { exit !f }'
ok $? "ipcs -m -p: the last pid of the attached one is its holder's"
one() { sed -E "s/shmid=[0-9]+/shmid=ID/; s/cpid=[0-9]+/cpid=PID/; s/lpid=[1-9][0-9]*/lpid=PID/" | shape; }
check_eq "ipcs -m -i ID" "$(ctl ipcs -i "${pid_[2]}" | one)" "$(ipcs -m -i "${nid[2]}" | one)"
out=$(ctl ipcs -u)
check_match "ipcs -m -u: the summary" "$out" \
	$'segments allocated 3\npages allocated 771\npages resident  0\npages swapped   0\nSwap performance: 0 attempts\t 0 successes'
check_eq "ipcs -m -u: its lines are those of ipcs" "$(ctl ipcs -u | sed 's/[0-9]\+/N/g')" \
	"$(ipcs -m -u | sed 's/[0-9]\+/N/g')"
err=$(ctl ipcs -i 12345 2>&1)
check_eq "ipcs -i of no segment" "$err" "shmemctl: id 12345 not found"

json=$(ctl ipcs --json)
check "ipcs --json parses" py -c 'import json,sys; json.loads(sys.argv[1])' "$json"
check_eq "ipcs --json: keys, sizes, nattch, status" \
	"$(py -c 'import json,sys
for s in json.loads(sys.argv[1]):
    print("%#010x" % (s["key"] & 0xffffffff), s["bytes"], s["nattch"], s["dest"], s["locked"], s["perms"] == s["mode"] & 0o777, s["owner"])' "$json")" \
	"$(K 1) 5000 0 False False True root
$(K 2) 100 0 False True True root
$(K 3) 3145728 2 False False True root"
check_eq "ipcs -l --json" "$(ctl ipcs -l --json | py -c 'import json,sys; d=json.load(sys.stdin); print(d["shmmni"], d["shmmin"])')" \
	"$(cat /proc/sys/kernel/shmmni) 1"
check_eq "shmemctl --json ipcs is ipcs --json" "$(ctl --json ipcs)" "$json"

# --- the kernel has none of them ------------------------------------------------------
check_empty "the kernel's ipcs -m shows none of the preloaded segments" \
	"$(ipcs -m -p | awk -v h="$p_holder" '$3 == h || $4 == h')"
check_eq "the manager's listing has none of the kernel's" \
	"$(ctl ipcs | awk -v ids=" ${nid[*]} " 'index(ids, " " $2 " ")' | wc -l)" 0
check_match "stats: the segments are objects" "$(ctl stats)" $'objects: +3\n'
check_eq "ls does not list them (ipcs does)" "$(ctl ls | tail -n +2)" ""

# --- a killed attacher ----------------------------------------------------------------
kill -9 "$p_holder"
wait "$p_holder" 2>/dev/null
check_eq "a holder killed with SIGKILL no longer counts" \
	"$(P "$tool" stat "${pid_[2]}")" "key=$(K 3) mode=0666 nattch=0"
hold preload "${pid_[2]}" && p_holder=$held
P "$tool" ctl "${pid_[2]}" IPC_RMID
check_eq "IPC_RMID of an attached segment: SHM_DEST, the key private" \
	"$(P "$tool" stat "${pid_[2]}")" "key=0x00000000 mode=01666 nattch=1"
check_match "ipcs -m: dest" "$(ctl ipcs | grep "^0x00000000 ${pid_[2]} ")" ' 1 +dest +$'
hold_end "$p_holder"
check_eq "its holder exits without shmdt: the segment is gone" \
	"$(P "$tool" stat "${pid_[2]}")" "EINVAL"

# --- ipcrm ----------------------------------------------------------------------------
err=$(ctl ipcrm -m 999999 2>&1)
check_eq "ipcrm -m of no segment: exit 1" "$?" 1
check_eq "ipcrm -m of no segment: ipcrm's message" "$err" "shmemctl: invalid id (999999)"
err=$(ctl ipcrm -M 0x4242 2>&1)
check_eq "ipcrm -M of no key" "$? $err" "1 shmemctl: invalid key (0x4242)"
err=$(ctl ipcrm -M 0 2>&1)
check_eq "ipcrm -M 0" "$? $err" "1 shmemctl: illegal key (0)"
err=$(ctl ipcrm -m abc 2>&1)
check_eq "ipcrm -m abc" "$? $err" "1 shmemctl: failed to parse argument: 'abc'"
err=$(ctl ipcrm 2>&1)
check_eq "ipcrm with nothing to do: exit 2" "$?" 2
out=$(ctl ipcrm -v -M "$(K 1)")
check_eq "ipcrm -v -M KEY" "$? $out" "0 removing shared memory segment id \`${pid_[0]}'"
check_eq "ipcrm -M KEY: gone" "$(P "$tool" stat "${pid_[0]}")" "EINVAL"
ctl ipcrm shm "${pid_[1]}"
check_eq "ipcrm shm ID (the old form)" "$? $(P "$tool" stat "${pid_[1]}")" "0 EINVAL"
a=$(P "$tool" get 0 4096 0600) && b=$(P "$tool" get "$(K 9)" 4096 01600)
ctl ipcrm -a
check_eq "ipcrm -a removes them all" "$? $(ctl ipcs | tail -n +4 | grep -c .)" "0 0"
ctl ipcrm -a=msg >/dev/null 2>&1
check_eq "ipcrm -a=msg: only shm is kept here (exit 2)" "$?" 2
check_match "stats: no object left" "$(ctl stats)" $'objects: +0\n'

# --- limits ---------------------------------------------------------------------------
# another manager with small limits: SHMEMX_SIZE is the size limit, paid at shmget
lsock="$SHX_TMP/limits/sock"
mkdir -p "$SHX_TMP/limits"
SHMEMX_SOCKET="$lsock" SHMEMX_SIZE=1M SHMEMX_SHMMNI=3 SHMEMX_SHMMAX=700000 \
	"$SHMEMX_SHMEMD" --foreground >"$SHX_TMP/limits/log" 2>&1 &
extra_pids+=("$!")
for _ in $(seq 100); do [ -S "$lsock" ] && break; sleep 0.05; done
L() { t env SHMEMX_SOCKET="$lsock" LD_PRELOAD="$SHMEMX_LIB" "$tool" "$@"; }
a=$(L get 0 600000 0600)
check_match "SHMEMX_SIZE=1M: 600000 bytes fit" "$a" '^[0-9]+$'
check_eq "a second 600000 do not: ENOSPC at shmget, not SIGBUS later" "$(L get 0 600000 0600)" ENOSPC
check_eq "SHMEMX_SHMMAX=700000: 700001 bytes are EINVAL" "$(L get 0 700001 0600)" EINVAL
b=$(L get 0 4096 0600) && c=$(L get 0 4096 0600)
check_eq "SHMEMX_SHMMNI=3: a fourth segment is ENOSPC" "$(L get 0 4096 0600)" ENOSPC
check_eq "ipcs -l shows the limits" \
	"$(ctl --socket "$lsock" ipcs -l -b | sed -n '3,4p')" \
	$'max number of segments = 3\nmax seg size (bytes) = 700000'
L ctl "$a" IPC_RMID
check_match "the space comes back with IPC_RMID" "$(L get 0 600000 0600)" '^[0-9]+$'

# --- segments keep their manager -----------------------------------------------------
isock="$SHX_TMP/idle/sock"
mkdir -p "$SHX_TMP/idle"
SHMEMX_SOCKET="$isock" SHMEMX_IDLE_TIMEOUT=1 "$SHMEMX_SHMEMD" --foreground \
	>"$SHX_TMP/idle/log" 2>&1 &
ipid=$!
extra_pids+=("$ipid")
for _ in $(seq 100); do [ -S "$isock" ] && break; sleep 0.05; done
I() { t env SHMEMX_SOCKET="$isock" LD_PRELOAD="$SHMEMX_LIB" "$tool" "$@"; }
id=$(I get 0 4096 0600)
sleep 2.5
kill -0 "$ipid" 2>/dev/null
ok $? "a manager idle for longer than its timeout stays while it keeps a segment"
check_eq "and the segment with it" "$(I stat "$id")" \
	"key=0x00000000 mode=0600 nattch=0"
I ctl "$id" IPC_RMID
for _ in $(seq 50); do kill -0 "$ipid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$ipid" 2>/dev/null
ok $? "once it is removed, the manager goes when idle"

tap_done
