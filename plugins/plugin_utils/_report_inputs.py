# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role input -> dicom_echo endpoints: the helpers behind the echo_endpoints, echo_retryable and
inventory_endpoints filters (plugins/filter/endpoints.py). Private to this collection; no Ansible imports."""

from __future__ import annotations

from ansible_collections.dicom.network.plugins.module_utils._request import kind_of
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import ECHOSCU_TRANSFER_SYNTAXES
from ansible_collections.dicom.network.plugins.plugin_utils._reports import (
    CHECK_KEYS,
    EXPECTATION_KEYS,
    ReportError,
    endpoint_name,
    expectation_limit,
    transfer_syntax_uid,
)

# Outcomes that mean "not up (yet)": worth another attempt while an endpoint is starting.
RETRYABLE_OUTCOMES = frozenset(["dns_error", "connection_refused", "connect_timeout", "acse_timeout", "peer_aborted",
                                "tls_error", "protocol_error", "release_failed", "dimse_timeout"])

_ECHOSCU_ORDER = {uid: index for index, (uid, _dcmtk, _keyword) in enumerate(ECHOSCU_TRANSFER_SYNTAXES)}


def echo_endpoints(entries, defaults=None, propose_expected=False, keep_check_keys=False):
    """pacs_verify endpoints -> the ``endpoints`` of one dicom_echo task.

    Expectation keys and the check keys (CHECK_KEYS, unless ``keep_check_keys``: the check plan reads them) are
    dropped, ``defaults`` (module options for every endpoint) are put under
    each entry, and every entry gets the ``name`` its result will carry. With
    ``propose_expected``, entries with ``expect_transfer_syntaxes`` and no ``propose_ts`` of their
    own propose echoscu's list up to the last expected syntax in it, so the echo association shows
    which of those the peer prefers (no more: DCMTK 3.6 acceptors do not answer a context with more
    than 50 transfer syntaxes).
    """
    if not isinstance(entries, list):
        raise ReportError("the endpoint list must be a list of dicts, got %s" % kind_of(entries))
    out = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ReportError("endpoint %d must be a dict, got %r" % (index, entry))
        probe = {key: value for key, value in (defaults or {}).items() if value is not None}
        dropped = EXPECTATION_KEYS if keep_check_keys else EXPECTATION_KEYS + CHECK_KEYS
        probe.update((key, value) for key, value in entry.items() if key not in dropped and value is not None)
        for key in ("max_rtt_ms", "min_cert_days"):
            expectation_limit(entry, key, "endpoint %d (%s)" % (index, endpoint_name(probe)))
        expected = entry.get("expect_transfer_syntaxes")
        if expected is not None:
            if not isinstance(expected, list):
                raise ReportError("endpoint %d (%s): expect_transfer_syntaxes must be a list, got %r" % (index, endpoint_name(probe), expected))
            unknown = [value for value in expected if transfer_syntax_uid(value) is None]
            if unknown:
                raise ReportError("endpoint %d (%s): unknown transfer syntax %s in expect_transfer_syntaxes (give UIDs, DICOM keywords "
                                  "such as ExplicitVRLittleEndian, or names such as 'Explicit VR Little Endian')"
                                  % (index, endpoint_name(probe), ", ".join(repr(value) for value in unknown)))
        if propose_expected and expected and "propose_ts" not in entry:
            positions = [_ECHOSCU_ORDER[uid] for uid in map(transfer_syntax_uid, expected) if uid in _ECHOSCU_ORDER]
            if positions:
                probe["propose_ts"] = max(positions) + 1
        probe["name"] = endpoint_name(probe)
        out.append(probe)
    return out


def echo_retryable(results):
    """Names of the endpoints worth probing again: not up yet (refused, timed out, transiently rejected ...).

    A success is final, and so is a permanent rejection (a wrong AE title stays wrong).
    """
    names = []
    for result in results or []:
        outcome = result.get("outcome")
        rejection = (result.get("association") or {}).get("rejection") or {}
        if outcome in RETRYABLE_OUTCOMES or (outcome == "association_rejected" and rejection.get("result") == 2):
            names.append(result.get("name"))
    return names


def inventory_endpoints(hostvars, hosts, option_names, defaults=None, prefix="dicom_", probe_default="localhost", extra_names=()):
    """Inventory hosts -> {probe host: [dicom_echo endpoint dicts]} from their ``dicom_*`` host variables.

    ``dicom_host`` defaults to ``ansible_host`` and then to the inventory name; ``dicom_probe_from``
    to ``probe_default``; every name in ``option_names`` (the endpoint options dicom_echo accepts,
    TLS ones included) is read from ``dicom_<option>``, and so is each of ``extra_names`` (the check settings
    ``checks``, ``query_model``, ``plain_port`` for the check plan). The endpoint ``name`` is the inventory name.
    """
    wanted = {prefix + option: option for option in tuple(option_names) + tuple(extra_names) if option not in ("host", "name")}
    groups = {}
    for host in hosts or []:
        hv = hostvars[host]
        endpoint = dict(defaults or {})
        # Only the variables that are there are read (and templated): a lookup of each possible
        # option name costs more than one pass over the host's variable names.
        for key in [key for key in hv if key in wanted]:
            value = hv[key]
            if value is not None:
                endpoint[wanted[key]] = value
        endpoint["host"] = hv.get(prefix + "host") or hv.get("ansible_host") or host
        endpoint["name"] = host
        probe = hv.get(prefix + "probe_from") or probe_default
        groups.setdefault(probe, []).append(endpoint)
    return groups
