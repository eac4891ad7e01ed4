#!/bin/bash
# tests/demo.sh -- what `make demo` shows: a private manager, Python's
# multiprocessing.shared_memory between two processes, a shell writing
# under /dev/shm, and a build in a directory of /tmp, all with libshmemx.so
# preloaded; then the manager's own view (shmemctl stats, shmemctl ls),
# and everything cleaned up.
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

step "A build in /tmp: mktemp -d, gcc, and the program it made"
demo_dir=$(shx_run bash -c 'd=$(mktemp -d /tmp/demo.XXXXXX) && echo "$d"')
shx_run env -u TMPDIR bash -c 'cd "$1" && echo "\$ cd $1"
	printf "#include <stdio.h>\nint main(void) { puts(\"built and run in /tmp\"); return 0; }\n" > hello.c
	echo "\$ gcc -o hello hello.c && ./hello"; gcc -o hello hello.c && ./hello
	echo "\$ ls -l"; ls -l --time-style=+ | sed "s/  */ /g"' demo "$demo_dir" 2>&1 | indent
if [ -e "$demo_dir" ]; then
	tell "(the kernel's /tmp happens to have a $demo_dir of its own)"
else
	tell "gcc's own temporary files went to the manager's /tmp too; the kernel's /tmp" \
		"has no $demo_dir."
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
shx_run rm -rf /dev/shm/demo.txt /dev/shm/demo-shm "$demo_dir"
left=$(shx_run ls -A /dev/shm /tmp 2>&1 | grep -v -e '^/dev/shm:$' -e '^/tmp:$' -e '^$')
if [ -z "$left" ]; then
	tell "Removed /dev/shm/demo.txt, /demo-shm and $demo_dir: the manager's /dev/shm" \
		"and /tmp are empty again."
else
	tell "Removed /dev/shm/demo.txt, /demo-shm and $demo_dir, yet there is still:"
	printf '%s\n' "$left" | indent
fi
tell "The manager is stopped as the demo exits."
