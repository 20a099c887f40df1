# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTML report: one self-contained page (inline CSS, no script, no external asset), problems first.

Private to this collection; no Ansible imports. The row texts come from _report_render.
"""

from __future__ import annotations

import html

from ansible_collections.dicom.network.plugins.plugin_utils._report_render import (
    _STATUS_WORD,
    _failed_checks,
    _ordered,
    _row_flag,
    _syntax_names,
    _target,
    finding_text,
    ordered_findings,
    short_reason,
)
from ansible_collections.dicom.network.plugins.plugin_utils._reports import _fmt_ms

_CSS = """
:root{--ok:#1a7f37;--okbg:#e9f7ee;--bad:#c62828;--badbg:#fdecea;--warn:#9a6700;--warnbg:#fff8e1;--info:#0b5cad;--infobg:#e8f1fb;
--reg:#8e24aa;--regbg:#f6e8fa;--line:#d8dde3;--muted:#5f6b7a}
*{box-sizing:border-box}body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#fff;border-bottom:1px solid var(--line);padding:18px 28px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px}.muted{color:var(--muted)}
main{padding:18px 28px}
.verdict{display:inline-block;padding:3px 12px;border-radius:14px;font-weight:700;letter-spacing:.04em;vertical-align:middle;margin-left:10px;font-size:13px}
.verdict.passed{background:var(--ok);color:#fff}.verdict.failed{background:var(--bad);color:#fff}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:4px 0 10px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:24px;line-height:1.2}.card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card.bad b{color:var(--bad)}.card.ok b{color:var(--ok)}.card.reg b{color:var(--reg)}.card.info b{color:var(--info)}.card.warn b{color:var(--warn)}
.chips span{display:inline-block;background:#fff;border:1px solid var(--line);border-radius:12px;padding:1px 9px;margin:0 6px 6px 0;font-size:12px}
.callout{background:var(--regbg);border-left:5px solid var(--reg);padding:10px 14px;border-radius:4px;margin:12px 0}
.callout ul{margin:4px 0 0 18px;padding:0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:6px 9px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f4;font-size:12px;text-transform:uppercase;letter-spacing:.04em;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.passed td:first-child{border-left:5px solid var(--ok)}tr.failed{background:var(--badbg)}tr.failed td:first-child{border-left:5px solid var(--bad)}
tr.regression{background:var(--regbg)}tr.regression td:first-child{border-left:5px solid var(--reg)}
tr.changed{background:var(--warnbg)}tr.changed td:first-child{border-left:5px solid var(--warn)}
tr.recovery{background:var(--infobg)}tr.recovery td:first-child{border-left:5px solid var(--info)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;white-space:nowrap}
.b-passed{background:var(--okbg);color:var(--ok)}.b-failed{background:var(--bad);color:#fff}.b-regression{background:var(--reg);color:#fff}
.b-changed{background:#f5d67b;color:#4a3500}.b-recovery{background:var(--info);color:#fff}
code{white-space:nowrap;font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f3f5;padding:1px 4px;border-radius:3px}
.outcome{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}.outcome.bad{color:var(--bad);font-weight:600}
.ts{font-size:12px}.ts span{display:inline-block;background:#eef1f4;border-radius:3px;padding:0 5px;margin:0 3px 3px 0}
.cert.soon{color:var(--bad);font-weight:600}.cert.warn{color:var(--warn);font-weight:600}
.notes{font-size:12px}.notes div{margin-bottom:2px}.notes .f{color:var(--bad)}.notes .c{color:var(--warn)}
.notes .r{color:var(--reg);font-weight:600}.notes .i{color:var(--info)}
.sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600}.sev-high{background:var(--bad);color:#fff}
.sev-medium{background:#f5d67b;color:#4a3500}.sev-low{background:var(--infobg);color:var(--info)}.sev-info{background:#eef1f4;color:var(--muted)}
footer{padding:14px 28px;color:var(--muted);font-size:12px}
@media print{th{position:static}body{background:#fff}}
"""


def _h(text):
    return html.escape(str(text if text is not None else ""), quote=True)


def _outcome_bad(row):
    """Is the outcome itself the problem? A rejection a negative check asked for is not."""
    return any(not check["passed"] for check in row["checks"] if check["name"] in ("reachable", "rejected"))


def _outcome_note(row):
    rejected = [check for check in row["checks"] if check["name"] == "rejected"]
    if rejected and rejected[0]["passed"]:
        return rejected[0]["message"]
    return "" if row["success"] else short_reason(row)


def render_html(report):
    """One self-contained page: inline CSS, no script, no external asset."""
    summary, run = report["summary"], report["run"]
    other_changes = sum(count for kind, count in summary["changes"].items() if kind not in ("regression", "recovery", "new"))
    out = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<meta name="generator" content="dicom.network %s">' % _h(report["kind"]),
           "<title>%s - %s</title>" % (_h(report["title"]), _h(report["verdict"].upper())),
           "<style>%s</style></head><body>" % _CSS,
           '<header><h1>%s<span class="verdict %s" id="verdict">%s</span></h1>' % (
               _h(report["title"]), _h(report["verdict"]), _h(report["verdict"].upper())),
           '<div class="muted">%s report generated %s%s%s</div></header><main>' % (
               _h(report["kind"]), _h(report["generated_at"]),
               " &middot; probed from %s" % _h(", ".join(run["probe_hosts"])) if run.get("probe_hosts") else "",
               " &middot; check mode" if run.get("check_mode") else "")]
    cards = [("Endpoints", summary["endpoints"], "info"), ("Passed", summary["passed"], "ok"),
             ("Failed", summary["failed"], "bad" if summary["failed"] else "ok"),
             ("Checks failed", "%d / %d" % (summary["checks_failed"], summary["checks"]), "bad" if summary["checks_failed"] else "ok")]
    if report.get("baseline"):
        cards += [("Regressions", summary["regressions"], "reg" if summary["regressions"] else "ok"),
                  ("Recoveries", summary["recoveries"], "info"), ("Other changes", other_changes, "warn" if other_changes else "ok")]
    found = summary.get("findings") or {}
    if found.get("total"):
        cards.append(("Findings", found["total"], "bad" if found["by_severity"].get("high") else "warn"))
    if summary["rtt_ms"]["median"] is not None:
        cards.append(("Median RTT", "%s ms" % _fmt_ms(summary["rtt_ms"]["median"]), "info"))
        cards.append(("p95 RTT", "%s ms" % _fmt_ms(summary["rtt_ms"]["p95"]), "info"))
    out.append('<section class="cards" id="summary">')
    out += ['<div class="card %s"><b>%s</b><span>%s</span></div>' % (cls, _h(value), _h(label)) for label, value, cls in cards]
    out.append("</section>")
    chips = "".join("<span><code>%s</code> %d</span>" % (_h(outcome), count) for outcome, count in summary["outcomes"].items())
    out.append('<div class="chips">' + chips + "</div>")
    if report.get("baseline"):
        base = report["baseline"]
        rule = ("latency shifts flagged when the median and the fastest echo moved by more than %s ms + %s%% of the lower median + %s "
                "standard errors of the medians' difference" % (_h(base.get("latency_threshold_ms")), _h(base.get("latency_threshold_pct")),
                                                                _h(base.get("latency_noise_factor"))))
        gone = " %d endpoint(s) of the baseline are gone: %s." % (summary["removed"], _h(", ".join(e["name"] for e in report["removed_endpoints"][:20])))
        out.append('<div class="muted">Baseline: %s (generated %s, %d endpoints); %s.%s</div>' % (
            _h(base.get("path") or "earlier report"), _h(base.get("generated_at")), base.get("endpoints") or 0, rule,
            gone if summary["removed"] else ""))
    regressions = [row for row in report["endpoints"] if row["regression"]]
    if regressions:
        out.append('<div class="callout" id="regressions"><b>%d regression%s since the baseline</b><ul>' % (
            len(regressions), "" if len(regressions) == 1 else "s"))
        out += ["<li><b>%s</b> <code>%s</code>: %s</li>" % (_h(row["name"]), _h(_target(row)), _h(row["changes"][0]["message"]))
                for row in regressions[:50]]
        if len(regressions) > 50:
            out.append("<li>... and %d more in the table below</li>" % (len(regressions) - 50))
        out.append("</ul></div>")
    out.append('<h2>Endpoints</h2><table id="endpoints"><thead><tr><th>Status</th><th>Endpoint</th><th>Outcome</th>'
               '<th>RTT ms<br>avg / max</th><th>Accepted transfer syntaxes</th><th>Certificate expiry</th><th>Checks and changes</th>'
               "</tr></thead><tbody>")
    several_probes = len(run.get("probe_hosts") or []) > 1
    for row in _ordered(report["endpoints"]):
        flag = _row_flag(row)
        rtt = row.get("rtt_ms") or {}
        cert = row.get("certificate")
        cert_html = ""
        if cert:
            days = cert.get("days_remaining")
            cls = "soon" if isinstance(days, int) and days < 14 else "warn" if isinstance(days, int) and days < 30 else ""
            cert_html = '<span class="cert %s">%s</span><br><span class="muted">%s days</span>' % (
                cls, _h((cert.get("not_after") or "")[:10]), _h(days))
        elif row.get("tls"):
            cert_html = '<span class="muted">TLS, no certificate</span>'
        else:
            cert_html = '<span class="muted">no TLS</span>'
        notes = []
        for change in row["changes"]:
            cls = {"regression": "r", "recovery": "i", "new": "muted"}.get(change["type"], "c")
            notes.append('<div class="%s">%s: %s</div>' % (cls, _h(change["type"]), _h(change["message"])))
        explained = {finding["check"] for finding in row.get("findings") or []}  # the finding's line says it
        for check in _failed_checks(row):
            if check["name"] in ("reachable", "no_regression") or check["name"] in explained:
                continue
            notes.append('<div class="f">%s: %s</div>' % (_h(check["name"]), _h(check["message"])))
        for finding in row.get("findings") or []:
            notes.append('<div><span class="sev sev-%s">%s</span> %s</div>' % (
                _h(finding["severity"]), _h(finding["severity"]), _h(finding_text(finding))))
        passed_checks = [check["name"] for check in row["checks"] if check["passed"]]
        if passed_checks:
            notes.append('<div class="muted">ok: %s</div>' % _h(", ".join(passed_checks)))
        syntaxes = "".join("<span>%s</span>" % _h(name) for name in _syntax_names(row)) or '<i class="muted">none</i>'
        attempts = ' <span class="muted">(%d attempts)</span>' % row["attempts"] if (row.get("attempts") or 0) > 1 else ""
        out.append(
            '<tr class="%s" data-name="%s"><td><span class="badge b-%s">%s</span></td>'
            '<td><b>%s</b><br><code>%s</code>%s</td><td><span class="outcome%s">%s</span><div class="muted notes">%s</div></td>'
            '<td class="num">%s%s</td><td class="ts">%s</td><td>%s</td><td class="notes">%s</td></tr>' % (
                flag, _h(row["name"]), flag, _h(_STATUS_WORD[flag]), _h(row["name"]), _h(_target(row)),
                ' <span class="muted">via %s</span>' % _h(row["probe_from"]) if row.get("probe_from") and several_probes else "",
                " bad" if _outcome_bad(row) else "", _h(row["outcome"]), _h(_outcome_note(row)),
                _h(_fmt_ms(rtt.get("avg"))), " / " + _h(_fmt_ms(rtt.get("max"))) if rtt else "", syntaxes, cert_html,
                "".join(notes) + attempts))
    out.append("</tbody></table>")
    findings = ordered_findings(report)
    if findings:
        out.append('<h2>Findings</h2><table id="findings"><thead><tr><th>Severity</th><th>Finding</th><th>Endpoint</th><th>Seen</th>'
                   "<th>Why it matters</th><th>Remedy</th></tr></thead><tbody>")
        out += ['<tr><td><span class="sev sev-%s">%s</span></td><td><code>%s</code></td><td><b>%s</b></td><td>%s</td><td>%s</td>'
                "<td>%s</td></tr>" % (_h(finding["severity"]), _h(finding["severity"]), _h(finding["id"]), _h(row["name"]),
                                      _h(finding["message"]), _h(finding["explanation"]), _h(finding["remedy"]))
                for row, finding in findings]
        out.append("</tbody></table>")
    out.append('</main><footer>dicom.network %s report, schema %s v%d. Times are the C-ECHO round trips measured at the socket.</footer>'
               % (_h(report["kind"]), _h(report["schema"]), report["schema_version"]))
    out.append("</body></html>\n")
    return "\n".join(out)
