"""The browser tests use the integration tests' real broker and worker fixtures; and the click that
opens a case from a table's row, shared by the desk's browser tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tests.integration.conftest import broker, start_worker

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

__all__ = ["broker", "click_first_row", "start_worker"]

FIRST_ROW_Y = 35 + 17  # the middle of a table's first row, below its 35 px header


def click_first_row(
    page: Page,
    opened: Locator,
    *,
    xs: Sequence[int] = (200,),
    attempts: int = 3,
    wait_ms: int = 15_000,
) -> None:
    """Click the first row of the page's first table until `opened` (the case's page) shows.

    The table (st.dataframe) is a canvas: the click is by position, `xs[attempt % len(xs)]` px from
    its left. On a loaded machine a click can be lost: it landed while Streamlit was still running
    the page, or before the grid had its rows. So each attempt waits for the first row (the grid
    keeps an accessible copy of its shown rows, a table inside the canvas), clicks it, and waits up
    to `wait_ms` for `opened`; up to `attempts` clicks, each on the grid only while the case is not
    shown yet (a late click must not land on the opened case). Fails as `opened` does otherwise."""
    from playwright.sync_api import expect

    grid = page.locator('[data-testid="stDataFrame"]').first
    first_row = grid.locator('tr[role="row"][aria-rowindex="2"]')  # row 1 is the header
    for attempt in range(attempts):
        if attempt:
            # the case may still be opening from the last click: then no other click
            expect(grid.or_(opened).first).to_be_visible(timeout=30_000)
            if opened.is_visible():
                return
        expect(grid).to_be_visible(timeout=30_000)
        expect(first_row).to_be_attached(timeout=30_000)
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + xs[attempt % len(xs)], box["y"] + FIRST_ROW_Y)
        try:
            expect(opened).to_be_visible(timeout=wait_ms)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise
