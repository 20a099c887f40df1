#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the fleet: inventory.py OUT.json COUNT ORTHANC_PORT PROXY_PORT SLOW[,SLOW...]

COUNT endpoint hosts node001 ... on 127.0.0.1, all calling Orthanc (AE title ORTHANC); the SLOW ones reach it through
the delay proxy. One probe host, localhost. The inventory stays the same for every run: what changes is the proxy.
"""

from __future__ import annotations

import json
import sys

out, count, orthanc, proxy, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(",")
hosts = {}
for number in range(1, count + 1):
    name = "node%03d" % number
    hosts[name] = {"ansible_host": "127.0.0.1", "dicom_port": proxy if name in slow else orthanc, "dicom_called_aet": "ORTHANC"}
missing = sorted(set(slow) - set(hosts))
if missing:
    sys.exit("inventory.py: the slow endpoints %s are not among node001 ... node%03d" % (", ".join(missing), count))
inventory = {"all": {"children": {
    "probes": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}},
    "dicom_endpoints": {"hosts": hosts},
}}}
with open(out, "w", encoding="utf-8") as handle:
    json.dump(inventory, handle, indent=1)
