# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The codec refuses what echoscu refuses on the same bytes, within bounds (docs/dev/codec.md).

Pure bytes, no network: each case is one rule of the decoder, built with the test peers' own
stdlib codec (tests/peers/dul.py) so the bytes do not come from the code under test.
"""

from __future__ import annotations

import struct
import time

import pytest

from ansible_collections.dicom.network.plugins.module_utils import _pdu
from ansible_collections.dicom.network.tests.peers import dul

VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT = "1.2.840.10008.1.2"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"


def _rq():
    return dul.parse_associate_rq(_pdu.associate_rq("ECHOSCU", "ANY-SCP", ((VERIFICATION, (IMPLICIT,)),), 16384)[6:])


def _ac(results=((1, 0, IMPLICIT),), max_pdu=16384):
    return dul.associate_ac(_rq(), list(results), max_pdu=max_pdu)


def _with_version(raw, version):
    return raw[:6] + struct.pack(">H", version) + raw[8:]


def _context_item(context_id, result, *sub_items):
    body = bytes([context_id, 0, result, 0]) + b"".join(sub_items)
    return struct.pack(">BBH", 0x21, 0, len(body)) + body


def _ac_with_items(items):
    base = _ac()
    body = base[6:74] + b"".join(items)
    return dul.pdu(2, body)


def _sub(kind, value):
    value = value.encode() if isinstance(value, str) else value
    return struct.pack(">BBH", kind, 0, len(value)) + value


def _ts(uid):
    return _sub(0x40, uid)


def test_a_well_formed_ac_decodes():
    peer = _pdu.parse_associate_ac(_ac(max_pdu=32768))
    assert peer["contexts"] == {1: (0, IMPLICIT)}
    assert peer["max_pdu"] == 32768
    assert peer["implementation_class_uid"] == dul.IMPLEMENTATION_CLASS_UID


@pytest.mark.parametrize("version", [0, 2, 0x8000])
def test_protocol_version_without_bit_0_is_refused(version):
    with pytest.raises(_pdu.ProtocolError, match="protocol version") as info:
        _pdu.parse_associate_ac(_with_version(_ac(), version))
    assert "Unsupported peer protocol" in info.value.condition


def test_protocol_version_with_bit_0_is_accepted_as_dcmtk_does():
    assert _pdu.parse_associate_ac(_with_version(_ac(), 3))["contexts"] == {1: (0, IMPLICIT)}


def test_accepted_context_needs_exactly_one_transfer_syntax():
    for sub_items in ((), (_ts(IMPLICIT), _ts(IMPLICIT))):
        raw = _ac_with_items([_context_item(1, 0, *sub_items)])
        with pytest.raises(_pdu.ProtocolError, match="accepted with %d transfer syntaxes" % len(sub_items)) as info:
            _pdu.parse_associate_ac(raw)
        assert "illegal number of transfer syntaxes" in info.value.condition


def test_rejected_context_needs_no_transfer_syntax():
    assert _pdu.parse_associate_ac(_ac_with_items([_context_item(1, 3)]))["contexts"] == {1: (3, None)}


@pytest.mark.parametrize("value, decoded", [
    (IMPLICIT + "\0", IMPLICIT), (IMPLICIT + "\0x", IMPLICIT), (IMPLICIT + " ", IMPLICIT + " "), (" " + IMPLICIT, " " + IMPLICIT)])
def test_transfer_syntax_is_read_as_dcmtk_reads_it(value, decoded):
    # found by tests/fuzz: DCMTK takes the bytes up to the first NUL and keeps spaces, so a space-padded
    # syntax is "Unsupported transfer syntax" to echoscu (exit 70): the engine then finds it was never proposed
    assert _pdu.parse_associate_ac(_ac_with_items([_context_item(1, 0, _ts(value))]))["contexts"] == {1: (0, decoded)}


def test_an_rq_presentation_context_item_in_the_ac_is_read_as_dcmtk_reads_it():
    # found by tests/fuzz: DCMTK takes a 0x20 item for an answer and parses its sub-items whatever the result
    rq_item = _context_item(1, 0, _ts(IMPLICIT))
    rq_item = b"\x20" + rq_item[1:]
    assert _pdu.parse_associate_ac(_ac_with_items([rq_item]))["contexts"] == {1: (0, IMPLICIT)}
    broken = b"\x20\0" + struct.pack(">H", 21) + APPLICATION_CONTEXT.encode()  # the application context, retyped
    with pytest.raises(_pdu.ProtocolError, match="announces"):
        _pdu.parse_associate_ac(_ac_with_items([broken, _context_item(1, 0, _ts(IMPLICIT))]))


def test_overlong_uid_sub_item_is_refused():
    with pytest.raises(_pdu.ProtocolError, match="a UID has at most 64"):
        _pdu.parse_associate_ac(_ac_with_items([_context_item(1, 0, _ts("1." * 40))]))


def test_overlong_abstract_syntax_in_an_accepted_context_is_refused():
    # found by tests/fuzz: DCMTK checks every UID sub-item of an accepted context ("illegal subitem length 70")
    with pytest.raises(_pdu.ProtocolError, match="abstract syntax of 70 bytes"):
        _pdu.parse_associate_ac(_ac_with_items([_context_item(1, 0, _sub(0x30, "1." * 35), _ts(IMPLICIT))]))
    assert _pdu.parse_associate_ac(_ac_with_items([_context_item(1, 3, _sub(0x30, "1." * 35))]))["contexts"] == {1: (3, None)}


def _user_info(*sub_items):
    return struct.pack(">BBH", 0x50, 0, sum(map(len, sub_items))) + b"".join(sub_items)


@pytest.mark.parametrize("sub_item, valid", [
    (_sub(0x54, struct.pack(">H", 17) + VERIFICATION.encode() + b"\1\0"), True),
    (_sub(0x54, struct.pack(">H", 0) + b"\1"), False),            # no room for the two role bytes (DCMTK: at least 4)
    (_sub(0x54, struct.pack(">H", 3) + b"abc\1"), False),
    (_sub(0x56, struct.pack(">H", 3) + b"abc"), True),             # extended negotiation without application information
    (_sub(0x56, struct.pack(">H", 4) + b"abc"), False),
    (_sub(0x59, struct.pack(">H", 3) + b"abc"), True),             # user identity server response
    (_sub(0x58, struct.pack(">H", 3) + b"abc"), True),             # DCMTK reads 0x58 in an AC as 0x59
    (_sub(0x59, struct.pack(">H", 10) + b"abc"), False),           # echoscu: "illegal user identify ac length"
    (_sub(0x59, struct.pack(">H", 1) + b"abc"), False),            # DCMTK goes on 2 bytes early and misreads the rest
    (_sub(0x59, b""), False),
], ids=["role", "role-short", "role-uid-long", "extneg", "extneg-uid-long", "identity", "identity-0x58", "identity-long",
        "identity-short", "identity-empty"])
def test_user_information_sub_items_with_inner_lengths(sub_item, valid):
    # found by tests/fuzz: each case compared with echoscu 3.6.7 on the same bytes
    user = _user_info(_sub(0x51, struct.pack(">I", 16384)), _sub(0x52, "1.2.3"), sub_item, _sub(0x55, "X"))
    raw = _ac_with_items([_context_item(1, 0, _ts(IMPLICIT)), user])
    if valid:
        assert _pdu.parse_associate_ac(raw)["max_pdu"] == 16384
    else:
        with pytest.raises(_pdu.ProtocolError, match="inconsistent inner length") as info:
            _pdu.parse_associate_ac(raw)
        assert info.value.condition == "0006:0307 DUL Illegal or ill-formed PDU"


def test_item_lengths_that_lie_are_refused():
    raw = bytearray(_ac())
    raw[76:78] = struct.pack(">H", 60000)  # the application context item announces more than the PDU holds
    with pytest.raises(_pdu.ProtocolError, match="announces 60000 bytes"):
        _pdu.parse_associate_ac(bytes(raw))


def test_duplicate_context_answers_are_refused():
    item = _context_item(1, 0, _ts(IMPLICIT))
    with pytest.raises(_pdu.ProtocolError, match="answered twice"):
        _pdu.parse_associate_ac(_ac_with_items([item, item]))


def test_huge_answers_are_not_cached():
    # 16 KiB and more: decoded every time, never kept, so hostile answers cannot fill memory
    padding = struct.pack(">BBH", 0x77, 0, 60000) + bytes(60000)
    raw = _ac_with_items([_context_item(1, 0, _ts(IMPLICIT)), padding])
    before = _pdu._cached_associate_ac.cache_info().currsize  # pylint: disable=protected-access
    assert _pdu.parse_associate_ac(raw)["contexts"] == {1: (0, IMPLICIT)}
    assert _pdu._cached_associate_ac.cache_info().currsize == before  # pylint: disable=protected-access


# ---- the C-ECHO-RSP ---------------------------------------------------------------------------
def _feed(*pdus, accepted=frozenset([1])):
    assembler = _pdu.ResponseAssembler(accepted)
    done = False
    for raw in pdus:
        done = assembler.feed(raw)
    return assembler, done


def _command(status=0, message_id=1, dataset_type=_pdu.NO_DATASET, drop=None, extra=b""):
    elements = [(0x0002, VERIFICATION.encode() + b"\0"), (0x0100, struct.pack("<H", _pdu.C_ECHO_RSP_COMMAND)),
                (0x0120, struct.pack("<H", message_id)), (0x0800, struct.pack("<H", dataset_type)),
                (0x0900, struct.pack("<H", status) if isinstance(status, int) else status)]
    body = b"".join(struct.pack("<HHI", 0, tag, len(value)) + value for tag, value in elements if tag != drop) + extra
    return struct.pack("<HHII", 0, 0, 4, len(body)) + body


def test_a_well_formed_response_decodes():
    assembler, done = _feed(dul.p_data([(1, 3, _command(status=0x0110))]))
    assert done and assembler.command_set["Status"] == 0x0110 and assembler.command_set["MessageIDBeingRespondedTo"] == 1


def test_response_on_a_context_that_was_not_accepted():
    for context_id in (0, 3, 99):
        with pytest.raises(_pdu.ProtocolError, match="context %d, which the peer did not accept" % context_id) as info:
            _feed(dul.p_data([(context_id, 3, _command())]))
        assert "Bad presentation context ID" in info.value.condition


def test_fragments_on_different_contexts():
    command = _command()
    with pytest.raises(_pdu.ProtocolError, match="Different PresIDs inside Command Set: 1 != 3"):
        _feed(dul.p_data([(1, 1, command[:20])]), dul.p_data([(3, 3, command[20:])]), accepted=frozenset([1, 3]))


def test_fragments_on_one_context_reassemble():
    command = _command(status=0x0122)
    assembler, done = _feed(dul.p_data([(1, 1, command[:20])]), dul.p_data([(1, 1, command[20:40]), (1, 3, command[40:])]))
    assert done and assembler.command_set["Status"] == 0x0122


def test_pdvs_of_one_pdu_are_read_as_dcmtk_walks_them():
    # DCMTK reads the third and later PDVs of a P-DATA-TF correctly only if the PDVs before them have one
    # length (tests/fuzz found echoscu failing, or crashing, on the others): refuse what it misreads
    command = _command(status=0x0110)
    for cuts in ((10, 20), (20, 40), (4, 8)):  # two equal fragments, then the rest
        assembler, done = _feed(dul.p_data([(1, 1, command[:cuts[0]]), (1, 1, command[cuts[0]:cuts[1]]), (1, 3, command[cuts[1]:])]))
        assert done and assembler.command_set["Status"] == 0x0110
    assembler, done = _feed(dul.p_data([(1, 1, command[:30]), (1, 3, command[30:])]))
    assert done and assembler.command_set["Status"] == 0x0110
    for cuts in ((10, 30), (20, 30, 40)):
        bounds = (0,) + cuts + (len(command),)
        pdvs = [(1, 3 if stop == len(command) else 1, command[start:stop]) for start, stop in zip(bounds, bounds[1:])]
        with pytest.raises(_pdu.ProtocolError, match="PDVs before the last differ in length") as info:
            _feed(dul.p_data(pdvs))
        assert info.value.condition.startswith("0006:020d DIMSE Failed to receive message")


def test_dataset_announced_is_a_badly_formed_message():
    with pytest.raises(_pdu.ProtocolError, match="announces a data set") as info:
        _feed(dul.p_data([(1, 3, _command(dataset_type=0x0000))]))
    assert info.value.condition == "0006:0203 DIMSE Badly formed message"


@pytest.mark.parametrize("element, name", [(0x0800, "CommandDataSetType"), (0x0900, "Status"), (0x0120, "MessageIDBeingRespondedTo")])
def test_required_elements(element, name):
    with pytest.raises(_pdu.ProtocolError, match="without a usable %s" % name):
        _feed(dul.p_data([(1, 3, _command(drop=element))]))


def test_status_announcing_more_than_is_there():
    command = _command()  # Status is the last element: its 4-byte length sits just before its 2-byte value
    lying = command[:-6] + struct.pack("<I", 4000) + command[-2:]
    with pytest.raises(_pdu.ProtocolError, match="announces 4000 bytes"):
        _feed(dul.p_data([(1, 3, lying)]))


def test_status_with_two_values_uses_the_first_as_dcmtk_does():
    assembler, _done = _feed(dul.p_data([(1, 3, _command(status=struct.pack("<HH", 0x0110, 0)))]))
    assert assembler.command_set["Status"] == 0x0110


@pytest.mark.parametrize("first, second", [(0x0110, 0x0000), (0x0000, 0x0110)])
def test_an_element_given_twice_counts_once_with_its_first_value(first, second):
    # found by tests/fuzz: DCMTK warns "found twice ..., ignoring second entry" and reports the first Status
    assembler, _done = _feed(dul.p_data([(1, 3, _command(status=first, extra=struct.pack("<HHIH", 0, 0x0900, 2, second)))]))
    assert assembler.command_set["Status"] == first


def _split(command, cuts):
    bounds = [0] + list(cuts) + [len(command)]
    return [dul.p_data([(1, 3 if stop == len(command) else 1, command[start:stop])]) for start, stop in zip(bounds, bounds[1:])]


def test_a_value_split_between_pdvs_must_follow_ascending_order():
    # found by tests/fuzz: DCMTK continues a value cut by a PDV boundary in the element with the highest tag so far,
    # so an element out of ascending order must not be split (here (0000,0002) comes last, its value at 60..78)
    elements = [(0x0100, struct.pack("<H", _pdu.C_ECHO_RSP_COMMAND)), (0x0120, struct.pack("<H", 1)),
                (0x0800, struct.pack("<H", _pdu.NO_DATASET)), (0x0900, struct.pack("<H", 0)), (0x0002, VERIFICATION.encode() + b"\0")]
    body = b"".join(struct.pack("<HHI", 0, tag, len(value)) + value for tag, value in elements)
    command = struct.pack("<HHII", 0, 0, 4, len(body)) + body
    assert len(command) == 78
    # at the value's first byte, inside it: echoscu misreads the rest and fails; at 76 it loses the UID's last two bytes
    # unnoticed (the C-ECHO-RSP does not need it), where we refuse: stricter, never the reverse
    for cut in (60, 64, 76):
        with pytest.raises(_pdu.ProtocolError, match=r"\(0000,0002\), out of ascending tag order or given twice, is split") as info:
            _feed(*_split(command, [cut]))
        assert info.value.condition == "0006:020d DIMSE: receiveCommand: cmdSet->read() Failed"
    for cuts in ((), (56,), (40, 58), (20, 50)):  # elsewhere, or in its header: read correctly (echoscu too)
        assembler, done = _feed(*_split(command, cuts))
        assert done and assembler.command_set["AffectedSOPClassUID"] == VERIFICATION
    in_order = _command()
    assembler, done = _feed(*_split(in_order, [len(in_order) - 2]))  # the Status value after a boundary, in order
    assert done and assembler.command_set["Status"] == 0
    # an element given twice is dropped, its value read as the elements after it: (0000,0100) twice, the second's value
    # at 56 after a boundary there; echoscu reads "GenericGroupLength (8030,0000)" and fails (tests/fuzz, case 1:157)
    twice = _command()
    twice = twice[:48] + twice[38:48] + twice[48:]
    twice = twice[:8] + struct.pack("<I", len(twice) - 12) + twice[12:]  # the group length
    assert struct.unpack_from("<HHIH", twice, 48) == (0, 0x0100, 2, _pdu.C_ECHO_RSP_COMMAND)
    with pytest.raises(_pdu.ProtocolError, match=r"\(0000,0100\), out of ascending tag order or given twice, is split"):
        _feed(*_split(twice, [56]))
    assembler, done = _feed(*_split(twice, [48]))  # the second entry whole in its fragment: ignored, as by DCMTK
    assert done and assembler.command_set["CommandField"] == _pdu.C_ECHO_RSP_COMMAND


def test_empty_p_data_is_refused():
    with pytest.raises(_pdu.ProtocolError, match="PDU without any PDVs"):
        _feed(dul.pdu(4, b""))


def test_data_pdv_before_the_command():
    with pytest.raises(_pdu.ProtocolError, match="Command PDV Expected"):
        _feed(dul.p_data([(1, 2, b"\0\0")]))


def test_pdv_count_is_bounded_and_cheap():
    empty_pdvs = dul.pdu(4, struct.pack(">IBB", 2, 1, 1) * 700000)  # 4 MiB of empty command fragments
    started = time.perf_counter()
    with pytest.raises(_pdu.ProtocolError, match="more than 256 PDVs"):
        _feed(empty_pdvs)
    assert time.perf_counter() - started < 0.05


def test_command_size_is_bounded():
    chunk = dul.p_data([(1, 1, bytes(16000))])
    assembler = _pdu.ResponseAssembler(frozenset([1]))
    with pytest.raises(_pdu.ProtocolError, match="longer than 65536 bytes"):
        for _index in range(10):
            assembler.feed(chunk)


def test_max_fragment_follows_dcmtk():
    assert _pdu.max_fragment(0) == 131072 - 12
    assert _pdu.max_fragment(16384) == 16372
    for tiny in (1, 6, 13):
        with pytest.raises(_pdu.ProtocolError, match="cannot carry any P-DATA-TF"):
            _pdu.max_fragment(tiny)


def test_echo_rq_is_split_to_the_peer_limit():
    raw = _pdu.echo_rq(1, 1, 30)  # 18 bytes of command per PDV
    pdus, offset = [], 0
    while offset < len(raw):
        (length,) = struct.unpack_from(">I", raw, offset + 2)
        pdus.append(raw[offset + 6:offset + 6 + length])
        offset += 6 + length
    pdvs = [dul.parse_p_data(body)[0] for body in pdus]
    assert all(len(data) <= 18 for _id, _header, data in pdvs)
    assert [header for _id, header, _data in pdvs][-1] == 3 and all(header == 1 for _id, header, _data in pdvs[:-1])
    assert b"".join(data for _id, _header, data in pdvs) == _pdu.echo_rq_command(1)
