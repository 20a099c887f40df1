# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our struct codec against pynetdicom, the reference (docs/dev/codec.md), on random valid PDUs.

* What _pdu encodes (A-ASSOCIATE-RQ, the C-ECHO-RQ in P-DATA-TF PDUs), pynetdicom decodes to the same values.
* What pynetdicom encodes (A-ASSOCIATE-AC with random contexts, results, syntaxes and user information
  sub-items; A-ASSOCIATE-RJ; A-ABORT; C-ECHO-RSP command sets in P-DATA-TF, fragmented over PDVs and
  PDUs), _pdu decodes to the same values.

pynetdicom is imported here only: the module's run-time path does not need it.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pynetdicom import dimse_messages, dimse_primitives, pdu, pdu_items, pdu_primitives

from ansible_collections.dicom.network.plugins.module_utils import _pdu

VERIFICATION = "1.2.840.10008.1.1"
# A fixed budget: these run in `make units` on every change (a few seconds in all).
SETTINGS = settings(max_examples=100, deadline=None, database=None)

# A UID (PS3.5 9.1): components without leading zeros, at most 64 characters.
uids = st.lists(st.integers(0, 10 ** 12), min_size=2, max_size=8).map(lambda parts: ".".join(map(str, parts))).filter(
    lambda uid: len(uid) <= 64)
# An AE title as dicom_echo accepts it (1-16 characters of the default repertoire, no backslash), here without
# leading or trailing spaces: they are padding on the wire, which pynetdicom strips on both sides.
_AE_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="\\")
ae_titles = st.text(_AE_CHARS, min_size=1, max_size=16).filter(lambda title: title == title.strip(" ") and title)
version_names = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters="\\"), min_size=1, max_size=16)


# ---- what we encode, pynetdicom decodes -----------------------------------------------------
@SETTINGS
@given(calling=ae_titles, called=ae_titles, max_pdu=st.integers(0, 0xFFFFFFFF),
       contexts=st.lists(st.tuples(uids, st.lists(uids, min_size=1, max_size=4).map(tuple)), min_size=1, max_size=8).map(tuple))
@example(calling="ECHOSCU", called="ANY-SCP", max_pdu=131072,  # the largest proposal dicom_echo makes: 128 contexts
         contexts=tuple((VERIFICATION, tuple("1.2.840.10008.1.2.4.%d" % n for n in range(50, 55))) for _index in range(128)))
def test_our_associate_rq_as_pynetdicom_reads_it(calling, called, max_pdu, contexts):
    raw = _pdu.associate_rq(calling, called, contexts, max_pdu)
    decoded = pdu.A_ASSOCIATE_RQ()
    decoded.decode(raw)
    assert decoded.encode() == raw  # nothing pynetdicom did not understand
    assert (decoded.protocol_version, decoded.calling_ae_title, decoded.called_ae_title) == (1, calling, called)
    assert decoded.application_context_name == "1.2.840.10008.3.1.1.1"
    assert [(item.context_id, str(item.abstract_syntax), tuple(map(str, item.transfer_syntax))) for item in decoded.presentation_context] \
        == [(2 * index + 1, abstract, syntaxes) for index, (abstract, syntaxes) in enumerate(contexts)]
    user = decoded.user_information
    assert user.maximum_length == max_pdu
    assert (user.implementation_class_uid, user.implementation_version_name) == (_pdu.IMPLEMENTATION_CLASS_UID, _pdu.IMPLEMENTATION_VERSION_NAME)


@SETTINGS
@given(message_id=st.integers(1, 0xFFFF), context_id=st.integers(0, 127).map(lambda n: 2 * n + 1),
       peer_max_pdu=st.one_of(st.just(0), st.integers(7, 65536).map(lambda n: 2 * n)))
def test_our_echo_rq_as_pynetdicom_reads_it(message_id, context_id, peer_max_pdu):
    raw = _pdu.echo_rq(message_id, context_id, peer_max_pdu)
    message = dimse_messages.C_ECHO_RQ()
    offset, complete = 0, False
    while offset < len(raw):
        assert not complete  # nothing after the last fragment
        (length,) = struct.unpack_from(">I", raw, offset + 2)
        assert peer_max_pdu == 0 or length <= peer_max_pdu  # PS3.8 9.3.1: the variable field within the peer's maximum
        data_tf = pdu.P_DATA_TF()
        data_tf.decode(raw[offset:offset + 6 + length])
        assert data_tf.encode() == raw[offset:offset + 6 + length]
        primitive = pdu_primitives.P_DATA()
        primitive.presentation_data_value_list = [[item.presentation_context_id, item.presentation_data_value]
                                                  for item in data_tf.presentation_data_value_items]
        assert {item.presentation_context_id for item in data_tf.presentation_data_value_items} == {context_id}
        complete = message.decode_msg(primitive)
        offset += 6 + length
    assert complete
    command = message.command_set
    assert (command.CommandField, command.MessageID, command.CommandDataSetType) == (0x0030, message_id, 0x0101)
    assert command.AffectedSOPClassUID == VERIFICATION


@pytest.mark.parametrize("tiny", [1, 6, 12, 13])
def test_no_echo_rq_for_a_peer_that_cannot_take_one(tiny):
    with pytest.raises(_pdu.ProtocolError, match="cannot carry any P-DATA-TF"):
        _pdu.echo_rq(1, 1, tiny)


# ---- what pynetdicom encodes, we decode -----------------------------------------------------
def _sub_item(cls, **fields):
    item = cls()
    for name, value in fields.items():
        setattr(item, name, value)
    return item


@st.composite
def user_information(draw):
    """A user information item with every sub-item an A-ASSOCIATE-AC may carry, each present or not."""
    items = [_sub_item(pdu_items.MaximumLengthSubItem, maximum_length_received=draw(st.integers(0, 0xFFFFFFFF))),
             _sub_item(pdu_items.ImplementationClassUIDSubItem, implementation_class_uid=draw(uids))]
    version = draw(st.none() | version_names)
    if version is not None:
        items.append(_sub_item(pdu_items.ImplementationVersionNameSubItem, implementation_version_name=version))
    if draw(st.booleans()):
        items.append(_sub_item(pdu_items.AsynchronousOperationsWindowSubItem, maximum_number_operations_invoked=draw(st.integers(0, 0xFFFF)),
                               maximum_number_operations_performed=draw(st.integers(0, 0xFFFF))))
    for _index in range(draw(st.integers(0, 3))):
        items.append(_sub_item(pdu_items.SCP_SCU_RoleSelectionSubItem, sop_class_uid=draw(uids), scu_role=draw(st.booleans()),
                               scp_role=draw(st.booleans())))
    for _index in range(draw(st.integers(0, 3))):
        items.append(_sub_item(pdu_items.SOPClassExtendedNegotiationSubItem, sop_class_uid=draw(uids),
                               service_class_application_information=draw(st.binary(max_size=16))))
    if draw(st.booleans()):
        items.append(_sub_item(pdu_items.UserIdentitySubItemAC, server_response=draw(st.binary(max_size=64))))
    user = pdu_items.UserInformationItem()
    user.user_data = items
    return user, version


@st.composite
def associate_ac(draw):
    ids = draw(st.lists(st.integers(0, 127).map(lambda n: 2 * n + 1), min_size=1, max_size=16, unique=True))
    expected, variable = {}, [_sub_item(pdu_items.ApplicationContextItem, application_context_name="1.2.840.10008.3.1.1.1")]
    for context_id in ids:
        result = draw(st.sampled_from([0, 0, 1, 2, 3, 4]))
        syntax = draw(uids)
        item = pdu_items.PresentationContextItemAC()
        item.presentation_context_id, item.result_reason = context_id, result
        item.transfer_syntax_sub_item = [_sub_item(pdu_items.TransferSyntaxSubItem, transfer_syntax_name=syntax)]
        variable.append(item)
        expected[context_id] = (result, syntax if result == 0 else None)
    user, version = draw(user_information())
    variable.append(user)
    ac = pdu.A_ASSOCIATE_AC()
    ac.variable_items = variable
    ac._reserved_aet, ac._reserved_aec = draw(ae_titles), draw(ae_titles)  # pylint: disable=protected-access  # echoed, never read by us
    return ac.encode(), expected, user, version


@SETTINGS
@given(associate_ac())
def test_pynetdicom_associate_ac_as_we_read_it(drawn):
    raw, contexts, user, version = drawn
    peer = _pdu.parse_associate_ac(raw)
    assert peer["contexts"] == contexts
    assert peer["max_pdu"] == user.maximum_length
    assert peer["implementation_class_uid"] == user.implementation_class_uid
    assert peer["implementation_version_name"] == version


@SETTINGS
@given(result=st.sampled_from([1, 2]), source_reason=st.sampled_from([(1, 1), (1, 2), (1, 3), (1, 7), (2, 1), (2, 2), (3, 1), (3, 2)]))
def test_pynetdicom_associate_rj_as_we_read_it(result, source_reason):
    rejection = pdu.A_ASSOCIATE_RJ()
    rejection.result, (rejection.source, rejection.reason_diagnostic) = result, source_reason
    assert _pdu.parse_associate_rj(rejection.encode()) == (result,) + source_reason


@SETTINGS
@given(source_reason=st.sampled_from([(0, 0), (2, 0), (2, 1), (2, 2), (2, 4), (2, 5), (2, 6)]))
def test_pynetdicom_abort_as_we_read_it(source_reason):
    abort = pdu.A_ABORT_RQ()
    abort.source, abort.reason_diagnostic = source_reason
    assert _pdu.parse_abort(abort.encode()) == source_reason


@SETTINGS
@given(status=st.integers(0, 0xFFFF), message_id=st.integers(0, 0xFFFF), context_id=st.integers(0, 127).map(lambda n: 2 * n + 1),
       max_pdu=st.one_of(st.just(0), st.integers(5, 64).map(lambda n: 2 * n)), per_pdu=st.integers(1, 8))
def test_pynetdicom_echo_rsp_as_we_read_it(status, message_id, context_id, max_pdu, per_pdu):
    primitive = dimse_primitives.C_ECHO()
    primitive.MessageIDBeingRespondedTo, primitive.AffectedSOPClassUID, primitive.Status = message_id, VERIFICATION, status
    message = dimse_messages.C_ECHO_RSP()
    message.primitive_to_message(primitive)
    pdvs = [item for data in message.encode_msg(context_id, max_pdu) for item in data.presentation_data_value_list]
    pdus = []
    for start in range(0, len(pdvs), per_pdu):  # pynetdicom's fragments, several to a P-DATA-TF
        data_tf = pdu.P_DATA_TF()
        data_tf.presentation_data_value_items = [_sub_item(pdu_items.PresentationDataValueItem, presentation_context_id=pdv_id,
                                                           presentation_data_value=value) for pdv_id, value in pdvs[start:start + per_pdu]]
        pdus.append(data_tf.encode())
    assembler = _pdu.ResponseAssembler(frozenset([context_id]))
    done = [assembler.feed(raw) for raw in pdus]
    assert done == [False] * (len(pdus) - 1) + [True]
    command = assembler.command_set
    assert (command["CommandField"], command["MessageIDBeingRespondedTo"], command["Status"]) == (0x8030, message_id, status)
    assert (command["CommandDataSetType"], command["AffectedSOPClassUID"]) == (0x0101, VERIFICATION)
