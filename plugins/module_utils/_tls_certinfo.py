# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What we say about a certificate: its key and digest, the result's peer_certificate, echoscu's details block.

Private to this collection; no Ansible imports. Takes `cryptography` certificates (callers have it
when they get here). key_description() and digest_name() are also what the certificate policy
(_tls_policy) judges; the rest renders: certificate_info() the module's RETURN dict, details_block()
echoscu -d's TLS CONNECTION DETAILS block (docs/dev/echoscu-behaviour.md 4) in OpenSSL's one-line
names and ASN1_TIME dates.
"""

from __future__ import annotations

import datetime

from ._tls_crypto import dsa, ec, ed448, ed25519, hashes, rsa

_ONELINE_NAMES = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
    "2.5.4.5": "serialNumber", "1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID", "2.5.4.4": "SN", "2.5.4.42": "GN", "2.5.4.12": "title",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def key_description(public_key):
    """(type, bits) of a public key as echoscu and the result name them: RSA, EC, DSA, Ed25519, Ed448."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC", public_key.curve.key_size
    if isinstance(public_key, dsa.DSAPublicKey):
        return "DSA", public_key.key_size
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(public_key).__name__.replace("PublicKey", "").lstrip("_"), None


def digest_name(certificate):
    """The signature's hash algorithm ("sha256", ...), None for algorithms without one (Ed25519), or "unknown"."""
    try:
        algorithm = certificate.signature_hash_algorithm
    except Exception:  # pylint: disable=broad-except  # unsupported algorithms raise UnsupportedAlgorithm
        return "unknown"
    return algorithm.name if algorithm is not None else None


def iso_time(moment):
    """A UTC datetime as the results write it: 2026-11-25T09:35:02Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _asn1_time(moment):
    """OpenSSL's ASN1_TIME_print form, which echoscu prints: 'Nov 25 09:35:02 2026 GMT'."""
    return "%s %2d %02d:%02d:%02d %d GMT" % (_MONTHS[moment.month - 1], moment.day, moment.hour, moment.minute, moment.second, moment.year)


def oneline_name(name):
    """OpenSSL's one-line '/CN=...' form of an X.509 name, as echoscu prints it."""
    parts = []
    for attribute in name:
        label = _ONELINE_NAMES.get(attribute.oid.dotted_string, attribute.oid.dotted_string)
        parts.append("/%s=%s" % (label, attribute.value if isinstance(attribute.value, str) else attribute.value.hex()))
    return "".join(parts)


def certificate_info(certificate, now=None):
    """The result's peer_certificate dict (the module's RETURN documentation) of a cryptography certificate."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    key_type, bits = key_description(certificate.public_key())
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial": "%X" % certificate.serial_number,
        "not_before": iso_time(certificate.not_valid_before_utc),
        "not_after": iso_time(certificate.not_valid_after_utc),
        "days_remaining": (certificate.not_valid_after_utc - now).days,
        "sha256_fingerprint": ":".join(fingerprint[index:index + 2] for index in range(0, len(fingerprint), 2)),
        "key_type": key_type,
        "key_bits": bits,
        "signature_algorithm": digest_name(certificate),
        "self_signed": certificate.subject == certificate.issuer,
    }


def details_block(result, peer):
    """echoscu -d's TLS CONNECTION DETAILS block as one string: ``result`` is the result's `tls` dict, ``peer`` the certificate or None."""
    lines = [
        "================== BEGIN TLS CONNECTION DETAILS =================",
        "Transport connection: TLS over TCP/IP",
        "  Protocol    : %s" % result["version"],
        "  Ciphersuite : %s, encryption: %s bits" % (result["cipher"], result["encryption_bits"]),
    ]
    if peer is None:
        lines.append("Peer did not provide a certificate or certificate verification is disabled.")
    else:
        info = result["peer_certificate"]
        lines += [
            "Peer X.509v%d Certificate" % (peer.version.value + 1),
            "  Subject     : %s" % oneline_name(peer.subject),
            "  Issued by   : %s" % oneline_name(peer.issuer),
            "  Serial no.  : %s" % info["serial"],
            "  Validity    : not before %s, not after %s" % (_asn1_time(peer.not_valid_before_utc), _asn1_time(peer.not_valid_after_utc)),
            "  Public key  : %s, %s bits" % (info["key_type"], info["key_bits"]),
        ]
    lines.append("=================== END TLS CONNECTION DETAILS ==================")
    return "\n".join(lines)
