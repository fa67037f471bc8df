"""Tags agents set on threads: free text, normalised so one tag is written one way.

"Доставка ", "доставка" and "ДОСТАВКА" are one tag ("доставка"): lower case, inner spaces
collapsed, control characters dropped, at most 64 characters. Setting and removing a tag is
audited in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db.models import Thread
from core.db.models_search import TAG_MAX_LENGTH, ThreadTag
from core.i18n import _
from desk.services import audit
from desk.services.auth import Actor, check

_SPACES = re.compile(r"\s+")


def normalise_tag(raw: str) -> str:
    """The stored form of a tag; ValueError when nothing is left of it."""
    kept = "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")
    tag = _SPACES.sub(" ", kept).strip().lower()
    if not tag:
        raise ValueError(_("A tag cannot be empty."))
    if len(tag) > TAG_MAX_LENGTH:
        raise ValueError(_("A tag has at most {n} characters.").format(n=TAG_MAX_LENGTH))
    return tag


def thread_tags(session: Session, thread_id: int) -> list[str]:
    return list(
        session.scalars(select(ThreadTag.tag).where(ThreadTag.thread_id == thread_id).order_by(ThreadTag.tag))
    )


def all_tags(session: Session) -> list[str]:
    """Every tag in use, most used first (the suggestions offered when tagging)."""
    uses = func.count().label("uses")
    stmt = select(ThreadTag.tag, uses).group_by(ThreadTag.tag).order_by(uses.desc(), ThreadTag.tag)
    return [tag for tag, _ in session.execute(stmt)]


def add_tag(session: Session, actor: Actor, thread_id: int, raw: str) -> str:
    """Tag a thread (a tag it has already is left as it is); returns the stored form."""
    check(actor, "thread.tag")
    tag = normalise_tag(raw)
    if session.get(Thread, thread_id) is None:
        raise LookupError(_("No case {id}.").format(id=thread_id))
    if session.get(ThreadTag, (thread_id, tag)) is None:
        session.add(
            ThreadTag(thread_id=thread_id, tag=tag, added_by=actor.username, added_at=datetime.now(UTC))
        )
        session.flush()
        audit.record(session, actor.username, "tag", thread_id, tag=tag)
    return tag


def remove_tag(session: Session, actor: Actor, thread_id: int, raw: str) -> bool:
    """Take a tag off a thread; False when it did not have it."""
    check(actor, "thread.tag")
    tag = normalise_tag(raw)
    row = session.get(ThreadTag, (thread_id, tag))
    if row is not None:
        session.delete(row)
        session.flush()
        audit.record(session, actor.username, "untag", thread_id, tag=tag)
    return row is not None


def set_tags(session: Session, actor: Actor, thread_id: int, wanted: Iterable[str]) -> list[str]:
    """Make the thread's tags exactly `wanted` (normalised); returns them sorted."""
    check(actor, "thread.tag")
    target = {normalise_tag(raw) for raw in wanted}
    current = set(thread_tags(session, thread_id))
    for tag in sorted(current - target):
        remove_tag(session, actor, thread_id, tag)
    for tag in sorted(target - current):
        add_tag(session, actor, thread_id, tag)
    return sorted(target)
