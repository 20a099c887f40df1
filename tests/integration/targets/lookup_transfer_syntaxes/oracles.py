# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The oracles the playbook compares the lookup with, computed before it runs, printed as JSON vars.

* oracle_discover: pynetdicom's own requestor (AE.associate(), nothing of this collection) proposing
  one presentation context per (abstract syntax, transfer syntax), 128 to an association; the
  transfer syntax list is tests/peers' own table, not the collection's.
* oracle_echoscu: DCMTK echoscu 3.6.7 -d with -pts/-ppc, its association dump parsed by
  tests/peers/oracle.py. Only -pts 1..3 number the same syntaxes in 3.6.7 and in the 3.7.0 list the
  lookup follows (docs/dev/echoscu-behaviour.md 1), so only those are compared.

    python oracles.py STATE_DIRS PEER[:ABSTRACT,...|:none] ... > oracles.json

STATE_DIRS: directories (os.pathsep-separated) holding PEER.json with host, port and aet, as
`python -m tests.peers start` writes them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from pynetdicom import AE, build_context

from ansible_collections.dicom.network.tests.peers import oracle

VERIFICATION = "1.2.840.10008.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
ABSTRACT = {"Verification": VERIFICATION, "CTImageStorage": CT}
SYNTAXES = oracle.PTS_LATEST  # 53 UIDs in the 3.7.0 order
ECHOSCU_CASES = ((1, 1), (2, 1), (3, 1), (3, 3), (3, 128))
STATES = {"Accepted": "acceptance", "User Rejection": "user-rejection", "No Reason": "no-reason",
          "Abstract Syntax Not Supported": "abstract-syntax-not-supported",
          "Transfer Syntaxes Not Supported": "transfer-syntaxes-not-supported"}


def discover(host, port, called_aet, abstracts):
    ae = AE(ae_title="ORACLE")
    ae.acse_timeout = ae.network_timeout = 30
    pairs = [(abstract, syntax) for abstract in abstracts for syntax in SYNTAXES]
    accepted = {abstract: [] for abstract in abstracts}
    associations = 0
    for start in range(0, len(pairs), 128):
        contexts = [build_context(abstract, syntax) for abstract, syntax in pairs[start:start + 128]]
        assoc = ae.associate(host, port, contexts=contexts, ae_title=called_aet)
        associations += 1
        if assoc.is_established:
            for context in assoc.accepted_contexts:
                accepted[context.abstract_syntax].append(context.transfer_syntax[0])
            assoc.release()
        elif not assoc.rejected_contexts:  # neither an AC with nothing accepted, nor anything else we can use
            raise SystemExit("oracle: %s@%s:%s could not be asked (rejected %s, aborted %s)" % (
                called_aet, host, port, assoc.is_rejected, assoc.is_aborted))
    return {abstract: sorted(found, key=SYNTAXES.index) for abstract, found in accepted.items()}, associations


def echoscu_case(host, port, called_aet, pts, ppc):
    result = oracle.run_echoscu(host, port, called_aet=called_aet, pts=pts, ppc=ppc)
    if not result.accepted:
        raise SystemExit("oracle: echoscu -pts %d -ppc %d to %s:%s was not accepted:\n%s" % (pts, ppc, host, port, result.output))
    return {
        "pts": pts, "ppc": ppc, "exit_code": result.exit_code,
        "contexts": [[context.context_id, STATES[context.state], context.transfer_syntax] for context in result.contexts],
        "implementation_class_uid": result.their_implementation_class_uid,
        "implementation_version_name": result.their_implementation_version_name,
        "max_pdu": result.their_max_pdu,
    }


def main(argv):
    state_dirs = [Path(path) for path in argv[1].split(os.pathsep)]
    out = {"peers": {}, "oracle_discover": {}, "oracle_associations": {}, "oracle_echoscu": {}, "oracle_seconds": {}}
    for spec in argv[2:]:
        name, _colon, wanted = spec.partition(":")
        info = json.loads(next(path / (name + ".json") for path in state_dirs if (path / (name + ".json")).exists()).read_text())
        host, port = info["host"], int(info["port"])
        called = info.get("aet") or "ANY-SCP"
        out["peers"][name] = {"host": host, "port": port, "aet": called,
                              "term": "%s@%s:%d" % (called, "[%s]" % host if ":" in host else host, port)}
        if wanted == "none":
            continue
        abstracts = [ABSTRACT[keyword] for keyword in (wanted.split(",") if wanted else ABSTRACT)]
        started = time.perf_counter()
        out["oracle_discover"][name], out["oracle_associations"][name] = discover(host, port, called, abstracts)
        out["oracle_seconds"][name] = round(time.perf_counter() - started, 3)
        if ":" not in host:  # echoscu 3.6.7 cannot parse IPv6 literals
            out["oracle_echoscu"][name] = [echoscu_case(host, port, called, pts, ppc) for pts, ppc in ECHOSCU_CASES]
    json.dump(out, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
