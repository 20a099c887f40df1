# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transfer_syntaxes lookup against in-process pynetdicom acceptors on loopback (IPv4 and IPv6).

The acceptors' supported syntaxes are set by each test, so the expected answer is known by
construction; the real peers (DCMTK storescp, Orthanc) and the independent oracle are the
integration target's business (tests/integration/targets/lookup_transfer_syntaxes).
"""

from __future__ import annotations

import socket
import sys
import time

import pytest

pynetdicom = pytest.importorskip("pynetdicom")

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.loader import lookup_loader  # noqa: E402

from ansible_collections.dicom.network.plugins.module_utils import _engine, _negotiation  # noqa: E402
from ansible_collections.dicom.network.plugins.module_utils._request import OPTIONS  # noqa: E402
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import ECHOSCU_TRANSFER_SYNTAXES  # noqa: E402
from ansible_collections.dicom.network.tests.peers.faulty import FaultyPeer  # noqa: E402

VERIFICATION = "1.2.840.10008.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
IMPLICIT, EXPLICIT, BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"
J2K_LOSSLESS, HTJ2K_LOSSLESS, JPEGXL = "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.112"
PRIVATE_TS = "1.2.826.0.1.3680043.2.1143.107.104.103.115.2.8.4"
ALL53 = [uid for uid, _name, _keyword in ECHOSCU_TRANSFER_SYNTAXES]


def _lookup():
    return lookup_loader.get("dicom.network.transfer_syntaxes")


def query(*terms, variables=None, **options):
    return _lookup().run(list(terms), variables=variables or {}, **options)


@pytest.fixture
def scp():
    """start(contexts, host, title, require_called_aet) -> port of a pynetdicom acceptor, stopped after the test."""
    servers = []

    def start(contexts, host="127.0.0.1", title="SCP", require_called_aet=False):
        ae = pynetdicom.AE(ae_title=title)
        ae.require_called_aet = require_called_aet
        ae.maximum_associations = 32
        for abstract, syntaxes in contexts:
            ae.add_supported_context(abstract, syntaxes)
        server = ae.start_server((host, 0), block=False)
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    module = sys.modules[type(_lookup()).__module__]
    monkeypatch.setattr(module.display, "warning", lambda msg, *args, **kwargs: seen.append(msg))
    return seen


def test_the_lookup_takes_every_association_option_of_the_module():
    """A guard for option rows added to _request.OPTIONS later (the TLS options): the lookup passes them
    through without a code change, but only once its documentation declares them (extend the doc fragment)."""
    per_association = {name for name, spec in OPTIONS.items() if spec.get("endpoint")} - {"host", "repeat", "abort", "log_level"}
    missing = per_association - set(_lookup().option_definitions)
    assert not missing, "add the doc fragment documenting %s to the lookup's extends_documentation_fragment" % ", ".join(sorted(missing))


# ---- discovery ----------------------------------------------------------------------------------
def test_discovers_every_accepted_syntax_for_verification(scp):
    port = scp([(VERIFICATION, [JPEGXL, EXPLICIT, HTJ2K_LOSSLESS, IMPLICIT])])
    assert query("SCP@127.0.0.1:%d" % port) == [[IMPLICIT, EXPLICIT, HTJ2K_LOSSLESS, JPEGXL]]  # in the order asked


def test_a_private_syntax_is_found_when_asked_for(scp):
    port = scp([(CT, [PRIVATE_TS, EXPLICIT])])
    answer = query("127.0.0.1:%d" % port, abstract_syntax="CTImageStorage", transfer_syntaxes=["ExplicitVRLittleEndian", PRIVATE_TS, "JPEG2000"])
    assert answer == [[EXPLICIT, PRIVATE_TS]]


def test_several_abstract_syntaxes_two_associations(scp):
    port = scp([(CT, [IMPLICIT, J2K_LOSSLESS]), (VERIFICATION, [IMPLICIT]), (MR, [EXPLICIT, BIG])])
    answer = query("SCP@127.0.0.1:%d" % port, abstract_syntax=["CTImageStorage", "Verification", "MRImageStorage"], detail=True)[0]
    assert answer["success"] and [assoc["contexts"] for assoc in answer["associations"]] == [128, 31]
    # the second association proposes only the last 31 MR contexts, none of which is accepted: an answer, then an A-ABORT
    assert [(assoc["outcome"], assoc["released"]) for assoc in answer["associations"]] == [("success", True), ("no_acceptable_context", False)]
    plain = {uid: entry["accepted_transfer_syntaxes"] for uid, entry in answer["abstract_syntaxes"].items()}
    assert plain == {CT: [IMPLICIT, J2K_LOSSLESS], VERIFICATION: [IMPLICIT], MR: [EXPLICIT, BIG]}
    assert query("SCP@127.0.0.1:%d" % port, abstract_syntax=["CTImageStorage", "Verification", "MRImageStorage"]) == [plain]
    assert answer["peer"]["implementation_class_uid"] == pynetdicom.PYNETDICOM_IMPLEMENTATION_UID
    assert answer["peer"]["implementation_version_name"] == pynetdicom.PYNETDICOM_IMPLEMENTATION_VERSION
    assert answer["peer"]["max_pdu"] == 16382  # pynetdicom's default maximum PDU


def test_unsupported_sop_class_is_an_empty_answer(scp):
    port = scp([(VERIFICATION, [IMPLICIT])])
    detail = query("127.0.0.1:%d" % port, abstract_syntax="CTImageStorage", detail=True)[0]
    assert detail["success"] and detail["accepted_transfer_syntaxes"] == []
    assert detail["abstract_syntaxes"][CT]["results"] == {"abstract-syntax-not-supported": 53}
    assert detail["associations"][0]["outcome"] == "no_acceptable_context"
    assert query("127.0.0.1:%d" % port, abstract_syntax="CTImageStorage") == [[]]


def test_contexts_per_association(scp):
    port = scp([(VERIFICATION, [IMPLICIT, JPEGXL])])
    detail = query("127.0.0.1:%d" % port, contexts_per_association=10, detail=True)[0]
    assert [assoc["contexts"] for assoc in detail["associations"]] == [10, 10, 10, 10, 10, 3]
    assert detail["accepted_transfer_syntaxes"] == [IMPLICIT, JPEGXL]


def test_detail_names_every_context(scp):
    port = scp([(VERIFICATION, [IMPLICIT, J2K_LOSSLESS])])
    detail = query("127.0.0.1:%d" % port, transfer_syntaxes=["JPEG2000Lossless", "JPEG2000", "ImplicitVRLittleEndian"], detail=True)[0]
    assert detail["name"] == "ANY-SCP@127.0.0.1:%d" % port
    assert detail["endpoint"]["address"] == "127.0.0.1" and detail["endpoint"]["calling_aet"] == "ECHOSCU"
    assert [(ctx["id"], ctx["proposed_transfer_syntaxes"], ctx["result"], ctx["transfer_syntax"]) for ctx in detail["presentation_contexts"]] == [
        (1, [J2K_LOSSLESS], "acceptance", J2K_LOSSLESS), (3, ["1.2.840.10008.1.2.4.91"], "transfer-syntaxes-not-supported", None),
        (5, [IMPLICIT], "acceptance", IMPLICIT)]
    assert detail["presentation_contexts"][0]["transfer_syntax_name"] == "JPEG 2000 Image Compression (Lossless Only)"
    assert detail["abstract_syntaxes"][VERIFICATION]["name"] == "Verification SOP Class"
    assert detail["msg"] == "ANY-SCP@127.0.0.1:%d accepts 2 of 3 proposed transfer syntaxes for Verification SOP Class (1 association)" % port


def test_echoscu_mode(scp):
    port = scp([(VERIFICATION, [BIG, EXPLICIT])])
    assert query("127.0.0.1:%d" % port, mode="echoscu") == [[]]  # -pts 1: Implicit only, not supported
    detail = query("127.0.0.1:%d" % port, mode="echoscu", propose_ts=3, propose_pc=2, detail=True)[0]
    assert [ctx["proposed_transfer_syntaxes"] for ctx in detail["presentation_contexts"]] == [[IMPLICIT, EXPLICIT, BIG]] * 2
    chosen = {ctx["transfer_syntax"] for ctx in detail["presentation_contexts"]}
    assert len(chosen) == 1 and chosen <= {EXPLICIT, BIG}  # the acceptor picks one: its choice, not ours
    assert detail["accepted_transfer_syntaxes"] == list(chosen)


# ---- terms --------------------------------------------------------------------------------------
def test_ipv6_terms(scp):
    port = scp([(VERIFICATION, [EXPLICIT])], host="::1", title="V6SCP", require_called_aet=True)
    assert query("V6SCP@[::1]:%d" % port) == [[EXPLICIT]]
    assert query("::1", port=port, called_aet="V6SCP") == [[EXPLICIT]]
    detail = query({"host": "::1", "port": port, "called_aet": "V6SCP"}, detail=True)[0]
    assert detail["name"] == "V6SCP@[::1]:%d" % port and detail["endpoint"]["address"] == "::1"


def test_dict_terms_with_overrides_and_a_list_of_them(scp):
    port = scp([(CT, [J2K_LOSSLESS]), (VERIFICATION, [IMPLICIT])], title="ARCHIVE", require_called_aet=True)
    endpoints = [
        {"host": "127.0.0.1", "port": port, "called_aet": "ARCHIVE", "abstract_syntax": "CTImageStorage", "name": "archive-ct"},
        {"peer": "127.0.0.1", "port": port, "call": "ARCHIVE", "transfer_syntaxes": ["ImplicitVRLittleEndian", "JPEG2000Lossless"]},
    ]
    assert query(endpoints) == [[J2K_LOSSLESS], [IMPLICIT]]
    assert query(endpoints, detail=True)[0]["name"] == "archive-ct"


def test_many_terms_one_event_loop(scp):
    port = scp([(VERIFICATION, [IMPLICIT, EXPLICIT])])
    assert query(*["127.0.0.1:%d" % port] * 12, concurrency=4) == [[IMPLICIT, EXPLICIT]] * 12


def test_terms_are_negotiated_concurrently():
    """Three silent peers (a listening socket nobody accepts from: the handshake completes, no answer
    ever comes): each term waits acse_timeout=1, together they take about one second, not three."""
    silent = []
    try:
        for _index in range(3):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)
            silent.append(sock)
        started = time.monotonic()
        answer = query(*["127.0.0.1:%d" % sock.getsockname()[1] for sock in silent], acse_timeout=1, on_error="ignore", detail=True)
        took = time.monotonic() - started
    finally:
        for sock in silent:
            sock.close()
    assert [entry["outcome"] for entry in answer] == ["acse_timeout"] * 3
    assert 0.9 < took < 1.8


# ---- failures -----------------------------------------------------------------------------------
def test_closed_port_names_the_endpoint_and_the_outcome(closed_port):
    with pytest.raises(AnsibleLookupError) as info:
        query("PACS@127.0.0.1:%d" % closed_port)
    message = str(info.value)
    assert "1 of 1 peers could not be asked" in message
    assert "PACS@127.0.0.1:%d: TCP connect to 127.0.0.1 port %d: Connection refused (connection_refused)" % (closed_port, closed_port) in message


def test_rejected_called_aet(scp):
    port = scp([(VERIFICATION, [IMPLICIT])], title="RIGHT", require_called_aet=True)
    expected = r"WRONG@127\.0\.0\.1:%d: association rejected .*Called AE Title Not Recogni[sz]ed \(association_rejected\)" % port
    with pytest.raises(AnsibleLookupError, match=expected):
        query("WRONG@127.0.0.1:%d" % port)
    detail = query("WRONG@127.0.0.1:%d" % port, on_error="ignore", detail=True)[0]
    assert detail["success"] is False and detail["outcome"] == "association_rejected"
    assert (detail["rejection"]["result"], detail["rejection"]["source"], detail["rejection"]["reason"]) == (1, 1, 7)


def test_every_failure_is_named_and_the_others_still_answer(scp, closed_port, warnings):
    port = scp([(VERIFICATION, [IMPLICIT])], title="RIGHT", require_called_aet=True)
    terms = ["RIGHT@127.0.0.1:%d" % port, "WRONG@127.0.0.1:%d" % port, "127.0.0.1:%d" % closed_port]
    with pytest.raises(AnsibleLookupError, match=r"2 of 3 peers could not be asked: .*association_rejected.*; .*connection_refused"):
        query(*terms)
    assert query(*terms, on_error="warn") == [[IMPLICIT], None, None]
    assert len(warnings) == 2 and "association_rejected" in warnings[0] and "connection_refused" in warnings[1]
    del warnings[:]
    assert query(*terms, on_error="ignore") == [[IMPLICIT], None, None]
    assert warnings == []


def test_a_peer_that_never_answers_the_release_still_answered_the_question(warnings):
    with FaultyPeer("no_release_reply") as peer:
        started = time.monotonic()
        detail = query("127.0.0.1:%d" % peer.port, acse_timeout=1, detail=True)[0]
        took = time.monotonic() - started
    assert detail["success"] and detail["accepted_transfer_syntaxes"] == [IMPLICIT, EXPLICIT]
    assert detail["associations"][0]["outcome"] == "release_failed" and took < 2.5
    assert len(warnings) == 1 and "answered, but" in warnings[0] and "no A-RELEASE-RP within acse_timeout (1s)" in warnings[0]


def test_aborting_and_silent_peers_are_classified(closed_port):
    with FaultyPeer("abort_assoc") as aborting, FaultyPeer("silent") as silent, FaultyPeer("garbage") as garbage:
        answer = query(*["127.0.0.1:%d" % peer.port for peer in (aborting, silent, garbage)], acse_timeout=1, on_error="ignore", detail=True)
    assert [entry["outcome"] for entry in answer] == ["peer_aborted", "acse_timeout", "protocol_error"]
    assert [entry["accepted_transfer_syntaxes"] for entry in answer] == [[], [], []]


def test_unknown_keyword_fails_before_any_traffic(monkeypatch, closed_port):
    def no_network(*_args, **_kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(_engine, "probe_async", no_network)
    expected = "abstract_syntax: 'CTImageStorag' is neither a UID nor a known DICOM keyword or name; did you mean CTImageStorage"
    with pytest.raises(AnsibleLookupError, match=expected):
        query("127.0.0.1:%d" % closed_port, abstract_syntax="CTImageStorag")
    with pytest.raises(AnsibleLookupError, match=r"transfer_syntaxes\[1\]: CTImageStorage \(CT Image Storage\) is a SOP Class, not a transfer syntax"):
        query("127.0.0.1:%d" % closed_port, transfer_syntaxes=["JPEG2000", "CTImageStorage"])
    with pytest.raises(AnsibleLookupError, match=r"term 2 \(ANY-SCP@h:0\): port must be 1\.\.65535, got 0"):
        query("127.0.0.1:%d" % closed_port, "h:0")
    with pytest.raises(AnsibleLookupError, match=r"term 1 \(X@h:104\): called_aet 'X\\\\Y'|called_aet .* contains a backslash"):
        query({"host": "h", "called_aet": "X\\Y"})
    with pytest.raises(AnsibleLookupError, match=r"term 1 \(ARCHIVE@\[fd00::5\]:0\): port must be"):
        query({"host": "[fd00::5]", "port": 0, "called_aet": "ARCHIVE"})
    with pytest.raises(AnsibleLookupError, match=r"concurrency must be 1\.\.1024, got 0"):
        query("h", concurrency=0)
    with pytest.raises(AnsibleLookupError, match="propose_ts and propose_pc shape mode=echoscu"):
        query("h", propose_ts=3)
    with pytest.raises(AnsibleLookupError, match="needs at least one peer"):
        query()


def test_sop_class_keywords_without_pydicom_say_so_before_any_traffic(monkeypatch, closed_port):
    reached = []

    def no_network(*_args, **_kwargs):
        reached.append(True)
        raise AssertionError("the network was used")

    monkeypatch.setattr(_engine, "probe_async", no_network)
    monkeypatch.setitem(sys.modules, "pydicom", None)
    monkeypatch.setitem(sys.modules, "pydicom.uid", None)
    # monkeypatch restores both afterwards: the index and the reason it was built without pydicom belong together.
    monkeypatch.setattr(_negotiation, "_INDEX", None)
    monkeypatch.setattr(_negotiation, "_PYDICOM_ERROR", None)
    with pytest.raises(AnsibleLookupError) as info:
        query("127.0.0.1:%d" % closed_port, abstract_syntax="CTImageStorage")
    assert "abstract_syntax: 'CTImageStorage' is not a name known without pydicom: resolving SOP class names and keywords needs " \
           "pydicom on the controller, and this Python (%s) cannot import it" % sys.executable in str(info.value)
    assert "UIDs work without pydicom" in str(info.value) and "neither a UID nor" not in str(info.value)
    with pytest.raises(AnsibleLookupError, match=r"term 1 \(ANY-SCP@h:104\): abstract_syntax: 'MRImageStorage' is not a name known without"):
        query({"host": "h", "abstract_syntax": "MRImageStorage"})
    # what needs no pydicom still gets as far as the network: the default Verification, transfer syntax keywords, UIDs
    assert not reached
    for options in ({}, {"abstract_syntax": CT, "transfer_syntaxes": ["JPEG2000Lossless", "Explicit VR Little Endian"]}):
        with pytest.raises((AssertionError, AnsibleLookupError)):
            query("127.0.0.1:%d" % closed_port, **options)
    assert reached == [True, True]


def test_tls_without_cryptography_names_the_library_before_any_traffic(monkeypatch, closed_port):
    from ansible_collections.dicom.network.plugins.module_utils import _tls_crypto  # pylint: disable=import-outside-toplevel

    def no_network(*_args, **_kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(_engine, "probe_async", no_network)
    monkeypatch.setattr(_tls_crypto, "CRYPTOGRAPHY_IMPORT_ERROR", "Traceback ...\nModuleNotFoundError: No module named 'cryptography'")
    with pytest.raises(AnsibleLookupError, match=r"tls needs the Python library cryptography, which this Python cannot import "
                                                 r"\(ModuleNotFoundError: No module named 'cryptography'\)"):
        query("127.0.0.1:%d" % closed_port, tls=True)


def test_unknown_options_are_refused():
    with pytest.raises(AnsibleLookupError, match="unknown option calld_aet"):
        query("h", calld_aet="X")


# ---- where options come from --------------------------------------------------------------------
def test_variables_and_direct_arguments(scp):
    port = scp([(VERIFICATION, [IMPLICIT])])
    variables = {"ansible_dicom_calling_aet": "FROMVARS", "ansible_dicom_port": port}
    assert query("127.0.0.1", variables=variables, detail=True)[0]["endpoint"]["calling_aet"] == "FROMVARS"
    assert query("127.0.0.1", variables=variables, calling_aet="DIRECT", detail=True)[0]["endpoint"]["calling_aet"] == "DIRECT"
    assert query("127.0.0.1", variables=variables, aetitle="ALIAS", detail=True)[0]["endpoint"]["calling_aet"] == "ALIAS"


def test_environment(scp, monkeypatch):
    port = scp([(VERIFICATION, [IMPLICIT])])
    monkeypatch.setenv("ANSIBLE_DICOM_CALLING_AET", "FROMENV")
    assert query("127.0.0.1:%d" % port, detail=True)[0]["endpoint"]["calling_aet"] == "FROMENV"


def test_tls_options_reach_the_peer(tmp_path):
    """The lookup negotiates over TLS with the module's TLS options (doc fragment dicom.network.tls)."""
    from ansible_collections.dicom.network.tests.peers.tls_peers import StorescpPeer  # pylint: disable=import-outside-toplevel
    from ansible_collections.dicom.network.tests.peers.tls_pki import make_pki  # pylint: disable=import-outside-toplevel

    pki = make_pki(str(tmp_path / "pki"))
    with StorescpPeer(["+tls", pki["server.key"], pki["server.pem"], "-ic", "+xi"], cwd=str(tmp_path)) as peer:
        term = "127.0.0.1:%d" % peer.port
        assert query(term, tls=True, ca_files=[pki["ca.pem"]], transfer_syntaxes=[IMPLICIT, EXPLICIT]) == [[IMPLICIT]]
        with pytest.raises(AnsibleLookupError, match="tls_error"):
            query(term, tls=True, transfer_syntaxes=[IMPLICIT])  # no trust anchor: the server certificate does not verify
        with pytest.raises(AnsibleLookupError):
            query(term, transfer_syntaxes=[IMPLICIT], acse_timeout=2, socket_timeout=2)  # plain TCP to a TLS port
