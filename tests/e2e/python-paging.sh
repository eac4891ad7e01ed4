#!/bin/bash
# tests/e2e/python-paging.sh -- multiprocessing.shared_memory with three
# times the RAM budget (16 MiB) between two Python processes.
#
# A parent makes a 48 MiB SharedMemory, fills it and lets go of its
# mapping; the pager moves most of it to swap; a second Python process
# attaches by name (the whole segment comes back in), verifies every
# byte, rewrites it and detaches; the parent attaches again, verifies the
# child's bytes and unlinks it.  Then a segment the parent keeps mapped,
# as a program usually does: it is paged out all the same (page-in by
# userfaultfd), and a child made by multiprocessing (fork) verifies and
# rewrites it through its own mapping, which the parent verifies.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

PY=$(${PYTHON3:-python3} -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -z "$PY" ] || ! "$PY" -c 'import multiprocessing.shared_memory' 2>/dev/null; then
	echo "1..0 # SKIP no python3 with multiprocessing.shared_memory (PYTHON3=${PYTHON3:-})"
	exit 0
fi

MiB=$((1 << 20))
export SHMEMX_SWAP_BUDGET=16M
shx_sandbox
cd "$SHX_TMP" || exit 99
export TMPDIR="$SHX_TMP" PYTHONDONTWRITEBYTECODE=1
CTL=${SHMEMX_SHMEMCTL:?}
TAP_TIMEOUT=120

swap_of() {
	"$CTL" --json swap | tr ',{}' '\n\n\n' | sed -n "s/^\"$1\"://p"
}
swapped_over() {
	local _
	for _ in $(seq 1 50); do
		[ "$(swap_of swapped)" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
py() {
	t env LD_PRELOAD="${SHX_PRELOAD_FIRST:+$SHX_PRELOAD_FIRST:}$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" \
		"$PY" -c "$@"
}

# pattern(seed): 48 MiB, every 8 bytes a different value
lib='
import hashlib, sys
from multiprocessing import shared_memory
SIZE = 48 << 20
from multiprocessing import resource_tracker
def keep(shm):
    # the segment outlives this process: its resource tracker must not
    # unlink it at exit (Python < 3.13 tracks attachments too)
    resource_tracker.unregister(shm._name, "shared_memory")
def pattern(seed):
    out = bytearray()
    block = 0
    while len(out) < SIZE:
        out += hashlib.sha256(b"%d-%d" % (seed, block)).digest() * 2048
        block += 1
    return bytes(out[:SIZE])
'

py "$lib
shm = shared_memory.SharedMemory(name='shx-pg', create=True, size=SIZE)
keep(shm)
shm.buf[:SIZE] = pattern(1)
shm.close()
print('made')
" >out1 2>&1
check_eq "a parent makes and fills a 48 MiB segment, then lets go of it" "$(cat out1)" made
swapped_over $((30 * MiB))
ok $? "most of it goes to swap ($(swap_of swapped) bytes swapped, budget 16 MiB)"
py "$lib
shm = shared_memory.SharedMemory(name='shx-pg')
keep(shm)
ok = bytes(shm.buf[:SIZE]) == pattern(1)
shm.buf[:SIZE] = pattern(2)
shm.close()
print('verified' if ok else 'differs')
" >out2 2>&1
check_eq "a second process attaches by name, verifies every byte and rewrites it" "$(cat out2)" verified
swapped_over $((30 * MiB))
ok $? "let go again, it goes back to swap ($(swap_of swapped) bytes swapped)"
py "$lib
shm = shared_memory.SharedMemory(name='shx-pg')
ok = bytes(shm.buf[:SIZE]) == pattern(2)
shm.close()
shm.unlink()
print('verified' if ok else 'differs')
" >out3 2>&1
check_eq "the parent attaches again and finds the second process's bytes" "$(cat out3)" verified
ins=$(swap_of pageins)
outs=$(swap_of pageouts)
[ "$ins" -gt 12288 ] && [ "$outs" -gt 12288 ]
ok $? "it went through swap both ways ($outs pages out, $ins in)"

py "$lib
import multiprocessing as mp
def child(name, q):
    s = shared_memory.SharedMemory(name=name)
    ok = bytes(s.buf[:SIZE]) == pattern(3)
    s.buf[:SIZE] = pattern(4)
    s.close()
    q.put(ok)
def swapped():
    import json, subprocess
    out = subprocess.run([sys.argv[1], '--json', 'swap'], capture_output=True, text=True).stdout
    return json.loads(out)['swapped']
if __name__ == '__main__':
    import time
    mp.set_start_method('fork')
    shm = shared_memory.SharedMemory(name='shx-pg2', create=True, size=SIZE)
    shm.buf[:SIZE] = pattern(3)
    for _ in range(50):
        if swapped() > (30 << 20):
            break
        time.sleep(0.1)
    print('out while mapped: %d' % swapped())
    q = mp.Queue()
    p = mp.Process(target=child, args=(shm.name, q))
    p.start()
    seen = q.get()
    p.join()
    mine = bytes(shm.buf[:SIZE]) == pattern(4)
    shm.close()
    shm.unlink()
    print('verified' if seen and mine and p.exitcode == 0 else 'differs %s %s' % (seen, mine))
" "$CTL" >out4 2>&1
out=$(sed -n 's/^out while mapped: //p' out4)
[ "${out:-0}" -gt $((30 * MiB)) ]
ok $? "a segment its maker keeps mapped is paged out all the same ($out bytes swapped)"
check_eq "parent and multiprocessing child share it both ways through their mappings, verified" \
	"$(grep -v '^out while' out4)" verified
tap_done
