"""Which collectors a brands config and the credentials give: the one list of collector kinds.

    COLLECTOR_FACTORIES = (VK, TWITTER, REVIEW_SITES, RSS)

Each kind says what in the config it watches, which token it needs (review pages and feeds need
none) and how to build its collectors. `plan_collectors` reads that list without building anything
(what `mentiondesk up` prints and decides on); `build_collectors` builds from the same list (what
`mentiondesk collect` runs), so the two never disagree. Importing this module does nothing.

Names in cursors and health: "vk", "twitter", one collector per review site ("review:otzovik.com")
and per feed host ("rss:news.example.com"). Several pages (or feeds) of one site are one collector,
a `CollectorGroup`, whose members keep their own cursor keys ("list:<url>", "feed:<url>"), so two
pages on one site never overwrite each other's cursors and the site has one health row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.brands import Brand, BrandsConfig, ConfigError, load_config
from core.settings import Settings
from ingest.base import Collector, Page
from ingest.errors import AuthFailed, CaptchaRequired, CollectorError, RateLimited
from ingest.http import PoliteClient

log = logging.getLogger(__name__)

#: longest page or feed URL: its cursor key ("list:<url>") must fit the cursors table's 255 characters
MAX_URL_LENGTH = 250


# ------------------------------------------------------------------ one site, several pages


class CollectorGroup(Collector):
    """Several collectors of one site (pages, feeds) polled as one: one name in cursors and health,
    each member reading its own cursor keys. A rate limit (or a stop) ends the pass at once, since
    it concerns the whole site; any other error of one member is raised after the others ran."""

    def __init__(self, name: str, members: Sequence[Collector]) -> None:
        self.name = name
        self.members = list(members)

    def fetch(self, cursors: Mapping[str, str]) -> Iterator[Page]:
        deferred: CollectorError | None = None
        for member in self.members:
            try:
                yield from member.fetch(cursors)
            except (RateLimited, AuthFailed, CaptchaRequired):
                raise
            except CollectorError as exc:
                log.warning("%s: %s failed, the site's other pages go on: %s", self.name, member, exc.message)
                deferred = deferred or exc
        if deferred is not None:
            raise deferred

    def __repr__(self) -> str:
        return f"CollectorGroup({self.name!r}, {len(self.members)} members)"


# ------------------------------------------------------------------ the kinds


@dataclass(frozen=True, slots=True)
class Target:
    """One thing in the config a kind collects: its brand, a label ("query 'acme'", a URL) and the
    name of the collector that reads it ("vk", "review:otzovik.com", "rss:news.example.com")."""

    brand: str
    label: str
    collector: str


def _secret_set(settings: Settings, field: str) -> bool:
    value = getattr(settings, field)
    return value is not None and bool(value.get_secret_value())


@dataclass(frozen=True, slots=True)
class CollectorKind:
    """One kind of collector: what it watches in the config, the token it needs, how it is built."""

    name: str  # "vk", "twitter", "review sites", "rss"
    wants: str  # what the config would have to list, for "off" messages
    token_setting: str | None  # the Settings field it needs ("vk_token"); None: no credentials
    targets: Callable[[BrandsConfig], list[Target]]
    build: Callable[[BrandsConfig, Settings, Callable[[], PoliteClient]], list[Collector]]

    @property
    def token_variable(self) -> str | None:
        return f"MD_{self.token_setting.upper()}" if self.token_setting else None

    def has_token(self, settings: Settings) -> bool:
        return self.token_setting is None or _secret_set(settings, self.token_setting)


def _vk_brands(config: BrandsConfig) -> list[Brand]:
    return [b for b in config.brands if b.queries or b.vk.communities]


def _vk_targets(config: BrandsConfig) -> list[Target]:
    out = []
    for brand in _vk_brands(config):
        out += [Target(brand.name, f"query {q!r}", "vk") for q in brand.queries]
        out += [Target(brand.name, f"community {c}", "vk") for c in brand.vk.communities]
    return out


def _build_vk(config: BrandsConfig, settings: Settings, http: Callable[[], PoliteClient]) -> list[Collector]:
    from ingest.vk import VkCollector, make_vk_client

    assert settings.vk_token is not None  # the plan checked it
    vk = make_vk_client(
        settings.vk_token.get_secret_value(),
        settings.vk_api_url,
        settings.vk_api_version,
        settings.vk_rps_delay,
    )
    return [VkCollector(_vk_brands(config), config.collect, vk, overlap_s=settings.overlap_s)]


def _twitter_brands(config: BrandsConfig) -> list[Brand]:
    return [b for b in config.brands if b.queries or b.twitter.handles]


def _twitter_targets(config: BrandsConfig) -> list[Target]:
    out = []
    for brand in _twitter_brands(config):
        out += [Target(brand.name, f"query {q!r}", "twitter") for q in brand.queries]
        out += [Target(brand.name, f"@{h}", "twitter") for h in brand.twitter.handles]
    return out


def _build_twitter(
    config: BrandsConfig, settings: Settings, http: Callable[[], PoliteClient]
) -> list[Collector]:
    from ingest.twitter import TwitterCollector, make_twitter_client

    assert settings.twitter_bearer_token is not None  # the plan checked it
    x = make_twitter_client(settings.twitter_bearer_token.get_secret_value(), settings.twitter_api_url)
    return [TwitterCollector(_twitter_brands(config), config.collect, x, overlap_s=settings.overlap_s)]


@dataclass(frozen=True, slots=True)
class _WebPage:
    group: str  # the collector's name: "review:<site>" or "rss:<host>"
    site: str  # the adapter (a key of ingest.reviews.REVIEW_ADAPTERS)
    url: str
    brand: str


def _check_url(where: str, url: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise ConfigError(f"{where}: url is longer than {MAX_URL_LENGTH} characters")
    if not urlsplit(url).hostname:
        raise ConfigError(f"{where}: url {url!r} has no host name")


def _unique(pages: list[_WebPage]) -> list[_WebPage]:
    """One collector per (site, url): a page listed twice is read once, for the first brand."""
    seen: dict[tuple[str, str], _WebPage] = {}
    for page in pages:
        first = seen.setdefault((page.site, page.url), page)
        if first is not page:
            log.warning(
                "%s is listed twice (%s, %s); read once, for %s",
                page.url,
                first.brand,
                page.brand,
                first.brand,
            )
    return list(seen.values())


def _web_pages(config: BrandsConfig) -> list[_WebPage]:
    """`[[brands.reviews]]` pages and `rss` feeds; ConfigError for a site no adapter reads. A review
    page of site "rss" is a feed."""
    from ingest.reviews import REVIEW_ADAPTERS

    pages = []
    for brand in config.brands:
        for index, page in enumerate(brand.reviews):
            where = f"brand {brand.name!r}, reviews[{index}]"
            site = page.site.strip().lower()
            if site not in REVIEW_ADAPTERS:
                known = ", ".join(sorted(REVIEW_ADAPTERS))
                raise ConfigError(f"{where}: unknown review site {page.site!r} (known: {known})")
            _check_url(where, page.url)
            group = f"rss:{_host(page.url)}" if site == "rss" else f"review:{site}"
            pages.append(_WebPage(group, site, page.url, brand.name))
        for index, feed in enumerate(brand.rss):
            _check_url(f"brand {brand.name!r}, rss[{index}]", feed.url)
            pages.append(_WebPage(f"rss:{_host(feed.url)}", "rss", feed.url, brand.name))
    return _unique(pages)


def _review_pages(config: BrandsConfig) -> list[_WebPage]:
    return [p for p in _web_pages(config) if p.site != "rss"]


def _feeds(config: BrandsConfig) -> list[_WebPage]:
    return [p for p in _web_pages(config) if p.site == "rss"]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "feed").lower()


def _web_targets(pages: Callable[[BrandsConfig], list[_WebPage]]) -> Callable[[BrandsConfig], list[Target]]:
    return lambda config: [Target(p.brand, p.url, p.group) for p in pages(config)]


def _web_builder(
    pages: Callable[[BrandsConfig], list[_WebPage]],
) -> Callable[[BrandsConfig, Settings, Callable[[], PoliteClient]], list[Collector]]:
    def build(config: BrandsConfig, settings: Settings, http: Callable[[], PoliteClient]) -> list[Collector]:
        from ingest.reviews import build_review_collector

        client = http()
        groups: dict[str, list[Collector]] = {}
        for page in pages(config):
            member = build_review_collector(page.site, page.url, client, page.brand)
            groups.setdefault(page.group, []).append(member)
        return [CollectorGroup(name, members) for name, members in groups.items()]

    return build


VK = CollectorKind("vk", "VK queries or communities", "vk_token", _vk_targets, _build_vk)
TWITTER = CollectorKind(
    "twitter", "X queries or handles", "twitter_bearer_token", _twitter_targets, _build_twitter
)
REVIEW_SITES = CollectorKind(
    "review sites", "[[brands.reviews]] pages", None, _web_targets(_review_pages), _web_builder(_review_pages)
)
RSS = CollectorKind("rss", "rss feeds", None, _web_targets(_feeds), _web_builder(_feeds))

#: every kind of collector there is, in the order they are built and reported
COLLECTOR_FACTORIES: tuple[CollectorKind, ...] = (VK, TWITTER, REVIEW_SITES, RSS)


# ------------------------------------------------------------------ the plan


@dataclass(frozen=True, slots=True)
class KindPlan:
    kind: CollectorKind
    targets: tuple[Target, ...]
    token_missing: bool

    @property
    def on(self) -> bool:
        return bool(self.targets) and not self.token_missing

    @property
    def reason(self) -> str:
        """Why the kind is off ("" when it is on)."""
        if not self.targets:
            return f"the brands config lists no {self.kind.wants}"
        if self.token_missing:
            brands = sorted({t.brand for t in self.targets})
            return f"{self.kind.token_variable} is not set (wanted for {', '.join(brands)})"
        return ""


@dataclass(frozen=True, slots=True)
class CollectorPlan:
    """What would run, and why the rest would not."""

    config: Path | None
    kinds: tuple[KindPlan, ...]

    @property
    def on(self) -> bool:
        return any(k.on for k in self.kinds)

    def collector_names(self) -> list[str]:
        """The collectors that would run, by the names they have in cursors and health."""
        return list(dict.fromkeys(t.collector for k in self.kinds if k.on for t in k.targets))

    def off_reasons(self, *, configured_only: bool = False) -> list[str]:
        """Why each kind will not run, as "kind: reason" (only kinds the config lists, if asked)."""
        return [
            f"{k.kind.name}: {k.reason}"
            for k in self.kinds
            if not k.on and (k.targets or not configured_only)
        ]

    def summary(self) -> str:
        """One line. Running: "review:otzovik.com, rss:news.example.com; off: vk: MD_VK_TOKEN is not
        set (wanted for acme)" (only kinds the config lists are named off). Off: why."""
        if self.config is None:
            return "no brands config (MD_CONFIG)"
        if not self.on:
            if not any(k.targets for k in self.kinds):
                return f"{self.config} lists nothing to collect"
            return "; ".join(self.off_reasons(configured_only=True))
        off = self.off_reasons(configured_only=True)
        return ", ".join(self.collector_names()) + (f"; off: {'; '.join(off)}" if off else "")


def plan_collectors(config: BrandsConfig, settings: Settings, path: Path | None = None) -> CollectorPlan:
    """Which kinds would run with this config and these credentials. Builds nothing; raises
    ConfigError for what no collector can read (an unknown review site, a URL without a host)."""
    origin = path or settings.config or Path("brands config")
    try:
        kinds = tuple(
            KindPlan(kind, tuple(kind.targets(config)), not kind.has_token(settings))
            for kind in COLLECTOR_FACTORIES
        )
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    return CollectorPlan(origin, kinds)


def plan_from_settings(settings: Settings) -> tuple[CollectorPlan, BrandsConfig | None]:
    """The plan for MD_CONFIG (a plan with nothing on when it is unset); ConfigError when the file
    is missing or invalid."""
    if settings.config is None:
        return CollectorPlan(None, ()), None
    config = load_config(settings.config)
    return plan_collectors(config, settings, settings.config), config


def build_collectors(
    config: BrandsConfig, settings: Settings, *, client: PoliteClient | None = None
) -> list[Collector]:
    """Every collector the config and the credentials allow, one per name. Review pages and feeds
    share `client` (one PoliteClient per process, so its limits hold per host; made here if None)."""
    shared: list[PoliteClient] = [client] if client is not None else []

    def http() -> PoliteClient:
        if not shared:
            shared.append(PoliteClient())
        return shared[0]

    collectors: list[Collector] = []
    for kind_plan in plan_collectors(config, settings).kinds:
        if kind_plan.on:
            collectors.extend(kind_plan.kind.build(config, settings, http))
    return collectors


__all__ = [
    "COLLECTOR_FACTORIES",
    "REVIEW_SITES",
    "RSS",
    "TWITTER",
    "VK",
    "CollectorGroup",
    "CollectorKind",
    "CollectorPlan",
    "KindPlan",
    "Target",
    "build_collectors",
    "plan_collectors",
    "plan_from_settings",
]
