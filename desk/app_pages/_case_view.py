"""A case (thread) as the desk shows it: the whole conversation with negativity, clocks, author card,
reply composer, status, notes, compensation, duplicates and corrections. Drawn by the Thread page
and, in place, by whichever page a case was opened from (see `_session.open_case`).

Every text written by customers (and author names) is untrusted: shown with st.text, st.code or
st.dataframe only, never st.markdown.
"""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from core.db.models import LABELS
from core.db.models_desk import COMPENSATION_KINDS
from core.i18n import _, format_decimal
from core.settings import get_settings
from desk.app_pages._actions import apply_action
from desk.app_pages._format import format_left, when
from desk.app_pages._resources import session_factory
from desk.app_pages._session import THREAD_KEY, close_case, fragment_actor, require
from desk.app_pages._surveys import survey_panel, survey_policy
from desk.app_pages._tags_panel import tags_panel
from desk.services import labels, presence
from desk.services.auth import Actor, PermissionDenied
from desk.services.corrections import correct_label
from desk.services.replies import StaleThread, dispatch, retry_reply, send_reply
from desk.services.templates import list_templates, render
from desk.services.thread_view import (
    ThreadNotFound,
    ThreadSnapshot,
    author_card,
    case_number,
    clocks,
    compensations,
    desk_replies,
    get_thread,
    messages,
    notes,
    snapshot,
    status_update_overdue,
)
from desk.services.threads import (
    add_compensation,
    add_note,
    merge,
    merged_threads,
    set_status,
    suggest_duplicates,
    unmerge,
)

STATUS_CHOICES = ("open", "waiting", "resolved", "closed")


def _publish(reply: object) -> None:
    from core.bus.address import bootstrap_servers
    from core.bus.producer import publish_reply
    from schemas import Reply

    assert isinstance(reply, Reply)
    publish_reply(bootstrap_servers(get_settings()), reply)


def requested_thread() -> int | None:
    """The case asked for: the `thread` query parameter, else the one this session opened last."""
    raw = st.query_params.get("thread") or st.session_state.get(THREAD_KEY)
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _opened_key(thread_id: int) -> str:
    return f"md_opened_{thread_id}"


def _opened(thread_id: int) -> ThreadSnapshot:
    """The snapshot taken when the composer opened (first view of the thread, or after a reload)."""
    key = _opened_key(thread_id)
    if key not in st.session_state:
        with session_factory()() as session:
            st.session_state[key] = asdict(snapshot(session, thread_id))
    return ThreadSnapshot(**st.session_state[key])


def _reload(thread_id: int) -> None:
    st.session_state.pop(_opened_key(thread_id), None)


@st.fragment(run_every=timedelta(seconds=get_settings().desk_refresh_s))
def live_panel(thread_id: int) -> None:
    """Presence, clocks and the desk's replies with their sent / failed state, refreshed. The user
    is checked again on every refresh: a disabled user's open tab stops here."""
    actor = fragment_actor("thread.view")
    now = datetime.now(UTC)
    with session_factory()() as session:
        presence.heartbeat(session, thread_id, actor.username, now)
        session.commit()
        others = presence.other_viewers(session, thread_id, actor.username, now)
        thread, desk = get_thread(session, thread_id)
        states = clocks(thread, desk, now)
        overdue = status_update_overdue(thread, desk, now)
        replies = desk_replies(session, thread)
    # status and owner change while the page is open (a confirmed reply, a reassignment): shown here
    st.text(
        _(
            "{source} · brand {brand} · status {status} · owner {owner} · team {team}"
            " · negativity {negativity}"
        ).format(
            source=thread.source,
            brand=thread.brand or "-",
            status=labels.thread_status(thread.status),
            owner=thread.assigned_to or "-",
            team=(desk.team if desk else None) or "-",
            negativity=format_decimal(thread.max_negativity, 2),
        )
    )
    if others:
        st.warning(
            _("Also viewing this thread: {names}").format(names=", ".join(others)), icon=":material/group:"
        )
    if overdue:
        st.warning(_("Status update due: tell the customer where the case stands."), icon=":material/alarm:")
    cols = st.columns(len(states) or 1)
    for col, state in zip(cols, states, strict=False):
        left = (
            format_left(state.due_at - now) if state.due_at and state.state in ("running", "missed") else ""
        )
        col.metric(
            labels.clock(state.clock), labels.clock_state(state.state), left or None, delta_color="off"
        )
    if replies:
        st.subheader(_("Replies from the desk"))
    for r in replies:
        outcome = r.url or r.error or ""
        line = _("reply · {agent} · {when} · status: {status}").format(
            agent=r.agent, when=when(r.created_at), status=labels.reply_status(r.status)
        )
        st.text(f"{line}  {outcome}".rstrip())
        st.code(r.text, language=None, wrap_lines=True)
        can_retry = r.status == "failed" and actor.can("thread.reply")
        if can_retry and st.button(_("Send again"), key=f"retry_{r.reply_id}", icon=":material/refresh:"):
            _retry(actor, r.reply_id)


def _retry(actor: Actor, reply_id: str) -> None:
    try:
        with session_factory()() as session:
            reply = retry_reply(session, actor, reply_id)
            dispatch(session, reply, _publish, redeliver_after=_redeliver_after())
    except (ValueError, PermissionDenied) as exc:
        st.error(str(exc))
    else:
        st.toast(_("The reply is queued again."))


def _redeliver_after() -> timedelta:
    return timedelta(seconds=get_settings().reply_redeliver_s)


def conversation(thread_id: int) -> None:
    with session_factory()() as session:
        items = messages(session, thread_id)
    st.subheader(_("Conversation"))
    for m in items:
        who = _("BRAND") if m.is_brand else _("customer")
        st.text(
            _("{when} · {who} · {author} · negativity {negativity} ({label})").format(
                when=when(m.created_at),
                who=who,
                author=m.author,
                negativity=format_decimal(m.negativity, 2),
                label=labels.sentiment(m.label),
            )
        )
        st.code(m.text, language=None, wrap_lines=True)
    customer = [m for m in items if not m.is_brand]
    if len(customer) > 1:
        st.caption(_("Negativity trajectory (customer messages)"))
        time_title, negativity_title = _("Time"), _("Negativity")
        st.line_chart(
            pd.DataFrame(
                {
                    time_title: [m.created_at for m in customer],
                    negativity_title: [m.negativity for m in customer],
                }
            ),
            x=time_title,
            y=negativity_title,
        )


def author_panel(thread_id: int) -> None:
    with session_factory()() as session:
        thread, _desk_row = get_thread(session, thread_id)
        card = author_card(session, thread)
    st.subheader(_("Author"))
    if card is None:
        st.text(_("unknown"))
        return
    st.text(f"{card.name} {card.handle or ''}".strip())
    followers = card.followers if card.followers is not None else _("unknown")
    st.text(_("followers: {n}").format(n=followers))
    if card.earlier_threads:
        earlier = [
            (tid, source, labels.thread_status(status), first)
            for tid, source, status, first in card.earlier_threads
        ]
        st.dataframe(
            pd.DataFrame(earlier, columns=[_("Case"), _("Source"), _("Status"), _("First message")]),
            hide_index=True,
        )
    else:
        st.text(_("no earlier threads"))


def composer(actor: Actor, thread_id: int) -> None:
    st.subheader(_("Reply"))
    with session_factory()() as session:
        thread, _desk_row = get_thread(session, thread_id)
        card = author_card(session, thread)
        templates = {t.name: t.body for t in list_templates(session)}
    values = {
        "customer_name": card.name if card else None,
        "case_number": case_number(thread_id),
        "agent_name": actor.username,
        "brand": thread.brand,
    }
    no_template = _("(none)")
    names = [no_template, *templates]
    chosen = st.selectbox(_("Template"), names, key=f"template_{thread_id}")
    draft_key = f"draft_{thread_id}"
    if st.session_state.get(f"applied_{thread_id}") != chosen:
        st.session_state[f"applied_{thread_id}"] = chosen
        if chosen != no_template and chosen in templates:
            st.session_state[draft_key] = render(templates[chosen], values)
    if st.session_state.pop(f"clear_{thread_id}", False):
        st.session_state[draft_key] = ""
    text = st.text_area(_("Your reply"), key=draft_key, height=120)
    if not actor.can("thread.reply"):
        return
    if st.button(_("Send reply"), type="primary", key=f"send_{thread_id}"):
        try:
            with session_factory()() as session:
                reply = send_reply(session, actor, thread_id, text, _opened(thread_id))
                sent = dispatch(session, reply, _publish, redeliver_after=_redeliver_after())
        except StaleThread as stale:
            st.session_state[f"stale_{thread_id}"] = stale.changes
        except (ValueError, PermissionDenied) as exc:
            st.error(str(exc))
        else:
            st.session_state.pop(f"stale_{thread_id}", None)
            _reload(thread_id)
            if sent:
                st.session_state[f"sent_{thread_id}"] = _("Reply queued for sending.")
            else:
                st.session_state[f"sent_{thread_id}"] = _(
                    "Reply saved. The broker did not answer: it is handed over as soon as it does."
                )
            st.session_state[f"clear_{thread_id}"] = True
            st.rerun()
    changes = st.session_state.get(f"stale_{thread_id}")
    if changes:
        st.error(_("Reply refused: the thread changed since you opened the composer."))
        for change in changes:
            st.text(change)
        if st.button(_("Reload the thread and review"), key=f"reload_{thread_id}"):
            st.session_state.pop(f"stale_{thread_id}", None)
            _reload(thread_id)
            st.rerun()
    notice = st.session_state.pop(f"sent_{thread_id}", None)
    if notice:
        st.success(notice)


def actions(actor: Actor, thread_id: int) -> None:
    status_col, note_col = st.columns(2)
    with status_col.form(f"status_form_{thread_id}"):
        status = st.selectbox(_("Status"), STATUS_CHOICES, format_func=labels.thread_status)
        if st.form_submit_button(_("Set status")):
            apply_action(lambda s: set_status(s, actor, thread_id, status, surveys=survey_policy()))
    with note_col.form(f"note_form_{thread_id}", clear_on_submit=True):
        note = st.text_area(_("Internal note"), height=68)
        if st.form_submit_button(_("Add note")):
            apply_action(lambda s: add_note(s, actor, thread_id, note))
    with st.expander(_("Compensation")), st.form(f"comp_form_{thread_id}", clear_on_submit=True):
        kind = st.selectbox(_("Type"), COMPENSATION_KINDS, format_func=labels.compensation)
        value = st.number_input(_("Value"), min_value=0.0, step=100.0)
        code = st.text_input(_("Code"))
        if st.form_submit_button(_("Record compensation")):
            apply_action(lambda s: add_compensation(s, actor, thread_id, kind, float(value), code=code))
    with session_factory()() as session:
        shown_notes = notes(session, thread_id)
        given = compensations(session, thread_id)
    for n in shown_notes:
        st.text(
            _("note · {author} · {when}: {text}").format(
                author=n.author, when=when(n.created_at), text=n.text
            )
        )
    for c in given:
        st.text(
            _("compensation · {kind} {value} {code} · {by} · {when}").format(
                kind=labels.compensation(c.kind),
                value=f"{c.value:g}",
                code=c.code or "",
                by=c.given_by,
                when=when(c.created_at),
            )
        )


def duplicates(actor: Actor, thread_id: int) -> None:
    with session_factory()() as session:
        suggestions = suggest_duplicates(session, thread_id)
        merged = merged_threads(session, thread_id)
    title = _("Possible duplicates ({n}) and merged threads ({merged})").format(
        n=len(suggestions), merged=len(merged)
    )
    with st.expander(title):
        for s in suggestions:
            left, right = st.columns([4, 1])
            left.text(
                _("case {id} · {source} · {reason}: {text}").format(
                    id=s.thread_id, source=s.source, reason=s.reason, text=s.text[:160]
                )
            )
            if right.button(_("Merge here"), key=f"merge_{s.thread_id}"):
                apply_action(lambda db, dup=s.thread_id: merge(db, actor, thread_id, dup))
        for dup in merged:
            left, right = st.columns([4, 1])
            left.text(_("merged: case {id}").format(id=dup))
            if right.button(_("Unmerge"), key=f"unmerge_{dup}"):
                apply_action(lambda db, dup=dup: unmerge(db, actor, dup))


def corrections(actor: Actor, thread_id: int) -> None:
    if not actor.can("mention.correct"):
        return
    with session_factory()() as session:
        items = [m for m in messages(session, thread_id) if not m.is_brand]
    if not items:
        return
    with st.expander(_("Correct a sentiment label")), st.form(f"correct_form_{thread_id}"):
        chosen = st.selectbox(
            _("Message"),
            [m.mention_id for m in items],
            format_func=lambda i: next(m.text[:80] for m in items if m.mention_id == i),
        )
        label = st.selectbox(_("Correct label"), LABELS, format_func=labels.sentiment)
        if st.form_submit_button(_("Save correction")):
            apply_action(lambda s: correct_label(s, actor, int(chosen), label))


def show_case(actor: Actor, thread_id: int) -> None:
    """The whole case, or a clear message when there is no such case."""
    try:
        with session_factory()() as session:
            get_thread(session, thread_id)  # raises ThreadNotFound
    except ThreadNotFound:
        st.error(_("No case {id}.").format(id=thread_id))
        return
    st.header(_("Case {number}").format(number=case_number(thread_id)))
    _opened(thread_id)
    # The self-refreshing panel is drawn last, into a slot at the top: a fragment rerun that fires
    # while the full page is still running would otherwise cut off whatever comes after it.
    live_slot = st.container()
    main, side = st.columns([2, 1])
    with main:
        conversation(thread_id)
        composer(actor, thread_id)
        actions(actor, thread_id)
    with side:
        author_panel(thread_id)
        tags_panel(actor, thread_id)
        duplicates(actor, thread_id)
        corrections(actor, thread_id)
        survey_panel(actor, thread_id)
    with live_slot:
        live_panel(thread_id)


def show_in_place(thread_id: int) -> None:
    """The case drawn on the page it was opened from, under a button back to that page."""
    if st.button(_("Back"), icon=":material/arrow_back:", key="md_case_back"):
        close_case()
        st.rerun()
    show_case(require("thread.view"), thread_id)
