"""Defect 9 fixed: every page of the target accounts Scan is read (LastEvaluatedKey followed).

The legacy makes one unpaginated Scan of the target accounts table: when the table is over 1 MB, the accounts of
the later pages are never synced (scenario `defect-09-targets-two-pages`: three rows of runbook notes, the third on
page 2). The refactored sync reads every page (`scan_every_page`) and syncs those accounts too.

Expected differences, and nothing else: the Scan of page 2 (and later), and for each account on them, in order, what
the sync does for an account: GetCallerIdentity, AssumeRole (RoleSessionName inventory-sync), DescribeSourceServers
in every active region, and its region statuses (one `update_region_status` PutItem and one batch row per region).
The stale cleanup, which covers every account read (defect 1's fix), also covers these accounts: its one Scan names
the first page's accounts read and these (in account order), and the DeleteItem of each of their rows follows
(staleRecordsDeleted then counts them, as defect 1's approval checks).
Everything is answered from the golden and its scenario: the later pages
from the scenario's target rows after the golden's LastEvaluatedKey (key order, as DynamoDB pages a Scan), the
identity as the golden's, the AssumeRole with placeholder credentials of that account (the replayer maps them to
its identity), each listing empty, the writes with an empty success, the cleanup by `inventory_state.cleanup_answers`.
This approval supports accounts on later pages that are reached by AssumeRole (which succeeds) and have no source
server in the active regions; any other golden stays DIVERGENT for a reviewer to extend it.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from harness.approved.cleanup_facts import read_targets
from harness.approved.golden_accounts import (
    BATCH_OK,
    account_runs,
    cached_per_golden,
    candidate_writes,
    environment,
    failed,
    now_of,
    scenario_of,
    table_region,
)
from harness.approved.inventory_state import SCENARIO_MODULE, cleanup_answers
from harness.cassette import HUB_IDENTITY, Cassette, Interaction
from harness.comparison import Difference
from harness.divergences import ApprovedDivergence, DivergenceContext, answer, dynamodb_item
from harness.matchers import CallKey, call_key, is_write

PAGE_LIMIT = 1_000_000
BATCH_SIZE = 25
SESSION_NAME = "inventory-sync"
_OK: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}


@dataclass(frozen=True)
class Plan:
    """The fix's effect on one golden: the new reads, the new writes in order, and their answers."""

    reads: Counter[CallKey]
    writes: tuple[CallKey, ...]
    answers: tuple[Interaction, ...]


def _key(call: Interaction) -> CallKey:
    """A recorded or declared call's match key."""
    return call_key(call.service, call.region, call.identity, call.operation, call.params)


def _plan(golden: Cassette) -> Plan | None:
    """Compute `plan` (uncached)."""
    env = environment(golden)
    targets = env.get("TARGET_ACCOUNTS_TABLE")
    first = next(
        (call for call in golden.interactions if call.operation == "Scan" and call.params == {"TableName": targets}),
        None,
    )
    if first is None or failed(first) or "LastEvaluatedKey" not in (first.response or {}):
        return None
    later = _later_rows(golden, first)
    identity_calls = [
        call for call in golden.interactions if call.operation == "GetCallerIdentity" and not failed(call)
    ]
    runs = account_runs(golden)
    if later is None or not identity_calls or not runs:
        return None
    hub = str((identity_calls[0].response or {}).get("Account"))
    region = table_region(golden)
    page = [dynamodb_item(row) for row in later]
    declared: list[Interaction] = [
        answer(
            "Scan",
            {"TableName": targets, "ExclusiveStartKey": first.response["LastEvaluatedKey"]},  # type: ignore[index]
            {"Items": later, "Count": len(later), "ScannedCount": len(later), **_OK},
            region=region,
        )
    ]
    new_writes: list[dict[str, Any]] = []
    regions = runs[-1].region_order
    for number, row in enumerate(page, start=1):
        account = _account_calls(golden, row, hub, regions, identity_calls[0], number)
        if account is None:
            return None
        account_reads, account_writes = account
        declared.extend(account_reads)
        new_writes.extend(account_writes)
    if not page:
        return None
    page_accounts = [row.get("accountId") for row in page]
    cleanup = cleanup_answers(golden, [*read_targets(DivergenceContext(golden)), *page_accounts])
    declared.extend(call for call in cleanup if call.operation == "Scan")
    declared.extend(answer(_operation(params), params, _response(params), region=region) for params in new_writes)
    # The deletes of the later pages' accounts' rows (the first page's accounts' rows are defect 1's).
    deletes = [call for call in cleanup_answers(golden, page_accounts) if call.operation == "DeleteItem"]
    declared.extend(deletes)
    write_keys = [call_key("dynamodb", region, HUB_IDENTITY, _operation(w), w) for w in new_writes]
    write_keys.extend(_key(call) for call in deletes)
    reads = Counter(_key(call) for call in declared if not is_write(call.operation))
    return Plan(reads, tuple(write_keys), tuple(declared))


# The fix's effect on a golden (see `_plan`), computed once per golden.
plan = cached_per_golden(_plan)


def _later_rows(golden: Cassette, first: Interaction) -> list[dict[str, Any]] | None:
    """The scenario's target rows after the golden's first page, in key order (wire form); None if over 1 MB."""
    scenario = scenario_of(golden)
    serializer = TypeSerializer()
    thaw = importlib.import_module(SCENARIO_MODULE).thaw
    rows = sorted((thaw(row) for row in scenario.target_accounts), key=lambda row: str(row.get("accountId")))
    last_key = dynamodb_item((first.response or {})["LastEvaluatedKey"])["accountId"]
    seen = [dynamodb_item(item)["accountId"] for item in (first.response or {}).get("Items", [])]
    if [row.get("accountId") for row in rows[: len(seen)]] != seen or seen[-1:] != [last_key]:
        return None
    later = [{name: serializer.serialize(value) for name, value in row.items()} for row in rows[len(seen) :]]
    if len(json.dumps(later)) >= PAGE_LIMIT:
        return None
    return later


def _account_calls(
    golden: Cassette,
    row: dict[str, Any],
    hub: str,
    regions: list[str],
    identity_call: Interaction,
    number: int,
) -> tuple[list[Interaction], list[dict[str, Any]]] | None:
    """The reads (answered) and the writes (parameters) of syncing one account of a later page, or None."""
    account, role_arn, external_id = row.get("accountId"), row.get("roleArn"), row.get("externalId")
    scenario = scenario_of(golden)
    spec = scenario.accounts.get(account)
    if account == hub or not role_arn or (spec is not None and spec.assume_role_error is not None):
        return None
    if any(fault.account in (account, None) and fault.service in ("drs", "sts") for fault in scenario.faults):
        return None
    for active in regions:
        drs = spec.drs.get(active) if spec is not None else None
        if drs is not None and (drs.server_count or drs.error is not None):
            return None
    params: dict[str, Any] = {"DurationSeconds": 900, "RoleArn": role_arn, "RoleSessionName": SESSION_NAME}
    if external_id:
        params["ExternalId"] = external_id
    credentials = {
        "AccessKeyId": f"REDACTED-AccessKeyId-9{number:03d}",
        "SecretAccessKey": f"REDACTED-SecretAccessKey-9{number:03d}",
        "SessionToken": f"REDACTED-SessionToken-9{number:03d}",
        "Expiration": _expiration(golden),
    }
    role_name = str(role_arn).rsplit("/", 1)[-1]
    assumed = {
        "Credentials": credentials,
        "AssumedRoleUser": {
            "AssumedRoleId": f"AROA9PAGE{number:011d}:{SESSION_NAME}",
            "Arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{SESSION_NAME}",
        },
        "PackedPolicySize": 6,
        **_OK,
    }
    sts_region = identity_call.region
    reads = [identity_call, answer("AssumeRole", params, assumed, region=sts_region, service="sts")]
    reads.extend(
        answer("DescribeSourceServers", {}, {"items": [], **_OK}, region=active, service="drs", identity=str(account))
        for active in regions
    )
    return reads, _status_writes(golden, str(account), regions)


def _expiration(golden: Cassette) -> str:
    """What the recorded AssumeRole answers give as Expiration (the frozen clock plus the 900 s asked for)."""
    from datetime import timedelta

    return (datetime.fromisoformat(str(golden.header["clock"])) + timedelta(seconds=900)).isoformat()


def _status_writes(golden: Cassette, account: str, regions: list[str]) -> list[dict[str, Any]]:
    """The region status writes of an account with no server anywhere, in the order the sync sends them.

    Each carries the region's running total over the accounts synced before it (defect 4's approved fix).

    Per region a batch row (the batch writer sends 25 at a time, the 25th triggering the send) and then the
    `update_region_status` PutItem; the rest of the batch at the end.
    """
    table = environment(golden).get("DRS_REGION_STATUS_TABLE")
    if not table:
        return []
    checked = datetime.fromisoformat(str(golden.header["clock"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    totals = _region_totals_so_far(golden, table)
    writes: list[dict[str, Any]] = []
    buffer: list[dict[str, Any]] = []
    for active in regions:
        total = totals.get(active, 0)  # defect 4's fix: the running total over the accounts synced before
        row = {
            "region": {"S": active},
            "accountId": {"S": account},
            "status": {"S": "ACTIVE"},
            "serverCount": {"N": str(total)},
            "lastUpdated": {"S": now_of(golden)},
        }
        buffer.append({"PutRequest": {"Item": row}})
        if len(buffer) >= BATCH_SIZE:
            writes.append({"RequestItems": {table: buffer[:BATCH_SIZE]}})
            buffer = buffer[BATCH_SIZE:]
        item = {
            "region": {"S": active},
            "status": {"S": "AVAILABLE" if total > 0 else "UNINITIALIZED"},
            "serverCount": {"N": str(total)},
            "lastChecked": {"S": checked},
            "errorMessage": {"NULL": True},
        }
        writes.append({"TableName": table, "Item": item})
    if buffer:
        writes.append({"RequestItems": {table: buffer}})
    return writes


def _region_totals_so_far(golden: Cassette, table: str) -> dict[str, int]:
    """Per region, the servers every account of the golden's run counted in its region-status batch rows."""
    totals: dict[str, int] = {}
    for interaction in golden.interactions:
        if interaction.operation != "BatchWriteItem":
            continue
        for request in interaction.params.get("RequestItems", {}).get(table, []):
            item = request.get("PutRequest", {}).get("Item", {})
            region, count = item.get("region", {}).get("S"), item.get("serverCount", {}).get("N")
            if region is not None and count is not None:
                totals[region] = totals.get(region, 0) + int(count)
    return totals


def _operation(params: dict[str, Any]) -> str:
    """The DynamoDB write operation of a planned write."""
    return "BatchWriteItem" if "RequestItems" in params else "PutItem"


def _response(params: dict[str, Any]) -> dict[str, Any]:
    """An empty success for a planned write."""
    return dict(BATCH_OK) if "RequestItems" in params else dict(_OK)


def _matcher(difference: Difference, context: DivergenceContext) -> bool:
    """An extra call that is one of the later pages' accounts' calls, in a run that made every planned call."""
    found = plan(context.golden)
    if found is None or difference.change != "extra" or not isinstance(difference.candidate, dict):
        return False
    view = difference.candidate
    key = call_key(view["service"], view["region"], view["identity"], view["operation"], view["params"])
    if difference.kind == "read" and key not in found.reads:
        return False
    if difference.kind == "write" and key not in found.writes:
        return False
    return difference.kind in ("read", "write") and _plan_made(found, context)


def _plan_made(found: Plan, context: DivergenceContext) -> bool:
    """Every planned read made exactly as often as the golden's plus the planned, and the planned writes made in
    order, last (after their first one only they and the cleanup's deletes)."""
    made_reads = Counter(
        call_key(call.service, call.region, call.identity, call.operation, call.params)
        for call in context.observed
        if not is_write(call.operation)
    )
    golden_reads = Counter(_key(call) for call in context.golden.interactions if not is_write(call.operation))
    if any(made_reads[key] != golden_reads[key] + count for key, count in found.reads.items()):
        return False
    # The planned writes are the last ones but the cleanup's deletes (an earlier account may have written the very
    # same region row, when the later account adds no server to the running total).
    written = [call for call in candidate_writes(context.observed) if call[3] != "DeleteItem"]
    return len(written) >= len(found.writes) and tuple(written[len(written) - len(found.writes) :]) == found.writes


def _answers(golden: Cassette) -> list[Interaction]:
    """The later pages and every call their accounts make, answered (see the module docstring)."""
    found = plan(golden)
    return [] if found is None else list(found.answers)


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-9-every-target-page",
        defect=9,
        description=(
            "Every page of the target accounts Scan is read (LastEvaluatedKey followed), so the accounts of later "
            "pages are synced and cleaned up too."
        ),
        matcher=_matcher,
        answers=_answers,
        shows_in=("defect-09-targets-two-pages",),
    ),
)
