"""Reliability charts (PNG): predicted negativity against the observed negative rate, per report row.

A calibrated model's points lie on the diagonal; point size is the number of mentions in the bin, so
a far-off point backed by a handful of rows reads as such.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from sentiment.training.evaluate import ReportRow

WIDTH = 360
SCALE = 1.5


def chart_file_name(row_name: str) -> str:
    """The PNG's name for a row, e.g. reliability-all-ru.png for "all ru"."""
    slug = re.sub(r"[^a-z0-9]+", "-", row_name.lower()).strip("-") or "set"
    return f"reliability-{slug}.png"


def reliability_png(row: ReportRow) -> bytes:
    """One row's reliability curve as PNG bytes (altair spec rendered by vl-convert)."""
    import altair as alt
    import vl_convert as vlc

    f = row.figures
    unit = alt.Scale(domain=[0, 1])
    diagonal = (
        alt.Chart(alt.InlineData(values=[{"p": 0.0, "rate": 0.0}, {"p": 1.0, "rate": 1.0}]))
        .mark_line(color="#9aa5b1", strokeDash=[4, 4])
        .encode(x=alt.X("p:Q", scale=unit), y=alt.Y("rate:Q", scale=unit))
    )
    points = alt.InlineData(
        values=[
            {"p": b["mean_negativity"], "rate": b["observed_negative_rate"], "count": b["count"]}
            for b in f["reliability"]
        ]
    )
    curve = alt.Chart(points).encode(
        x=alt.X("p:Q", scale=unit, title="predicted negativity (bin mean)"),
        y=alt.Y("rate:Q", scale=unit, title="observed negative rate"),
    )
    chart = alt.layer(
        diagonal,
        curve.mark_line(color="#e12d39"),
        curve.mark_circle(color="#e12d39", opacity=0.8).encode(
            size=alt.Size("count:Q", title="mentions", scale=alt.Scale(zero=True))
        ),
    ).properties(
        width=WIDTH,
        height=WIDTH,
        title=alt.TitleParams(
            f"{row.name}: negativity reliability",
            subtitle=f"n={f['n']}, ECE={f['negativity_ece']:.3f}, 10 bins",
        ),
    )
    png: bytes = vlc.vegalite_to_png(chart.to_json(), scale=SCALE)
    return png


def write_charts(report: Sequence[ReportRow], folder: Path) -> dict[str, Path]:
    """One PNG per report row into `folder`; row name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for row in report:
        path = folder / chart_file_name(row.name)
        path.write_bytes(reliability_png(row))
        written[row.name] = path
    return written
