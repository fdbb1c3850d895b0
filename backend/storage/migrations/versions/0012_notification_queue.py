"""Notifications kept until delivered (backend/alerting/kept.py): a gateway killed with
notifications queued or waiting for their group leaves them here, and whichever gateway
polls sends them once their holder's hold has lapsed. No URLs are kept (they may hold
secrets): the alert's own, as configured when it is sent.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("notification_queue", sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("alert", Text, nullable=False), sa.Column("subject", Text, nullable=False),
                    sa.Column("event", Text, nullable=False), sa.Column("title", Text, nullable=False),
                    sa.Column("body", Text, nullable=False), sa.Column("queued_ms", Ms, nullable=False),
                    sa.Column("holder", Text, nullable=False), sa.Column("held_until_ms", Ms, nullable=False))
    op.create_index("notification_queue_by_hold", "notification_queue", ["held_until_ms"])


def downgrade() -> None:
    op.drop_index("notification_queue_by_hold", "notification_queue")
    op.drop_table("notification_queue")
