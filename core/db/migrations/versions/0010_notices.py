"""Desk notices: assignments, clocks about to run out and missed deadlines, told to agents and managers.

- `desk_notices`: one row per notice, unique by `key` (kind, thread, clock, due time, recipient),
  read in the desk and delivered by Telegram or e-mail once.
- `desk_user_prefs`: a user's e-mail and Telegram chat for notices, and whether they are away.

Revision ID: 0010_notices
Revises: 0009_calendar
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_notices"
down_revision: str | Sequence[str] | None = "0009_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DUE_COLUMNS = ("first_response_due", "update_due", "resolution_due")


def upgrade() -> None:
    op.create_table(
        "desk_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("clock", sa.String(length=16), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("about", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("telegram_status", sa.String(length=255), nullable=True),
        sa.Column("email_status", sa.String(length=255), nullable=True),
        sa.CheckConstraint("kind IN ('assigned', 'due_soon', 'missed')", name=op.f("ck_desk_notices_kind")),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_desk_notices_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["username"],
            ["desk_users.username"],
            name=op.f("fk_desk_notices_username_desk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_desk_notices_key")),
    )
    op.create_index("ix_desk_notices_user_read", "desk_notices", ["username", "read_at"])
    op.create_index("ix_desk_notices_pending", "desk_notices", ["delivered_at", "created_at"])
    op.create_index(op.f("ix_desk_notices_thread_id"), "desk_notices", ["thread_id"])
    op.create_table(
        "desk_user_prefs",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("telegram_chat_id", sa.String(length=64), nullable=True),
        sa.Column("away", sa.Boolean(), nullable=False),
        sa.Column("away_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"],
            ["desk_users.username"],
            name=op.f("fk_desk_user_prefs_username_desk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_desk_user_prefs")),
    )
    for column in _DUE_COLUMNS:
        op.create_index(f"ix_desk_threads_{column}", "desk_threads", [column])


def downgrade() -> None:
    for column in _DUE_COLUMNS:
        op.drop_index(f"ix_desk_threads_{column}", table_name="desk_threads")
    op.drop_table("desk_user_prefs")
    op.drop_index(op.f("ix_desk_notices_thread_id"), table_name="desk_notices")
    op.drop_index("ix_desk_notices_pending", table_name="desk_notices")
    op.drop_index("ix_desk_notices_user_read", table_name="desk_notices")
    op.drop_table("desk_notices")
