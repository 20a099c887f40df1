# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client's TLS configuration: echoscu's TLS options on Python's ssl (docs/dev/echoscu-behaviour.md 4).

Private to this collection; no Ansible imports. build_client_tls() turns validated option values
into one ClientTLS: the SSLContext (profile, TLS versions, ciphers, verification flags, trust from
_tls_trust, our own key and certificate) and what a probe needs around it. _request builds one per
distinct configuration (config_key) and hands each endpoint a TLSRequest; _tls_handshake uses it.
The PRNG seed files of echoscu's +seed/+ws/+wf are read here and written by write_seed().

Never an OpenSSL prompt: an encrypted key without a password meets a callback that raises. DER keys
and certificates are converted with `cryptography` into a 0600 temporary file that is removed as
soon as OpenSSL has read it.
"""

from __future__ import annotations

import os
import ssl
import stat
import tempfile
import warnings

from . import _tls_trust
from ._tls_crypto import available, need_cryptography, serialization, x509
from ._tls_errors import TLSOptionError, ssl_text
from ._tls_policy import check_own_certificate, cipher_string
from ._tls_profiles import CONFIG_OPTIONS, DEFAULT_PROFILE, PINNED_VERSION_CIPHERS, PROFILES, TLS_VERSIONS, profile_problem, version_problem

SEED_BYTES = 1024  # what OpenSSL's RAND_write_file writes, and echoscu +ws/+wf with it


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


def config_key(values):
    """A hashable key of the TLS configuration in ``values``: equal keys share one ClientTLS."""
    key = []
    for name in CONFIG_OPTIONS:
        value = values.get(name)
        key.append(tuple(value) if isinstance(value, list) else value)
    return tuple(key)


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


class _PasswordNeeded(Exception):
    """Raised by our password callback: OpenSSL asked for a password that nobody gave."""


def _no_password():
    raise _PasswordNeeded()


def build_client_tls(values):
    """One ClientTLS from validated option values (the option names of _request.OPTIONS); raises TLSOptionError."""
    config = ClientTLS()
    config.profile = _profile(values)
    _check_combinations(values)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # never create_default_context(): no system trust store, as DCMTK
    _set_verification(context, values, config)
    _set_versions_and_ciphers(context, values, config)
    temp = _TempFiles()
    try:
        config.unhashed_dirs = _tls_trust.load_into_context(context, values, temp.write)
        if values.get("private_key"):
            _load_own_certificate(context, values, config, temp)
    finally:
        temp.remove()
    config.trust_empty = not (values.get("ca_files") or values.get("ca_dirs"))
    _read_seed(values, config)
    config.context = context
    return config


def _profile(values):
    profile = values.get("tls_profile") or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise TLSOptionError("tls_profile must be one of %s, got %r" % (", ".join(PROFILES), profile))
    problem = profile_problem(profile)
    if problem:
        raise TLSOptionError("tls_profile %s (%s) is not available here: it %s" % (profile, PROFILES[profile]["title"], problem))
    return profile


def _check_combinations(values):
    """echoscu's refusals of option combinations, in its words."""
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


def _set_verification(context, values, config):
    context.check_hostname = False                     # DCMTK never compares a name with the certificate
    config.verify_peer = values.get("verify_peer_cert", True) is not False
    context.verify_mode = ssl.CERT_REQUIRED if config.verify_peer else ssl.CERT_NONE
    flags = ssl.VERIFY_X509_TRUSTED_FIRST              # no partial chains, no X509_STRICT: OpenSSL's lenient rules, as DCMTK
    config.crl_mode = _tls_trust.crl_mode(values)
    if config.crl_mode == "leaf":
        flags |= ssl.VERIFY_CRL_CHECK_LEAF
    elif config.crl_mode == "chain":
        flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    context.verify_flags = flags


def _set_versions_and_ciphers(context, values, config):
    spec = PROFILES[config.profile]
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
        else:  # DCMTK runs OpenSSL at security level 0
            context.set_ciphers(cipher_string(config.profile, values.get("ciphers") or [], config.warnings) + ":@SECLEVEL=0")
    except ssl.SSLError as exc:
        raise TLSOptionError("tls_profile %s: OpenSSL accepts none of its ciphersuites (%s)" % (config.profile, ssl_text(exc))) from None
    context.options |= getattr(ssl, "OP_NO_TICKET", 0)  # DCMTK keeps no sessions


# ---- our own key and certificate (echoscu +tls) ------------------------------------------------

def _load_own_certificate(context, values, config, temp):
    key_path, cert_path, password = values["private_key"], values["certificate"], values.get("private_key_password")
    key_data = _tls_trust.read_file("private_key", key_path)
    cert_data = _tls_trust.read_file("certificate", cert_path)
    certificate = None
    if values.get("key_format") == "der":
        need_cryptography("key_format der")
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
        if available():
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
        check_own_certificate(certificate, cert_path, config, context)


def _load_error(exc, key_path, cert_path, password, key_data=b""):
    if getattr(exc, "reason", None) == "KEY_VALUES_MISMATCH":
        return TLSOptionError("Private key '%s' and certificate '%s' do not match" % (key_path, cert_path))
    if b"ENCRYPTED" in key_data:
        why = "wrong private_key_password" if password is not None else "encrypted"
    elif b"-----BEGIN" not in key_data and key_data:
        why = "not a PEM private key; set key_format: der for DER files"
    else:
        why = ssl_text(exc)
    return TLSOptionError("Unable to load private TLS key from '%s' (private_key): %s" % (key_path, why))


# ---- PRNG seed files (echoscu +seed, +ws, +wf) ---------------------------------------------------

def _read_seed(values, config):
    seed = values.get("seed_file")
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
