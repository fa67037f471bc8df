"""Process-wide resources of the Streamlit desk, created once per database URL."""

from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy.orm import Session, sessionmaker

from core.db.engine import make_engine, make_session_factory, migrate
from core.settings import get_settings
from desk.services.desk_time import desk_zone


@st.cache_resource(show_spinner="Preparing the database…")
def _session_factory_for(database_url: str) -> sessionmaker[Session]:
    """Migrate the database once (so the desk works on an empty one), then one engine for all sessions."""
    migrate(database_url)
    return make_session_factory(make_engine(database_url))


def session_factory() -> sessionmaker[Session]:
    """Sessions on the configured database (MD_DATABASE_URL)."""
    return _session_factory_for(get_settings().database_url)


@st.cache_data(ttl=30, show_spinner=False)
def _zone_for(database_url: str, setting: str | None) -> str:
    with _session_factory_for(database_url)() as session:
        return desk_zone(session).key


def page_zone() -> ZoneInfo:
    """The desk's time zone (desk.services.desk_time), re-read at most every 30 s."""
    settings = get_settings()
    return ZoneInfo(_zone_for(settings.database_url, settings.desk_timezone))
