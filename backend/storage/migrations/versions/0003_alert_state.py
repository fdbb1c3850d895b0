"""Alert state that every instance shares: silences with an id, a comment and a start
(made on any instance, through a page or the API), maintenance windows made through the
API, and acknowledgements of open incidents.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("alert_silences", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("kind", Text, nullable=False), sa.Column("key", Text, nullable=False),
                    sa.Column("starts_ms", Ms, nullable=False), sa.Column("until_ms", Ms, nullable=False),
                    sa.Column("comment", Text), sa.Column("by", Text))
    op.create_index("alert_silences_by_end", "alert_silences", ["until_ms"])
    op.execute("INSERT INTO alert_silences (kind, key, starts_ms, until_ms, by) "
               "SELECT kind, key, 0, until_ms, by FROM silences")
    op.drop_table("silences")
    op.create_table("maintenance_windows", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("kind", Text, nullable=False), sa.Column("key", Text, nullable=False),
                    sa.Column("starts_ms", Ms, nullable=False), sa.Column("until_ms", Ms, nullable=False),
                    sa.Column("comment", Text), sa.Column("by", Text))
    op.create_index("maintenance_windows_by_end", "maintenance_windows", ["until_ms"])
    op.add_column("incidents", sa.Column("acknowledged_ms", Ms))
    op.add_column("incidents", sa.Column("acknowledged_by", Text))


def downgrade() -> None:
    op.drop_column("incidents", "acknowledged_by")
    op.drop_column("incidents", "acknowledged_ms")
    op.drop_table("maintenance_windows")
    op.create_table("silences", sa.Column("kind", Text, primary_key=True), sa.Column("key", Text, primary_key=True),
                    sa.Column("until_ms", Ms, nullable=False), sa.Column("by", Text))
    op.drop_table("alert_silences")
