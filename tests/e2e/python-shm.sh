#!/bin/bash
# tests/e2e/python-shm.sh -- Python's multiprocessing.shared_memory under the
# preload, with a private manager.
#
# Our own checks: a 64 MiB SharedMemory filled by a parent, verified and
# refilled by a multiprocessing child (fork and spawn), a separate
# `python3 -c` process attaching by name, ShareableList shared with a
# child, the segment living in the manager (not in the kernel's /dev/shm),
# and FileNotFoundError on attach after unlink.  Then CPython's own
# _TestSharedMemory (test/_test_multiprocessing.py) under each start
# method, one test point per test, when the interpreter has its test
# package.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

# The interpreter itself, not a pyenv shim: a shim costs a process tree per
# call.
PY=$(${PYTHON3:-python3} -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -z "$PY" ] || ! "$PY" -c 'import multiprocessing.shared_memory' 2>/dev/null; then
	echo "1..0 # SKIP no python3 with multiprocessing.shared_memory (PYTHON3=${PYTHON3:-})"
	exit 0
fi

shx_sandbox
cd "$SHX_TMP" || exit 99
# Python's temporary files (multiprocessing's, the test package's) stay in
# the sandbox, not in the real /tmp.
export TMPDIR="$SHX_TMP"
export PYTHONDONTWRITEBYTECODE=1

# --- the Python side of our own checks --------------------------------------
# Each command prints "key=value" lines; the shell compares them.
cat >"$SHX_TMP/shm_checks.py" <<'PYEOF'
import multiprocessing as mp
import os
import subprocess
import sys
from multiprocessing import resource_tracker, shared_memory

MIB = 1 << 20
SIZE = 64 * MIB


def pattern(seed, size=SIZE):
    # 251 is prime: no two pages look alike
    unit = bytes((i * 7 + seed) % 256 for i in range(251))
    return (unit * (size // len(unit) + 1))[:size]


def say(key, value):
    print(f"{key}={value}", flush=True)


def kernel_has(name):
    """Whether the kernel's /dev/shm has NAME: asked by a process without
    the preload."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run(["test", "-e", "/dev/shm/" + name], env=env).returncode == 0


def fill_child(name):
    """Attaches by name, checks the parent's fill, refills; the verdict is
    the exit code."""
    m = shared_memory.SharedMemory(name)
    try:
        if m.size < SIZE:
            sys.exit(3)
        if bytes(m.buf[:SIZE]) != pattern(1):
            sys.exit(4)
        m.buf[:SIZE] = pattern(2)
    finally:
        m.close()
    sys.exit(0)


def cmd_big(method, name):
    ctx = mp.get_context(method)
    shm = shared_memory.SharedMemory(name=name, create=True, size=SIZE)
    try:
        say("size_ok", shm.size >= SIZE)
        say("listed", name in os.listdir("/dev/shm"))
        say("stat_size", os.stat("/dev/shm/" + name).st_size)
        say("kernel_has_it", kernel_has(name))
        shm.buf[:SIZE] = pattern(1)
        p = ctx.Process(target=fill_child, args=(name,))
        p.start()
        p.join(60)
        say("child_exit", p.exitcode)
        say("parent_sees_child_fill", bytes(shm.buf[:SIZE]) == pattern(2))
    finally:
        shm.close()
        shm.unlink()
    say("listed_after_unlink", name in os.listdir("/dev/shm"))
    try:
        shared_memory.SharedMemory(name).close()
        say("attach_after_unlink", "attached")
    except FileNotFoundError:
        say("attach_after_unlink", "FileNotFoundError")


ATTACH = r"""
import sys
from multiprocessing import resource_tracker, shared_memory
m = shared_memory.SharedMemory(sys.argv[1])
# Python 3.11 tracks attached segments too and would unlink this one when
# this process exits: it is the parent's, not ours.
resource_tracker.unregister(m._name, "shared_memory")
print(bytes(m.buf[:16]).decode(), flush=True)
m.buf[16:32] = b"reply from -c   "
m.close()
"""


def cmd_separate(name):
    shm = shared_memory.SharedMemory(name=name, create=True, size=4096)
    try:
        shm.buf[:16] = b"from the parent "
        r = subprocess.run([sys.executable, "-c", ATTACH, name],
                           capture_output=True, text=True, timeout=30)
        say("c_exit", r.returncode)
        say("c_read", r.stdout.strip())
        if r.stderr:
            for line in r.stderr.splitlines():
                print("stderr: " + line)
        say("parent_reads_reply", bytes(shm.buf[16:32]).decode())
    finally:
        shm.close()
        shm.unlink()
    r = subprocess.run([sys.executable, "-c", ATTACH, name],
                       capture_output=True, text=True, timeout=30)
    say("c_after_unlink", "FileNotFoundError" if "FileNotFoundError" in r.stderr
        else f"exit {r.returncode}")


INITIAL = ["howdy", 42, -2.5, None, True, b"bytes"]
CHANGED = ["hello", 43, 6.25, None, False, b"BYTES"]


def sl_child(name):
    sl = shared_memory.ShareableList(name=name)
    try:
        if list(sl) != INITIAL:
            sys.exit(3)
        sl[0], sl[1], sl[2], sl[4], sl[5] = "hello", 43, 6.25, False, b"BYTES"
    finally:
        sl.shm.close()
    sys.exit(0)


def cmd_sharelist(method, name):
    ctx = mp.get_context(method)
    sl = shared_memory.ShareableList(INITIAL, name=name)
    try:
        p = ctx.Process(target=sl_child, args=(name,))
        p.start()
        p.join(60)
        say("sl_child_exit", p.exitcode)
        say("sl_parent_sees", list(sl) == CHANGED)
        other = shared_memory.ShareableList(name=name)
        say("sl_second_handle", list(other) == CHANGED)
        other.shm.close()
    finally:
        sl.shm.close()
        sl.shm.unlink()
    try:
        shared_memory.ShareableList(name=name)
        say("sl_after_unlink", "attached")
    except FileNotFoundError:
        say("sl_after_unlink", "FileNotFoundError")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"big": cmd_big, "separate": cmd_separate, "sharelist": cmd_sharelist}[cmd](*args)
PYEOF

# --- the driver for CPython's _TestSharedMemory ---------------------------------
# test_multiprocessing_{fork,spawn,forkserver} are thin modules that call
# install_tests_in_module_dict; this does the same for one start method and
# runs only WithProcessesTestSharedMemory, printing "@@STATUS<TAB>TEST" per
# test (with "<TAB>REASON" for a skip) and "@@|LINE" for tracebacks.
cat >"$SHX_TMP/run_cpython_shm.py" <<'PYEOF'
import sys
import types
import unittest


class Result(unittest.TestResult):
    def _emit(self, status, test, detail="", tail=""):
        name = test.id()
        if not isinstance(test, unittest.case._SubTest):
            name = name.rsplit(".", 1)[-1]
        else:
            name = name.split(".", 2)[-1]
        print(f"@@{status}\t{name}{tail}", flush=True)
        for line in str(detail).rstrip("\n").splitlines():
            print(f"@@|{line}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._emit("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._emit("fail", test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._emit("fail", test, self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._emit("skip", test, "", "\t" + " ".join(str(reason).split()))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._emit("ok", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._emit("fail", test, "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._emit("fail", subtest, self._exc_info_to_string(err, test))


def main():
    method = sys.argv[1]
    from test import support
    # A segment left behind should fail the test in seconds, not after
    # support's five minutes.
    support.LONG_TIMEOUT = 20.0
    from test import _test_multiprocessing as tm
    mod = types.ModuleType("cpython_shm_" + method)
    sys.modules[mod.__name__] = mod
    tm.install_tests_in_module_dict(mod.__dict__, method, only_type="processes")
    cls = mod.WithProcessesTestSharedMemory
    names = unittest.defaultTestLoader.getTestCaseNames(cls)
    print(f"@@count\t{len(names)}", flush=True)
    # a top-level suite runs the module's setUpModule/tearDownModule
    unittest.TestSuite([cls(n) for n in names]).run(Result())


if __name__ == "__main__":
    main()
PYEOF

# val FILE KEY: the value of "KEY=..." in FILE
val() {
	sed -n "s/^$2=//p" "$1" | head -n 1
}

# py_run OUT CMD ARGS...: shm_checks.py CMD under the preload, stdout to OUT
# (stderr to OUT.err); reports its failure as a test point.
py_run() {
	local out=$1 rc
	shift
	shx_run t "$PY" "$SHX_TMP/shm_checks.py" "$@" >"$out" 2>"$out.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		tap_fail "python3 shm_checks.py $* exits 0" "exit status $rc; stderr:"
		diag_file "$out.err"
	else
		tap_pass "python3 shm_checks.py $* exits 0"
	fi
}

# --- 64 MiB across a multiprocessing child, fork and spawn -----------------------
for method in fork spawn; do
	out="$SHX_TMP/big-$method.out"
	name="shx-py-big-$method"
	py_run "$out" big "$method" "$name"
	check_eq "$method: SharedMemory has at least 64 MiB" "$(val "$out" size_ok)" True
	check_eq "$method: os.listdir('/dev/shm') lists the segment" "$(val "$out" listed)" True
	check_eq "$method: os.stat gives its size" "$(val "$out" stat_size)" 67108864
	check_eq "$method: the kernel's /dev/shm does not have it (the manager does)" \
		"$(val "$out" kernel_has_it)" False
	check_eq "$method: the child attached by name and saw the parent's 64 MiB" \
		"$(val "$out" child_exit)" 0
	check_eq "$method: the parent sees the child's 64 MiB" \
		"$(val "$out" parent_sees_child_fill)" True
	check_eq "$method: not listed after unlink" "$(val "$out" listed_after_unlink)" False
	check_eq "$method: attaching after unlink raises FileNotFoundError" \
		"$(val "$out" attach_after_unlink)" FileNotFoundError
done

# --- a separate python3 -c process attaching by name -------------------------
out="$SHX_TMP/separate.out"
py_run "$out" separate shx-py-sep
check_eq "python3 -c attaches by name and exits 0" "$(val "$out" c_exit)" 0
check_eq "python3 -c reads the parent's bytes" "$(val "$out" c_read)" "from the parent"
check_eq "the parent reads what python3 -c wrote" "$(val "$out" parent_reads_reply)" \
	"reply from -c   "
check_eq "python3 -c after unlink gets FileNotFoundError" "$(val "$out" c_after_unlink)" \
	FileNotFoundError
if grep -q '^stderr: ' "$out"; then
	diag "python3 -c said on stderr:"
	diag_file "$out"
fi

# --- ShareableList ------------------------------------------------------------
for method in fork spawn; do
	out="$SHX_TMP/sharelist-$method.out"
	py_run "$out" sharelist "$method" "shx-py-sl-$method"
	check_eq "ShareableList ($method): the child attached, saw the list and changed it" \
		"$(val "$out" sl_child_exit)" 0
	check_eq "ShareableList ($method): the parent sees the child's changes" \
		"$(val "$out" sl_parent_sees)" True
	check_eq "ShareableList ($method): a second handle by name sees them" \
		"$(val "$out" sl_second_handle)" True
	check_eq "ShareableList ($method): attaching after unlink raises FileNotFoundError" \
		"$(val "$out" sl_after_unlink)" FileNotFoundError
done

listing=$(shx_run ls -A /dev/shm)
check_empty "nothing is left in the manager's /dev/shm" "$listing"

# --- CPython's own shared memory tests ------------------------------------------
if ! "$PY" -c 'import test.support, test._test_multiprocessing' 2>/dev/null; then
	pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	tap_skip "CPython's _TestSharedMemory" \
		"$PY has no test._test_multiprocessing (on Debian: package libpython$pyver-testsuite)"
	tap_done
fi

for method in fork spawn forkserver; do
	out="$SHX_TMP/cpython-$method.out"
	TAP_TIMEOUT=60 shx_run t "$PY" "$SHX_TMP/run_cpython_shm.py" "$method" \
		>"$out" 2>"$out.err"
	rc=$?
	want=$(sed -n 's/^@@count\t//p' "$out")
	got=0
	while IFS= read -r line; do
		case $line in
		@@count*) ;;
		@@\|*)
			printf '# %s\n' "${line#@@|}"
			;;
		@@ok*)
			got=$((got + 1))
			tap_pass "CPython $method: ${line#*$'\t'}"
			;;
		@@skip*)
			# "@@skip<TAB>TEST<TAB>REASON", skipped by the test package itself
			got=$((got + 1))
			line=${line#*$'\t'}
			tap_skip "CPython $method: ${line%%$'\t'*}" "${line#*$'\t'}"
			;;
		@@fail*)
			got=$((got + 1))
			tap_fail "CPython $method: ${line#*$'\t'}"
			;;
		esac
	done <"$out"
	if [ -n "$want" ] && [ "$got" -ge "$want" ] && [ $rc -eq 0 ]; then
		tap_pass "CPython $method: all $want tests of _TestSharedMemory ran"
	else
		tap_fail "CPython $method: all ${want:-?} tests of _TestSharedMemory ran" \
			"$got results, driver exit status $rc; its stderr:"
		diag_file "$out.err"
	fi
done

listing=$(shx_run ls -A /dev/shm)
check_empty "nothing is left in the manager's /dev/shm after CPython's tests" "$listing"

tap_done
