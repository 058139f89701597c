"""No secret escapes a run: not into a golden, not into the logs; ExternalId is sent wherever a target row has one.

Credential-like values are planted where AWS responses carry data (a DRS server tag, an EC2 instance tag, a target
account row); the harness refuses to write a golden holding them (SecretFound naming the path): data values are
refused, not scrubbed (harness/filters.py), so a reviewer decides. The credentials AssumeRole really issued in the
run, seen by a witness below the recorder, never reach a golden's text or the Lambda's logs.

Covered elsewhere, not repeated here: `--anonymize-accounts` consistency (tests/harness/test_filters.py), the world
binding loopback only (tests/world/test_serve_http.py), no wildcard IAM actions in the template
(tests/integration/test_template.py). See tests/security/README.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from moto.ec2.models import ec2_backends

from harness.cassette import Cassette, capture_outputs
from harness.experiment import record_scenario
from harness.filters import SecretFound, find_secrets
from harness.golden import dumps, make_header, write_golden
from harness.impls import resolve_impl
from harness.interception import forward, intercept
from harness.lambda_env import cold_start
from harness.recorder import Recorder
from harness.scheduling import Schedule, controlled_scheduling
from harness.world.scenario import Scenario, parse_scenario

HUB, PROD, WORKLOADS = "999999999999", "111111111111", "222222222222"
REGION, ORIGIN_REGION = "us-east-1", "us-west-2"
FAKE_ACCESS_KEY_ID = "AKIA" + "Q7ZP3XWLMN2R8TUV"
FAKE_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzFAKEKEY1"
IMPLS = ("legacy", "refactored")
# Loggers whose DEBUG output is botocore's and boto3's own, not the Lambda's or the harness's.
SDK_LOGGERS = ("botocore", "boto3")


def role_arn(account: str) -> str:
    """The orchestration role in `account`."""
    return f"arn:aws:iam::{account}:role/DRSOrchestrationRole"


def cross_account_scenario(**overrides: Any) -> dict[str, Any]:
    """Two target accounts with external ids; PROD's servers originate from EC2 in WORKLOADS (cross-account)."""
    return {
        "name": "security-cross-account",
        "hub_account": HUB,
        "seed": 11,
        "active_regions": [{"region": REGION, "serverCount": 3}],
        "target_accounts": [
            {"accountId": PROD, "accountName": "dr", "roleArn": role_arn(PROD), "externalId": "ext-prod-51"},
            {"accountId": WORKLOADS, "accountName": "wl", "roleArn": role_arn(WORKLOADS), "externalId": "ext-wl-73"},
        ],
        "accounts": {
            PROD: {"drs": {REGION: {"servers": 2, "origin": {"account": WORKLOADS, "region": ORIGIN_REGION}}}},
            WORKLOADS: {"drs": {REGION: {"servers": 1}}},
        },
        **overrides,
    }


class CredentialWitness:
    """An interceptor below the recorder: passes every call on and keeps the credentials AWS really issued."""

    def __init__(self) -> None:
        """No credentials seen yet."""
        self.credentials: list[dict[str, str]] = []

    def make_api_call(self, client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        """Let the call through to the world."""
        return forward(self, client, operation_name, api_params)

    def params_built(self, client: Any, params: dict[str, Any]) -> None:
        """Nothing to note about parameters."""

    def response_received(self, client: Any, http: Any, parsed: dict[str, Any]) -> None:
        """Keep an AssumeRole answer's credentials, before anything scrubs them."""
        credentials = parsed.get("Credentials") if isinstance(parsed, dict) else None
        if isinstance(credentials, dict):
            self.credentials.append({key: str(value) for key, value in credentials.items()})

    def secrets(self) -> list[str]:
        """Every issued secret access key and session token."""
        return [c[name] for c in self.credentials for name in ("SecretAccessKey", "SessionToken")]


@contextmanager
def witnessed() -> Iterator[CredentialWitness]:
    """A credential witness stacked for the block (anything stacked later sits above it)."""
    witness = CredentialWitness()
    with intercept(witness):
        yield witness


def record_in_world(scenario: Scenario, impl: str) -> Cassette:
    """Record `impl` in the world already active (built by `local_world`), with a complete golden header."""
    recorder = Recorder()
    with cold_start(scenario.environment()), controlled_scheduling(Schedule("submission")):
        function = resolve_impl(impl)
        with intercept(recorder):
            outputs = capture_outputs(function)
    header = make_header(
        scenario={"name": scenario.name, "file": "<test>", "content_hash": scenario.content_hash()},
        recorded_from={"impl": impl, "source": "local-aws"},
        clock=scenario.clock.isoformat(),
        schedule="submission",
        environment=scenario.environment(),
        allowances={"fewer_reads": []},
    )
    return Cassette(header, recorder.interactions, outputs)


def index_of(cassette: Cassette, operation: str, table: str | None = None) -> int:
    """Position of the first interaction of `operation` (on `table`)."""
    return next(
        index
        for index, interaction in enumerate(cassette.interactions)
        if interaction.operation == operation and (table is None or interaction.params.get("TableName") == table)
    )


def plant_instance_tag(account: str, region: str, key: str, value: str) -> None:
    """Tag every EC2 instance of (account, region) in the world, straight in moto's model."""
    backend = ec2_backends[account][region]
    backend.create_tags([instance.id for instance in backend.all_instances()], {key: value})


# Planted credential-like data: a golden holding it is refused, naming where -------------------------------------


def test_an_access_key_id_in_a_drs_server_tag_stops_the_golden(local_world: Any, tmp_path: Path) -> None:
    server = {
        "sourceServerID": "s-000000000000000a1",
        "arn": f"arn:aws:drs:{REGION}:{PROD}:source-server/s-000000000000000a1",
        "sourceProperties": {},
        "tags": {"backup-credential": FAKE_ACCESS_KEY_ID},
    }
    spec = parse_scenario(cross_account_scenario(accounts={PROD: {"drs": {REGION: {"servers": [server]}}}}))
    local_world(spec)
    cassette = record_in_world(spec, "legacy")
    out = tmp_path / "planted.json"

    with pytest.raises(SecretFound) as raised:
        write_golden(cassette, out)

    describe = index_of(cassette, "DescribeSourceServers")
    assert f"$.interactions[{describe}].response.items[0].tags.backup-credential" in str(raised.value)
    assert not out.exists()


@pytest.mark.parametrize("impl", IMPLS)
def test_a_secret_key_in_an_ec2_instance_tag_stops_the_golden_in_the_response_and_the_inventory_write(
    local_world: Any, impl: str
) -> None:
    spec = parse_scenario(cross_account_scenario())
    local_world(spec)
    plant_instance_tag(WORKLOADS, ORIGIN_REGION, "aws_secret_access_key", FAKE_SECRET_ACCESS_KEY)
    cassette = record_in_world(spec, impl)

    with pytest.raises(SecretFound) as raised:
        dumps(cassette, "planted golden")

    describe = index_of(cassette, "DescribeInstances")
    assert f"$.interactions[{describe}].response.Reservations[0].Instances[0].Tags[" in str(raised.value)
    tags = cassette.interactions[describe].response["Reservations"][0]["Instances"][0]["Tags"]  # type: ignore[index]
    position = next(index for index, tag in enumerate(tags) if tag["Key"] == "aws_secret_access_key")
    assert f".Tags[{position}].Value" in str(raised.value)
    inventory_writes = [
        index
        for index, interaction in enumerate(cassette.interactions)
        if "source-server-inventory" in interaction.params.get("RequestItems", {})
    ]
    assert (
        f"$.interactions[{inventory_writes[0]}].params.RequestItems.source-server-inventory[0].PutRequest.Item"
        ".sourceTags.M.aws_secret_access_key.S"
    ) in str(raised.value)


def test_a_secret_field_in_a_target_account_row_stops_the_golden(local_world: Any) -> None:
    rows = cross_account_scenario()["target_accounts"]
    rows[0] = {**rows[0], "secretAccessKey": FAKE_SECRET_ACCESS_KEY}
    spec = parse_scenario(cross_account_scenario(target_accounts=rows))
    local_world(spec)
    cassette = record_in_world(spec, "legacy")

    with pytest.raises(SecretFound) as raised:
        dumps(cassette, "planted golden")

    scan = index_of(cassette, "Scan", "target-accounts")
    assert f"$.interactions[{scan}].response.Items[0].secretAccessKey.S" in str(raised.value)


def test_secret_named_tags_and_attributes_are_found_but_placeholders_and_ordinary_tags_are_not() -> None:
    data = {
        "Tags": [{"Key": "db-password", "Value": "hunter2"}, {"Key": "Name", "Value": "app-1"}],
        "Item": {"secretAccessKey": {"S": "plain"}, "sessionToken": {"S": "REDACTED-SessionToken-0001"}},
        "Ok": {"Key": "password", "Value": "REDACTED-password"},
    }

    assert list(find_secrets(data)) == ["$.Tags[0].Value", "$.Item.secretAccessKey.S"]


# The credentials AssumeRole issued: never in a golden, never in the logs ----------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_issued_credentials_never_reach_the_golden_text(impl: str, tmp_path: Path) -> None:
    with witnessed() as witness:
        cassette = record_scenario(parse_scenario(cross_account_scenario()), impl)
    written = write_golden(cassette, tmp_path / "golden.json")
    text = written.read_text(encoding="utf-8")

    assert len(witness.credentials) == 4  # an inventory-sync and an inventory-ec2-query session per account
    for credentials in witness.credentials:
        assert credentials["AccessKeyId"].startswith("ASIA")  # real moto-issued temporary keys
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            assert credentials[name] not in text, name
    assert text.count('"SecretAccessKey": "REDACTED-SecretAccessKey-') == 4


def run_logging_everything(impl: str, caplog: pytest.LogCaptureFixture) -> CredentialWitness:
    """Run `impl` on the cross-account scenario with every logger, botocore's included, captured at DEBUG."""
    caplog.set_level(logging.DEBUG)
    for name in SDK_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    with witnessed() as witness:
        record_scenario(parse_scenario(cross_account_scenario()), impl)
    assert len(witness.credentials) == 4
    return witness


def leaking_records(caplog: pytest.LogCaptureFixture, secrets: list[str], keep: Callable[[str], bool]) -> list[str]:
    """`logger: message` of every captured record (of the loggers `keep` accepts) holding one of `secrets`."""
    leaks = []
    for record in caplog.records:
        if not keep(record.name):
            continue
        text = record.getMessage() + (record.exc_text or "")
        if any(secret in text for secret in secrets):
            leaks.append(f"{record.name}: {text[:120]}")
    return leaks


def is_sdk_logger(name: str) -> bool:
    """Whether a logger is botocore's or boto3's."""
    return name.split(".", 1)[0] in SDK_LOGGERS


@pytest.mark.parametrize("impl", IMPLS)
def test_the_lambdas_and_the_harness_logs_never_hold_issued_credentials(
    impl: str, caplog: pytest.LogCaptureFixture
) -> None:
    witness = run_logging_everything(impl, caplog)

    assert any(not is_sdk_logger(record.name) for record in caplog.records)
    assert leaking_records(caplog, witness.secrets(), lambda name: not is_sdk_logger(name)) == []


@pytest.mark.parametrize("impl", IMPLS)
def test_botocore_debug_logs_never_hold_issued_credentials(impl: str, caplog: pytest.LogCaptureFixture) -> None:
    """botocore logs STS bodies, canonical requests and signed headers at DEBUG: shared.log_redaction rewrites them."""
    witness = run_logging_everything(impl, caplog)

    assert leaking_records(caplog, witness.secrets(), is_sdk_logger) == []


# ExternalId: sent on every AssumeRole whose target row configures one ------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
def test_every_assume_role_sends_the_external_id_its_target_row_configures(impl: str) -> None:
    spec = cross_account_scenario()
    external_ids = {row["accountId"]: row["externalId"] for row in spec["target_accounts"]}

    cassette = record_scenario(parse_scenario(spec), impl)

    assume_roles = [i.params for i in cassette.interactions if i.operation == "AssumeRole"]
    sessions = sorted((params["RoleSessionName"], params["RoleArn"].split(":")[4]) for params in assume_roles)
    assert sessions == [
        ("inventory-ec2-query", WORKLOADS),
        ("inventory-ec2-query", WORKLOADS),
        ("inventory-sync", PROD),
        ("inventory-sync", WORKLOADS),
    ]
    for params in assume_roles:
        assert params.get("ExternalId") == external_ids[params["RoleArn"].split(":")[4]], params
