"""What mentiondesk sends out or shows, against real receivers: alert webhooks retried only when a
retry can help and failures kept in view on the desk, CSV exports that spreadsheets cannot run,
robots.txt read by the RFC's rules, review crawls that stay on the site, secrets masked in
`mentiondesk config`, and network error text shown literally on the collectors page."""

from __future__ import annotations

import csv
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from core.db.alerts import record_delivery, save_alerts, undelivered_alerts
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.repository import persist_batch
from core.notify.alerts import WebhookRetry, deliver
from core.settings import Settings, get_settings
from ingest.health import HealthBook
from ingest.http import PoliteClient, PolitenessPolicy
from ingest.reviews import OtzovikCollector
from schemas import Alert, AlertExample
from schemas.base import utc_now
from tests.desk_support import create_user
from tests.factories import conversation
from tests.fakes.review_site_server import FIXTURES, OTZOVIK_LIST, OTZOVIK_ROUTES, ReviewSiteServer
from tests.support import PROJECT_ROOT, run_cli

FAST = WebhookRetry(attempts=4, initial_s=0.01, max_wait_s=0.05, jitter_s=0.01, timeout_s=5)
PAGES = PROJECT_ROOT / "desk" / "app_pages"


# -- alert webhooks ---------------------------------------------------------------------------------


@dataclass
class Hook:
    """A webhook receiver that answers the queued statuses first, then 200."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def hook_server(*statuses: int, path: str = "/services/T0/B0/XyZsecret") -> Iterator[Hook]:
    hook = Hook(statuses=list(statuses))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with lock:
                hook.attempts.append(body)
                status = hook.statuses.pop(0) if hook.statuses else 200
                if status == 200:
                    hook.accepted.append(body)
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def _alert(topic: str = "refund", text: str = "<!channel> refund never came") -> Alert:
    start = utc_now().replace(microsecond=0) - timedelta(minutes=30)
    return Alert(
        brand="acme", source="vk", topic=topic, window_start=start, window_end=start + timedelta(minutes=15),
        negative_count=9, total_count=12, negative_share=0.75, baseline_share=0.2, score=4.5,
        examples=(AlertExample(mention_id="vk:1", negativity=0.97, text=text),),
    )  # fmt: skip


def test_a_webhook_failing_twice_with_500_gets_the_alert_exactly_once() -> None:
    with hook_server(500, 500) as hook:
        webhook, email = deliver(_alert(), Settings(alert_webhook_url=hook.url), retry=FAST)
    assert (webhook, email) == ("sent 200", None)
    assert len(hook.attempts) == 3 and len(hook.accepted) == 1
    assert "&lt;!channel&gt; refund never came" in hook.accepted[0]["text"]  # Slack: no ping


def test_429_is_retried_but_400_is_final() -> None:
    with hook_server(429) as hook:
        assert deliver(_alert(), Settings(alert_webhook_url=hook.url), retry=FAST)[0] == "sent 200"
    assert len(hook.attempts) == 2 and len(hook.accepted) == 1
    with hook_server(400, 200) as hook:
        webhook, _ = deliver(_alert(), Settings(alert_webhook_url=hook.url), retry=FAST)
    assert len(hook.attempts) == 1 and not hook.accepted
    assert webhook is not None and webhook.startswith("failed: HTTP Error 400")
    assert "XyZsecret" not in webhook


def test_telegram_receives_plain_text_without_parse_mode() -> None:
    with hook_server(path="/bot123456:AAHsecret/sendMessage") as hook:
        settings = Settings(alert_webhook_url=hook.url, alert_webhook_chat_id="-100123")
        assert deliver(_alert(), settings, retry=FAST)[0] == "sent 200"
    sent = hook.accepted[0]
    assert "parse_mode" not in sent and sent["chat_id"] == "-100123"
    assert "<!channel> refund never came" in sent["text"]  # plain text: shown as typed


def _store(sessions: sessionmaker[Session], alert: Alert, webhook: str | None) -> None:
    with sessions() as session:
        save_alerts(session, [alert])
        record_delivery(session, alert.alert_id, webhook, None)
        session.commit()


def test_undelivered_alerts_are_found_on_both_databases(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        with hook_server(503, 503, 503, 503) as hook:
            failed = _alert("refund")
            _store(sessions, failed, deliver(failed, Settings(alert_webhook_url=hook.url), retry=FAST)[0])
        assert len(hook.attempts) == FAST.attempts and not hook.accepted
        _store(sessions, _alert("delivery"), "sent 200")
        _store(sessions, _alert("app"), None)  # no webhook configured: nothing failed
        now = utc_now()
        with sessions() as session:
            rows = undelivered_alerts(session, now - timedelta(days=1), now)
        assert [(r.topic, r.webhook_status) for r in rows] == [
            ("refund", "failed: HTTP Error 503: Service Unavailable")
        ]
    finally:
        engine.dispose()


def test_the_trends_page_lists_undelivered_alerts(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    create_user(sqlite_url, "mira", "manager", "support")
    engine = make_engine(sqlite_url)
    try:
        with hook_server(400) as hook:
            alert = _alert()
            _store(
                make_session_factory(engine), alert, deliver(alert, Settings(alert_webhook_url=hook.url))[0]
            )
    finally:
        engine.dispose()
    try:
        app = AppTest.from_file(str(PAGES / "trends.py"), default_timeout=60)
        app.session_state["md_user"] = "mira"
        app.run()
        assert not app.exception
        assert any("1 spike alert of this period did not reach" in w.value for w in app.warning)
        table = app.dataframe[0].value
        assert list(table["Topic"]) == ["refund"]
        assert list(table["Webhook"]) == ["failed: HTTP Error 400: Bad Request"]
    finally:
        get_settings.cache_clear()


# -- CSV export -------------------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil","x")'


def test_exported_csv_cells_cannot_run_formulas(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path}/desk.db"
    migrate(database_url)
    engine = make_engine(database_url)
    mentions = conversation(n_threads=1, replies_per_thread=1)
    mentions[0] = mentions[0].model_copy(update={"text": FORMULA})
    mentions[1] = mentions[1].model_copy(update={"text": "-5% off? @support no thanks"})
    persist_batch(make_session_factory(engine), mentions)
    engine.dispose()

    out = tmp_path / "mentions.csv"
    result = run_cli(
        "export", "mentions", "--format", "csv", "--output", str(out), env={"MD_DATABASE_URL": database_url}
    )
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        texts = {r["external_id"]: r["text"] for r in csv.DictReader(handle)}
    assert texts[mentions[0].external_id] == "'" + FORMULA
    assert texts[mentions[1].external_id] == "'-5% off? @support no thanks"
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts.values())

    result = run_cli("export", "mentions", "--format", "jsonl", env={"MD_DATABASE_URL": database_url})
    assert FORMULA in {json.loads(line)["text"] for line in result.stdout.splitlines()}  # JSON: as stored


# -- robots.txt and links ---------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[PoliteClient]:
    polite = PoliteClient(PolitenessPolicy(min_interval_s=0.01, max_retries=1, backoff_base_s=0.01))
    yield polite
    polite.close()


def test_robots_wildcards_anchors_and_longest_match(client: PoliteClient) -> None:
    with ReviewSiteServer(OTZOVIK_ROUTES) as site:  # the fixture's `Disallow: /profile/*/comments`
        assert not client.allowed(site.url("/profile/123/comments"))
        assert client.allowed(site.url("/profile/123"))
        assert client.allowed(site.url(OTZOVIK_LIST))
    with ReviewSiteServer(OTZOVIK_ROUTES) as site:
        site.set_robots("User-agent: *\nDisallow: /review_\nAllow: /review_1005.html$\nDisallow: /*.pdf$\n")
        assert client.allowed(site.url("/review_1005.html"))  # the longer Allow wins
        assert not client.allowed(site.url("/review_1005.html?print=1"))  # `$`: nothing after
        assert not client.allowed(site.url("/review_1004.html"))
        assert not client.allowed(site.url("/files/price.pdf"))
        assert client.allowed(site.url("/files/price.pdf.html"))


def test_review_crawl_ignores_links_to_other_hosts(
    client: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    with ReviewSiteServer(OTZOVIK_ROUTES) as other, ReviewSiteServer(OTZOVIK_ROUTES) as site:
        page = (FIXTURES / "otzovik" / "list_offhost.html").read_text("utf-8")
        site.set_body(OTZOVIK_LIST, page.replace("__OTHER_SITE__", other.base_url).encode(), "text/html")
        now = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)
        collector = OtzovikCollector(site.url(OTZOVIK_LIST), client, "acme", clock=lambda: now)
        pages = list(collector.fetch({}))
    assert next(m.external_id for p in pages for m in p.mentions) == "1005"
    assert other.paths() == [], "nothing was asked of the other host"
    assert "/review_1004.html" not in site.paths() and "/reviews/magazin_acme/2/" not in site.paths()
    assert "ignored a link to another host" in caplog.text


# -- secrets in `mentiondesk config` ----------------------------------------------------------------


def test_config_masks_webhook_tokens_and_url_passwords(tmp_path: Path) -> None:
    result = run_cli(
        "config",
        env={
            "MD_DATABASE_URL": "postgresql://md:Pa55word@db:5432/md",
            "MD_ALERT_WEBHOOK_URL": "https://hooks.slack.com/services/T0AAA/B0BBB/XyZsecretToken",
            "MD_VK_API_URL": "https://robot:vkpass@api.vk.ru/method/",
        },
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for secret in ("Pa55word", "XyZsecretToken", "T0AAA", "vkpass"):
        assert secret not in out
    assert "postgresql+psycopg://md:***@db:5432/md" in out
    assert "https://hooks.slack.com/services/***" in out
    assert "https://robot:***@api.vk.ru/method/" in out


# -- network text on the collectors page ------------------------------------------------------------


def _visible(markdown: str) -> tuple[str, str]:
    """(HTML, visible text) of Markdown as a CommonMark renderer shows it."""
    html = MarkdownIt("commonmark").render(markdown)
    text = MarkdownIt("commonmark").parseInline(markdown)[0].children or []
    return html, "".join(t.content for t in text if t.type in ("text", "code_inline"))


def test_collectors_page_shows_network_error_text_literally(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    book = HealthBook(make_session_factory(engine), poll_interval_s=60)
    hostile = "HTTP 500: **bold** [link](http://evil) <img src=x> $x$"
    book.started("review:otzovik.com", utc_now())
    book.failed("review:otzovik.com", hostile, utc_now())
    engine.dispose()
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    os.chdir(PROJECT_ROOT)
    create_user(sqlite_url, "mira", "manager")
    try:
        app = AppTest.from_file(str(PAGES / "collectors.py"), default_timeout=30)
        app.session_state["md_user"] = "mira"
        app.run()
        assert not app.exception
        [shown] = [e.value for e in app.error]
        html, visible = _visible(shown)
        assert "<strong>" not in html and "<a " not in html and "<img" not in html
        assert visible == f"review:otzovik.com: failing: {hostile}"
        assert next(iter(app.dataframe[0].value["Last error"])).endswith(hostile)
    finally:
        get_settings.cache_clear()
