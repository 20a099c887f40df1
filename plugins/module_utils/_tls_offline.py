# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""echoscu's offline TLS actions: --list-profiles, --list-ciphers, --verify-cert, --is-root-cert.

Private to this collection; no Ansible imports, no network. list_profiles() and list_ciphers() say
what this machine's OpenSSL can really do; verify_certificate() answers "would this client
certificate be accepted by these CA settings" with the `cryptography` verifier plus our own CRL
check (docs/dev/echoscu-behaviour.md 4), on the trust material _tls_trust loads for the TLS context
too; root_certificate() is echoscu's self-signed-root test and also verifies the self-signature,
which DCMTK does not. Unusable options raise TLSOptionError, as in the context builder.
"""

from __future__ import annotations

import datetime
import os
import re
import ssl
import traceback

from ._tls_certinfo import iso_time
from ._tls_crypto import InvalidSignature, UnsupportedAlgorithm, need_cryptography, x509
from ._tls_errors import TLSOptionError, rehash_hint
from ._tls_profiles import (
    CIPHER_BY_IANA,
    CIPHERSUITES,
    DEFAULT_PROFILE,
    PROFILES,
    TLS_VERSIONS,
    available_openssl_ciphers,
    profile_problem,
    version_problem,
    version_range,
)
from ._tls_trust import certificates_in, crl_mode, load_objects

try:
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
except ImportError:  # no cryptography, or one older than 42: TLS may still work, the offline checks cannot
    VERIFIER_IMPORT_ERROR = traceback.format_exc()
else:
    VERIFIER_IMPORT_ERROR = None
try:
    from cryptography.x509.verification import ExtensionPolicy
except ImportError:  # cryptography < 45: the verifier then applies its web PKI rules to the leaf too
    ExtensionPolicy = None


def list_profiles():
    """Every tls_profile with DCMTK's description, its TLS versions and suites, and whether it works here."""
    available = available_openssl_ciphers()
    profiles = []
    for name, spec in PROFILES.items():
        problem = profile_problem(name)
        offered = [iana for iana in spec["suites"] if CIPHER_BY_IANA[iana][1] in available]
        profiles.append({
            "name": name,
            "description": spec["title"],
            "echoscu_option": "%s (%s)" % (spec["option"], spec["long_option"]),
            "default": name == DEFAULT_PROFILE,
            "retired": spec["retired"],
            "tls_versions": version_range(name),
            "suites": list(spec["suites"]),
            "tls13_suites": list(spec["tls13"]),
            "offered_here": offered + list(spec["tls13"]),
            "available": problem is None,
            "reason": problem,
            "note": spec["note"],
        })
    return profiles


def list_tls_versions():
    """Each TLS version, and whether this machine's OpenSSL can offer it alone (what tls_version needs)."""
    out = []
    for version in TLS_VERSIONS:
        problem = version_problem(version)
        out.append({"version": version, "available": problem is None, "reason": problem})
    return out


def list_ciphers():
    """DCMTK's ciphersuite table (IANA names, for `ciphers`) with the OpenSSL names and whether this OpenSSL has each."""
    available = available_openssl_ciphers()
    return [{
        "iana_name": iana,
        "openssl_name": openssl,
        "min_tls_version": "TLSv" + min_tls,
        "key_exchange": kx,
        "mac": mac,
        "mode": mode,
        "encryption_bits": bits,
        "usable": openssl is not None and openssl in available,
    } for iana, openssl, min_tls, kx, mac, mode, bits in CIPHERSUITES]


# ---- certificates ------------------------------------------------------------------------------

def _need_cryptography(option):
    need_cryptography(option)
    if VERIFIER_IMPORT_ERROR is not None:
        raise TLSOptionError("%s needs a newer Python library cryptography than this host has (one with cryptography.x509.verification)"
                             % option)


def _crl_problem(certificate, issuer, crls, now):
    """OpenSSL's CRL verdict for one certificate, or None when it is not revoked."""
    candidates = []
    for crl in crls:
        if crl.issuer != certificate.issuer:
            continue
        try:
            if crl.is_signature_valid(issuer.public_key()):
                candidates.append(crl)
        except (TypeError, UnsupportedAlgorithm):
            continue
    if not candidates:
        return "unable to get certificate CRL"
    current = [crl for crl in candidates if crl.last_update_utc <= now and (crl.next_update_utc is None or now <= crl.next_update_utc)]
    if not current:
        return "CRL is not yet valid" if all(crl.last_update_utc > now for crl in candidates) else "CRL has expired"
    for crl in current:
        if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None:
            return "certificate revoked"
    return None


def verify_certificate(path, values, now=None):
    """echoscu +vc: would the client certificate in ``path`` be accepted with these CA and CRL settings?

    ``values``: key_format, ca_files, ca_dirs, crl_files, crl_check. Returns the cert_verification dict
    (passed, reason, subject, issuer, not_after, chain). Raises TLSOptionError for unusable options.
    """
    _need_cryptography("verify_cert")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    der = values.get("key_format") == "der"
    result = {"passed": False, "reason": None, "subject": None, "issuer": None, "not_after": None, "chain": []}
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        result["reason"] = "Cannot open certificate file '%s'" % path
        return result
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        certificates = certificates_in(data, der)
    except ValueError:
        result["reason"] = "Not a %s certificate file: '%s'" % ("DER" if der else "PEM", path)
        return result
    leaf, untrusted = certificates[0], certificates[1:]
    result.update(subject=leaf.subject.rfc4514_string(), issuer=leaf.issuer.rfc4514_string(), not_after=iso_time(leaf.not_valid_after_utc))
    store_certs, crls, unhashed = load_objects(values)
    # OpenSSL accepts no partial chains: only self-issued store members are anchors, the others help build the chain.
    anchors = [cert for cert in store_certs if cert.subject == cert.issuer]
    intermediates = untrusted + [cert for cert in store_certs if cert.subject != cert.issuer]
    if not anchors:
        result["reason"] = "unable to get local issuer certificate (no self-signed CA certificate in ca_files or ca_dirs)"
        if unhashed:
            result["reason"] += "; " + rehash_hint(unhashed[0])
        return result
    builder = PolicyBuilder().store(Store(anchors)).time(now)
    if ExtensionPolicy is not None:  # OpenSSL checks no purpose or extensions of the leaf for +vc
        builder = builder.extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
    try:
        verified = builder.build_client_verifier().verify(leaf, intermediates)
    except VerificationError as exc:
        result["reason"] = _verification_reason(exc, leaf, now)
        return result
    chain = list(verified.chain)  # leaf first, the anchor last
    result["chain"] = [cert.subject.rfc4514_string() for cert in chain]
    mode = crl_mode(values)
    if mode != "none":
        last = len(chain) if mode == "chain" else 1
        for index in range(last):
            issuer = chain[index + 1] if index + 1 < len(chain) else chain[index]
            problem = _crl_problem(chain[index], issuer, crls, now)
            if problem:
                result["reason"] = problem if index == 0 else "%s (%s)" % (problem, chain[index].subject.rfc4514_string())
                return result
    result["passed"] = True
    return result


def _verification_reason(exc, leaf, now):
    text = str(exc)
    if "not valid at validation time" in text:
        if now > leaf.not_valid_after_utc:
            return "certificate has expired"
        if now < leaf.not_valid_before_utc:
            return "certificate is not yet valid"
        return "a certificate of the chain is outside its validity period (%s)" % text
    if "candidates exhausted" in text and "no interior errors" in text:
        return "unable to get local issuer certificate"
    text = re.sub(r"^validation failed: ", "", text)
    return re.sub(r" \(encountered processing <Certificate\(subject=<Name\((.*?)\)>, \.\.\.\)>\)$", r" (certificate \1)", text)


def root_certificate(path, values, now=None):
    """echoscu +rc: is the first certificate of ``path`` a valid self-signed root?

    DCMTK's test (self-issued, key identifiers consistent, inside its validity period) gives
    echoscu_verdict; is_root also needs the self-signature to verify, which DCMTK does not check.
    """
    _need_cryptography("is_root_cert")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    der = values.get("key_format") == "der"
    result = {"is_root": False, "reason": None, "self_signature_valid": None, "basic_constraints_ca": None,
              "key_cert_sign": None, "subject": None, "not_after": None, "echoscu_verdict": False}
    try:
        with open(path, "rb") as handle:
            certificate = certificates_in(handle.read(), der)[0]
    except (OSError, ValueError, IndexError):
        result["reason"] = "Cannot read certificate file '%s'%s" % (path, " (as DER)" if der else " (as PEM; key_format: der for DER)")
        return result
    result["subject"] = certificate.subject.rfc4514_string()
    result["not_after"] = iso_time(certificate.not_valid_after_utc)
    try:
        result["basic_constraints_ca"] = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        pass
    try:
        result["key_cert_sign"] = certificate.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        pass
    try:
        certificate.verify_directly_issued_by(certificate)
        result["self_signature_valid"] = True
    except (ValueError, InvalidSignature, TypeError, UnsupportedAlgorithm):
        result["self_signature_valid"] = False
    problems = []
    if certificate.subject != certificate.issuer:
        problems.append("not self-issued: issued by %s" % certificate.issuer.rfc4514_string())
    else:
        try:
            ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
            if aki is not None and aki != ski:
                problems.append("its authority key identifier is not its own subject key identifier")
        except x509.ExtensionNotFound:
            pass
    if now > certificate.not_valid_after_utc:
        problems.append("expired on %s" % result["not_after"])
    elif now < certificate.not_valid_before_utc:
        problems.append("not valid before %s" % iso_time(certificate.not_valid_before_utc))
    result["echoscu_verdict"] = not problems
    if not problems and not result["self_signature_valid"]:
        problems.append("its self-signature does not verify (DCMTK does not check this and would call it a valid root)")
    result["is_root"] = not problems
    if problems:
        result["reason"] = "; ".join(problems)
    elif result["basic_constraints_ca"] is not True:
        result["reason"] = "self-signed and valid, but basicConstraints does not say CA:TRUE, so OpenSSL will not accept it as an issuer " \
                           "(DCMTK does not check this either)"
    elif result["key_cert_sign"] is False:
        result["reason"] = "self-signed and valid, but its keyUsage lacks keyCertSign (DCMTK does not check this)"
    return result


def ssl_library():
    """The OpenSSL this Python is linked with, for the listing's header."""
    return ssl.OPENSSL_VERSION
