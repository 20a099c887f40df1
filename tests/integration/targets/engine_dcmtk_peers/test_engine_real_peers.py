# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine against real DICOM servers, with DCMTK's own echoscu as the oracle.

For every success case the accepted transfer syntax of each presentation context must equal what
`echoscu -d` reports against the same peer with the same proposal. Debian's echoscu is 3.6.7, whose
--propose-ts list is numbered differently beyond entry 3 (docs/dev/echoscu-behaviour.md 1); where our
3.7.0 proposal contains syntaxes 3.6.7 cannot propose, the comparison is made with the 3.6.7
proposal that holds every other syntax of ours, and the test asserts the peer accepted none of the
missing ones (3.6.7 servers do not know them).
"""

from __future__ import annotations

import pytest

from ansible_collections.dicom.network.plugins.module_utils._engine import probe
from ansible_collections.dicom.network.plugins.module_utils._request import build_requests
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import proposed_transfer_syntaxes
from ansible_collections.dicom.network.tests.peers import real
from ansible_collections.dicom.network.tests.peers.oracle import run_echoscu, transfer_syntaxes_367


@pytest.fixture(scope="module")
def storescp_peers():
    peers = {name: real.storescp(*args) for name, args in
             {"default": (), "+xi": ("+xi",), "+xb": ("+xb",), "+xv": ("+xv",), "+xs": ("+xs",)}.items()}
    yield peers
    for peer in peers.values():
        peer.stop()


@pytest.fixture(scope="module")
def orthanc_peer():
    peer = real.orthanc()
    yield peer
    peer.stop(grace=0)


@pytest.fixture(scope="module")
def dcmqrscp_peer():
    peer = real.dcmqrscp()
    yield peer
    peer.stop()


def ours(peer, called_aet, **params):
    return probe(build_requests(dict(host=peer.host, port=peer.port, called_aet=called_aet, log_level="debug", **params))[0])


def comparable_pts_367(pts):
    """The largest echoscu 3.6.7 -pts whose list is a subset of our first ``pts`` syntaxes."""
    wanted = set(proposed_transfer_syntaxes(pts))
    best = 1
    for count in range(1, 39):
        if set(transfer_syntaxes_367(count)) <= wanted:
            best = count
    return best


def assert_same_negotiation(result, oracle, pts):
    assert oracle.exit_code == 0, oracle.output
    assert result["outcome"] == "success" and result["echoscu_exit_code"] == 0, result["msg"]
    mine = [(c["id"], c["transfer_syntax"]) for c in result["presentation_contexts"]]
    theirs = [(c.context_id, c.transfer_syntax) for c in oracle.contexts]
    assert mine == theirs
    missing = set(proposed_transfer_syntaxes(pts)) - set(transfer_syntaxes_367(comparable_pts_367(pts)))
    assert not missing & set(result["accepted_transfer_syntaxes"])
    assert result["association"]["max_send_pdv"] == oracle.max_send_pdv
    assert result["association"]["peer_implementation_class_uid"] == oracle.their_implementation_class_uid


@pytest.mark.parametrize("preference", ["default", "+xi", "+xb", "+xv", "+xs"])
@pytest.mark.parametrize("pts, ppc", [(1, 1), (2, 1), (3, 3), (28, 2), (50, 1)])
def test_storescp_negotiation_matches_echoscu(storescp_peers, preference, pts, ppc):
    peer = storescp_peers[preference]
    result = ours(peer, "STORESCP", propose_ts=pts, propose_pc=ppc)
    oracle = run_echoscu(peer.host, peer.port, called_aet="STORESCP", pts=comparable_pts_367(pts), ppc=ppc)
    assert_same_negotiation(result, oracle, pts)


def test_dcmtk_367_peers_never_answer_more_than_50_syntaxes_in_a_context(storescp_peers, orthanc_peer):
    # DCMTK 3.6.7 (storescp, and Orthanc 1.10 built on it) logs "ASC Coding error in
    # ASC_getPresentationContext: too many transfer syntaxes" and keeps the connection open without
    # an answer; echoscu 3.7.0 -pts 51..53 meets the same silence. The deadline still holds.
    for peer, called in ((storescp_peers["default"], "STORESCP"), (orthanc_peer, "ORTHANC")):
        result = ours(peer, called, propose_ts=51, acse_timeout=2)
        assert (result["outcome"], result["echoscu_exit_code"]) == ("acse_timeout", 1)
        assert result["timing_ms"]["associate"] < 3000


def test_storescp_preferences_really_differ(storescp_peers):
    accepted = {name: ours(peer, "STORESCP", propose_ts=28)["accepted_transfer_syntaxes"] for name, peer in storescp_peers.items()}
    assert accepted["+xi"] == ["1.2.840.10008.1.2"]
    assert accepted["+xb"] == ["1.2.840.10008.1.2.2"]
    assert accepted["+xv"] == ["1.2.840.10008.1.2.4.90"]
    assert accepted["default"] == ["1.2.840.10008.1.2.1"]


def test_storescp_refuse_matches_echoscu():
    with real.storescp("--refuse") as peer:
        result = ours(peer, "STORESCP")
        oracle = run_echoscu(peer.host, peer.port, called_aet="STORESCP")
    assert oracle.exit_code == 1 and oracle.rejected
    assert (result["outcome"], result["echoscu_exit_code"]) == ("association_rejected", 1)
    rejection = result["association"]["rejection"]
    assert (rejection["result_text"], rejection["source_text"], rejection["reason_text"]) == \
        (oracle.reject_result, oracle.reject_source, oracle.reject_reason)


@pytest.mark.parametrize("calling, called", [("ECHOSCU", "QRSCP"), ("ECHOSCU", "ANY-SCP"), ("STRANGER", "QRSCP")])
def test_dcmqrscp_ae_table_matches_echoscu(dcmqrscp_peer, calling, called):
    result = ours(dcmqrscp_peer, called, calling_aet=calling, propose_ts=3)
    oracle = run_echoscu(dcmqrscp_peer.host, dcmqrscp_peer.port, called_aet=called, calling_aet=calling, pts=3)
    assert result["echoscu_exit_code"] == oracle.exit_code
    if oracle.rejected:
        assert result["outcome"] == "association_rejected"
        rejection = result["association"]["rejection"]
        assert (rejection["result_text"], rejection["source_text"], rejection["reason_text"]) == \
            (oracle.reject_result, oracle.reject_source, oracle.reject_reason)
    else:
        assert_same_negotiation(result, oracle, 3)
    assert oracle.rejected == ((calling, called) != ("ECHOSCU", "QRSCP"))


@pytest.mark.parametrize("pts, ppc", [(1, 1), (3, 2), (50, 3)])
def test_orthanc_negotiation_matches_echoscu(orthanc_peer, pts, ppc):
    result = ours(orthanc_peer, "ORTHANC", propose_ts=pts, propose_pc=ppc, repeat=3)
    oracle = run_echoscu(orthanc_peer.host, orthanc_peer.port, called_aet="ORTHANC", pts=comparable_pts_367(pts), ppc=ppc)
    assert_same_negotiation(result, oracle, pts)
    assert [echo["status"] for echo in result["echoes"]] == [0, 0, 0]


def test_orthanc_checks_the_called_ae_title(orthanc_peer):
    result = ours(orthanc_peer, "WRONG")
    oracle = run_echoscu(orthanc_peer.host, orthanc_peer.port, called_aet="WRONG")
    assert oracle.rejected and result["outcome"] == "association_rejected"
    assert result["association"]["rejection"]["reason_text"] == oracle.reject_reason == "Called AE Title Not Recognized"


def test_debug_transcript_has_echoscus_shape(storescp_peers):
    peer = storescp_peers["default"]
    result = ours(peer, "STORESCP", propose_ts=2)
    oracle = run_echoscu(peer.host, peer.port, called_aet="STORESCP", pts=2)
    mine = [line for line in result["log"] if line.startswith("I: ")]
    assert mine == ["I: " + line for line in oracle.info]
    assert "D: ====================== BEGIN A-ASSOCIATE-AC =====================" in result["log"]
    assert "D:     Accepted Transfer Syntax: =LittleEndianExplicit" in result["log"]
