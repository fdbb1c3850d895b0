"""What a receiver reports each check, kept over time: its users and its SNR, in every
check and in the minute, hour and day buckets (the most users, and the mean SNR).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SIZES = ("minute", "hour", "day")


def upgrade() -> None:
    op.add_column("checks", sa.Column("users", sa.Integer))
    op.add_column("checks", sa.Column("snr_db", sa.Float))
    for size in SIZES:
        op.add_column(f"rollup_{size}", sa.Column("users_max", sa.Integer))
        op.add_column(f"rollup_{size}", sa.Column("snr_sum", sa.Float, nullable=False, server_default="0"))
        op.add_column(f"rollup_{size}", sa.Column("snr_count", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    for size in SIZES:
        for column in ("snr_count", "snr_sum", "users_max"):
            op.drop_column(f"rollup_{size}", column)
    op.drop_column("checks", "snr_db")
    op.drop_column("checks", "users")
