"""RecognizerRegistry: the explicit table of recognizers, rejecting duplicate names."""
from __future__ import annotations

from typing import Iterable, Iterator

from .base import Recognizer


class DuplicateRecognizerError(ValueError):
    """Two recognizers were registered under the same name."""


class RecognizerRegistry:
    """Recognizers by name; ``entity_types`` is every type some recognizer can emit."""

    def __init__(self, recognizers: Iterable[Recognizer] = ()) -> None:
        self._by_name: dict[str, Recognizer] = {}
        for r in recognizers:
            self.add(r)

    def add(self, recognizer: Recognizer) -> None:
        if not recognizer.name or not recognizer.entity:
            raise ValueError(f"{type(recognizer).__name__} needs a name and an entity type")
        if recognizer.name in self._by_name:
            raise DuplicateRecognizerError(f"recognizer {recognizer.name!r} is already registered")
        self._by_name[recognizer.name] = recognizer

    def __iter__(self) -> Iterator[Recognizer]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __getitem__(self, name: str) -> Recognizer:
        return self._by_name[name]

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(r.entity for r in self._by_name.values())

    def for_types(self, types: Iterable[str]) -> list[Recognizer]:
        """The recognizers that emit any of ``types``, in registration order."""
        wanted = set(types)
        return [r for r in self._by_name.values() if r.entity in wanted]
