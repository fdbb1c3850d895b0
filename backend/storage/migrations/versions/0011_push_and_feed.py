"""Issue 32: push services' latest reports (from POST /api/v1/push/{name} or the
platform's feed), shared by every gateway on the database so that the poller judges a
report any of them received; and the feed's messages already handled (their identity,
so a redelivered message is not counted twice, on any gateway).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("push_reports", sa.Column("name", Text, primary_key=True),
                    sa.Column("status", Text, nullable=False), sa.Column("response_time_ms", sa.Float),
                    sa.Column("error", Text), sa.Column("received_ms", Ms, nullable=False),
                    sa.Column("source", Text, nullable=False))
    op.create_table("feed_handled", sa.Column("identity", Text, primary_key=True),
                    sa.Column("handled_ms", Ms, nullable=False))
    op.create_index("feed_handled_by_time", "feed_handled", ["handled_ms"])


def downgrade() -> None:
    op.drop_index("feed_handled_by_time", "feed_handled")
    op.drop_table("feed_handled")
    op.drop_table("push_reports")
