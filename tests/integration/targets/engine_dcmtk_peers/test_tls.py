# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS end to end: a throwaway PKI, DCMTK storescp +tls peers on loopback, Debian's echoscu as the oracle.

Every TLS option of the module against real peers (docs/dev/echoscu-behaviour.md 4): authenticated and
anonymous TLS, passwords, DER, trust files and hashed directories, CRLs, profiles and ciphers, SNI, seeds,
and every failure of issue 3, each within a bounded time.
"""

from __future__ import annotations

import os
import ssl
import stat
import tempfile
import time

import pytest

from ansible_collections.dicom.network.plugins.module_utils import _tls_context, _tls_handshake, _tls_offline
from ansible_collections.dicom.network.plugins.module_utils._engine import probe, probe_all
from ansible_collections.dicom.network.plugins.module_utils._request import RequestError, build_requests
from ansible_collections.dicom.network.tests.peers.tls_peers import ECHOSCU, STORESCP, StorescpPeer, TLSFront, echoscu, silent_listener
from ansible_collections.dicom.network.tests.peers.tls_pki import PASSWORD, make_pki

REFUSED = "right after the TLS handshake"
if not (STORESCP and ECHOSCU):  # fail loudly: a skipped TLS suite would prove nothing in CI
    pytest.fail("DCMTK storescp/echoscu not installed (make test installs Debian's dcmtk)", pytrace=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(str(tmp_path_factory.mktemp("pki")))


class LazyPeers:
    """The peers by name, each started on first use: under ansible-test units every test runs in its own
    fork, so a test starts only the peers it talks to (they end with the fork, see tls_peers)."""

    def __init__(self, pki, workdir):
        server = ["+tls", pki["server.key"], pki["server.pem"]]
        self.specs = {
            "require_cert": server + ["+cf", pki["ca.pem"]],           # -rc (default): a client certificate from the CA
            "crl": server + ["+cf", pki["ca.pem"], "+crl", pki["ca.crl.pem"]],
            "anonymous": server + ["-ic"],                             # any client, with or without certificate
            "plain": [],
            "bcp195": server + ["-ic", "+px"],
            "bcp195_ex": server + ["-ic", "+pz"],
            "aes": server + ["-ic", "+pa"],
            "null": server + ["-ic", "+pn"],
            "weak": ["+tls", pki["server1024.key"], pki["server1024.pem"], "-ic"],
            "eku_client": ["+tls", pki["srv_ekuclient.key"], pki["srv_ekuclient.pem"], "-ic"],
        }
        self.pki = pki
        self.workdir = workdir
        self.running = {}
        self.front = None

    def __getitem__(self, name):
        if name in ("tls13_only", "front"):
            if self.front is None:  # a TLS 1.3-only server that records SNI, in front of a plain storescp
                self.front = TLSFront(self["plain"], self.pki["server.pem"], self.pki["server.key"], minimum=ssl.TLSVersion.TLSv1_3).start()
            return self.front if name == "front" else self.front.port
        if name not in self.running:
            self.running[name] = StorescpPeer(self.specs[name], cwd=self.workdir).start()
        return self.running[name].port

    def stop(self):
        for peer in self.running.values():
            peer.stop()
        if self.front is not None:
            self.front.stop()


@pytest.fixture(scope="module")
def peers(pki, tmp_path_factory):
    running = LazyPeers(pki, str(tmp_path_factory.mktemp("storescp")))
    try:
        yield running
    finally:
        running.stop()


def echo(port, **params):
    params.setdefault("host", "127.0.0.1")
    params.setdefault("log_level", "info")
    params.setdefault("acse_timeout", 5)
    params.setdefault("socket_timeout", 5)
    request = build_requests(dict(port=port, **params))[0]
    started = time.monotonic()
    result = probe(request)
    return result, time.monotonic() - started


def oracle(*args):
    code, _err = echoscu(["-to", 5, "-ta", 5] + list(args))
    return code


def auth(pki, key="client.key", cert="client.pem", **extra):
    values = {"tls": True, "private_key": pki[key], "certificate": pki[cert], "ca_files": [pki["ca.pem"]]}
    values.update(extra)
    return values


# ---- authenticated and anonymous TLS, against echoscu ----------------------------------------------

def test_authenticated_tls_succeeds_like_echoscu(pki, peers):
    result, took = echo(peers["require_cert"], **auth(pki))
    assert result["outcome"] == "success", result["msg"]
    assert oracle("+tls", pki["client.key"], pki["client.pem"], "+cf", pki["ca.pem"], "127.0.0.1", peers["require_cert"]) == 0
    tls = result["tls"]
    assert tls["version"] == "TLSv1.3" and tls["cipher"].startswith("TLS_")
    assert tls["client_certificate"] is True and tls["peer_verified"] is True and tls["profile"] == "8996"
    cert = tls["peer_certificate"]
    assert cert["subject"] == "CN=localhost" and cert["issuer"] == "CN=Test Root CA"
    assert cert["key_type"] == "RSA" and cert["key_bits"] == 2048
    assert 820 <= cert["days_remaining"] <= 825
    assert len(cert["sha256_fingerprint"].split(":")) == 32
    assert result["timing_ms"]["tls_handshake"] is not None and result["timing_ms"]["tls_handshake"] < 1000
    assert took < 3


def test_anonymous_tls(pki, peers):
    result, _took = echo(peers["anonymous"], tls=True, ca_files=[pki["ca.pem"]])
    assert result["outcome"] == "success"
    assert result["tls"]["client_certificate"] is False
    assert oracle("+tla", "+cf", pki["ca.pem"], "127.0.0.1", peers["anonymous"]) == 0


def test_debug_transcript_has_the_tls_details_block(pki, peers):
    result, _took = echo(peers["anonymous"], tls=True, ca_files=[pki["ca.pem"]], log_level="debug")
    log = result["log"]
    begin = log.index("D: ================== BEGIN TLS CONNECTION DETAILS =================")
    block = log[begin:begin + 11]
    assert block[1] == "D: Transport connection: TLS over TCP/IP"
    assert block[2] == "D:   Protocol    : TLSv1.3"
    assert block[3].startswith("D:   Ciphersuite : TLS_") and block[3].endswith(" bits")
    assert block[4] == "D: Peer X.509v3 Certificate"
    assert block[5] == "D:   Subject     : /CN=localhost"
    assert block[6] == "D:   Issued by   : /CN=Test Root CA"
    assert block[8].startswith("D:   Validity    : not before ") and block[8].endswith(" GMT")
    assert block[9] == "D:   Public key  : RSA, 2048 bits"
    assert block[10] == "D: =================== END TLS CONNECTION DETAILS =================="
    assert log.index("D: Association Parameters Negotiated:") > begin


@pytest.mark.parametrize("key, cert, alert", [
    ("rogue.key", "rogue.pem", "unknown ca"),
    ("expired.key", "expired.pem", "certificate expired"),
])
def test_rogue_and_expired_clients_are_refused(pki, peers, key, cert, alert):
    result, took = echo(peers["require_cert"], **auth(pki, key, cert))
    assert (result["outcome"], result["echoscu_exit_code"], result["success"]) == ("tls_error", 1, False)
    # TLS 1.3: the peer's verdict on our certificate comes after our side of the handshake, as an alert, or
    # as a reset that discards the alert (what echoscu 3.6.7 reports as a TCP I/O error)
    assert alert in result["msg"] or REFUSED in result["msg"]
    assert result["log"][-1].startswith("F: Association Request Failed: ")
    assert oracle("+tls", pki[key], pki[cert], "+cf", pki["ca.pem"], "127.0.0.1", peers["require_cert"]) == 1
    assert took < 3


def test_revoked_client_is_refused_by_a_crl_checking_peer(pki, peers):
    result, _took = echo(peers["crl"], **auth(pki, "revoked.key", "revoked.pem"))
    assert result["outcome"] == "tls_error" and ("revoked" in result["msg"] or REFUSED in result["msg"])
    assert oracle("+tls", pki["revoked.key"], pki["revoked.pem"], "+cf", pki["ca.pem"], "127.0.0.1", peers["crl"]) == 1
    good, _took = echo(peers["crl"], **auth(pki))
    assert good["outcome"] == "success"


def test_anonymous_client_against_a_peer_requiring_a_certificate(pki, peers):
    result, took = echo(peers["require_cert"], tls=True, ca_files=[pki["ca.pem"]])
    assert (result["outcome"], result["echoscu_exit_code"]) == ("tls_error", 1)
    assert "certificate required" in result["msg"] and "set private_key and certificate" in result["msg"] or REFUSED in result["msg"]
    assert oracle("+tla", "+cf", pki["ca.pem"], "127.0.0.1", peers["require_cert"]) == 1
    assert took < 3


# ---- the server's certificate: trust files, hashed directories, CRLs, verify_peer_cert --------------

@pytest.mark.parametrize("params, echoscu_args, expected, text", [
    ({}, [], "tls_error", "no ca_files or ca_dirs are given"),
    ({"verify_peer_cert": False}, ["-ic"], "success", None),
    ({"ca_files": ["rogue_ca.pem"]}, ["+cf", "rogue_ca.pem"], "tls_error", "unable to get local issuer certificate"),
    ({"ca_dirs": ["cadir_hashed"]}, ["+cd", "cadir_hashed"], "success", None),
    ({"ca_dirs": ["cadir_plain"]}, ["+cd", "cadir_plain"], "tls_error", "openssl rehash"),
    ({"ca_files": ["ca.pem"], "crl_files": ["ca_srvrevoked.crl.pem"]}, ["+cf", "ca.pem", "+crl", "ca_srvrevoked.crl.pem"],
     "tls_error", "certificate revoked"),
    ({"ca_files": ["ca.pem"], "crl_files": ["ca_empty.crl.pem"]}, ["+cf", "ca.pem", "+crl", "ca_empty.crl.pem"], "success", None),
    ({"ca_files": ["ca.pem"], "crl_check": "leaf"}, ["+cf", "ca.pem", "+crv"], "tls_error", "unable to get certificate CRL"),
    ({"ca_files": ["ca.pem"], "crl_files": ["ca_empty.crl.pem"], "crl_check": "chain"}, ["+cf", "ca.pem", "+crl", "ca_empty.crl.pem", "+cra"],
     "success", None),
    ({"ca_files": ["ca.pem"], "crl_files": ["ca_srvrevoked.crl.pem"], "verify_peer_cert": False},
     ["+cf", "ca.pem", "+crl", "ca_srvrevoked.crl.pem", "-ic"], "success", None),
    ({"ca_files": ["ca.der"], "key_format": "der"}, ["-der", "+cf", "ca.der"], "success", None),
])
def test_server_verification_matches_echoscu(pki, peers, params, echoscu_args, expected, text):
    values = {"tls": True}
    for name, value in params.items():
        values[name] = [pki.get(item, item) for item in value] if isinstance(value, list) else value
    result, took = echo(peers["anonymous"], **values)
    assert result["outcome"] == expected, result["msg"]
    if text:
        assert text in result["msg"]
        assert result["log"][-1] == "F: Association Request Failed: 000b:0886 TLS error: certificate verify failed"
    code = oracle("+tla", *[pki.get(arg, arg) for arg in echoscu_args], "127.0.0.1", peers["anonymous"])
    assert code == (0 if expected == "success" else 1)
    assert took < 3


def test_server_certificate_without_server_purpose_is_refused(pki, peers):
    result, _took = echo(peers["eku_client"], tls=True, ca_files=[pki["ca.pem"]])
    assert result["outcome"] == "tls_error" and "unsuitable certificate purpose" in result["msg"]
    assert oracle("+tla", "+cf", pki["ca.pem"], "127.0.0.1", peers["eku_client"]) == 1


# ---- keys, passwords, DER ----------------------------------------------------------------------------

def test_encrypted_key_with_password(pki, peers):
    result, _took = echo(peers["require_cert"], **auth(pki, "client_enc.key", private_key_password=PASSWORD))
    assert result["outcome"] == "success"
    assert PASSWORD not in repr(result)
    assert oracle("+tls", pki["client_enc.key"], pki["client.pem"], "+pw", PASSWORD, "+cf", pki["ca.pem"], "127.0.0.1",
                  peers["require_cert"]) == 0


def test_encrypted_key_with_a_wrong_password_fails_before_any_traffic(pki, peers):
    with pytest.raises(RequestError, match="Unable to load private TLS key from .*wrong private_key_password"):
        build_requests(dict(host="127.0.0.1", port=peers["require_cert"], **auth(pki, "client_enc.key", private_key_password="wrong")))
    assert oracle("+tls", pki["client_enc.key"], pki["client.pem"], "+pw", "wrong", "+cf", pki["ca.pem"], "127.0.0.1",
                  peers["require_cert"]) == 1


def test_encrypted_key_without_password_is_a_clear_error_never_a_prompt(pki):
    started = time.monotonic()
    with pytest.raises(RequestError, match="is encrypted and private_key_password is not set"):
        build_requests(dict(host="127.0.0.1", **auth(pki, "client_enc.key")))
    assert time.monotonic() - started < 2


def test_empty_password_is_echoscu_null_password(pki):
    with pytest.raises(RequestError, match="wrong private_key_password"):
        build_requests(dict(host="127.0.0.1", **auth(pki, "client_enc.key", private_key_password="")))
    build_requests(dict(host="127.0.0.1", **auth(pki, private_key_password="")))  # ignored for an unencrypted key, as echoscu


def test_der_key_and_certificate(pki, peers):
    values = {"tls": True, "key_format": "der", "private_key": pki["client.key.der"], "certificate": pki["client.der"],
              "ca_files": [pki["ca.der"]]}
    before = set(os.listdir(tempfile.gettempdir()))
    result, _took = echo(peers["require_cert"], **values)
    assert result["outcome"] == "success"
    leftovers = [name for name in set(os.listdir(tempfile.gettempdir())) - before if name.startswith("dicom_tls_")]
    assert leftovers == []
    assert oracle("-der", "+tls", pki["client.key.der"], pki["client.der"], "+cf", pki["ca.der"], "127.0.0.1", peers["require_cert"]) == 0


def test_temporary_file_for_der_is_private(pki, monkeypatch):
    modes = []
    original = _tls_context._TempFiles.write

    def spy(self, data):
        path = original(self, data)
        modes.append(stat.S_IMODE(os.stat(path).st_mode))
        return path

    monkeypatch.setattr(_tls_context._TempFiles, "write", spy)
    build_requests(dict(host="127.0.0.1", tls=True, key_format="der", private_key=pki["client.key.der"], certificate=pki["client.der"]))
    assert modes == [0o600]


@pytest.mark.parametrize("params, message", [
    ({"key_format": "der", "private_key": "client_enc.key.der", "certificate": "client.der"}, "encrypted DER key"),
    ({"private_key": "server.key", "certificate": "client.pem"}, "do not match"),
    ({"private_key": "client.key", "certificate": "nonexistent.pem"}, "certificate .*nonexistent.pem does not exist"),
    ({"private_key": "client.key"}, "private_key requires certificate"),
    ({"certificate": "client.pem"}, "certificate requires private_key"),
    ({"private_key_password": "x"}, "private_key_password only applies with private_key"),
    ({"private_key": "client.key.der", "certificate": "client.pem"}, "not a PEM private key; set key_format: der"),
    ({"ca_files": ["nonexistent.pem"]}, r"ca_files\[0\] .*does not exist"),
    ({"ca_files": ["not_a_cert.pem"]}, r"ca_files\[0\] .*holds no PEM certificate or CRL"),
    ({"ca_files": ["ca.der"]}, "set key_format: der"),
    ({"ca_dirs": ["nonexistent"]}, r"ca_dirs\[0\] .*does not exist"),
    ({"crl_files": ["ca.pem"]}, r"crl_files\[0\] .*holds no PEM CRL"),
    ({"write_seed": True}, "write_seed requires seed_file"),
    ({"write_seed_file": "/tmp/x"}, "write_seed_file requires seed_file"),
    ({"seed_file": "ca.pem", "write_seed": True, "write_seed_file": "/tmp/x"}, "mutually exclusive"),
    ({"tls_profile": "basic"}, "tls_profile basic .* is not available here: it needs TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    ({"tls_profile": "bcp195-ex", "ciphers": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}, "--cipher not allowed with --profile-bcp195-ex"),
    ({"tls_profile": "8996-mod", "ciphers": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}, "additional ciphersuites are not permitted"),
    ({"ciphers": ["TLS_RSA_WITH_NULL_SHA"]}, r"ciphers\[0\]: unencrypted ciphersuite 'TLS_RSA_WITH_NULL_SHA' not permitted .*8996"),
    ({"tls_profile": "bcp195-nd", "ciphers": ["TLS_RSA_WITH_NULL_SHA"]}, "unencrypted ciphersuite .*Non-downgrading BCP 195"),
    ({"ciphers": ["TLS_RSA_WITH_AES_128_CBC_SHA"]}, "using SHA-1 MAC not permitted"),
    ({"ciphers": ["BOGUS_CIPHER"]}, "unknown or invalid ciphersuite 'BOGUS_CIPHER'"),
    ({"ciphers": ["ECDHE-RSA-AES128-GCM-SHA256"]}, "the IANA name is TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ({"ciphers": ["TLS_AES_128_GCM_SHA256"]}, "TLS 1.3 suites cannot be chosen"),
    ({"ciphers": ["TLS_RSA_WITH_3DES_EDE_CBC_SHA"]}, "not supported by this machine's OpenSSL"),
    ({"sni": "has space"}, "sni 'has space' is not a host name"),
])
def test_invalid_tls_options_fail_before_traffic_naming_the_option(pki, params, message):
    values = {"tls": True}
    for name, value in params.items():
        if isinstance(value, list):
            value = [pki.get(item, item if item.startswith("TLS_") or "-" in item or item == "BOGUS_CIPHER" else "/nonexistent/" + item)
                     for item in value]
        elif isinstance(value, str) and name in ("private_key", "certificate", "seed_file"):
            value = pki.get(value, "/nonexistent/" + value)
        values[name] = value
    with pytest.raises(RequestError, match=message):
        build_requests(dict(host="127.0.0.1", **values))


def test_tls_options_are_ignored_without_tls(pki):
    request = build_requests(dict(host="127.0.0.1", ca_files=["/nonexistent.pem"], tls_profile="basic"))[0]
    assert request.tls is None


def test_oracle_agrees_on_option_errors(pki):
    # echoscu refuses the same combinations at parse or setup time (exit 1)
    assert oracle("+tla", "-ic", "+pz", "+cs", "TLS_RSA_WITH_AES_128_CBC_SHA", "127.0.0.1", 1) == 1
    assert oracle("+tla", "-ic", "+cs", "TLS_RSA_WITH_NULL_SHA", "127.0.0.1", 1) == 1
    assert oracle("+tla", "-ic", "+cs", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "127.0.0.1", 1) == 1
    assert oracle("+tla", "-ic", "+ws", "127.0.0.1", 1) == 1
    assert oracle("+tls", pki["server.key"], pki["client.pem"], "127.0.0.1", 1) == 1


# ---- profiles and ciphers --------------------------------------------------------------------------

# Python client profile x storescp 3.6.7 server profile (docs/dev/echoscu-behaviour.md 4).
@pytest.mark.parametrize("client, server, version", [
    ("8996", "anonymous", "TLSv1.3"), ("8996", "bcp195_ex", "TLSv1.2"), ("8996", "aes", None), ("8996", "null", None),
    ("bcp195-nd", "anonymous", "TLSv1.3"), ("bcp195-nd", "bcp195_ex", "TLSv1.2"), ("bcp195-nd", "aes", None),
    ("bcp195", "bcp195", "TLSv1.3"), ("bcp195", "aes", "TLSv1.2"), ("bcp195", "null", None),
    ("bcp195-ex", "anonymous", "TLSv1.2"), ("bcp195-ex", "bcp195_ex", "TLSv1.2"), ("bcp195-ex", "aes", None),
    ("aes", "bcp195", "TLSv1.2"), ("aes", "aes", "TLSv1.2"), ("aes", "anonymous", None),
    ("null", "null", "TLSv1.2"), ("null", "anonymous", None),
    ("8996-mod", "anonymous", "TLSv1.3"), ("8996-mod", "bcp195_ex", "TLSv1.2"),
])
def test_profile_matrix(pki, peers, client, server, version):
    result, took = echo(peers[server], tls=True, tls_profile=client, verify_peer_cert=False)
    if version is None:
        assert (result["outcome"], result["echoscu_exit_code"]) == ("tls_error", 1), result["msg"]
    else:
        assert result["outcome"] == "success", result["msg"]
        assert result["tls"]["version"] == version
    echoscu_profile = {"bcp195-nd": "+py", "bcp195": "+px", "bcp195-ex": "+pz", "aes": "+pa", "null": "+pn"}.get(client)
    if echoscu_profile:  # 3.6.7 has no 8996 profiles
        assert oracle("+tla", "-ic", echoscu_profile, "127.0.0.1", peers[server]) == (1 if version is None else 0)
    assert took < 3


def test_null_profile_negotiates_an_unencrypted_suite(pki, peers):
    result, _took = echo(peers["null"], tls=True, tls_profile="null", verify_peer_cert=False)
    assert result["tls"]["cipher"] == "NULL-SHA" and result["tls"]["encryption_bits"] == 0
    assert result["tls"]["cipher_iana"] == "TLS_RSA_WITH_NULL_SHA"


def test_bcp195_ex_against_a_tls13_only_server(pki, peers):
    result, took = echo(peers["tls13_only"], tls=True, tls_profile="bcp195-ex", ca_files=[pki["ca.pem"]])
    assert (result["outcome"], result["echoscu_exit_code"]) == ("tls_error", 1)
    # Python's asyncio TLS server drops the connection without flushing its protocol_version alert
    assert "protocol version" in result["msg"] or "peer closed the connection" in result["msg"]
    assert oracle("+tla", "+pz", "+cf", pki["ca.pem"], "127.0.0.1", peers["tls13_only"]) == 1
    ok, _took = echo(peers["tls13_only"], tls=True, ca_files=[pki["ca.pem"]])
    assert ok["outcome"] == "success" and ok["tls"]["version"] == "TLSv1.3"
    assert took < 3


def test_extra_cipher_is_offered_after_the_profile(pki, peers):
    # the aes server only has AES128-SHA: bcp195-nd reaches it only through the extra suite
    result, _took = echo(peers["aes"], tls=True, tls_profile="bcp195-nd", verify_peer_cert=False, ciphers=["TLS_RSA_WITH_AES_128_CBC_SHA"])
    assert result["outcome"] == "success" and result["tls"]["cipher"] == "AES128-SHA"
    assert "W: Ciphersuite 'TLS_RSA_WITH_AES_128_CBC_SHA' uses RSA key transport. RFC 7525 recommends that such cipher suites " \
           "should not be used." in result["log"]
    assert oracle("+tla", "-ic", "+py", "+cs", "TLS_RSA_WITH_AES_128_CBC_SHA", "127.0.0.1", peers["aes"]) == 0


def test_8996_warns_about_cbc_and_static_rsa(pki, peers):
    request = build_requests(dict(host="127.0.0.1", tls=True, ciphers=["TLS_RSA_WITH_AES_128_CBC_SHA256"]))[0]
    assert any("uses RSA key transport. RFC 9325" in text for text in request.tls.config.warnings)
    assert any("uses CBC mode" in text for text in request.tls.config.warnings)


def test_weak_server_key_is_refused_by_8996_and_warned_about_by_bcp195_nd(pki, peers):
    result, _took = echo(peers["weak"], tls=True, ca_files=[pki["ca.pem"]])
    assert result["outcome"] == "tls_error" and "RSA key of 1024 bits" in result["msg"]
    warned, _took = echo(peers["weak"], tls=True, ca_files=[pki["ca.pem"]], tls_profile="bcp195-nd")
    assert warned["outcome"] == "success"
    assert "W: Possibly weak peer certificate: RSA key of 1024 bits, RFC 9325 asks for at least 2048" in warned["log"]
    unverified, _took = echo(peers["weak"], tls=True, verify_peer_cert=False)
    assert unverified["outcome"] == "success"  # DCMTK's checks run in the verify callback: none with -ic


# ---- SNI, seeds, bounded failures -------------------------------------------------------------------

def test_sni_is_sent_only_when_asked(pki, peers):
    front = peers["front"]
    del front.sni[:]
    echo(peers["tls13_only"], tls=True, ca_files=[pki["ca.pem"]])
    assert front.sni == [None]
    result, _took = echo(peers["tls13_only"], tls=True, ca_files=[pki["ca.pem"]], sni="pacs.example.org")
    assert result["outcome"] == "success" and front.sni[-1] == "pacs.example.org"
    assert result["tls"]["sni"] == "pacs.example.org"  # and no host name check: the certificate says localhost


def test_seed_file_is_read_and_write_seed_writes_1024_private_bytes(pki, tmp_path):
    seed = tmp_path / "seed.bin"
    seed.write_bytes(os.urandom(64))
    request = build_requests(dict(host="127.0.0.1", tls=True, seed_file=str(seed), write_seed=True))[0]
    assert request.tls.config.seed_target == str(seed)
    assert _tls_context.write_seed(str(seed)) is None
    assert seed.stat().st_size == 1024 and stat.S_IMODE(seed.stat().st_mode) == 0o600
    other = tmp_path / "out.bin"
    request = build_requests(dict(host="127.0.0.1", tls=True, seed_file=str(tmp_path / "missing"), write_seed_file=str(other)))[0]
    assert request.tls.config.seed_target == str(other)
    assert "No such file" in _tls_context.write_seed(str(tmp_path / "nodir" / "x"))


def test_tls_to_a_plain_peer_is_bounded(pki, peers):
    result, took = echo(peers["plain"], tls=True, verify_peer_cert=False)
    assert (result["outcome"], result["echoscu_exit_code"]) == ("tls_error", 1)
    assert oracle("+tla", "-ic", "127.0.0.1", peers["plain"]) == 1
    assert took < 3


def test_plain_to_a_tls_peer_is_bounded(pki, peers):
    result, took = echo(peers["anonymous"])
    assert result["echoscu_exit_code"] == 1 and not result["success"]
    assert result["outcome"] in ("peer_aborted", "protocol_error")
    assert oracle("127.0.0.1", peers["anonymous"]) == 1
    assert took < 3


def test_handshake_with_a_silent_peer_ends_at_the_socket_timeout():
    listener = silent_listener()
    try:
        result, took = echo(listener.getsockname()[1], tls=True, verify_peer_cert=False, socket_timeout=2)
    finally:
        listener.close()
    assert (result["outcome"], result["echoscu_exit_code"]) == ("tls_error", 1)
    assert "did not complete within 2s" in result["msg"]
    assert 1.8 < took < 4


def test_handshake_deadline_rules():
    class Req:
        connection_timeout = None
        socket_timeout = 0

    assert _tls_handshake.handshake_timeout(Req) == _tls_handshake.HANDSHAKE_CAP
    Req.connection_timeout = 7
    assert _tls_handshake.handshake_timeout(Req) == 7
    Req.socket_timeout = 3
    assert _tls_handshake.handshake_timeout(Req) == 3


# ---- batches share one context ----------------------------------------------------------------------

def test_endpoints_share_one_context_and_may_override_tls(pki, peers):
    endpoints = [{"host": "127.0.0.1", "port": peers["anonymous"], "name": "a%d" % index} for index in range(20)]
    endpoints.append({"host": "127.0.0.1", "port": peers["require_cert"], "name": "auth", "private_key": pki["client.key"],
                      "certificate": pki["client.pem"]})
    endpoints.append({"host": "127.0.0.1", "port": peers["plain"], "name": "plain", "tls": False})
    requests = build_requests(dict(endpoints=endpoints, tls=True, ca_files=[pki["ca.pem"]], acse_timeout=5))
    assert len({id(request.tls.config) for request in requests[:20]}) == 1
    assert requests[20].tls.config is not requests[0].tls.config and requests[21].tls is None
    results = probe_all(requests, concurrency=8)
    assert [result["outcome"] for result in results] == ["success"] * 22, [result["msg"] for result in results if not result["success"]]


def test_ten_thousand_endpoints_validate_fast(pki):
    endpoints = [{"host": "10.0.%d.%d" % (index // 250, index % 250 + 1), "name": "e%d" % index} for index in range(10000)]
    started = time.monotonic()
    requests = build_requests(dict(endpoints=endpoints, tls=True, ca_files=[pki["ca.pem"]], private_key=pki["client.key"],
                                   certificate=pki["client.pem"]))
    took = time.monotonic() - started
    assert len({id(request.tls.config) for request in requests}) == 1
    assert took < 5, took


# ---- offline actions ---------------------------------------------------------------------------------

def test_list_profiles_says_what_this_openssl_can_do():
    profiles = {profile["name"]: profile for profile in _tls_offline.list_profiles()}
    assert list(profiles) == ["8996", "8996-mod", "bcp195-nd", "bcp195", "bcp195-ex", "basic", "aes", "null"]
    assert profiles["8996"]["default"] and profiles["8996"]["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert profiles["bcp195-ex"]["tls_versions"] == ["TLSv1.2"] and profiles["bcp195-ex"]["tls13_suites"] == []
    assert profiles["basic"]["available"] is False and "3DES" in profiles["basic"]["reason"] or "DES-CBC3" in profiles["basic"]["reason"]
    assert profiles["null"]["available"] is True and profiles["null"]["suites"] == ["TLS_RSA_WITH_NULL_SHA"]
    assert "TLS_RSA_WITH_3DES_EDE_CBC_SHA" not in profiles["bcp195"]["offered_here"]


def test_list_ciphers_matches_echoscu_list_ciphers():
    ciphers = _tls_offline.list_ciphers()
    assert len(ciphers) == 61
    usable = [cipher["iana_name"] for cipher in ciphers if cipher["usable"]]
    code, _err = echoscu(["--list-ciphers"])
    assert code == 0
    listed = [line.strip() for line in echoscu_stdout(["--list-ciphers"]).splitlines() if line.startswith("  TLS_")]
    # 3.6.7 lists 40; DCMTK 3.7.0 adds the four ECDHE-ECDSA CCM suites, which this OpenSSL has
    assert set(listed) <= set(usable)
    assert set(usable) - set(listed) == {"TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
                                         "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"}


def echoscu_stdout(args):
    import subprocess  # pylint: disable=import-outside-toplevel

    return subprocess.run([ECHOSCU] + args, capture_output=True, text=True, timeout=30, check=False).stdout


@pytest.mark.parametrize("cert, settings, passed, reason, echoscu_args", [
    ("client.pem", {"ca_files": ["ca.pem"]}, True, None, ["+cf", "ca.pem"]),
    ("client.pem", {}, False, "unable to get local issuer certificate", []),
    ("rogue.pem", {"ca_files": ["ca.pem"]}, False, "unable to get local issuer certificate", ["+cf", "ca.pem"]),
    ("expired.pem", {"ca_files": ["ca.pem"]}, False, "certificate has expired", ["+cf", "ca.pem"]),
    ("revoked.pem", {"ca_files": ["ca.pem"], "crl_files": ["ca.crl.pem"]}, False, "certificate revoked", ["+cf", "ca.pem", "+crl", "ca.crl.pem"]),
    ("client.pem", {"ca_files": ["ca.pem"], "crl_files": ["ca.crl.pem"]}, True, None, ["+cf", "ca.pem", "+crl", "ca.crl.pem"]),
    ("client.pem", {"ca_files": ["ca.pem"], "crl_check": "leaf"}, False, "unable to get certificate CRL", ["+cf", "ca.pem", "+crv"]),
    ("client.der", {"ca_files": ["ca.der"], "key_format": "der"}, True, None, ["-der", "+cf", "ca.der"]),
    ("client.der", {"ca_files": ["ca.pem"]}, False, "Not a PEM certificate file", ["+cf", "ca.pem"]),
    ("client.pem", {"ca_dirs": ["cadir_hashed"]}, True, None, ["+cd", "cadir_hashed"]),
    ("client.pem", {"ca_dirs": ["cadir_plain"]}, False, "openssl rehash", ["+cd", "cadir_plain"]),
    ("ileaf.pem", {"ca_files": ["ca.pem"]}, False, "unable to get local issuer certificate", ["+cf", "ca.pem"]),
    ("ileaf_chain.pem", {"ca_files": ["ca.pem"]}, True, None, ["+cf", "ca.pem"]),
    ("ileaf.pem", {"ca_files": ["inter.pem"]}, False, "unable to get local issuer certificate", ["+cf", "inter.pem"]),
    ("srv_ekuclient.pem", {"ca_files": ["ca.pem"]}, True, None, ["+cf", "ca.pem"]),
])
def test_verify_cert_matches_echoscu(pki, cert, settings, passed, reason, echoscu_args):
    values = {name: [pki[item] for item in value] if isinstance(value, list) else value for name, value in settings.items()}
    result = _tls_offline.verify_certificate(pki[cert], values)
    assert result["passed"] is passed, result["reason"]
    if reason:
        assert reason in result["reason"]
    else:
        assert result["subject"] and result["not_after"] and result["chain"][0] == result["subject"]
    code, _err = echoscu(["+tla"] + [pki.get(arg, arg) for arg in echoscu_args] + ["+vc", pki[cert]])
    assert code == (0 if passed else 22)


def test_verify_cert_differs_from_openssl_for_x509_v1_leaves(pki):
    # documented: cryptography refuses X.509 v1 leaves (and SHA-1 signatures) that OpenSSL at level 0 accepts
    result = _tls_offline.verify_certificate(pki["sha1_leaf.pem"], {"ca_files": [pki["ca.pem"]]})
    assert result["passed"] is False and "X509v3" in result["reason"]
    code, _err = echoscu(["+tla", "+cf", pki["ca.pem"], "+vc", pki["sha1_leaf.pem"]])
    assert code == 0


@pytest.mark.parametrize("cert, is_root, echoscu_ok, signature, ca", [
    ("ca.pem", True, True, True, True),
    ("client.pem", False, False, False, False),
    ("selfleaf.pem", True, True, True, False),
    ("ca_badsig.pem", False, True, False, True),   # stricter than DCMTK: the signature is checked
    ("expired_ca.pem", False, False, True, True),
])
def test_is_root_cert(pki, cert, is_root, echoscu_ok, signature, ca):
    result = _tls_offline.root_certificate(pki[cert], {})
    assert (result["is_root"], result["echoscu_verdict"], result["self_signature_valid"], result["basic_constraints_ca"]) == \
        (is_root, echoscu_ok, signature, ca)
    code, _err = echoscu(["+rc", pki[cert]])
    assert code == (0 if echoscu_ok else 22)


def test_is_root_cert_der(pki):
    assert _tls_offline.root_certificate(pki["ca.der"], {"key_format": "der"})["is_root"] is True
    assert "Cannot read certificate file" in _tls_offline.root_certificate(pki["ca.der"], {})["reason"]
    code, _err = echoscu(["+tla", "-der", "+rc", pki["ca.der"]])
    assert code == 0
