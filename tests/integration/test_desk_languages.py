"""The desk in Russian and in English, through Streamlit's AppTest on a real SQLite database.

Every page (and the router with its sidebar) runs signed in as an administrator, so every page
renders, in both languages; each text a page looks up in the catalog is recorded, and none may be
missing from the Russian catalog. In Russian, the key widgets (headers, buttons, input labels,
tabs, metrics) carry no English text that was left untranslated; the user's own language, saved on
the Password page, follows them to a new browser session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.db.alerts import save_alerts
from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.db.models_desk import DeskUser
from core.i18n import LANGUAGE_NAMES, missing, record_lookups
from core.settings import get_settings
from desk.services.calendar_store import save_calendar
from schemas import Alert
from schemas.base import utc_now
from tests.analytics_fixture import CALENDAR, DAY, load_fixture_day
from tests.desk_support import create_user

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "desk" / "app_pages"
PAGE_FILES = sorted(p.name for p in PAGES.glob("*.py") if not p.name.startswith("_"))
# the analytics pages look at the fixture's day, not at today
STATE = {
    "trends.py": {"trends_from": DAY.date(), "trends_to": DAY.date()},
    "kpis.py": {"kpi_from": DAY.date(), "kpi_to": DAY.date()},
    "digest.py": {"digest_day": DAY.date()},
}
WIDGETS = (
    "button", "selectbox", "multiselect", "text_input", "text_area", "number_input", "date_input",
    "time_input", "checkbox", "toggle", "radio", "metric", "tab", "expander",
)  # fmt: skip
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@dataclass(frozen=True)
class Desk:
    url: str
    thread_id: int


@pytest.fixture
def desk(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MD_DESK_LANGUAGE", "ru")  # the product's default
    get_settings.cache_clear()
    migrate(sqlite_url)
    create_user(sqlite_url, "root", "admin")
    for name in ("alice", "bob"):
        create_user(sqlite_url, name, "agent", "care")
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        ids = load_fixture_day(session)
        save_calendar(session, CALENDAR)
        now = utc_now()
        save_alerts(
            session,
            [
                Alert(
                    brand="acme", source="vk", topic=None, window_start=now - timedelta(minutes=20),
                    window_end=now - timedelta(minutes=5), negative_count=9, total_count=12,
                    negative_share=0.75, baseline_share=0.2, score=5.0,
                )
            ],
        )  # fmt: skip
        session.commit()
    engine.dispose()
    yield Desk(sqlite_url, ids["B"])
    get_settings.cache_clear()


def _run(script: Path, desk: Desk, language: str | None, **state: object) -> AppTest:
    app = AppTest.from_file(str(script), default_timeout=90)
    app.session_state["md_user"] = "root"
    app.session_state["md_thread"] = desk.thread_id
    if language is not None:
        app.session_state["md_language"] = language
    for key, value in {**STATE.get(script.name, {}), **state}.items():
        app.session_state[key] = value
    return app.run()


def _widget_texts(app: AppTest) -> list[str]:
    """What a user reads on the key widgets: headers, buttons, input labels, tabs, metrics."""
    texts = [e.value for e in (*app.header, *app.subheader, *app.title)]
    for kind in WIDGETS:
        texts += [str(getattr(e, "label", "") or "") for e in app.get(kind)]
    return [t for t in texts if t]


def _untranslated(texts: list[str]) -> list[str]:
    """Texts with an English word and no Russian letter. Acronyms (CSAT, NPS, CSV) and the
    language switch's own names are not English text."""
    out = []
    for text in texts:
        words = [w for w in _LATIN_WORD.findall(text) if not w.isupper()]
        if words and not _CYRILLIC.search(text) and text not in LANGUAGE_NAMES.values():
            out.append(text)
    return out


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_page_finds_every_text_in_the_catalog(desk: Desk, language: str) -> None:
    shown: dict[str, list[str]] = {}
    with record_lookups() as looked_up:
        for name in PAGE_FILES:
            app = _run(PAGES / name, desk, language)
            assert not app.exception, (name, [e.value for e in app.exception])
            shown[name] = _widget_texts(app)
        router = _run(ROOT / "desk" / "streamlit_app.py", desk, language)
        assert not router.exception, [e.value for e in router.exception]
        shown["streamlit_app.py"] = _widget_texts(router)
    assert len(looked_up) > 100, "the pages look their texts up in the catalog"
    assert missing(looked_up, "ru") == set(), "texts the Russian catalog lacks"
    if language == "ru":
        assert router.header[0].value == "Очередь"
        untranslated = {name: _untranslated(texts) for name, texts in shown.items()}
        assert {name: texts for name, texts in untranslated.items() if texts} == {}
    else:
        assert router.header[0].value == "Queue"


def test_the_desk_default_language_is_russian_and_a_user_keeps_their_own(desk: Desk) -> None:
    login = AppTest.from_file(str(PAGES / "login.py"), default_timeout=60).run()
    assert login.header[0].value == "Вход"
    assert [b.label for b in login.button] == ["Войти"]
    assert login.text_input[0].label == "Имя пользователя"

    profile = _run(PAGES / "password.py", desk, None)
    assert profile.header[0].value == "Смена пароля"
    profile.selectbox[0].set_value("en")
    profile.button[-1].click().run()
    assert not profile.exception
    assert profile.header[0].value == "Change password"
    engine = make_engine(desk.url)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(DeskUser.language).where(DeskUser.username == "root")) == "en"
        assert session.scalar(select(Thread.id).where(Thread.id == desk.thread_id)) == desk.thread_id
    engine.dispose()
    # a new browser session of the same user: English from the user's setting, not the default
    fresh = _run(ROOT / "desk" / "streamlit_app.py", desk, None)
    assert not fresh.exception
    assert fresh.header[0].value == "Queue"


def test_digest_alerts_and_notices_go_out_in_the_desk_language(desk: Desk) -> None:
    """Outside a browser session (the digest command, the worker's alerts, notice delivery) the
    texts are in MD_DESK_LANGUAGE, here the default: Russian."""
    from core.db.models_notices import DeskNotice
    from core.notify.alerts import alert_text
    from desk.services.digest import build_digest, email_message, render_html
    from desk.services.notices import notice_text

    engine = make_engine(desk.url)
    with make_session_factory(engine)() as session:
        digest = build_digest(session, DAY.date(), zone="UTC")
    engine.dispose()
    message = email_message(digest, {}, ["lead@example.com"], "desk@example.com")
    assert str(message["Subject"]).startswith(f"Сводка mentiondesk за {DAY.date().isoformat()}: упоминаний ")
    page = render_html(digest, {})
    assert "Ежедневная сводка mentiondesk: 5 января 2026" in page and 'lang="ru"' in page
    assert "Самые старые нерешённые обращения" in page and "Daily digest" not in page

    alert = Alert(
        brand="acme", source="vk", topic=None, window_start=DAY, window_end=DAY + timedelta(minutes=15),
        negative_count=9, total_count=12, negative_share=0.75, baseline_share=0.2, score=5.0,
        top_terms=["возврат"],
    )  # fmt: skip
    text = alert_text(alert)
    assert text.startswith(
        "Всплеск негатива: acme / vk: 9 негативных из 12 (75% при обычных 20%), "
        "5 янв. 2026\u202fг., 00:00–00:15 UTC"
    ), text
    assert "Частые слова: возврат" in text

    notice = DeskNotice(username="alice", kind="missed", thread_id=7, clock="first_response", due_at=DAY)
    assert notice_text(notice).startswith("Обращение 7: срок «первый ответ» (")
