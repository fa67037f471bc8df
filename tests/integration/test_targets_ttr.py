"""KPI targets (red or green) and the time to resolve, on a small fixture written out by hand:
through the KPI service on both databases, and on the KPI page (AppTest) and in the digest.

UTC calendar, business hours 9-18. Three cases, each posted Tuesday 17 November 2026 at 10:00:
- X: answered 11:00 (in time), resolved 12:00: 2 business hours; first-contact resolution.
- Y: answered Wednesday 10:00 (late: due Tuesday 18:00), resolved Wednesday 11:00: 8 + 2 = 10 h;
  first-contact resolution.
- Z: answered 10:30, the customer wrote again at 11:00, resolved 15:00: 5 h; not first-contact.
Timely first responses 2/3, resolved within deadline 3/3, FCR 2/3; time to resolve mean 17/3 h,
median 5 h.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from core.db.engine import make_engine, make_session_factory, migrate
from core.db.models import Thread
from core.settings import get_settings
from desk.services.digest import build_digest, render_html
from desk.services.kpis import Period, kpi_records, kpi_table
from desk.services.sync import sync_threads
from desk.services.targets import judge, overall_targets
from desk.services.threads import set_status
from schemas import ScoredMention
from tests.desk_support import UTC_CALENDAR, actor, save, setup_desk
from tests.factories import scored_mention

PAGES = Path(__file__).resolve().parents[2] / "desk" / "app_pages"
TUESDAY = datetime(2026, 11, 17, tzinfo=UTC)
PERIOD = Period(TUESDAY, TUESDAY + timedelta(days=2))
NOW = TUESDAY + timedelta(days=3)
TTR_MEAN = (2 + 10 + 5) / 3
TTR_MEDIAN = 5.0


def _at(hours: float, day: int = 0) -> datetime:
    return TUESDAY + timedelta(days=day, hours=hours)


def load_ttr_fixture(sessions: sessionmaker[Session]) -> None:
    setup_desk(sessions)
    m = scored_mention

    def answer(external_id: str, key: str, at: datetime) -> ScoredMention:
        return m(external_id, thread_key=key, created_at=at, negativity=0.1, is_brand=True, author_id="acme")

    save(
        sessions,
        [
            m("x1", thread_key="X", created_at=_at(10), negativity=0.8),
            answer("x2", "X", _at(11)),
            m("y1", thread_key="Y", created_at=_at(10), negativity=0.8),
            answer("y2", "Y", _at(10, day=1)),
            m("z1", thread_key="Z", created_at=_at(10), negativity=0.8),
            answer("z2", "Z", _at(10.5)),
            m("z3", thread_key="Z", created_at=_at(11), negativity=0.4),
        ],
    )
    with sessions.begin() as session:
        sync_threads(session, _at(12, day=1))
    manager = actor("maria", "manager", "support")
    with sessions.begin() as session:
        ids = {key: tid for key, tid in session.execute(select(Thread.thread_key, Thread.id))}
        set_status(session, manager, ids["X"], "resolved", _at(12))
        set_status(session, manager, ids["Z"], "resolved", _at(15))
        set_status(session, manager, ids["Y"], "resolved", _at(11, day=1))


def test_time_to_resolve_and_targets(sessions: sessionmaker[Session]) -> None:
    load_ttr_fixture(sessions)
    with sessions() as session:
        [row] = kpi_table(session, PERIOD, NOW, calendar=UTC_CALENDAR)
    k = row.kpis
    assert k.cases == 3 and k.resolved == 3
    assert k.ttr_mean_h == pytest.approx(TTR_MEAN)
    assert k.ttr_median_h == pytest.approx(TTR_MEDIAN)
    assert (k.timely, k.judged, k.fcr, k.resolution_hits, k.resolution_misses) == (2, 3, 2, 3, 0)
    verdicts = {c.name: (round(c.value or 0, 4), c.met) for c in judge(k, overall_targets({}))}
    assert verdicts == {
        "first_response_timely": (0.6667, False),  # under 93.6%: red
        "resolved_within_2d": (1.0, True),  # over 99.7%: green
        "fcr": (0.6667, False),  # under 91%: red
    }
    [record] = kpi_records([row], None)  # the CSV export carries both figures
    assert record["ttr_mean_h"] == pytest.approx(TTR_MEAN) and record["ttr_median_h"] == TTR_MEDIAN


@pytest.fixture
def desk_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("MD_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("MD_CONFIG", raising=False)
    get_settings.cache_clear()
    migrate(sqlite_url)
    engine = make_engine(sqlite_url)
    load_ttr_fixture(make_session_factory(engine))
    engine.dispose()
    yield sqlite_url
    get_settings.cache_clear()


def _kpi_page() -> AppTest:
    app = AppTest.from_file(str(PAGES / "kpis.py"), default_timeout=60)
    app.session_state["md_user"] = "maria"
    app.session_state["kpi_from"] = date(2026, 11, 17)
    app.session_state["kpi_to"] = date(2026, 11, 18)
    return app.run()


def test_kpi_page_shows_targets_red_and_green_and_ttr(desk_db: str) -> None:
    app = _kpi_page()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Time to resolve, mean (business h)"] == f"{TTR_MEAN:.1f}" == "5.7"
    assert metrics["Time to resolve, median (business h)"] == "5.0"
    lines = [m.value for m in app.markdown]
    assert "Timely first responses: :red[**66.7%**] (target 93.6%, missed)" in lines
    assert "Resolved within deadline: :green[**100.0%**] (target 99.7%, met)" in lines
    assert "First-contact resolution: :red[**66.7%**] (target 91.0%, missed)" in lines


def test_kpi_page_uses_the_brands_targets(
    desk_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "brands.toml"
    config.write_text(
        '[[brands]]\nname = "acme"\n[brands.targets]\nfirst_response_timely = 0.6\nfcr = 0.5\n'
        '[[brands]]\nname = "other"\n[brands.targets]\nfirst_response_timely = 0.5\nfcr = 0.6\n',
        "utf-8",
    )
    monkeypatch.setenv("MD_CONFIG", str(config))
    get_settings.cache_clear()
    app = _kpi_page()
    assert not app.exception
    lines = [m.value for m in app.markdown]
    # all brands together: the strictest of the two (0.6 each), both met
    assert "Timely first responses: :green[**66.7%**] (target 60.0%, met)" in lines
    assert "First-contact resolution: :green[**66.7%**] (target 60.0%, met)" in lines
    per_brand = app.dataframe[0].value
    acme = per_brand[per_brand["Brand"] == "acme"]
    assert list(acme["Verdict"]) == ["met", "met", "met"]
    assert list(acme["Target"]) == ["60.0%", "99.7%", "50.0%"]


def test_digest_shows_targets_and_ttr(sessions: sessionmaker[Session]) -> None:
    load_ttr_fixture(sessions)
    with sessions() as session:
        digest = build_digest(session, date(2026, 11, 17), zone="UTC", now=NOW, calendar=UTC_CALENDAR)
    assert digest.kpis.ttr_median_h == pytest.approx(TTR_MEDIAN)
    assert [(c.name, c.met) for c in digest.targets] == [
        ("first_response_timely", False),
        ("resolved_within_2d", True),
        ("fcr", False),
    ]
    page = render_html(digest, {})
    assert "Time to resolve" in page and "5.7 h" in page and "median 5.0 h" in page
    assert 'color:#e12d39;font-weight:bold">66.7%' in page  # red
    assert 'color:#1f9d55;font-weight:bold">100.0%' in page  # green
