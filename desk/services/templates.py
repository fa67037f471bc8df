"""Reply templates with variables: {customer_name}, {case_number}, {agent_name}, {brand}.

Unknown variables stay as written, so a typo shows in the composer instead of failing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models_desk import ReplyTemplate
from core.i18n import _
from desk.services import audit
from desk.services.auth import Actor, check

VARIABLES = ("customer_name", "case_number", "agent_name", "brand")


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(body: str, values: Mapping[str, str | None]) -> str:
    known = _Keep({k: v for k, v in values.items() if v is not None})
    try:
        return string.Formatter().vformat(body, (), known)
    except (ValueError, IndexError):  # a stray brace: leave the text as it is
        return body


def list_templates(session: Session) -> list[ReplyTemplate]:
    return list(session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.name)))


def save_template(session: Session, actor: Actor, name: str, body: str) -> None:
    check(actor, "admin.edit")
    name = name.strip()
    if not name or not body.strip():
        raise ValueError(_("a template needs a name and a text"))
    row = session.get(ReplyTemplate, name)
    if row is None:
        session.add(ReplyTemplate(name=name, body=body, updated_at=datetime.now(UTC)))
    else:
        row.body = body
    audit.record(session, actor.username, "template", None, name=name)


def delete_template(session: Session, actor: Actor, name: str) -> None:
    check(actor, "admin.edit")
    row = session.get(ReplyTemplate, name)
    if row is not None:
        session.delete(row)
        audit.record(session, actor.username, "template", None, name=name, deleted=True)
