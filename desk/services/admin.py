"""Admin edits: teams, shifts, routing rules and the business calendar (users: desk.services.auth)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models_desk import DeskShift, DeskTeam, DeskUser, RoutingRule
from core.i18n import _
from desk.services import audit
from desk.services.auth import Actor, AuthError, add_user, check, set_active, set_password
from desk.services.calendar_store import delete_brand_calendar, save_calendar
from desk.services.clocks import BusinessCalendar


def teams(session: Session) -> list[str]:
    return list(session.scalars(select(DeskTeam.name).order_by(DeskTeam.name)))


def add_team(session: Session, actor: Actor, name: str) -> None:
    check(actor, "admin.edit")
    name = name.strip()
    if not name:
        raise ValueError(_("a team needs a name"))
    if session.get(DeskTeam, name) is None:
        session.add(DeskTeam(name=name))
        audit.record(session, actor.username, "team", None, name=name)


def create_user(
    session: Session, actor: Actor, username: str, password: str, role: str, *, team: str | None, cap: int
) -> None:
    check(actor, "admin.edit")
    add_user(session, username, password, role, team=team, cap=cap)
    audit.record(session, actor.username, "user", None, username=username, role=role, team=team)


def reset_password(session: Session, actor: Actor, username: str, password: str) -> None:
    """An administrator sets a temporary password; the user must replace it at their next sign-in."""
    check(actor, "admin.edit")
    set_password(session, username, password, must_change=True)
    audit.record(session, actor.username, "user", None, username=username, password_reset=True)


def set_user_active(session: Session, actor: Actor, username: str, active: bool) -> None:
    check(actor, "admin.edit")
    if username == actor.username and not active:
        raise AuthError(_("you cannot disable yourself"))
    set_active(session, username, active)
    audit.record(session, actor.username, "user", None, username=username, active=active)


def update_user(session: Session, actor: Actor, username: str, *, team: str | None, cap: int) -> None:
    check(actor, "admin.edit")
    user = session.get(DeskUser, username)
    if user is None:
        raise AuthError(_("no user {username!r}").format(username=username))
    user.team, user.cap = team, cap
    audit.record(session, actor.username, "user", None, username=username, team=team, cap=cap)


def rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def add_rule(session: Session, actor: Actor, rule: RoutingRule) -> None:
    check(actor, "admin.edit")
    if not rule.team:
        raise ValueError(_("a rule needs a team"))
    add_team(session, actor, rule.team)
    session.add(rule)
    audit.record(session, actor.username, "rule", None, team=rule.team, position=rule.position)


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    check(actor, "admin.edit")
    rule = session.get(RoutingRule, rule_id)
    if rule is not None:
        session.delete(rule)
        audit.record(session, actor.username, "rule", None, deleted=rule_id)


def shifts(session: Session) -> list[DeskShift]:
    return list(session.scalars(select(DeskShift).order_by(DeskShift.username, DeskShift.weekday)))


def add_shift(
    session: Session, actor: Actor, username: str, *, weekday: int, start_min: int, end_min: int
) -> None:
    check(actor, "admin.edit")
    if not 0 <= weekday <= 6 or not 0 <= start_min < end_min <= 24 * 60:
        raise ValueError(_("a shift needs a weekday 0-6 and a start before its end"))
    session.add(DeskShift(username=username, weekday=weekday, start_min=start_min, end_min=end_min))
    audit.record(session, actor.username, "shift", None, username=username, weekday=weekday)


def delete_shift(session: Session, actor: Actor, shift_id: int) -> None:
    check(actor, "admin.edit")
    shift = session.get(DeskShift, shift_id)
    if shift is not None:
        session.delete(shift)
        audit.record(session, actor.username, "shift", None, deleted=shift_id)


def set_calendar(
    session: Session, actor: Actor, calendar: BusinessCalendar, brand: str | None = None
) -> None:
    """The desk's calendar, or with `brand` that brand's own one."""
    check(actor, "admin.edit")
    save_calendar(session, calendar, brand)
    audit.record(session, actor.username, "calendar", None, brand=brand, **calendar.to_json())


def reset_brand_calendar(session: Session, actor: Actor, brand: str) -> bool:
    """The brand works by the desk's calendar again."""
    check(actor, "admin.edit")
    gone = delete_brand_calendar(session, brand)
    if gone:
        audit.record(session, actor.username, "calendar", None, brand=brand, reset=True)
    return gone
