# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The C-FIND codec: requests checked against pynetdicom's and pydicom's decoders, responses assembled
within their bounds (docs/dev/codec.md, "C-FIND"), identifiers counted and never kept."""

from __future__ import annotations

import io
import struct

import pytest
from pydicom.dataset import Dataset
from pynetdicom.dsutils import decode as _pynetdicom_decode
from pynetdicom.dsutils import encode as pynetdicom_encode

from ansible_collections.dicom.network.plugins.module_utils import _find, _pdu
from ansible_collections.dicom.network.tests.peers import dul


def pynetdicom_decode(raw, implicit, little):
    return _pynetdicom_decode(io.BytesIO(raw), implicit, little)


def _pdvs(raw):
    """(context, header, fragment) of every PDV of a stream of P-DATA-TF PDUs."""
    out, offset = [], 0
    while offset < len(raw):
        kind, length = raw[offset], struct.unpack_from(">I", raw, offset + 2)[0]
        assert kind == 4
        out += dul.parse_p_data(raw[offset + 6:offset + 6 + length])
        offset += 6 + length
    return out


@pytest.mark.parametrize("model", ["study", "worklist"])
@pytest.mark.parametrize("syntax", [_find.EXPLICIT_VR_LE, _find.IMPLICIT_VR_LE])
def test_find_rq_is_what_pynetdicom_and_pydicom_read(model, syntax):
    keys = _find.keys(model)
    identifier = _find.encode_identifier(keys, syntax)
    raw = _pdu.find_rq(1, 3, 16384, _find.MODELS[model]["sop_class"], identifier)
    pdvs = _pdvs(raw)
    command = b"".join(fragment for _ctx, header, fragment in pdvs if header & 1)
    data = b"".join(fragment for _ctx, header, fragment in pdvs if not header & 1)
    assert {ctx for ctx, _header, _fragment in pdvs} == {3}
    assert [header & 2 for _ctx, header, _fragment in pdvs] == [2, 2]  # one command PDV, one data set PDV, each last
    fields = pynetdicom_decode(command, True, True)
    assert fields.CommandField == 0x0020 and fields.MessageID == 1 and fields.Priority == 0
    assert fields.AffectedSOPClassUID == _find.MODELS[model]["sop_class"] and fields.CommandDataSetType != 0x0101
    assert fields.CommandGroupLength == len(command) - 12
    decoded = pynetdicom_decode(data, syntax == _find.IMPLICIT_VR_LE, True)
    if model == "study":
        assert decoded.QueryRetrieveLevel == "STUDY" and decoded.StudyInstanceUID == keys["StudyInstanceUID"]
        assert decoded.StudyInstanceUID.startswith("2.25.") and len(decoded) == 2
    else:
        item = decoded.ScheduledProcedureStepSequence[0]
        assert item.ScheduledStationAETitle == keys["ScheduledProcedureStepSequence"][0]["ScheduledStationAETitle"]
        assert decoded.AccessionNumber == keys["AccessionNumber"] and len(decoded) == 2
    assert "PatientName" not in decoded and "PatientID" not in decoded  # no return key a peer could fill in


def test_every_query_has_its_own_random_key():
    assert len({_find.keys("study")["StudyInstanceUID"] for _index in range(50)}) == 50
    titles = {_find.keys("worklist")["ScheduledProcedureStepSequence"][0]["ScheduledStationAETitle"] for _index in range(50)}
    assert len(titles) == 50 and all(len(title) <= 16 for title in titles)


def test_find_rq_is_fragmented_to_the_peers_maximum_and_never_mixes_command_and_data():
    identifier = _find.encode_identifier({"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": "1." + "2" * 60}, _find.IMPLICIT_VR_LE)
    raw = _pdu.find_rq(5, 1, 40, _find.STUDY_ROOT_FIND, identifier)  # 28 bytes of data per P-DATA-TF
    offset, headers = 0, []
    while offset < len(raw):
        length = struct.unpack_from(">I", raw, offset + 2)[0]
        assert length <= 40
        (pdv,) = dul.parse_p_data(raw[offset + 6:offset + 6 + length])
        headers.append(pdv[1])
        offset += 6 + length
    commands = [header for header in headers if header & 1]
    data = [header for header in headers if not header & 1]
    assert headers == commands + data  # the command set first, then the data set, never interleaved
    assert [header & 2 for header in commands] == [0] * (len(commands) - 1) + [2]
    assert [header & 2 for header in data] == [0] * (len(data) - 1) + [2]


def _rsp(status, dataset_type=0x0101, field=0x8020, message_id=1):
    elements = (dul._ui(0x0002, _find.STUDY_ROOT_FIND) + dul._us(0x0100, field) + dul._us(0x0120, message_id)
                + dul._us(0x0800, dataset_type) + dul._us(0x0900, status))
    return dul._element(0x0000, struct.pack("<I", len(elements))) + elements


def _pdata(*pdvs):
    return dul.p_data(list(pdvs))


def _match(**values):
    dataset = Dataset()
    dataset.QueryRetrieveLevel = "STUDY"
    for keyword, value in values.items():
        setattr(dataset, keyword, value)
    return pynetdicom_encode(dataset, False, True)


def test_a_pending_response_is_counted_and_its_identifier_dropped():
    counter = _find.MatchCounter(_find.EXPLICIT_VR_LE)
    assembler = _pdu.ResponseAssembler(frozenset([1]), counter)
    data = _match(PatientName="SECRET^PATIENT", PatientID="SECRET-1")
    assert not assembler.feed(_pdata((1, 3, _rsp(0xFF00, 0x0102))))
    assert not assembler.feed(_pdata((1, 0, data[:10])))
    assert assembler.feed(_pdata((1, 2, data[10:])))
    assert counter.count == 1 and assembler.command_set["Status"] == 0xFF00
    assert not assembler.fragments  # nothing of the identifier is kept
    assert "SECRET" not in repr({slot: getattr(assembler, slot) for slot in assembler.__slots__ if slot != "dataset_sink"})


def test_final_success_without_a_data_set_completes_at_once():
    assembler = _pdu.ResponseAssembler(frozenset([1]), _find.MatchCounter(_find.EXPLICIT_VR_LE))
    assert assembler.feed(_pdata((1, 3, _rsp(0x0000))))


@pytest.mark.parametrize("pdvs, error", [
    ([(1, 3, _rsp(0xFF00, 0x0102)), (1, 3, _rsp(0x0000))], "a command PDV arrived where the data set"),
    ([(1, 3, _rsp(0xFF00, 0x0102)), (3, 2, b"\x08\x00\x52\x00\x00\x00\x00\x00")], "Different PresIDs inside Data Set"),
    ([(1, 3, _rsp(0x0000)), (1, 2, b"\x08\x00\x52\x00\x00\x00\x00\x00")], "data after the end of the C-FIND-RSP"),
])
def test_data_set_phase_refuses_what_does_not_belong(pdvs, error):
    assembler = _pdu.ResponseAssembler(frozenset([1, 3]), _find.MatchCounter(_find.EXPLICIT_VR_LE))
    with pytest.raises(_pdu.ProtocolError, match=error):
        assembler.feed(_pdata(*pdvs))


def test_a_data_set_is_refused_where_the_exchange_has_none():
    assembler = _pdu.ResponseAssembler(frozenset([1]))
    with pytest.raises(_pdu.ProtocolError, match="announces a data set"):
        assembler.feed(_pdata((1, 3, _rsp(0xFF00, 0x0102))))


def test_an_identifier_beyond_the_bound_is_refused_before_it_is_held():
    seen = []
    assembler = _pdu.ResponseAssembler(frozenset([1]), seen.append)
    assembler.feed(_pdata((1, 3, _rsp(0xFF00, 0x0102))))
    chunk = b"\0" * 16000
    with pytest.raises(_pdu.ProtocolError, match="longer than %d bytes" % _pdu.MAX_DATASET):
        for _index in range(_pdu.MAX_DATASET // len(chunk) + 2):
            assembler.feed(_pdata((1, 0, chunk)))
    assert not seen and assembler.dataset_size <= _pdu.MAX_DATASET + len(chunk)


def test_many_tiny_data_pdvs_stop_at_the_pdv_bound():
    assembler = _pdu.ResponseAssembler(frozenset([1]), lambda _raw: None)
    assembler.feed(_pdata((1, 3, _rsp(0xFF00, 0x0102))))
    with pytest.raises(_pdu.ProtocolError, match="more than %d PDVs" % _pdu.MAX_PDVS_PER_MESSAGE):
        assembler.feed(_pdata(*[(1, 0, b"\0\0")] * (_pdu.MAX_PDVS_PER_MESSAGE + 1)))


def test_an_undecodable_identifier_is_a_protocol_error():
    counter = _find.MatchCounter(_find.EXPLICIT_VR_LE)
    with pytest.raises(_pdu.ProtocolError, match="no valid data set"):
        counter(b"\x10\x00\x10\x00PN\xff\x7f" + b"x" * 8)  # a PN announcing 32767 bytes, 8 there
    assert counter.count == 0


@pytest.mark.parametrize("status, category", [
    (0x0000, "success"), (0xFF00, "pending"), (0xFF01, "pending"), (0xFE00, "cancel"), (0xA700, "refused"),
    (0xA7FF, "refused"), (0x0122, "refused"), (0x0124, "refused"), (0xA900, "failed"), (0xC000, "failed"),
    (0xC123, "failed"), (0x0110, "failed"), (0x0211, "failed"),
])
def test_status_categories(status, category):
    assert _find.status_category(status) == category
    assert _find.status_text(status)
