# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small DICOM Verification SCP for `make demo` and the audit benchmark, on asyncio, stdlib only.

One process serves many listeners (address:port pairs on loopback), each with its own called AE
title check, transfer syntax preference and echo delay, and hundreds of concurrent associations.

    demo_scp.py --listen 127.0.0.1:11112 --aet ARCHIVE
    demo_scp.py --config listeners.json --pidfile scp.pid --ready-file scp.ready

listeners.json:
    {"listeners": [{"address": "127.0.0.1", "port": 11112, "ae_title": "ARCHIVE",
                    "transfer_syntaxes": ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"],
                    "delay_ms": 0, "state": "up",
                    "after": {"state": "down"}}]}

* ae_title: the called AE title required (A-ASSOCIATE-RJ 1/1/7 "called AE title not recognized"
  otherwise); null accepts any.
* transfer_syntaxes: the SCP's preference order; a context is accepted with the first of them the
  requestor proposed (result 4 if none). Default: Explicit VR Little Endian, Implicit VR Little Endian.
* delay_ms: wait this long before answering each C-ECHO. state: "up" listens, "down" does not.
* after: the settings SIGUSR1 switches to (a simulated change in the fleet, for the audit demo);
  once they are applied, READY_FILE.changed is written.

SIGTERM or SIGINT stops it (also --lifetime seconds, default 3600). Loopback addresses only.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ipaddress
import json
import os
import signal
import struct
import sys

VERIFICATION = "1.2.840.10008.1.1"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
DEFAULT_SYNTAXES = ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]
IMPLEMENTATION_CLASS_UID = "2.25.305836179271931473386950519634262532551"
IMPLEMENTATION_VERSION = "DEMO_SCP_1"
IDLE_TIMEOUT = 30.0
MAX_PDU = 1 << 20


def _item(kind, payload):
    return struct.pack(">BBH", kind, 0, len(payload)) + payload


def _uid(text):
    data = text.encode("ascii")
    return data + b"\0" if len(data) % 2 else data


def _pdu(kind, payload):
    return struct.pack(">BBI", kind, 0, len(payload)) + payload


def parse_associate_rq(body):
    """-> (called AE, calling AE, [(context id, abstract syntax, [transfer syntaxes])])."""
    called = body[4:20].decode("ascii", "replace").strip()
    calling = body[20:36].decode("ascii", "replace").strip()
    contexts = []
    pos = 68
    while pos + 4 <= len(body):
        kind, length = body[pos], struct.unpack(">H", body[pos + 2:pos + 4])[0]
        value = body[pos + 4:pos + 4 + length]
        pos += 4 + length
        if kind != 0x20:
            continue
        context_id, abstract, syntaxes, sub = value[0], None, [], 4
        while sub + 4 <= len(value):
            sub_kind, sub_len = value[sub], struct.unpack(">H", value[sub + 2:sub + 4])[0]
            text = value[sub + 4:sub + 4 + sub_len].rstrip(b"\0 ").decode("ascii", "replace")
            sub += 4 + sub_len
            if sub_kind == 0x30:
                abstract = text
            elif sub_kind == 0x40:
                syntaxes.append(text)
        contexts.append((context_id, abstract, syntaxes))
    return called, calling, contexts


def associate_ac(called_raw, calling_raw, answers):
    items = _item(0x10, _uid(APPLICATION_CONTEXT))
    for context_id, result, syntax in answers:
        items += _item(0x21, struct.pack(">BBBB", context_id, 0, result, 0) + _item(0x40, _uid(syntax)))
    user = _item(0x51, struct.pack(">I", 16384)) + _item(0x52, _uid(IMPLEMENTATION_CLASS_UID)) + _item(0x55, IMPLEMENTATION_VERSION.encode())
    items += _item(0x50, user)
    return _pdu(0x02, struct.pack(">HH", 1, 0) + called_raw + calling_raw + b"\0" * 32 + items)


def _element(group, element, vr_value):
    return struct.pack("<HHI", group, element, len(vr_value)) + vr_value


def echo_rsp(context_id, message_id):
    elements = (_element(0, 0x0002, _uid(VERIFICATION)) + _element(0, 0x0100, struct.pack("<H", 0x8030))
                + _element(0, 0x0120, struct.pack("<H", message_id)) + _element(0, 0x0800, struct.pack("<H", 0x0101))
                + _element(0, 0x0900, struct.pack("<H", 0)))
    command = _element(0, 0x0000, struct.pack("<I", len(elements))) + elements
    pdv = struct.pack(">IBB", len(command) + 2, context_id, 0x03) + command
    return _pdu(0x04, pdv)


def parse_command(data):
    """Command set (implicit VR little endian) -> {element: raw value} of group 0000."""
    out, pos = {}, 0
    while pos + 8 <= len(data):
        group, element, length = struct.unpack("<HHI", data[pos:pos + 8])
        out[(group, element)] = data[pos + 8:pos + 8 + length]
        pos += 8 + length
    return out


class Association(asyncio.Protocol):
    """One association, driven by data_received: no task, coroutine or timeout wrapper per PDU.

    The SCP shares the CPU with the probes it answers (make demo runs everything on one machine, often
    two cores): every millisecond it spends per PDU is a millisecond an echo waits, and that wait is what
    the audit's latency comparison would have to tell apart from a real change.
    """

    def __init__(self, listener):
        self.listener = listener
        self.transport = None
        self.buffer = bytearray()
        self.established = False
        self.accepted = {}
        self.fragments = {}
        self.idle = None
        self.queue = collections.deque()  # (due, bytes, close after) behind a delayed reply, in order
        self.timer = None

    def connection_made(self, transport):
        self.transport = transport
        self.listener.associations += 1
        self.idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT, transport.abort)

    def connection_lost(self, exc):
        for handle in (self.idle, self.timer):
            if handle is not None:
                handle.cancel()

    def data_received(self, data):
        self.buffer += data
        try:
            while len(self.buffer) >= 6 and not self.transport.is_closing():
                kind, _reserved, length = struct.unpack_from(">BBI", self.buffer)
                if length > MAX_PDU:
                    raise ValueError("PDU too long")
                if len(self.buffer) < 6 + length:
                    break
                body = bytes(self.buffer[6:6 + length])
                del self.buffer[:6 + length]
                self.pdu(kind, body)
        except (ValueError, struct.error, IndexError, UnicodeError):
            self.transport.abort()
            return
        self.idle.cancel()
        self.idle = asyncio.get_running_loop().call_later(IDLE_TIMEOUT, self.transport.abort)

    def send(self, data, delay=0.0, close=False):
        """Write now, or ``delay`` seconds from now; never ahead of a reply still held back."""
        if not delay and not self.queue:
            self.transport.write(data)
            if close:
                self.transport.close()
            return
        loop = asyncio.get_running_loop()
        self.queue.append((loop.time() + delay, data, close))
        if self.timer is None:
            self.timer = loop.call_at(self.queue[0][0], self.flush)

    def flush(self):
        loop = asyncio.get_running_loop()
        self.timer = None
        while self.queue and self.queue[0][0] <= loop.time():
            _due, data, close = self.queue.popleft()
            if not self.transport.is_closing():
                self.transport.write(data)
                if close:
                    self.transport.close()
        if self.queue:
            self.timer = loop.call_at(max(self.queue[0][0], loop.time()), self.flush)

    def pdu(self, kind, body):
        settings = self.listener.settings
        if not self.established:
            if kind != 0x01:
                self.transport.close()
                return
            called, _calling, contexts = parse_associate_rq(body)
            wanted = settings["ae_title"]
            if wanted and called != wanted:
                self.send(_pdu(0x03, struct.pack(">BBBB", 0, 1, 1, 7)), close=True)  # rejected-permanent, service user, called AE unknown
                return
            answers = []
            for context_id, abstract, syntaxes in contexts:
                if abstract != VERIFICATION:
                    answers.append((context_id, 3, syntaxes[0] if syntaxes else DEFAULT_SYNTAXES[0]))
                    continue
                choice = next((uid for uid in settings["transfer_syntaxes"] if uid in syntaxes), None)
                answers.append((context_id, 0 if choice else 4, choice or (syntaxes[0] if syntaxes else DEFAULT_SYNTAXES[0])))
                if choice:
                    self.accepted[context_id] = choice
            self.established = True
            self.send(associate_ac(body[4:20], body[20:36], answers))
        elif kind == 0x04:
            pos = 0
            while pos + 6 <= len(body):
                length, context_id, control = struct.unpack_from(">IBB", body, pos)
                self.fragments.setdefault(context_id, bytearray()).extend(body[pos + 6:pos + 4 + length])
                pos += 4 + length
                if control & 0x01 and control & 0x02:  # last fragment of a command
                    command = parse_command(bytes(self.fragments.pop(context_id)))
                    field = struct.unpack("<H", command.get((0, 0x0100), b"\0\0")[:2])[0]
                    message_id = struct.unpack("<H", command.get((0, 0x0110), b"\0\0")[:2])[0]
                    if field == 0x0030 and context_id in self.accepted:
                        self.send(echo_rsp(context_id, message_id), delay=settings["delay_ms"] / 1000.0)
                    else:
                        self.send(_pdu(0x07, b"\0\0\x02\x02"), close=True)  # A-ABORT, provider, unexpected PDU
                        return
        elif kind == 0x05:
            self.send(_pdu(0x06, b"\0\0\0\0"), close=True)
        else:  # A-ABORT or anything unexpected ends the association
            self.transport.close()


class Listener:
    def __init__(self, spec):
        self.address = spec.get("address", "127.0.0.1")
        if not ipaddress.ip_address(self.address).is_loopback:
            raise SystemExit("demo_scp: %s is not a loopback address; the demo SCP listens on loopback only" % self.address)
        self.port = int(spec["port"])
        self.settings = {"ae_title": None, "transfer_syntaxes": list(DEFAULT_SYNTAXES), "delay_ms": 0, "state": "up"}
        self.settings.update({key: spec[key] for key in self.settings if key in spec})
        self.after = dict(spec.get("after") or {})
        self.server = None
        self.associations = 0

    async def apply(self):
        if self.settings["state"] == "up" and self.server is None:
            loop = asyncio.get_running_loop()
            self.server = await loop.create_server(lambda: Association(self), self.address, self.port, reuse_address=True, backlog=1024)
        elif self.settings["state"] != "up" and self.server is not None:
            self.server.close()
            self.server = None

    async def change(self):
        if self.after:
            self.settings.update(self.after)
            self.after = {}
            await self.apply()


async def serve(listeners, args):
    for listener in listeners:
        try:
            await listener.apply()
        except OSError as exc:
            raise SystemExit("demo_scp: cannot listen on %s:%d: %s (choose another port, e.g. DEMO_PORT=...)"
                             % (listener.address, listener.port, exc.strerror or exc)) from None
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def change():
        await asyncio.gather(*(listener.change() for listener in listeners))
        if args.ready_file:
            with open(args.ready_file + ".changed", "w", encoding="utf-8") as handle:
                json.dump({"listening": sum(1 for listener in listeners if listener.server is not None)}, handle)
        print("demo_scp: applied the 'after' settings", file=sys.stderr, flush=True)

    loop.add_signal_handler(signal.SIGUSR1, lambda: loop.create_task(change()))
    up = sum(1 for listener in listeners if listener.server is not None)
    info = {"pid": os.getpid(), "listeners": len(listeners), "listening": up}
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(info, handle)
        os.replace(args.ready_file + ".tmp", args.ready_file)
    print("demo_scp: %d listeners, %d listening, pid %d" % (len(listeners), up, os.getpid()), file=sys.stderr, flush=True)
    try:
        await asyncio.wait_for(stop.wait(), args.lifetime)
    except asyncio.TimeoutError:
        pass
    for listener in listeners:
        if listener.server is not None:
            listener.server.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--config", help="JSON file with the listeners")
    parser.add_argument("--listen", action="append", default=[], metavar="ADDRESS:PORT", help="one more listener")
    parser.add_argument("--aet", help="called AE title the --listen listeners require (default: any)")
    parser.add_argument("--pidfile")
    parser.add_argument("--ready-file", help="written (atomically) once every listener listens")
    parser.add_argument("--lifetime", type=float, default=3600.0, help="exit after this many seconds (default 3600)")
    args = parser.parse_args(argv)
    specs = []
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            specs.extend(json.load(handle)["listeners"])
    for text in args.listen:
        address, _sep, port = text.rpartition(":")
        specs.append({"address": address or "127.0.0.1", "port": int(port), "ae_title": args.aet})
    if not specs:
        parser.error("give --config or --listen")
    if args.pidfile:
        with open(args.pidfile, "w", encoding="utf-8") as handle:
            handle.write("%d\n" % os.getpid())
    try:
        import resource  # pylint: disable=import-outside-toplevel
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    except (ImportError, ValueError, OSError):
        pass
    asyncio.run(serve([Listener(spec) for spec in specs], args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
