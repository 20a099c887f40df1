# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PDU channels for the engine: whole PDUs in, bytes out, every wait bounded, arrival times from the kernel.

Private to this collection. Two channels with one interface:

* PlainChannel drives a non-blocking TCP socket itself (recvmsg, add_reader only while waiting), so
  a PDU that is already there costs no event-loop round trip and no timer, and on Linux each read
  carries the kernel's receive timestamp (SO_TIMESTAMPNS): a reply that waited for our event loop
  is timed at its arrival, not when we got round to it. docs/dev/timing.md says what is measured.
* StreamChannel reads through asyncio streams (TLS): times are taken in user space after the
  record layer has decrypted the PDU.

A message must start arriving by ``first_by`` and be complete by ``done_by`` (loop times); within it
every wait for bytes is bounded by ``idle`` seconds, as echoscu's socket timeout bounds each read
(docs/dev/timeouts.md).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time

from ._pdu import MAX_CONTROL_PDU, PDU_TYPES, ProtocolError

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
# Linux's SO_TIMESTAMPNS (asm-generic value; the socket module does not name it). Other platforms,
# or a kernel that refuses it, fall back to user-space times.
_SO_TIMESTAMPNS = 35 if sys.platform.startswith("linux") else None
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
_RECV_SIZE = 65536
_TCP_INFO_RTT = struct.Struct("@I")  # tcpi_rtt, microseconds, at offset 68 of struct tcp_info
_TCP_INFO_RTT_OFFSET = 68


class Timeout(Exception):
    """A wait missed its bound: ``which`` is "first" (nothing came), "idle" (stopped mid-message) or "done".

    ``in_body``: the PDU's 6-byte header had been read (echoscu then fails the DIMSE read, exit 70).
    """

    in_body = False

    def __init__(self, which):
        super().__init__(which)
        self.which = which

    @property
    def stalled(self):
        return self.which != "first"


class Closed(Exception):
    """The peer closed the connection (``partial``: in the middle of a PDU; ``in_body``: after its header)."""

    in_body = False

    def __init__(self, partial):
        super().__init__("closed")
        self.partial = partial


def now_ns():
    """Wall-clock ns, the clock the kernel stamps received segments with."""
    return time.time_ns()


def check_header(header, max_pdata):
    """(type, length) of a PDU header; refuses unknown types and lengths beyond our bounds."""
    kind = header[0]
    if kind not in PDU_TYPES:
        raise ProtocolError("Unrecognized PDU type: %x" % kind, condition="0006:0321 Unrecognized PDU type: %x" % kind)
    (length,) = struct.unpack_from(">I", header, 2)
    limit = max_pdata if kind == 4 else MAX_CONTROL_PDU
    if length > limit:
        what = "the maximum PDU length we announced" if kind == 4 else "what a %s can need" % PDU_TYPES[kind]
        raise ProtocolError("%s announces %d bytes, more than %s (%d)" % (PDU_TYPES[kind], length, what, limit),
                            condition="0006:0308 DUL Illegal PDU length %d" % length)
    return kind, length


class PlainChannel:
    """A connected non-blocking TCP socket, read with recvmsg."""

    def __init__(self, loop, sock, max_pdata):
        self.loop, self.sock, self.max_pdata = loop, sock, max_pdata
        self.buffer = bytearray()
        self.rx_ns = None   # kernel arrival time of the data last read, when the kernel gives one
        self.eof = False
        self._pending = b""
        self.kernel = False
        if _SO_TIMESTAMPNS is not None and _ANCILLARY:
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                self.kernel = True
            except OSError:
                pass
        self.timing_source = "kernel" if self.kernel else "user"

    def handshake_ms(self):
        """The kernel's round trip of the TCP handshake (tcpi_rtt), or None where it has none."""
        if not self.kernel:
            return None
        try:
            info = self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            return _TCP_INFO_RTT.unpack_from(info, _TCP_INFO_RTT_OFFSET)[0] / 1000.0
        except (OSError, AttributeError, struct.error):
            return None

    def _recv(self):
        """One recvmsg; False if nothing was there."""
        try:
            if self.kernel:
                data, ancillary, _flags, _address = self.sock.recvmsg(_RECV_SIZE, _ANCILLARY)
            else:
                data, ancillary = self.sock.recv(_RECV_SIZE), ()
        except (BlockingIOError, InterruptedError):
            return False
        if not data:
            self.eof = True
            return True
        self.buffer += data
        stamp = None
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
                seconds, nanos = _TIMESPEC.unpack_from(value)
                stamp = seconds * 1000000000 + nanos
        self.rx_ns = stamp if stamp is not None else now_ns()
        return True

    async def _wait_readable(self, until):
        """Wait until the socket is readable or the loop time ``until`` (None: no bound) passes."""
        quick_ack(self.sock)
        waiter = self.loop.create_future()
        fd = self.sock.fileno()
        self.loop.add_reader(fd, _wake, waiter)
        timer = None if until is None else self.loop.call_at(until, _wake, waiter)
        try:
            await waiter
        finally:
            self.loop.remove_reader(fd)
            if timer is not None:
                timer.cancel()

    async def _fill(self, count, first_by, done_by, idle):
        """Read until ``count`` bytes are buffered; the waits are bounded as the module docstring says."""
        while len(self.buffer) < count:
            if self.eof:
                raise Closed(partial=bool(self.buffer))
            if self._recv():
                continue
            started = bool(self.buffer) or first_by is None
            now = self.loop.time()
            bounds = [(done_by, "done")] if done_by is not None else []
            if started and idle:
                bounds.append((now + idle, "idle"))
            elif not started:
                bounds.append((first_by, "first"))
            until, which = min(bounds, key=lambda bound: bound[0]) if bounds else (None, None)
            if until is not None and until <= now:
                raise Timeout(which)
            await self._wait_readable(until)
            if until is not None and self.loop.time() >= until and not self._recv():
                raise Timeout(which)

    async def read_pdu(self, first_by, done_by, idle):
        """(type, whole PDU bytes, arrival ns or None). ``first_by`` None: the message has already begun."""
        await self._fill(6, first_by, done_by, idle)
        kind, length = check_header(self.buffer, self.max_pdata)
        try:
            await self._fill(6 + length, None, done_by, idle)
        except (Timeout, Closed) as exc:
            exc.in_body = True
            raise
        raw = bytes(self.buffer[:6 + length])
        del self.buffer[:6 + length]
        return kind, raw, self.rx_ns if self.kernel else None

    def write(self, data):
        """Send what the socket takes now; the rest is sent by drain(). Returns the send time in ns."""
        sent_ns = now_ns()
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        self._pending = data[sent:] if sent < len(data) else b""
        return sent_ns

    async def drain(self, idle):
        """Send the rest of the last write; the peer must take bytes at least every ``idle`` seconds."""
        pending = self._pending
        while pending:
            waiter = self.loop.create_future()
            fd = self.sock.fileno()
            self.loop.add_writer(fd, _wake, waiter)
            timer = self.loop.call_later(idle, _wake, waiter) if idle else None
            try:
                await waiter
            finally:
                self.loop.remove_writer(fd)
                if timer is not None:
                    timer.cancel()
            try:
                sent = self.sock.send(pending)
            except (BlockingIOError, InterruptedError):
                sent = 0
            if not sent and timer is not None and timer.when() <= self.loop.time():
                self._pending = pending
                raise Timeout("idle")
            pending = pending[sent:]
        self._pending = b""

    def close(self):
        self.sock.close()


def quick_ack(sock):
    """Re-arm TCP quick-ACK: Linux leaves that mode on its own, and a delayed ACK then costs 40 ms per exchange."""
    if _QUICKACK is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:
            pass


def _wake(waiter):
    if not waiter.done():
        waiter.set_result(None)


class StreamChannel:
    """asyncio streams (the TLS transport): the same interface, times taken in user space."""

    timing_source = "user"

    def __init__(self, reader, writer, max_pdata, sock):
        self.reader, self.writer, self.max_pdata, self.sock = reader, writer, max_pdata, sock
        self.loop = asyncio.get_running_loop()

    @staticmethod
    def handshake_ms():
        return None

    async def _read(self, count, first_by, done_by, idle):
        started = first_by is None
        bounds = [(done_by, "done")] if done_by is not None else []
        now = self.loop.time()
        if started and idle:
            bounds.append((now + idle, "idle"))
        elif not started:
            bounds.append((first_by, "first"))
        until, which = min(bounds, key=lambda bound: bound[0]) if bounds else (None, None)
        try:
            if until is None:
                return await self.reader.readexactly(count)
            if until <= now:
                raise Timeout(which)
            return await asyncio.wait_for(self.reader.readexactly(count), until - now)
        except asyncio.TimeoutError:
            raise Timeout(which) from None
        except asyncio.IncompleteReadError as exc:
            raise Closed(partial=started or bool(exc.partial)) from None

    async def read_pdu(self, first_by, done_by, idle):
        quick_ack(self.sock)
        header = await self._read(6, first_by, done_by, idle)
        kind, length = check_header(header, self.max_pdata)
        try:
            body = await self._read(length, None, done_by, idle) if length else b""
        except (Timeout, Closed) as exc:
            exc.in_body = True
            raise
        return kind, header + body, None

    def write(self, data):
        sent_ns = now_ns()
        self.writer.write(data)
        return sent_ns

    async def drain(self, idle):
        if self.writer.transport.get_write_buffer_size():
            try:
                await asyncio.wait_for(self.writer.drain(), idle or None)
            except asyncio.TimeoutError:
                raise Timeout("idle") from None

    def close(self):
        self.writer.close()
