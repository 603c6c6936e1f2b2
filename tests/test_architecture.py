"""The dependency direction of ARCHITECTURE.md, checked on the import statements."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "appliance"
HEAVY = {"torch", "peft", "llama_cpp", "faiss", "sentence_transformers", "transformers", "bm25s",
         "onnxruntime", "onnx"}
HEAVY_OK = ("engines", "tuning")
FLASK_OK = ("app", "web", "cli")
LAYERS = {  # lower number = lower layer; a module may import its own layer or lower
    "errors": 0, "settings": 0,
    "privacy": 1, "audit": 1, "store": 1, "engines": 1, "tuning": 1,
    "extract": 2, "chunking": 2, "prompts": 2, "model_files": 2, "indexes": 2,
    "retrieval": 2, "ingest": 2, "chat": 2, "accounts": 2, "evaluation": 2,
    "accounts_access": 2, "accounts_auth": 2, "accounts_errors": 2, "accounts_tokens": 2,
    "asking": 2, "conversations": 2, "documents": 2, "embeddings": 2, "fairqueue": 2,
    "metrics": 2, "oversight": 2, "answer_check": 2,
    "services": 3,
    "cli": 4, "app": 4, "web": 4, "__main__": 4, "__init__": 4,
}


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    rel = path.relative_to(PKG).with_suffix("")
    package = ["appliance", *rel.parts[:-1]]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                yield ".".join(base + ([node.module] if node.module else []))
            else:
                yield node.module or ""


def _top(module_path: Path) -> str:
    return module_path.relative_to(PKG).parts[0].removesuffix(".py")


def test_heavy_libraries_only_in_engines_and_tuning():
    bad = []
    for path in PKG.rglob("*.py"):
        if _top(path) in HEAVY_OK:
            continue
        for name in _imports(path):
            if name.split(".")[0] in HEAVY:
                bad.append(f"{path.relative_to(PKG)} imports {name}")
    assert not bad, bad


def test_flask_only_at_the_edge():
    bad = [f"{p.relative_to(PKG)} imports {n}" for p in PKG.rglob("*.py")
           if _top(p) not in FLASK_OK for n in _imports(p) if n.split(".")[0] == "flask"]
    assert not bad, bad


def test_nothing_imports_upward():
    bad = []
    for path in PKG.rglob("*.py"):
        me = _top(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "appliance" or len(parts) < 2:
                continue
            other = parts[1]
            if other in LAYERS and me in LAYERS and LAYERS[other] > LAYERS[me]:
                bad.append(f"{path.relative_to(PKG)} imports {name}")
    assert not bad, bad


def test_every_module_has_a_layer():
    tops = {_top(p) for p in PKG.rglob("*.py")}
    assert not tops - set(LAYERS), f"classify these in LAYERS: {sorted(tops - set(LAYERS))}"


def test_privacy_is_pure_python():
    bad = [f"{p.relative_to(PKG)} imports {n}" for p in (PKG / "privacy").rglob("*.py")
           for n in _imports(p) if n.split(".")[0] in {"flask", "sqlalchemy"} | HEAVY]
    assert not bad, bad
