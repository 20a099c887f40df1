# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's C-FIND probe and its tls_version option against real peers with known settings.

Orthanc (its DicomModalities and DicomAlwaysAllowFind), DCMTK dcmqrscp (AE table) and wlmscpfs
(worklist), DCMTK storescp over TLS (profiles that allow TLS 1.0+ and 1.2+ only), and the pynetdicom
peers of tests/peers/find_scp.py for what no archive can be configured to do (leak, flood, fail).
"""

from __future__ import annotations

import json
import time

import pytest

from ansible_collections.dicom.network.plugins.module_utils._engine import probe, probe_all
from ansible_collections.dicom.network.plugins.module_utils._request import RequestError, build_requests
from ansible_collections.dicom.network.plugins.module_utils._tls_profiles import version_problem
from ansible_collections.dicom.network.tests.peers import real
from ansible_collections.dicom.network.tests.peers.find_scp import PATIENT_VALUES, FindPeer
from ansible_collections.dicom.network.tests.peers.tls_peers import StorescpPeer
from ansible_collections.dicom.network.tests.peers.tls_pki import make_pki

STORED = {"PatientName": "STORED^SECRET^NAME", "PatientID": "STORED-SECRET-ID", "AccessionNumber": "STSECRETACC"}


def find(peer, called_aet, calling_aet="ECHOSCU", **params):
    values = dict(dict(host=peer.host, port=peer.port, called_aet=called_aet, calling_aet=calling_aet, dimse_timeout=5), **params)
    result = probe(build_requests(values, find=True)[0])
    text = json.dumps(result)
    for value in list(PATIENT_VALUES.values()) + list(STORED.values()):
        assert value not in text, "a patient-level value reached the result: %s" % value
    return result


@pytest.fixture(scope="module")
def orthanc_registered():
    peer = real.orthanc(modalities={"registered": "REGISTERED"}, always_allow_find=False, studies=(STORED,))
    yield peer
    peer.stop(grace=0)


def test_orthanc_answers_a_registered_calling_ae_with_success_and_no_match(orthanc_registered):
    result = find(orthanc_registered, "ORTHANC", "REGISTERED", log_level="info")
    assert result["outcome"] == "success" and result["success"] is True, result["msg"]
    query = result["query"]
    assert query["status"] == 0 and query["status_category"] == "success" and query["matches"] == 0 and query["complete"]
    assert query["sop_class"] == "1.2.840.10008.5.1.4.1.2.2.1" and query["level"] == "STUDY"
    assert result["timing_ms"]["find"] is not None and "echo" not in result["timing_ms"]
    assert "echoes" in result and result["echoes"] == []  # the engine's shape; dicom_find drops the echo keys
    assert result["log"][-2:] == ["I: Received Final Find Response (Success)", "I: Releasing Association"]


def test_orthanc_aborts_a_query_from_an_unregistered_calling_ae_that_it_echoes(orthanc_registered):
    echo = probe(build_requests(dict(host=orthanc_registered.host, port=orthanc_registered.port, called_aet="ORTHANC",
                                     calling_aet="UNREGISTERED"))[0])
    assert echo["outcome"] == "success"  # the echo succeeds ...
    result = find(orthanc_registered, "ORTHANC", "UNREGISTERED")
    assert result["outcome"] == "peer_aborted" and result["association"]["established"]  # ... the query does not
    assert result["association"]["aborted_by"] == "peer" and not result["query"]["complete"]


def test_orthanc_has_no_worklist_without_its_plugin(orthanc_registered):
    result = find(orthanc_registered, "ORTHANC", "REGISTERED", query_model="worklist")
    assert result["outcome"] == "no_acceptable_context"
    assert result["presentation_contexts"][0]["result"] == "abstract-syntax-not-supported"


def test_dcmqrscp_queries_need_a_calling_ae_of_its_table():
    peer = real.dcmqrscp()
    try:
        assert find(peer, "QRSCP", "ECHOSCU")["outcome"] == "success"
        refused = find(peer, "QRSCP", "STRANGER")
        assert refused["outcome"] == "association_rejected" and refused["association"]["rejection"]["reason"] == 7
    finally:
        peer.stop()


def test_wlmscpfs_worklist_with_an_entry_returns_no_match_for_a_random_station():
    peer = real.wlmscpfs(worklist=(STORED,))
    try:
        result = find(peer, "WLMSCP", "CT01", query_model="worklist")
        assert result["outcome"] == "success" and result["query"]["matches"] == 0
        assert find(peer, "WLMSCP", "CT01")["outcome"] == "association_rejected"  # no Study Root there
    finally:
        peer.stop()


def test_matches_are_counted_never_kept():
    with FindPeer("leaky", matches=7) as peer:
        result = find(peer, "FINDSCP")
    assert result["outcome"] == "success" and result["query"]["matches"] == 7 and result["query"]["pending"] == 7


def test_a_flood_of_matches_is_cut_off_and_aborted():
    with FindPeer("flood") as peer:
        started = time.monotonic()
        result = find(peer, "FINDSCP")
    assert result["outcome"] == "too_many_matches" and result["query"]["matches"] == 1000
    assert result["association"]["aborted_by"] == "us" and time.monotonic() - started < 20


@pytest.mark.parametrize("status, category", [(0xA700, "refused"), (0x0124, "refused"), (0xC001, "failed")])
def test_failure_statuses_are_classified_and_released(status, category):
    with FindPeer("status", status=status) as peer:
        result = find(peer, "FINDSCP")
    assert result["outcome"] == "find_status" and result["query"]["status"] == status
    assert result["query"]["status_category"] == category and result["association"]["released"]


def test_no_answer_within_dimse_timeout():
    with FindPeer("slow", delay=4) as peer:
        result = find(peer, "FINDSCP", dimse_timeout=1)
    assert result["outcome"] == "dimse_timeout" and "dimse_timeout (1s)" in result["reason"]


def test_a_batch_mixes_models_per_endpoint():
    with FindPeer("normal") as peer:
        requests = build_requests({"endpoints": [{"host": peer.host, "port": peer.port, "name": "study"},
                                                 {"host": peer.host, "port": peer.port, "name": "worklist", "query_model": "worklist"}]},
                                  find=True)
        results = probe_all(requests)
    assert [result["query"]["model"] for result in results] == ["study", "worklist"]
    assert all(result["outcome"] == "success" for result in results)


@pytest.mark.parametrize("params, message", [
    ({"query_model": "series"}, "query_model must be one of study, worklist"),
    ({"endpoints": [{"host": "127.0.0.1", "repeat": 2}]}, "endpoints[0].repeat is not an endpoint option"),
])
def test_bad_query_input_is_refused(params, message):
    with pytest.raises(RequestError) as info:
        build_requests(dict({"host": "127.0.0.1"} if "endpoints" not in params else {}, **params), find=True)
    assert message in str(info.value)


# ---- tls_version -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_peers(tmp_path_factory):
    pki = make_pki(str(tmp_path_factory.mktemp("pki")))
    server = ["+tls", pki["server.key"], pki["server.pem"], "-ic"]
    peers = {"modern": StorescpPeer(server).start(), "legacy": StorescpPeer(server + ["+px"]).start()}
    yield pki, peers
    for peer in peers.values():
        peer.stop()


def _pinned(port, version, pki):
    return probe(build_requests({"host": "127.0.0.1", "port": port, "called_aet": "STORESCP", "tls": True, "verify_peer_cert": False,
                                 "tls_version": version, "ca_files": [pki["ca.pem"]]})[0])


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
def test_tls_version_offers_one_version(tls_peers, version):
    """storescp's default profile (3.6.7: BCP 195 non-downgrading) takes TLS 1.2+, +px (BCP 195) TLS 1.0+."""
    pki, peers = tls_peers
    assert version_problem(version) is None, "this machine's OpenSSL can no longer offer %s: %s" % (version, version_problem(version))
    legacy = _pinned(peers["legacy"].port, version, pki)
    assert legacy["outcome"] == "success" and legacy["tls"]["version"] == version, legacy["msg"]
    modern = _pinned(peers["modern"].port, version, pki)
    if version in ("TLSv1.2", "TLSv1.3"):
        assert modern["outcome"] == "success" and modern["tls"]["version"] == version, modern["msg"]
    else:
        assert modern["outcome"] == "tls_error" and modern["tls"] is None, modern["msg"]


def test_tls_version_cannot_be_combined_with_ciphers(tls_peers):
    pki, _peers = tls_peers
    with pytest.raises(RequestError, match="ciphers cannot be combined with tls_version"):
        build_requests({"host": "127.0.0.1", "tls": True, "tls_version": "TLSv1.2", "ca_files": [pki["ca.pem"]],
                        "ciphers": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]})
