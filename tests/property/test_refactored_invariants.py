"""Properties of the refactored inventory sync that hold for every generated world and completion order.

Each example runs `inventory_sync.sync_source_server_inventory` once on the in-process local AWS and checks, against
an oracle built from the scenario (LEGACY_CONTRACT.md) and from what the world answered:

- every server listed (every page read, also before a failing page) of an account that got credentials is written
  exactly once per listing;
- every active region gets a status, once per synced account: one `update_region_status` PutItem and one batch row,
  whose serverCount is the running total of the region's servers over the accounts synced so far (defect 4 fixed);
- one region's or account's failure never stops the others: every other region is still queried and its servers
  end up in the table (unless the stale cleanup removed them, which the cleanup invariant accounts for);
- no BatchWriteItem carries more than 25 requests;
- counts add up: totalSynced + totalErrors is the number of servers listed for synced accounts,
  totalSynced the number of PutRequests DynamoDB accepted, staleRecordsDeleted the number of DeleteItems that
  succeeded, and the cleanup deletes exactly the rows the contract's step 6 names;
- EC2 metadata is attached to an item exactly when DescribeInstances returned its instance.

Defects kept or fixed by the refactor shape the oracle rather than the generator: only the hub itself is listed with
the hub's own credentials, an account without roleArn being skipped like a failed AssumeRole (defect 5 fixed), and a
target listing the hub's servers makes "exactly once" per listing, not per server; the region status table's last row
of a region carries the last synced account's status and every synced account's servers (defect 4 fixed). Defects 1-3
are fixed too: the cleanup covers every synced account against every listing of the run, keeps the rows of accounts
and regions that could not be read, and with no account synced the run completes with nothing to clean. Defect 7 is
fixed: the pages read before a failing page are kept and counted in the region's serverCount, and an
UnrecognizedClientException is REGION_NOT_ENABLED (`REFACTORED_DRS_ERROR_STATUS`). Defects the
generator does not reach: 6 (no DynamoDB error faults, only UnprocessedItems, which the batch writer resends; a
flush failure would make "written exactly once" and the totals false by design), 9 (three target rows always fit
one scan page), 10 and 11 (generated DRS documents are well-formed).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from hypothesis import event, example, given, settings

from harness.cassette import HUB_IDENTITY, Interaction
from harness.runner import RunReport, run_scenario
from harness.scheduling import Schedule
from harness.world.scenario import DRS_REGIONS, Scenario, parse_scenario
from tests.property.strategies import (
    CONNECTION_STATUS,
    DRS_ERROR_MESSAGES,
    HUB,
    REFACTORED_DRS_ERROR_STATUS,
    scenarios,
    schedules,
)

MAX_BATCH_ITEMS = 25
# An explicit example: every DRS error code of the contract's table in its own region, a dropped connection, and a
# healthy region, for one account reached by AssumeRole and the hub listed as a target of its own.
_ERROR_REGIONS = dict(zip(sorted(DRS_ERROR_MESSAGES), DRS_REGIONS[1:], strict=False))
EVERY_ERROR_SCENARIO = {
    "name": "every-drs-error",
    "seed": 3,
    "hub_account": HUB,
    "active_regions": [{"region": region, "serverCount": 1} for region in DRS_REGIONS[:12]],
    "target_accounts": [
        {
            "accountId": "111111111111",
            "roleArn": "arn:aws:iam::111111111111:role/DRSOrchestrationRole",
            "externalId": "ext-prod",
        },
        {"accountId": HUB, "roleArn": f"arn:aws:iam::{HUB}:role/DRSOrchestrationRole"},
    ],
    "accounts": {
        "111111111111": {
            "drs": {
                "us-east-1": {"servers": 3, "page_size": 2},
                **{
                    region: {"servers": 2, "page_size": 1, "error": {"code": code, "message": DRS_ERROR_MESSAGES[code]}}
                    for code, region in _ERROR_REGIONS.items()
                },
            }
        },
        HUB: {"drs": {"us-east-1": {"servers": 1}, DRS_REGIONS[11]: {"servers": 2}}},
    },
    "faults": [
        {
            "service": "drs",
            "operation": "DescribeSourceServers",
            "account": HUB,
            "region": DRS_REGIONS[11],
            "connection": True,
        }
    ],
}
_DESERIALIZER = TypeDeserializer()
Key = tuple[str, str]


def plain_item(wire_item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB wire-form item as plain Python values (numbers as int where whole)."""
    item = {name: _DESERIALIZER.deserialize(value) for name, value in wire_item.items()}
    return json.loads(json.dumps(item, default=lambda number: int(number) if number == int(number) else float(number)))


def inventory_key(item: dict[str, Any]) -> Key:
    """The inventory table's key of a plain item."""
    return item["sourceServerArn"], item["stagingAccountId"]


def succeeded(interaction: Interaction) -> bool:
    """Whether a recorded call got a normal response (no AWS error, no dropped connection)."""
    return interaction.error is None and interaction.exception is None


def accepted_puts(interactions: list[Interaction], table: str) -> list[dict[str, Any]]:
    """The items of every PutRequest to `table` that DynamoDB accepted, in order (unprocessed ones left out)."""
    items: list[dict[str, Any]] = []
    for interaction in interactions:
        if interaction.operation != "BatchWriteItem" or not succeeded(interaction):
            continue
        handed_back = Counter(
            json.dumps(request["PutRequest"]["Item"], sort_keys=True)
            for request in (interaction.response.get("UnprocessedItems") or {}).get(table, [])
        )
        for request in interaction.params["RequestItems"].get(table, []):
            wire_item = request["PutRequest"]["Item"]
            fingerprint = json.dumps(wire_item, sort_keys=True)
            if handed_back[fingerprint]:
                handed_back[fingerprint] -= 1
                continue
            items.append(plain_item(wire_item))
    return items


def calls(interactions: list[Interaction], operation: str, table: str | None = None) -> list[Interaction]:
    """The recorded calls of `operation` (to `table` when given)."""
    return [
        interaction
        for interaction in interactions
        if interaction.operation == operation and (table is None or interaction.params.get("TableName") == table)
    ]


@dataclass
class TargetPlan:
    """One target account as the contract treats it: whose credentials list DRS for it, and whether it is synced."""

    account_id: str
    identity: str  # the recorded identity of its DRS calls: "hub" or the assumed account
    synced: bool


@dataclass
class Oracle:
    """What the contract says a run of the scenario must do, from the scenario and the world's answers."""

    scenario: Scenario
    report: RunReport
    targets: list[TargetPlan]
    active_regions: list[str]
    listings: dict[tuple[str, str], list[Key]]

    @property
    def synced(self) -> list[TargetPlan]:
        """The targets that got credentials (all but those whose AssumeRole failed or that have no roleArn)."""
        return [target for target in self.targets if target.synced]

    def drs_account(self, identity: str) -> str:
        """The account whose DRS an identity sees."""
        return self.scenario.hub_account if identity == HUB_IDENTITY else identity

    def region_outcome(self, identity: str, region: str) -> tuple[str, int, str | None]:
        """(batch status, server count, error message) of one region listed with one identity's credentials."""
        account = self.drs_account(identity)
        spec = self.scenario.accounts.get(account)
        drs = spec.drs.get(region) if spec else None
        if drs is not None and drs.error is not None:
            status, message = REFACTORED_DRS_ERROR_STATUS[drs.error.code]
            # Defect 7 fixed: the servers of the pages before the failing one are kept and counted.
            on_page = drs.error.on_page
            read = 0 if on_page is None else min(drs.server_count, (on_page - 1) * drs.page_size)
            return status, read, message
        for fault in self.scenario.faults:
            if fault.service == "drs" and fault.connection and fault.account == account and fault.region == region:
                return CONNECTION_STATUS[0], 0, CONNECTION_STATUS[1]
        return "ACTIVE", drs.server_count if drs else 0, None

    def went_unread(self, key: Key) -> bool:
        """Whether a row's server lives in a DRS account or region the run could not read (its row must stay)."""
        parts = key[0].split(":")
        account, region = (parts[4], parts[3]) if len(parts) > 4 else ("", "")
        if any(target.account_id == account for target in self.targets if not target.synced):
            return True
        return any(
            self.drs_account(target.identity) == account and self.region_outcome(target.identity, region)[0] != "ACTIVE"
            for target in self.synced
            if region in self.active_regions
        )

    def listed_keys(self, target: TargetPlan) -> list[Key]:
        """The inventory keys of every server listed for the target: every page read, before a failing one too."""
        keys: list[Key] = []
        for region in self.active_regions:
            keys.extend(self.listings.get((target.identity, region), []))
        return keys


def build_oracle(scenario: Scenario, report: RunReport) -> Oracle:
    """Read the target rows and active regions the world answered, plan each target, collect every DRS listing."""
    environment = scenario.environment()
    hub = scenario.hub_account
    accounts_scan = calls(report.interactions, "Scan", environment["TARGET_ACCOUNTS_TABLE"])[0]
    targets = []
    for row in map(plain_item, accounts_scan.response["Items"]):
        assumed = row["accountId"] != hub
        spec = scenario.accounts.get(row["accountId"])
        # Defect 5 fixed: another account without roleArn is skipped, as one whose AssumeRole fails.
        role_fails = assumed and (not row.get("roleArn") or (spec is not None and spec.assume_role_error is not None))
        targets.append(TargetPlan(row["accountId"], row["accountId"] if assumed else HUB_IDENTITY, not role_fails))
    regions_scan = calls(report.interactions, "Scan", environment["DRS_REGION_STATUS_TABLE"])[0]
    active_regions = [plain_item(item)["region"] for item in regions_scan.response["Items"]] or list(DRS_REGIONS)
    listings: dict[tuple[str, str], list[Key]] = {}
    for call in calls(report.interactions, "DescribeSourceServers"):
        if not succeeded(call):
            continue
        # Two targets reached with the hub's credentials list the same servers: keep one listing per identity.
        page = [(server["arn"], server["stagingArea"]["stagingAccountID"]) for server in call.response["items"]]
        known = listings.setdefault((call.identity, call.region), [])
        known.extend(key for key in page if key not in known)
    return Oracle(scenario, report, targets, active_regions, listings)


def assert_regions_are_the_active_ones(oracle: Oracle) -> None:
    """The regions queried are the ones with serverCount > 0 before the run, or all 28 when there are none."""
    expected = {row.region for row in oracle.scenario.active_regions if row.server_count > 0} or set(DRS_REGIONS)
    assert set(oracle.active_regions) == expected


def assert_every_region_of_every_synced_account_is_queried(oracle: Oracle) -> None:
    """A failing region or account never stops the others: each synced account lists every active region."""
    queried = Counter(
        (call.identity, call.region)
        for call in calls(oracle.report.interactions, "DescribeSourceServers")
        if "nextToken" not in call.params
    )
    # One first-page request per target (botocore's own retry is below the recorder).
    expected = Counter((target.identity, region) for target in oracle.synced for region in oracle.active_regions)
    assert queried == expected
    for target in oracle.synced:
        for region in oracle.active_regions:
            _, count, _ = oracle.region_outcome(target.identity, region)
            assert len(oracle.listings.get((target.identity, region), [])) == count, (target, region)


def assert_every_server_is_written_once_per_listing(oracle: Oracle) -> list[dict[str, Any]]:
    """The accepted inventory PutRequests are exactly the servers listed for synced accounts."""
    puts = accepted_puts(oracle.report.interactions, oracle.scenario.environment()["SOURCE_SERVER_INVENTORY_TABLE"])
    expected = Counter(key for target in oracle.synced for key in oracle.listed_keys(target))
    assert Counter(map(inventory_key, puts)) == expected
    for item in puts:
        assert item["lastUpdated"] == oracle.scenario.clock.isoformat()
        assert item["sourceServerArn"].startswith(f"arn:aws:drs:{item['replicationRegion']}:")
    return puts


def assert_batches_never_exceed_25_items(oracle: Oracle) -> None:
    """Every BatchWriteItem, to any table, carries 1 to 25 requests."""
    for call in calls(oracle.report.interactions, "BatchWriteItem"):
        size = sum(len(requests) for requests in call.params["RequestItems"].values())
        assert 1 <= size <= MAX_BATCH_ITEMS, call.params


def assert_every_active_region_gets_a_status(oracle: Oracle) -> None:
    """Per synced account and active region: one update_region_status PutItem and one accepted batch row.

    Their serverCount is the region's running total over the synced accounts so far (defect 4 fixed), and the
    PutItem's status is derived from it.
    """
    table = oracle.scenario.environment()["DRS_REGION_STATUS_TABLE"]
    last_checked = oracle.scenario.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
    expected_puts: Counter[tuple[Any, ...]] = Counter()
    expected_rows: Counter[tuple[Any, ...]] = Counter()
    totals: Counter[str] = Counter()
    for target in oracle.synced:
        for region in oracle.active_regions:
            status, count, message = oracle.region_outcome(target.identity, region)
            totals[region] += count
            total = totals[region]
            direct = "ERROR" if message else ("AVAILABLE" if total > 0 else "UNINITIALIZED")
            expected_puts[(region, direct, total, message, last_checked)] += 1
            expected_rows[(region, target.account_id, status, total, message)] += 1
    direct_puts = [plain_item(call.params["Item"]) for call in calls(oracle.report.interactions, "PutItem", table)]
    written_puts = Counter(
        (item["region"], item["status"], item["serverCount"], item["errorMessage"], item["lastChecked"])
        for item in direct_puts
    )
    assert written_puts == expected_puts
    rows = accepted_puts(oracle.report.interactions, table)
    written_rows = Counter(
        (row["region"], row["accountId"], row["status"], row["serverCount"], row.get("errorMessage")) for row in rows
    )
    assert written_rows == expected_rows


def assert_region_table_counts_every_synced_account(oracle: Oracle) -> None:
    """After the run each active region's row is the last synced account's, counting every synced account's servers.

    The table is keyed by region only: the last write wins, so it carries the running total (defect 4 fixed).
    """
    if not oracle.synced:
        return
    last = oracle.synced[-1]
    final = {row["region"]: row for row in oracle.report.tables["region_status"]}
    for region in oracle.active_regions:
        status, _, message = oracle.region_outcome(last.identity, region)
        total = sum(oracle.region_outcome(target.identity, region)[1] for target in oracle.synced)
        row = final[region]
        if "accountId" in row:  # the batch row (normally the last write)
            assert (row["accountId"], row["status"], row["serverCount"], row.get("errorMessage")) == (
                last.account_id,
                status,
                total,
                message,
            )
        else:  # update_region_status's row, when a 25-row flush sent the batch row first
            assert (row["serverCount"], row["errorMessage"]) == (total, message)


def assert_counts_add_up(oracle: Oracle, puts: list[dict[str, Any]]) -> None:
    """The response body's counters against the oracle and the recorded calls."""
    body = json.loads(oracle.report.outputs.result["body"])
    servers = sum(len(oracle.listed_keys(target)) for target in oracle.synced)
    assert body["totalSynced"] + body["totalErrors"] == servers
    assert body["totalSynced"] == len(puts)
    assert body["totalErrors"] == 0  # well-formed documents, no flush failure (see the module docstring)
    deletes = [call for call in calls(oracle.report.interactions, "DeleteItem") if succeeded(call)]
    assert body["staleRecordsDeleted"] == len(deletes)
    assert body["regionsScanned"] == len(oracle.active_regions)
    assert body["regionsSkipped"] == len(DRS_REGIONS) - len(oracle.active_regions)
    assert body["timestamp"] == oracle.scenario.clock.isoformat()


def assert_cleanup_deletes_exactly_the_stale_rows(oracle: Oracle, puts: list[dict[str, Any]]) -> None:
    """The cleanup (defects 1-2 fixed): every synced account's rows that no listing of the run holds are deleted,
    except rows whose DRS account or region could not be read; nothing else."""
    table_at_cleanup = {inventory_key(row): dict(row) for row in map(dict, oracle.scenario.inventory_before)}
    table_at_cleanup.update((inventory_key(item), item) for item in puts)
    listed = {key for target in oracle.synced for key in oracle.listed_keys(target)}
    cleaned = {target.account_id for target in oracle.synced}
    expected = {
        key
        for key, row in table_at_cleanup.items()
        if row.get("sourceAccountId") in cleaned and key not in listed and not oracle.went_unread(key)
    }
    deleted = [
        (plain_item(call.params["Key"])["sourceServerArn"], plain_item(call.params["Key"])["stagingAccountId"])
        for call in calls(oracle.report.interactions, "DeleteItem")
        if succeeded(call)
    ]
    assert len(deleted) == len(set(deleted))
    assert set(deleted) == expected
    final = {inventory_key(row) for row in oracle.report.tables["inventory"]}
    assert final == set(table_at_cleanup) - expected
    # Nothing lost, end to end: every server a synced account listed is in the table afterwards.
    assert listed <= final


def assert_ec2_metadata_matches_what_ec2_returned(oracle: Oracle, puts: list[dict[str, Any]]) -> None:
    """An item carries networkConfig and sourceTags exactly when DescribeInstances returned its instance."""
    described = {
        instance["InstanceId"]
        for call in calls(oracle.report.interactions, "DescribeInstances")
        if succeeded(call)
        for reservation in call.response.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    }
    for item in puts:
        enriched = item["instanceId"] in described
        assert ("networkConfig" in item) == enriched, item["sourceServerArn"]
        assert ("sourceTags" in item) == enriched, item["sourceServerArn"]


def assert_no_synced_account_completes_with_nothing_to_clean(oracle: Oracle) -> None:
    """Defect 3 fixed: with no account past AssumeRole the sync returns a 200 with zero counts and cleans nothing."""
    assert oracle.report.outputs.exception is None, oracle.report.outputs.exception
    body = json.loads(oracle.report.outputs.result["body"])
    assert (body["totalSynced"], body["totalErrors"], body["staleRecordsDeleted"]) == (0, 0, 0)
    assert not calls(oracle.report.interactions, "DeleteItem")
    inventory = oracle.scenario.environment()["SOURCE_SERVER_INVENTORY_TABLE"]
    assert not calls(oracle.report.interactions, "Scan", inventory)
    assert not accepted_puts(oracle.report.interactions, inventory)


def note_coverage(oracle: Oracle) -> None:
    """Label the example for `--hypothesis-show-statistics`: which of the generator's features it exercised."""
    event(f"targets synced: {len(oracle.synced)} of {len(oracle.targets)}")
    event("all 28 regions" if len(oracle.active_regions) == len(DRS_REGIONS) else "some active regions")
    if any(target.identity == HUB_IDENTITY for target in oracle.targets):
        event("a target reached with the hub's credentials")
    for target in oracle.synced:
        for region in oracle.active_regions:
            event(f"region status {oracle.region_outcome(target.identity, region)[0]}")
    if any(fault.unprocessed for fault in oracle.scenario.faults):
        event("DynamoDB UnprocessedItems")
    if oracle.scenario.inventory_before:
        event("stale rows before the run")
    if any(drs.origin for spec in oracle.scenario.accounts.values() for drs in spec.drs.values()):
        event("servers originating in another account or region")


@settings(max_examples=20)
@example(scenario_dict=EVERY_ERROR_SCENARIO, schedule_text="reverse")
@given(scenario_dict=scenarios(), schedule_text=schedules)
def test_refactored_sync_keeps_its_invariants_in_any_world_and_completion_order(scenario_dict, schedule_text):
    scenario = parse_scenario(scenario_dict, source="<property>")
    report = run_scenario(scenario, "refactored", Schedule.parse(schedule_text))
    oracle = build_oracle(scenario, report)
    note_coverage(oracle)
    context = f"scenario {scenario_dict} under {schedule_text}: {report.outputs.to_dict()}"

    assert_regions_are_the_active_ones(oracle)
    assert_batches_never_exceed_25_items(oracle)
    assert_every_region_of_every_synced_account_is_queried(oracle)
    assert_every_active_region_gets_a_status(oracle)
    assert_region_table_counts_every_synced_account(oracle)
    if not oracle.synced:
        assert_no_synced_account_completes_with_nothing_to_clean(oracle)
        return
    assert report.outputs.exception is None, context
    assert report.outputs.result["statusCode"] == 200, context
    puts = assert_every_server_is_written_once_per_listing(oracle)
    assert_counts_add_up(oracle, puts)
    assert_cleanup_deletes_exactly_the_stale_rows(oracle, puts)
    assert_ec2_metadata_matches_what_ec2_returned(oracle, puts)
