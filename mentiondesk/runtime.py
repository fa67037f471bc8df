"""The embedded supervisor behind `mentiondesk up`: broker, worker, desk, publisher, collectors and
demo stream as child processes, one status line each, restarted when they die, stopped cleanly on
Ctrl-C.

Restarts follow `RestartPolicy`: a growing delay (1 s doubling to 60 s) scheduled without holding up
the watch over the others; the failures count from zero again once a child has run healthily for
5 minutes; 10 failures within an hour and `up` gives up on the child. Giving up on an essential
child (worker, desk; the embedded broker is never restarted) stops everything with exit status 1;
any other child is left stopped and the rest keeps running.

Collectors run when the brands config (MD_CONFIG) lists anything a collector can collect with the
credentials present: the same plan `mentiondesk collect` builds from (`ingest.collectors`). The demo
stream runs when no collector does, or with `up --demo`; on a database without it, it first lays a
week of history (`replay --history-days`), once."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.brands import ConfigError
from core.settings import PROJECT_ROOT, Settings
from mentiondesk.broker import BrokerError, EmbeddedBroker

if TYPE_CHECKING:
    from ingest.collectors import CollectorPlan

DEMO_FILE = Path(__file__).parent / "demo" / "mentions.jsonl"
DESK_APP = PROJECT_ROOT / "desk" / "streamlit_app.py"
DEMO_HISTORY_DAYS = 7
STOP_TIMEOUT_S = 10.0
"""How long `up` waits for all its children together after SIGTERM before killing the rest: well
inside the 15 s that compose and systemd give `up` itself."""


def desk_command(settings: Settings, host: str | None = None) -> list[str]:
    """The Streamlit command of the desk; with MD_DESK_TLS_CERT and MD_DESK_TLS_KEY it serves HTTPS."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(DESK_APP),
        "--server.address", host or settings.desk_host,
        "--server.port", str(settings.desk_port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",  # users get no Deploy menu or developer options
    ]  # fmt: skip
    if settings.desk_tls_cert is not None and settings.desk_tls_key is not None:
        command += [
            "--server.sslCertFile", str(settings.desk_tls_cert),
            "--server.sslKeyFile", str(settings.desk_tls_key),
        ]  # fmt: skip
    return command


def desk_url(settings: Settings) -> str:
    scheme = "https" if settings.desk_tls_cert is not None and settings.desk_tls_key is not None else "http"
    return f"{scheme}://{settings.desk_host}:{settings.desk_port}"


def refuse_unsafe(settings: Settings) -> None:
    """Exit with status 2 and every reason, when production mode finds the set-up unsafe
    (`core.production`); called by each command that starts a service, before it starts anything."""
    from core.production import refusal_text, unsafe_reasons

    reasons = unsafe_reasons(settings)
    if reasons:
        print(f"error: {refusal_text(reasons)}", file=sys.stderr, flush=True)
        raise SystemExit(2)


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mentiondesk.cli", *args]


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """When a child that exited is started again. Pure: the caller passes the time (monotonic
    seconds) in, the policy keeps no clock of its own."""

    first_delay: float = 1.0
    max_delay: float = 60.0
    healthy_after: float = 300.0  # a run this long clears the failures counted so far
    give_up_after: int = 10  # this many failures within `window` and the child stays stopped
    window: float = 3600.0

    def delay(self, failures: int) -> float:
        """The wait before the restart after the `failures`-th failure in a row (1, 2, 4, ... 60)."""
        return min(self.max_delay, self.first_delay * 2.0 ** max(0, failures - 1))


@dataclass(frozen=True, slots=True)
class RestartDecision:
    failures: int  # counted, this one included
    restart_at: float | None  # None: give up
    delay: float = 0.0

    @property
    def give_up(self) -> bool:
        return self.restart_at is None


@dataclass(slots=True)
class RestartTracker:
    """One child's failures under a `RestartPolicy`."""

    policy: RestartPolicy = field(default_factory=RestartPolicy)
    failures: deque[float] = field(default_factory=deque)  # when, since the last healthy run

    def exited(self, started_at: float, now: float) -> RestartDecision:
        """A run that began at `started_at` ended at `now`: restart when, or give up."""
        if now - started_at >= self.policy.healthy_after:
            self.failures.clear()
        self.failures.append(now)
        while self.failures and now - self.failures[0] >= self.policy.window:
            self.failures.popleft()
        count = len(self.failures)
        if count >= self.policy.give_up_after:
            return RestartDecision(count, None)
        delay = self.policy.delay(count)
        return RestartDecision(count, now + delay, delay)


@dataclass
class Child:
    """A supervised child process with its own log file."""

    name: str
    command: list[str]
    log_path: Path
    env: dict[str, str]
    note: str = ""  # what the status line adds after "pid N, log F"
    essential: bool = False  # giving up on it stops everything
    #: the command of a restart, when it differs (the demo lays its history down once)
    restart_command: list[str] | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)
    tracker: RestartTracker = field(default_factory=RestartTracker)
    restart_at: float | None = None  # a restart is scheduled for then
    gave_up: bool = False
    signalled: bool = False  # SIGTERM sent to the current process

    def start(self, now: float) -> None:
        command = self.restart_command if self.restarts and self.restart_command else self.command
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=PROJECT_ROOT,
                start_new_session=True,
            )  # fmt: skip
        self.started_at = now
        self.restart_at = None
        self.signalled = False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return self.process.returncode if self.process else None

    def pid(self) -> int | str:
        return self.process.pid if self.process else "?"

    def terminate(self) -> None:
        """SIGTERM, once, without waiting for the exit."""
        if self.process is not None and self.process.poll() is None and not self.signalled:
            self.process.send_signal(signal.SIGTERM)
            self.signalled = True

    def stop(self, timeout: float = 10.0) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _status(name: str, state: str, detail: str) -> None:
    print(f"  {name:<11} {state:<8} {detail}", flush=True)


def wait_http_ok(url: str, timeout: float) -> bool:
    # the desk's own certificate may be self-signed: this looks at our child, not at the network
    context: ssl.SSLContext | None = None
    if url.startswith("https:"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool = False,
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.policy = policy or RestartPolicy()
        self.clock = clock
        self.sleep = sleep
        self.demo_asked = demo  # `up --demo`: the demo stream also next to real collectors
        self.logs = Path(settings.log_dir)
        self.broker: EmbeddedBroker | None = None
        self.children: list[Child] = []
        self._stopping = False
        self._failed: str | None = None

    def _env(self, bootstrap: str) -> dict[str, str]:
        return {**os.environ, "MD_KAFKA_BOOTSTRAP": bootstrap, "PYTHONUNBUFFERED": "1"}

    def _start_broker(self) -> str:
        if self.settings.kafka_bootstrap:
            _status("broker", "external", self.settings.kafka_bootstrap)
            return self.settings.kafka_bootstrap
        self.logs.mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(self.settings.broker_port, log_file=self.logs / "broker.log").start()
        _status("broker", "ok", f"{self.broker.bootstrap} (embedded Tansu, memory storage)")
        return self.broker.bootstrap

    def _prepare(self, bootstrap: str) -> None:
        from core.bus.producer import ensure_topics
        from core.db.engine import migrate

        ensure_topics(bootstrap, self.settings.topic_partitions)
        migrate(self.settings.database_url)
        _status("database", "ok", _db_label(self.settings.database_url))
        self._first_user()

    def _first_user(self) -> None:
        """Development: create `admin` with a random password if no user exists; production: refuse."""
        from core.db.engine import make_engine, make_session_factory
        from desk.services.bootstrap import NoUsers, ensure_first_user

        engine = make_engine(self.settings.database_url)
        try:
            password = ensure_first_user(make_session_factory(engine), self.settings.environment)
        except NoUsers as exc:
            _status("users", "FAILED", str(exc))
            raise
        finally:
            engine.dispose()
        if password is not None:
            _status("users", "created", f"admin / {password}  (development only: printed once, change it)")

    def _children(self, bootstrap: str, plan: CollectorPlan) -> tuple[list[Child], list[tuple[str, str]]]:
        """The children to start, and (name, reason) of the optional ones that stay off."""
        env = self._env(bootstrap)
        children = [
            Child("worker", cli_command("worker"), self.logs / "worker.log", env, essential=True),
            Child("desk", desk_command(self.settings), self.logs / "desk.log", env, essential=True),
            Child("publisher", cli_command("publisher"), self.logs / "publisher.log", env),
            # clocks about to run out and missed deadlines told even when no desk is open; Telegram, e-mail
            Child("notify", cli_command("notify"), self.logs / "notify.log", env),
        ]
        off: list[tuple[str, str]] = []
        if plan.on:
            children.append(
                Child(
                    "collectors",
                    cli_command("collect"),
                    self.logs / "collect.log",
                    env,
                    f"({plan.summary()})",
                )
            )
        else:
            off.append(("collectors", plan.summary()))
        if not plan.on or self.demo_asked:
            children.insert(
                1, self._demo_child(env, "asked with --demo" if plan.on else "no collector is configured")
            )
        else:
            off.append(("demo", "collectors are configured; --demo adds the demo stream"))
        if self.settings.smtp_host and self.settings.digest_to:  # the daily digest at MD_DIGEST_TIME
            digest = cli_command("digest", "--schedule")
            children.append(Child("digest", digest, self.logs / "digest.log", env))
        return children, off

    def _demo_child(self, env: dict[str, str], why: str) -> Child:
        """The demo replay: a week of history first (unless the database has it), then live."""
        demo = self.settings.demo_file or DEMO_FILE
        rate = f"{self.settings.demo_rate:g}"
        live = cli_command("replay", str(demo), "--rate", rate, "--loop")
        if demo_history_stored(self.settings.database_url, demo):
            note = f"({why}; history already in the database, live at {rate}/s)"
            return Child("demo", live, self.logs / "demo.log", env, note)
        history = [*live, "--history-days", str(DEMO_HISTORY_DAYS)]
        note = f"({why}; {DEMO_HISTORY_DAYS} days of history first, then live at {rate}/s)"
        return Child("demo", history, self.logs / "demo.log", env, note, restart_command=live)

    def run(self) -> int:
        print("mentiondesk is starting", flush=True)
        # Ctrl-C and SIGTERM stop everything cleanly, even when started with SIGINT ignored
        # (as a background job of a non-interactive shell).
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            return self._run()
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()

    def _run(self) -> int:
        from ingest.collectors import plan_from_settings

        try:  # before anything starts: a broken brands config is the user's to fix first
            plan, _ = plan_from_settings(self.settings)
        except ConfigError as exc:
            _status("collectors", "FAILED", str(exc))
            return 1
        try:
            bootstrap = self._start_broker()
            self._prepare(bootstrap)
        except (BrokerError, RuntimeError) as exc:
            _status("broker", "FAILED", str(exc))
            return 1
        self.children, off = self._children(bootstrap, plan)
        for child in self.children:
            child.tracker = RestartTracker(self.policy)
            child.start(self.clock())
            _status(
                child.name,
                "started",
                " ".join(filter(None, [f"pid {child.pid()}, log {child.log_path}", child.note])),
            )
        for name, reason in off:
            _status(name, "off", reason)
        url = desk_url(self.settings)
        if wait_http_ok(f"{url}/_stcore/health", timeout=60):
            _status("desk", "ok", url)
        else:
            _status("desk", "slow", f"not answering yet at {url}; see {self.logs / 'desk.log'}")
        print(f"\nOpen the desk: {url}   (Ctrl-C stops everything)", flush=True)
        while not self._stopping:
            self._watch()
            if not self._stopping:
                self.sleep(1.0)
        return 0 if self._failed is None else 1

    def _watch(self) -> None:
        """One look at every child: note the ones that exited (schedule their restart, or give up)
        and start the ones whose restart time has come. Never waits."""
        for child in self.children:
            if self._stopping:
                return
            if child.gave_up or child.alive():
                continue
            now = self.clock()
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    child.start(now)
                continue
            self._exited(child, now)
        if not self._stopping and self.broker is not None and not self.broker.running():
            self._failed = "broker"
            log = f"; see {self.broker.log_file}" if self.broker.log_file else ""
            _status("broker", "FAILED", f"the embedded broker stopped; stopping everything{log}")
            self._stopping = True

    def _exited(self, child: Child, now: float) -> None:
        code = child.exit_code()
        decision = child.tracker.exited(child.started_at, now)
        policy = self.policy
        within = f"{decision.failures} failures within {_duration(policy.window)}"
        if not decision.give_up:
            assert decision.restart_at is not None
            child.restart_at = decision.restart_at
            _status(
                child.name,
                "restart",
                f"exited with {code}; restarting in {decision.delay:g}s "
                f"(failure {decision.failures}; gives up at {policy.give_up_after} within "
                f"{_duration(policy.window)}); see {child.log_path}",
            )
            return
        child.gave_up = True
        if child.essential:
            self._failed = child.name
            self._stopping = True
            _status(
                child.name,
                "FAILED",
                f"exited with {code}, {within}; gave up, stopping everything; see {child.log_path}",
            )
        else:
            _status(
                child.name,
                "gave up",
                f"exited with {code}, {within}; left stopped, the rest keeps running; see {child.log_path}",
            )

    def _stop_children(self) -> None:
        """Every child is signalled first, so their shutdowns overlap instead of adding up."""
        for child in reversed(self.children):
            child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in reversed(self.children):
            child.stop(timeout=max(0.1, deadline - time.monotonic()))
            _status(child.name, "stopped", "")

    def stop(self) -> None:
        if not self.children and self.broker is None:
            return
        print("\nstopping", flush=True)
        # Another Ctrl-C or SIGTERM must not cut this short and leave children running; the
        # shared deadline below bounds the wait, then the stragglers are killed.
        previous = {
            signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._stop_children()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.children = []
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
            _status("broker", "stopped", "")


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}min"
    return f"{seconds:g}s"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _db_label(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def demo_history_stored(database_url: str, demo: Path, sample: int = 200) -> bool:
    """Whether the demo file's history is in the database already: up to `sample` of its mentions,
    spread over the file, are all stored (by source and external_id, the ids the history keeps)."""
    from sqlalchemy import func, select, tuple_

    from core.db.engine import make_engine
    from core.db.models import Mention
    from core.tabular import TabularFileError
    from ingest.replay import read_mentions

    try:
        keys = [(m.source, m.external_id) for m in read_mentions(demo)]
    except TabularFileError:
        return False  # the demo child reports the file's trouble in its log
    if not keys:
        return False
    step = max(1, len(keys) // sample)
    wanted = set(keys[::step])
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(func.count()).where(tuple_(Mention.source, Mention.external_id).in_(wanted))
            ).scalar_one()
    finally:
        engine.dispose()
    return int(found) >= len(wanted)
