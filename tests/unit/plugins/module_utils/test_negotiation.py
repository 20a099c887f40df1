# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transfer syntax discovery without the network: names and keywords, terms, the association plan, the merge."""

from __future__ import annotations

import pytest

from ansible_collections.dicom.network.plugins.module_utils._negotiation import (
    MAX_CONTEXTS,
    TERM_KEYS,
    default_transfer_syntaxes,
    flatten_terms,
    merge,
    parse_term,
    plan_contexts,
    resolve_list,
    resolve_uid,
    simple_answer,
    uid_label,
)
from ansible_collections.dicom.network.plugins.module_utils._request import RequestError
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import ECHOSCU_TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
IMPLICIT, EXPLICIT, BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
ALL53 = [uid for uid, _name, _keyword in ECHOSCU_TRANSFER_SYNTAXES]


# ---- names, keywords, UIDs ----------------------------------------------------------------------
@pytest.mark.parametrize("text, uid", [
    ("CTImageStorage", CT),
    ("Verification", VERIFICATION_SOP_CLASS),
    ("JPEG2000Lossless", J2K_LOSSLESS),                             # DICOM keyword
    ("JPEG 2000 Image Compression (Lossless Only)", J2K_LOSSLESS),  # pydicom's name
    ("JPEG2000LosslessOnly", J2K_LOSSLESS),                         # DCMTK's dump name
    ("jpeg2000lossless", J2K_LOSSLESS),                             # case and punctuation ignored last
    ("  ExplicitVRLittleEndian ", EXPLICIT),
    (J2K_LOSSLESS, J2K_LOSSLESS),
    ("1.2.826.0.1.3680043.2.1143.99", "1.2.826.0.1.3680043.2.1143.99"),  # private: used as given
    ("HTJ2KLossless", "1.2.840.10008.1.2.4.201"),
    ("JPEGXL", "1.2.840.10008.1.2.4.112"),                          # pydicom 3.0 lacks it; echoscu's table has it
    ("DeflatedImageFrameCompression", "1.2.840.10008.1.2.8.1"),
    ("ultrasound image storage", "1.2.840.10008.5.1.4.1.1.6.1"),    # the current class, not the retired one of the same name
])
def test_resolve_uid(text, uid):
    assert resolve_uid(text) == uid


def test_every_echoscu_keyword_and_dcmtk_name_resolves_to_its_uid():
    for uid, dcmtk, keyword in ECHOSCU_TRANSFER_SYNTAXES:
        assert resolve_uid(keyword, "transfer") == uid
        assert resolve_uid(dcmtk, "transfer") == uid


@pytest.mark.parametrize("text, kind, message", [
    ("CTImageStorag", "abstract", "'CTImageStorag' is neither a UID nor a known DICOM keyword or name; did you mean CTImageStorage"),
    ("CTImageStorage", "transfer", "CTImageStorage (CT Image Storage) is a SOP Class, not a transfer syntax"),
    ("ExplicitVRLittleEndian", "abstract", "is a Transfer Syntax, not an abstract syntax (SOP class)"),
    (J2K_LOSSLESS, "abstract", "is a Transfer Syntax, not an abstract syntax"),
    ("1.2.840.10008.01.2", "transfer", "not a valid UID"),
    ("1." + "1" * 70, "transfer", "longer than the 64 characters"),
    ("", "transfer", "expected a UID or a DICOM keyword"),
    (5, "transfer", "expected a UID or a DICOM keyword"),
])
def test_resolve_uid_refusals(text, kind, message):
    with pytest.raises(RequestError, match="^opt: .*" if text else "^opt: ") as info:
        resolve_uid(text, kind, "opt")
    assert message in str(info.value)


def test_resolve_list_keeps_order_and_drops_repeats():
    assert resolve_list("CTImageStorage", "abstract", "abstract_syntax") == [CT]
    assert resolve_list(["CTImageStorage", "MRImageStorage", CT], "abstract", "abstract_syntax") == [CT, MR]
    with pytest.raises(RequestError, match=r"^transfer_syntaxes\[1\]: 'nope'"):
        resolve_list(["JPEG2000", "nope"], "transfer", "transfer_syntaxes")
    with pytest.raises(RequestError, match="non-empty list"):
        resolve_list([], "transfer", "transfer_syntaxes")


def test_uid_label_styles():
    assert uid_label(J2K_LOSSLESS) == "JPEG 2000 Image Compression (Lossless Only)"
    assert uid_label(J2K_LOSSLESS, "keyword") == "JPEG2000Lossless"
    assert uid_label(J2K_LOSSLESS, "dcmtk") == "JPEG2000LosslessOnly"
    assert uid_label("1.2.840.10008.1.2.4.110") == "JPEG XL Lossless"
    assert uid_label(CT, "dcmtk") == "CT Image Storage"  # no DCMTK dump name: the DICOM name
    assert uid_label("1.2.3.4") == "1.2.3.4"
    with pytest.raises(RequestError, match="style must be one of"):
        uid_label(CT, "fancy")


# ---- terms --------------------------------------------------------------------------------------
@pytest.mark.parametrize("term, values", [
    ("pacs1.example.org", {"host": "pacs1.example.org"}),
    ("pacs1.example.org:4242", {"host": "pacs1.example.org", "port": 4242}),
    ("ORTHANC@pacs1.example.org:4242", {"called_aet": "ORTHANC", "host": "pacs1.example.org", "port": 4242}),
    ("10.0.0.5", {"host": "10.0.0.5"}),
    ("STORESCP@10.0.0.5:11112", {"called_aet": "STORESCP", "host": "10.0.0.5", "port": 11112}),
    ("AET@[fd00::5]:104", {"called_aet": "AET", "host": "fd00::5", "port": 104}),
    ("[::1]:11112", {"host": "::1", "port": 11112}),
    ("[::1]", {"host": "::1"}),
    ("::1", {"host": "::1"}),
    ("fd00::5", {"host": "fd00::5"}),
    ("MY AE@host", {"called_aet": "MY AE", "host": "host"}),     # AE titles may hold spaces
    ("A@B@host:1", {"called_aet": "A@B", "host": "host", "port": 1}),
    ("[fe80::1%eth0]:104", {"host": "fe80::1%eth0", "port": 104}),
])
def test_parse_string_terms(term, values):
    assert parse_term(term) == values


@pytest.mark.parametrize("term, message", [
    ("@host", "nothing before @"),
    ("AET@", "no host"),
    ("host:port", "port 'port' is not a number"),
    ("host:", "port '' is not a number"),
    ("[::1", "IPv6 literal in brackets"),
    ("[::1]104", "IPv6 literal in brackets"),
    ("a:b:c", "is not an IPv6 literal; write [address]:port"),
    (42, "expected [AET@]host[:port] or a dict"),
    ({"port": 104}, "a dict term needs host"),
    ({"host": "h", "repeat": 3}, "'repeat' is not a key a term may carry"),
    ({"host": "h", "colour": "red"}, "'colour' is not a key a term may carry"),
    ({"host": "h", "called_aet": "A", "call": "B"}, "called_aet is given twice"),
])
def test_parse_term_refusals(term, message):
    with pytest.raises(RequestError, match="^term 3") as info:
        parse_term(term, "term 3")
    assert message in str(info.value)


def test_dict_terms_fold_aliases_and_keep_overrides():
    values = parse_term({"peer": "h", "call": "ARCHIVE", "aetitle": "ME", "acse_timeout": 5, "abstract_syntax": "CTImageStorage", "name": "a"})
    assert values == {"host": "h", "called_aet": "ARCHIVE", "calling_aet": "ME", "acse_timeout": 5, "abstract_syntax": "CTImageStorage", "name": "a"}


def test_term_keys_are_the_association_options():
    assert {"host", "port", "called_aet", "calling_aet", "name", "ip_protocol", "max_pdu", "connection_timeout",
            "abstract_syntax", "transfer_syntaxes", "propose_ts", "propose_pc"} <= TERM_KEYS
    assert not {"repeat", "abort", "log_level", "endpoints", "concurrency"} & TERM_KEYS


def test_flatten_terms():
    assert flatten_terms(["a", ["b", {"host": "c"}], "d"]) == ["a", "b", {"host": "c"}, "d"]


# ---- the plan -----------------------------------------------------------------------------------
def test_discover_53_verification_is_one_association_of_53_single_syntax_contexts():
    plan = plan_contexts("discover", [VERIFICATION_SOP_CLASS], default_transfer_syntaxes())
    assert len(plan) == 1 and len(plan[0]) == 53
    assert plan[0] == [(VERIFICATION_SOP_CLASS, [uid]) for uid in ALL53]


@pytest.mark.parametrize("abstracts, associations, sizes", [
    (1, 1, [53]), (2, 1, [106]), (3, 2, [128, 31]), (5, 3, [128, 128, 9]),
])
def test_discover_uses_as_few_associations_as_possible(abstracts, associations, sizes):
    names = ["1.2.3.%d" % index for index in range(abstracts)]
    plan = plan_contexts("discover", names, ALL53)
    assert len(plan) == associations == -(-53 * abstracts // MAX_CONTEXTS)
    assert [len(contexts) for contexts in plan] == sizes
    pairs = [(abstract, syntaxes[0]) for contexts in plan for abstract, syntaxes in contexts]
    assert pairs == [(abstract, syntax) for abstract in names for syntax in ALL53]  # every pair once, in order


def test_contexts_per_association_lowers_the_cut():
    plan = plan_contexts("discover", [CT], ALL53, per_association=20)
    assert [len(contexts) for contexts in plan] == [20, 20, 13]


def test_echoscu_layout():
    assert plan_contexts("echoscu", [VERIFICATION_SOP_CLASS]) == [[(VERIFICATION_SOP_CLASS, [IMPLICIT])]]
    plan = plan_contexts("echoscu", [VERIFICATION_SOP_CLASS], propose_ts=3, propose_pc=4)
    assert plan == [[(VERIFICATION_SOP_CLASS, [IMPLICIT, EXPLICIT, BIG])] * 4]
    assert len(plan_contexts("echoscu", [VERIFICATION_SOP_CLASS], propose_ts=53, propose_pc=128)[0]) == 128


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "discover", "propose_ts": 3}, "propose_ts and propose_pc shape mode=echoscu"),
    ({"mode": "echoscu", "transfer_syntaxes": [IMPLICIT]}, "transfer_syntaxes is for mode=discover"),
    ({"mode": "echoscu", "propose_ts": 54}, "propose_ts must be 1..53"),
    ({"mode": "echoscu", "propose_pc": 0}, "propose_pc must be 1..128"),
    ({"mode": "discover", "per_association": 129}, "contexts_per_association must be 1..128"),
    ({"mode": "sideways"}, "mode must be one of discover, echoscu"),
])
def test_plan_refusals(kwargs, message):
    mode = kwargs.pop("mode")
    kwargs.setdefault("transfer_syntaxes", ALL53 if mode == "discover" else None)
    with pytest.raises(RequestError, match=message):
        plan_contexts(mode, [VERIFICATION_SOP_CLASS], **kwargs)


# ---- the merge ----------------------------------------------------------------------------------
def _result(plan_contexts_, accept, outcome="success", established=True, rejection=None):
    """An engine result for one association: contexts whose syntax is in ``accept`` are accepted."""
    contexts = []
    for index, (abstract, syntaxes) in enumerate(plan_contexts_):
        chosen = next((syntax for syntax in syntaxes if (abstract, syntax) in accept), None)
        result = None
        if established:
            result = "acceptance" if chosen else "transfer-syntaxes-not-supported"
        contexts.append({"id": 2 * index + 1, "abstract_syntax": abstract, "proposed_transfer_syntaxes": list(syntaxes),
                         "result": result, "transfer_syntax": chosen if established else None, "transfer_syntax_name": None})
    association = {"established": established, "released": established, "aborted_by": None, "rejection": rejection, "abort": None,
                   "our_max_pdu": 16384, "peer_max_pdu": 16384 if established else None, "max_send_pdv": 16372 if established else None,
                   "peer_implementation_class_uid": "1.2.3" if established else None,
                   "peer_implementation_version_name": "PEER_1" if established else None}
    label = "X@h:1"
    msg = "Association with %s succeeded" % label if outcome == "success" else "C-ECHO to %s failed (%s): it broke" % (label, outcome)
    return {"outcome": outcome, "msg": msg, "reason": None if outcome == "success" else "it broke", "association": association,
            "presentation_contexts": contexts, "endpoint": {"host": "h", "port": 1}, "timing_ms": {"total": 1.0}}


def test_merge_two_associations_three_abstract_syntaxes():
    abstracts = [CT, VERIFICATION_SOP_CLASS, MR]
    plan = plan_contexts("discover", abstracts, ALL53)
    accept = {(CT, J2K_LOSSLESS), (CT, IMPLICIT), (VERIFICATION_SOP_CLASS, IMPLICIT), (MR, EXPLICIT)}
    results = [_result(contexts, accept) for contexts in plan]
    detail = merge("X@h:1", "discover", abstracts, ALL53, plan, results)
    assert detail["success"] and detail["outcome"] == "success"
    assert simple_answer(detail) == {CT: [IMPLICIT, J2K_LOSSLESS], VERIFICATION_SOP_CLASS: [IMPLICIT], MR: [EXPLICIT]}
    assert detail["accepted_transfer_syntaxes"] == [IMPLICIT, J2K_LOSSLESS, EXPLICIT]
    assert [assoc["contexts"] for assoc in detail["associations"]] == [128, 31]
    assert len(detail["presentation_contexts"]) == 159
    assert detail["presentation_contexts"][128]["association"] == 2 and detail["presentation_contexts"][128]["id"] == 1
    ct = detail["abstract_syntaxes"][CT]
    assert ct["name"] == "CT Image Storage"
    assert ct["results"] == {"acceptance": 2, "transfer-syntaxes-not-supported": 51}
    j2k = next(entry for entry in ct["transfer_syntaxes"] if entry["uid"] == J2K_LOSSLESS)
    assert j2k == {"uid": J2K_LOSSLESS, "name": "JPEG 2000 Image Compression (Lossless Only)", "keyword": "JPEG2000Lossless",
                   "accepted": True, "result": "acceptance"}
    assert detail["peer"] == {"implementation_class_uid": "1.2.3", "implementation_version_name": "PEER_1", "max_pdu": 16384}
    assert detail["msg"] == "X@h:1 accepts 2 for CT Image Storage, 1 for Verification SOP Class, 1 for MR Image Storage (2 associations)"


def test_merge_nothing_accepted_is_an_answer():
    plan = plan_contexts("discover", [CT], [IMPLICIT, EXPLICIT])
    result = _result(plan[0], set(), outcome="no_acceptable_context")
    for context in result["presentation_contexts"]:
        context["result"] = "abstract-syntax-not-supported"
    detail = merge("X@h:1", "discover", [CT], [IMPLICIT, EXPLICIT], plan, [result])
    assert detail["success"] and simple_answer(detail) == []
    assert detail["abstract_syntaxes"][CT]["results"] == {"abstract-syntax-not-supported": 2}
    assert detail["msg"] == "X@h:1 accepts 0 of 2 proposed transfer syntaxes for CT Image Storage (1 association)"


def test_merge_rejection_is_a_failure_with_its_details():
    rejection = {"result": 1, "source": 1, "reason": 7, "result_text": "Rejected Permanent", "source_text": "Service User",
                 "reason_text": "Called AE Title Not Recognized"}
    plan = plan_contexts("discover", [CT, MR, VERIFICATION_SOP_CLASS], ALL53)
    result = _result(plan[0], set(), outcome="association_rejected", established=False, rejection=rejection)
    detail = merge("X@h:1", "discover", [CT, MR, VERIFICATION_SOP_CLASS], ALL53, plan, [result])
    assert not detail["success"] and detail["outcome"] == "association_rejected"
    assert detail["msg"] == "X@h:1: it broke (association_rejected)"
    assert detail["rejection"] == rejection and detail["peer"] is None
    assert len(detail["associations"]) == 1  # the second association of the plan never ran
    assert detail["abstract_syntaxes"][CT]["results"] == {} and detail["accepted_transfer_syntaxes"] == []


def test_merge_echoscu_mode_reports_what_each_context_got():
    plan = plan_contexts("echoscu", [VERIFICATION_SOP_CLASS], propose_ts=3, propose_pc=2)
    results = [_result(plan[0], {(VERIFICATION_SOP_CLASS, EXPLICIT)})]
    detail = merge("X@h:1", "echoscu", [VERIFICATION_SOP_CLASS], None, plan, results)
    assert simple_answer(detail) == [EXPLICIT]
    entries = detail["abstract_syntaxes"][VERIFICATION_SOP_CLASS]["transfer_syntaxes"]
    assert [(entry["uid"], entry["accepted"], entry["result"]) for entry in entries] == [(IMPLICIT, False, None), (EXPLICIT, True, None), (BIG, False, None)]
