"""A static stand-in for a review site: serves the saved pages under the site's own URL paths on a
free 127.0.0.1 port, answers robots.txt, fails on demand (429/503 with or without Retry-After) and
records every request (path, status, arrival time) for politeness assertions."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "reviews"

OTZOVIK_ROUTES: dict[str, str] = {
    "/robots.txt": "otzovik/robots.txt",
    "/reviews/magazin_acme/": "otzovik/list_p1.html",
    "/reviews/magazin_acme/2/": "otzovik/list_p2.html",
    "/review_1005.html": "otzovik/review_1005.html",
    "/review_1004.html": "otzovik/review_1004.html",
    "/review_1003.html": "otzovik/review_1003.html",
    "/review_1002.html": "otzovik/review_1002.html",
    "/review_1001.html": "otzovik/review_1001.html",
}
OTZOVIK_LIST = "/reviews/magazin_acme/"

IRECOMMEND_ROUTES: dict[str, str] = {
    "/robots.txt": "irecommend/robots.txt",
    "/content/magazin-acme": "irecommend/list_p1.html",
    "/content/magazin-acme?page=1": "irecommend/list_p2.html",
    "/content/kurer-poteryal-posylku": "irecommend/review_7004.html",
    "/content/vernuli-ne-vse-dengi": "irecommend/review_7003.html",
    "/content/khoroshii-magazin-no-dolgaya-dostavka": "irecommend/review_7002.html",
}
IRECOMMEND_LIST = "/content/magazin-acme"

RSS_ROUTES: dict[str, str] = {
    "/robots.txt": "rss/robots.txt",
    "/feeds/acme.xml": "rss/feed.xml",
    "/feeds/acme.atom": "rss/atom.xml",
    "/feeds/broken.xml": "rss/broken.xml",
}

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    path: str
    status: int
    at: float  # time.monotonic() when the request arrived
    user_agent: str


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    retry_after: str | None


class ReviewSiteServer:
    """`with ReviewSiteServer(OTZOVIK_ROUTES) as site:` then `site.url("/reviews/magazin_acme/")`."""

    def __init__(self, routes: dict[str, str]) -> None:
        self._routes: dict[str, tuple[bytes, str]] = {}
        for path, fixture in routes.items():
            self.set_route(path, fixture)
        self._failures: dict[str, deque[_Failure]] = {}
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="review-site", daemon=True
        )

    # -- control ----------------------------------------------------------------------------

    def set_route(self, path: str, fixture: str) -> None:
        """Serve the fixture file (relative to tests/fixtures/reviews) at `path` (query included)."""
        file = FIXTURES / fixture
        self._routes[path] = (file.read_bytes(), _TYPES.get(file.suffix, "application/octet-stream"))

    def set_robots(self, text: str) -> None:
        self._routes["/robots.txt"] = (text.encode("utf-8"), _TYPES[".txt"])

    def fail(self, path: str, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        """The next `times` requests for `path` get `status` (with Retry-After when given)."""
        with self._lock:
            queue = self._failures.setdefault(path, deque())
            queue.extend(_Failure(status, retry_after) for _ in range(times))

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- what happened ------------------------------------------------------------------------

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def count(self, path: str) -> int:
        return self.paths().count(path)

    def hits(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> ReviewSiteServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- HTTP -----------------------------------------------------------------------------------

    def _respond(self, path: str, user_agent: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            queue = self._failures.get(path)
            failure = queue.popleft() if queue else None
            if failure is not None:
                status, headers, body = failure.status, {"Content-Type": _TYPES[".txt"]}, b"try later"
                if failure.retry_after is not None:
                    headers["Retry-After"] = failure.retry_after
            elif path in self._routes:
                body, content_type = self._routes[path]
                status, headers = 200, {"Content-Type": content_type}
            else:
                status, headers, body = 404, {"Content-Type": _TYPES[".txt"]}, b"not found"
            self.requests.append(RecordedRequest(path, status, time.monotonic(), user_agent))
        return status, headers, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, headers, body = site._respond(self.path, self.headers.get("User-Agent", ""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean; the server records requests itself

        return Handler
