"""The differential fuzzer's cases: what the fake SCP answers, generated from (seed, index).

Every case is a Script for tests/peers/scripted.py: the bytes the SCP plays after the
A-ASSOCIATE-RQ, after the C-ECHO-RQ and after the A-RELEASE-RQ. A case starts from a valid
exchange (itself drawn at random: maximum lengths, user information items, fragmentation) and
changes one thing: a field, a length, an item, a PDU, the order, or the way the bytes are delivered
(bursts, a trickle, a close or a stall in the middle). `generate(seed, index)` is deterministic, so
`python -m tests.fuzz --replay SEED:INDEX` plays the same bytes again.

The encoders here are independent of the code under test (plugins/module_utils/_pdu.py): they build
any byte sequence, valid or not, from explicit fields.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field

from ..peers.scripted import Play, Script

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
VERIFICATION = "1.2.840.10008.1.1"
IMPLICIT = "1.2.840.10008.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
CALLING_AET = "ECHOSCU"
STREAM_SECONDS = 7.0   # a never-ending stream lasts this long (longer than every bound of either side)


def called_aet(slot, index):
    """The called AE title that names a case to the SCP (at most 16 characters)."""
    return "F%d.%d" % (slot, index)


def case_of(aet):
    """(slot, index) from called_aet(), or None."""
    try:
        slot, index = aet[1:].split(".")
        return int(slot), int(index)
    except ValueError:
        return None


# ---- encoders --------------------------------------------------------------------------------
@dataclass
class Item:
    """A PDU item or sub-item: type, reserved byte, a fixed prefix, then sub-items or a value."""

    kind: int
    value: bytes = b""
    children: list = None
    prefix: bytes = b""
    reserved: int = 0
    length_delta: int = 0     # added to the true length when encoding (a lying length)

    def body(self):
        return self.prefix + (b"".join(child.encode() for child in self.children) if self.children is not None else self.value)

    def encode(self):
        body = self.body()
        return struct.pack(">BBH", self.kind, self.reserved, (len(body) + self.length_delta) & 0xFFFF) + body


def pdu(kind, body, reserved=0, length_delta=0):
    return struct.pack(">BBI", kind, reserved, (len(body) + length_delta) & 0xFFFFFFFF) + body


def uid_item(kind, uid):
    return Item(kind, uid.encode("ascii") if isinstance(uid, str) else uid)


def context_item(context_id, result, syntaxes=(IMPLICIT,), reserved=(0, 0)):
    return Item(0x21, prefix=bytes([context_id, reserved[0], result, reserved[1]]),
                children=[uid_item(0x40, syntax) for syntax in syntaxes])


def ae_field(title):
    return title.encode("ascii").ljust(16, b" ")[:16]


@dataclass
class Associate:
    """An A-ASSOCIATE-AC (or, with another type, anything with its layout)."""

    called: bytes
    calling: bytes = ae_field(CALLING_AET)
    version: int = 1
    reserved: bytes = bytes(2)
    reserved32: bytes = bytes(32)
    items: list = field(default_factory=list)
    pdu_type: int = 2
    pdu_reserved: int = 0
    length_delta: int = 0

    def encode(self):
        body = struct.pack(">H", self.version) + self.reserved + self.called + self.calling + self.reserved32
        body += b"".join(item.encode() for item in self.items)
        return pdu(self.pdu_type, body, self.pdu_reserved, self.length_delta)


def user_info(max_pdu=16384, uid="1.2.826.0.1.3680043.9.7433.1.1", version="FUZZSCP_1", extra=()):
    children = []
    if max_pdu is not None:
        children.append(Item(0x51, struct.pack(">I", max_pdu & 0xFFFFFFFF)))
    if uid is not None:
        children.append(uid_item(0x52, uid))
    children.extend(extra)
    if version is not None:
        children.append(uid_item(0x55, version))
    return Item(0x50, children=children)


def role_selection(uid=VERIFICATION, scu=1, scp=0, uid_length=None):
    raw = uid.encode("ascii")
    return Item(0x54, struct.pack(">H", len(raw) if uid_length is None else uid_length) + raw + bytes([scu, scp]))


def extended_negotiation(uid=VERIFICATION, info=b"\x01", uid_length=None):
    raw = uid.encode("ascii")
    return Item(0x56, struct.pack(">H", len(raw) if uid_length is None else uid_length) + raw + info)


def user_identity_ac(response=b"token"):
    return Item(0x59, struct.pack(">H", len(response)) + response)


def async_ops(invoked=1, performed=1):
    return Item(0x53, struct.pack(">HH", invoked, performed))


# DIMSE command sets: implicit VR little endian, group 0000 (PS3.7 E.1)
@dataclass
class Element:
    tag: int                  # element number in group 0000 (or a full group<<16|element if group set)
    value: bytes
    group: int = 0
    length_delta: int = 0

    def encode(self):
        return struct.pack("<HHI", self.group, self.tag, (len(self.value) + self.length_delta) & 0xFFFFFFFF) + self.value


def us(value):
    return struct.pack("<H", value & 0xFFFF)


def ui(uid):
    raw = uid.encode("ascii")
    return raw + b"\0" * (len(raw) % 2)


@dataclass
class Command:
    elements: list
    group_length: bool = True
    group_length_delta: int = 0
    trailer: bytes = b""

    def encode(self):
        body = b"".join(element.encode() for element in self.elements) + self.trailer
        if not self.group_length:
            return body
        return Element(0x0000, struct.pack("<I", (len(body) + self.group_length_delta) & 0xFFFFFFFF)).encode() + body


def echo_rsp(message_id=1, status=0, dataset_type=0x0101, command_field=0x8030, sop_class=VERIFICATION):
    return Command([Element(0x0002, ui(sop_class)), Element(0x0100, us(command_field)), Element(0x0120, us(message_id)),
                    Element(0x0800, us(dataset_type)), Element(0x0900, us(status))])


@dataclass
class Pdv:
    context_id: int
    control: int
    data: bytes
    length_delta: int = 0

    def encode(self):
        return struct.pack(">IBB", (len(self.data) + 2 + self.length_delta) & 0xFFFFFFFF, self.context_id, self.control) + self.data


@dataclass
class PData:
    pdvs: list
    pdu_type: int = 4
    reserved: int = 0
    length_delta: int = 0

    def encode(self):
        return pdu(self.pdu_type, b"".join(pdv.encode() for pdv in self.pdvs), self.reserved, self.length_delta)


def set_on_one(rng, attribute, value, last=False):
    """A hook that sets ``attribute`` on one random element of the list it is given (the last one if ``last``)."""
    def hook(items):
        setattr(items[-1 if last else rng.randrange(len(items))], attribute, value)
        return items
    return hook


def fragment(command_bytes, rng, context_id=1, pieces=None):
    """Command PDVs for ``command_bytes`` split into ``pieces`` fragments (even lengths, last bit on the last)."""
    positions = range(2, len(command_bytes), 2)
    cuts = sorted(rng.sample(positions, max(0, min((pieces or 1) - 1, len(positions)))))
    bounds = [0] + cuts + [len(command_bytes)]
    return [Pdv(context_id, 0x03 if index == len(bounds) - 2 else 0x01, command_bytes[start:end])
            for index, (start, end) in enumerate(zip(bounds, bounds[1:]))]


def pack(pdvs, rng, per_pdu=None):
    """P-DATA-TF PDUs carrying ``pdvs``, a random number per PDU unless ``per_pdu`` says."""
    out, index = [], 0
    while index < len(pdvs):
        take = per_pdu or rng.randint(1, max(1, len(pdvs) - index))
        out.append(PData(pdvs[index:index + take]))
        index += take
    return out


def abort(source=2, reason=0, body=None):
    return pdu(7, bytes([0, 0, source & 0xFF, reason & 0xFF]) if body is None else body)


def reject(result=1, source=1, reason=1, body=None):
    return pdu(3, bytes([0, result & 0xFF, source & 0xFF, reason & 0xFF]) if body is None else body)


RELEASE_RP = pdu(6, bytes(4))
RELEASE_RQ = pdu(5, bytes(4))


# ---- a case ----------------------------------------------------------------------------------
@dataclass
class Case:
    slot: int
    seed: int
    index: int
    category: str         # e.g. "ac.context.result": what was changed, for grouping
    label: str            # the exact change, e.g. "result=3"
    delivery: str         # how the bytes arrive: whole, burst, trickle, close_mid, stall_mid, slow_gap, stream
    script: Script
    dimse_timeout: int | None

    @property
    def aet(self):
        return called_aet(self.slot, self.index)

    @property
    def replay(self):
        return "%d:%d" % (self.seed, self.index)

    def describe(self):
        """The bytes of every step, as hex, for a report."""
        lines = []
        for name in ("assoc", "echo", "release"):
            play = getattr(self.script, name)
            if play is None:
                continue
            delays = [round(delay, 3) for delay, _chunk in play.chunks]
            lines.append("%s (%d chunks, delays %s, then %s): %s" % (name, len(play.chunks), delays[:12], play.then, play.data().hex()))
            if play.stream:
                lines.append("%s stream every %ss for %ss: %s" % (name, play.interval, play.duration, play.stream.hex()))
        return lines


class Builder:
    """One case under construction: a valid exchange drawn from ``rng``, then one change."""

    def __init__(self, rng, aet):
        self.rng = rng
        self.aet = aet
        self.max_pdu = rng.choice([16384, 16384, 16384, 0, 4096, 32768, 65536, 131072, 16382, 1 << 20])
        extra = []
        if rng.random() < 0.3:
            extra = rng.sample([role_selection(scu=rng.randint(0, 1), scp=rng.randint(0, 1)),
                                extended_negotiation(info=bytes(rng.randint(0, 4))), user_identity_ac(rng.randbytes(rng.randint(0, 8))),
                                async_ops(rng.randint(0, 3), rng.randint(0, 3))], rng.randint(1, 3))
        self.ac = Associate(ae_field(aet), items=[
            uid_item(0x10, APPLICATION_CONTEXT), context_item(1, 0),
            user_info(self.max_pdu, rng.choice(["1.2.826.0.1.3680043.9.7433.1.1", "1.2.276.0.7230010.3.0.3.6.7", "1.2.3"]),
                      rng.choice(["FUZZSCP_1", None, "OFFIS_DCMTK_367", "X"]), extra)])
        self.command = echo_rsp()
        self.pieces = 1 if rng.random() < 0.7 else rng.randint(2, 6)
        self.per_pdu = None
        self.ac_bytes = self.rsp_bytes = None      # set to override the encoders' output
        self.release = Play([(0.0, RELEASE_RP)], then="close")
        self.assoc_then = "wait"
        self.echo_then = "wait"
        self.extra_before_rsp = b""
        self.extra_after_rsp = b""
        self.pdvs_hook = None
        self.pdus_hook = None

    def rsp(self):
        if self.rsp_bytes is not None:
            return self.rsp_bytes
        pdvs = fragment(self.command.encode(), self.rng, pieces=self.pieces)
        if self.pdvs_hook:
            pdvs = self.pdvs_hook(pdvs)
        pdus = pack(pdvs, self.rng, self.per_pdu)
        if self.pdus_hook:
            pdus = self.pdus_hook(pdus)
        return self.extra_before_rsp + b"".join(p.encode() for p in pdus) + self.extra_after_rsp

    def script(self):
        assoc = Play([(0.0, self.ac_bytes if self.ac_bytes is not None else self.ac.encode())], then=self.assoc_then)
        return Script(assoc=assoc, echo=Play([(0.0, self.rsp())], then=self.echo_then), release=self.release)


def _pick(rng, weighted):
    total = sum(weight for weight, _name in weighted)
    roll = rng.uniform(0, total)
    for weight, name in weighted:
        roll -= weight
        if roll <= 0:
            return name
    return weighted[-1][1]


def _int_near(rng, values):
    return rng.choice(values) if rng.random() < 0.7 else rng.randint(0, 0xFFFF)


# Each mutator changes the Builder and returns (category, label).
def m_valid(b, rng):
    return "valid", "max_pdu=%d pieces=%d" % (b.max_pdu, b.pieces)


def m_ac_version(b, rng):
    b.ac.version = _int_near(rng, [0, 2, 3, 0x8000, 0xFFFF, 0x0101, 0x0100])
    return "ac.version", "version=0x%04x" % b.ac.version


def m_ac_reserved(b, rng):
    which = rng.choice(["reserved", "reserved32", "pdu_reserved", "calling", "called"])
    if which == "reserved":
        b.ac.reserved = rng.randbytes(2)
    elif which == "reserved32":
        b.ac.reserved32 = rng.randbytes(32)
    elif which == "pdu_reserved":
        b.ac.pdu_reserved = rng.randint(1, 255)
    elif which == "calling":
        b.ac.calling = rng.choice([bytes(16), b" " * 16, rng.randbytes(16), ae_field("OTHER")])
    else:
        b.ac.called = rng.choice([bytes(16), b" " * 16, rng.randbytes(16), ae_field("OTHER")])
    return "ac.fixed." + which, which


def m_ac_pdu_type(b, rng):
    b.ac.pdu_type = rng.choice([0, 1, 4, 5, 6, 8, 9, 0x10, 0x7F, 0xFF])
    return "ac.pdu_type", "type=0x%02x" % b.ac.pdu_type


def m_ac_pdu_length(b, rng):
    delta = rng.choice([-1, -2, -4, 1, 2, 4, -rng.randint(5, 60), rng.randint(5, 200)])
    b.ac.length_delta = delta
    if delta > 0:
        b.assoc_then = "hold"  # the rest never comes: a stall within the PDU
    return "ac.pdu_length", "delta=%+d" % delta


def _all_items(items, path="ac"):
    for index, item in enumerate(items):
        name = "%s/%02x" % (path, item.kind)
        yield name, items, index, item
        if item.children is not None:
            yield from _all_items(item.children, name)


def m_ac_item(b, rng):
    """One item or sub-item anywhere in the AC: dropped, doubled, retyped, reserved byte, length, truncated, moved."""
    name, siblings, index, item = rng.choice(list(_all_items(b.ac.items)))
    action = rng.choice(["drop", "duplicate", "retype", "reserved", "length", "truncate", "move", "pad"])
    if action == "drop":
        del siblings[index]
    elif action == "duplicate":
        siblings.insert(index, Item(item.kind, item.value, list(item.children) if item.children is not None else None, item.prefix))
    elif action == "retype":
        item.kind = rng.choice([0x10, 0x20, 0x21, 0x30, 0x40, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
                                0x00, 0x11, 0x22, 0x41, 0x5A, 0xFF])
    elif action == "reserved":
        item.reserved = rng.randint(1, 255)
    elif action == "length":
        item.length_delta = rng.choice([-1, -2, 1, 2, rng.randint(3, 40), -rng.randint(3, 8)])
        if item.length_delta > 0:
            b.assoc_then = "hold"
    elif action == "truncate":
        body = item.body()
        item.children, item.prefix = None, b""
        item.value = body[:rng.randint(0, max(0, len(body) - 1))]
    elif action == "move":
        siblings.insert(rng.randint(0, len(siblings)), siblings.pop(index))
    else:  # NUL / space padding or a trailing garbage byte on a value
        if item.children is None:
            item.value += rng.choice([b"\0", b" ", b"\0\0", b"x"])
    return "ac.item." + action, "%s %s" % (name, action)


def _context(b):
    return next(item for item in b.ac.items if item.kind == 0x21)


def m_ac_context(b, rng):
    ctx = _context(b)
    field_name = rng.choice(["id", "result", "reserved", "syntax", "syntaxes", "extra", "result_no_ts", "abstract", "rq_type"])
    if field_name == "id":
        value = rng.choice([0, 2, 3, 5, 99, 127, 255])
        ctx.prefix = bytes([value]) + ctx.prefix[1:]
    elif field_name == "result":
        value = rng.choice([1, 2, 3, 4, 5, 6, 0x80, 0xFF])
        ctx.prefix = ctx.prefix[:2] + bytes([value]) + ctx.prefix[3:]
    elif field_name == "reserved":
        value = rng.randint(1, 255)
        position = rng.choice([1, 3])
        ctx.prefix = ctx.prefix[:position] + bytes([value]) + ctx.prefix[position + 1:]
    elif field_name == "syntax":
        value = rng.choice([EXPLICIT, "1.2.840.10008.1.2.2", "", "1.2.840.10008.1.2\0", "1.2.840.10008.1.2 ", "1.2.840.10008.1.2.",
                            "9.9.9", "1." * 32, "1." * 32 + "1", "1.2.840.10008.1.20", "\xff"])
        ctx.children = [uid_item(0x40, value.encode("latin-1"))]
    elif field_name == "syntaxes":
        count = rng.choice([0, 2, 3, 10])
        ctx.children = [uid_item(0x40, IMPLICIT) for _index in range(count)]
        if count and rng.random() < 0.5:
            ctx.children[-1] = uid_item(0x40, EXPLICIT)
        value = count
    elif field_name == "extra":  # answers for contexts that were never proposed, before or after ours
        extra = [context_item(rng.choice([0, 2, 3, 5, 255]), rng.choice([0, 0, 3, 4]),
                              rng.choice([(IMPLICIT,), (EXPLICIT,), ()])) for _index in range(rng.randint(1, 3))]
        position = b.ac.items.index(ctx) + rng.choice([0, 1])
        b.ac.items[position:position] = extra
        value = len(extra)
    elif field_name == "abstract":  # an abstract syntax sub-item, which an AC does not carry
        value = rng.choice([VERIFICATION, "", "1." * 32, "1." * 32 + "1", "1." * 40])
        ctx.children.insert(rng.randint(0, len(ctx.children)), uid_item(0x30, value))
    elif field_name == "rq_type":  # the answer as an RQ's presentation context item (0x20), alone or beside ours
        value = rng.choice(["instead", "beside"])
        item = context_item(1 if value == "instead" else rng.choice([1, 3]), 0, (IMPLICIT,))
        item.kind = 0x20
        if value == "instead":
            b.ac.items[b.ac.items.index(ctx)] = item
        else:
            b.ac.items.insert(b.ac.items.index(ctx) + rng.choice([0, 1]), item)
    else:  # a refusal without its (insignificant) transfer syntax sub-item, or with an odd one
        ctx.prefix = ctx.prefix[:2] + bytes([rng.choice([1, 2, 3, 4])]) + ctx.prefix[3:]
        ctx.children = rng.choice([[], [uid_item(0x40, "")], [uid_item(0x40, EXPLICIT), uid_item(0x40, IMPLICIT)]])
        value = len(ctx.children)
    return "ac.context." + field_name, "%s=%r" % (field_name, value)


def _user(b):
    return next(item for item in b.ac.items if item.kind == 0x50)


def m_ac_user(b, rng):
    user = _user(b)
    what = rng.choice(["max_small", "max_value", "max_size", "no_max", "max_twice", "impl_uid", "version", "role", "extneg",
                       "identity", "unknown", "async"])
    if what in ("max_small", "max_value"):
        choices = [0, 1, 12, 13, 14, 15, 16, 18, 20, 26, 100, 1000, 4095, 0x7FFFFFFF, 0xFFFFFFFF]
        value = rng.randint(0, 20) if what == "max_small" else rng.choice(choices)
        user.children = [Item(0x51, struct.pack(">I", value)) if c.kind == 0x51 else c for c in user.children]
        if not any(c.kind == 0x51 for c in user.children):
            user.children.insert(0, Item(0x51, struct.pack(">I", value)))
        label = value
    elif what == "max_size":
        label = rng.choice([0, 2, 3, 5, 8])
        user.children = [Item(0x51, rng.randbytes(label)) if c.kind == 0x51 else c for c in user.children]
    elif what == "no_max":
        user.children = [c for c in user.children if c.kind != 0x51]
        label = "dropped"
    elif what == "max_twice":
        label = rng.choice([14, 4096, 16384, 0])
        user.children.append(Item(0x51, struct.pack(">I", label)))
    elif what == "impl_uid":
        label = rng.choice(["", "1." * 32, "1." * 32 + "1", "x" * 100, "1.2.3\0", "drop"])
        user.children = [c for c in user.children if c.kind != 0x52]
        if label != "drop":
            user.children.insert(rng.randint(0, len(user.children)), uid_item(0x52, label))
    elif what == "version":
        label = rng.choice(["", "A" * 16, "A" * 17, "A" * 64, "A" * 65, "\0" * 4])
        user.children = [c for c in user.children if c.kind != 0x55] + [uid_item(0x55, label)]
    elif what == "role":
        label = rng.choice([None, 0, 1, 100, 65535])
        user.children.append(role_selection(uid=rng.choice([VERIFICATION, "", "1.2.3"]), scu=rng.randint(0, 2), scp=rng.randint(0, 2),
                                            uid_length=label))
    elif what == "extneg":
        label = rng.choice([None, 0, 1, 100, 65535])
        user.children.append(extended_negotiation(info=rng.randbytes(rng.randint(0, 6)), uid_length=label))
    elif what == "identity":
        label = rng.choice(["short", "long", "empty", "body0"])
        item = user_identity_ac(b"abc")
        if label == "short":
            item.value = struct.pack(">H", 10) + b"abc"
        elif label == "long":
            item.value = struct.pack(">H", 1) + b"abc"
        elif label == "empty":
            item.value = struct.pack(">H", 0)
        else:
            item.value = b""
        user.children.append(item)
    elif what == "async":
        label = rng.choice([0, 2, 3, 6])
        user.children.append(Item(0x53, rng.randbytes(label)))
    else:
        label = rng.choice([0x00, 0x50, 0x57, 0x58, 0x5A, 0x5F, 0x60, 0xFF])
        user.children.insert(rng.randint(0, len(user.children)), Item(label, rng.randbytes(rng.randint(0, 10))))
    return "ac.user." + what, "%s=%r" % (what, label)


def m_ac_app_context(b, rng):
    value = rng.choice(["1.2.840.10008.3.1.1.2", "", "1." * 32 + "1", "1.2.840.10008.3.1.1.1\0", "x", "drop", "twice", "last"])
    app = b.ac.items[0]
    if value == "drop":
        del b.ac.items[0]
    elif value == "twice":
        b.ac.items.insert(1, uid_item(0x10, APPLICATION_CONTEXT))
    elif value == "last":
        b.ac.items.append(b.ac.items.pop(0))
    else:
        app.value = value.encode("ascii")
    return "ac.app_context", repr(value)


def m_ac_many_items(b, rng):
    """Huge item counts: unknown items, refused contexts, user sub-items; most fit in 64 KiB, some do not."""
    kind = rng.choice(["unknown", "contexts", "subitems", "empty_user"])
    count = rng.choice([50, 300, 1000, 5000, 15000, 20000])
    if kind == "unknown":
        b.ac.items[2:2] = [Item(rng.choice([0x30, 0x77, 0x99]), b"") for _index in range(count)]
    elif kind == "contexts":
        count = min(count, 16000)
        b.ac.items[2:2] = [context_item(rng.choice([2, 4, 6, 200]), 3, ()) for _index in range(count)]
    elif kind == "subitems":
        count = min(count, 16000)
        _user(b).children.extend(Item(0x5F, b"") for _index in range(count))
    else:
        b.ac.items.extend(Item(0x50, children=[]) for _index in range(count))
    return "ac.many." + kind, "count=%d" % count


def m_ac_other_pdu(b, rng):
    what = rng.choice(["rj", "rj_bad", "rj_length", "abort", "abort_length", "release_rq", "release_rp", "pdata", "rq",
                       "empty", "unknown", "http", "zero_length_ac", "short_ac", "two_acs", "ac_then_abort"])
    b.assoc_then = "close"
    if what == "rj":
        b.ac_bytes = reject(rng.choice([1, 2]), rng.choice([1, 2, 3]), rng.choice([1, 2, 3, 7]))
    elif what == "rj_bad":
        b.ac_bytes = reject(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
    elif what == "rj_length":
        b.ac_bytes = reject(body=rng.randbytes(rng.choice([0, 1, 3, 5, 10, 100])))
    elif what == "abort":
        b.ac_bytes = abort(rng.randint(0, 3), rng.randint(0, 7))
    elif what == "abort_length":
        b.ac_bytes = abort(body=rng.randbytes(rng.choice([0, 1, 3, 5, 10, 100])))
    elif what == "release_rq":
        b.ac_bytes = RELEASE_RQ
    elif what == "release_rp":
        b.ac_bytes = RELEASE_RP
    elif what == "pdata":
        b.ac_bytes = b.rsp()
    elif what == "rq":
        b.ac.pdu_type = 1
        b.ac_bytes = b.ac.encode()
    elif what == "empty":
        b.ac_bytes = b""
    elif what == "unknown":
        b.ac_bytes = pdu(rng.choice([0, 8, 0x0A, 0x41, 0xFF]), rng.randbytes(rng.randint(0, 20)))
    elif what == "http":
        b.ac_bytes = b"HTTP/1.1 400 Bad Request\r\n\r\n"
    elif what == "zero_length_ac":
        b.ac_bytes = pdu(2, b"")
    elif what == "short_ac":
        b.ac_bytes = pdu(2, b.ac.encode()[6:6 + rng.choice([1, 10, 40, 67, 68, 69, 70, 71])])
    elif what == "two_acs":
        b.ac_bytes = b.ac.encode() * 2
        b.assoc_then = "wait"
    else:
        b.ac_bytes = b.ac.encode() + abort()
    return "ac.other." + what, what


def _element(b, tag):
    return next((element for element in b.command.elements if element.tag == tag), None)


def m_rsp_value(b, rng):
    tag = rng.choice([0x0100, 0x0120, 0x0800, 0x0900, 0x0900, 0x0900, 0x0002])
    element = _element(b, tag)
    if tag == 0x0100:
        value = _int_near(rng, [0x0030, 0x8001, 0x8020, 0x8021, 0x8010, 0x0FFF, 0x8031, 0x0000, 0xFFFF])
    elif tag == 0x0120:
        value = _int_near(rng, [0, 2, 0x0100, 0xFFFF])
    elif tag == 0x0800:
        value = _int_near(rng, [0x0000, 0x0001, 0x0100, 0x0102, 0xFEFE, 0x0101])
    elif tag == 0x0900:
        value = _int_near(rng, [0x0000, 0x0001, 0x0107, 0x0110, 0x0122, 0x0210, 0x0211, 0x0212, 0xA700, 0xB000, 0xC000, 0xFE00,
                                0xFF00, 0xFF01, 0xFFFF])
    else:
        value = rng.choice(["1.2.840.10008.5.1.4.1.1.7", "", "1." * 40, "1.2.840.10008.1.1\0\0", "garbage!"])
        element.value = value.encode("ascii")
        return "rsp.value.(0000,0002)", repr(value)
    element.value = us(value)
    return "rsp.value.(0000,%04x)" % tag, "0x%04x" % value


def m_rsp_element(b, rng):
    action = rng.choice(["drop", "duplicate", "vm2", "odd", "short", "empty", "lying_long", "lying_short", "reorder", "insert",
                         "other_group", "trailer", "group_length", "no_group_length", "explicit_vr"])
    elements = b.command.elements
    index = rng.randrange(len(elements))
    element = elements[index]
    label = "(0000,%04x)" % element.tag
    if action == "drop":
        del elements[index]
    elif action == "duplicate":
        copy = Element(element.tag, element.value)
        if element.tag == 0x0900 and rng.random() < 0.5:
            copy.value = us(rng.choice([0x0110, 0xC000]))
        elements.insert(index + rng.choice([0, 1]), copy)
    elif action == "vm2":
        element.value += rng.choice([us(0), us(0x0110), us(0xFFFF)])
    elif action == "odd":
        element.value += b"\x00"
    elif action == "short":
        element.value = element.value[:1]
    elif action == "empty":
        element.value = b""
    elif action == "lying_long":
        element.length_delta = rng.choice([2, 4, 100, 4000, 0x7FFFFFFF])
    elif action == "lying_short":
        element.length_delta = -rng.choice([1, 2]) if element.value else 0
    elif action == "reorder":
        rng.shuffle(elements)
        label = "shuffled"
    elif action == "insert":
        tag = rng.choice([0x0700, 0x0110, 0x1000, 0x0902, 0x0901, 0x0003, 0x0850, 0x4000, 0x5010, 0xFFFF])
        value = rng.choice([us(0), b"some text ", ui("1.2.3.4"), rng.randbytes(rng.choice([0, 1, 2, 4, 7]))])
        elements.insert(rng.randint(0, len(elements)), Element(tag, value))
        label = "(0000,%04x) %d bytes" % (tag, len(value))
    elif action == "other_group":
        elements.insert(rng.randint(0, len(elements)), Element(rng.choice([0x0016, 0x0010]), ui("1.2.3"), group=rng.choice([0x0008, 0x0002, 0x0001])))
        label = "non-command element"
    elif action == "trailer":
        b.command.trailer = rng.randbytes(rng.choice([1, 2, 4, 6, 7]))
        label = "%d trailing bytes" % len(b.command.trailer)
    elif action == "group_length":
        b.command.group_length_delta = rng.choice([-2, 2, 100, -50, 0x7FFFFFF0])
        label = "delta=%+d" % b.command.group_length_delta
    elif action == "no_group_length":
        b.command.group_length = False
        label = "without (0000,0000)"
    else:  # explicit VR: what a confused SCP sends; every element gets a 2-byte VR and a 2-byte length
        raw = b"".join(struct.pack("<HH", 0, e.tag) + (b"UI" if e.tag == 2 else b"US") + struct.pack("<H", len(e.value)) + e.value
                       for e in elements)
        b.command = Command([], group_length=rng.random() < 0.5, trailer=raw)
        label = "explicit VR"
    return "rsp.element." + action, label


def m_rsp_pdv(b, rng):
    action = rng.choice(["context", "context_one", "control", "control_one", "length", "odd_split", "empty_fragment", "after_last",
                         "data_before", "data_after", "no_last", "many_empty", "split_pdus"])
    label = action
    if action in ("context", "context_one"):
        value = rng.choice([0, 2, 3, 5, 99, 255])
        b.pieces = max(b.pieces, 2) if action == "context_one" else b.pieces

        def hook(pdvs, value=value, one=action == "context_one"):
            targets = [rng.randrange(len(pdvs))] if one else range(len(pdvs))
            for index in targets:
                pdvs[index].context_id = value
            return pdvs
        b.pdvs_hook = hook
        label = "context=%d" % value
    elif action in ("control", "control_one"):
        value = rng.choice([0x00, 0x01, 0x02, 0x03, 0x07, 0x0B, 0x13, 0x83, 0xFF, 0xFE, 0xFD])
        b.pdvs_hook = set_on_one(rng, "control", value, last=action == "control")
        label = "control=0x%02x" % value
    elif action == "length":
        delta = rng.choice([-1, 1, -2, 2, 100, -10, -0x7FFFFFFF])
        b.pdvs_hook = set_on_one(rng, "length_delta", delta)
        label = "pdv length %+d" % delta
    elif action == "odd_split":
        raw = b.command.encode()
        cut = rng.choice(range(1, len(raw) - 1, 2))
        b.pdvs_hook = lambda pdvs, raw=raw, cut=cut: [Pdv(1, 1, raw[:cut]), Pdv(1, 3, raw[cut:])]
        label = "cut at %d" % cut
    elif action == "empty_fragment":
        def hook(pdvs):
            pdvs.insert(rng.randint(0, len(pdvs)), Pdv(1, rng.choice([1, 3]), b""))
            return pdvs
        b.pdvs_hook = hook
    elif action == "after_last":
        b.pdvs_hook = lambda pdvs: pdvs + [Pdv(1, rng.choice([1, 3, 0, 2]), rng.choice([b"", b"\0\0", echo_rsp().encode()]))]
    elif action == "data_before":
        b.pdvs_hook = lambda pdvs: [Pdv(1, rng.choice([0, 2]), rng.choice([b"", b"\0\0", b"\x08\0\x16\0\x02\0\0\0ab"]))] + pdvs
    elif action == "data_after":
        b.pdvs_hook = lambda pdvs: pdvs + [Pdv(1, rng.choice([0, 2]), rng.choice([b"", b"\0\0", b"\x08\0\x16\0\x02\0\0\0ab"]))]
    elif action == "no_last":
        b.pdvs_hook = set_on_one(rng, "control", 1, last=True)
    elif action == "many_empty":
        count = rng.choice([10, 100, 255, 256, 257, 1000, 5000])
        where = rng.choice(["before", "spread"])
        b.pdvs_hook = lambda pdvs, count=count: [Pdv(1, 1, b"") for _index in range(count)] + pdvs
        b.per_pdu = rng.choice([None, 1, 2000]) if where == "spread" else None
        label = "%d empty fragments, per PDU %s" % (count, b.per_pdu)
    else:
        b.pieces = rng.randint(2, 8)
        b.per_pdu = 1
        label = "%d PDUs" % b.pieces
    return "rsp.pdv." + action, label


def m_rsp_pdu(b, rng):
    action = rng.choice(["length", "type", "reserved", "empty_before", "empty_after", "oversize", "twice", "early", "late_extra",
                         "zero_pdu"])
    label = action
    if action == "length":
        delta = rng.choice([-1, -2, 1, 2, -6, 100])
        b.pdus_hook = set_on_one(rng, "length_delta", delta)
        label = "delta=%+d" % delta
    elif action == "type":
        value = rng.choice([0, 2, 3, 8, 0x14, 0xFF])
        b.pdus_hook = set_on_one(rng, "pdu_type", value)
        label = "type=0x%02x" % value
    elif action == "reserved":
        b.pdus_hook = set_on_one(rng, "reserved", rng.randint(1, 255))
    elif action == "empty_before":
        b.extra_before_rsp = pdu(4, b"") * rng.randint(1, 3)
    elif action == "empty_after":
        b.extra_after_rsp = pdu(4, b"")
    elif action == "oversize":  # a P-DATA-TF a little over the maximum length we announced (16384)
        size = rng.choice([16380, 16384 - 12, 16385, 16390, 20000, 131072])
        padding = size - len(b.command.encode()) - 8
        b.command.elements.insert(1, Element(0x0902, b"x" * (padding + padding % 2)))
        label = "command of %d bytes" % len(b.command.encode())
    elif action == "twice":
        b.extra_after_rsp = PData([Pdv(1, 3, b.command.encode())]).encode()
    elif action == "early":  # the response comes right behind the AC, before our request
        b.ac_bytes = b.ac.encode() + b.rsp()
        b.rsp_bytes = b""
    elif action == "late_extra":
        b.extra_after_rsp = PData([Pdv(1, 3, echo_rsp(message_id=2).encode())]).encode()
    else:
        b.rsp_bytes = pdu(4, b"")
        b.release = Play([(0.0, RELEASE_RP)], then="close")
    return "rsp.pdu." + action, label


def m_rsp_other_pdu(b, rng):
    what = rng.choice(["abort", "release_rq", "release_rp", "ac", "rj", "rq", "unknown", "garbage", "close"])
    if what not in ("release_rq", "release_rp"):
        b.echo_then = "close"
    if what == "abort":
        b.rsp_bytes = abort(rng.randint(0, 3), rng.randint(0, 7))
    elif what == "release_rq":
        b.rsp_bytes = RELEASE_RQ
    elif what == "release_rp":
        b.rsp_bytes = RELEASE_RP
    elif what == "ac":
        b.rsp_bytes = b.ac.encode()
    elif what == "rj":
        b.rsp_bytes = reject()
    elif what == "rq":
        b.ac.pdu_type = 1
        b.rsp_bytes = b.ac.encode()
    elif what == "unknown":
        b.rsp_bytes = pdu(rng.choice([0, 8, 0xFF]), rng.randbytes(4))
    elif what == "garbage":
        b.rsp_bytes = rng.randbytes(rng.randint(1, 40))
    else:
        b.rsp_bytes = b""
    return "rsp.other." + what, what


def m_release(b, rng):
    what = rng.choice(["rp_length", "rp_reserved", "abort", "collision", "pdata_first", "none_close", "garbage", "rp_twice",
                       "rp_then_pdata", "unknown", "ac"])
    then = "close"
    if what == "rp_length":
        data = pdu(6, bytes(rng.choice([0, 2, 3, 5, 10])))
    elif what == "rp_reserved":
        data = pdu(6, rng.randbytes(4), reserved=rng.randint(0, 255))
    elif what == "abort":
        data = abort(rng.randint(0, 2), rng.randint(0, 6))
    elif what == "collision":
        data = RELEASE_RQ + (RELEASE_RP if rng.random() < 0.5 else b"")
        then = "wait"
    elif what == "pdata_first":
        data = PData([Pdv(1, 3, echo_rsp().encode())]).encode() + RELEASE_RP
    elif what == "none_close":
        data = b""
    elif what == "garbage":
        data = rng.randbytes(rng.randint(1, 12))
    elif what == "rp_twice":
        data = RELEASE_RP * 2
    elif what == "rp_then_pdata":
        data = RELEASE_RP + PData([Pdv(1, 3, echo_rsp().encode())]).encode()
    elif what == "unknown":
        data = pdu(rng.choice([0, 8, 0xFF]), bytes(4))
    else:
        data = b.ac.encode()
    b.release = Play([(0.0, data)], then=then)
    return "release." + what, what


MUTATORS = [
    (8, m_valid), (4, m_ac_version), (4, m_ac_reserved), (2, m_ac_pdu_type), (3, m_ac_pdu_length), (10, m_ac_item),
    (8, m_ac_context), (9, m_ac_user), (3, m_ac_app_context), (1.5, m_ac_many_items), (5, m_ac_other_pdu),
    (10, m_rsp_value), (10, m_rsp_element), (10, m_rsp_pdv), (5, m_rsp_pdu), (3, m_rsp_other_pdu), (5, m_release),
]


# ---- delivery --------------------------------------------------------------------------------
def _split(data, rng, pieces):
    if len(data) < 2 or pieces < 2:
        return [data]
    cuts = sorted(rng.sample(range(1, len(data)), min(pieces - 1, len(data) - 1)))
    return [data[start:end] for start, end in zip([0] + cuts, cuts + [len(data)])]


def deliver(script, rng):
    """Change how one step's bytes arrive; returns (kind, label) or None for "all at once"."""
    roll = rng.random()
    steps = [name for name in ("assoc", "echo", "release") if getattr(script, name) is not None and getattr(script, name).data()]
    if roll < 0.80 or not steps:
        return None
    name = rng.choice(steps)
    play = getattr(script, name)
    data = play.data()
    kind = _pick(rng, [(8, "burst"), (4, "trickle"), (3, "close_mid"), (1, "stall_mid"), (0.6, "slow_gap")])
    if kind == "burst":  # pieces back to back or a few ms apart: coalesced or not by the kernel
        pieces = _split(data, rng, rng.randint(2, 12))
        play.chunks = [(rng.choice([0.0, 0.0, 0.001, 0.02]), piece) for piece in pieces]
        return "burst", "%s in %d pieces" % (name, len(pieces))
    if kind == "trickle":  # steady and slow: at most 40 pieces, every gap far below socket_timeout, the whole under 0.6 s
        gap = rng.choice([0.002, 0.005, 0.01, 0.015])
        size = max(rng.choice([1, 1, 2, 3]), -(-len(data) // 40))
        pieces = [data[i:i + size] for i in range(0, len(data), size)]
        play.chunks = [(gap, piece) for piece in pieces]
        return "trickle", "%s %d pieces, %d ms apart" % (name, len(pieces), gap * 1000)
    cut = rng.randint(0, len(data) - 1)
    if kind == "close_mid":
        play.chunks, play.then = [(0.0, data[:cut])], "close"
        play.stream = b""
        return "close_mid", "%s closed after %d of %d bytes" % (name, cut, len(data))
    if kind == "stall_mid":
        play.chunks, play.then = [(0.0, data[:cut])], "hold"
        play.stream = b""
        return "stall_mid", "%s stalls after %d of %d bytes" % (name, cut, len(data))
    # a gap twice both sides' socket timeout (2 s) in the middle
    play.chunks = [(0.0, data[:cut]), (4.0, data[cut:])]
    return "slow_gap", "%s pauses 4 s after %d of %d bytes" % (name, cut, len(data))


def streams(b, rng):
    """Never-ending answers (rare: each lasts STREAM_SECONDS): empty P-DATA-TF, command fragments, data PDVs."""
    kind = rng.choice(["empty_pdata", "fragments", "data_pdvs", "empty_fragments_mid"])
    interval = rng.choice([0.1, 0.5, 1.0])
    if kind == "empty_pdata":
        first, stream = b"", pdu(4, b"")
    elif kind == "fragments":
        first, stream = b"", PData([Pdv(1, 1, b"\0\0")]).encode()
    elif kind == "data_pdvs":
        first, stream = PData([Pdv(1, 1, echo_rsp().encode()[:8])]).encode(), PData([Pdv(1, 0, b"\0\0")]).encode()
    else:
        first, stream = PData([Pdv(1, 1, echo_rsp().encode()[:8])]).encode(), PData([Pdv(1, 1, b"")]).encode()
    script = b.script()
    script.echo = Play([(0.0, first)] if first else [], then="hold", interval=interval, stream=stream, duration=STREAM_SECONDS)
    return script, "stream." + kind, "every %ss" % interval


def generate(seed, index, slot=0):
    """Case ``index`` of the run seeded ``seed``: a Script and what it changes."""
    rng = random.Random("%d:%d" % (seed, index))
    aet = called_aet(slot, index)
    builder = Builder(rng, aet)
    dimse_timeout = rng.choice([None, 2])
    if rng.random() < 0.01:
        script, category, label = streams(builder, rng)
        delivery = "stream"
    else:
        mutate = _pick(rng, MUTATORS)
        category, label = mutate(builder, rng)
        script = builder.script()
        delivered = deliver(script, rng)
        delivery = "whole" if delivered is None else delivered[0]
        if delivered is not None:
            label = "%s; %s" % (label, delivered[1])
    return Case(slot, seed, index, category, label, delivery, script, dimse_timeout)
