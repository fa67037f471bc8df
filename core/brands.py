"""The brands config: which brands to watch, and where (`MD_CONFIG`, TOML or YAML).

Only *what* to watch lives here. Tokens never do: they come from the environment (Settings), so a
config file can be committed and shared. See config/brands.example.toml for an annotated example.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_SECRET_KEYS = re.compile(r"(token|secret|password|api_key)", re.IGNORECASE)


class ConfigError(ValueError):
    """The config file is missing, unreadable or invalid; the message says where."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VkTargets(_Model):
    """The brand's own VK communities (positive group ids, e.g. 22822305 for vk.com/club22822305)."""

    communities: tuple[int, ...] = ()

    @field_validator("communities")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(abs(v) for v in value)


class TwitterTargets(_Model):
    """The brand's own X accounts (handles without '@'); their mentions are collected too."""

    handles: tuple[str, ...] = ()

    @field_validator("handles")
    @classmethod
    def _strip_at(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.strip().lstrip("@") for v in value if v.strip())


class ReviewPage(_Model):
    """One review-site page of the brand, e.g. site "otzovik.com", url "https://otzovik.com/...".

    Read by the review-site adapters (ingest/reviews/); `site` names the adapter and the mention
    source `review:<site>`."""

    site: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    url: str = Field(pattern=r"^https?://")


class RssFeed(_Model):
    """An RSS/Atom feed to watch; a plain string in the file is taken as the url."""

    url: str = Field(pattern=r"^https?://")
    title: str | None = None


class TopicRule(_Model):
    """A topic of the brand's mentions: a mention is tagged when any keyword (case-insensitive
    substring) or regular expression (case-insensitive search) matches its text."""

    name: str = Field(min_length=1, pattern=r"^[\w.\- ]+$")
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = Field(default=(), description="Python regular expressions")

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
        return value


class AlertOptions(_Model):
    """Sensitivity of the negativity-spike alerts of one brand (see sentiment/spikes.py)."""

    k: float = Field(default=3.0, gt=0, description="alert above baseline mean + k standard deviations")
    min_count: int = Field(default=5, ge=1, description="negative mentions a window needs to alert")
    enabled: bool = True


class Targets(_Model):
    """The brand's KPI targets (shares, 0..1): the KPI page and the digest show each figure red or
    green against them. Defaults from the practice of Russian retail, travel and telecom desks."""

    first_response_timely: float = Field(default=0.936, ge=0, le=1, description="timely first responses")
    resolved_within_2d: float = Field(default=0.997, ge=0, le=1, description="resolved within deadline")
    fcr: float = Field(default=0.91, ge=0, le=1, description="first-contact resolution")
    csat: float = Field(default=0.9, ge=0, le=1, description="CSAT: share of survey scores 4-5")
    nps: float = Field(default=44.0, ge=-100, le=100, description="NPS: promoters minus detractors, %")


SurveyMode = Literal["off", "csat", "nps", "both"]


class SurveyOptions(_Model):
    """The satisfaction survey a resolved case gets, per channel: off, csat (1-5), nps (0-10) or
    both. Review sites take no survey (an answer there is posted by hand)."""

    vk: SurveyMode = "off"
    twitter: SurveyMode = "off"

    def mode(self, source: str) -> SurveyMode:
        """The survey of a thread from `source` (anything but vk and twitter: off)."""
        if source == "vk":
            return self.vk
        if source == "twitter":
            return self.twitter
        return "off"


class Brand(_Model):
    """One monitored brand."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    queries: tuple[str, ...] = Field(default=(), description="search queries for VK and X")
    keywords: tuple[str, ...] = Field(default=(), description="words that tie a text to the brand")
    vk: VkTargets = Field(default_factory=VkTargets)
    twitter: TwitterTargets = Field(default_factory=TwitterTargets)
    reviews: tuple[ReviewPage, ...] = ()
    rss: tuple[RssFeed, ...] = ()
    topics: tuple[TopicRule, ...] = Field(default=(), description="topic dictionaries that tag mentions")
    alerts: AlertOptions = Field(default_factory=AlertOptions)
    targets: Targets = Field(default_factory=Targets)
    survey: SurveyOptions = Field(default_factory=SurveyOptions)

    @field_validator("rss", mode="before")
    @classmethod
    def _rss_strings(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"url": v} if isinstance(v, str) else v for v in value]
        return value

    def matches(self, text: str) -> bool:
        """Whether `text` names the brand (any keyword, or the brand name, case-insensitive)."""
        lowered = text.casefold()
        words = self.keywords or (self.name,)
        return any(w.casefold() in lowered for w in words)


class CollectOptions(_Model):
    """How far back collectors look."""

    vk_comment_days: float = Field(default=14.0, gt=0, description="re-check comments of posts this new")
    first_run_days: float = Field(default=7.0, gt=0, description="how far back a feed's first run searches")
    max_pages: int = Field(default=50, ge=1, description="pages per feed and poll (a brake, not a cap)")


class BrandsConfig(_Model):
    brands: tuple[Brand, ...] = ()
    collect: CollectOptions = Field(default_factory=CollectOptions)

    @model_validator(mode="after")
    def _unique_names(self) -> BrandsConfig:
        names = [b.name for b in self.brands]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"brand names must be unique: {', '.join(duplicates)}")
        return self

    def brand(self, name: str) -> Brand | None:
        return next((b for b in self.brands if b.name == name), None)


def _find_secrets(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if _SECRET_KEYS.search(str(key)):
                found.append(where)
            found.extend(_find_secrets(value, where))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_find_secrets(value, f"{path}[{index}]"))
    return found


def parse_config(data: dict[str, Any], origin: str = "config") -> BrandsConfig:
    """Validate already-parsed data; refuses credentials in the file (they belong in MD_* vars)."""
    secrets = _find_secrets(data)
    if secrets:
        raise ConfigError(
            f"{origin}: credentials do not belong in the config file ({', '.join(secrets)}); "
            "set MD_VK_TOKEN, MD_TWITTER_BEARER_TOKEN, ... in the environment"
        )
    try:
        return BrandsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc


def load_config(path: Path) -> BrandsConfig:
    """Read a .toml, .yaml or .yml brands config."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read brands config {path}: {exc.strerror}") from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(raw) or {}
        else:
            raise ConfigError(f"{path}: expected a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {suffix.lstrip('.').upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table/mapping")
    return parse_config(data, str(path))
