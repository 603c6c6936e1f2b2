"""DocumentService: documents as people see them: list, upload, delete, read chunk by chunk,
each checked against the caller's collections.

Chunk text is returned only from collections the caller may read; a document in another
collection answers "not found", exactly like one that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Callable

from sqlalchemy import func, select

from ..accounts import Access, PermissionDenied, Principal, check_name
from ..errors import InvalidRequest, NotFoundError, OversizeFileError, UnsupportedFileError
from ..settings import Settings
from ..store import ChunkTable, DocumentTable, Store
from .extraction import MIME_TYPES

ALLOWED_TYPES = tuple(sorted(MIME_TYPES))  # the upload allow-list: what ingest can extract


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    name: str
    collection: str
    version: int
    mime_type: str
    size_bytes: int
    chunks: int
    readable: bool
    writable: bool


@dataclass(frozen=True)
class ChunkView:
    id: int
    ordinal: int
    page: int | None
    section: str | None
    text: str


@dataclass(frozen=True)
class DocumentsPage:
    documents: list[DocumentInfo]
    upload_targets: list[str]
    allowed_types: tuple[str, ...]
    max_bytes: int


def safe_name(filename: str) -> str:
    """The last path part of an uploaded file name, without control characters."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if len(name) > 200:  # keep the type: "…long….md" must still read as Markdown
        suffix = PurePosixPath(name).suffix[:16]
        name = name[:200 - len(suffix)] + suffix
    if not name or name in (".", ".."):
        raise InvalidRequest("the uploaded file has no name")
    return name


class DocumentService:
    """What a caller may see and change among the documents."""

    def __init__(self, settings: Settings, store: Store, access: Access,
                 ingest_factory: Callable[[], Any]):
        self.settings, self.store, self.access = settings, store, access
        self.ingest_factory = ingest_factory

    def page(self, principal: Principal) -> DocumentsPage:
        return DocumentsPage(self.list(principal), self.upload_targets(principal), ALLOWED_TYPES,
                             self.settings.max_file_bytes)

    def list(self, principal: Principal) -> list[DocumentInfo]:
        """Documents in collections the caller may read or write (admins: every document)."""
        readable, writable = self.access.readable(principal), self.access.writable(principal)
        stmt = (select(DocumentTable, func.count(ChunkTable.id))
                .outerjoin(ChunkTable, ChunkTable.document_id == DocumentTable.id)
                .group_by(DocumentTable.id)
                .order_by(DocumentTable.collection, DocumentTable.name))
        if not principal.is_admin:
            stmt = stmt.where(DocumentTable.collection.in_(sorted(readable | writable)))
        with self.store.session() as sess:
            rows = sess.execute(stmt).all()
        return [DocumentInfo(d.id, d.name, d.collection, d.version, d.mime_type, d.size_bytes,
                             n, d.collection in readable, d.collection in writable)
                for d, n in rows]

    def upload_targets(self, principal: Principal) -> list[str]:
        targets = set(self.access.writable(principal))
        if principal.is_admin:
            targets.add(self.settings.default_collection)
        return sorted(targets)

    def chunks(self, principal: Principal, doc_id: int) -> tuple[DocumentInfo, list[ChunkView]]:
        """A readable document and its chunks in order."""
        readable = self.access.readable(principal)
        with self.store.session() as sess:
            doc = sess.get(DocumentTable, doc_id)
            if doc is None or doc.collection not in readable:
                raise NotFoundError(f"no document with id {doc_id}")
            rows = sess.scalars(select(ChunkTable).where(ChunkTable.document_id == doc_id)
                                .order_by(ChunkTable.ordinal)).all()
            chunks = [ChunkView(c.id, c.ordinal, c.page, c.section, c.text) for c in rows]
            info = DocumentInfo(doc.id, doc.name, doc.collection, doc.version, doc.mime_type,
                                doc.size_bytes, len(chunks), True,
                                doc.collection in self.access.writable(principal))
        return info, chunks

    def upload(self, principal: Principal, filename: str, data: bytes, collection: str | None):
        """Ingest one uploaded file into a collection the caller may write; FileOutcome."""
        name = safe_name(filename)
        suffix = PurePosixPath(name).suffix.lower()
        if suffix not in MIME_TYPES:
            raise UnsupportedFileError(f"{name}: type {suffix or '(none)'} is not accepted; "
                                       f"accepted: {', '.join(ALLOWED_TYPES)}")
        if len(data) > self.settings.max_file_bytes:
            raise OversizeFileError(f"{name} is larger than the limit of "
                                    f"{self.settings.max_file_bytes} bytes")
        collection = check_name("collection", collection or self.settings.default_collection)
        if collection not in self.upload_targets(principal):
            raise PermissionDenied(f"you may not add documents to collection {collection!r}")
        self.access.ensure_collection(collection)
        return self.ingest_factory().ingest_bytes(name, data, collection,
                                                  actor=principal.username)

    def delete(self, principal: Principal, doc_id: int) -> str:
        with self.store.session() as sess:
            doc = sess.get(DocumentTable, doc_id)
            collection = doc.collection if doc is not None else None
        writable = self.access.writable(principal)
        if collection is None or (collection not in writable and
                                  collection not in self.access.readable(principal)):
            raise NotFoundError(f"no document with id {doc_id}")
        if collection not in writable:
            raise PermissionDenied("you may not delete documents in this collection")
        return self.ingest_factory().delete(doc_id, actor=principal.username)
