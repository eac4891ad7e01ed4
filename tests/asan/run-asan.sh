#!/bin/sh
# run-asan.sh -- `make check-asan`: the tree built again in build-asan/
# with AddressSanitizer and UndefinedBehaviorSanitizer, from a copy made by
# `make distdir` (so it works beside an in-tree build, and checks the
# distribution's file list on the way), and its `make check`.  The
# preloaded library is instrumented too, so programs under it get the ASan
# runtime preloaded first.
set -eu
build="$PWD/build-asan"
# (nonnull-attribute off: the bad-input probes pass NULL paths to libc on
# purpose, to compare the errors with the kernel's)
san="-fsanitize=address,undefined -fno-sanitize=nonnull-attribute -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
rm -rf "$build/src"
mkdir -p "$build/obj"
${MAKE:-make} distdir distdir="$build/src" >/dev/null
cd "$build/obj"
if [ ! -f Makefile ]; then
	../src/configure --enable-werror CFLAGS="-O1 -g $san" LDFLAGS="$san" >configure.out
fi
${MAKE:-make} -j2 >make.out
SHX_PRELOAD_FIRST=$(gcc -print-file-name=libasan.so)
# Leaks are not checked: the programs run under the preload (python,
# coreutils) are not ours to fix, and the manager is killed by the tests.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export SHX_PRELOAD_FIRST ASAN_OPTIONS UBSAN_OPTIONS
${MAKE:-make} -j2 check
