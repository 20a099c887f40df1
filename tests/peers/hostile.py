"""Hostile answers of issue 9 as Scripts for tests/peers/scripted.py, shared by the engine tests and the load test.

All of them answer an A-ASSOCIATE-RQ for one Verification context (ID 1, Implicit VR Little Endian) and a C-ECHO-RQ
with message ID 1, whoever the requestor is. Built with tests/peers/dul.py, never with the code under test.
"""

from __future__ import annotations

import struct

from . import dul
from .scripted import Play, Script

AC = dul.associate_ac(dul.AssociateRQ(called_ae="ANY-SCP", calling_ae="ECHOSCU", protocol_version=1, raw_called_ae=b"ANY-SCP".ljust(16),
                                      raw_calling_ae=b"ECHOSCU".ljust(16)), [(1, dul.PC_ACCEPTANCE, dul.IMPLICIT_VR_LE)])
RSP = dul.p_data([(1, dul.PDV_COMMAND | dul.PDV_LAST, dul.echo_rsp_command(1, 0))])
RP = dul.RELEASE_RP_PDU


def script(assoc=None, echo=None, release=None):
    """A correct exchange, but for the steps given."""
    return Script(assoc or Play([(0.0, AC)]), echo or Play([(0.0, RSP)]), release or Play([(0.0, RP)], then="close"))


def trickle(data, gap, then="wait"):
    """``data`` one byte every ``gap`` seconds."""
    return Play([(gap, data[index:index + 1]) for index in range(len(data))], then=then)


# every message one byte every 15 ms (about 4 s in all): within each wait of socket_timeout 1, echoscu -ts 1 succeeds
TRICKLE_GAP = 0.015
TRICKLE = script(trickle(AC, TRICKLE_GAP), trickle(RSP, TRICKLE_GAP), trickle(RP, TRICKLE_GAP, then="close"))
# an empty P-DATA-TF every second instead of the C-ECHO-RSP: echoscu fails at the first ("PDU without any PDVs")
EMPTY_P_DATA_EVERY_SECOND = script(echo=Play([], then="hold", interval=1.0, stream=dul.pdu(dul.P_DATA_TF, b""), duration=15))


def never_ending(duration=15.0):
    """Command fragments every 0.1 s instead of the C-ECHO-RSP, never the last one."""
    return script(echo=Play([], then="hold", interval=0.1, stream=dul.p_data([(1, dul.PDV_COMMAND, b"\0\0")]), duration=duration))


# answers no requestor should read whole: refused from the PDU header
EMPTY_PDVS = script(echo=Play([(0.0, dul.pdu(dul.P_DATA_TF, struct.pack(">IBB", 2, 1, 1) * 699050))], then="close"))  # 4 MiB
ITEMS = script(assoc=Play([(0.0, dul.pdu(dul.A_ASSOCIATE_AC, AC[6:] + b"\x77\0\0\0" * 500000))], then="close"))       # 2 MB
GIGABYTE = script(echo=Play([(0.0, struct.pack(">BBI", dul.P_DATA_TF, 0, 1 << 30) + bytes(1 << 16))], then="close"))


def distinct_ac(number):
    """A valid AC of about 60 KiB, different for each number: accepted, and too large for the AC decode cache."""
    padding = struct.pack(">BBH", 0x77, 0, 60000) + number.to_bytes(4, "big") * 15000
    return script(assoc=Play([(0.0, dul.pdu(dul.A_ASSOCIATE_AC, AC[6:] + padding))]))


def distinct_4m(number):
    """A C-ECHO-RSP of 4 MiB, different for each number (refused from its header)."""
    answer = struct.pack(">BBI", dul.P_DATA_TF, 0, 4 << 20) + number.to_bytes(4, "big") * (1 << 20)
    return script(echo=Play([(0.0, answer)], then="close"))
