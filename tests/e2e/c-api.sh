#!/bin/bash
# tests/e2e/c-api.sh -- the C end-to-end program, shx-e2e, under the preload
# with a private manager.  shx-e2e prints the TAP itself (fork and mmap,
# inheritance across fork and exec, readdir, unlink while open, O_APPEND,
# pread/pwrite, SEEK_DATA/SEEK_HOLE, stdio, 200 objects, 4 threads, a
# System V segment shared with a child); this
# script only passes it through, and bails out if the manager did not
# survive it.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.

: "${top_srcdir:?}" "${top_builddir:?}"
bin="$top_builddir/tests/e2e/shx-e2e"
if [ ! -x "$bin" ]; then
	echo "Bail out! $bin is not built"
	exit 99
fi

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
shx_sandbox
cd "$SHX_TMP" || exit 99

# shx-e2e stops itself after 50 s (alarm); the timeout is a backstop.
shx_run timeout -k 5 60 "$bin"
rc=$?
if ! kill -0 "$SHX_MANAGER_PID" 2>/dev/null; then
	echo "Bail out! the manager died during the test; its log:"
	sed 's/^/#   /' "$SHX_TMP/shmemd.log"
	exit 99
fi
if [ $rc -gt 128 ]; then
	echo "# shx-e2e was killed by signal $((rc - 128)) (142: its own time limit)"
fi
exit $rc
