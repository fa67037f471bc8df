"""Reserved: filled by the feature of the same name.

Revision ID: 0010_notices
Revises: 0009_calendar
"""

from collections.abc import Sequence

revision: str = "0010_notices"
down_revision: str | Sequence[str] | None = "0009_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
