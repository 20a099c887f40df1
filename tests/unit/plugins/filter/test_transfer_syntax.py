# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ts_name and ts_uid filters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader

from ansible_collections.dicom.network.plugins.filter.transfer_syntax import ts_name, ts_uid
from ansible_collections.dicom.network.plugins.module_utils import _negotiation
from ansible_collections.dicom.network.plugins.module_utils._request import RequestError
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import ECHOSCU_TRANSFER_SYNTAXES, TRANSFER_SYNTAX_NAMES
from ansible_collections.dicom.network.plugins.plugin_utils import _report_inputs, _reports

J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"


def test_the_filters_load_by_their_fqcn():
    assert filter_loader.get("dicom.network.ts_name") is not None
    assert filter_loader.get("dicom.network.ts_uid") is not None


@pytest.mark.parametrize("uid, style, name", [
    (J2K_LOSSLESS, "name", "JPEG 2000 Image Compression (Lossless Only)"),
    (J2K_LOSSLESS, "keyword", "JPEG2000Lossless"),
    (J2K_LOSSLESS, "dcmtk", "JPEG2000LosslessOnly"),
    ("1.2.840.10008.1.2", "name", "Implicit VR Little Endian"),
    ("1.2.840.10008.1.2.4.201", "name", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"),
    ("1.2.840.10008.1.2.4.110", "name", "JPEG XL Lossless"),          # not in pydicom 3.0's dictionary
    ("1.2.840.10008.1.2.8.1", "name", "Deflated Image Frame Compression"),
    ("1.2.840.10008.5.1.4.1.1.2", "name", "CT Image Storage"),
    ("1.2.3.4.5", "name", "1.2.3.4.5"),                               # unknown: unchanged
    (" 1.2.840.10008.1.2.1 ", "keyword", "ExplicitVRLittleEndian"),
])
def test_ts_name(uid, style, name):
    assert ts_name(uid, style) == name


def test_ts_name_lists_and_null():
    assert ts_name(["1.2.840.10008.1.2", J2K_LOSSLESS]) == ["Implicit VR Little Endian", "JPEG 2000 Image Compression (Lossless Only)"]
    assert ts_name(None) is None
    with pytest.raises(AnsibleFilterError, match="style must be one of name, keyword, dcmtk"):
        ts_name(J2K_LOSSLESS, "short")
    with pytest.raises(AnsibleFilterError, match="expects a string or a list of strings, got a number"):
        ts_name(5)


def test_every_echoscu_syntax_has_a_name_and_round_trips():
    for uid, dcmtk, keyword in ECHOSCU_TRANSFER_SYNTAXES:
        name = ts_name(uid)
        assert name != uid
        assert ts_uid(name) == ts_uid(keyword) == ts_uid(dcmtk) == uid
        assert ts_name(uid, "keyword") == keyword and ts_name(uid, "dcmtk") == dcmtk


@pytest.mark.parametrize("text, uid", [
    ("JPEG2000Lossless", J2K_LOSSLESS),
    ("JPEG 2000 Image Compression (Lossless Only)", J2K_LOSSLESS),
    ("JPEG2000LosslessOnly", J2K_LOSSLESS),
    ("explicit vr little endian", "1.2.840.10008.1.2.1"),
    ("HTJ2K", "1.2.840.10008.1.2.4.203"),
    (J2K_LOSSLESS, J2K_LOSSLESS),
    ("CTImageStorage", "1.2.840.10008.5.1.4.1.1.2"),
])
def test_ts_uid(text, uid):
    assert ts_uid(text) == uid


def test_ts_uid_refusals_and_lenience():
    with pytest.raises(AnsibleFilterError, match="'JPEG2000Losless' is neither a UID nor a known DICOM keyword or name; did you mean JPEG2000Lossless"):
        ts_uid("JPEG2000Losless")
    assert ts_uid("JPEG2000Losless", strict=False) == "JPEG2000Losless"
    assert ts_uid(["HTJ2KLossless", "nonsense"], strict=False) == ["1.2.840.10008.1.2.4.201", "nonsense"]


# ---- a controller without pydicom -------------------------------------------------------------------------------

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture
def without_pydicom(monkeypatch):
    """This Python as if pydicom were not installed: the import fails, and the UID index is built again without it."""
    monkeypatch.setitem(sys.modules, "pydicom", None)
    monkeypatch.setitem(sys.modules, "pydicom.uid", None)
    # Both restored afterwards by monkeypatch: the index and the reason it was built without pydicom belong together.
    monkeypatch.setattr(_negotiation, "_INDEX", None)
    monkeypatch.setattr(_negotiation, "_PYDICOM_ERROR", None)
    yield


def test_pydicom_is_there_for_the_other_tests():
    assert _negotiation.pydicom_missing() is None


def test_without_pydicom_every_echoscu_syntax_still_has_its_dicom_name(without_pydicom):
    assert _negotiation.pydicom_missing().startswith("this Python (%s) cannot import it (" % sys.executable)
    assert ts_name("1.2.840.10008.1.2.1") == "Explicit VR Little Endian"
    assert ts_name(J2K_LOSSLESS) == "JPEG 2000 Image Compression (Lossless Only)"
    for uid, dcmtk, keyword in ECHOSCU_TRANSFER_SYNTAXES:
        assert ts_name(uid) == TRANSFER_SYNTAX_NAMES[uid]  # the DICOM name, not the keyword
        assert ts_name(uid, "keyword") == keyword and ts_name(uid, "dcmtk") == dcmtk
        assert ts_uid(TRANSFER_SYNTAX_NAMES[uid]) == ts_uid(keyword) == ts_uid(dcmtk) == uid
    assert ts_name("1.2.840.10008.1.1") == "Verification SOP Class"
    assert ts_name(CT) == CT  # a SOP class has no name without pydicom's dictionary: the UID comes back


def test_without_pydicom_a_sop_class_name_says_it_needs_pydicom_and_that_uids_work(without_pydicom):
    with pytest.raises(AnsibleFilterError) as info:
        ts_uid("CTImageStorage")
    text = str(info.value)
    assert "neither a UID nor a known" not in text
    assert "'CTImageStorage' is not a name known without pydicom: resolving SOP class names and keywords" in text
    assert "needs pydicom on the controller, and this Python (%s) cannot import it" % sys.executable in text
    assert "give the UID: UIDs work without pydicom" in text
    assert ts_uid(CT) == CT  # and they do
    with pytest.raises(AnsibleFilterError, match="did you mean JPEG2000Lossless"):
        ts_uid("JPEG2000Losless")
    with pytest.raises(RequestError, match="abstract_syntax: 'CTImageStorage' is not a name known without pydicom: resolving SOP class "
                                           "names and keywords needs pydicom on the controller"):
        _negotiation.resolve_uid("CTImageStorage", "abstract", "abstract_syntax")


def test_without_pydicom_the_reports_say_why_an_expected_syntax_is_unknown(without_pydicom):
    assert _reports.transfer_syntax_uid("Explicit VR Little Endian") == "1.2.840.10008.1.2.1"
    with pytest.raises(_reports.ReportError, match="unknown transfer syntax 'JPIPReferenced' in expect_transfer_syntaxes .*; names beyond "
                                                   "echoscu's 53 transfer syntaxes need pydicom on the controller, and this Python"):
        _report_inputs.echo_endpoints([{"host": "h", "expect_transfer_syntaxes": ["ExplicitVRLittleEndian", "JPIPReferenced"]}])


def test_a_fresh_python_without_pydicom():
    """The same in a new interpreter, where nothing was imported with pydicom before."""
    # the directory holding ansible_collections/: five levels above plugins/module_utils/_negotiation.py
    root = os.path.abspath(os.path.join(os.path.dirname(_negotiation.__file__), *[os.pardir] * 5))
    assert os.path.isdir(os.path.join(root, "ansible_collections", "dicom", "network"))
    script = (
        "import sys, json; sys.modules['pydicom'] = None\n"
        "from ansible_collections.dicom.network.plugins.filter.transfer_syntax import ts_name, ts_uid\n"
        "out = {'name': ts_name('1.2.840.10008.1.2.4.50'), 'uid': ts_uid('JPEG Baseline (Process 1)')}\n"
        "try:\n    ts_uid('CTImageStorage')\nexcept Exception as exc:\n    out['error'] = str(exc)\n"
        "out['pydicom'] = 'pydicom' in sys.modules and sys.modules['pydicom'] is not None\n"
        "print(json.dumps(out))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + [entry for entry in sys.path if entry]))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["name"] == "JPEG Baseline (Process 1)" and out["uid"] == "1.2.840.10008.1.2.4.50" and not out["pydicom"]
    assert "resolving SOP class names and keywords" in out["error"] and "UIDs work without pydicom" in out["error"]


def test_a_name_resolves_the_same_every_time():
    """A name matched case-insensitively once must still match the second time (the index is not consumed)."""
    assert [ts_uid("explicit vr little endian") for _attempt in range(3)] == ["1.2.840.10008.1.2.1"] * 3
    assert _reports.transfer_syntax_uid("explicit vr little endian") == "1.2.840.10008.1.2.1"
