# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate a loopback DICOM fleet: the demo SCP's listeners and a matching Ansible inventory.

    demo_inventory.py --out demo-output --endpoints 300 [--scenario demo|bench] [--probe-hosts 2]

Writes OUT/listeners.json (for demo_scp.py --config) and OUT/inventory.yml: group dicom_endpoints
with one host per endpoint (ansible_host 127.20.x.y, dicom_port, dicom_called_aet), a local probe
host or several, and under all.vars `demo_expect`, the numbers the demo must reproduce.

Scenario "demo" (the fleet changes when the SCP gets SIGUSR1, between two audits):
  every 40th endpoint is down in both audits (a known outage), every 60th is called with a wrong AE
  title (rejected in both), 4 endpoints go down (regressions), 2 come up (recoveries), 3 change their
  transfer syntax preference and 2 get SLOW_STEP_MS (1 s) slower (latency shift). Scenario "bench": all up.
Also the listeners of the pacs_verify part of the demo: 127.0.0.1 on --port (ARCHIVE) and --port + 1
(ROUTER); --port + 3 stays closed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
BIG_ENDIAN = "1.2.840.10008.1.2.2"
DEFAULT_PORT = 24104
# The simulated slowdown: far above anything the demo's own load does to a loopback echo (make demo runs two
# probe processes, the SCP and Ansible on the same cores; up to ~100 ms were seen on a busy 2-core machine) and
# above the demo's latency floor (playbooks/demo.yml), so the second audit flags exactly these endpoints, every time.
SLOW_STEP_MS = 1000


def verify_listeners(port):
    """The pacs_verify endpoints of the demo: an archive and a router on 127.0.0.1 (port+3 stays closed)."""
    return [
        {"address": "127.0.0.1", "port": port, "ae_title": "ARCHIVE", "transfer_syntaxes": [EXPLICIT_LE, IMPLICIT_LE, BIG_ENDIAN]},
        {"address": "127.0.0.1", "port": port + 1, "ae_title": "ROUTER", "transfer_syntaxes": [IMPLICIT_LE]},
    ]


def address(index):
    """127.20.0.1, 127.20.0.2, ... 250 per third octet (loopback, routed to lo on Linux)."""
    return "127.20.%d.%d" % (index // 250, index % 250 + 1)


def build(count, scenario, probe_hosts, port=DEFAULT_PORT):
    listeners, hosts = verify_listeners(port), {}
    expect = {"endpoints": count, "failed_before": 0, "failed_after": 0, "regressions": 0, "recoveries": 0,
              "transfer_syntaxes": 0, "latency": 0}
    regress = recover = ts_change = slow = 0
    for index in range(count):
        name = "node%04d" % (index + 1)
        aet = "NODE%04d" % (index + 1)
        listener = {"address": address(index), "port": port, "ae_title": aet, "transfer_syntaxes": [EXPLICIT_LE, IMPLICIT_LE]}
        host = {"ansible_host": address(index), "dicom_port": port, "dicom_called_aet": aet}
        if probe_hosts > 1:
            host["dicom_probe_from"] = "probe%d" % (index % probe_hosts + 1)
        before = after = True
        if scenario == "demo":
            if index % 40 == 39:
                listener["state"] = "down"
                before = after = False
            elif index % 60 == 59:
                host["dicom_called_aet"] = "WRONG%04d" % (index + 1)
                before = after = False
            elif index % 50 == 7 and regress < 4:
                listener["after"] = {"state": "down"}
                after = False
                regress += 1
            elif index % 50 == 17 and recover < 2:
                listener["state"] = "down"
                listener["after"] = {"state": "up"}
                before = False
                recover += 1
            elif index % 50 == 27 and ts_change < 3:
                listener["after"] = {"transfer_syntaxes": [IMPLICIT_LE, EXPLICIT_LE]}
                ts_change += 1
            elif index % 50 == 37 and slow < 2:
                listener["after"] = {"delay_ms": SLOW_STEP_MS}
                slow += 1
        expect["failed_before"] += not before
        expect["failed_after"] += not after
        listeners.append(listener)
        hosts[name] = host
    expect.update(regressions=regress, recoveries=recover, transfer_syntaxes=ts_change, latency=slow)
    probes = {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}
    if probe_hosts > 1:
        probes = {"probe%d" % (number + 1): {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
                  for number in range(probe_hosts)}
        probes["localhost"] = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    inventory = {"all": {
        "vars": {"demo_expect": expect, "demo_port": port},
        "children": {
            "dicom_probes": {"hosts": probes},
            "dicom_endpoints": {"hosts": hosts},
        },
    }}
    return {"listeners": listeners}, inventory


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--endpoints", type=int, default=300)
    parser.add_argument("--scenario", choices=["demo", "bench"], default="demo")
    parser.add_argument("--probe-hosts", type=int, default=1)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="TCP port of every listener (default %d); the pacs_verify part uses 127.0.0.1 port..port+3" % DEFAULT_PORT)
    args = parser.parse_args(argv)
    if not 1 <= args.endpoints <= 250 * 250:
        parser.error("--endpoints must be 1..62500")
    os.makedirs(args.out, exist_ok=True)
    config, inventory = build(args.endpoints, args.scenario, args.probe_hosts, args.port)
    with open(os.path.join(args.out, "listeners.json"), "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=1)
    # JSON is valid YAML: Ansible's YAML inventory plugin reads it as it is.
    with open(os.path.join(args.out, "inventory.yml"), "w", encoding="utf-8") as handle:
        json.dump(inventory, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
