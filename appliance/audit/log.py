"""AuditLog: the one small API the rest of the appliance records audit events through."""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..errors import AuditError
from . import chain, keys
from .events import KEY_ROTATE, VERIFY, event_spec
from .notes import Checkpoint, Signer
from .record import AuditRecord, utc_ts
from .sinks import make_sink, read_checkpoint_file
from .sql import dialect_for
from .verify import VerifyResult, verify_chain

log = logging.getLogger(__name__)


class AuditLog:
    """Append-only, hash-chained, checkpointed audit log in the store's database.

    Safe to share between threads; any number of processes may write to the same database.
    Call close() at shutdown so that a final checkpoint covers the last events.
    """

    def __init__(self, store, settings):
        self.store, self.settings = store, settings
        self.dialect = dialect_for(store.engine, store.read_engine)
        self.origin = keys.read_origin(settings)
        self._signer = keys.load_signer(settings)
        self._key_stamp = keys.key_file_stamp(settings)
        self.sink = make_sink(settings.audit_external_sink)
        self.lock = threading.RLock()
        self._every = max(1, int(settings.audit_checkpoint_every))
        self._seconds = float(settings.audit_checkpoint_seconds)
        self._last_checkpoint = time.monotonic()
        try:
            with self.dialect.reading() as conn:
                chain.latest_checkpoint_size(conn.cursor(), self.dialect)
        except Exception as exc:  # noqa: BLE001 - any driver error means the same thing here
            raise AuditError("the audit tables are missing: run `appliance init` "
                             f"(database migrations) first ({type(exc).__name__})") from None

    # -- writing -----------------------------------------------------------------------------
    def record(self, event_type: str, *, actor: str | None, target: str | None = None,
               outcome: str = "success", source: str | None = None,
               request_id: str | None = None, details: dict[str, Any] | None = None) -> int:
        """Append one event and return its sequence number.

        Rejects unknown event types and outcomes, and details that carry raw text
        (see events.RAW_TEXT_KEYS; use text_hash() or Redacted()).
        """
        spec = event_spec(event_type, actor=actor, target=target, outcome=outcome,
                          source=source, request_id=request_id, details=details)
        with self.lock:
            with self.dialect.locked() as cur:
                (row,) = chain.append(cur, self.dialect, [spec])
            if row.seq % self._every == 0 or self._checkpoint_due():
                try:
                    self.checkpoint()
                except Exception as exc:  # noqa: BLE001
                    # The event is committed; raising now would invite a duplicate retry.
                    # The next checkpoint covers it.
                    log.error("audit checkpoint after seq %d failed: %s", row.seq,
                              type(exc).__name__)
        return row.seq

    def _checkpoint_due(self) -> bool:
        return time.monotonic() - self._last_checkpoint >= self._seconds

    def checkpoint(self, extra_signers: list[Signer] | None = None) -> Checkpoint:
        """Sign the current head, store it, and copy it to the external sink."""
        with self.lock:
            signers = [self.signer()] + list(extra_signers or [])
            with self.dialect.locked(durable=True) as cur:
                size, head = chain.head(cur, self.dialect)
                cp = Checkpoint(self.origin, size, head, utc_ts()).signed(signers)
                if size > 0:
                    chain.insert_checkpoint(cur, self.dialect, cp)
            self._last_checkpoint = time.monotonic()
            if size > 0 and self.sink is not None:
                try:
                    self.sink.write(cp)
                except OSError as exc:
                    # The database copy is written; a missing sink must not stop the service.
                    log.error("could not write audit checkpoint to %s: %s", self.sink.name, exc)
            return cp

    def signer(self) -> Signer:
        """The current signing key (reloaded when another process rotated it)."""
        stamp = keys.key_file_stamp(self.settings)
        if stamp != self._key_stamp:  # another process rotated the key
            self._signer, self._key_stamp = keys.load_signer(self.settings), stamp
        return self._signer

    def rotate_key(self, *, actor: str | None, source: str | None = None,
                   request_id: str | None = None) -> str:
        """Replace the signing key; the rotation is logged and co-signed by both keys."""
        with self.lock:
            old = self.signer()
            new = Signer.generate(keys.next_key_name(self.settings, old))
            self.record(KEY_ROTATE, actor=actor, source=source, request_id=request_id,
                        details={"old_key": old.key_id, "new_key": new.key_id,
                                 "new_public_key": new.verifier.vkey})
            keys.install_signer(self.settings, new)
            self._signer, self._key_stamp = new, keys.key_file_stamp(self.settings)
            self.checkpoint(extra_signers=[old])
            return new.key_id

    def export(self, fmt: str, out_dir, *, since: str | None = None, until: str | None = None,
               actor: str | None = None, source: str | None = None) -> dict:
        """Export events with since <= ts < until as `fmt` plus a signed manifest."""
        from .export import export_events

        return export_events(self, fmt, out_dir, since=since, until=until, actor=actor,
                             source=source)

    def close(self) -> None:
        """Write a final checkpoint if events were added since the last one."""
        with self.lock:
            with self.dialect.reading() as conn:
                cur = conn.cursor()
                size, _ = chain.head(cur, self.dialect)
                latest = chain.latest_checkpoint_size(cur, self.dialect)
            if size > latest:
                self.checkpoint()

    # -- reading -----------------------------------------------------------------------------
    def keyring(self):
        return keys.load_keyring(self.settings)

    def verify(self, checkpoint_file: str | None = None, *, record: bool = True,
               actor: str | None = None) -> VerifyResult:
        """Verify the whole chain; `checkpoint_file` (or the directory sink) guards rollback.

        The run itself is recorded as an audit.verify event unless record=False.
        """
        note, label = None, "external checkpoint"
        if checkpoint_file:
            note, label = read_checkpoint_file(checkpoint_file), f"checkpoint file {checkpoint_file}"
        elif self.sink is not None:
            note, label = self.sink.latest(), f"external checkpoint of the {self.sink.name} sink"
        result = verify_chain(self.dialect, self.keyring(), self.origin, note, label)
        if record:
            self.record(VERIFY, actor=actor, outcome="success" if result.ok else "failure",
                        details={"count": result.count, "first_bad_seq": result.first_bad_seq,
                                 "reason": result.reason[:500],
                                 "external_checkpoint": note is not None})
        return result

    def events(self, first: int | None = None, last: int | None = None):
        """Stored events by ascending seq (AuditRecord), optionally within [first, last]."""
        with self.dialect.reading() as conn:
            for row in chain.stream(conn, self.dialect, first, last):
                yield AuditRecord.from_row(row)

    def head(self) -> tuple[int, str]:
        with self.dialect.reading() as conn:
            return chain.head(conn.cursor(), self.dialect)
