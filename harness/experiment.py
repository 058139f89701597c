"""Recording: a control run on the local AWS or live, into a cassette with a complete header.

Replaying lives in `replay_session` (it needs no local AWS, so shadow mode can run it inside the Lambda); its names
are re-exported here so callers find both sessions in one place.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from harness.approved.inventory_state import remember_scenario
from harness.cassette import Cassette
from harness.clock import frozen_clock
from harness.filters import AccountAnonymizer
from harness.golden import from_data, make_header, to_data
from harness.golden_set import legacy_fingerprint
from harness.impls import resolve_impl
from harness.interception import intercept
from harness.lambda_env import REPO_ROOT, cold_start
from harness.recorder import Recorder
from harness.replay_session import REPLAY_ENVIRONMENT, ReplayRun, check, replay
from harness.runner import call_capturing, run_scenario
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.scenario import Scenario

__all__ = [
    "REPLAY_ENVIRONMENT",
    "ReplayRun",
    "anonymize",
    "check",
    "record_live",
    "record_scenario",
    "replay",
]

# What a live recording keeps of the real environment.
LIVE_ENVIRONMENT_KEYS = (
    "SOURCE_SERVER_INVENTORY_TABLE",
    "TARGET_ACCOUNTS_TABLE",
    "DRS_REGION_STATUS_TABLE",
    "AWS_DEFAULT_REGION",
    "INVENTORY_SYNC_IMPL",
)


def record_scenario(scenario: Scenario, impl: str = "legacy", schedule: Schedule | None = None) -> Cassette:
    """Record `impl` on the scenario's local AWS into a cassette with a complete header."""
    schedule = schedule or Schedule("submission")
    remember_scenario(scenario)  # answers for approved divergences may need the world (harness/approved)
    report = run_scenario(scenario, impl, schedule, tables=False)
    header = make_header(
        scenario={"name": scenario.name, "file": _relative(scenario.source), "content_hash": scenario.content_hash()},
        recorded_from={"impl": impl, "source": "local-aws", "legacy_sha256": legacy_fingerprint()},
        clock=scenario.clock.isoformat(),
        schedule=str(schedule),
        environment=scenario.environment(),
        allowances={"fewer_reads": list(scenario.allowances.fewer_reads)},
    )
    return Cassette(header, report.interactions, report.outputs)


def record_live(impl: str = "legacy", *, anonymize_accounts: bool = False, name: str = "live") -> Cassette:
    """Record `impl` against whatever AWS the environment points at (a dev account, or `world serve`)."""
    environment = {key: os.environ.get(key) for key in LIVE_ENVIRONMENT_KEYS}
    instant = datetime.now(UTC).replace(microsecond=0)
    recorder = Recorder()
    with cold_start(environment), frozen_clock(instant), controlled_scheduling(Schedule("submission")):
        function = resolve_impl(impl)
        with intercept(recorder):
            outputs = call_capturing(function)
    header = make_header(
        scenario={"name": name, "file": None, "content_hash": None},
        recorded_from={"impl": impl, "source": "live", "legacy_sha256": legacy_fingerprint()},
        clock=instant.isoformat(),
        schedule="submission",
        environment=environment,
        allowances={"fewer_reads": []},
    )
    cassette = Cassette(header, recorder.interactions, outputs)
    if anonymize_accounts:
        cassette = anonymize(cassette)
    return cassette


def anonymize(cassette: Cassette) -> Cassette:
    """The cassette with every real account id mapped to a stable fake one, consistently throughout."""
    data = AccountAnonymizer().apply(to_data(cassette))
    return from_data(data, "anonymized recording")


def _relative(source: str) -> str:
    """A scenario path relative to the repository (as it is written in goldens)."""
    path = Path(source)
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()
