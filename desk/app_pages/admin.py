"""The admin page: users, teams, routing rules, shifts, reply templates and the business calendar."""

from collections.abc import Callable
from datetime import date, time

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.db.models_desk import ROLES, RoutingRule
from desk.app_pages._resources import session_factory
from desk.app_pages._session import require
from desk.services import admin
from desk.services.auth import AuthError, PermissionDenied, list_users
from desk.services.calendar_store import load_calendar
from desk.services.clocks import BusinessCalendar
from desk.services.templates import VARIABLES, delete_template, list_templates, save_template
from desk.services.threads import ALL_BRANDS, compensation_limits, set_compensation_limit

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


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
st.header("Admin")
users_tab, rules_tab, shifts_tab, templates_tab, calendar_tab, limits_tab = st.tabs(
    ["Users", "Teams and rules", "Shifts", "Templates", "Calendar", "Compensation limits"]
)

with users_tab:
    with st.form("add_user", clear_on_submit=True):
        st.write("Add a user")
        c1, c2, c3 = st.columns(3)
        username = c1.text_input("User name")
        password = c1.text_input("Password", type="password")
        role = c2.selectbox("Role", ROLES)
        team = c2.text_input("Team")
        cap = c3.number_input("Cap (open threads)", min_value=0, value=20, step=1)
        if st.form_submit_button("Add user"):
            _apply(
                lambda s: admin.create_user(
                    s, actor, username, password, role, team=team.strip() or None, cap=int(cap)
                ),
                f"User {username} added.",
            )
    with session_factory()() as session:
        users = list_users(session)
    st.dataframe(
        pd.DataFrame(
            {
                "User": [u.username for u in users],
                "Role": [u.role for u in users],
                "Team": [u.team or "" for u in users],
                "Cap": [u.cap for u in users],
                "Active": [u.active for u in users],
            }
        ),
        hide_index=True,
    )
    with st.form("toggle_user"):
        who = st.selectbox("User", [u.username for u in users])
        active = st.toggle("Active", value=True)
        if st.form_submit_button("Save state") and who:
            _apply(
                lambda s: admin.set_user_active(s, actor, who, active),
                f"{who} is {'active' if active else 'disabled'}.",
            )
    with st.form("reset_password", clear_on_submit=True):
        st.write("Reset a password (the user must choose their own at their next sign-in)")
        reset_who = st.selectbox("User", [u.username for u in users], key="reset_who")
        temporary = st.text_input("Temporary password", type="password", key="reset_password")
        if st.form_submit_button("Reset password") and reset_who:
            _apply(
                lambda s: admin.reset_password(s, actor, reset_who, temporary),
                f"Password of {reset_who} reset.",
            )

with rules_tab:
    with st.form("add_rule", clear_on_submit=True):
        st.write("Add a routing rule (empty fields match anything; lists are comma-separated)")
        c1, c2, c3 = st.columns(3)
        position = c1.number_input("Position", min_value=0, value=100, step=1)
        rule_team = c1.text_input("Team")
        source = c2.text_input("Source")
        brand = c2.text_input("Brand")
        lang = c2.text_input("Language")
        topic = c3.text_input("Topic")
        keywords = c3.text_input("Keywords")
        vips = c3.text_input("VIP authors")
        if st.form_submit_button("Add rule"):
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
            _apply(lambda s: admin.add_rule(s, actor, rule), "Rule added.")
    with session_factory()() as session:
        rules = admin.rules(session)
        team_names = admin.teams(session)
    st.text("Teams: " + (", ".join(team_names) or "none"))
    if rules:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Id": r.id,
                        "Position": r.position,
                        "Team": r.team,
                        "Source": r.source or "",
                        "Brand": r.brand or "",
                        "Language": r.lang or "",
                        "Topic": r.topic or "",
                        "Keywords": r.keywords or "",
                        "VIP authors": r.vip_authors or "",
                    }
                    for r in rules
                ]
            ),
            hide_index=True,
        )
        drop = st.selectbox("Rule to delete", [r.id for r in rules])
        if st.button("Delete rule") and drop is not None:
            _apply(lambda s: admin.delete_rule(s, actor, int(drop)), "Rule deleted.")

with shifts_tab:
    with st.form("add_shift", clear_on_submit=True):
        c1, c2, c3, c4 = st.columns(4)
        shift_user = c1.selectbox("Agent", [u.username for u in users if u.role == "agent"])
        weekday = c2.selectbox("Day", range(7), format_func=lambda d: WEEKDAYS[d])
        start = c3.time_input("From", time(9, 0))
        end = c4.time_input("To", time(18, 0))
        if st.form_submit_button("Add shift") and shift_user:
            _apply(
                lambda s: admin.add_shift(
                    s,
                    actor,
                    shift_user,
                    weekday=int(weekday),
                    start_min=_minutes(start),
                    end_min=_minutes(end),
                ),
                "Shift added.",
            )
    with session_factory()() as session:
        shifts = admin.shifts(session)
    st.caption("Agents without any shift count as always on shift.")
    if shifts:
        st.dataframe(
            pd.DataFrame(
                {
                    "Id": [s.id for s in shifts],
                    "Agent": [s.username for s in shifts],
                    "Day": [WEEKDAYS[s.weekday] for s in shifts],
                    "From": [f"{s.start_min // 60:02d}:{s.start_min % 60:02d}" for s in shifts],
                    "To": [f"{s.end_min // 60:02d}:{s.end_min % 60:02d}" for s in shifts],
                }
            ),
            hide_index=True,
        )

with templates_tab:
    st.caption("Variables: " + ", ".join("{" + v + "}" for v in VARIABLES))
    with st.form("save_template", clear_on_submit=True):
        name = st.text_input("Template name")
        body = st.text_area("Text")
        if st.form_submit_button("Save template"):
            _apply(lambda s: save_template(s, actor, name, body), f"Template {name} saved.")
    with session_factory()() as session:
        templates = list_templates(session)
    for t in templates:
        st.text(f"{t.name}: {t.body}")
    if templates:
        gone = st.selectbox("Template to delete", [t.name for t in templates])
        if st.button("Delete template") and gone:
            _apply(lambda s: delete_template(s, actor, gone), "Template deleted.")

with calendar_tab:
    with session_factory()() as session:
        cal = load_calendar(session)
    with st.form("calendar"):
        tz = st.text_input("Time zone", cal.tz)
        days = st.multiselect(
            "Working days", range(7), default=list(cal.workdays), format_func=lambda d: WEEKDAYS[d]
        )
        c1, c2, c3, c4 = st.columns(4)
        day_start = c1.time_input("Day starts", cal.day_start)
        day_end = c2.time_input("Day ends", cal.day_end)
        cutoff = c3.time_input("Cut-off", cal.cutoff)
        morning = c4.time_input("Next-morning deadline", cal.morning_due)
        update_h = st.number_input(
            "Status update every (business hours)", min_value=0.5, value=cal.update_every_h
        )
        res_days = st.number_input(
            "Resolution within (business days)", min_value=1, value=cal.resolution_days
        )
        holidays = st.text_area(
            "Holidays (YYYY-MM-DD, one a line)", "\n".join(sorted(d.isoformat() for d in cal.holidays))
        )
        if st.form_submit_button("Save calendar"):
            try:
                new_calendar = BusinessCalendar(
                    tz=tz.strip(),
                    workdays=tuple(sorted(days)),
                    day_start=day_start,
                    day_end=day_end,
                    cutoff=cutoff,
                    morning_due=morning,
                    holidays=frozenset(
                        date.fromisoformat(x.strip()) for x in holidays.splitlines() if x.strip()
                    ),
                    update_every_h=float(update_h),
                    resolution_days=int(res_days),
                )
            except (ValueError, KeyError) as exc:
                st.error(f"Not a valid calendar: {exc}")
            else:
                _apply(lambda s: admin.set_calendar(s, actor, new_calendar), "Calendar saved.")

with limits_tab:
    st.caption(
        f"The largest value one compensation may have, per brand; {ALL_BRANDS} applies to every brand "
        "without its own limit and to threads without a brand. A larger one is refused with the limit."
    )
    with session_factory()() as session:
        limits = compensation_limits(session)
    st.dataframe(
        pd.DataFrame({"Brand": list(limits), "Limit": list(limits.values())}),
        hide_index=True,
    )
    with st.form("compensation_limit", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        limit_brand = c1.text_input("Brand", placeholder=ALL_BRANDS, key="limit_brand")
        limit_value = c2.number_input("Limit", min_value=0.0, step=100.0, key="limit_value")
        remove_limit = c3.toggle("Remove the limit", key="limit_remove")
        if st.form_submit_button("Save limit"):
            _apply(
                lambda s: set_compensation_limit(
                    s, actor, limit_brand, None if remove_limit else float(limit_value)
                ),
                f"Compensation limit of {limit_brand.strip()} {'removed' if remove_limit else 'saved'}.",
            )
