"""What the inventory table holds when a fix's new cleanup calls reach it, computed from a golden and its scenario.

Several fixes make stale-cleanup calls the legacy never made (one cleanup Scan of every account read, a cleanup
after a run the legacy aborted). The golden has no answer for them, so their divergences declare `answers`, and the
answers must be what DynamoDB would return: the scenario's `inventory_before` rows (the file the golden's header
names, refused when its content hash no longer matches) plus every row the golden's run wrote to the inventory table
before its cleanup Scan, in write order, a later write of the same key replacing an earlier one. A Scan is answered
page by page as DynamoDB pages it: each page reads at most 1 MB of the table's items (rows in key order, sized as
DynamoDB sizes items), returns those of them the filter keeps (with only the attributes it projects, if it names
any), and names the last item read as `LastEvaluatedKey`, which the next page's call passes back. A DeleteItem of
any row the Scan returned is answered with an empty success.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from boto3.dynamodb.types import TypeSerializer

from harness.approved import facts
from harness.cassette import HUB_IDENTITY, Cassette, Interaction


class Scenario(Protocol):
    """What the answers need of a scenario (`harness.world.scenario.Scenario`): its identity and its rows before."""

    @property
    def inventory_before(self) -> tuple[Mapping[str, Any], ...]:
        """The inventory rows the world starts with."""
        ...

    def content_hash(self) -> str:
        """The scenario's content hash, as recording headers hold it."""
        ...


# The legacy's cleanup filter (one account); the fixed cleanup Scans up to 100 accounts at once, in 4 segments.
CLEANUP_FILTER = "sourceAccountId = :acct_id"
CLEANUP_SCAN_ACCOUNTS = 100
CLEANUP_SCAN_SEGMENTS = 4
# The attributes the fixed cleanup's Scan of several accounts asks for (its ProjectionExpression).
CLEANUP_ROW_FIELDS = ("sourceServerArn", "stagingAccountId", "sourceAccountId", "replicationRegion")
KEY_FIELDS = ("sourceServerArn", "stagingAccountId")
# The most item data one Scan page reads, before its filter applies (DynamoDB's 1 MB).
SCAN_PAGE_BYTES = 1024 * 1024

# A wire-form DynamoDB item: {"name": {"S": "value"}, ...}.
WireItem = dict[str, Any]


def inventory_table(golden: Cassette) -> str:
    """The inventory table's name in the golden's recorded environment."""
    return str(golden.header["environment"]["SOURCE_SERVER_INVENTORY_TABLE"])


def table_region(golden: Cassette) -> str:
    """The region the recorded run reached DynamoDB in."""
    return str(golden.header["environment"].get("AWS_DEFAULT_REGION", "us-east-1"))


# The scenarios recorded in this process, by content hash (a benchmark's recordings): their rows before the run.
_RECORDED_SCENARIOS: dict[str, Scenario] = {}


def remember_scenario(scenario: Scenario) -> None:
    """Keep a scenario recorded in this process, so the cleanup of its recordings is answered with its rows."""
    _RECORDED_SCENARIOS[scenario.content_hash()] = scenario


def rows_before(golden: Cassette) -> list[WireItem]:
    """The inventory rows before the run, when the recording's scenario was recorded in this process (else none:
    a live or shadow recording knows only the rows its run wrote and its legacy cleanup read)."""
    loaded = _RECORDED_SCENARIOS.get(str(golden.header.get("scenario", {}).get("content_hash")))
    if loaded is None:
        return []
    serializer = TypeSerializer()
    return [{name: serializer.serialize(value) for name, value in row.items()} for row in loaded.inventory_before]


def key_of(item: WireItem) -> tuple[str, str]:
    """An inventory row's primary key as plain strings (wire values rendered as text)."""
    plain = facts.plain({name: item[name] for name in KEY_FIELDS if name in item})
    return (str(plain.get("sourceServerArn", "")), str(plain.get("stagingAccountId", "")))


def rows_at_cleanup(golden: Cassette) -> list[WireItem]:
    """The inventory rows a stale-cleanup Scan finds, in key order: after the golden's writes, before its own cleanup.

    That is the rows before the run, changed by every write the golden made before its first Scan of the inventory
    table (the legacy's cleanup Scan, which follows its last inventory write), and every row that Scan returned (what
    the table held for the legacy's account, which is all a live or shadow recording knows of the rows before it).
    The legacy's cleanup deletes come after its Scan and are not applied: a fixed cleanup's Scan replaces the legacy's
    and reads the same table.
    """
    table = inventory_table(golden)
    rows: dict[tuple[str, str], WireItem] = {key_of(row): row for row in rows_before(golden)}
    scanned = False
    for interaction in golden.interactions:
        if interaction.operation == "Scan" and interaction.params.get("TableName") == table:
            scanned = True
            for item in (interaction.response or {}).get("Items", []):
                rows[key_of(item)] = item
        elif not scanned:
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


def accounts_rows(rows: Sequence[WireItem], account_ids: Sequence[Any]) -> list[WireItem]:
    """The rows a cleanup Scan filtered on the accounts `account_ids` returns (types compared as DynamoDB does)."""
    serializer = TypeSerializer()
    wanted = [serializer.serialize(account_id) for account_id in account_ids]
    return [row for row in rows if row.get("sourceAccountId") in wanted]


def cleanup_scan_params(golden: Cassette, account_ids: Sequence[Any], segment: int = 0) -> dict[str, Any]:
    """The wire parameters of the stale-cleanup Scan of `account_ids` (1 to 100), as the sync sends them (first page).

    One account: the legacy's own filter (`sourceAccountId = :acct_id`). Several: `sourceAccountId IN (:acct_0, ...)`,
    placeholders numbered in account order, projected on the attributes the cleanup reads (`CLEANUP_ROW_FIELDS`), as
    segment `segment` of a parallel Scan in `CLEANUP_SCAN_SEGMENTS`.
    """
    serializer = TypeSerializer()
    table = inventory_table(golden)
    if len(account_ids) == 1:
        values = {":acct_id": serializer.serialize(account_ids[0])}
        return {"TableName": table, "FilterExpression": CLEANUP_FILTER, "ExpressionAttributeValues": values}
    values = {f":acct_{number}": serializer.serialize(account) for number, account in enumerate(account_ids)}
    return {
        "TableName": table,
        "FilterExpression": f"sourceAccountId IN ({', '.join(values)})",
        "ExpressionAttributeValues": values,
        "ProjectionExpression": ", ".join(CLEANUP_ROW_FIELDS),
        "Segment": segment,
        "TotalSegments": CLEANUP_SCAN_SEGMENTS,
    }


def scan_segments(rows: Sequence[WireItem], total: int) -> list[list[WireItem]]:
    """The rows each segment of a parallel Scan in `total` segments reads: consecutive runs of the table's rows.

    DynamoDB splits a table's items into segments by ranges of its keys' hashes, so a Scan of the whole table reads
    the segments one after another: here the table's rows are in key order, and segment i holds the i-th run of
    them, so the segments' rows joined in segment order are the rows of a Scan of the whole table, in its order.
    """
    return [list(rows[len(rows) * index // total : len(rows) * (index + 1) // total]) for index in range(total)]


def projected(rows: Sequence[WireItem], projection: str | None) -> list[WireItem]:
    """`rows` as a Scan with `projection` (attribute names, comma-separated) returns them: only those attributes."""
    if projection is None:
        return list(rows)
    names = [name.strip() for name in projection.split(",")]
    return [{name: row[name] for name in names if name in row} for row in rows]


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
    """The fixed cleanup of `account_ids` answered from the table the legacy's cleanup found, as the sync makes it: per
    100 accounts, one Scan's pages (for several accounts, each segment's), then a DeleteItem per row it found, in
    scan order."""
    rows = rows_at_cleanup(golden)
    table, region = inventory_table(golden), table_region(golden)
    accounts = list(account_ids)
    declared: list[Interaction] = []
    for first in range(0, len(accounts), CLEANUP_SCAN_ACCOUNTS):
        chunk = accounts[first : first + CLEANUP_SCAN_ACCOUNTS]
        segments = [rows] if len(chunk) == 1 else scan_segments(rows, CLEANUP_SCAN_SEGMENTS)
        found: list[WireItem] = []
        for segment, segment_rows in enumerate(segments):
            params = cleanup_scan_params(golden, chunk, segment)
            found.extend(_answer_scan(declared, params, segment_rows, chunk, region))
        for row in found:
            key = {name: row[name] for name in KEY_FIELDS if name in row}
            declared.append(answer("DeleteItem", {"TableName": table, "Key": key}, region=region))
    return declared


def _answer_scan(
    declared: list[Interaction],
    first_page: dict[str, Any],
    rows: Sequence[WireItem],
    account_ids: Sequence[Any],
    region: str,
) -> list[WireItem]:
    """Declare the pages of one Scan (`first_page`'s parameters, in `region`) of `rows`, 1 MB at a time; return the
    rows it finds."""
    pages = scan_pages(rows)
    start: WireItem | None = None
    found: list[WireItem] = []
    for number, page in enumerate(pages):
        kept = projected(accounts_rows(page, account_ids), first_page.get("ProjectionExpression"))
        response: dict[str, Any] = {"Items": kept, "Count": len(kept), "ScannedCount": len(page)}
        if number < len(pages) - 1:
            response["LastEvaluatedKey"] = {name: page[-1][name] for name in KEY_FIELDS if name in page[-1]}
        params = first_page if start is None else {**first_page, "ExclusiveStartKey": start}
        declared.append(answer("Scan", params, response, region=region))
        start = response.get("LastEvaluatedKey")
        found.extend(kept)
    return found


def live_cleanup_answers(recording: Cassette) -> list[Interaction]:
    """The fixed cleanup of every account a recording's run read, answered from what the recording knows of the
    table (`rows_at_cleanup`): what a recording with no approved record answers the fixed sync's cleanup from."""
    unread = facts.unread_accounts(recording)
    accounts = [row.get("accountId") for row in facts.target_rows(recording) if str(row.get("accountId")) not in unread]
    return cleanup_answers(recording, accounts) if len(accounts) > 1 else []


def answer(
    operation: str, params: dict[str, Any], response: dict[str, Any] | None = None, *, region: str
) -> Interaction:
    """One DynamoDB answer: the call as the fixed sync makes it, and the response (an empty success by default)."""
    ok = {"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}}
    return Interaction("dynamodb", region, HUB_IDENTITY, operation, params, dict(response or ok))
