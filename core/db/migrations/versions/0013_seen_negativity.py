"""The desk sync job's view of a thread's highest negativity, so a pass reads only changed threads.

Revision ID: 0013_seen_negativity
Revises: 0012_user_language
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_seen_negativity"
down_revision: str | Sequence[str] | None = "0012_user_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("desk_threads") as batch:
        batch.add_column(sa.Column("seen_negativity", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("desk_threads") as batch:
        batch.drop_column("seen_negativity")
