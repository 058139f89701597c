"""A golden's run read back account by account: DRS listings, region completion order, inventory and status writes.

Fixes that make the sync write inventory rows or region statuses the legacy did not (defects 7 and 10) state their
expected writes relative to the golden's own. The legacy syncs accounts one after another, so its DescribeSourceServers
calls of one account form one contiguous run; everything up to the next such run (region statuses, EC2, inventory)
belongs to that account (`AccountRun`). The region statuses are written in completion order, which is also the order
of the account's servers (`all_servers`), so the position of a row the fix adds is known from them.
`expected_writes` then gives the whole write sequence a fix should make (the golden's, with one account's inventory
batches replaced) and the BatchWriteItem answers for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from harness.approved.inventory_items import Ec2Details, details_of_response, expected_item, wire_item
from harness.cassette import HUB_IDENTITY, Cassette, Interaction
from harness.divergences import DivergenceContext, answer, body_of, dynamodb_item, response_of
from harness.matchers import CallKey, call_key, is_write

BATCH_SIZE = 25
BATCH_OK: dict[str, Any] = {"UnprocessedItems": {}, "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}


def failed(interaction: Interaction) -> bool:
    """Whether a recorded call failed (an AWS error or no response at all)."""
    if interaction.exception is not None or interaction.response is None:
        return True
    return int(interaction.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)) >= 300


@dataclass
class Listing:
    """One region's DescribeSourceServers pages of one account: servers of the pages read, and the failing call."""

    region: str
    servers: list[dict[str, Any]] = field(default_factory=list)
    failure: Interaction | None = None
    failed_page: int | None = None


@dataclass
class AccountRun:
    """The calls of one account in the golden, from its first DescribeSourceServers to the next account's."""

    identity: str
    account_id: Any
    start: int
    end: int
    listings: dict[str, Listing]
    region_order: list[str]
    ec2_details: Ec2Details
    inventory_writes: list[int]
    status_writes: list[int]

    def all_servers(self, keep_failed_pages: bool = False) -> list[tuple[dict[str, Any], Listing]]:
        """The servers in the order the sync saw them, regions in completion order.

        A failed region gives none, or (`keep_failed_pages`, defect 7's fix) the servers of the pages read before it.
        """
        return [
            (server, listing)
            for region in self.region_order
            for listing in [self.listings[region]]
            if listing.failure is None or keep_failed_pages
            for server in listing.servers
        ]


def environment(golden: Cassette) -> dict[str, Any]:
    """The golden's recorded environment."""
    return dict(golden.header.get("environment", {}))


def now_of(golden: Cassette) -> str:
    """The sync's one timestamp (`datetime.now(UTC).isoformat()` under the frozen clock)."""
    from datetime import datetime

    return datetime.fromisoformat(str(golden.header["clock"])).isoformat()


def account_runs(golden: Cassette) -> list[AccountRun]:
    """Every account of the golden that got as far as DRS, in sync order."""
    interactions = golden.interactions
    starts = [
        index
        for index, interaction in enumerate(interactions)
        if interaction.operation == "DescribeSourceServers"
        and (index == 0 or interactions[index - 1].operation != "DescribeSourceServers")
    ]
    bounds = list(zip(starts, [*starts[1:], len(interactions)], strict=False))
    return [_account_run(golden, start, end) for start, end in bounds]


def _account_run(golden: Cassette, start: int, end: int) -> AccountRun:
    """Read one account's stretch of the golden."""
    env = environment(golden)
    inventory, status_table = env.get("SOURCE_SERVER_INVENTORY_TABLE"), env.get("DRS_REGION_STATUS_TABLE")
    listings: dict[str, Listing] = {}
    ec2: Ec2Details = {}
    inventory_writes: list[int] = []
    status_writes: list[int] = []
    identity = golden.interactions[start].identity
    region_order: list[str] = []
    account_id: Any = None if identity == HUB_IDENTITY else identity
    for index in range(start, end):
        interaction = golden.interactions[index]
        operation, params = interaction.operation, interaction.params
        if operation == "DescribeSourceServers":
            listing = listings.setdefault(interaction.region, Listing(interaction.region))
            if listing.failure is not None:
                continue
            if failed(interaction):
                listing.failure = interaction
                listing.failed_page = 1 + sum(1 for _ in _pages_before(golden, start, index))
            else:
                for server in (interaction.response or {}).get("items", []):
                    listing.servers.append({**server, "_queryRegion": interaction.region})
        elif operation == "DescribeInstances" and not failed(interaction):
            ec2.update(details_of_response(interaction.response or {}))
        elif operation == "BatchWriteItem" and inventory in params.get("RequestItems", {}):
            inventory_writes.append(index)
        elif is_write(operation) and status_table is not None and status_table in _tables(params):
            status_writes.append(index)
            if operation == "BatchWriteItem":
                for request in params["RequestItems"][status_table]:
                    row = dynamodb_item(request["PutRequest"]["Item"])
                    if str(row["region"]) not in region_order:  # a resent (unprocessed) row comes again
                        region_order.append(str(row["region"]))
                    account_id = row.get("accountId", account_id)
    if not region_order:
        region_order = list(listings)
    return AccountRun(identity, account_id, start, end, listings, region_order, ec2, inventory_writes, status_writes)


def _pages_before(golden: Cassette, start: int, index: int) -> list[int]:
    """The earlier DescribeSourceServers calls of the same region and identity in the account's run."""
    call = golden.interactions[index]
    return [
        earlier
        for earlier in range(start, index)
        if golden.interactions[earlier].operation == "DescribeSourceServers"
        and golden.interactions[earlier].region == call.region
        and golden.interactions[earlier].identity == call.identity
    ]


def _tables(params: dict[str, Any]) -> tuple[str, ...]:
    """The tables a DynamoDB write names."""
    if isinstance(params.get("TableName"), str):
        return (params["TableName"],)
    return tuple(params.get("RequestItems", {}))


def inventory_puts(golden: Cassette, run: AccountRun) -> list[dict[str, Any]] | None:
    """The wire items of the account's inventory batches, in order; None if a batch left items unprocessed."""
    table = environment(golden)["SOURCE_SERVER_INVENTORY_TABLE"]
    items: list[dict[str, Any]] = []
    for index in run.inventory_writes:
        interaction = golden.interactions[index]
        if failed(interaction) or (interaction.response or {}).get("UnprocessedItems"):
            return None
        items.extend(request["PutRequest"]["Item"] for request in interaction.params["RequestItems"][table])
    return items


@dataclass(frozen=True)
class InventoryChange:
    """What a fix changes in one account's inventory: the rows it now writes, the ones it adds, and the counts."""

    run: AccountRun
    items: list[dict[str, Any]]
    added: list[dict[str, Any]]
    synced_delta: int
    errors_delta: int


def inventory_change(
    golden: Cassette,
    run: AccountRun,
    now_written: Callable[[dict[str, Any], Listing], bool],
    errors_before: Callable[[dict[str, Any], Listing], bool],
    keep_failed_pages: bool = False,
    extra_ec2: Ec2Details | None = None,
) -> InventoryChange | None:
    """The account's inventory rows once a fix writes the servers `now_written` selects, at their place in order.

    Walks the servers in the order the sync sees them: a server whose row the golden wrote keeps the golden's row; a
    server `now_written` selects gets its row built (`expected_item`; one that still cannot be built stays an error);
    any other server was not written by the legacy and still is not. `errors_before` says whether the legacy counted
    a selected server as an error (defect 10) or never saw it (defect 7). None when the golden's rows do not line up
    with its DRS documents (an unsupported golden).
    """
    golden_items = inventory_puts(golden, run)
    if golden_items is None:
        return None
    details = {**run.ec2_details, **(extra_ec2 or {})}
    now = now_of(golden)
    items: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    synced = errors = 0
    position = 0
    for server, listing in run.all_servers(keep_failed_pages):
        arn = server.get("arn") or ""
        if position < len(golden_items) and dynamodb_item(golden_items[position])["sourceServerArn"] == arn:
            items.append(golden_items[position])
            position += 1
            continue
        if not now_written(server, listing):
            continue
        was_error = errors_before(server, listing)
        try:
            row = wire_item(expected_item(server, run.account_id, now, details))
        except Exception:
            errors += 0 if was_error else 1
            continue
        items.append(row)
        added.append(row)
        synced += 1
        errors -= 1 if was_error else 0
    if position != len(golden_items):
        return None
    return InventoryChange(run, items, added, synced, errors)


def batches(golden: Cassette, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """BatchWriteItem parameters for `items` as the batch writer sends them: 25 puts a call, in order."""
    table = environment(golden)["SOURCE_SERVER_INVENTORY_TABLE"]
    return [
        {"RequestItems": {table: [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_SIZE]]}}
        for start in range(0, len(items), BATCH_SIZE)
    ]


def table_region(golden: Cassette) -> str:
    """The region the run reached DynamoDB in."""
    return str(environment(golden).get("AWS_DEFAULT_REGION") or "us-east-1")


def batch_answers(golden: Cassette, params: Sequence[dict[str, Any]]) -> list[Interaction]:
    """Each BatchWriteItem answered with an empty success (nothing unprocessed)."""
    region = table_region(golden)
    return [answer("BatchWriteItem", batch, BATCH_OK, region=region) for batch in params]


def expected_writes(
    golden: Cassette, replacements: Mapping[tuple[int, int], Sequence[dict[str, Any]]]
) -> list[CallKey]:
    """The golden's write sequence with some stretches replaced by other DynamoDB writes (hub, the table's region).

    Keys are `(first, last)` golden interaction indexes, inclusive; an empty stretch `(n, n - 1)` inserts before
    golden interaction n.
    """
    region = table_region(golden)
    keys: list[CallKey] = []
    pending = sorted(replacements.items())
    for index, interaction in enumerate([*golden.interactions, None]):
        for _stretch, params in [item for item in pending if item[0][0] == index]:
            keys.extend(call_key("dynamodb", region, HUB_IDENTITY, _operation(call), call) for call in params)
        if interaction is None:
            break
        if any(first <= index <= last for (first, last), _ in pending):
            continue
        if is_write(interaction.operation):
            call = interaction
            keys.append(call_key(call.service, call.region, call.identity, call.operation, call.params))
    return keys


def _operation(params: dict[str, Any]) -> str:
    """The DynamoDB write operation a replacement's parameters are for."""
    if "RequestItems" in params:
        return "BatchWriteItem"
    return "PutItem" if "Item" in params else "DeleteItem"


def candidate_writes(observed: Sequence[Any]) -> list[CallKey]:
    """The candidate's write sequence, as match keys."""
    return [
        call_key(call.service, call.region, call.identity, call.operation, call.params)
        for call in observed
        if is_write(call.operation)
    ]


def inventory_stretch(run: AccountRun) -> tuple[int, int]:
    """Where an account's inventory batches are in the golden, or (empty) where they would go after its statuses."""
    if run.inventory_writes:
        return (run.inventory_writes[0], run.inventory_writes[-1])
    after = (run.status_writes[-1] + 1) if run.status_writes else run.start
    return (after, after - 1)


def scenario_of(golden: Cassette) -> Any:
    """The scenario (`harness.world.scenario.Scenario`) the golden was recorded from (`inventory_state.scenario_of`)."""
    from harness.approved.inventory_state import scenario_of as recorded_world

    return recorded_world(golden)


_Plan = TypeVar("_Plan")
PLAN_CACHE_SIZE = 64


def cached_per_golden(compute: Callable[[Cassette], _Plan]) -> Callable[[Cassette], _Plan]:
    """`compute(golden)` cached per golden object (a matcher is asked once per difference, a golden's all in a row)."""
    cache: dict[int, tuple[Cassette, _Plan]] = {}

    def cached(golden: Cassette) -> _Plan:
        """The cached result for this very golden, computed on first use."""
        hit = cache.get(id(golden))
        if hit is not None and hit[0] is golden:
            return hit[1]
        result = compute(golden)
        if len(cache) > PLAN_CACHE_SIZE:
            cache.clear()
        cache[id(golden)] = (golden, result)
        return result

    cached.__doc__ = compute.__doc__
    return cached


class CountsPlan(Protocol):
    """A fix's plan that moves the response's counts: servers now written (synced) and errors no longer counted."""

    @property
    def synced_delta(self) -> int:
        """How many more items the fix counts as synced."""
        ...

    @property
    def errors_delta(self) -> int:
        """How many more (negative: fewer) errors the fix counts."""
        ...


def counts_moved_by(
    plan: Callable[[Cassette], CountsPlan | None],
) -> Callable[[dict[str, Any], dict[str, Any], DivergenceContext], bool]:
    """A body test: the candidate's totalSynced and totalErrors moved by exactly the plan's deltas.

    Checked on the candidate's whole response (an output part shows one field's change only).
    """

    def counts_moved(golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext) -> bool:
        """totalSynced and totalErrors of the whole candidate response against the golden's plus the deltas."""
        found = plan(context.golden)
        whole = body_of(response_of(context.outputs.to_dict()))
        if found is None or whole is None:
            return False
        return bool(
            whole["totalSynced"] == golden["totalSynced"] + found.synced_delta
            and whole["totalErrors"] == golden["totalErrors"] + found.errors_delta
        )

    return counts_moved
