"""The sidebar's sections: the pages a role may open, grouped (Work, Analytics, Administration,
Account); a section without any page for the role is not shown."""

from __future__ import annotations

from typing import Any, Final

from core.i18n import N_, _

SECTIONS: Final = (N_("Work"), N_("Analytics"), N_("Administration"), N_("Account"))
_SECTION_OF: Final = {
    "queue": "Work",
    "thread": "Work",
    "trends": "Analytics",
    "kpis": "Analytics",
    "digest": "Analytics",
    "weekly": "Analytics",
    "collectors": "Administration",
    "audit": "Administration",
    "admin": "Administration",
    "password": "Account",
}


def _name(page: Any) -> str:
    """The page's name (queue, kpis, ...): its URL path, or for the default page (whose path is
    empty) the file it runs."""
    return str(getattr(page, "url_path", "") or getattr(getattr(page, "_page", None), "stem", "") or "")


def section_labels() -> dict[str, str]:
    """The sections' names in the language in force (for `by_section`'s `labels`)."""
    return {section: _(section) for section in SECTIONS}


def by_section(pages: list[Any], labels: dict[str, str] | None = None) -> dict[str, list[Any]]:
    """`pages` (st.Page objects, in their order) grouped for st.navigation; a page of no known
    section goes to the first. `labels` may rename the sections (a translation)."""
    grouped: dict[str, list[Any]] = {}
    for section in SECTIONS:
        chosen = [p for p in pages if _SECTION_OF.get(_name(p), SECTIONS[0]) == section]
        if chosen:
            grouped[(labels or {}).get(section, section)] = chosen
    return grouped
