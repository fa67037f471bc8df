"""Reserved: filled by the feature of the same name.

Revision ID: 0007_surveys
Revises: 0006_signin_security
"""

from collections.abc import Sequence

revision: str = "0007_surveys"
down_revision: str | Sequence[str] | None = "0006_signin_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
