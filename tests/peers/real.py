"""Real DICOM peers as subprocesses: DCMTK storescp and dcmqrscp, Orthanc.

    with real.storescp("+xi") as peer:
        subprocess.run(["echoscu", peer.host, str(peer.port)])

Each factory starts the server on a free ephemeral port, waits (with a
deadline) until the server process itself listens on it, and returns a
RealPeer that is also a context manager.  The server runs in its own process
group (killed as a whole on stop()), writes its output to a log file (never a
pipe that could fill up), gets SIGKILL if the thread that started it dies
(setpriv --pdeathsig; main thread only), and is stopped at interpreter exit.

Attributes of RealPeer: host, port, aet (the called AE title the server
insists on, None if it accepts any), title (its own AE title), kind, pid,
workdir, log_path, http_port (Orthanc only).

Limits of the installed versions (DCMTK 3.6.7, Orthanc 1.10.1), checked:
* All three listen on 0.0.0.0 (no bind-address option); connect via 127.0.0.1.
* None can listen on IPv6: DCMTK before 3.6.8 has no IPv6 listener, so
  storescp(ipv6=True) raises PeerUnsupported instead of pretending.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from . import _proc
from ._proc import tool

HOST = "127.0.0.1"
BIND_ERROR = re.compile(r"in use|cannot listen|bind", re.IGNORECASE)
START_ATTEMPTS = 3  # retries only for a port lost to the free_port() race

_live: set["RealPeer"] = set()


class PeerStartError(RuntimeError):
    """The server did not become ready; the message carries its log tail."""


class PeerUnsupported(RuntimeError):
    """The installed server cannot do what was asked (tests should skip)."""


class RealPeer:
    def __init__(self, kind: str, port: int, aet: str | None, title: str,
                 proc: subprocess.Popen, workdir: Path, log_path: Path,
                 http_port: int | None = None, keep_workdir: bool = False):
        self.kind = kind
        self.host = HOST
        self.port = port
        self.aet = aet
        self.title = title
        self.proc = proc
        self.pid = proc.pid
        self.workdir = workdir
        self.log_path = log_path
        self.http_port = http_port
        self.keep_workdir = keep_workdir

    def running(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return _proc.tail(self.log_path, lines)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group (dcmqrscp forks per association), SIGKILL after `grace` s.

        Idempotent.  Orthanc needs ~2.4 s for a clean stop (its HTTP server
        polls); stop(grace=0) skips that when the data does not matter.
        """
        _live.discard(self)
        _proc.kill_group(self.proc.pid, self.proc, grace)
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def describe(self) -> dict:
        return {"kind": self.kind, "host": self.host, "port": self.port, "aet": self.aet,
                "title": self.title, "pid": self.pid, "pgid": self.pid,
                "http_port": self.http_port, "workdir": str(self.workdir), "log": str(self.log_path)}

    def __enter__(self) -> "RealPeer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "<RealPeer %s %s:%d aet=%r pid=%d>" % (self.kind, self.host, self.port, self.aet, self.pid)


@atexit.register
def _stop_all() -> None:
    for peer in list(_live):
        peer.stop()


def _launch(kind: str, workdir: Path, build: Callable[[int], list[str]],
            ready: Callable[[subprocess.Popen, int], bool], timeout: float) -> tuple[subprocess.Popen, int]:
    """Start `build(port)` until it is `ready`, retrying if it lost its port."""
    log_path = workdir / "peer.log"
    for attempt in range(1, START_ATTEMPTS + 1):
        port = _proc.free_port(HOST)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                _proc.die_with_parent_prefix() + build(port),
                cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # own process group: stop() kills forked children too
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if ready(proc, port):
                return proc, port
            time.sleep(0.05)
        exited = proc.poll() is not None
        _proc.kill_group(proc.pid, proc)
        log_tail = _proc.tail(log_path)
        if exited and attempt < START_ATTEMPTS and BIND_ERROR.search(log_tail):
            continue
        shutil.rmtree(workdir, ignore_errors=True)
        what = "exited with code %s" % proc.returncode if exited else "not ready after %ss" % timeout
        raise PeerStartError("%s on port %d %s; log tail:\n%s" % (kind, port, what, log_tail))
    raise AssertionError("unreachable")


def _listening(proc: subprocess.Popen, port: int) -> bool:
    return _proc.listens(proc.pid, port)


def _start(kind: str, workdir: Path, build, ready, timeout: float, aet, title,
           keep_workdir: bool, http_port: int | None = None) -> RealPeer:
    proc, port = _launch(kind, workdir, build, ready, timeout)
    peer = RealPeer(kind, port, aet, title, proc, workdir, workdir / "peer.log",
                    http_port=http_port, keep_workdir=keep_workdir)
    _live.add(peer)
    return peer


def storescp(*extra_args: str, ipv6: bool = False, title: str = "STORESCP",
             timeout: float = 10.0, keep_workdir: bool = False) -> RealPeer:
    """DCMTK storescp (`storescp -aet STORESCP -od <tmp> [extra_args] <port>`).

    It accepts any called AE title (aet is None).  Single-process by default:
    associations are served one after another; pass "--fork" for concurrency.
    Useful extra_args: "+xi" (Implicit VR LE only), "+xb" (prefer Explicit BE),
    "+xv" (prefer JPEG 2000 lossless), "--refuse" (rejects every association
    with A-ASSOCIATE-RJ 1/1/1: "Rejected Permanent, Service User, No Reason").

    ipv6=True raises PeerUnsupported: DCMTK 3.6.7's storescp only binds
    0.0.0.0 (IPv4); -i6 and friends arrived in 3.6.8.  Use
    FaultyPeer("normal", host="::1") for an IPv6 acceptor.
    """
    if ipv6:
        raise PeerUnsupported("storescp from DCMTK %s cannot listen on IPv6 (IPv4 0.0.0.0 only)"
                              % _dcmtk_version())
    workdir = Path(tempfile.mkdtemp(prefix="peer-storescp-"))
    (workdir / "incoming").mkdir()

    def build(port: int) -> list[str]:
        return [tool("storescp"), "-aet", title, "-od", str(workdir / "incoming"), *extra_args, str(port)]

    return _start("storescp", workdir, build, _listening, timeout, None, title, keep_workdir)


def dcmqrscp(*extra_args: str, title: str = "QRSCP", calling_aets: tuple[str, ...] = ("ECHOSCU",),
             timeout: float = 10.0, keep_workdir: bool = False) -> RealPeer:
    """DCMTK dcmqrscp whose AE table knows one AE `title` (default QRSCP).

    Only the calling AE titles in `calling_aets` (default ECHOSCU) from
    localhost/127.0.0.1 may associate.  Observed with echoscu 3.6.7:
      called QRSCP, calling ECHOSCU  -> accepted, C-ECHO Success
      called other (any calling)     -> RJ 1/1/7 "Rejected Permanent, Service User,
                                        Called AE Title Not Recognized"
      called QRSCP, calling unknown  -> the same 1/1/7 (!): dcmqrscp refuses with
                                        "BadAEService" and never sends 1/1/3
                                        "Calling AE Title Not Recognized".
    Runs in the default --fork mode: in --single-process mode dcmqrscp 3.6.7
    segfaults (exit 139) right after the first association is released.
    """
    workdir = Path(tempfile.mkdtemp(prefix="peer-dcmqrscp-"))
    storage = workdir / title
    storage.mkdir()
    peers = []
    for i, calling in enumerate(calling_aets):
        # dcmqrscp matches the calling AE *and* the peer host name; the
        # acceptor sees "localhost" (reverse lookup) but list the IP as well.
        peers += ["peer%d_name = (%s, localhost, 104)" % (i, calling),
                  "peer%d_ip = (%s, 127.0.0.1, 104)" % (i, calling)]
    group = ", ".join(line.split(" ", 1)[0] for line in peers)
    config = workdir / "dcmqrscp.cfg"

    def build(port: int) -> list[str]:
        config.write_text("\n".join([
            "NetworkTCPPort  = %d" % port,
            "MaxPDUSize      = 16384",
            "MaxAssociations = 16",
            "HostTable BEGIN", *peers, "allowed = %s" % group, "HostTable END",
            "VendorTable BEGIN", "VendorTable END",
            "AETable BEGIN", "%s  %s  RW  (10, 10mb)  allowed" % (title, storage), "AETable END",
            ""]))
        return [tool("dcmqrscp"), "-c", str(config), *extra_args, str(port)]

    return _start("dcmqrscp", workdir, build, _listening, timeout, title, title, keep_workdir)


def orthanc(title: str = "ORTHANC", timeout: float = 30.0, keep_workdir: bool = False,
            check_called_aet: bool = True, modalities: dict[str, str] | None = None,
            always_allow_echo: bool = True, always_allow_find: bool | None = None,
            studies: tuple[dict[str, str], ...] = ()) -> RealPeer:
    """Orthanc with a generated configuration (DicomCheckCalledAet true unless check_called_aet=False).

    modalities: {name: calling AE title} registered in DicomModalities (from 127.0.0.1);
    always_allow_find: DicomAlwaysAllowFind when not None (Orthanc 1.10's default is false:
    only registered modalities may query; an unregistered one gets an A-ABORT in answer to
    its C-FIND, observed with findscu 3.6.7); studies: patient-level values of instances
    stored through the REST API once Orthanc is up (see store_instance()).

    DICOM and HTTP on free ports (HTTP: http_port, remote access off), storage
    and index in a temp dir, no plugins/Lua, default (warning) log level.
    Ready once `echoscu -aec <title>` succeeds; startup is ~0.15 s here.
    Observed with echoscu 3.6.7: wrong called AE -> RJ 1/1/7 "Called AE Title
    Not Recognized"; any calling AE is accepted (no DicomModalities check,
    DicomAlwaysAllowEcho is true).
    """
    workdir = Path(tempfile.mkdtemp(prefix="peer-orthanc-"))
    (workdir / "db").mkdir()
    config = workdir / "orthanc.json"
    ports: dict[str, int] = {}

    def build(port: int) -> list[str]:
        ports["http"] = _proc.free_port(HOST)
        config.write_text(json.dumps({
            "Name": "peers-orthanc",
            "StorageDirectory": str(workdir / "db"),
            "IndexDirectory": str(workdir / "db"),
            "Plugins": [], "LuaScripts": [],
            "DicomServerEnabled": True, "DicomAet": title, "DicomPort": port,
            "DicomCheckCalledAet": check_called_aet, "DicomAlwaysAllowEcho": always_allow_echo,
            "DicomModalities": {name: [aet, HOST, 104] for name, aet in (modalities or {}).items()},
            **({} if always_allow_find is None else {"DicomAlwaysAllowFind": always_allow_find}),
            "HttpServerEnabled": True, "HttpPort": ports["http"], "RemoteAccessAllowed": False,
            "OrthancExplorerEnabled": False, "WebDavEnabled": False,
            "SaveJobs": False, "MetricsEnabled": False, "HttpThreadsCount": 4,
        }, indent=1))
        return [tool("Orthanc"), str(config)]

    def ready(proc: subprocess.Popen, port: int) -> bool:
        # Listening is not enough: the DICOM server must actually answer.
        if not _proc.listens(proc.pid, port):
            return False
        try:
            probe = subprocess.run(
                [tool("echoscu"), "-to", "2", "-ta", "2", "-aec", title, HOST, str(port)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=10, check=False)
        except subprocess.TimeoutExpired:
            return False
        return probe.returncode == 0

    proc, port = _launch("orthanc", workdir, build, ready, timeout)
    peer = RealPeer("orthanc", port, title if check_called_aet else None, title, proc, workdir, workdir / "peer.log",
                    http_port=ports["http"], keep_workdir=keep_workdir)
    _live.add(peer)
    try:
        for values in studies:
            store_instance(peer, values)
    except Exception:
        peer.stop(grace=0)
        raise
    return peer


def _instance_file(workdir: Path, values: dict[str, str]) -> Path:
    """A minimal Secondary Capture instance with `values` (keyword: value), written by DCMTK's dump2dcm."""
    tags = {"PatientName": "0010,0010 PN", "PatientID": "0010,0020 LO", "PatientBirthDate": "0010,0030 DA",
            "AccessionNumber": "0008,0050 SH", "StudyInstanceUID": "0020,000d UI", "StudyDescription": "0008,1030 LO"}
    uid = "2.25.%d" % (int(time.time() * 1e6) % 10 ** 30)
    lines = ["(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]", "(0008,0018) UI [%s.1]" % uid,
             "(0020,000e) UI [%s.2]" % uid, "(0008,0060) CS [OT]"]
    if "StudyInstanceUID" not in values:
        lines.append("(0020,000d) UI [%s.3]" % uid)
    for keyword, value in values.items():
        tag, vr = tags[keyword].split(" ")
        lines.append("(%s) %s [%s]" % (tag, vr, value))
    dump = workdir / ("instance-%s.dump" % uid)
    dump.write_text("\n".join(lines) + "\n")
    out = dump.with_suffix(".dcm")
    subprocess.run([tool("dump2dcm"), "+te", "-g", str(dump), str(out)], check=True, capture_output=True, timeout=30)
    return out


def store_instance(peer: RealPeer, values: dict[str, str]) -> None:
    """Store one instance carrying `values` in an Orthanc peer through its REST API (POST /instances)."""
    import urllib.request  # pylint: disable=import-outside-toplevel

    data = _instance_file(peer.workdir, values).read_bytes()
    request = urllib.request.Request("http://%s:%d/instances" % (HOST, peer.http_port), data=data, method="POST",
                                     headers={"Content-Type": "application/dicom"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # nosec: loopback only
        reply = json.loads(answer.read().decode())
    if reply.get("Status") not in ("Success", "AlreadyStored"):
        raise PeerStartError("Orthanc did not store the instance: %r" % (reply,))


def wlmscpfs(title: str = "WLMSCP", worklist: tuple[dict[str, str], ...] = (), timeout: float = 10.0,
             keep_workdir: bool = False) -> RealPeer:
    """DCMTK wlmscpfs, a Modality Worklist SCP serving the .wl files of one AE title directory.

    Any calling AE title is accepted; the called AE title must be `title` (RJ 1/1/7 "Called AE Title
    Not Recognized" otherwise); an association proposing only Study Root FIND is rejected 1/1/1.
    worklist: the patient-level values of each worklist entry (keywords as in _instance_file).
    """
    workdir = Path(tempfile.mkdtemp(prefix="peer-wlmscpfs-"))
    folder = workdir / "worklists" / title
    folder.mkdir(parents=True)
    (folder / "lockfile").write_text("")
    for index, values in enumerate(worklist):
        lines = ["(0040,0100) SQ (Sequence with explicit length #=1)", "  (fffe,e000) na (Item with explicit length #=2)",
                 "    (0040,0001) AE [%s]" % title, "    (0008,0060) CS [CT]", "  (fffe,e00d) na (ItemDelimitationItem)",
                 "(fffe,e0dd) na (SequenceDelimitationItem)"]
        tags = {"PatientName": "(0010,0010) PN", "PatientID": "(0010,0020) LO", "AccessionNumber": "(0008,0050) SH",
                "PatientBirthDate": "(0010,0030) DA"}
        lines += ["%s [%s]" % (tags[keyword], value) for keyword, value in values.items()]
        dump = workdir / ("entry%d.dump" % index)
        dump.write_text("\n".join(lines) + "\n")
        subprocess.run([tool("dump2dcm"), str(dump), str(folder / ("entry%d.wl" % index))], check=True, capture_output=True, timeout=30)

    def build(port: int) -> list[str]:
        return [tool("wlmscpfs"), "-dfp", str(workdir / "worklists"), str(port)]

    return _start("wlmscpfs", workdir, build, _listening, timeout, title, title, keep_workdir)


def _dcmtk_version() -> str:
    try:
        out = subprocess.run([tool("storescp"), "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    match = re.search(r"v(\d+\.\d+\.\d+)", out)
    return match.group(1) if match else "?"


FACTORIES = {"storescp": storescp, "dcmqrscp": dcmqrscp, "orthanc": orthanc, "wlmscpfs": wlmscpfs}
