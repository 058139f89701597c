"""Recording: a control run on the local AWS or live, into a cassette with a complete header.

Replaying lives in `replay_session` (it needs no local AWS, so shadow mode can run it inside the Lambda); its names
are re-exported here so callers find both sessions in one place.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from harness.anonymize import anonymized
from harness.approved.inventory_state import remember_scenario
from harness.cassette import Cassette
from harness.clock import frozen_clock
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
    "LiveSetupError",
    "ReplayRun",
    "anonymize",
    "check",
    "record_live",
    "record_scenario",
    "recording_failure",
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
# The variables naming the sync's tables: a live recording needs all three.
LIVE_TABLE_VARIABLES = ("SOURCE_SERVER_INVENTORY_TABLE", "TARGET_ACCOUNTS_TABLE", "DRS_REGION_STATUS_TABLE")


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


class LiveSetupError(Exception):
    """A live recording that cannot start: no region, no credentials, an unknown profile, a table variable unset."""


def live_environment() -> dict[str, str | None]:
    """The environment a live recording runs in, checked first: one clear LiveSetupError for what is missing.

    The three table variables must be set; the AWS profile (AWS_PROFILE), if named, must exist; a region and
    credentials must resolve as boto3 resolves them. The region found is recorded (AWS_DEFAULT_REGION), so the golden
    replays with it.
    """
    import boto3
    from botocore.exceptions import BotoCoreError

    environment = {key: os.environ.get(key) for key in LIVE_ENVIRONMENT_KEYS}
    unset = [name for name in LIVE_TABLE_VARIABLES if not environment.get(name)]
    if unset:
        raise LiveSetupError(f"set the table variables {', '.join(unset)} to the dev account's tables (see README)")
    try:
        session = boto3.session.Session()
        region = session.region_name
        credentials = session.get_credentials() if region else None
    except BotoCoreError as error:  # an unknown profile (ProfileNotFound) or a broken config or credentials source
        raise LiveSetupError(f"AWS configuration: {error}") from None
    if not region:
        raise LiveSetupError("no AWS region: set AWS_DEFAULT_REGION (or a region in the AWS_PROFILE's config)")
    if credentials is None:
        raise LiveSetupError(
            "no AWS credentials found: set AWS_PROFILE to a profile of the dev account, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)"
        )
    return {**environment, "AWS_DEFAULT_REGION": region}


def record_live(impl: str = "legacy", *, anonymize_values: bool = False, name: str = "live") -> Cassette:
    """Record `impl` against whatever AWS the environment points at (a dev account, or `world serve`).

    LiveSetupError, before any call, when the region, credentials, profile or table variables are missing.
    """
    environment = live_environment()
    instant = datetime.now(UTC).replace(microsecond=0)
    recorder = Recorder()
    with cold_start(environment), frozen_clock(instant), controlled_scheduling(Schedule("submission")):
        function = resolve_impl(impl, as_api_response=True)
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
    if anonymize_values:
        cassette = anonymize(cassette)
    return cassette


def recording_failure(cassette: Cassette) -> str | None:
    """Why a live recording must not become a golden (it raised, answered other than 200, made no call), or None."""
    outputs = cassette.outputs
    if outputs.exception is not None:
        return f"the run raised {outputs.exception.get('type')}: {outputs.exception.get('message')}"
    result = outputs.result
    status = result.get("statusCode") if isinstance(result, dict) else None
    if status != 200:
        body = result.get("body") if isinstance(result, dict) else result
        return f"the run returned status {status} ({str(body)[:300]})"
    if not cassette.interactions:
        return "the run made no AWS call"
    return None


def anonymize(cassette: Cassette) -> Cassette:
    """The cassette with account ids, ExternalIds, host names, FQDNs, IPs, MACs and instance ids mapped to fakes.

    The calls and outputs are anonymised consistently (`harness.anonymize`); the header (scenario, hashes, tables,
    region) is kept as it is.
    """
    data = to_data(cassette)
    recorded = anonymized({"interactions": data["interactions"], "outputs": data["outputs"]})
    return from_data({**data, **recorded}, "anonymized recording")


def _relative(source: str) -> str:
    """A scenario path relative to the repository (as it is written in goldens)."""
    path = Path(source)
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()
