"""Baseline: the schema as it was at version 5 of the hand-kept steps (legacy_schema.py).

One definition for both engines. Differences, each for a reason:
- PostgreSQL tables read in insertion order get a `rowid` identity column, which SQLite
  has implicitly, so the stores' `ORDER BY ... rowid` means the same on both;
- instants in ms are BIGINT (SQLite's INTEGER is 64-bit already);
- check and roll-up tables are WITHOUT ROWID on SQLite (their key is the row).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Id = sa.Integer


def _rowid() -> list:
    """PostgreSQL only: SQLite's implicit rowid, as a column."""
    if op.get_bind().dialect.name == "postgresql":
        return [sa.Column("rowid", sa.BigInteger, sa.Identity(always=False), nullable=False)]
    return []


def upgrade() -> None:
    for kind in ("detections", "localizations"):
        op.create_table(kind, sa.Column("id", Text, primary_key=True), sa.Column("timestamp", Text, nullable=False),
                        sa.Column("body", Text, nullable=False), *_rowid())
        op.create_index(f"{kind}_by_time", kind, ["timestamp"])

    op.create_table("targets", sa.Column("id", Id, primary_key=True, autoincrement=True),
                    sa.Column("kind", Text, nullable=False), sa.Column("key", Text, nullable=False),
                    sa.UniqueConstraint("kind", "key"))
    op.create_table("checks", sa.Column("target", Id, primary_key=True, autoincrement=False),
                    sa.Column("ts", Ms, primary_key=True, autoincrement=False),
                    sa.Column("status", Text, nullable=False), sa.Column("response_ms", sa.Float),
                    sa.Column("error", Text), sqlite_with_rowid=False)
    for size in ("minute", "hour", "day"):
        op.create_table(f"rollup_{size}", sa.Column("target", Id, primary_key=True, autoincrement=False),
                        sa.Column("bucket", Ms, primary_key=True, autoincrement=False),
                        sa.Column("checks", Id, nullable=False), sa.Column("up", Id, nullable=False),
                        sa.Column("rt_sum", sa.Float, nullable=False), sa.Column("rt_count", Id, nullable=False),
                        sa.Column("rt_max", sa.Float), sqlite_with_rowid=False)
    op.create_table("state_changes", sa.Column("target", Id, nullable=False), sa.Column("ts", Ms, nullable=False),
                    sa.Column("from_status", Text, nullable=False), sa.Column("to_status", Text, nullable=False),
                    sa.Column("reason", Text), *_rowid())
    op.create_index("state_changes_by_target", "state_changes", ["target", "ts"])
    op.create_index("state_changes_by_time", "state_changes", ["ts"])
    op.create_table("last_status", sa.Column("target", Id, primary_key=True, autoincrement=False),
                    sa.Column("entry", Text, nullable=False))

    op.create_table("accounts", sa.Column("name", Text, primary_key=True), sa.Column("role", Text, nullable=False),
                    sa.Column("password_hash", Text, nullable=False), sa.Column("created_ms", Ms, nullable=False))
    op.create_table("api_tokens", sa.Column("name", Text, primary_key=True), sa.Column("scopes", Text, nullable=False),
                    sa.Column("token_hash", Text, nullable=False, unique=True),
                    sa.Column("created_ms", Ms, nullable=False), sa.Column("last_used_ms", Ms))
    op.create_table("sessions", sa.Column("id_hash", Text, primary_key=True), sa.Column("account", Text, nullable=False),
                    sa.Column("created_ms", Ms, nullable=False), sa.Column("expires_ms", Ms, nullable=False))
    op.create_index("sessions_by_account", "sessions", ["account"])
    op.create_table("audit", sa.Column("ts_ms", Ms, nullable=False), sa.Column("actor", Text),
                    sa.Column("action", Text, nullable=False), sa.Column("subject", Text), sa.Column("address", Text),
                    sa.Column("detail", Text), *_rowid())
    op.create_index("audit_by_time", "audit", ["ts_ms"])

    op.create_table("incidents", sa.Column("id", Id, primary_key=True, autoincrement=True),
                    sa.Column("alert", Text, nullable=False), sa.Column("kind", Text, nullable=False),
                    sa.Column("key", Text, nullable=False), sa.Column("opened_ms", Ms, nullable=False),
                    sa.Column("reason", Text), sa.Column("last_sent_ms", Ms), sa.Column("resolved_ms", Ms))
    op.create_index("incidents_open", "incidents", ["alert", "kind", "key"],
                    sqlite_where=sa.text("resolved_ms IS NULL"), postgresql_where=sa.text("resolved_ms IS NULL"))
    op.create_table("notifications", sa.Column("ts_ms", Ms, nullable=False), sa.Column("alert", Text, nullable=False),
                    sa.Column("subject", Text, nullable=False), sa.Column("event", Text, nullable=False),
                    sa.Column("outcome", Text, nullable=False), sa.Column("detail", Text), *_rowid())
    op.create_index("notifications_by_time", "notifications", ["ts_ms"])
    op.create_table("silences", sa.Column("kind", Text, primary_key=True), sa.Column("key", Text, primary_key=True),
                    sa.Column("until_ms", Ms, nullable=False), sa.Column("by", Text))

    op.create_table("outbox", sa.Column("position", Id, primary_key=True, autoincrement=True),
                    sa.Column("kind", Text, nullable=False), sa.Column("record_id", Text, nullable=False),
                    sqlite_autoincrement=True)
    op.create_index("outbox_by_record", "outbox", ["kind", "record_id"])


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone; restore a backup instead")
