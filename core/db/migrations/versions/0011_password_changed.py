"""When a desk user's password last changed: browser sessions signed in before it end.

Revision ID: 0011_password_changed
Revises: 0010_notices
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_password_changed"
down_revision: str | Sequence[str] | None = "0010_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("desk_users") as batch:
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desk_users") as batch:
        batch.drop_column("password_changed_at")
