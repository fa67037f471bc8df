"""The daily digest as a page (brand leads): the same HTML as the e-mail, images inline.

Every mention text in it is HTML-escaped by desk.services.digest; the page shows it in a sandboxed
iframe (st.html would strip nothing we need, but the iframe keeps its CSS to itself)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st
import streamlit.components.v1 as components

from core.settings import get_settings
from desk.app_pages._analytics import require_analytics
from desk.app_pages._resources import session_factory
from desk.services.digest import build_digest, charts, data_uri_images, render_html

require_analytics()
st.header("Daily digest")
settings = get_settings()
day = st.date_input("Day", value=datetime.now(UTC).date() - timedelta(days=1), key="digest_day")
with session_factory()() as session:
    digest = build_digest(session, day, zone=settings.digest_timezone)
st.caption(
    f"{digest.counts.mentions} mentions ({digest.average.mentions} on an average day), "
    f"{digest.counts.negative} negative, {len(digest.alerts)} spikes, {digest.kpis.cases} cases."
)
components.html(render_html(digest, data_uri_images(charts(digest))), height=1400, scrolling=True)
