#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Encrypt the test PKI's client key with a fresh random password and write the plays' inputs.

    canary.py TLS_VARS.json WORK_DIR

TLS_VARS.json is what tests/peers/tls_peers.py start wrote. Writes WORK_DIR/module.json (the
variables of module.yml), verify.json (pacs_verify), audit.json (dicom_audit), inventory-one.json
(every endpoint probed from localhost) and inventory-two.json (from two probe hosts). The password is new on every run, so
it can occur in the output only because something printed it; the key cannot be loaded without
it, so an echo that succeeds with this key proves the password reached the engine.
"""

from __future__ import annotations

import json
import os
import secrets
import sys

from cryptography.hazmat.primitives import serialization

tls_vars_file, work = sys.argv[1], sys.argv[2]
with open(tls_vars_file, encoding="utf-8") as handle:
    tls = json.load(handle)
pki = tls["pki"]
password = "canary-" + secrets.token_hex(12)
wrong = "wrong-canary-" + secrets.token_hex(12)  # a wrong password is a secret too
with open(pki["client.key"], "rb") as handle:
    key = serialization.load_pem_private_key(handle.read(), password=None)
key_path = os.path.join(os.path.dirname(pki["client.key"]), "client_canary.key")
with open(key_path, "wb") as handle:
    handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(password.encode())))
os.chmod(key_path, 0o600)
with open(key_path, "rb") as handle:
    data = handle.read()
try:
    serialization.load_pem_private_key(data, password=None)
except TypeError:
    pass  # "Password was not given but private key is encrypted": what the test relies on
else:
    sys.exit("%s loads without a password: the test would prove nothing" % key_path)


def write(name, data):
    with open(os.path.join(work, name), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)


port = tls["tls_ports"]["require_cert"]
plain_port = tls["tls_ports"]["plain"]
write("module.json", {"canary": password, "wrong_canary": wrong, "canary_key": key_path, "tls_port": port, "plain_port": plain_port, "pki": pki})

client = {"tls": True, "private_key": key_path, "certificate": pki["client.pem"], "ca_files": [pki["ca.pem"]]}
# The checks beyond the echo that storescp passes run too: their probes (one TLS version at a time, default AE titles)
# use the encrypted key as well, through the check plan, which must not show the password either.
checks = ["tls_versions", "implementation", "default_aet"]
# one endpoint carries the password itself, the other gets it from the role's echo options
write("verify.json", {
    "pacs_verify_retries": 0,
    "pacs_verify_report_dir": os.path.join(work, "verify"),
    "pacs_verify_report_formats": ["json", "junit", "csv", "markdown", "html"],
    "pacs_verify_echo_options": {"private_key_password": password},
    "pacs_verify_checks": checks,
    "pacs_verify_endpoints": [
        dict(client, name="own", host="127.0.0.1", port=port, called_aet="STORESCP", private_key_password=password,
             expect_transfer_syntaxes=["ImplicitVRLittleEndian"], min_cert_days=1),
        dict(client, name="from-echo-options", host="127.0.0.1", port=port, called_aet="STORESCP",
             expect_transfer_syntaxes=["ExplicitVRLittleEndian"]),
        {"name": "plain", "host": "127.0.0.1", "port": plain_port, "called_aet": "STORESCP"},
    ],
})
write("audit.json", {
    "dicom_audit_report_formats": ["json", "csv", "junit", "markdown", "html"],
    "dicom_audit_echo_options": {"private_key_password": password},
    "dicom_audit_checks": checks,
    "dicom_audit_fail_on": "failures",
})
for layout, probes in (("one", {}), ("two", {"tls-own": "probe_a", "tls-from-echo-options": "probe_b", "plain": "probe_a"})):
    tls_vars = {"dicom_tls": True, "dicom_private_key": key_path, "dicom_certificate": pki["client.pem"],
                "dicom_ca_files": [pki["ca.pem"]], "dicom_port": port, "dicom_called_aet": "STORESCP"}
    endpoints = {
        "tls-own": dict(tls_vars, dicom_private_key_password=password),
        "tls-from-echo-options": dict(tls_vars),
        "plain": {"dicom_port": plain_port, "dicom_called_aet": "STORESCP"},
    }
    for name, host in endpoints.items():
        host["ansible_host"] = "127.0.0.1"
        if name in probes:
            host["dicom_probe_from"] = probes[name]
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    write("inventory-%s.json" % layout, {"all": {"children": {
        "probes": {"hosts": {"localhost": local, "probe_a": local, "probe_b": local}},
        "dicom_endpoints": {"hosts": endpoints},
    }}})
