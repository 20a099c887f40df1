#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the test inventory: inventory.py OUT.json PEERS.json RUN (1: two probe hosts; 2: one, a host removed and one added;
3: a small fleet on two probe hosts whose host variables have a misspelled name and invalid values beside good ones)."""

from __future__ import annotations

import json
import sys

out, peers_file, run = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(peers_file, encoding="utf-8") as handle:
    ports = json.load(handle)
python = sys.executable
if run == 3:
    local = {"ansible_connection": "local", "ansible_python_interpreter": python}
    endpoints = {
        "good-bulk": {"dicom_port": ports["bulk"], "dicom_called_aet": "BULK", "dicom_probe_from": "probe_a"},
        "good-qrscp": {"dicom_port": ports["qr"], "dicom_called_aet": "QRSCP", "dicom_probe_from": "probe_b",
                       "dicom_checks": ["called_aet_enforced"]},  # a check plan, to which the invalid endpoints never get
        # misspelled: the peer answers ANY-SCP as well, so without the check this endpoint passed
        "typo": {"dicom_port": ports["bulk"], "dicom_calledaet": "BULK", "dicom_probe_from": "probe_a"},
        "bad-protocol": {"dicom_port": ports["bulk"], "dicom_called_aet": "BULK", "dicom_ip_protocol": "ip4", "dicom_probe_from": "probe_b"},
        "bad-port": {"dicom_port": "abc", "dicom_called_aet": "BULK"},
    }
    for host in endpoints.values():
        host["ansible_host"] = "127.0.0.1"
    inventory = {"all": {"children": {
        "probes": {"hosts": {"localhost": local, "probe_a": local, "probe_b": local}},
        # the role's own variables and a fact's name are no unknown host variables
        "dicom_endpoints": {"hosts": endpoints, "vars": {"dicom_audit_concurrency": 8, "dicom_echo": {}}},
    }}}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(inventory, handle, indent=1)
    sys.exit(0)
endpoints = {
    "pacs-storescp": {"dicom_port": ports["storescp"], "dicom_called_aet": "STORESCP"},
    "pacs-qrscp": {"dicom_port": ports["qr"], "dicom_called_aet": "QRSCP"},
    "pacs-orthanc": {"dicom_port": ports["orthanc"], "dicom_called_aet": "ORTHANC"},
    "orthanc-wrong": {"dicom_port": ports["orthanc"], "dicom_called_aet": "NOT-ORTHANC"},
    "recover": {"dicom_port": ports["recover"], "dicom_called_aet": "LATE"},
    "ts": {"dicom_port": ports["ts"], "dicom_called_aet": "TS"},
    "slow": {"dicom_port": ports["slow"], "dicom_called_aet": "SLOW"},
}
bulk = ["bulk%02d" % number for number in range(1, 41)]
if run == 2:
    bulk = bulk[:-1] + ["newcomer"]
for index, name in enumerate(bulk):
    endpoints[name] = {"dicom_port": ports["bulk"], "dicom_called_aet": "BULK%02d" % index}
for index, (name, host) in enumerate(endpoints.items()):
    host["ansible_host"] = "127.0.0.1"
    if run == 1:
        host["dicom_probe_from"] = "probe_a" if index % 2 else "probe_b"
local = {"ansible_connection": "local", "ansible_python_interpreter": python}
inventory = {"all": {"children": {
    "probes": {"hosts": {"localhost": local, "probe_a": local, "probe_b": local}},
    "dicom_endpoints": {"hosts": endpoints},
}}}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(inventory, handle, indent=1)
