# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that turn role input into dicom_echo endpoint lists (documented in the .yml files beside this one)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dicom.network.plugins.module_utils._request import ENDPOINT_KEYS, SECRET_KEYS, kind_of
from ansible_collections.dicom.network.plugins.plugin_utils import _report_inputs, _reports


def echo_endpoints(entries, defaults=None, propose_expected=False):
    try:
        return _report_inputs.echo_endpoints(entries, defaults, bool(propose_expected))
    except _reports.ReportError as exc:
        raise AnsibleFilterError("echo_endpoints: %s" % to_native(exc)) from None


def echo_retryable(results):
    if not isinstance(results, list):
        raise AnsibleFilterError("echo_retryable expects the results list of a batched dicom_echo task, got %s" % kind_of(results))
    return _report_inputs.echo_retryable(results)


def inventory_endpoints(hostvars, hosts, defaults=None, probe_from="localhost", secrets=True):
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("inventory_endpoints expects a list of inventory host names, got %s" % kind_of(hosts))
    names = sorted(ENDPOINT_KEYS)
    if not secrets:
        names = [name for name in names if name not in SECRET_KEYS]
        defaults = {key: value for key, value in (defaults or {}).items() if key not in SECRET_KEYS}
    try:
        return _report_inputs.inventory_endpoints(hostvars, hosts, names, defaults, probe_default=probe_from)
    except KeyError as exc:
        raise AnsibleFilterError("inventory_endpoints: %s is not an inventory host" % to_native(exc)) from None


class FilterModule:
    """dicom.network endpoint filters."""

    def filters(self):
        return {
            "echo_endpoints": echo_endpoints,
            "echo_retryable": echo_retryable,
            "inventory_endpoints": inventory_endpoints,
        }
