"""Defect 6 fixed: a failed inventory batch counts every item it lost, and a failed final flush no longer aborts.

The legacy counts an inventory item as synced as soon as it is handed to the batch writer; when a flush fails, only
the item whose `put_item` triggered it is counted as an error, though the whole batch (up to 25 items) is lost, and a
failure of the final flush, at the end of an account's batch, propagates and aborts the sync after the region
statuses were written (LEGACY_CONTRACT.md, known defect 6). The refactored sync counts an item in totalSynced only
once DynamoDB accepted its batch; a batch whose call fails counts one error per item it carried, each lost key
(sourceServerArn, stagingAccountId) is logged, and the sync goes on, after a failed final flush too (remaining
accounts, the stale cleanup, a 200 response). Requirements 9.4/9.5 (retry failed items, continue) are met by boto3's
resending of UnprocessedItems plus this. In a golden it shows as totalSynced lower and totalErrors higher by the
items of each failed batch beyond the one the legacy counted, and, where the legacy aborted at a final flush of the
last account, the exception replaced by a 200 response whose counts follow from the golden's batches, after the
cleanup's Scan and DeleteItems (answered from the table the golden's run left, `inventory_state.cleanup_answers`).
"""

from __future__ import annotations

from typing import Any

from harness.approved.account_segments import target_account_rows
from harness.approved.defect_05_no_hub_credentials_without_role import written_items
from harness.approved.inventory_state import (
    accounts_rows,
    cleanup_answers,
    cleanup_scan_params,
    inventory_table,
    key_of,
    rows_at_cleanup,
)
from harness.cassette import Cassette, Interaction
from harness.divergences import (
    ApprovedDivergence,
    DivergenceContext,
    any_of,
    body_fields_differ,
    body_of,
    outputs,
    reads,
    response_of,
    writes,
)
from harness.matchers import EXACT, is_write

DRS_REGION_COUNT = 28  # LEGACY_CONTRACT.md: DRS_REGIONS lists 28 regions (regionsSkipped = 28 - scanned)

SYNC_COMPLETE = "Source server inventory sync complete"


def _failed(interaction: Interaction) -> bool:
    """Whether a recorded call failed (an AWS error or no response at all)."""
    return interaction.error is not None or interaction.exception is not None or interaction.response is None


def inventory_batches(golden: Cassette) -> list[Interaction]:
    """The golden's BatchWriteItem calls to the inventory table, in order."""
    table = inventory_table(golden)
    return [
        interaction
        for interaction in golden.interactions
        if interaction.operation == "BatchWriteItem" and table in interaction.params.get("RequestItems", {})
    ]


def batch_size(interaction: Interaction, table: str) -> int:
    """How many items a BatchWriteItem carried to `table`."""
    return len(interaction.params.get("RequestItems", {}).get(table, []))


def aborted_at_final_flush(golden: Cassette) -> bool:
    """Whether the legacy raised at a failed inventory flush that was its last write (the final flush's abort)."""
    if golden.outputs.exception is None:
        return False
    last_write = next(
        (interaction for interaction in reversed(golden.interactions) if is_write(interaction.operation)), None
    )
    batches = inventory_batches(golden)
    return last_write is not None and bool(batches) and last_write is batches[-1] and _failed(last_write)


def last_account(golden: Cassette) -> Any:
    """The last target account's id (raw, as the sync passes it to the cleanup), or None without any."""
    rows = target_account_rows(golden)
    return rows[-1].get("accountId") if rows else None


def fix_answers(golden: Cassette) -> list[Interaction]:
    """The cleanup the fix runs where the legacy aborted at the last account's final flush, answered from the table."""
    if not aborted_at_final_flush(golden) or last_account(golden) is None:
        return []
    return cleanup_answers(golden, [last_account(golden)])


def _mid_run_shift(golden: Cassette) -> int:
    """Items of failed mid-run batches the legacy counted as synced: each such batch's size less the one it counted."""
    table = inventory_table(golden)
    batches = inventory_batches(golden)
    if aborted_at_final_flush(golden):
        batches = batches[:-1]
    return sum(batch_size(batch, table) - 1 for batch in batches if _failed(batch))


def _totals_shifted(golden_body: dict[str, Any], candidate_body: dict[str, Any], context: DivergenceContext) -> bool:
    """totalSynced lower and totalErrors higher by exactly the failed batches' items the legacy counted as synced."""
    shift = _mid_run_shift(context.golden)
    return bool(
        shift > 0
        and candidate_body["totalSynced"] == golden_body["totalSynced"] - shift
        and candidate_body["totalErrors"] == golden_body["totalErrors"] + shift
    )


def regions_scanned(golden: Cassette) -> int:
    """The number of active regions the run queried: the distinct regions of its DRS calls."""
    return len({interaction.region for interaction in golden.interactions if interaction.service == "drs"})


def _raised_by(exception: dict[str, Any], batch: Interaction) -> bool:
    """Whether the legacy's exception is the failed batch's own error (its type and message)."""
    error = batch.error or batch.exception or {}
    return bool(
        exception.get("type") == error.get("exception")
        and "BatchWriteItem" in str(exception.get("message"))
        and str(error.get("message")) in str(exception.get("message"))
    )


def _completes_instead_of_aborting(
    golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext
) -> bool:
    """The legacy raised its final flush's error; the candidate answers 200 with the counts the golden's calls give."""
    cassette = context.golden
    if not aborted_at_final_flush(cassette):
        return False
    batches = inventory_batches(cassette)
    if not _raised_by(golden.get("exception") or {}, batches[-1]):
        return False
    response = response_of(candidate)
    body = body_of(response)
    if response is None or body is None or response.get("statusCode") != 200:
        return False
    table = inventory_table(cassette)
    scanned = regions_scanned(cassette)
    expected = {
        "message": SYNC_COMPLETE,
        "totalSynced": sum(written_items(batch, table) for batch in batches),
        "totalErrors": sum(batch_size(batch, table) for batch in batches if _failed(batch)),
        "staleRecordsDeleted": len(context.candidate_calls("DeleteItem", "dynamodb")),
        "regionsScanned": scanned,
        "regionsSkipped": DRS_REGION_COUNT - scanned,
        "timestamp": cassette.header.get("clock"),
    }
    if context.matching is not EXACT:  # shadow mode: the clock runs, the timestamp is the run's own
        expected["timestamp"] = body.get("timestamp")
    return bool(body == expected)


def _cleanup_scan(view: dict[str, Any], context: DivergenceContext) -> bool:
    """The stale cleanup's Scan of the last account, where the legacy aborted before it."""
    golden = context.golden
    return aborted_at_final_flush(golden) and view["params"] == cleanup_scan_params(golden, [last_account(golden)])


def _stale_row_delete(view: dict[str, Any], context: DivergenceContext) -> bool:
    """A cleanup DeleteItem of a row of the last account that the run did not write (a stale row)."""
    golden = context.golden
    if not aborted_at_final_flush(golden):
        return False
    table = inventory_table(golden)
    key = key_of(view["params"].get("Key", {}))
    rows = {key_of(row) for row in accounts_rows(rows_at_cleanup(golden), [last_account(golden)])}
    sent = {
        key_of(request["PutRequest"]["Item"])
        for batch in inventory_batches(golden)
        for request in batch.params["RequestItems"][table]
        if "PutRequest" in request
    }
    return view["params"].get("TableName") == table and key in rows and key not in sent


def _extra_cleanup_read(difference: Any, context: DivergenceContext) -> bool:
    """An extra cleanup Scan of the inventory table (see `_cleanup_scan`)."""
    return reads("extra", "Scan", table=inventory_table(context.golden), where=_cleanup_scan)(difference, context)


def _extra_cleanup_delete(difference: Any, context: DivergenceContext) -> bool:
    """An extra cleanup DeleteItem of the inventory table (see `_stale_row_delete`)."""
    return writes("extra", "DeleteItem", table=inventory_table(context.golden), where=_stale_row_delete)(
        difference, context
    )


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-6-count-every-lost-item",
        defect=6,
        description=(
            "A failed inventory batch counts one error per item it carried (each lost key logged), items count as "
            "synced only once their batch is written, and a failed final flush no longer aborts the sync: it is "
            "counted the same way and the sync goes on (remaining accounts, cleanup, a 200 response)."
        ),
        matcher=any_of(
            body_fields_differ("totalSynced", "totalErrors", where=_totals_shifted),
            outputs(_completes_instead_of_aborting),
            _extra_cleanup_read,
            _extra_cleanup_delete,
        ),
        answers=fix_answers,
    ),
)
