# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile peers of issue 9 (defects 7 and 8): the engine and DCMTK's echoscu on the same bytes, at the same time.

The engine-only half, with the bounds, is tests/unit/plugins/module_utils/test_engine_hostile.py; this half shows
that the engine's verdict is echoscu's, so it needs Debian's dcmtk (and fails without it).
"""

from __future__ import annotations

import subprocess
import threading
import time

from ansible_collections.dicom.network.plugins.module_utils._engine import probe
from ansible_collections.dicom.network.plugins.module_utils._request import build_requests
from ansible_collections.dicom.network.tests.peers._proc import tool
from ansible_collections.dicom.network.tests.peers.hostile import EMPTY_P_DATA_EVERY_SECOND, TRICKLE
from ansible_collections.dicom.network.tests.peers.scripted import ScriptedPeer


def echoscu(port, *args):
    """echoscu on the peer: (exit code, whether it logged a successful echo, seconds)."""
    started = time.monotonic()
    done = subprocess.run([tool("echoscu"), "-v", *map(str, args), "127.0.0.1", str(port)], capture_output=True, text=True,
                          timeout=120, check=False)
    succeeded = "I: Received Echo Response (Success)" in done.stderr and "Echo Failed" not in done.stderr
    return done.returncode, succeeded, time.monotonic() - started


def both(peer_script, our_params, echoscu_args):
    """Our result and echoscu's, run at the same time against the same bytes."""
    with ScriptedPeer(lambda _called_aet: peer_script) as peer:
        theirs = {}
        thread = threading.Thread(target=lambda: theirs.update(result=echoscu(peer.port, *echoscu_args)))
        thread.start()
        result = probe(build_requests(dict(host="127.0.0.1", port=peer.port, **our_params))[0])
        thread.join(150)
    return result, theirs["result"]


def test_a_steady_trickle_succeeds_with_both():
    result, (code, succeeded, _seconds) = both(TRICKLE, {"socket_timeout": 1}, ["-ts", 1])
    assert (code, succeeded) == (0, True)
    assert result["outcome"] == "success", result["msg"]


def test_an_empty_p_data_tf_every_second_fails_both_at_the_first():
    result, (code, succeeded, seconds) = both(EMPTY_P_DATA_EVERY_SECOND, {}, [])
    assert (code, succeeded) == (70, False) and seconds < 5
    assert (result["outcome"], result["echoscu_exit_code"]) == ("protocol_error", 70)
