"""Analytics: negativity-spike alerts and the daily digests sent.

Revision ID: 0003_analytics
Revises: 0002_collectors_replies
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_analytics"
down_revision: str | None = "0002_collectors_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=True),
        _ts("window_start", nullable=False),
        _ts("window_end", nullable=False),
        sa.Column("negative_count", sa.Integer(), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("negative_share", sa.Float(), nullable=False),
        sa.Column("baseline_share", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _ts("raised_at", nullable=False),
        _ts("stored_at", nullable=False),
        sa.Column("webhook_status", sa.String(length=255), nullable=True),
        sa.Column("email_status", sa.String(length=255), nullable=True),
        _ts("acknowledged_at"),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_window_start", "alerts", ["window_start"], unique=False)
    op.create_table(
        "digest_runs",
        sa.Column("day", sa.String(length=10), nullable=False),
        _ts("sent_at", nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_digest_runs")),
    )


def downgrade() -> None:
    op.drop_table("digest_runs")
    op.drop_index("ix_alerts_window_start", table_name="alerts")
    op.drop_table("alerts")
