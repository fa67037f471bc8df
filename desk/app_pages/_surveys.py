"""The survey parts of the queue and thread pages: follow-ups of low scores and answers to score by
hand (queue), the case's surveys with the manual scoring form, the follow-up's Done button and
"do not ask this author" (thread). UI only: the work is in desk.services.survey_*.

Customer text is shown with st.text / st.dataframe only.
"""

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from core.db.models import Mention
from core.i18n import N_, _, _n
from core.settings import get_settings
from desk.app_pages._actions import apply_action
from desk.app_pages._format import when
from desk.app_pages._resources import session_factory
from desk.services import labels
from desk.services.auth import Actor
from desk.services.survey_followups import mark_done, open_followups, thread_followups
from desk.services.survey_intake import score_by_hand, to_score
from desk.services.surveys import SurveyPolicy, author_opted_out, load_policy, opt_out, thread_surveys

FOLLOWUPS_HEADER = N_("Follow-ups")
FOLLOWUPS_TABLE = "followups_table"
SURVEY_HEADER = N_("Satisfaction survey")


def survey_policy() -> SurveyPolicy:
    """The brands config's survey modes and the survey settings, read when a case is resolved."""
    return load_policy(get_settings())


def _score(csat: int | None, nps: int | None) -> str:
    parts = ([f"CSAT {csat}"] if csat is not None else []) + ([f"NPS {nps}"] if nps is not None else [])
    return ", ".join(parts)


def followups_section(actor: Actor) -> None:
    """Low scores to follow up today (an agent's own and managed ones; everyone's for managers and up)
    and answers the parser could not read."""
    now = datetime.now(UTC)
    mine = None if actor.can("thread.assign") else actor.username
    with session_factory()() as session:
        tasks = open_followups(session, now, mine)
        unread = to_score(session)
    if not tasks and not unread:
        return
    st.subheader(_(FOLLOWUPS_HEADER))
    overdue = _("overdue") + " · "
    if tasks:
        st.caption(
            _n(
                "{n} low survey score to follow up (due the same business day).",
                "{n} low survey scores to follow up (due the same business day).",
                len(tasks),
            )
        )
        st.dataframe(
            pd.DataFrame(
                {
                    _("Case"): [t.thread_id for t in tasks],
                    _("Score"): [_score(t.csat, t.nps) for t in tasks],
                    _("Owner"): [t.owner or "" for t in tasks],
                    _("Manager"): [t.manager or "" for t in tasks],
                    _("Due"): [(overdue if t.overdue else "") + when(t.due_at) for t in tasks],
                    _("Brand"): [t.brand or "" for t in tasks],
                    _("Source"): [t.source for t in tasks],
                }
            ),
            hide_index=True,
            key=FOLLOWUPS_TABLE,
        )
    if unread:
        st.caption(
            _n(
                "{n} survey answer to score by hand (cases {cases}): open the case.",
                "{n} survey answers to score by hand (cases {cases}): open the case.",
                len(unread),
                cases=", ".join(str(s.thread_id) for s in unread[:20]),
            )
        )


def survey_panel(actor: Actor, thread_id: int) -> None:
    """The case's surveys: status, score and who read it; the scoring form; follow-ups; opt-out."""
    with session_factory()() as session:
        surveys = thread_surveys(session, thread_id)
        tasks = thread_followups(session, thread_id)
        excluded = author_opted_out(session, thread_id)
        answers = {
            s.id: m.text
            for s in surveys
            if s.answer_mention_id is not None and (m := session.get(Mention, s.answer_mention_id))
        }
    st.subheader(_(SURVEY_HEADER))
    for s in surveys:
        read = ""
        if s.read_by:
            read = (
                " · "
                + _("read by {who}").format(who=s.read_by)
                + (f" ({s.scored_by})" if s.scored_by else "")
            )
        line = _("cycle {cycle} · {kind} · asked {when} · {status}").format(
            cycle=s.cycle, kind=s.kind, when=when(s.asked_at), status=labels.survey_status(s.status)
        )
        score = _score(s.csat, s.nps)
        st.text(f"{line}{' · ' + score if score else ''}{read}")
        if s.id in answers:
            st.text(_("answer: {text}").format(text=answers[s.id][:300]))
        if s.status == "unreadable" and actor.can("thread.reply"):
            with st.form(f"survey_score_{s.id}"):
                csat = (
                    st.selectbox("CSAT", [None, 1, 2, 3, 4, 5], key=f"survey_csat_{s.id}")
                    if s.kind in ("csat", "both")
                    else None
                )
                nps = (
                    st.selectbox("NPS", [None, *range(11)], key=f"survey_nps_{s.id}")
                    if s.kind in ("nps", "both")
                    else None
                )
                if st.form_submit_button(_("Save score")):
                    apply_action(
                        lambda db, sid=s.id, c=csat, n=nps: score_by_hand(
                            db, actor, sid, csat=c, nps=n, now=datetime.now(UTC)
                        )
                    )
    for t in tasks:
        if t.done_at is not None:
            st.text(_("follow-up done by {who} · {when}").format(who=t.done_by, when=when(t.done_at)))
            continue
        st.warning(
            _("Low score: follow up by {when} (owner {owner}, manager {manager})").format(
                when=when(t.due_at), owner=t.owner or "-", manager=t.manager or "-"
            )
        )
        if st.button(_("Follow-up done"), key=f"followup_done_{t.id}"):
            apply_action(lambda db, tid=t.id: mark_done(db, actor, tid, datetime.now(UTC)))
    if excluded:
        st.caption(_("This author is not asked for surveys."))
    elif st.button(_("Do not survey this author"), key=f"survey_opt_out_{thread_id}"):
        apply_action(lambda db: opt_out(db, actor, thread_id, datetime.now(UTC)))
