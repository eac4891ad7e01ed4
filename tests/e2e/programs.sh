#!/bin/bash
# tests/e2e/programs.sh -- real programs working in /tmp, as TAP for
# automake's tap-driver: tar, sort -T, sqlite3, git, gcc and make, find,
# du, cp -a, mv, ln -s, rm -rf, and a bash script around mktemp -d.  Each
# command line runs under the preload in a directory of the manager's /tmp
# and natively in a directory of the kernel's tmpfs (/dev/shm, made here
# with this run's pid in its name and removed at exit), and the outputs --
# listings with types, modes, link counts, sizes and link targets, check
# sums, program output, exit statuses -- must be the same, the directory
# spelled D in both.  The programs' own temporary files go to the same
# kind of place: TMPDIR is D/tmp.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

shx_sandbox
cd "$SHX_TMP" || exit 99
export LC_ALL=C TZ=UTC
umask 022
TAP_TIMEOUT=120
MANAGED=/tmp/shx-programs.$$
NATIVE=$(mktemp -d /dev/shm/shx-programs.XXXXXX) || bail_out "cannot make a directory in /dev/shm"
# shellcheck disable=SC2317 # called by the EXIT trap
remove_native() {
	local st=$?
	rm -rf -- "$NATIVE"
	(exit "$st")
	shx_cleanup
}
trap remove_native EXIT
shx_run mkdir "$MANAGED" || bail_out "cannot make $MANAGED"

# both SCRIPT: SCRIPT (bash, in D, TMPDIR=D/tmp) under the preload with
# D=$MANAGED and natively with D=$NATIVE; PRE and NAT get the outputs
# and "status N", D spelled D.
both() {
	local s="cd \$D && mkdir -p tmp && export TMPDIR=\$D/tmp && $1"
	PRE=$(D=$MANAGED shx_run t bash -c "$s" 2>&1)
	PRE+=$'\n'"status $?"
	NAT=$(D=$NATIVE t bash -c "$s" 2>&1)
	NAT+=$'\n'"status $?"
	PRE=${PRE//$MANAGED/D}
	NAT=${NAT//$NATIVE/D}
}

cmp_native() {
	both "$2"
	check_eq "$1" "$PRE" "$NAT"
	[ -z "${SHX_VERBOSE:-}" ] || diag "$PRE"
}

# A tree listing that two file systems can agree on: type, mode, link
# count, size (not of directories, which tmpfs sizes by entry), target.
# shellcheck disable=SC2016
LS='find "$1" -printf "%y %m %n %l %P " -type d -printf "-\n" -o -printf "%s\n" | sort'
export LS

# --- a tree with files, subdirectories, symlinks and hard links ----------------------------
# shellcheck disable=SC2016 # the scripts expand their own variables
{
cmp_native "a tree: files, an empty directory, symlinks in and out, a hard link" '
	mkdir -p tree/a/b tree/empty && seq 1 1000 > tree/numbers && printf x > tree/a/x
	head -c 100000 /dev/zero > tree/a/b/zeros && chmod 600 tree/a/x && chmod 750 tree/a
	ln -s numbers tree/rel && ln -s /etc/hostname tree/abs && ln -s nowhere tree/dangling
	ln tree/numbers tree/a/hard && ln -s ../numbers tree/a/up
	touch -d "2020-01-02 03:04:05" tree/numbers tree/a/x
	f() { eval "$LS"; }; f tree'

cmp_native "tar -c, then -t of the archive" '
	tar -cf t.tar tree && tar --numeric-owner -tvf t.tar | awk "{print \$1, \$3, \$6, \$7, \$8}" | sort
	tar -tf t.tar | wc -l'
cmp_native "tar -x elsewhere: the same tree, hard link, symlinks and times kept" '
	mkdir out && tar -xf t.tar -C out && f() { eval "$LS"; }; f out/tree
	stat -c "%Y %n" out/tree/numbers out/tree/a/x; cmp tree/numbers out/tree/a/hard && echo same'
cmp_native "tar -cz | tar -xz through a pipe, and tar --remove-files" '
	tar -czf - tree | (mkdir z && cd z && tar -xzf -) && diff -r tree z/tree && echo identical
	cp -a z/tree gone && tar -cf g.tar --remove-files gone && ls gone 2>&1; tar -tf g.tar | wc -l'

# --- sort -T with more input than its buffer -----------------------------------------------
cmp_native "sort -S 64K -T D/sorttmp of 300000 lines: temporary files in the mount" '
	mkdir sorttmp && seq 1 300000 | sed "s/\$/ line/" | shuf --random-source=tree/a/b/zeros > unsorted
	sort -S 64K -T sorttmp -n unsorted | md5sum; sort -S 64K -T sorttmp -r unsorted | tail -n 1
	ls sorttmp | wc -l; sort -m -T sorttmp <(seq 1 3) <(seq 2 4) | tr "\n" " "'

# --- sqlite3, its temporary files in D/tmp -------------------------------------------------
cmp_native "sqlite3: a database, an index, temp files for a sort, VACUUM, integrity_check" '
	sqlite3 db.sqlite "PRAGMA journal_mode=DELETE; PRAGMA temp_store=FILE;
		CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000)
		INSERT INTO t SELECT i, hex(randomblob(16)), i * 0.5 FROM n;
		CREATE INDEX tb ON t(b);
		SELECT count(*), sum(a), max(c) FROM t;
		SELECT count(*) FROM (SELECT b FROM t ORDER BY c DESC, b LIMIT 15000);
		DELETE FROM t WHERE a % 2; VACUUM;
		PRAGMA integrity_check; SELECT count(*) FROM t;" 2>&1
	ls db.sqlite*; ls tmp | wc -l'
cmp_native "sqlite3: WAL mode, two connections" '
	sqlite3 wal.sqlite "PRAGMA journal_mode=WAL; CREATE TABLE k(v); INSERT INTO k VALUES(1),(2);"
	sqlite3 wal.sqlite "INSERT INTO k VALUES(3); SELECT sum(v) FROM k;" &
	wait; sqlite3 wal.sqlite "SELECT count(*) FROM k; PRAGMA wal_checkpoint(TRUNCATE);" | head -n 1
	ls wal.sqlite*'

# --- git ------------------------------------------------------------------------------------
cmp_native "git init, commits, a branch, a merge, git gc, fsck" '
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
	export GIT_AUTHOR_DATE="2020-01-01 00:00:00 +0000" GIT_COMMITTER_DATE="2020-01-01 00:00:00 +0000"
	export HOME=$D GIT_CONFIG_NOSYSTEM=1
	git init -q -b main repo && cd repo && cp -r ../tree . && git add -A && git commit -qm one
	echo more >> tree/numbers && git commit -qam two && git checkout -qb side
	echo side > s && git add s && git commit -qm side && git checkout -q main
	echo main > m && git add m && git commit -qm main && git merge -q --no-edit side
	git gc -q --aggressive && git fsck --full 2>&1 | grep -v "^Checking" ; git log --format="%H %s"
	git count-objects -v | grep -v "^size"; ls .git/objects/pack | sed "s/-.*\./ /" | sort
	git status --porcelain | wc -l; git cat-file -p HEAD:tree/rel'

# --- gcc and make ----------------------------------------------------------------------------
cmp_native "gcc compiles, archives and links in the mount; the program runs from there" '
	mkdir cc && cd cc && printf "int twice(int x) { return 2 * x; }\n" > lib.c
	printf "#include <stdio.h>\nint twice(int);\nint main(void) { printf(\"%%d\\\\n\", twice(21)); return 0; }\n" > main.c
	gcc -O2 -c lib.c && ar rcs libt.a lib.o && gcc -O2 -o prog main.c -L. -lt && ./prog
	gcc -save-temps -c main.c -o main2.o && ls main.i main.s > /dev/null && echo temps
	nm lib.o | cut -c18-; ls $TMPDIR | wc -l; cmp main.o main2.o 2>/dev/null; echo $?'
cmp_native "make builds in the mount, runs a tool it built, and knows what is up to date" '
	mkdir mk && cd mk && printf "#include <stdio.h>\nint main(void) { puts(\"generated\"); return 0; }\n" > gen.c
	printf "all: out.txt\nout.txt: gen\n\t./gen > out.txt\ngen: gen.c\n\tgcc -o gen gen.c\nclean:\n\trm -f gen out.txt\n" > Makefile
	make -s && cat out.txt && make -s; echo again=$?; make -q; echo q=$?
	touch gen.c && make -q; echo q=$?; make -s clean && ls'

# --- coreutils and findutils on the tree ----------------------------------------------------
cmp_native "find with -type, -name, -newer, -links, -empty, -delete" '
	find tree -type f | sort; find tree -type l -name "*a*" | sort; find tree -links 2 -type f
	find tree -empty; find tree -newer tree/a/x -type f | sort; cp -a tree del
	find del -name "*.x" -delete; find del -depth -type l -delete; find del | sort'
cmp_native "du -a, du -s, du -sh --apparent-size, du -L" '
	du -a tree | sort -k2; du -s tree; du -sh --apparent-size tree; du -sL tree/rel'
cmp_native "cp -a keeps modes, times, symlinks, hard links; cp -r does not" '
	cp -a tree copy && f() { eval "$LS"; }; f copy; stat -c "%Y %n" copy/numbers
	cp -r tree rcopy && stat -c "%h %n" rcopy/numbers; cp -rL tree lcopy 2>&1 | sort
	ls -l lcopy | cut -c1'
cmp_native "mv within the mount, mv across to the real file system (copy), mv -T, mv over" '
	mv copy moved && ls moved | sort | head -n 3; mv moved/numbers moved/nums && ls moved/a
	mkdir -p far && mv -T moved far/m && ls far/m | wc -l; echo a > a1; echo b > b1
	mv -f a1 b1 && cat b1; mv far/m "$SHX_TMP"/xfer/m 2>&1; ls "$SHX_TMP"/xfer/m | wc -l; rm -rf "$SHX_TMP"/xfer/m'
cmp_native "ln -s, ln -sf, ln -sr, ln (hard), readlink -f, realpath" '
	ln -s tree/numbers n1 && ln -sf tree/a n1 2>&1; ln -sfn tree/a n1 && readlink n1
	ln -sr tree/a/b/zeros z1 && readlink z1 && ln tree/numbers hn && stat -c "%h" tree/numbers
	readlink -f n1/up | sed "s|^D/||"; realpath -s tree/a/../rel; ln tree hn2 2>&1'
cmp_native "rm -rf of a deep tree, with a non-empty directory and symlinks; rm errors" '
	mkdir -p deep/1/2/3/4/5 && touch deep/1/2/3/4/5/f deep/1/f && ln -s / deep/root
	rm -rf deep && ls; rm tree/a 2>&1; rm -d tree/a 2>&1; rmdir tree/empty tree/a 2>&1; ls tree'
cmp_native "a bash script: d=\$(mktemp -d); cd \"\$d\"; ...; cd /; rm -rf \"\$d\"" '
	d=$(mktemp -d) && cd "$d" && echo x > f && mkdir sub && (cd sub && pwd | sed "s|^$d|TMPD|")
	ls; cd .. && ls -d "$d" | sed "s|$d|TMPD|"; cd / && rm -rf "$d" && [ ! -e "$d" ] && echo removed
	case $d in "$TMPDIR"/tmp.*) echo "in TMPDIR" ;; esac'
}

shx_run rm -rf "$MANAGED"
tap_done
