# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transfer syntax discovery: UID names and keywords, endpoint terms, the association plan, merged answers.

Private to this collection; no Ansible imports and no network. The transfer_syntaxes lookup and the
ts_name/ts_uid filters use it on the controller; the roles may reuse the plan and the merge. pydicom
is optional here: without it only the 53 transfer syntaxes of echoscu's list (and Verification) are
known by name.

Discovery proposes one presentation context per (abstract syntax, transfer syntax) pair, so the
acceptor's answer to each context says yes or no for exactly one syntax; an acceptor that chooses
among several proposed syntaxes (pynetdicom, Orthanc) otherwise hides every syntax but the one it
picked. At most 128 contexts fit in one association (context IDs are odd numbers in one byte), so
N pairs need ceil(N / 128) associations, and that is what plan_contexts() makes.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import sys

from ._request import _ALIASES, MAX_CONTEXTS, NEGOTIATION_KEYS, RequestError
from ._syntaxes import ECHOSCU_TRANSFER_SYNTAXES, MAX_PROPOSE_TS, TRANSFER_SYNTAX_NAMES, VERIFICATION_SOP_CLASS, proposed_transfer_syntaxes

ANSWERED_OUTCOMES = ("success", "no_acceptable_context", "release_failed")
MODES = ("discover", "echoscu")
NAME_STYLES = ("name", "keyword", "dcmtk")

_UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")
_KINDS = {
    "transfer": ("a transfer syntax", ("Transfer Syntax",)),
    "abstract": ("an abstract syntax (SOP class)", ("SOP Class", "Meta SOP Class")),
}
# Per-term keys a dict term may carry besides the association options of _request.OPTIONS (NEGOTIATION_KEYS):
# the lookup's own, propose_ts and propose_pc among them (they shape its mode=echoscu proposal).
TERM_EXTRA_KEYS = ("abstract_syntax", "transfer_syntaxes", "propose_ts", "propose_pc")
TERM_KEYS = NEGOTIATION_KEYS | frozenset(TERM_EXTRA_KEYS)

_INDEX = None
# Why pydicom's UID dictionary could not be loaded (the ImportError's text), or None when it was; set by _index().
_PYDICOM_ERROR = None


# ---- the UID dictionary -----------------------------------------------------------------------
class _Entry:
    __slots__ = ("uid", "name", "kind", "keyword", "retired", "dcmtk")

    def __init__(self, uid, name, kind, keyword, retired, dcmtk=None):
        self.uid, self.name, self.kind, self.keyword, self.retired, self.dcmtk = uid, name, kind, keyword, retired, dcmtk


def _fold(text):
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _index():
    """uid -> _Entry and the reverse maps, from pydicom's UID dictionary plus echoscu's table; built once."""
    global _INDEX, _PYDICOM_ERROR  # pylint: disable=global-statement
    if _INDEX is not None:
        return _INDEX
    try:
        from pydicom.uid import UID_dictionary  # pylint: disable=import-outside-toplevel
        _PYDICOM_ERROR = None
    except ImportError as exc:
        UID_dictionary = {}
        _PYDICOM_ERROR = str(exc) or type(exc).__name__
    entries = {}
    for uid, row in UID_dictionary.items():
        entries[uid] = _Entry(uid, row[0], row[1], row[4], bool(row[3]))
    for uid, dcmtk, keyword in ECHOSCU_TRANSFER_SYNTAXES:
        entry = entries.get(uid)
        if entry is None:
            entry = entries[uid] = _Entry(uid, TRANSFER_SYNTAX_NAMES[uid], "Transfer Syntax", keyword, False)
        entry.dcmtk = dcmtk
    if VERIFICATION_SOP_CLASS not in entries:
        entries[VERIFICATION_SOP_CLASS] = _Entry(VERIFICATION_SOP_CLASS, "Verification SOP Class", "SOP Class", "Verification", False)
    exact, folded = {}, {}
    # Current entries win over retired ones that share a name (pydicom has a few such pairs).
    for entry in sorted(entries.values(), key=lambda item: item.retired, reverse=True):
        for text in (entry.name, entry.keyword, entry.dcmtk):
            if text:
                exact[text] = entry.uid
                folded.setdefault(_fold(text), set()).add(entry.uid)
    for entry in entries.values():  # keywords are unique and take precedence over names
        if entry.keyword:
            exact[entry.keyword] = entry.uid
    _INDEX = (entries, exact, folded)
    return _INDEX


def pydicom_missing():
    """Why the names of pydicom's UID dictionary are not available - ``this Python (<path>) cannot import it (<error>)`` -
    or None when they are.

    Without pydicom, echoscu's 53 transfer syntaxes and Verification are still known by UID, keyword and name
    (_syntaxes.py); SOP class names and keywords (CTImageStorage) and the names of other UIDs are not.
    """
    _index()
    if _PYDICOM_ERROR is None:
        return None
    return "this Python (%s) cannot import it (%s)" % (sys.executable or "python", _PYDICOM_ERROR)


def _unknown_without_pydicom(option, text, kind, missing):
    """The message for a name nobody knows on a Python without pydicom: what needs pydicom, and that UIDs do not."""
    beyond = "transfer syntax names beyond echoscu's %d" % len(ECHOSCU_TRANSFER_SYNTAXES)
    what = {"abstract": "SOP class names and keywords", "transfer": beyond}.get(kind, "SOP class names and keywords (and %s)" % beyond)
    close = _suggest(text, kind)
    return ("%s: %r is not a name known without pydicom: resolving %s needs pydicom on the controller, and %s; install pydicom "
            "there, or give the UID: UIDs work without pydicom%s" % (option, text, what, missing, close))


def lookup_uid(uid):
    """The dictionary entry of a UID, or None."""
    return _index()[0].get(uid)


def uid_label(uid, style="name"):
    """A UID as people read it: pydicom's name (``name``), the DICOM keyword, or DCMTK's dump name; the UID itself when unknown."""
    if style not in NAME_STYLES:
        raise RequestError("style must be one of %s, got %r" % (", ".join(NAME_STYLES), style))
    entry = lookup_uid(uid)
    if entry is None:
        return uid
    value = {"name": entry.name, "keyword": entry.keyword, "dcmtk": entry.dcmtk}[style]
    return value or entry.name or uid


def describe(uid):
    """``{uid, name, keyword}`` for reports; name and keyword are null for a UID nobody knows."""
    entry = lookup_uid(uid)
    return {"uid": uid, "name": entry.name if entry else None, "keyword": entry.keyword if entry else None}


def resolve_uid(value, kind=None, option="value"):
    """A UID from a UID, a DICOM keyword, pydicom's name or DCMTK's dump name.

    ``kind`` (``transfer`` or ``abstract``) refuses a known UID of another kind, so CTImageStorage
    given as a transfer syntax is an error, not a silently useless proposal. A well-formed UID nobody
    knows (a private syntax) is used as given.
    """
    if not isinstance(value, str) or not value.strip():
        raise RequestError("%s: expected a UID or a DICOM keyword, got %r" % (option, value))
    text = value.strip()
    entries, exact, folded = _index()
    if _UID_RE.match(text):
        if len(text) > 64:
            raise RequestError("%s: %r is longer than the 64 characters of a DICOM UID" % (option, text))
        uid = text
    elif re.match(r"^[0-9.]+$", text):
        raise RequestError("%s: %r is not a valid UID: numbers without leading zeros, separated by single dots" % (option, text))
    elif text in exact:
        uid = exact[text]
    else:
        matches = folded.get(_fold(text), set())
        if kind is not None:
            matches = {uid for uid in matches if entries[uid].kind in _KINDS[kind][1]} or matches
        if len(matches) > 1:
            matches = {uid for uid in matches if not entries[uid].retired} or matches
        if len(matches) > 1:
            raise RequestError("%s: %r is ambiguous: it may mean %s" % (option, text, ", ".join(sorted(matches))))
        if not matches:
            missing = pydicom_missing()
            if missing:
                raise RequestError(_unknown_without_pydicom(option, text, kind, missing))
            raise RequestError("%s: %r is neither a UID nor a known %s%s" % (option, text, "DICOM keyword or name", _suggest(text, kind)))
        uid = next(iter(matches))  # not pop(): without a kind, ``matches`` is the index's own set
    entry = entries.get(uid)
    if kind is not None and entry is not None and entry.kind not in _KINDS[kind][1]:
        described = entry.name if text != entry.name else uid
        raise RequestError("%s: %s (%s) is a %s, not %s" % (option, text, described, entry.kind, _KINDS[kind][0]))
    return uid


def _suggest(text, kind):
    entries = _index()[0]
    keywords = [entry.keyword for entry in entries.values()
                if entry.keyword and (kind is None or entry.kind in _KINDS[kind][1])]
    close = difflib.get_close_matches(text, keywords, n=3, cutoff=0.7)
    return "; did you mean %s?" % " or ".join(close) if close else ""


def resolve_list(values, kind, option):
    """Resolve one value or a list of them, dropping repeats (first one wins, order kept)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise RequestError("%s must be a UID or keyword, or a non-empty list of them, got %r" % (option, values))
    out = []
    for index, value in enumerate(values):
        uid = resolve_uid(value, kind, "%s[%d]" % (option, index) if len(values) > 1 else option)
        if uid not in out:
            out.append(uid)
    return out


# ---- terms ------------------------------------------------------------------------------------
def parse_term(term, label="term"):
    """``[AET@]host[:port]`` or a dict -> dict of option values (names canonical, aliases folded).

    IPv6 literals go in brackets when a port follows (``AET@[fd00::5]:104``); a bare IPv6 literal
    without brackets is taken whole, with the default port. The values are checked later by
    _request.build_request(); here only the shape is.
    """
    if isinstance(term, dict):
        values = {}
        for key, value in term.items():
            name = _ALIASES.get(key, key)
            if not isinstance(key, str) or name not in TERM_KEYS:
                raise RequestError("%s: %r is not a key a term may carry (allowed: %s)" % (label, key, ", ".join(sorted(TERM_KEYS))))
            if name in values and values[name] != value:
                raise RequestError("%s: %s is given twice (as %s and an alias)" % (label, name, key))
            values[name] = value
        if not values.get("host"):
            raise RequestError("%s: a dict term needs host" % label)
        return values
    if not isinstance(term, str):
        raise RequestError("%s: expected [AET@]host[:port] or a dict, got %r" % (label, term))
    text = term.strip()
    values = {}
    if "@" in text:
        aet, text = text.rsplit("@", 1)
        if not aet:
            raise RequestError("%s %r: nothing before @; write AET@host or leave the @ out" % (label, term))
        values["called_aet"] = aet
    port = None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or rest and not rest.startswith(":"):
            raise RequestError("%s %r: an IPv6 literal in brackets must look like [fd00::5] or [fd00::5]:104" % (label, term))
        port = rest[1:] if rest else None
    elif text.count(":") > 1:
        host = text  # a bare IPv6 literal; a port needs the brackets
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            raise RequestError("%s %r: %r is not an IPv6 literal; write [address]:port" % (label, term, host)) from None
    else:
        host, colon, port = text.partition(":")
        port = port if colon else None
    if not host:
        raise RequestError("%s %r: no host" % (label, term))
    values["host"] = host
    if port is not None:
        if not port.isdigit():
            raise RequestError("%s %r: port %r is not a number" % (label, term, port))
        values["port"] = int(port)
    return values


def flatten_terms(terms):
    """Terms as given to the lookup, a list given as one term counting as its elements."""
    out = []
    for term in terms:
        if isinstance(term, (list, tuple)):
            out.extend(term)
        else:
            out.append(term)
    return out


# ---- the plan ---------------------------------------------------------------------------------
def plan_contexts(mode, abstract_syntaxes, transfer_syntaxes=None, propose_ts=None, propose_pc=None, per_association=MAX_CONTEXTS):
    """The presentation contexts to propose, cut into associations: a list of lists of (abstract, [syntaxes]).

    ``discover``: one context per (abstract syntax, transfer syntax), abstract syntax by abstract
    syntax, ``per_association`` (<= 128) to an association, so ceil(pairs / per_association)
    associations. ``echoscu``: for each abstract syntax ``propose_pc`` contexts proposing the first
    ``propose_ts`` syntaxes of echoscu's list, as echoscu -pts/-ppc does for Verification.
    """
    if mode not in MODES:
        raise RequestError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if not isinstance(per_association, int) or isinstance(per_association, bool) or not 1 <= per_association <= MAX_CONTEXTS:
        raise RequestError("contexts_per_association must be 1..%d, got %r" % (MAX_CONTEXTS, per_association))
    if mode == "discover":
        if propose_ts is not None or propose_pc is not None:
            raise RequestError("propose_ts and propose_pc shape mode=echoscu; mode=discover proposes one context per transfer syntax")
        contexts = [(abstract, [syntax]) for abstract in abstract_syntaxes for syntax in transfer_syntaxes]
    else:
        if transfer_syntaxes is not None:
            raise RequestError("transfer_syntaxes is for mode=discover; mode=echoscu proposes the first propose_ts of echoscu's list")
        propose_ts = 1 if propose_ts is None else propose_ts
        propose_pc = 1 if propose_pc is None else propose_pc
        for option, value, high in (("propose_ts", propose_ts, MAX_PROPOSE_TS), ("propose_pc", propose_pc, MAX_CONTEXTS)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
                raise RequestError("%s must be 1..%d, got %r" % (option, high, value))
        syntaxes = proposed_transfer_syntaxes(propose_ts)
        contexts = [(abstract, list(syntaxes)) for abstract in abstract_syntaxes for _copy in range(propose_pc)]
    return [contexts[start:start + per_association] for start in range(0, len(contexts), per_association)]


def default_transfer_syntaxes():
    return proposed_transfer_syntaxes(MAX_PROPOSE_TS)


# ---- the answer -------------------------------------------------------------------------------
def _pick(mapping, keys):
    return {key: mapping.get(key) for key in keys}


_ASSOCIATION_KEYS = ("established", "released", "aborted_by", "rejection", "abort", "our_max_pdu", "peer_max_pdu", "max_send_pdv")


def merge(name, mode, abstract_syntaxes, transfer_syntaxes, plan, results):
    """One term's answer from the engine results of its associations (run in plan order, stopping at a failure).

    Returns the ``detail`` dict of the lookup; simple_answer() derives the plain form from it.
    """
    contexts, associations = [], []
    failure = None
    for number, (planned, result) in enumerate(zip(plan, results), start=1):
        association = _pick(result["association"], _ASSOCIATION_KEYS)
        association.update(number=number, contexts=len(planned), outcome=result["outcome"], msg=result["msg"], reason=result["reason"],
                           timing_ms=result["timing_ms"])
        associations.append(association)
        for context in result["presentation_contexts"]:
            entry = dict(context, association=number)
            entry["abstract_syntax_name"] = uid_label(context["abstract_syntax"])
            contexts.append(entry)
        if result["outcome"] not in ANSWERED_OUTCOMES and failure is None:
            failure = result
    first = results[0] if results else None
    peer = None
    established = [result for result in results if result["association"]["established"]]
    if established:
        assoc = established[0]["association"]
        peer = {"implementation_class_uid": assoc["peer_implementation_class_uid"],
                "implementation_version_name": assoc["peer_implementation_version_name"],
                "max_pdu": assoc["peer_max_pdu"]}
    per_abstract = {}
    union = []
    for abstract in abstract_syntaxes:
        mine = [context for context in contexts if context["abstract_syntax"] == abstract]
        accepted = []
        for context in mine:
            syntax = context["transfer_syntax"]
            if context["result"] == "acceptance" and syntax and syntax not in accepted:
                accepted.append(syntax)
        if mode == "discover":
            accepted.sort(key=transfer_syntaxes.index)
        for syntax in accepted:
            if syntax not in union:
                union.append(syntax)
        results_count = {}
        for context in mine:
            if context["result"] is not None:  # None: the association never got that far
                results_count[context["result"]] = results_count.get(context["result"], 0) + 1
        proposed = transfer_syntaxes if mode == "discover" else (mine[0]["proposed_transfer_syntaxes"] if mine else [])
        by_syntax = {context["proposed_transfer_syntaxes"][0]: context["result"] for context in mine} if mode == "discover" else {}
        entry = describe(abstract)
        entry.update(
            accepted_transfer_syntaxes=accepted,
            results=results_count,
            transfer_syntaxes=[dict(describe(syntax), accepted=syntax in accepted, result=by_syntax.get(syntax)) for syntax in proposed],
        )
        per_abstract[abstract] = entry
    answered = failure is None and bool(results) and len(results) == len(plan)
    if answered:
        outcome = "success"
        if len(abstract_syntaxes) == 1:
            abstract = abstract_syntaxes[0]
            msg = "%s accepts %d of %d proposed transfer syntaxes for %s" % (
                name, len(per_abstract[abstract]["accepted_transfer_syntaxes"]), len(per_abstract[abstract]["transfer_syntaxes"]),
                uid_label(abstract))
        else:
            counts = ["%d for %s" % (len(entry["accepted_transfer_syntaxes"]), uid_label(uid)) for uid, entry in per_abstract.items()]
            msg = "%s accepts %s" % (name, ", ".join(counts))
        msg += " (%d association%s)" % (len(plan), "" if len(plan) == 1 else "s")
    else:
        failure = failure or first
        outcome = failure["outcome"] if failure else "protocol_error"
        reason = (failure.get("reason") or failure["msg"]) if failure else "not probed"
        msg = "%s: %s (%s)" % (name, reason, outcome)
    return {
        "name": name,
        "endpoint": first["endpoint"] if first else None,
        "mode": mode,
        "success": answered,
        "outcome": outcome,
        "msg": msg,
        "accepted_transfer_syntaxes": union if answered else [],
        "abstract_syntaxes": per_abstract,
        "peer": peer,
        "rejection": failure["association"]["rejection"] if failure else None,
        "associations": associations,
        "presentation_contexts": contexts,
    }


def simple_answer(detail):
    """The plain form: the accepted UIDs, or with several abstract syntaxes a dict of them keyed by abstract syntax UID."""
    per_abstract = detail["abstract_syntaxes"]
    if len(per_abstract) == 1:
        return list(next(iter(per_abstract.values()))["accepted_transfer_syntaxes"])
    return {uid: list(entry["accepted_transfer_syntaxes"]) for uid, entry in per_abstract.items()}
