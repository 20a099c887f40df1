"""DICOM peers for tests of the echoscu module: real servers, faulty servers, and an oracle.

* real.py    DCMTK storescp/dcmqrscp and Orthanc as subprocesses (context managers)
* faulty.py  FaultyPeer(mode): misbehaving (or correct) Verification SCPs on asyncio
* oracle.py  run_echoscu(): Debian's DCMTK echoscu -d, parsed
* peerctl.py CLI for shell tests (`python -m tests.peers start NAME KIND --dir DIR`)
* dul.py     the minimal PDU/DIMSE codec the faulty peers use

Everything listens on loopback, on free ephemeral ports, with hard time limits.
Standard library only (no pynetdicom needed), Linux only (/proc is used).
"""
