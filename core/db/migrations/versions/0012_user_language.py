"""A desk user's own language ("ru", "en"); NULL: the desk's default (MD_DESK_LANGUAGE).

Revision ID: 0012_user_language
Revises: 0011_password_changed
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_user_language"
down_revision: str | Sequence[str] | None = "0011_password_changed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("desk_users") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desk_users") as batch:
        batch.drop_column("language")
