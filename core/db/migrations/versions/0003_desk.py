"""The desk: users, teams, shifts, routing rules, templates, settings, desk threads with clocks,
clock events, notes, compensation, audit log, sentiment corrections, presence.

Revision ID: 0003_desk
Revises: 0002_collectors_replies
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_desk"
down_revision: str | None = "0002_collectors_replies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_thread_id"), "audit_log", ["thread_id"], unique=False)
    op.create_table(
        "desk_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_desk_settings")),
    )
    op.create_table(
        "desk_teams",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("rr_last", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_desk_teams")),
    )
    op.create_table(
        "desk_users",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("cap", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('agent', 'manager', 'brand_lead', 'admin')", name=op.f("ck_desk_users_role")
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_desk_users")),
    )
    op.create_table(
        "reply_templates",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reply_templates")),
    )
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("brand", sa.String(length=255), nullable=True),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("keywords", sa.Text(), nullable=True),
        sa.Column("vip_authors", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "clock_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("clock", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "clock IN ('first_response', 'status_update', 'resolution')", name=op.f("ck_clock_events_clock")
        ),
        sa.CheckConstraint(
            "event IN ('started', 'hit', 'missed', 'paused', 'resumed')", name=op.f("ck_clock_events_event")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_clock_events_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clock_events")),
    )
    op.create_index(op.f("ix_clock_events_thread_id"), "clock_events", ["thread_id"], unique=False)
    op.create_table(
        "compensations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=True),
        sa.Column("given_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_compensations_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensations")),
    )
    op.create_index(op.f("ix_compensations_thread_id"), "compensations", ["thread_id"], unique=False)
    op.create_table(
        "desk_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_min", sa.Integer(), nullable=False),
        sa.Column("end_min", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"],
            ["desk_users.username"],
            name=op.f("fk_desk_shifts_username_desk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_shifts")),
    )
    op.create_index(op.f("ix_desk_shifts_username"), "desk_shifts", ["username"], unique=False)
    op.create_table(
        "desk_threads",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seen_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_status", sa.String(length=16), nullable=True),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("cycle_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_missed", sa.Boolean(), nullable=False),
        sa.Column("update_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("update_missed", sa.Boolean(), nullable=False),
        sa.Column("resolution_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_missed", sa.Boolean(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reach", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("rank_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("merged_prev_status", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into"],
            ["threads.id"],
            name=op.f("fk_desk_threads_merged_into_threads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_desk_threads_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("thread_id", name=op.f("pk_desk_threads")),
    )
    op.create_index(op.f("ix_desk_threads_rank_at"), "desk_threads", ["rank_at"], unique=False)
    op.create_table(
        "thread_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"], name=op.f("fk_thread_notes_thread_id_threads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_notes")),
    )
    op.create_index(op.f("ix_thread_notes_thread_id"), "thread_notes", ["thread_id"], unique=False)
    op.create_table(
        "thread_viewers",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_thread_viewers_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thread_id", "username", name=op.f("pk_thread_viewers")),
    )
    op.create_table(
        "sentiment_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=True),
        sa.Column("model_label", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("corrected_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mentions.id"],
            name=op.f("fk_sentiment_corrections_mention_id_mentions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentiment_corrections")),
    )
    op.create_index(
        op.f("ix_sentiment_corrections_mention_id"), "sentiment_corrections", ["mention_id"], unique=False
    )
    op.create_index("ix_threads_updated_at", "threads", ["updated_at"], unique=False)
    op.create_index("ix_threads_assigned_to", "threads", ["assigned_to"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_threads_assigned_to", table_name="threads")
    op.drop_index("ix_threads_updated_at", table_name="threads")
    op.drop_index(op.f("ix_sentiment_corrections_mention_id"), table_name="sentiment_corrections")
    op.drop_table("sentiment_corrections")
    op.drop_table("thread_viewers")
    op.drop_index(op.f("ix_thread_notes_thread_id"), table_name="thread_notes")
    op.drop_table("thread_notes")
    op.drop_index(op.f("ix_desk_threads_rank_at"), table_name="desk_threads")
    op.drop_table("desk_threads")
    op.drop_index(op.f("ix_desk_shifts_username"), table_name="desk_shifts")
    op.drop_table("desk_shifts")
    op.drop_index(op.f("ix_compensations_thread_id"), table_name="compensations")
    op.drop_table("compensations")
    op.drop_index(op.f("ix_clock_events_thread_id"), table_name="clock_events")
    op.drop_table("clock_events")
    op.drop_table("routing_rules")
    op.drop_table("reply_templates")
    op.drop_table("desk_users")
    op.drop_table("desk_teams")
    op.drop_table("desk_settings")
    op.drop_index(op.f("ix_audit_log_thread_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
