# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How TLS problems read: the two error classes, and ssl errors classified into one-line reasons.

Private to this collection; standard library only, so that the engine can classify an ssl error met
after the handshake without loading cryptography. TLSOptionError is an option value that cannot be
used (the context builder, the trust loader and the offline checks all raise it); TLSFailure is the
TLS layer failing for one probe. Conditions are DCMTK's: a TLS error is condition 000b:(0x800 +
OpenSSL reason code), e.g. 000b:0886 for CERTIFICATE_VERIFY_FAILED (134).
"""

from __future__ import annotations

import re
import ssl

# OpenSSL reason codes (openssl/sslerr.h) of the ssl errors a handshake meets.
_SSL_REASONS = {
    "CERTIFICATE_VERIFY_FAILED": 134, "NO_CIPHERS_AVAILABLE": 181, "NO_PROTOCOLS_AVAILABLE": 191, "NO_SHARED_CIPHER": 193,
    "PACKET_LENGTH_TOO_LONG": 198, "UNEXPECTED_MESSAGE": 244, "UNSUPPORTED_PROTOCOL": 258, "WRONG_VERSION_NUMBER": 267,
    "DECRYPTION_FAILED_OR_BAD_RECORD_MAC": 281, "UNEXPECTED_EOF_WHILE_READING": 294, "UNSUPPORTED_ELLIPTIC_CURVE": 315,
    "WRONG_SIGNATURE_TYPE": 370, "NO_SHARED_SIGNATURE_ALGORITHMS": 376, "CA_MD_TOO_WEAK": 398, "EE_KEY_TOO_SMALL": 399,
    "DH_KEY_TOO_SMALL": 394, "VERSION_TOO_LOW": 396, "VERSION_TOO_HIGH": 166, "NO_SUITABLE_KEY_SHARE": 101,
    "SSLV3_ALERT_UNEXPECTED_MESSAGE": 1010, "SSLV3_ALERT_BAD_RECORD_MAC": 1020, "SSLV3_ALERT_HANDSHAKE_FAILURE": 1040,
    "SSLV3_ALERT_NO_CERTIFICATE": 1041, "SSLV3_ALERT_BAD_CERTIFICATE": 1042, "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": 1043,
    "SSLV3_ALERT_CERTIFICATE_REVOKED": 1044, "SSLV3_ALERT_CERTIFICATE_EXPIRED": 1045, "SSLV3_ALERT_CERTIFICATE_UNKNOWN": 1046,
    "SSLV3_ALERT_ILLEGAL_PARAMETER": 1047, "TLSV1_ALERT_UNKNOWN_CA": 1048, "TLSV1_ALERT_ACCESS_DENIED": 1049,
    "TLSV1_ALERT_DECODE_ERROR": 1050, "TLSV1_ALERT_DECRYPT_ERROR": 1051, "TLSV1_ALERT_PROTOCOL_VERSION": 1070,
    "TLSV1_ALERT_INSUFFICIENT_SECURITY": 1071, "TLSV1_ALERT_INTERNAL_ERROR": 1080, "TLSV1_ALERT_INAPPROPRIATE_FALLBACK": 1086,
    "TLSV1_ALERT_USER_CANCELLED": 1090, "TLSV1_UNRECOGNIZED_NAME": 1112, "TLSV13_ALERT_CERTIFICATE_REQUIRED": 1116,
    "TLSV1_ALERT_NO_APPLICATION_PROTOCOL": 1120,
}
# What a TLS alert from the peer most likely means for a C-ECHO client, added to the reason.
_ALERT_HINTS = {
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the peer requires a client certificate: set private_key and certificate",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "no TLS version, ciphersuite or certificate both sides accept (see tls_profile and ciphers)",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the peer does not speak a TLS version that tls_profile allows",
    "TLSV1_ALERT_UNKNOWN_CA": "the peer does not trust the issuer of our certificate",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the peer refused our certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the peer says our certificate has expired",
    "SSLV3_ALERT_CERTIFICATE_REVOKED": "the peer says our certificate is revoked",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "the peer could not verify our certificate",
    "TLSV1_ALERT_INSUFFICIENT_SECURITY": "the peer wants stronger ciphersuites than tls_profile offers",
    "WRONG_VERSION_NUMBER": "the peer does not answer with TLS: is it a plain DICOM port?",
    "UNSUPPORTED_PROTOCOL": "the peer only speaks TLS versions that tls_profile does not allow",
    "NO_PROTOCOLS_AVAILABLE": "tls_profile allows no TLS version this OpenSSL enables",
}
IO_CONDITION = "000b:0017 OpenSSL I/O error (SSL_ERROR_SYSCALL)"
VERIFY_CONDITION = "000b:0886 TLS error: certificate verify failed"


class TLSOptionError(ValueError):
    """A TLS option value that cannot be used; the text names the option."""


class TLSFailure(Exception):
    """The TLS layer failed for a probe: the one-line reason and echoscu's condition text."""

    def __init__(self, reason, condition):
        super().__init__(reason)
        self.reason = reason
        self.condition = condition


def ssl_text(exc):
    """The OpenSSL text of an ssl error without Python's '[LIB: REASON]' and '(_ssl.c:N)' decorations."""
    text = getattr(exc, "strerror", None) or str(exc)
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


def rehash_hint(directory):
    """What to do about a ca_dirs directory without OpenSSL hash links (the context and the offline check say it alike)."""
    return "ca_dirs %s has no OpenSSL hash links: run `openssl rehash %s`" % (directory, directory)


def classify_ssl_error(exc, config=None):
    """(reason, DCMTK condition, transcript detail line or None) for an ssl error of the handshake or later.

    ``config`` (the probe's ClientTLS, when known) adds why a verification could not succeed.
    """
    name = getattr(exc, "reason", None)
    text = ssl_text(exc)
    if isinstance(exc, ssl.SSLCertVerificationError) or name == "CERTIFICATE_VERIFY_FAILED":
        why = getattr(exc, "verify_message", None) or text
        reason = "TLS handshake failed: the peer's certificate did not verify: %s" % why
        if config is not None:
            if config.trust_empty:
                reason += " (no ca_files or ca_dirs are given, so nothing can verify it; or set verify_peer_cert: false)"
            elif config.unhashed_dirs and getattr(exc, "verify_code", None) in (2, 20):
                reason += " (%s)" % rehash_hint(config.unhashed_dirs[0])
        return reason, VERIFY_CONDITION, "TLS certificate verification failed: %s" % why
    code = _SSL_REASONS.get(name)
    if name in ("UNEXPECTED_EOF_WHILE_READING",) or name is None and "EOF" in text:
        return ("TLS failed: the peer closed the connection in the middle of TLS (%s): does it speak TLS on this port?" % text,
                IO_CONDITION, None)
    condition = "000b:%04x TLS error: %s" % (0x800 + code, text) if code else "TLS error: %s" % text
    reason = "TLS failed: %s" % text
    hint = _ALERT_HINTS.get(name)
    if hint:
        reason += " (%s)" % hint
    return reason, condition, None


def closed_after_handshake(what):
    """The reason for a peer that completed TLS, then closed before answering the A-ASSOCIATE-RQ."""
    return ("the peer closed the connection right after the TLS handshake, before answering the association request (%s): "
            "a TLS peer does this when it refuses our client certificate, or the lack of one" % what)
