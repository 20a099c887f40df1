# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DICOM Upper Layer PDUs and the C-ECHO and C-FIND command sets of a requestor, with ``struct`` only.

Private to this collection. A probe host needs nothing but Python for a plain C-ECHO, so the few
PDUs a requestor writes and reads are coded here (PS3.8 9.3, PS3.7 9.1.2, 9.3.5 and E). The C-FIND
identifiers themselves are data sets that _find.py encodes and decodes with pydicom; this module only
carries them, bounded, between PDVs and bytes (docs/dev/codec.md, "C-FIND"). Every decoder is
bounded in bytes and items and refuses what DCMTK's echoscu refuses on the same bytes, with DCMTK's
condition text: docs/dev/codec.md lists each rule, its reason and where we are stricter.
pynetdicom is the reference these codecs are tested against (tests/unit/.../test_pdu_differential.py).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import struct
import sys
import uuid

from ._syntaxes import APPLICATION_CONTEXT, VERIFICATION_SOP_CLASS

# Our own identity in every A-ASSOCIATE-RQ: a UUID-derived UID (PS3.5 B.2) fixed for this
# collection, and a version name of at most 16 characters.
IMPLEMENTATION_CLASS_UID = "2.25." + str(uuid.UUID("dc0e7b2a-4c1f-4f58-9d5e-0a11ce5ec0de").int)
IMPLEMENTATION_VERSION_NAME = "DICOMNET_010"

PDU_TYPES = {1: "A-ASSOCIATE-RQ", 2: "A-ASSOCIATE-AC", 3: "A-ASSOCIATE-RJ", 4: "P-DATA-TF",
             5: "A-RELEASE-RQ", 6: "A-RELEASE-RP", 7: "A-ABORT"}
C_ECHO_RQ_COMMAND = 0x0030
C_ECHO_RSP_COMMAND = 0x8030
C_FIND_RQ_COMMAND = 0x0020
C_FIND_RSP_COMMAND = 0x8020
NO_DATASET = 0x0101
DATASET_PRESENT = 0x0102  # any value but 0x0101 announces a data set (PS3.7 E.2); this is DCMTK's
RESPONSE_NAMES = {C_ECHO_RSP_COMMAND: "C-ECHO-RSP", C_FIND_RSP_COMMAND: "C-FIND-RSP"}

# Bounds on what a peer may make us hold or parse (docs/dev/codec.md, "Bounds"). A conformant
# A-ASSOCIATE-AC for 128 contexts is about 12 KiB; a C-ECHO-RSP command set about 100 bytes.
MAX_CONTROL_PDU = 64 * 1024      # any PDU but P-DATA-TF
MAX_COMMAND_SET = 64 * 1024      # one reassembled DIMSE command set
MAX_PDVS_PER_MESSAGE = 256       # PDVs of one response, whatever PDUs carry them
MAX_DATASET = 64 * 1024          # one C-FIND-RSP identifier (a STUDY-level one is well under 1 KiB)
UID_MAX = 64                     # DCMTK refuses a longer UID sub-item (DICOM_UI_LENGTH)
_AC_CACHE_MAX_BYTES = 16 * 1024  # larger answers are decoded every time, never kept

_FAILED_TO_RECEIVE = "0006:020d DIMSE Failed to receive message"
_ILLEGAL_PDU = "0006:0307 DUL Illegal or ill-formed PDU"


class ProtocolError(Exception):
    """The peer sent something a conformant acceptor would not; the text says what.

    ``condition`` is DCMTK's "mmmm:cccc text" for the same fault, where DCMTK has one.
    """

    def __init__(self, text, condition=None):
        super().__init__(text)
        self.condition = condition or text


# ---- encoding ------------------------------------------------------------------------------
def _item(kind, value):
    return struct.pack(">BBH", kind, 0, len(value)) + value


def _pdu(kind, body):
    return struct.pack(">BBI", kind, 0, len(body)) + body


def _ae(title):
    return title.encode("ascii").ljust(16, b" ")


@functools.lru_cache(maxsize=64)
def associate_rq(calling_aet, called_aet, contexts, max_pdu):
    """Encoded A-ASSOCIATE-RQ. ``contexts`` is a tuple of (abstract syntax, tuple of syntaxes), IDs 1,3,5,..."""
    parts = [struct.pack(">HH", 1, 0), _ae(called_aet), _ae(calling_aet), bytes(32),
             _item(0x10, APPLICATION_CONTEXT.encode("ascii"))]
    for index, (abstract, syntaxes) in enumerate(contexts):
        sub = [_item(0x30, abstract.encode("ascii"))] + [_item(0x40, syntax.encode("ascii")) for syntax in syntaxes]
        parts.append(_item(0x20, struct.pack(">BBBB", 2 * index + 1, 0, 0, 0) + b"".join(sub)))
    user = (_item(0x51, struct.pack(">I", max_pdu)) + _item(0x52, IMPLEMENTATION_CLASS_UID.encode("ascii"))
            + _item(0x55, IMPLEMENTATION_VERSION_NAME.encode("ascii")))
    parts.append(_item(0x50, user))
    return _pdu(1, b"".join(parts))


def _element(tag, value):
    return struct.pack("<HHI", 0, tag, len(value)) + value


def echo_rq_command(message_id):
    """The C-ECHO-RQ command set, implicit VR little endian, with its group length (PS3.7 9.3.5.1)."""
    uid = VERIFICATION_SOP_CLASS.encode("ascii")
    uid += b"\0" * (len(uid) % 2)
    body = (_element(0x0002, uid) + _element(0x0100, struct.pack("<H", C_ECHO_RQ_COMMAND))
            + _element(0x0110, struct.pack("<H", message_id)) + _element(0x0800, struct.pack("<H", NO_DATASET)))
    return _element(0x0000, struct.pack("<I", len(body))) + body


def max_fragment(peer_max_pdu):
    """Bytes of command data one P-DATA-TF may carry to this peer (0 = no limit), as DCMTK splits."""
    if peer_max_pdu == 0:
        return 131072 - 12
    if peer_max_pdu < 14:
        raise ProtocolError("the peer's maximum PDU length %d cannot carry any P-DATA-TF (it must be more than 12)" % peer_max_pdu,
                            condition="0006:0308 DUL Cannot send P-DATA PDU because receiver's max PDU size of %d is illegal "
                                      "(must be > 12)" % peer_max_pdu)
    return peer_max_pdu - 12


def _fragments(data, context_id, step, command):
    """P-DATA-TF PDUs, one PDV each, carrying ``data`` (a command set or a data set) in pieces of ``step`` bytes."""
    out = []
    kind = 0x01 if command else 0x00
    for start in range(0, len(data), step):
        fragment = data[start:start + step]
        header = kind | (0x02 if start + step >= len(data) else 0x00)  # bit 0: command, bit 1: last fragment
        out.append(_pdu(4, struct.pack(">IBB", len(fragment) + 2, context_id, header) + fragment))
    return out


@functools.lru_cache(maxsize=1024)
def echo_rq(message_id, context_id, peer_max_pdu):
    """Encoded P-DATA-TF PDU(s) carrying one C-ECHO-RQ, fragmented to the peer's maximum PDU length."""
    return b"".join(_fragments(echo_rq_command(message_id), context_id, max_fragment(peer_max_pdu), True))


def find_rq_command(message_id, sop_class):
    """The C-FIND-RQ command set (PS3.7 9.3.2.1): priority MEDIUM, a data set (the identifier) follows."""
    uid = sop_class.encode("ascii")
    uid += b"\0" * (len(uid) % 2)
    body = (_element(0x0002, uid) + _element(0x0100, struct.pack("<H", C_FIND_RQ_COMMAND))
            + _element(0x0110, struct.pack("<H", message_id)) + _element(0x0700, struct.pack("<H", 0))
            + _element(0x0800, struct.pack("<H", DATASET_PRESENT)))
    return _element(0x0000, struct.pack("<I", len(body))) + body


def find_rq(message_id, context_id, peer_max_pdu, sop_class, identifier):
    """Encoded P-DATA-TF PDUs of one C-FIND-RQ: the command set, then the encoded identifier, each fragmented
    to the peer's maximum PDU length (the two are never mixed in one PDV, PS3.8 9.3.5.1)."""
    step = max_fragment(peer_max_pdu)
    if not identifier:
        raise ProtocolError("a C-FIND-RQ needs a non-empty identifier")
    return b"".join(_fragments(find_rq_command(message_id, sop_class), context_id, step, True)
                    + _fragments(identifier, context_id, step, False))


@functools.lru_cache(maxsize=None)
def fixed_pdu(kind):
    """The encoded A-RELEASE-RQ, A-RELEASE-RP or A-ABORT (source 0 service user, reason 0)."""
    return _pdu({"release_rq": 5, "release_rp": 6, "abort": 7}[kind], bytes(4))


# ---- decoding ------------------------------------------------------------------------------
def _text(raw):
    """A UID or name from a sub-item: ASCII, trailing NUL and space padding removed, interned.

    Interned because a batch of 10,000 results then holds each peer UID once.
    """
    return sys.intern(raw.decode("ascii", "replace").rstrip("\0 ")) if raw else ""


def _items(raw, offset, end, what):
    """(type, value offset, value end) of each item of a PDU or item list; lengths checked."""
    while offset < end:
        if end - offset < 4:
            raise ProtocolError("%s: %d trailing bytes are not an item" % (what, end - offset),
                                condition=_ILLEGAL_PDU)
        kind, length = raw[offset], struct.unpack_from(">H", raw, offset + 2)[0]
        if offset + 4 + length > end:
            raise ProtocolError("%s: item 0x%02x announces %d bytes, %d are left" % (what, kind, length, end - offset - 4),
                                condition=_ILLEGAL_PDU)
        yield kind, offset + 4, offset + 4 + length
        offset += 4 + length


def _uid(raw, start, end, what, c_string=False):
    if end - start > UID_MAX:
        raise ProtocolError("%s of %d bytes; a UID has at most %d" % (what, end - start, UID_MAX),
                            condition="0006:0308 DUL illegal subitem length %d. Maximum allowed size is %d." % (end - start, UID_MAX))
    if c_string:  # as DCMTK compares it: up to the first NUL, a space kept (a padded transfer syntax is unknown to it)
        return sys.intern(bytes(raw[start:end]).split(b"\0", 1)[0].decode("ascii", "replace"))
    return _text(raw[start:end])


def parse_associate_ac(raw):
    """Peer details and per-context (result, transfer syntax) from an A-ASSOCIATE-AC (read-only, shared).

    The AC echoes the two AE titles (bytes 10-41), which nothing here reads; decoded with them blanked,
    one decode serves every endpoint of the same kind of peer in a batch. Only small answers are kept.
    """
    key = bytes(raw[:10]) + b" " * 32 + bytes(raw[42:])
    if len(key) > _AC_CACHE_MAX_BYTES:
        return _parse_associate_ac(key)
    return _cached_associate_ac(key)


@functools.lru_cache(maxsize=64)
def _cached_associate_ac(raw):
    return _parse_associate_ac(raw)


def _parse_associate_ac(raw):
    if len(raw) < 74:
        raise ProtocolError("malformed A-ASSOCIATE-AC: %d bytes, at least 74 expected" % len(raw),
                            condition="0006:0308 DUL Illegal PDU length %d. Minimum length expected is 68." % (len(raw) - 6))
    (version,) = struct.unpack_from(">H", raw, 6)
    if not version & 1:  # PS3.8 9.3.3: bit 0 set means protocol version 1, the only one there is
        raise ProtocolError("malformed A-ASSOCIATE-AC: protocol version 0x%04x does not include version 1" % version,
                            condition="0006:0322 DUL Unsupported peer protocol %04x; expected 0001 in parseAssociate" % version)
    contexts = {}
    info = {"max_pdu": 0, "implementation_class_uid": "", "implementation_version_name": None}
    for kind, start, end in _items(raw, 74, len(raw), "malformed A-ASSOCIATE-AC"):
        if kind in (0x20, 0x21):  # DCMTK takes an RQ's presentation context item (0x20) in an AC as an answer too
            if end - start < 4:
                raise ProtocolError("malformed A-ASSOCIATE-AC: presentation context item of %d bytes" % (end - start),
                                    condition=_ILLEGAL_PDU)
            context_id, result = raw[start], raw[start + 2]
            # sub-items of an accepted context (of any 0x20 item) only, as DCMTK reads them; an abstract syntax (0x30) is
            # checked like a transfer syntax
            sub_items = _items(raw, start + 4, end, "presentation context %d" % context_id) if result == 0 or kind == 0x20 else ()
            uids = [(k, _uid(raw, s, e, "transfer syntax" if k == 0x40 else "abstract syntax", c_string=True)) for k, s, e in sub_items
                    if k in (0x30, 0x40)]
            syntaxes = [uid for k, uid in uids if k == 0x40]
            if result == 0 and len(syntaxes) != 1:  # PS3.8 9.3.3.2: exactly one on acceptance
                raise ProtocolError("malformed A-ASSOCIATE-AC: context %d is accepted with %d transfer syntaxes, 1 expected"
                                    % (context_id, len(syntaxes)),
                                    condition="0006:0318 DUL Peer supplied illegal number of transfer syntaxes (%d)" % len(syntaxes))
            if context_id in contexts:
                raise ProtocolError("malformed A-ASSOCIATE-AC: presentation context %d is answered twice" % context_id)
            contexts[context_id] = (result, syntaxes[0] if syntaxes else None)
        elif kind == 0x50:
            _parse_user_info(raw, start, end, info)
        elif kind == 0x10:
            _uid(raw, start, end, "application context name")
    info["contexts"] = contexts
    return info


def _parse_user_info(raw, start, end, info):
    for kind, item_start, item_end in _items(raw, start, end, "user information"):
        if kind == 0x51:
            if item_end - item_start != 4:
                raise ProtocolError("malformed A-ASSOCIATE-AC: maximum length sub-item of %d bytes, 4 expected" % (item_end - item_start),
                                    condition=_ILLEGAL_PDU)
            info["max_pdu"] = struct.unpack_from(">I", raw, item_start)[0]
        elif kind == 0x52:
            info["implementation_class_uid"] = _uid(raw, item_start, item_end, "implementation class UID")
        elif kind == 0x55:
            info["implementation_version_name"] = _uid(raw, item_start, item_end, "implementation version name") or None
        elif kind in (0x54, 0x56, 0x58, 0x59):
            # role selection, extended negotiation: a UID with its own 2-byte length, then 2 role bytes / the
            # application information; user identity (DCMTK reads 0x58 as 0x59 here): the server response with its own
            # 2-byte length, which DCMTK takes as the end of the sub-item (docs/dev/codec.md)
            size = item_end - item_start
            inner = struct.unpack_from(">H", raw, item_start)[0] if size >= 2 else None
            if inner is None or (kind == 0x54 and (size < 4 or inner > size - 4)) or (kind == 0x56 and inner > size - 2) \
                    or (kind in (0x58, 0x59) and inner != size - 2):
                raise ProtocolError("malformed A-ASSOCIATE-AC: sub-item 0x%02x of %d bytes has an inconsistent inner length" % (kind, size),
                                    condition=_ILLEGAL_PDU)


def parse_associate_rj(raw):
    """(result, source, reason) bytes of an A-ASSOCIATE-RJ."""
    if len(raw) < 10:
        raise ProtocolError("A-ASSOCIATE-RJ of %d bytes, 10 expected" % len(raw), condition=_ILLEGAL_PDU)
    return raw[7], raw[8], raw[9]


def parse_abort(raw):
    """(source, reason) bytes of an A-ABORT."""
    if len(raw) < 10:
        raise ProtocolError("A-ABORT of %d bytes, 10 expected" % len(raw), condition=_ILLEGAL_PDU)
    return raw[8], raw[9]


def _receive_failed(text, condition=_FAILED_TO_RECEIVE):
    return ProtocolError(text, condition="%s\n%s" % (condition, text) if condition == _FAILED_TO_RECEIVE else condition)


class ResponseAssembler:
    """Reassembles one DIMSE response from P-DATA-TF PDUs, as DCMTK's receiveCommand and receiveDataSet do.

    ``accepted`` holds the IDs of the presentation contexts the peer accepted: the command must
    come on one of them, every fragment (command and data set) on the same one. When the command
    announces a data set (a C-FIND-RSP with a match), its fragments follow and the complete data
    set is handed to ``dataset_sink`` and dropped: nothing keeps it. Without a sink a data set is
    a protocol error (a C-ECHO-RSP has none). Bounded by MAX_COMMAND_SET and MAX_DATASET bytes and
    MAX_PDVS_PER_MESSAGE PDVs whatever the PDUs carry.
    """

    __slots__ = ("accepted", "fragments", "size", "pdvs", "context_id", "command_set", "dataset_sink", "dataset_size",
                 "dataset_done")

    def __init__(self, accepted, dataset_sink=None):
        self.accepted = accepted
        self.fragments = []
        self.size = 0
        self.pdvs = 0
        self.context_id = None
        self.command_set = None
        self.dataset_sink = dataset_sink
        self.dataset_size = 0
        self.dataset_done = False

    @property
    def complete(self):
        """The command set, and the data set it announces if any, have arrived."""
        if self.command_set is None:
            return False
        return self.command_set["CommandDataSetType"] == NO_DATASET or self.dataset_done

    def feed(self, raw):
        """Add one P-DATA-TF (header included); return True once the response is complete."""
        offset, end = 6, len(raw)
        if end - offset < 4:
            raise _receive_failed("PDU without any PDVs (a P-DATA-TF must carry at least one)",
                                  condition="0006:0307 PDU without any PDVs encountered. In DT_2_IndicatePData.  "
                                            "This probably indicates a  malformed P DATA PDU.")
        first_length, uneven = None, False
        while offset < end:
            if end - offset < 4:
                raise ProtocolError("PDV lengths don't add up: %d bytes left after the last PDV" % (end - offset),
                                    condition="0006:0307 PDV lengths don't add up correctly. This probably indicates a malformed P-DATA PDU.")
            (length,) = struct.unpack_from(">I", raw, offset)
            if length < 2 or offset + 4 + length > end:
                raise ProtocolError("PDV item length %d does not fit its P-DATA-TF" % length,
                                    condition="0006:0308 PDV with invalid length %d encountered. This probably indicates a malformed P DATA PDU." % length)
            if self.complete:
                raise _receive_failed("data after the end of the %s" % _response_name(self.command_set))
            # DCMTK steps from PDV k to k+1 of a P-DATA-TF by the length of PDV k+1 instead of k (DUL_NextPDV): unless
            # all PDVs before it have one length, it reads the third and later PDVs from the wrong place (docs/dev/codec.md)
            if uneven:
                raise _receive_failed("a P-DATA-TF whose PDVs before the last differ in length, which DCMTK's echoscu misreads")
            if first_length is None:
                first_length = length
            uneven = length != first_length
            self.pdvs += 1
            if self.pdvs > MAX_PDVS_PER_MESSAGE:
                raise _receive_failed("the response is split into more than %d PDVs" % MAX_PDVS_PER_MESSAGE)
            context_id, header = raw[offset + 4], raw[offset + 5]
            fragment_start, offset = offset + 6, offset + 4 + length
            if self.context_id is None:
                self.context_id = context_id
            elif context_id != self.context_id:
                what = "Command Set" if self.command_set is None else "Data Set"
                raise _receive_failed("DIMSE: Different PresIDs inside %s: %d != %d" % (what, self.context_id, context_id))
            if self.command_set is None:
                self._command_fragment(raw, fragment_start, offset, header, length)
            else:
                self._dataset_fragment(raw, fragment_start, offset, header)
        return self.complete

    def _command_fragment(self, raw, start, end, header, length):
        if not header & 1:  # a data set PDV where the command set was expected
            self._check_context()
            raise _receive_failed("DIMSE: Command PDV Expected")
        if (length - 2) % 2:
            raise _receive_failed("DIMSE: Odd Fragment Length: %d" % (length - 2))
        self.size += length - 2
        if self.size > MAX_COMMAND_SET:
            raise _receive_failed("the command set is longer than %d bytes" % MAX_COMMAND_SET)
        self.fragments.append(raw[start:end])
        if header & 2:
            self._check_context()
            ends = list(itertools.accumulate(len(fragment) for fragment in self.fragments))
            self.command_set = decode_command(b"".join(self.fragments), ends[:-1])
            self.fragments = []
            if self.command_set["CommandDataSetType"] != NO_DATASET and self.dataset_sink is None:
                raise ProtocolError("DIMSE: the %s announces a data set (Command Data Set Type 0x%04x), which this exchange does not have"
                                    % (_response_name(self.command_set), self.command_set["CommandDataSetType"]),
                                    condition="0006:0203 DIMSE Badly formed message")

    def _dataset_fragment(self, raw, start, end, header):
        if header & 1:  # a command PDV where the announced data set was expected
            raise _receive_failed("DIMSE: a command PDV arrived where the data set of the %s was expected"
                                  % _response_name(self.command_set))
        self.dataset_size += end - start
        if self.dataset_size > MAX_DATASET:
            raise _receive_failed("the data set of the %s is longer than %d bytes" % (_response_name(self.command_set), MAX_DATASET))
        self.fragments.append(raw[start:end])
        if header & 2:
            data = b"".join(self.fragments)
            self.fragments = []
            self.dataset_done = True
            self.dataset_sink(data)  # decoded (and counted) there, then dropped

    def _check_context(self):
        if self.context_id not in self.accepted:
            raise _receive_failed("the response came on presentation context %d, which the peer did not accept" % self.context_id,
                                  condition="0006:020d DIMSE Failed to receive message\n"
                                            "0006:0101 ASC Bad presentation context ID: %d" % self.context_id)


def _response_name(command_set):
    return RESPONSE_NAMES.get(command_set["CommandField"], "response (Command Field 0x%04x)" % command_set["CommandField"])


_REQUIRED = ((0x0100, "CommandField"), (0x0120, "MessageIDBeingRespondedTo"),
             (0x0800, "CommandDataSetType"), (0x0900, "Status"))


def decode_command(encoded, boundaries=()):
    """The fields of a C-ECHO-RSP or C-FIND-RSP command set that a requestor checks, as DCMTK parses them.

    Implicit VR little endian (PS3.7 6.3.1); each US element's first value, and an element's first entry, are used,
    as DCMTK does.
    A missing element, a short or lying length, or a data set announced is a ProtocolError. ``boundaries``: the
    offsets where one PDV's fragment ended and the next began (ascending).
    """
    elements, offset, end, highest = {}, 0, len(encoded), -1
    while offset < end:
        if end - offset < 8:
            raise _receive_failed("undecodable DIMSE command set: %d trailing bytes are not an element" % (end - offset),
                                  condition="0006:020d DIMSE: receiveCommand: cmdSet->read() Failed")
        group, element, length = struct.unpack_from("<HHI", encoded, offset)
        offset += 8
        if length > end - offset:
            raise _receive_failed("undecodable DIMSE command set: element (%04x,%04x) announces %d bytes, %d are left"
                                  % (group, element, length, end - offset),
                                  condition="0006:020d DIMSE: receiveCommand: cmdSet->read() Failed")
        if group != 0x0000:
            raise _receive_failed("undecodable DIMSE command set: element (%04x,%04x) is not a command element" % (group, element),
                                  condition="0006:020d DIMSE: receiveCommand: cmdSet->read() Failed")
        if element <= highest and length and boundaries:
            # DCMTK goes on reading a value cut by a fragment boundary into the highest tag read so far (its element
            # list is sorted; a second entry is dropped): the value of an element out of ascending order, or given
            # twice, must lie within one fragment
            after = bisect.bisect_left(boundaries, offset)
            if after < len(boundaries) and boundaries[after] < offset + length:
                raise _receive_failed("the value of (0000,%04x), out of ascending tag order or given twice, is split between PDVs, "
                                      "which DCMTK's echoscu misreads" % element,
                                      condition="0006:020d DIMSE: receiveCommand: cmdSet->read() Failed")
        highest = max(highest, element)
        elements.setdefault(element, encoded[offset:offset + length])  # a second entry is ignored, as DCMTK does
        offset += length
    fields = {}
    for element, name in _REQUIRED:
        value = elements.get(element)
        if value is None or len(value) < 2:
            raise ProtocolError("DIMSE: %s without a usable %s (0000,%04x)" % (_field_owner(elements), name, element),
                                condition="0006:020b DIMSE: Command Parse Failed: Element: (0000,%04x) %s" % (element, name))
        fields[name] = struct.unpack_from("<H", value)[0]
    uid = elements.get(0x0002)
    fields["AffectedSOPClassUID"] = _text(uid) if uid else ""
    if fields["CommandField"] == C_ECHO_RSP_COMMAND and fields["CommandDataSetType"] != NO_DATASET:
        raise ProtocolError("DIMSE: the C-ECHO-RSP announces a data set (Command Data Set Type 0x%04x); a C-ECHO-RSP has none"
                            % fields["CommandDataSetType"], condition="0006:0203 DIMSE Badly formed message")
    return fields


def _field_owner(elements):
    """What the response is, for a message about its missing field: its name when its Command Field says."""
    field = elements.get(0x0100)
    if field is not None and len(field) >= 2:
        return RESPONSE_NAMES.get(struct.unpack_from("<H", field)[0], "response")
    return "response"
