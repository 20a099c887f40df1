# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one trust loader (_tls_trust) serves the TLS context and the offline check alike; the certificate
policy follows profile attributes. No network and no DCMTK: the peers' suites are in engine_dcmtk_peers.
"""

from __future__ import annotations

import os
import shutil
import ssl

import pytest

from ansible_collections.dicom.network.plugins.module_utils import _tls_context, _tls_offline, _tls_policy, _tls_profiles, _tls_trust
from ansible_collections.dicom.network.plugins.module_utils._tls_errors import TLSOptionError
from ansible_collections.dicom.network.tests.peers.tls_pki import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    paths = make_pki(str(tmp_path_factory.mktemp("pki")))
    hashed = [name for name in os.listdir(paths["cadir_hashed"]) if name.endswith(".0")][0][:-2]
    paths["cadir_der"] = os.path.join(os.path.dirname(paths["ca.pem"]), "cadir_der")  # `openssl rehash` of DER files
    os.mkdir(paths["cadir_der"])
    shutil.copy(paths["ca.der"], os.path.join(paths["cadir_der"], hashed + ".0"))
    shutil.copy(paths["ca.crl.der"], os.path.join(paths["cadir_der"], hashed + ".r0"))
    paths["cadir_crl_only"] = os.path.join(os.path.dirname(paths["ca.pem"]), "cadir_crl_only")
    os.mkdir(paths["cadir_crl_only"])
    shutil.copy(paths["ca.crl.pem"], os.path.join(paths["cadir_crl_only"], hashed + ".r0"))
    paths["garbage.bin"] = os.path.join(os.path.dirname(paths["ca.pem"]), "garbage.bin")
    with open(paths["garbage.bin"], "wb") as handle:
        handle.write(b"\x30\x03garbage")
    return paths


def resolve(pki, settings):
    return {name: [pki.get(item, item) for item in value] if isinstance(value, list) else value for name, value in settings.items()}


def context_error(values):
    with pytest.raises(TLSOptionError) as caught:
        _tls_context.build_client_tls(values)
    return str(caught.value)


def offline_error(pki, values):
    leaf = pki["client.der"] if values.get("key_format") == "der" else pki["client.pem"]
    with pytest.raises(TLSOptionError) as caught:
        _tls_offline.verify_certificate(leaf, values)
    return str(caught.value)


@pytest.mark.parametrize("settings, message", [
    ({"ca_files": ["/nonexistent.pem"]}, "ca_files[0] /nonexistent.pem does not exist"),
    ({"ca_files": ["cadir_plain"]}, "ca_files[0] {cadir_plain} is not a file"),
    ({"ca_dirs": ["/nonexistent"]}, "ca_dirs[0] /nonexistent does not exist"),
    ({"ca_dirs": ["ca.pem"]}, "ca_dirs[0] {ca.pem} is not a directory"),
    ({"ca_files": ["ca.pem"], "crl_files": ["ca.pem"]}, "crl_files[0] {ca.pem} holds no PEM CRL"),
    ({"ca_files": ["ca.pem"], "crl_files": ["ca.crl.der"]}, "crl_files[0] {ca.crl.der} holds no PEM CRL; set key_format: der for DER files"),
    ({"ca_files": ["garbage.bin"], "key_format": "der"}, "ca_files[0] {garbage.bin} holds no DER certificate or CRL (key_format is der)"),
    ({"ca_files": ["ca.der"], "crl_files": ["ca.pem"], "key_format": "der"}, "crl_files[0] {ca.pem} holds no DER CRL (key_format is der)"),
])
def test_the_context_and_the_offline_check_refuse_trust_options_in_the_same_words(pki, settings, message):
    values = resolve(pki, settings)
    expected = message
    for name, path in pki.items():
        expected = expected.replace("{%s}" % name, path)
    assert context_error(dict(values)) == expected
    assert offline_error(pki, dict(values)) == expected


def test_a_pem_file_without_certificates_names_the_option_and_the_der_hint(pki):
    # OpenSSL (the context) adds its own reason; the offline check has none to add
    for settings in ({"ca_files": ["not_a_cert.pem"]}, {"ca_files": ["ca.der"]}):
        values = resolve(pki, settings)
        start = "ca_files[0] %s holds no PEM certificate or CRL" % values["ca_files"][0]
        for text in (context_error(dict(values)), offline_error(pki, dict(values))):
            assert text.startswith(start) and text.endswith("; set key_format: der for DER files"), text


def test_a_hashed_der_directory_entry_must_be_what_its_name_says(pki):
    values = resolve(pki, {"ca_dirs": ["cadir_hashed"], "key_format": "der"})  # PEM files under DER reading
    assert context_error(dict(values)) == offline_error(pki, dict(values))
    assert "holds no DER certificate (key_format is der)" in context_error(dict(values))


@pytest.mark.parametrize("settings, certificates, crls", [
    ({"ca_files": ["ca.pem"], "crl_files": ["ca.crl.pem"]}, 1, 1),
    ({"ca_files": ["ca.der"], "crl_files": ["ca.crl.der"], "key_format": "der"}, 1, 1),
    ({"ca_files": ["ca.crl.der"], "key_format": "der"}, 0, 1),   # a ca_files entry may be a CRL
    ({"ca_dirs": ["cadir_der"], "key_format": "der"}, 1, 1),
])
def test_both_consumers_load_the_same_material(pki, settings, certificates, crls):
    values = resolve(pki, settings)
    stats = _tls_context.build_client_tls(dict(values)).context.cert_store_stats()
    assert (stats["x509"], stats["crl"]) == (certificates, crls)
    found = _tls_trust.load_objects(values)
    assert (len(found[0]), len(found[1]), found[2]) == (certificates, crls, [])


def test_pem_hashed_directories_are_left_to_openssl_but_read_for_the_offline_check(pki):
    values = resolve(pki, {"ca_dirs": ["cadir_hashed"]})
    config = _tls_context.build_client_tls(dict(values))
    assert config.context.cert_store_stats()["x509"] == 0 and config.unhashed_dirs == []  # looked up lazily by hash
    certificates, crls, unhashed = _tls_trust.load_objects(values)
    assert (len(certificates), len(crls), unhashed) == (1, 1, [])


@pytest.mark.parametrize("folder", ["cadir_plain", "cadir_crl_only"])
def test_a_directory_without_certificate_hash_links_gets_the_rehash_hint_from_both(pki, folder):
    values = resolve(pki, {"ca_dirs": [folder]})
    assert _tls_context.build_client_tls(dict(values)).unhashed_dirs == [pki[folder]]
    result = _tls_offline.verify_certificate(pki["client.pem"], values)
    assert result["reason"].endswith("; ca_dirs %s has no OpenSSL hash links: run `openssl rehash %s`" % (pki[folder], pki[folder]))


def test_der_crls_reach_openssl_through_private_temporary_files_that_are_removed(pki, monkeypatch):
    written = []
    original = _tls_context._TempFiles.write

    def spy(self, data):
        path = original(self, data)
        written.append((path, os.stat(path).st_mode & 0o777))
        return path

    monkeypatch.setattr(_tls_context._TempFiles, "write", spy)
    _tls_context.build_client_tls(resolve(pki, {"ca_files": ["ca.der"], "crl_files": ["ca.crl.der"], "key_format": "der"}))
    assert [mode for _path, mode in written] == [0o600]
    assert not os.path.exists(written[0][0])


def test_crl_files_imply_leaf_checking_in_both():
    assert _tls_trust.crl_mode({"crl_files": ["x"]}) == "leaf"
    assert _tls_trust.crl_mode({"crl_files": ["x"], "crl_check": "chain"}) == "chain"
    assert _tls_trust.crl_mode({}) == "none"


# ---- certificate policy: keyed on the profile's `certificates` rule -------------------------------

def test_every_profile_names_its_certificate_rule():
    assert {spec["certificates"] for spec in _tls_profiles.PROFILES.values()} == {"strict", "rfc9325", "lenient"}
    assert _tls_profiles.PROFILES[_tls_profiles.DEFAULT_PROFILE]["certificates"] == "rfc9325"


@pytest.mark.parametrize("rule, own, refused", [
    ("strict", True, True), ("strict", False, True),
    ("rfc9325", True, False), ("rfc9325", False, True),
    ("lenient", True, False), ("lenient", False, False),
])
def test_a_1024_bit_rsa_key_under_each_rule(pki, monkeypatch, rule, own, refused):
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    with open(pki["server1024.pem"], "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    monkeypatch.setitem(_tls_profiles.PROFILES, "test", dict(_tls_profiles.PROFILES["8996"], certificates=rule))
    refuse, warn = _tls_policy.policy_findings(certificate, "test", own=own)
    text = "RSA key of 1024 bits, RFC 9325 asks for at least 2048"
    assert (refuse, warn) == (([text], []) if refused else ([], [text]))


def test_the_refused_extra_cipher_rule_names_the_profile_in_echoscu_words():
    with pytest.raises(TLSOptionError, match=r"^ciphers cannot be combined with tls_profile bcp195-ex "
                                             r"\(echoscu: --cipher not allowed with --profile-bcp195-ex\)$"):
        _tls_policy.cipher_string("bcp195-ex", ["TLS_RSA_WITH_AES_128_CBC_SHA"], [])


def test_own_dsa_certificate_caps_the_context_at_tls_1_2(pki, monkeypatch):
    from cryptography import x509  # pylint: disable=import-outside-toplevel

    with open(pki["client.pem"], "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    monkeypatch.setattr(_tls_policy, "key_description", lambda _key: ("DSA", 2048))
    config = _tls_context.ClientTLS()
    config.profile = "bcp195-nd"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_3  # as the profile set it
    _tls_policy.check_own_certificate(certificate, "own.pem", config, context)
    assert context.maximum_version == ssl.TLSVersion.TLSv1_2
    assert config.warnings == ["Possibly weak certificate 'own.pem': DSA certificate, which RFC 9325 retires"]
    config.profile = "8996"
    with pytest.raises(TLSOptionError, match="not allowed with tls_profile 8996"):
        _tls_policy.check_own_certificate(certificate, "own.pem", config, ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
