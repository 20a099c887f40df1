# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a tls_profile allows beyond its own ciphersuites: certificates, and extra `ciphers`.

Private to this collection; no Ansible imports. DCMTK 3.7's per-profile rules (docs/dev/echoscu-behaviour.md 4),
read from each profile's `certificates` and `extra` attributes in _tls_profiles.PROFILES, never from
its name. policy_findings() judges a certificate: ours when the context is built
(check_own_certificate), the peer's after the handshake (_tls_handshake). cipher_string() turns the
profile and `ciphers` into OpenSSL's cipher list, with echoscu's refusals and warnings.
"""

from __future__ import annotations

import ssl

from ._tls_certinfo import digest_name, key_description
from ._tls_errors import TLSOptionError
from ._tls_profiles import CIPHER_BY_IANA, IANA_BY_OPENSSL, PROFILES, available_openssl_ciphers, profile_problem

_WEAK_DIGESTS = ("md2", "md4", "md5")
_SHA2_DIGESTS = ("sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256", "sha3-224", "sha3-256", "sha3-384", "sha3-512")


def policy_findings(certificate, profile, own):
    """(refusals, warnings) for a certificate under ``profile``: ``own`` is ours, else the peer's."""
    rules = PROFILES[profile]["certificates"]
    strict = rules == "strict"
    refuse, warn = [], []
    key_type, bits = key_description(certificate.public_key())
    if key_type == "RSA" and bits < 2048:
        text = "RSA key of %d bits, RFC 9325 asks for at least 2048" % bits
        (refuse if strict or (rules == "rfc9325" and not own) else warn).append(text)
    elif key_type == "EC" and bits < 256:
        text = "EC key of %d bits, the profile asks for at least 256" % bits
        if strict:
            refuse.append(text)
        elif bits < 224:
            warn.append(text)
    elif key_type == "DSA" and own:
        (warn if rules == "lenient" else refuse).append("DSA certificate, which RFC 9325 retires")
    digest = digest_name(certificate)
    if digest in _WEAK_DIGESTS:
        refuse.append("signed with %s" % digest.upper())
    elif digest is not None and digest not in _SHA2_DIGESTS:
        (refuse if strict else warn).append("signed with %s, RFC 9325 recommends SHA-256 or better" % digest.upper())
    return refuse, warn


def check_own_certificate(certificate, path, config, context):
    """Our certificate under config.profile: refused (TLSOptionError), warned about, or capping the TLS version (DSA)."""
    refuse, warn = policy_findings(certificate, config.profile, own=True)
    if refuse:
        raise TLSOptionError("certificate %s is not allowed with tls_profile %s (%s): %s"
                             % (path, config.profile, PROFILES[config.profile]["title"], "; ".join(refuse)))
    for text in warn:
        config.warnings.append("Possibly weak certificate '%s': %s" % (path, text))
    if key_description(certificate.public_key())[0] == "DSA" and context.maximum_version > ssl.TLSVersion.TLSv1_2:
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 has no DSA; DCMTK caps the version too


def cipher_string(name, ciphers, warnings):
    """The OpenSSL cipher list of profile ``name``: its suites, then ``ciphers`` checked against its `extra` rule.

    Appends echoscu's warnings about the extra suites to ``warnings``; raises TLSOptionError naming the option.
    """
    profile = PROFILES[name]
    available = available_openssl_ciphers()
    names = [CIPHER_BY_IANA[iana][1] for iana in profile["suites"] if CIPHER_BY_IANA[iana][1] in available]
    rule = profile["extra"]
    if ciphers and rule == "refused":
        raise TLSOptionError("ciphers cannot be combined with tls_profile %s (echoscu: --cipher not allowed with %s)"
                             % (name, profile["long_option"]))
    if ciphers and rule == "none":
        raise TLSOptionError("ciphers: additional ciphersuites are not permitted with security profile '%s' (tls_profile %s)"
                             % (profile["title"], name))
    for index, iana in enumerate(ciphers):
        names.append(_extra_cipher("ciphers[%d]" % index, iana, name, warnings))
    if not names:
        raise TLSOptionError("tls_profile %s: %s" % (name, profile_problem(name)))
    return ":".join(names)


def _extra_cipher(option, iana, name, warnings):
    """The OpenSSL name of one extra suite, after the profile's rule for it."""
    profile = PROFILES[name]
    row = CIPHER_BY_IANA.get(iana)
    if row is None:
        hint = ""
        if iana in IANA_BY_OPENSSL:
            hint = "; that is an OpenSSL name, the IANA name is %s" % IANA_BY_OPENSSL[iana]
        elif iana.startswith("TLS_AES_") or iana.startswith("TLS_CHACHA20_"):
            hint = "; TLS 1.3 suites cannot be chosen (OpenSSL's defaults are offered)"
        raise TLSOptionError("%s: unknown or invalid ciphersuite %r: use the IANA name of a TLS 1.2 (or older) suite, "
                             "see list_ciphers%s" % (option, iana, hint))
    _iana, openssl, _min, kx, mac, mode, bits = row
    if openssl is None or openssl not in available_openssl_ciphers():
        raise TLSOptionError("%s: ciphersuite %s is not supported by this machine's OpenSSL (%s)" % (option, iana, ssl.OPENSSL_VERSION))
    rule = profile["extra"]
    if rule in ("bcp195", "8996") and bits == 0:
        raise TLSOptionError("%s: unencrypted ciphersuite '%s' not permitted with security profile '%s' (tls_profile %s)"
                             % (option, iana, profile["title"], name))
    if rule == "8996" and mac == "SHA1":
        raise TLSOptionError("%s: ciphersuite '%s' using SHA-1 MAC not permitted with security profile '%s' (tls_profile %s)"
                             % (option, iana, profile["title"], name))
    rfc = "RFC 9325" if rule == "8996" else "RFC 7525"
    discouraged = []
    if rule in ("bcp195", "8996") and kx == "RSA":
        discouraged.append("uses RSA key transport")
    if rule == "8996" and kx == "DH":
        discouraged.append("uses DHE key exchange")
    if rule == "8996" and mode == "CBC":
        discouraged.append("uses CBC mode")
    for what in discouraged:
        warnings.append("Ciphersuite '%s' %s. %s recommends that such cipher suites should not be used." % (iana, what, rfc))
    return openssl
