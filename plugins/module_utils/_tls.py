# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS for the C-ECHO requestor: echoscu's TLS options on Python's ssl, as docs/dev/echoscu-behaviour.md 4 describes.

Private to this collection; no Ansible imports. build_client_tls() turns validated option values into
one ClientTLS (the SSLContext and what the probe needs around it), built once per distinct
configuration; open_connection() does the handshake on a connected socket for the engine, fills the
result's `tls` dict and logs echoscu's TLS details block; the classify functions turn ssl errors into
one-line reasons with DCMTK's condition texts.

Never an OpenSSL prompt: an encrypted key without a password meets a callback that raises. DER keys
and certificates are converted with `cryptography` into a 0600 temporary file that is removed as
soon as OpenSSL has read it.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import re
import ssl
import stat
import tempfile
import traceback
import warnings

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

from ._tls_profiles import (
    CIPHER_BY_IANA,
    CONFIG_OPTIONS,
    IANA_BY_OPENSSL,
    PINNED_VERSION_CIPHERS,
    PROFILES,
    TLS_VERSIONS,
    available_openssl_ciphers,
    profile_problem,
    version_problem,
)

# Used when neither connection_timeout nor socket_timeout bounds the TLS handshake.
HANDSHAKE_CAP = 60
SEED_BYTES = 1024  # what OpenSSL's RAND_write_file writes, and echoscu +ws/+wf with it
_HASHED_NAME = re.compile(r"^[0-9a-f]{8}\.(r?)[0-9]+$")

# OpenSSL reason codes (openssl/sslerr.h) of the ssl errors a handshake meets. DCMTK prints a TLS
# error as condition 000b:(0x800 + reason), e.g. 000b:0886 for CERTIFICATE_VERIFY_FAILED (134).
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
_IO_CONDITION = "000b:0017 OpenSSL I/O error (SSL_ERROR_SYSCALL)"
_WEAK_DIGESTS = ("md2", "md4", "md5")
_SHA2_DIGESTS = ("sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256", "sha3-224", "sha3-256", "sha3-384", "sha3-512")
_ONELINE_NAMES = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
    "2.5.4.5": "serialNumber", "1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID", "2.5.4.4": "SN", "2.5.4.42": "GN", "2.5.4.12": "title",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TLSOptionError(ValueError):
    """A TLS option value that cannot be used; the text names the option."""


class TLSFailure(Exception):
    """The TLS layer failed for a probe: the one-line reason and echoscu's condition text."""

    def __init__(self, reason, condition):
        super().__init__(reason)
        self.reason = reason
        self.condition = condition


class _PasswordNeeded(Exception):
    """Raised by our password callback: OpenSSL asked for a password that nobody gave."""


def _no_password():
    raise _PasswordNeeded()


class ClientTLS:
    """One TLS client configuration: the SSLContext and what a probe needs around it."""

    __slots__ = ("context", "profile", "verify_peer", "warnings", "trust_empty", "unhashed_dirs", "crl_mode",
                 "seed_target", "authenticated")

    def __init__(self):
        self.context = None
        self.profile = None
        self.verify_peer = True
        self.warnings = []          # echoscu's W: lines for this configuration, logged by every probe using it
        self.trust_empty = True     # no ca_files/ca_dirs: peer verification cannot succeed
        self.unhashed_dirs = []     # ca_dirs without OpenSSL hash links, for the verification-failure hint
        self.crl_mode = "none"
        self.seed_target = None     # where to write the PRNG seed after the run (+ws/+wf), or None
        self.authenticated = False  # a client certificate is loaded (+tls rather than +tla)


class TLSRequest:
    """What one probe's `tls` slot holds: the shared configuration and this endpoint's SNI name."""

    __slots__ = ("config", "sni")

    def __init__(self, config, sni):
        self.config = config
        self.sni = sni


# ---- building the client context ---------------------------------------------------------------

def config_key(values):
    """A hashable key of the TLS configuration in ``values``: equal keys share one ClientTLS."""
    key = []
    for name in CONFIG_OPTIONS:
        value = values.get(name)
        key.append(tuple(value) if isinstance(value, list) else value)
    return tuple(key)


def _readable_file(option, path):
    if not os.path.exists(path):
        raise TLSOptionError("%s %s does not exist" % (option, path))
    if not os.path.isfile(path):
        raise TLSOptionError("%s %s is not a file" % (option, path))
    if not os.access(path, os.R_OK):
        raise TLSOptionError("%s %s is not readable" % (option, path))
    with open(path, "rb") as handle:
        return handle.read()


def _need_cryptography(what):
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        raise TLSOptionError("%s needs the Python library cryptography, which cannot be imported on this host" % what)


class _TempFiles:
    """0600 temporary files for OpenSSL to read, removed together as soon as it has read them."""

    def __init__(self):
        self.paths = []

    def write(self, data):
        handle, path = tempfile.mkstemp(prefix="dicom_tls_", suffix=".pem")  # mkstemp creates it 0600
        self.paths.append(path)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        return path

    def remove(self):
        for path in self.paths:
            try:
                os.unlink(path)
            except OSError:
                pass
        self.paths = []


def _pem_crl(data, option, path):
    _need_cryptography("%s in DER" % option)
    try:
        return x509.load_der_x509_crl(data).public_bytes(serialization.Encoding.PEM)
    except ValueError:
        raise TLSOptionError("%s %s is neither a DER certificate nor a DER CRL (key_format is der)" % (option, path)) from None


def _load_trust_file(context, option, path, der, temp):
    data = _readable_file(option, path)
    if der:
        try:
            context.load_verify_locations(cadata=data)
            return
        except ssl.SSLError:
            context.load_verify_locations(cafile=temp.write(_pem_crl(data, option, path)))
            return
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        raise TLSOptionError("%s %s holds no PEM certificate or CRL (%s)%s"
                             % (option, path, _ssl_text(exc), "; set key_format: der for DER files" if b"-----BEGIN" not in data else "")) from None


def _load_crl_file(context, option, path, der, temp):
    data = _readable_file(option, path)
    if der:
        context.load_verify_locations(cafile=temp.write(_pem_crl(data, option, path)))
        return
    if b"-----BEGIN X509 CRL-----" not in data:
        raise TLSOptionError("%s %s holds no PEM CRL%s" % (option, path, "; set key_format: der for DER files" if b"-----BEGIN" not in data else ""))
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        raise TLSOptionError("%s %s cannot be loaded: %s" % (option, path, _ssl_text(exc))) from None


def _load_trust_dir(context, option, path, der, temp, config):
    if not os.path.isdir(path):
        raise TLSOptionError("%s %s is not a directory" % (option, path) if os.path.exists(path) else "%s %s does not exist" % (option, path))
    try:
        names = os.listdir(path)
    except OSError as exc:
        raise TLSOptionError("%s %s cannot be read: %s" % (option, path, exc.strerror)) from None
    hashed = [name for name in names if _HASHED_NAME.match(name)]
    if not hashed:
        config.unhashed_dirs.append(path)
    if not der:
        context.load_verify_locations(capath=path)  # OpenSSL looks certificates up lazily by <hash>.N, as DCMTK
        return
    # Python reads hashed directories as PEM only: load the hashed DER files now (same files OpenSSL would find).
    for name in sorted(hashed):
        full = os.path.join(path, name)
        if _HASHED_NAME.match(name).group(1):
            _load_crl_file(context, option, full, True, temp)
        else:
            try:
                context.load_verify_locations(cadata=_readable_file(option, full))
            except ssl.SSLError:
                raise TLSOptionError("%s %s is not a DER certificate (key_format is der)" % (option, full)) from None


def _load_own_certificate(context, values, config, der, temp):
    key_path, cert_path, password = values["private_key"], values["certificate"], values.get("private_key_password")
    key_data = _readable_file("private_key", key_path)
    cert_data = _readable_file("certificate", cert_path)
    certificate = None
    if der:
        _need_cryptography("key_format der")
        try:
            certificate = x509.load_der_x509_certificate(cert_data)
        except ValueError:
            raise TLSOptionError("certificate %s is not a DER certificate (key_format is der)" % cert_path) from None
        try:
            key = serialization.load_der_private_key(key_data, password=None)
        except TypeError:
            raise TLSOptionError("private_key %s is an encrypted DER key: echoscu cannot load those either; "
                                 "convert it to an encrypted PEM key (openssl pkey -inform der ... -aes256)" % key_path) from None
        except Exception as exc:  # pylint: disable=broad-except  # cryptography raises several kinds for garbage
            raise TLSOptionError("Unable to load private TLS key from '%s': not a DER private key (%s)" % (key_path, exc)) from None
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        combined = temp.write(pem + certificate.public_bytes(serialization.Encoding.PEM))
        try:
            context.load_cert_chain(combined)
        except ssl.SSLError as exc:
            raise _load_error(exc, key_path, cert_path, password) from None
        finally:
            temp.remove()
    else:
        if CRYPTOGRAPHY_IMPORT_ERROR is None:
            try:
                certificate = x509.load_pem_x509_certificates(cert_data)[0]
            except ValueError:
                raise TLSOptionError("certificate %s holds no PEM certificate%s"
                                     % (cert_path, "; set key_format: der for DER files" if b"-----BEGIN" not in cert_data else "")) from None
        try:
            context.load_cert_chain(cert_path, key_path, password=_no_password if password is None else password)
        except _PasswordNeeded:
            raise TLSOptionError("private_key %s is encrypted and private_key_password is not set (echoscu would prompt for it; "
                                 "a module cannot: give the password, or an empty string for echoscu -pw)" % key_path) from None
        except ssl.SSLError as exc:
            raise _load_error(exc, key_path, cert_path, password, key_data) from None
    config.authenticated = True
    if certificate is not None:
        _own_certificate_policy(certificate, cert_path, config, context)


def _load_error(exc, key_path, cert_path, password, key_data=b""):
    if getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
        return TLSOptionError("Private key '%s' and certificate '%s' do not match" % (key_path, cert_path))
    if b"ENCRYPTED" in key_data:
        why = "wrong private_key_password" if password is not None else "encrypted"
    elif b"-----BEGIN" not in key_data and key_data:
        why = "not a PEM private key; set key_format: der for DER files"
    else:
        why = _ssl_text(exc)
    return TLSOptionError("Unable to load private TLS key from '%s' (private_key): %s" % (key_path, why))


def _ssl_text(exc):
    """The OpenSSL text of an ssl error without Python's '[LIB: REASON]' and '(_ssl.c:N)' decorations."""
    text = getattr(exc, "strerror", None) or str(exc)
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", text)


def _digest_name(certificate):
    try:
        algorithm = certificate.signature_hash_algorithm
    except Exception:  # pylint: disable=broad-except  # unsupported algorithms raise UnsupportedAlgorithm
        return "unknown"
    return algorithm.name if algorithm is not None else None


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


def _policy_findings(certificate, profile, own):
    """DCMTK 3.7's per-profile certificate rules (docs/dev/echoscu-behaviour.md 4) as (refusals, warnings)."""
    refuse, warn = [], []
    strict = profile == "8996-mod"
    key_type, bits = key_description(certificate.public_key())
    if key_type == "RSA" and bits < 2048:
        text = "RSA key of %d bits, RFC 9325 asks for at least 2048" % bits
        (refuse if strict or (profile == "8996" and not own) else warn).append(text)
    elif key_type == "EC" and bits < 256:
        text = "EC key of %d bits, the profile asks for at least 256" % bits
        if strict:
            refuse.append(text)
        elif bits < 224:
            warn.append(text)
    elif key_type == "DSA" and own:
        (refuse if profile in ("8996", "8996-mod") else warn).append("DSA certificate, which RFC 9325 retires")
    digest = _digest_name(certificate)
    if digest in _WEAK_DIGESTS:
        refuse.append("signed with %s" % digest.upper())
    elif digest is not None and digest not in _SHA2_DIGESTS:
        (refuse if strict else warn).append("signed with %s, RFC 9325 recommends SHA-256 or better" % digest.upper())
    return refuse, warn


def _own_certificate_policy(certificate, path, config, context):
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        return
    refuse, warn = _policy_findings(certificate, config.profile, own=True)
    if refuse:
        raise TLSOptionError("certificate %s is not allowed with tls_profile %s (%s): %s"
                             % (path, config.profile, PROFILES[config.profile]["title"], "; ".join(refuse)))
    for text in warn:
        config.warnings.append("Possibly weak certificate '%s': %s" % (path, text))
    if key_description(certificate.public_key())[0] == "DSA" and context.maximum_version > ssl.TLSVersion.TLSv1_2:
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 has no DSA; DCMTK caps the version too


def _cipher_string(values, config):
    """The OpenSSL cipher list: the profile's suites, then `ciphers` checked against the profile's rules."""
    profile = PROFILES[config.profile]
    available = available_openssl_ciphers()
    names = [CIPHER_BY_IANA[iana][1] for iana in profile["suites"] if CIPHER_BY_IANA[iana][1] in available]
    extras = values.get("ciphers") or []
    if extras and profile["extra"] == "refused":
        raise TLSOptionError("ciphers cannot be combined with tls_profile bcp195-ex (echoscu: --cipher not allowed with --profile-bcp195-ex)")
    if extras and profile["extra"] == "none":
        raise TLSOptionError("ciphers: additional ciphersuites are not permitted with security profile '%s' (tls_profile %s)"
                             % (profile["title"], config.profile))
    for index, iana in enumerate(extras):
        option = "ciphers[%d]" % index
        row = CIPHER_BY_IANA.get(iana)
        if row is None:
            hint = ""
            if iana in IANA_BY_OPENSSL:
                hint = "; that is an OpenSSL name, the IANA name is %s" % IANA_BY_OPENSSL[iana]
            elif iana.startswith("TLS_AES_") or iana.startswith("TLS_CHACHA20_"):
                hint = "; TLS 1.3 suites cannot be chosen (OpenSSL's defaults are offered)"
            raise TLSOptionError("%s: unknown or invalid ciphersuite %r: use the IANA name of a TLS 1.2 (or older) suite, "
                                 "see list_ciphers%s" % (option, iana, hint))
        _iana, openssl, _min, kx, mac, _mode, bits = row
        if openssl is None or openssl not in available:
            raise TLSOptionError("%s: ciphersuite %s is not supported by this machine's OpenSSL (%s)" % (option, iana, ssl.OPENSSL_VERSION))
        rule = profile["extra"]
        if rule in ("bcp195", "8996") and bits == 0:
            raise TLSOptionError("%s: unencrypted ciphersuite '%s' not permitted with security profile '%s' (tls_profile %s)"
                                 % (option, iana, profile["title"], config.profile))
        if rule == "8996" and mac == "SHA1":
            raise TLSOptionError("%s: ciphersuite '%s' using SHA-1 MAC not permitted with security profile '%s' (tls_profile %s)"
                                 % (option, iana, profile["title"], config.profile))
        rfc = "RFC 9325" if rule == "8996" else "RFC 7525"
        if rule in ("bcp195", "8996") and kx == "RSA":
            config.warnings.append("Ciphersuite '%s' uses RSA key transport. %s recommends that such cipher suites should not be used." % (iana, rfc))
        if rule == "8996" and kx == "DH":
            config.warnings.append("Ciphersuite '%s' uses DHE key exchange. %s recommends that such cipher suites should not be used." % (iana, rfc))
        if rule == "8996" and _mode == "CBC":
            config.warnings.append("Ciphersuite '%s' uses CBC mode. %s recommends that such cipher suites should not be used." % (iana, rfc))
        names.append(openssl)
    if not names:
        raise TLSOptionError("tls_profile %s: %s" % (config.profile, profile_problem(config.profile)))
    return ":".join(names)


def build_client_tls(values):
    """One ClientTLS from validated option values (the option names of _request.OPTIONS); raises TLSOptionError."""
    config = ClientTLS()
    profile = values.get("tls_profile") or "8996"
    if profile not in PROFILES:
        raise TLSOptionError("tls_profile must be one of %s, got %r" % (", ".join(PROFILES), profile))
    problem = profile_problem(profile)
    if problem:
        raise TLSOptionError("tls_profile %s (%s) is not available here: it %s" % (profile, PROFILES[profile]["title"], problem))
    config.profile = profile
    key, cert = values.get("private_key"), values.get("certificate")
    if key and not cert:
        raise TLSOptionError("private_key requires certificate (echoscu +tls takes both)")
    if cert and not key:
        raise TLSOptionError("certificate requires private_key (echoscu +tls takes both)")
    if values.get("private_key_password") is not None and not key:
        raise TLSOptionError("private_key_password only applies with private_key (echoscu: --use-passwd only allowed with --enable-tls)")
    seed = values.get("seed_file")
    if values.get("write_seed") and values.get("write_seed_file"):
        raise TLSOptionError("write_seed and write_seed_file are mutually exclusive (echoscu +ws / +wf)")
    if values.get("write_seed") and not seed:
        raise TLSOptionError("write_seed requires seed_file (echoscu: --write-seed only allowed with --seed)")
    if values.get("write_seed_file") and not seed:
        raise TLSOptionError("write_seed_file requires seed_file (echoscu: --write-seed-file only allowed with --seed)")
    der = values.get("key_format") == "der"

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # never create_default_context(): no system trust store, as DCMTK
    context.check_hostname = False                     # DCMTK never compares a name with the certificate
    config.verify_peer = values.get("verify_peer_cert", True) is not False
    context.verify_mode = ssl.CERT_REQUIRED if config.verify_peer else ssl.CERT_NONE
    flags = ssl.VERIFY_X509_TRUSTED_FIRST              # no partial chains, no X509_STRICT: OpenSSL's lenient rules, as DCMTK
    crl_mode = values.get("crl_check") or "none"
    if values.get("crl_files") and crl_mode == "none":
        crl_mode = "leaf"                              # +crl implies leaf checking
    if crl_mode == "leaf":
        flags |= ssl.VERIFY_CRL_CHECK_LEAF
    elif crl_mode == "chain":
        flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    context.verify_flags = flags
    config.crl_mode = crl_mode
    spec = PROFILES[profile]
    pinned = values.get("tls_version")
    if pinned is not None and pinned not in TLS_VERSIONS:
        raise TLSOptionError("tls_version must be one of %s, got %r" % (", ".join(TLS_VERSIONS), pinned))
    if pinned is not None and version_problem(pinned):
        raise TLSOptionError("tls_version %s: %s" % (pinned, version_problem(pinned)))
    if pinned is not None and values.get("ciphers"):
        raise TLSOptionError("ciphers cannot be combined with tls_version (it offers every ciphersuite of that version)")
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated in Python; DCMTK's older profiles allow them
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = TLS_VERSIONS[pinned or spec["min"]]
        context.maximum_version = TLS_VERSIONS[pinned or spec["max"]]
    try:
        if pinned is not None:  # one version, every suite it can use: only the version decides the handshake
            context.set_ciphers(PINNED_VERSION_CIPHERS)
        else:
            context.set_ciphers(_cipher_string(values, config) + ":@SECLEVEL=0")  # DCMTK runs OpenSSL at security level 0
    except ssl.SSLError as exc:
        raise TLSOptionError("tls_profile %s: OpenSSL accepts none of its ciphersuites (%s)" % (profile, _ssl_text(exc))) from None
    context.options |= getattr(ssl, "OP_NO_TICKET", 0)  # DCMTK keeps no sessions

    temp = _TempFiles()
    try:
        for index, path in enumerate(values.get("ca_files") or []):
            _load_trust_file(context, "ca_files[%d]" % index, path, der, temp)
        for index, path in enumerate(values.get("ca_dirs") or []):
            _load_trust_dir(context, "ca_dirs[%d]" % index, path, der, temp, config)
        for index, path in enumerate(values.get("crl_files") or []):
            _load_crl_file(context, "crl_files[%d]" % index, path, der, temp)
        if key:
            _load_own_certificate(context, values, config, der, temp)
    finally:
        temp.remove()
    config.trust_empty = not (values.get("ca_files") or values.get("ca_dirs"))

    if seed and os.path.isfile(seed):
        try:
            with open(seed, "rb") as handle:
                data = handle.read(1 << 20)
            ssl.RAND_add(data, float(len(data)))  # OpenSSL 3 seeds itself; the file is mixed in as DCMTK does
        except OSError as exc:
            raise TLSOptionError("seed_file %s cannot be read: %s" % (seed, exc.strerror)) from None
    elif seed and os.path.exists(seed):
        raise TLSOptionError("seed_file %s is not a file" % seed)
    if values.get("write_seed"):
        config.seed_target = seed
    elif values.get("write_seed_file"):
        config.seed_target = values["write_seed_file"]
    config.context = context
    return config


def write_seed(path):
    """echoscu +ws/+wf: write 1024 bytes of the PRNG's output (what RAND_write_file does), mode 0600.

    Returns None, or the error text (echoscu never reports it; the module warns)."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(handle, "wb") as stream:
            stream.write(ssl.RAND_bytes(SEED_BYTES))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    except OSError as exc:
        return "%s: %s" % (path, exc.strerror or exc)
    return None


# ---- the handshake -----------------------------------------------------------------------------

def handshake_timeout(request):
    """The TLS handshake deadline: the smaller of connection_timeout and socket_timeout, else HANDSHAKE_CAP."""
    bounds = [value for value in (request.connection_timeout, request.socket_timeout) if value]
    return min(bounds) if bounds else HANDSHAKE_CAP


async def open_connection(sock, request, log, limit):
    """TLS handshake on the connected ``sock``; returns (reader, writer, tls result dict).

    Raises TLSFailure with a classified reason; the socket is closed then.
    """
    tls = request.tls
    config = tls.config
    deadline = handshake_timeout(request)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(sock=sock, limit=limit, ssl=config.context, server_hostname=tls.sni or "",
                                    ssl_handshake_timeout=deadline + 5),
            deadline)
    except asyncio.TimeoutError:
        sock.close()
        raise TLSFailure("TLS handshake did not complete within %ss (the smaller of connection_timeout and socket_timeout, "
                         "else %ss): is this a TLS port?" % (deadline, HANDSHAKE_CAP), "TLS handshake timeout") from None
    except ssl.SSLError as exc:
        sock.close()
        reason, condition, detail = classify_ssl_error(exc, config)
        if detail:
            log.add("error", detail)
        raise TLSFailure(reason, condition) from None
    except (OSError, EOFError) as exc:
        sock.close()
        raise TLSFailure("TLS handshake failed: the peer closed the connection (%s): does it speak TLS on this port?"
                         % (os.strerror(exc.errno) if getattr(exc, "errno", None) else type(exc).__name__), _IO_CONDITION) from None
    ssl_object = writer.get_extra_info("ssl_object")
    try:
        result, peer = session_info(ssl_object, config, tls.sni)
    except ValueError:  # "handshake not done yet": the peer ended TLS at once (TLS 1.3 sends its verdict on our certificate late)
        await _session_refused(reader, writer, config, log)
    if log.enabled("debug"):
        log.add("debug", details_block(result, peer))
    if config.verify_peer and peer is not None:
        refuse, warn = _policy_findings(peer, config.profile, own=False)
        for text in warn:
            log.add("warn", "Possibly weak peer certificate: %s" % text)
        if refuse:
            writer.close()
            text = "peer certificate not allowed with tls_profile %s: %s" % (config.profile, "; ".join(refuse))
            log.add("error", text)
            raise TLSFailure("TLS handshake refused after verification: %s" % text, "000b:0886 TLS error: certificate verify failed")
    return reader, writer, result


async def _session_refused(reader, writer, config, log):
    """The peer closed TLS right after our side of the handshake: read its alert and raise it classified."""
    try:
        await asyncio.wait_for(reader.read(1), 2)
    except ssl.SSLError as exc:
        reason, condition, detail = classify_ssl_error(exc, config)
        if detail:
            log.add("error", detail)
        raise TLSFailure(reason, condition) from None
    except (OSError, EOFError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()
    raise TLSFailure("TLS failed: the peer closed the TLS session right after the handshake (it may have refused our certificate, "
                     "or the lack of one)", _IO_CONDITION)


def closed_after_handshake(what):
    """The reason for a peer that completed TLS, then closed before answering the A-ASSOCIATE-RQ."""
    return ("the peer closed the connection right after the TLS handshake, before answering the association request (%s): "
            "a TLS peer does this when it refuses our client certificate, or the lack of one" % what)


def classify_ssl_error(exc, config=None):
    """(reason, DCMTK condition, transcript detail line or None) for an ssl error of the handshake or later."""
    name = getattr(exc, "reason", None)
    text = _ssl_text(exc)
    if isinstance(exc, ssl.SSLCertVerificationError) or name == "CERTIFICATE_VERIFY_FAILED":
        why = getattr(exc, "verify_message", None) or text
        reason = "TLS handshake failed: the peer's certificate did not verify: %s" % why
        if config is not None:
            if config.trust_empty:
                reason += " (no ca_files or ca_dirs are given, so nothing can verify it; or set verify_peer_cert: false)"
            elif config.unhashed_dirs and getattr(exc, "verify_code", None) in (2, 20):
                reason += " (ca_dirs %s has no OpenSSL hash links: run `openssl rehash %s`)" % (config.unhashed_dirs[0], config.unhashed_dirs[0])
        return reason, "000b:0886 TLS error: certificate verify failed", "TLS certificate verification failed: %s" % why
    code = _SSL_REASONS.get(name)
    if name in ("UNEXPECTED_EOF_WHILE_READING",) or name is None and "EOF" in text:
        return ("TLS failed: the peer closed the connection in the middle of TLS (%s): does it speak TLS on this port?" % text,
                _IO_CONDITION, None)
    condition = "000b:%04x TLS error: %s" % (0x800 + code, text) if code else "TLS error: %s" % text
    reason = "TLS failed: %s" % text
    hint = _ALERT_HINTS.get(name)
    if hint:
        reason += " (%s)" % hint
    return reason, condition, None


# ---- results ------------------------------------------------------------------------------------

def _iso(moment):
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
        "not_before": _iso(certificate.not_valid_before_utc),
        "not_after": _iso(certificate.not_valid_after_utc),
        "days_remaining": (certificate.not_valid_after_utc - now).days,
        "sha256_fingerprint": ":".join(fingerprint[index:index + 2] for index in range(0, len(fingerprint), 2)),
        "key_type": key_type,
        "key_bits": bits,
        "signature_algorithm": _digest_name(certificate),
        "self_signed": certificate.subject == certificate.issuer,
    }


def session_info(ssl_object, config, sni):
    """(the result's `tls` dict, the peer certificate as a cryptography object or None)."""
    name, _protocol, bits = ssl_object.cipher() or (None, None, None)
    der = ssl_object.getpeercert(binary_form=True)
    peer = None
    if der and CRYPTOGRAPHY_IMPORT_ERROR is None:
        try:
            peer = x509.load_der_x509_certificate(der)
        except ValueError:
            peer = None
    return {
        "version": ssl_object.version(),
        "cipher": name,
        "cipher_iana": IANA_BY_OPENSSL.get(name, name if name and name.startswith("TLS_") else None),
        "encryption_bits": bits,
        "profile": config.profile,
        "sni": sni or None,
        "client_certificate": config.authenticated,
        "peer_verified": config.verify_peer,
        "peer_certificate": certificate_info(peer) if peer is not None else None,
    }, peer


def details_block(result, peer):
    """echoscu -d's TLS CONNECTION DETAILS block (docs/dev/echoscu-behaviour.md 4) as one string."""
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
