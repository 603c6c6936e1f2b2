"""Document commands: docs list, docs delete."""
from __future__ import annotations

from .common import print_json, services_from


def register(sub) -> None:
    p = sub.add_parser("docs", help="list or delete documents")
    docs = p.add_subparsers(dest="docs_command", metavar="ACTION")
    docs.required = True
    q = docs.add_parser("list", help="list documents")
    q.add_argument("--collection")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)
    q = docs.add_parser("delete", help="delete a document, its chunks and index entries")
    q.add_argument("id", type=int)
    q.set_defaults(func=cmd_delete)


def cmd_list(args) -> int:
    # Here rather than at import: `appliance --help` need not load SQLAlchemy.
    from sqlalchemy import func, select

    from ..store import ChunkTable, DocumentTable

    app = services_from(args)
    stmt = (select(DocumentTable, func.count(ChunkTable.id))
            .outerjoin(ChunkTable, ChunkTable.document_id == DocumentTable.id)
            .group_by(DocumentTable.id).order_by(DocumentTable.id))
    if args.collection:
        stmt = stmt.where(DocumentTable.collection == args.collection)
    with app.store.session() as sess:
        rows = [{"id": d.id, "name": d.name, "collection": d.collection, "version": d.version,
                 "sha256": d.sha256, "mime_type": d.mime_type, "size_bytes": d.size_bytes,
                 "chunks": n, "updated_at": d.updated_at.isoformat()}
                for d, n in sess.execute(stmt)]
    if args.json:
        print_json({"documents": rows})
        return 0
    for r in rows:
        print(f"{r['id']:>5}  v{r['version']:<3} {r['collection']:<12} {r['chunks']:>5} chunks  "
              f"{r['name']}")
    print(f"{len(rows)} documents")
    return 0


def cmd_delete(args) -> int:
    app = services_from(args)
    name = app.ingest.delete(args.id)
    print(f"deleted {args.id} ({name})")
    return 0
