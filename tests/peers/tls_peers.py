# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS peers on loopback for the tests: DCMTK storescp with +tls, and a Python TLS front end.

StorescpPeer(args) runs `storescp <args> <port>` (DCMTK 3.6.7 from Debian) on a free loopback port
and waits until it listens; TLSFront(backend_port, ...) is a TLS server in a thread that hands the
decrypted bytes to a plain backend, for what storescp 3.6.7 cannot be: a TLS 1.3-only server, and
one that records the SNI name it is sent. silent_listener() accepts TCP and never answers.

As a script (for the integration target's runme.sh):
  tls_peers.py start DIR   make a PKI in DIR/pki, start the peers, write DIR/vars.yml and DIR/pids
  tls_peers.py stop DIR    stop them
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

if __package__:
    from ._proc import tool
else:  # executed as a plain script: python tests/peers/tls_peers.py start|stop DIR (the integration targets)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _proc import tool  # type: ignore[no-redef]


def _dcmtk(program):
    """DCMTK's program (see _proc.tool), or None when DCMTK is not installed: the TLS tests skip then."""
    try:
        return tool(program)
    except FileNotFoundError:
        return None


STORESCP = _dcmtk("storescp")
ECHOSCU = _dcmtk("echoscu")


def _die_with_parent():
    """In the peer's child process before exec: SIGTERM when our process ends, however it ends.

    ansible-test units runs every test in a fork that leaves with os._exit(), skipping fixture teardown;
    this keeps such a test from leaving storescp processes behind. Linux only; elsewhere a no-op."""
    try:
        import ctypes  # pylint: disable=import-outside-toplevel

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port, timeout=10.0, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("peer exited with %s before listening on %d" % (process.returncode, port))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d after %ss" % (port, timeout))


class StorescpPeer:
    """`storescp ARGS PORT` on loopback, stopped on exit (terminate, then kill)."""

    def __init__(self, args, cwd=None, bound=True):
        self.args = list(args)
        self.bound = bound  # ends with the process that started it (False: outlives it, stopped by `stop`)
        self.port = free_port()
        self.cwd = cwd
        self.process = None
        self.log = None
        self._own_dir = None

    def start(self):
        if self.cwd is None:
            self._own_dir = tempfile.mkdtemp(prefix="storescp_")
        folder = self.cwd or self._own_dir
        self.log = os.path.join(folder, "storescp-%d.log" % self.port)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([STORESCP] + self.args + [str(self.port)], cwd=folder, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=_die_with_parent if self.bound else None)  # pylint: disable=subprocess-popen-preexec-fn
        try:
            wait_listening(self.port, process=self.process)
        except RuntimeError as exc:
            with open(self.log, "rb") as log:
                raise RuntimeError("%s: %s" % (exc, log.read().decode(errors="replace")[-2000:])) from None
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class TLSFront:
    """A TLS server (own thread and event loop) relaying to a plain backend port; records SNI names."""

    def __init__(self, backend_port, certfile, keyfile, minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_3,
                 cafile=None):
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certfile, keyfile)
        self.context.minimum_version = minimum
        self.context.maximum_version = maximum
        if cafile:
            self.context.load_verify_locations(cafile)
            self.context.verify_mode = ssl.CERT_REQUIRED
        self.sni = []
        self.context.sni_callback = self._record_sni
        self.port = None
        self._loop = None
        self._thread = None
        self._ready = threading.Event()
        self._stop = None

    def _record_sni(self, ssl_object, name, context):  # pylint: disable=unused-argument
        self.sni.append(name)

    async def _relay(self, reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def _client(self, reader, writer):
        try:
            back_reader, back_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._relay(reader, back_writer), self._relay(back_reader, writer))

    async def _main(self):
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0, ssl=self.context, ssl_handshake_timeout=10)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    def start(self):
        def run():
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._main())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("TLS front did not start")
        return self

    def stop(self):
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def silent_listener():
    """A listening socket that never accepts: TCP connects (the kernel's backlog), nothing ever answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def echoscu(args, timeout=30):
    """Run Debian's echoscu (the oracle); returns (exit code, stderr text)."""
    completed = subprocess.run([ECHOSCU] + [str(arg) for arg in args], capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL, check=False)
    return completed.returncode, completed.stderr


# ---- the integration target's peers -----------------------------------------------------------

def _peer_specs(pki):
    server = ["+tls", pki["server.key"], pki["server.pem"]]
    return {
        "require_cert": server + ["+cf", pki["ca.pem"]],
        "crl": server + ["+cf", pki["ca.pem"], "+crl", pki["ca.crl.pem"]],
        "anonymous": server + ["-ic"],
        "plain": [],
        "bcp195_ex": server + ["-ic", "+pz"],
        "legacy": server + ["-ic", "+px"],  # BCP 195: TLS 1.0 and 1.1 too (3.6.7's default profile takes 1.2+)
    }


def _start(directory):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from tls_pki import make_pki  # pylint: disable=import-outside-toplevel

    pki = make_pki(os.path.join(directory, "pki"))
    peers, pids = {}, []
    for name, args in _peer_specs(pki).items():
        peer = StorescpPeer(args, cwd=directory, bound=False)
        try:
            peer.start()
        finally:
            if peer.process is not None:  # recorded at once, so `stop` ends what did start
                pids.append(peer.process.pid)
                with open(os.path.join(directory, "pids"), "w") as handle:
                    handle.write("\n".join(str(pid) for pid in pids))
        peers[name] = peer.port
    with open(os.path.join(directory, "vars.yml"), "w") as handle:  # JSON is YAML
        json.dump({"tls_ports": peers, "pki": pki, "silent_port": None}, handle, indent=1)


def _stop(directory):
    try:
        with open(os.path.join(directory, "pids")) as handle:
            pids = [int(line) for line in handle if line.strip()]
    except OSError:
        return
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit("usage: tls_peers.py start|stop DIR")
    (_start if sys.argv[1] == "start" else _stop)(sys.argv[2])
