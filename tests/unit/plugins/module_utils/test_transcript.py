# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""echoscu's texts: rejection tables (docs/dev/echoscu-behaviour.md 3), Max Send PDV, level filter."""

from __future__ import annotations

import pytest

from ansible_collections.dicom.network.plugins.module_utils._transcript import Transcript, max_send_pdv, rejection_texts


@pytest.mark.parametrize("values, texts, errors", [
    ((1, 1, 1), ("Rejected Permanent", "Service User", "No Reason"), []),
    ((2, 1, 1), ("Rejected Transient", "Service User", "No Reason"), []),
    ((1, 1, 2), ("Rejected Permanent", "Service User", "App Context Name Not Supported"), []),
    ((1, 1, 3), ("Rejected Permanent", "Service User", "Calling AE Title Not Recognized"), []),
    ((1, 1, 7), ("Rejected Permanent", "Service User", "Called AE Title Not Recognized"), []),
    ((1, 2, 2), ("Rejected Permanent", "Service Provider (ACSE Related)", "Protocol Version Not Supported"), []),
    ((1, 3, 1), ("Rejected Permanent", "Service Provider (Presentation Related)", "Temporary Congestion"), []),
    ((2, 3, 2), ("Rejected Transient", "Service Provider (Presentation Related)", "Local Limit Exceeded"), []),
    ((3, 1, 1), ("Rejected Permanent", "Service User", "No Reason"),
     ["Received invalid A-ASSOCIATE-RJ reject result 0x0003, using default."]),
    ((1, 4, 1), ("Rejected Permanent", "Service User", "No Reason"),
     ["Received invalid A-ASSOCIATE-RJ reject source 0x0004, using default.",
      "Received invalid A-ASSOCIATE-RJ reject reason 0x0401, using default."]),
    ((1, 3, 7), ("Rejected Permanent", "Service Provider (Presentation Related)", "No Reason"),
     ["Received invalid A-ASSOCIATE-RJ reject reason 0x0307, using default."]),
])
def test_rejection_texts_match_echoscu(values, texts, errors):
    result, source, reason, lines = rejection_texts(*values)
    assert (result, source, reason) == texts
    assert lines == errors


@pytest.mark.parametrize("peer, pdv", [(16384, 16372), (16382, 16370), (0, 131060), (262144, 131060), (4097, 4084)])
def test_max_send_pdv(peer, pdv):
    assert max_send_pdv(peer) == pdv


def test_level_filter_and_prefixes():
    log = Transcript("info")
    log.add("debug", "hidden")
    log.add("info", "Requesting Association")
    log.add("fatal", "Association Rejected:\nResult: Rejected Permanent, Source: Service User")
    assert log.lines == ["I: Requesting Association", "F: Association Rejected:", "F: Result: Rejected Permanent, Source: Service User"]
    assert not log.enabled("debug") and log.enabled("warn")


def test_a_sink_gets_every_level_while_lines_keep_the_threshold():
    seen = []
    log = Transcript("warn", sink=lambda level, text: seen.append((level, text)))
    assert log.enabled("debug")
    log.add("debug", "dump line 1\ndump line 2")
    log.add("error", "bad")
    assert log.lines == ["E: bad"]
    assert seen == [("debug", "dump line 1"), ("debug", "dump line 2"), ("error", "bad")]


@pytest.mark.parametrize("level, prefix", [("fatal", "F: "), ("error", "E: "), ("warn", "W: "), ("info", "I: "), ("debug", "D: "), ("trace", "T: ")])
def test_every_level_has_echoscus_prefix(level, prefix):
    log = Transcript("trace")
    log.add(level, "line")
    assert log.lines == [prefix + "line"]
    assert Transcript().enabled("warn") and not Transcript().enabled("info"), "the default level is log_level's"
