# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of dicom.network.dicom_report: evaluate dicom_echo results and write the reports on the controller."""

from __future__ import annotations

import os
import socket

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ansible_version
from ansible.utils.display import Display

from ansible_collections.dicom.network.plugins.plugin_utils import _report_checks, _report_diff, _report_files, _report_render, _reports

display = Display()

ARGUMENT_SPEC = {
    "kind": {"type": "str", "required": True, "choices": list(_reports.KINDS)},
    "endpoints": {"type": "list", "elements": "dict", "required": True},
    "results": {"type": "list", "elements": "dict"},
    "results_from": {"type": "str"},
    "discovered_transfer_syntaxes": {"type": "dict"},
    "attempts": {"type": "dict"},
    "min_cert_days": {"type": "int"},
    "check_plan": {"type": "dict"},
    "check_plan_from": {"type": "str"},
    "checks_from": {"type": "list", "elements": "str"},
    "fail_on_default_aet": {"type": "bool", "default": False},
    "baseline": {"type": "path"},
    "baseline_missing": {"type": "str", "default": "warn", "choices": ["fail", "warn", "ignore"]},
    "latency_threshold_ms": {"type": "float", "default": 20.0},
    "latency_threshold_pct": {"type": "float", "default": 25.0},
    "latency_noise_factor": {"type": "float", "default": 3.0},
    "dest": {"type": "path", "required": True},
    "basename": {"type": "str"},
    "formats": {"type": "list", "elements": "str", "default": list(_reports.FORMATS), "choices": list(_reports.FORMATS)},
    "title": {"type": "str"},
    "run": {"type": "dict"},
    "table_rows": {"type": "int"},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    @staticmethod
    def _results_from(name, task_vars):
        """The results in a variable: a registered dicom_echo batch result, or a list of results (or of such registrations).

        Read as they are, without templating them into the task's arguments first, which costs a noticeable
        fraction of a second per thousand endpoints.
        """
        if name not in task_vars:
            raise AnsibleActionFail("results_from: there is no variable %s" % name)
        value = task_vars[name]
        items = value if isinstance(value, (list, tuple)) else [value]
        results = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("results"), (list, tuple)):
                results.extend(item["results"])
            elif isinstance(item, dict) and "outcome" in item:
                results.append(item)
            else:
                raise AnsibleActionFail("results_from: %s holds neither dicom_echo results nor a registered batch result" % name)
        return results

    @staticmethod
    def _probe_results(names, task_vars):
        """The check probes' results in variables: registered dicom_echo/dicom_find batches, loops of them, or lists."""
        missing = [name for name in names if name not in task_vars]
        if missing:
            raise AnsibleActionFail("checks_from: there is no variable %s" % ", ".join(missing))
        out, pending = [], [task_vars[name] for name in names]
        while pending:
            item = pending.pop()
            if isinstance(item, (list, tuple)):
                pending.extend(item)
            elif isinstance(item, dict) and "outcome" in item and "name" in item:
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("results"), (list, tuple)):
                pending.extend(item["results"])
            elif isinstance(item, dict) and (item.get("skipped") or item.get("msg")):
                continue  # a skipped check task, or one that failed before it probed (its message is in the play output)
            else:
                raise AnsibleActionFail("checks_from: %s hold neither dicom_echo/dicom_find results nor registered batches" % ", ".join(names))
        return out

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC,
                                                       mutually_exclusive=[["results", "results_from"], ["check_plan", "check_plan_from"]],
                                                       required_one_of=[["results", "results_from"]])
        del validation
        results = args["results"] if args["results"] is not None else self._results_from(args["results_from"], task_vars or {})
        # An endpoint's host variables the audit could not use: said now, and in every report (the host_variables check).
        for entry in args["endpoints"]:
            check = _reports.host_variables_check(entry) if isinstance(entry, dict) else None
            if check:
                display.warning(check["message"])
        run = dict(args["run"] or {})
        run.setdefault("controller", socket.gethostname())
        run.setdefault("ansible_version", ansible_version)
        run.setdefault("check_mode", bool(self._task.check_mode))
        try:
            if args["kind"] == "pacs_verify":
                report = _reports.build_verify_report(args["endpoints"], results, args["discovered_transfer_syntaxes"],
                                                      args["attempts"], run, args["title"])
            else:
                report = _reports.build_audit_report(args["endpoints"], results, args["min_cert_days"], run, args["title"])
            check_plan = args["check_plan"]
            if args["check_plan_from"]:  # read as it is: templating a plan of 10,000 probes into the arguments takes seconds
                check_plan = (task_vars or {}).get(args["check_plan_from"])
                if not isinstance(check_plan, dict) or "checks" not in check_plan:
                    raise AnsibleActionFail("check_plan_from: %s holds no check plan (dicom.network.check_plan)" % args["check_plan_from"])
            if check_plan:
                specs = {_reports.endpoint_name(entry): entry for entry in args["endpoints"] if isinstance(entry, dict)}
                probes = self._probe_results(args["checks_from"], task_vars or {}) if args["checks_from"] else []
                _report_checks.evaluate(report["endpoints"], specs, check_plan, probes, args["fail_on_default_aet"])
                report["run"].setdefault("checks", sorted({check for checks in check_plan.get("checks", {}).values() for check in checks}))
                _reports.summarize(report)
            if args["baseline"]:
                if os.path.exists(args["baseline"]) or args["baseline_missing"] == "fail":
                    baseline = _report_diff.load_baseline(args["baseline"])
                    _report_diff.compare_baseline(report, baseline, args["latency_threshold_ms"], args["latency_threshold_pct"],
                                                  source=os.path.abspath(args["baseline"]), noise_factor=args["latency_noise_factor"])
                elif args["baseline_missing"] == "warn":
                    display.warning("baseline %s does not exist (yet): reporting without comparison" % args["baseline"])
            files = _report_files.write_reports(report, args["dest"], args["basename"] or args["kind"], args["formats"])
        except _reports.ReportError as exc:
            raise AnsibleActionFail(to_native(exc)) from None

        failures = [
            {"endpoint": row["name"], "check": check["name"], "outcome": row["outcome"], "message": check["message"]}
            for row in report["endpoints"] for check in row["checks"] if not check["passed"]
        ]
        result.update(
            changed=False,
            verdict=report["verdict"],
            summary=report["summary"],
            report_files=files,
            failures=failures,
            findings=[{"endpoint": row["name"], "id": finding["id"], "severity": finding["severity"], "message": finding["message"]}
                      for row in report["endpoints"] for finding in row["findings"]],
            regressions=[row["name"] for row in report["endpoints"] if row["regression"]],
            table=_report_render.render_table(report, args["table_rows"]),
            msg="%s: %s, %d of %d endpoints failed, %d of %d checks failed; reports in %s" % (
                report["kind"], report["verdict"], report["summary"]["failed"], report["summary"]["endpoints"],
                report["summary"]["checks_failed"], report["summary"]["checks"], os.path.dirname(next(iter(files.values()), args["dest"]))),
        )
        return result
