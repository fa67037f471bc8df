"""The weekly report on two hand-written weeks (tests/weekly_fixture.py, the figures worked out
there): topic counts and their change, examples, KPIs and the calendar zone's week boundaries, on
SQLite and PostgreSQL; escaping; the clusters on the real model; `mentiondesk report weekly`
printing it and sending it to a real SMTP server; the weekly schedule sending once; the page
through AppTest."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.settings import Settings, get_settings
from desk.services.weekly_render import render_html, render_text
from desk.services.weekly_report import (
    WeeklyReport,
    build_weekly_report,
    last_complete_week,
    parse_week,
    week_bounds,
)
from desk.services.weekly_run import WEEKDAYS, due_week, run_weekly_schedule
from tests.desk_support import create_user
from tests.mail_support import smtp_server
from tests.support import PROJECT_ROOT, wait_until, worker_env
from tests.weekly_fixture import NOW, PREVIOUS, TRICKY, WEEK, load_weekly_fixture

PAGES = PROJECT_ROOT / "desk" / "app_pages"


def _store(url: str, *, surveys: bool = True) -> None:
    migrate(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_weekly_fixture(session, surveys=surveys)
        session.commit()
    engine.dispose()


def _report(url: str, brand: str | None, **kwargs: object) -> WeeklyReport:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return build_weekly_report(session, WEEK, brand, now=NOW, **kwargs)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def _squeezed(text: str) -> list[str]:
    """The lines of a plain-text report with runs of spaces made one (the columns' padding)."""
    return [" ".join(line.split()) for line in text.splitlines()]


def _topics(report: WeeklyReport) -> list[tuple[str, int, int, int, float | None]]:
    return [(t.name, t.count, t.previous, t.change, t.change_pct) for t in report.rule_topics]


def test_weeks_are_iso_weeks_in_the_calendar_zone() -> None:
    start, end = week_bounds(WEEK, "Europe/Moscow")
    assert (start, end) == (datetime(2026, 11, 22, 21, tzinfo=UTC), datetime(2026, 11, 29, 21, tzinfo=UTC))
    assert last_complete_week(NOW, "Europe/Moscow") == WEEK  # Tue 1 Dec is in W49
    assert last_complete_week(datetime(2026, 11, 29, 21, 30, tzinfo=UTC), "Europe/Moscow") == WEEK
    assert last_complete_week(datetime(2026, 11, 29, 21, 30, tzinfo=UTC), "UTC") == PREVIOUS
    assert parse_week("2020-W53") == (2020, 53)
    for bad in ("2026-48", "2026-W54", "2021-W53", "W48"):
        with pytest.raises(ValueError, match="not an ISO week"):
            parse_week(bad)


def test_topic_counts_change_examples_and_kpis(database_url: str) -> None:
    _store(database_url)
    report = _report(database_url, "acme")

    assert (report.mentions, report.complaints) == (11, 10)
    assert (report.previous_mentions, report.previous_complaints) == (8, 7)
    assert _topics(report) == [
        ("delivery", 6, 2, 4, 2.0),
        ("payment", 4, 0, 4, None),
        ("refund", 1, 3, -2, -2 / 3),
        ("app", 0, 2, -2, -1.0),
    ]
    delivery = report.rule_topics[0]
    assert [x.text for x in delivery.examples] == [
        TRICKY,
        "complaint c3 about delivery",
        "complaint c2 about delivery",
    ]
    assert delivery.examples[1].url == "https://example.test/vk/c3"
    assert report.clusters == [] and not report.clustered

    k = report.kpis
    assert (k.cases, k.judged, k.timely, k.missed, k.answered) == (11, 11, 1, 10, 2)
    assert (k.frt_mean_h, k.frt_median_h) == (5.5, 5.5)
    assert (k.resolved, k.fcr) == (1, 1)
    p = report.previous_kpis
    assert (p.cases, p.timely, p.missed) == (8, 0, 8)

    s = report.satisfaction
    assert (s.asked, s.answered, s.response_rate, s.low_scores) == (10, 8, 0.8, 2)
    assert (s.csat_responses, s.csat) == (3, 2 / 3)
    assert (s.nps_responses, s.promoters, s.passives, s.detractors, s.nps) == (4, 2, 1, 1, 25.0)
    before = report.previous_satisfaction
    assert (before.asked, before.answered, before.csat, before.nps) == (1, 1, 1.0, None)
    assert (report.csat_target, report.nps_target) == (0.9, 44.0)

    everyone = _report(database_url, None)
    assert (everyone.mentions, everyone.complaints) == (12, 11)
    assert _topics(everyone)[0] == ("delivery", 7, 3, 4, 4 / 3)
    assert everyone.kpis.cases == 12


def test_renderings_escape_customer_text(sqlite_url: str) -> None:
    _store(sqlite_url)
    report = _report(sqlite_url, "acme")
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert '<a href="https://example.test/vk/c3">link</a>' in page
    assert "+4 (+200%)" in page and "+4 (new)" in page and "-2 (-67%)" in page and "-2 (-100%)" in page
    plain = render_text(report)
    assert "  delivery: 6 (week before 2, +4 (+200%))" in plain
    assert "  refund: 1 (week before 3, -2 (-67%))" in plain
    assert f"    - {TRICKY} <https://example.test/vk/c13>" in plain
    assert "Timely first responses" in plain and "9% (1 of 11)" in plain
    lines = _squeezed(plain)
    assert "Timely first responses 9% (1 of 11) 0% (0 of 8) below target 93.6%" in lines
    assert "First-contact resolution 100% (1 of 1) – (0 of 0) met target 91.0%" in lines
    assert "CSAT (share of 4-5) 67% of 3 100% of 1 below target 90%" in lines
    assert "NPS +25 of 4 – of 0 below target +44" in lines
    assert "Response rate 80% (8 of 10) 100% (1 of 1)" in lines
    assert "Low scores 2 0" in lines
    assert "below target 90%" in page and "+25 of 4" in page


def test_no_surveys_is_said(sqlite_url: str) -> None:
    _store(sqlite_url, surveys=False)
    report = _report(sqlite_url, "acme")
    assert report.satisfaction.asked == 0 and report.satisfaction.csat is None
    assert "Customer satisfaction\n  no surveys\n" in render_text(report)
    assert "No surveys in these two weeks." in render_html(report)


def test_clusters_of_both_weeks_on_the_real_model(sqlite_url: str) -> None:
    from core.db.repository import save_scored_mentions
    from mentiondesk.wiring import model_embedder
    from tests.factories import scored_mention
    from tests.integration.test_complaint_topics import APP, DELIVERY

    embed = model_embedder()
    assert embed is not None, "the built-in model must provide embeddings"
    migrate(sqlite_url)
    w47, w48 = week_bounds(PREVIOUS, "UTC")[0], week_bounds(WEEK, "UTC")[0]
    # W47: 2 delivery, 6 app complaints; W48: 6 delivery, 2 app -> delivery +4 (+200%), app -4 (-67%)
    texts = [(w47, t) for t in DELIVERY[:2] + APP[:6]] + [(w48, t) for t in DELIVERY[2:] + APP[6:]]
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        save_scored_mentions(
            session,
            [
                scored_mention(f"k{i}", created_at=start + timedelta(hours=10 + i), negativity=0.9, text=body)
                for i, (start, body) in enumerate(texts)
            ],
        )
        session.commit()
        from desk.services.calendar_store import save_calendar
        from desk.services.clocks import BusinessCalendar

        save_calendar(session, BusinessCalendar(tz="UTC"))
        session.commit()
        report = build_weekly_report(session, WEEK, "acme", now=NOW, embed=embed, max_clusters=2)
    engine.dispose()
    assert report.clustered
    counts = sorted((t.count, t.previous) for t in report.clusters)
    assert counts == [(2, 6), (6, 2)]
    big = next(t for t in report.clusters if t.count == 6)
    assert all(x.text in DELIVERY for x in big.examples) and len(big.examples) == 3
    assert (big.change, big.change_pct) == (4, 2.0)
    assert "Complaint cluster (model)" in render_html(report)


def _env(url: str, **extra: str) -> dict[str, str]:
    return worker_env("127.0.0.1:1", url, **extra)


def test_cli_prints_the_report(sqlite_url: str) -> None:
    _store(sqlite_url)
    result = subprocess.run(
        [sys.executable, "-m", "mentiondesk.cli", "report", "weekly", "--week", WEEK, "--brand", "acme",
         "--no-clusters"],
        env=_env(sqlite_url), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"mentiondesk weekly report {WEEK}, acme\n23 Nov – 29 Nov 2026, Europe/Moscow")
    assert "  delivery: 6 (week before 2, +4 (+200%))" in out
    assert "  payment: 4 (week before 0, +4 (new))" in out
    assert "CSAT (share of 4-5) 67% of 3 100% of 1 below target 90%" in _squeezed(out)
    html_run = subprocess.run(
        [sys.executable, "-m", "mentiondesk.cli", "report", "weekly", "--week", WEEK, "--format", "html",
         "--no-clusters"],
        env=_env(sqlite_url), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert html_run.returncode == 0, html_run.stderr
    assert html_run.stdout.startswith("<!DOCTYPE html>") and "&lt;script&gt;" in html_run.stdout
    assert "all brands" in html_run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "mentiondesk.cli", "report", "weekly", "--week", "2026-48"],
        env=_env(sqlite_url), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "not an ISO week" in bad.stderr


def test_cli_send_delivers_to_smtp(sqlite_url: str) -> None:
    _store(sqlite_url)
    with smtp_server() as (port, inbox):
        env = _env(sqlite_url, MD_SMTP_HOST="127.0.0.1", MD_SMTP_PORT=str(port),
                   MD_DIGEST_TO="leads@example.test, ceo@example.test")  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-m", "mentiondesk.cli", "report", "weekly", "--week", WEEK, "--brand", "acme",
             "--send", "--no-clusters"],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sent to leads@example.test, ceo@example.test" in result.stdout
    assert len(inbox.messages) == 1 and inbox.envelopes[0][1] == ["leads@example.test", "ceo@example.test"]
    message = inbox.messages[0]
    subject = str(message["Subject"])
    assert f"weekly report {WEEK} (acme): 11 mentions, 10 complaints (week before 7)" in subject
    assert "top topic delivery (6, +4 (+200%))" in subject
    plain = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html_part, EmailMessage)
    assert "  delivery: 6 (week before 2, +4 (+200%))" in plain.get_content()
    body = html_part.get_content()
    assert "delivery" in body and "payment" in body and "+4 (new)" in body
    assert "Timely first responses" in body and "9% (1 of 11)" in body
    assert "67% of 3" in body and "+25 of 4" in body and "80% (8 of 10)" in body
    assert "below target 90%" in body and "below target +44" in body
    assert "&lt;script&gt;" in body and "<script>" not in body


def test_cli_send_without_recipients_fails(sqlite_url: str) -> None:
    _store(sqlite_url)
    result = subprocess.run(
        [sys.executable, "-m", "mentiondesk.cli", "report", "weekly", "--week", WEEK, "--send",
         "--no-clusters"],
        env=_env(sqlite_url, MD_SMTP_HOST="127.0.0.1"), cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "not sent: no recipients" in result.stderr


@dataclass
class FakeTime:
    now: datetime
    until: datetime

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def stop(self) -> bool:
        return self.now >= self.until


def test_due_week_follows_day_time_and_zone() -> None:
    settings = Settings(weekly_report_day="mon", weekly_report_at="09:00")
    monday_8 = datetime(2026, 11, 30, 5, 59, tzinfo=UTC)  # 08:59 in Moscow
    assert due_week(settings, monday_8, "Europe/Moscow") is None
    assert due_week(settings, monday_8 + timedelta(minutes=1), "Europe/Moscow") == WEEK
    assert due_week(settings, monday_8, "UTC") is None
    assert due_week(settings, datetime(2026, 12, 6, 20, 59, tzinfo=UTC), "Europe/Moscow") == WEEK  # Sun 23:59
    assert due_week(settings, datetime(2026, 12, 6, 21, 0, tzinfo=UTC), "Europe/Moscow") is None  # Mon 00:00
    assert due_week(Settings(weekly_report_day="off"), monday_8 + timedelta(hours=1), "UTC") is None


def test_schedule_sends_last_week_once_on_the_day(sqlite_url: str) -> None:
    _store(sqlite_url)  # Moscow calendar
    with smtp_server() as (port, inbox):
        settings = Settings(
            database_url=sqlite_url, smtp_host="127.0.0.1", smtp_port=port, digest_to="leads@example.test",
            weekly_report_day="mon", weekly_report_at="09:00",
        )  # fmt: skip
        # Mon 30 Nov 08:00 MSK to 12:00 MSK, polling every 5 minutes
        fake = FakeTime(datetime(2026, 11, 30, 5, 0, tzinfo=UTC), datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
        run_weekly_schedule(settings, clock=fake.clock, should_stop=fake.stop, poll_s=300, sleep=fake.sleep)
        # a restart the same day sends nothing again
        again = FakeTime(datetime(2026, 11, 30, 10, 0, tzinfo=UTC), datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
        run_weekly_schedule(
            settings, clock=again.clock, should_stop=again.stop, poll_s=300, sleep=again.sleep
        )
    assert len(inbox.messages) == 1
    assert f"weekly report {WEEK} (all brands): 12 mentions, 11 complaints" in str(
        inbox.messages[0]["Subject"]
    )
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT day, recipients, status FROM digest_runs")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(WEEK, "leads@example.test", "sent")]


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MD_DESK_LANGUAGE", "en")  # the role gate's message the test reads
    get_settings.cache_clear()
    _store(sqlite_url)
    create_user(sqlite_url, "lena", "brand_lead")
    create_user(sqlite_url, "alex", "agent", "support")
    yield sqlite_url
    get_settings.cache_clear()


def test_weekly_page_for_a_brand_lead(desk_db: str) -> None:
    app = AppTest.from_file(str(PAGES / "weekly.py"), default_timeout=60)
    app.session_state["md_user"] = "lena"
    app.query_params["week"] = WEEK
    app.query_params["brand"] = "acme"
    app.run()
    assert not app.exception
    assert app.selectbox(key="weekly_week").value == WEEK
    assert app.selectbox(key="weekly_brand").options == ["All brands", "acme", "other"]
    assert app.caption[0].value.startswith(f"Weekly report {WEEK} (acme): 11 mentions, 10 complaints")
    table = app.dataframe[0].value
    assert list(table["topic"]) == ["delivery", "payment", "refund", "app"]
    assert list(table["this week"]) == [6, 4, 1, 0]
    assert list(table["change"]) == ["+4 (+200%)", "+4 (new)", "-2 (-67%)", "-2 (-100%)"]
    app.selectbox(key="weekly_brand").select("All brands").run()
    assert app.dataframe[0].value["this week"].iloc[0] == 7

    refused = AppTest.from_file(str(PAGES / "weekly.py"), default_timeout=60)
    refused.session_state["md_user"] = "alex"
    refused.run()
    assert refused.error and "does not allow" in refused.error[0].value
    assert not refused.dataframe


def test_digest_schedule_process_also_sends_the_weekly_report(sqlite_url: str, tmp_path: Path) -> None:
    """`mentiondesk digest --schedule` (what `up` and compose run) sends the digest and, on the set
    weekday and time (here: today, 00:00, in the calendar's zone), last week's report, once each."""
    migrate(sqlite_url)  # an empty desk: the default calendar (Europe/Moscow)
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Moscow"))
    last_week = last_complete_week(datetime.now(UTC), "Europe/Moscow")
    log = tmp_path / "schedule.log"
    with smtp_server() as (port, inbox):
        env = _env(sqlite_url, MD_SMTP_HOST="127.0.0.1", MD_SMTP_PORT=str(port),
                   MD_DIGEST_TO="leads@example.test", MD_DIGEST_TIME="00:00",
                   MD_WEEKLY_REPORT_DAY=WEEKDAYS[today.weekday()], MD_WEEKLY_REPORT_AT="00:00")  # fmt: skip
        with log.open("ab") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "mentiondesk.cli", "digest", "--schedule", "--no-clusters"],
                env=env, cwd=PROJECT_ROOT, stdout=handle, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            assert wait_until(lambda: len(inbox.messages) >= 2, timeout=150), log.read_text()
            wait_until(lambda: False, timeout=2)  # would a third mail follow?
        finally:
            process.terminate()
            process.wait(20)
    subjects = sorted(str(m["Subject"]) for m in inbox.messages)
    assert len(subjects) == 2, subjects
    assert subjects[0].startswith("mentiondesk digest ")
    assert subjects[1].startswith(f"mentiondesk weekly report {last_week} (all brands): 0 mentions")
    assert f"weekly report of {last_week} sent to leads@example.test" in log.read_text()
