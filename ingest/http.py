"""A polite HTTP client for scraping public pages: one request per host per interval, robots.txt
obeyed, transient failures retried with backoff, and the site's own Retry-After honoured.

robots.txt is read with Protego (RFC 9309: `*` wildcards, `$` anchors, the longest matching rule
wins, Allow beating Disallow on a tie), which urllib.robotparser does not implement: with it
`Disallow: /profile/*/comments` would not keep us out of `/profile/123/comments`.

Every collector that reads web pages (review sites, RSS) goes through one `PoliteClient`, so the
limits hold per host however many collectors share it."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from protego import Protego

from ingest.errors import CollectorError, RateLimited, TransientError
from schemas.base import utc_now

log = logging.getLogger(__name__)

USER_AGENT = "mentiondesk/0.1 (brand mention monitoring; +https://github.com/mentiondesk/mentiondesk)"
#: the token matched against robots.txt `User-agent:` lines
ROBOTS_AGENT = "mentiondesk"

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RobotsDisallowed(CollectorError):
    """robots.txt of the host forbids this URL for our user agent; the page was not requested."""

    def __init__(self, collector: str, url: str) -> None:
        super().__init__(collector, f"robots.txt disallows {url}")
        self.url = url


class HttpStatusError(CollectorError):
    """A final non-retryable status (404, 410, 403 ...) for one URL."""

    def __init__(self, collector: str, url: str, status: int) -> None:
        super().__init__(collector, f"HTTP {status} for {url}")
        self.url = url
        self.status = status


@dataclass(frozen=True, slots=True)
class PolitenessPolicy:
    """How gently to treat each host. Tests shrink the intervals; production keeps the defaults."""

    min_interval_s: float = 2.0
    max_retries: int = 4
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    #: a Retry-After longer than this is not slept through: RateLimited goes to the runner instead
    max_retry_after_s: float = 120.0
    #: robots.txt `Crawl-delay` is honoured up to this many seconds
    max_crawl_delay_s: float = 30.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 20.0
    robots_ttl_s: float = 3600.0
    user_agent: str = USER_AGENT
    robots_agent: str = ROBOTS_AGENT


@dataclass(slots=True)
class _HostState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_allowed: float = 0.0
    robots: Protego | None = None
    robots_fetched_at: float = 0.0


class PoliteClient:
    """GET with per-host pacing, robots.txt and retries. Thread-safe; one instance per process is
    enough. `sleep` and `monotonic` are injectable so unit tests need not wait."""

    def __init__(
        self,
        policy: PolitenessPolicy | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy or PolitenessPolicy()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = self.policy.user_agent
        self.session.headers.setdefault("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._hosts: dict[str, _HostState] = {}
        self._hosts_lock = threading.Lock()

    # -- public API -------------------------------------------------------------------------

    def get(self, url: str, *, collector: str = "http") -> requests.Response:
        """The response to GET `url` (status 2xx), after robots.txt allowed it.

        Raises RobotsDisallowed, HttpStatusError (final 4xx), RateLimited (429/503 still after the
        retries, or a Retry-After too long to wait), TransientError (network or 5xx after retries)."""
        if not self.allowed(url, collector=collector):
            log.info("robots.txt disallows %s, skipped", url)
            raise RobotsDisallowed(collector, url)
        return self._get_with_retries(url, collector)

    def get_text(self, url: str, *, collector: str = "http") -> str:
        """The decoded body of `url`; a missing charset is guessed rather than assumed Latin-1."""
        response = self.get(url, collector=collector)
        if response.encoding is None or response.encoding.lower() == "iso-8859-1":
            response.encoding = response.apparent_encoding or "utf-8"
        return response.text

    def allowed(self, url: str, *, collector: str = "http") -> bool:
        """Whether robots.txt of the URL's host lets our user agent fetch it (fetched once per TTL)."""
        robots = self._robots(url, collector)
        return bool(robots.can_fetch(url, self.policy.robots_agent))

    def close(self) -> None:
        self.session.close()

    # -- pacing -----------------------------------------------------------------------------

    def _host(self, url: str) -> _HostState:
        netloc = urlsplit(url).netloc.lower()
        with self._hosts_lock:
            return self._hosts.setdefault(netloc, _HostState())

    def _interval(self, state: _HostState) -> float:
        interval = self.policy.min_interval_s
        if state.robots is not None:
            delay = state.robots.crawl_delay(self.policy.robots_agent)
            if delay is not None:
                interval = max(interval, min(float(delay), self.policy.max_crawl_delay_s))
        return interval

    def _wait_turn(self, state: _HostState, extra_wait: float = 0.0) -> None:
        """Block until this host may be asked again; requests to one host never overlap in time."""
        with state.lock:
            now = self._monotonic()
            start = max(now + extra_wait, state.next_allowed)
            if start > now:
                self._sleep(start - now)
            state.next_allowed = max(start, self._monotonic()) + self._interval(state)

    # -- robots.txt -------------------------------------------------------------------------

    def _robots(self, url: str, collector: str) -> Protego:
        state = self._host(url)
        now = self._monotonic()
        if state.robots is not None and now - state.robots_fetched_at < self.policy.robots_ttl_s:
            return state.robots
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            response = self._request(robots_url, collector, state)
        except HttpStatusError as exc:
            # RFC 9309: 4xx means "no rules"; 401/403 are read as "keep out" as urllib does.
            parser = Protego.parse("User-agent: *\nDisallow: /\n" if exc.status in (401, 403) else "")
        else:
            parser = Protego.parse(response.text)
        state.robots = parser
        state.robots_fetched_at = self._monotonic()
        return parser

    # -- requests with retries ----------------------------------------------------------------

    def _get_with_retries(self, url: str, collector: str) -> requests.Response:
        return self._request(url, collector, self._host(url))

    def _request(self, url: str, collector: str, state: _HostState) -> requests.Response:
        policy = self.policy
        extra_wait = 0.0
        attempt = 0
        while True:
            self._wait_turn(state, extra_wait)
            extra_wait = 0.0
            try:
                response = self.session.get(
                    url, timeout=(policy.connect_timeout_s, policy.read_timeout_s), allow_redirects=True
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= policy.max_retries:
                    raise TransientError(collector, f"GET {url} failed: {exc}") from exc
                extra_wait = self._backoff(attempt)
                log.warning("GET %s failed (%s), retry %d in %.2fs", url, exc, attempt + 1, extra_wait)
                attempt += 1
                continue
            status = response.status_code
            if status < 400:
                return response
            if status not in RETRY_STATUSES:
                raise HttpStatusError(collector, url, status)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status in (429, 503) and retry_after is not None and retry_after > policy.max_retry_after_s:
                raise RateLimited(
                    collector, f"HTTP {status} for {url}, Retry-After {retry_after:g}s", retry_after
                )
            if attempt >= policy.max_retries:
                if status == 429 or (status == 503 and retry_after is not None):
                    wait = retry_after if retry_after is not None else self._backoff(attempt)
                    raise RateLimited(collector, f"HTTP {status} for {url} after {attempt} retries", wait)
                raise TransientError(collector, f"HTTP {status} for {url} after {attempt} retries")
            extra_wait = retry_after if retry_after is not None else self._backoff(attempt)
            log.warning("HTTP %d for %s, retry %d in %.2fs", status, url, attempt + 1, extra_wait)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: uniform(c/2, c), c = min(max, base * 2**attempt)."""
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * (2**attempt))
        return self._rng.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if absent or bad."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - utc_now()).total_seconds())
