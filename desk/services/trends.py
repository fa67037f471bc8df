"""Volume and negative share over time (by source, brand, topic), hour of day, and drill-down
rows, for the Trends page. Customer mentions only (brand answers are not the customers' mood)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import Mention, Thread


def mention_frame(session: Session, start: datetime, end: datetime) -> pd.DataFrame:
    """One row per customer mention (topics exploded later where needed)."""
    rows = session.execute(
        select(
            Mention.created_at, Mention.source, Mention.brand, Mention.label, Mention.negativity,
            Mention.topics, Mention.text, Mention.thread_key, Thread.status,
        )
        .join(Thread, Thread.id == Mention.thread_id)
        .where(Mention.created_at >= start, Mention.created_at < end, Mention.is_brand.is_(False))
    ).all()  # fmt: skip
    frame = pd.DataFrame(
        rows,
        columns=[
            "created_at",
            "source",
            "brand",
            "label",
            "negativity",
            "topics",
            "text",
            "thread",
            "status",
        ],
    )
    frame["negative"] = frame["label"] == "negative"
    frame["brand"] = frame["brand"].fillna("(none)")
    frame["topics"] = frame["topics"].apply(lambda t: list(t) if t else ["(untagged)"])
    return frame


def over_time(frame: pd.DataFrame, by: str, freq: str = "1h", zone: str = "UTC") -> pd.DataFrame:
    """Mentions and negative share per time bucket and value of `by` (source, brand or topic).
    Buckets are cut in `zone` (the desk's): a "1D" bucket is a local day, labelled by its local start."""
    if frame.empty:
        return pd.DataFrame(columns=["bucket", by, "mentions", "negative", "negative_share"])
    data = frame.explode("topics").rename(columns={"topics": "topic"}) if by == "topic" else frame
    local = pd.to_datetime(data["created_at"], utc=True).dt.tz_convert(zone)
    data = data.assign(bucket=local.dt.floor(freq, ambiguous=False, nonexistent="shift_forward"))
    out = (
        data.groupby(["bucket", by])
        .agg(mentions=("negative", "size"), negative=("negative", "sum"))
        .reset_index()
    )
    out["negative_share"] = out["negative"] / out["mentions"]
    return out


def hour_of_day(frame: pd.DataFrame, zone: str = "UTC") -> pd.DataFrame:
    """Mentions and negative share per local hour (0-23) in `zone`."""
    if frame.empty:
        return pd.DataFrame(columns=["hour", "mentions", "negative_share"])
    hours = pd.to_datetime(frame["created_at"], utc=True).dt.tz_convert(zone).dt.hour
    out = (
        frame.assign(hour=hours)
        .groupby("hour")
        .agg(mentions=("negative", "size"), negative=("negative", "sum"))
    )
    out["negative_share"] = out["negative"] / out["mentions"]
    return out.reset_index()
