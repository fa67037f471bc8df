"""The production calendar: per-brand calendars, several working periods a day, overrides.

No schema change: calendars are JSON documents in `desk_settings` (see core/db/models_calendar.py),
and calendars stored before this revision load as they are.

Revision ID: 0009_calendar
Revises: 0008_search
"""

from collections.abc import Sequence

revision: str = "0009_calendar"
down_revision: str | Sequence[str] | None = "0008_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
