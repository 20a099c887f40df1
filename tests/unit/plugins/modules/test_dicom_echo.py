# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module as Ansible runs it: argument parsing, refusal before traffic, result shape."""

from __future__ import annotations

import json
import socket

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.dicom.network.plugins.module_utils import _tls_crypto
from ansible_collections.dicom.network.plugins.modules import dicom_echo
from ansible_collections.dicom.network.tests.peers.faulty import FaultyPeer


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as info:
            dicom_echo.main()
    return info.value.code, json.loads(capsys.readouterr().out)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_bad_ae_title_fails_before_any_socket(capsys, monkeypatch):
    def no_network(*_args, **_kwargs):
        raise AssertionError("a socket was opened for invalid input")

    monkeypatch.setattr(socket, "socket", no_network)
    code, result = run_module(capsys, {"host": "127.0.0.1", "called_aet": "A\\B"})
    assert code == 1 and result["failed"] is True
    assert result["outcome"] == "invalid_input" and result["echoscu_exit_code"] == 1
    assert "called_aet" in result["msg"] and "backslash" in result["msg"]


def test_ansible_type_errors_name_the_option(capsys):
    code, result = run_module(capsys, {"host": "127.0.0.1", "port": "not-a-port"})
    assert code == 1 and "port" in result["msg"]


def test_closed_port_is_classified_with_facts(capsys):
    port = closed_port()
    code, result = run_module(capsys, {"host": "127.0.0.1", "port": port, "log_level": "info", "_ansible_check_mode": True})
    assert code == 1 and result["failed"] is True and result["changed"] is False
    assert result["outcome"] == "connection_refused" and result["echoscu_exit_code"] == 1
    assert result["log"] == ["I: Requesting Association",
                             "F: Association Request Failed: 0006:031c TCP Initialization Error: Connection refused"]
    facts = result["ansible_facts"]["dicom_echo"]
    assert facts["outcome"] == "connection_refused" and facts["checked_at"].endswith("Z")
    assert result["checked_at"] == facts["checked_at"]


def test_batch_reports_every_endpoint_in_order(capsys):
    ports = [closed_port(), closed_port()]
    endpoints = [{"host": "127.0.0.1", "port": ports[0], "name": "first"},
                 {"host": "no-such-host.invalid", "port": ports[1]}]
    code, result = run_module(capsys, {"endpoints": endpoints, "concurrency": 2})
    assert code == 1 and result["failed"] is True
    assert [r["name"] for r in result["results"]] == ["first", "ANY-SCP@no-such-host.invalid:%d" % ports[1]]
    assert [r["outcome"] for r in result["results"]] == ["connection_refused", "dns_error"]
    assert result["summary"] == {"total": 2, "succeeded": 0, "failed": 2, "outcomes": {"connection_refused": 1, "dns_error": 1}}
    assert set(result["ansible_facts"]["dicom_echo"]) == {"first", "ANY-SCP@no-such-host.invalid:%d" % ports[1]}


def test_facts_can_be_left_out(capsys):
    code, result = run_module(capsys, {"endpoints": [{"host": "127.0.0.1", "port": closed_port()}], "facts": False})
    assert code == 1 and "ansible_facts" not in result
    assert result["results"][0]["outcome"] == "connection_refused"
    code, single = run_module(capsys, {"host": "127.0.0.1", "port": closed_port(), "facts": False})
    assert code == 1 and "ansible_facts" not in single and single["outcome"] == "connection_refused"


# ---- result_detail ------------------------------------------------------------------------------

REPORT_ASSOCIATION_KEYS = {"established", "rejection", "abort", "peer_max_pdu", "peer_implementation_class_uid",
                           "peer_implementation_version_name"}
COMPACT_KEYS = {"name", "success", "msg", "outcome", "reason", "echoscu_exit_code", "endpoint", "rtt_ms", "echoes", "timing_ms",
                "timing_source", "accepted_transfer_syntaxes", "checked_at", "association", "tls"}


def fleet(normal, rejecting):
    return [{"name": "ok", "host": "127.0.0.1", "port": normal.port, "repeat": 3},
            {"name": "rejected", "host": "127.0.0.1", "port": rejecting.port},
            {"name": "closed", "host": "127.0.0.1", "port": closed_port()}]


def test_compact_batch_keeps_what_the_reports_use(capsys):
    with FaultyPeer("normal") as normal, FaultyPeer("reject") as rejecting:
        endpoints = fleet(normal, rejecting)
        code, full = run_module(capsys, {"endpoints": endpoints, "facts": False})
        code_compact, compact = run_module(capsys, {"endpoints": endpoints, "facts": False, "result_detail": "compact"})
    assert code == code_compact == 1, "a batch with a rejected and a refused endpoint must fail in both modes"
    assert compact["summary"] == full["summary"]
    assert [r["outcome"] for r in compact["results"]] == ["success", "association_rejected", "connection_refused"]
    for small, big in zip(compact["results"], full["results"]):
        name = big["name"]
        assert set(small) == COMPACT_KEYS, "%s: compact keys %s" % (name, sorted(small))
        assert "presentation_contexts" in big and "log" in big, "%s: the full result lost keys: %s" % (name, sorted(big))
        for key in ("name", "outcome", "echoscu_exit_code", "endpoint", "accepted_transfer_syntaxes"):
            assert small[key] == big[key], "%s: %s differs between compact and full" % (name, key)
        assert set(small["association"]) == REPORT_ASSOCIATION_KEYS, "%s: association %s" % (name, small["association"])
        assert small["checked_at"].endswith("Z") and small["tls"] is None
        assert len(small["echoes"]) == len(big["echoes"]), "%s: compact must keep every round-trip sample" % name
    ok, rejected = compact["results"][0], compact["results"][1]
    # each sample as status and round trip: message_id is its position + 1, status_text its status's name
    assert [set(echo) for echo in ok["echoes"]] == [{"status", "rtt_ms"}] * 3
    assert [echo["status"] for echo in ok["echoes"]] == [0, 0, 0] and all(echo["rtt_ms"] > 0 for echo in ok["echoes"])
    assert ok["rtt_ms"]["min"] == min(echo["rtt_ms"] for echo in ok["echoes"])
    assert ok["association"]["peer_implementation_class_uid"], "the peer's implementation class UID is kept"
    assert rejected["association"]["rejection"]["result"] == 1, "pacs_verify's retry decision reads the rejection result"


def test_compact_result_is_a_projection_of_the_full_one(capsys):
    with FaultyPeer("normal") as normal, FaultyPeer("reject") as rejecting:
        _code, full = run_module(capsys, {"endpoints": fleet(normal, rejecting), "facts": False, "log_level": "debug"})
    for big in full["results"]:
        small = dicom_echo.compact_result(big, "warn")
        assert "log" not in small and "presentation_contexts" not in small
        for key in COMPACT_KEYS - {"association", "tls", "echoes"}:
            assert small[key] == big[key], "%s: %s is not the full result's" % (big["name"], key)
        assert small["echoes"] == [{"status": echo["status"], "rtt_ms": echo["rtt_ms"]} for echo in big["echoes"]]
        assert small["association"] == {key: big["association"][key] for key in REPORT_ASSOCIATION_KEYS}
        assert dicom_echo.compact_result(big, "debug")["log"] == big["log"] and big["log"], "log_level debug asked for the transcript"
    assert "presentation_contexts" in full["results"][0], "compact_result must not change the full result"


def test_compact_tls_keeps_the_certificate_the_reports_read():
    certificate = {"subject": "CN=pacs", "issuer": "CN=ca", "serial": "0A", "not_before": "2026-01-01T00:00:00Z",
                   "not_after": "2027-01-01T00:00:00Z", "days_remaining": 300, "sha256_fingerprint": "AA:BB", "key_type": "RSA",
                   "key_bits": 2048, "signature_algorithm": "sha256", "self_signed": False}
    full = {"outcome": "success", "tls": {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "cipher_iana": "TLS_AES_256_GCM_SHA384",
                                          "encryption_bits": 256, "profile": "8996", "sni": None, "client_certificate": False,
                                          "peer_verified": True, "peer_certificate": certificate}}
    tls = dicom_echo.compact_result(full, "warn")["tls"]
    assert set(tls) == {"version", "cipher", "peer_certificate"}
    assert set(tls["peer_certificate"]) == set(certificate) - {"signature_algorithm", "self_signed"}
    assert tls["peer_certificate"]["days_remaining"] == 300 and tls["peer_certificate"]["sha256_fingerprint"] == "AA:BB"
    full["tls"]["peer_certificate"] = None
    assert dicom_echo.compact_result(full, "warn")["tls"]["peer_certificate"] is None


def test_compact_single_probe_keeps_the_log_when_asked(capsys):
    with FaultyPeer("normal") as normal:
        code, quiet = run_module(capsys, {"host": "127.0.0.1", "port": normal.port, "result_detail": "compact"})
        code_info, chatty = run_module(capsys, {"host": "127.0.0.1", "port": normal.port, "result_detail": "compact", "log_level": "info"})
    assert code == code_info == 0 and quiet["success"] and chatty["success"]
    assert "log" not in quiet and "presentation_contexts" not in quiet and quiet["changed"] is False
    assert chatty["log"][0] == "I: Requesting Association", chatty["log"]
    assert quiet["ansible_facts"]["dicom_echo"]["outcome"] == "success", "facts are independent of result_detail"


def test_result_detail_is_validated(capsys):
    code, result = run_module(capsys, {"host": "127.0.0.1", "result_detail": "tiny"})
    assert code == 1 and "result_detail" in result["msg"], result["msg"]


# ---- the batch message ----------------------------------------------------------------------------

def test_batch_message_names_the_first_failed_endpoints(capsys):
    with FaultyPeer("normal") as normal:
        endpoints = [{"name": "up", "host": "127.0.0.1", "port": normal.port}]
        endpoints += [{"name": "down%d" % index, "host": "127.0.0.1", "port": closed_port()} for index in range(7)]
        endpoints.insert(3, {"name": "nowhere", "host": "no-such-host.invalid"})
        code, result = run_module(capsys, {"endpoints": endpoints, "facts": False, "result_detail": "compact"})
    assert code == 1
    assert result["msg"] == ("C-ECHO to 9 endpoints: 1 succeeded, 8 failed (connection_refused: 7, dns_error: 1). "
                             "Failed: down0 (connection_refused), down1 (connection_refused), nowhere (dns_error), "
                             "down2 (connection_refused), down3 (connection_refused) and 3 more (see results)"), result["msg"]


def test_batch_message_when_all_succeed(capsys):
    with FaultyPeer("normal") as normal:
        code, result = run_module(capsys, {"endpoints": [{"host": "127.0.0.1", "port": normal.port}], "facts": False})
    assert code == 0 and result["msg"] == "C-ECHO to 1 endpoints: 1 succeeded, 0 failed", result["msg"]


# ---- what a probe host needs ---------------------------------------------------------------------

def test_tls_without_cryptography_fails_before_traffic_and_names_the_library(capsys, monkeypatch):
    def no_network(*_args, **_kwargs):
        raise AssertionError("a socket was opened although cryptography is missing")

    monkeypatch.setattr(_tls_crypto, "CRYPTOGRAPHY_IMPORT_ERROR", "Traceback ...\nModuleNotFoundError: No module named 'cryptography'")
    monkeypatch.setattr(socket, "socket", no_network)
    code, result = run_module(capsys, {"host": "127.0.0.1", "tls": True})
    assert code == 1 and result["outcome"] == "invalid_input" and result["echoscu_exit_code"] == 1
    assert "Failed to import the required Python library (cryptography)" in result["msg"], result["msg"]
    assert "for tls" in result["msg"], result["msg"]
    code, batch = run_module(capsys, {"endpoints": [{"host": "127.0.0.1"}, {"host": "127.0.0.1", "tls": True}]})
    assert code == 1 and "(cryptography)" in batch["msg"] and "for endpoints[1].tls" in batch["msg"], batch["msg"]
    code, plain = run_module(capsys, {"host": "127.0.0.1", "port": 104, "list_profiles": True})
    assert code == 0 and plain["tls_profiles"], "the offline profile list needs no cryptography"


class _Syslog:
    """Records what AnsibleModule would send to syslog/journald."""

    def __init__(self, monkeypatch):
        self.lines = []
        monkeypatch.setattr(AnsibleModule, "log", lambda module, msg, log_args=None: self.lines.append((msg, log_args)))

    def text(self):
        return json.dumps(self.lines, default=str)


ENTRY_SECRET = "entry-secret-0f3a"
NUMERIC_SECRET = 80_471_123


def _secret_endpoints(port):
    return [{"host": "127.0.0.1", "port": port, "name": "own", "private_key_password": ENTRY_SECRET},
            {"host": "127.0.0.1", "port": port, "name": "numeric", "private_key_password": NUMERIC_SECRET},
            {"host": "127.0.0.1", "port": port, "name": "none"}]


def _assert_masked(result, syslog, logged=True):
    shown = json.dumps(result) + syslog.text()
    assert ENTRY_SECRET not in shown and str(NUMERIC_SECRET) not in shown, shown
    # the entries are there, their passwords replaced: the check above looked where they would be
    entries = result["invocation"]["module_args"]["endpoints"][:3]
    assert [entry.get("private_key_password") for entry in entries] == ["VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"] * 2 + [None], entries
    if logged:
        assert len(syslog.lines) == 1 and syslog.lines[0][0].startswith("Invoked with"), syslog.lines
        assert "endpoints=[{" in syslog.lines[0][0], syslog.lines


def test_entry_passwords_are_masked_in_the_result_and_syslog(capsys, monkeypatch):
    syslog = _Syslog(monkeypatch)
    code, result = run_module(capsys, {"endpoints": _secret_endpoints(closed_port())})
    assert code == 1 and result["summary"]["outcomes"] == {"connection_refused": 3}, result
    _assert_masked(result, syslog)


def test_entry_passwords_are_masked_when_ansibles_own_check_fails(capsys, monkeypatch):
    syslog = _Syslog(monkeypatch)
    code, result = run_module(capsys, {"ip_protocol": "ip4", "endpoints": _secret_endpoints(closed_port())})
    assert code == 1 and "ip_protocol" in result["msg"] and "results" not in result, result
    _assert_masked(result, syslog, logged=False)  # Ansible fails before it logs the invocation


def test_entry_passwords_are_masked_when_an_entry_is_refused(capsys, monkeypatch):
    syslog = _Syslog(monkeypatch)
    endpoints = _secret_endpoints(closed_port()) + [{"host": "127.0.0.1", "private_key_password": ["listed-secret"]}]
    code, result = run_module(capsys, {"endpoints": endpoints})
    assert code == 1 and result["outcome"] == "invalid_input", result
    assert result["msg"].startswith("endpoints[3].private_key_password must be a string, got a list"), result["msg"]
    assert "listed-secret" not in json.dumps(result) + syslog.text()
    _assert_masked(result, syslog)


def test_the_transcript_is_asked_for_above_the_default_level():
    assert dicom_echo.LOG_ASKED == ("info", "debug", "trace")
