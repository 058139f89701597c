"""Record a control, replay a candidate: the harness's two sessions, each with cold start, clock and schedule."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.cassette import Cassette, Outputs
from harness.clock import frozen_clock
from harness.comparison import Comparison, compare
from harness.filters import AccountAnonymizer
from harness.golden import from_data, make_header, to_data
from harness.golden_set import legacy_fingerprint
from harness.impls import resolve_impl
from harness.interception import intercept
from harness.lambda_env import REPO_ROOT, cold_start
from harness.recorder import Recorder
from harness.replayer import ObservedCall, Replayer
from harness.runner import call_capturing, run_scenario
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.scenario import Scenario

# Replay needs credentials and a region for botocore to build clients, and must never look anywhere for more.
REPLAY_ENVIRONMENT: dict[str, str | None] = {
    "AWS_ACCESS_KEY_ID": "replay-access",
    "AWS_SECRET_ACCESS_KEY": "replay-secret",
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_ENDPOINT_URL": None,
    "AWS_EC2_METADATA_DISABLED": "true",
}
# What a live recording keeps of the real environment.
LIVE_ENVIRONMENT_KEYS = (
    "SOURCE_SERVER_INVENTORY_TABLE",
    "TARGET_ACCOUNTS_TABLE",
    "DRS_REGION_STATUS_TABLE",
    "AWS_DEFAULT_REGION",
    "INVENTORY_SYNC_IMPL",
)


@dataclass
class ReplayRun:
    """What a candidate did when replayed: its outputs, every call, the unrecorded ones, recordings left over."""

    outputs: Outputs
    observed: list[ObservedCall]
    unrecorded: list[str]
    unused: list[int]


def record_scenario(scenario: Scenario, impl: str = "legacy", schedule: Schedule | None = None) -> Cassette:
    """Record `impl` on the scenario's local AWS into a cassette with a complete header."""
    schedule = schedule or Schedule("submission")
    report = run_scenario(scenario, impl, schedule)
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


def replay(
    cassette: Cassette,
    impl: str,
    schedule: Schedule | None = None,
    *,
    threaded: bool = False,
    latency_ms: Callable[[str, str], float] | None = None,
) -> ReplayRun:
    """Run `impl` with every AWS call answered from `cassette`: no network, no world."""
    environment = {**cassette.header["environment"], **REPLAY_ENVIRONMENT}
    schedule = schedule or Schedule.parse(cassette.header["schedule"])
    replayer = Replayer(cassette, latency_ms)
    clock = frozen_clock(cassette.header["clock"])
    # A large golden is millions of long-lived objects: frozen, the garbage collector stops re-scanning them on
    # every collection the code under test triggers (that scanning was half of a 2,000-server replay).
    gc.freeze()
    try:
        with cold_start(environment), clock, controlled_scheduling(schedule, threaded=threaded):
            function = resolve_impl(impl)
            with intercept(replayer):
                outputs = call_capturing(function)
    finally:
        gc.unfreeze()
    return ReplayRun(outputs, replayer.observed, replayer.unrecorded, replayer.unused())


def check(cassette: Cassette, impl: str, schedule: Schedule | None = None) -> Comparison:
    """Replay `impl` against `cassette` and compare it with the recording."""
    run = replay(cassette, impl, schedule)
    return compare(cassette, run.observed, run.outputs, run.unrecorded)


def _relative(source: str) -> str:
    """A scenario path relative to the repository (as it is written in goldens)."""
    path = Path(source)
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()
