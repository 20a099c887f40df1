# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The C-ECHO engine: an asyncio DICOM Upper Layer requestor with a hard deadline on every phase.

Private to this collection; no Ansible imports. probe() takes one validated EchoRequest and returns
one JSON-safe result dict (the module's RETURN documentation); probe_all() runs many in one event loop, results in
input order. Network outcomes are results, never exceptions. A request with a ``query`` sends one
C-FIND in place of the C-ECHOs (dicom_find, docs/dev/checks.md); _find.py says what it asks and
what the answers mean.

Deadlines (docs/dev/timeouts.md): connect <= connection_timeout; the A-ASSOCIATE answer and the
A-RELEASE-RP begin within acse_timeout; the C-ECHO-RSP within dimse_timeout, or socket_timeout when no
dimse_timeout is set (echoscu's blocking read); within a message every wait for bytes <= socket_timeout,
and the whole message is complete socket_timeout after its own deadline. Round trips are taken from
the send to the kernel's arrival time of the answer where the platform gives it (docs/dev/timing.md).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import socket
import ssl
import statistics
import sys
import time

from . import _pdu, _transport
from ._syntaxes import VERIFICATION_SOP_CLASS, uid_name
from ._transcript import (
    ABORT_REASONS,
    ABORT_SOURCES,
    CONTEXT_RESULTS,
    Transcript,
    association_dump,
    max_send_pdv,
    rejection_texts,
)

# The TLS stream's buffer: one P-DATA-TF at our largest max_pdu, or any other PDU, fits.
STREAM_LIMIT = 131072 + 6
ECHO_STATUS_TEXTS = {
    0x0000: "Success",
    0x0122: "SOP Class Not Supported",
    0x0210: "Duplicate Invocation",
    0x0211: "Unrecognized Operation",
    0x0212: "Mistyped Argument",
}


class _Failure(Exception):
    """Ends a probe: the outcome, the one-line reason, echoscu's exit code for it."""

    def __init__(self, outcome, reason, exit_code=1, condition=None):
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason
        self.exit_code = exit_code
        self.condition = condition or reason  # DCMTK's "mmmm:cccc text" for the transcript


def _ms(seconds):
    return round(seconds * 1000.0, 3)


def _ns_ms(nanoseconds):
    return round(nanoseconds / 1e6, 3)


class _Probe:
    """State of one association attempt; run() drives it from resolve to close."""

    def __init__(self, request, sink=None):
        self.req = request
        # A sink (Python logging) sees the lines of concurrent probes interleaved: name their endpoint.
        self.log = Transcript(request.log_level, None if sink is None else lambda level, text: sink(level, text, request.name))
        self.loop = asyncio.get_running_loop()
        self.chan = self.sock = None
        self.address = None
        self.timing = {"resolve": None, "connect": None, "tls_handshake": None, "associate": None,
                       "echo": None, "release": None, "total": None}
        self.query = None
        if request.query is not None:  # a C-FIND probe: its phase is timed as "find"
            self.timing = {"resolve": None, "connect": None, "tls_handshake": None, "associate": None,
                           "find": None, "release": None, "total": None}
            self.query = {"model": request.query["model"], "sop_class": request.query["sop_class"],
                          "level": request.query["level"], "transfer_syntax": None, "status": None, "status_text": None,
                          "status_category": None, "pending": 0, "matches": 0, "complete": False, "rtt_ms": None}
        self.max_pdu = request.max_pdu & ~1  # DCMTK uses n-1 for an odd value and warns
        self.contexts = [
            {"id": 2 * index + 1, "abstract_syntax": abstract, "proposed_transfer_syntaxes": syntaxes,  # shared, never mutated: 10,000 results, one list
             "result": None, "transfer_syntax": None, "transfer_syntax_name": None}
            for index, (abstract, syntaxes) in enumerate(request.contexts)
        ]
        self.assoc = {"established": False, "released": False, "aborted_by": None, "rejection": None,
                      "abort": None, "our_max_pdu": self.max_pdu, "peer_max_pdu": None, "max_send_pdv": None,
                      "peer_implementation_class_uid": None, "peer_implementation_version_name": None}
        self.echoes = []
        self.tls = None
        self.context_texts = {}

    # ---- transport -------------------------------------------------------------------------
    async def read_pdu(self, first_by, done_by):
        """(type, bytes, arrival ns): the next PDU, bounded as _transport says; ``first_by`` None: continuing."""
        kind, raw, rx_ns = await self.chan.read_pdu(first_by, done_by, self.req.socket_timeout or None)
        if self.log.enabled("trace"):
            self.log.add("trace", "PDU Type: %s, PDU Length: %d + 6 bytes PDU header" % (_pdu.PDU_TYPES[kind], len(raw) - 6))
        return kind, raw, rx_ns if rx_ns is not None else _transport.now_ns()

    async def send(self, data):
        """Write ``data``; returns its send time (ns). The peer must take bytes at least every socket_timeout."""
        sent_ns = self.chan.write(data)
        try:
            await self.chan.drain(self.req.socket_timeout or None)
        except _transport.Timeout:
            raise _Failure("protocol_error", "peer accepts no data: send blocked for socket_timeout (%ss)" % self.req.socket_timeout) from None
        return sent_ns

    def _message_bounds(self, wait):
        """(first_by, done_by) for a message that must begin within ``wait`` seconds (None: no bound).

        It must be complete socket_timeout later (acse_timeout if socket_timeout is 0): a peer that
        trickles or keeps fragmenting cannot hold the probe (docs/dev/timeouts.md).
        """
        if wait is None:
            return None, None
        first_by = self.loop.time() + wait
        return first_by, first_by + (self.req.socket_timeout or self.req.acse_timeout)

    def close(self):
        if self.chan is not None:
            self.chan.close()
        elif self.sock is not None:
            self.sock.close()

    # ---- phases ----------------------------------------------------------------------------
    async def resolve(self):
        req = self.req
        try:
            literal = ipaddress.ip_address(req.host.split("%", 1)[0])
        except ValueError:
            literal = None
        if literal is not None:  # a literal is used as given, whatever ip_protocol says (as echoscu)
            family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
            if family == socket.AF_INET6:
                infos = await self.loop.getaddrinfo(req.host, req.port, family=family, type=socket.SOCK_STREAM,
                                                    flags=socket.AI_NUMERICHOST)
                return [(info[0], info[4]) for info in infos[:1]]
            return [(family, (req.host, req.port))]
        family = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}.get(req.ip_protocol, socket.AF_UNSPEC)
        started = time.perf_counter()
        try:
            infos = await asyncio.wait_for(
                self.loop.getaddrinfo(req.host, req.port, family=family, type=socket.SOCK_STREAM),
                req.connection_timeout)
        except (socket.gaierror, UnicodeError) as exc:
            raise _Failure("dns_error", "Attempt to connect to unknown host: %s (%s)" % (req.host, getattr(exc, "strerror", None) or exc),
                           condition="0006:0320 Attempt to connect to unknown host: %s" % req.host) from None
        except asyncio.TimeoutError:
            raise _Failure("dns_error", "resolving %s took longer than connection_timeout (%ss)" % (req.host, req.connection_timeout),
                           condition="0006:0320 Attempt to connect to unknown host: %s" % req.host) from None
        finally:
            self.timing["resolve"] = _ms(time.perf_counter() - started)
        seen, out = set(), []
        for info in infos:
            if info[4] not in seen:
                seen.add(info[4])
                out.append((info[0], info[4]))
        if not out:
            raise _Failure("dns_error", "Attempt to connect to unknown host: %s (no %s address)" % (req.host, req.ip_protocol),
                           condition="0006:0320 Attempt to connect to unknown host: %s" % req.host)
        return out

    async def connect(self, addresses):
        """Connect to the first address that answers; the last error names why none did."""
        req = self.req
        started = time.perf_counter()
        failure = None
        for family, sockaddr in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                await asyncio.wait_for(self.loop.sock_connect(sock, sockaddr), req.connection_timeout)
            except asyncio.TimeoutError:
                sock.close()
                # on Python 3.11+ this also catches the kernel's own ETIMEDOUT (TimeoutError is asyncio.TimeoutError)
                limit = "connection_timeout (%ss)" % req.connection_timeout if req.connection_timeout else "the operating system's connect timeout"
                failure = _Failure("connect_timeout", "TCP connect to %s timed out after %s" % (sockaddr[0], limit),
                                   condition="0006:031c TCP Initialization Error: Operation now in progress (Timeout)")
                continue
            except OSError as exc:
                sock.close()
                outcome = "connect_timeout" if isinstance(exc, TimeoutError) else "connection_refused"
                text = os.strerror(exc.errno) if exc.errno else str(exc)
                failure = _Failure(outcome, "TCP connect to %s port %s: %s" % (sockaddr[0], sockaddr[1], text),
                                   condition="0006:031c TCP Initialization Error: %s" % text)
                continue
            self.sock = sock
            self.address = sockaddr[0]
            break
        self.timing["connect"] = _ms(time.perf_counter() - started)
        if self.sock is None:
            raise failure
        self.address = sys.intern(str(self.address))
        if self.log.enabled("debug"):
            for direction in ("send", "receive"):
                if req.socket_timeout:
                    self.log.add("debug", "setting network %s timeout to %d seconds" % (direction, req.socket_timeout))
                else:
                    self.log.add("debug", "setting network %s timeout to 0 (infinite)" % direction)
        if req.tls is None:
            self.chan = _transport.PlainChannel(self.loop, self.sock, self.max_pdu)
            kernel_rtt = self.chan.handshake_ms()
            if kernel_rtt is not None:  # the kernel's own measure of the SYN / SYN-ACK round trip
                self.timing["connect"] = round(kernel_rtt, 3)
            return
        from . import _tls_errors, _tls_handshake  # pylint: disable=import-outside-toplevel  # only TLS probes pay for them
        started = time.perf_counter()
        try:  # the TLS handshake, bounded (_tls_handshake.handshake_timeout); the details block is logged at debug
            reader, writer, self.tls = await _tls_handshake.open_connection(self.sock, req, self.log, STREAM_LIMIT)
        except _tls_errors.TLSFailure as exc:
            raise _Failure("tls_error", exc.reason, condition=exc.condition) from None
        finally:
            self.timing["tls_handshake"] = _ms(time.perf_counter() - started)
        self.chan = _transport.StreamChannel(reader, writer, self.max_pdu, self.sock)

    async def associate(self):
        req = self.req
        wire_contexts = tuple((abstract, tuple(syntaxes)) for abstract, syntaxes in req.contexts)
        sent = await self.send(_pdu.associate_rq(req.calling_aet, req.called_aet, wire_contexts, self.max_pdu))
        try:
            kind, raw, arrived = await self.read_pdu(*self._message_bounds(req.acse_timeout))
        except _transport.Timeout as exc:
            what = {"first": "no answer within acse_timeout (%ss)" % req.acse_timeout,
                    "idle": "peer stopped in the middle of its answer for socket_timeout (%ss)" % req.socket_timeout,
                    "done": "its answer was not complete within acse_timeout + socket_timeout"}[exc.which]
            condition = "0006:0310 DUL network closed" if exc.stalled else "0006:031a DUL network read timeout"
            self.timing["associate"] = _ns_ms(_transport.now_ns() - sent)
            raise _Failure("acse_timeout", "DUL network read timeout: %s" % what, condition=condition) from None
        self.timing["associate"] = _ns_ms(arrived - sent)
        if kind == 3:
            self._rejected(*_pdu.parse_associate_rj(raw))
        if kind == 7:
            self._peer_abort(raw)
            raise _Failure("peer_aborted", "peer sent A-ABORT in answer to the A-ASSOCIATE-RQ",
                           condition="0006:0317 Peer aborted Association (or never connected)")
        if kind != 2:
            raise _pdu.ProtocolError("Unexpected PDU type: %s in answer to the A-ASSOCIATE-RQ" % _pdu.PDU_TYPES[kind])
        peer = _pdu.parse_associate_ac(raw)
        self.assoc["established"] = True  # from here on an error is answered with A-ABORT
        self.assoc.update(peer_max_pdu=peer["max_pdu"], max_send_pdv=max_send_pdv(peer["max_pdu"]),
                          peer_implementation_class_uid=peer["implementation_class_uid"],
                          peer_implementation_version_name=peer["implementation_version_name"])
        by_id = {context["id"]: context for context in self.contexts}
        for context_id, (result, syntax) in peer["contexts"].items():
            context = by_id.get(context_id)
            if context is None:
                raise _pdu.ProtocolError("A-ASSOCIATE-AC answers presentation context %d, which was not proposed" % context_id)
            if syntax is not None and syntax not in context["proposed_transfer_syntaxes"]:
                raise _pdu.ProtocolError("A-ASSOCIATE-AC accepts context %d with %s, which was not proposed for it" % (context_id, syntax))
            self._set_context(context, result, syntax)
        for context in self.contexts:
            if context["result"] is None:  # not answered at all: pynetdicom and DCMTK treat it as no-reason
                self._set_context(context, 2, None)
        if self.log.enabled("debug"):
            ours = self._our_identity()
            theirs = {"implementation_class_uid": peer["implementation_class_uid"],
                      "implementation_version_name": peer["implementation_version_name"], "max_pdu": peer["max_pdu"]}
            self.log.add("debug", "Association Parameters Negotiated:\n" + association_dump("AC", ours, theirs, self.contexts, self.context_texts))
        # The echo (or query) goes on the first accepted context of its SOP class in the order the AC lists them.
        order = [context_id for context_id, (result, _syntax) in peer["contexts"].items() if result == 0]
        self.accepted_ids = frozenset(order)
        if not order:
            self.log.add("fatal", "No Acceptable Presentation Contexts")
            raise _Failure("no_acceptable_context", "No Acceptable Presentation Contexts")
        self.log.add("info", "Association Accepted (Max Send PDV: %d)" % self.assoc["max_send_pdv"])
        wanted = req.query["sop_class"] if req.query is not None else VERIFICATION_SOP_CLASS
        return [context_id for context_id in order if by_id[context_id]["abstract_syntax"] == wanted]

    def _set_context(self, context, result, syntax):
        value, text = CONTEXT_RESULTS.get(result, ("no-reason", "--Invalid Result/Reason--"))
        self.context_texts[context["id"]] = text  # DCMTK's wording, for the AC dump only
        context.update(result=value, transfer_syntax=syntax,
                       transfer_syntax_name=uid_name(syntax) if syntax else None)

    def _rejected(self, result, source, reason):
        result_text, source_text, reason_text, errors = rejection_texts(result, source, reason)
        for line in errors:
            self.log.add("error", line)
        self.log.add("fatal", "Association Rejected:\nResult: %s, Source: %s\nReason: %s" % (result_text, source_text, reason_text))
        self.assoc["rejection"] = {"result": result, "source": source, "reason": reason, "result_text": result_text,
                                   "source_text": source_text, "reason_text": reason_text}
        raise _Failure("association_rejected", "association rejected (%s) by %s: %s" % (result_text, source_text, reason_text))

    def _peer_abort(self, raw):
        source, reason = _pdu.parse_abort(raw)
        self.assoc["aborted_by"] = "peer"
        self.assoc["abort"] = {"source": source, "reason": reason,
                               "source_text": ABORT_SOURCES.get(source, "Unknown Source 0x%02x" % source),
                               "reason_text": ABORT_REASONS.get(reason, "Unknown Reason 0x%02x" % reason) if source == 2 else "Reason Not Specified"}

    async def echo_loop(self, context_ids):
        req = self.req
        if not context_ids:
            raise _Failure("protocol_error", "DIMSE: No Presentation Context for: %s" % VERIFICATION_SOP_CLASS, exit_code=70)
        started = time.perf_counter()
        try:
            for message_id in range(1, req.repeat + 1):
                self.log.add("info", "Sending Echo Request (MsgID %d)" % message_id)
                status, rtt_ns = await self._one_echo(message_id, context_ids[0])
                text = ECHO_STATUS_TEXTS.get(status, "Unknown Status: 0x%x" % status)
                self.echoes.append({"message_id": message_id, "status": status, "status_text": text, "rtt_ms": _ns_ms(rtt_ns)})
                self.log.add("info", "Received Echo Response (%s)" % ("Success" if status == 0 else "Unknown Status: 0x%x" % status))
                if status != 0:  # echoscu carries on and exits 0; we stop here, then release (docs/dev/echoscu-behaviour.md 2)
                    return _Failure("echo_status", "C-ECHO %d returned status 0x%04X (%s)" % (message_id, status, text), exit_code=0)
            return None
        finally:
            self.timing["echo"] = _ms(time.perf_counter() - started)

    def _echo_timeout(self, exc, non_blocking):
        """The failure for a C-ECHO-RSP that missed its bound, as echoscu words and exits it."""
        req = self.req
        if non_blocking and exc.which == "first":
            self.log.add("error", "Echo Failed: 0006:0207 DIMSE No data available (timeout in non-blocking mode)")
            return _Failure("dimse_timeout", "no C-ECHO-RSP within dimse_timeout (%ss)" % req.dimse_timeout, exit_code=70,
                            condition="0006:0207 DIMSE No data available (timeout in non-blocking mode)")
        what = {"first": "no C-ECHO-RSP arrived within socket_timeout (%ss)" % req.socket_timeout,
                "idle": "the peer stopped in the middle of the C-ECHO-RSP for socket_timeout (%ss)" % req.socket_timeout,
                "done": "the C-ECHO-RSP was not complete %ss after its deadline" % (req.socket_timeout or req.acse_timeout)}[exc.which]
        if non_blocking or exc.in_body:  # the read of a started PDU failed (blocking: one whose header had come): exit 70
            self.log.add("error", "Echo Failed: 0006:020d DIMSE Failed to receive message")
            return _Failure("dimse_timeout", what, exit_code=70, condition="0006:020d DIMSE Failed to receive message")
        # echoscu reads in blocking mode here: the socket timeout looks like a peer abort, exit 0
        self.log.add("error", "Echo Failed: 0006:0317 Peer aborted Association (or never connected)")
        self.log.add("info", "Peer Aborted Association")
        return _Failure("dimse_timeout", what, exit_code=0)

    async def _read_response(self, assembler, first_by, done_by, on_timeout, verb, what):
        """Arrival ns (of its last PDU) once ``assembler`` holds a whole response; ``on_timeout`` makes the timeout's _Failure.

        ``verb`` is "Echo" or "Find" for the transcript, ``what`` names the request in failures ("C-ECHO 3", "the C-FIND").
        """
        while True:
            try:
                kind, raw, arrived = await self.read_pdu(first_by, done_by)
            except _transport.Timeout as exc:
                raise on_timeout(exc) from None
            first_by = None  # later PDUs of the response continue the message
            if kind == 4:
                if assembler.feed(raw):
                    return arrived
            elif kind == 7:
                self._peer_abort(raw)
                self.log.add("error", "%s Failed: 0006:0317 Peer aborted Association (or never connected)" % verb)
                self.log.add("info", "Peer Aborted Association")
                raise _Failure("peer_aborted", "peer aborted the association instead of answering %s" % what, exit_code=0)
            elif kind == 5:
                self.log.add("error", "%s Failed: 0006:0319 DUL Peer Requested Release" % verb)
                self.log.add("fatal", "Protocol Error: Peer requested release (Aborting)")
                raise _Failure("protocol_error", "peer requested release instead of answering %s" % what, exit_code=70)
            else:  # DCMTK's state machine aborts on its own (AA-8), so echoscu's A-ABORT then fails: exit 1, not 70
                name = _pdu.RESPONSE_NAMES[_pdu.C_ECHO_RSP_COMMAND if verb == "Echo" else _pdu.C_FIND_RSP_COMMAND]
                self.log.add("error", "%s Failed: 0006:020d DIMSE Failed to receive message" % verb)
                self.log.add("info", "Aborting Association")
                self.abort()
                raise _Failure("protocol_error", "Unexpected PDU type: %s while waiting for the %s" % (_pdu.PDU_TYPES[kind], name),
                               exit_code=1, condition="0006:020d DIMSE Failed to receive message")

    async def _one_echo(self, message_id, context_id):
        """(status, round trip in ns) of one C-ECHO; the round trip ends at the arrival of the response's last PDU."""
        req = self.req
        request = _pdu.echo_rq(message_id, context_id, self.assoc["peer_max_pdu"] or 0)
        sent = await self.send(request)
        non_blocking = req.dimse_timeout is not None
        first_by, done_by = self._message_bounds(req.dimse_timeout if non_blocking else (req.socket_timeout or None))
        assembler = _pdu.ResponseAssembler(self.accepted_ids)
        arrived = await self._read_response(assembler, first_by, done_by, lambda exc: self._echo_timeout(exc, non_blocking),
                                            "Echo", "C-ECHO %d" % message_id)
        command = assembler.command_set
        if command["CommandField"] != _pdu.C_ECHO_RSP_COMMAND:
            raise _pdu.ProtocolError("DIMSE: Unexpected Response Command Field: 0x%x" % command["CommandField"])
        if command["MessageIDBeingRespondedTo"] != message_id:
            raise _pdu.ProtocolError("DIMSE: Unexpected Response MsgId: %d (expected: %d)" % (command["MessageIDBeingRespondedTo"], message_id))
        return command["Status"], arrived - sent

    async def find(self, context_ids):
        """One C-FIND with the query's identifier; every response is counted, its identifier decoded and dropped.

        Returns None after a final Success, or the _Failure of another final status (the association is
        released first, as for an echo status). Bounds (docs/dev/timeouts.md): each response begins within
        dimse_timeout (else socket_timeout) of the one before, the whole answer is complete socket_timeout
        after the first deadline, and after _find.MAX_RESPONSES pending responses the probe stops and aborts.
        """
        from . import _find  # pylint: disable=import-outside-toplevel  # pydicom only where a query runs

        req, query = self.req, self.query
        if not context_ids:
            raise _Failure("no_acceptable_context", "DIMSE: No Presentation Context for: %s" % query["sop_class"], exit_code=70)
        context_id = context_ids[0]
        syntax = next(context["transfer_syntax"] for context in self.contexts if context["id"] == context_id)
        query["transfer_syntax"] = syntax
        identifier = _find.encode_identifier(_find.keys(query["model"]), syntax)
        counter = _find.MatchCounter(syntax)
        started = time.perf_counter()
        non_blocking = req.dimse_timeout is not None
        wait = req.dimse_timeout if non_blocking else (req.socket_timeout or None)
        try:
            self.log.add("info", "Sending Find Request (MsgID 1)")
            sent = await self.send(_pdu.find_rq(1, context_id, self.assoc["peer_max_pdu"] or 0, query["sop_class"], identifier))
            first_by, done_by = self._message_bounds(wait)
            while True:
                command, arrived = await self._find_response(counter, first_by, done_by)
                status = command["Status"]
                category = _find.status_category(status)
                query.update(status=status, status_text=_find.status_text(status), status_category=category, matches=counter.count)
                if category != "pending":
                    break
                query["pending"] += 1
                self.log.add("info", "Received Find Response %d (%s)" % (query["pending"], query["status_text"]))
                if query["pending"] >= _find.MAX_RESPONSES:
                    self.log.add("info", "Aborting Association")
                    self.abort()
                    raise _Failure("too_many_matches", "the peer kept sending matches for a %s that cannot exist; counting stopped "
                                   "at %d and the association was aborted"
                                   % ("Study Instance UID" if query["model"] == "study" else "worklist key", _find.MAX_RESPONSES))
                # the next response begins within `wait` of this one, and all are complete by done_by
                first_by = None if wait is None else (min(self.loop.time() + wait, done_by) if done_by is not None else self.loop.time() + wait)
            query["complete"] = True
            query["rtt_ms"] = _ns_ms(arrived - sent)
            self.log.add("info", "Received Final Find Response (%s)" % query["status_text"])
            if category != "success":
                return _Failure("find_status", "C-FIND returned status 0x%04X (%s)" % (status, query["status_text"]), exit_code=0)
            return None
        finally:
            self.timing["find"] = _ms(time.perf_counter() - started)

    async def _find_response(self, counter, first_by, done_by):
        """(command set, arrival ns) of the next C-FIND-RSP; its identifier, if any, goes to ``counter``."""
        assembler = _pdu.ResponseAssembler(self.accepted_ids, counter)
        arrived = await self._read_response(assembler, first_by, done_by, self._find_timeout, "Find", "the C-FIND")
        command = assembler.command_set
        if command["CommandField"] != _pdu.C_FIND_RSP_COMMAND:
            raise _pdu.ProtocolError("DIMSE: Unexpected Response Command Field: 0x%x" % command["CommandField"])
        if command["MessageIDBeingRespondedTo"] != 1:
            raise _pdu.ProtocolError("DIMSE: Unexpected Response MsgId: %d (expected: 1)" % command["MessageIDBeingRespondedTo"])
        return command, arrived

    def _find_timeout(self, exc):
        req = self.req
        what = {"first": "no C-FIND-RSP within %s" % ("dimse_timeout (%ss)" % req.dimse_timeout if req.dimse_timeout is not None
                                                      else "socket_timeout (%ss)" % req.socket_timeout),
                "idle": "the peer stopped in the middle of a C-FIND-RSP for socket_timeout (%ss)" % req.socket_timeout,
                "done": "the C-FIND responses were not complete %ss after the first deadline" % (req.socket_timeout or req.acse_timeout)}[exc.which]
        self.log.add("error", "Find Failed: 0006:0207 DIMSE No data available (timeout in non-blocking mode)")
        return _Failure("dimse_timeout", what, exit_code=70, condition="0006:0207 DIMSE No data available (timeout in non-blocking mode)")

    async def release(self):
        req = self.req
        self.log.add("info", "Releasing Association")
        sent = await self.send(_pdu.fixed_pdu("release_rq"))
        first_by, done_by = self._message_bounds(req.acse_timeout)
        arrived = None
        try:
            while True:
                try:  # bounded as one message: the RP must begin within acse_timeout
                    kind, raw, arrived = await self.read_pdu(first_by, done_by)
                except _transport.Timeout:
                    raise _Failure("release_failed", "no A-RELEASE-RP within acse_timeout (%ss)" % req.acse_timeout,
                                   condition="0006:031a DUL network read timeout") from None
                except _transport.Closed:
                    raise _Failure("release_failed", "peer closed the connection without an A-RELEASE-RP",
                                   condition="0006:0317 Peer aborted Association (or never connected)") from None
                except _pdu.ProtocolError as exc:  # an unknown PDU type, say: echoscu's release fails, exit 1
                    raise _Failure("release_failed", str(exc), condition=exc.condition) from None
                if kind == 6:
                    self.assoc["released"] = True
                    return
                if kind == 7:
                    self._peer_abort(raw)
                    raise _Failure("release_failed", "peer aborted the association instead of releasing it",
                                   condition="0006:0317 Peer aborted Association (or never connected)")
                if kind == 5:  # a release collision (PS3.8 9.2.7) fails echoscu's release, exit 1
                    raise _Failure("release_failed", "peer sent A-RELEASE-RQ instead of the A-RELEASE-RP",
                                   condition="0006:0319 DUL Peer Requested Release")
                if kind == 4:  # so does a late P-DATA-TF (docs/dev/codec.md)
                    raise _Failure("release_failed", "peer sent P-DATA-TF instead of the A-RELEASE-RP",
                                   condition="0006:0316 DUL P-Data PDU arrived")
                raise _Failure("release_failed", "Unexpected PDU type: %s while waiting for the A-RELEASE-RP" % _pdu.PDU_TYPES[kind])
        except _Failure as failure:
            self.log.add("fatal", "Association Release Failed: %s" % failure.condition)
            raise
        finally:
            self.timing["release"] = _ns_ms((arrived or _transport.now_ns()) - sent)

    def abort(self):
        """Send A-ABORT; a transport already gone is no error here, the connection ends either way."""
        try:
            self.chan.write(_pdu.fixed_pdu("abort"))
        except (OSError, RuntimeError):
            return
        self.assoc["aborted_by"] = self.assoc["aborted_by"] or "us"

    # ---- driver ----------------------------------------------------------------------------
    def _our_identity(self):
        return {"implementation_class_uid": _pdu.IMPLEMENTATION_CLASS_UID,
                "implementation_version_name": _pdu.IMPLEMENTATION_VERSION_NAME,
                "calling_aet": self.req.calling_aet, "called_aet": self.req.called_aet, "max_pdu": self.max_pdu}

    async def run(self):
        req = self.req
        started = time.perf_counter()
        outcome, reason, exit_code, condition = "success", None, 0, None
        if req.max_pdu != self.max_pdu:
            self.log.add("warn", "ASSOC: PDV receive length %d is odd (using %d)" % (req.max_pdu, self.max_pdu))
        if self.log.enabled("debug"):
            self.log.add("debug", "Request Parameters:\n" + association_dump("RQ", self._our_identity(), {}, self.contexts))
        if req.tls is not None:
            for warning in req.tls.config.warnings:  # echoscu's warnings while it sets up TLS
                self.log.add("warn", warning)
        self.log.add("info", "Requesting Association")
        phase = "association"
        partial = False
        try:
            await self.connect(await self.resolve())
            echo_contexts = await self.associate()
            if req.query is not None:
                phase = "query"
                status_failure = await self.find(echo_contexts)
            else:
                phase = "echo"
                status_failure = await self.echo_loop(echo_contexts) if req.echo else None
            phase = "release"
            if req.abort and status_failure is None:
                self.log.add("info", "Aborting Association")
                self.abort()
                self.timing["release"] = 0.0  # nothing to wait for: A-ABORT has no answer
            else:
                await self.release()
            if status_failure is not None:
                phase = "done"
                raise status_failure
        except _Failure as failure:
            outcome, reason, exit_code, condition = failure.outcome, failure.reason, failure.exit_code, failure.condition
        except _pdu.ProtocolError as exc:
            outcome, reason, condition = "protocol_error", str(exc), exc.condition
            exit_code = 1 if phase == "association" else 70
            if phase == "echo":
                self.log.add("error", "Echo Failed: %s" % condition)
        except _transport.Closed as exc:
            outcome, exit_code = "peer_aborted", 1 if phase == "association" else 0
            reason = "the peer closed the connection in the middle of a PDU" if exc.partial else "the peer closed the connection"
            condition = "0006:0317 Peer aborted Association (or never connected)"
            partial = exc.partial
            if phase == "echo" and exc.in_body:  # after a PDU header echoscu fails the DIMSE read: exit 70, not 0
                exit_code, condition = 70, "0006:020d DIMSE Failed to receive message"
                self.log.add("error", "Echo Failed: %s" % condition)
            elif phase == "echo":
                self.log.add("error", "Echo Failed: 0006:0317 Peer aborted Association (or never connected)")
                self.log.add("info", "Peer Aborted Association")
        except ssl.SSLError as exc:  # a TLS alert after the handshake, e.g. the peer refusing our certificate
            from . import _tls_errors  # pylint: disable=import-outside-toplevel
            outcome, exit_code = "tls_error", 1 if phase == "association" else 0
            reason, condition, _detail = _tls_errors.classify_ssl_error(exc)
        except OSError as exc:
            outcome, exit_code = "peer_aborted", 1 if phase == "association" else 0
            reason = "TCP I/O Error (%s)" % (os.strerror(exc.errno) if exc.errno else exc)
        except Exception as exc:  # pylint: disable=broad-except  # a probe reports, it never raises
            # Our own fault, never a verdict about the peer: say so, with the exception type to report.
            outcome, exit_code = "internal_error", 1
            reason = "internal error in dicom.network (%s: %s); this says nothing about the peer, please report it" % (type(exc).__name__, exc)
        if outcome == "peer_aborted" and self.tls is not None and not self.assoc["established"] and self.assoc["abort"] is None \
                and not partial:
            # TLS 1.3 gives the peer's verdict on our certificate after our side of the handshake: a reset here is that verdict
            from . import _tls_errors  # pylint: disable=import-outside-toplevel
            outcome, reason = "tls_error", _tls_errors.closed_after_handshake(reason)
        if outcome != "success":
            self._log_failure(phase, outcome, condition or reason, exit_code)
        self.close()
        self.timing["total"] = _ms(time.perf_counter() - started)
        return self._result(outcome, reason, exit_code)

    def _log_failure(self, phase, outcome, condition, exit_code):
        """echoscu's closing lines for a failure, and the A-ABORT it sends where it sends one."""
        if phase == "association":
            if outcome not in ("association_rejected", "no_acceptable_context"):
                self.log.add("fatal", "Association Request Failed: %s" % condition)
            if self.assoc["established"] and self.chan is not None:
                self.abort()  # be polite: echoscu just drops the socket here
        elif phase == "echo" and exit_code == 70 and self.chan is not None:
            if outcome != "protocol_error" or "release" not in condition:
                self.log.add("error", "Echo SCU Failed: %s" % condition)
            self.log.add("info", "Aborting Association")
            self.abort()
        elif phase == "echo" and outcome == "dimse_timeout" and self.chan is not None:
            self.abort()
        elif phase in ("release", "query") and self.chan is not None and self.assoc["aborted_by"] is None:
            self.abort()

    def _result(self, outcome, reason, exit_code):
        req = self.req
        success = outcome == "success"
        rtts = [echo["rtt_ms"] for echo in self.echoes]
        rtt = None
        if rtts:
            rtt = {"min": min(rtts), "median": round(statistics.median(rtts), 3), "avg": round(sum(rtts) / len(rtts), 3),
                   "max": max(rtts), "stdev": round(statistics.pstdev(rtts), 3)}
        label = req.endpoint_label()
        if req.query is not None:
            what = "C-FIND (%s)" % req.query["model"]
            if success:
                msg = "%s to %s succeeded: %s, %d matches, %.2f ms" % (what, label, self.query["status_text"], self.query["matches"],
                                                                       self.query["rtt_ms"])
            else:
                msg = "%s to %s failed (%s): %s" % (what, label, outcome, reason)
        elif success and req.echo:
            msg = "C-ECHO to %s succeeded: %d/%d echoes, %.2f ms" % (label, len(self.echoes), req.repeat, rtt["avg"])
        elif success:
            accepted = sum(1 for context in self.contexts if context["result"] == "acceptance")
            msg = "Association with %s succeeded: %d of %d presentation contexts accepted" % (label, accepted, len(self.contexts))
        else:
            msg = "C-ECHO to %s failed (%s): %s" % (label, outcome, reason)
        accepted_syntaxes = []
        for context in self.contexts:
            syntax = context["transfer_syntax"]
            if syntax and syntax not in accepted_syntaxes:
                accepted_syntaxes.append(syntax)
        result = {
            "changed": False,
            "success": success,
            "msg": msg,
            "outcome": outcome,
            "reason": reason,  # the failure alone, without the endpoint and outcome that msg adds (None on success)
            "echoscu_exit_code": exit_code,
            "endpoint": {"host": req.host, "port": req.port, "address": self.address, "ip_protocol": req.ip_protocol,
                         "calling_aet": req.calling_aet, "called_aet": req.called_aet},
            "association": self.assoc,
            "presentation_contexts": self.contexts,
            "accepted_transfer_syntaxes": accepted_syntaxes,
            "echoes": self.echoes,
            "rtt_ms": rtt,
            "timing_ms": self.timing,
            # what rtt_ms and the associate/echo/release phases are based on (docs/dev/timing.md)
            "timing_source": self.chan.timing_source if self.chan is not None else None,
            "tls": self.tls,
            "log": self.log.lines,
            "checked_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        if self.query is not None:  # counts and statuses only: no attribute value of any response is kept
            result["query"] = self.query
        return result


async def probe_async(request, sink=None):
    """Probe one endpoint; always returns a result dict."""
    return await _Probe(request, sink).run()


async def probe_all_async(requests, concurrency=64, sink=None):
    """Probe every request with at most ``concurrency`` associations open; results in input order.

    Workers pull from one iterator, so only ``concurrency`` probes exist at any time whatever the
    number of endpoints.
    """
    results = [None] * len(requests)
    pending = iter(enumerate(requests))

    async def worker():
        for index, request in pending:
            results[index] = await probe_async(request, sink)

    await asyncio.gather(*(worker() for _worker in range(max(1, min(concurrency, len(requests))))))
    return results


def _raise_fd_limit(wanted):
    """Let ``wanted`` sockets be open at once where the hard limit allows (ulimit -n is often 1024)."""
    try:
        import resource  # pylint: disable=import-outside-toplevel
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted + 64 if hard == resource.RLIM_INFINITY else min(hard, wanted + 64)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def probe(request, sink=None):
    """Synchronous probe of one endpoint."""
    return asyncio.run(probe_async(request, sink))


def probe_all(requests, concurrency=64, sink=None):
    """Synchronous probe of many endpoints in one event loop."""
    _raise_fd_limit(min(concurrency, len(requests)))
    return asyncio.run(probe_all_async(requests, concurrency, sink))
