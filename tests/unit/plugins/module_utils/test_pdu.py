# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The codec layer's caches must not change what is decoded."""

from __future__ import annotations

import pytest

from ansible_collections.dicom.network.plugins.module_utils import _pdu
from ansible_collections.dicom.network.tests.peers import dul


def _ac(called, calling, syntax="1.2.840.10008.1.2.1", result=0, max_pdu=16384):
    rq = dul.parse_associate_rq(_pdu.associate_rq(calling, called, (("1.2.840.10008.1.1", ("1.2.840.10008.1.2", syntax)),), 16384)[6:])
    return dul.associate_ac(rq, [(1, result, syntax)], max_pdu=max_pdu)


def test_ac_decode_ignores_the_echoed_ae_titles_and_nothing_else():
    first = _pdu.parse_associate_ac(_ac("ARCHIVE", "ECHOSCU"))
    other_titles = _pdu.parse_associate_ac(_ac("ROUTER", "ME"))
    assert first == other_titles
    assert first["contexts"] == {1: (0, "1.2.840.10008.1.2.1")} and first["max_pdu"] == 16384
    different = _pdu.parse_associate_ac(_ac("ARCHIVE", "ECHOSCU", syntax="1.2.840.10008.1.2", max_pdu=32768))
    assert different["contexts"] == {1: (0, "1.2.840.10008.1.2")} and different["max_pdu"] == 32768


def test_malformed_ac_is_a_protocol_error_every_time():
    broken = _ac("ARCHIVE", "ECHOSCU")[:80]
    for _attempt in range(2):  # a failure is not cached as a result
        with pytest.raises(_pdu.ProtocolError, match="malformed A-ASSOCIATE-AC"):
            _pdu.parse_associate_ac(broken)


def test_command_decode_is_by_content():
    ok = dul.echo_rsp_command(1, 0)
    status = dul.echo_rsp_command(1, 0x0110)
    assert _pdu.decode_command(ok)["Status"] == 0
    assert _pdu.decode_command(status)["Status"] == 0x0110
    assert _pdu.decode_command(dul.echo_rsp_command(7, 0))["MessageIDBeingRespondedTo"] == 7
