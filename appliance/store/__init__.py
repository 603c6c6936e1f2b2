"""The relational store: documents, chunks, ingest jobs (SQLite by default, any SQLAlchemy URL)."""
from .db import Store

__all__ = ["Store"]
