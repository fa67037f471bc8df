"""KPI targets per brand (`[brands.targets]` in the brands config) and the red/green verdicts the
KPI page and the digest show.

A figure meets its target when it is at least the target. The desk as a whole (all brands together)
is judged against the strictest target of the configured brands, so green overall means every
brand's bar is cleared; without a brands config the defaults apply (core.brands.Targets).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from core.brands import BrandsConfig, ConfigError, Targets, load_config
from core.i18n import N_, _, _p, format_percent
from core.settings import Settings
from desk.services.kpis import Kpis

log = logging.getLogger(__name__)

# target field -> (Kpis attribute, label); more targets (csat, nps ...) add a line here
TARGET_KPIS: Final[dict[str, tuple[str, str]]] = {
    "first_response_timely": ("timely_share", N_("Timely first responses")),
    "resolved_within_2d": ("resolution_share", N_("Resolved within deadline")),
    "fcr": ("fcr_share", N_("First-contact resolution")),
}
GREEN: Final = "#1f9d55"
RED: Final = "#e12d39"


@dataclass(frozen=True, slots=True)
class TargetCheck:
    name: str  # the target's key
    label: str
    value: float | None
    target: float
    met: bool | None  # None: no figure yet (no judged cases)

    @property
    def colour(self) -> str | None:
        return None if self.met is None else (GREEN if self.met else RED)


def brand_targets(config: BrandsConfig | None) -> dict[str, Targets]:
    """Brand name -> its targets (defaults where the config gives none)."""
    return {b.name: b.targets for b in config.brands} if config is not None else {}


def overall_targets(targets: Mapping[str, Targets]) -> Targets:
    """The strictest target of each KPI over the brands (the defaults when there are none)."""
    if not targets:
        return Targets()
    fields = {}
    for name in Targets.model_fields:
        values = [getattr(t, name) for t in targets.values() if getattr(t, name) is not None]
        if values:
            fields[name] = max(values)
    return Targets(**fields)


def targets_for(targets: Mapping[str, Targets], brand: str | None) -> Targets:
    """A brand's targets; a brand not in the config (or no brand) is judged against the overall ones."""
    if brand is not None and brand in targets:
        return targets[brand]
    return overall_targets(targets)


def judge(kpis: Kpis, targets: Targets) -> list[TargetCheck]:
    checks = []
    for name, (attribute, label) in TARGET_KPIS.items():
        if name not in Targets.model_fields:
            continue
        goal = float(getattr(targets, name))
        value = getattr(kpis, attribute, None)
        # the label in the reader's language (the page's user, or the digest's recipients)
        checks.append(TargetCheck(name, _(label), value, goal, None if value is None else value >= goal))
    return checks


def load_targets(settings: Settings) -> dict[str, Targets]:
    """The targets of the brands config `MD_CONFIG` (none or an unreadable one: the defaults)."""
    if settings.config is None:
        return {}
    try:
        return brand_targets(load_config(settings.config))
    except ConfigError as exc:
        log.warning("KPI targets: the defaults (%s)", exc)
        return {}


def _pct(value: float | None) -> str:
    return "–" if value is None else format_percent(value, 1)


def verdict(check: TargetCheck) -> str:
    """'met', 'missed' or 'no data', for tables and screen readers (the colour is not the only cue)."""
    if check.met is None:
        return _p("target", "no data")
    return _p("target", "met") if check.met else _p("target", "missed")


def render_html(checks: Sequence[TargetCheck]) -> str:
    """The targets as an HTML table with green (met) and red (missed) figures, for the digest."""
    cell = "padding:4px 6px;border-bottom:1px solid #d9e2ec"
    rows = []
    for check in checks:
        colour = check.colour or "#627d98"
        rows.append(
            f'<tr><td style="{cell}">{html.escape(check.label)}</td>'
            f'<td style="{cell};color:{colour};font-weight:bold">{_pct(check.value)}</td>'
            f'<td style="{cell}">{_pct(check.target)}</td>'
            f'<td style="{cell};color:{colour}">{verdict(check)}</td></tr>'
        )
    titles = (_("KPI"), _("Figure"), _("Target"), "")
    head = "".join(f'<th style="text-align:left;padding:4px 6px">{h}</th>' for h in titles)
    return f'<table style="border-collapse:collapse;margin:8px 0"><tr>{head}</tr>{"".join(rows)}</table>'
