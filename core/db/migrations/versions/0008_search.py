"""Search across threads and mentions, tags and saved views.

- the full-text index of mention texts (core.db.search_index): on PostgreSQL a stored generated
  column `mentions.search_vector` = `to_tsvector('russian', text)` with a GIN index (filled for the
  mentions already stored as the column is added); on SQLite an FTS5 table of stemmed texts, filled
  here for the mentions already stored, with a trigger that drops a deleted mention's row;
- `thread_tags`: tags agents set on threads;
- `saved_views`: named sets of queue filters, personal or shared.

Revision ID: 0008_search
Revises: 0007_surveys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core.db import search_index

revision: str = "0008_search"
down_revision: str | Sequence[str] | None = "0007_surveys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thread_tags",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_thread_tags_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("thread_id", "tag", name=op.f("pk_thread_tags")),
    )
    op.create_index("ix_thread_tags_tag", "thread_tags", ["tag", "thread_id"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner"],
            ["desk_users.username"],
            name=op.f("fk_saved_views_owner_desk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("owner", "name", name=op.f("uq_saved_views_owner_name")),
    )
    op.create_index("ix_saved_views_shared", "saved_views", ["shared"])
    search_index.create(op.get_bind())


def downgrade() -> None:
    search_index.drop(op.get_bind())
    op.drop_index("ix_saved_views_shared", table_name="saved_views")
    op.drop_table("saved_views")
    op.drop_index("ix_thread_tags_tag", table_name="thread_tags")
    op.drop_table("thread_tags")
