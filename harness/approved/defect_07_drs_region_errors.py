"""Defect 7 fixed, in three approved divergences: how a failing DRS region is read and classified.

Pages read before a failing page (`defect-7-keep-pages-read`). The legacy discards the servers of pages 1..N-1 when
page N fails (scenarios `throttled-page-two`, `drs-connection-reset`). The refactored sync keeps them: they are
grouped for EC2, written to the inventory at their region's place in completion order, and counted in totalSynced;
the region still reports its error, with serverCount the number of servers read (in the region status batch row
and in `update_region_status`'s PutItem). Expected: those status writes with the new serverCount; the account's
inventory batches with the kept rows inserted (rebuilt from the golden's DRS pages, `inventory_items`); the body's
totalSynced (and totalErrors, for a kept server whose row cannot be built); and, for kept servers with EC2 hints,
the new origin group's calls: GetCallerIdentity, GetItem and AssumeRole (copies of the golden's identical calls,
which the legacy made for the account's other groups) and DescribeInstances. The golden holds nothing about those
instances (DRS pages carry only their ids), so DescribeInstances is answered by issuing exactly that call against
the scenario's in-process local AWS (`harness.world`, the world the golden was recorded in, built from the same
seed). A kept server whose origin group the golden already describes, or an EC2 call that fails in the world, is
not answered: the golden then stays DIVERGENT, for a reviewer to extend this approval.

"scp" as a word (`defect-7-scp-as-a-word`). The legacy files any ClientError whose text contains "scp" as
SCP_DENIED, "ISCP" or "dscp" included (scenario `defect-07-scp-as-a-word`). The fix matches "service control
policy" or "SCP"/"SCPs" as a word; other errors fall through to the next rows of the table. Expected: that region's
status rows carry the new status and errorMessage (`update_region_status` keeps status ERROR).

UnrecognizedClientException (`defect-7-unrecognized-client-region-not-enabled`). Arriving as a ClientError (as
botocore raises it for DRS), the legacy files it under ERROR "UnrecognizedClientException: ..." (scenario
`drs-error-types`, us-west-1); the fix classifies it REGION_NOT_ENABLED "Region not enabled in account", as the
non-ClientError path does. Expected: that region's status rows with the new status and errorMessage.

Every matcher checks the candidate's whole write sequence against the golden's with exactly these rows changed
(values recomputed from the golden's recorded DRS errors by this module's own copy of the fixed table), and the
candidate's reads against the golden's plus the answered ones. The changed writes are answered with an empty success.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from harness.approved.golden_accounts import (
    AccountRun,
    Listing,
    account_runs,
    batch_answers,
    batches,
    cached_per_golden,
    candidate_writes,
    counts_moved_by,
    environment,
    expected_writes,
    failed,
    inventory_change,
    inventory_stretch,
    scenario_of,
    table_region,
)
from harness.approved.inventory_items import Ec2Details, details_of_response, section
from harness.cassette import HUB_IDENTITY, Cassette, Interaction
from harness.codec import to_json, trim_metadata
from harness.comparison import Difference
from harness.divergences import (
    ApprovedDivergence,
    DivergenceContext,
    answer,
    body_fields_differ,
    dynamodb_item,
)
from harness.matchers import CallKey, call_key, is_write

PAGES, SCP, UNRECOGNIZED = "pages", "scp", "unrecognized"
EC2_SESSION = "inventory-ec2-query"
DEFAULT_ROLE = "arn:aws:iam::{account}:role/DRSOrchestrationRole"
DEFAULT_EXTERNAL_ID = "drs-orchestration-cross-account"
EC2_CHUNK = 100
_SCP_WORD = re.compile(r"\bscps?\b")


def fixed_classification(error: ClientError) -> tuple[str, str]:
    """The fixed table for a DRS ClientError (LEGACY_CONTRACT.md 5c, with defect 7's two rows changed)."""
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    text = str(error)
    if code == "UninitializedAccountException" or "not initialized" in text.lower():
        return "NOT_INITIALIZED", "DRS not initialized in region"
    if "AccessDeniedException" in text or code == "AccessDeniedException":
        return "IAM_PERMISSION_DENIED", f"IAM permissions denied: {message}"
    if "service control policy" in text.lower() or _SCP_WORD.search(text.lower()):
        return "SCP_DENIED", "Blocked by Service Control Policy"
    if code == "UnrecognizedClientException":
        return "REGION_NOT_ENABLED", "Region not enabled in account"
    if code in ("ThrottlingException", "TooManyRequestsException"):
        return "THROTTLED", "API rate limit exceeded"
    if code == "OptInRequired":
        return "REGION_NOT_OPTED_IN", "Region not enabled in account"
    return "ERROR", f"{code}: {message}" if code else text[:500]


@dataclass(frozen=True)
class RegionChange:
    """A failed region's status as the fix writes it, and which of the three fixes changed it."""

    status: str
    message: str
    count: int
    kinds: frozenset[str]


@dataclass(frozen=True)
class Plan:
    """The fixes' effect on one golden: expected writes and reads, answers, changed regions, count changes."""

    writes: tuple[CallKey, ...]
    reads: Counter[CallKey]
    answers: tuple[Interaction, ...]
    changed: dict[str, frozenset[str]] = field(default_factory=dict)
    synced_delta: int = 0
    errors_delta: int = 0


def _status_rows(golden: Cassette, run: AccountRun) -> dict[str, dict[str, Any]]:
    """Region -> the account's region status batch row (plain values) in the golden."""
    table = environment(golden).get("DRS_REGION_STATUS_TABLE")
    rows: dict[str, dict[str, Any]] = {}
    for index in run.status_writes:
        params = golden.interactions[index].params
        for request in params.get("RequestItems", {}).get(table, []):
            row = dynamodb_item(request["PutRequest"]["Item"])
            rows[str(row["region"])] = row
    return rows


def _region_change(listing: Listing, row: dict[str, Any] | None) -> RegionChange | None:
    """What the fixes make of a failed region (None when they change nothing)."""
    failure = listing.failure
    if failure is None:
        return None
    old_status = None if row is None else row.get("status")
    old_message = None if row is None else row.get("errorMessage")
    status, message = str(old_status), str(old_message)
    kinds: set[str] = set()
    if failure.exception is None and failure.response is not None:
        status, message = fixed_classification(ClientError(dict(failure.response), "DescribeSourceServers"))
        if old_status == "SCP_DENIED" and status != "SCP_DENIED":
            kinds.add(SCP)
        if status == "REGION_NOT_ENABLED" and old_status != "REGION_NOT_ENABLED":
            kinds.add(UNRECOGNIZED)
    if listing.servers:
        kinds.add(PAGES)
    if not kinds or (row is None and kinds != {PAGES}):
        return None
    return RegionChange(status, message, len(listing.servers), frozenset(kinds))


def _changed_status_writes(
    golden: Cassette, run: AccountRun, changes: dict[str, RegionChange]
) -> tuple[dict[tuple[int, int], list[dict[str, Any]]], list[Interaction]]:
    """The account's region status writes that change, each by its new parameters, and their answers.

    A changed batch is answered as the golden's was, its unprocessed rows changed alike (so they are resent alike).
    """
    table = environment(golden).get("DRS_REGION_STATUS_TABLE")
    replaced: dict[tuple[int, int], list[dict[str, Any]]] = {}
    answers: list[Interaction] = []
    table_at = table_region(golden)
    for index in run.status_writes:
        interaction = golden.interactions[index]
        params = interaction.params
        if interaction.operation == "PutItem":
            row_region = str(dynamodb_item(params["Item"])["region"])
            if row_region in changes:
                change = changes[row_region]
                item = {
                    **params["Item"],
                    "status": {"S": "ERROR"},
                    "serverCount": {"N": str(change.count)},
                    "errorMessage": {"S": change.message},
                }
                replaced[(index, index)] = [{**params, "Item": item}]
                answers.append(answer("PutItem", {**params, "Item": item}, region=table_at))
        elif interaction.operation == "BatchWriteItem":
            requests = params["RequestItems"][table]
            new_requests = [_changed_row(request, changes) for request in requests]
            if new_requests != requests:
                new_params = {"RequestItems": {table: new_requests}}
                replaced[(index, index)] = [new_params]
                response = dict(interaction.response or {})
                unprocessed = response.get("UnprocessedItems", {}).get(table)
                if unprocessed:
                    changed_rows = [_changed_row(request, changes) for request in unprocessed]
                    response["UnprocessedItems"] = {**response["UnprocessedItems"], table: changed_rows}
                answers.append(answer("BatchWriteItem", new_params, response, region=table_at))
    return replaced, answers


def _changed_row(request: dict[str, Any], changes: dict[str, RegionChange]) -> dict[str, Any]:
    """A region status batch put with the fix's status, serverCount and errorMessage."""
    item = request["PutRequest"]["Item"]
    region = str(dynamodb_item(item)["region"])
    if region not in changes:
        return request
    change = changes[region]
    new = {**item, "status": {"S": change.status}, "serverCount": {"N": str(change.count)}}
    new["errorMessage"] = {"S": change.message}
    return {"PutRequest": {"Item": new}}


def _plan(golden: Cassette) -> Plan | None:
    """Compute `plan` (uncached)."""
    replacements: dict[tuple[int, int], list[dict[str, Any]]] = {}
    new_reads: list[Interaction] = []
    replaced_reads: list[Interaction] = []
    write_answers: list[Interaction] = []
    changed: dict[str, set[str]] = {PAGES: set(), SCP: set(), UNRECOGNIZED: set()}
    synced = errors = 0
    for run in account_runs(golden):
        rows = _status_rows(golden, run)
        changes = {
            region: change
            for region, listing in run.listings.items()
            if (change := _region_change(listing, rows.get(region))) is not None
        }
        if not changes:
            continue
        for region, change in changes.items():
            for kind in change.kinds:
                changed[kind].add(f"{run.account_id}/{region}")
        status_replacements, status_answers = _changed_status_writes(golden, run, changes)
        replacements.update(status_replacements)
        write_answers.extend(status_answers)
        if any(PAGES in change.kinds for change in changes.values()):
            ec2 = _ec2_answers(golden, run)
            if ec2 is None:
                return None
            group_reads, group_replaced, details = ec2
            new_reads.extend(group_reads)
            replaced_reads.extend(group_replaced)
            inventory = inventory_change(
                golden,
                run,
                lambda server, listing: listing.failure is not None,
                lambda server, listing: False,
                keep_failed_pages=True,
                extra_ec2=details,
            )
            if inventory is None:
                return None
            inventory_batches = batches(golden, inventory.items)
            replacements[inventory_stretch(run)] = inventory_batches
            write_answers.extend(batch_answers(golden, inventory_batches))
            synced += inventory.synced_delta
            errors += inventory.errors_delta
    if not any(changed.values()):
        return None
    answers = [*new_reads, *write_answers]
    reads = Counter(_key(call) for call in golden.interactions if not is_write(call.operation))
    reads.update(_key(call) for call in new_reads)
    reads.subtract(_key(call) for call in replaced_reads)
    frozen = {kind: frozenset(regions) for kind, regions in changed.items()}
    return Plan(tuple(expected_writes(golden, replacements)), reads, tuple(answers), frozen, synced, errors)


# The fix's effect on a golden (see `_plan`), computed once per golden.
plan = cached_per_golden(_plan)


def _key(call: Interaction) -> CallKey:
    """A recorded or declared call's match key."""
    return call_key(call.service, call.region, call.identity, call.operation, call.params)


def _origin_groups(run: AccountRun, keep_failed_pages: bool) -> dict[tuple[str, str], list[str]]:
    """The account's instance ids by origin (account, region), groups and ids in first-seen order, as the sync."""
    groups: dict[tuple[str, str], list[str]] = {}
    for server, listing in run.all_servers(keep_failed_pages):
        instance_id = section(section(server, "sourceProperties"), "identificationHints").get("awsInstanceID")
        cloud = section(server, "sourceCloudProperties")
        origin = (str(cloud.get("originAccountID", run.account_id)), str(cloud.get("originRegion", listing.region)))
        if instance_id:
            groups.setdefault(origin, []).append(str(instance_id))
    return groups


def _ec2_answers(golden: Cassette, run: AccountRun) -> tuple[list[Interaction], list[Interaction], Ec2Details] | None:
    """The EC2 calls the kept servers change: (new calls answered, golden calls no longer made, their details).

    A group the kept servers create makes GetCallerIdentity (and GetItem and AssumeRole for another account) and its
    DescribeInstances; a group they grow describes all its ids again, in place of the golden's calls of that group.
    None when they cannot be answered exactly.
    """
    before, after = _origin_groups(run, False), _origin_groups(run, True)
    changed = {origin: ids for origin, ids in after.items() if before.get(origin) != ids}
    if not changed:
        return [], [], {}
    identity_calls = [
        call for call in golden.interactions if call.operation == "GetCallerIdentity" and not failed(call)
    ]
    if not identity_calls:
        return None
    hub = str((identity_calls[0].response or {}).get("Account"))
    declared: list[Interaction] = []
    replaced: list[Interaction] = []
    wanted: list[tuple[str, str, list[list[str]]]] = []
    for (account, region), instance_ids in changed.items():
        identity = HUB_IDENTITY if account == hub else account
        if (account, region) in before:
            replaced.extend(
                call
                for call in golden.interactions[run.start : run.end]
                if call.operation == "DescribeInstances" and (call.identity, call.region) == (identity, region)
            )
        else:
            declared.append(identity_calls[0])
            if account != hub:
                role_calls = _role_calls(golden, account)
                if role_calls is None:
                    return None
                declared.extend(role_calls)
        chunks = [instance_ids[start : start + EC2_CHUNK] for start in range(0, len(instance_ids), EC2_CHUNK)]
        wanted.append((identity, region, chunks))
    described = _describe_in_world(golden, wanted)
    if described is None:
        return None
    details: Ec2Details = {}
    for call in described:
        if not failed(call):
            details.update(details_of_response(call.response or {}))
    return [*declared, *described], replaced, details


def _role_calls(golden: Cassette, account: str) -> list[Interaction] | None:
    """The GetItem and AssumeRole an origin group of `account` makes, copied from the golden's identical calls."""
    table = environment(golden).get("TARGET_ACCOUNTS_TABLE")
    get_item = _find(golden, "GetItem", {"Key": {"accountId": {"S": account}}, "TableName": table})
    if get_item is None:
        return None
    row = dynamodb_item((get_item.response or {}).get("Item", {})) if not failed(get_item) else {}
    params = {
        "DurationSeconds": 900,
        "ExternalId": row.get("externalId", DEFAULT_EXTERNAL_ID),
        "RoleArn": row.get("roleArn", DEFAULT_ROLE.format(account=account)),
        "RoleSessionName": EC2_SESSION,
    }
    assume_role = _find(golden, "AssumeRole", params)
    return None if assume_role is None or failed(assume_role) else [get_item, assume_role]


def _find(golden: Cassette, operation: str, params: dict[str, Any]) -> Interaction | None:
    """The golden's first call of `operation` with exactly these parameters."""
    wanted = call_key("", "", "", operation, params)[4]
    return next(
        (
            call
            for call in golden.interactions
            if call.operation == operation and call_key("", "", "", operation, call.params)[4] == wanted
        ),
        None,
    )


def _describe_in_world(golden: Cassette, wanted: list[tuple[str, str, list[list[str]]]]) -> list[Interaction] | None:
    """Each group's DescribeInstances chunks issued as that identity against the golden's scenario on the local AWS.

    The world is built from the same scenario and seed as the recording, so it holds the same instances, and its
    EC2 errors and faults apply (the call is not the world's own). As in the sync, a chunk failing with an AWS error
    is followed by one DescribeInstances per id, and any other failure ends the group. None when an EC2 fault counts
    calls (`on_call`: a fresh world counts from 1).
    """
    # The local AWS is imported by name: the Lambda package (shadow mode) leaves it out, and never gets here.
    local_aws = importlib.import_module("harness.world.local").local_aws

    scenario = scenario_of(golden)
    if any(fault.service == "ec2" and fault.on_call is not None for fault in scenario.faults):
        return None
    answered: list[Interaction] = []
    with local_aws(scenario):
        for identity, region, chunks in wanted:
            client = _ec2_acting_as(scenario.hub_account if identity == HUB_IDENTITY else identity, region)
            for instance_ids in chunks:
                chunk = _describe(client, identity, region, instance_ids)
                answered.append(chunk)
                if chunk.exception is not None:
                    break
                if failed(chunk):
                    answered.extend(_describe(client, identity, region, [single]) for single in instance_ids)
    return answered


def _ec2_acting_as(account: str, region: str) -> Any:
    """An EC2 client of the sync's config whose requests the world takes as `account`'s (faults and all)."""
    import boto3
    from botocore.config import Config

    ACCOUNT_HEADER = importlib.import_module("harness.world.wire").ACCOUNT_HEADER

    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
    client = boto3.session.Session(
        aws_access_key_id="local-answers", aws_secret_access_key="local-answers", region_name=region
    ).client("ec2", config=config)

    def mark(request: Any, **_kwargs: Any) -> None:
        """Act as `account`."""
        request.headers[ACCOUNT_HEADER] = account

    client.meta.events.register("before-sign", mark)
    return client


def _describe(client: Any, identity: str, region: str, instance_ids: list[str]) -> Interaction:
    """One DescribeInstances answered by the world, as a recorded interaction (success or AWS error)."""
    params = {"InstanceIds": instance_ids}
    try:
        parsed = client.describe_instances(**params)
    except ClientError as error:
        response = to_json(trim_metadata(dict(error.response)))
        summary = {
            "code": error.response.get("Error", {}).get("Code"),
            "message": error.response.get("Error", {}).get("Message"),
            "status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            "exception": type(error).__name__,
        }
        return Interaction("ec2", region, identity, "DescribeInstances", params, response, summary)
    except Exception as error:  # what the sync's client raises too: the sync then skips the rest of the group
        failure = {"type": type(error).__name__, "message": str(error), "kwargs": {}}
        return Interaction("ec2", region, identity, "DescribeInstances", params, exception=failure)
    return Interaction("ec2", region, identity, "DescribeInstances", params, to_json(trim_metadata(parsed)))


# Matchers -------------------------------------------------------------------------------------------------------


def _regions_of(view: Any, golden: Cassette, account_of: Callable[[dict[str, Any]], str]) -> set[str]:
    """`account/region` of each region status row a write view carries."""
    table = environment(golden).get("DRS_REGION_STATUS_TABLE")
    if not isinstance(view, dict):
        return set()
    params = view["params"]
    if "Item" in params:
        items = [params["Item"]]
    else:
        items = [request["PutRequest"]["Item"] for request in params.get("RequestItems", {}).get(table, [])]
    return {f"{account_of(dynamodb_item(item))}/{dynamodb_item(item)['region']}" for item in items}


def _matcher(kind: str) -> Callable[[Difference, DivergenceContext], bool]:
    """The matcher of one of the three fixes."""

    def matches(difference: Difference, context: DivergenceContext) -> bool:
        """A difference this fix explains, in a candidate run that is exactly the planned one."""
        found = plan(context.golden)
        if found is None or not found.changed.get(kind):
            return False
        if difference.kind == "write":
            if tuple(candidate_writes(context.observed)) != found.writes:
                return False
            status_table = environment(context.golden).get("DRS_REGION_STATUS_TABLE")
            if difference.table == status_table:
                return bool(_difference_regions(difference, context) & found.changed[kind])
            inventory = environment(context.golden).get("SOURCE_SERVER_INVENTORY_TABLE")
            return kind == PAGES and difference.table == inventory
        if difference.kind == "read":
            observed = Counter(
                call_key(call.service, call.region, call.identity, call.operation, call.params)
                for call in context.observed
                if not is_write(call.operation)
            )
            return kind == PAGES and observed == +found.reads
        if difference.kind == "output" and kind == PAGES:
            return body_fields_differ("totalSynced", "totalErrors", where=counts_moved_by(plan))(difference, context)
        return False

    return matches


def _difference_regions(difference: Difference, context: DivergenceContext) -> set[str]:
    """The `account/region` of the rows a region status write difference touches (both sides)."""
    runs = account_runs(context.golden)
    by_region_account = {run.account_id for run in runs}

    def account_of(item: dict[str, Any]) -> str:
        """A batch row names its account; an `update_region_status` PutItem does not: any account of the run."""
        return str(item.get("accountId", "*"))

    regions = _regions_of(difference.golden, context.golden, account_of) | _regions_of(
        difference.candidate, context.golden, account_of
    )
    expanded: set[str] = set()
    for name in regions:
        account, _, region = name.partition("/")
        expanded.update({f"{other}/{region}" for other in by_region_account} if account == "*" else {name})
    return expanded


def _answers(golden: Cassette) -> list[Interaction]:
    """The fixes' new and changed calls, answered (see the module docstring)."""
    found = plan(golden)
    return [] if found is None else list(found.answers)


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-7-keep-pages-read",
        defect=7,
        description=(
            "An error on page N of a region keeps the servers of pages 1..N-1: they are enriched and written, the "
            "region still reports its error with serverCount the number of servers read, and totalSynced counts them."
        ),
        matcher=_matcher(PAGES),
        answers=_answers,
        shows_in=("throttled-page-two", "drs-connection-reset"),
    ),
    ApprovedDivergence(
        name="defect-7-scp-as-a-word",
        defect=7,
        description=(
            "'scp' classifies a DRS error as SCP_DENIED only as a word ('SCP', 'SCPs') or as 'service control "
            "policy', so unrelated messages ('ISCP', 'dscp') fall through to the next rows of the table."
        ),
        matcher=_matcher(SCP),
        shows_in=("defect-07-scp-as-a-word",),
    ),
    ApprovedDivergence(
        name="defect-7-unrecognized-client-region-not-enabled",
        defect=7,
        description=(
            "UnrecognizedClientException arriving as a ClientError is classified REGION_NOT_ENABLED 'Region not "
            "enabled in account', as on the non-ClientError path, instead of ERROR."
        ),
        matcher=_matcher(UNRECOGNIZED),
        shows_in=("drs-error-types",),
    ),
)
