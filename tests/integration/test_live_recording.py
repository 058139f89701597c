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


def record_live(out: Path, endpoint: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m harness record --live` with the environment a dev account run would have."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update({k: v for k, v in load_scenario(SCENARIO).environment().items() if v is not None})
    environment.update(HTTP_CREDENTIALS)
    environment["AWS_ENDPOINT_URL"] = endpoint
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
    """Two live recordings of the same served world: one plain, one with accounts anonymized."""
    directory = tmp_path_factory.mktemp("live")
    plain, anonymized = directory / "live.json", directory / "live-anonymized.json"
    with served_world(SCENARIO) as endpoint:
        first = record_live(plain, endpoint)
    with served_world(SCENARIO) as endpoint:
        second = record_live(anonymized, endpoint, "--anonymize-accounts")
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
    cassette = read_golden(anonymized)
    identities = {interaction.identity for interaction in cassette.interactions} - {"hub"}
    assert len(identities) == 2
    assert check(cassette, "legacy").equivalent
