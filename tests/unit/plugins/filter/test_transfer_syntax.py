# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ts_name and ts_uid filters."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible.plugins.loader import filter_loader

from ansible_collections.dicom.network.plugins.filter.transfer_syntax import ts_name, ts_uid
from ansible_collections.dicom.network.plugins.module_utils._syntaxes import ECHOSCU_TRANSFER_SYNTAXES

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
