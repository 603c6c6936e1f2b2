"""Checker: turns parsed policy YAML into a Policy, naming file and line for each problem."""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

from ..errors import PolicyError
from .operators import OPERATORS
from .policy import (_CUSTOM_KEYS, _POLICY_NAME, _RULE_KEYS, _TOP_KEYS, _TYPE_NAME, NER_LANGUAGES,
                     PATHS, CustomRecognizerSpec, EntityRule, Policy, known_phone_region)
from .recognizers import BUILTIN_TYPES, NER_TYPES


class Checker:
    """Validates one policy document; ``fail`` raises PolicyError at a key path's line."""

    def __init__(self, source: str, lines: dict) -> None:
        self.source = source
        self.lines = lines

    def fail(self, path: tuple, problem: str) -> None:
        while path and path not in self.lines:
            path = path[:-1]
        raise PolicyError(f"{self.source}:{self.lines.get(path, 1)}: {problem}")

    def build(self, data: Any, sha256: str, default_name: str) -> Policy:
        if not isinstance(data, dict):
            self.fail((), "a policy must be a mapping of keys (see policies/README.md)")
        self._keys(data, (), _TOP_KEYS)
        if data.get("version", 1) != 1:
            self.fail(("version",), f"unsupported version {data.get('version')!r} (supported: 1)")
        name = data.get("name", default_name)
        if not isinstance(name, str) or not _POLICY_NAME.match(name):
            self.fail(("name",), "name must be letters, digits, '-' or '_'")
        description = data.get("description", "")
        if not isinstance(description, str):
            self.fail(("description",), "description must be text")
        paths = frozenset(self._paths(data.get("paths", list(PATHS)), ("paths",)))
        regions = tuple(self._str_list(data.get("phone_regions", ["US", "GB"]), ("phone_regions",)))
        for i, code in enumerate(regions):
            if not known_phone_region(code):
                self.fail(("phone_regions", i), f"unknown phone region {code!r} (use ISO codes: US, GB, DE)")
        deny = self._deny_terms(data.get("deny_terms", {}))
        custom = self._custom(data.get("custom_recognizers", []))
        defaults = self._defaults(data.get("defaults", {}))
        extra = set(deny) | {c.type for c in custom}
        entities = self._entities(data.get("entities"), defaults, paths, extra)
        for t in sorted(extra - set(entities)):
            where = ("deny_terms", t) if t in deny else ("custom_recognizers",)
            self.fail(where, f"type {t} has no entry under entities (give it an action)")
        languages = tuple(self._str_list(data.get("languages", ["en"]), ("languages",)))
        for i, lang in enumerate(languages):
            if not re.fullmatch(r"[a-z]{2}", lang):
                self.fail(("languages", i), f"language {lang!r} must be an ISO 639-1 code such as 'en'")
            if set(entities) & set(NER_TYPES) and lang not in NER_LANGUAGES:
                self.fail(("languages", i), f"no NER model is installed for language {lang!r} "
                          f"(installed: {', '.join(NER_LANGUAGES)}); remove it or the NER types")
        allow = frozenset(s.casefold() for s in self._str_list(data.get("allow_list", []), ("allow_list",)))
        return Policy(name=name, source=self.source, sha256=sha256, description=description.strip(),
                      languages=languages, paths=paths, phone_regions=regions,
                      entities=MappingProxyType(entities), allow_list=allow,
                      deny_terms=MappingProxyType(deny), custom_recognizers=tuple(custom))

    def _keys(self, mapping: dict, path: tuple, allowed) -> None:
        for key in mapping:
            if key not in allowed:
                self.fail(path + (key,), f"unknown key {key!r} (allowed: {', '.join(allowed)})")

    def _str_list(self, value: Any, path: tuple) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(path, f"{path[-1]} must be a list of non-empty strings")
        return value

    def _paths(self, value: Any, path: tuple) -> list[str]:
        items = self._str_list(value, path)
        for i, p in enumerate(items):
            if p not in PATHS:
                self.fail(path + (i,), f"unknown path {p!r} (paths: {', '.join(PATHS)})")
        return items

    def _score(self, value: Any, path: tuple) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            self.fail(path, f"{path[-1]} must be a number from 0 to 1, not {value!r}")
        return float(value)

    def _defaults(self, value: Any) -> dict:
        if not isinstance(value, dict):
            self.fail(("defaults",), "defaults must be a mapping")
        self._keys(value, ("defaults",), ("action", "min_score"))
        action = value.get("action", "redact")
        if not isinstance(action, str) or action not in OPERATORS:
            self.fail(("defaults", "action"), f"unknown action {action!r} (actions: {', '.join(OPERATORS)})")
        return {"action": action, "min_score": self._score(value.get("min_score", 0.5), ("defaults", "min_score"))}

    def _entities(self, value: Any, defaults: dict, paths: frozenset, extra: set) -> dict:
        if not isinstance(value, dict) or not value:
            self.fail(("entities",), "entities must map at least one entity type to a rule")
        known = BUILTIN_TYPES | extra
        rules = {}
        for etype, rule in value.items():
            where = ("entities", etype)
            if not isinstance(etype, str) or etype not in known:
                hint = "" if not isinstance(etype, str) else _closest(etype, known)
                self.fail(where, f"unknown entity type {etype!r}{hint}")
            rules[etype] = self._rule(etype, rule, defaults, paths, where)
        return rules

    def _rule(self, etype: str, rule: Any, defaults: dict, paths: frozenset, where: tuple) -> EntityRule:
        if rule is None:
            rule = {}
        if isinstance(rule, str):
            rule = {"action": rule}
        if not isinstance(rule, dict):
            self.fail(where, f"{etype}: a rule is an action name or a mapping")
        action = rule.get("action", defaults["action"])
        operator = OPERATORS.get(action) if isinstance(action, str) else None
        if operator is None:
            self.fail(where + ("action",), f"{etype}: unknown action {action!r} (actions: {', '.join(OPERATORS)})")
        self._keys(rule, where, _RULE_KEYS + tuple(operator.params))
        params = {}
        for pname, (default, check) in operator.params.items():
            v = rule.get(pname, default)
            problem = check(v)
            if problem:
                self.fail(where + (pname,), f"{etype}: {action} parameter {pname} {problem}")
            params[pname] = v
        min_score = self._score(rule.get("min_score", defaults["min_score"]), where + ("min_score",))
        rule_paths = frozenset(self._paths(rule["paths"], where + ("paths",))) if "paths" in rule else paths
        if not rule_paths <= paths:
            self.fail(where + ("paths",), f"{etype}: paths must be among the policy's paths")
        return EntityRule(etype, action, min_score, rule_paths, MappingProxyType(params))

    def _deny_terms(self, value: Any) -> dict[str, tuple[str, ...]]:
        if not isinstance(value, dict):
            self.fail(("deny_terms",), "deny_terms must map an entity type to a list of terms")
        out = {}
        for etype, terms in value.items():
            if not isinstance(etype, str) or not _TYPE_NAME.match(etype):
                self.fail(("deny_terms", etype), f"type {etype!r} must be UPPER_SNAKE_CASE")
            out[etype] = tuple(self._str_list(terms, ("deny_terms", etype)))
            if not out[etype]:
                self.fail(("deny_terms", etype), f"{etype}: list at least one term")
        return out

    def _custom(self, value: Any) -> list[CustomRecognizerSpec]:
        if not isinstance(value, list):
            self.fail(("custom_recognizers",), "custom_recognizers must be a list")
        specs, names = [], set()
        for i, item in enumerate(value):
            where = ("custom_recognizers", i)
            if not isinstance(item, dict):
                self.fail(where, "each custom recognizer is a mapping")
            self._keys(item, where, _CUSTOM_KEYS)
            for key in ("name", "type", "pattern"):
                if not isinstance(item.get(key), str) or not item[key]:
                    self.fail(where, f"custom recognizer needs a {key}")
            if item["name"] in names or item["name"] in BUILTIN_TYPES:
                self.fail(where + ("name",), f"duplicate recognizer name {item['name']!r}")
            names.add(item["name"])
            if not _TYPE_NAME.match(item["type"]):
                self.fail(where + ("type",), f"type {item['type']!r} must be UPPER_SNAKE_CASE")
            try:
                compiled = re.compile(item["pattern"])
            except (re.error, OverflowError, RecursionError) as exc:  # a{4294967296}, ((((...
                self.fail(where + ("pattern",), f"invalid regular expression: "
                                                f"{exc or type(exc).__name__}")
            if compiled.match(""):
                self.fail(where + ("pattern",), "pattern matches the empty string")
            specs.append(CustomRecognizerSpec(
                item["name"], item["type"], item["pattern"],
                self._score(item.get("score", 0.6), where + ("score",)),
                tuple(self._str_list(item.get("context", []), where + ("context",))),
                tuple(self._str_list(item.get("negative_context", []), where + ("negative_context",))),
                bool(item.get("ignore_case", False))))
        return specs


def _closest(name: str, known) -> str:
    import difflib
    match = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {match[0]}?)" if match else f" (known: {', '.join(sorted(known))})"
