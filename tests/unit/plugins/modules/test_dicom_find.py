# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dicom_find as Ansible runs it: refusal before traffic, the result shape, batches."""

from __future__ import annotations

import json
import socket

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.dicom.network.plugins.modules import dicom_find
from ansible_collections.dicom.network.tests.peers.find_scp import PATIENT_VALUES, FindPeer


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as info:
            dicom_find.main()
    return info.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("args, text", [
    ({"host": "127.0.0.1", "called_aet": "A\\B"}, "called_aet"),
    ({"host": "127.0.0.1", "query_model": "patient"}, "query_model"),
    ({"endpoints": [{"host": "127.0.0.1", "propose_ts": 3}]}, "endpoints[0].propose_ts is not an endpoint option"),
    ({"host": "127.0.0.1", "endpoints": [{"host": "127.0.0.1"}]}, "mutually exclusive"),
])
def test_bad_input_fails_before_any_socket(capsys, monkeypatch, args, text):
    def no_network(*_args, **_kwargs):
        raise AssertionError("a socket was opened for invalid input")

    monkeypatch.setattr(socket, "socket", no_network)
    code, result = run_module(capsys, args)
    assert code == 1 and result["failed"] is True and text in result["msg"]


def test_one_query_has_no_echo_keys_and_no_values(capsys):
    with FindPeer("leaky", matches=2) as peer:
        code, result = run_module(capsys, {"host": peer.host, "port": peer.port, "called_aet": "FINDSCP", "_ansible_check_mode": True})
    assert code == 0 and result["changed"] is False and result["outcome"] == "success"
    assert result["query"]["matches"] == 2
    assert not {"echoes", "rtt_ms", "echoscu_exit_code", "checked_at"} & set(result)
    assert not any(value in json.dumps(result) for value in PATIENT_VALUES.values())


def test_batch_fails_when_one_endpoint_fails_and_reports_all(capsys):
    with FindPeer("normal") as good, FindPeer("status", status=0xC000) as bad:
        code, result = run_module(capsys, {"endpoints": [{"host": good.host, "port": good.port, "name": "good"},
                                                         {"host": bad.host, "port": bad.port, "name": "bad", "query_model": "worklist"}]})
    assert code == 1 and result["summary"] == {"total": 2, "succeeded": 1, "failed": 1, "outcomes": {"success": 1, "find_status": 1}}
    assert [entry["name"] for entry in result["results"]] == ["good", "bad"]
    assert result["results"][1]["query"]["status"] == 0xC000 and result["results"][1]["query"]["model"] == "worklist"


def test_entry_passwords_never_reach_the_result(capsys):
    code, result = run_module(capsys, {"endpoints": [{"host": "127.0.0.1", "tls": True, "private_key": "/nonexistent/key.pem",
                                                      "certificate": "/nonexistent/cert.pem", "private_key_password": "hunter2-find"}]})
    assert code == 1 and result["outcome"] == "invalid_input"
    assert "hunter2-find" not in json.dumps(result)


def test_a_batch_without_pydicom_says_so_for_every_endpoint(capsys, monkeypatch):
    """What a probe host without pydicom returns (tests/package/package-test.sh runs it on a Python without any package)."""
    from ansible_collections.dicom.network.plugins.module_utils import _find

    monkeypatch.setattr(_find, "preload", lambda: "pydicom is needed for a C-FIND query and cannot be imported on this host (test)")
    code, result = run_module(capsys, {"endpoints": [{"host": "127.0.0.1", "name": "a"}, {"host": "127.0.0.2", "name": "b"}]})
    assert code == 1 and result["summary"]["outcomes"] == {"invalid_input": 2}
    assert [entry["name"] for entry in result["results"]] == ["a", "b"]
    assert all(entry["reason"].startswith("not queried: pydicom is needed") and not entry["association"]["established"]
               for entry in result["results"])
    code, single = run_module(capsys, {"host": "127.0.0.1"})
    assert code == 1 and "pydicom" in single["msg"] and "results" not in single
