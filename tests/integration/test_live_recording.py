"""`record --live` against the local AWS served over HTTP, as against a dev account, then replayed with no AWS."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.experiment import check
from harness.golden import read_golden
from harness.http_sync import HTTP_CREDENTIALS, served_world
from harness.lambda_env import REPO_ROOT
from harness.world.scenario import load_scenario

SCENARIO = REPO_ROOT / "scenarios" / "demo-two-accounts.yaml"
REAL_ACCOUNTS = ("111111111111", "222222222222", "999999999999")
REAL_EXTERNAL_IDS = ("drs-orch-prod-7f3a", "drs-orch-staging-c41d")
FAILS = "tests.harness.impls_for_tests"


def record_live(
    out: Path, endpoint: str | None, *extra: str, unset: tuple[str, ...] = (), **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m harness record --live` with the environment a dev account run would have.

    `unset` names variables left out of it, `variables` adds or replaces some. No AWS configuration file of this
    machine is read, and no instance metadata is asked for credentials.
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update({k: v for k, v in load_scenario(SCENARIO).environment().items() if v is not None})
    environment.update(HTTP_CREDENTIALS)
    environment["AWS_CONFIG_FILE"] = str(out.parent / "no-aws-config")
    environment["AWS_SHARED_CREDENTIALS_FILE"] = str(out.parent / "no-aws-credentials")
    environment["AWS_EC2_METADATA_DISABLED"] = "true"
    if endpoint is not None:
        environment["AWS_ENDPOINT_URL"] = endpoint
    environment.update(variables)
    for name in unset:
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "harness", "record", "--live", "--out", str(out), *extra],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def live_goldens(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two live recordings of the same served world: one plain, one anonymized."""
    directory = tmp_path_factory.mktemp("live")
    plain, anonymized = directory / "live.json", directory / "live-anonymized.json"
    with served_world(SCENARIO) as endpoint:
        first = record_live(plain, endpoint)
    with served_world(SCENARIO) as endpoint:
        second = record_live(anonymized, endpoint, "--anonymize")
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    return plain, anonymized


def test_a_live_recording_holds_the_sync_and_says_it_was_live(live_goldens):
    plain, _ = live_goldens
    cassette = read_golden(plain)
    assert cassette.header["recorded_from"]["source"] == "live"
    assert cassette.header["environment"]["SOURCE_SERVER_INVENTORY_TABLE"] == "source-server-inventory"
    assert json.loads(cassette.outputs.result["body"])["totalSynced"] == 12
    identities = {interaction.identity for interaction in cassette.interactions}
    assert identities == {"hub", "111111111111", "222222222222"}


def test_a_live_recording_replays_equivalent_with_no_aws(live_goldens):
    plain, _ = live_goldens
    assert check(read_golden(plain), "legacy").equivalent


def test_anonymized_accounts_are_consistent_and_the_recording_still_replays(live_goldens):
    _, anonymized = live_goldens
    text = anonymized.read_text()
    assert not any(account in text for account in REAL_ACCOUNTS)
    assert not any(external_id in text for external_id in REAL_EXTERNAL_IDS)
    assert ".compute.internal" not in text and ".ec2.internal" not in text
    cassette = read_golden(anonymized)
    identities = {interaction.identity for interaction in cassette.interactions} - {"hub"}
    assert len(identities) == 2
    assert check(cassette, "legacy").equivalent


@pytest.mark.parametrize(
    ("unset", "variables", "expected"),
    [
        (
            ("TARGET_ACCOUNTS_TABLE", "DRS_REGION_STATUS_TABLE"),
            {},
            "error: record --live: set the table variables TARGET_ACCOUNTS_TABLE, DRS_REGION_STATUS_TABLE",
        ),
        (("AWS_DEFAULT_REGION",), {}, "error: record --live: no AWS region: set AWS_DEFAULT_REGION"),
        (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
            {},
            "error: record --live: no AWS credentials found: set AWS_PROFILE",
        ),
        (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
            {"AWS_PROFILE": "no-such-profile"},
            "error: record --live: AWS configuration: The config profile (no-such-profile) could not be found",
        ),
    ],
    ids=["tables", "region", "credentials", "profile"],
)
def test_a_live_recording_that_cannot_start_says_why_in_one_line_and_exits_2(tmp_path, unset, variables, expected):
    out = tmp_path / "never.json"

    completed = record_live(out, None, unset=unset, **variables)

    assert completed.returncode == 2
    assert completed.stderr.startswith(expected)
    assert completed.stderr.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("impl", "tables", "reason"),
    [
        (
            "legacy",
            {"SOURCE_SERVER_INVENTORY_TABLE": "no-such-table"},
            "the run raised ResourceNotFoundException: An error occurred (ResourceNotFoundException) when calling the "
            "BatchWriteItem operation",
        ),
        (f"{FAILS}:changed_status_code", {}, "the run returned status 207"),
        (f"{FAILS}:answers_without_calling_aws", {}, "the run made no AWS call"),
    ],
    ids=["raised", "207", "no-call"],
)
def test_a_live_run_that_failed_writes_no_golden_and_exits_1_with_the_reason(tmp_path, impl, tables, reason):
    out = tmp_path / "failed.json"
    with served_world(SCENARIO) as endpoint:
        completed = record_live(out, endpoint, "--impl", impl, **tables)

    assert completed.returncode == 1, completed.stderr
    last_line = completed.stderr.splitlines()[-1]
    assert last_line.startswith(f"error: record --live: {reason}"), completed.stderr
    assert last_line.endswith(f"no golden written to {out} (--keep-failed writes it anyway)")
    assert "Traceback" not in completed.stderr
    assert not out.exists()


def test_keep_failed_writes_the_golden_of_a_failed_live_run(tmp_path):
    out = tmp_path / "kept.json"
    with served_world(SCENARIO) as endpoint:
        completed = record_live(out, endpoint, "--keep-failed", "--impl", f"{FAILS}:changed_status_code")

    assert completed.returncode == 0, completed.stderr
    assert "warning: record --live: the run returned status 207" in completed.stderr
    assert read_golden(out).outputs.result["statusCode"] == 207
