"""Replies leave through a transactional outbox; a reply's outcome is applied to its case once.

- `reply_outbox`: one row per reply still to be handed to the broker (or handed and not yet
  answered by the publisher), written in the desk's transaction that records the reply.
- `replies.first_attempt_at`: when the publisher first called the network (X recovery looks for
  our reply from then on), `confirmed_at`: when the network confirmed it, `settled_at`: when the
  outcome reached the case's clocks and status.

Revision ID: 0005_reply_outbox
Revises: 0004_merge
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_reply_outbox"
down_revision: str | Sequence[str] | None = "0004_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reply_outbox",
        sa.Column(
            "reply_id",
            sa.String(length=36),
            sa.ForeignKey("replies.reply_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("payload", sa.Text(), nullable=False),
        _ts("due_at", nullable=False),
        sa.Column("published_count", sa.Integer(), nullable=False, server_default="0"),
        _ts("published_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
    )
    op.create_index("ix_reply_outbox_due_at", "reply_outbox", ["due_at"])
    with op.batch_alter_table("replies") as batch:
        batch.add_column(_ts("first_attempt_at"))
        batch.add_column(_ts("confirmed_at"))
        batch.add_column(_ts("settled_at"))
    op.create_index("ix_replies_unsettled", "replies", ["settled_at", "status"])
    # replies recorded before this revision were counted when they were sent: settled
    op.execute("UPDATE replies SET settled_at = updated_at, confirmed_at = updated_at")


def downgrade() -> None:
    op.drop_index("ix_replies_unsettled", table_name="replies")
    with op.batch_alter_table("replies") as batch:
        batch.drop_column("settled_at")
        batch.drop_column("confirmed_at")
        batch.drop_column("first_attempt_at")
    op.drop_index("ix_reply_outbox_due_at", table_name="reply_outbox")
    op.drop_table("reply_outbox")
