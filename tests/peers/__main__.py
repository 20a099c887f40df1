"""`python -m tests.peers ...` and `python tests/peers ...`: the peerctl CLI."""

import os
import sys

if __package__:
    from .peerctl import main
else:
    # Run as a directory: make the package importable as `peers` (not `tests`,
    # a name too generic to put on sys.path safely).
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from peers.peerctl import main

sys.exit(main())
