#!/bin/bash
# tests/demo.sh -- what `make demo` shows: a private manager, Python's
# multiprocessing.shared_memory between two processes and a shell writing
# under /dev/shm, all with libshmemx.so preloaded; then the manager's own
# view (shmemctl stats, shmemctl ls), and everything cleaned up.
#
# Environment (from make): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMCTL:=}"

# shellcheck source=SCRIPTDIR/lib.sh
. "$top_srcdir/tests/lib.sh"

step() {
	printf '\n== %s\n' "$*"
}

# tell TEXT...: indented commentary
tell() {
	printf '   %s\n' "$@"
}

indent() {
	sed 's/^/   | /'
}

PY=$(${PYTHON3:-python3} -c 'import sys; print(sys.executable)' 2>/dev/null)

shx_sandbox
cd "$SHX_TMP" || exit 1
export TMPDIR="$SHX_TMP"

step "A private manager"
tell "shmemd (pid $SHX_MANAGER_PID) listens on $SHMEMX_SOCKET." \
	"Every program below runs with LD_PRELOAD=$(basename "$SHMEMX_LIB"), so its" \
	"/dev/shm and shm_open() are this manager's, not the kernel's."

step "Python: multiprocessing.shared_memory between two processes"
if [ -z "$PY" ]; then
	tell "(no python3 found: skipped)"
else
	shx_run "$PY" - <<'PYEOF' 2>&1 | indent
import multiprocessing as mp
import os
from multiprocessing import resource_tracker, shared_memory


def child():
    shm = shared_memory.SharedMemory("demo-shm")
    msg = f"hello from the child process (pid {os.getpid()})".encode()
    shm.buf[:len(msg) + 1] = msg + b"\0"
    shm.close()


if __name__ == "__main__":
    shm = shared_memory.SharedMemory("demo-shm", create=True, size=4096)
    print(f"parent (pid {os.getpid()}) created /demo-shm, {shm.size} bytes")
    p = mp.Process(target=child)
    p.start()
    p.join()
    text = bytes(shm.buf).split(b"\0", 1)[0].decode()
    print(f"parent reads what the child wrote: {text!r}")
    # keep the segment after we exit, to show it in the manager below
    resource_tracker.unregister(shm._name, "shared_memory")
    shm.close()
PYEOF
	tell "Both Python processes have exited; /demo-shm is still kept by the manager."
fi

step "A shell writing a file under /dev/shm"
shx_run bash -c 'echo "hello from bash, stored in the manager" > /dev/shm/demo.txt
	echo "\$ cat /dev/shm/demo.txt"; cat /dev/shm/demo.txt
	echo "\$ ls /dev/shm"; ls /dev/shm' 2>&1 | indent
if [ -e /dev/shm/demo.txt ]; then
	tell "(the kernel's /dev/shm happens to have a demo.txt of its own)"
else
	tell "Without the library, /dev/shm/demo.txt does not exist: the kernel never saw it."
fi

step "The manager's view: shmemctl stats"
if [ -x "$SHMEMX_SHMEMCTL" ]; then
	"$SHMEMX_SHMEMCTL" stats 2>&1 | indent
else
	tell "(shmemctl is not built yet: ${SHMEMX_SHMEMCTL:-?})"
fi

step "The manager's view: shmemctl ls"
if [ -x "$SHMEMX_SHMEMCTL" ]; then
	"$SHMEMX_SHMEMCTL" ls 2>&1 | indent
else
	tell "(shmemctl is not built yet: ${SHMEMX_SHMEMCTL:-?})"
fi

step "Cleaning up"
shx_run rm -f /dev/shm/demo.txt /dev/shm/demo-shm
left=$(shx_run ls -A /dev/shm 2>&1)
if [ -z "$left" ]; then
	tell "Removed /dev/shm/demo.txt and /demo-shm: the manager's /dev/shm is empty again."
else
	tell "Removed /dev/shm/demo.txt and /demo-shm, yet /dev/shm still holds:"
	printf '%s\n' "$left" | indent
fi
tell "The manager is stopped as the demo exits."
