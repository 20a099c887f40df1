# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks beyond reachability: which probes they need (plan) and what their results mean (evaluate).

Private to this collection; runs on the controller only (the check_plan filter and the dicom_report
action plugin). No Ansible imports. docs/dev/checks.md explains the design, docs/reports.md the checks
and findings as the reports show them.

plan() turns the endpoints (dicom_echo endpoint dicts with ``name``) and the checks each one asks for
into one probe list per check kind, each the ``endpoints`` of one batched dicom_echo (or, for
``query``, dicom_find) task: an AE title check is an echo with a random title, a TLS version one an
echo with ``tls_version`` pinned, and so on. Every probe is named ``<endpoint>~<check>~<variant>``
and the plan's ``index`` maps the name back, so evaluate() never parses names.

evaluate() adds to each report row one check per asked check and the findings: each with an id, a
severity, a one-line explanation and a remedy (FINDINGS).
"""

from __future__ import annotations

from ansible_collections.dicom.network.plugins.module_utils._find import MODELS, random_title
from ansible_collections.dicom.network.plugins.module_utils._request import (
    ECHO_ONLY_OPTIONS,
    FIND_OPTIONS,
    OPTIONS,
    SECRET_KEYS,
    TLS_VERSION_NAMES,
)
from ansible_collections.dicom.network.plugins.plugin_utils._reports import CHECK_KEYS, ReportError, _check, _finish_row

CHECKS = ("called_aet_enforced", "calling_aet_enforced", "default_aet", "query", "tls_versions", "implementation")
# The checks that need probes of their own, and the module each kind's batch runs.
PROBE_MODULES = {"called_aet_enforced": "dicom_echo", "calling_aet_enforced": "dicom_echo", "default_aet": "dicom_echo",
                 "tls_versions": "dicom_echo", "query": "dicom_find"}
# Well-known default AE titles of archives and tools (DCMTK, Orthanc, dcm4chee, Conquest, OsiriX/Horos ...).
DEFAULT_AETS = ("ANY-SCP", "ORTHANC", "STORESCP", "DCM4CHEE", "CONQUESTSRV1", "OSIRIX", "PACS", "DICOM")
# The TLS versions the tls_versions check tries: every value of the tls_version option.
TLS_VERSIONS = TLS_VERSION_NAMES
# id: (check, severity, what it means, what to do). The message of a finding says what was seen on the
# endpoint; this text is the general explanation and remedy every report format carries.
FINDINGS = {
    "called_aet_not_enforced": (
        "called_aet_enforced", "medium",
        "The endpoint accepts associations addressed to any called AE title, so a misconfigured sender reaches it unnoticed.",
        "Make the archive check the called AE title (Orthanc: DicomCheckCalledAet true; DCMTK: an AE table)."),
    "calling_aet_not_enforced": (
        "calling_aet_enforced", "high",
        "The endpoint accepts associations from any calling AE title: anyone who can reach the port can use its services.",
        "Allow only known peers (Orthanc: DicomModalities with DicomAlwaysAllowEcho/Store/Find false; DCMTK: HostTable and AETable)."),
    "default_aet": (
        "default_aet", "low",
        "The endpoint answers to a well-known default AE title, the first title anyone scanning for DICOM services tries.",
        "Give the service a site-specific AE title and stop answering to the product's default."),
    "query_refused": (
        "query", "high",
        "C-FIND is refused for our calling AE title although the endpoint is up: queries from this AE title fail.",
        "Register the calling AE title for queries on the archive (Orthanc: DicomModalities or DicomAlwaysAllowFind)."),
    "query_failed": (
        "query", "high",
        "The query path is broken: the endpoint answered the C-FIND with a failure status or a malformed response.",
        "Check the archive's query service and its logs for the failure the status names."),
    "query_timeout": (
        "query", "high",
        "The endpoint did not answer the C-FIND in time: queries hang here.",
        "Check the archive's database and query service; raise dimse_timeout only if slow answers are expected."),
    "query_not_supported": (
        "query", "medium",
        "The endpoint does not support the information model asked for (Study Root or Modality Worklist).",
        "Query the service that provides it, or set the endpoint's query_model, or leave the query check out for it."),
    "query_unfiltered": (
        "query", "medium",
        "The endpoint returned matches for a key that cannot exist: it ignores query keys and may return data nobody asked for.",
        "Fix the archive's matching of query keys; until then, treat every query to it as returning everything."),
    "tls_1_0_accepted": (
        "tls_versions", "high",
        "The endpoint accepts TLS 1.0, which RFC 8996 deprecates and which is vulnerable to downgrade attacks.",
        "Allow TLS 1.2 and 1.3 only (DCMTK: a BCP 195 non-downgrading or RFC 8996 profile)."),
    "tls_1_1_accepted": (
        "tls_versions", "medium",
        "The endpoint accepts TLS 1.1, which RFC 8996 deprecates.",
        "Allow TLS 1.2 and 1.3 only (DCMTK: a BCP 195 non-downgrading or RFC 8996 profile)."),
    "tls_version_untested": (
        "tls_versions", "info",
        "A TLS version could not be tested: the probe host's OpenSSL cannot offer it.",
        "Probe from a host whose OpenSSL still offers the version, if it matters."),
    "plain_port_open": (
        "tls_versions", "high",
        "The same AE also answers without TLS on another port, so TLS protects nothing against a sender that skips it.",
        "Close the plain DICOM port, or restrict it to peers that cannot use TLS."),
    "implementation_changed": (
        "implementation", "info",
        "The endpoint's implementation class UID or version name differs from the baseline: its software was changed.",
        "Confirm the change was planned; re-run the other checks after upgrades."),
}

# Outcomes that say nothing about the check: the probe never reached the DICOM layer.
_UNREACHED = ("dns_error", "connection_refused", "connect_timeout", "acse_timeout", "invalid_input", "internal_error")


def check_names(checks, label="checks"):
    """A list of check names, validated (the message names ``label``), without repetitions."""
    if isinstance(checks, str) or not isinstance(checks, (list, tuple)):
        raise ReportError("%s must be a list of check names, got %r" % (label, checks))
    unknown = [name for name in checks if name not in CHECKS]
    if unknown:
        raise ReportError("%s: unknown check %s (known: %s)" % (label, ", ".join(map(repr, unknown)), ", ".join(CHECKS)))
    return list(dict.fromkeys(checks))


def endpoint_checks(entry, defaults):
    """The checks one endpoint asks for: its own ``checks`` list, else ``defaults``; names validated."""
    checks = entry.get("checks")
    if checks is None:
        checks = defaults or []
    try:
        return check_names(checks)
    except ReportError as exc:
        raise ReportError("endpoint %s: %s" % (entry.get("name"), exc)) from None


def _probe_base(entry):
    """The endpoint's options every probe of it starts from. Never its secrets: the plan is stored as a fact and its jobs
    are loop items, which Ansible prints at -v; with_secrets() puts them back where a module is called."""
    return {key: value for key, value in entry.items()
            if key not in CHECK_KEYS and key not in ECHO_ONLY_OPTIONS and key != "name" and key not in SECRET_KEYS}


def plan(endpoints, default_checks=None, default_aets=DEFAULT_AETS, tls_available=TLS_VERSIONS, skip=()):
    """The probes the checks of ``endpoints`` need, as batched jobs.

    ``endpoints``: a list of endpoint dicts with ``name`` (one probe host, the caller's), or {probe host: such a
    list} (dicom_audit); ``tls_available``: the TLS versions the probe host can offer alone (dicom_echo
    list_profiles), or {probe host: those versions}; ``skip``: names of endpoints not to probe (their echo
    association failed, so every check would only be undetermined), whose checks are still listed. Returns

    * ``jobs``: [{probe_from, kind, module, endpoints, owners, tls_owners}], one batched dicom_echo (dicom_find for
      ``query``) task each, per probe host (null for a list) and check kind that has probes; ``owners`` names the
      endpoint of each probe, ``tls_owners`` the TLS endpoints among them (the only ones a secret can matter to);
    * ``index``: {probe name: [endpoint, check, variant]}; ``checks``: {endpoint: its checks};
      ``untested``: {endpoint: TLS versions its probe host cannot offer}; ``skipped``: the endpoints of ``skip``.
    """
    skip = set(skip or ())
    groups = endpoints.items() if isinstance(endpoints, dict) else [(None, endpoints)]
    jobs, index, wanted, untested = [], {}, {}, {}
    for probe_from, entries in groups:
        offered = tls_available.get(probe_from, TLS_VERSIONS) if isinstance(tls_available, dict) else tls_available
        probes = {kind: [] for kind in PROBE_MODULES}
        owners = {kind: [] for kind in PROBE_MODULES}

        def add(kind, entry, variant, probe, probes=probes, owners=owners):
            name = "%s~%s~%s" % (entry["name"], kind, variant)
            probe["name"] = name
            probes[kind].append(probe)
            owners[kind].append(entry["name"])
            index[name] = [entry["name"], kind, variant]

        for entry in entries or []:
            if not isinstance(entry, dict) or not entry.get("name"):
                raise ReportError("every endpoint of a check plan needs a name, got %r" % (entry,))
            checks = endpoint_checks(entry, default_checks)
            wanted[entry["name"]] = checks
            if entry["name"] in skip:
                continue
            base = _probe_base(entry)
            if "called_aet_enforced" in checks:
                add("called_aet_enforced", entry, "random", dict(base, called_aet=random_title()))
            if "calling_aet_enforced" in checks:
                add("calling_aet_enforced", entry, "random", dict(base, calling_aet=random_title()))
            if "default_aet" in checks:
                add("default_aet", entry, "control", dict(base, called_aet=random_title()))
                for title in default_aets:
                    if title != base.get("called_aet", OPTIONS["called_aet"]["default"]):  # its own title is the echo's
                        add("default_aet", entry, title, dict(base, called_aet=title))
            if "query" in checks:
                model = entry.get("query_model") or FIND_OPTIONS["query_model"]["default"]
                add("query", entry, model, dict(base, query_model=model))
            if "tls_versions" in checks and base.get("tls"):
                for version in TLS_VERSIONS:
                    if version in offered:
                        # the question is the version alone: no certificate verification, every suite of the version
                        probe = dict(base, tls_version=version, verify_peer_cert=False)
                        probe.pop("ciphers", None)  # tls_version offers every suite of the version; extra ones cannot be added
                        add("tls_versions", entry, version, probe)
                    else:
                        untested.setdefault(entry["name"], []).append(version)
                if entry.get("plain_port"):
                    add("tls_versions", entry, "plain", dict(base, tls=False, port=entry["plain_port"]))
        jobs += [{"probe_from": probe_from, "kind": kind, "module": PROBE_MODULES[kind], "endpoints": batch, "owners": owners[kind],
                  "tls_owners": sorted({owner for owner, probe in zip(owners[kind], batch) if probe.get("tls")})}
                 for kind, batch in probes.items() if batch]
    return {"jobs": jobs, "index": index, "checks": wanted, "untested": untested, "skipped": sorted(skip & set(wanted)),
            "default_aets": list(default_aets)}


def with_secrets(probes, owners, sources):
    """The probes of a job with the secrets (SECRET_KEYS) of their endpoints put back.

    ``owners``: the job's ``owners`` (the endpoint of each probe); ``sources``: endpoint dicts with ``name``,
    secrets included (a list, or {probe host: list}). A probe of the plain-port variant never gets a TLS secret it
    does not use, but carrying it does no harm either.
    """
    if len(owners) != len(probes):
        raise ReportError("with_secrets: %d probes but %d owners; give the owners of the same job" % (len(probes), len(owners)))
    entries = [entry for batch in sources.values() for entry in batch] if isinstance(sources, dict) else sources or []
    secrets = {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") is not None:
            found = {key: value for key, value in entry.items() if key in SECRET_KEYS and value is not None}
            if found:
                secrets[entry["name"]] = found
    if not secrets:
        return probes
    return [dict(probe, **secrets[owner]) if owner in secrets else probe for probe, owner in zip(probes, owners)]


# --------------------------------------------------------------------------------------------
# evaluation


def finding(finding_id, message, **detail):
    """One finding of FINDINGS as the reports carry it: what was seen (``message``) with the catalog's texts."""
    check, severity, explanation, remedy = FINDINGS[finding_id]
    return {"id": finding_id, "check": check, "severity": severity, "message": message, "explanation": explanation,
            "remedy": remedy, "detail": detail or None}


def _established(result):
    return bool((result.get("association") or {}).get("established"))


def _why(result):
    return result.get("reason") or result.get("outcome") or "no result"


def _refusal(result):
    """How the peer refused an association, as words; None when it did not refuse at the DICOM layer."""
    outcome = result.get("outcome")
    if outcome == "association_rejected":
        rejection = (result.get("association") or {}).get("rejection") or {}
        return "rejected (%s)" % (rejection.get("reason_text") or "A-ASSOCIATE-RJ")
    if outcome == "peer_aborted" and not _established(result):
        return "aborted by the peer during association"
    if outcome in ("protocol_error", "release_failed") and not _established(result):
        return "refused (%s)" % _why(result)
    return None


def _ae_check(name, probe, title_key, finding_id):
    """called_aet_enforced / calling_aet_enforced from the probe with a random title."""
    if probe is None:
        return _check(name, False, "not checked: no probe result came back", "refused", None), []
    title = (probe.get("endpoint") or {}).get(title_key)
    refused = _refusal(probe)
    if refused:
        return _check(name, True, "an association with the random %s %s was %s" % (title_key, title, refused), "refused",
                      probe.get("outcome")), []
    if _established(probe):
        message = "an association with the random %s %s was accepted" % (title_key, title)
        return _check(name, False, message, "refused", "accepted"), [finding(finding_id, message, **{title_key: title})]
    return _check(name, False, "not determined: %s" % _why(probe), "refused", probe.get("outcome")), []


def _default_aet_check(probes, configured, echo, fail, default_aets):
    """default_aet: the endpoint's own title when it is a default (the echo says it answers to it), and every
    default title a probe was accepted with, provided the random control title was refused."""
    control = probes.get("control")
    answered = [configured] if configured in default_aets and echo is not None and _established(echo) else []
    tried = len(probes) - 1 if control is not None else 0
    if control is None:
        note, determined = "no probe result came back", False
    elif _established(control):
        note, determined = "the endpoint accepts any called AE title, even a random one (see called_aet_enforced)", True
    elif not _refusal(control):
        note, determined = "the control probe with a random title: %s" % _why(control), False
    else:
        note, determined = None, True
        answered += [title for title, result in probes.items() if title != "control" and _established(result) and title not in answered]
    if not answered:
        if not determined:
            return _check("default_aet", False, "not determined: %s" % note, [], None), []
        if note:
            return _check("default_aet", True, "not applicable: %s" % note, [], None), []
        return _check("default_aet", True, "answers to none of the %d well-known default AE titles tried" % tried, [], []), []
    message = "answers to the well-known default AE title%s %s" % ("s" if len(answered) > 1 else "", ", ".join(answered))
    findings = [finding("default_aet", message, titles=answered)]
    text = message + ("" if fail else " (a finding, not a failure)") + ("; other titles: %s" % note if note else "")
    return _check("default_aet", not fail, text, [], answered), findings


def _query_check(probe, echo):
    if probe is None:
        return _check("query", False, "not checked: no probe result came back", "success", None), []
    query = probe.get("query") or {}
    outcome = probe.get("outcome")
    model = query.get("model") or "study"
    what = "C-FIND (%s)" % model
    matches = query.get("matches") or 0
    if outcome == "success" and matches == 0:
        return _check("query", True, "%s answered Success with no match: the query path works" % what, "success", "success"), []
    if outcome in ("success", "too_many_matches"):
        counted = "%d%s" % (matches, "+" if outcome == "too_many_matches" else "")
        message = "%s returned %s matches for a key that cannot exist" % (what, counted)
        return (_check("query", True, "the query path works, but " + message, "success", outcome),
                [finding("query_unfiltered", message, matches=matches, complete=bool(query.get("complete")))])
    echo_ok = bool(echo and echo.get("success"))
    if outcome == "find_status":
        status = "status 0x%04X (%s)" % (query.get("status") or 0, query.get("status_text"))
        finding_id = "query_refused" if query.get("status_category") == "refused" else "query_failed"
        message = "%s answered with %s" % (what, status)
        return _check("query", False, message, "success", outcome), [finding(finding_id, message, status=query.get("status"))]
    if outcome == "peer_aborted" and _established(probe):
        message = "the peer aborted the association instead of answering the %s%s" % (
            what, " (the C-ECHO with the same AE titles succeeds)" if echo_ok else "")
        return _check("query", False, message, "success", outcome), [finding("query_refused", message)]
    if outcome == "association_rejected" and echo_ok:
        message = "the association for the %s was %s, while the C-ECHO with the same AE titles succeeds" % (what, _refusal(probe))
        reason = ((probe.get("association") or {}).get("rejection") or {}).get("reason")
        if reason in (3, 7):  # calling / called AE title not recognized: refused for these titles
            return _check("query", False, message, "success", outcome), [finding("query_refused", message)]
        # a rejection for no AE title reason: DCMTK acceptors reject an association none of whose contexts they support
        message += ": it likely does not support the %s" % MODELS.get(model, {}).get("title", what)
        return _check("query", False, message, "success", outcome), [finding("query_not_supported", message)]
    if outcome == "no_acceptable_context":
        message = "the peer does not support the %s (%s)" % (MODELS.get(model, {}).get("title", what), query.get("sop_class"))
        return _check("query", False, message, "success", outcome), [finding("query_not_supported", message)]
    if outcome == "dimse_timeout":
        message = "%s: %s" % (what, _why(probe))
        return _check("query", False, message, "success", outcome), [finding("query_timeout", message)]
    if outcome == "protocol_error" and _established(probe):
        message = "%s: %s" % (what, _why(probe))
        return _check("query", False, message, "success", outcome), [finding("query_failed", message)]
    return _check("query", False, "not determined: %s" % _why(probe), "success", outcome), []


def _tls_check(probes, untested, uses_tls):
    if not uses_tls:
        return _check("tls_versions", True, "not applicable: the endpoint does not use TLS", [], None), []
    accepted, refused, unknown, findings = [], [], [], []
    for version in TLS_VERSIONS:
        result = probes.get(version)
        if result is None:
            continue
        tls = result.get("tls") or {}
        if tls.get("version") == version:
            accepted.append(version)
        elif result.get("outcome") == "tls_error":
            refused.append(version)
        else:
            unknown.append("%s: %s" % (version, _why(result)))
    if not accepted and not refused:
        return _check("tls_versions", False, "not determined: %s" % ("; ".join(unknown) or "no probe result came back"),
                      None, None), []
    for version, finding_id in (("TLSv1", "tls_1_0_accepted"), ("TLSv1.1", "tls_1_1_accepted")):
        if version in accepted:
            findings.append(finding(finding_id, "the endpoint completed a TLS handshake offering %s only" % version, version=version))
    for version in untested:
        findings.append(finding("tls_version_untested", "%s was not tested: the probe host's OpenSSL cannot offer it" % version,
                                version=version))
    parts = ["accepts %s" % (", ".join(accepted) or "no version"), "refuses %s" % (", ".join(refused) or "none")]
    if untested:
        parts.append("untested %s" % ", ".join(untested))
    if unknown:
        parts.append("undetermined %s" % "; ".join(unknown))
    plain = probes.get("plain")
    if plain is not None:
        plain_port = (plain.get("endpoint") or {}).get("port")
        if _established(plain):
            message = "the AE also answers without TLS on port %s" % plain_port
            findings.append(finding("plain_port_open", message, port=plain_port))
            parts.append(message)
        else:
            parts.append("no plain DICOM on port %s (%s)" % (plain_port, plain.get("outcome")))
    failed = any(found["severity"] in ("high", "medium") for found in findings)
    return _check("tls_versions", not failed, "; ".join(parts), ["TLSv1.2", "TLSv1.3"], accepted), findings


def _implementation_check(row, spec):
    assoc = row.get("association") or {}
    uid, version = assoc.get("peer_implementation_class_uid"), assoc.get("peer_implementation_version_name")
    if not assoc.get("established"):
        return _check("implementation", False, "not determined: the endpoint did not accept the echo association", None, None)
    actual = {"class_uid": uid, "version_name": version}
    expected = {key: spec.get("expect_implementation_" + key) for key in ("class_uid", "version_name")
                if spec.get("expect_implementation_" + key) is not None}
    wrong = ["%s %s (expected %s)" % (key.replace("_", " "), actual[key], value) for key, value in expected.items() if actual[key] != value]
    text = "implementation class UID %s, version name %s" % (uid, version or "(none)")
    if wrong:
        return _check("implementation", False, "unexpected implementation: " + "; ".join(wrong), expected, actual)
    return _check("implementation", True, text, expected or None, actual)


def evaluate(rows, specs, check_plan, probe_results, fail_on_default_aet=False):
    """Add the asked checks and their findings to the report ``rows`` (in place).

    ``specs``: the role's endpoint entries by name (their ``checks``, ``plain_port``, expectations);
    ``check_plan``: what plan() returned; ``probe_results``: dicom_echo/dicom_find results named as planned.
    """
    index = (check_plan or {}).get("index") or {}
    wanted = (check_plan or {}).get("checks") or {}
    untested = (check_plan or {}).get("untested") or {}
    skipped = set((check_plan or {}).get("skipped") or ())
    grouped = {}
    for result in probe_results or []:
        where = index.get((result or {}).get("name"))
        if where is not None:
            grouped.setdefault(where[0], {}).setdefault(where[1], {})[where[2]] = result
    for row in rows:
        name = row["name"]
        spec = specs.get(name) or {}
        probes = grouped.get(name, {})
        findings = []
        echo = row.get("probe")
        for check in wanted.get(name, []):
            if name in skipped and check != "implementation":
                row["checks"].append(_check(check, False, "not checked: the endpoint did not accept the echo association", None, None))
                continue
            if check == "called_aet_enforced":
                entry, found = _ae_check(check, probes.get(check, {}).get("random"), "called_aet", "called_aet_not_enforced")
            elif check == "calling_aet_enforced":
                entry, found = _ae_check(check, probes.get(check, {}).get("random"), "calling_aet", "calling_aet_not_enforced")
            elif check == "default_aet":
                entry, found = _default_aet_check(probes.get(check, {}), row["endpoint"].get("called_aet"), echo, fail_on_default_aet,
                                                  (check_plan or {}).get("default_aets") or DEFAULT_AETS)
            elif check == "query":
                entry, found = _query_check(next(iter(probes.get(check, {}).values()), None), echo)
            elif check == "tls_versions":
                uses_tls = row.get("tls") is not None or bool(spec.get("tls"))
                entry, found = _tls_check(probes.get(check, {}), untested.get(name, []), uses_tls)
            else:
                entry, found = _implementation_check(row, spec), []
            row["checks"].append(entry)
            findings += found
        row["findings"] = findings
        _finish_row(row)
    return rows


def finding_catalog():
    """Every finding id with its check, severity, explanation and remedy (the reports carry the ones that occur)."""
    return {finding_id: {"check": check, "severity": severity, "explanation": explanation, "remedy": remedy}
            for finding_id, (check, severity, explanation, remedy) in FINDINGS.items()}
