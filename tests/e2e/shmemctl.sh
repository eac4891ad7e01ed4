#!/usr/bin/env bash
# shmemctl.sh -- shmemctl's views of a manager holding known objects:
# stats and ls as text and JSON, the path filter, a deleted object still
# held open, and the errors (no manager, bad subcommand).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/e2e/tap.sh"

export SHMEMX_SIZE=64M SHMEMX_NR_INODES=1000
shx_sandbox
ctl() { "$SHMEMX_SHMEMCTL" "$@"; }
py() { "${PYTHON3:-python3}" "$@"; }

shx_run bash -c 'printf abc > /dev/shm/a; head -c 100000 /dev/zero > /dev/shm/b;
	mkdir /dev/shm/d; printf 0123456789 > /dev/shm/d/c' ||
	bail_out "could not create the objects"
# a process holding an object it has unlinked
# (env, not the shx_run function, so that $! is the holder itself; bash
# execs the final sleep in place, which must keep holding the object)
env LD_PRELOAD="$SHMEMX_LIB" \
	bash -c 'exec 7<>/dev/shm/held; printf xyz >&7; rm /dev/shm/held; echo ready; sleep 60' \
	>"$SHX_TMP/holder.out" &
holder=$!
trap 'st=$?; kill $holder 2>/dev/null; (exit $st); shx_cleanup' EXIT
for _ in $(seq 100); do grep -q ready "$SHX_TMP/holder.out" 2>/dev/null && break; sleep 0.05; done

# --- stats ----------------------------------------------------------------
out=$(ctl stats)
check_match "stats: objects" "$out" $'(^|\n)objects: +4($|\n)'
check_match "stats: size limit in units" "$out" $'(^|\n)size: +[0-9.]+[KM]? of 64M '
check_match "stats: inodes (the roots of /dev/shm and /tmp, a, b, d, d/c, held)" "$out" $'(^|\n)inodes: +7 of 1000 '
check_match "stats: manager pid" "$out" "pid: +$(cat "$SHX_TMP/shmemd.pid")"

json=$(ctl --json stats)
check "stats --json parses" py -c 'import json,sys; json.loads(sys.argv[1])' "$json"
check_eq "stats --json: size_limit" \
	"$(py -c 'import json,sys; print(json.loads(sys.argv[1])["size_limit"])' "$json")" 67108864
check_eq "stats --json: objects, inodes" \
	"$(py -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["objects"], d["inodes_used"])' "$json")" \
	"4 7"
# charged space: whole pages of a (4K), b (100000 -> 100K), d/c (4K); held
# is still open for writing with the 256K its open prepaid, which it may
# write without asking, so that stays charged until it is closed
check_eq "stats --json: size_used is the objects' pages" \
	"$(py -c 'import json,sys; print(json.loads(sys.argv[1])["size_used"])' "$json")" \
	$((4096 + 102400 + 4096 + 262144))

# --- ls -------------------------------------------------------------------
out=$(ctl ls)
check_match "ls: header" "$(head -n 1 <<<"$out")" 'SIZE.*MODE.*PATH'
check_match "ls: /dev/shm/b with its size" "$out" $'97\\.7K +100K +-rw-r--r-- .* /dev/shm/b(\n|$)'
check_match "ls: an object in a directory" "$out" '/dev/shm/d/c'
check_match "ls: the unlinked object still held, with its holder" "$out" \
	$' +1 +[0-9]+ +[0-9]+[smhd] +\\(deleted\\)'
check_eq "ls: one line per object plus the header" "$(wc -l <<<"$out")" 5
check_eq "ls PREFIX: only what is under it" "$(ctl ls /dev/shm/d | tail -n +2 | awk '{print $NF}')" \
	/dev/shm/d/c

json=$(ctl --json ls)
check_eq "ls --json: paths" \
	"$(py -c 'import json,sys; print(sorted(str(o["path"]) for o in json.loads(sys.argv[1])))' "$json")" \
	"['/dev/shm/a', '/dev/shm/b', '/dev/shm/d/c', 'None']"
check_eq "ls --json: sizes of a, b, d/c" \
	"$(py -c 'import json,sys; d={o["path"]: o["size"] for o in json.loads(sys.argv[1])}; print(d["/dev/shm/a"], d["/dev/shm/b"], d["/dev/shm/d/c"])' "$json")" \
	"3 100000 10"
check_eq "ls --json: the deleted object" \
	"$(py -c 'import json,sys; o=[o for o in json.loads(sys.argv[1]) if o["deleted"]][0]; print(o["size"], o["holders"])' "$json")" \
	"3 1"

# --- after the holder ends, the deleted object is gone --------------------
kill "$holder"
wait "$holder" 2>/dev/null
for _ in $(seq 100); do
	[ "$(ctl --json stats | py -c 'import json,sys; print(json.load(sys.stdin)["objects"])')" = 3 ] && break
	sleep 0.05
done
check_eq "a held, unlinked object goes with its last holder" \
	"$(ctl --json stats | py -c 'import json,sys; print(json.load(sys.stdin)["objects"])')" 3

# --- df and statvfs show the manager's limit and use ----------------------
check_eq "df /dev/shm: the size limit, and tmpfs as the type" \
	"$(shx_run df -B1 --output=size,fstype /dev/shm | tail -n 1 | awk '{print $1, $2}')" "67108864 tmpfs"
check_eq "statvfs: free space is the limit less the charged pages" \
	"$(shx_run py -c 'import os; s = os.statvfs("/dev/shm/d"); print(s.f_bavail * s.f_frsize, s.f_ffree, s.f_namemax)')" \
	"$((67108864 - 4096 - 102400 - 4096)) $((1000 - 6)) 255"
check_eq "statfs of a managed fd (fstatvfs)" \
	"$(shx_run py -c 'import os; fd = os.open("/dev/shm/b", os.O_RDONLY); s = os.fstatvfs(fd); print(s.f_blocks * s.f_frsize)')" \
	67108864

# --- errors ---------------------------------------------------------------
check "--help exits 0" ctl --help
ctl frobnicate >/dev/null 2>&1
check_eq "an unknown subcommand exits 2" "$?" 2
err=$(SHMEMX_SOCKET="$SHX_TMP/none/sock" "$SHMEMX_SHMEMCTL" stats 2>&1)
check_eq "no manager: exit 1" "$?" 1
check_match "no manager: the message names the socket" "$err" "$SHX_TMP/none/sock"

shx_run bash -c 'rm -r /dev/shm/a /dev/shm/b /dev/shm/d'
tap_done
