"""The queue page: my threads, my team's, unassigned or all, by priority, filtered, refreshing
itself; bulk assignment for managers.

Mention text is shown only through st.dataframe, never as markdown or HTML: it is untrusted.
"""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.db.models import THREAD_STATUSES
from core.settings import get_settings
from desk.app_pages._format import QUEUE_EMPTY, format_age, format_left
from desk.app_pages._resources import session_factory
from desk.app_pages._session import THREAD_KEY, fragment_actor, require
from desk.services.auth import Actor, PermissionDenied
from desk.services.sync import sync_if_stale
from desk.services.threads import assign
from desk.services.worklist import SCOPES, QueueFilters, Scope, WorkItem, desk_queue, filter_options

EMPTY_MESSAGE = QUEUE_EMPTY
SCOPE_LABELS = {"mine": "My threads", "team": "My team", "unassigned": "Unassigned", "all": "All"}
THREAD_PAGE = "app_pages/thread.py"
SYNC_FALLBACK_EVERY = timedelta(seconds=30)

__all__ = ["EMPTY_MESSAGE", "format_age", "queue_frame"]


def _status(item: WorkItem) -> str:
    if item.reply_state == "failed":
        return f"{item.status} · reply failed"
    if item.reply_state == "pending":
        return f"{item.status} · reply sending"
    return item.status


def queue_frame(items: list[WorkItem]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Case": [item.thread_id for item in items],
            "Text": [item.text for item in items],
            "Source": [item.source for item in items],
            "Negativity": [item.negativity for item in items],
            "Language": [item.lang or "" for item in items],
            "Age": [format_age(item.age) for item in items],
            "Time left": [format_left(item.time_left) for item in items],
            "Clock": [item.clock or "" for item in items],
            "Status": [_status(item) for item in items],
            "Owner": [item.owner or "" for item in items],
            "Author": [item.author or "" for item in items],
            "Brand": [item.brand or "" for item in items],
        }
    )


def _filters(options: dict[str, list[str]]) -> QueueFilters:
    with st.expander("Filters"):
        left, middle, right = st.columns(3)
        sources = left.multiselect("Source", options["sources"])
        brands = left.multiselect("Brand", options["brands"])
        langs = middle.multiselect("Language", options["langs"])
        statuses = middle.multiselect("Status", list(THREAD_STATUSES), default=["new", "open"])
        negativity = right.slider("Negativity at least", 0.0, 1.0, 0.0, 0.05)
        topic = right.text_input("Topic")
        owners = right.multiselect("Owner", options["owners"])
    return QueueFilters(
        sources=tuple(sources),
        brands=tuple(brands),
        langs=tuple(langs),
        statuses=tuple(statuses),
        min_negativity=float(negativity),
        topic=topic.strip() or None,
        owners=tuple(owners),
    )


def _sync() -> None:
    """The fallback of the worker's ownership hook (see desk.services.sync)."""
    with session_factory()() as session:
        sync_if_stale(session, datetime.now(UTC), SYNC_FALLBACK_EVERY)
        session.commit()


def _bulk_assign(actor: Actor, items: list[WorkItem], owners: list[str]) -> None:
    with st.expander("Assign threads"):
        chosen = st.multiselect("Cases", [i.thread_id for i in items], key="bulk_cases")
        owner = st.selectbox("To", owners, key="bulk_owner")
        if st.button("Assign", key="bulk_assign") and chosen:
            try:
                with session_factory()() as session:
                    changed = assign(session, actor, chosen, owner)
                    session.commit()
                st.success(f"{changed} threads assigned to {owner}.")
            except (PermissionDenied, ValueError) as exc:
                st.error(str(exc))


def _open_thread(items: list[WorkItem]) -> None:
    left, right = st.columns([3, 1])
    choice = left.selectbox(
        "Open case",
        [i.thread_id for i in items],
        format_func=lambda tid: f"{tid}: {next(i.text for i in items if i.thread_id == tid)[:80]}",
        key="open_case",
    )
    if right.button("Open", key="open_button") and choice is not None:
        st.session_state[THREAD_KEY] = int(choice)
        st.switch_page(THREAD_PAGE)


def queue_view(actor: Actor, scope: Scope, filters: QueueFilters) -> list[WorkItem]:
    _sync()
    with session_factory()() as session:
        items = desk_queue(session, actor, scope=scope, filters=filters)
    if not items:
        st.info(EMPTY_MESSAGE)
        return []
    st.caption(f"{len(items)} threads, most urgent first (clock, negativity, reach, rating), then oldest.")
    st.dataframe(
        queue_frame(items),
        hide_index=True,
        width="stretch",
        column_config={
            "Negativity": st.column_config.ProgressColumn(format="%.2f", min_value=0.0, max_value=1.0),
            "Text": st.column_config.TextColumn(width="large"),
        },
    )
    return items


actor = require("queue.view")
st.header("Queue")
with session_factory()() as _session:
    _options = filter_options(_session)
_scope = st.radio(
    "Show", SCOPES, format_func=lambda s: SCOPE_LABELS[s], horizontal=True, key="queue_scope", index=3
)
_chosen_filters = _filters(_options)


@st.fragment(run_every=timedelta(seconds=get_settings().desk_refresh_s))
def _live() -> None:
    live_actor = fragment_actor("queue.view")  # not the page's `actor`: that is the last full run's
    items = queue_view(live_actor, _scope, _chosen_filters)
    if items:
        _open_thread(items)
        if live_actor.can("thread.assign"):
            _bulk_assign(live_actor, items, _options["owners"])


_live()
