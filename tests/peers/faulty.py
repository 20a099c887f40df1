"""Small misbehaving (and one well-behaved) DICOM Verification acceptors.

    with FaultyPeer("abort_on_echo") as peer:
        run_module(host=peer.host, port=peer.port)
        assert peer.connections == 1

One asyncio event loop in a daemon thread serves every connection, so the
`normal` mode can take hundreds of concurrent associations per second and a
stuck client can never block the test process.  Every connection is bounded by
`conn_timeout` seconds (default 120) and `stop()` cancels whatever is left.

Modes (see MODES; per-mode option defaults in MODE_DEFAULTS):

    silent              accept TCP, read, never answer
    close               close right after accept
    garbage             answer the A-ASSOCIATE-RQ with an HTTP 400 response
    abort_assoc         answer the RQ with A-ABORT(abort_source, abort_reason)
    stall_mid_pdu       send the first `partial` bytes of an A-ASSOCIATE-AC, stall
    reject              A-ASSOCIATE-RJ(result, source, reason); any byte values
    transient_reject    first `reject_first` associations get RJ(2,3,1), then normal
    echo_status         answer C-ECHO with `status` (default 0x0110)
    abort_on_echo       A-ABORT(abort_source, abort_reason) instead of the C-ECHO-RSP
    release_on_echo     A-RELEASE-RQ instead of the C-ECHO-RSP
    delay_echo          answer the C-ECHO after `delay` seconds
    stall_echo_mid_pdu  send the first `partial` bytes of the response P-DATA-TF, stall
    no_release_reply    echo fine, never answer A-RELEASE-RQ
    wrong_msg_id        MessageIDBeingRespondedTo = MessageID + `msg_id_offset`
    fragmented_echo     C-ECHO-RSP command split over `fragments` PDVs, one P-DATA-TF each
    max_pdu_zero        A-ASSOCIATE-AC advertises Maximum Length 0 (unlimited)
    no_verification     every context answered with result 3 (abstract syntax not supported)
    explicit_only       accept Explicit VR LE only; result 4 if it was not proposed
    normal              correct minimal Verification SCP

`closed_port()` gives a port with nothing listening.  Any called AE title is
accepted (`aet` is None); use `reject` to simulate AE title checks.

CLI (foreground, for shell tests; see also peerctl):
    python -m tests.peers.faulty MODE [--host H] [--port P] [--lifetime S] [key=value ...]
prints one JSON line {"mode", "host", "port", "pid"} once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import math
import os
import signal
import socket
import struct
import sys
import threading

if __package__:
    from . import dul
else:  # executed as a plain script: python tests/peers/faulty.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dul  # type: ignore[no-redef]

log = logging.getLogger(__name__)

MODES = (
    "silent", "close", "garbage", "abort_assoc", "stall_mid_pdu", "reject",
    "transient_reject", "echo_status", "abort_on_echo", "release_on_echo",
    "delay_echo", "stall_echo_mid_pdu", "no_release_reply", "wrong_msg_id",
    "fragmented_echo", "max_pdu_zero", "no_verification", "explicit_only", "normal",
)

DEFAULTS = {
    "status": 0x0000,          # C-ECHO-RSP status
    "delay": 8.0,              # delay_echo: seconds before answering
    "result": 1,               # reject: A-ASSOCIATE-RJ result/source/reason bytes
    "source": 1,
    "reason": 1,
    "reject_first": 1,         # transient_reject: how many associations to reject
    "abort_source": 2,         # A-ABORT source/reason bytes
    "abort_reason": 0,
    "partial": 8,              # stall_*: bytes of the PDU actually sent
    "fragments": 3,            # fragmented_echo: number of PDVs/P-DATA-TF PDUs
    "msg_id_offset": 1,        # wrong_msg_id
    "max_pdu": 16384,          # Maximum Length advertised in the A-ASSOCIATE-AC
    "conn_timeout": 120.0,     # hard limit for one connection, in seconds
}

MODE_DEFAULTS = {
    "echo_status": {"status": 0x0110},
    "stall_echo_mid_pdu": {"partial": 20},
    "max_pdu_zero": {"max_pdu": 0},
}

HTTP_400 = b"HTTP/1.1 400 Bad Request\r\n\r\n"
MAX_PDU_ACCEPTED = 4 * 1024 * 1024   # refuse absurd PDU lengths instead of buffering them
LINGER = 2.0                          # seconds to wait for the peer's close after our last PDU


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on `host` with nothing listening (bound once, never listened, closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _Conn:
    """One TCP connection, read by its own task like a real DUL provider.

    The reader runs independently of the (possibly delayed or stalled) service
    logic, so an A-ABORT or close from the requestor always ends the
    connection promptly.  DCMTK waits for the acceptor to close after sending
    A-ABORT; a peer that stopped reading would keep echoscu hanging.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.pdus: asyncio.Queue = asyncio.Queue()
        self.gone = asyncio.Event()  # requestor closed, reset, or sent A-ABORT
        self._reading = asyncio.ensure_future(self._read_loop())

    async def _read_loop(self) -> None:
        try:
            while True:
                pdu_type, _reserved, length = struct.unpack(">BBI", await self.reader.readexactly(6))
                if length > MAX_PDU_ACCEPTED:
                    break
                self.pdus.put_nowait((pdu_type, await self.reader.readexactly(length)))
                if pdu_type == dul.A_ABORT:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.gone.set()
            self.pdus.put_nowait(None)

    async def read_pdu(self) -> tuple[int, bytes] | None:
        """Next (type, body); None once the requestor is gone (and ever after)."""
        got = await self.pdus.get()
        if got is None:
            self.pdus.put_nowait(None)
        return got

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def hold(self, seconds: float | None = None) -> bool:
        """Stay silent until the requestor goes away (True) or `seconds` pass (False)."""
        try:
            await asyncio.wait_for(self.gone.wait(), seconds)
            return True
        except asyncio.TimeoutError:
            return False

    async def finish(self) -> None:
        """Graceful end after our last PDU: half-close, then wait for the requestor's close.

        Closing with unread input would make the kernel send RST, and the
        requestor could lose our final PDU; waiting also mirrors DUL's ARTIM.
        """
        try:
            if self.writer.can_write_eof():
                self.writer.write_eof()
        except OSError:
            pass
        await self.hold(LINGER)

    def close(self) -> None:
        self._reading.cancel()
        self.writer.close()


class FaultyPeer:
    """A DICOM acceptor misbehaving in one `mode`; see the module docstring."""

    def __init__(self, mode: str, host: str = "127.0.0.1", port: int = 0, **options):
        if mode not in MODES:
            raise ValueError("unknown mode %r; known: %s" % (mode, ", ".join(MODES)))
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise TypeError("unknown option(s) %s; known: %s" % (sorted(unknown), sorted(DEFAULTS)))
        self.mode = mode
        self.host = host
        self.port = port
        self.aet = None  # any called AE title is accepted
        self.options = {**DEFAULTS, **MODE_DEFAULTS.get(mode, {}), **options}
        # Observations, written only by the loop thread.
        self.connections = 0       # TCP connections accepted
        self.associations = 0      # A-ASSOCIATE-RQs received
        self.echoes = 0            # C-ECHO-RQs received
        self.requests: collections.deque[dul.AssociateRQ] = collections.deque(maxlen=256)
        self._rejected = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._handlers: dict[asyncio.Task, asyncio.Task] = {}  # callback task -> handler

    # --- lifecycle ----------------------------------------------------------

    def start(self, timeout: float = 10.0) -> "FaultyPeer":
        self._thread = threading.Thread(
            target=self._run, name="FaultyPeer-%s" % self.mode, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("FaultyPeer(%s) did not start within %ss" % (self.mode, timeout))
        if self._start_error is not None:
            raise RuntimeError("FaultyPeer(%s) failed to start: %s" % (self.mode, self._start_error))
        return self

    def stop(self, timeout: float = 5.0) -> None:
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:  # loop closed meanwhile
                pass
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> "FaultyPeer":
        return self if self._ready.is_set() else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "FaultyPeer(%r, host=%r, port=%r)" % (self.mode, self.host, self.port)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # report start failures to start()
            self._start_error = exc
        finally:
            self._ready.set()
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        # backlog 1024: bursts of concurrent clients must not hit SYN drops.
        server = await asyncio.start_server(
            self._on_connect, self.host, self.port, backlog=1024, reuse_address=True)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        server.close()
        for handler in self._handlers.values():
            handler.cancel()
        if self._handlers:  # let the callbacks run their finally blocks (close sockets)
            await asyncio.wait(list(self._handlers), timeout=3)

    # --- per connection -----------------------------------------------------

    async def _on_connect(self, reader, writer) -> None:
        self.connections += 1
        # stop() cancels this inner task, never the callback task itself:
        # Python 3.11's stream callback logs a traceback for a cancelled one.
        conn = _Conn(reader, writer)
        handler = asyncio.ensure_future(self._handle(conn))
        self._handlers[asyncio.current_task()] = handler
        try:
            await asyncio.wait_for(handler, self.options["conn_timeout"])
        except (asyncio.TimeoutError, ConnectionError, dul.ProtocolError) as exc:
            log.debug("%s: connection ended: %r", self.mode, exc)
        except asyncio.CancelledError:
            if not handler.cancelled():
                raise
        except Exception:
            log.exception("%s: handler failed", self.mode)
        finally:
            self._handlers.pop(asyncio.current_task(), None)
            conn.close()

    async def _handle(self, conn: _Conn) -> None:
        mode, opt = self.mode, self.options
        if mode == "close":
            return
        if mode == "silent":
            await conn.hold()
            return

        first = await conn.read_pdu()
        if first is None:
            return
        pdu_type, body = first
        if pdu_type == dul.A_ABORT:
            return
        if pdu_type != dul.A_ASSOCIATE_RQ:
            await conn.send(dul.abort(2, 2))  # unexpected PDU
            return await conn.finish()
        rq = dul.parse_associate_rq(body)
        self.associations += 1
        self.requests.append(rq)

        if mode == "garbage":
            await conn.send(HTTP_400)
            return await conn.finish()
        if mode == "abort_assoc":
            await conn.send(dul.abort(opt["abort_source"], opt["abort_reason"]))
            return await conn.finish()
        if mode == "reject":
            await conn.send(dul.associate_rj(opt["result"], opt["source"], opt["reason"]))
            return await conn.finish()
        if mode == "transient_reject" and self._rejected < opt["reject_first"]:
            self._rejected += 1
            await conn.send(dul.associate_rj(2, 3, 1))  # Temporary Congestion
            return await conn.finish()

        ac = dul.associate_ac(rq, self._negotiate(rq), opt["max_pdu"])
        if mode == "stall_mid_pdu":
            await conn.send(ac[:opt["partial"]])
            await conn.hold()
            return
        await conn.send(ac)
        await self._dimse_loop(conn, rq.max_pdu or 0)

    def _negotiate(self, rq: dul.AssociateRQ) -> list[tuple[int, int, str]]:
        wanted = (dul.EXPLICIT_VR_LE,) if self.mode == "explicit_only" else (
            dul.IMPLICIT_VR_LE, dul.EXPLICIT_VR_LE)
        results = []
        for ctx in rq.contexts:
            fallback = ctx.transfer_syntaxes[0] if ctx.transfer_syntaxes else dul.IMPLICIT_VR_LE
            if self.mode == "no_verification" or ctx.abstract_syntax != dul.VERIFICATION:
                results.append((ctx.context_id, dul.PC_ABSTRACT_SYNTAX_NOT_SUPPORTED, fallback))
                continue
            ts = next((t for t in ctx.transfer_syntaxes if t in wanted), None)
            if ts is None:
                results.append((ctx.context_id, dul.PC_TRANSFER_SYNTAXES_NOT_SUPPORTED, fallback))
            else:
                results.append((ctx.context_id, dul.PC_ACCEPTANCE, ts))
        return results

    async def _dimse_loop(self, conn: _Conn, peer_max_pdu: int) -> None:
        fragments: dict[int, bytearray] = {}
        while True:
            got = await conn.read_pdu()
            if got is None:
                return
            pdu_type, body = got
            if pdu_type == dul.P_DATA_TF:
                for context_id, control, data in dul.parse_p_data(body):
                    if not control & dul.PDV_COMMAND:
                        continue  # C-ECHO has no data set; ignore stray data PDVs
                    buf = fragments.setdefault(context_id, bytearray())
                    buf += data
                    if control & dul.PDV_LAST:
                        command = dul.parse_command(bytes(fragments.pop(context_id)))
                        if not await self._on_command(conn, context_id, command, peer_max_pdu):
                            return
            elif pdu_type == dul.A_RELEASE_RQ:
                if self.mode == "no_release_reply":
                    await conn.hold()
                    return
                await conn.send(dul.RELEASE_RP_PDU)
                return await conn.finish()
            elif pdu_type == dul.A_ABORT:
                return
            else:
                await conn.send(dul.abort(2, 2))  # unexpected PDU
                return await conn.finish()

    async def _on_command(self, conn: _Conn, context_id: int, command, peer_max_pdu: int) -> bool:
        """Answer one command; False when the association is over."""
        mode, opt = self.mode, self.options
        message_id = dul.command_us(command, 0x0110)
        if dul.command_us(command, 0x0100) != dul.C_ECHO_RQ or message_id is None:
            await conn.send(dul.abort(2, 0))  # only C-ECHO is supported
            await conn.finish()
            return False
        self.echoes += 1

        if mode == "abort_on_echo":
            await conn.send(dul.abort(opt["abort_source"], opt["abort_reason"]))
            await conn.finish()
            return False
        if mode == "release_on_echo":
            await conn.send(dul.RELEASE_RQ_PDU)
            await self._await_release_answer(conn)
            return False
        if mode == "delay_echo" and await conn.hold(opt["delay"]):
            return False  # requestor gave up (A-ABORT or close) while we "worked"
        if mode == "wrong_msg_id":
            message_id += opt["msg_id_offset"]

        rsp = dul.echo_rsp_command(message_id, opt["status"])
        if mode == "fragmented_echo":
            pieces = max(1, opt["fragments"])
            size = math.ceil(len(rsp) / pieces)
            chunks = [rsp[i:i + size] for i in range(0, len(rsp), size)]
        else:
            # Honour the requestor's Maximum Length (0 = unlimited); PDV overhead is 6 bytes.
            size = peer_max_pdu - 6 if peer_max_pdu > 6 else len(rsp)
            chunks = [rsp[i:i + size] for i in range(0, len(rsp), size)]
        pdus = b"".join(
            dul.p_data([(context_id, dul.PDV_COMMAND | (dul.PDV_LAST if i == len(chunks) - 1 else 0), c)])
            for i, c in enumerate(chunks))
        if mode == "stall_echo_mid_pdu":
            await conn.send(pdus[:opt["partial"]])
            await conn.hold()
            return False
        await conn.send(pdus)
        return True

    async def _await_release_answer(self, conn: _Conn) -> None:
        """After our A-RELEASE-RQ: close on RP, abort or EOF (echoscu answers with A-ABORT)."""
        while True:
            got = await conn.read_pdu()
            if got is None or got[0] in (dul.A_RELEASE_RP, dul.A_ABORT):
                return


# --- command line --------------------------------------------------------------

def parse_options(pairs: list[str]) -> dict:
    """key=value strings -> options; ints accept 0x.., then float, else string."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError("option %r is not key=value" % pair)
        for convert in (lambda v: int(v, 0), float):
            try:
                options[key] = convert(value)
                break
            except ValueError:
                continue
        else:
            options[key] = value
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.peers.faulty",
        description="Run one FaultyPeer in the foreground until SIGTERM/SIGINT or --lifetime.",
        epilog="modes: " + ", ".join(MODES) + "; options: " + ", ".join(sorted(DEFAULTS)))
    parser.add_argument("mode", choices=MODES, metavar="MODE")
    parser.add_argument("options", nargs="*", metavar="key=value")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=1800.0,
                        help="exit after this many seconds (default 1800)")
    args = parser.parse_args(argv)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with FaultyPeer(args.mode, args.host, args.port, **parse_options(args.options)) as peer:
        print(json.dumps({"mode": peer.mode, "host": peer.host, "port": peer.port,
                          "pid": os.getpid()}), flush=True)
        done.wait(args.lifetime)
    return 0


if __name__ == "__main__":
    sys.exit(main())
