"""The emulator's clock: what every time-based behaviour reads (the timestamps it stamps on what it
makes, when delay-mode operations are due, when IAM tokens expire, when calls were recorded).

``Clock()`` follows the system time; ``Clock(start)`` stands still at ``start`` (a datetime, or
nanoseconds since the epoch) until moved. Either moves forward with ``advance``: a test of a
delay-mode operation, a token's expiry or an image's age then needs no sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from emulator.api.values import check_timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_ADVANCE_SECONDS = 100 * 365 * 24 * 3600  # one step of at most a century: beyond it, a typo


class Clock:
    """A clock that moves only forward. Thread-safe."""

    def __init__(self, start: datetime | int | None = None):
        self._lock = threading.Lock()
        self._frozen = start is not None
        self._offset_ns = 0  # what advance() added (to the system time, or to ``start``)
        self._start_ns = _within_range(_ns(start)) if start is not None else 0

    @property
    def frozen(self) -> bool:
        """Whether it stands still between advances (it was given a start)."""
        return self._frozen

    def now_ns(self) -> int:
        """Now, in whole milliseconds since the epoch (production's timestamps have millisecond precision)."""
        base = self._start_ns if self._frozen else time.time_ns()
        return (base + self._offset_ns) // 1_000_000 * 1_000_000

    def advance(self, seconds: float) -> int:
        """Move the clock ``seconds`` forward (ValueError for a negative, infinite or huge step);
        returns the new now."""
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not 0 <= seconds <= MAX_ADVANCE_SECONDS
        ):
            raise ValueError(f"seconds: must be a number from 0 to {MAX_ADVANCE_SECONDS}, got {seconds!r}")
        with self._lock:
            offset = self._offset_ns + round(seconds * 1_000_000_000)
            base = self._start_ns if self._frozen else time.time_ns()
            _within_range(base + offset)  # a move past what a timestamp can carry changes nothing
            self._offset_ns = offset
        return Clock.now_ns(self)

    def rewind(self) -> None:
        """Undo every advance: the clock reads as it would had it never been moved (a reset of the
        emulator, which keeps nothing that remembers time, does this)."""
        with self._lock:
            self._offset_ns = 0


def _within_range(ns: int) -> int:
    """``ns`` if a google.protobuf.Timestamp can carry it (years 1 to 9999); ValueError otherwise."""
    try:
        return check_timestamp(ns, "clock")
    except ValueError:
        raise ValueError("clock: the time must stay within years 1 to 9999 (what a timestamp carries)") from None


def _ns(start: datetime | int) -> int:
    if isinstance(start, datetime):
        if start.tzinfo is None:
            raise ValueError("clock: a start time needs a time zone (e.g. datetime(..., tzinfo=timezone.utc))")
        return (start - _EPOCH) // timedelta(microseconds=1) * 1000
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ValueError(f"clock: a start time is a datetime or nanoseconds since the epoch, got {start!r}")
    return start
