"""`mentiondesk notify`: the desk's notices on a timer: a sync pass when none ran lately (clocks
about to run out, missed deadlines), then Telegram and e-mail delivery of what is not sent yet."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from core.settings import get_settings

log = logging.getLogger("mentiondesk.notify")


def notify(
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    interval: Annotated[float, typer.Option("--interval", min=1.0, help="seconds between passes")] = 30.0,
) -> None:
    """Write due-soon and missed-deadline notices and send notices by Telegram and e-mail."""
    from core.db.engine import make_engine, make_session_factory, require_current_schema
    from desk.services.notice_delivery import deliver_pending
    from desk.services.sync import sync_if_stale
    from mentiondesk.runtime import refuse_unsafe

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    if not once:
        refuse_unsafe(settings)
    require_current_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    before = timedelta(minutes=settings.notify_before_due_min)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while True:
            try:
                with sessions() as session:
                    sync_if_stale(session, datetime.now(UTC), timedelta(seconds=interval), before)
                    session.commit()
                sent = deliver_pending(sessions, settings)
                if sent:
                    log.info("notices sent: %d", sent)
            except Exception:
                if once:
                    raise
                log.exception("notice pass failed; the next one retries")
            if once or stop.wait(interval):
                break
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.command("notify")(notify)
