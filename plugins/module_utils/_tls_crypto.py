# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place the optional Python library `cryptography` is imported.

Private to this collection. A probe host needs nothing but Python for a plain C-ECHO, so only the
TLS path and the offline certificate checks import this module (never _request for a plain request).
Without the library the names below are None and CRYPTOGRAPHY_IMPORT_ERROR holds the traceback:
_request turns that into Ansible's missing_required_lib message before any TLS work, and
need_cryptography() into an option error where a TLS action needs the library.
"""

from __future__ import annotations

import traceback

from ._tls_errors import TLSOptionError

# What the TLS modules take from here (the cryptography names are None without the library).
__all__ = ("CRYPTOGRAPHY_IMPORT_ERROR", "available", "need_cryptography", "x509", "InvalidSignature", "UnsupportedAlgorithm",
           "hashes", "serialization", "dsa", "ec", "ed448", "ed25519", "rsa")

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
except ImportError:
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
    x509 = InvalidSignature = UnsupportedAlgorithm = hashes = serialization = dsa = ec = ed448 = ed25519 = rsa = None
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None


def available():
    """Whether cryptography can be used (read at call time, so that tests can pretend it is missing)."""
    return CRYPTOGRAPHY_IMPORT_ERROR is None


def need_cryptography(what):
    """Raise TLSOptionError naming ``what`` (an option, or an option and a form) when cryptography is missing."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        raise TLSOptionError("%s needs the Python library cryptography, which cannot be imported on this host" % what)
