"""The desk in Russian in a real browser (Debian's headless Chromium), as a Russian agent uses it:
sign in, find a thread by searching an inflected word ("доставку" finds "доставка"), open it by a
click on its row, reply, and see the reply posted to the fake VK. The desk speaks Russian because
that is its default (MD_DESK_LANGUAGE=ru). Saves the screenshots the README shows:
test-artifacts/desk-ru-search.png and test-artifacts/desk-ru-reply-sent.png."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.bus.producer import MentionProducer, ensure_topics
from core.settings import Settings
from mentiondesk.broker import EmbeddedBroker, free_port
from mentiondesk.runtime import desk_command, wait_http_ok
from schemas import Author, Mention
from tests.desk_support import PASSWORD, create_user
from tests.e2e.conftest import click_first_row
from tests.fakes.vk_server import FakeVk
from tests.fakes.vk_server import generate as generate_vk
from tests.integration.collect_support import start_cli
from tests.support import PROJECT_ROOT, WorkerStarter, count_rows, wait_until, worker_env

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
VK_COMMENT = "-1001_101_10000001"  # the first comment under the first post of community 1001
CUSTOMER_TEXT = "Где моя доставка? Заказ оплачен неделю назад, курьер так и не приехал"
REPLY = "Здравствуйте, Ольга! Проверили заказ: курьер привезёт его завтра до 14:00."


@pytest.fixture
def russian_desk(tmp_path: Path, sqlite_url: str, broker: EmbeddedBroker) -> Iterator[str]:
    port = free_port()
    env = worker_env(broker.bootstrap, sqlite_url, MD_DESK_REFRESH_S="2", MD_DESK_LANGUAGE="ru")
    with (tmp_path / "desk.log").open("wb") as log:
        process = subprocess.Popen(
            desk_command(Settings(desk_port=port, desk_host="127.0.0.1")),
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
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


def test_russian_agent_searches_an_inflected_word_opens_the_row_and_replies(
    broker: EmbeddedBroker, start_worker: WorkerStarter, sqlite_url: str, tmp_path: Path, russian_desk: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ensure_topics(broker.bootstrap, 2)
    create_user(sqlite_url, "anna", "agent", "support")
    with FakeVk(generate_vk({"acme": 1001}, per_brand=30, wall_posts=3), tokens=["vk-post"]) as vk:
        env = worker_env(
            broker.bootstrap,
            sqlite_url,
            MD_VK_TOKEN="vk-post",
            MD_VK_API_URL=vk.api_url,
            MD_VK_RPS_DELAY="0",
            MD_PUBLISHER_GROUP=f"pub-{uuid.uuid4().hex[:6]}",
            MD_DESK_LANGUAGE="ru",
        )
        start_worker(env)
        publisher = start_cli(env, tmp_path / "publisher.log", "publisher")
        try:
            now = datetime.now(UTC)
            with MentionProducer(broker.bootstrap) as producer:
                producer.send(
                    Mention(
                        source="vk",
                        external_id=VK_COMMENT,
                        thread_key="vk:-1001_101",
                        parent_external_id="-1001_101",
                        author=Author(id="5001", name="Ольга Смирнова", followers=340),
                        text=CUSTOMER_TEXT,
                        lang="ru",
                        brand="acme",
                        created_at=now - timedelta(minutes=5),
                        collected_at=now,
                    )
                )
            owned = "SELECT count(*) FROM threads WHERE assigned_to = 'anna'"
            assert wait_until(lambda: count_rows(sqlite_url, owned) == 1, timeout=180), "worker did not route"

            ARTIFACTS.mkdir(exist_ok=True)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                try:
                    page = browser.new_page(viewport={"width": 1400, "height": 1100}, locale="ru-RU")
                    page.goto(russian_desk)
                    expect(page.get_by_role("heading", name="Вход")).to_be_visible(timeout=30_000)
                    page.get_by_label("Имя пользователя").fill("anna")
                    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
                    page.get_by_role("button", name="Войти").click()
                    expect(page.get_by_text("Вы вошли как anna (агент)")).to_be_visible(timeout=30_000)
                    expect(page.get_by_role("heading", name="Очередь")).to_be_visible(timeout=30_000)

                    page.get_by_role("link", name="Поиск").click()
                    page.get_by_role("textbox", name="Поиск по обращениям и сообщениям").fill("доставку")
                    page.get_by_role("button", name="Поиск", exact=True).click()
                    expect(page.get_by_text("Найдено 1 обращение")).to_be_visible(timeout=30_000)
                    page.screenshot(path=str(ARTIFACTS / "desk-ru-search.png"), full_page=True)
                    # the results table is a canvas: its first row, by position, below the header;
                    # the row's box at the left (the table selects rows by it only), else a cell
                    conversation = page.get_by_role("heading", name="Переписка")
                    click_first_row(page, conversation, xs=(12, 200), attempts=4)
                    expect(conversation).to_be_visible(timeout=30_000)
                    expect(page.get_by_text(CUSTOMER_TEXT).first).to_be_visible(timeout=30_000)
                    page.get_by_label("Ваш ответ").fill(REPLY)
                    page.get_by_role("button", name="Отправить ответ").click()
                    expect(page.get_by_text("статус: отправлен")).to_be_visible(timeout=90_000)
                    expect(page.get_by_text("статус ожидает клиента")).to_be_visible(timeout=30_000)
                    page.screenshot(path=str(ARTIFACTS / "desk-ru-reply-sent.png"), full_page=True)
                finally:
                    browser.close()
        finally:
            publisher.send_signal(signal.SIGTERM)
            publisher.wait(30)
    [posted] = list(vk.created.values())
    assert posted["text"] == REPLY and posted["_reply_to"] == 10000001
    assert count_rows(sqlite_url, "SELECT count(*) FROM replies WHERE status = 'sent'") == 1
    for name in ("desk-ru-search.png", "desk-ru-reply-sent.png"):
        assert os.path.getsize(ARTIFACTS / name) > 10_000
