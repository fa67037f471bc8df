"""Reserved: filled by the feature of the same name.

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
