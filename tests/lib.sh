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
	"$SHMEMX_SHMEMD" --foreground --pidfile "$SHX_TMP/shmemd.pid" \
		>"$SHX_TMP/shmemd.log" 2>&1 &
	SHX_MANAGER_PID=$!
	trap shx_cleanup EXIT
	trap 'exit 130' INT TERM
	i=0
	while [ ! -S "$SHMEMX_SOCKET" ]; do
		i=$((i + 1))
		if [ $i -gt 500 ] || ! kill -0 "$SHX_MANAGER_PID" 2>/dev/null; then
			echo "shx_sandbox: manager did not start" >&2
			cat "$SHX_TMP/shmemd.log" >&2
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
	if [ $status -eq 0 ] && [ -z "${SHX_KEEP:-}" ]; then
		rm -rf "$SHX_TMP"
	else
		echo "sandbox kept in $SHX_TMP" >&2
	fi
	exit $status
}

# Run a command under the preload.  SHX_PRELOAD_FIRST goes before the
# library (the ASan runtime, for make check-asan).
shx_run() {
	LD_PRELOAD="${SHX_PRELOAD_FIRST:+$SHX_PRELOAD_FIRST:}$SHMEMX_LIB${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
}
