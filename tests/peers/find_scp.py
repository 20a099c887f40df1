"""C-FIND acceptors that misbehave in ways no real archive can be configured to: pynetdicom Q/R SCPs.

    with FindPeer("leaky", matches=3) as peer:
        run_find(host=peer.host, port=peer.port)

pynetdicom (a test requirement, the reference implementation of tests/) serves Study Root and
Modality Worklist C-FIND and Verification on loopback, in its own threads. Any called and calling
AE title is accepted. Modes:

    leaky     every query, whatever its keys, gets `matches` pending responses carrying patient-level
              values (PATIENT_VALUES), then Success: a peer that ignores the keys and leaks data
    flood     pending responses with patient-level values until the requestor gives up
    status    the final response has status `status` (e.g. 0xC000, 0xA700), no match
    slow      Success with no match after `delay` seconds
    normal    Success with no match

The reports of the checks must never contain PATIENT_VALUES: the integration tests grep for them.

CLI (for shell tests, like faulty.py):
    python -m tests.peers.find_scp MODE [--port P] [--lifetime S] [key=value ...]
prints one JSON line {"mode", "host", "port", "pid"} once listening.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

MODES = ("leaky", "flood", "status", "slow", "normal")
DEFAULTS = {"matches": 3, "status": 0xC000, "delay": 8.0}
# Values a leaky peer puts into every match: none of them may ever appear in a result or a report.
PATIENT_VALUES = {"PatientName": "LEAKY^SECRET^PATIENT", "PatientID": "SECRET-ID-4711", "PatientBirthDate": "19230405",
                  "AccessionNumber": "SECRETACC0815"}

STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
VERIFICATION = "1.2.840.10008.1.1"


class FindPeer:
    """A pynetdicom C-FIND SCP in one `mode` on 127.0.0.1; `queries` counts the C-FIND requests it got."""

    def __init__(self, mode, port=0, **options):
        if mode not in MODES:
            raise ValueError("unknown mode %r; known: %s" % (mode, ", ".join(MODES)))
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise ValueError("unknown option(s) %s; known: %s" % (", ".join(sorted(unknown)), ", ".join(sorted(DEFAULTS))))
        self.mode = mode
        self.options = dict(DEFAULTS, **options)
        self.host = "127.0.0.1"
        self.port = port
        self.queries = 0
        self.server = None

    def _identifier(self, query):
        from pydicom.dataset import Dataset  # pylint: disable=import-outside-toplevel

        match = Dataset()
        for keyword in query.dir():
            setattr(match, keyword, getattr(query, keyword))
        for keyword, value in PATIENT_VALUES.items():
            setattr(match, keyword, value)
        if "QueryRetrieveLevel" in query:
            match.QueryRetrieveLevel = query.QueryRetrieveLevel
        return match

    def _on_find(self, event):
        self.queries += 1
        query = event.identifier
        mode, opt = self.mode, self.options
        if mode == "status":
            yield opt["status"], None
            return
        if mode == "slow":
            time.sleep(opt["delay"])
        count = opt["matches"] if mode == "leaky" else (10 ** 9 if mode == "flood" else 0)
        for _index in range(count):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, self._identifier(query)
        yield 0x0000, None

    def start(self):
        from pynetdicom import AE, evt  # pylint: disable=import-outside-toplevel

        logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)
        ae = AE(ae_title="FINDSCP")
        ae.require_called_aet = False
        ae.require_calling_aet = []
        ae.maximum_associations = 64
        ae.network_timeout = 30
        ae.dimse_timeout = 30
        for sop_class in (STUDY_ROOT_FIND, MODALITY_WORKLIST_FIND, VERIFICATION):
            ae.add_supported_context(sop_class, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
        self.server = ae.start_server((self.host, self.port), block=False, evt_handlers=[(evt.EVT_C_FIND, self._on_find)])
        self.port = self.server.server_address[1]
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _parse_options(pairs):
    options = {}
    for pair in pairs:
        key, _sep, value = pair.partition("=")
        options[key] = int(value, 0) if value.lower().startswith("0x") or value.isdigit() else float(value)
    return options


def main(argv=None):
    parser = argparse.ArgumentParser(description="pynetdicom C-FIND SCP for tests", epilog="modes: " + ", ".join(MODES))
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--lifetime", type=float, default=1800.0)
    parser.add_argument("options", nargs="*", help="key=value: " + ", ".join(sorted(DEFAULTS)))
    args = parser.parse_args(argv)
    signal.alarm(int(args.lifetime) + 30)  # backstop
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    peer = FindPeer(args.mode, port=args.port, **_parse_options(args.options)).start()
    print(json.dumps({"mode": args.mode, "host": peer.host, "port": peer.port, "pid": os.getpid()}), flush=True)
    try:
        done.wait(args.lifetime)
    finally:
        peer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
