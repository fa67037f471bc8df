"""The queue page: my threads, my team's, unassigned or all, by priority, filtered, refreshing
itself; bulk assignment for managers.

Mention text is shown only through st.dataframe, never as markdown or HTML: it is untrusted.
"""

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.i18n import _, _n, _p
from core.settings import get_settings
from desk.app_pages._format import QUEUE_EMPTY, format_age, format_left, when
from desk.app_pages._queue_filters import queue_filters
from desk.app_pages._resources import session_factory
from desk.app_pages._session import fragment_actor, open_case, opener_key, require
from desk.app_pages._surveys import followups_section
from desk.services import labels
from desk.services.auth import Actor, PermissionDenied
from desk.services.sync import sync_if_stale
from desk.services.threads import assign
from desk.services.worklist import QueueFilters, Scope, WorkItem, desk_queue, filter_options

EMPTY_MESSAGE = QUEUE_EMPTY
SYNC_FALLBACK_EVERY = timedelta(seconds=30)
QUEUE_TABLE = "queue_table"
SHOWN_KEY = "md_queue_shown"

__all__ = ["EMPTY_MESSAGE", "format_age", "queue_frame"]


def _status(item: WorkItem) -> str:
    status = labels.thread_status(item.status)
    if item.reply_state == "failed":
        return " · ".join((status, _("reply failed")))
    if item.reply_state == "pending":
        return " · ".join((status, _("reply sending")))
    return status


def queue_frame(items: list[WorkItem]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            _("Case"): [item.thread_id for item in items],
            _("Text"): [item.text for item in items],
            _("Source"): [item.source for item in items],
            _("Negativity"): [item.negativity for item in items],
            _("Language"): [item.lang or "" for item in items],
            _("Age"): [format_age(item.age) for item in items],
            _("Time left"): [format_left(item.time_left) for item in items],
            _("Due"): [when(item.due_at) for item in items],  # in the desk's time zone
            _("Clock"): [labels.clock(item.clock) for item in items],
            _("Status"): [_status(item) for item in items],
            _("Owner"): [item.owner or "" for item in items],
            _("Author"): [item.author or "" for item in items],
            _("Brand"): [item.brand or "" for item in items],
        }
    )


def _sync() -> None:
    """The fallback of the worker's ownership hook (see desk.services.sync)."""
    with session_factory()() as session:
        sync_if_stale(
            session,
            datetime.now(UTC),
            SYNC_FALLBACK_EVERY,
            timedelta(minutes=get_settings().notify_before_due_min),
        )
        session.commit()


def _bulk_assign(actor: Actor, items: list[WorkItem], owners: list[str]) -> None:
    with st.expander(_("Assign threads")):
        chosen = st.multiselect(_("Cases"), [i.thread_id for i in items], key="bulk_cases")
        owner = st.selectbox(_p("assign", "To"), owners, key="bulk_owner")
        if st.button(_("Assign"), key="bulk_assign") and chosen:
            try:
                with session_factory()() as session:
                    changed = assign(session, actor, chosen, owner)
                    session.commit()
                st.success(
                    _n(
                        "{n} thread assigned to {owner}.",
                        "{n} threads assigned to {owner}.",
                        changed,
                        owner=owner,
                    )
                )
            except (PermissionDenied, ValueError) as exc:
                st.error(str(exc))


def _open_thread(items: list[WorkItem]) -> None:
    left, right = st.columns([3, 1])
    choice = left.selectbox(
        _("Open case"),
        [i.thread_id for i in items],
        format_func=lambda tid: f"{tid}: {next(i.text for i in items if i.thread_id == tid)[:80]}",
        key="open_case",
    )
    if right.button(_("Open"), key="open_button") and choice is not None:
        open_case(int(choice))


def queue_view(actor: Actor, scope: Scope, filters: QueueFilters) -> list[WorkItem]:
    _sync()
    with session_factory()() as session:
        items = desk_queue(session, actor, scope=scope, filters=filters)
    if not items:
        st.info(_(EMPTY_MESSAGE))
        return []
    st.caption(
        _n(
            "{n} thread, most urgent first (clock, negativity, reach, rating), then oldest.",
            "{n} threads, most urgent first (clock, negativity, reach, rating), then oldest.",
            len(items),
        )
    )
    shown = st.session_state.get(SHOWN_KEY) or [item.thread_id for item in items]
    event = st.dataframe(
        queue_frame(items),
        hide_index=True,
        width="stretch",
        column_config={
            _("Negativity"): st.column_config.ProgressColumn(format="%.2f", min_value=0.0, max_value=1.0),
            _("Text"): st.column_config.TextColumn(width="large"),
        },
        key=opener_key(QUEUE_TABLE),
        on_select="rerun",  # a click on a row (any cell, or its box at the left) opens its thread
        selection_mode=["single-row", "single-cell"],
    )
    # the clicked row is one of those the user saw (the last run's), not of a refreshed order
    st.session_state[SHOWN_KEY] = [item.thread_id for item in items]
    selection = event.selection if event is not None else None
    rows = [*selection.rows, *(row for row, _ in selection.cells)] if selection is not None else []
    if rows and 0 <= rows[0] < len(shown):
        open_case(int(shown[rows[0]]))
    return items


actor = require("queue.view")
st.header(_("Queue"))
with session_factory()() as _session:
    _options = filter_options(_session)
_scope, _chosen_filters = queue_filters(actor, _options)  # saved views, scope, filters (tags too)


@st.fragment(run_every=timedelta(seconds=get_settings().desk_refresh_s))
def _live() -> None:
    live_actor = fragment_actor("queue.view")  # not the page's `actor`: that is the last full run's
    followups_section(live_actor)  # low survey scores to follow up today
    items = queue_view(live_actor, _scope, _chosen_filters)
    if items:
        _open_thread(items)
        if live_actor.can("thread.assign"):
            _bulk_assign(live_actor, items, _options["owners"])


_live()
