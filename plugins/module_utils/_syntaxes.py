# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transfer syntax tables: DCMTK 3.7.0 echoscu proposal order, DCMTK dump names, DICOM keywords.

Private to this collection. No third-party imports: the module validates options with this
table before pynetdicom is loaded.
"""

from __future__ import annotations

VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"

# (UID, name DCMTK prints in its association dumps, DICOM keyword), in the order of the
# --propose-ts list of DCMTK 3.7.0 echoscu.cc (docs/dev/echoscu-behaviour.md 1). The manual page list
# is incomplete and misprints one UID; this order is the code's.
ECHOSCU_TRANSFER_SYNTAXES = (
    ("1.2.840.10008.1.2", "LittleEndianImplicit", "ImplicitVRLittleEndian"),
    ("1.2.840.10008.1.2.1", "LittleEndianExplicit", "ExplicitVRLittleEndian"),
    ("1.2.840.10008.1.2.2", "BigEndianExplicit", "ExplicitVRBigEndian"),
    ("1.2.840.10008.1.2.1.98", "EncapsulatedUncompressedLittleEndianExplicit", "EncapsulatedUncompressedExplicitVRLittleEndian"),
    ("1.2.840.10008.1.2.4.50", "JPEGBaseline", "JPEGBaseline8Bit"),
    ("1.2.840.10008.1.2.4.51", "JPEGExtended:Process2+4", "JPEGExtended12Bit"),
    ("1.2.840.10008.1.2.4.52", "JPEGExtended:Process3+5", "JPEGExtended35"),
    ("1.2.840.10008.1.2.4.53", "JPEGSpectralSelection:Non-hierarchical:Process6+8", "JPEGSpectralSelectionNonHierarchical68"),
    ("1.2.840.10008.1.2.4.54", "JPEGSpectralSelection:Non-hierarchical:Process7+9", "JPEGSpectralSelectionNonHierarchical79"),
    ("1.2.840.10008.1.2.4.55", "JPEGFullProgression:Non-hierarchical:Process10+12", "JPEGFullProgressionNonHierarchical1012"),
    ("1.2.840.10008.1.2.4.56", "JPEGFullProgression:Non-hierarchical:Process11+13", "JPEGFullProgressionNonHierarchical1113"),
    ("1.2.840.10008.1.2.4.57", "JPEGLossless:Non-hierarchical:Process14", "JPEGLossless"),
    ("1.2.840.10008.1.2.4.58", "JPEGLossless:Non-hierarchical:Process15", "JPEGLosslessNonHierarchical15"),
    ("1.2.840.10008.1.2.4.59", "JPEGExtended:Hierarchical:Process16+18", "JPEGExtendedHierarchical1618"),
    ("1.2.840.10008.1.2.4.60", "JPEGExtended:Hierarchical:Process17+19", "JPEGExtendedHierarchical1719"),
    ("1.2.840.10008.1.2.4.61", "JPEGSpectralSelection:Hierarchical:Process20+22", "JPEGSpectralSelectionHierarchical2022"),
    ("1.2.840.10008.1.2.4.62", "JPEGSpectralSelection:Hierarchical:Process21+23", "JPEGSpectralSelectionHierarchical2123"),
    ("1.2.840.10008.1.2.4.63", "JPEGFullProgression:Hierarchical:Process24+26", "JPEGFullProgressionHierarchical2426"),
    ("1.2.840.10008.1.2.4.64", "JPEGFullProgression:Hierarchical:Process25+27", "JPEGFullProgressionHierarchical2527"),
    ("1.2.840.10008.1.2.4.65", "JPEGLossless:Hierarchical:Process28", "JPEGLosslessHierarchical28"),
    ("1.2.840.10008.1.2.4.66", "JPEGLossless:Hierarchical:Process29", "JPEGLosslessHierarchical29"),
    ("1.2.840.10008.1.2.4.70", "JPEGLossless:Non-hierarchical-1stOrderPrediction", "JPEGLosslessSV1"),
    ("1.2.840.10008.1.2.5", "RLELossless", "RLELossless"),
    ("1.2.840.10008.1.2.1.99", "DeflatedLittleEndianExplicit", "DeflatedExplicitVRLittleEndian"),
    ("1.2.840.10008.1.2.8.1", "DeflatedImageFrameCompression", "DeflatedImageFrameCompression"),
    ("1.2.840.10008.1.2.4.80", "JPEGLSLossless", "JPEGLSLossless"),
    ("1.2.840.10008.1.2.4.81", "JPEGLSLossy", "JPEGLSNearLossless"),
    ("1.2.840.10008.1.2.4.90", "JPEG2000LosslessOnly", "JPEG2000Lossless"),
    ("1.2.840.10008.1.2.4.91", "JPEG2000", "JPEG2000"),
    ("1.2.840.10008.1.2.4.92", "JPEG2000MulticomponentLosslessOnly", "JPEG2000MCLossless"),
    ("1.2.840.10008.1.2.4.93", "JPEG2000Multicomponent", "JPEG2000MC"),
    ("1.2.840.10008.1.2.4.100", "MPEG2MainProfile@MainLevel", "MPEG2MPML"),
    ("1.2.840.10008.1.2.4.101", "MPEG2MainProfile@HighLevel", "MPEG2MPHL"),
    ("1.2.840.10008.1.2.4.102", "MPEG4HighProfile/Level4.1", "MPEG4HP41"),
    ("1.2.840.10008.1.2.4.103", "MPEG4BDcompatibleHighProfile/Level4.1", "MPEG4HP41BD"),
    ("1.2.840.10008.1.2.4.104", "MPEG4HighProfile/Level4.2For2DVideo", "MPEG4HP422D"),
    ("1.2.840.10008.1.2.4.105", "MPEG4HighProfile/Level4.2For3DVideo", "MPEG4HP423D"),
    ("1.2.840.10008.1.2.4.106", "MPEG4StereoHighProfile/Level4.2", "MPEG4HP42STEREO"),
    ("1.2.840.10008.1.2.4.107", "HEVCMainProfile/Level5.1", "HEVCMP51"),
    ("1.2.840.10008.1.2.4.108", "HEVCMain10Profile/Level5.1", "HEVCM10P51"),
    ("1.2.840.10008.1.2.4.100.1", "FragmentableMPEG2MainProfile/MainLevel", "MPEG2MPMLF"),
    ("1.2.840.10008.1.2.4.101.1", "FragmentableMPEG2MainProfile/HighLevel", "MPEG2MPHLF"),
    ("1.2.840.10008.1.2.4.102.1", "FragmentableMPEG4HighProfile/Level4.1", "MPEG4HP41F"),
    ("1.2.840.10008.1.2.4.103.1", "FragmentableMPEG4BDcompatibleHighProfile/Level4.1", "MPEG4HP41BDF"),
    ("1.2.840.10008.1.2.4.104.1", "FragmentableMPEG4HighProfile/Level4.2For2DVideo", "MPEG4HP422DF"),
    ("1.2.840.10008.1.2.4.105.1", "FragmentableMPEG4HighProfile/Level4.2For3DVideo", "MPEG4HP423DF"),
    ("1.2.840.10008.1.2.4.106.1", "FragmentableMPEG4StereoHighProfile/Level4.2", "MPEG4HP42STEREOF"),
    ("1.2.840.10008.1.2.4.201", "HighThroughputJPEG2000ImageCompressionLosslessOnly", "HTJ2KLossless"),
    ("1.2.840.10008.1.2.4.202", "HighThroughputJPEG2000withRPCLOptionsImageCompressionLosslessOnly", "HTJ2KLosslessRPCL"),
    ("1.2.840.10008.1.2.4.203", "HighThroughputJPEG2000ImageCompression", "HTJ2K"),
    ("1.2.840.10008.1.2.4.110", "JPEGXLLossless", "JPEGXLLossless"),
    ("1.2.840.10008.1.2.4.111", "JPEGXLJPEGRecompression", "JPEGXLJPEGRecompression"),
    ("1.2.840.10008.1.2.4.112", "JPEGXL", "JPEGXL"),
)

# PS3.6 Table A-1 names (as pydicom spells them) of the syntaxes above, so results and filters name
# them the same on a probe host or controller without pydicom.
TRANSFER_SYNTAX_NAMES = {
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2.1.98": "Encapsulated Uncompressed Explicit VR Little Endian",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
    "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 and 4)",
    "1.2.840.10008.1.2.4.52": "JPEG Extended (Process 3 and 5)",
    "1.2.840.10008.1.2.4.53": "JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)",
    "1.2.840.10008.1.2.4.54": "JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)",
    "1.2.840.10008.1.2.4.55": "JPEG Full Progression, Non-Hierarchical (Process 10 and 12)",
    "1.2.840.10008.1.2.4.56": "JPEG Full Progression, Non-Hierarchical (Process 11 and 13)",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)",
    "1.2.840.10008.1.2.4.58": "JPEG Lossless, Non-Hierarchical (Process 15)",
    "1.2.840.10008.1.2.4.59": "JPEG Extended, Hierarchical (Process 16 and 18)",
    "1.2.840.10008.1.2.4.60": "JPEG Extended, Hierarchical (Process 17 and 19)",
    "1.2.840.10008.1.2.4.61": "JPEG Spectral Selection, Hierarchical (Process 20 and 22)",
    "1.2.840.10008.1.2.4.62": "JPEG Spectral Selection, Hierarchical (Process 21 and 23)",
    "1.2.840.10008.1.2.4.63": "JPEG Full Progression, Hierarchical (Process 24 and 26)",
    "1.2.840.10008.1.2.4.64": "JPEG Full Progression, Hierarchical (Process 25 and 27)",
    "1.2.840.10008.1.2.4.65": "JPEG Lossless, Hierarchical (Process 28)",
    "1.2.840.10008.1.2.4.66": "JPEG Lossless, Hierarchical (Process 29)",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
    "1.2.840.10008.1.2.5": "RLE Lossless",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.8.1": "Deflated Image Frame Compression",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless Image Compression",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Lossy (Near-Lossless) Image Compression",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 Image Compression (Lossless Only)",
    "1.2.840.10008.1.2.4.91": "JPEG 2000 Image Compression",
    "1.2.840.10008.1.2.4.92": "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
    "1.2.840.10008.1.2.4.93": "JPEG 2000 Part 2 Multi-component Image Compression",
    "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile / Main Level",
    "1.2.840.10008.1.2.4.101": "MPEG2 Main Profile / High Level",
    "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264 High Profile / Level 4.1",
    "1.2.840.10008.1.2.4.103": "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
    "1.2.840.10008.1.2.4.104": "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
    "1.2.840.10008.1.2.4.105": "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
    "1.2.840.10008.1.2.4.106": "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
    "1.2.840.10008.1.2.4.107": "HEVC/H.265 Main Profile / Level 5.1",
    "1.2.840.10008.1.2.4.108": "HEVC/H.265 Main 10 Profile / Level 5.1",
    "1.2.840.10008.1.2.4.100.1": "Fragmentable MPEG2 Main Profile / Main Level",
    "1.2.840.10008.1.2.4.101.1": "Fragmentable MPEG2 Main Profile / High Level",
    "1.2.840.10008.1.2.4.102.1": "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1",
    "1.2.840.10008.1.2.4.103.1": "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
    "1.2.840.10008.1.2.4.104.1": "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
    "1.2.840.10008.1.2.4.105.1": "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
    "1.2.840.10008.1.2.4.106.1": "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
    "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 Image Compression (Lossless Only)",
    "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
    "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000 Image Compression",
    "1.2.840.10008.1.2.4.110": "JPEG XL Lossless",
    "1.2.840.10008.1.2.4.111": "JPEG XL JPEG Recompression",
    "1.2.840.10008.1.2.4.112": "JPEG XL",
}

DCMTK_NAMES = {uid: name for uid, name, _keyword in ECHOSCU_TRANSFER_SYNTAXES}
KEYWORD_TO_UID = {keyword: uid for uid, _name, keyword in ECHOSCU_TRANSFER_SYNTAXES}
UID_TO_KEYWORD = {uid: keyword for uid, _name, keyword in ECHOSCU_TRANSFER_SYNTAXES}
MAX_PROPOSE_TS = len(ECHOSCU_TRANSFER_SYNTAXES)

# Names DCMTK prints for abstract syntaxes in its dumps (only the one echoscu proposes).
DCMTK_SOP_NAMES = {VERIFICATION_SOP_CLASS: "VerificationSOPClass"}


def proposed_transfer_syntaxes(count):
    """The first ``count`` UIDs of the echoscu list, as ``--propose-ts count`` proposes them."""
    return [uid for uid, _name, _keyword in ECHOSCU_TRANSFER_SYNTAXES[:count]]


def dump_name(uid):
    """How DCMTK prints a UID in an association dump: ``=Name`` when known, else the bare UID."""
    name = DCMTK_NAMES.get(uid) or DCMTK_SOP_NAMES.get(uid)
    return "=" + name if name else uid


def uid_name(uid):
    """A human-readable name for a UID: ours for the echoscu syntaxes, else pydicom's where it is installed, else the keyword."""
    if uid in TRANSFER_SYNTAX_NAMES:
        return TRANSFER_SYNTAX_NAMES[uid]
    if uid == VERIFICATION_SOP_CLASS:
        return "Verification SOP Class"
    try:
        from pydicom.uid import UID_dictionary  # pylint: disable=import-outside-toplevel
    except ImportError:
        UID_dictionary = {}
    entry = UID_dictionary.get(uid)
    if entry:
        return entry[0]
    return UID_TO_KEYWORD.get(uid, uid)
