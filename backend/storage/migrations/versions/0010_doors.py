"""The doors of issue 29: a provider user's account is found by the provider's stable
subject (issuer + `sub`), never by a name made from its display name; and the first
admin's setup, once done (or once any admin existed), stays closed for good.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Text = sa.Text


def upgrade() -> None:
    op.add_column("accounts", sa.Column("oidc_issuer", Text))
    op.add_column("accounts", sa.Column("oidc_subject", Text))
    # One account per provider user: two gateways signing the same new user in at once
    # cannot make two. (NULLs, the local accounts, are distinct on both engines.)
    op.create_index("accounts_oidc_subject", "accounts", ["oidc_issuer", "oidc_subject"], unique=True)
    # A database that has had an admin never opens /setup again (backend/auth/first_start.py).
    op.execute("INSERT INTO shared_secrets (name, value) SELECT 'setup_closed', 'yes' "
               "WHERE EXISTS (SELECT 1 FROM accounts WHERE role = 'admin')")


def downgrade() -> None:
    op.execute("DELETE FROM shared_secrets WHERE name = 'setup_closed'")
    op.drop_index("accounts_oidc_subject", "accounts")
    op.drop_column("accounts", "oidc_subject")
    op.drop_column("accounts", "oidc_issuer")
