"""Parse YAML into plain values while remembering the line of every key and item."""
from __future__ import annotations

from typing import Any

import yaml

Path = tuple  # a key path such as ("entities", "EMAIL", "min_score")

MAX_VALUES = 20_000  # a policy file holds hundreds; aliases must not multiply them past this


class YamlProblem(ValueError):
    """The text is not valid YAML (or repeats a key); ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """Return (value, lines) where lines maps each key path to its 1-based line number."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # e.g. a character YAML does not allow
        raise YamlProblem(1, str(exc)) from exc
    try:
        node = loader.get_single_node()
        lines: dict[Path, int] = {}
        value = _convert(loader, node, (), lines, [0]) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlProblem(mark.line + 1 if mark else 1, str(exc.problem or exc)) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(1, str(exc)) from exc
    except YamlProblem:
        raise
    except (ValueError, IndexError, AttributeError, TypeError, OverflowError,
            RecursionError) as exc:  # a scalar PyYAML cannot build ("12:99:99", "0x", ...)
        raise YamlProblem(1, f"a value cannot be read ({type(exc).__name__}: {exc})") from exc
    finally:
        loader.dispose()
    return value, lines


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path, lines: dict,
             count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_VALUES:  # "billion laughs": each alias repeats the whole anchored value
        raise YamlProblem(node.start_mark.line + 1, f"the file expands to more than "
                          f"{MAX_VALUES:,} values (aliases that repeat aliases?)")
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)):
                raise YamlProblem(key_node.start_mark.line + 1, "keys must be plain scalars")
            if key in out:
                raise YamlProblem(key_node.start_mark.line + 1, f"duplicate key {key!r}")
            out[key] = _convert(loader, value_node, path + (key,), lines, count)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, item, path + (i,), lines, count)
                for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
