"""The thread page's tags: the thread's tags, with every tag in use offered and new ones typed in."""

import streamlit as st

from core.i18n import _
from desk.app_pages._resources import session_factory
from desk.services.auth import Actor, PermissionDenied
from desk.services.tags import all_tags, set_tags, thread_tags


def tags_panel(actor: Actor, thread_id: int) -> None:
    with session_factory()() as session:
        current = thread_tags(session, thread_id)
        known = all_tags(session)
    st.subheader(_("Tags"))
    if not actor.can("thread.tag"):
        st.text(", ".join(current) or _("no tags"))
        return
    with st.form(f"tags_form_{thread_id}"):
        chosen = st.multiselect(
            _("Tags"),
            [*current, *(tag for tag in known if tag not in current)],
            default=current,
            accept_new_options=True,
            placeholder=_("Choose a tag or type a new one"),
            key=f"tags_{thread_id}",
            label_visibility="collapsed",
        )
        if not st.form_submit_button(_("Save tags"), key=f"tags_save_{thread_id}"):
            return
    try:
        with session_factory()() as session:
            saved = set_tags(session, actor, thread_id, chosen)
            session.commit()
    except (ValueError, LookupError, PermissionDenied) as exc:
        st.error(str(exc))
        return
    st.session_state.pop(f"tags_{thread_id}", None)
    st.toast(_("Tags saved: {tags}").format(tags=", ".join(saved) or "—"))
    st.rerun()
