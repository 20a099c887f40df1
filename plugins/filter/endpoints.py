# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that turn role input into dicom_echo endpoint lists (documented in the .yml files beside this one)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dicom.network.plugins.module_utils._request import ENDPOINT_KEYS, SECRET_KEYS, kind_of
from ansible_collections.dicom.network.plugins.plugin_utils import _report_checks, _report_inputs, _reports


def echo_endpoints(entries, defaults=None, propose_expected=False):
    try:
        return _report_inputs.echo_endpoints(entries, defaults, bool(propose_expected))
    except _reports.ReportError as exc:
        raise AnsibleFilterError("echo_endpoints: %s" % to_native(exc)) from None


def _offered(versions):
    """TLS version names, from names or from the {version, available} entries dicom_echo's list_profiles returns."""
    if not isinstance(versions, list):
        raise AnsibleFilterError("check_plan: tls_versions must list TLS versions, got %r" % (versions,))
    return tuple(entry["version"] if isinstance(entry, dict) else entry for entry in versions
                 if not isinstance(entry, dict) or entry.get("available"))


def check_plan(entries, checks=None, defaults=None, default_aets=None, tls_versions=None, skip=None):
    if not isinstance(entries, (list, dict)):
        raise AnsibleFilterError("check_plan expects a list of endpoint dicts or {probe host: list}, got %s" % kind_of(entries))
    if tls_versions is not None and not isinstance(tls_versions, (list, dict)):
        raise AnsibleFilterError("check_plan: tls_versions must be a list of TLS version names or {probe host: list}, got %r" % (tls_versions,))
    try:
        if isinstance(entries, dict):
            named = {probe: _report_inputs.echo_endpoints(batch, defaults, keep_check_keys=True) for probe, batch in entries.items()}
        else:
            named = _report_inputs.echo_endpoints(entries, defaults, keep_check_keys=True)
        if isinstance(tls_versions, dict):
            offered = {probe: _offered(versions) for probe, versions in tls_versions.items()}
        else:
            offered = _offered(tls_versions) if tls_versions is not None else _report_checks.TLS_VERSIONS
        return _report_checks.plan(named, checks or [], tuple(default_aets) if default_aets else _report_checks.DEFAULT_AETS,
                                   offered, skip or ())
    except _reports.ReportError as exc:
        raise AnsibleFilterError("check_plan: %s" % to_native(exc)) from None


def with_secrets(probes, owners, sources=None):
    if not isinstance(probes, list) or not isinstance(owners, list):
        raise AnsibleFilterError("with_secrets expects the endpoints and the owners of one check_plan job, got %s and %s"
                                 % (kind_of(probes), kind_of(owners)))
    try:
        return _report_checks.with_secrets(probes, owners, sources or [])
    except _reports.ReportError as exc:
        raise AnsibleFilterError(to_native(exc)) from None


def echo_retryable(results):
    if not isinstance(results, list):
        raise AnsibleFilterError("echo_retryable expects the results list of a batched dicom_echo task, got %s" % kind_of(results))
    return _report_inputs.echo_retryable(results)


def inventory_endpoints(hostvars, hosts, defaults=None, probe_from="localhost", secrets=True, with_checks=False):
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("inventory_endpoints expects a list of inventory host names, got %s" % kind_of(hosts))
    names = sorted(ENDPOINT_KEYS)
    if not secrets:
        names = [name for name in names if name not in SECRET_KEYS]
        defaults = {key: value for key, value in (defaults or {}).items() if key not in SECRET_KEYS}
    try:
        return _report_inputs.inventory_endpoints(hostvars, hosts, names, defaults, probe_default=probe_from,
                                                  extra_names=_report_inputs.CHECK_VARIABLES if with_checks else ())
    except KeyError as exc:
        raise AnsibleFilterError("inventory_endpoints: %s is not an inventory host" % to_native(exc)) from None


def audit_endpoints(hostvars, hosts, defaults=None, probe_from="localhost"):
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("audit_endpoints expects a list of inventory host names, got %s" % kind_of(hosts))
    if defaults is not None and not isinstance(defaults, dict):
        raise AnsibleFilterError("audit_endpoints: defaults must be a dict of dicom_echo endpoint options, got %s" % kind_of(defaults))
    try:
        return _report_inputs.audit_endpoints(hostvars, hosts, defaults, probe_default=probe_from)
    except KeyError as exc:
        raise AnsibleFilterError("audit_endpoints: %s is not an inventory host" % to_native(exc)) from None
    except _reports.ReportError as exc:
        raise AnsibleFilterError("audit_endpoints: %s" % to_native(exc)) from None


class FilterModule:
    """dicom.network endpoint filters."""

    def filters(self):
        return {
            "audit_endpoints": audit_endpoints,
            "check_plan": check_plan,
            "echo_endpoints": echo_endpoints,
            "echo_retryable": echo_retryable,
            "inventory_endpoints": inventory_endpoints,
            "with_secrets": with_secrets,
        }
