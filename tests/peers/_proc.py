"""Process and port helpers shared by real.py and peerctl.py (Linux only)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path


# pynetdicom installs console scripts named echoscu, storescp, ... into the virtualenv's bin
# directory, which comes first on PATH in every test venv: a bare "echoscu" would run pynetdicom's
# app, not DCMTK's. DCMTK tools are therefore always called by absolute path.
TOOL_DIRS = tuple(d for d in (os.environ.get("DCMTK_BIN_DIR"), "/usr/bin", "/usr/local/bin", "/usr/sbin") if d)


def tool(name: str) -> str:
    """Absolute path of the DCMTK (or Orthanc) executable `name`, skipping script shims."""
    for directory in TOOL_DIRS:
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            with open(path, "rb") as handle:
                if handle.read(2) != b"#!":  # pynetdicom's entry points are Python scripts
                    return path
    raise FileNotFoundError("%s (DCMTK/Orthanc) not found in %s; install the Debian package" % (name, ", ".join(TOOL_DIRS)))


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral port that was free a moment ago.

    There is an unavoidable race until the server binds it; callers retry on
    "address in use" instead of trying to be clever here.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state (0A) on `port`, IPv4 and IPv6."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def listens(pid: int, port: int) -> bool:
    """True once process `pid` itself holds a listening socket on `port`.

    Stronger than "something accepts on the port" (a stray process could own
    it), and unlike a probe connection it costs the server no association.
    """
    return bool(_listening_inodes(port) & _socket_inodes(pid))


def alive(pid: int) -> bool:
    """True if pid exists and is not a zombie (zombies are not reaped in some containers)."""
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_group(pgid: int, proc: subprocess.Popen | None = None, grace: float = 3.0) -> None:
    """SIGTERM the process group, SIGKILL it after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None and not _group_alive(pgid):
                return
            if proc is None and not _group_alive(pgid):
                return
            time.sleep(0.02)
    if proc is not None:
        try:
            proc.wait(1)
        except subprocess.TimeoutExpired:
            pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # killpg(0) also succeeds for zombies; look for one live member.
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                return True
    return False


def tail(path: Path, lines: int = 30, max_bytes: int = 8192) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - max_bytes))
            text = handle.read().decode("utf-8", "replace")
    except OSError as exc:
        return "<no log: %s>" % exc
    return "\n".join(text.splitlines()[-lines:])


def die_with_parent_prefix() -> list[str]:
    """argv prefix that SIGKILLs the child when the starting *thread* dies.

    util-linux setpriv sets PR_SET_PDEATHSIG without a preexec_fn (which is
    unsafe with threads).  The kernel ties it to the thread that forked, so
    peers started from a short-lived worker thread would die with it: only
    use it from the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return []
    for candidate in ("/usr/bin/setpriv", "/bin/setpriv"):
        if os.access(candidate, os.X_OK):
            return [candidate, "--pdeathsig", "KILL", "--"]
    return []
