"""Every table of the database in one metadata: import this module to see the whole schema
(Alembic's autogenerate and the schema check do)."""

from core.db import (
    models,
    models_analytics,
    models_calendar,
    models_desk,
    models_ingest,
    models_notices,
    models_search,
    models_surveys,
)
from core.db.base import Base
from core.db.search_index import is_search_object

metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name`: the full-text index (an FTS5 table on SQLite, a generated column
    and its index on PostgreSQL; core.db.search_index) is outside the metadata, not compared."""
    return not is_search_object(name, type_)


__all__ = [
    "include_name",
    "metadata",
    "models",
    "models_analytics",
    "models_calendar",
    "models_desk",
    "models_ingest",
    "models_notices",
    "models_search",
    "models_surveys",
]
