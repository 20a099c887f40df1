# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: transfer_syntaxes
short_description: Which transfer syntaxes a DICOM peer accepts, as data
version_added: 0.1.0
description:
  - Asks one or many DICOM peers which transfer syntaxes they accept for an abstract syntax (Verification by default,
    or a storage SOP class such as C(CTImageStorage)), and returns the answer as data.
  - 'O(mode=discover) (the default) proposes one presentation context per (abstract syntax, transfer syntax) pair, so the peer
    answers yes or no for every syntax separately and every syntax it accepts is found. At most 128 contexts fit in one
    association, so 53 syntaxes for two SOP classes (106 contexts) take one association, for three (159) two. This is not
    what a normal sender does: it proposes several syntaxes in one context and the peer picks one.'
  - O(mode=echoscu) proposes what C(echoscu -pts N -ppc M) proposes, to see what echoscu would get.
  - Only the association is negotiated, then released; no DIMSE message and no data is sent.
    A peer that accepts none of the proposed contexts is answered with an empty list; the association is then aborted,
    as DCMTK and pynetdicom do.
  - All terms are negotiated concurrently in one event loop (up to O(concurrency) peers at once); the associations of one term
    run one after the other.
  - A peer that cannot be asked (name does not resolve, connection refused or timed out, association rejected, aborted,
    no answer within O(acse_timeout), protocol error) raises an error naming the endpoint and the classified outcome
    (the C(outcome) values of M(dicom.network.dicom_echo)), unless O(on_error) says otherwise.
  - This runs on the controller (or wherever the play templates it), which needs network access to the peers and
    the Python package pydicom (for names of syntaxes beyond the echoscu list), and cryptography for TLS.
author:
  - dicom.network maintainers (@dicom-network)
requirements:
  - pydicom >= 3 on the controller for SOP class keywords and names (V(CTImageStorage)) and transfer syntax names beyond echoscu's 53;
    UIDs, the default V(Verification) and echoscu's 53 transfer syntaxes work without it
extends_documentation_fragment:
  - dicom.network.association
  - dicom.network.association.plugins
  - dicom.network.tls
options:
  _terms:
    description:
      - The peers, each written V([AET@]host[:port]), for example V(ORTHANC@pacs1.example.org:4242), V(10.0.0.5) or,
        with an IPv6 literal, V(ARCHIVE@[fd00::5]:104). The AE title before C(@) is the called AE title, the port defaults to O(port).
        A bare IPv6 literal without brackets (V(fd00::5)) is taken whole, with the default port.
      - Or dicts with C(host) and optionally C(port), C(called_aet), C(calling_aet), C(name) (the label in messages and in the
        O(detail) answer, default C(AET@host:port)), O(abstract_syntax), O(transfer_syntaxes), and any association, timeout or
        TLS option of M(dicom.network.dicom_echo) (O(ip_protocol), O(acse_timeout), O(max_pdu), ...), which override the lookup's for that peer.
      - A list given as one term counts as its elements, so a list of endpoints can be passed as it is.
    type: list
    elements: raw
    required: true
  abstract_syntax:
    description:
      - The abstract syntax (SOP class) to ask about, as a UID or a DICOM keyword such as V(CTImageStorage), V(MRImageStorage),
        V(SecondaryCaptureImageStorage) or V(Verification); or a list of them.
      - With one abstract syntax each term's answer is a list; with several it is a dict keyed by abstract syntax UID.
      - Keywords and names come from pydicom's UID dictionary; an unknown keyword is an error before any network traffic,
        and so is a keyword on a controller without pydicom, whose message says that it needs pydicom and that the UID works without it;
        a well-formed UID nobody knows (a private SOP class) is proposed as given.
    type: list
    elements: str
    default: [Verification]
  transfer_syntaxes:
    description:
      - The transfer syntaxes to ask about in O(mode=discover), as UIDs or DICOM keywords (V(JPEG2000Lossless), V(HTJ2KLossless),
        V(ExplicitVRLittleEndian), ...). DCMTK's names (V(JPEG2000LosslessOnly)) and pydicom's names work too.
      - Default all 53 of echoscu's C(--propose-ts) list (DCMTK 3.7.0), from Implicit VR Little Endian to JPEG XL.
      - The answer lists the accepted ones in this order.
    type: list
    elements: str
  mode:
    description:
      - V(discover) finds every accepted syntax (one context per abstract syntax and transfer syntax).
      - V(echoscu) proposes, for each abstract syntax, O(propose_pc) contexts that each offer the first O(propose_ts) syntaxes of
        echoscu's list, as C(echoscu -pts N -ppc M) does for Verification. The peer picks one syntax per context, so this shows what
        echoscu would get, not everything the peer supports.
    type: str
    choices: [discover, echoscu]
    default: discover
  propose_ts:
    description:
      - With O(mode=echoscu), propose the first N transfer syntaxes of echoscu's list (DCMTK 3.7.0 order) in every context, 1 to 53;
        default 1. Older echoscu releases number the list differently beyond 3 (3.6.7 lacks entries 4, 25 and 41 to 53).
      - Not allowed with O(mode=discover).
    type: int
  propose_pc:
    description:
      - With O(mode=echoscu), propose N identical contexts per abstract syntax, 1 to 128; default 1. Not allowed with O(mode=discover).
    type: int
  detail:
    description:
      - V(false) answers each term with the list of accepted transfer syntax UIDs (a dict of such lists keyed by abstract syntax
        UID when O(abstract_syntax) names several).
      - V(true) answers each term with a dict holding the names, the result of every presentation context, the rejection details,
        the peer's implementation class UID, version name and maximum PDU size, and each association's outcome and timing.
        See RV(_raw).
    type: bool
    default: false
  contexts_per_association:
    description:
      - At most this many presentation contexts per association in O(mode=discover), 1 to 128; more associations are used when needed.
      - Lower it for a peer that refuses or mishandles large association requests.
    type: int
    default: 128
  concurrency:
    description:
      - How many peers are asked at once, 1 to 1024.
    type: int
    default: 64
  on_error:
    description:
      - What a term whose peer cannot be asked does.
      - V(strict) raises an error for the whole lookup after every term was tried; the message names each failed endpoint and its outcome.
      - V(warn) prints a warning and answers that term with null (with O(detail=true), with its dict, C(success=false)); the other terms answer normally.
      - V(ignore) does the same without the warning.
      - Ansible's own C(errors) keyword of C(lookup()) and C(query()) works too, but for the whole lookup; with
        C(errors='warn') or C(errors='ignore') any failed term makes the whole lookup return nothing.
    type: str
    choices: [strict, warn, ignore]
    default: strict
notes:
  - Use C(query()) (or C(lookup(..., wantlist=true))) so the answer is always one list entry per term.
  - The accepted set says what the peer accepts when offered one syntax at a time. Which syntax it would pick among several it
    accepts is its own choice, not the order of the proposal (pynetdicom and Orthanc use their own preference), so read no
    preference order into the list.
  - O(dimse_timeout) is accepted for symmetry with M(dicom.network.dicom_echo) and has no effect, since no DIMSE message is sent.
  - The association options can also be set in C(ansible.cfg) (section C([dicom_network])), in environment variables
    C(ANSIBLE_DICOM_<OPTION>) and in variables C(ansible_dicom_<option>); an argument of the lookup wins over them.
  - Unknown arguments are an error (Ansible would otherwise drop them silently), so a misspelled option cannot go unnoticed.
seealso:
  - module: dicom.network.dicom_echo
  - plugin: dicom.network.ts_name
    plugin_type: filter
  - plugin: dicom.network.ts_uid
    plugin_type: filter
"""

EXAMPLES = r"""
# Before a migration: does the archive accept JPEG 2000 for CT images?
- name: Ask the archive what it accepts for CT
  ansible.builtin.set_fact:
    ct_syntaxes: "{{ query('dicom.network.transfer_syntaxes', 'ARCHIVE@pacs1.example.org:104', abstract_syntax='CTImageStorage') | first }}"

- name: Fail unless JPEG 2000 (lossless) is accepted for CT
  ansible.builtin.assert:
    that:
      - "'JPEG2000Lossless' | dicom.network.ts_uid in ct_syntaxes"
    fail_msg: "ARCHIVE does not accept JPEG 2000 Lossless for CT; it accepts {{ ct_syntaxes | map('dicom.network.ts_name') | join(', ') }}"

# After an upgrade: did HTJ2K support arrive?
- name: Ask only about the three HTJ2K syntaxes, for CT and MR
  ansible.builtin.set_fact:
    htj2k: >-
      {{ query('dicom.network.transfer_syntaxes', 'ORTHANC@pacs1.example.org:4242',
               abstract_syntax=['CTImageStorage', 'MRImageStorage'],
               transfer_syntaxes=['HTJ2KLossless', 'HTJ2KLosslessRPCL', 'HTJ2K']) | first }}

- name: Report it
  ansible.builtin.debug:
    msg: "HTJ2K for CT: {{ htj2k['1.2.840.10008.5.1.4.1.1.2'] | map('dicom.network.ts_name') | join(', ') or 'none' }}"

# Several peers at once, negotiated concurrently; one answer (a list of UIDs) per peer
- name: Which syntaxes do both archives accept for Verification?
  ansible.builtin.debug:
    msg: "{{ query('dicom.network.transfer_syntaxes', 'pacs1.example.org:104', 'pacs2.example.org:104', called_aet='ARCHIVE') }}"

# Endpoints as dicts, e.g. from the inventory, with per-peer settings
- name: Full detail for two peers, one of them slow to answer
  ansible.builtin.set_fact:
    negotiation: >-
      {{ query('dicom.network.transfer_syntaxes',
               [{'host': 'pacs1.example.org', 'port': 104, 'called_aet': 'ARCHIVE'},
                {'host': 'fd00::5', 'port': 11112, 'called_aet': 'ROUTER', 'acse_timeout': 60}],
               abstract_syntax='CTImageStorage', detail=true) }}

- name: Show the peers' implementations and what they accept, by name
  ansible.builtin.debug:
    msg: >-
      {{ item.name }}: {{ item.peer.implementation_version_name }} accepts
      {{ item.accepted_transfer_syntaxes | map('dicom.network.ts_name') | join(', ') }}
  loop: "{{ negotiation }}"
  loop_control:
    label: "{{ item.name }}"

# What would `echoscu -pts 5 -ppc 3` get?
- name: echoscu's layout instead of discovery
  ansible.builtin.debug:
    msg: "{{ query('dicom.network.transfer_syntaxes', 'STORESCP@10.0.0.5:11112', mode='echoscu', propose_ts=5, propose_pc=3) }}"

# An audit over many peers that must not stop at the first unreachable one
- name: Ask every modality; an unreachable one answers null and warns
  ansible.builtin.set_fact:
    audit: "{{ query('dicom.network.transfer_syntaxes', modality_endpoints, on_error='warn', connection_timeout=5) }}"
"""

RETURN = r"""
_raw:
  description:
    - One entry per term, in term order.
    - With O(detail=false), the accepted transfer syntax UIDs (in the order they were asked about), or, with several abstract
      syntaxes, a dict of such lists keyed by abstract syntax UID; null for a failed term with O(on_error=warn) or O(on_error=ignore).
    - With O(detail=true), a dict with the keys below.
  type: list
  elements: raw
  contains:
    name:
      description: The term's label, C(AET@host:port) unless a dict term gave C(name).
      type: str
      sample: STORESCP@127.0.0.1:11112
    endpoint:
      description: C(host), C(port), C(address) (the address actually connected), C(ip_protocol), C(calling_aet), C(called_aet).
      type: dict
    mode:
      description: V(discover) or V(echoscu).
      type: str
    success:
      description: Whether the peer answered every association of the plan.
      type: bool
    outcome:
      description: V(success), or the classified failure of M(dicom.network.dicom_echo) (V(connection_refused), V(association_rejected), ...).
      type: str
    msg:
      description: One line, for example C(STORESCP@127.0.0.1:11112 accepts 3 of 53 proposed transfer syntaxes for Verification SOP Class (1 association)).
      type: str
    accepted_transfer_syntaxes:
      description: The UIDs accepted for any of the abstract syntaxes, first seen first.
      type: list
      elements: str
    abstract_syntaxes:
      description:
        - Keyed by abstract syntax UID, each with C(uid), C(name), C(keyword), C(accepted_transfer_syntaxes) (UIDs),
          C(results) (how many contexts got each result), and C(transfer_syntaxes), per proposed syntax C(uid), C(name), C(keyword),
          C(accepted) and C(result) (the context's result in O(mode=discover), null in O(mode=echoscu)).
        - Take a refusal's result as the peer's word, not as a diagnosis; Orthanc 1.10 and other DCMTK 3.6 based acceptors answer
          C(abstract-syntax-not-supported) for a transfer syntax they do not know, even for a SOP class they do support.
      type: dict
    peer:
      description: The peer's C(implementation_class_uid), C(implementation_version_name) and C(max_pdu); null if no association was established.
      type: dict
      sample: {"implementation_class_uid": "1.2.276.0.7230010.3.0.3.6.7", "implementation_version_name": "OFFIS_DCMTK_367", "max_pdu": 16384}
    rejection:
      description: C(result), C(source), C(reason) of an A-ASSOCIATE-RJ as numbers, with C(result_text), C(source_text), C(reason_text); else null.
      type: dict
    associations:
      description:
        - Per association of the plan that ran, C(number), C(contexts), C(outcome), C(msg), C(established), C(released), C(aborted_by),
          C(rejection), C(abort), C(our_max_pdu), C(peer_max_pdu), C(max_send_pdv) and C(timing_ms) (as M(dicom.network.dicom_echo) returns them).
      type: list
      elements: dict
    presentation_contexts:
      description:
        - Per proposed context, C(association) (its number), C(id), C(abstract_syntax), C(abstract_syntax_name), C(proposed_transfer_syntaxes),
          C(result) (V(acceptance), V(user-rejection), V(no-reason), V(abstract-syntax-not-supported), V(transfer-syntaxes-not-supported)),
          C(transfer_syntax) (the accepted UID or null) and C(transfer_syntax_name).
      type: list
      elements: dict
"""

import asyncio
import time

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.dicom.network.plugins.module_utils._negotiation import (
    ANSWERED_OUTCOMES,
    default_transfer_syntaxes,
    flatten_terms,
    merge,
    parse_term,
    plan_contexts,
    resolve_list,
    simple_answer,
)
from ansible_collections.dicom.network.plugins.module_utils._request import (
    NEGOTIATION_KEYS,
    RequestError,
    build_request,
    check_value,
    endpoint_label,
)

display = Display()


class _Job:
    """One term: its label, plan and requests, then its engine results and answer."""

    __slots__ = ("index", "name", "abstract", "syntaxes", "plan", "requests", "results", "detail", "seconds")

    def __init__(self, index):
        self.index = index
        self.results = []
        self.detail = None
        self.seconds = 0.0


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self._refuse_unknown(kwargs)
        self.set_options(var_options=self._option_variables(variables), direct=kwargs)
        terms = flatten_terms(terms)
        if not terms:
            raise AnsibleLookupError("dicom.network.transfer_syntaxes needs at least one peer, [AET@]host[:port] or a dict")
        try:
            jobs = self._plan(terms)
            concurrency = check_value("concurrency", self.get_option("concurrency"))
        except RequestError as exc:
            raise AnsibleLookupError("dicom.network.transfer_syntaxes: %s" % exc) from exc

        from ansible_collections.dicom.network.plugins.module_utils import _engine  # pylint: disable=import-outside-toplevel

        _engine._raise_fd_limit(min(concurrency, len(jobs)))  # pylint: disable=protected-access
        asyncio.run(_negotiate(_engine, jobs, concurrency))
        return self._answers(jobs)

    def _refuse_unknown(self, kwargs):
        known = set()
        for name, definition in self.option_definitions.items():
            known.add(name)
            known.update(definition.get("aliases") or ())
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise AnsibleLookupError("dicom.network.transfer_syntaxes: unknown option%s %s (known: %s)" % (
                "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(sorted(known - {"_terms"}))))

    def _option_variables(self, variables):
        """The variables our options read (ansible_dicom_*), templated: a lookup gets them raw, so
        ``ansible_dicom_port: "{{ pacs.port }}"`` would otherwise arrive as that text."""
        if not variables:
            return variables
        names = {source["name"] for definition in self.option_definitions.values() for source in definition.get("vars") or ()}
        wanted = {name: variables[name] for name in names if name in variables}
        if not wanted or self._templar is None:
            return wanted
        return {name: self._templar.template(value) for name, value in wanted.items()}

    def _association_values(self):
        """The association, timeout and TLS options this lookup documents, as _request.build_request() takes them
        (the host is the term's)."""
        values = {}
        for name in sorted(NEGOTIATION_KEYS - {"name", "host"}):
            if self.has_option(name):
                values[name] = self.get_option(name)
        return values

    def _plan(self, terms):
        base = self._association_values()
        mode = self.get_option("mode")
        abstract_option = self.get_option("abstract_syntax")
        syntax_option = self.get_option("transfer_syntaxes")
        per_association = self.get_option("contexts_per_association")
        propose = {"propose_ts": self.get_option("propose_ts"), "propose_pc": self.get_option("propose_pc")}
        default_abstract = resolve_list(abstract_option, "abstract", "abstract_syntax")
        default_syntaxes = resolve_list(syntax_option, "transfer", "transfer_syntaxes") if syntax_option is not None else None
        jobs = []
        tls_cache = {}  # one TLS context per distinct TLS configuration, not per association
        for index, term in enumerate(terms):
            job = _Job(index)
            label = "term %d" % (index + 1)
            values = parse_term(term, label)
            prefix = "%s (%s): " % (label, values.get("name") or endpoint_label(
                values.get("called_aet", base.get("called_aet")), values.get("host"), values.get("port", base.get("port"))))
            job.abstract = default_abstract
            if "abstract_syntax" in values:
                job.abstract = resolve_list(values.pop("abstract_syntax"), "abstract", prefix + "abstract_syntax")
            syntaxes = default_syntaxes
            if "transfer_syntaxes" in values:
                syntaxes = resolve_list(values.pop("transfer_syntaxes"), "transfer", prefix + "transfer_syntaxes")
            term_propose = dict(propose)
            for key in ("propose_ts", "propose_pc"):
                if key in values:
                    term_propose[key] = values.pop(key)
            if mode == "discover" and syntaxes is None:
                syntaxes = default_transfer_syntaxes()
            try:
                job.plan = plan_contexts(mode, job.abstract, syntaxes, per_association=per_association, **term_propose)
            except RequestError as exc:
                raise RequestError(prefix + str(exc)) from None
            job.syntaxes = syntaxes
            merged = dict(base)
            merged.update(values)
            job.requests = [build_request(merged, prefix=prefix, contexts=contexts, echo=False, tls_cache=tls_cache) for contexts in job.plan]
            job.name = job.requests[0].name
            jobs.append(job)
        return jobs

    def _answers(self, jobs):
        mode = self.get_option("mode")
        detail = self.get_option("detail")
        on_error = self.get_option("on_error")
        failures = []
        answers = []
        for job in jobs:
            job.detail = merge(job.name, mode, job.abstract, job.syntaxes, job.plan, job.results)
            job.detail["timing_ms"] = {"total": round(job.seconds * 1000.0, 3)}
            if job.detail["success"]:
                unclean = [assoc for assoc in job.detail["associations"] if assoc["outcome"] == "release_failed"]
                if unclean and on_error != "ignore":
                    display.warning("dicom.network.transfer_syntaxes: %s answered, but %s" % (job.name, unclean[0]["msg"]))
                answers.append(job.detail if detail else simple_answer(job.detail))
                continue
            failures.append(job.detail["msg"])
            if on_error == "warn":
                display.warning("dicom.network.transfer_syntaxes: %s" % job.detail["msg"])
            answers.append(job.detail if detail else None)
        if failures and on_error == "strict":
            raise AnsibleLookupError("dicom.network.transfer_syntaxes: %d of %d peers could not be asked: %s" % (
                len(failures), len(jobs), "; ".join(failures)))
        return answers


async def _negotiate(engine, jobs, concurrency):
    """Every term concurrently (at most ``concurrency`` at once); the associations of one term in turn, stopping at a failure."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job):
        async with gate:
            started = time.perf_counter()
            for request in job.requests:
                result = await engine.probe_async(request)
                job.results.append(result)
                if result["outcome"] not in ANSWERED_OUTCOMES:
                    break
            job.seconds = time.perf_counter() - started

    await asyncio.gather(*(one(job) for job in jobs))
