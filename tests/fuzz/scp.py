"""The fuzzer's fake SCP as a process of its own: python -m tests.fuzz.scp --seed S [--seed S ...].

Serves every case of the given seeds on one port: the called AE title "F<slot>.<index>" names the
case (tests/fuzz/cases.py), slot being the position of its seed on the command line. Prints one JSON
line {"port", "pid"} once listening; exits on SIGTERM or after --lifetime seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import sys

from ..peers.scripted import ScriptedPeer
from .cases import case_of, generate


def resolver(seeds):
    @functools.lru_cache(maxsize=256)
    def script(aet):
        case = case_of(aet)
        if case is None or case[0] >= len(seeds):
            return None
        return generate(seeds[case[0]], case[1], case[0]).script
    return script


async def serve(seeds, host, port, lifetime):
    peer = ScriptedPeer(resolver(seeds), host, port, conn_timeout=60.0)
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(peer.serve(lambda: print(json.dumps({"port": peer.port, "pid": os.getpid()}), flush=True)))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await asyncio.wait_for(task, lifetime)
    except (asyncio.CancelledError, asyncio.TimeoutError):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.scp")
    parser.add_argument("--seed", type=int, action="append", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=6 * 3600.0)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.seed, args.host, args.port, args.lifetime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
