"""The answers a fix's extra cleanup Scans get (`inventory_state.cleanup_answers`): DynamoDB's pages, not one page.

A cleanup Scan filtered on one account reads the whole table, 1 MB of items per page, and returns the matching rows
of each page. The declared answers page the table after the golden's run the same way, so a replay answers the
candidate's paginated Scan call for call, and never with one page larger than DynamoDB would send.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from harness.approved.inventory_state import (
    SCAN_PAGE_BYTES,
    account_rows,
    cleanup_answers,
    cleanup_scan_params,
    item_size,
    rows_after_run,
    scan_pages,
)
from harness.cassette import HUB_IDENTITY, Cassette, Interaction

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

    table_rows = rows_after_run(golden)
    assert len(scans) == len(scan_pages(table_rows)) >= sum(map(item_size, table_rows)) / SCAN_PAGE_BYTES > 2
    assert scans[0].params == cleanup_scan_params(golden, ACCOUNT_A)
    for previous, following in pairwise(scans):
        assert following.params == {**scans[0].params, "ExclusiveStartKey": previous.response["LastEvaluatedKey"]}
    assert "LastEvaluatedKey" not in scans[-1].response
    returned = [item for scan in scans for item in scan.response["Items"]]
    assert returned == account_rows(table_rows, ACCOUNT_A)
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
