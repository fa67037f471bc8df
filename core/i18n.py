"""The desk's languages: gettext catalogs, Russian plural forms, and dates, numbers and percentages
written the way the reader's locale writes them.

Source strings are English, in the code: `_("Queue")`, `_n("{n} thread", "{n} threads", n)`,
`_p("heading", "Sign in")` where the same English needs two translations.
The translations are `.po` files beside this module (`core/locale/<lang>/LC_MESSAGES/messages.po`),
compiled in memory on first use with babel (`read_po` -> `write_mo` -> `Translations`): no binary
`.mo` is kept in the repository and nothing has to be built before the desk starts. English is the
source language, so it needs no catalog.

The language in force is per context: the desk sets it at the start of every page run from the
signed-in user's choice (`set_language`); commands, the digest and the alerts, which run outside
any browser session, use MD_DESK_LANGUAGE, the recipients' default. It lives in core because alert
texts (`core.notify`) are translated too.

New strings are extracted with `make messages` (pybabel extract with `babel.cfg`, then
`pybabel update` into the catalogs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from functools import cache
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path
from typing import Final

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: Final = ("ru", "en")
# each language named in itself, as a language menu shows it
LANGUAGE_NAMES: Final = {"ru": "Русский", "en": "English"}
SOURCE_LANGUAGE: Final = "en"
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DOMAIN: Final = "messages"

# how a recorded lookup with a message context is written (as in compiled gettext catalogs)
CONTEXT_SEPARATOR: Final = "\x04"

_current: ContextVar[str | None] = ContextVar("md_language", default=None)
_recorders: list[set[str]] = []
_recorders_lock = threading.Lock()


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(language: str) -> Catalog:
    """The parsed `.po` catalog of `language` (an empty one for the source language)."""
    path = catalog_path(language)
    if not path.exists():
        return Catalog(locale=language)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


@cache
def translations(language: str) -> NullTranslations:
    """The catalog compiled in memory; fuzzy and empty entries are left out (they fall back to
    the English source)."""
    if language == SOURCE_LANGUAGE or not catalog_path(language).exists():
        return NullTranslations()
    buffer = BytesIO()
    write_mo(buffer, catalog(language))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def normalise(language: str | None) -> str | None:
    """'ru', 'ru_RU', 'RU-ru' -> 'ru'; None for anything the desk has no catalog for."""
    if not language:
        return None
    code = language.strip().replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def default_language() -> str:
    """MD_DESK_LANGUAGE: the language of users without a choice, of the digest and the alerts."""
    from core.settings import get_settings

    return get_settings().desk_language


def language() -> str:
    """The language in force in this context."""
    return _current.get() or default_language()


def set_language(value: str | None) -> str:
    """Use `value` (None or unknown: the default) in this context from now on; the language set."""
    chosen = normalise(value) or default_language()
    _current.set(chosen)
    return chosen


@contextmanager
def use_language(value: str | None) -> Iterator[str]:
    """`value` for the block only (a digest rendered for one reader, a test)."""
    token = _current.set(normalise(value) or default_language())
    try:
        yield language()
    finally:
        _current.reset(token)


def _record(msgid: str) -> None:
    if _recorders:
        with _recorders_lock:
            for seen in _recorders:
                seen.add(msgid)


@contextmanager
def record_lookups() -> Iterator[set[str]]:
    """Collect every msgid looked up while the block runs (in any thread): how the tests find a
    string a page shows that the catalog lacks. Plural lookups are recorded by their singular."""
    seen: set[str] = set()
    with _recorders_lock:
        _recorders.append(seen)
    try:
        yield seen
    finally:
        with _recorders_lock:
            _recorders.remove(seen)


def _(message: str) -> str:
    """`message` (English source) in the language in force."""
    _record(message)
    return translations(language()).gettext(message)


def _p(context: str, message: str) -> str:
    """`message` in a context where the same English needs another translation: a page heading
    "Sign in" is "Вход", the button "Sign in" is "Войти"."""
    _record(f"{context}{CONTEXT_SEPARATOR}{message}")
    return translations(language()).pgettext(context, message)


def _n(singular: str, plural: str, n: int, **values: object) -> str:
    """The plural form for `n` (Russian has three: 1 обращение, 2 обращения, 5 обращений), with
    `{n}` (written in the locale, e.g. '1 000') and `values` filled in."""
    _record(singular)
    template = translations(language()).ngettext(singular, plural, n)
    return template.format(n=format_number(n), **values)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined (a constant, a label table); it is
    translated with `_()` where it is shown."""
    return message


def locale() -> Locale:
    return Locale.parse(language())


def format_number(value: float) -> str:
    """1234567 -> '1 234 567' (ru), '1,234,567' (en)."""
    return babel_numbers.format_decimal(value, locale=language())


def format_decimal(value: float, digits: int = 1) -> str:
    """A number with exactly `digits` decimals: 3.5 -> '3,5' (ru), '3.5' (en)."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=language())


def format_percent(share: float, digits: int = 1) -> str:
    """A share 0..1 as a percentage: 0.936 -> '93,6 %' (ru), '93.6%' (en)."""
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return babel_numbers.format_percent(share, format=pattern, locale=language())


def format_date(value: date | datetime, fmt: str = "medium", zone: tzinfo | None = None) -> str:
    """'1 дек. 2026 г.' (ru), 'Dec 1, 2026' (en); a datetime is first put in `zone`."""
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(zone)
    return babel_dates.format_date(value, format=fmt, locale=language())


def format_datetime(value: datetime, zone: tzinfo | None = None, *, seconds: bool = False) -> str:
    """A moment in `zone` (default: its own): '1 дек. 2026 г., 18:30' (ru), 'Dec 1, 2026, 18:30' (en)."""
    local = value.astimezone(zone) if zone is not None else value
    clock = babel_dates.format_time(local, format="HH:mm:ss" if seconds else "HH:mm", locale=language())
    return f"{format_date(local)}, {clock}"


def format_time(value: datetime, zone: tzinfo | None = None) -> str:
    """'18:30' in both languages (24-hour clock)."""
    local = value.astimezone(zone) if zone is not None else value
    return babel_dates.format_time(local, format="HH:mm", locale=language())


def missing(msgids: set[str], language_: str = "ru") -> set[str]:
    """The msgids among `msgids` that `language_`'s catalog does not translate (absent, empty
    or fuzzy)."""
    if language_ == SOURCE_LANGUAGE:
        return set()
    known = catalog(language_)
    gaps: set[str] = set()
    for recorded in msgids:
        context, _sep, msgid = recorded.rpartition(CONTEXT_SEPARATOR)
        entry = known.get(msgid, context=context or None)  # plural entries are keyed by the singular
        strings = entry.string if entry is not None else None
        texts = [s for s in (strings if isinstance(strings, tuple | list) else [strings]) if s]
        if entry is None or entry.fuzzy or not texts:
            gaps.add(recorded)
    return gaps
