# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one loader of trust material: ca_files, ca_dirs and crl_files, PEM or DER (key_format).

Private to this collection; no Ansible imports. sources() walks the options in OpenSSL's order and
checks each path; read_file() reads one file; _unusable() says what a file lacks, naming the option.
The material then goes one of two ways:

* load_into_context() hands it to an SSLContext for the handshake. OpenSSL parses PEM files itself
  and looks PEM hashed directories up lazily by <subject hash>.N (.rN for CRLs), as DCMTK does.
  Python reads DER only as certificates (cadata): DER CRLs become a 0600 temporary PEM file, and the
  hashed entries of a DER directory are loaded one by one.
* load_objects() decodes the same files into cryptography certificates and CRLs for the offline
  check (_tls_offline.verify_certificate), which verifies with cryptography, not OpenSSL.

Both report the ca_dirs without certificate hash links, for the `openssl rehash` hint.
"""

from __future__ import annotations

import os
import re
import ssl

from ._tls_crypto import need_cryptography, serialization, x509
from ._tls_errors import TLSOptionError, ssl_text

HASHED_NAME = re.compile(r"^[0-9a-f]{8}\.(r?)[0-9]+$")  # OpenSSL's <subject hash>.N (certificate) and .rN (CRL)
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.S)
_PEM_CRL_BEGIN = b"-----BEGIN X509 CRL-----"
_PEM_CERTIFICATE_BEGIN = b"-----BEGIN CERTIFICATE-----"

# What a file may hold: a ca_files entry either, a hashed directory entry what its name says, crl_files CRLs.
EITHER, CERTIFICATE, CRL = "certificate or CRL", "certificate", "CRL"


class Source:
    """One place trust material comes from: a file, or a ca_dirs directory with its hashed ``entries`` (Sources too)."""

    __slots__ = ("option", "path", "holds", "entries")

    def __init__(self, option, path, holds, entries=None):
        self.option = option
        self.path = path
        self.holds = holds
        self.entries = entries

    def files(self):
        """The files to read: this one, or the directory's hashed entries in name order."""
        return [self] if self.entries is None else self.entries

    def unhashed(self):
        """A directory without certificate hash links: `openssl rehash` has not been run on it."""
        return self.entries is not None and not any(entry.holds == CERTIFICATE for entry in self.entries)


def crl_mode(values):
    """The effective crl_check: "none", "leaf" or "chain" (crl_files implies leaf, as echoscu's +crl)."""
    mode = values.get("crl_check") or "none"
    return "leaf" if values.get("crl_files") and mode == "none" else mode


def read_file(option, path):
    """The bytes of ``path``, or TLSOptionError naming ``option`` and what is wrong with the path."""
    if not os.path.exists(path):
        raise TLSOptionError("%s %s does not exist" % (option, path))
    if not os.path.isfile(path):
        raise TLSOptionError("%s %s is not a file" % (option, path))
    if not os.access(path, os.R_OK):
        raise TLSOptionError("%s %s is not readable" % (option, path))
    with open(path, "rb") as handle:
        return handle.read()


def sources(values):
    """Every trust source of ``values`` in OpenSSL's order: ca_files, ca_dirs, crl_files (paths checked as they come)."""
    for index, path in enumerate(values.get("ca_files") or []):
        yield Source("ca_files[%d]" % index, path, EITHER)
    for index, path in enumerate(values.get("ca_dirs") or []):
        yield _directory("ca_dirs[%d]" % index, path)
    for index, path in enumerate(values.get("crl_files") or []):
        yield Source("crl_files[%d]" % index, path, CRL)


def _directory(option, path):
    if not os.path.isdir(path):
        raise TLSOptionError("%s %s %s" % (option, path, "is not a directory" if os.path.exists(path) else "does not exist"))
    try:
        names = os.listdir(path)
    except OSError as exc:
        raise TLSOptionError("%s %s cannot be read: %s" % (option, path, exc.strerror)) from None
    entries = []
    for name in sorted(names):
        match = HASHED_NAME.match(name)
        if match:
            entries.append(Source(option, os.path.join(path, name), CRL if match.group(1) else CERTIFICATE))
    return Source(option, path, None, entries)


def _unusable(source, data, der, why=None):
    """The error for a file without a usable ``source.holds``; a PEM reading of a DER-looking file says key_format."""
    text = "%s %s holds no %s %s" % (source.option, source.path, "DER" if der else "PEM", source.holds)
    if why:
        text += " (%s)" % why
    if der:
        text += " (key_format is der)"
    elif b"-----BEGIN" not in data:
        text += "; set key_format: der for DER files"
    return TLSOptionError(text)


def _der_crl(source, data):
    need_cryptography("%s in DER" % source.option)
    try:
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise _unusable(source, data, True) from None


# ---- into an SSLContext -------------------------------------------------------------------------

def load_into_context(context, values, write_temp):
    """Load the trust options of ``values`` into ``context``; returns the ca_dirs without certificate hash links.

    ``write_temp(pem_bytes)`` gives the path of a private temporary file (DER CRLs); the caller removes them.
    """
    der = values.get("key_format") == "der"
    unhashed = []
    for source in sources(values):
        if source.unhashed():
            unhashed.append(source.path)
        if source.entries is not None and not der:
            context.load_verify_locations(capath=source.path)  # OpenSSL reads the hashed names when it needs them
            continue
        for item in source.files():
            _load_file(context, item, der, write_temp)
    return unhashed


def _load_file(context, source, der, write_temp):
    data = read_file(source.option, source.path)
    if der:
        if source.holds != CRL:
            try:
                context.load_verify_locations(cadata=data)  # a DER certificate
                return
            except ssl.SSLError:
                if source.holds == CERTIFICATE:
                    raise _unusable(source, data, der) from None
        context.load_verify_locations(cafile=write_temp(_der_crl(source, data).public_bytes(serialization.Encoding.PEM)))
        return
    if source.holds == CRL and _PEM_CRL_BEGIN not in data:
        raise _unusable(source, data, der)
    try:
        context.load_verify_locations(cafile=source.path)
    except ssl.SSLError as exc:
        raise _unusable(source, data, der, ssl_text(exc)) from None


# ---- into cryptography objects ------------------------------------------------------------------

def certificates_in(data, der):
    """All certificates of a file (PEM: every one in it; DER: the one); ValueError when there is none."""
    if der:
        return [x509.load_der_x509_certificate(data)]
    return x509.load_pem_x509_certificates(data)


def load_objects(values):
    """(certificates, CRLs, ca_dirs without certificate hash links) of the trust options, as cryptography objects.

    The caller has made sure cryptography is there (need_cryptography with its own option's name).
    """
    der = values.get("key_format") == "der"
    certificates, crls, unhashed = [], [], []
    for source in sources(values):
        if source.unhashed():
            unhashed.append(source.path)
        for item in source.files():
            data = read_file(item.option, item.path)
            found = _decode(item, data, der)
            if found is None:
                raise _unusable(item, data, der)
            certificates.extend(found[0])
            crls.extend(found[1])
    return certificates, crls, unhashed


def _decode(source, data, der):
    """(certificates, CRLs) of one file as its source may hold them, or None when it holds none of them."""
    try:
        if der:
            if source.holds != CRL:
                try:
                    return certificates_in(data, der), []
                except ValueError:
                    if source.holds == CERTIFICATE:
                        return None
            return [], [x509.load_der_x509_crl(data)]
        crls = [x509.load_pem_x509_crl(block) for block in _PEM_CRL.findall(data)] if source.holds != CERTIFICATE else []
        certificates = certificates_in(data, der) if source.holds != CRL and _PEM_CERTIFICATE_BEGIN in data else []
    except ValueError:
        return None
    return (certificates, crls) if certificates or crls else None
