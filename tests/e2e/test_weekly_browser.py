"""The Weekly report page in a real browser (Debian's headless Chromium): a brand lead signs in,
opens the page from the sidebar, picks the week and the brand, and sees the report of the two
hand-written weeks (tests/weekly_fixture.py). Saves test-artifacts/weekly-report.png."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db.engine import make_engine, make_session_factory, migrate
from core.settings import Settings
from mentiondesk.broker import free_port
from mentiondesk.runtime import desk_command, wait_http_ok
from tests.desk_support import PASSWORD, create_user
from tests.support import PROJECT_ROOT, worker_env
from tests.weekly_fixture import WEEK, load_weekly_fixture

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS / "weekly-report.png"


@pytest.fixture
def weekly_desk(tmp_path: Path, sqlite_url: str) -> Iterator[str]:
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        load_weekly_fixture(session)
        session.commit()
    engine.dispose()
    create_user(sqlite_url, "lena", "brand_lead")
    port = free_port()
    # the page needs the database only; the desk in English (the labels the test looks for)
    env = worker_env("127.0.0.1:1", sqlite_url, MD_DESK_LANGUAGE="en")
    with (tmp_path / "desk.log").open("wb") as log:
        process = subprocess.Popen(
            desk_command(Settings(desk_port=port, desk_host="127.0.0.1")),
            env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_http_ok(f"{url}/_stcore/health", timeout=60), (tmp_path / "desk.log").read_text()
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _choose(page: object, label: str, value: str) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.keyboard.type(value)
    page.get_by_role("option", name=value, exact=True).click()


def test_weekly_report_page_in_chromium(weekly_desk: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2300})
            page.goto(weekly_desk)
            page.get_by_label("User name").fill("lena")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("Signed in: lena (brand_lead)")).to_be_visible(timeout=30_000)
            page.get_by_role("link", name="Weekly report").click()
            expect(page.get_by_role("heading", name="Weekly report")).to_be_visible(timeout=30_000)
            _choose(page, "Week", WEEK)
            _choose(page, "Brand", "acme")
            expect(
                page.get_by_text(f"Weekly report {WEEK} (acme): 11 mentions, 10 complaints")
            ).to_be_visible(timeout=30_000)
            report = page.frame_locator("iframe").first
            expect(report.locator("h1")).to_have_text(
                f"mentiondesk weekly report: {WEEK}, acme", timeout=30_000
            )
            first_topic = report.locator("table").first.locator("tr").nth(1)
            expect(first_topic).to_contain_text("delivery")
            expect(first_topic).to_contain_text("+4 (+200%)")
            # c13 is an example of delivery and of payment, its markup shown as text both times
            expect(report.get_by_text("<script>alert('x')</script>", exact=False)).to_have_count(2)
            assert report.locator("script").count() == 0  # the customer's markup stayed text
            expect(report.get_by_text("Timely first responses")).to_be_visible()
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
