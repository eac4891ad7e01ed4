#!/bin/bash
# tests/e2e/coreutils.sh -- the shell and coreutils on /dev/shm under the
# preload, with a private manager.
#
# A file written by a preloaded shell is in the manager's namespace: a
# process without the preload does not see it.  Then the same command
# lines run twice, under the preload on /dev/shm and natively in a private
# directory of the kernel's /dev/shm (made here, removed at exit), and
# their outputs -- contents, sizes, block counts, modes, link counts, error
# messages and exit statuses -- must be the same, the native directory
# being spelled /dev/shm.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.  SHX_VERBOSE=1 shows each output compared.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

shx_sandbox
cd "$SHX_TMP" || exit 99

# The native twin of the manager's /dev/shm: a directory of the kernel's.
NATIVE=$(mktemp -d /dev/shm/shx-e2e.XXXXXX) || bail_out "cannot make a directory in /dev/shm"
# shx_cleanup (the sandbox's EXIT trap) wants the script's exit status in $?
# shellcheck disable=SC2317 # called by the EXIT trap
remove_native() {
	local st=$?
	rm -rf -- "$NATIVE"
	(exit "$st")
	shx_cleanup
}
trap remove_native EXIT
export LC_ALL=C
umask 022

# both SCRIPT: runs SCRIPT (bash, with $D the directory) under the preload
# with D=/dev/shm and natively with D=$NATIVE; sets PRE and NAT to the
# outputs (stdout and stderr, then "status N"), the native one with $NATIVE
# spelled /dev/shm.
both() {
	PRE=$(D=/dev/shm shx_run t bash -c "$1" 2>&1)
	PRE+=$'\n'"status $?"
	NAT=$(D=$NATIVE t bash -c "$1" 2>&1)
	NAT+=$'\n'"status $?"
	NAT=${NAT//$NATIVE//dev/shm}
}

# cmp_native DESC SCRIPT: the outputs of both SCRIPT must be equal.
cmp_native() {
	both "$2"
	check_eq "$1" "$PRE" "$NAT"
	[ -z "${SHX_VERBOSE:-}" ] || diag "$PRE"
}

# --- the file lives in the manager ---------------------------------------------

check "echo hi > /dev/shm/x in a preloaded bash" shx_run t bash -c 'echo hi > /dev/shm/x'
check_eq "cat /dev/shm/x under the preload" "$(shx_run t cat /dev/shm/x 2>&1)" hi
if [ -e /dev/shm/x ]; then
	tap_skip "a process without the preload does not see /dev/shm/x" \
		"the kernel's /dev/shm has an x of its own"
else
	out=$(env -i PATH="$PATH" LC_ALL=C timeout 30 cat /dev/shm/x </dev/null 2>&1)
	rc=$?
	check_eq "a process without the preload (empty environment) cannot cat /dev/shm/x" \
		"$out (status $rc)" "cat: /dev/shm/x: No such file or directory (status 1)"
fi
check_eq "ls /dev/shm under the preload shows the manager's namespace only" \
	"$(shx_run t ls -A /dev/shm 2>&1)" x
shx_run rm -f /dev/shm/x

# --- the same command lines under the preload and natively -----------------------

# shellcheck disable=SC2016 # the scripts expand $D themselves
{
cmp_native "echo/cat/stat of a small file" \
	'echo hi > $D/x && cat $D/x && stat -c "%s %b %h %a %F" $D/x'

cmp_native "files made with umask 022, 077 and 002, and stat of each" \
	'printf "hello world" > $D/y; (umask 077; seq 1 100 > $D/private)
	 (umask 002; : > $D/empty); stat -c "%n %s %b %h %a %F" $D/y $D/private $D/empty'

# ls -l: names, sizes, modes, link counts (and owners); no dates
both 'ls -l --time-style=+ $D'
check_eq "ls -l /dev/shm lists the files with sizes and modes" \
	"$(grep -v '^ls: ' <<<"$PRE")" "$(grep -v '^ls: ' <<<"$NAT")"
check_eq "ls -l /dev/shm prints no error" \
	"$(grep '^ls: ' <<<"$PRE")" "$(grep '^ls: ' <<<"$NAT")"

cmp_native "ls -a, ls -1s, ls -i | wc -l" \
	'ls -a $D; ls -1s $D; ls -i $D | wc -l'

cmp_native "dd if=/dev/zero of=/dev/shm/z bs=1M count=8, then stat" \
	'dd if=/dev/zero of=$D/z bs=1M count=8 2>/dev/null; echo dd=$?
	 stat -c "%s %b %h %a" $D/z'

cmp_native "cp /dev/shm/z /dev/shm/z2 and cmp them" \
	'cp $D/z $D/z2 && cmp $D/z $D/z2 && echo same; stat -c "%s %b %h %a" $D/z2'

head -c 300000 /dev/urandom >"$SHX_TMP/random"
out_pre=$SHX_TMP/back-preload
out_nat=$SHX_TMP/back-native
cmp_native "cp a file in, cmp it, cp it out" \
	"cp $SHX_TMP/random \$D/r && cmp $SHX_TMP/random \$D/r && echo in-same
	 stat -c '%s %b %a' \$D/r
	 if [ \$D = /dev/shm ]; then o=$out_pre; else o=$out_nat; fi
	 cp \$D/r \$o && echo out-done"
check "the copy out of the manager equals the original (cmp without the preload)" \
	cmp "$SHX_TMP/random" "$out_pre"
check "cat under the preload piped to a native cmp" \
	bash -c "LD_PRELOAD=$SHMEMX_LIB cat /dev/shm/r | cmp - $SHX_TMP/random"

cmp_native "wc -c of files and of stdin" \
	'wc -c $D/z $D/x $D/r; wc -c < $D/z; wc -l $D/private'

cmp_native "head and tail" \
	'seq 1 10000 > $D/lines; head -n 3 $D/lines; tail -n 2 $D/lines
	 tail -n +9998 $D/lines; head -c 20 $D/lines | od -c; tail -c 7 $D/lines
	 head -n -9997 $D/lines | tail -n 1'

cmp_native "truncate -s shrinks, grows (sparse) and adds" \
	'truncate -s 100 $D/lines; stat -c "%s %b" $D/lines; tail -c 10 $D/lines; echo
	 truncate -s 1M $D/lines; stat -c "%s %b" $D/lines
	 truncate -s +50 $D/x; stat -c "%s %b" $D/x; od -c $D/x | tail -n 3
	 truncate -s 0 $D/z2; stat -c "%s %b" $D/z2
	 truncate -s 5 $D/new; stat -c "%s %b %a" $D/new
	 truncate -c -s 5 $D/absent; ls $D/absent'

cmp_native "cat > and >> (append)" \
	'echo one > $D/log; echo two >> $D/log; printf three >> $D/log; cat $D/log; wc -c < $D/log'

cmp_native "rm, and rm of a missing file" \
	'rm $D/z2; echo rm=$?; rm $D/nope; echo rm=$?; rm -f $D/nope; echo rmf=$?
	 rm -v $D/new'

cmp_native "ls after rm" 'ls $D'

cmp_native "test -e/-f/-s and [ -w ]" \
	'for f in x empty nope; do test -e $D/$f; printf "%s e%s" $f $?
	 test -f $D/$f; printf " f%s" $?; test -s $D/$f; printf " s%s" $?
	 [ -w $D/$f ]; printf " w%s\n" $?; done'

# mv needs rename(2), which came late to the library: compared once the
# library has it, skipped before.
if nm -D --defined-only "$SHMEMX_LIB" 2>/dev/null | grep -qw rename; then
	cmp_native "mv within /dev/shm, onto an existing file, and of a missing one" \
		'echo moved > $D/m1; mv $D/m1 $D/m2; echo mv=$?; ls $D/m1 $D/m2; cat $D/m2
		 echo other > $D/m3; mv $D/m3 $D/m2; cat $D/m2; mv $D/nope $D/m4; echo mv=$?
		 rm $D/m2'
else
	tap_skip "mv within /dev/shm" "rename(2) is not implemented in libshmemx yet"
fi

cmp_native "rm of everything through a glob, then ls -A" 'rm -f $D/*; ls -A $D; echo end'
}

tap_done
