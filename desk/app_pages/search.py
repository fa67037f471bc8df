"""The search page: words in any form across every thread and mention, with filters; a click on a
result's row (or "Open") opens its thread.

Mention text is shown only through st.dataframe, never as markdown or HTML: it is untrusted.
"""

from collections.abc import Callable
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from core.db.models import LABELS, THREAD_STATUSES
from core.i18n import _, _n
from desk.app_pages._format import when
from desk.app_pages._resources import page_zone, session_factory
from desk.app_pages._session import open_case, opener_key, require
from desk.services import labels
from desk.services.desk_time import day_start
from desk.services.search import SearchFilters, SearchResults, ThreadHit, search
from desk.services.tags import all_tags
from desk.services.worklist import filter_options

RESULTS_TABLE = "search_table"
SHOWN_KEY = "md_search_shown"


def results_frame(hits: tuple[ThreadHit, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _("Case"): [hit.thread_id for hit in hits],
            _("Matching messages"): [" · ".join(m.snippet for m in hit.mentions) for hit in hits],
            _("Matches"): [hit.matches for hit in hits],
            _("Status"): [labels.thread_status(hit.status) for hit in hits],
            _("Owner"): [hit.owner or "" for hit in hits],
            _("Brand"): [hit.brand or "" for hit in hits],
            _("Source"): [hit.source for hit in hits],
            _("Tags"): [", ".join(hit.tags) for hit in hits],
            _("Last message"): [when(hit.last_message_at) for hit in hits],
        }
    )


def _names(label: Callable[[str], str]) -> Callable[[str], str]:
    """A format_func with this run's labels (Streamlit may call it again outside the page run)."""
    return {code: label(code) for code in (*THREAD_STATUSES, *LABELS)}.__getitem__


def _dates(value: object) -> tuple[date | None, date | None]:
    if isinstance(value, date):
        return value, value
    if isinstance(value, tuple | list):
        picked = [v for v in value if isinstance(v, date)]
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
    return None, None


def _form(options: dict[str, list[str]], tags: list[str]) -> tuple[str, SearchFilters]:
    with st.form("search_form"):
        query = st.text_input(
            _("Search threads and messages"),
            key="search_query",
            max_chars=10_000,
            help=_(
                'Every word, in any form ("доставку" finds "доставка"). "Quotes" for a phrase, '
                "`or` between alternatives, -word to leave out."
            ),
        )
        with st.expander(_("Filters")):
            left, middle, right = st.columns(3)
            brands = left.multiselect(_("Brand"), options["brands"], key="search_brands")
            sources = left.multiselect(_("Source"), options["sources"], key="search_sources")
            statuses = middle.multiselect(
                _("Status"),
                list(THREAD_STATUSES),
                format_func=_names(labels.thread_status),
                key="search_statuses",
            )
            owners = middle.multiselect(_("Owner"), options["owners"], key="search_owners")
            chosen_tags = right.multiselect(_("Tag"), tags, key="search_tags")
            sentiments = right.multiselect(
                _("Sentiment of the message"),
                list(LABELS),
                format_func=_names(labels.sentiment),
                key="search_labels",
            )
            period = st.date_input(_("Messages written between"), value=[], key="search_dates")
        st.form_submit_button(_("Search"), type="primary", key="search_submit")
    first, last = _dates(period)
    zone = page_zone()
    filters = SearchFilters(
        brands=tuple(brands),
        sources=tuple(sources),
        statuses=tuple(statuses),
        owners=tuple(owners),
        tags=tuple(chosen_tags),
        labels=tuple(sentiments),
        since=day_start(first, zone) if first else None,
        until=day_start(last + timedelta(days=1), zone) if last else None,
    )
    return query, filters


def _show(results: SearchResults) -> None:
    if results.problem:
        st.warning(_(results.problem))  # marked for translation where it is defined (N_)
        return
    if not results.threads:
        st.info(_("No thread matches these words and filters."))
        return
    found = len(results.threads)
    count = (
        _n("More than {n} thread found", "More than {n} threads found", found)
        if results.more
        else _n("{n} thread found", "{n} threads found", found)
    )
    order = _("Best match first, newest first among equals. Click a row to open it.")
    st.caption(f"{count}. {order}")
    shown = st.session_state.get(SHOWN_KEY) or [hit.thread_id for hit in results.threads]
    event = st.dataframe(
        results_frame(results.threads),
        hide_index=True,
        width="stretch",
        column_config={_("Matching messages"): st.column_config.TextColumn(width="large")},
        key=opener_key(RESULTS_TABLE),
        on_select="rerun",
        selection_mode="single-row",
    )
    st.session_state[SHOWN_KEY] = [hit.thread_id for hit in results.threads]
    rows = list(event.selection.rows) if event is not None else []
    if rows and 0 <= rows[0] < len(shown):
        open_case(int(shown[rows[0]]))
    left, right = st.columns([3, 1])
    choice = left.selectbox(
        _("Open case"), [hit.thread_id for hit in results.threads], key="search_open_case"
    )
    if right.button(_("Open"), key="search_open") and choice is not None:
        open_case(int(choice))


actor = require("queue.view")
st.header(_("Search"))
with session_factory()() as _session:
    _options = filter_options(_session)
    _tags = all_tags(_session)
_query, _filters = _form(_options, _tags)
if _query.strip():
    with session_factory()() as _session:
        _results = search(_session, _query, _filters)
    _show(_results)
