"""Tables of the calendar feature (see the migration of the same name): none.

The business calendars (the desk's and each brand's own) are JSON rows of `desk_settings`
(keys `calendar` and `calendar.brand:<brand>`, desk.services.calendar_store): a calendar is one
small document read whole, and the production calendar's days come from the `holidays` package at
load time, so no table of days is kept.
"""

from __future__ import annotations
