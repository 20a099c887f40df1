#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dicom_echo
short_description: Send DICOM C-ECHO to one or many peers, as DCMTK echoscu does, and return what happened as data
version_added: 0.1.0
description:
  - Opens a DICOM association, sends C-ECHO (Verification, 1.2.840.10008.1.1) and releases, with the option set of DCMTK C(echoscu).
  - Returns the negotiation (accepted transfer syntax per presentation context, rejection and abort details), the round-trip
    time of every echo, the time of every phase, the transcript in echoscu's format and what C(echoscu) would have exited with.
  - Probes many endpoints concurrently in one task with O(endpoints).
  - It never changes anything (RV(changed) is always false).
  - Where each echoscu option went is listed in the notes below.
author:
  - dicom.network maintainers (@dicom-network)
requirements:
  - Python >= 3.10 on the node that runs the module
  - pynetdicom >= 3.0.4, < 3.1 (its PDU and DIMSE codecs; the transport is the collection's own)
  - pydicom >= 3
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - dicom.network.association
  - dicom.network.attributes
attributes:
  platform:
    platforms: posix
options:
  host:
    description:
      - The peer, a host name, an IPv4 literal or an IPv6 literal (echoscu's first parameter).
      - Required unless O(endpoints) is given; the two are mutually exclusive.
    type: str
    aliases: [peer]
  propose_ts:
    description:
      - Propose the first N transfer syntaxes of echoscu's list in every presentation context (echoscu C(-pts)), 1 to 53.
      - The list is that of DCMTK 3.7.0, in its order, starting with Implicit VR Little Endian, Explicit VR Little Endian,
        Explicit VR Big Endian, Encapsulated Uncompressed Explicit VR Little Endian and JPEG Baseline.
        The echoscu manual page list is incomplete; older DCMTK releases number the list differently.
    type: int
    default: 1
  propose_pc:
    description:
      - Propose N identical Verification presentation contexts, IDs 1, 3, 5, ... (echoscu C(-ppc)), 1 to 128.
    type: int
    default: 1
  repeat:
    description:
      - Send N C-ECHO requests on the association, message IDs 1 to N, stopping at the first failure (echoscu C(--repeat)).
    type: int
    default: 1
  abort:
    description:
      - Abort the association instead of releasing it after the echoes (echoscu C(--abort)).
    type: bool
    default: false
  log_level:
    description:
      - >-
        Which transcript lines RV(log) returns, in echoscu's format (C(I: Requesting Association), ...), the lines at this level and above.
      - V(info) is echoscu C(-v), V(debug) is C(-d) and adds the association dumps, V(fatal) is C(-q); V(trace) adds one line per PDU.
    type: str
    choices: [fatal, error, warn, info, debug, trace]
    default: warn
  log_config:
    description:
      - A Python C(logging.config.fileConfig) file, applied where the module runs (echoscu C(-lc) takes a log4cplus file instead).
      - The transcript is sent to the logger C(dicom.network.echo) with the levels of O(log_level), whatever O(log_level) says.
    type: path
  endpoints:
    description:
      - Probe many peers in one task instead of O(host). Each entry is a dict with C(host) (required), and optionally
        C(port), C(calling_aet), C(called_aet), C(name) (default C(AET@host:port)), and any of O(ip_protocol), O(propose_ts),
        O(propose_pc), O(connection_timeout), O(socket_timeout), O(acse_timeout), O(dimse_timeout), O(max_pdu), O(repeat),
        O(abort), O(log_level), which override the task-level values for that entry.
      - The task fails if any endpoint fails; every endpoint is probed anyway.
    type: list
    elements: dict
  concurrency:
    description:
      - How many of O(endpoints) are probed at once, 1 to 1024.
    type: int
    default: 64
notes:
  - >-
    Where each echoscu option went.
    C(peer) and C(port) are O(host) and O(port); C(-i4), C(-i6), C(-i0) are O(ip_protocol); C(-aet) is O(calling_aet);
    C(-aec) is O(called_aet); C(-pts) is O(propose_ts); C(-ppc) is O(propose_pc); C(-to) is O(connection_timeout);
    C(-ts) is O(socket_timeout); C(-ta) is O(acse_timeout); C(-td) is O(dimse_timeout); C(-pdu) is O(max_pdu);
    C(--repeat) is O(repeat); C(--abort) is O(abort); C(-q), C(-v), C(-d), C(-ll) are O(log_level); C(-lc) is O(log_config).
    C(--help) is C(ansible-doc dicom.network.dicom_echo), C(--version) is the collection version, C(--arguments) is the
    task result's C(invocation), and C(@file) command files are Ansible vars files.
  - >-
    Failure is honest. The task fails unless the association was established, every C-ECHO returned status 0x0000 and the release
    (or the requested abort) completed. A non-Success status, a peer abort during the echo and a response timeout fail the task
    although echoscu exits 0 for them; RV(echoscu_exit_code) says what echoscu would have returned.
  - Bad option values fail before any network traffic, with a message that names the option.
  - >-
    The module resolves host names itself per O(ip_protocol), sets C(TCP_NODELAY) and C(TCP_QUICKACK) so reported times are the
    network's, and bounds every phase by its timeout, so a peer that stalls in the middle of a PDU cannot hang the task.
  - >-
    Our implementation class UID is a C(2.25.) UUID-derived UID of this collection and our implementation version name is
    C(DICOMNET_010).
  - Run it with C(delegate_to) on a host that can reach the peers; the facts then land on the inventory host of the task.
seealso:
  - name: DCMTK echoscu
    description: The reference behaviour.
    link: https://support.dcmtk.org/docs/echoscu.html
"""

EXAMPLES = r"""
- name: Echo the archive
  dicom.network.dicom_echo:
    host: pacs1.example.org
    port: 104
    called_aet: ARCHIVE

- name: Echo three times with a response deadline, print the echoscu -v transcript
  dicom.network.dicom_echo:
    host: 10.0.0.5
    called_aet: STORESCP
    repeat: 3
    dimse_timeout: 5
    log_level: info
  register: echo

- name: Show the accepted transfer syntax of every presentation context
  ansible.builtin.debug:
    msg: "{{ echo.presentation_contexts | map(attribute='transfer_syntax_name') }}"

- name: A wrong AE title must be refused (negative check)
  dicom.network.dicom_echo:
    host: pacs1.example.org
    called_aet: NOT-ARCHIVE
  register: wrong_aet
  failed_when: wrong_aet.outcome != 'association_rejected'

- name: Probe every modality of the department in one task
  dicom.network.dicom_echo:
    endpoints:
      - {name: ct1, host: ct1.example.org, called_aet: CT1}
      - {name: mr1, host: mr1.example.org, called_aet: MR1, port: 11112}
      - {host: "fd00::5", called_aet: US1, ip_protocol: ipv6}
    connection_timeout: 3
    acse_timeout: 5
  register: fleet
  ignore_errors: true

- name: List the endpoints that failed
  ansible.builtin.debug:
    msg: "{{ fleet.results | rejectattr('success') | map(attribute='msg') }}"
"""

RETURN = r"""
changed:
  description: Always false, the module only reads.
  returned: always
  type: bool
success:
  description: Whether the association was established, every echo returned Success and the release (or abort) completed.
  returned: always (one probe)
  type: bool
msg:
  description: "One line saying what happened, for example C(C-ECHO to STORESCP@10.0.0.5:104 succeeded: 1/1 echoes, 0.41 ms)."
  returned: always
  type: str
outcome:
  description:
    - The classified outcome, one of V(success), V(dns_error), V(connection_refused), V(connect_timeout), V(tls_error),
      V(association_rejected), V(acse_timeout), V(no_acceptable_context), V(peer_aborted), V(dimse_timeout), V(echo_status),
      V(protocol_error), V(release_failed), V(invalid_input).
  returned: always (one probe)
  type: str
  sample: success
echoscu_exit_code:
  description: What DCMTK echoscu 3.7.0 would have exited with for the same outcome (0, 1, 22 or 70).
  returned: always (one probe)
  type: int
  sample: 0
endpoint:
  description: Where the probe went.
  returned: always (one probe)
  type: dict
  contains:
    host:
      description: The host as given.
      type: str
      returned: always
    port:
      description: The port.
      type: int
      returned: always
    address:
      description: The address actually connected to, null when no connection was made.
      type: str
      returned: always
    ip_protocol:
      description: The address family option used.
      type: str
      returned: always
    calling_aet:
      description: Our AE title.
      type: str
      returned: always
    called_aet:
      description: The peer's AE title as called.
      type: str
      returned: always
association:
  description: The association as negotiated.
  returned: always (one probe)
  type: dict
  contains:
    established:
      description: Whether the peer accepted the association.
      type: bool
      returned: always
    released:
      description: Whether the association was released with A-RELEASE.
      type: bool
      returned: always
    aborted_by:
      description: V(us) or V(peer) when the association ended in an A-ABORT, else null.
      type: str
      returned: always
    rejection:
      description:
        - The A-ASSOCIATE-RJ as numbers (C(result), C(source), C(reason)) and echoscu's texts (C(result_text), C(source_text),
          C(reason_text)), or null.
      type: dict
      returned: always
    abort:
      description: The peer's A-ABORT, C(source) and C(reason) as numbers and texts (C(source_text), C(reason_text)), or null.
      type: dict
      returned: always
    our_max_pdu:
      description: The maximum PDU size we announced.
      type: int
      returned: always
    peer_max_pdu:
      description: The peer's maximum PDU size (0 means unlimited), null before an answer.
      type: int
      returned: always
    max_send_pdv:
      description: What echoscu prints as Max Send PDV.
      type: int
      returned: always
    peer_implementation_class_uid:
      description: The peer's implementation class UID.
      type: str
      returned: always
    peer_implementation_version_name:
      description: The peer's implementation version name or null.
      type: str
      returned: always
presentation_contexts:
  description: One entry per proposed presentation context.
  returned: always (one probe)
  type: list
  elements: dict
  contains:
    id:
      description: The presentation context ID (1, 3, 5, ...).
      type: int
      returned: always
    abstract_syntax:
      description: The abstract syntax UID.
      type: str
      returned: always
    proposed_transfer_syntaxes:
      description: The transfer syntax UIDs proposed.
      type: list
      elements: str
      returned: always
    result:
      description:
        - V(acceptance), V(user-rejection), V(no-reason), V(abstract-syntax-not-supported), V(transfer-syntaxes-not-supported),
          or null when the association was not answered.
      type: str
      returned: always
    transfer_syntax:
      description: The accepted transfer syntax UID or null.
      type: str
      returned: always
    transfer_syntax_name:
      description: Its name or null.
      type: str
      returned: always
accepted_transfer_syntaxes:
  description: The transfer syntax UIDs accepted in any context, in first-seen order.
  returned: always (one probe)
  type: list
  elements: str
echoes:
  description: One entry per C-ECHO sent and answered.
  returned: always (one probe)
  type: list
  elements: dict
  contains:
    message_id:
      description: The message ID.
      type: int
      returned: always
    status:
      description: The DIMSE status (0 is Success).
      type: int
      returned: always
    status_text:
      description: The status in words.
      type: str
      returned: always
    rtt_ms:
      description: Milliseconds from sending the request to the whole response.
      type: float
      returned: always
rtt_ms:
  description: C(min), C(avg), C(max), C(stdev) of the echoes' round-trip times in milliseconds, null without an echo.
  returned: always (one probe)
  type: dict
timing_ms:
  description:
    - Milliseconds spent in each phase, measured at the socket, C(resolve), C(connect), C(tls_handshake), C(associate), C(echo),
      C(release) (or the abort), C(total); null for a phase that did not run.
  returned: always (one probe)
  type: dict
tls:
  description: TLS details; null while TLS is not in use.
  returned: always (one probe)
  type: dict
log:
  description: The transcript at O(log_level) and above, in echoscu's format.
  returned: always (one probe)
  type: list
  elements: str
  sample: ["I: Requesting Association", "I: Association Accepted (Max Send PDV: 16372)"]
results:
  description: With O(endpoints), one dict per endpoint in input order, each with the keys above and C(name).
  returned: with endpoints
  type: list
  elements: dict
summary:
  description: With O(endpoints), C(total), C(succeeded), C(failed) and C(outcomes) (counts by outcome).
  returned: with endpoints
  type: dict
ansible_facts:
  description: Facts about the probed endpoint(s).
  returned: always
  type: dict
  contains:
    dicom_echo:
      description:
        - One probe, C(success), C(outcome), C(endpoint), C(accepted_transfer_syntaxes), C(rtt_ms), C(tls) and C(checked_at) (UTC ISO 8601).
        - With O(endpoints), the same keyed by endpoint name.
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ..module_utils._request import RequestError, build_requests, module_argument_spec

FACT_KEYS = ("success", "outcome", "endpoint", "accepted_transfer_syntaxes", "rtt_ms", "tls", "checked_at")


def _facts(result):
    return {key: result[key] for key in FACT_KEYS}


def _log_sink(config_file):
    """Route the transcript to Python logging, configured by the user's fileConfig file."""
    import logging  # pylint: disable=import-outside-toplevel
    import logging.config  # pylint: disable=import-outside-toplevel

    logging.config.fileConfig(config_file, disable_existing_loggers=False)
    logger = logging.getLogger("dicom.network.echo")
    levels = {"fatal": logging.CRITICAL, "error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO,
              "debug": logging.DEBUG, "trace": logging.DEBUG - 5}
    return lambda level, text: logger.log(levels[level], text)


def main():
    module = AnsibleModule(argument_spec=module_argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        requests = build_requests(params)
    except RequestError as exc:
        module.fail_json(msg=str(exc), outcome="invalid_input", echoscu_exit_code=1, changed=False)

    from ..module_utils import _pdu  # pylint: disable=import-outside-toplevel  # loaded only after validation

    if _pdu.PYNETDICOM_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("pynetdicom"), exception=_pdu.PYNETDICOM_IMPORT_ERROR, outcome="invalid_input")
    from ..module_utils import _engine  # pylint: disable=import-outside-toplevel

    sink = None
    if params["log_config"]:
        try:
            sink = _log_sink(params["log_config"])
        except Exception as exc:  # pylint: disable=broad-except  # fileConfig raises many kinds for a bad file
            module.fail_json(msg="log_config %s cannot be applied: %s" % (params["log_config"], exc), outcome="invalid_input")

    if not params["endpoints"]:
        result = _engine.probe(requests[0], sink)
        result["ansible_facts"] = {"dicom_echo": _facts(result)}
        del result["checked_at"]
        if result["success"]:
            module.exit_json(**result)
        module.fail_json(**result)

    results = _engine.probe_all(requests, params["concurrency"], sink)
    outcomes = {}
    facts = {}
    for request, result in zip(requests, results):
        result["name"] = request.name
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
        facts[request.name] = _facts(result)
        del result["checked_at"]
    succeeded = outcomes.get("success", 0)
    summary = {"total": len(results), "succeeded": succeeded, "failed": len(results) - succeeded, "outcomes": outcomes}
    failed = len(results) - succeeded
    msg = "C-ECHO to %d endpoints: %d succeeded, %d failed" % (len(results), succeeded, failed)
    if failed:
        msg += " (%s)" % ", ".join("%s: %d" % item for item in sorted(outcomes.items()) if item[0] != "success")
    report = module.fail_json if failed else module.exit_json
    report(changed=False, msg=msg, results=results, summary=summary, ansible_facts={"dicom_echo": facts})


if __name__ == "__main__":
    main()
