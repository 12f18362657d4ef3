"""The headroom forecast: at the pace of the last days' holds and releases, the day a guarantee's available
balance runs out. Pure arithmetic on whole francs, no database, no clock: the reports show it
(``reporting``) and the daily sweep alerts on it (``guarantees.operations.sweeps``), so both import it from here.

The pace is the net draw per day over the window: what holds took minus what releases gave back, divided by
the window's days. A guarantee that gives back at least as much as it takes never runs out (``None``). Otherwise
it runs out after ``available / pace`` days, rounded down: on that day the next hold at the same pace no longer
fits. A guarantee with nothing available has run out today.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

WINDOW_DAYS = 30


@dataclass(frozen=True)
class Forecast:
    available: int
    held_in_window: int
    released_in_window: int
    window_days: int
    runs_out_on: datetime.date | None

    @property
    def net_per_day(self) -> int:
        """The net draw per day, whole francs rounded down (for display; the date uses exact arithmetic)."""
        return (self.held_in_window - self.released_in_window) // self.window_days

    def days_left(self, today: datetime.date) -> int | None:
        return None if self.runs_out_on is None else (self.runs_out_on - today).days


def headroom_forecast(*, available: int, held_in_window: int, released_in_window: int, today: datetime.date,
                      window_days: int = WINDOW_DAYS) -> Forecast:
    """When ``available`` runs out at the pace of ``held_in_window`` taken and ``released_in_window`` given back
    over the last ``window_days`` days (``today`` included)."""
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    net = held_in_window - released_in_window
    if available <= 0:
        runs_out = today
    elif net <= 0:
        runs_out = None
    else:
        # available / (net / window) days, in integers: no float ever touches an amount.
        runs_out = today + datetime.timedelta(days=(available * window_days) // net)
    return Forecast(available=max(available, 0), held_in_window=held_in_window,
                    released_in_window=released_in_window, window_days=window_days, runs_out_on=runs_out)
