"""The desk's catalogs: every text in the code has its Russian translation with the same
placeholders, Russian plural forms, and dates and numbers as a Russian reader writes them."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from core.i18n import (
    _,
    _n,
    _p,
    catalog,
    format_date,
    format_datetime,
    format_decimal,
    format_number,
    format_percent,
    missing,
    record_lookups,
    use_language,
)
from desk.services.labels import reply_status, role, thread_count, thread_status

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "N_": None, "_n": (1, 2), "_p": ((1, "c"), 2)}
_FIELD = re.compile(r"\{([^{}:!]*)[^{}]*\}")


def _extracted() -> list[tuple[str | tuple[str, ...], str | None]]:
    """(msgid, context) of every text the code marks, found as `make messages` finds them."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    found = []
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.append((message, context))
    return found


def test_every_text_in_the_code_is_translated_to_russian() -> None:
    found = _extracted()
    assert len(found) > 150
    ru = catalog("ru")
    lacking = []
    for message, context in found:
        entry = ru.get(message[0] if isinstance(message, tuple) else message, context=context)
        strings = entry.string if entry is not None else None
        texts = list(strings) if isinstance(strings, tuple | list) else [strings]
        if entry is None or entry.fuzzy or not all(texts):
            lacking.append(message)
    assert lacking == [], "run `make messages` and translate these in core/locale/ru/LC_MESSAGES/messages.po"


def test_translations_keep_the_placeholders_of_their_source() -> None:
    for entry in catalog("ru"):
        if not entry.id:
            continue
        sources = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        wanted = set(_FIELD.findall(str(sources[-1])))
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        for text in strings:
            assert set(_FIELD.findall(str(text))) == wanted, (entry.id, text)


@pytest.mark.parametrize(
    ("n", "shown"),
    [(1, "1 обращение"), (2, "2 обращения"), (4, "4 обращения"), (5, "5 обращений"), (11, "11 обращений"),
     (21, "21 обращение"), (22, "22 обращения"), (111, "111 обращений")],
)  # fmt: skip
def test_russian_plural_forms(n: int, shown: str) -> None:
    with use_language("ru"):
        assert thread_count(n) == shown
    with use_language("en"):
        assert thread_count(n) == f"{n} thread" + ("" if n == 1 else "s")


def test_dates_numbers_and_percentages_in_russian_and_english() -> None:
    moment = datetime(2026, 12, 30, 15, 30, tzinfo=UTC)
    moscow = ZoneInfo("Europe/Moscow")
    with use_language("ru"):
        # CLDR puts a narrow no-break space before "г." (so the year never breaks from it)
        assert format_date(date(2026, 12, 1)) == "1 дек. 2026\u202fг."
        assert format_datetime(moment, moscow) == "30 дек. 2026\u202fг., 18:30"
        assert format_decimal(3.5) == "3,5"
        assert format_percent(0.936) == "93,6%"
        assert format_number(1234567).replace("\xa0", " ") == "1 234 567"
    with use_language("en"):
        assert format_date(date(2026, 12, 1)) == "Dec 1, 2026"
        assert format_datetime(moment, moscow) == "Dec 30, 2026, 18:30"
        assert format_percent(0.936) == "93.6%"
        assert format_number(1234567) == "1,234,567"


def test_status_and_role_names_and_contexts() -> None:
    with use_language("ru"):
        assert [thread_status(s) for s in ("new", "open", "waiting", "resolved", "closed")] == [
            "новое", "в работе", "ожидает клиента", "решено", "закрыто",
        ]  # fmt: skip
        assert reply_status("failed") == "не отправлен"
        assert role("admin") == "администратор"
        assert thread_status("odd") == "odd", "an unknown code is shown as it is"
        assert (_p("heading", "Sign in"), _("Sign in")) == ("Вход", "Войти")
    with use_language("en"):
        assert thread_status("waiting") == "waiting for customer"
        assert (_p("heading", "Sign in"), _("Sign in")) == ("Sign in", "Sign in")


def test_lookups_are_recorded_and_gaps_found() -> None:
    with record_lookups() as seen, use_language("ru"):
        _("Sign in")
        _n("{n} thread", "{n} threads", 3)
        _p("heading", "Sign in")
    assert seen == {"Sign in", "{n} thread", "heading\x04Sign in"}
    assert missing(seen, "ru") == set()
    assert missing({"A text nobody translated", "heading\x04Nothing"}, "ru") == {
        "A text nobody translated",
        "heading\x04Nothing",
    }
    with use_language("ru"):
        assert _("A text nobody translated") == "A text nobody translated", "falls back to English"


def test_no_compiled_catalog_is_kept_in_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--others", "--cached", "--exclude-standard", "core/locale"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert "core/locale/ru/LC_MESSAGES/messages.po" in tracked
    assert not [path for path in tracked if path.endswith(".mo")]


_IN_FSTRING = re.compile(r"""\bf(["'])[^"'\n]*\{[^}"'\n]*\b_[np]?\((["'])""")


def test_no_text_is_marked_inside_an_f_string() -> None:
    """`pybabel extract` (Python 3.11) does not look inside f-strings: a `_("...")` there never
    reaches the catalog. Mark the text outside and put the result in the f-string."""
    found = []
    for package in ("core", "desk", "mentiondesk"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _IN_FSTRING.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
