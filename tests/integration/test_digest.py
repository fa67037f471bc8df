"""The daily digest of a stored day: the right counts, sent by `mentiondesk digest --send` to a real
SMTP server (aiosmtpd) with CID charts, and rendered in headless Chromium for a screenshot."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from core.db.alerts import save_alerts
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.repository import save_scored_mentions
from desk.services.digest import build_digest, render_html
from schemas import Alert, AlertExample
from tests.analytics_fixture import CALENDAR, DAY, NOW, load_fixture_day
from tests.factories import scored_mention
from tests.mail_support import smtp_server
from tests.support import PROJECT_ROOT, worker_env

TRICKY = "<script>alert('x')</script> refund & delivery"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def _store_day(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_fixture_day(session)  # the day: 7 customer mentions, 5 negative (see the KPI test)
        week = [  # 13 more customer mentions in the 7 days before (f1 is the 14th): 2 a day
            scored_mention(
                f"w{i}", thread_key=f"W{i}", created_at=DAY - timedelta(days=1 + i % 7, hours=2),
                negativity=0.9 if i < 6 else 0.2,
            )
            for i in range(13)
        ]  # fmt: skip
        tagged = scored_mention(
            "t1", thread_key="T", created_at=DAY + timedelta(hours=15), negativity=0.99, text=TRICKY,
            topics=("refund",),
        )  # fmt: skip
        save_scored_mentions(session, [*week, tagged])
        alert = Alert(
            brand="acme", source=None, window_start=DAY + timedelta(hours=15),
            window_end=DAY + timedelta(hours=15, minutes=15), negative_count=6, total_count=7,
            negative_share=6 / 7, baseline_share=0.3, score=4.2, top_terms=("refund",),
            examples=(AlertExample(mention_id="vk:t1", negativity=0.99, text=TRICKY),),
        )  # fmt: skip
        save_alerts(session, [alert])
        session.commit()
    engine.dispose()


def test_digest_counts_and_escaping(sqlite_url: str) -> None:
    _store_day(sqlite_url)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        digest = build_digest(session, DAY.date(), zone="UTC", now=NOW, calendar=CALENDAR)
    engine.dispose()
    assert (digest.counts.mentions, digest.counts.negative) == (8, 6)  # the fixture day + t1
    assert (digest.average.mentions, digest.average.negative) == (2, 1)  # 14 and 7 over 7 days
    assert {s: (c.mentions, c.negative) for s, c in digest.by_source.items()} == {
        "vk": (7, 5),
        "twitter": (1, 1),
    }
    assert len(digest.alerts) == 1 and digest.alerts[0].brand == "acme"
    assert digest.topics == [("refund", 1, (TRICKY,))]
    assert digest.kpis.cases == 6  # A-E and T
    assert [t.text for t in digest.oldest_open][:1] == ["mention w6"]  # 7 days before, the oldest
    page = render_html(digest, {})
    assert "<script>" not in page and "&lt;script&gt;" in page


@pytest.mark.browser
def test_digest_is_sent_by_smtp_and_renders_in_chromium(sqlite_url: str, tmp_path: Path) -> None:
    _store_day(sqlite_url)
    out = tmp_path / "digest"
    with smtp_server() as (port, inbox):
        env = worker_env("127.0.0.1:1", sqlite_url, MD_SMTP_HOST="127.0.0.1", MD_SMTP_PORT=str(port),
                         MD_DIGEST_TO="leads@example.test, ceo@example.test",
                         MD_DIGEST_TIMEZONE="UTC")  # the fixture's day is a UTC day  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-m", "mentiondesk.cli", "digest", "--date", "2026-01-05", "--out", str(out),
             "--send", "--no-clusters"],
            env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "digest 2026-01-05: 8 mentions, 6 negative, 1 spikes" in result.stdout
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.envelopes[0][1] == ["leads@example.test", "ceo@example.test"]
    assert "8 mentions, 6 negative, 1 spikes" in str(message["Subject"])
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    body = html_part.get_content()
    assert "cid:volume@mentiondesk" in body and "&lt;script&gt;" in body and "<script>" not in body
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert {p["Content-ID"] for p in images} == {"<volume@mentiondesk>", "<negative@mentiondesk>"}
    for image in images:
        data = image.get_payload(decode=True)
        assert isinstance(data, bytes) and data.startswith(b"\x89PNG\r\n\x1a\n")

    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    page_file = out / "digest-2026-01-05.html"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 820, "height": 1200})
        page.goto(page_file.as_uri())
        assert page.locator("h1").inner_text().startswith("mentiondesk daily digest: 2026-01-05")
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        assert len(widths) == 2 and all(w > 100 for w in widths)  # the charts decoded
        page.screenshot(path=str(ARTIFACTS / "digest.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "digest.png").stat().st_size > 10_000
