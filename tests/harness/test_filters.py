"""Nothing secret reaches a golden, and account ids can be mapped to stable fakes consistently across a recording."""

from __future__ import annotations

import copy
import re

import pytest

from harness.anonymize import anonymized
from harness.cli import main
from harness.experiment import anonymize, check, record_scenario
from harness.filters import SecretFound
from harness.golden import dumps, read_golden, to_data, write_golden
from harness.lambda_env import REPO_ROOT
from harness.world.scenario import load_scenario

SCENARIO_FILE = "scenarios/single-account-basic.yaml"
HUB = "999999999999"
PROD = "111111111111"
ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


@pytest.fixture(scope="module")
def recording():
    """The legacy recorded once on a one-account scenario."""
    return record_scenario(load_scenario(REPO_ROOT / SCENARIO_FILE))


def index_of(cassette, operation):
    """Index of the first interaction of `operation`."""
    return next(index for index, i in enumerate(cassette.interactions) if i.operation == operation)


def test_a_planted_access_key_in_a_response_stops_the_golden_being_written(recording, tmp_path):
    planted = copy.deepcopy(recording)
    scan = index_of(planted, "Scan")
    planted.interactions[scan].response["Items"][0]["note"] = {"S": "copied from AKIAABCDEFGHIJKLMNOP by hand"}
    out = tmp_path / "planted.json"

    with pytest.raises(SecretFound) as raised:
        write_golden(planted, out)

    assert f"$.interactions[{scan}].response.Items[0].note.S" in str(raised.value)
    assert str(raised.value).startswith(f"{out}: refusing to write")
    assert not out.exists()


def test_a_secret_access_key_that_is_not_a_placeholder_stops_the_golden_being_written(recording):
    planted = copy.deepcopy(recording)
    assume = index_of(planted, "AssumeRole")
    planted.interactions[assume].response["Credentials"]["SecretAccessKey"] = "wJalrXUtnFEMIK7MDENGbPxRfiCY"

    with pytest.raises(SecretFound) as raised:
        dumps(planted)

    assert f"$.interactions[{assume}].response.Credentials.SecretAccessKey" in str(raised.value)


def test_the_recorders_placeholders_pass_the_secret_check(recording):
    credentials = recording.interactions[index_of(recording, "AssumeRole")].response["Credentials"]

    assert credentials["SecretAccessKey"].startswith("REDACTED-")
    assert dumps(recording)


def test_the_anonymizer_maps_an_id_to_the_same_fake_everywhere_and_leaves_numbers_alone():
    data = {
        "identity": PROD,
        "arn": f"arn:aws:iam::{PROD}:role/R",
        PROD: [HUB, f"{HUB}/{PROD}"],
        "bytes": {"N": "161061273600"},
    }

    assert anonymized(data) == {
        "identity": "100000000001",
        "arn": "arn:aws:iam::100000000001:role/R",
        "100000000001": ["100000000002", "100000000002/100000000001"],
        "bytes": {"N": "161061273600"},
    }


def test_an_anonymized_recording_is_consistent_throughout_and_still_replays_equivalent(recording):
    anonymized = anonymize(recording)
    text = dumps(anonymized)
    prod, hub = "100000000001", "100000000002"

    assert PROD not in text
    assert HUB not in text
    drs = [i for i in anonymized.interactions if i.service == "drs"]
    assert drs and {i.identity for i in drs} == {prod}
    assume = anonymized.interactions[index_of(anonymized, "AssumeRole")]
    assert assume.params["RoleArn"] == f"arn:aws:iam::{prod}:role/DRSOrchestrationRole"
    assert assume.response["AssumedRoleUser"]["Arn"].split(":")[4] == prod
    identity = anonymized.interactions[index_of(anonymized, "GetCallerIdentity")]
    assert identity.response["Account"] == hub
    servers = [server for i in drs for server in i.response["items"]]
    assert {server["arn"].split(":")[4] for server in servers} == {prod}
    original_numbers = {m for m in ACCOUNT_ID.findall(dumps(recording)) if m not in (PROD, HUB)}
    assert original_numbers and all(number in text for number in original_numbers), "disk sizes must stay"
    assert check(anonymized, "legacy").equivalent


def test_record_with_anonymize_accounts_on_the_command_line_writes_fake_ids(tmp_path, recording):
    out = tmp_path / "anonymized.json"

    code = main(["record", "--scenario", SCENARIO_FILE, "--out", str(out), "--anonymize-accounts"])

    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert PROD not in text and HUB not in text
    assert to_data(read_golden(out)) == to_data(anonymize(recording))
