# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The TLS handshake of one probe, on a connected socket, with the ClientTLS _tls_context built.

Private to this collection; no Ansible imports. open_connection() is what the engine calls: the
handshake bounded by handshake_timeout() (docs/dev/timeouts.md), failures raised as TLSFailure with
classified reasons, the result's `tls` dict (session_info), echoscu's details block at debug, and
the peer certificate judged by the profile's rules once it has verified.
"""

from __future__ import annotations

import asyncio
import os
import ssl

from ._tls_certinfo import certificate_info, details_block
from ._tls_crypto import available, x509
from ._tls_errors import IO_CONDITION, VERIFY_CONDITION, TLSFailure, classify_ssl_error
from ._tls_policy import policy_findings
from ._tls_profiles import IANA_BY_OPENSSL

# Used when neither connection_timeout nor socket_timeout bounds the TLS handshake.
HANDSHAKE_CAP = 60


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
        raise _classified(exc, config, log) from None
    except (OSError, EOFError) as exc:
        sock.close()
        raise TLSFailure("TLS handshake failed: the peer closed the connection (%s): does it speak TLS on this port?"
                         % (os.strerror(exc.errno) if getattr(exc, "errno", None) else type(exc).__name__), IO_CONDITION) from None
    ssl_object = writer.get_extra_info("ssl_object")
    try:
        result, peer = session_info(ssl_object, config, tls.sni)
    except ValueError:  # "handshake not done yet": the peer ended TLS at once (TLS 1.3 sends its verdict on our certificate late)
        await _session_refused(reader, writer, config, log)
    if log.enabled("debug"):
        log.add("debug", details_block(result, peer))
    if config.verify_peer and peer is not None:
        refuse, warn = policy_findings(peer, config.profile, own=False)
        for text in warn:
            log.add("warn", "Possibly weak peer certificate: %s" % text)
        if refuse:
            writer.close()
            text = "peer certificate not allowed with tls_profile %s: %s" % (config.profile, "; ".join(refuse))
            log.add("error", text)
            raise TLSFailure("TLS handshake refused after verification: %s" % text, VERIFY_CONDITION)
    return reader, writer, result


def _classified(exc, config, log):
    """The TLSFailure of an ssl error, its detail line logged."""
    reason, condition, detail = classify_ssl_error(exc, config)
    if detail:
        log.add("error", detail)
    return TLSFailure(reason, condition)


async def _session_refused(reader, writer, config, log):
    """The peer closed TLS right after our side of the handshake: read its alert and raise it classified."""
    try:
        await asyncio.wait_for(reader.read(1), 2)
    except ssl.SSLError as exc:
        raise _classified(exc, config, log) from None
    except (OSError, EOFError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()
    raise TLSFailure("TLS failed: the peer closed the TLS session right after the handshake (it may have refused our certificate, "
                     "or the lack of one)", IO_CONDITION)


def session_info(ssl_object, config, sni):
    """(the result's `tls` dict, the peer certificate as a cryptography object or None)."""
    name, _protocol, bits = ssl_object.cipher() or (None, None, None)
    der = ssl_object.getpeercert(binary_form=True)
    peer = None
    if der and available():
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
