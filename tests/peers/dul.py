"""Minimal DICOM Upper Layer (PS3.8) and DIMSE command codec for the test peers.

Hand-written with the stdlib on purpose: the faulty peers must be able to send
PDUs that a real library refuses to build (invalid A-ASSOCIATE-RJ values,
truncated PDUs, a Maximum Length of 0), and the `normal` peer must stay cheap
enough for several hundred associations per second.  Only what a C-ECHO SCP
needs is covered.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field

# PDU types (PS3.8 9.3)
A_ASSOCIATE_RQ = 0x01
A_ASSOCIATE_AC = 0x02
A_ASSOCIATE_RJ = 0x03
P_DATA_TF = 0x04
A_RELEASE_RQ = 0x05
A_RELEASE_RP = 0x06
A_ABORT = 0x07

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"

# Presentation context results in the A-ASSOCIATE-AC (PS3.8 9.3.3.2)
PC_ACCEPTANCE = 0
PC_USER_REJECTION = 1
PC_NO_REASON = 2
PC_ABSTRACT_SYNTAX_NOT_SUPPORTED = 3
PC_TRANSFER_SYNTAXES_NOT_SUPPORTED = 4

# A fixed "2.25" (UUID-derived) UID: anybody may mint one, and it cannot be
# mistaken for DCMTK's or pynetdicom's implementation class in a dump.
IMPLEMENTATION_CLASS_UID = "2.25.%d" % uuid.UUID("5b0c1f3e-7a51-4c8e-9d7c-2f0e1a6b9c41").int
IMPLEMENTATION_VERSION_NAME = "TESTPEERS_1"

# DIMSE command fields and the "no data set" marker (PS3.7 E.1)
C_ECHO_RQ = 0x0030
C_ECHO_RSP = 0x8030
NO_DATASET = 0x0101

# PDV message control header bits (PS3.8 E.2)
PDV_COMMAND = 0x01
PDV_LAST = 0x02

RELEASE_RQ_PDU = bytes([A_RELEASE_RQ, 0]) + struct.pack(">I", 4) + bytes(4)
RELEASE_RP_PDU = bytes([A_RELEASE_RP, 0]) + struct.pack(">I", 4) + bytes(4)


class ProtocolError(Exception):
    """The peer sent something this minimal codec cannot make sense of."""


@dataclass
class ProposedContext:
    context_id: int
    abstract_syntax: str
    transfer_syntaxes: list[str] = field(default_factory=list)


@dataclass
class AssociateRQ:
    """The parts of an A-ASSOCIATE-RQ a test may want to assert on."""

    called_ae: str
    calling_ae: str
    protocol_version: int
    application_context: str | None = None
    contexts: list[ProposedContext] = field(default_factory=list)
    max_pdu: int | None = None
    implementation_class_uid: str | None = None
    implementation_version_name: str | None = None
    raw_called_ae: bytes = b""
    raw_calling_ae: bytes = b""


def pdu(pdu_type: int, body: bytes) -> bytes:
    return struct.pack(">BBI", pdu_type, 0, len(body)) + body


def _item(item_type: int, value: bytes) -> bytes:
    return struct.pack(">BBH", item_type, 0, len(value)) + value


def _ascii(value: bytes) -> str:
    # UIDs in PDU items are sometimes (wrongly) padded with NUL or space.
    return value.decode("ascii", "replace").rstrip("\0 ")


def parse_associate_rq(body: bytes) -> AssociateRQ:
    """Decode the body (everything after the 6-byte header) of an A-ASSOCIATE-RQ."""
    if len(body) < 68:
        raise ProtocolError("A-ASSOCIATE-RQ too short: %d bytes" % len(body))
    (version,) = struct.unpack_from(">H", body, 0)
    rq = AssociateRQ(
        called_ae=body[4:20].decode("ascii", "replace").strip(),
        calling_ae=body[20:36].decode("ascii", "replace").strip(),
        protocol_version=version,
        raw_called_ae=body[4:20],
        raw_calling_ae=body[20:36],
    )
    for item_type, value in _items(body, 68):
        if item_type == 0x10:
            rq.application_context = _ascii(value)
        elif item_type == 0x20:
            rq.contexts.append(_parse_context(value))
        elif item_type == 0x50:
            _parse_user_info(value, rq)
    return rq


def _items(buf: bytes, offset: int):
    """Yield (type, value) of the items/sub-items in buf[offset:]."""
    while offset + 4 <= len(buf):
        item_type, _reserved, length = struct.unpack_from(">BBH", buf, offset)
        offset += 4
        if offset + length > len(buf):
            raise ProtocolError("item 0x%02x overruns its PDU" % item_type)
        yield item_type, buf[offset:offset + length]
        offset += length


def _parse_context(value: bytes) -> ProposedContext:
    if len(value) < 4:
        raise ProtocolError("presentation context item too short")
    ctx = ProposedContext(context_id=value[0], abstract_syntax="")
    for sub_type, sub in _items(value, 4):
        if sub_type == 0x30:
            ctx.abstract_syntax = _ascii(sub)
        elif sub_type == 0x40:
            ctx.transfer_syntaxes.append(_ascii(sub))
    return ctx


def _parse_user_info(value: bytes, rq: AssociateRQ) -> None:
    for sub_type, sub in _items(value, 0):
        if sub_type == 0x51 and len(sub) == 4:
            (rq.max_pdu,) = struct.unpack(">I", sub)
        elif sub_type == 0x52:
            rq.implementation_class_uid = _ascii(sub)
        elif sub_type == 0x55:
            rq.implementation_version_name = _ascii(sub)


def associate_ac(
    rq: AssociateRQ,
    results: list[tuple[int, int, str]],
    max_pdu: int = 16384,
) -> bytes:
    """Build an A-ASSOCIATE-AC.

    results: (context id, result, transfer syntax) per context, in the order
    they are to appear.  A transfer syntax sub-item is sent for rejected
    contexts too (PS3.8 says it is "not significant" then, but some parsers
    insist on its presence).
    """
    fixed = struct.pack(">HH", 1, 0) + rq.raw_called_ae + rq.raw_calling_ae + bytes(32)
    items = [_item(0x10, APPLICATION_CONTEXT.encode())]
    for context_id, result, ts in results:
        ts_item = _item(0x40, ts.encode())
        items.append(_item(0x21, bytes([context_id, 0, result, 0]) + ts_item))
    user = (
        _item(0x51, struct.pack(">I", max_pdu))
        + _item(0x52, IMPLEMENTATION_CLASS_UID.encode())
        + _item(0x55, IMPLEMENTATION_VERSION_NAME.encode())
    )
    items.append(_item(0x50, user))
    return pdu(A_ASSOCIATE_AC, fixed + b"".join(items))


def associate_rj(result: int, source: int, reason: int) -> bytes:
    """Any byte values are allowed, so invalid combinations can be sent."""
    return pdu(A_ASSOCIATE_RJ, bytes([0, result & 0xFF, source & 0xFF, reason & 0xFF]))


def abort(source: int = 0, reason: int = 0) -> bytes:
    return pdu(A_ABORT, bytes([0, 0, source & 0xFF, reason & 0xFF]))


def p_data(pdvs: list[tuple[int, int, bytes]]) -> bytes:
    """A P-DATA-TF carrying (context id, message control header, data) PDVs."""
    body = b"".join(
        struct.pack(">IBB", len(data) + 2, context_id, control) + data
        for context_id, control, data in pdvs
    )
    return pdu(P_DATA_TF, body)


def parse_p_data(body: bytes) -> list[tuple[int, int, bytes]]:
    pdvs = []
    offset = 0
    while offset + 6 <= len(body):
        (length,) = struct.unpack_from(">I", body, offset)
        if length < 2 or offset + 4 + length > len(body):
            raise ProtocolError("bad PDV item length %d" % length)
        pdvs.append((body[offset + 4], body[offset + 5], body[offset + 6:offset + 4 + length]))
        offset += 4 + length
    if offset != len(body):
        raise ProtocolError("trailing bytes in P-DATA-TF")
    return pdvs


# --- DIMSE command sets (always Implicit VR Little Endian, group 0000) -------

def _element(element: int, value: bytes) -> bytes:
    return struct.pack("<HHI", 0x0000, element, len(value)) + value


def _us(element: int, value: int) -> bytes:
    return _element(element, struct.pack("<H", value & 0xFFFF))


def _ui(element: int, uid: str) -> bytes:
    raw = uid.encode()
    return _element(element, raw + b"\0" * (len(raw) % 2))


def echo_rsp_command(message_id: int, status: int = 0, sop_class: str = VERIFICATION) -> bytes:
    """C-ECHO-RSP command set, byte-identical to what DCMTK/pynetdicom send."""
    rest = (
        _ui(0x0002, sop_class)            # Affected SOP Class UID
        + _us(0x0100, C_ECHO_RSP)         # Command Field
        + _us(0x0120, message_id)         # Message ID Being Responded To
        + _us(0x0800, NO_DATASET)         # Command Data Set Type
        + _us(0x0900, status)             # Status
    )
    return _element(0x0000, struct.pack("<I", len(rest))) + rest


def parse_command(data: bytes) -> dict[int, bytes]:
    """Map element number -> raw value for an Implicit VR LE group-0000 command set."""
    elements = {}
    offset = 0
    while offset + 8 <= len(data):
        group, element, length = struct.unpack_from("<HHI", data, offset)
        offset += 8
        if group != 0x0000 or offset + length > len(data):
            raise ProtocolError("not an Implicit VR LE command set")
        elements[element] = data[offset:offset + length]
        offset += length
    return elements


def command_us(command: dict[int, bytes], element: int) -> int | None:
    raw = command.get(element)
    return struct.unpack("<H", raw)[0] if raw is not None and len(raw) == 2 else None
