"""python -m ansible_collections.dicom.network.tests.fuzz ...: the differential fuzzer (tests/fuzz/run.py)."""

import sys

from .run import main

sys.exit(main())
