#!/bin/bash
# tests/e2e/special.sh -- FIFOs, device nodes and AF_UNIX sockets under
# /tmp, as TAP for automake's tap-driver: mkfifo and mknod with the
# kernel's errors, a FIFO between two processes (blocking opens, ENXIO),
# a character device that works, and sockets bound, connected, renamed and
# unlinked in a directory made under /tmp -- stream and datagram,
# getsockname and getpeername, the errors of connect.  Each part runs
# under the preload in the manager's /tmp and natively in a directory of
# the real file system, and the outputs are compared (the directory
# spelled D).  A program that is not preloaded cannot reach a socket bound
# under the manager's /tmp: that is the one thing told apart.
#
# Environment (from make check): top_srcdir, top_builddir, SHMEMX_LIB,
# SHMEMX_SHMEMD.

: "${top_srcdir:?}" "${top_builddir:?}"

# shellcheck source=SCRIPTDIR/../lib.sh
. "$top_srcdir/tests/lib.sh"
# shellcheck source=SCRIPTDIR/tap.sh
. "$top_srcdir/tests/e2e/tap.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
shx_sandbox
cd "$SHX_TMP" || exit 99
MANAGED=/tmp/shx-special.$$
NATIVE=$SHX_TMP/native
mkdir "$NATIVE" && shx_run mkdir "$MANAGED" || bail_out "cannot make the directories"
umask 022

cat >"$SHX_TMP/special.py" <<'PYEOF'
import errno
import os
import socket
import stat
import sys
import time

D = os.environ["D"]
os.chdir(D)


def err(f, *a):
    try:
        f(*a)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]


def mode(p, follow=True):
    st = os.stat(p) if follow else os.lstat(p)
    return f"{stat.filemode(st.st_mode)} nlink={st.st_nlink} size={st.st_size}"


def fifo():
    print("mkfifo", err(os.mkfifo, "p", 0o640), mode("p"))
    print("mkfifo again", err(os.mkfifo, "p"))
    print("mkfifo in a missing dir", err(os.mkfifo, "nodir/p"))
    print("mkfifo through a file", err(os.mkfifo, "p/x"))
    print("mkfifo trailing slash", err(os.mkfifo, "q/"))
    print("mknod S_IFDIR", err(os.mknod, "d", stat.S_IFDIR | 0o755))
    print("mknod bad type", err(os.mknod, "d", 0o170000 | 0o644))
    print("mknod regular", err(os.mknod, "r", stat.S_IFREG | 0o600), mode("r"))
    print("mknod type 0", err(os.mknod, "r0", 0o640), mode("r0"))
    r = os.open("p", os.O_RDONLY | os.O_NONBLOCK)
    w = os.open("p", os.O_WRONLY | os.O_NONBLOCK)
    print("fstat", stat.filemode(os.fstat(r).st_mode))
    os.write(w, b"through the fifo")
    print("read", os.read(r, 100))
    os.close(r)
    print("O_WRONLY|O_NONBLOCK, no reader", err(os.open, "p", os.O_WRONLY | os.O_NONBLOCK))
    os.close(w)
    print("O_DIRECTORY", err(os.open, "p", os.O_RDONLY | os.O_DIRECTORY))
    pid = os.fork()
    if pid == 0:  # the open blocks until the reader comes
        fd = os.open("p", os.O_WRONLY)
        os.write(fd, b"from the child")
        os._exit(0)
    time.sleep(0.1)
    fd = os.open("p", os.O_RDONLY)
    print("blocking open:", os.read(fd, 100), os.waitpid(pid, 0)[1])
    os.close(fd)
    print("listing", sorted((n, stat.filemode(os.lstat(n).st_mode)) for n in os.listdir(".")))
    with os.scandir(".") as it:
        print("d_type", sorted((e.name, e.is_file(follow_symlinks=False), e.is_dir()) for e in it))
    for n in ("p", "r", "r0"):
        os.unlink(n)


def device():
    print("mknod /dev/null", err(os.mknod, "null", stat.S_IFCHR | 0o666, os.makedev(1, 3)))
    st = os.stat("null")
    print(stat.filemode(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev))
    fd = os.open("null", os.O_RDWR)
    print("write", os.write(fd, b"gone"), "read", os.read(fd, 10))
    os.close(fd)
    print("mknod over it", err(os.mknod, "null", stat.S_IFCHR | 0o666, os.makedev(1, 3)))
    os.unlink("null")


def sockets():
    srv = socket.socket(socket.AF_UNIX)
    print("bind", err(srv.bind, D + "/s.sock"), mode("s.sock"))
    srv.listen()
    print("getsockname", srv.getsockname().replace(D, "D"))
    print("bind again", err(socket.socket(socket.AF_UNIX).bind, D + "/s.sock"))
    print("bind a bound socket", err(srv.bind, D + "/other"), os.path.exists("other"))
    print("bind in a missing dir", err(socket.socket(socket.AF_UNIX).bind, "nodir/s"))
    c = socket.socket(socket.AF_UNIX)
    c.connect("s.sock")
    a, addr = srv.accept()
    print("accept", repr(addr), "peer", c.getpeername().replace(D, "D"))
    c.sendall(b"ping")
    print("recv", a.recv(10))
    rel = socket.socket(socket.AF_UNIX)
    rel.bind("rel.sock")
    print("relative name", rel.getsockname())
    print("connect, nobody listening", err(socket.socket(socket.AF_UNIX).connect, "rel.sock"))
    print("connect, missing", err(socket.socket(socket.AF_UNIX).connect, "none"))
    open("file", "w").close()
    print("connect, a file", err(socket.socket(socket.AF_UNIX).connect, "file"))
    os.chmod("s.sock", 0o555)
    print("connect, no write permission (root passes)",
          err(socket.socket(socket.AF_UNIX).connect, "s.sock"))
    os.chmod("s.sock", 0o755)
    print("connect, wrong type", err(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect, "s.sock"))
    os.symlink("s.sock", "link")
    print("connect through a symlink", err(socket.socket(socket.AF_UNIX).connect, "link"))
    dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dg.bind("dg")
    cl = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    cl.bind(D + "/cl")
    cl.sendto(b"datagram", "dg")
    data, frm = dg.recvfrom(100)
    print("recvfrom", data, frm.replace(D, "D"))
    cl.sendmsg([b"by sendmsg"], [], 0, "dg")
    data, anc, fl, frm = dg.recvmsg(100)
    print("recvmsg", data, frm.replace(D, "D"))
    os.rename("s.sock", "moved.sock")
    socket.socket(socket.AF_UNIX).connect("moved.sock")
    print("renamed: connect works, the bound name stays", srv.getsockname().replace(D, "D"))
    os.unlink("moved.sock")
    print("unlinked: connect", err(socket.socket(socket.AF_UNIX).connect, "moved.sock"))
    os.mknod("mk", stat.S_IFSOCK | 0o600)
    print("mknod S_IFSOCK", mode("mk"), "connect", err(socket.socket(socket.AF_UNIX).connect, "mk"))
    print("open a socket", err(os.open, "dg", os.O_RDONLY))
    print("listing", sorted(os.listdir(".")))
    for n in ("rel.sock", "file", "link", "dg", "cl", "mk"):
        os.unlink(n)


{"fifo": fifo, "device": device, "sockets": sockets}[sys.argv[1]]()
PYEOF

# both PART: special.py PART under the preload in $MANAGED and natively
# in $NATIVE; PRE and NAT are the outputs (D for the directory) and status.
both() {
	PRE=$(D=$MANAGED shx_run t "$PY" "$SHX_TMP/special.py" "$1" 2>&1)
	PRE+=$'\n'"status $?"
	NAT=$(D=$NATIVE t "$PY" "$SHX_TMP/special.py" "$1" 2>&1)
	NAT+=$'\n'"status $?"
	PRE=${PRE//$MANAGED/D}
	NAT=${NAT//$NATIVE/D}
}

both fifo
check_eq "FIFOs: mkfifo and mknod with the kernel's errors, a FIFO between processes" "$PRE" "$NAT"
if [ "$(id -u)" -eq 0 ]; then
	both device
	check_eq "a character device made with mknod (root) works" "$PRE" "$NAT"
else
	tap_skip "a character device made with mknod" "needs CAP_MKNOD"
fi
both sockets
check_eq "AF_UNIX sockets bound, connected, renamed and unlinked under /tmp" "$PRE" "$NAT"

# The real nodes live in the manager's private directory, and go with
# their names.
check_eq "no real node is left behind" "$(ls -A "$SHX_TMP/nodes")" ""

# A socket under the manager's /tmp, reached by a preloaded server and
# client in two processes; a process without the preload does not see it.
D=$MANAGED shx_run "$PY" -c '
import os, socket
s = socket.socket(socket.AF_UNIX); s.bind(os.environ["D"] + "/srv"); s.listen()
print("listening", flush=True)
a, _ = s.accept(); a.sendall(b"hello from the server"); a.close()' >"$SHX_TMP/srv.out" &
srv=$!
for _ in $(seq 100); do grep -q listening "$SHX_TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
check_eq "another preloaded process connects to it" \
	"$(D=$MANAGED shx_run t "$PY" -c '
import os, socket
c = socket.socket(socket.AF_UNIX); c.connect(os.environ["D"] + "/srv"); print(c.recv(100).decode())')" \
	"hello from the server"
wait "$srv"
check_eq "a process without the preload does not see it" \
	"$(env -u LD_PRELOAD "$PY" -c "import os; print(os.path.exists('$MANAGED/srv'))")" False

shx_run rm -rf "$MANAGED"
tap_done
