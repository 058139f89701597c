"""Small builders for characterization scenarios (plain dicts) and readers for what a legacy run did.

Scenarios are written as dicts in the tests so that each test shows the whole world it runs in. Runs go through
`harness.runner.run_scenario`: real boto3 against the in-process local AWS (moto + the DRS emulator), frozen clock,
cold start, controlled scheduling. Nothing here computes an expectation: tests write those by hand.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from harness.cassette import Interaction
from harness.runner import RunReport, run_scenario
from harness.scheduling import Schedule
from harness.world.scenario import parse_scenario

HUB = "999999999999"
ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
ACCOUNT_C = "333333333333"

# The frozen clock of every scenario (DEFAULT_CLOCK), as the legacy writes it.
NOW = "2026-01-15T12:00:00+00:00"  # datetime.now(timezone.utc).isoformat()
LAST_CHECKED = "2026-01-15T12:00:00Z"  # update_region_status's %Y-%m-%dT%H:%M:%SZ

INVENTORY = "source-server-inventory"
TARGET_ACCOUNTS = "target-accounts"
REGION_STATUS = "drs-region-status"

HEADERS = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def role_arn(account: str) -> str:
    """The conventional orchestration role of `account`."""
    return f"arn:aws:iam::{account}:role/DRSOrchestrationRole"


def target(account: str, external_id: str | None = None, *, with_role: bool = True, **extra: Any) -> dict[str, Any]:
    """A target accounts row: accountId, roleArn (unless `with_role` is False), externalId when given, extras."""
    row: dict[str, Any] = {"accountId": account, "accountName": f"acct-{account[:3]}"}
    if with_role:
        row["roleArn"] = role_arn(account)
    if external_id is not None:
        row["externalId"] = external_id
    row.update(extra)
    return row


def scenario(
    *,
    targets: list[dict[str, Any]],
    accounts: dict[str, Any],
    active: list[str] | tuple[str, ...] = ("us-east-1",),
    name: str = "characterization",
    seed: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """A scenario dict: the hub is HUB, every region of `active` has a status row with serverCount 1."""
    return {
        "name": name,
        "seed": seed,
        "hub_account": HUB,
        "active_regions": [{"region": region, "serverCount": 1} for region in active],
        "target_accounts": targets,
        "accounts": accounts,
        **extra,
    }


def run(data: dict[str, Any], schedule: str | None = None) -> RunReport:
    """Run the legacy on the world of `data`, under `schedule` (default: submission order)."""
    return run_scenario(parse_scenario(data), "legacy", Schedule.parse(schedule) if schedule else None)


def run_impl(data: dict[str, Any], impl: str) -> RunReport:
    """Run another implementation name (`handler`, `module:function`) on the world of `data`."""
    return run_scenario(parse_scenario(data), impl)


def result(report: RunReport) -> dict[str, Any]:
    """The run's return value; fails loudly if the run raised instead."""
    assert report.outputs.exception is None, f"the run raised: {report.outputs.exception}"
    value: dict[str, Any] = report.outputs.result
    return value


def body(report: RunReport) -> dict[str, Any]:
    """The decoded JSON body of the run's API-style response."""
    decoded: dict[str, Any] = json.loads(result(report)["body"])
    return decoded


def _table_of(call: Interaction) -> str:
    """The table a DynamoDB call is about (BatchWriteItem: its RequestItems tables joined by '+')."""
    if "TableName" in call.params:
        return str(call.params["TableName"])
    return "+".join(call.params.get("RequestItems", {}))


def step(call: Interaction) -> str:
    """One call in words: `dynamodb PutItem drs-region-status`, `drs DescribeSourceServers eu-west-1 as 1111...`."""
    if call.service == "dynamodb":
        return f"dynamodb {call.operation} {_table_of(call)}"
    return f"{call.service} {call.operation} {call.region} as {call.identity}"


def trace(report: RunReport) -> list[str]:
    """Every call of the run, in order, as `step` words it."""
    return [step(call) for call in report.interactions]


def calls(report: RunReport, operation: str | None = None, service: str | None = None) -> list[Interaction]:
    """The run's calls, optionally only one operation and/or one service, in order."""
    return [
        call
        for call in report.interactions
        if (operation is None or call.operation == operation) and (service is None or call.service == service)
    ]


_DESERIALIZER = TypeDeserializer()


def _plain(value: Any) -> Any:
    """Decimals to int/float, recursively (the shape the tables dump uses)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def item(attribute_map: dict[str, Any]) -> dict[str, Any]:
    """A wire-form DynamoDB item ({"S": ...} maps) as plain data."""
    return {key: _plain(_DESERIALIZER.deserialize(value)) for key, value in attribute_map.items()}


def batch_puts(report: RunReport, table: str) -> list[dict[str, Any]]:
    """Every item put into `table` by BatchWriteItem calls, in wire order (re-sent items appear again)."""
    found: list[dict[str, Any]] = []
    for call in calls(report, "BatchWriteItem"):
        for request in call.params.get("RequestItems", {}).get(table, []):
            found.append(item(request["PutRequest"]["Item"]))
    return found


def put_items(report: RunReport, table: str) -> list[dict[str, Any]]:
    """Every item of a PutItem into `table`, in wire order."""
    return [item(call.params["Item"]) for call in calls(report, "PutItem") if call.params.get("TableName") == table]


def drs_documents(report: RunReport) -> list[dict[str, Any]]:
    """Every source server document DescribeSourceServers returned, in call order (as botocore parsed them)."""
    documents: list[dict[str, Any]] = []
    for call in calls(report, "DescribeSourceServers"):
        if call.response is not None and call.error is None:
            documents.extend(call.response.get("items", []))
    return documents


def ec2_instances(report: RunReport) -> dict[str, dict[str, Any]]:
    """Every instance a successful DescribeInstances returned, by InstanceId."""
    instances: dict[str, dict[str, Any]] = {}
    for call in calls(report, "DescribeInstances"):
        if call.response is None or call.error is not None:
            continue
        for reservation in call.response.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                instances[instance["InstanceId"]] = instance
    return instances


def rows_by_key(rows: list[dict[str, Any]], key: str = "sourceServerArn") -> dict[str, dict[str, Any]]:
    """Table rows by one attribute."""
    return {row[key]: row for row in rows}
