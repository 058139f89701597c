"""Fixtures of the unit tests: a function-scoped local AWS with the inventory sync module imported fresh inside it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.unit.support import SyncWorld, open_sync_world


@pytest.fixture
def sync_world() -> Iterator[Callable[[dict[str, Any]], SyncWorld]]:
    """Factory fixture: `sync_world(scenario_dict)` activates a world and returns it with a fresh sync module."""
    with ExitStack() as stack:

        def build(spec: dict[str, Any]) -> SyncWorld:
            """Activate the world for `spec` until the test ends."""
            return stack.enter_context(open_sync_world(spec))

        yield build
