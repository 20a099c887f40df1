# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DICOM Upper Layer PDUs for a C-ECHO requestor, on pynetdicom's PDU and DIMSE codecs.

Private to this collection. Only the codecs are used (pynetdicom.pdu, pdu_primitives,
dimse_messages): the transport, timers and state machine are ours (_engine.py), because
pynetdicom's threaded association cannot bound every phase (pynetdicom-notes.md 2.10, 7).
"""

from __future__ import annotations

import functools
import struct
import sys
import traceback
import uuid
from io import BytesIO

try:
    from pynetdicom.dimse_messages import C_ECHO_RQ
    from pynetdicom.dimse_primitives import C_ECHO
    from pynetdicom.dsutils import decode as decode_dataset
    from pynetdicom.pdu import A_ABORT_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RQ, A_RELEASE_RP, A_RELEASE_RQ, P_DATA_TF
    from pynetdicom.pdu_primitives import (
        A_ASSOCIATE,
        ImplementationClassUIDNotification,
        ImplementationVersionNameNotification,
        MaximumLengthNotification,
    )
    from pynetdicom.presentation import PresentationContext
except ImportError:
    PYNETDICOM_IMPORT_ERROR = traceback.format_exc()
else:
    PYNETDICOM_IMPORT_ERROR = None

from ._syntaxes import APPLICATION_CONTEXT, VERIFICATION_SOP_CLASS

# Our own identity in every A-ASSOCIATE-RQ: a UUID-derived UID (PS3.5 B.2) fixed for this
# collection, and a version name of at most 16 characters.
IMPLEMENTATION_CLASS_UID = "2.25." + str(uuid.UUID("dc0e7b2a-4c1f-4f58-9d5e-0a11ce5ec0de").int)
IMPLEMENTATION_VERSION_NAME = "DICOMNET_010"

PDU_TYPES = {1: "A-ASSOCIATE-RQ", 2: "A-ASSOCIATE-AC", 3: "A-ASSOCIATE-RJ", 4: "P-DATA-TF",
             5: "A-RELEASE-RQ", 6: "A-RELEASE-RP", 7: "A-ABORT"}
C_ECHO_RSP_COMMAND = 0x8030
NO_DATASET = 0x0101


class ProtocolError(Exception):
    """The peer sent something a conformant acceptor would not; the text says what.

    ``condition`` is DCMTK's "mmmm:cccc text" for the same fault, where DCMTK has one.
    """

    def __init__(self, text, condition=None):
        super().__init__(text)
        self.condition = condition or text


@functools.lru_cache(maxsize=64)
def associate_rq(calling_aet, called_aet, contexts, max_pdu):
    """Encoded A-ASSOCIATE-RQ. ``contexts`` is a tuple of (abstract syntax, tuple of syntaxes), IDs 1,3,5,..."""
    primitive = A_ASSOCIATE()
    primitive.application_context_name = APPLICATION_CONTEXT
    primitive.calling_ae_title = calling_aet
    primitive.called_ae_title = called_aet
    definitions = []
    for index, (abstract, syntaxes) in enumerate(contexts):
        context = PresentationContext()
        context.context_id = 2 * index + 1
        context.abstract_syntax = abstract
        context.transfer_syntax = list(syntaxes)
        definitions.append(context)
    primitive.presentation_context_definition_list = definitions
    length = MaximumLengthNotification()
    length.maximum_length_received = max_pdu
    class_uid = ImplementationClassUIDNotification()
    class_uid.implementation_class_uid = IMPLEMENTATION_CLASS_UID
    version = ImplementationVersionNameNotification()
    version.implementation_version_name = IMPLEMENTATION_VERSION_NAME
    primitive.user_information = [length, class_uid, version]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(primitive)
    return pdu.encode()


def parse_associate_ac(raw):
    """Peer details and per-context (result, transfer syntax) from an A-ASSOCIATE-AC (read-only, shared).

    The AC echoes the two AE titles (bytes 10-41), which nothing here reads; decoded with them blanked,
    one decode serves every endpoint of the same kind of peer in a batch (pynetdicom's decoder costs
    about a sixth of a probe's CPU).
    """
    return _parse_associate_ac(bytes(raw[:10]) + b" " * 32 + bytes(raw[42:]))


@functools.lru_cache(maxsize=256)
def _parse_associate_ac(raw):
    pdu = A_ASSOCIATE_AC()
    try:
        pdu.decode(raw)
        items = pdu.presentation_context
        info = pdu.user_information
    except Exception as exc:  # pylint: disable=broad-except  # any decoder failure is the peer's malformed PDU
        raise ProtocolError("malformed A-ASSOCIATE-AC: %s" % (exc or type(exc).__name__)) from None
    contexts = {}
    for item in items:
        syntax = item.transfer_syntax if item.result == 0 else None
        contexts[item.context_id] = (item.result, _shared(syntax))
    # Interned: a batch of 10,000 results then holds each peer UID and name once, not 10,000 times.
    return {
        "max_pdu": (info.maximum_length if info is not None else None) or 0,
        "implementation_class_uid": _shared(info.implementation_class_uid) or "" if info is not None else "",
        "implementation_version_name": _shared(info.implementation_version_name) if info is not None else None,
        "contexts": contexts,
    }


def _shared(value):
    return sys.intern(str(value)) if value else None


def parse_associate_rj(raw):
    """(result, source, reason) bytes of an A-ASSOCIATE-RJ."""
    if len(raw) < 10:
        raise ProtocolError("A-ASSOCIATE-RJ of %d bytes, 10 expected" % len(raw))
    return raw[7], raw[8], raw[9]


def parse_abort(raw):
    """(source, reason) bytes of an A-ABORT."""
    if len(raw) < 10:
        raise ProtocolError("A-ABORT of %d bytes, 10 expected" % len(raw))
    return raw[8], raw[9]


@functools.lru_cache(maxsize=1024)
def echo_rq(message_id, context_id, max_send_pdu):
    """Encoded P-DATA-TF PDU(s) carrying one C-ECHO-RQ, fragmented to the peer's maximum."""
    primitive = C_ECHO()
    primitive.MessageID = message_id
    primitive.AffectedSOPClassUID = VERIFICATION_SOP_CLASS
    message = C_ECHO_RQ()
    message.primitive_to_message(primitive)
    out = []
    for p_data in message.encode_msg(context_id, max_send_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(p_data)
        out.append(pdu.encode())
    return b"".join(out)


@functools.lru_cache(maxsize=None)
def fixed_pdu(kind):
    """The encoded A-RELEASE-RQ, A-RELEASE-RP or A-ABORT (source 0, reason 0)."""
    pdu = {"release_rq": A_RELEASE_RQ, "release_rp": A_RELEASE_RP, "abort": A_ABORT_RQ}[kind]()
    if kind == "abort":
        pdu.source, pdu.reason_diagnostic = 0, 0  # service user, reason not specified
    return pdu.encode()


class ResponseAssembler:
    """Reassembles one DIMSE response from P-DATA-TF PDUs (fragments may span PDVs and PDUs)."""

    __slots__ = ("command", "dataset", "context_id", "command_set")

    def __init__(self):
        self.command = BytesIO()
        self.dataset = None
        self.context_id = None
        self.command_set = None

    def feed(self, raw):
        """Add one P-DATA-TF; return True once the command (and any dataset) is complete."""
        offset, end = 6, len(raw)
        done = False
        while offset < end:
            if offset + 6 > end:
                raise ProtocolError("truncated PDV item in P-DATA-TF")
            (length,) = struct.unpack(">I", raw[offset:offset + 4])
            if length < 2 or offset + 4 + length > end:
                raise ProtocolError("PDV item length %d does not fit its P-DATA-TF" % length)
            context_id, header = raw[offset + 4], raw[offset + 5]
            value = raw[offset + 6:offset + 4 + length]
            offset += 4 + length
            if done:
                raise ProtocolError("data after the end of the response message")
            if header & 1:
                if self.command_set is not None:
                    raise ProtocolError("command fragment after the command set was complete")
                self.command.write(value)
                if header & 2:
                    self.context_id = context_id
                    self.command_set = self._decode_command()
                    done = self.command_set.get("CommandDataSetType", NO_DATASET) == NO_DATASET
            else:
                if self.command_set is None:
                    raise ProtocolError("dataset fragment before the command set")
                self.dataset = (self.dataset or b"") + value
                done = bool(header & 2)
        return done

    def _decode_command(self):
        return decode_command(self.command.getvalue())


@functools.lru_cache(maxsize=1024)
def decode_command(encoded):
    """The fields of a DIMSE command set that a C-ECHO requestor checks (read-only, shared).

    Cached by bytes: a peer answers every C-ECHO of a batch with the same few command sets.
    """
    try:
        dataset = decode_dataset(BytesIO(encoded), True, True)
        return {
            "CommandField": dataset.get("CommandField"),
            "MessageIDBeingRespondedTo": dataset.get("MessageIDBeingRespondedTo"),
            "Status": dataset.get("Status"),
            "CommandDataSetType": dataset.get("CommandDataSetType", NO_DATASET),
            "AffectedSOPClassUID": str(dataset.get("AffectedSOPClassUID", "")),
        }
    except Exception as exc:  # pylint: disable=broad-except  # undecodable command set is the peer's error
        raise ProtocolError("undecodable DIMSE command set: %s" % (exc or type(exc).__name__)) from None
