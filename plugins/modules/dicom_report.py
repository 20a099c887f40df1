#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented by the action plugin plugins/action/dicom_report.py; the file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
module: dicom_report
short_description: Check dicom_echo results against expectations and write connectivity reports on the controller
version_added: 0.1.0
description:
  - Turns the RV(dicom.network.dicom_echo#module:results) of a batched C(dicom.network.dicom_echo) task into one report
    document, checks every endpoint, optionally compares it with an earlier report (the baseline), and writes it in the
    chosen formats on the controller, JSON (complete, the schema is in the collection's C(docs/reports.md)), JUnit XML
    (one test case per endpoint check), CSV, Markdown, a self-contained HTML page and an OpenMetrics file for
    node_exporter's textfile collector.
  - With O(check_plan) (from the C(dicom.network.check_plan) filter) and the results of its probes (O(checks_from)), it adds
    the access control, query, TLS version and implementation checks and their findings (id, severity, explanation, remedy).
  - It serves the roles C(dicom.network.pacs_verify) (O(kind=pacs_verify)) and
    C(dicom.network.dicom_audit) (O(kind=dicom_audit)) and can be used on its own.
  - Every file is written atomically (a temporary file in O(dest), then a rename), so a reader never sees half a report,
    also when the play is interrupted.
  - It never fails because endpoints failed; it reports. Use RV(verdict), RV(failures) or RV(regressions) to decide.
author:
  - dicom.network maintainers (@dicom-network)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - The reports are written in check mode too; they are output on the controller, not state of a managed host.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  kind:
    description:
      - V(pacs_verify) checks each endpoint against the expectations in O(endpoints) (C(expect_transfer_syntaxes),
        C(expect_rejected), C(max_rtt_ms), C(min_cert_days)); without expectations an endpoint must answer the echo.
      - V(dicom_audit) checks that every endpoint answers (and, with O(min_cert_days), that TLS peer certificates stay valid long enough).
    type: str
    required: true
    choices: [pacs_verify, dicom_audit]
  endpoints:
    description:
      - The endpoints, in report order. Each needs the C(name) its result carries in O(results) (for O(kind=pacs_verify)
        C(AET@host:port) when no C(name) is given, as C(dicom.network.dicom_echo) names it).
      - For O(kind=pacs_verify) the entries are those of the role variable C(pacs_verify_endpoints), with their expectations.
        For O(kind=dicom_audit) an entry may carry C(probe_from), the host the endpoint was probed from.
    type: list
    elements: dict
    required: true
  results:
    description:
      - The dicom_echo results, each with its C(name); an endpoint without a result is reported as C(not_probed).
      - One of O(results) and O(results_from) is required.
    type: list
    elements: dict
  results_from:
    description:
      - The name of a variable holding the results instead of O(results) - a registered batched C(dicom.network.dicom_echo)
        result, a list of such registrations, or a list of results. The variable is read as it is, not templated, which
        saves a noticeable fraction of a second per thousand endpoints; it must hold data (a registered result or a fact).
    type: str
  discovered_transfer_syntaxes:
    description:
      - For O(kind=pacs_verify), the transfer syntax UIDs each endpoint (by name) accepted in a discovery
        (the C(dicom.network.transfer_syntaxes) lookup); C(expect_transfer_syntaxes) is checked against them.
      - Without an entry for an endpoint, its check uses the transfer syntaxes accepted by the echo association.
    type: dict
  attempts:
    description: How many probes each endpoint (by name) took, shown in the reports.
    type: dict
  min_cert_days:
    description: For O(kind=dicom_audit), endpoints using TLS fail when their peer certificate expires in fewer days.
    type: int
  check_plan:
    version_added: 0.2.0
    description:
      - What the C(dicom.network.check_plan) filter returned for O(endpoints); each endpoint gets the checks the plan lists for it.
    type: dict
  check_plan_from:
    version_added: 0.2.0
    description:
      - The name of a variable holding the plan instead of O(check_plan), read as it is (a plan of many thousand probes takes
        seconds to template into the arguments).
    type: str
  checks_from:
    version_added: 0.2.0
    description:
      - The names of variables holding the results of the plan's probes - registered C(dicom.network.dicom_echo) and
        C(dicom.network.dicom_find) batches, loops of them, or lists of these. Read as they are, like O(results_from).
      - A check whose probe has no result fails with C(not checked).
    type: list
    elements: str
  fail_on_default_aet:
    version_added: 0.2.0
    description: Fail the C(default_aet) check when an endpoint answers to a well-known default AE title (by default a finding only).
    type: bool
    default: false
  baseline:
    description:
      - An earlier JSON report of this module to compare with; regressions (passed then, failed now), recoveries, changed
        outcomes, changed accepted transfer syntaxes, certificate changes and latency shifts are reported.
    type: path
  baseline_missing:
    description: What to do when O(baseline) does not exist.
    type: str
    choices: [fail, warn, ignore]
    default: warn
  latency_threshold_ms:
    description:
      - A latency shift is reported when the median echo round trip of an endpoint moved by more than a threshold, and its
        fastest echo moved by as much, the same way. The threshold is the sum of this absolute floor in milliseconds,
        O(latency_threshold_pct) percent of the lower of the two medians, and O(latency_noise_factor) standard errors of the
        difference of the medians, estimated from the spread of the baseline's and the current echoes. The rule and its
        reasoning are in the collection's C(docs/reports.md), section "Latency shifts".
      - The floor covers the delay that the probing host's own load adds to every echo of a run.
      - Send several echoes per endpoint (the C(dicom.network.dicom_echo) option C(repeat)); with one echo the spread is unknown
        and only the floor and the percentage remain.
    type: float
    default: 20.0
  latency_threshold_pct:
    description:
      - The part of the threshold that grows with the round trip, in percent of the lower of the two medians (slow links vary
        more from one run to the next). See O(latency_threshold_ms).
    type: float
    default: 25.0
  latency_noise_factor:
    version_added: 0.2.0
    description:
      - How many standard errors of the difference of the two medians the threshold adds, about
        C(1.2533 * sqrt(s_baseline^2 / n_baseline + s_now^2 / n_now)), where C(n) is the number of echoes and C(s) 1.4826 times the
        median absolute deviation of an endpoint's round trips (the standard deviation if they were normally distributed).
        See O(latency_threshold_ms).
    type: float
    default: 3.0
  dest:
    description: Directory on the controller to write the reports to; created when missing. Relative to the current directory.
    type: path
    required: true
  basename:
    description: File name of the reports without extension; defaults to O(kind).
    type: str
  formats:
    description:
      - Which reports to write, as C(<basename>.json), C(.junit.xml), C(.csv), C(.md), C(.html), C(.prom) (V(openmetrics)).
    type: list
    elements: str
    choices: [json, junit, csv, markdown, html, openmetrics]
    default: [json, junit, csv, markdown, html, openmetrics]
  title:
    description: Title of the reports; defaults to C(PACS verification) or C(DICOM connectivity audit).
    type: str
  run:
    description: Free-form facts about the run copied into the report's C(run) (for example C(probe_hosts)).
    type: dict
  table_rows:
    description:
      - Return at most this many endpoint lines in RV(table), the problems first; all when unset.
    type: int
notes:
  - Runs on the controller only; O(dest) is a controller path.
seealso:
  - module: dicom.network.dicom_echo
  - name: Report schema
    description: The keys of the JSON report (docs/reports.md in the collection).
    link: https://github.com/dicom-network/dicom.network/blob/main/docs/reports.md
"""

EXAMPLES = r"""
- name: Probe the department
  dicom.network.dicom_echo:
    endpoints: "{{ my_endpoints }}"
  register: probe
  failed_when: false

- name: Write JSON and HTML reports next to the playbook
  dicom.network.dicom_report:
    kind: dicom_audit
    endpoints: "{{ my_endpoints }}"
    results: "{{ probe.results }}"
    dest: "{{ playbook_dir }}/reports"
    formats: [json, html]
    baseline: "{{ playbook_dir }}/reports/yesterday.json"
  register: report

- name: Show the summary table
  ansible.builtin.debug:
    msg: "{{ report.table }}"
"""

RETURN = r"""
verdict:
  description: V(passed) when every endpoint passed all its checks, else V(failed).
  returned: success
  type: str
  sample: failed
summary:
  description:
    - Counts, C(endpoints), C(passed), C(failed), C(checks), C(checks_failed), C(outcomes) (by outcome), C(rtt_ms)
      (C(median), C(p95), C(max) of the average round trips), C(regressions), C(recoveries), C(changes) (by type), C(removed),
      C(findings) (C(total), C(endpoints), C(by_severity), C(by_id)).
  returned: success
  type: dict
report_files:
  description: The files written, by format, as absolute controller paths.
  returned: success
  type: dict
  sample: {json: /srv/reports/pacs_verify.json, html: /srv/reports/pacs_verify.html}
failures:
  description: Every failed check, C(endpoint), C(check), C(outcome), C(message).
  returned: success
  type: list
  elements: dict
findings:
  description: Every finding, C(endpoint), C(id), C(severity), C(message); most severe first is up to the caller.
  returned: success
  type: list
  elements: dict
regressions:
  description: Names of the endpoints that passed in the baseline and fail now.
  returned: success
  type: list
  elements: str
table:
  description: The summary as lines of a plain-text table, problems first.
  returned: success
  type: list
  elements: str
"""
