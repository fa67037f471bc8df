"""Initial schema: authors, threads, mentions, collector cursors.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("handle", sa.String(length=255), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("is_brand", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authors")),
        sa.UniqueConstraint("source", "author_id", name=op.f("uq_authors_source_author_id")),
    )
    op.create_table(
        "collector_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collector", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collector_cursors")),
        sa.UniqueConstraint("collector", "key", name=op.f("uq_collector_cursors_collector_key")),
    )
    op.create_table(
        "threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("thread_key", sa.String(length=255), nullable=False),
        sa.Column("brand", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("root_external_id", sa.String(length=255), nullable=True),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("first_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_customer_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_brand_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("max_negativity", sa.Float(), nullable=False),
        sa.Column("last_negativity", sa.Float(), nullable=True),
        sa.Column("assigned_to", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'open', 'waiting', 'resolved', 'closed')", name=op.f("ck_threads_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint("source", "thread_key", name=op.f("uq_threads_source_thread_key")),
    )
    # the queue: one index range scan per status, most negative first, then oldest first
    op.create_index(
        "ix_threads_queue",
        "threads",
        ["status", sa.literal_column("max_negativity DESC"), "first_message_at"],
        unique=False,
    )

    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("thread_key", sa.String(length=255), nullable=False),
        sa.Column("parent_external_id", sa.String(length=255), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("is_brand", sa.Boolean(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("brand", sa.String(length=255), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("reposts", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("negativity", sa.Float(), nullable=False),
        sa.Column("prob_negative", sa.Float(), nullable=False),
        sa.Column("prob_neutral", sa.Float(), nullable=False),
        sa.Column("prob_positive", sa.Float(), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("duplicate_of", sa.String(length=255), nullable=True),
        sa.CheckConstraint("label IN ('negative', 'neutral', 'positive')", name=op.f("ck_mentions_label")),
        sa.ForeignKeyConstraint(["author_id"], ["authors.id"], name=op.f("fk_mentions_author_id_authors")),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_mentions_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentions")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_mentions_source_external_id")),
    )
    op.create_index(op.f("ix_mentions_author_id"), "mentions", ["author_id"], unique=False)
    op.create_index("ix_mentions_created_at", "mentions", ["created_at"], unique=False)
    op.create_index("ix_mentions_thread_created", "mentions", ["thread_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mentions_thread_created", table_name="mentions")
    op.drop_index("ix_mentions_created_at", table_name="mentions")
    op.drop_index(op.f("ix_mentions_author_id"), table_name="mentions")

    op.drop_table("mentions")
    op.drop_index("ix_threads_queue", table_name="threads")

    op.drop_table("threads")
    op.drop_table("collector_cursors")
    op.drop_table("authors")
