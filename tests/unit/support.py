"""Builders and readers for the unit tests of the refactored inventory sync.

Every test runs the Lambda's real code with real boto3 clients against the in-process local AWS (moto plus the DRS
emulator) built from a small scenario dict. Inside a world, the Lambda's modules are imported fresh under the
scenario's environment (a cold start), so module-level clients and caches belong to that world only.

Only one world can be active per process: a test either uses the function-scoped `sync_world` factory, or a
module/class-scoped fixture built with `open_sync_world`, never both at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3

from harness.cassette import Interaction
from harness.clock import frozen_clock
from harness.interception import intercept
from harness.lambda_env import cold_start, import_lambda_module
from harness.recorder import Recorder
from harness.world.core import World
from harness.world.local import local_aws
from harness.world.scenario import Scenario, parse_scenario
from harness.world.state import dump_tables

HUB = "999999999999"
PROD = "111111111111"
WORKLOADS = "222222222222"
OTHER = "333333333333"

# The frozen clock of every scenario (DEFAULT_CLOCK) as `datetime.now(UTC).isoformat()` gives it.
NOW = "2026-01-15T12:00:00+00:00"

INVENTORY_TABLE = "source-server-inventory"
TARGET_ACCOUNTS_TABLE = "target-accounts"
REGION_STATUS_TABLE = "drs-region-status"


def role_arn(account: str) -> str:
    """The conventional orchestration role of `account`."""
    return f"arn:aws:iam::{account}:role/DRSOrchestrationRole"


def target_row(account: str, external_id: str | None = "ext-id-1234", **extra: Any) -> dict[str, Any]:
    """A target accounts row with accountName and roleArn, externalId unless None, and `extra` on top."""
    row: dict[str, Any] = {"accountId": account, "accountName": f"acct-{account[:3]}", "roleArn": role_arn(account)}
    if external_id is not None:
        row["externalId"] = external_id
    row.update(extra)
    return row


def scenario(**fields: Any) -> dict[str, Any]:
    """A minimal valid scenario dict (name, hub account, seed) with `fields` on top."""
    return {"name": "unit-test", "hub_account": HUB, "seed": 11, **fields}


@dataclass
class SyncWorld:
    """An active local AWS and the inventory sync package imported fresh inside it (its modules are attributes:
    `module.regions`, `module.cleanup`, ...)."""

    world: World
    scenario: Scenario
    module: ModuleType

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every configured table, sorted by key, in plain JSON types."""
        return dump_tables(self.scenario)

    def credentials(self, account: str = PROD) -> dict[str, str]:
        """Credentials of `account`'s orchestration role, from a plain AssumeRole made by the test itself."""
        assumed = boto3.client("sts").assume_role(RoleArn=role_arn(account), RoleSessionName="unit-test")
        return {key: assumed["Credentials"][key] for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


def client_signed_as(service: str, credentials: dict[str, str], region: str = "us-east-1") -> Any:
    """A plain boto3 client of `service` in `region`, signed with STS-style `credentials`."""
    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def cleanup_segment_params(table: str, accounts: list[str]) -> list[dict[str, Any]]:
    """The parameters of the fixed cleanup's Scan of several `accounts`, one per segment of its parallel Scan (first
    pages), written out as DynamoDB receives them: the expected calls, spelled out apart from the code making them."""
    return [
        {
            "TableName": table,
            "FilterExpression": f"sourceAccountId IN ({', '.join(f':acct_{n}' for n in range(len(accounts)))})",
            "ExpressionAttributeValues": {f":acct_{n}": {"S": account} for n, account in enumerate(accounts)},
            "ProjectionExpression": "sourceServerArn, stagingAccountId, sourceAccountId, replicationRegion",
            "Segment": segment,
            "TotalSegments": 4,
        }
        for segment in range(4)
    ]


@contextmanager
def open_sync_world(spec: dict[str, Any], module_name: str = "inventory_sync") -> Iterator[SyncWorld]:
    """Build `spec`'s world with the clock frozen at its instant and import `module_name` fresh inside it."""
    parsed = parse_scenario(spec, source="<unit test>")
    with frozen_clock(parsed.clock), local_aws(parsed) as world, cold_start(parsed.environment()):
        yield SyncWorld(world, parsed, import_lambda_module(module_name))


@contextmanager
def recording() -> Iterator[Recorder]:
    """Record every boto3 call made inside the block (they still go to the local AWS)."""
    with intercept(Recorder()) as recorder:
        assert isinstance(recorder, Recorder)
        yield recorder


def calls(recorder: Recorder, service: str, operation: str | None = None) -> list[Interaction]:
    """The recorded calls to `service` (and `operation`, when given), in completion order."""
    return [
        interaction
        for interaction in recorder.interactions
        if interaction.service == service and operation in (None, interaction.operation)
    ]


def operations(recorder: Recorder) -> list[str]:
    """`service:Operation` of every recorded call, in completion order."""
    return [f"{interaction.service}:{interaction.operation}" for interaction in recorder.interactions]


def batch_put_counts(interaction: Interaction) -> dict[str, int]:
    """How many PutRequests a recorded BatchWriteItem carried, per table."""
    return {table: len(requests) for table, requests in interaction.params["RequestItems"].items()}
