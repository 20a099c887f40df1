# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DCMTK's TLS tables: the security profiles and every ciphersuite it knows by IANA name.

Private to this collection; standard library only. Facts as docs/dev/echoscu-behaviour.md 4 summarizes them
(DCMTK 3.7.0, dcmtls/libsrc/tlsciphr.cc): names, versions and suite lists are DCMTK's, and
whether this machine's OpenSSL can do each is asked of it at run time (available_openssl_ciphers).
"""

from __future__ import annotations

import ssl

# The options that make one TLS configuration; sni is per endpoint and not part of it. Here, not in
# _tls_context.py, so that validating a plain request never loads the TLS modules and cryptography.
CONFIG_OPTIONS = ("private_key", "certificate", "private_key_password", "key_format", "ca_files", "ca_dirs", "crl_files",
                  "crl_check", "tls_profile", "ciphers", "seed_file", "write_seed", "write_seed_file", "verify_peer_cert",
                  "tls_version")

# (IANA name, OpenSSL name or None, lowest TLS version, key exchange, MAC, mode, encryption bits), in
# DCMTK 3.7.0's table order (weakest to strongest), which is also its --list-ciphers order. "kx" is
# DCMTK's class: RSA static RSA, DH ephemeral DHE, ECDH ephemeral ECDHE, ECDH_ECDSA/ECDH_RSA static
# ECDH (OpenSSL dropped those in 1.1.0; their old OpenSSL names are kept so the check stays honest).
# The four Camellia-GCM suites exist in DCMTK's source but no OpenSSL implements them.
CIPHERSUITES = (
    ('TLS_RSA_WITH_NULL_SHA', 'NULL-SHA', '1.0', 'RSA', 'SHA1', 'NA', 0),
    ('TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'DES-CBC3-SHA', '1.0', 'RSA', 'SHA1', 'CBC', 112),
    ('TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA', '1.0', 'RSA', 'SHA1', 'CBC', 128),
    ('TLS_RSA_WITH_CAMELLIA_128_CBC_SHA', 'CAMELLIA128-SHA', '1.0', 'RSA', 'SHA1', 'CBC', 128),
    ('TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256', '1.2', 'RSA', 'SHA256', 'CBC', 128),
    ('TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256', '1.2', 'RSA', 'AEAD', 'GCM', 128),
    ('TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA', 'ECDH-ECDSA-AES128-SHA', '1.0', 'ECDH_ECDSA', 'SHA1', 'CBC', 128),
    ('TLS_ECDH_RSA_WITH_AES_128_CBC_SHA', 'ECDH-RSA-AES128-SHA', '1.0', 'ECDH_RSA', 'SHA1', 'CBC', 128),
    ('TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDH-ECDSA-AES128-SHA256', '1.2', 'ECDH_ECDSA', 'SHA256', 'CBC', 128),
    ('TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256', 'ECDH-RSA-AES128-SHA256', '1.2', 'ECDH_RSA', 'SHA256', 'CBC', 128),
    ('TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDH-ECDSA-AES128-GCM-SHA256', '1.2', 'ECDH_ECDSA', 'AEAD', 'GCM', 128),
    ('TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256', 'ECDH-RSA-AES128-GCM-SHA256', '1.2', 'ECDH_RSA', 'AEAD', 'GCM', 128),
    ('TLS_RSA_WITH_CAMELLIA_256_CBC_SHA', 'CAMELLIA256-SHA', '1.0', 'RSA', 'SHA1', 'CBC', 256),
    ('TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA', '1.0', 'RSA', 'SHA1', 'CBC', 256),
    ('TLS_RSA_WITH_AES_256_CBC_SHA256', 'AES256-SHA256', '1.2', 'RSA', 'SHA256', 'CBC', 256),
    ('TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384', '1.2', 'RSA', 'AEAD', 'GCM', 256),
    ('TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA', 'ECDH-ECDSA-AES256-SHA', '1.0', 'ECDH_ECDSA', 'SHA1', 'CBC', 256),
    ('TLS_ECDH_RSA_WITH_AES_256_CBC_SHA', 'ECDH-RSA-AES256-SHA', '1.0', 'ECDH_RSA', 'SHA1', 'CBC', 256),
    ('TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDH-ECDSA-AES256-SHA384', '1.2', 'ECDH_ECDSA', 'SHA384', 'CBC', 256),
    ('TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384', 'ECDH-RSA-AES256-SHA384', '1.2', 'ECDH_RSA', 'SHA384', 'CBC', 256),
    ('TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDH-ECDSA-AES256-GCM-SHA384', '1.2', 'ECDH_ECDSA', 'AEAD', 'GCM', 256),
    ('TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384', 'ECDH-RSA-AES256-GCM-SHA384', '1.2', 'ECDH_RSA', 'AEAD', 'GCM', 256),
    ('TLS_DHE_DSS_WITH_AES_128_CBC_SHA', 'DHE-DSS-AES128-SHA', '1.0', 'DH', 'SHA1', 'CBC', 128),
    ('TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA', 'DHE-DSS-CAMELLIA128-SHA', '1.0', 'DH', 'SHA1', 'CBC', 128),
    ('TLS_DHE_RSA_WITH_AES_128_CBC_SHA', 'DHE-RSA-AES128-SHA', '1.0', 'DH', 'SHA1', 'CBC', 128),
    ('TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA', 'DHE-RSA-CAMELLIA128-SHA', '1.0', 'DH', 'SHA1', 'CBC', 128),
    ('TLS_DHE_DSS_WITH_AES_128_CBC_SHA256', 'DHE-DSS-AES128-SHA256', '1.2', 'DH', 'SHA256', 'CBC', 128),
    ('TLS_DHE_RSA_WITH_AES_128_CBC_SHA256', 'DHE-RSA-AES128-SHA256', '1.2', 'DH', 'SHA256', 'CBC', 128),
    ('TLS_DHE_DSS_WITH_AES_128_GCM_SHA256', 'DHE-DSS-AES128-GCM-SHA256', '1.2', 'DH', 'AEAD', 'GCM', 128),
    ('TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256', '1.2', 'DH', 'AEAD', 'GCM', 128),
    ('TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA', '1.0', 'ECDH', 'SHA1', 'CBC', 128),
    ('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA', '1.0', 'ECDH', 'SHA1', 'CBC', 128),
    ('TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256', '1.2', 'ECDH', 'SHA256', 'CBC', 128),
    ('TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256', '1.2', 'ECDH', 'SHA256', 'CBC', 128),
    ('TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256', None, '1.2', 'ECDH', 'SHA256', 'GCM', 128),
    ('TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256', None, '1.2', 'ECDH', 'SHA256', 'GCM', 128),
    ('TLS_ECDHE_ECDSA_WITH_AES_128_CCM', 'ECDHE-ECDSA-AES128-CCM', '1.2', 'ECDH', 'CBC_MAC', 'CCM', 128),
    ('TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', 'ECDHE-ECDSA-AES128-CCM8', '1.2', 'ECDH', 'CBC_MAC', 'CCM', 128),
    ('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', '1.2', 'ECDH', 'AEAD', 'GCM', 128),
    ('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', '1.2', 'ECDH', 'AEAD', 'GCM', 128),
    ('TLS_DHE_DSS_WITH_AES_256_CBC_SHA', 'DHE-DSS-AES256-SHA', '1.0', 'DH', 'SHA1', 'CBC', 256),
    ('TLS_DHE_RSA_WITH_AES_256_CBC_SHA', 'DHE-RSA-AES256-SHA', '1.0', 'DH', 'SHA1', 'CBC', 256),
    ('TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA', 'DHE-DSS-CAMELLIA256-SHA', '1.0', 'DH', 'SHA1', 'CBC', 256),
    ('TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA', 'DHE-RSA-CAMELLIA256-SHA', '1.0', 'DH', 'SHA1', 'CBC', 256),
    ('TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'DHE-RSA-CHACHA20-POLY1305', '1.2', 'DH', 'AEAD', 'NA', 256),
    ('TLS_DHE_DSS_WITH_AES_256_CBC_SHA256', 'DHE-DSS-AES256-SHA256', '1.2', 'DH', 'SHA256', 'CBC', 256),
    ('TLS_DHE_RSA_WITH_AES_256_CBC_SHA256', 'DHE-RSA-AES256-SHA256', '1.2', 'DH', 'SHA256', 'CBC', 256),
    ('TLS_DHE_DSS_WITH_AES_256_GCM_SHA384', 'DHE-DSS-AES256-GCM-SHA384', '1.2', 'DH', 'AEAD', 'GCM', 256),
    ('TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'DHE-RSA-AES256-GCM-SHA384', '1.2', 'DH', 'AEAD', 'GCM', 256),
    ('TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA', '1.0', 'ECDH', 'SHA1', 'CBC', 256),
    ('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA', '1.0', 'ECDH', 'SHA1', 'CBC', 256),
    ('TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384', '1.2', 'ECDH', 'SHA384', 'CBC', 256),
    ('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384', '1.2', 'ECDH', 'SHA384', 'CBC', 256),
    ('TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384', None, '1.2', 'ECDH', 'SHA384', 'GCM', 256),
    ('TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384', None, '1.2', 'ECDH', 'SHA384', 'GCM', 256),
    ('TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', '1.2', 'ECDH', 'AEAD', 'NA', 256),
    ('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305', '1.2', 'ECDH', 'AEAD', 'NA', 256),
    ('TLS_ECDHE_ECDSA_WITH_AES_256_CCM', 'ECDHE-ECDSA-AES256-CCM', '1.2', 'ECDH', 'CBC_MAC', 'CCM', 256),
    ('TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8', 'ECDHE-ECDSA-AES256-CCM8', '1.2', 'ECDH', 'CBC_MAC', 'CCM', 256),
    ('TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384', '1.2', 'ECDH', 'AEAD', 'GCM', 256),
    ('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', '1.2', 'ECDH', 'AEAD', 'GCM', 256),
)
CIPHER_BY_IANA = {row[0]: row for row in CIPHERSUITES}
IANA_BY_OPENSSL = {row[1]: row[0] for row in CIPHERSUITES if row[1]}
TLS13_DEFAULT_SUITES = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")

# Rules for extra `ciphers` per profile (docs/dev/echoscu-behaviour.md 4):
#   "bcp195"  NULL suites refused, static-RSA suites warned about (RFC 7525)
#   "8996"    NULL and SHA-1-MAC suites refused; static RSA, DHE and CBC warned about (RFC 9325)
#   "none"    no extra suites: an error when the TLS layer is set up (8996-mod)
#   "refused" no extra suites: the option combination is refused, as echoscu's parser does (bcp195-ex)
#   "any"     anything (null)
# Rules for certificates, ours and the peer's, as `certificates` (docs/dev/echoscu-behaviour.md 4;
# _tls_policy.policy_findings applies them). MD2/MD4/MD5 signatures are refused under every profile.
#   "strict"   RSA under 2048 and EC under 256 bits refused, our DSA certificate refused, digests
#              other than SHA-2 refused (8996-mod)
#   "rfc9325"  RSA under 2048 bits refused for the peer and warned about for ours, EC under 224 bits
#              warned about, our DSA certificate refused, digests other than SHA-2 warned about (8996)
#   "lenient"  as rfc9325, but every refusal but the digest's is a warning (the retired profiles)
PROFILES = {
    "8996": {
        "option": "+pg", "long_option": "--profile-8996", "title": "BCP 195 RFC 8996 TLS Profile", "retired": False,
        "suites": ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        "min": "TLSv1.2", "max": "TLSv1.3", "tls13": TLS13_DEFAULT_SUITES, "extra": "8996", "certificates": "rfc9325",
        "note": "Default of DCMTK 3.6.8 and later. Every suite is TLS 1.2-only, so TLS 1.2 is the effective minimum.",
    },
    "8996-mod": {
        "option": "+pm", "long_option": "--profile-8996-mod", "title": "Modified BCP 195 RFC 8996 TLS Profile", "retired": False,
        "suites": ("TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
                   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                   "TLS_ECDHE_ECDSA_WITH_AES_256_CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        "min": "TLSv1.2", "max": "TLSv1.3", "tls13": TLS13_DEFAULT_SUITES, "extra": "none", "certificates": "strict",
        "note": "DCMTK also offers TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256 in TLS 1.3; Python's ssl cannot set TLS 1.3 "
                "suites, so the module offers OpenSSL's three defaults. The four Camellia-GCM suites of the profile exist in no OpenSSL.",
    },
    "bcp195-nd": {
        "option": "+py", "long_option": "--profile-bcp195-nd", "title": "Non-downgrading BCP 195 TLS Profile", "retired": True,
        "suites": ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
        "min": "TLSv1.2", "max": "TLSv1.3", "tls13": TLS13_DEFAULT_SUITES, "extra": "bcp195", "certificates": "lenient",
        "note": "Default of DCMTK 3.6.7 (Debian 12).",
    },
    "bcp195": {
        "option": "+px", "long_option": "--profile-bcp195", "title": "BCP 195 TLS Profile", "retired": True,
        "suites": ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                   "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
        "min": "TLSv1", "max": "TLSv1.3", "tls13": TLS13_DEFAULT_SUITES, "extra": "bcp195", "certificates": "lenient",
        "note": "TLS_RSA_WITH_3DES_EDE_CBC_SHA is left out silently where OpenSSL lacks 3DES, as DCMTK does.",
    },
    "bcp195-ex": {
        "option": "+pz", "long_option": "--profile-bcp195-ex", "title": "Extended BCP 195 TLS Profile", "retired": True,
        "suites": ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                   "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        "min": "TLSv1.2", "max": "TLSv1.2", "tls13": (), "extra": "refused", "certificates": "lenient",
        "note": "TLS 1.2 only: it cannot talk to a TLS 1.3-only peer. No extra ciphers.",
    },
    "basic": {
        "option": "+pb", "long_option": "--profile-basic", "title": "Basic TLS Secure Transport Connection Profile", "retired": True,
        "suites": ("TLS_RSA_WITH_3DES_EDE_CBC_SHA",),
        "min": "TLSv1", "max": "TLSv1.2", "tls13": (), "extra": "bcp195", "certificates": "lenient",
        "note": "Needs 3DES, which OpenSSL 3 builds usually lack; DCMTK then hides the option.",
    },
    "aes": {
        "option": "+pa", "long_option": "--profile-aes", "title": "AES TLS Secure Transport Connection Profile", "retired": True,
        "suites": ("TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
        "min": "TLSv1", "max": "TLSv1.2", "tls13": (), "extra": "bcp195", "certificates": "lenient",
        "note": "TLS_RSA_WITH_3DES_EDE_CBC_SHA is left out silently where OpenSSL lacks 3DES, as DCMTK does.",
    },
    "null": {
        "option": "+pn", "long_option": "--profile-null", "title": "Authenticated unencrypted communication", "retired": True,
        "suites": ("TLS_RSA_WITH_NULL_SHA",),
        "min": "TLSv1", "max": "TLSv1.2", "tls13": (), "extra": "any", "certificates": "lenient",
        "note": "No encryption (was used in IHE ATNA). Needs OpenSSL security level 0, which the module sets for every profile.",
    },
}
DEFAULT_PROFILE = "8996"
# The profiles whose suites must all be present (DCMTK hides a profile whose only suites OpenSSL lacks).
REQUIRED_SUITES = {"basic": ("TLS_RSA_WITH_3DES_EDE_CBC_SHA",), "null": ("TLS_RSA_WITH_NULL_SHA",)}
TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
_VERSION_ORDER = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
# tls_version: one version offered alone, with every suite this OpenSSL has for it (the tls_versions check asks
# whether the peer accepts the version, so nothing else may make the handshake fail).
PINNED_VERSION_CIPHERS = "ALL:COMPLEMENTOFALL:!aNULL:@SECLEVEL=0"

_AVAILABLE = []
_VERSION_PROBLEMS = {}


def available_openssl_ciphers():
    """Names of every TLS <= 1.2 suite this Python's OpenSSL can negotiate at security level 0 (cached)."""
    if not _AVAILABLE:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
        _AVAILABLE.append(frozenset(cipher["name"] for cipher in context.get_ciphers()))
    return _AVAILABLE[0]


def version_range(profile):
    """The TLS versions a profile may negotiate, lowest first."""
    spec = PROFILES[profile]
    return list(_VERSION_ORDER[_VERSION_ORDER.index(spec["min"]):_VERSION_ORDER.index(spec["max"]) + 1])


def profile_problem(profile):
    """Why this OpenSSL cannot do ``profile``, or None when it can."""
    available = available_openssl_ciphers()
    for iana in REQUIRED_SUITES.get(profile, ()):
        openssl = CIPHER_BY_IANA[iana][1]
        if openssl not in available:
            return "needs %s (%s), which this machine's OpenSSL (%s) does not provide" % (iana, openssl, ssl.OPENSSL_VERSION)
    if not any(CIPHER_BY_IANA[iana][1] in available for iana in PROFILES[profile]["suites"]):
        return "none of its ciphersuites is provided by this machine's OpenSSL (%s)" % ssl.OPENSSL_VERSION
    return None


def version_problem(version):
    """Why this machine's OpenSSL cannot offer TLS ``version`` ("TLSv1" ... "TLSv1.3") alone, or None when it can (cached).

    Asked of OpenSSL itself: a client context limited to the version starts a handshake in memory; a
    build or configuration without the version fails there ("no protocols available").
    """
    if version not in _VERSION_PROBLEMS:
        _VERSION_PROBLEMS[version] = _version_problem(version)
    return _VERSION_PROBLEMS[version]


def _version_problem(version):
    import warnings  # pylint: disable=import-outside-toplevel

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated in Python
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = TLS_VERSIONS[version]
            context.maximum_version = TLS_VERSIONS[version]
        context.set_ciphers(PINNED_VERSION_CIPHERS)
        client = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
        client.do_handshake()
    except ssl.SSLWantReadError:
        return None  # the ClientHello is written: OpenSSL offers the version
    except (ssl.SSLError, ValueError) as exc:
        return "this machine's OpenSSL (%s) cannot offer %s: %s" % (ssl.OPENSSL_VERSION, version, getattr(exc, "reason", None) or exc)
    return None
