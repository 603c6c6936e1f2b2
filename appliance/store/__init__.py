"""The relational store, the source of truth (SQLite by default, any SQLAlchemy URL:
PostgreSQL through psycopg 3 in production).

Public surface:
    Store(settings)      engine, sessions, migrations (Alembic)
    the tables           documents and chunks, accounts and conversations, adapters, audit,
                         the answer log, watched sources and their files
"""
from .account_tables import (
                             ROLES,
                             ApiTokenTable,
                             CollectionTable,
                             ConversationTable,
                             FeedbackTable,
                             GrantTable,
                             GroupTable,
                             MembershipTable,
                             MessageTable,
                             SessionTable,
                             ThrottleTable,
                             UserTable,
)
from .adapter_tables import AdapterTable
from .change_tables import (IndexChangeTable, IndexNodeTable, prune_changes, pruned_through,
                            sequence_head,
                            record_changes, report_position, sequence_state)
from .model_tables import ModelTable
from .quality_tables import AnswerLogTable
from .source_tables import SourceFileTable, SourceTable
from .audit_tables import AuditEventTable
from .db import Store
from .tables import ChunkTable, DocumentTable, IngestJobTable, utcnow

__all__ = ["ROLES", "AdapterTable", "AnswerLogTable", "ApiTokenTable", "AuditEventTable", "ChunkTable",
           "CollectionTable", "ConversationTable", "DocumentTable", "FeedbackTable",
           "GrantTable", "GroupTable", "IndexChangeTable", "IndexNodeTable", "IngestJobTable", "MembershipTable", "MessageTable", "ModelTable",
           "SessionTable", "SourceFileTable", "SourceTable", "Store", "ThrottleTable", "UserTable", "prune_changes", "pruned_through", "sequence_head",
           "record_changes", "report_position", "sequence_state", "utcnow"]
