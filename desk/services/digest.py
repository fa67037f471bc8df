"""The daily digest for brand leads: the day against its 7-day average, spikes, top negative
topics with examples, the KPIs, the oldest unresolved threads. HTML with inline CSS (every mention
text escaped: it is untrusted) and PNG charts (Altair, rendered by vl-convert), as an e-mail with
CID images or as a page with data-URI images.
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.brands import Targets
from core.db.alerts import alert_of, alerts_between
from core.db.models import Mention, Thread
from core.i18n import _, format_date, format_decimal, format_percent, language
from core.notify.alerts import headline as alert_headline
from desk.services.clocks import BusinessCalendar, CalendarBook
from desk.services.complaints import ComplaintTopic, Embedder, complaint_topics
from desk.services.desk_time import show
from desk.services.kpis import Kpis, Period, kpi_table
from desk.services.labels import thread_status
from desk.services.survey_kpis import SatisfactionRow, satisfaction_table, summary_line
from desk.services.targets import TargetCheck, judge, overall_targets
from desk.services.targets import render_html as targets_html
from schemas import Alert

OPEN_STATUSES = ("new", "open", "waiting")


@dataclass(frozen=True, slots=True)
class DayCounts:
    mentions: int
    negative: int

    @property
    def share(self) -> float:
        return self.negative / self.mentions if self.mentions else 0.0


@dataclass(frozen=True, slots=True)
class OpenThread:
    source: str
    brand: str | None
    first_message_at: datetime
    status: str
    text: str
    owner: str | None


@dataclass(frozen=True, slots=True)
class Digest:
    day: date
    zone: str
    counts: DayCounts
    average: DayCounts  # per day over the 7 days before
    by_source: dict[str, DayCounts]
    hourly: pd.DataFrame  # hour, series ("day" / "7-day average"), mentions, negative
    alerts: list[Alert]
    topics: list[tuple[str, int, tuple[str, ...]]]  # dictionary topics of negative mentions
    complaints: list[ComplaintTopic]  # clusters of negative mentions
    kpis: Kpis
    oldest_open: list[OpenThread]
    targets: tuple[TargetCheck, ...] = ()  # the KPIs against the brands' targets (red/green)
    satisfaction: SatisfactionRow | None = None  # CSAT, NPS, response rate of the day's surveys


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _customer_rows(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, datetime, str, str, list[str]]]:
    return [
        (r.source, r.created_at, r.label, r.text, list(r.topics or ()))
        for r in session.execute(
            select(Mention.source, Mention.created_at, Mention.label, Mention.text, Mention.topics).where(
                Mention.created_at >= start, Mention.created_at < end, Mention.is_brand.is_(False)
            )
        )
    ]


def build_digest(
    session: Session,
    day: date,
    *,
    zone: str = "UTC",
    now: datetime | None = None,
    calendar: BusinessCalendar | CalendarBook | None = None,
    embed: Embedder | None = None,
    oldest: int = 5,
    targets: dict[str, Targets] | None = None,
) -> Digest:
    start, end = day_bounds(day, zone)
    week_start = day_bounds(day - timedelta(days=7), zone)[0]
    tz = ZoneInfo(zone)
    rows = _customer_rows(session, start, end)
    week = _customer_rows(session, week_start, start)
    counts = DayCounts(len(rows), sum(r[2] == "negative" for r in rows))
    average = DayCounts(round(len(week) / 7), round(sum(r[2] == "negative" for r in week) / 7))
    by_source: dict[str, DayCounts] = {}
    for source in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == source]
        by_source[source] = DayCounts(len(mine), sum(r[2] == "negative" for r in mine))
    hourly = _hourly(rows, week, tz)
    negatives = [r for r in rows if r[2] == "negative"]
    topic_counts = Counter(t for r in negatives for t in r[4])
    topics = [
        (name, n, tuple(r[3] for r in negatives if name in r[4])[:3])
        for name, n in topic_counts.most_common(5)
    ]
    complaints = complaint_topics([r[3] for r in negatives], embed) if embed is not None and negatives else []
    [kpi_row] = kpi_table(session, Period(start, end), now or datetime.now(UTC), calendar=calendar)
    return Digest(
        day=day,
        zone=zone,
        counts=counts,
        average=average,
        by_source=by_source,
        hourly=hourly,
        alerts=[alert_of(a) for a in alerts_between(session, start, end)],
        topics=topics,
        complaints=complaints,
        kpis=kpi_row.kpis,
        oldest_open=_oldest_open(session, end, oldest),
        targets=tuple(judge(kpi_row.kpis, overall_targets(targets or {}))),
        satisfaction=satisfaction_table(session, start, end, zone=tz, targets=targets or {})[0],
    )


def _hourly(
    day_rows: list[tuple[str, datetime, str, str, list[str]]],
    week_rows: list[tuple[str, datetime, str, str, list[str]]],
    tz: ZoneInfo,
) -> pd.DataFrame:
    records = []
    for series, source_rows, divisor in (("day", day_rows, 1.0), ("7-day average", week_rows, 7.0)):
        per_hour = Counter(r[1].astimezone(tz).hour for r in source_rows)
        neg_hour = Counter(r[1].astimezone(tz).hour for r in source_rows if r[2] == "negative")
        for hour in range(24):
            records.append(
                {
                    "hour": hour,
                    "series": series,
                    "mentions": per_hour[hour] / divisor,
                    "negative": neg_hour[hour] / divisor,
                }
            )
    return pd.DataFrame.from_records(records)


def _oldest_open(session: Session, before: datetime, limit: int) -> list[OpenThread]:
    threads = session.execute(
        select(
            Thread.id, Thread.source, Thread.brand, Thread.first_message_at, Thread.status, Thread.assigned_to
        )
        .where(Thread.status.in_(OPEN_STATUSES), Thread.first_message_at < before)
        .order_by(Thread.first_message_at)
        .limit(limit)
    ).all()
    out = []
    for t in threads:
        text = session.scalar(
            select(Mention.text).where(Mention.thread_id == t.id).order_by(Mention.created_at).limit(1)
        )
        out.append(OpenThread(t.source, t.brand, t.first_message_at, t.status, text or "", t.assigned_to))
    return out


# ---------------------------------------------------------------- charts


def charts(digest: Digest) -> dict[str, bytes]:
    """PNG charts by name: hourly volume and negative mentions, the day against the 7-day average."""
    import altair as alt
    import vl_convert as vlc

    base = alt.Chart(digest.hourly).encode(
        x=alt.X("hour:O", title=_("hour")), color=alt.Color("series:N", title=None)
    )
    volume = (
        base.mark_line(point=True)
        .encode(y=alt.Y("mentions:Q", title=_("mentions")))
        .properties(width=520, height=160, title=_("Mentions per hour"))
    )
    negative = (
        base.mark_line(point=True)
        .encode(y=alt.Y("negative:Q", title=_("negative")))
        .properties(width=520, height=160, title=_("Negative mentions per hour"))
    )
    return {
        "volume": vlc.vegalite_to_png(volume.to_json(), scale=1.5),
        "negative": vlc.vegalite_to_png(negative.to_json(), scale=1.5),
    }


# ---------------------------------------------------------------- HTML

_CSS = {
    "body": "font-family:Arial,Helvetica,sans-serif;color:#1f2933;max-width:760px;margin:0 auto;padding:16px",
    "h1": "font-size:22px;margin:0 0 4px 0",
    "h2": "font-size:17px;margin:24px 0 8px 0;border-bottom:1px solid #d9e2ec;padding-bottom:4px",
    "table": "border-collapse:collapse;width:100%;font-size:13px",
    "td": "border-bottom:1px solid #e4e7eb;padding:4px 6px;vertical-align:top",
    "th": "text-align:left;border-bottom:2px solid #bcccdc;padding:4px 6px",
    "card": (
        "display:inline-block;min-width:150px;margin:0 8px 8px 0;padding:8px 12px;"
        "background:#f0f4f8;border-radius:6px"
    ),
    "alert": "background:#fde8e8;border-left:4px solid #e12d39;padding:8px 12px;margin:6px 0",
    "muted": "color:#627d98;font-size:12px",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _h1(text: str) -> str:
    return f'<h1 style="{_CSS["h1"]}">{_e(text)}</h1>'


def _h2(text: str) -> str:
    return f'<h2 style="{_CSS["h2"]}">{_e(text)}</h2>'


def _muted(text: str) -> str:
    return f'<div style="{_CSS["muted"]}">{_e(text)}</div>'


def _title(day: str) -> str:
    return _("mentiondesk digest {day}").format(day=day)


def _pct(value: float | None) -> str:
    return "–" if value is None else format_percent(value, 0)


def _hours(value: float | None) -> str:
    return "–" if value is None else _("{hours} h").format(hours=format_decimal(value, 1))


def _card(label: str, value: str, note: str = "") -> str:
    return (
        f'<div style="{_CSS["card"]}"><div style="{_CSS["muted"]}">{_e(label)}</div>'
        f'<div style="font-size:20px;font-weight:bold">{_e(value)}</div>'
        f'<div style="{_CSS["muted"]}">{_e(note)}</div></div>'
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th style="{_CSS["th"]}">{_e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CSS["td"]}">{_e(c)}</td>' for c in r) + "</tr>" for r in rows
    )
    return f'<table style="{_CSS["table"]}"><tr>{head}</tr>{body}</table>'


def render_html(digest: Digest, images: dict[str, str]) -> str:
    """The digest as one HTML document; `images` maps chart names to their src (cid:… or data:…)."""
    d, k = digest, digest.kpis
    day = d.day.isoformat() if language() == "en" else format_date(d.day, "long")
    average = _("7-day average {value}")
    parts = [
        _h1(_("mentiondesk daily digest: {day}").format(day=day)),
        _muted(_("Day in {zone}; averages are per day over the 7 days before.").format(zone=d.zone)),
        _h2(_("The day")),
        _card(_("Mentions"), str(d.counts.mentions), average.format(value=d.average.mentions)),
        _card(_("Negative"), str(d.counts.negative), average.format(value=d.average.negative)),
        _card(_("Negative share"), _pct(d.counts.share), average.format(value=_pct(d.average.share))),
        _card(_("Spikes"), str(len(d.alerts))),
    ]
    if d.by_source:
        parts.append(
            _table(
                [_("Source"), _("Mentions"), _("Negative"), _("Negative share")],
                [[s, str(c.mentions), str(c.negative), _pct(c.share)] for s, c in d.by_source.items()],
            )
        )
    for name in ("volume", "negative"):
        if name in images:
            alt = _("chart: {name}").format(name=name)
            parts.append(f'<div><img src="{_e(images[name])}" alt="{_e(alt)}" style="max-width:100%"></div>')
    parts.append(_h2(_("Spikes")))
    if not d.alerts:
        parts.append(_muted(_("No negativity spikes.")))
    for alert in d.alerts:
        examples = "".join(f"<li>{_e(x.text)}</li>" for x in alert.examples[:3])
        terms = _("Top terms: {terms}").format(terms=", ".join(alert.top_terms))
        terms_line = f"<div>{_e(terms)}</div>" if alert.top_terms else ""
        parts.append(
            f'<div style="{_CSS["alert"]}"><b>{_e(alert_headline(alert))}</b>{terms_line}'
            f"<ul>{examples}</ul></div>"
        )
    parts.append(_h2(_("Top negative topics")))
    if d.topics:
        parts.append(
            _table(
                [_("Topic"), _("Negative mentions"), _("Examples")],
                [[n, str(c), " | ".join(ex)] for n, c, ex in d.topics],
            )
        )
    if d.complaints:
        parts.append(
            _table(
                [_("Complaint cluster"), _("Mentions"), _("Representative examples")],
                [[c.name, str(c.size), " | ".join(c.examples)] for c in d.complaints],
            )
        )
    if not d.topics and not d.complaints:
        parts.append(_muted(_("No negative topics.")))
    parts.append(_h2(_("Service")))
    of = _("{part} of {whole}")
    median = _("median {value}")
    parts.extend(
        [
            _card(_("Cases"), str(k.cases)),
            _card(
                _("Timely first responses"), _pct(k.timely_share), of.format(part=k.timely, whole=k.judged)
            ),
            _card(_("First response"), _hours(k.frt_mean_h), median.format(value=_hours(k.frt_median_h))),
            _card(_("Missed"), str(k.missed)),
            _card(_("Update clock hits"), _pct(k.update_hit_share)),
            _card(_("Resolved in time"), _pct(k.resolution_share)),
            _card(_("First-contact resolution"), _pct(k.fcr_share)),
            _card(_("Won back"), _pct(k.won_back_share), of.format(part=k.won_back, whole=k.came_back)),
            _card(_("Compensation"), f"{k.compensation_value:g}", _("{n} granted").format(n=k.compensations)),
            _card(_("Time to resolve"), _hours(k.ttr_mean_h), median.format(value=_hours(k.ttr_median_h))),
        ]
    )
    if d.targets:
        parts.append(targets_html(d.targets))
    if d.satisfaction is not None and d.satisfaction.figures.asked:
        parts.append(_h2(_("Customer satisfaction")))
        parts.append(f"<div>{_e(summary_line(d.satisfaction))}</div>")
    parts.append(_h2(_("Oldest unresolved threads")))
    if d.oldest_open:
        parts.append(
            _table(
                [_("Since"), _("Source"), _("Status"), _("Owner"), _("First message")],
                [
                    [
                        show(t.first_message_at, ZoneInfo(d.zone)),
                        t.source,
                        thread_status(t.status),
                        t.owner or "–",
                        t.text[:200],
                    ]
                    for t in d.oldest_open
                ],
            )
        )
    else:
        parts.append(_muted(_("Nothing unresolved.")))
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html><html lang="{language()}"><head><meta charset="utf-8"><title>{_e(_title(day))}'
        f'</title></head><body style="{_CSS["body"]}">{body}</body></html>'
    )


def data_uri_images(pngs: dict[str, bytes]) -> dict[str, str]:
    return {
        name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in pngs.items()
    }


def email_message(digest: Digest, pngs: dict[str, bytes], to: list[str], sender: str) -> EmailMessage:
    """A multipart/related e-mail: plain-text part, HTML part, the charts as CID attachments."""
    message = EmailMessage()
    counts = {
        "day": digest.day.isoformat(),
        "mentions": digest.counts.mentions,
        "average": digest.average.mentions,
        "negative": digest.counts.negative,
        "spikes": len(digest.alerts),
    }
    message["Subject"] = _(
        "mentiondesk digest {day}: {mentions} mentions, {negative} negative, {spikes} spikes"
    ).format(**counts)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content(
        _(
            "Daily digest {day}: {mentions} mentions ({average} on an average day), {negative} negative, "
            "{spikes} spikes. Open the HTML part for the report."
        ).format(**counts)
    )
    message.add_alternative(
        render_html(digest, {name: f"cid:{name}@mentiondesk" for name in pngs}), subtype="html"
    )
    html_part = message.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    for name, png in pngs.items():
        html_part.add_related(
            png, maintype="image", subtype="png", cid=f"<{name}@mentiondesk>", filename=f"{name}.png"
        )
    return message
