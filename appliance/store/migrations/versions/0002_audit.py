"""audit log: events, checkpoints, anchors, prune guard, and the triggers that keep them append-only

Revision ID: 0002_audit
Revises: 0001_initial

The triggers stop the application (and mistakes) from changing the record: no UPDATE, no
DELETE except of events covered by a signed pruning anchor while a guard row for that anchor
exists in the same transaction, and every INSERT must extend the chain (next seq, right
prev_hash). Someone who owns the database can still drop them; signed checkpoints, kept
outside the database too, make that detectable.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

ZEROS = "0" * 64
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

NEXT_SEQ = ("COALESCE((SELECT MAX(seq) FROM audit_events), "
            "(SELECT MAX(up_to_seq) FROM audit_anchors), 0) + 1")
PREV_HASH = ("COALESCE((SELECT hash FROM audit_events WHERE seq = NEW.seq - 1), "
             "(SELECT hash FROM audit_anchors WHERE up_to_seq = NEW.seq - 1), "
             f"'{ZEROS}')")
GUARDED = ("EXISTS (SELECT 1 FROM audit_prune_guard g JOIN audit_anchors a "
           "ON a.up_to_seq = g.up_to_seq WHERE OLD.seq <= g.up_to_seq)")
ANCHORED = "EXISTS (SELECT 1 FROM audit_anchors WHERE up_to_seq = NEW.up_to_seq)"

SQLITE_TRIGGERS = {
    "audit_events_chain": f"""BEFORE INSERT ON audit_events
        WHEN NEW.seq <> {NEXT_SEQ} OR NEW.prev_hash <> {PREV_HASH}
        BEGIN SELECT RAISE(ABORT, 'audit_events: insert does not extend the chain'); END""",
    "audit_events_no_update": """BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    "audit_events_guarded_delete": f"""BEFORE DELETE ON audit_events WHEN NOT {GUARDED}
        BEGIN SELECT RAISE(ABORT, 'audit_events rows leave only through retention pruning'); END""",
    "audit_checkpoints_no_update": """BEFORE UPDATE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END""",
    "audit_checkpoints_no_delete": """BEFORE DELETE ON audit_checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END""",
    "audit_anchors_no_update": """BEFORE UPDATE ON audit_anchors
        BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END""",
    "audit_anchors_no_delete": """BEFORE DELETE ON audit_anchors
        BEGIN SELECT RAISE(ABORT, 'audit_anchors is append-only'); END""",
    "audit_prune_guard_anchored": f"""BEFORE INSERT ON audit_prune_guard WHEN NOT {ANCHORED}
        BEGIN SELECT RAISE(ABORT, 'audit_prune_guard needs a signed anchor first'); END""",
}

PG_FUNCTIONS = {
    "audit_reject_change": """BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END""",
    "audit_events_check_chain": f"""BEGIN
        IF NEW.seq <> {NEXT_SEQ} OR NEW.prev_hash <> {PREV_HASH} THEN
            RAISE EXCEPTION 'audit_events: insert does not extend the chain';
        END IF;
        RETURN NEW; END""",
    "audit_events_guard_delete": f"""BEGIN
        IF NOT {GUARDED} THEN
            RAISE EXCEPTION 'audit_events rows leave only through retention pruning';
        END IF;
        RETURN OLD; END""",
    "audit_prune_guard_check": f"""BEGIN
        IF NOT {ANCHORED} THEN
            RAISE EXCEPTION 'audit_prune_guard needs a signed anchor first';
        END IF;
        RETURN NEW; END""",
}

PG_TRIGGERS = {
    "audit_events_chain": "BEFORE INSERT ON audit_events FOR EACH ROW "
                          "EXECUTE FUNCTION audit_events_check_chain()",
    "audit_events_no_update": "BEFORE UPDATE ON audit_events FOR EACH ROW "
                              "EXECUTE FUNCTION audit_reject_change()",
    "audit_events_guarded_delete": "BEFORE DELETE ON audit_events FOR EACH ROW "
                                   "EXECUTE FUNCTION audit_events_guard_delete()",
    "audit_events_no_truncate": "BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT "
                                "EXECUTE FUNCTION audit_reject_change()",
    "audit_checkpoints_no_change": "BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW "
                                   "EXECUTE FUNCTION audit_reject_change()",
    "audit_checkpoints_no_truncate": "BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT "
                                     "EXECUTE FUNCTION audit_reject_change()",
    "audit_anchors_no_change": "BEFORE UPDATE OR DELETE ON audit_anchors FOR EACH ROW "
                               "EXECUTE FUNCTION audit_reject_change()",
    "audit_anchors_no_truncate": "BEFORE TRUNCATE ON audit_anchors FOR EACH STATEMENT "
                                 "EXECUTE FUNCTION audit_reject_change()",
    "audit_prune_guard_anchored": "BEFORE INSERT ON audit_prune_guard FOR EACH ROW "
                                  "EXECUTE FUNCTION audit_prune_guard_check()",
}


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("actor", sa.String, nullable=True),
        sa.Column("source", sa.String, nullable=True),
        sa.Column("target", sa.String, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String, nullable=True),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("hash", name="uq_audit_events_hash"),
    )
    op.create_index("ix_audit_events_ts", "audit_events", ["ts"])
    op.create_index("ix_audit_events_type", "audit_events", ["type"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.UniqueConstraint("size", name="uq_audit_checkpoints_size"),
    )
    op.create_table(
        "audit_anchors",
        sa.Column("up_to_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_prune_guard",
        sa.Column("up_to_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for name, body in PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"{body} $$")
        for name, spec in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {spec}")
    else:
        for name, spec in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {spec}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("audit_prune_guard")
    op.drop_table("audit_anchors")
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_events_actor", "audit_events")
    op.drop_index("ix_audit_events_type", "audit_events")
    op.drop_index("ix_audit_events_ts", "audit_events")
    op.drop_table("audit_events")
