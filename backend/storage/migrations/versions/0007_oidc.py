"""Single sign-on with OpenID Connect: where an account comes from (a local password, or
the identity provider, whose accounts have no password here), the sign-ins under way
(one row each, taken once: a replayed `state` finds nothing), and an OIDC session's
tokens (encrypted with the session secret) with when its claims are next asked again.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Text = sa.Text
Ms = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("accounts", sa.Column("source", Text, nullable=False, server_default="local"))
    op.add_column("sessions", sa.Column("oidc_tokens", Text))
    op.add_column("sessions", sa.Column("refresh_due_ms", Ms))
    op.create_table("oidc_flows", sa.Column("state_hash", Text, primary_key=True),
                    sa.Column("nonce", Text, nullable=False), sa.Column("verifier", Text, nullable=False),
                    sa.Column("next", Text, nullable=False), sa.Column("created_ms", Ms, nullable=False))


def downgrade() -> None:
    op.drop_table("oidc_flows")
    op.drop_column("sessions", "refresh_due_ms")
    op.drop_column("sessions", "oidc_tokens")
    op.drop_column("accounts", "source")
