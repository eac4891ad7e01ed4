#!/bin/sh
# tests/diff/run-diff.sh -- differential test of libshmemx, as TAP for
# automake's tap-driver: one test point per shx-diff scenario.
#
# shx-diff runs once natively, where /dev/shm is the kernel's tmpfs and its
# output is the oracle, and once under the preload inside the sandbox of
# tests/lib.sh.  Both outputs are split at their "== NAME" lines and compared
# scenario by scenario; a difference is shown as "# " diff lines.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.  SHX_KEEP=1 keeps the sandbox, with both outputs, even when
# everything passed; it is kept anyway when something failed.

: "${top_srcdir:?}" "${top_builddir:?}"
bin="$top_builddir/tests/diff/shx-diff"

if [ ! -x "$bin" ]; then
	echo "Bail out! $bin is not built"
	exit 99
fi
if ! names=$("$bin" --list) || [ -z "$names" ]; then
	echo "Bail out! $bin --list failed"
	exit 99
fi

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
shx_sandbox

out="$SHX_TMP/diff"
mkdir -p "$out/native" "$out/preload" || exit 99

# split_sections OUTPUT DIR: DIR/NAME gets the lines of section "== NAME";
# anything before the first section goes to DIR/.preamble.
split_sections() {
	awk -v dir="$2" '
		/^== / {
			if (f != "")
				close(f)
			f = dir "/" substr($0, 4)
			printf "" > f
			next
		}
		f != "" { print > f; next }
		{ print > (dir "/.preamble") }
	' "$1"
}

# comment [PREFIX]: standard input as TAP diagnostics
comment() {
	sed "s/^/# ${1:-}/"
}

# both runs name their objects after this run, apart from any other
SHXD_RUN=$$
export SHXD_RUN
"$bin" >"$out/native.out" 2>"$out/native.err"
native_rc=$?
shx_run "$bin" >"$out/preload.out" 2>"$out/preload.err"
preload_rc=$?
# and once more with every fd and request through the socket: no channel
# (SHMEMX_CHANNEL=0), no self-opens (SHMEMX_SELFOPEN=0)
SHMEMX_CHANNEL=0 SHMEMX_SELFOPEN=0 shx_run "$bin" >"$out/socket.out" 2>"$out/socket.err"
split_sections "$out/native.out" "$out/native"
split_sections "$out/preload.out" "$out/preload"

set -f # scenario names are plain words; never glob them
# shellcheck disable=SC2086 # one scenario name per word
set -- $names
echo "1..$(($# + 1))"
k=0
failed=0
for name in "$@"; do
	k=$((k + 1))
	nat="$out/native/$name"
	pre="$out/preload/$name"
	# A known gap is a TAP TODO: reported, not counted as a failure, and
	# an unexpected pass (the gap is closed) fails until the list says so.
	todo=$(awk -v n="$name" '$1 == n { $1 = ""; sub(/^ /, ""); print " # TODO " $0 }' \
		"$top_srcdir/tests/diff/known-gaps")
	if [ ! -f "$nat" ]; then
		echo "not ok $k - $name"
		echo "# the native run has no section (shx-diff exited $native_rc)"
		tail -n 5 "$out/native.err" | comment
	elif grep -q '^!!' "$nat"; then
		echo "not ok $k - $name"
		echo "# the native run itself is broken:"
		grep '^!!' "$nat" | comment "  "
	elif [ ! -f "$pre" ]; then
		echo "not ok $k - $name"
		echo "# no section under the preload (shx-diff exited $preload_rc)"
	elif cmp -s "$nat" "$pre"; then
		echo "ok $k - $name$todo"
		continue
	else
		echo "not ok $k - $name$todo"
		echo "# --- native (expected)"
		echo "# +++ preload"
		diff -u "$nat" "$pre" | sed '1,2d' | comment
	fi
	failed=$((failed + 1))
done

k=$((k + 1))
if cmp -s "$out/preload.out" "$out/socket.out"; then
	echo "ok $k - every scenario the same with SHMEMX_CHANNEL=0 SHMEMX_SELFOPEN=0 (all through the socket)"
else
	echo "not ok $k - every scenario the same with SHMEMX_CHANNEL=0 SHMEMX_SELFOPEN=0 (all through the socket)"
	diff -u "$out/preload.out" "$out/socket.out" | sed '1,2d' | head -n 40 | comment
	failed=$((failed + 1))
fi

if [ -s "$out/preload/.preamble" ]; then
	echo "# stdout under the preload before the first scenario:"
	head -n 20 "$out/preload/.preamble" | comment "  "
fi
if [ "$failed" -gt 0 ]; then
	if [ -s "$out/preload.err" ]; then
		echo "# stderr under the preload (first lines):"
		head -n 30 "$out/preload.err" | comment "  "
	fi
	echo "# outputs kept in $out"
	export SHX_KEEP=1 # read by shx_cleanup
fi
# failures are reported as test points; the script itself succeeded
exit 0
