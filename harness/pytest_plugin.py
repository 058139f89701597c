"""pytest plugin: a local AWS fixture for tests, and the golden re-record flag."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from harness.botocore_cache import share_botocore_loader
from harness.world import inprocess  # noqa: F401 - registers the world's botocore hook before any session exists
from harness.world.core import World
from harness.world.local import local_aws
from harness.world.scenario import Scenario, load_scenario, parse_scenario

share_botocore_loader()


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
def golden_update(request: pytest.FixtureRequest) -> bool:
    """Whether this run re-records goldens (`--golden-update`) instead of failing on stale ones."""
    return bool(request.config.getoption("--golden-update"))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Report goldens recorded on the local AWS whose scenario file is gone (live recordings are fine)."""
    from harness.golden import GoldenError, read_golden
    from harness.golden_set import orphan_goldens

    orphans = []
    for path in orphan_goldens():
        try:
            source = read_golden(path).header["recorded_from"].get("source")
        except GoldenError:
            source = "unreadable"
        if source != "live":
            orphans.append(path.name)
    if orphans:
        terminalreporter.write_sep("-", "goldens without a scenario")
        for name in orphans:
            terminalreporter.write_line(
                f"{name}: no scenario under scenarios/ records it; delete it or restore its scenario"
            )


@pytest.fixture
def local_world() -> Iterator[Callable[[Scenario | dict[str, Any] | str | Path], World]]:
    """Factory fixture: `local_world(scenario)` builds the world and answers boto3 from it until the test ends."""
    with ExitStack() as stack:

        def build(spec: Scenario | dict[str, Any] | str | Path) -> World:
            """Build and activate the world for `spec`."""
            return stack.enter_context(local_aws(as_scenario(spec)))

        yield build
