"""Collector health, hourly collector counts, and replies.

Revision ID: 0002_collectors_replies
Revises: 0001_initial
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_collectors_replies"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "collector_health",
        sa.Column("collector", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("poll_interval_s", sa.Float(), nullable=False),
        _ts("started_at"),
        _ts("last_poll_at"),
        _ts("last_success_at"),
        _ts("last_error_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("alert", sa.Text(), nullable=True),
        _ts("alert_at"),
        _ts("retry_at"),
        sa.Column("mentions_total", sa.Integer(), nullable=False),
        _ts("newest_mention_at"),
        sa.Column("lag_s", sa.Float(), nullable=True),
        _ts("updated_at", nullable=False),
        sa.CheckConstraint(
            "state IN ('ok', 'failing', 'rate_limited', 'stopped')", name=op.f("ck_collector_health_state")
        ),
        sa.PrimaryKeyConstraint("collector", name=op.f("pk_collector_health")),
    )
    op.create_table(
        "collector_hourly",
        sa.Column("collector", sa.String(length=128), nullable=False),
        _ts("hour", nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("collector", "hour", name=op.f("pk_collector_hourly")),
    )
    op.create_table(
        "replies",
        sa.Column("reply_id", sa.String(length=36), nullable=False),
        sa.Column("thread_key", sa.String(length=255), nullable=False),
        sa.Column("in_reply_to", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'manual')", name=op.f("ck_replies_status")
        ),
        sa.PrimaryKeyConstraint("reply_id", name=op.f("pk_replies")),
    )
    op.create_index(op.f("ix_replies_status"), "replies", ["status"], unique=False)
    op.create_index(op.f("ix_replies_thread_key"), "replies", ["thread_key"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_replies_thread_key"), table_name="replies")
    op.drop_index(op.f("ix_replies_status"), table_name="replies")
    op.drop_table("replies")
    op.drop_table("collector_hourly")
    op.drop_table("collector_health")
