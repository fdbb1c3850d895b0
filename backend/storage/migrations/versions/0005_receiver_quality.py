"""A receiver's quality over time: per check the most users it takes, its ADC overloads
since the previous check and its GPS fixes in the last minute (with their roll-ups), and
the SNR measurements a KiwiSDR keeps of itself (`/snr`, hourly, a week on the receiver).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SIZES = ("minute", "hour", "day")
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("checks", sa.Column("users_max", sa.Integer))
    op.add_column("checks", sa.Column("adc_overloads", sa.Integer))
    op.add_column("checks", sa.Column("gps_fixes_min", sa.Integer))
    for size in SIZES:
        op.add_column(f"rollup_{size}", sa.Column("users_cap", sa.Integer))  # the most users_max seen
        op.add_column(f"rollup_{size}", sa.Column("adc_sum", sa.Integer, nullable=False, server_default="0"))
        op.add_column(f"rollup_{size}", sa.Column("adc_count", sa.Integer, nullable=False, server_default="0"))
        op.add_column(f"rollup_{size}", sa.Column("fixes_sum", sa.Integer, nullable=False, server_default="0"))
        op.add_column(f"rollup_{size}", sa.Column("fixes_count", sa.Integer, nullable=False, server_default="0"))
    op.create_table("snr_measurements", sa.Column("target", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("ts", Ms, primary_key=True, autoincrement=False),
                    sa.Column("snr_all_db", sa.Integer), sa.Column("snr_hf_db", sa.Integer),
                    sa.Column("noise_db", sa.Integer), sa.Column("bands", sa.Text, nullable=False),
                    sqlite_with_rowid=False)
    op.create_index("snr_measurements_by_time", "snr_measurements", ["ts"])


def downgrade() -> None:
    op.drop_index("snr_measurements_by_time", "snr_measurements")
    op.drop_table("snr_measurements")
    for size in SIZES:
        for column in ("fixes_count", "fixes_sum", "adc_count", "adc_sum", "users_cap"):
            op.drop_column(f"rollup_{size}", column)
    for column in ("gps_fixes_min", "adc_overloads", "users_max"):
        op.drop_column("checks", column)
