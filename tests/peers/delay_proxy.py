"""A TCP proxy that delays what the server sends back: a peer that became slower, for latency tests.

    python -m tests.peers.delay_proxy --target-port 4242 [--target-host 127.0.0.1] [--port 0]
                                      [--delay-ms 60] [--lifetime 900]

prints one JSON line {"host", "port", "target_host", "target_port", "delay_ms", "pid"} once it
listens. Each connection gets its own connection to the target; bytes from the client are passed
on at once, bytes from the server are held back `--delay-ms` milliseconds (order kept, the close
too), so every request/response round trip through the proxy, an echo included, takes that much
longer, while the server sees no difference. `--delay-ms 0` is a plain pass-through.

One asyncio protocol pair per connection, no task or buffer copy per chunk: a proxy in front of
hundreds of associations must not become the CPU load whose noise the latency tests are about.
SIGTERM or SIGINT stops it, so does `--lifetime` seconds. Loopback only. Started again with the
same `--port`, it listens where the previous one did (SO_REUSEADDR), so an endpoint can become
slower without any inventory change.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ipaddress
import json
import os
import signal
import socket
import sys


def _quickack(sock):
    """ACK what was just read at once. A server that writes a PDU in two pieces with Nagle's algorithm on (DCMTK
    without TCP_NODELAY, hence Orthanc) holds the second piece until the first is acknowledged; Linux delays that ACK
    up to 40 ms when the reader has nothing to send back, which through a proxy added ~40 ms to every echo. The
    option is not sticky: it is set again after every read."""
    if sock is not None and hasattr(socket, "TCP_QUICKACK"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


class _Client(asyncio.Protocol):
    """The client's side of one proxied connection."""

    def __init__(self, target, delay):
        self.target = target
        self.delay = delay
        self.transport = None
        self.upstream = None
        self.early = []  # what the client sent before the target connection was up
        self.closing = False
        self.held = collections.deque()  # (due, bytes or None for the close) from the server
        self.timer = None

    def connection_made(self, transport):
        self.transport = transport
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self):
        loop = asyncio.get_running_loop()
        try:
            upstream, _protocol = await loop.create_connection(lambda: _Server(self), *self.target)
        except OSError:
            self.transport.close()
            return
        if self.closing:
            upstream.close()
            return
        self.upstream = upstream
        for chunk in self.early:
            upstream.write(chunk)
        self.early = []

    def data_received(self, data):
        _quickack(self.transport.get_extra_info("socket"))
        if self.upstream is not None:
            self.upstream.write(data)
        else:
            self.early.append(data)

    def connection_lost(self, exc):
        self.closing = True
        if self.timer is not None:
            self.timer.cancel()
        if self.upstream is not None:
            self.upstream.close()

    def from_server(self, data):
        """Bytes from the server (None: it closed), handed to the client ``delay`` seconds later."""
        if self.closing:
            return
        if not self.delay:
            self._deliver(data)
            return
        loop = asyncio.get_running_loop()
        self.held.append((loop.time() + self.delay, data))
        if self.timer is None:
            self.timer = loop.call_at(self.held[0][0], self._flush)

    def _flush(self):
        loop = asyncio.get_running_loop()
        self.timer = None
        while self.held and self.held[0][0] <= loop.time():
            self._deliver(self.held.popleft()[1])
        if self.held and not self.closing:
            self.timer = loop.call_at(self.held[0][0], self._flush)

    def _deliver(self, data):
        if data is None:
            self.transport.close()
        elif not self.transport.is_closing():
            self.transport.write(data)


class _Server(asyncio.Protocol):
    """The target's side of one proxied connection."""

    def __init__(self, client):
        self.client = client
        self.sock = None

    def connection_made(self, transport):
        self.sock = transport.get_extra_info("socket")

    def data_received(self, data):
        _quickack(self.sock)
        self.client.from_server(data)

    def connection_lost(self, exc):
        self.client.from_server(None)


async def serve(args):
    loop = asyncio.get_running_loop()
    target = (args.target_host, args.target_port)
    delay = args.delay_ms / 1000.0
    server = await loop.create_server(lambda: _Client(target, delay), args.host, args.port, reuse_address=True, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"host": args.host, "port": port, "target_host": args.target_host, "target_port": args.target_port,
                      "delay_ms": args.delay_ms, "pid": os.getpid()}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.lifetime)
    except asyncio.TimeoutError:
        pass
    server.close()
    await server.wait_closed()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--target-host", default="127.0.0.1")
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=60.0, help="delay of the server-to-client direction (default 60)")
    parser.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds (default 900)")
    args = parser.parse_args(argv)
    for address in (args.host, args.target_host):
        if not ipaddress.ip_address(address).is_loopback:
            parser.error("%s is not a loopback address; the proxy is for tests on loopback" % address)
    if args.delay_ms < 0:
        parser.error("--delay-ms must not be negative")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
