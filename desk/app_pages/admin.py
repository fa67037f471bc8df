"""The admin page: users, teams, routing rules, shifts, reply templates and the business calendar."""

from collections.abc import Callable
from datetime import time

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.db.models_desk import ROLES, RoutingRule
from core.i18n import N_, _, _p
from desk.app_pages._resources import session_factory
from desk.app_pages._session import require
from desk.services import admin, labels
from desk.services.auth import AuthError, PermissionDenied, list_users
from desk.services.calendar_edit import (
    breaks_text,
    calendar_brands,
    days_text,
    edited_calendar,
    official_rows,
)
from desk.services.calendar_store import brand_calendar_names, load_calendar
from desk.services.production_calendar import prefill_years
from desk.services.templates import VARIABLES, delete_template, list_templates, save_template
from desk.services.threads import ALL_BRANDS, compensation_limits, set_compensation_limit
from desk.services.user_prefs import set_contacts

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def _weekday(day: int) -> str:
    return _(WEEKDAYS[day])


DESK_CALENDAR = ""


def _apply(action: Callable[[Session], object], done: str) -> None:
    try:
        with session_factory()() as session:
            action(session)
            session.commit()
    except (ValueError, AuthError, PermissionDenied) as exc:
        st.error(str(exc))
        return
    st.success(done)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


actor = require("admin.edit")
st.header(_("Admin"))
users_tab, rules_tab, shifts_tab, templates_tab, calendar_tab, limits_tab = st.tabs(
    [_("Users"), _("Teams and rules"), _("Shifts"), _("Templates"), _("Calendar"), _("Compensation limits")]
)

with users_tab:
    with st.form("add_user", clear_on_submit=True):
        st.write(_("Add a user"))
        c1, c2, c3 = st.columns(3)
        username = c1.text_input(_("User name"))
        password = c1.text_input(_("Password"), type="password")
        role = c2.selectbox(_("Role"), ROLES, format_func=labels.role)
        team = c2.text_input(_("Team"))
        cap = c3.number_input(_("Cap (open threads)"), min_value=0, value=20, step=1)
        if st.form_submit_button(_("Add user")):
            _apply(
                lambda s: admin.create_user(
                    s, actor, username, password, role, team=team.strip() or None, cap=int(cap)
                ),
                _("User {name} added.").format(name=username),
            )
    with session_factory()() as session:
        users = list_users(session)
    st.dataframe(
        pd.DataFrame(
            {
                _("User"): [u.username for u in users],
                _("Role"): [labels.role(u.role) for u in users],
                _("Team"): [u.team or "" for u in users],
                _("Cap"): [u.cap for u in users],
                _("Active"): [u.active for u in users],
            }
        ),
        hide_index=True,
    )
    with st.form("toggle_user"):
        who = st.selectbox(_("User"), [u.username for u in users])
        active = st.toggle(_("Active"), value=True)
        if st.form_submit_button(_("Save state")) and who:
            _apply(
                lambda s: admin.set_user_active(s, actor, who, active),
                (_("{name} is active.") if active else _("{name} is disabled.")).format(name=who),
            )
    with st.form("reset_password", clear_on_submit=True):
        st.write(_("Reset a password (the user must choose their own at their next sign-in)"))
        reset_who = st.selectbox(_("User"), [u.username for u in users], key="reset_who")
        temporary = st.text_input(_("Temporary password"), type="password", key="reset_password")
        if st.form_submit_button(_("Reset password")) and reset_who:
            _apply(
                lambda s: admin.reset_password(s, actor, reset_who, temporary),
                _("Password of {name} reset.").format(name=reset_who),
            )
    with st.form("notice_contacts", clear_on_submit=True):
        st.write(_("Where a user's notices go besides the desk (empty: nowhere)"))
        contact_who = st.selectbox(_("User"), [u.username for u in users], key="contact_who")
        c1, c2 = st.columns(2)
        contact_email = c1.text_input(_("E-mail"), key="contact_email")
        contact_chat = c2.text_input(_("Telegram chat id"), key="contact_chat")
        if st.form_submit_button(_("Save contacts")) and contact_who:
            _apply(
                lambda s: set_contacts(
                    s, actor, contact_who, email=contact_email, telegram_chat_id=contact_chat
                ),
                _("Contacts of {name} saved.").format(name=contact_who),
            )

with rules_tab:
    with st.form("add_rule", clear_on_submit=True):
        st.write(_("Add a routing rule (empty fields match anything; lists are comma-separated)"))
        c1, c2, c3 = st.columns(3)
        position = c1.number_input(_("Position"), min_value=0, value=100, step=1)
        rule_team = c1.text_input(_("Team"))
        source = c2.text_input(_("Source"))
        brand = c2.text_input(_("Brand"))
        lang = c2.text_input(_("Language"))
        topic = c3.text_input(_("Topic"))
        keywords = c3.text_input(_("Keywords"))
        vips = c3.text_input(_("VIP authors"))
        if st.form_submit_button(_("Add rule")):
            rule = RoutingRule(
                position=int(position),
                team=rule_team.strip(),
                source=source.strip() or None,
                brand=brand.strip() or None,
                lang=lang.strip() or None,
                topic=topic.strip() or None,
                keywords=keywords.strip() or None,
                vip_authors=vips.strip() or None,
                active=True,
            )
            _apply(lambda s: admin.add_rule(s, actor, rule), _("Rule added."))
    with session_factory()() as session:
        rules = admin.rules(session)
        team_names = admin.teams(session)
    st.text(_("Teams: {teams}").format(teams=", ".join(team_names) or _("none")))
    if rules:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        _("Id"): r.id,
                        _("Position"): r.position,
                        _("Team"): r.team,
                        _("Source"): r.source or "",
                        _("Brand"): r.brand or "",
                        _("Language"): r.lang or "",
                        _("Topic"): r.topic or "",
                        _("Keywords"): r.keywords or "",
                        _("VIP authors"): r.vip_authors or "",
                    }
                    for r in rules
                ]
            ),
            hide_index=True,
        )
        drop = st.selectbox(_("Rule to delete"), [r.id for r in rules])
        if st.button(_("Delete rule")) and drop is not None:
            _apply(lambda s: admin.delete_rule(s, actor, int(drop)), _("Rule deleted."))

with shifts_tab:
    with st.form("add_shift", clear_on_submit=True):
        c1, c2, c3, c4 = st.columns(4)
        shift_user = c1.selectbox(_("Agent"), [u.username for u in users if u.role == "agent"])
        weekday = c2.selectbox(_("Day"), range(7), format_func=_weekday)
        start = c3.time_input(_p("time", "From"), time(9, 0))
        end = c4.time_input(_p("time", "To"), time(18, 0))
        if st.form_submit_button(_("Add shift")) and shift_user:
            _apply(
                lambda s: admin.add_shift(
                    s,
                    actor,
                    shift_user,
                    weekday=int(weekday),
                    start_min=_minutes(start),
                    end_min=_minutes(end),
                ),
                _("Shift added."),
            )
    with session_factory()() as session:
        shifts = admin.shifts(session)
    st.caption(_("Agents without any shift count as always on shift."))
    if shifts:
        st.dataframe(
            pd.DataFrame(
                {
                    _("Id"): [s.id for s in shifts],
                    _("Agent"): [s.username for s in shifts],
                    _("Day"): [_weekday(s.weekday) for s in shifts],
                    _p("time", "From"): [f"{s.start_min // 60:02d}:{s.start_min % 60:02d}" for s in shifts],
                    _p("time", "To"): [f"{s.end_min // 60:02d}:{s.end_min % 60:02d}" for s in shifts],
                }
            ),
            hide_index=True,
        )

with templates_tab:
    st.caption(_("Variables: {names}").format(names=", ".join("{" + v + "}" for v in VARIABLES)))
    with st.form("save_template", clear_on_submit=True):
        name = st.text_input(_("Template name"))
        body = st.text_area(_("Text"))
        if st.form_submit_button(_("Save template")):
            _apply(
                lambda s: save_template(s, actor, name, body), _("Template {name} saved.").format(name=name)
            )
    with session_factory()() as session:
        templates = list_templates(session)
    for t in templates:
        st.text(f"{t.name}: {t.body}")
    if templates:
        gone = st.selectbox(_("Template to delete"), [t.name for t in templates])
        if st.button(_("Delete template")) and gone:
            _apply(lambda s: delete_template(s, actor, gone), _("Template deleted."))

with calendar_tab:
    with session_factory()() as session:
        brands = calendar_brands(session)
        own = {b.lower() for b in brand_calendar_names(session)}
    subject = st.selectbox(
        _("Calendar of"),
        [DESK_CALENDAR, *brands],
        format_func=lambda b: (
            _("The desk (every brand without its own)")
            if b == DESK_CALENDAR
            else (
                _("{brand}: its own calendar") if b.lower() in own else _("{brand}: the desk calendar")
            ).format(brand=b)
        ),
        key="calendar_of",
    )
    cal_brand: str | None = None if subject == DESK_CALENDAR else str(subject)
    with session_factory()() as session:
        cal = load_calendar(session, cal_brand)  # a brand without its own starts from the desk's
    years = prefill_years()
    with st.form("calendar"):
        c1, c2 = st.columns(2)
        tz = c1.text_input(_("Time zone"), cal.tz)
        country = c2.text_input(
            _("Production calendar (country code; empty: none)"),
            cal.country or "",
            help=_("Days off, moved days off and working weekend days from the `holidays` package."),
        )
        days = st.multiselect(_("Working days"), range(7), default=list(cal.workdays), format_func=_weekday)
        c1, c2, c3, c4 = st.columns(4)
        day_start = c1.time_input(_("Day starts"), cal.day_start)
        day_end = c2.time_input(_("Day ends"), cal.day_end)
        cutoff = c3.time_input(_("Cut-off"), cal.cutoff)
        morning = c4.time_input(_("Next-morning deadline"), cal.morning_due)
        breaks = st.text_input(
            _("Breaks (HH:MM-HH:MM, comma-separated)"), breaks_text(cal), help=_("e.g. 13:00-14:00 for lunch")
        )
        update_h = st.number_input(
            _("Status update every (business hours)"), min_value=0.5, value=cal.update_every_h
        )
        res_days = st.number_input(
            _("Resolution within (business days)"), min_value=1, value=cal.resolution_days
        )
        c1, c2 = st.columns(2)
        days_off = c1.text_area(_("Extra days off (YYYY-MM-DD, one a line)"), days_text(cal.holidays))
        working = c2.text_area(_("Extra working days (YYYY-MM-DD, one a line)"), days_text(cal.working_days))
        if st.form_submit_button(_("Save calendar")):
            try:
                new_calendar = edited_calendar(
                    cal, tz, country, days, day_start, day_end, breaks, cutoff, morning,
                    float(update_h), int(res_days), days_off, working,
                )  # fmt: skip
            except (ValueError, KeyError) as exc:
                st.error(_("Not a valid calendar: {reason}").format(reason=exc))
            else:
                _apply(lambda s: admin.set_calendar(s, actor, new_calendar, cal_brand), _("Calendar saved."))
    own_brand = cal_brand if cal_brand is not None and cal_brand.lower() in own else None
    if own_brand is not None and st.button(_("Use the desk calendar"), key="calendar_reset"):
        reset_brand = own_brand
        _apply(
            lambda s: admin.reset_brand_calendar(s, actor, reset_brand),
            _("{brand} works by the desk calendar.").format(brand=reset_brand),
        )
    st.caption(
        _(
            "Production calendar {first}-{last}: days off and working days from the `holidays` "
            "package; the extra days above take precedence."
        ).format(first=years[0], last=years[-1])
    )
    st.dataframe(pd.DataFrame(official_rows(cal, years)), hide_index=True, key="calendar_official")

with limits_tab:
    st.caption(
        _(
            "The largest value one compensation may have, per brand; {all} applies to every brand "
            "without its own limit and to threads without a brand. A larger one is refused with the limit."
        ).format(all=ALL_BRANDS)
    )
    with session_factory()() as session:
        limits = compensation_limits(session)
    st.dataframe(
        pd.DataFrame({_("Brand"): list(limits), _("Limit"): list(limits.values())}),
        hide_index=True,
    )
    with st.form("compensation_limit", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        limit_brand = c1.text_input(_("Brand"), placeholder=ALL_BRANDS, key="limit_brand")
        limit_value = c2.number_input(_("Limit"), min_value=0.0, step=100.0, key="limit_value")
        remove_limit = c3.toggle(_("Remove the limit"), key="limit_remove")
        if st.form_submit_button(_("Save limit")):
            _apply(
                lambda s: set_compensation_limit(
                    s, actor, limit_brand, None if remove_limit else float(limit_value)
                ),
                (
                    _("Compensation limit of {brand} removed.")
                    if remove_limit
                    else _("Compensation limit of {brand} saved.")
                ).format(brand=limit_brand.strip()),
            )
