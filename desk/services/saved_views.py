"""Saved views: the queue's scope and filters kept under a name, for oneself or for everyone.

A personal view is seen by its owner only; a shared one by every desk user, and only managers and
admins may share (permission `view.share`). A name is unique per owner: saving under a name one
has already replaces that view. Filters are stored as JSON and read back leniently: a value the
queue no longer knows is dropped, not an error, so old views keep opening. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast, get_args

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.db.models_search import VIEW_NAME_MAX_LENGTH, SavedView
from core.i18n import _
from desk.services.auth import Actor, PermissionDenied, check
from desk.services.worklist import QueueFilters, Scope

_TUPLES = ("sources", "brands", "langs", "statuses", "owners", "tags")
_SCOPES: tuple[str, ...] = get_args(Scope)


@dataclass(frozen=True, slots=True)
class View:
    id: int
    name: str
    owner: str
    shared: bool
    scope: Scope
    filters: QueueFilters

    def label_for(self, username: str) -> str:
        """The name as `username` sees it in the list: whose it is when shared."""
        if not self.shared:
            return self.name
        if self.owner == username:
            return _("{name} (shared)").format(name=self.name)
        return _("{name} (shared by {owner})").format(name=self.name, owner=self.owner)


def to_json(scope: Scope, filters: QueueFilters) -> dict[str, Any]:
    data: dict[str, Any] = {name: list(getattr(filters, name)) for name in _TUPLES}
    data.update(scope=scope, min_negativity=filters.min_negativity, topic=filters.topic)
    return data


def from_json(data: dict[str, Any]) -> tuple[Scope, QueueFilters]:
    scope = data.get("scope")
    values: dict[str, Any] = {}
    for name in _TUPLES:
        raw = data.get(name)
        if isinstance(raw, list):
            values[name] = tuple(str(v) for v in raw if isinstance(v, str | int | float))
    negativity = data.get("min_negativity")
    if isinstance(negativity, int | float) and 0.0 <= negativity <= 1.0:
        values["min_negativity"] = float(negativity)
    topic = data.get("topic")
    if isinstance(topic, str) and topic.strip():
        values["topic"] = topic.strip()
    return cast(Scope, scope if scope in _SCOPES else "all"), QueueFilters(**values)


def _view(row: SavedView) -> View:
    scope, filters = from_json(row.filters if isinstance(row.filters, dict) else {})
    return View(row.id, row.name, row.owner, row.shared, scope, filters)


def visible_views(session: Session, actor: Actor) -> list[View]:
    """The actor's own views, then the views others shared, each by name."""
    check(actor, "queue.view")
    stmt = (
        select(SavedView)
        .where(or_(SavedView.owner == actor.username, SavedView.shared.is_(True)))
        .order_by((SavedView.owner != actor.username), SavedView.name, SavedView.id)
    )
    return [_view(row) for row in session.scalars(stmt)]


def save_view(
    session: Session, actor: Actor, name: str, scope: Scope, filters: QueueFilters, *, shared: bool = False
) -> View:
    """Save (or replace) the actor's view `name`."""
    check(actor, "queue.view")
    if shared:
        check(actor, "view.share")
    name = " ".join(name.split())
    if not name:
        raise ValueError(_("A view needs a name."))
    if len(name) > VIEW_NAME_MAX_LENGTH:
        raise ValueError(_("A view name has at most {n} characters.").format(n=VIEW_NAME_MAX_LENGTH))
    now = datetime.now(UTC)
    row = session.scalar(select(SavedView).where(SavedView.owner == actor.username, SavedView.name == name))
    if row is None:
        row = SavedView(owner=actor.username, name=name, created_at=now)
        session.add(row)
    row.shared = shared
    row.filters = to_json(scope, filters)
    row.updated_at = now
    session.flush()
    return _view(row)


def delete_view(session: Session, actor: Actor, view_id: int) -> None:
    """Delete a view: one's own, or (admins) a shared one."""
    row = session.get(SavedView, view_id)
    if row is None:
        raise LookupError(_("No saved view {id}.").format(id=view_id))
    if row.owner != actor.username and not (row.shared and actor.can("admin.edit")):
        raise PermissionDenied(
            _("{user} may not delete the view “{name}” of {owner}.").format(
                user=actor.username, name=row.name, owner=row.owner
            )
        )
    session.delete(row)
