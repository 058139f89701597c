"""A frozen clock for runs: every `datetime.now()` and `time.time()` answers the scenario's instant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

DEFAULT_INSTANT = "2026-01-15T12:00:00+00:00"


@contextmanager
def frozen_clock(instant: datetime | str) -> Iterator[datetime]:
    """Stop the clock at `instant` for the block (sleeps still take real time)."""
    import time_machine

    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    with time_machine.travel(moment, tick=False):
        yield moment
