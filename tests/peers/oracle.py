"""DCMTK `echoscu` (Debian: 3.6.7) as a test oracle.

    r = run_echoscu(peer.host, peer.port, called_aet=peer.aet or "ANY-SCP")
    assert r.exit_code == 0 and r.echo_statuses == ["Success"]

run_echoscu() always passes -d and parses the debug log: exit code, the
A-ASSOCIATE-RQ/AC dumps (contexts with state and accepted transfer syntax,
their implementation class UID/version name/max PDU), "Max Send PDV", the
A-ASSOCIATE-RJ texts, the I:/W:/E:/F: lines and the echo response statuses.
The dump prints DCMTK's internal UID names ("=LittleEndianExplicit"); they are
mapped to UIDs with TRANSFER_SYNTAXES (docs/dev/echoscu-behaviour.md 1).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field

from ._proc import tool

# (UID, DCMTK name printed by -d, DICOM keyword, -pts index in 3.6.7 or None),
# in the order of the latest (3.7.0) --propose-ts list: n(latest) = position + 1.
TRANSFER_SYNTAXES = [
    ("1.2.840.10008.1.2", "LittleEndianImplicit", "ImplicitVRLittleEndian", 1),
    ("1.2.840.10008.1.2.1", "LittleEndianExplicit", "ExplicitVRLittleEndian", 2),
    ("1.2.840.10008.1.2.2", "BigEndianExplicit", "ExplicitVRBigEndian", 3),
    ("1.2.840.10008.1.2.1.98", "EncapsulatedUncompressedLittleEndianExplicit", "EncapsulatedUncompressedExplicitVRLittleEndian", None),
    ("1.2.840.10008.1.2.4.50", "JPEGBaseline", "JPEGBaseline8Bit", 4),
    ("1.2.840.10008.1.2.4.51", "JPEGExtended:Process2+4", "JPEGExtended12Bit", 5),
    ("1.2.840.10008.1.2.4.52", "JPEGExtended:Process3+5", "JPEGExtended35", 6),
    ("1.2.840.10008.1.2.4.53", "JPEGSpectralSelection:Non-hierarchical:Process6+8", "JPEGSpectralSelectionNonHierarchical68", 7),
    ("1.2.840.10008.1.2.4.54", "JPEGSpectralSelection:Non-hierarchical:Process7+9", "JPEGSpectralSelectionNonHierarchical79", 8),
    ("1.2.840.10008.1.2.4.55", "JPEGFullProgression:Non-hierarchical:Process10+12", "JPEGFullProgressionNonHierarchical1012", 9),
    ("1.2.840.10008.1.2.4.56", "JPEGFullProgression:Non-hierarchical:Process11+13", "JPEGFullProgressionNonHierarchical1113", 10),
    ("1.2.840.10008.1.2.4.57", "JPEGLossless:Non-hierarchical:Process14", "JPEGLossless", 11),
    ("1.2.840.10008.1.2.4.58", "JPEGLossless:Non-hierarchical:Process15", "JPEGLosslessNonHierarchical15", 12),
    ("1.2.840.10008.1.2.4.59", "JPEGExtended:Hierarchical:Process16+18", "JPEGExtendedHierarchical1618", 13),
    ("1.2.840.10008.1.2.4.60", "JPEGExtended:Hierarchical:Process17+19", "JPEGExtendedHierarchical1719", 14),
    ("1.2.840.10008.1.2.4.61", "JPEGSpectralSelection:Hierarchical:Process20+22", "JPEGSpectralSelectionHierarchical2022", 15),
    ("1.2.840.10008.1.2.4.62", "JPEGSpectralSelection:Hierarchical:Process21+23", "JPEGSpectralSelectionHierarchical2123", 16),
    ("1.2.840.10008.1.2.4.63", "JPEGFullProgression:Hierarchical:Process24+26", "JPEGFullProgressionHierarchical2426", 17),
    ("1.2.840.10008.1.2.4.64", "JPEGFullProgression:Hierarchical:Process25+27", "JPEGFullProgressionHierarchical2527", 18),
    ("1.2.840.10008.1.2.4.65", "JPEGLossless:Hierarchical:Process28", "JPEGLosslessHierarchical28", 19),
    ("1.2.840.10008.1.2.4.66", "JPEGLossless:Hierarchical:Process29", "JPEGLosslessHierarchical29", 20),
    ("1.2.840.10008.1.2.4.70", "JPEGLossless:Non-hierarchical-1stOrderPrediction", "JPEGLosslessSV1", 21),
    ("1.2.840.10008.1.2.5", "RLELossless", "RLELossless", 22),
    ("1.2.840.10008.1.2.1.99", "DeflatedLittleEndianExplicit", "DeflatedExplicitVRLittleEndian", 23),
    ("1.2.840.10008.1.2.8.1", "DeflatedImageFrameCompression", "DeflatedImageFrameCompression", None),
    ("1.2.840.10008.1.2.4.80", "JPEGLSLossless", "JPEGLSLossless", 24),
    ("1.2.840.10008.1.2.4.81", "JPEGLSLossy", "JPEGLSNearLossless", 25),
    ("1.2.840.10008.1.2.4.90", "JPEG2000LosslessOnly", "JPEG2000Lossless", 26),
    ("1.2.840.10008.1.2.4.91", "JPEG2000", "JPEG2000", 27),
    ("1.2.840.10008.1.2.4.92", "JPEG2000MulticomponentLosslessOnly", "JPEG2000MCLossless", 28),
    ("1.2.840.10008.1.2.4.93", "JPEG2000Multicomponent", "JPEG2000MC", 29),
    ("1.2.840.10008.1.2.4.100", "MPEG2MainProfile@MainLevel", "MPEG2MPML", 30),
    ("1.2.840.10008.1.2.4.101", "MPEG2MainProfile@HighLevel", "MPEG2MPHL", 31),
    ("1.2.840.10008.1.2.4.102", "MPEG4HighProfile/Level4.1", "MPEG4HP41", 32),
    ("1.2.840.10008.1.2.4.103", "MPEG4BDcompatibleHighProfile/Level4.1", "MPEG4HP41BD", 33),
    ("1.2.840.10008.1.2.4.104", "MPEG4HighProfile/Level4.2For2DVideo", "MPEG4HP422D", 34),
    ("1.2.840.10008.1.2.4.105", "MPEG4HighProfile/Level4.2For3DVideo", "MPEG4HP423D", 35),
    ("1.2.840.10008.1.2.4.106", "MPEG4StereoHighProfile/Level4.2", "MPEG4HP42STEREO", 36),
    ("1.2.840.10008.1.2.4.107", "HEVCMainProfile/Level5.1", "HEVCMP51", 37),
    ("1.2.840.10008.1.2.4.108", "HEVCMain10Profile/Level5.1", "HEVCM10P51", 38),
    ("1.2.840.10008.1.2.4.100.1", "FragmentableMPEG2MainProfile/MainLevel", "MPEG2MPMLF", None),
    ("1.2.840.10008.1.2.4.101.1", "FragmentableMPEG2MainProfile/HighLevel", "MPEG2MPHLF", None),
    ("1.2.840.10008.1.2.4.102.1", "FragmentableMPEG4HighProfile/Level4.1", "MPEG4HP41F", None),
    ("1.2.840.10008.1.2.4.103.1", "FragmentableMPEG4BDcompatibleHighProfile/Level4.1", "MPEG4HP41BDF", None),
    ("1.2.840.10008.1.2.4.104.1", "FragmentableMPEG4HighProfile/Level4.2For2DVideo", "MPEG4HP422DF", None),
    ("1.2.840.10008.1.2.4.105.1", "FragmentableMPEG4HighProfile/Level4.2For3DVideo", "MPEG4HP423DF", None),
    ("1.2.840.10008.1.2.4.106.1", "FragmentableMPEG4StereoHighProfile/Level4.2", "MPEG4HP42STEREOF", None),
    ("1.2.840.10008.1.2.4.201", "HighThroughputJPEG2000ImageCompressionLosslessOnly", "HTJ2KLossless", None),
    ("1.2.840.10008.1.2.4.202", "HighThroughputJPEG2000withRPCLOptionsImageCompressionLosslessOnly", "HTJ2KLosslessRPCL", None),
    ("1.2.840.10008.1.2.4.203", "HighThroughputJPEG2000ImageCompression", "HTJ2K", None),
    ("1.2.840.10008.1.2.4.110", "JPEGXLLossless", "JPEGXLLossless", None),
    ("1.2.840.10008.1.2.4.111", "JPEGXLJPEGRecompression", "JPEGXLJPEGRecompression", None),
    ("1.2.840.10008.1.2.4.112", "JPEGXL", "JPEGXL", None),
]

NAME_TO_UID = {entry[1]: entry[0] for entry in TRANSFER_SYNTAXES}
NAME_TO_UID["VerificationSOPClass"] = "1.2.840.10008.1.1"
UID_TO_NAME = {uid: name for name, uid in NAME_TO_UID.items()}

# What `-pts n` proposes, in proposal order.
PTS_LATEST = [entry[0] for entry in TRANSFER_SYNTAXES]
PTS_367 = [entry[0] for entry in sorted(
    (t for t in TRANSFER_SYNTAXES if t[3] is not None), key=lambda t: t[3])]
assert len(PTS_LATEST) == 53 and len(PTS_367) == 38


def transfer_syntaxes_367(pts: int) -> list[str]:
    """UIDs proposed by echoscu 3.6.7 -pts `pts` (1..38), in order."""
    if not 1 <= pts <= len(PTS_367):
        raise ValueError("echoscu 3.6.7 accepts -pts 1..%d" % len(PTS_367))
    return PTS_367[:pts]


def proposal_367_for(uids) -> int | None:
    """The -pts value with which echoscu 3.6.7 proposes exactly the set `uids`, else None.

    Order is ignored (3.6.7 always proposes in its fixed order, Implicit VR LE
    first); use it to pick cases where the real echoscu can serve as oracle
    for a proposal expressed with the latest numbering or as a UID list.
    """
    wanted = set(uids)
    for n in range(1, len(PTS_367) + 1):
        if set(PTS_367[:n]) == wanted:
            return n
    return None


def uid_of(printed: str) -> str:
    """'=LittleEndianExplicit' -> its UID; a bare UID (unknown to DCMTK) is returned as is."""
    printed = printed.strip()
    if printed.startswith("="):
        return NAME_TO_UID.get(printed[1:], printed)
    return printed


@dataclass
class ContextResult:
    """One presentation context from an association dump."""

    context_id: int
    state: str                           # "Proposed", "Accepted", "Abstract Syntax Not Supported", ...
    abstract_syntax: str                 # UID
    proposed_transfer_syntaxes: list[str] = field(default_factory=list)  # UIDs (RQ dump)
    accepted_role: str | None = None     # AC dump
    transfer_syntax: str | None = None   # accepted UID (AC dump, accepted contexts only)
    transfer_syntax_name: str | None = None  # as printed, without "="


@dataclass
class EchoscuResult:
    argv: list[str]
    exit_code: int | None                # None if killed by our timeout
    timed_out: bool
    duration: float
    raw_output: str                      # stdout+stderr as printed
    output: str                          # the same without PDU hex dump lines
    info: list[str] = field(default_factory=list)      # text of I: lines
    warnings: list[str] = field(default_factory=list)  # W:
    errors: list[str] = field(default_factory=list)    # E:
    fatals: list[str] = field(default_factory=list)    # F:
    request: dict[str, str] = field(default_factory=dict)   # RQ dump "Label: value"
    negotiated: dict[str, str] = field(default_factory=dict)  # AC dump "Label: value"
    proposed_contexts: list[ContextResult] = field(default_factory=list)
    contexts: list[ContextResult] = field(default_factory=list)  # from the AC dump
    max_send_pdv: int | None = None
    rejected: bool = False
    reject_result: str | None = None     # e.g. "Rejected Permanent"
    reject_source: str | None = None     # e.g. "Service User"
    reject_reason: str | None = None     # e.g. "Called AE Title Not Recognized"
    request_failure: str | None = None   # "0006:031c TCP Initialization Error: ..."
    echo_statuses: list[str] = field(default_factory=list)   # "Success", "Unknown Status: 0x110"
    echo_failures: list[str] = field(default_factory=list)   # "0006:0317 Peer aborted ..."

    @property
    def accepted(self) -> bool:
        return self.max_send_pdv is not None

    @property
    def their_implementation_class_uid(self) -> str | None:
        return self.negotiated.get("Their Implementation Class UID") or None

    @property
    def their_implementation_version_name(self) -> str | None:
        return self.negotiated.get("Their Implementation Version Name") or None

    @property
    def their_max_pdu(self) -> int | None:
        value = self.negotiated.get("Their Max PDU Receive Size")
        return int(value) if value else None

    @property
    def echo_status_codes(self) -> list[int | None]:
        """0 for "Success", the hex value of "Unknown Status: 0x110", else None."""
        codes = []
        for text in self.echo_statuses:
            match = re.search(r"0x([0-9a-fA-F]+)", text)
            codes.append(0 if text == "Success" else int(match.group(1), 16) if match else None)
        return codes


HEX_DUMP = re.compile(r"^D:(\s+[0-9a-f]{2})+\s*$")
CONTEXT = re.compile(r"^\s+Context ID:\s+(\d+) \((.*)\)$")


def parse_output(result: EchoscuResult) -> EchoscuResult:
    """Fill the parsed fields of `result` from result.output."""
    lines = result.output.splitlines()
    levels = {"I": result.info, "W": result.warnings, "E": result.errors, "F": result.fatals}
    for line in lines:
        if line[:3] in ("I: ", "W: ", "E: ", "F: "):
            levels[line[0]].append(line[3:])
    debug = [line[3:] for line in lines if line.startswith("D: ")]
    result.request, result.proposed_contexts = _parse_dump(debug, "RQ")
    result.negotiated, result.contexts = _parse_dump(debug, "AC")

    for text in result.info:
        if match := re.match(r"Association Accepted \(Max Send PDV: (\d+)\)", text):
            result.max_send_pdv = int(match.group(1))
        elif match := re.match(r"Received Echo Response \((.*)\)$", text):
            result.echo_statuses.append(match.group(1))
    for text in result.errors:
        if text.startswith("Echo Failed: "):
            result.echo_failures.append(text[len("Echo Failed: "):])
    for text in result.fatals:
        if text == "Association Rejected:":
            result.rejected = True
        elif match := re.match(r"Result: (.*), Source: (.*)$", text):
            result.reject_result, result.reject_source = match.groups()
        elif text.startswith("Reason: "):
            result.reject_reason = text[len("Reason: "):]
        elif text.startswith("Association Request Failed: "):
            result.request_failure = text[len("Association Request Failed: "):]
    return result


def _parse_dump(debug: list[str], kind: str) -> tuple[dict[str, str], list[ContextResult]]:
    try:
        start = next(i for i, l in enumerate(debug) if "BEGIN A-ASSOCIATE-%s" % kind in l)
        end = next(i for i, l in enumerate(debug) if "END A-ASSOCIATE-%s" % kind in l)
    except StopIteration:
        return {}, []
    fields: dict[str, str] = {}
    contexts: list[ContextResult] = []
    for line in debug[start + 1:end]:
        if match := CONTEXT.match(line):
            contexts.append(ContextResult(int(match.group(1)), match.group(2), ""))
        elif contexts and line.startswith("    "):
            ctx = contexts[-1]
            label, _colon, value = line.strip().partition(":")
            value = value.strip()
            if label == "Abstract Syntax":
                ctx.abstract_syntax = uid_of(value)
            elif label == "Accepted SCP/SCU Role":
                ctx.accepted_role = value
            elif label == "Accepted Transfer Syntax":
                ctx.transfer_syntax = uid_of(value)
                ctx.transfer_syntax_name = value.lstrip("=")
            elif line.startswith("      "):  # a proposed transfer syntax line
                ctx.proposed_transfer_syntaxes.append(uid_of(line))
        elif not line.startswith(" ") and ":" in line:
            label, _colon, value = line.partition(":")
            fields[label] = value.strip()
    return fields, contexts


def run_echoscu(host: str, port: int, called_aet: str = "ANY-SCP", calling_aet: str = "ECHOSCU",
                pts: int = 1, ppc: int = 1, extra=(), timeout: float = 60,
                echoscu: str | None = None) -> EchoscuResult:
    """Run `echoscu -d` against host:port and parse what it printed.

    `extra` is inserted before host/port (e.g. ("-ta", "2", "--repeat", "3")).
    echoscu 3.6.7 accepts -pts 1..38 (its own order, see PTS_367) and cannot
    parse IPv6 literals.  The process group is killed after `timeout` seconds
    (then exit_code is None and timed_out is True).
    """
    argv = [echoscu or tool("echoscu"), "-d", "-aet", calling_aet, "-aec", called_aet,
            "-pts", str(pts), "-ppc", str(ppc), *extra, host, str(port)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        raw = proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        raw = proc.communicate()[0]
    text = raw.decode("utf-8", "replace")
    result = EchoscuResult(
        argv=argv,
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        duration=time.monotonic() - started,
        raw_output=text,
        output="\n".join(l for l in text.splitlines() if not HEX_DUMP.match(l)),
    )
    return parse_output(result)
