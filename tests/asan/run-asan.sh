#!/bin/sh
# run-asan.sh -- `make check-asan`: the whole tree configured again in
# build-asan/ with AddressSanitizer and UndefinedBehaviorSanitizer, built,
# and its `make check` run.  The preloaded library is instrumented too, so
# programs under it get the ASan runtime preloaded first.
set -eu
: "${abs_srcdir:?}"
build="$PWD/build-asan"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	"$abs_srcdir/configure" --enable-werror CFLAGS="-O1 -g $san" LDFLAGS="$san" >configure.out
fi
make -j2 >make.out
SHX_PRELOAD_FIRST=$(gcc -print-file-name=libasan.so)
# Leaks are not checked: the programs run under the preload (python,
# coreutils) are not ours to fix, and the manager is killed by the tests.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SHX_PRELOAD_FIRST ASAN_OPTIONS UBSAN_OPTIONS
make -j2 check
