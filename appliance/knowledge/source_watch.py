"""SourceWatcher: keeps the watched sources in sync, in `appliance sources watch` or in the
background of one serving process.

Filesystem events (watchdog: inotify on Linux) mark a source dirty; it syncs once its events
have settled for `source_debounce_seconds`. Every `source_rescan_seconds` all sources sync
anyway: events are lost on network mounts and while nothing runs, and a sync of an unchanged
folder costs one stat per file. One watcher per data dir: a file lock decides which process it
is, and another takes over when that process ends. The same thread runs the hourly retention
check (expired documents and conversations leave by the erasure path).
"""
from __future__ import annotations

import fcntl
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)
LOOP_S = 0.25
SOURCES_REFRESH_S = 5.0


class SourceWatcher:
    def __init__(self, service: Any, lock_path: Path, rescan_seconds: float,
                 debounce_seconds: float, on_sync: Callable[[list], None] | None = None,
                 maintenance: tuple[float, Callable[[], None]] | None = None):
        self.service = service
        self.lock_path = Path(lock_path)
        self.rescan_seconds = rescan_seconds
        self.debounce_seconds = debounce_seconds
        self.on_sync = on_sync
        self.maintenance = maintenance  # (every seconds, task): retention runs here
        self._dirty: dict[int, set[str]] = {}
        self._last_event: dict[int, float] = {}
        self._guard = threading.Lock()
        self._roots: dict[int, Path] = {}
        self._observer = None
        self._watches: dict[int, Any] = {}
        self.syncs = 0  # completed sync runs (tests and the CLI read it)

    # -- events ----------------------------------------------------------------------------
    def _event(self, *paths: str) -> None:
        now = time.monotonic()
        with self._guard:
            for raw in paths:
                if not raw:
                    continue
                path = Path(raw)
                for source_id, root in self._roots.items():
                    if path == root or root in path.parents:
                        self._dirty.setdefault(source_id, set()).add(str(path))
                        self._last_event[source_id] = now

    def _schedule(self) -> None:
        """Watch the sources now registered (added or removed since the last look)."""
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in ("opened", "closed_no_write"):
                    return  # reads change nothing
                watcher._event(event.src_path, getattr(event, "dest_path", ""))

        current = {s.id: Path(s.path) for s in self.service.list()}
        with self._guard:
            self._roots = current
        for source_id in list(self._watches):
            if source_id not in current:
                self._observer.unschedule(self._watches.pop(source_id))
        for source_id, root in current.items():
            if source_id not in self._watches and root.is_dir():
                try:
                    self._watches[source_id] = self._observer.schedule(Handler(), str(root),
                                                                       recursive=True)
                except OSError as exc:  # inotify limits, a vanished mount: rescans cover it
                    log.warning("source %s: no filesystem events (%s); rescans only",
                                source_id, exc)

    # -- the loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Hold the watcher lock (waiting for it), then watch until `stop` is set."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as fh:
            while not stop.is_set():
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    stop.wait(SOURCES_REFRESH_S)  # another process watches; take over later
            else:
                return
            try:
                self._watch(stop)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _watch(self, stop: threading.Event) -> None:
        from watchdog.observers import Observer

        self._observer = Observer()
        self._observer.daemon = True
        self._observer.start()
        try:
            self._safely(self._schedule)  # the store may be away (a failover): retried
            self._sync(None)  # catch up with what changed while nothing watched
            last_full = last_look = time.monotonic()
            last_care = last_full - (self.maintenance[0] if self.maintenance else 0)
            reported: dict[int, int] = {}
            while not stop.wait(LOOP_S):
                now = time.monotonic()
                if self.maintenance and now - last_care >= self.maintenance[0]:
                    self._safely(self.maintenance[1])
                    last_care = now
                if now - last_look >= SOURCES_REFRESH_S:
                    known = set(self._roots)
                    self._safely(self._schedule)
                    new = set(self._roots) - known
                    if new:
                        self._sync(sorted(new))
                    last_look = now
                with self._guard:
                    counts = {i: len(p) for i, p in self._dirty.items()}
                    ready = sorted(i for i, t in self._last_event.items()
                                   if now - t >= self.debounce_seconds)
                if counts != reported:
                    self._safely(self.service.mark_pending, counts)
                    reported = counts
                if now - last_full >= self.rescan_seconds:
                    self._sync(None)
                    last_full = now
                    reported = {}
                elif ready:
                    with self._guard:
                        for i in ready:
                            self._dirty.pop(i, None)
                            self._last_event.pop(i, None)
                    self._sync(ready)
                    reported = {}
        finally:
            self._observer.stop()
            self._observer.join(timeout=5)

    def _sync(self, ids: list[int] | None) -> None:
        if ids is None:
            with self._guard:
                self._dirty.clear()
                self._last_event.clear()
        ids = None if ids is None else [i for i in ids if i in self._roots]
        if ids == []:
            return
        reports = self._safely(self.service.sync, ids, "sources-watch")
        self.syncs += 1
        if reports and self.on_sync is not None:
            self.on_sync(reports)

    @staticmethod
    def _safely(fn, *args):
        try:
            return fn(*args)
        except Exception:  # a sync that fails must not end the watching for good
            log.exception("sources: a sync failed; the next one retries")
            return None

    def start_background(self) -> tuple[threading.Thread, threading.Event]:
        """Watch in a daemon thread (the serving process); stop with the returned event."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="sources-watch",
                                  daemon=True)
        thread.start()
        return thread, stop
