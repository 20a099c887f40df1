# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local peers the benchmark measures against, each in its own process.

* storescp (DCMTK, Debian's 3.6.7): listens on 0.0.0.0:<free port>, one association at a time.
* Orthanc (Debian's 1.10.1): its DICOM server always listens on 0.0.0.0; HTTP disabled,
  storage in a temporary directory, DicomCheckCalledAet false, stock DicomThreadsCount (4).
* the asyncio `normal` Verification SCP from tests/peers/faulty.py (reused, not copied), run
  as `python -m tests.peers.faulty normal --host 0.0.0.0` in a child process so it does not
  share the benchmark's interpreter (GIL) or event loop.

Listening on 0.0.0.0 lets one peer answer every 127.0.x.y address: the batch benchmarks probe
distinct loopback addresses, so 10,000 connections do not crowd one (address, port) 4-tuple
into TIME_WAIT.  Only loopback addresses are ever connected to.  Every peer is started with a
bounded lifetime and stopped by its own pid (terminate, then kill).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# DCMTK's, not pynetdicom's same-named app that the venv puts first on PATH
STORESCP = "/usr/bin/storescp" if os.path.exists("/usr/bin/storescp") else shutil.which("storescp")
ORTHANC = "/usr/sbin/Orthanc" if os.path.exists("/usr/sbin/Orthanc") else shutil.which("Orthanc")


class PeerError(RuntimeError):
    pass


# Listening ports come from below the kernel's ephemeral range (32768-60999 by default): the
# batches leave thousands of client sockets in TIME_WAIT on ephemeral ports, and storescp binds
# without SO_REUSEADDR, so a port from that range can be refused to it for a minute.
PORT_RANGE = (20000, 32000)


def free_port():
    """A TCP port outside the ephemeral range that was free a moment ago on every address."""
    for _attempt in range(200):
        port = random.randrange(*PORT_RANGE)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise PeerError("no free port in %d-%d" % PORT_RANGE)


def wait_listening(port, proc, timeout=15.0, host="127.0.0.1"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise PeerError("exited with %s before listening on port %d" % (proc.returncode, port))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise PeerError("not listening on port %d after %.0f s" % (port, timeout))


class Peer:
    """A peer process: ``name``, ``port``, ``proc``; stop() ends it by its pid."""

    def __init__(self, name, workdir):
        self.name = name
        self.workdir = workdir
        self.port = None
        self.proc = None
        self.version = None
        self.log_path = os.path.join(workdir, "%s.log" % name)

    def _spawn(self, argv, cwd=None):
        log = open(self.log_path, "wb")  # pylint: disable=consider-using-with  # closed with the process
        try:
            self.proc = subprocess.Popen(argv, cwd=cwd or self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as handle:
                return handle.read()[-400:].decode("utf-8", "replace").strip() or "(empty log)"
        except OSError:
            return "(no log)"

    def stop(self):
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def describe(self):
        return "%s %s on 0.0.0.0:%s (pid %s)" % (self.name, self.version or "", self.port, self.proc.pid if self.proc else "-")


def _first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in (out.stdout + out.stderr).splitlines():
        if line.strip():
            return line.strip()
    return None


def start_storescp(workdir, lifetime, fork=False):
    """storescp; ``fork``: one child process per association (--fork), so associations run concurrently."""
    peer = Peer("storescp", workdir)
    store = os.path.join(workdir, "storescp-out")
    os.makedirs(store, exist_ok=True)
    peer.version = _first_line([STORESCP, "--version"]) if STORESCP else None
    if not peer.version or "dcmtk" not in peer.version:
        raise PeerError("DCMTK storescp not found (got %s: %s)" % (STORESCP, peer.version))
    error = None
    for _attempt in range(3):
        peer.port = free_port()
        # storescp has no lifetime option: timeout(1) bounds it should the benchmark die hard.
        peer._spawn(["timeout", str(int(lifetime)), STORESCP, "--aetitle", "STORESCP", "--output-directory", store]
                    + (["--fork"] if fork else []) + [str(peer.port)])
        try:
            wait_listening(peer.port, peer.proc)
            return peer
        except PeerError as exc:
            peer.stop()
            error = "%s: %s" % (exc, peer.log_tail())
    raise PeerError("storescp did not start: %s" % error)


def start_orthanc(workdir, lifetime):
    peer = Peer("Orthanc", workdir)
    peer.version = _first_line([ORTHANC, "--version"])
    data = os.path.join(workdir, "orthanc-db")
    os.makedirs(data, exist_ok=True)
    error = None
    for _attempt in range(3):
        peer.port = free_port()
        config = {
            "Name": "dicom-network-bench", "StorageDirectory": data, "IndexDirectory": data, "Plugins": [],
            "HttpServerEnabled": False, "HttpPort": free_port(), "RemoteAccessAllowed": False,
            "DicomServerEnabled": True, "DicomAet": "ORTHANC", "DicomPort": peer.port,
            "DicomCheckCalledAet": False, "DicomAlwaysAllowEcho": True, "DicomModalities": {},
        }
        path = os.path.join(workdir, "orthanc.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(config, handle)
        peer._spawn(["timeout", str(int(lifetime)), ORTHANC, path])
        try:
            wait_listening(peer.port, peer.proc, timeout=30)
            return peer
        except PeerError as exc:
            peer.stop()
            error = "%s: %s" % (exc, peer.log_tail())
    raise PeerError("Orthanc did not start: %s" % error)


def start_asyncio_scp(workdir, lifetime):
    """tests/peers/faulty.py `normal` mode in a child process; it prints its port as JSON."""
    if not os.path.exists(os.path.join(ROOT, "tests", "peers", "faulty.py")):
        raise PeerError("tests/peers/faulty.py is missing")
    peer = Peer("asyncio-scp", workdir)
    peer.version = "tests/peers/faulty.py normal"
    peer.port = free_port()
    peer._spawn([sys.executable, "-m", "tests.peers.faulty", "normal", "--host", "0.0.0.0", "--port", str(peer.port),
                 "--lifetime", str(int(lifetime))], cwd=ROOT)
    try:
        wait_listening(peer.port, peer.proc)
    except PeerError as exc:
        peer.stop()
        raise PeerError("%s: %s" % (exc, peer.log_tail())) from None
    return peer
