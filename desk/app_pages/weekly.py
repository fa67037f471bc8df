"""The weekly report as a page (managers, brand leads, admins): pick the week and the brand; the
same HTML as the e-mail, in a sandboxed iframe (customer text in it is escaped by
desk.services.weekly_render). `?week=2026-W48&brand=acme` opens a given report.

The page shows the topic rules' topics; the model's complaint clusters are in the e-mail and
`mentiondesk report weekly`, which load the model (the desk does not)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from core.i18n import _
from core.settings import get_settings
from desk.app_pages._analytics import require_analytics
from desk.app_pages._resources import session_factory
from desk.services.desk_time import desk_zone
from desk.services.targets import load_targets, targets_for
from desk.services.weekly_render import headline, render_html, render_text, topic_records
from desk.services.weekly_report import build_weekly_report, known_brands, parse_week, report_weeks

require_analytics()
st.header(_("Weekly report"))
with session_factory()() as session:
    zone = desk_zone(session).key  # MD_DESK_TIMEZONE, else the desk calendar's zone
    brands = known_brands(session)
    weeks = report_weeks(session, datetime.now(UTC), zone)
asked = st.query_params.get("week")
if asked:
    try:
        parse_week(asked)
    except ValueError as exc:
        st.error(str(exc))
    else:
        weeks = sorted({*weeks, asked}, reverse=True)
default_week = asked if asked in weeks else weeks[1]  # the last complete week
left, right = st.columns(2)
week = left.selectbox(_("Week"), weeks, index=weeks.index(default_week), key="weekly_week")
ALL_BRANDS = _("All brands")
brand_options = [ALL_BRANDS, *brands]
asked_brand = st.query_params.get("brand")
brand_choice = right.selectbox(
    _("Brand"),
    brand_options,
    index=brand_options.index(asked_brand) if asked_brand in brand_options else 0,
    key="weekly_brand",
)
brand = None if brand_choice == ALL_BRANDS else brand_choice
targets = targets_for(load_targets(get_settings()), brand)
with session_factory()() as session:
    report = build_weekly_report(session, week, brand, targets=targets)
summary = headline(report)
st.caption(
    _("{summary}. Weeks in {zone}.").format(summary=f"{summary[0].upper()}{summary[1:]}", zone=report.zone)
)
records = topic_records(report)
if records:
    st.dataframe(pd.DataFrame.from_records(records), hide_index=True, width="stretch")
cols = st.columns(2)
cols[0].download_button(
    _("Download HTML"), render_html(report), file_name=f"weekly-{report.week}.html", mime="text/html"
)
cols[1].download_button(
    _("Download text"), render_text(report), file_name=f"weekly-{report.week}.txt", mime="text/plain"
)
# tall enough for the report without an inner scroll bar: a fixed part and a line per topic and example
topics = [*report.rule_topics, *report.clusters]
components.html(
    render_html(report), height=1000 + sum(26 * (1 + len(t.examples)) for t in topics), scrolling=True
)
