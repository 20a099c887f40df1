# -*- coding: utf-8 -*-
# Copyright: dicom.network contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""echoscu's log format and texts: level filter, association dumps, rejection and abort texts.

Private to this collection; no third-party imports. Texts follow DCMTK echoscu 3.7.0 as studied in
docs/dev/echoscu-behaviour.md (2, 3) so a transcript reads like `echoscu -v`/`-d` output.
"""

from __future__ import annotations

from ._request import LOG_LEVELS, OPTIONS
from ._syntaxes import dump_name

# A level's rank is its place in LOG_LEVELS (fatal 0 ... trace 5); echoscu prefixes each line with its
# level's initial (F: E: W: I: D: T:).
_LEVELS = {level: rank for rank, level in enumerate(LOG_LEVELS)}
_PREFIX = {level: level[0].upper() + ": " for level in LOG_LEVELS}

REJECT_RESULTS = {1: "Rejected Permanent", 2: "Rejected Transient"}
REJECT_SOURCES = {1: "Service User", 2: "Service Provider (ACSE Related)", 3: "Service Provider (Presentation Related)"}
REJECT_REASONS = {
    (1, 1): "No Reason",
    (1, 2): "App Context Name Not Supported",
    (1, 3): "Calling AE Title Not Recognized",
    (1, 7): "Called AE Title Not Recognized",
    (2, 1): "No Reason",
    (2, 2): "Protocol Version Not Supported",
    (3, 1): "Temporary Congestion",
    (3, 2): "Local Limit Exceeded",
}
# A-ABORT source and reason (PS3.8 9.3.8); the reason is only meaningful from the service provider.
ABORT_SOURCES = {0: "Service User", 1: "Reserved", 2: "Service Provider"}
ABORT_REASONS = {
    0: "Reason Not Specified",
    1: "Unrecognized PDU",
    2: "Unexpected PDU",
    4: "Unrecognized PDU Parameter",
    5: "Unexpected PDU Parameter",
    6: "Invalid PDU Parameter Value",
}
# Presentation context result byte -> (contract value, text DCMTK prints in the AC dump)
CONTEXT_RESULTS = {
    0: ("acceptance", "Accepted"),
    1: ("user-rejection", "User Rejection"),
    2: ("no-reason", "No Reason"),
    3: ("abstract-syntax-not-supported", "Abstract Syntax Not Supported"),
    4: ("transfer-syntaxes-not-supported", "Transfer Syntaxes Not Supported"),
}


class Transcript:
    """The lines of one probe at or above a level, each with echoscu's one-letter prefix."""

    __slots__ = ("threshold", "lines", "sink")

    def __init__(self, level=OPTIONS["log_level"]["default"], sink=None):
        self.threshold = _LEVELS[level]
        self.lines = []
        self.sink = sink  # optional callable(level, text): forwards to Python logging (log_config)

    def enabled(self, level):
        """Whether lines of ``level`` are wanted: kept, or forwarded to a sink that filters itself."""
        return _LEVELS[level] <= self.threshold or self.sink is not None

    def add(self, level, text):
        keep = _LEVELS[level] <= self.threshold
        if not keep and self.sink is None:
            return
        for line in text.split("\n"):
            if keep:
                self.lines.append(_PREFIX[level] + line)
            if self.sink is not None:
                self.sink(level, line)


def rejection_texts(result, source, reason):
    """echoscu's (result, source, reason) texts plus the error lines it prints for invalid values."""
    errors = []
    if result not in REJECT_RESULTS:
        errors.append("Received invalid A-ASSOCIATE-RJ reject result 0x%04x, using default." % result)
    if source not in REJECT_SOURCES:
        errors.append("Received invalid A-ASSOCIATE-RJ reject source 0x%04x, using default." % source)
    if (source, reason) not in REJECT_REASONS:
        errors.append("Received invalid A-ASSOCIATE-RJ reject reason 0x%04x, using default." % (source * 256 + reason))
    return (
        REJECT_RESULTS.get(result, REJECT_RESULTS[1]),
        REJECT_SOURCES.get(source, REJECT_SOURCES[1]),
        REJECT_REASONS.get((source, reason), "No Reason"),
        errors,
    )


def max_send_pdv(peer_max_pdu):
    """What echoscu prints as Max Send PDV: the peer's limit (0 = unlimited, capped at 131072, even) - 12.

    Below 12 DCMTK falls back to its minimum PDU size (4096) - 12 and lets its Upper Layer split.
    """
    limit = 131072 if peer_max_pdu == 0 or peer_max_pdu > 131072 else peer_max_pdu
    pdv = (limit & ~1) - 12
    return pdv if pdv >= 12 else 4096 - 12


def association_dump(kind, ours, theirs, contexts, states=None):
    """The A-ASSOCIATE-RQ or -AC dump of echoscu -d (docs/dev/echoscu-behaviour.md 3), as one string.

    ``ours``: implementation_class_uid, implementation_version_name, calling_aet, called_aet,
    max_pdu. ``theirs``: the same keys from the AC (empty for the RQ dump). ``contexts``: the
    result's presentation_contexts list; ``states`` maps context ID to DCMTK's result text (AC dump).
    """
    lines = [
        "====================== BEGIN A-ASSOCIATE-%s =====================" % kind,
        "Our Implementation Class UID:      %s" % ours["implementation_class_uid"],
        "Our Implementation Version Name:   %s" % ours["implementation_version_name"],
        "Their Implementation Class UID:    %s" % (theirs.get("implementation_class_uid") or ""),
        "Their Implementation Version Name: %s" % (theirs.get("implementation_version_name") or ""),
        "Application Context Name:    1.2.840.10008.3.1.1.1",
        "Calling Application Name:    %s" % ours["calling_aet"],
        "Called Application Name:     %s" % ours["called_aet"],
        "Responding Application Name: %s" % (ours["called_aet"] if kind == "AC" else ""),
        "Our Max PDU Receive Size:    %d" % ours["max_pdu"],
        "Their Max PDU Receive Size:  %d" % theirs.get("max_pdu", 0),
        "Presentation Contexts:",
    ]
    for context in contexts:
        state = "Proposed" if kind == "RQ" else states[context["id"]]
        lines.append("  Context ID:        %d (%s)" % (context["id"], state))
        lines.append("    Abstract Syntax: %s" % dump_name(context["abstract_syntax"]))
        lines.append("    Proposed SCP/SCU Role: Default")
        if kind == "RQ":
            lines.append("    Proposed Transfer Syntax(es):")
            lines.extend("      %s" % dump_name(uid) for uid in context["proposed_transfer_syntaxes"])
        else:
            lines.append("    Accepted SCP/SCU Role: Default")
            if context["transfer_syntax"]:
                lines.append("    Accepted Transfer Syntax: %s" % dump_name(context["transfer_syntax"]))
    lines += [
        "Requested Extended Negotiation: none",
        "Accepted Extended Negotiation:  none",
        "Requested User Identity Negotiation: none",
        "User Identity Negotiation Response:  none",
        "======================= END A-ASSOCIATE-%s ======================" % kind,
    ]
    return "\n".join(lines)


def logging_sink(config_file, logger_name):
    """A transcript sink (level, text, endpoint) that sends every line to Python logging, configured by the user's
    logging.config.fileConfig file; each record names its endpoint (record attribute ``endpoint``)."""
    import logging  # pylint: disable=import-outside-toplevel
    import logging.config  # pylint: disable=import-outside-toplevel

    logging.config.fileConfig(config_file, disable_existing_loggers=False)
    logger = logging.getLogger(logger_name)
    levels = {"fatal": logging.CRITICAL, "error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO,
              "debug": logging.DEBUG, "trace": logging.DEBUG - 5}
    return lambda level, text, endpoint: logger.log(levels[level], text, extra={"endpoint": endpoint})
