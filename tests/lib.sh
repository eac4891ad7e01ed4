# tests/lib.sh -- sandbox for tests that run programs under the preload.
#
# Sourced by test scripts.  The environment comes from `make check`
# (tests/env.sh when run by hand): SHMEMX_LIB, SHMEMX_SHMEMD, SHMEMX_SHMEMCTL,
# top_srcdir, top_builddir.  shx_sandbox gives the script a private state
# directory, socket and manager; all of it is torn down when the script exits.

shx_sandbox() {
	: "${top_builddir:?}" "${SHMEMX_LIB:?}" "${SHMEMX_SHMEMD:?}"
	mkdir -p "$top_builddir/tests/sandbox"
	SHX_TMP=$(mktemp -d "$top_builddir/tests/sandbox/$(basename "$0" .sh).XXXXXX")
	SHX_TMP=$(cd "$SHX_TMP" && pwd)
	export SHX_TMP
	export SHMEMX_SOCKET="$SHX_TMP/shmemd.sock"
	export SHMEMX_IDLE_TIMEOUT=${SHMEMX_IDLE_TIMEOUT:-600}
	export SHMEMX_CONFIG=/dev/null
	trap shx_cleanup EXIT
	trap 'exit 130' INT TERM
	shx_manager "$SHMEMX_SOCKET" "$SHX_TMP/shmemd.log" --pidfile "$SHX_TMP/shmemd.pid"
	SHX_MANAGER_PID=$SHX_PID
}

# shx_manager SOCK LOG [OPTION...]: starts a manager of its own on SOCK
# (in the foreground, its output in LOG, the environment's settings) and
# waits until it listens; its pid in $SHX_PID.  Exits 99 if it does not
# come up.  The caller stops it.
shx_manager() {
	local sock=$1 log=$2 i=0
	shift 2
	SHMEMX_SOCKET=$sock "$SHMEMX_SHMEMD" --foreground "$@" >"$log" 2>&1 &
	SHX_PID=$!
	while [ ! -S "$sock" ]; do
		i=$((i + 1))
		if [ $i -gt 500 ] || ! kill -0 "$SHX_PID" 2>/dev/null; then
			echo "shx_manager: the manager on $sock did not start" >&2
			cat "$log" >&2
			exit 99
		fi
		sleep 0.01
	done
}

shx_cleanup() {
	status=$?
	if [ -n "${SHX_MANAGER_PID:-}" ]; then
		kill "$SHX_MANAGER_PID" 2>/dev/null
		wait "$SHX_MANAGER_PID" 2>/dev/null
	fi
	# a manager started on demand by the library records its pid here
	if [ -f "$SHX_TMP/shmemd.pid" ]; then
		kill "$(cat "$SHX_TMP/shmemd.pid")" 2>/dev/null
	fi
	shx_stragglers
	if [ $status -eq 0 ] && [ -z "${SHX_KEEP:-}" ]; then
		rm -rf "$SHX_TMP"
	else
		echo "sandbox kept in $SHX_TMP" >&2
	fi
	exit $status
}

# Processes that the test started and left running (anything with this
# sandbox in its environment) are killed, and named on stderr: a test
# must stop what it starts, and one that does not is shown up here.
shx_stragglers() {
	local e p c left="" list
	list=$(grep -lsz "^SHX_TMP=$SHX_TMP\$" /proc/[0-9]*/environ || true)
	# a moment for what is on its way out (Python's resource tracker
	# leaves once its program has)
	[ -z "$list" ] || { sleep 0.3; list=$(grep -lsz "^SHX_TMP=$SHX_TMP\$" /proc/[0-9]*/environ || true); }
	for e in $list; do
		p=${e#/proc/}
		p=${p%/environ}
		[ "$p" != $$ ] || continue
		# (the grep itself is gone by now; a manager was killed above;
		# no command line: exiting already)
		c=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-60)
		case $(cat "/proc/$p/comm" 2>/dev/null) in
		'') continue ;;
		shmemd) ;;
		*) [ -z "$c" ] || left="$left $p($c)" ;;
		esac
		kill -KILL "$p" 2>/dev/null || true
	done
	[ -z "$left" ] || echo "$(basename "$0"): killed what the test left running:$left" >&2
}

# Run a command under the preload.  SHX_PRELOAD_FIRST goes before the
# library (the ASan runtime, for make check-asan).
shx_run() {
	LD_PRELOAD="${SHX_PRELOAD_FIRST:+$SHX_PRELOAD_FIRST:}$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}
