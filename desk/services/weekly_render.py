"""The weekly report as HTML (e-mail and page, inline CSS), as plain text, and as an e-mail.

Pure functions of a WeeklyReport. Customer text is untrusted: every piece of it is HTML-escaped,
and a mention's link becomes a link only when it is http(s) (anything else is shown as text).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from typing import Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from core.i18n import N_, _, _p, format_date, format_decimal, format_percent, language
from desk.services.kpis import Kpis
from desk.services.satisfaction import SatisfactionFigures
from desk.services.targets import judge
from desk.services.weekly_report import Example, TopicTrend, WeeklyReport, week_monday

_CSS = {
    "body": "font-family:Arial,Helvetica,sans-serif;color:#1f2933;max-width:820px;margin:0 auto;padding:16px",
    "h1": "font-size:22px;margin:0 0 4px 0",
    "h2": "font-size:17px;margin:24px 0 8px 0;border-bottom:1px solid #d9e2ec;padding-bottom:4px",
    "table": "border-collapse:collapse;width:100%;font-size:13px",
    "td": "border-bottom:1px solid #e4e7eb;padding:4px 6px;vertical-align:top",
    "num": "border-bottom:1px solid #e4e7eb;padding:4px 6px;vertical-align:top;text-align:right",
    "th": "text-align:left;border-bottom:2px solid #bcccdc;padding:4px 6px",
    "card": (
        "display:inline-block;min-width:150px;margin:0 8px 8px 0;padding:8px 12px;"
        "background:#f0f4f8;border-radius:6px"
    ),
    "muted": "color:#627d98;font-size:12px",
    "up": "color:#c62828;font-weight:bold",  # more complaints: bad
    "down": "color:#2e7d32;font-weight:bold",
    "met": "color:#2e7d32",
    "missed": "color:#c62828",
    "ul": "margin:2px 0 0 0;padding-left:18px",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _h1(text: str) -> str:
    return f'<h1 style="{_CSS["h1"]}">{_e(text)}</h1>'


def _h2(text: str) -> str:
    return f'<h2 style="{_CSS["h2"]}">{_e(text)}</h2>'


def _muted(text: str) -> str:
    return f'<div style="{_CSS["muted"]}">{_e(text)}</div>'


def _title(week: str) -> str:
    return _("mentiondesk weekly report {week}").format(week=week)


def _granted(count: int) -> str:
    return _("{n} granted").format(n=count)


def pct(value: float | None) -> str:
    return "–" if value is None else format_percent(value, 0)


def hours(value: float | None) -> str:
    return "–" if value is None else _("{hours} h").format(hours=format_decimal(value, 1))


def points(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}"


def change_text(topic: TopicTrend) -> str:
    """ "+4 (+200%)", "-2 (-67%)", "+4 (new)", "0"."""
    if topic.change == 0:
        return "0"
    share = topic.change_pct
    new = _p("topic", "new")
    return f"{topic.change:+d} ({new if share is None else f'{share:+.0%}'})"


def scope(report: WeeklyReport) -> str:
    return report.brand or _("all brands")


def _days(report: WeeklyReport) -> str:
    monday = week_monday(report.week)
    if language() == "en":
        return f"{monday:%d %b} – {monday + timedelta(days=6):%d %b %Y}"
    return f"{format_date(monday, 'd MMM')} – {format_date(monday + timedelta(days=6), 'd MMM y')}"


def safe_url(url: str | None) -> str | None:
    """The link if it is an absolute http(s) URL, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


# ---------------------------------------------------------------- figures shared by both renderings


def _of(part: object, whole: object) -> str:
    return _("{part} of {whole}").format(part=part, whole=whole)


# labels marked for translation; shown with _() (the verdicts of desk.services.targets are keyed
# by the translated label too)
KPI_LINES: list[tuple[str, Callable[[Kpis], str]]] = [
    (N_("Cases"), lambda k: str(k.cases)),
    (N_("Timely first responses"), lambda k: f"{pct(k.timely_share)} ({_of(k.timely, k.judged)})"),
    (N_("First response, mean"), lambda k: hours(k.frt_mean_h)),
    (N_("First response, median"), lambda k: hours(k.frt_median_h)),
    (N_("Missed"), lambda k: str(k.missed)),
    (N_("Update clock hits"), lambda k: pct(k.update_hit_share)),
    (N_("Resolved within deadline"), lambda k: pct(k.resolution_share)),
    (N_("First-contact resolution"), lambda k: f"{pct(k.fcr_share)} ({_of(k.fcr, k.resolved)})"),
    (N_("Won back"), lambda k: f"{pct(k.won_back_share)} ({_of(k.won_back, k.came_back)})"),
    (N_("Negative share"), lambda k: pct(k.negative_share)),
    (
        N_("Compensation"),
        lambda k: f"{k.compensation_value:g} ({_granted(k.compensations)})",
    ),
]


def satisfaction_lines(report: WeeklyReport) -> list[tuple[str, str, str, str]]:
    """(label, this week, last week, target verdict) for CSAT, NPS, response rate, low scores."""
    s, p = report.satisfaction, report.previous_satisfaction
    return [
        (_("CSAT (share of 4-5)"), _csat(s), _csat(p), _verdict(s.csat, report.csat_target, pct)),
        ("NPS", _nps(s), _nps(p), _verdict(s.nps, report.nps_target, points)),
        (_("Response rate"), _rate(s), _rate(p), ""),
        (_("Low scores"), str(s.low_scores), str(p.low_scores), ""),
    ]


def _csat(figures: SatisfactionFigures) -> str:
    return _of(pct(figures.csat), figures.csat_responses)


def _nps(figures: SatisfactionFigures) -> str:
    return _of(points(figures.nps), figures.nps_responses)


def _rate(figures: SatisfactionFigures) -> str:
    return f"{pct(figures.response_rate)} ({_of(figures.answered, figures.asked)})"


MET: Final = N_("met target {target}")
BELOW: Final = N_("below target {target}")
TARGET: Final = N_("target {target}")


def _verdict(value: float | None, target: float, show: Callable[[float | None], str]) -> str:
    if value is None:
        return _(TARGET).format(target=show(target))
    return _(MET if value >= target else BELOW).format(target=show(target))


def kpi_verdicts(report: WeeklyReport) -> dict[str, str]:
    """KPI label -> "met target 93.6%" / "below target 93.6%" (desk.services.targets)."""
    return {
        check.label: _(TARGET if check.met is None else MET if check.met else BELOW).format(
            target=format_percent(check.target, 1)
        )
        for check in judge(report.kpis, report.targets)
    }


def headline(report: WeeklyReport) -> str:
    top = report.rule_topics[0] if report.rule_topics and report.rule_topics[0].count else None
    lead = (
        _(", top topic {name} ({count}, {change})").format(
            name=top.name, count=top.count, change=change_text(top)
        )
        if top
        else ""
    )
    return _(
        "weekly report {week} ({scope}): {mentions} mentions, "
        "{complaints} complaints (week before {previous}){lead}"
    ).format(
        week=report.week,
        scope=scope(report),
        mentions=report.mentions,
        complaints=report.complaints,
        previous=report.previous_complaints,
        lead=lead,
    )


# ---------------------------------------------------------------- plain text


def render_text(report: WeeklyReport) -> str:
    r = report
    lines = [
        _("mentiondesk weekly report {week}, {scope}").format(week=r.week, scope=scope(r)),
        _("{days}, {zone}; compared with {previous}").format(
            days=_days(r), zone=r.zone, previous=r.previous_week
        ),
        "",
        _(
            "Mentions: {mentions} (week before {previous_mentions}); complaints (negative): "
            "{complaints} (week before {previous_complaints})"
        ).format(
            mentions=r.mentions,
            previous_mentions=r.previous_mentions,
            complaints=r.complaints,
            previous_complaints=r.previous_complaints,
        ),
        "",
        _("Most frequent complaint topics (topic rules)"),
    ]
    lines.extend(_text_topics(r.rule_topics) or ["  " + _("no tagged complaints")])
    lines += ["", _("Complaint clusters (model)")]
    if not r.clustered:
        lines.append("  " + _("not clustered (no model)"))
    else:
        lines.extend(_text_topics(r.clusters) or ["  " + _("no complaints")])
    kpis_title = _("KPIs")
    lines += ["", f"{kpis_title:<30}{r.week:>16}{r.previous_week:>16}"]
    verdicts = kpi_verdicts(r)
    lines.extend(
        f"  {_(label):<28}{f(r.kpis):>16}{f(r.previous_kpis):>16}  {verdicts.get(_(label), '')}".rstrip()
        for label, f in KPI_LINES
    )
    lines += ["", _("Customer satisfaction")]
    if not r.satisfaction.asked and not r.previous_satisfaction.asked:
        lines.append("  " + _("no surveys"))
    else:
        lines.extend(
            f"  {label:<28}{now:>16}{before:>16}  {verdict}".rstrip()
            for label, now, before, verdict in satisfaction_lines(r)
        )
    return "\n".join(lines) + "\n"


def _text_topics(topics: list[TopicTrend]) -> list[str]:
    out = []
    for t in topics:
        out.append(
            "  "
            + _("{name}: {count} (week before {previous}, {change})").format(
                name=t.name, count=t.count, previous=t.previous, change=change_text(t)
            )
        )
        for x in t.examples:
            out.append(f"    - {x.text}" + (f" <{x.url}>" if x.url else ""))
    return out


# ---------------------------------------------------------------- HTML


def _card(label: str, value: str, note: str = "") -> str:
    return (
        f'<div style="{_CSS["card"]}"><div style="{_CSS["muted"]}">{_e(label)}</div>'
        f'<div style="font-size:20px;font-weight:bold">{_e(value)}</div>'
        f'<div style="{_CSS["muted"]}">{_e(note)}</div></div>'
    )


def _th(*headers: str) -> str:
    return "<tr>" + "".join(f'<th style="{_CSS["th"]}">{_e(h)}</th>' for h in headers) + "</tr>"


def _change_html(topic: TopicTrend) -> str:
    style = _CSS["up"] if topic.change > 0 else _CSS["down"] if topic.change < 0 else ""
    return f'<span style="{style}">{_e(change_text(topic))}</span>'


def _example_html(example: Example, zone: ZoneInfo) -> str:
    link = safe_url(example.url)
    meta = f"{example.source}, {example.created_at.astimezone(zone):%d %b %H:%M}"
    link_text = _("link")
    anchor = f' <a href="{_e(link)}">{_e(link_text)}</a>' if link else ""
    return f'<li>{_e(example.text)} <span style="{_CSS["muted"]}">({_e(meta)})</span>{anchor}</li>'


def _verdict_html(verdict: str) -> str:
    met, below = (_(template).split("{")[0] for template in (MET, BELOW))
    style = _CSS["met"] if verdict.startswith(met) else _CSS["missed"] if verdict.startswith(below) else ""
    return f'<span style="{style}">{_e(verdict)}</span>' if verdict else ""


def _topics_table(topics: list[TopicTrend], first: str, zone: ZoneInfo) -> str:
    rows = "".join(
        "<tr>"
        f'<td style="{_CSS["td"]}"><b>{_e(t.name)}</b>'
        f'<ul style="{_CSS["ul"]}">{"".join(_example_html(x, zone) for x in t.examples)}</ul></td>'
        f'<td style="{_CSS["num"]}">{t.count}</td>'
        f'<td style="{_CSS["num"]}">{t.previous}</td>'
        f'<td style="{_CSS["num"]}">{_change_html(t)}</td>'
        "</tr>"
        for t in topics
    )
    head = _th(first, _("This week"), _("Week before"), _("Change"))
    return f'<table style="{_CSS["table"]}">{head}{rows}</table>'


def render_html(report: WeeklyReport) -> str:
    """The report as one self-contained HTML document (no images, no scripts)."""
    r = report
    before = _("week before {value}")
    parts = [
        _h1(_("mentiondesk weekly report: {week}, {scope}").format(week=r.week, scope=scope(r))),
        _muted(
            _(
                "{days} ({zone}), compared with {previous}. "
                "A complaint is a customer mention labelled negative."
            ).format(days=_days(r), zone=r.zone, previous=r.previous_week)
        ),
        _h2(_("The week")),
        _card(_("Mentions"), str(r.mentions), before.format(value=r.previous_mentions)),
        _card(_("Complaints"), str(r.complaints), before.format(value=r.previous_complaints)),
        _card(_("Cases"), str(r.kpis.cases), before.format(value=r.previous_kpis.cases)),
        _h2(_("Most frequent complaint topics")),
    ]
    if r.rule_topics:
        parts.append(_topics_table(r.rule_topics, _("Topic (rules)"), ZoneInfo(r.zone)))
    else:
        parts.append(_muted(_("No complaints tagged by the topic rules.")))
    if r.clusters:
        parts.append('<div style="height:12px"></div>')
        parts.append(_topics_table(r.clusters, _("Complaint cluster (model)"), ZoneInfo(r.zone)))
    elif not r.clustered:
        parts.append(_muted(_("Complaint clusters: not built (no model).")))
    parts.append(_h2(_("Service KPIs")))
    verdicts = kpi_verdicts(r)
    kpi_rows = "".join(
        f'<tr><td style="{_CSS["td"]}">{_e(_(label))}</td><td style="{_CSS["num"]}">{_e(f(r.kpis))}</td>'
        f'<td style="{_CSS["num"]}">{_e(f(r.previous_kpis))}</td>'
        f'<td style="{_CSS["td"]}">{_verdict_html(verdicts.get(_(label), ""))}</td></tr>'
        for label, f in KPI_LINES
    )
    parts.append(f'<table style="{_CSS["table"]}">{_th("", r.week, r.previous_week, "")}{kpi_rows}</table>')
    parts.append(_h2(_("Customer satisfaction")))
    if not r.satisfaction.asked and not r.previous_satisfaction.asked:
        parts.append(_muted(_("No surveys in these two weeks.")))
    else:
        rows = "".join(
            f'<tr><td style="{_CSS["td"]}">{_e(label)}</td><td style="{_CSS["num"]}">{_e(now)}</td>'
            f'<td style="{_CSS["num"]}">{_e(before)}</td>'
            f'<td style="{_CSS["td"]}">{_verdict_html(verdict)}</td></tr>'
            for label, now, before, verdict in satisfaction_lines(r)
        )
        parts.append(f'<table style="{_CSS["table"]}">{_th("", r.week, r.previous_week, "")}{rows}</table>')
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html><html lang="{language()}"><head><meta charset="utf-8"><title>'
        f'{_e(_title(r.week))}</title></head><body style="{_CSS["body"]}">{body}</body></html>'
    )


def email_message(report: WeeklyReport, to: list[str], sender: str) -> EmailMessage:
    """multipart/alternative: the plain-text report and the HTML one."""
    message = EmailMessage()
    message["Subject"] = "mentiondesk " + headline(report)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message.set_content(render_text(report))
    message.add_alternative(render_html(report), subtype="html")
    return message


def topic_records(report: WeeklyReport) -> list[dict[str, object]]:
    """The topics as flat rows (the page's table)."""
    return [
        {
            _("topic"): t.name,
            _("from"): _("rules") if t.kind == "rule" else _("model"),
            _("this week"): t.count,
            _("week before"): t.previous,
            _("change"): change_text(t),
        }
        for t in [*report.rule_topics, *report.clusters]
    ]
