"""The queue page: threads waiting for an answer, most negative first, refreshing itself.

Mention text is shown only through st.dataframe, never as markdown or HTML: it is untrusted.
"""

from datetime import timedelta

import pandas as pd
import streamlit as st

from desk.app_pages._resources import session_factory
from desk.services.queue import QueueItem, queue_threads
from mentiondesk.settings import get_settings

EMPTY_MESSAGE = "No threads waiting: the queue is empty."


def format_age(age: timedelta) -> str:
    """A short age like '2d 3h', '4h 05m' or '12m'."""
    minutes = int(age.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def queue_frame(items: list[QueueItem]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Negativity": [item.negativity for item in items],
            "Text": [item.text for item in items],
            "Source": [item.source for item in items],
            "Language": [item.lang or "" for item in items],
            "Age": [format_age(item.age) for item in items],
            "Messages": [item.message_count for item in items],
            "Author": [item.author or "" for item in items],
            "Status": [item.status for item in items],
            "Thread": [item.thread_key for item in items],
        }
    )


@st.fragment(run_every=timedelta(seconds=get_settings().desk_refresh_s))
def queue_view() -> None:
    with session_factory()() as session:
        items = queue_threads(session)
    if not items:
        st.info(EMPTY_MESSAGE)
        return
    st.caption(f"{len(items)} threads waiting, most negative first, then oldest first.")
    st.dataframe(
        queue_frame(items),
        hide_index=True,
        width="stretch",
        column_config={
            "Negativity": st.column_config.ProgressColumn(format="%.2f", min_value=0.0, max_value=1.0),
            "Text": st.column_config.TextColumn(width="large"),
        },
    )


st.header("Queue")
queue_view()
