"""Sign-in security: failed sign-in counters with their lockouts, and a forced password change.

- `desk_signin_throttle`: consecutive failures and the lockout of one user name or one client.
- `desk_users.must_change_password`: set for a printed first password; the desk shows only the
  change form until the user picked their own.

Revision ID: 0006_signin_security
Revises: 0005_reply_outbox
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_signin_security"
down_revision: str | Sequence[str] | None = "0005_reply_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_signin_throttle",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_desk_signin_throttle")),
    )
    op.create_index("ix_desk_signin_throttle_updated_at", "desk_signin_throttle", ["updated_at"])
    with op.batch_alter_table("desk_users") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("desk_users") as batch:
        batch.drop_column("must_change_password")
    op.drop_index("ix_desk_signin_throttle_updated_at", table_name="desk_signin_throttle")
    op.drop_table("desk_signin_throttle")
