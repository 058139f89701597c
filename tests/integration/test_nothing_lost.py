"""Nothing lost: after every scenario the refactored sync keeps everything it read and everything it could not read.

Each scenario of `scenarios/` (the bench fleets aside) runs once on its local AWS with the refactored sync, and the
table it leaves is checked against what the run itself saw (its recorded calls and its log):

1. every server a successful region of a reachable account reported is in the inventory table afterwards, unless its
   write failed, in which case the failure is logged with the server's key;
2. no inventory row of an account that could not be read (its AssumeRole failed), or of a DRS region whose query
   failed, is deleted;
3. every failed write is counted (totalErrors) and logged with its key;
4. the response's counts match the table: totalSynced is the number of rows DynamoDB accepted, each of them in the
   table with this run's timestamp, and staleRecordsDeleted the number of rows deleted, each gone from the table.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from harness.cassette import HUB_IDENTITY, Interaction
from harness.lambda_env import REPO_ROOT
from harness.runner import RunReport, run_scenario
from harness.world.scenario import Scenario, load_scenario

# The estate-size scenarios take minutes on the local AWS; their goldens are gated by replay instead.
LARGE_FLEET = 5000
SCENARIOS = [
    path
    for path in sorted((REPO_ROOT / "scenarios").glob("*.yaml"))
    if sum(spec.server_count for account in load_scenario(path).accounts.values() for spec in account.drs.values())
    < LARGE_FLEET
]
ACCOUNT_SESSION = "inventory-sync"
_DESERIALIZER = TypeDeserializer()
Key = tuple[str, str]


def plain(wire: dict[str, Any]) -> dict[str, Any]:
    """A wire-form DynamoDB item as plain values."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in wire.items()}


def failed(interaction: Interaction) -> bool:
    """Whether a recorded call failed (an AWS error or no response)."""
    return interaction.error is not None or interaction.exception is not None or interaction.response is None


@dataclass
class Run:
    """One refactored run of a scenario: the report, the log text, and what the run saw."""

    scenario: Scenario
    report: RunReport
    log: str

    @property
    def environment(self) -> dict[str, Any]:
        """The Lambda environment of the run."""
        return dict(self.scenario.environment())

    @property
    def inventory_table(self) -> str:
        """The inventory table's name."""
        return str(self.environment["SOURCE_SERVER_INVENTORY_TABLE"])

    def calls(self, operation: str) -> list[Interaction]:
        """The recorded calls of one operation."""
        return [call for call in self.report.interactions if call.operation == operation]

    def account_of(self, identity: str) -> str:
        """The account an identity stands for."""
        return self.scenario.hub_account if identity == HUB_IDENTITY else identity

    def successful_listings(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Servers of every (account, region) whose every DescribeSourceServers page succeeded."""
        pages: dict[tuple[str, str], list[Interaction]] = {}
        for call in self.calls("DescribeSourceServers"):
            pages.setdefault((self.account_of(call.identity), call.region), []).append(call)
        return {
            source: [server for page in calls for server in page.response["items"]]  # type: ignore[index]
            for source, calls in pages.items()
            if not any(failed(page) for page in calls)
        }

    def failed_sources(self) -> set[tuple[str, str]]:
        """(account, region) pairs whose DRS listing failed on some page."""
        return {
            (self.account_of(call.identity), call.region)
            for call in self.calls("DescribeSourceServers")
            if failed(call)
        }

    def unreadable_accounts(self) -> set[str]:
        """Target accounts whose own AssumeRole failed (by the role ARN their row names) or that have no roleArn."""
        table = self.environment["TARGET_ACCOUNTS_TABLE"]
        rows = [
            plain(item)
            for call in self.calls("Scan")
            if call.params.get("TableName") == table and not failed(call)
            for item in call.response.get("Items", [])  # type: ignore[union-attr]
        ]
        failed_roles = {
            call.params.get("RoleArn")
            for call in self.calls("AssumeRole")
            if call.params.get("RoleSessionName") == ACCOUNT_SESSION and failed(call)
        }
        return {
            str(row.get("accountId"))
            for row in rows
            if row.get("roleArn") in failed_roles
            or (not row.get("roleArn") and str(row.get("accountId")) != self.scenario.hub_account)
        }

    def accepted_puts(self) -> list[dict[str, Any]]:
        """Inventory items DynamoDB accepted, in order (UnprocessedItems and failed calls left out)."""
        accepted: list[dict[str, Any]] = []
        for call in self.calls("BatchWriteItem"):
            if failed(call):
                continue
            handed_back = Counter(
                json.dumps(request, sort_keys=True)
                for request in (call.response or {}).get("UnprocessedItems", {}).get(self.inventory_table, [])
            )
            for request in call.params["RequestItems"].get(self.inventory_table, []):
                fingerprint = json.dumps(request, sort_keys=True)
                if handed_back[fingerprint]:
                    handed_back[fingerprint] -= 1
                    continue
                accepted.append(plain(request["PutRequest"]["Item"]))
        return accepted

    def stopped_before_touching_the_inventory(self) -> bool:
        """True for a run with no inventory table, or one that failed before any inventory write (a failing targets
        Scan raises, as the legacy does); a run that raised after touching the inventory fails the check."""
        if not self.environment.get("SOURCE_SERVER_INVENTORY_TABLE"):
            return True
        if self.report.outputs.exception is None:
            return False
        touched = [
            call
            for call in self.report.interactions
            if call.operation in ("BatchWriteItem", "DeleteItem", "PutItem")
            and (
                call.params.get("TableName") == self.inventory_table
                or self.inventory_table in call.params.get("RequestItems", {})
            )
        ]
        assert touched == [], f"the run raised after writing the inventory: {self.report.outputs.exception}"
        return True

    def body(self) -> dict[str, Any]:
        """The response body."""
        assert self.report.outputs.exception is None, self.report.outputs.exception
        return dict(json.loads(self.report.outputs.result["body"]))

    def table_keys(self) -> set[Key]:
        """The inventory table's keys after the run."""
        return {(row["sourceServerArn"], row["stagingAccountId"]) for row in self.report.tables["inventory"]}


def drs_source(arn: str) -> tuple[str, str]:
    """The (account, region) of a DRS source server ARN."""
    parts = arn.split(":")
    return (parts[4], parts[3]) if len(parts) > 4 else ("", "")


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda path: path.stem)
def run(request: pytest.FixtureRequest) -> Run:
    """The refactored sync run once on the scenario's local AWS, its log captured."""
    scenario = load_scenario(Path(request.param))
    handler = _Collect()
    logger = logging.getLogger()
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        report = run_scenario(scenario, "refactored")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    return Run(scenario, report, "\n".join(handler.lines))


class _Collect(logging.Handler):
    """Keeps every formatted log line of the run."""

    def __init__(self) -> None:
        """No line yet."""
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.lines.append(record.getMessage())


def test_every_server_read_is_in_the_inventory_or_its_failed_write_is_logged(run: Run) -> None:
    if run.stopped_before_touching_the_inventory():
        return
    in_table = {arn for arn, _ in run.table_keys()}
    missing = [
        server.get("arn", "")
        for servers in run.successful_listings().values()
        for server in servers
        if server.get("arn", "") not in in_table and server.get("arn", "") not in run.log
    ]
    assert missing == [], f"servers read but neither in the inventory nor logged as failed: {missing}"


def test_no_row_of_an_account_or_region_that_could_not_be_read_is_deleted(run: Run) -> None:
    if not run.environment.get("SOURCE_SERVER_INVENTORY_TABLE"):
        return
    unread_accounts, failed_sources = run.unreadable_accounts(), run.failed_sources()
    before = [
        (row["sourceServerArn"], row["stagingAccountId"])
        for row in run.scenario.inventory_before
        if drs_source(str(row["sourceServerArn"]))[0] in unread_accounts
        or drs_source(str(row["sourceServerArn"])) in failed_sources
    ]
    assert set(before) <= run.table_keys()


def test_every_failed_write_is_counted_and_logged_with_its_key(run: Run) -> None:
    if run.stopped_before_touching_the_inventory():
        return
    sent_arns = {
        plain(request["PutRequest"]["Item"])["sourceServerArn"]
        for call in run.calls("BatchWriteItem")
        for request in call.params["RequestItems"].get(run.inventory_table, [])
    }
    # Lost: sent but never accepted (a failed call, or handed back and never written by a later resend).
    lost_arns = sent_arns - {item["sourceServerArn"] for item in run.accepted_puts()}
    body = run.body()
    assert body["totalErrors"] >= len(lost_arns)
    not_logged = [arn for arn in lost_arns if arn not in run.log]
    assert not_logged == [], f"failed writes not logged with their key: {not_logged}"


def test_the_response_counts_match_the_table(run: Run) -> None:
    if run.stopped_before_touching_the_inventory():
        return
    body = run.body()
    accepted = run.accepted_puts()
    assert body["totalSynced"] == len(accepted)
    now = run.scenario.clock.isoformat()
    fresh = {
        (row["sourceServerArn"], row["stagingAccountId"])
        for row in run.report.tables["inventory"]
        if row.get("lastUpdated") == now
    }
    assert {(item["sourceServerArn"], item["stagingAccountId"]) for item in accepted} == fresh
    deleted = [
        (plain(call.params["Key"])["sourceServerArn"], plain(call.params["Key"])["stagingAccountId"])
        for call in run.calls("DeleteItem")
        if call.params.get("TableName") == run.inventory_table and not failed(call)
    ]
    assert body["staleRecordsDeleted"] == len(deleted)
    assert not set(deleted) & run.table_keys()
