"""The sidebar's sections: each role sees only the sections it has pages in, in a fixed order.
(st.Page needs a running script, so the grouping runs inside AppTest.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

PAGES = str(Path(__file__).resolve().parents[2] / "desk" / "app_pages")


def _group(pages_dir: str, names: list[str], labels: dict[str, str] | None) -> None:
    from pathlib import Path

    import streamlit as st

    from desk.app_pages._sections import by_section

    pages = [st.Page(Path(pages_dir) / f"{n}.py", title=n, default=n == "queue") for n in names]
    grouped = by_section(pages, labels)
    st.session_state["grouped"] = {section: [p.title for p in chosen] for section, chosen in grouped.items()}


def _sections(names: list[str], labels: dict[str, str] | None = None) -> Any:
    app = AppTest.from_function(_group, args=(PAGES, names, labels), default_timeout=30).run()
    assert not app.exception
    return app.session_state["grouped"]


def test_an_agent_sees_work_and_account_only() -> None:
    assert _sections(["queue", "thread", "password"]) == {
        "Work": ["queue", "thread"],
        "Account": ["password"],
    }


def test_an_admin_sees_every_section_in_order_and_labels_translate() -> None:
    names = ["queue", "thread", "collectors", "audit", "admin", "trends", "kpis", "digest", "password"]
    grouped = _sections(names, {"Work": "Работа", "Analytics": "Аналитика"})
    assert list(grouped) == ["Работа", "Аналитика", "Administration", "Account"]
    assert grouped["Работа"] == ["queue", "thread"]
    assert grouped["Аналитика"] == ["trends", "kpis", "digest"]
    assert grouped["Administration"] == ["collectors", "audit", "admin"]
