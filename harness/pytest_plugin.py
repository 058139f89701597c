"""pytest plugin: a local AWS fixture for tests, and the golden re-record flag."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from harness.world import inprocess  # noqa: F401 - registers the world's botocore hook before any session exists
from harness.world.core import World
from harness.world.local import local_aws
from harness.world.scenario import Scenario, load_scenario, parse_scenario


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--golden-update`: re-record goldens whose scenario changed instead of failing."""
    group = parser.getgroup("harness")
    group.addoption(
        "--golden-update",
        action="store_true",
        default=False,
        help="re-record goldens from the legacy (like syrupy's --snapshot-update)",
    )


def as_scenario(spec: Scenario | dict[str, Any] | str | Path) -> Scenario:
    """A Scenario from a Scenario, a plain dict (validated) or a YAML path."""
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, dict):
        return parse_scenario(spec, source="<test scenario>")
    return load_scenario(spec)


@pytest.fixture
def local_world() -> Iterator[Callable[[Scenario | dict[str, Any] | str | Path], World]]:
    """Factory fixture: `local_world(scenario)` builds the world and answers boto3 from it until the test ends."""
    with ExitStack() as stack:

        def build(spec: Scenario | dict[str, Any] | str | Path) -> World:
            """Build and activate the world for `spec`."""
            return stack.enter_context(local_aws(as_scenario(spec)))

        yield build
