"""Targets and alert rules made in the browser or through the API, beside the file's:
one row an entry, its keys as a file entry has them (JSON), paused or not.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("managed_targets", sa.Column("section", Text, primary_key=True),
                    sa.Column("key", Text, primary_key=True), sa.Column("entry", Text, nullable=False),
                    sa.Column("paused", sa.Integer, nullable=False, server_default="0"),
                    sa.Column("created_ms", Ms, nullable=False), sa.Column("updated_ms", Ms, nullable=False),
                    sa.Column("by", Text))


def downgrade() -> None:
    op.drop_table("managed_targets")
