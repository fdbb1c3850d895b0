"""Probes from several sites: an agent token names its site, and what each site saw last
of each target (its votes) with its latest report per group, shared by every gateway on
the database so the poller counts votes posted to any of them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("site", Text))
    op.create_table("site_reports", sa.Column("site", Text, primary_key=True),
                    sa.Column("grp", Text, primary_key=True),
                    sa.Column("reported_ms", Ms, nullable=False), sa.Column("round_ms", Ms, nullable=False),
                    sa.Column("problem", Text), sa.Column("dropped", sa.Integer, nullable=False, server_default="0"),
                    sa.Column("agent", Text))
    op.create_table("site_votes", sa.Column("site", Text, primary_key=True), sa.Column("grp", Text, primary_key=True),
                    sa.Column("target", Text, primary_key=True), sa.Column("status", Text, nullable=False),
                    sa.Column("checked_ms", Ms, nullable=False), sa.Column("reason", Text),
                    sa.Column("response_time_ms", sa.Float))


def downgrade() -> None:
    op.drop_table("site_votes")
    op.drop_table("site_reports")
    op.drop_column("api_tokens", "site")
