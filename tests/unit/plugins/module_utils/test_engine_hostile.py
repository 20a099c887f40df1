# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile peers against the real engine over loopback (issue 9, defects 7, 8, 9 and 11).

Each peer plays fixed bytes (tests/peers/scripted.py). The bounds asserted are those of docs/dev/timeouts.md:
a message must begin within its deadline and be complete socket_timeout after that deadline. What DCMTK's
echoscu does with the same bytes is asserted in the integration target engine_dcmtk_peers
(test_engine_hostile_echoscu.py), beside the other suites that need DCMTK.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
import threading
import time

import pytest

from ansible_collections.dicom.network.plugins.module_utils._engine import probe, probe_all_async
from ansible_collections.dicom.network.plugins.module_utils._request import build_requests
from ansible_collections.dicom.network.tests.peers import dul
from ansible_collections.dicom.network.tests.peers.faulty import FaultyPeer
from ansible_collections.dicom.network.tests.peers.hostile import (
    AC, EMPTY_P_DATA_EVERY_SECOND, EMPTY_PDVS, GIGABYTE, ITEMS, RP, RSP, TRICKLE, TRICKLE_GAP, never_ending, script)
from ansible_collections.dicom.network.tests.peers.scripted import Play, ScriptedPeer
from ansible_collections.dicom.network.tests.peers.tls_peers import TLSFront
from ansible_collections.dicom.network.tests.peers.tls_pki import make_pki


def request(port, **params):
    params.setdefault("log_level", "info")
    return build_requests(dict(host="127.0.0.1", port=port, **params))[0]


def ours(port, **params):
    started = time.monotonic()
    result = probe(request(port, **params))
    return result, time.monotonic() - started


# ---- defect 7: socket_timeout bounds each wait, not a whole PDU ---------------------------------


def test_a_steady_trickle_succeeds():
    # one byte every 15 ms, every message: the AC (~180 bytes) takes about 2.7 s with socket_timeout 1
    with ScriptedPeer(lambda _called_aet: TRICKLE) as peer:
        result, took = ours(peer.port, socket_timeout=1)
    assert result["outcome"] == "success", result["msg"]
    assert took > len(AC + RSP + RP) * TRICKLE_GAP * 0.9  # the trickle really was slow


# ---- defect 8: nothing holds a probe beyond its bounds -----------------------------------------
def test_an_empty_p_data_tf_every_second_fails_at_the_first():
    # without dimse_timeout (socket_timeout 60, the default): the first empty P-DATA-TF ends the probe
    with ScriptedPeer(lambda _called_aet: EMPTY_P_DATA_EVERY_SECOND) as peer:
        result, took = ours(peer.port)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("protocol_error", 70)
    assert "PDU without any PDVs" in result["msg"]
    assert took < 3


@pytest.mark.parametrize("params, bound, exit_code", [
    # echoscu reads such a stream for as long as it lasts; when it stops, -ts 1 ends it with exit 0 and -td with 70
    ({"socket_timeout": 1}, 2, 0),                      # blocking: due within socket_timeout, complete 1 s later
    ({"socket_timeout": 1, "dimse_timeout": 2}, 3, 70),  # non-blocking: due within dimse_timeout, complete 1 s later
])
def test_a_never_ending_fragment_stream_ends_at_the_completion_bound(params, bound, exit_code):
    with ScriptedPeer(lambda _called_aet: never_ending()) as peer:
        result, took = ours(peer.port, **params)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("dimse_timeout", exit_code)
    assert "not complete" in result["msg"]
    assert bound - 0.2 < took < bound + 1.0


def test_a_never_ending_association_answer_ends_at_the_completion_bound():
    # an AC announcing 60000 bytes that come one every 0.2 s: acse_timeout 1 + socket_timeout 1
    header = struct.pack(">BBI", dul.A_ASSOCIATE_AC, 0, 60000)
    assoc = Play([(0.0, header)], then="hold", interval=0.2, stream=b"\0", duration=15)
    with ScriptedPeer(lambda _called_aet: script(assoc=assoc)) as peer:
        result, took = ours(peer.port, acse_timeout=1, socket_timeout=1)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("acse_timeout", 1)
    assert "not complete" in result["msg"]
    assert 1.8 < took < 3.0


# ---- defect 9: over TLS, a partial answer and a close is a peer abort --------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(str(tmp_path_factory.mktemp("pki")))


def _tls_partial_then_reset(pki, partial):
    """A TLS server that reads the request, sends ``partial`` and closes the socket without a TLS close_notify."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["server.pem"], pki["server.key"])
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        connection, _address = listener.accept()
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.settimeout(10)
                tls.recv(65536)
                tls.sendall(partial)
        except (OSError, ssl.SSLError):
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


@pytest.mark.parametrize("cut", [3, 20])
def test_a_partial_association_answer_then_close_is_peer_aborted_over_tls_as_in_plain_tcp(pki, cut):
    tls = {"tls": True, "ca_files": [pki["ca.pem"]]}
    with ScriptedPeer(lambda _called_aet: script(assoc=Play([(0.0, AC[:cut])], then="close"))) as backend:
        plain, _took = ours(backend.port)
        with TLSFront(backend.port, pki["server.pem"], pki["server.key"]) as front:  # closes with a TLS close_notify
            relayed, _took = ours(front.port, **tls)
    listener, thread = _tls_partial_then_reset(pki, AC[:cut])  # closes the TCP connection under TLS
    try:
        reset, _took = ours(listener.getsockname()[1], **tls)
    finally:
        listener.close()
        thread.join(10)
    for result in (plain, relayed, reset):
        assert (result["outcome"], result["echoscu_exit_code"]) == ("peer_aborted", 1), result["msg"]
        assert result["log"][-1] == "F: Association Request Failed: 0006:0317 Peer aborted Association (or never connected)"


# ---- defect 11: one hostile endpoint cannot starve the others ----------------------------------
HOSTILE = {"empty_pdvs": EMPTY_PDVS, "items": ITEMS, "gigabyte": GIGABYTE}


def test_hostile_endpoints_do_not_starve_healthy_ones():
    # Starving shows as event-loop lag: a heartbeat in the batch's own loop must never wait long, whatever the
    # hostile peers send (decoding 4 MiB of empty PDVs took a second of CPU before the bounds, 500,000 items 3-4 s).
    # The lag is counted in the loop thread's own CPU time, so a busy machine descheduling us is not taken for it.
    endpoints = []

    async def batch(requests):
        gaps, stop = [], asyncio.Event()

        async def heartbeat():
            last = time.thread_time()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.thread_time()
                gaps.append(now - last)
                last = now
        beat = asyncio.ensure_future(heartbeat())
        try:
            return await probe_all_async(requests, concurrency=64), max(gaps)
        finally:
            stop.set()
            await beat

    with FaultyPeer("normal") as healthy, ScriptedPeer(lambda called_aet: HOSTILE[called_aet.lower()]) as hostile:
        endpoints = [{"host": "127.0.0.1", "port": healthy.port, "name": "ok%03d" % index} for index in range(300)]
        for index, kind in enumerate(HOSTILE):  # among the first probes, as the issue measured it
            endpoints.insert(20 * index, {"host": "127.0.0.1", "port": hostile.port, "called_aet": kind.upper(), "name": kind})
        results, lag = asyncio.run(batch(build_requests({"endpoints": endpoints, "socket_timeout": 5, "acse_timeout": 5})))
    assert lag < 0.25, "the event loop spent %.2f s of CPU between two heartbeats" % lag
    by_name = {result["endpoint"]["called_aet"]: result for result in results if result["endpoint"]["port"] == hostile.port}
    assert sorted(by_name) == sorted(kind.upper() for kind in HOSTILE)
    for kind, result in by_name.items():
        assert (result["outcome"], result["echoscu_exit_code"]) == ("protocol_error", 1 if kind == "ITEMS" else 70), result["msg"]
        assert result["timing_ms"]["total"] < 5000, (kind, result["timing_ms"])  # within its deadlines (socket_timeout 5)
    assert [result["outcome"] for result in results if result["endpoint"]["port"] == healthy.port] == ["success"] * 300
