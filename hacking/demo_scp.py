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
            self.server = await asyncio.start_server(self.handle, self.address, self.port, reuse_address=True, backlog=1024)
        elif self.settings["state"] != "up" and self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def change(self):
        if self.after:
            self.settings.update(self.after)
            self.after = {}
            await self.apply()

    async def read_pdu(self, reader):
        header = await asyncio.wait_for(reader.readexactly(6), IDLE_TIMEOUT)
        kind, _reserved, length = struct.unpack(">BBI", header)
        if length > MAX_PDU:
            raise ValueError("PDU too long")
        return kind, await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT)

    async def handle(self, reader, writer):
        self.associations += 1
        try:
            kind, body = await self.read_pdu(reader)
            if kind != 0x01:
                return
            called, _calling, contexts = parse_associate_rq(body)
            wanted = self.settings["ae_title"]
            if wanted and called != wanted:
                writer.write(_pdu(0x03, struct.pack(">BBBB", 0, 1, 1, 7)))  # rejected-permanent, service user, called AE unknown
                await writer.drain()
                return
            answers, accepted = [], {}
            for context_id, abstract, syntaxes in contexts:
                if abstract != VERIFICATION:
                    answers.append((context_id, 3, syntaxes[0] if syntaxes else DEFAULT_SYNTAXES[0]))
                    continue
                choice = next((uid for uid in self.settings["transfer_syntaxes"] if uid in syntaxes), None)
                answers.append((context_id, 0 if choice else 4, choice or (syntaxes[0] if syntaxes else DEFAULT_SYNTAXES[0])))
                if choice:
                    accepted[context_id] = choice
            writer.write(associate_ac(body[4:20], body[20:36], answers))
            await writer.drain()
            fragments = {}
            while True:
                kind, body = await self.read_pdu(reader)
                if kind == 0x04:
                    pos = 0
                    while pos + 6 <= len(body):
                        length, context_id, control = struct.unpack(">IBB", body[pos:pos + 6])
                        fragments.setdefault(context_id, bytearray()).extend(body[pos + 6:pos + 4 + length])
                        pos += 4 + length
                        if control & 0x01 and control & 0x02:  # last fragment of a command
                            command = parse_command(bytes(fragments.pop(context_id)))
                            field = struct.unpack("<H", command.get((0, 0x0100), b"\0\0")[:2])[0]
                            message_id = struct.unpack("<H", command.get((0, 0x0110), b"\0\0")[:2])[0]
                            if field == 0x0030 and context_id in accepted:
                                if self.settings["delay_ms"]:
                                    await asyncio.sleep(self.settings["delay_ms"] / 1000.0)
                                writer.write(echo_rsp(context_id, message_id))
                                await writer.drain()
                            else:
                                writer.write(_pdu(0x07, b"\0\0\x02\x02"))  # A-ABORT, provider, unexpected PDU
                                return
                elif kind == 0x05:
                    writer.write(_pdu(0x06, b"\0\0\0\0"))
                    await writer.drain()
                    return
                else:  # A-ABORT or anything unexpected ends the association
                    return
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError, ValueError, struct.error):
            return
        finally:
            writer.close()


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
