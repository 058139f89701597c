"""The answers a fix's extra cleanup Scans get (`inventory_state.cleanup_answers`): DynamoDB's pages, not one page.

A cleanup Scan filtered on its accounts reads the whole table, 1 MB of items per page, and returns the matching rows
of each page. The declared answers page the table as the golden's cleanup found it the same way, so a replay answers
the candidate's paginated Scan call for call, and never with one page larger than DynamoDB would send.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from harness.approved.inventory_state import (
    SCAN_PAGE_BYTES,
    accounts_rows,
    cleanup_answers,
    cleanup_scan_accounts,
    cleanup_scan_params,
    item_size,
    rows_at_cleanup,
    scan_pages,
)
from harness.cassette import HUB_IDENTITY, Cassette, Interaction
from tests.unit.support import cleanup_segment_params

TABLE = "source-server-inventory"
ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"


def row(number: int, account: str) -> dict[str, Any]:
    """An inventory row of about 1.3 KB in wire form."""
    plain = {
        "sourceServerArn": f"arn:aws:drs:us-east-1:{account}:source-server/s-{number:017x}",
        "stagingAccountId": account,
        "sourceAccountId": account,
        "hostname": f"web-{number:05d}",
        "osName": "Microsoft Windows Server 2022 Datacenter " + "x" * 1200,
        "cpuCores": 8,
        "disks": [{"deviceName": "/dev/xvda", "bytes": 1000}],
    }
    serializer = TypeSerializer()
    return {name: serializer.serialize(value) for name, value in plain.items()}


def golden_writing(rows: list[dict[str, Any]]) -> Cassette:
    """A recording (of no scenario file) whose run put `rows` into the inventory table, 25 per BatchWriteItem."""
    writes = [
        Interaction(
            "dynamodb",
            "us-east-1",
            HUB_IDENTITY,
            "BatchWriteItem",
            {"RequestItems": {TABLE: [{"PutRequest": {"Item": item}} for item in rows[start : start + 25]]}},
            {"UnprocessedItems": {}},
        )
        for start in range(0, len(rows), 25)
    ]
    header = {"environment": {"SOURCE_SERVER_INVENTORY_TABLE": TABLE}, "scenario": {"name": "written"}}
    return Cassette(header, writes)


def test_a_table_over_a_megabyte_is_answered_in_pages_chained_by_their_last_evaluated_key() -> None:
    rows = [row(number, ACCOUNT_A if number % 3 else ACCOUNT_B) for number in range(2400)]
    golden = golden_writing(rows)

    answers = cleanup_answers(golden, [ACCOUNT_A])
    scans = [answer for answer in answers if answer.operation == "Scan"]
    deletes = [answer for answer in answers if answer.operation == "DeleteItem"]

    table_rows = rows_at_cleanup(golden)
    assert len(scans) == len(scan_pages(table_rows)) >= sum(map(item_size, table_rows)) / SCAN_PAGE_BYTES > 2
    assert scans[0].params == cleanup_scan_params(golden, [ACCOUNT_A])
    for previous, following in pairwise(scans):
        assert following.params == {**scans[0].params, "ExclusiveStartKey": previous.response["LastEvaluatedKey"]}
    assert "LastEvaluatedKey" not in scans[-1].response
    returned = [item for scan in scans for item in scan.response["Items"]]
    assert returned == accounts_rows(table_rows, [ACCOUNT_A])
    assert sum(scan.response["ScannedCount"] for scan in scans) == len(rows)
    assert all(sum(map(item_size, page)) <= SCAN_PAGE_BYTES for page in scan_pages(table_rows))
    assert len(deletes) == len(returned) == 1600


def test_a_small_or_empty_table_is_one_page() -> None:
    small = golden_writing([row(number, ACCOUNT_A) for number in range(3)])
    empty = golden_writing([])

    (small_scan, *small_deletes) = cleanup_answers(small, [ACCOUNT_A])
    (empty_scan,) = cleanup_answers(empty, [ACCOUNT_A])

    assert (small_scan.response["Count"], small_scan.response["ScannedCount"], len(small_deletes)) == (3, 3, 3)
    assert "LastEvaluatedKey" not in small_scan.response
    assert empty_scan.response == {"Items": [], "Count": 0, "ScannedCount": 0}


def test_item_sizes_count_names_and_values_as_dynamodb_does() -> None:
    assert item_size({"id": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}, "flag": {"BOOL": True}, "none": {"NULL": True}}) == (1 + 3) + (4 + 1) + 5
    assert item_size({"m": {"M": {"k": {"S": "v"}}}, "l": {"L": [{"S": "ab"}]}}) == (1 + 3 + 1 + 1 + 1) + (
        1 + 3 + 1 + 2
    )


def test_several_accounts_are_answered_by_the_segments_of_one_scan_naming_them_in_order() -> None:
    rows = [row(number, [ACCOUNT_A, ACCOUNT_B, "333333333333"][number % 3]) for number in range(9)]
    golden = golden_writing(rows)

    answers = cleanup_answers(golden, [ACCOUNT_B, ACCOUNT_A])
    scans = [answer for answer in answers if answer.operation == "Scan"]
    deletes = [answer for answer in answers if answer.operation == "DeleteItem"]

    assert [scan.params for scan in scans] == cleanup_segment_params(TABLE, [ACCOUNT_B, ACCOUNT_A])
    assert all(cleanup_scan_accounts(scan.params) == [ACCOUNT_B, ACCOUNT_A] for scan in scans)
    # The segments read consecutive runs of the table: joined, they are a Scan of the whole table, in its order.
    assert [scan.response["ScannedCount"] for scan in scans] == [2, 2, 2, 3]
    fields = ("sourceServerArn", "stagingAccountId", "sourceAccountId")  # the rows here have no replicationRegion
    in_table_order = [
        {name: item[name] for name in fields}
        for item in rows_at_cleanup(golden)
        if item["sourceAccountId"]["S"] != "333333333333"
    ]
    assert [item for scan in scans for item in scan.response["Items"]] == in_table_order
    assert [delete.params["Key"]["sourceServerArn"] for delete in deletes] == [
        item["sourceServerArn"] for item in in_table_order
    ]


def test_over_a_hundred_accounts_take_a_scan_per_hundred() -> None:
    accounts = [f"{number:012d}" for number in range(1, 206)]
    golden = golden_writing([row(number, account) for number, account in enumerate(accounts)])

    scans = [answer for answer in cleanup_answers(golden, accounts) if answer.operation == "Scan"]

    named = [accounts[:100]] * 4 + [accounts[100:200]] * 4 + [accounts[200:]] * 4
    assert [cleanup_scan_accounts(scan.params) for scan in scans] == named
    per_hundred = [sum(scan.response["Count"] for scan in scans[first : first + 4]) for first in (0, 4, 8)]
    assert per_hundred == [100, 100, 5]


def test_only_the_cleanup_filters_name_accounts() -> None:
    legacy = {"FilterExpression": "sourceAccountId = :acct_id", "ExpressionAttributeValues": {":acct_id": {"N": "7"}}}

    assert cleanup_scan_accounts(legacy) == [7]
    assert cleanup_scan_accounts({"TableName": TABLE}) is None
    assert cleanup_scan_accounts({**legacy, "FilterExpression": "sourceAccountId IN (:acct_0)"}) is None
    assert cleanup_scan_accounts({**legacy, "FilterExpression": "hostname = :acct_id"}) is None


def test_the_table_is_answered_as_the_cleanup_found_it_before_the_legacy_deleted() -> None:
    rows = [row(number, ACCOUNT_A) for number in range(3)]
    golden = golden_writing(rows)
    legacy_cleanup = [
        Interaction("dynamodb", "us-east-1", HUB_IDENTITY, "Scan", cleanup_scan_params(golden, [ACCOUNT_A]), {}),
        Interaction(
            "dynamodb",
            "us-east-1",
            HUB_IDENTITY,
            "DeleteItem",
            {"TableName": TABLE, "Key": {name: rows[0][name] for name in ("sourceServerArn", "stagingAccountId")}},
            {},
        ),
    ]
    cleaned = Cassette(golden.header, [*golden.interactions, *legacy_cleanup])

    assert (
        rows_at_cleanup(cleaned)
        == rows_at_cleanup(golden)
        == sorted(rows, key=lambda item: item["sourceServerArn"]["S"])
    )


def test_rows_the_legacys_scan_found_are_answered_though_no_scenario_names_them() -> None:
    # A live or shadow recording names no scenario: the table before the run is known only from the legacy's own
    # cleanup Scan, which found a row no write of the run made (a stale row of the last account).
    written = [row(number, ACCOUNT_A) for number in range(2)]
    stale = row(99, ACCOUNT_B)
    golden = golden_writing(written)
    legacy_scan = Interaction(
        "dynamodb",
        "us-east-1",
        HUB_IDENTITY,
        "Scan",
        cleanup_scan_params(golden, [ACCOUNT_B]),
        {"Items": [stale], "Count": 1, "ScannedCount": 3},
    )
    recorded = Cassette(golden.header, [*golden.interactions, legacy_scan])

    answers = cleanup_answers(recorded, [ACCOUNT_A, ACCOUNT_B])
    found = [item for answer in answers if answer.operation == "Scan" for item in answer.response["Items"]]
    deletes = [answer for answer in answers if answer.operation == "DeleteItem"]

    assert [item["sourceServerArn"] for item in found] == [
        item["sourceServerArn"] for item in sorted([*written, stale], key=lambda item: item["sourceServerArn"]["S"])
    ]
    assert len(deletes) == 3
