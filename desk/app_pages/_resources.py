"""Process-wide resources of the Streamlit desk, created once per database URL."""

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_engine, make_session_factory, migrate
from core.settings import get_settings


@st.cache_resource(show_spinner="Preparing the database…")
def _session_factory_for(database_url: str) -> sessionmaker[Session]:
    """Migrate the database once (so the desk works on an empty one), then one engine for all sessions."""
    migrate(database_url)
    return make_session_factory(make_engine(database_url))


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database (MD_DATABASE_URL)."""
    return _session_factory_for(get_settings().database_url)
