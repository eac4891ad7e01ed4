#!/bin/bash
# tests/e2e/ctl-views.sh -- what shmemctl's views print, as TAP.
#
# stats (text, --json, and --prometheus checked against the text
# exposition format's grammar), quota, ls with its app, resident and
# mapped-by columns, top run once and a few times (text and --json), and
# their errors.  An app "viewer" keeps one object mapped while the views
# are looked at.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD, SHMEMX_SHMEMCTL, PYTHON3.

: "${top_srcdir:?}" "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}" "${SHMEMX_SHMEMCTL:?}"
if ! py=$("${PYTHON3:-python3}" -c 'import sys; print(sys.executable)' 2>/dev/null); then
	echo "1..0 # SKIP no python3"
	exit 0
fi
. "$top_srcdir/tests/e2e/tap.sh"
export SHMEMX_SIZE=64M
unset SHMEMX_APP SHMEMX_NR_INODES
# shellcheck source=SCRIPTDIR/../lib.sh disable=SC1091
. "$top_srcdir/tests/lib.sh"
shx_sandbox
ctl() { timeout 20 "$SHMEMX_SHMEMCTL" "$@"; }
jsonok() { "$py" -m json.tool >/dev/null; }

# A process of app "viewer" that maps 100K of an object it touched.
mkfifo "$SHX_TMP/fifo-in"
"$SHMEMX_SHMEMCTL" run --app viewer --quota 32M,100 -- "$py" -c '
import mmap, os, sys, time
fd = os.open("/dev/shm/mapped", os.O_CREAT | os.O_RDWR, 0o600)
os.ftruncate(fd, 1 << 20)
m = mmap.mmap(fd, 1 << 20)
m[:102400] = b"m" * 102400
print(os.getpid(), flush=True)
sys.stdin.read()
' <"$SHX_TMP/fifo-in" >"$SHX_TMP/viewer.out" 2>&1 &
runner=$!
exec 9>"$SHX_TMP/fifo-in"
trap 'st=$?; exec 9>&-; wait $runner 2>/dev/null; (exit $st); shx_cleanup' EXIT
for _ in $(seq 200); do [ -s "$SHX_TMP/viewer.out" ] && break; sleep 0.05; done
viewer=$(head -n 1 "$SHX_TMP/viewer.out")
shx_run sh -c 'printf abc > /dev/shm/plain'

# --- stats -------------------------------------------------------------------------
out=$(ctl stats)
check_match "stats: the manager's lines" "$out" $'(^|\n)size: +[0-9.]+[KM]? of 64M '
check_match "stats: a table of groups" "$out" \
	$'\nGROUP +USED +LIMIT +USE% +INODES +LIMIT +RESIDENT +SWAPPED +OBJECTS +CLIENTS\n'
check_match "stats: the manager's row" "$out" $'\nmanager +[0-9.]+[KM] +64M '
check_match "stats: the user's row" "$out" $'\nuser '"$(id -un)"' +[0-9.]+[KM] +- +- '
check_match "stats: the app's row, with its limits, 1 object and 1 client" "$out" \
	$'\napp viewer +1M +32M +3\\.1% +1 +100 +100K +0 +1 +1\n'
check_match "stats: then the pager's figures" "$out" \
	$'\n\nbudget: .*\nresident: .*\nswapped: .*\nswap: .*\npage-ins: +[0-9]+ pages\npage-outs: +[0-9]+ pages'

json=$(ctl --json stats)
jsonok <<<"$json"
ok $? "stats --json parses"
out=$("$py" -c '
import json, sys
d = json.loads(sys.argv[1])
g = {(x["kind"], x["app"]): x for x in d["groups"]}
v = g[("app", "viewer")]
print(d["objects"], g[("manager", None)]["size_used"] == d["size_used"], v["size_used"],
      v["size_limit"], v["inodes_limit"], v["resident"], v["objects"], v["clients"],
      g[("user", None)]["size_limit"], d["paging"]["pageouts"] >= 0, d["paging"]["budget"] > 0)' "$json")
check_eq "stats --json: figures of the groups, and the pager's" "$out" \
	"2 True 1048576 33554432 100 102400 1 1 None True True"

prom=$(ctl --prometheus stats)
check_eq "stats --prometheus exits 0" "$?" 0
out=$("$py" - "$prom" <<'PY'
import re, sys
# The text exposition format (Prometheus 0.0.4): comment lines, samples
# "name{label="value",...} value [timestamp]", one TYPE per metric before
# its samples, a metric's samples together, label sets unique.
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
value = r'(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)'
sample = re.compile(r'^(%s)(?:\{(%s(?:,%s)*)?,?\})? (%s)(?: -?[0-9]+)?$' % (name, label, label, value))
help_ = re.compile(r'^# HELP (%s) (?:[^\\\n]|\\[\\n])*$' % name)
type_ = re.compile(r'^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$' % name)
typed, helped, done, seen, current, errors, samples = {}, set(), set(), set(), None, [], 0
for n, line in enumerate(sys.argv[1].split("\n"), 1):
    if not line:
        errors.append("%d: empty line" % n); continue
    m = help_.match(line)
    if m:
        if m.group(1) in helped: errors.append("%d: second HELP" % n)
        helped.add(m.group(1)); continue
    m = type_.match(line)
    if m:
        if m.group(1) in typed: errors.append("%d: second TYPE" % n)
        if m.group(1) in done: errors.append("%d: TYPE after samples" % n)
        typed[m.group(1)] = m.group(2); continue
    if line.startswith("#"):
        continue
    m = sample.match(line)
    if not m:
        errors.append("%d: not a sample: %s" % (n, line)); continue
    samples += 1
    metric = m.group(1)
    if metric != current:
        if metric in done: errors.append("%d: %s samples apart" % (n, metric))
        if current: done.add(current)
        current = metric
    if metric not in typed: errors.append("%d: %s has no TYPE" % (n, metric))
    key = (metric, m.group(2))
    if key in seen: errors.append("%d: duplicate series" % n)
    seen.add(key)
print("\n".join(errors) if errors else "ok %d" % samples)
PY
)
check_match "stats --prometheus follows the text format's grammar" "$out" '^ok [0-9]+$'
check_match "the app's limit as a labelled gauge" "$prom" \
	$'(^|\n)shmemx_size_limit_bytes\\{group="app",user="[^"]+",app="viewer"\\} 33554432(\n|$)'
check_match "no limit is +Inf" "$prom" \
	$'(^|\n)shmemx_size_limit_bytes\\{group="user",user="[^"]+"\\} \\+Inf(\n|$)'
check_match "the pager's counters" "$prom" \
	$'(^|\n)# TYPE shmemx_pageouts_total counter\nshmemx_pageouts_total [0-9]+(\n|$)'
check_match "resident bytes of the app" "$prom" \
	$'(^|\n)shmemx_resident_bytes\\{group="app",user="[^"]+",app="viewer"\\} 102400(\n|$)'

# --- quota -----------------------------------------------------------------------
out=$(ctl quota)
check_match "quota: the same table" "$out" $'^GROUP .*\nmanager .*\nuser .*\napp viewer '
ctl --json quota | jsonok
ok $? "quota --json parses"

# --- ls ---------------------------------------------------------------------------
out=$(ctl ls)
check_match "ls: the header has app, resident, swapped and mapped-by" "$(head -n 1 <<<"$out")" \
	'SIZE +CHARGED +MODE +USER +APP +RESIDENT +SWAPPED +MAPPED-BY +HOLDERS +CREATOR +AGE +PATH'
check_match "ls: the mapped object, its app, resident bytes and who maps it" "$out" \
	"1M +1M +-rw------- +[^ ]+ +viewer +100K +0 +$viewer +1 +$viewer +[0-9]+s +/dev/shm/mapped"
check_match "ls: an object of no app" "$out" \
	' +3 +4K +-rw-r--r-- +[^ ]+ +- +[0-9.]+K? +0 +- +0 +[0-9]+ +[0-9]+s +/dev/shm/plain'
json=$(ctl --json ls)
jsonok <<<"$json"
ok $? "ls --json parses"
out=$("$py" -c '
import json, sys
o = {x["path"]: x for x in json.loads(sys.argv[1])}
m, p = o["/dev/shm/mapped"], o["/dev/shm/plain"]
print(m["app"], m["resident"], m["mapped_by"], m["swapped"], p["app"], p["mapped_by"], m["backtrace"])' "$json")
check_eq "ls --json: app, resident, mapped_by, swapped" "$out" \
	"viewer 102400 [$viewer] 0 None [] None"

# --- top ----------------------------------------------------------------------------
out=$(ctl top -n 1)
check_match "top -n 1: a title, the groups and the largest objects" "$out" \
	$'^shmemctl top - [0-9:]+ - .*\n\nGROUP .*\nmanager .*\n(.*\n)*app viewer .*\n\n +SIZE +CHARGED .*\n +1M .*/dev/shm/mapped\n +3 .*/dev/shm/plain$'
[ "$(ctl top --once)" != "" ] && ! ctl top --once | grep -q $'\033'
ok $? "top --once: the same, with no terminal codes when not on a terminal"
out=$(ctl top -n 3 -d 0.1 | grep -c '^shmemctl top')
check_eq "top -n 3 -d 0.1: three screens" "$out" 3
out=$(ctl top --json -n 2 -d 0.1)
check_eq "top --json: one object a screen" "$(wc -l <<<"$out")" 2
out=$(head -n 1 <<<"$out" | "$py" -c '
import json, sys
d = json.load(sys.stdin)
print(len(d["groups"]), [o["path"] for o in d["objects"]])')
check_eq "top --json: groups and objects, largest first" "$out" \
	"3 ['/dev/shm/mapped', '/dev/shm/plain']"
ctl top -n 0 2>/dev/null
check_eq "top -n 0: usage error" "$?" 2
ctl top -d x 2>/dev/null
check_eq "top -d x: usage error" "$?" 2

# --- help and errors ---------------------------------------------------------------
out=$(ctl --help)
for c in stats ls top run quota ipcs; do
	check_match "--help lists $c" "$out" $'\n  '"$c "
done
ctl --prometheus ls 2>/dev/null
check_eq "--prometheus elsewhere than stats: usage error" "$?" 2
ctl quota frob 2>/dev/null
check_eq "quota with an unknown action: usage error" "$?" 2
ctl quota set --app viewer 1Q 2>"$SHX_TMP/err"
check_eq "quota set with a bad size: usage error" "$?" 2
check_match "which says what a size looks like" "$(cat "$SHX_TMP/err")" '512M or 1.5G'

exec 9>&-
wait $runner
shx_run rm /dev/shm/mapped /dev/shm/plain
tap_done
