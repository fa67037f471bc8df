"""Every table of the database in one metadata: import this module to see the whole schema
(Alembic's autogenerate and the schema check do)."""

from core.db import models, models_analytics, models_desk, models_ingest
from core.db.base import Base

metadata = Base.metadata

__all__ = ["metadata", "models", "models_analytics", "models_desk", "models_ingest"]
