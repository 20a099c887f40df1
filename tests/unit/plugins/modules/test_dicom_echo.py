# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module as Ansible runs it: argument parsing, refusal before traffic, result shape."""

from __future__ import annotations

import json
import socket

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.dicom.network.plugins.modules import dicom_echo


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
    assert "checked_at" not in result


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


class _Syslog:
    """Records what AnsibleModule would send to syslog/journald."""

    def __init__(self, monkeypatch):
        self.lines = []
        monkeypatch.setattr(dicom_echo.AnsibleModule, "log", lambda module, msg, log_args=None: self.lines.append((msg, log_args)))

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
