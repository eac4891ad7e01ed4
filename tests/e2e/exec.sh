#!/bin/bash
# tests/e2e/exec.sh -- running programs stored in a mount, as TAP for
# automake's tap-driver: every exec call of libc (execv, execve, execvp,
# execvpe, execl, execlp, execle, fexecve, execveat), posix_spawn and
# posix_spawnp with open and chdir file actions, system, popen, and a
# vfork child that changes directory before it execs -- each under the
# preload on a directory of the manager's /tmp and natively on a directory
# of the real file system, the outputs compared (the directory spelled D in
# both).  Scripts see the kernel's argv ("$0" is the path they were run
# by), ENOEXEC goes to /bin/sh for execvp, and the errors are the kernel's.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.

: "${top_srcdir:?}" "${top_builddir:?}"
bin="$top_builddir/tests/e2e/shx-exec"
if [ ! -x "$bin" ]; then
	echo "Bail out! $bin is not built"
	exit 99
fi

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

shx_sandbox
cd "$SHX_TMP" || exit 99
export LC_ALL=C
umask 022
MANAGED=/tmp/shx-exec.$$
NATIVE=$SHX_TMP/native
export SHX_EXEC=$bin

# both SCRIPT: SCRIPT (bash, in $D, with $D the directory and $X the
# helper) under the preload with D=$MANAGED and natively with D=$NATIVE;
# PRE and NAT get the outputs and "status N", D spelled D.
both() {
	PRE=$(D=$MANAGED shx_run t bash -c "cd \$D && $1" 2>&1)
	PRE+=$'\n'"status $?"
	NAT=$(D=$NATIVE t bash -c "cd \$D && $1" 2>&1)
	NAT+=$'\n'"status $?"
	PRE=${PRE//$MANAGED/D}
	NAT=${NAT//$NATIVE/D}
}

cmp_native() {
	both "$2"
	check_eq "$1" "$PRE" "$NAT"
	[ -z "${SHX_VERBOSE:-}" ] || diag "$PRE"
}

# The programs, made the same way in both directories.
setup='mkdir -p $D/bin/dir && cd $D/bin &&
printf "#!/bin/sh\necho \"hello argv0=\$0 args=\$*\"; pwd\n" > hello &&
printf "#!/bin/sh -e\necho \"hello-e argv0=\$0 args=\$*\"\n" > hello-e &&
printf "echo \"noshebang argv0=\$0 args=\$*\"\n" > noshebang &&
printf "#!/bin/sh\necho never\n" > noexec &&
printf "#!/nonexistent/sh\n" > nointerp &&
printf "#!/bin/echo\n" > echoer &&
printf "#!/bin/echo   -n  two words  \n" > echoer-arg &&
printf "#!$D/bin/hello\n" > nested &&
printf "#!" > bare && cp /bin/true true &&
chmod 755 hello hello-e noshebang nointerp echoer echoer-arg nested bare true &&
chmod 644 noexec && ln -s hello link && ln -s nowhere dangling && ls'
mkdir "$NATIVE" && shx_run mkdir "$MANAGED" || bail_out "cannot make the directories"
cmp_native "the programs are made" "$setup"
shx_run t bash -c "[ -x $MANAGED/bin/hello ]"
ok $? "they are in the manager's /tmp"
[ ! -e "$MANAGED" ]
ok $? "and not in the kernel's"

X='$SHX_EXEC'
# --- the exec calls ----------------------------------------------------------------------
for call in execv execve execl execle; do
	cmp_native "$call of a script, an ELF binary, a symlink; \$0 and args as the kernel passes them" \
		"$X $call bin/hello a1; $X $call ./bin/true; echo true=\$?; $X $call \$D/bin/link a2"
	cmp_native "$call of #! lines: an argument, two words, a script as interpreter, none, a bare #!" \
		"$X $call bin/hello-e a3; $X $call bin/echoer a4; $X $call bin/echoer-arg a5
		 $X $call bin/nested a6; $X $call bin/nointerp; $X $call bin/bare"
	cmp_native "$call errors: no x bit, a directory, missing, dangling, not a directory, no #!" \
		"$X $call bin/noexec; $X $call bin/dir; $X $call bin/missing; $X $call bin/dangling
		 $X $call bin/hello/x; $X $call bin/noshebang"
done
for call in execvp execvpe execlp; do
	cmp_native "$call searches \$PATH, in the manager's directories too" \
		"PATH=\$D/bin:/usr/bin:/bin $X $call hello b1; PATH=/usr/bin:\$D/bin $X $call echoer b2"
	cmp_native "$call: a file without #! goes to /bin/sh" \
		"PATH=\$D/bin:/bin $X $call noshebang b3"
	cmp_native "$call: EACCES when only unrunnable ones are found, ENOENT when none" \
		"PATH=\$D/bin:\$D $X $call noexec; PATH=\$D/bin $X $call missing
		 PATH=\$D/bin $X $call dir"
	cmp_native "$call: an empty \$PATH entry is the working directory; a slash is no search" \
		"cd bin && PATH=/nonexistent: $X $call hello b4 && PATH= $X $call ./hello b5"
done
cmp_native "fexecve of a script: the kernel passes /dev/fd/N; close-on-exec: ENOENT" \
	"$X fexecve bin/hello c1; $X fexecve-cloexec bin/hello; $X fexecve-cloexec bin/true; echo \$?"
cmp_native "fexecve of O_PATH fds, errors" \
	"$X fexecve-path bin/true; echo \$?; $X fexecve bin/noexec; $X fexecve bin/dir"
cmp_native "execveat relative to a directory fd" \
	"$X -c bin execveat ./true; echo \$?; $X -c bin execveat noexec
	 $X -c \$D/bin/hello execveat x"
# The kernel names a script run through a dirfd "/dev/fd/N/name", which
# the interpreter opens; a managed directory fd does not survive exec, so
# the script gets its absolute path instead.
check_eq "execveat of a script relative to a managed directory fd: its absolute path" \
	"$(D=$MANAGED shx_run t bash -c "cd \$D && $bin -c bin execveat hello c2" 2>&1)" \
	"hello argv0=$MANAGED/bin/hello args=c2
$MANAGED"

# --- posix_spawn, system, popen, vfork -----------------------------------------------------
cmp_native "posix_spawn of a managed script, with stdout opened on a managed file" \
	"$X -o 1:\$D/out spawn bin/hello d1; cat out"
cmp_native "posix_spawn: an open action relative to the working directory, appending" \
	"echo first > out; $X -o 1:out:a spawn /bin/echo d2; cat out"
cmp_native "posix_spawn: a chdir action into a managed directory, a relative program" \
	"$X -c bin spawn ./hello d3; $X -c bin -o 1:here spawn /bin/pwd; cat bin/here"
cmp_native "posix_spawn errors: a missing program, a failing open action, a bad chdir" \
	"$X spawn bin/missing; $X -o 1:\$D/nodir/out spawn /bin/true; $X -c bin/hello spawn /bin/true
	 $X spawn bin/noexec"
cmp_native "posix_spawnp searches \$PATH; no /bin/sh for a file without #!" \
	"PATH=\$D/bin:/bin $X spawnp hello d4; PATH=\$D/bin:/bin $X spawnp noshebang
	 PATH=\$D/bin $X spawnp missing"
cmp_native "system() and popen() run managed scripts from a managed directory" \
	"cd bin && $X system './hello e1 && cat hello | head -n 1' && $X popen './hello e2; exit 3'"
cmp_native "a vfork child changes directory and execs; the parent's cwd is its own" \
	"$X -c bin vfork ./hello f1; $X -c bin vfork /bin/pwd; $X -c nodir vfork /bin/true"

# Python's subprocess is a vfork child that does chdir, closes every fd
# and execs; the parent keeps its directory and its managed fds.
check_eq "Python's subprocess with cwd= in the manager's /tmp" \
	"$(D=$MANAGED shx_run t python3 -c '
import os, subprocess
os.chdir(os.environ["D"])
fd = os.open("kept", os.O_CREAT | os.O_RDWR, 0o600)
r = subprocess.run(["./hello", "g1"], cwd="bin", capture_output=True, text=True)
os.write(fd, b"after")
print(r.stdout.replace(os.environ["D"], "D"), end="")
print(os.getcwd().replace(os.environ["D"], "D"), os.fstat(fd).st_size, os.fstat(fd).st_nlink)' 2>&1)" \
	"hello argv0=./hello args=g1
D/bin
D 5 1"

shx_run rm -rf "$MANAGED"
tap_done
