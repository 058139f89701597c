"""What the inventory table holds when a fix's new cleanup calls reach it, computed from a golden and its scenario.

Several fixes make stale-cleanup calls the legacy never made (a cleanup Scan per account, a cleanup after a run the
legacy aborted). The golden has no answer for them, so their divergences declare `answers`, and the answers must be
what DynamoDB would return: the scenario's `inventory_before` rows (the file the golden's header names, refused when
its content hash no longer matches) plus every row the golden's run wrote to the inventory table, in write order, a
later write of the same key replacing an earlier one, less the rows the golden deleted. A Scan is answered page by
page as DynamoDB pages it: each page reads at most 1 MB of the table's items (rows in key order, sized as DynamoDB
sizes items), returns those of them the filter keeps, and names the last item read as `LastEvaluatedKey`, which the
next page's call passes back. A DeleteItem of any row the Scan returned is answered with an empty success.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from boto3.dynamodb.types import TypeSerializer

from harness.cassette import Cassette, Interaction
from harness.divergences import UnanswerableError, answer, dynamodb_item
from harness.lambda_env import REPO_ROOT


class Scenario(Protocol):
    """What the answers need of a scenario (`harness.world.scenario.Scenario`): its identity and its rows before."""

    @property
    def inventory_before(self) -> tuple[Mapping[str, Any], ...]:
        """The inventory rows the world starts with."""
        ...

    def content_hash(self) -> str:
        """The scenario's content hash, as golden headers record it."""
        ...


CLEANUP_FILTER = "sourceAccountId = :acct_id"
KEY_FIELDS = ("sourceServerArn", "stagingAccountId")
# The most item data one Scan page reads, before its filter applies (DynamoDB's 1 MB).
SCAN_PAGE_BYTES = 1024 * 1024

# A wire-form DynamoDB item: {"name": {"S": "value"}, ...}.
WireItem = dict[str, Any]


class StaleScenarioError(Exception):
    """The scenario file a golden names is missing or changed since the golden was recorded."""


class NoScenarioError(UnanswerableError):
    """The recording names no scenario (a live or shadow run): answers that need its world cannot be given."""


def inventory_table(golden: Cassette) -> str:
    """The inventory table's name in the golden's recorded environment."""
    return str(golden.header["environment"]["SOURCE_SERVER_INVENTORY_TABLE"])


def table_region(golden: Cassette) -> str:
    """The region the recorded run reached DynamoDB in."""
    return str(golden.header["environment"].get("AWS_DEFAULT_REGION", "us-east-1"))


# The scenarios recorded in this process, by content hash: a golden recorded from a generated (in-memory) world has
# no scenario file, and answers for a fix's new calls need the world it was recorded in (`remember_scenario`).
_RECORDED_SCENARIOS: dict[str, Scenario] = {}
# The scenario parser, imported by name where a scenario file must be read: it belongs to the local AWS, which the
# Lambda package leaves out (shadow mode's recordings name no scenario file and never reach it).
SCENARIO_MODULE = "harness.world.scenario"


def remember_scenario(scenario: Scenario) -> None:
    """Keep a scenario recorded in this process, so goldens recorded from it can be answered without a file."""
    _RECORDED_SCENARIOS[scenario.content_hash()] = scenario


def scenario_of(golden: Cassette) -> Scenario:
    """The scenario the golden was recorded from: remembered in this process, or read from the file it names.

    A world recorded in this process (a generated one has no file) is found by its content hash; otherwise the
    scenario file the header names is read, and refused when it changed since the recording. A recording of a live
    or shadow run names no scenario: `NoScenarioError`, so answers that need the world are not given.
    """
    scenario = golden.header.get("scenario", {})
    loaded = _RECORDED_SCENARIOS.get(str(scenario.get("content_hash")))
    if loaded is not None:
        return loaded
    if not scenario.get("file"):
        raise NoScenarioError(f"recording {scenario.get('name')!r} names no scenario (a live or shadow run)")
    path = REPO_ROOT / str(scenario["file"])
    if not path.is_file():
        raise StaleScenarioError(f"{path}: the scenario of golden {scenario.get('name')!r} is missing")
    found: Scenario = importlib.import_module(SCENARIO_MODULE).load_scenario(path)
    if scenario.get("content_hash") and found.content_hash() != scenario["content_hash"]:
        raise StaleScenarioError(
            f"{path}: changed since golden {scenario.get('name')!r} was recorded (content_hash "
            f"{found.content_hash()} != {scenario['content_hash']}); re-record the golden with `make goldens`"
        )
    return found


def rows_before(golden: Cassette) -> list[WireItem]:
    """The scenario's `inventory_before` rows in wire form: the world the golden was recorded in.

    A recording of a live or shadow run names no scenario: its table before the run is unknown (reading it would be an
    extra AWS call), so only the rows its own run wrote are known, and a cleanup answered from them finds no older
    stale row.
    """
    try:
        loaded = scenario_of(golden)
    except NoScenarioError:
        return []
    serializer = TypeSerializer()
    return [{name: serializer.serialize(value) for name, value in row.items()} for row in loaded.inventory_before]


def key_of(item: WireItem) -> tuple[str, str]:
    """An inventory row's primary key as plain strings (wire values rendered as text)."""
    plain = dynamodb_item({name: item[name] for name in KEY_FIELDS if name in item})
    return (str(plain.get("sourceServerArn", "")), str(plain.get("stagingAccountId", "")))


def rows_after_run(golden: Cassette) -> list[WireItem]:
    """The inventory rows after the golden's writes and deletes, in key order."""
    table = inventory_table(golden)
    rows: dict[tuple[str, str], WireItem] = {key_of(row): row for row in rows_before(golden)}
    for interaction in golden.interactions:
        for put, item in _inventory_changes(interaction, table):
            if put:
                rows[key_of(item)] = item
            else:
                rows.pop(key_of(item), None)
    return [rows[key] for key in sorted(rows)]


def _inventory_changes(interaction: Interaction, table: str) -> Iterable[tuple[bool, WireItem]]:
    """(is a put, the item or key) for each inventory change a successful recorded call made."""
    if interaction.response is None or interaction.exception is not None or interaction.error is not None:
        return
    params = interaction.params
    if interaction.operation == "BatchWriteItem":
        unprocessed = interaction.response.get("UnprocessedItems", {}).get(table, [])
        for request in params.get("RequestItems", {}).get(table, []):
            if request in unprocessed:
                continue
            if "PutRequest" in request:
                yield True, request["PutRequest"]["Item"]
            elif "DeleteRequest" in request:
                yield False, request["DeleteRequest"]["Key"]
    elif params.get("TableName") == table and interaction.operation == "PutItem":
        yield True, params["Item"]
    elif params.get("TableName") == table and interaction.operation == "DeleteItem":
        yield False, params["Key"]


def account_rows(rows: Sequence[WireItem], account_id: Any) -> list[WireItem]:
    """The rows a cleanup Scan filtered on `sourceAccountId = account_id` returns (types compared as DynamoDB does)."""
    wanted = TypeSerializer().serialize(account_id)
    return [row for row in rows if row.get("sourceAccountId") == wanted]


def cleanup_scan_params(golden: Cassette, account_id: Any) -> dict[str, Any]:
    """The wire parameters of the stale-cleanup Scan of one account, as the sync sends them (first page)."""
    return {
        "TableName": inventory_table(golden),
        "FilterExpression": CLEANUP_FILTER,
        "ExpressionAttributeValues": {":acct_id": TypeSerializer().serialize(account_id)},
    }


def attribute_value_size(value: dict[str, Any]) -> int:
    """The bytes DynamoDB counts for one attribute value in wire form (strings and numbers by their length).

    Strings and binaries count their length, numbers about one byte per two digits plus one, booleans and nulls one
    byte, lists and maps three bytes plus their elements (and, for a map, its keys); sets sum their members.
    """
    ((kind, data),) = value.items()
    if kind in ("S", "B"):
        return len(str(data).encode("utf-8"))
    if kind == "N":
        return len(str(data).lstrip("-").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(len(name.encode("utf-8")) + 1 + attribute_value_size(element) for name, element in data.items())
    return sum(attribute_value_size({kind[0]: member}) for member in data)  # SS, NS, BS


def item_size(item: WireItem) -> int:
    """An item's size as DynamoDB counts it: its attribute names and values."""
    return sum(len(name.encode("utf-8")) + attribute_value_size(value) for name, value in item.items())


def scan_pages(rows: Sequence[WireItem]) -> list[list[WireItem]]:
    """The rows each Scan page reads, in order: as many as fit in `SCAN_PAGE_BYTES` (at least one); one empty page
    for an empty table."""
    pages: list[list[WireItem]] = [[]]
    size = 0
    for row in rows:
        row_size = item_size(row)
        if pages[-1] and size + row_size > SCAN_PAGE_BYTES:
            pages.append([])
            size = 0
        pages[-1].append(row)
        size += row_size
    return pages


def cleanup_answers(golden: Cassette, account_ids: Iterable[Any]) -> list[Interaction]:
    """For each account: its cleanup Scan's pages answered from the table after the run, and a DeleteItem per row."""
    pages = scan_pages(rows_after_run(golden))
    table, region = inventory_table(golden), table_region(golden)
    declared: list[Interaction] = []
    for account_id in account_ids:
        first_page = cleanup_scan_params(golden, account_id)
        start: WireItem | None = None
        found: list[WireItem] = []
        for number, page in enumerate(pages):
            kept = account_rows(page, account_id)
            response: dict[str, Any] = {"Items": kept, "Count": len(kept), "ScannedCount": len(page)}
            if number < len(pages) - 1:
                response["LastEvaluatedKey"] = {name: page[-1][name] for name in KEY_FIELDS if name in page[-1]}
            params = first_page if start is None else {**first_page, "ExclusiveStartKey": start}
            declared.append(answer("Scan", params, response, region=region))
            start = response.get("LastEvaluatedKey")
            found.extend(kept)
        for row in found:
            key = {name: row[name] for name in KEY_FIELDS if name in row}
            declared.append(answer("DeleteItem", {"TableName": table, "Key": key}, region=region))
    return declared
