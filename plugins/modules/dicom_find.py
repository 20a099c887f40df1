#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dicom_find
short_description: Prove the DICOM query path (C-FIND) of one or many peers without asking for patient data
version_added: 0.2.0
description:
  - Opens a DICOM association, sends one C-FIND whose only matching key cannot exist, counts the answers and releases.
  - V(study) (the default O(query_model)) asks the Study Root Query/Retrieve Information Model at STUDY level for a random
    Study Instance UID (a fresh C(2.25.) UUID); V(worklist) asks the Modality Worklist Information Model for a random Scheduled
    Station AE Title and accession number. A conformant peer answers Success with no match, which proves that a query from
    this calling AE title to this called AE title is accepted and answered.
  - A C-ECHO that succeeds proves little about queries. Archives refuse C-FIND for unknown calling AE titles (some by aborting the
    association, some with a status), do not support the information model, or time out; RV(outcome) and RV(query) say which.
  - The result carries statuses and counts, never an attribute value. Every identifier the peer sends back is decoded with pydicom
    to check it is a data set, counted and dropped; a peer that keeps sending matches is cut off after 1,000 (RV(outcome)
    V(too_many_matches)) and the association aborted. Nothing a peer sends can make the probe hold more than one identifier of
    at most 64 KiB.
  - Shares the association, timeout and TLS options and the engine of M(dicom.network.dicom_echo); probes many endpoints in one
    task with O(endpoints). It never changes anything.
  - A separate module rather than an option of M(dicom.network.dicom_echo), which stays an echo with C(echoscu)'s options, outcomes
    and exit codes; a C-FIND has its own (there is no echoscu equivalent).
author:
  - dicom.network maintainers (@dicom-network)
requirements:
  - Python >= 3.10 on the node that runs the module
  - pydicom >= 3 on that node (identifiers are encoded and decoded with it)
  - cryptography >= 42 for O(tls=true) only
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dicom.network.association
  - dicom.network.tls
  - dicom.network.attributes
attributes:
  platform:
    platforms: posix
options:
  host:
    description:
      - The peer, a host name, an IPv4 literal or an IPv6 literal. Required unless O(endpoints) is given; the two are mutually exclusive.
    type: str
    aliases: [peer]
  query_model:
    description:
      - V(study) queries Study Root (C(1.2.840.10008.5.1.4.1.2.2.1)) at STUDY level for a random Study Instance UID, for archives.
      - V(worklist) queries the Modality Worklist (C(1.2.840.10008.5.1.4.31)) for a random Scheduled Station AE Title and accession
        number, for worklist providers that modalities query.
      - An entry of O(endpoints) may set its own.
    type: str
    choices: [study, worklist]
    default: study
  log_level:
    description:
      - >-
        Which transcript lines RV(log) returns (C(I: Sending Find Request (MsgID 1)), ...), the lines at this level and above.
    type: str
    choices: [fatal, error, warn, info, debug, trace]
    default: warn
  log_config:
    description:
      - A Python C(logging.config.fileConfig) file, applied where the module runs; every transcript line goes to the logger
        C(dicom.network.find) with the endpoint's name in the record attribute C(endpoint).
    type: path
  endpoints:
    description:
      - Query many peers in one task instead of O(host). Each entry is a dict with C(host) (required), and optionally C(port),
        C(calling_aet), C(called_aet), C(name) (default C(AET@host:port)), O(query_model), and any of O(ip_protocol),
        O(connection_timeout), O(socket_timeout), O(acse_timeout), O(dimse_timeout), O(max_pdu), O(log_level) and the TLS options,
        which override the task-level values for that entry.
      - The task fails if any endpoint fails; every endpoint is queried anyway.
    type: list
    elements: dict
  concurrency:
    description:
      - How many of O(endpoints) are queried at once, 1 to 1024.
    type: int
    default: 64
notes:
  - >-
    Deadlines. The first C-FIND response must begin within O(dimse_timeout) (else O(socket_timeout)), each later one within the
    same time of the one before, and all of them must be complete O(socket_timeout) after the first deadline; every other phase is
    bounded as in M(dicom.network.dicom_echo).
  - >-
    Failure is honest. The task fails unless the association was established, the final C-FIND response was Success (with any
    number of matches; RV(query.matches) says how many) and the release completed.
  - The identifier holds the matching key and, for V(study), the Query/Retrieve Level; no return key a peer could fill with patient data.
  - Bad option values fail before any network traffic, with a message that names the option. pydicom is loaded only after that.
  - Without pydicom on the host, one query fails with the missing library; with O(endpoints), every entry's result says so
    (RV(outcome) V(invalid_input), RV(reason)), so that a role can report it per endpoint.
seealso:
  - module: dicom.network.dicom_echo
  - name: DICOM PS3.4 Annex C (Query/Retrieve) and K (Basic Worklist Management)
    description: What the information models and their statuses mean.
    link: https://dicom.nema.org/medical/dicom/current/output/chtml/part04/PS3.4.html
"""

EXAMPLES = r"""
- name: Prove that the archive answers queries from our AE title
  dicom.network.dicom_find:
    host: pacs1.example.org
    port: 104
    called_aet: ARCHIVE
    calling_aet: WORKSTATION1

- name: Ask the worklist provider the way a modality does, over TLS
  dicom.network.dicom_find:
    host: ris.example.org
    port: 2762
    called_aet: WORKLIST
    calling_aet: CT01
    query_model: worklist
    tls: true
    ca_files: [/etc/pki/dicom/ca.pem]

- name: Query many endpoints in one task and keep going when some fail
  dicom.network.dicom_find:
    endpoints:
      - {name: archive, host: 10.0.0.5, called_aet: ARCHIVE}
      - {name: ris, host: 10.0.0.7, called_aet: RIS, query_model: worklist}
    dimse_timeout: 10
  register: queries
  failed_when: queries.results is not defined
"""

RETURN = r"""
changed:
  description: Always false, the module only reads.
  returned: always
  type: bool
success:
  description: Whether the association was established, the final C-FIND response was Success and the release completed.
  returned: always (one probe)
  type: bool
msg:
  description: "One line saying what happened, for example C(C-FIND (study) to ARCHIVE@10.0.0.5:104 succeeded: Success, 0 matches, 1.40 ms)."
  returned: always
  type: str
outcome:
  description:
    - The classified outcome, one of V(success), V(dns_error), V(connection_refused), V(connect_timeout), V(tls_error),
      V(association_rejected), V(acse_timeout), V(no_acceptable_context) (the peer does not support the information model),
      V(peer_aborted) (many archives answer a C-FIND from an unknown AE title this way), V(dimse_timeout), V(find_status) (a final
      status other than Success, RV(query.status) says which), V(too_many_matches), V(protocol_error), V(release_failed),
      V(invalid_input), V(internal_error).
  returned: always (one probe)
  type: str
  sample: success
reason:
  description: Why the probe failed, without the endpoint and outcome that RV(msg) adds; null on success.
  returned: always (one probe)
  type: str
query:
  description: What was asked and answered. Statuses and counts only, never an attribute value.
  returned: always (one probe)
  type: dict
  contains:
    model: {description: The O(query_model)., type: str, returned: always, sample: study}
    sop_class: {description: The information model's SOP Class UID., type: str, returned: always}
    level: {description: 'The Query/Retrieve Level (V(STUDY)), null for the worklist.', type: str, returned: always}
    transfer_syntax: {description: 'The transfer syntax the identifier was sent in, null before an association.', type: str, returned: always}
    status: {description: 'The final response''s status (0 is Success), null without one.', type: int, returned: always}
    status_text: {description: The status in words., type: str, returned: always}
    status_category:
      description: V(success), V(refused) (0x0122, 0x0124, 0xA7xx), V(failed), V(cancel), or null without a final response.
      type: str
      returned: always
    pending: {description: How many pending responses (matches) came., type: int, returned: always}
    matches: {description: 'How many identifiers were decoded (counted, then dropped).', type: int, returned: always, sample: 0}
    complete: {description: Whether the final response arrived., type: bool, returned: always}
    rtt_ms: {description: Milliseconds from the request to the final response., type: float, returned: always}
endpoint:
  description: Where the probe went, C(host), C(port), C(address), C(ip_protocol), C(calling_aet), C(called_aet).
  returned: always (one probe)
  type: dict
association:
  description: The association as negotiated, as M(dicom.network.dicom_echo) returns it (C(established), C(rejection), C(abort),
    C(peer_implementation_class_uid), ...).
  returned: always (one probe)
  type: dict
presentation_contexts:
  description: The one proposed presentation context and its result, as M(dicom.network.dicom_echo) returns them.
  returned: always (one probe)
  type: list
  elements: dict
accepted_transfer_syntaxes:
  description: The transfer syntax UIDs accepted.
  returned: always (one probe)
  type: list
  elements: str
timing_ms:
  description: Milliseconds per phase, C(resolve), C(connect), C(tls_handshake), C(associate), C(find), C(release), C(total).
  returned: always (one probe)
  type: dict
timing_source:
  description: V(kernel) or V(user), as for M(dicom.network.dicom_echo).
  returned: always (one probe)
  type: str
tls:
  description: The TLS session (C(version), C(cipher), C(peer_certificate), ...) as M(dicom.network.dicom_echo) returns it, or null.
  returned: always (one probe)
  type: dict
log:
  description: The transcript at O(log_level) and above.
  returned: always (one probe)
  type: list
  elements: str
results:
  description: With O(endpoints), one dict per endpoint in input order, each with the keys above and C(name).
  returned: with endpoints
  type: list
  elements: dict
summary:
  description: With O(endpoints), C(total), C(succeeded), C(failed) and C(outcomes) (counts by outcome).
  returned: with endpoints
  type: dict
"""

from ansible.module_utils.basic import missing_required_lib

from ..module_utils._probe_module import ProbeModule
from ..module_utils._request import MissingLibraryError, RequestError, build_requests, find_argument_spec, secret_values

# Keys of an engine result that mean nothing for a C-FIND.
_ECHO_KEYS = ("echoes", "rtt_ms", "echoscu_exit_code", "checked_at")


def _log_sink(config_file):
    """Route the transcript to Python logging (logger dicom.network.find), configured by the user's fileConfig file."""
    from ..module_utils._transcript import logging_sink  # pylint: disable=import-outside-toplevel

    return logging_sink(config_file, "dicom.network.find")


def _clean(result):
    for key in _ECHO_KEYS:
        result.pop(key, None)
    return result


def main():
    module = ProbeModule(argument_spec=find_argument_spec(), supports_check_mode=True, mutually_exclusive=[["host", "endpoints"]])
    params = module.params
    # again after Ansible's conversions: an entry given as a string is a dict only now
    module.no_log_values.update(secret_values(params))
    try:
        requests = build_requests(params, find=True)
    except MissingLibraryError as exc:
        module.fail_json(msg=missing_required_lib(exc.library, reason="for %s" % exc.reason), exception=exc.exception,
                         outcome="invalid_input", changed=False)
    except RequestError as exc:
        module.fail_json(msg=str(exc), outcome="invalid_input", changed=False)

    from ..module_utils import _engine, _find  # pylint: disable=import-outside-toplevel  # loaded only after validation

    problem = _find.preload()
    if problem and not params["endpoints"]:
        module.fail_json(msg=missing_required_lib("pydicom", reason="for C-FIND identifiers"), outcome="invalid_input", changed=False,
                         exception=problem)
    if problem:  # a batch reports every endpoint as not queried, so that a role can say why per endpoint
        _report_batch(module, [_not_queried(request, "not queried: %s" % problem) for request in requests])
    sink = None
    if params["log_config"]:
        try:
            sink = _log_sink(params["log_config"])
        except Exception as exc:  # pylint: disable=broad-except  # fileConfig raises many kinds for a bad file
            module.fail_json(msg="log_config %s cannot be applied: %s" % (params["log_config"], exc), outcome="invalid_input")

    if not params["endpoints"]:
        result = _clean(_engine.probe(requests[0], sink))
        if result["success"]:
            module.exit_json(**result)
        module.fail_json(**result)

    results = _engine.probe_all(requests, params["concurrency"], sink)
    for request, result in zip(requests, results):
        result["name"] = request.name
        _clean(result)
    del requests
    _report_batch(module, results)


def _not_queried(request, reason):
    """The result of an endpoint of a batch that was not queried at all, in the shape of the others."""
    return {"name": request.name, "changed": False, "success": False, "outcome": "invalid_input", "reason": reason,
            "msg": "C-FIND (%s) to %s failed (invalid_input): %s" % (request.query["model"], request.endpoint_label(), reason),
            "endpoint": {"host": request.host, "port": request.port, "address": None, "ip_protocol": request.ip_protocol,
                         "calling_aet": request.calling_aet, "called_aet": request.called_aet},
            "association": {"established": False, "released": False, "aborted_by": None, "rejection": None, "abort": None},
            "query": {"model": request.query["model"], "sop_class": request.query["sop_class"], "level": request.query["level"],
                      "transfer_syntax": None, "status": None, "status_text": None, "status_category": None, "pending": 0, "matches": 0,
                      "complete": False, "rtt_ms": None},
            "presentation_contexts": [], "accepted_transfer_syntaxes": [], "timing_ms": None, "timing_source": None, "tls": None,
            "log": []}


def _report_batch(module, results):
    outcomes = {}
    for result in results:
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
    succeeded = outcomes.get("success", 0)
    failed = len(results) - succeeded
    summary = {"total": len(results), "succeeded": succeeded, "failed": failed, "outcomes": outcomes}
    msg = "C-FIND to %d endpoints: %d succeeded, %d failed" % (len(results), succeeded, failed)
    if failed:
        msg += " (%s)" % ", ".join("%s: %d" % item for item in sorted(outcomes.items()) if item[0] != "success")
    report = module.fail_json if failed else module.exit_json
    report(changed=False, msg=msg, results=results, summary=summary)


if __name__ == "__main__":
    main()
