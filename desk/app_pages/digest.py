"""The daily digest as a page (brand leads): the same HTML as the e-mail, images inline.

Every mention text in it is HTML-escaped by desk.services.digest; the page shows it in a sandboxed
iframe (st.html would strip nothing we need, but the iframe keeps its CSS to itself)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import streamlit as st
import streamlit.components.v1 as components

from core.i18n import _
from core.settings import get_settings
from desk.app_pages._analytics import require_analytics
from desk.app_pages._resources import session_factory
from desk.services.desk_time import digest_zone
from desk.services.digest import build_digest, charts, data_uri_images, render_html
from desk.services.targets import load_targets

require_analytics()
st.header(_("Daily digest"))
settings = get_settings()
with session_factory()() as session:
    zone = digest_zone(session)  # the digest's days: MD_DIGEST_TIMEZONE, else the desk's zone
day = st.date_input(_("Day"), value=datetime.now(ZoneInfo(zone)).date() - timedelta(days=1), key="digest_day")
with session_factory()() as session:
    digest = build_digest(session, day, zone=zone, targets=load_targets(settings))
st.caption(
    _(
        "{mentions} mentions ({average} on an average day), {negative} negative, {spikes} spikes, "
        "{cases} cases."
    ).format(
        mentions=digest.counts.mentions,
        average=digest.average.mentions,
        negative=digest.counts.negative,
        spikes=len(digest.alerts),
        cases=digest.kpis.cases,
    )
)
components.html(render_html(digest, data_uri_images(charts(digest))), height=1400, scrolling=True)
