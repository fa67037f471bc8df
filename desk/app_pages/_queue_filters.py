"""The queue page's choice of threads: a saved view, the scope, the filters (tags among them), and
saving the current choice as a view of one's own or, for managers and admins, a shared one.

Choosing a saved view fills the widgets below it (in the selectbox's callback, which runs before
the page draws them), so the user sees, and can change, what the view holds.
"""

from collections.abc import Callable
from typing import cast

import streamlit as st

from core.db.models import LABELS, THREAD_STATUSES
from core.i18n import N_, _
from desk.app_pages._actions import apply_action
from desk.app_pages._resources import session_factory
from desk.services import labels
from desk.services.auth import Actor
from desk.services.saved_views import View, delete_view, save_view, visible_views
from desk.services.worklist import DEFAULT_STATUSES, SCOPES, QueueFilters, Scope

SCOPE_LABELS = {
    "mine": N_("My threads"),
    "team": N_("My team"),
    "unassigned": N_("Unassigned"),
    "all": N_("All"),
}
SCOPE_KEY = "queue_scope"
VIEW_KEY = "queue_view"
KEYS = {
    "sources": "qf_sources",
    "brands": "qf_brands",
    "langs": "qf_langs",
    "statuses": "qf_statuses",
    "min_negativity": "qf_negativity",
    "topic": "qf_topic",
    "owners": "qf_owners",
    "tags": "qf_tags",
}
_OPTION_LISTS = {
    "sources": "sources",
    "brands": "brands",
    "langs": "langs",
    "owners": "owners",
    "tags": "tags",
}


def _apply(views: dict[int, View], options: dict[str, list[str]]) -> None:
    """The selectbox's callback: the chosen view's scope and filters into the widgets' state."""
    view = views.get(cast(int, st.session_state.get(VIEW_KEY)))
    if view is None:
        return
    st.session_state[SCOPE_KEY] = view.scope
    f = view.filters
    allowed = {name: set(options.get(source, [])) for name, source in _OPTION_LISTS.items()}
    allowed["statuses"] = set(THREAD_STATUSES)
    for name, values in allowed.items():
        st.session_state[KEYS[name]] = [v for v in getattr(f, name) if v in values]
    st.session_state[KEYS["min_negativity"]] = f.min_negativity
    st.session_state[KEYS["topic"]] = f.topic or ""


def _choose_view(actor: Actor, options: dict[str, list[str]]) -> dict[int, View]:
    with session_factory()() as session:
        views = {view.id: view for view in visible_views(session, actor)}
    if st.session_state.get(VIEW_KEY) not in views:
        st.session_state.pop(VIEW_KEY, None)  # deleted meanwhile (by its owner, or an admin)
    if views:
        names = {vid: view.label_for(actor.username) for vid, view in views.items()}
        st.selectbox(
            _("Saved view"),
            list(views),
            index=None,
            format_func=names.__getitem__,
            placeholder=_("Choose a saved view"),
            key=VIEW_KEY,
            on_change=_apply,
            args=(views, options),
        )
    return views


def _names(label: Callable[[str], str]) -> Callable[[str], str]:
    """A format_func with the labels of this run's language (see `queue_filters`)."""
    return {code: label(code) for code in (*THREAD_STATUSES, *LABELS)}.__getitem__


def _filters(options: dict[str, list[str]]) -> QueueFilters:
    st.session_state.setdefault(KEYS["statuses"], list(DEFAULT_STATUSES))
    with st.expander(_("Filters")):
        left, middle, right = st.columns(3)
        sources = left.multiselect(_("Source"), options["sources"], key=KEYS["sources"])
        brands = left.multiselect(_("Brand"), options["brands"], key=KEYS["brands"])
        tags = left.multiselect(_("Tag"), options.get("tags", []), key=KEYS["tags"])
        langs = middle.multiselect(_("Language"), options["langs"], key=KEYS["langs"])
        statuses = middle.multiselect(
            _("Status"), list(THREAD_STATUSES), format_func=_names(labels.thread_status), key=KEYS["statuses"]
        )
        negativity = right.slider(_("Negativity at least"), 0.0, 1.0, step=0.05, key=KEYS["min_negativity"])
        topic = right.text_input(_("Topic"), key=KEYS["topic"])
        owners = right.multiselect(_("Owner"), options["owners"], key=KEYS["owners"])
    return QueueFilters(
        sources=tuple(sources),
        brands=tuple(brands),
        langs=tuple(langs),
        statuses=tuple(statuses),
        min_negativity=float(negativity),
        topic=topic.strip() or None,
        owners=tuple(owners),
        tags=tuple(tags),
    )


def _manage(actor: Actor, views: dict[int, View], scope: Scope, filters: QueueFilters) -> None:
    with st.expander(_("Save this view")):
        name = st.text_input(_("View name"), key="qv_name", max_chars=64)
        shared = actor.can("view.share") and st.checkbox(_("Shared with everyone"), key="qv_shared")
        if st.button(_("Save view"), key="qv_save"):
            done = _("View “{name}” saved.").format(name=name.strip())
            apply_action(lambda s: save_view(s, actor, name, scope, filters, shared=shared), done)
        chosen = views.get(cast(int, st.session_state.get(VIEW_KEY)))
        mine = chosen is not None and (chosen.owner == actor.username or actor.can("admin.edit"))
        label = _("Delete the view “{name}”").format(name=chosen.name) if chosen else ""
        if chosen is not None and mine and st.button(label, key="qv_delete"):
            st.session_state.pop(VIEW_KEY, None)
            apply_action(
                lambda s: delete_view(s, actor, chosen.id),
                _("View “{name}” deleted.").format(name=chosen.name),
            )


def queue_filters(actor: Actor, options: dict[str, list[str]]) -> tuple[Scope, QueueFilters]:
    """Draw the choice of threads; return the scope and filters chosen."""
    views = _choose_view(actor, options)
    st.session_state.setdefault(SCOPE_KEY, "all")
    # labels taken now: a format_func is also called outside the page run, in another language context
    shown = {code: _(label) for code, label in SCOPE_LABELS.items()}
    scope = st.radio(_("Show"), SCOPES, format_func=shown.__getitem__, horizontal=True, key=SCOPE_KEY)
    filters = _filters(options)
    _manage(actor, views, scope, filters)
    return scope, filters
