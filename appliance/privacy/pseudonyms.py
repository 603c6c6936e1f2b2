"""PseudonymBook: consistent stand-ins (PERSON_1, PERSON_2...) within one document or conversation."""
from __future__ import annotations

import threading
from collections import OrderedDict


class PseudonymBook:
    """Numbers each distinct (type, normalised value) per scope, in order of first appearance.

    Scopes are kept in a bounded LRU so a long-running service cannot grow without limit; a scope
    evicted and seen again starts numbering afresh.
    """

    def __init__(self, max_scopes: int = 10_000) -> None:
        self._scopes: OrderedDict[str, dict[tuple[str, str], int]] = OrderedDict()
        self._max = max_scopes
        self._lock = threading.Lock()

    def number(self, scope: str, entity_type: str, key: str) -> int:
        """The 1-based number of ``key`` among values of ``entity_type`` in ``scope``."""
        with self._lock:
            table = self._scopes.get(scope)
            if table is None:
                table = self._scopes[scope] = {}
                while len(self._scopes) > self._max:
                    self._scopes.popitem(last=False)
            else:
                self._scopes.move_to_end(scope)
            n = table.get((entity_type, key))
            if n is None:
                n = table[(entity_type, key)] = 1 + sum(1 for t, _ in table if t == entity_type)
            return n

    def forget(self, scope: str) -> None:
        """Drop a scope's table (e.g. when a conversation is deleted)."""
        with self._lock:
            self._scopes.pop(scope, None)
