# shellcheck shell=bash
# tests/e2e/tap.sh -- TAP helpers for the end-to-end test scripts.
#
# Sourced (bash).  Test points are numbered as they are reported and the
# plan is printed at the end by tap_done, which exits 0 when every point
# passed (or was skipped) and 1 otherwise -- a failing script also keeps its
# sandbox (tests/lib.sh keeps it on a non-zero exit).
#
#   tap_pass DESC                 ok
#   tap_fail DESC [DIAG...]       not ok, each DIAG as a "# " line
#   tap_skip DESC REASON          ok ... # SKIP REASON
#   tap_todo DESC REASON CMD...   like check, marked # TODO REASON
#   check DESC CMD...             ok if CMD exits 0; else its output as diagnostics
#                                 (check and check_fails keep it in $SHX_TMP)
#   check_fails DESC CMD...       ok if CMD exits non-zero
#   check_eq DESC GOT WANT        ok if the strings are equal; else both shown
#                                 (as a diff when they have several lines)
#   check_match DESC GOT ERE      ok if GOT matches the extended regex
#   check_empty DESC GOT          ok if GOT is empty; else it is shown
#   diag MSG...                   "# MSG" (a multi-line MSG gives several lines);
#                                 with no MSG, standard input
#   ok STATUS DESC                ok if STATUS is 0 (after a command: ok $? DESC)
#   skip DESC REASON              tap_skip
#   diag_file FILE [MAX]          the first MAX (30) lines of FILE as diagnostics
#   bail_out MSG                  "Bail out! MSG", exit 99
#   tap_done                      prints "1..N", exits 0 or 1
#   t CMD...                      CMD under a time limit (TAP_TIMEOUT, 30 s),
#                                 so a hang fails the test instead of make check

TAP_N=0
TAP_FAILED=0
TAP_TIMEOUT=${TAP_TIMEOUT:-30}

diag() {
	local line
	if [ $# -eq 0 ]; then # standard input, without a "# " it may have
		sed 's/^# //; s/^/# /'
		return
	fi
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

# ok STATUS DESC: a test point that passed if STATUS is 0, for checks
# written as a command followed by `ok $? "..."`.
ok() {
	if [ "$1" -eq 0 ]; then
		tap_pass "$2"
	else
		tap_fail "$2"
	fi
}

skip() {
	tap_skip "$1" "$2"
}

diag_file() {
	[ -s "$1" ] || return 0
	head -n "${2:-30}" "$1" | while IFS= read -r line; do
		printf '#   %s\n' "$line"
	done
}

tap_pass() {
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s\n' "$TAP_N" "$1"
}

tap_fail() {
	local d
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s\n' "$TAP_N" "$1"
	shift
	for d in "$@"; do
		diag "$d"
	done
	return 1
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	printf 'ok %d - %s # SKIP %s\n' "$TAP_N" "$1" "$2"
}

# Runs CMD with its output captured in $TAP_OUT (a file); the status is CMD's.
_tap_capture() {
	: "${TAP_OUT:=$(mktemp "${SHX_TMP:?}/tap-out.XXXXXX")}"
	"$@" >"$TAP_OUT" 2>&1
}

check() {
	local desc=$1 rc
	shift
	_tap_capture "$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		tap_pass "$desc"
	else
		tap_fail "$desc" "command: $*" "exit status: $rc"
		diag_file "$TAP_OUT"
	fi
}

check_fails() {
	local desc=$1 rc
	shift
	_tap_capture "$@"
	rc=$?
	if [ $rc -ne 0 ]; then
		tap_pass "$desc"
	else
		tap_fail "$desc" "command: $*" "succeeded; expected it to fail"
		diag_file "$TAP_OUT"
	fi
}

tap_todo() {
	local desc=$1 reason=$2 rc
	shift 2
	_tap_capture "$@"
	rc=$?
	TAP_N=$((TAP_N + 1))
	if [ $rc -eq 0 ]; then
		printf 'ok %d - %s # TODO %s\n' "$TAP_N" "$desc" "$reason"
	else
		printf 'not ok %d - %s # TODO %s\n' "$TAP_N" "$desc" "$reason"
		diag_file "$TAP_OUT" 10
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then
		tap_pass "$1"
	elif [[ $2$3 == *$'\n'* ]]; then
		# several lines: as a diff, expected (-) to got (+)
		tap_fail "$1" "--- expected" "+++ got" \
			"$(diff -u <(printf '%s\n' "$3") <(printf '%s\n' "$2") | sed '1,2d')"
	else
		tap_fail "$1" "got:      '$2'" "expected: '$3'"
	fi
}

check_match() {
	if [[ $2 =~ $3 ]]; then
		tap_pass "$1"
	else
		tap_fail "$1" "got:" "$2" "expected a match for: $3"
	fi
}

check_empty() {
	if [ -z "$2" ]; then
		tap_pass "$1"
	else
		tap_fail "$1" "expected nothing, got:" "$2"
	fi
}

bail_out() {
	printf 'Bail out! %s\n' "$*"
	exit 99
}

tap_done() {
	printf '1..%d\n' "$TAP_N"
	if [ "$TAP_FAILED" -gt 0 ]; then
		diag "$TAP_FAILED of $TAP_N failed"
		exit 1
	fi
	exit 0
}

t() {
	timeout -k 5 "$TAP_TIMEOUT" "$@"
}
