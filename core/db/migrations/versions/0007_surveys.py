"""Customer satisfaction surveys: surveys asked, their responses and follow-up tasks.

- `surveys`: one survey question per case and resolution cycle (unique), its reply, the answer read.
- `survey_followups`: a low score's task for the case's owner and their manager.
- `survey_opt_outs`: authors an agent marked as not to be asked.

Revision ID: 0007_surveys
Revises: 0006_signin_security
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_surveys"
down_revision: str | Sequence[str] | None = "0006_signin_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "thread_id",
            sa.Integer(),
            sa.ForeignKey("threads.id", ondelete="CASCADE", name="fk_surveys_thread_id_threads"),
            nullable=False,
        ),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("brand", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column(
            "author_ref",
            sa.Integer(),
            sa.ForeignKey("authors.id", ondelete="SET NULL", name="fk_surveys_author_ref_authors"),
            nullable=True,
        ),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column(
            "reply_id",
            sa.String(length=36),
            sa.ForeignKey("replies.reply_id", ondelete="SET NULL", name="fk_surveys_reply_id_replies"),
            nullable=True,
        ),
        _ts("asked_at", nullable=False),
        _ts("expires_at", nullable=False),
        _ts("answered_at"),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
        sa.Column(
            "answer_mention_id",
            sa.Integer(),
            sa.ForeignKey("mentions.id", ondelete="SET NULL", name="fk_surveys_answer_mention_id_mentions"),
            nullable=True,
        ),
        sa.Column("read_by", sa.String(length=8), nullable=True),
        sa.Column("scored_by", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reopens", sa.Boolean(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.UniqueConstraint("thread_id", "cycle", name="uq_surveys_thread_id_cycle"),
        sa.UniqueConstraint("reply_id", name="uq_surveys_reply_id"),
        sa.CheckConstraint("kind IN ('csat', 'nps', 'both')", name="ck_surveys_kind"),
        sa.CheckConstraint(
            "status IN ('asked', 'answered', 'unreadable', 'expired')", name="ck_surveys_status"
        ),
        sa.CheckConstraint("read_by IN ('parser', 'agent')", name="ck_surveys_read_by"),
        sa.CheckConstraint("csat BETWEEN 1 AND 5", name="ck_surveys_csat"),
        sa.CheckConstraint("nps BETWEEN 0 AND 10", name="ck_surveys_nps"),
    )
    op.create_index("ix_surveys_author", "surveys", ["source", "author", "asked_at"])
    op.create_index("ix_surveys_status", "surveys", ["status"])
    op.create_index("ix_surveys_asked_at", "surveys", ["asked_at"])
    op.create_table(
        "survey_followups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "survey_id",
            sa.Integer(),
            sa.ForeignKey("surveys.id", ondelete="CASCADE", name="fk_survey_followups_survey_id_surveys"),
            nullable=False,
        ),
        sa.Column(
            "thread_id",
            sa.Integer(),
            sa.ForeignKey("threads.id", ondelete="CASCADE", name="fk_survey_followups_thread_id_threads"),
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("manager", sa.String(length=64), nullable=True),
        _ts("due_at", nullable=False),
        _ts("created_at", nullable=False),
        _ts("done_at"),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.UniqueConstraint("survey_id", name="uq_survey_followups_survey_id"),
    )
    op.create_index("ix_survey_followups_open", "survey_followups", ["done_at", "due_at"])
    op.create_index("ix_survey_followups_thread_id", "survey_followups", ["thread_id"])
    op.create_table(
        "survey_opt_outs",
        sa.Column("source", sa.String(length=64), primary_key=True),
        sa.Column("author", sa.String(length=255), primary_key=True),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        _ts("created_at", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("survey_opt_outs")
    op.drop_index("ix_survey_followups_thread_id", table_name="survey_followups")
    op.drop_index("ix_survey_followups_open", table_name="survey_followups")
    op.drop_table("survey_followups")
    op.drop_index("ix_surveys_asked_at", table_name="surveys")
    op.drop_index("ix_surveys_status", table_name="surveys")
    op.drop_index("ix_surveys_author", table_name="surveys")
    op.drop_table("surveys")
