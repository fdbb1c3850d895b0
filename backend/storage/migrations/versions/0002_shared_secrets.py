"""Secrets every gateway on one database shares: the session secret (so a login made
on one instance is valid on every other) and the generated ingestion token.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("shared_secrets", sa.Column("name", sa.Text, primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))


def downgrade() -> None:
    op.drop_table("shared_secrets")
