#!/bin/bash
# tests/e2e/python-tests.sh -- Python's own test package under the preload,
# as TAP for automake's tap-driver: test_tempfile, test_glob and
# test_shutil, run by /usr/bin/python3 (Debian's libpython3.11-testsuite)
# with TMPDIR under the manager's /tmp, and once natively with TMPDIR in a
# real directory.  Each module must succeed under the preload, and every
# test that runs natively must run under the preload too: a test skipped
# under the preload alone is a failure unless tests/e2e/python-skips names
# it, with the kernel behaviour it needs that a preload cannot give.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

PY=/usr/bin/python3
MODULES="test_tempfile test_glob test_shutil"
if [ ! -x "$PY" ] || ! "$PY" -c 'import test.test_tempfile, test.test_glob, test.test_shutil' \
	2>/dev/null; then
	echo "1..0 # SKIP no /usr/bin/python3 with its test package (libpython3.11-testsuite)"
	exit 0
fi
SKIPS=$top_srcdir/tests/e2e/python-skips
shx_sandbox
cd "$SHX_TMP" || exit 99
export LC_ALL=C.UTF-8
MANAGED=/tmp/shx-python.$$
NATIVE=$SHX_TMP/native
mkdir "$NATIVE" && shx_run mkdir "$MANAGED" || bail_out "cannot make the directories"

# results FILE: "NAME RESULT" per test of a verbose unittest run, sorted
results() {
	sed -n 's/^\(test[^ ]* ([^)]*)\) \.\.\. \(ok\|skipped\|FAIL\|ERROR\|expected failure\|unexpected success\).*/\1 \2/p' "$1" |
		sort
}

for m in $MODULES; do
	TMPDIR=$MANAGED shx_run timeout 600 "$PY" -m test -v "$m" >"$SHX_TMP/$m.pre" 2>&1
	pre=$?
	TMPDIR=$NATIVE timeout 600 "$PY" -m test -v "$m" >"$SHX_TMP/$m.nat" 2>&1
	nat=$?
	ok $pre "$m passes under the preload, TMPDIR in the manager's /tmp" ||
		grep -E '^(FAIL|ERROR):|Error|error' "$SHX_TMP/$m.pre" | head -n 20 | diag
	[ $nat -eq 0 ] || diag "(natively it exits $nat)"
	results "$SHX_TMP/$m.pre" >"$SHX_TMP/$m.pre.r"
	results "$SHX_TMP/$m.nat" >"$SHX_TMP/$m.nat.r"
	# tests that ran natively (ok or an expected failure) but were skipped
	# under the preload, less those the skip list explains
	extra=$(join -j1 -t'|' \
		<(sed 's/ \([a-z ]*\)$/|\1/' "$SHX_TMP/$m.nat.r" | grep -v '|skipped$' | sort -t'|' -k1,1) \
		<(sed 's/ \([a-z ]*\)$/|\1/' "$SHX_TMP/$m.pre.r" | grep '|skipped$' | sort -t'|' -k1,1) |
		cut -d'|' -f1 | while IFS= read -r t; do
			grep -qF "${t%% *}" "$SKIPS" 2>/dev/null || echo "$t"
		done)
	check_empty "$m: nothing skipped under the preload that runs natively (but the listed)" "$extra"
	check_eq "$m: the same number of tests ran" \
		"$(grep -c . "$SHX_TMP/$m.pre.r")" "$(grep -c . "$SHX_TMP/$m.nat.r")"
done

shx_run rm -rf "$MANAGED"
tap_done
