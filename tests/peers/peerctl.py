"""Command line for shell-based tests: start peers in the background, stop them.

    python -m tests.peers start NAME KIND [ARGS...] --dir DIR [--lifetime S] [--host H] [--start-timeout S]
    python -m tests.peers stop NAME --dir DIR
    python -m tests.peers stop-all --dir DIR
    python -m tests.peers get NAME FIELD --dir DIR     # e.g. port, host, aet, http_port
    python -m tests.peers list --dir DIR
    python -m tests.peers run KIND [ARGS...] [--lifetime S] [--host H]   # foreground

(`python tests/peers ...` works too.)  KIND is storescp, dcmqrscp, orthanc, wlmscpfs,
closed_port or a FaultyPeer mode (see faulty.MODES).  ARGS go to the server:
extra command line arguments for storescp/dcmqrscp (use `--` before them if
one looks like our own options), key=value options for FaultyPeer modes,
orthanc and wlmscpfs (JSON values: `modalities={"reg":"REG"}`)
(`status=0x110`, `delay=3`, `result=1 source=4 reason=1`).

`start` runs `run` detached (own session, output in DIR/NAME.log), waits
until the peer is ready and prints DIR/NAME.json: {"name", "kind", "host",
"port", "aet", "pid", ...}.  The daemon stops its peer and exits after
--lifetime seconds (default 1800) even if nobody calls `stop`; a SIGALRM
backstop kills it 30 s later should the clean stop hang.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import _proc, faulty, real

USAGE = __doc__.split("\n\n")[1]
OPTIONS = {"--dir", "--lifetime", "--host", "--start-timeout", "--state"}
DEFAULT_LIFETIME = 1800.0
KINDS = ("storescp", "dcmqrscp", "orthanc", "wlmscpfs", "closed_port") + faulty.MODES


def parse(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Split argv into positionals and our --options (valid anywhere, until `--`)."""
    positional, options = [], {}
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            positional += list(tokens)
        elif token in OPTIONS:
            value = next(tokens, None)
            if value is None:
                raise SystemExit("%s needs a value" % token)
            options[token[2:]] = value
        else:
            positional.append(token)
    return positional, options


# --- foreground: run one peer until signalled or expired -------------------------

def make_peer(kind: str, args: list[str], host: str):
    """Start a peer of `kind`; returns (peer, description dict)."""
    if kind == "closed_port":
        return None, {"host": host, "port": faulty.closed_port(host), "aet": None}
    if kind in real.FACTORIES:
        if host not in ("127.0.0.1", "localhost"):
            raise real.PeerUnsupported("%s listens on IPv4 (0.0.0.0) only" % kind)
        if kind in ("orthanc", "wlmscpfs"):  # key=value options, values in JSON (e.g. modalities='{"reg": "REG"}')
            peer = real.FACTORIES[kind](**dict(_option(arg) for arg in args))
        else:
            peer = real.FACTORIES[kind](*args)
        return peer, peer.describe()
    if kind in faulty.MODES:
        peer = faulty.FaultyPeer(kind, host=host, **faulty.parse_options(args)).start()
        return peer, {"host": peer.host, "port": peer.port, "aet": None, "mode": kind}
    raise SystemExit("unknown KIND %r; known: %s" % (kind, ", ".join(KINDS)))


def _option(arg: str) -> tuple[str, object]:
    """key=value for a real peer's keyword argument; the value is JSON where it parses, else the text."""
    key, sep, value = arg.partition("=")
    if not sep:
        raise SystemExit("%r: options of orthanc and wlmscpfs are key=value" % arg)
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    if isinstance(parsed, list):
        parsed = tuple(parsed)
    return key, parsed


def cmd_run(positional: list[str], options: dict[str, str]) -> int:
    if not positional:
        raise SystemExit(USAGE)
    kind, args = positional[0], positional[1:]
    lifetime = float(options.get("lifetime", DEFAULT_LIFETIME))
    # Backstop: default SIGALRM action terminates us even if the clean stop hangs;
    # a real peer dies with us through its parent-death signal.
    signal.alarm(int(lifetime) + 30)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    peer, info = make_peer(kind, args, options.get("host", "127.0.0.1"))
    if kind in real.FACTORIES:
        info["peer_pid"] = info.pop("pid")  # the server (its own process group); "pid" is us
        info.pop("pgid", None)
    info.update(kind=kind, args=args, pid=os.getpid(),
                started=time.time(), expires=time.time() + lifetime)
    state = options.get("state")
    if state:
        info["name"] = Path(state).stem
        tmp = state + ".tmp"
        Path(tmp).write_text(json.dumps(info) + "\n")
        os.replace(tmp, state)  # atomic: `start` never reads a half-written file
    print(json.dumps(info), flush=True)
    try:
        done.wait(lifetime)
    finally:
        if peer is not None:
            peer.stop()
        if state and _owner(Path(state)) == os.getpid():
            Path(state).unlink(missing_ok=True)
    return 0


# --- background control ------------------------------------------------------------

def _state_dir(options: dict[str, str]) -> Path:
    if "dir" not in options:
        raise SystemExit("--dir DIR is required")
    path = Path(options["dir"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _owner(state: Path) -> int | None:
    try:
        return json.loads(state.read_text()).get("pid")
    except (OSError, ValueError):
        return None


def cmd_start(positional: list[str], options: dict[str, str]) -> int:
    if len(positional) < 2:
        raise SystemExit(USAGE)
    name, kind, args = positional[0], positional[1], positional[2:]
    if kind not in KINDS:
        raise SystemExit("unknown KIND %r; known: %s" % (kind, ", ".join(KINDS)))
    directory = _state_dir(options)
    state = directory / (name + ".json")
    if state.exists() and _owner(state) and _proc.alive(_owner(state)):
        raise SystemExit("peer %r is already running (%s)" % (name, state))
    state.unlink(missing_ok=True)

    package = __package__ or "peers"
    root = Path(__file__).resolve().parents[len(package.split("."))]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    argv = [sys.executable, "-m", package + ".peerctl", "run", "--state", str(state),
            "--lifetime", options.get("lifetime", str(DEFAULT_LIFETIME)),
            "--host", options.get("host", "127.0.0.1"), "--", kind, *args]
    log_path = directory / (name + ".log")
    with open(log_path, "ab") as log:
        daemon = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  env=env, start_new_session=True)  # survives the shell test's job control

    deadline = time.monotonic() + float(options.get("start-timeout", 45))
    while time.monotonic() < deadline:
        if state.exists():
            print(state.read_text().strip())
            return 0
        if daemon.poll() is not None:
            sys.stderr.write("peer %r (%s) failed to start, exit %s; log tail:\n%s\n"
                             % (name, kind, daemon.returncode, _proc.tail(log_path)))
            return 1
        time.sleep(0.05)
    _proc.kill_group(daemon.pid, daemon)
    sys.stderr.write("peer %r (%s) not ready in time; log tail:\n%s\n" % (name, kind, _proc.tail(log_path)))
    return 1


def _is_our_daemon(pid: int, state: Path) -> bool:
    """Guard against pid reuse: the process must be `peerctl run --state <state>`."""
    try:
        cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
    except OSError:
        return False
    return b"run" in cmdline and str(state).encode() in cmdline and _proc.alive(pid)


def stop_one(state: Path) -> str:
    try:
        info = json.loads(state.read_text())
    except (OSError, ValueError):
        return "not running"
    pid = info.get("pid")
    status = "stopped"
    if pid and _is_our_daemon(pid, state):
        os.kill(pid, signal.SIGTERM)  # the daemon stops its peer cleanly
        deadline = time.monotonic() + 10
        while _proc.alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _proc.alive(pid):
            _proc.kill_group(pid, grace=0)
            status = "killed"
        server = info.get("peer_pid")
        if server and _proc.alive(server):
            _proc.kill_group(server, grace=1)
    else:
        status = "was not running"
    state.unlink(missing_ok=True)
    return status


def cmd_stop(positional: list[str], options: dict[str, str]) -> int:
    if len(positional) != 1:
        raise SystemExit(USAGE)
    directory = _state_dir(options)
    print("%s: %s" % (positional[0], stop_one(directory / (positional[0] + ".json"))))
    return 0


def cmd_stop_all(positional: list[str], options: dict[str, str]) -> int:
    for state in sorted(_state_dir(options).glob("*.json")):
        print("%s: %s" % (state.stem, stop_one(state)))
    return 0


def cmd_get(positional: list[str], options: dict[str, str]) -> int:
    if len(positional) != 2:
        raise SystemExit(USAGE)
    name, key = positional
    try:
        info = json.loads((_state_dir(options) / (name + ".json")).read_text())
    except OSError:
        sys.stderr.write("no peer %r\n" % name)
        return 1
    value = info.get(key)
    print("" if value is None else value)
    return 0


def cmd_list(positional: list[str], options: dict[str, str]) -> int:
    for state in sorted(_state_dir(options).glob("*.json")):
        print(state.read_text().strip())
    return 0


COMMANDS = {"run": cmd_run, "start": cmd_start, "stop": cmd_stop, "stop-all": cmd_stop_all,
            "get": cmd_get, "list": cmd_list}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        sys.stderr.write(USAGE + "\n")
        return 2
    positional, options = parse(argv[1:])
    try:
        return COMMANDS[argv[0]](positional, options)
    except (real.PeerStartError, real.PeerUnsupported, ValueError, TypeError) as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
