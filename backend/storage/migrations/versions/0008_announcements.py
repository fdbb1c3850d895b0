"""Announcements for the public status pages: what operators tell the receivers' owners
and listeners (maintenance, an incident and its updates, resolved), on chosen pages,
kept in an archive once archived.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("announcements", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("type", Text, nullable=False), sa.Column("title", Text, nullable=False),
                    sa.Column("text", Text, nullable=False), sa.Column("pages", Text, nullable=False),
                    sa.Column("created_ms", Ms, nullable=False), sa.Column("updated_ms", Ms, nullable=False),
                    sa.Column("archived_ms", Ms), sa.Column("by", Text))
    op.create_index("announcements_by_update", "announcements", ["updated_ms"])


def downgrade() -> None:
    op.drop_index("announcements_by_update", "announcements")
    op.drop_table("announcements")
