# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The C-FIND query probe: which query, its identifier (pydicom), and what the responses mean.

Private to this collection; no Ansible imports. pydicom is imported by the functions that encode and
decode identifiers, so validating a request and every C-ECHO stay free of it (docs/dev/checks.md).

The probe proves the query path without asking for patient data: the identifier holds a random key
that cannot exist (a fresh 2.25 UID, a random AE title and accession number) and no other attribute
the peer could fill in. A conformant peer answers Success with no match. What the peer sends back is
decoded to check it is a data set, counted, and dropped: a result carries counts and statuses, never
an attribute value, and a peer that returns matches cannot make the probe hold more than one
identifier (MAX_DATASET bytes) at a time or read more than MAX_RESPONSES of them.
"""

from __future__ import annotations

import secrets
import uuid

from ._pdu import ProtocolError

STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
# What a query proposes: one context, both little endian syntaxes (every C-FIND SCP takes one of them).
TRANSFER_SYNTAXES = (EXPLICIT_VR_LE, IMPLICIT_VR_LE)

MODELS = {
    "study": {"sop_class": STUDY_ROOT_FIND, "level": "STUDY",
              "title": "Study Root Query/Retrieve Information Model - FIND"},
    "worklist": {"sop_class": MODALITY_WORKLIST_FIND, "level": None,
                 "title": "Modality Worklist Information Model - FIND"},
}

# Responses read before the probe stops counting and aborts the association (there is no C-CANCEL):
# a peer that returns matches for a key that cannot exist ignores the key; 1,000 proves that.
MAX_RESPONSES = 1000

PENDING = (0xFF00, 0xFF01)
STATUS_TEXTS = {
    0x0000: "Success",
    0xFF00: "Pending",
    0xFF01: "Pending (optional keys not supported)",
    0xFE00: "Cancel",
    0xA700: "Refused: Out of Resources",
    0xA900: "Failed: Identifier does not match SOP Class",
    0x0122: "Refused: SOP Class not supported",
    0x0124: "Refused: Not authorized",
    0x0110: "Processing failure",
    0x0210: "Duplicate Invocation",
    0x0211: "Unrecognized Operation",
    0x0212: "Mistyped Argument",
}


class IdentifierError(ProtocolError):
    """A C-FIND-RSP identifier that is no decodable data set."""


def status_text(status):
    if status in STATUS_TEXTS:
        return STATUS_TEXTS[status]
    if 0xC000 <= status <= 0xCFFF:
        return "Failed: Unable to process (0x%04X)" % status
    if 0xA700 <= status <= 0xA7FF:
        return "Refused: Out of Resources (0x%04X)" % status
    return "Unknown Status: 0x%04X" % status


def status_category(status):
    """success, pending, cancel, refused (the peer will not run the query for us) or failed."""
    if status == 0x0000:
        return "success"
    if status in PENDING:
        return "pending"
    if status == 0xFE00:
        return "cancel"
    if status in (0x0122, 0x0124) or 0xA700 <= status <= 0xA7FF:
        return "refused"
    return "failed"


def random_uid():
    """A UID no archive holds: 2.25 and a fresh random UUID (PS3.5 B.2)."""
    return "2.25.%d" % uuid.uuid4().int


def random_title(prefix="DNX"):
    """A random 15-character AE title (letters and digits), for keys and AE-title checks."""
    return prefix + secrets.token_hex(6).upper()


def keys(model):
    """The identifier of ``model`` as {keyword: value}; one random key per query, nothing a peer could fill in
    with patient data except the keys themselves."""
    if model == "study":
        return {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": random_uid()}
    if model == "worklist":
        # Scheduled Station AE Title is a required matching key of the worklist (PS3.4 K.6.1.2.2); the
        # accession number narrows further on peers that match it.
        return {"AccessionNumber": random_title("Q")[:16],
                "ScheduledProcedureStepSequence": [{"ScheduledStationAETitle": random_title()}]}
    raise ValueError("unknown query model %r" % (model,))


def _dataset(values):
    from pydicom.dataset import Dataset  # pylint: disable=import-outside-toplevel

    dataset = Dataset()
    for keyword, value in values.items():
        if isinstance(value, list):
            setattr(dataset, keyword, [_dataset(item) for item in value])
        else:
            setattr(dataset, keyword, value)
    return dataset


def encode_identifier(values, transfer_syntax):
    """``values`` ({keyword: value}) encoded as a data set in ``transfer_syntax`` (implicit or explicit VR LE)."""
    from pydicom.filebase import DicomBytesIO  # pylint: disable=import-outside-toplevel
    from pydicom.filewriter import write_dataset  # pylint: disable=import-outside-toplevel

    handle = DicomBytesIO()
    handle.is_implicit_VR = transfer_syntax == IMPLICIT_VR_LE
    handle.is_little_endian = True
    write_dataset(handle, _dataset(values))
    return handle.getvalue()


class MatchCounter:
    """The data set sink of C-FIND-RSPs: decode each identifier with pydicom to prove it is one, count it, drop it."""

    __slots__ = ("implicit", "count")

    def __init__(self, transfer_syntax):
        self.implicit = transfer_syntax == IMPLICIT_VR_LE
        self.count = 0

    def __call__(self, raw):
        import io  # pylint: disable=import-outside-toplevel
        import warnings  # pylint: disable=import-outside-toplevel

        from pydicom.filereader import read_dataset  # pylint: disable=import-outside-toplevel

        problem = None
        try:
            with warnings.catch_warnings():  # pydicom warns about oddities; the verdict is ours, stderr stays clean
                warnings.simplefilter("ignore")
                dataset = read_dataset(io.BytesIO(raw), self.implicit, True)
                for tag in dataset.keys():
                    element = dataset.get_item(tag)  # still raw: pydicom reads a value cut short without complaint
                    length = getattr(element, "length", None)
                    if length not in (None, 0xFFFFFFFF) and len(element.value or b"") != length:
                        problem = "element %s announces %d bytes, %d are there" % (tag, length, len(element.value or b""))
                        break
                else:
                    for _element in dataset:  # raw elements are converted only when touched: touch each once
                        pass
        except Exception as exc:  # pylint: disable=broad-except  # pydicom raises many kinds on bad bytes
            # only the exception's type: pydicom's texts may quote the value, and no value leaves this function
            problem = "pydicom cannot decode it: %s" % type(exc).__name__
        if problem is not None:
            raise IdentifierError("a C-FIND-RSP identifier of %d bytes is no valid data set (%s)" % (len(raw), problem),
                                  condition="0006:020d DIMSE Failed to receive message\nundecodable C-FIND-RSP identifier")
        self.count += 1


def preload():
    """Import what encoding and decoding need, before the first probe starts its clock; returns why it cannot, or None."""
    try:
        import pydicom.dataset  # pylint: disable=import-outside-toplevel,unused-import  # noqa: F401
        import pydicom.filebase  # pylint: disable=import-outside-toplevel,unused-import  # noqa: F401
        import pydicom.filereader  # pylint: disable=import-outside-toplevel,unused-import  # noqa: F401
        import pydicom.filewriter  # pylint: disable=import-outside-toplevel,unused-import  # noqa: F401
    except ImportError as exc:
        return "pydicom is needed for a C-FIND query and cannot be imported on this host (%s)" % exc
    return None
