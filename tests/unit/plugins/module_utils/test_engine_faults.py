# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine against misbehaving peers: every fault ends within its deadline, classified, with
echoscu's exit code and transcript lines (docs/dev/echoscu-behaviour.md 2), never raising."""

from __future__ import annotations

import time

import pytest

from ansible_collections.dicom.network.plugins.module_utils._engine import probe, probe_all
from ansible_collections.dicom.network.plugins.module_utils._request import build_requests
from ansible_collections.dicom.network.tests.peers import dul
from ansible_collections.dicom.network.tests.peers.faulty import FaultyPeer, closed_port
from ansible_collections.dicom.network.tests.peers.scripted import Play, Script, ScriptedPeer


def echo(port, host="127.0.0.1", **params):
    params.setdefault("log_level", "info")
    request = build_requests(dict(host=host, port=port, **params))[0]
    started = time.monotonic()
    result = probe(request)
    return result, time.monotonic() - started


def with_peer(mode, peer_options=None, **params):
    with FaultyPeer(mode, **(peer_options or {})) as peer:
        return echo(peer.port, **params)


def ac_bytes(max_pdu=16384):
    rq = dul.AssociateRQ(called_ae="ANY-SCP", calling_ae="ECHOSCU", protocol_version=1,
                         raw_called_ae=b"ANY-SCP".ljust(16), raw_calling_ae=b"ECHOSCU".ljust(16))
    return dul.associate_ac(rq, [(1, dul.PC_ACCEPTANCE, dul.IMPLICIT_VR_LE)], max_pdu=max_pdu)


def rsp_bytes(message_id=1, status=0):
    return dul.p_data([(1, dul.PDV_COMMAND | dul.PDV_LAST, dul.echo_rsp_command(message_id, status))])


def with_script(answer=None, release=None, assoc=None, **params):
    """The engine against tests/peers/scripted.py playing these bytes (default: a correct exchange)."""
    script = Script(assoc or Play([(0.0, ac_bytes())]), answer or Play([(0.0, rsp_bytes())]),
                    release or Play([(0.0, dul.RELEASE_RP_PDU)], then="close"))
    with ScriptedPeer(lambda _called_aet: script) as peer:
        return echo(peer.port, **params)


def test_closed_port():
    result, took = echo(closed_port())
    assert (result["outcome"], result["echoscu_exit_code"], result["success"]) == ("connection_refused", 1, False)
    assert result["log"][-1] == "F: Association Request Failed: 0006:031c TCP Initialization Error: Connection refused"
    assert took < 1


def test_silent_peer_ends_at_the_acse_timeout():
    result, took = with_peer("silent", acse_timeout=2)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("acse_timeout", 1)
    assert result["log"][-1] == "F: Association Request Failed: 0006:031a DUL network read timeout"
    assert 1.9 < took < 3.5


def test_peer_closing_after_accept():
    result, took = with_peer("close")
    assert (result["outcome"], result["echoscu_exit_code"]) == ("peer_aborted", 1)
    assert result["log"][-1] == "F: Association Request Failed: 0006:0317 Peer aborted Association (or never connected)"
    assert took < 2


def test_garbage_answer():
    result, _took = with_peer("garbage")
    assert (result["outcome"], result["echoscu_exit_code"]) == ("protocol_error", 1)
    assert result["log"][-1] == "F: Association Request Failed: 0006:0321 Unrecognized PDU type: 48"


def test_abort_in_answer_to_the_request():
    result, _took = with_peer("abort_assoc", {"abort_source": 2, "abort_reason": 1})
    assert (result["outcome"], result["echoscu_exit_code"]) == ("peer_aborted", 1)
    assert result["association"]["aborted_by"] == "peer"
    assert result["association"]["abort"] == {"source": 2, "reason": 1, "source_text": "Service Provider", "reason_text": "Unrecognized PDU"}


def test_stall_in_the_middle_of_the_answer_is_bounded_by_socket_timeout():
    result, took = with_peer("stall_mid_pdu", socket_timeout=1, acse_timeout=20)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("acse_timeout", 1)
    assert "middle" in result["msg"]
    assert result["log"][-1] == "F: Association Request Failed: 0006:0310 DUL network closed"  # as echoscu -ts 5
    assert took < 3


@pytest.mark.parametrize("values, texts, errors", [
    ((1, 1, 7), ("Rejected Permanent", "Service User", "Called AE Title Not Recognized"), 0),
    ((2, 3, 2), ("Rejected Transient", "Service Provider (Presentation Related)", "Local Limit Exceeded"), 0),
    ((1, 4, 1), ("Rejected Permanent", "Service User", "No Reason"), 2),
])
def test_rejections(values, texts, errors):
    result, _took = with_peer("reject", dict(zip(("result", "source", "reason"), values)))
    assert (result["outcome"], result["echoscu_exit_code"]) == ("association_rejected", 1)
    rejection = result["association"]["rejection"]
    assert (rejection["result"], rejection["source"], rejection["reason"]) == values
    assert (rejection["result_text"], rejection["source_text"], rejection["reason_text"]) == texts
    assert result["log"][-3:] == ["F: Association Rejected:", "F: Result: %s, Source: %s" % texts[:2], "F: Reason: %s" % texts[2]]
    assert sum(1 for line in result["log"] if line.startswith("E: Received invalid")) == errors
    assert result["association"]["established"] is False


def test_transient_reject_then_success():
    with FaultyPeer("transient_reject", reject_first=1) as peer:
        first, _took = echo(peer.port)
        second, _took = echo(peer.port)
    assert first["outcome"] == "association_rejected" and first["association"]["rejection"]["reason_text"] == "Temporary Congestion"
    assert second["outcome"] == "success" and second["success"] is True


def test_non_success_status_fails_but_echoscu_exits_0():
    result, _took = with_peer("echo_status", {"status": 0x0110}, repeat=3)
    assert (result["outcome"], result["echoscu_exit_code"], result["success"]) == ("echo_status", 0, False)
    assert result["echoes"][0]["status"] == 0x0110 and len(result["echoes"]) == 1
    assert result["association"]["released"] is True
    assert "I: Received Echo Response (Unknown Status: 0x110)" in result["log"]
    assert result["log"][-1] == "I: Releasing Association"


def test_peer_abort_during_the_echo():
    result, _took = with_peer("abort_on_echo", repeat=3)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("peer_aborted", 0)
    assert result["log"][-2:] == ["E: Echo Failed: 0006:0317 Peer aborted Association (or never connected)", "I: Peer Aborted Association"]
    assert result["echoes"] == [] and result["association"]["aborted_by"] == "peer"


def test_peer_release_request_during_the_echo():
    result, _took = with_peer("release_on_echo", repeat=3)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("protocol_error", 70)
    assert result["log"][-3:] == ["E: Echo Failed: 0006:0319 DUL Peer Requested Release",
                                  "F: Protocol Error: Peer requested release (Aborting)", "I: Aborting Association"]
    assert result["association"]["aborted_by"] == "us"


def test_dimse_timeout():
    result, took = with_peer("delay_echo", {"delay": 8}, dimse_timeout=1)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("dimse_timeout", 70)
    assert "E: Echo Failed: 0006:0207 DIMSE No data available (timeout in non-blocking mode)" in result["log"]
    assert result["log"][-1] == "I: Aborting Association"
    assert 0.9 < took < 2.5


def test_socket_timeout_bounds_the_response_without_dimse_timeout():
    result, took = with_peer("delay_echo", {"delay": 8}, socket_timeout=1)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("dimse_timeout", 0)
    assert result["log"][-1] == "I: Peer Aborted Association"
    assert 0.9 < took < 2.5


def test_stall_in_the_middle_of_the_response():
    result, took = with_peer("stall_echo_mid_pdu", socket_timeout=1, dimse_timeout=30)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("dimse_timeout", 70)  # echoscu -td 2 -ts 4: exit 70 after 4 s
    assert "middle" in result["msg"] and "E: Echo Failed: 0006:020d DIMSE Failed to receive message" in result["log"]
    assert took < 2.5
    blocking, took = with_peer("stall_echo_mid_pdu", socket_timeout=1)  # 20 bytes: the PDU header had come
    assert (blocking["outcome"], blocking["echoscu_exit_code"]) == ("dimse_timeout", 70)
    assert took < 2.5


@pytest.mark.parametrize("cut, then, dimse_timeout, outcome, exit_code", [
    (3, "hold", None, "dimse_timeout", 0),     # inside the PDU header: echoscu -ts 2 says "Peer aborted", exit 0
    (3, "hold", 1, "dimse_timeout", 70),       # ... -td 2: "DUL network read timeout", exit 70
    (3, "close", 1, "peer_aborted", 0),
    (6, "hold", None, "dimse_timeout", 70),    # after the header: "DIMSE Read PDV failed", exit 70 in either mode
    (10, "close", None, "peer_aborted", 70),
    (20, "close", 1, "peer_aborted", 70),
])
def test_response_cut_short_exits_as_echoscu(cut, then, dimse_timeout, outcome, exit_code):
    # each row compared with echoscu 3.6.7 on the same bytes (tests/fuzz found the last three)
    params = {"socket_timeout": 1} if dimse_timeout is None else {"socket_timeout": 1, "dimse_timeout": dimse_timeout}
    result, took = with_script(Play([(0.0, rsp_bytes()[:cut])], then=then), **params)
    assert (result["outcome"], result["echoscu_exit_code"]) == (outcome, exit_code)
    assert took < 2.5


def test_release_without_reply():
    result, took = with_peer("no_release_reply", acse_timeout=1)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("release_failed", 1)
    assert result["log"][-1] == "F: Association Release Failed: 0006:031a DUL network read timeout"
    assert len(result["echoes"]) == 1 and result["association"]["released"] is False
    assert took < 2.5


@pytest.mark.parametrize("answer, condition", [
    (rsp_bytes() + dul.RELEASE_RP_PDU, "0006:0316 DUL P-Data PDU arrived"),  # a late P-DATA-TF (found by tests/fuzz)
    (dul.RELEASE_RQ_PDU + dul.RELEASE_RP_PDU, "0006:0319 DUL Peer Requested Release"),  # a release collision
    (dul.pdu(8, bytes(4)), "0006:0321 Unrecognized PDU type: 8"),
], ids=["p-data", "release-rq", "unknown-type"])
def test_release_answered_with_anything_but_the_rp_fails_as_in_echoscu(answer, condition):
    result, took = with_script(release=Play([(0.0, answer)], then="close"))
    assert (result["outcome"], result["echoscu_exit_code"], result["success"]) == ("release_failed", 1, False)
    assert result["log"][-1] == "F: Association Release Failed: " + condition
    assert len(result["echoes"]) == 1 and result["association"]["released"] is False
    assert took < 2


@pytest.mark.parametrize("answer", [ac_bytes(), dul.associate_rj(1, 1, 1), dul.RELEASE_RP_PDU], ids=["ac", "rj", "release-rp"])
def test_association_pdu_instead_of_the_response(answer):
    # echoscu 3.6.7: its state machine aborts the association itself, so its own A-ABORT fails: exit 1 (found by tests/fuzz)
    result, took = with_script(Play([(0.0, answer)], then="close"))
    assert (result["outcome"], result["echoscu_exit_code"]) == ("protocol_error", 1)
    assert "E: Echo Failed: 0006:020d DIMSE Failed to receive message" in result["log"]
    assert result["association"]["aborted_by"] == "us" and took < 2


def test_wrong_message_id():
    result, _took = with_peer("wrong_msg_id")
    assert (result["outcome"], result["echoscu_exit_code"]) == ("protocol_error", 70)
    assert "E: Echo Failed: DIMSE: Unexpected Response MsgId: 2 (expected: 1)" in result["log"]


def test_fragmented_response_is_reassembled():
    result, _took = with_peer("fragmented_echo", repeat=2)
    assert result["outcome"] == "success" and [e["message_id"] for e in result["echoes"]] == [1, 2]


def test_unlimited_peer_pdu():
    result, _took = with_peer("max_pdu_zero")
    assert result["outcome"] == "success"
    assert result["association"]["peer_max_pdu"] == 0 and result["association"]["max_send_pdv"] == 131060
    assert "I: Association Accepted (Max Send PDV: 131060)" in result["log"]


def test_verification_not_supported():
    result, _took = with_peer("no_verification", propose_pc=2)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("no_acceptable_context", 1)
    assert [c["result"] for c in result["presentation_contexts"]] == ["abstract-syntax-not-supported"] * 2
    assert result["log"][-1] == "F: No Acceptable Presentation Contexts"


def test_transfer_syntax_not_supported_then_accepted_when_proposed():
    refused, _took = with_peer("explicit_only")
    assert refused["outcome"] == "no_acceptable_context"
    assert refused["presentation_contexts"][0]["result"] == "transfer-syntaxes-not-supported"
    accepted, _took = with_peer("explicit_only", propose_ts=2)
    assert accepted["outcome"] == "success"
    assert accepted["accepted_transfer_syntaxes"] == ["1.2.840.10008.1.2.1"]
    assert accepted["presentation_contexts"][0]["transfer_syntax_name"] == "Explicit VR Little Endian"


def test_repeat_and_abort():
    result, _took = with_peer("normal", repeat=5, abort=True)
    assert result["outcome"] == "success" and result["echoscu_exit_code"] == 0
    assert [e["message_id"] for e in result["echoes"]] == [1, 2, 3, 4, 5]
    assert result["association"]["aborted_by"] == "us" and result["association"]["released"] is False
    assert result["log"][-1] == "I: Aborting Association"
    assert set(result["rtt_ms"]) == {"min", "median", "avg", "max", "stdev"}


def test_odd_max_pdu_is_lowered_with_echoscus_warning():
    result, _took = with_peer("normal", max_pdu=4097, log_level="warn")
    assert result["log"] == ["W: ASSOC: PDV receive length 4097 is odd (using 4096)"]
    assert result["association"]["our_max_pdu"] == 4096


def test_batch_keeps_input_order_and_mixes_outcomes():
    with FaultyPeer("normal") as good, FaultyPeer("reject", reason=7) as bad:
        endpoints = []
        for index in range(300):
            port = bad.port if index % 10 == 3 else good.port
            endpoints.append({"host": "127.0.0.1", "port": port, "name": "ep%03d" % index})
        requests = build_requests({"endpoints": endpoints})
        results = probe_all(requests, concurrency=64)
    assert [r["endpoint"]["port"] for r in results] == [e["port"] for e in endpoints]
    outcomes = [r["outcome"] for r in results]
    assert outcomes.count("association_rejected") == 30 and outcomes.count("success") == 270


def test_ipv6_literal_and_address_family_choice():
    with FaultyPeer("normal", host="::1") as peer:
        literal, _took = echo(peer.port, host="::1")
        assert literal["outcome"] == "success" and literal["endpoint"]["address"] == "::1"
        bracketed, _took = echo(peer.port, host="[::1]")
        assert bracketed["outcome"] == "success"
        # "localhost" has only an A record here: ipv4 finds 127.0.0.1, where nothing listens
        four, _took = echo(peer.port, host="localhost", ip_protocol="ipv4")
        assert four["outcome"] == "connection_refused" and four["endpoint"]["address"] is None
    # ...and ipv6 asks for AAAA records only, so the same name does not resolve at all
    six, _took = echo(104, host="localhost", ip_protocol="ipv6")
    assert six["outcome"] == "dns_error" and "ipv6" not in six["log"][-1]
    assert six["log"][-1] == "F: Association Request Failed: 0006:0320 Attempt to connect to unknown host: localhost"


def test_connect_timeout_when_the_peer_backlog_is_full():
    # A listener that never accepts, with its backlog filled: Linux drops further SYNs, so the
    # connect hangs until connection_timeout (echoscu -to 2: "Operation now in progress (Timeout)").
    import socket  # pylint: disable=import-outside-toplevel

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _index in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        result, took = echo(port, connection_timeout=1)
    finally:
        for filler in fillers:
            filler.close()
        server.close()
    assert (result["outcome"], result["echoscu_exit_code"]) == ("connect_timeout", 1)
    assert result["log"][-1] == "F: Association Request Failed: 0006:031c TCP Initialization Error: Operation now in progress (Timeout)"
    assert 0.9 < took < 2.5
