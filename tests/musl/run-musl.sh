#!/bin/sh
# run-musl.sh -- `make check-musl`: the preload library and the end-to-end
# C test built with musl-gcc, the test run under a musl dynamic loader with
# the musl library preloaded, against this build's (glibc) manager.  The
# wire protocol is the same whatever libc either side uses.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
musl_gcc=${MUSL_GCC:-$(command -v musl-gcc || true)}
if [ -z "$musl_gcc" ]; then
	echo "check-musl: musl-gcc not found (Debian: apt-get install musl-tools)" >&2
	exit 1
fi
out="$top_builddir/build-musl"
mkdir -p "$out"
src="$top_srcdir"
cflags="-std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror"

echo "check-musl: building $out/libshmemx.so with $musl_gcc"
# shellcheck disable=SC2086
"$musl_gcc" $cflags -fPIC -shared -fvisibility=hidden \
	-I"$src/core" -I"$src/preload" -DSHX_BINDIR="\"$top_builddir/tools\"" \
	-Wl,--version-script="$top_builddir/preload/libshmemx.map" -Wl,-z,defs \
	-o "$out/libshmemx.so" \
	"$src"/preload/*.c \
	"$src/core/proto.c" "$src/core/conn.c" "$src/core/path.c" "$src/core/fdtab.c" \
	"$src/core/config.c" "$src/core/log.c" "$src/core/procfs.c"
# shellcheck disable=SC2086
"$musl_gcc" $cflags -o "$out/shx-e2e" "$src/tests/e2e/shx-e2e.c" -lpthread

# the same sandbox as every end-to-end test, with the musl library
SHMEMX_LIB="$out/libshmemx.so"
export SHMEMX_LIB
# (not sanitised: under make check-asan, glibc's ASan runtime stays out)
unset SHX_PRELOAD_FIRST
. "$src/tests/lib.sh"
shx_sandbox
shx_run "$out/shx-e2e" >"$out/shx-e2e.tap" 2>"$out/shx-e2e.err" || true
cat "$out/shx-e2e.tap"
pass=$(grep -c '^ok' "$out/shx-e2e.tap" || true)
fail=$(grep -c '^not ok' "$out/shx-e2e.tap" || true)
plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$out/shx-e2e.tap" | head -n 1)
echo "check-musl: $pass passed, $fail failed (plan: ${plan:-none})"
if [ "$fail" -ne 0 ] || [ -z "$plan" ] || [ "$pass" -ne "$plan" ]; then
	sed -n '1,20p' "$out/shx-e2e.err" >&2
	exit 1
fi
