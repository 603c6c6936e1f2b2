"""Verify the audit chain in the database against its signed checkpoints, anchors and an
external checkpoint; report the first bad sequence number and why.

Reasons: modified, deleted, reordered, truncated tail, forged or edited checkpoint, and
rollback (the database is behind, or differs from, a checkpoint kept outside it).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import AuditError
from . import chain
from .notes import Checkpoint, Verifier
from .record import GENESIS_HASH, canonical_json, chain_hash
from .sql import Dialect


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of a verification: ok, events checked, and the first problem if any."""

    ok: bool
    count: int
    first_bad_seq: int | None = None
    reason: str = ""
    warnings: tuple[str, ...] = ()

    def message(self) -> str:
        if self.ok:
            return f"OK {self.count} events"
        at = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"FAILED{at}: {self.reason}"


class _Bad(Exception):
    def __init__(self, seq: int | None, reason: str):
        super().__init__(reason)
        self.seq, self.reason = seq, reason


def _open_rows(rows, keyring: dict[str, Verifier], origin: str, what: str
               ) -> dict[int, Checkpoint]:
    out = {}
    for size, head, _ts, note in rows:
        try:
            cp = Checkpoint.open(note, keyring)
        except AuditError as exc:
            raise _Bad(size, f"forged or edited {what} (size {size}): {exc}") from None
        if cp.origin != origin:
            raise _Bad(size, f"forged {what} (size {size}): it names log {cp.origin!r}")
        if (cp.size, cp.head_hash) != (size, head):
            raise _Bad(size, f"edited {what} (size {size}): its columns differ from its signed note")
        out[size] = cp
    return out


def open_external(note: str, keyring: dict[str, Verifier], origin: str, label: str
                  ) -> Checkpoint:
    try:
        cp = Checkpoint.open(note, keyring)
    except AuditError as exc:
        raise _Bad(None, f"forged or edited checkpoint in {label}: {exc}") from None
    if cp.origin != origin:
        raise _Bad(None, f"{label} is a checkpoint of another log ({cp.origin!r})")
    return cp


class _Walk:
    """One pass over the rows, comparing each marked size with its signed statement."""

    def __init__(self, d: Dialect, conn, cur, cps, anchors, external, label):
        self.d, self.conn, self.cur = d, conn, cur
        self.cps, self.anchors, self.external, self.label = cps, anchors, external, label
        self.count = 0
        self.low: int | None = None

    def run(self) -> None:
        low, _high = chain.bounds(self.cur, self.d)
        self.low = low
        if low is None:
            last = max(self.anchors, default=0)
        else:
            prev = self._start(low)
            self.last_good = low - 1
            self._check_marks(low - 1, prev)
            last = self._scan(low, prev)
        self._check_tail(last)

    def _start(self, low: int) -> str:
        if low == 1:
            return GENESIS_HASH
        if low - 1 in self.anchors:
            return self.anchors[low - 1].head_hash
        gap_from = max((s for s in self.anchors if s < low), default=0) + 1
        raise _Bad(gap_from, f"deleted: events {gap_from}..{low - 1} are missing and no signed "
                             "pruning anchor covers them")

    def _marks(self, seq: int):
        for kind, table in (("checkpoint", self.cps), ("pruning anchor", self.anchors)):
            if seq in table:
                yield kind, table[seq]
        if self.external is not None and self.external.size == seq:
            yield "external", self.external

    def _check_marks(self, seq: int, digest: str) -> None:
        marked = False
        for kind, cp in self._marks(seq):
            marked = True
            if cp.head_hash == digest:
                continue
            first = self.last_good + 1
            if kind == "external":
                raise _Bad(first, f"rollback: event {seq} differs from the {self.label}; the "
                                  f"database history after event {first - 1} was replaced")
            raise _Bad(first, f"modified: events {first}..{seq} were rewritten with recomputed "
                              f"hashes; the signed {kind} at size {seq} vouches for another head")
        if marked:
            self.last_good = seq

    def _scan(self, low: int, prev: str) -> int:
        expected = low
        for row in chain.stream(self.conn, self.d):
            seq = row[0]
            if seq != expected:
                gap = f"event {expected} is" if seq == expected + 1 else \
                    f"events {expected}..{seq - 1} are"
                raise _Bad(expected, f"deleted: {gap} missing")
            canonical = canonical_json(*row[:9])
            if row[9] != prev:
                self._broken_link(row, canonical)
            digest = chain_hash(prev, canonical)
            if digest != row[10]:
                raise _Bad(seq, f"modified: event {seq}'s content does not match its hash")
            if seq in self.cps or seq in self.anchors or (
                    self.external is not None and self.external.size == seq):
                self._check_marks(seq, digest)
            prev = digest
            expected += 1
            self.count += 1
        return expected - 1

    def _broken_link(self, row: tuple, canonical: str) -> None:
        seq = row[0]
        elsewhere = chain.seq_of_hash(self.cur, self.d, row[9])
        if elsewhere is not None and elsewhere != seq - 1:
            raise _Bad(seq, f"reordered: event {seq} is chained after event {elsewhere}, "
                            f"not after event {seq - 1}")
        if chain_hash(row[9], canonical) == row[10] and seq > 1:
            raise _Bad(seq - 1, f"modified: event {seq - 1} was rewritten; its hash no longer "
                                f"matches the link stored in event {seq}")
        raise _Bad(seq, f"modified: event {seq}'s link to the previous event was changed")

    def _check_tail(self, last: int) -> None:
        top = max(list(self.cps) + list(self.anchors), default=0)
        if top > last:
            raise _Bad(last + 1, f"truncated tail: events {last + 1}..{top} are missing; "
                                 f"a signed checkpoint covers {top} events")
        if self.external is not None and self.external.size > last:
            raise _Bad(last + 1, f"rollback: the database ends at event {last} but the "
                                 f"{self.label} vouches for {self.external.size} events")


def verify_chain(d: Dialect, keyring: dict[str, Verifier], origin: str,
                 external_note: str | None = None, label: str = "external checkpoint"
                 ) -> VerifyResult:
    """Stream the whole chain once; never raises for tampering, returns a VerifyResult."""
    warnings = tuple(f"immutability trigger {name} is missing (someone with database access "
                     "removed or disabled it)" for name in d.missing_triggers())
    with d.reading() as conn:
        cur = conn.cursor()
        d.begin_read(cur)
        walk = None
        try:
            external = (open_external(external_note, keyring, origin, label)
                        if external_note is not None else None)
            cps = _open_rows(chain.checkpoint_rows(cur, d), keyring, origin, "checkpoint")
            anchors = _open_rows(chain.anchor_rows(cur, d), keyring, origin, "pruning anchor")
            walk = _Walk(d, conn, cur, cps, anchors, external, label)
            walk.run()
        except _Bad as bad:
            return VerifyResult(False, walk.count if walk else 0, bad.seq, bad.reason, warnings)
        finally:
            cur.close()
    if external is not None and walk.low is not None and external.size < walk.low - 1:
        warnings += (f"the {label} predates the oldest retained event; it was not compared",)
    return VerifyResult(True, walk.count, None, "", warnings)
