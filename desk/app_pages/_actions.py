"""Running one desk action from a page: commit it and rerun, or show why it was refused."""

from collections.abc import Callable

import streamlit as st

from desk.app_pages._resources import session_factory
from desk.services.auth import PermissionDenied


def apply_action(action: Callable[..., object], done: str | None = None) -> None:
    """Run `action(session)` in a transaction; on success say `done` (if given) and rerun the
    page, on a refusal show its reason."""
    try:
        with session_factory()() as session:
            action(session)
            session.commit()
    except (ValueError, LookupError, PermissionDenied) as exc:
        st.error(str(exc))
        return
    if done:
        st.toast(done)
    st.rerun()
