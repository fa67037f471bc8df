"""Reserved: filled by the feature of the same name.

Revision ID: 0008_search
Revises: 0007_surveys
"""

from collections.abc import Sequence

revision: str = "0008_search"
down_revision: str | Sequence[str] | None = "0007_surveys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
