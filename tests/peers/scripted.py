"""A DICOM acceptor that plays given bytes: the fake SCP of the differential fuzzer and the hostile tests.

    script = Script(assoc=Play([(0.0, ac_bytes)]), echo=Play([(0.0, rsp_bytes)]))
    with ScriptedPeer(lambda called_aet: script) as peer:
        ...connect to peer.host, peer.port...

A connection is served in three steps, each played when the requestor's PDU that starts it is
complete, whatever the requestor is (our engine or DCMTK's echoscu get the same bytes):

    assoc    after the A-ASSOCIATE-RQ
    echo     after the last fragment of a command set (the C-ECHO-RQ), however many PDUs carry it
    release  after an A-RELEASE-RQ

A Play sends its chunks (each after its own delay), then optionally repeats one PDU every
`interval` seconds for `duration` seconds (a never-ending stream), then ends as `then` says:

    "wait"   read the requestor's next PDU and play the step it starts (the default)
    "close"  half-close (FIN) and wait for the requestor to close: it sees EOF after our last byte,
             never a reset that could discard what we sent
    "hold"   stay silent until the requestor goes away

An A-ABORT, an EOF or anything else from the requestor ends the connection. `resolve(called_aet)`
chooses the Script, so one listener serves many different cases: the fuzzer puts the case number in
the called AE title. Every connection is bounded by `conn_timeout` seconds.

Observations (`peer.seen`, at most the last 4096): per connection the requestor's implementation
class UID and the PDU types it sent.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import struct
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

A_ASSOCIATE_RQ, P_DATA_TF, A_RELEASE_RQ, A_ABORT = 1, 4, 5, 7
MAX_REQUEST_PDU = 1 << 20  # a requestor's PDU larger than this ends the connection


@dataclass
class Play:
    """What the peer sends at one step: (delay, bytes) chunks, an optional stream, then `then`."""

    chunks: list = field(default_factory=list)
    then: str = "wait"
    interval: float = 0.0
    stream: bytes = b""
    duration: float = 0.0

    def data(self) -> bytes:
        return b"".join(chunk for _delay, chunk in self.chunks)


@dataclass
class Script:
    assoc: Play
    echo: Play | None = None
    release: Play | None = None


def release_rp() -> Play:
    return Play([(0.0, struct.pack(">BBI", 6, 0, 4) + bytes(4))], then="close")


def _called_aet(body: bytes) -> str:
    return body[4:20].decode("ascii", "replace").strip() if len(body) >= 20 else ""


def _implementation_uid(body: bytes) -> str:
    """The implementation class UID (user information sub-item 0x52) of an A-ASSOCIATE-RQ body."""
    offset = 68
    while offset + 4 <= len(body):
        kind, length = body[offset], struct.unpack_from(">H", body, offset + 2)[0]
        if kind == 0x50:
            sub, end = offset + 4, min(len(body), offset + 4 + length)
            while sub + 4 <= end:
                sub_kind, sub_length = body[sub], struct.unpack_from(">H", body, sub + 2)[0]
                if sub_kind == 0x52:
                    return body[sub + 4:sub + 4 + sub_length].decode("ascii", "replace").rstrip("\0 ")
                sub += 4 + sub_length
        offset += 4 + length
    return ""


def command_complete(body: bytes) -> bool:
    """True if this P-DATA-TF body holds a PDV that ends a command set."""
    offset = 0
    while offset + 6 <= len(body):
        (length,) = struct.unpack_from(">I", body, offset)
        if body[offset + 5] & 3 == 3:
            return True
        offset += 4 + max(length, 2)
    return False


class _Connection:
    def __init__(self, reader, writer, record):
        self.reader, self.writer, self.record = reader, writer, record

    async def read_pdu(self):
        """(type, body) of the requestor's next PDU, or None once it is gone."""
        try:
            header = await self.reader.readexactly(6)
            kind, length = header[0], struct.unpack_from(">I", header, 2)[0]
            if length > MAX_REQUEST_PDU:
                return None
            body = await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return None
        self.record["pdus"].append(kind)
        return kind, body

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def until_gone(self, seconds=None):
        """Read and drop whatever comes until EOF (True) or `seconds` pass (False)."""
        async def drain():
            while await self.reader.read(65536):
                pass
        try:
            await asyncio.wait_for(drain(), seconds)
            return True
        except asyncio.TimeoutError:
            return False
        except (ConnectionError, OSError):
            return True

    async def play(self, play: Play, gone_limit: float):
        """Send `play`; True if the step ends with "wait" (read the next PDU).

        The delays are kept on one schedule (chunk k is due at the sum of the first k delays), so a slow
        event loop delays a trickle but does not stretch it.
        """
        loop = asyncio.get_running_loop()
        due = loop.time()
        for delay, chunk in play.chunks:
            if delay:
                due += delay
                await asyncio.sleep(max(0.0, due - loop.time()))
            await self.send(chunk)
        if play.stream and play.interval:
            end = loop.time() + play.duration
            while loop.time() < end:
                if self.reader.at_eof():
                    return False
                await asyncio.sleep(play.interval)
                await self.send(play.stream)
        if play.then == "close":
            if self.writer.can_write_eof():
                self.writer.write_eof()
            await self.until_gone(gone_limit)
            return False
        if play.then == "hold":
            await self.until_gone(gone_limit)
            return False
        return True


class ScriptedPeer:
    """Plays `resolve(called_aet)`'s Script on every connection; a thread of its own, or serve() in a loop."""

    def __init__(self, resolve, host: str = "127.0.0.1", port: int = 0, conn_timeout: float = 60.0):
        self.resolve = resolve
        self.host, self.port = host, port
        self.conn_timeout = conn_timeout
        self.connections = 0
        self.seen: collections.deque = collections.deque(maxlen=4096)
        self._loop = self._stopping = self._thread = None
        self._ready = threading.Event()
        self._error = None

    async def serve(self, ready=None):
        """Listen until stop() (or the task is cancelled); ``ready()`` is called once listening."""
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._on_connect, self.host, self.port, backlog=4096, reuse_address=True)
        self.port = server.sockets[0].getsockname()[1]
        if ready is not None:
            ready()
        try:
            await self._stopping.wait()
        finally:
            server.close()

    async def _on_connect(self, reader, writer):
        self.connections += 1
        record = {"called_aet": None, "client": None, "pdus": []}
        self.seen.append(record)
        conn = _Connection(reader, writer, record)
        try:
            await asyncio.wait_for(self._serve(conn, record), self.conn_timeout)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        except Exception:  # pylint: disable=broad-except  # a bad script must not kill the listener
            log.exception("scripted peer: connection failed")
        finally:
            writer.close()

    async def _serve(self, conn, record):
        first = await conn.read_pdu()
        if first is None or first[0] != A_ASSOCIATE_RQ:
            return
        record["called_aet"] = _called_aet(first[1])
        record["client"] = _implementation_uid(first[1])
        script = self.resolve(record["called_aet"])
        if script is None:
            return
        step = script.assoc
        while step is not None and await conn.play(step, self.conn_timeout):
            step = None
            while step is None:
                got = await conn.read_pdu()
                if got is None or got[0] not in (P_DATA_TF, A_RELEASE_RQ):
                    return
                if got[0] == A_RELEASE_RQ:
                    step = script.release or release_rp()
                elif command_complete(got[1]):
                    step = script.echo
                    if step is None:
                        return

    # ---- in a thread of its own ---------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> "ScriptedPeer":
        def run():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self.serve(self._ready.set))
            except BaseException as exc:  # pylint: disable=broad-except  # reported by start()
                self._error = exc
            finally:
                self._ready.set()
                tasks = asyncio.all_tasks(loop)
                for task in tasks:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                loop.close()

        self._thread = threading.Thread(target=run, name="ScriptedPeer", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            raise RuntimeError("ScriptedPeer did not start: %s" % self._error)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stopping.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> "ScriptedPeer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
