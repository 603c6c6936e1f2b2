"""The layout rules of ARCHITECTURE.md, checked on the import statements.

Each rule is a function over a source tree, so the tests below can also show it catching a
planted violation in a small tree of their own.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "appliance"
HEAVY = {"torch", "peft", "llama_cpp", "faiss", "sentence_transformers", "transformers", "bm25s",
         "onnxruntime", "onnx", "spacy"}
HEAVY_OK = ("engines", "tuning")
FLASK_OK = ("app", "web", "cli")
# edge → wiring → flows → capabilities → leaves. A place may import its own rank or lower;
# among the flows, evaluation → answering → knowledge, and each may use accounts.
RANKS = {
    "errors": 0, "settings": 0,
    "privacy": 1, "audit": 1, "store": 1, "engines": 1, "tuning": 1,
    "accounts": 2.0, "knowledge": 2.1, "answering": 2.2, "evaluation": 2.3,
    "services": 3,
    "cli": 4, "app": 4, "web": 4, "__main__": 4, "__init__": 4,
}
# What appliance/ itself may hold besides the packages.
TOP_MODULES = {"__init__", "__main__", "app", "services", "settings", "errors"}


class Module:
    """One source file: its dotted name, the place it belongs to, and what it imports."""

    def __init__(self, root: Path, path: Path):
        rel = path.relative_to(root).with_suffix("")
        self.path, self.rel = path, rel
        self.place = rel.parts[0]
        parts = [root.name, *rel.parts]
        self.is_package = parts[-1] == "__init__"
        self.name = ".".join(parts[:-1] if self.is_package else parts)
        self.package = parts[:-1]
        self.tree = ast.parse(path.read_text())

    def imports(self):
        """(dotted target, imported names or None, node) for every import, at any depth."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, None, node
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = self.package[:len(self.package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                yield target, [a.name for a in node.names], node


@cache
def modules(root: Path = PKG) -> tuple[Module, ...]:
    return tuple(Module(root, p) for p in sorted(root.rglob("*.py")))


def _place_of(target: str, root_name: str) -> str | None:
    parts = target.split(".")
    return parts[1] if parts[0] == root_name and len(parts) > 1 else None


def upward_imports(root: Path = PKG) -> list[str]:
    bad = []
    for mod in modules(root):
        for target, _, _ in mod.imports():
            other = _place_of(target, root.name)
            if other in RANKS and mod.place in RANKS and RANKS[other] > RANKS[mod.place]:
                bad.append(f"{mod.rel} imports {target}")
    return bad


def unranked_places(root: Path = PKG) -> list[str]:
    return sorted({m.place for m in modules(root)} - set(RANKS))


def private_imports(root: Path = PKG) -> list[str]:
    """Imports of another package's inside (`appliance.store.tables`): use its __init__."""
    bad = []
    for mod in modules(root):
        for target, _, _ in mod.imports():
            parts = target.split(".")
            if parts[0] == root.name and len(parts) > 2 and parts[1] != mod.place:
                bad.append(f"{mod.rel} imports {target}")
    return bad


def import_circles(root: Path = PKG) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), counting imports inside functions too."""
    mods = {m.name: m for m in modules(root)}
    graph: dict[str, set[str]] = {}
    for name, mod in mods.items():
        edges = set()
        for target, names, _ in mod.imports():
            for t in ([f"{target}.{n}" for n in names] if names else []) + [target]:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name and not name.startswith(t + "."):
                    edges.add(t)
                    break
        graph[name] = edges
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return circles


def heavy_imports(root: Path = PKG) -> list[str]:
    """Heavy libraries: only in engines/ and tuning/, and there only inside functions."""
    bad = []
    for mod in modules(root):
        top_level = {id(n) for n in mod.tree.body}
        for target, _, node in mod.imports():
            if target.split(".")[0] not in HEAVY:
                continue
            if mod.place not in HEAVY_OK:
                bad.append(f"{mod.rel} imports {target}")
            elif id(node) in top_level:
                bad.append(f"{mod.rel} imports {target} at module import (import it at first use)")
    return bad


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "appliance"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


CLEAN = {"__init__.py": "", "errors.py": "", "store/__init__.py": "from ..errors import X\n",
         "store/db.py": "from .. import errors\n",
         "knowledge/__init__.py": "from .ingest import IngestService\n",
         "knowledge/ingest.py": "from ..store import Store\nfrom ..accounts import Principal\n",
         "accounts/__init__.py": "", "answering/__init__.py": "from ..knowledge import Hit\n"}


# -- the rules hold on appliance/ ----------------------------------------------------------------
def test_nothing_imports_upward():
    assert not upward_imports(), upward_imports()


def test_every_place_has_a_rank():
    assert not unranked_places(), f"classify these in RANKS: {unranked_places()}"


def test_packages_are_used_through_their_surface():
    assert not private_imports(), private_imports()


def test_no_import_circles():
    assert not import_circles(), import_circles()


def test_heavy_libraries_only_in_engines_and_tuning_and_only_at_first_use():
    assert not heavy_imports(), heavy_imports()


def test_flask_only_at_the_edge():
    bad = [f"{m.rel} imports {t}" for m in modules() if m.place not in FLASK_OK
           for t, _, _ in m.imports() if t.split(".")[0] == "flask"]
    assert not bad, bad


def test_privacy_is_pure_python():
    bad = [f"{m.rel} imports {t}" for m in modules() if m.place == "privacy"
           for t, _, _ in m.imports() if t.split(".")[0] in {"flask", "sqlalchemy"} | HEAVY]
    assert not bad, bad


def test_top_level_holds_only_the_surface_wiring_and_leaves():
    top = {p.stem for p in PKG.glob("*.py")}
    assert top == TOP_MODULES, f"move into a package: {sorted(top - TOP_MODULES)}"


def test_every_package_names_its_public_surface():
    missing = []
    for init in PKG.glob("*/__init__.py"):
        tree = ast.parse(init.read_text())
        names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                 if isinstance(t, ast.Name)}
        if "__all__" not in names:
            missing.append(init.parent.name)
        if not ast.get_docstring(tree):
            missing.append(f"{init.parent.name} (no docstring)")
    assert not missing, missing


# -- the rules catch what is planted -------------------------------------------------------------
def test_a_clean_tree_passes(tmp_path):
    root = _tree(tmp_path, CLEAN)
    assert (upward_imports(root), private_imports(root), import_circles(root),
            heavy_imports(root)) == ([], [], [], [])


@pytest.mark.parametrize("rel, text, target", [
    ("store/db.py", "from ..knowledge import IngestService\n", "appliance.knowledge"),
    ("knowledge/ingest.py", "from ..answering import Hit\n", "appliance.answering"),
    ("accounts/users.py", "from ..knowledge import Indexes\n", "appliance.knowledge"),
    ("errors.py", "from appliance.services import build\n", "appliance.services"),
])
def test_a_planted_upward_import_fails(tmp_path, rel, text, target):
    root = _tree(tmp_path, {**CLEAN, rel: text})
    assert upward_imports(root) == [f"{Path(rel).with_suffix('')} imports {target}"]


def test_a_planted_circle_fails(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "privacy/__init__.py": "",
                            "privacy/policy.py": "def load():\n    from .checks import Checker\n",
                            "privacy/checks.py": "from .policy import load\n"})
    assert import_circles(root) == [["appliance.privacy.checks", "appliance.privacy.policy"]]


def test_a_planted_private_import_fails(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "knowledge/ingest.py": "from ..store.db import Store\n"})
    assert private_imports(root) == ["knowledge/ingest imports appliance.store.db"]


def test_a_planted_heavy_import_fails(tmp_path):
    root = _tree(tmp_path, {**CLEAN, "knowledge/ingest.py": "import torch\n",
                            "engines/__init__.py": "", "engines/llm.py": "import llama_cpp\n",
                            "engines/ok.py": "def load():\n    import faiss\n"})
    assert heavy_imports(root) == [
        "engines/llm imports llama_cpp at module import (import it at first use)",
        "knowledge/ingest imports torch"]


def test_every_public_name_resolves():
    """A package's __all__ (lazy ones included) names only what it can hand out."""
    import importlib

    broken = []
    for init in sorted(PKG.glob("*/__init__.py")):
        package = importlib.import_module(f"appliance.{init.parent.name}")
        broken += [f"{init.parent.name}.{n}" for n in package.__all__ if not hasattr(package, n)]
    assert not broken, broken
