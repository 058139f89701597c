"""Defect 4 fixed: the region status row carries every account's servers, not only the last synced account's.

The region status table is keyed by region only, so with several accounts each account's row replaces the previous
one: the last account's row wins, and a region where the last account has no servers turns inactive for every
account, so later syncs skip it (LEGACY_CONTRACT.md, known defect 4). The schema stays; the refactored sync now writes,
account after account, serverCount = the running total of the region's servers over the accounts synced so far in
the run (the batch rows and the `update_region_status` PutItem, whose status is derived from that total as before);
status and errorMessage stay the current account's. Writes are strictly ordered, so a region's last row holds the sum
over all accounts and a region where only an earlier account has servers stays active. In a golden this shows as
changed region status writes (the first account's are unchanged) that differ only in serverCount and the status
derived from it, the new value being the running total computed from the golden's own per-account rows.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, replace
from typing import Any

from harness.approved.account_segments import skipped_indexes
from harness.cassette import Cassette, Interaction
from harness.comparison import Difference
from harness.divergences import ApprovedDivergence, DivergenceContext

# (interaction index, position in its RequestItems list) of a region status batch row.
RowPlace = tuple[int, int]


@dataclass(frozen=True)
class RegionTotals:
    """A golden's region status rows by account occurrence, and the running totals the fix writes for them."""

    occurrence_of_row: dict[RowPlace, int]
    occurrence_of_put: dict[int, int]
    counts: list[dict[str, int]]
    skipped: frozenset[int]

    def running_total(self, occurrence: int, region: str) -> int:
        """The region's servers over account occurrences 0..occurrence, accounts the defect-5 fix skips left out."""
        return sum(
            counts.get(region, 0)
            for number, counts in enumerate(self.counts[: occurrence + 1])
            if number not in self.skipped
        )


def region_table(golden: Cassette) -> str | None:
    """The region status table's name in the golden's recorded environment (None when unset)."""
    return golden.header.get("environment", {}).get("DRS_REGION_STATUS_TABLE") or None


def _number(value: Any) -> int | None:
    """A wire-form DynamoDB number as an int, or None."""
    if isinstance(value, dict) and isinstance(value.get("N"), str):
        return int(value["N"])
    return None


def _text(value: Any) -> str | None:
    """A wire-form DynamoDB string, or None."""
    return value.get("S") if isinstance(value, dict) and isinstance(value.get("S"), str) else None


# The last golden's totals: a matcher is asked once per difference, all of one golden in a row.
_LAST: list[tuple[Cassette, RegionTotals | None]] = []


def region_totals(golden: Cassette) -> RegionTotals | None:
    """The golden's `RegionTotals` (see `compute_region_totals`), computed once for the golden judged last."""
    if _LAST and _LAST[0][0] is golden:
        return _LAST[0][1]
    totals = compute_region_totals(golden)
    _LAST[:] = [(golden, totals)]
    return totals


def compute_region_totals(golden: Cassette) -> RegionTotals | None:
    """The golden's region status rows grouped by account occurrence, in run order (None without a region table).

    The batch rows carry their account: a new occurrence starts when the account changes or a region repeats within
    the current one. An `update_region_status` PutItem (no account) belongs to the occurrence of the next batch row
    of its region. Occurrences whose rows the legacy wrote for an account the defect-5 fix skips count for nothing.
    """
    table = region_table(golden)
    if table is None:
        return None
    skipped_calls = skipped_indexes(golden)
    occurrence_of_row: dict[RowPlace, int] = {}
    counts: list[dict[str, int]] = []
    skipped: set[int] = set()
    rows_by_region: dict[str, list[tuple[int, int]]] = {}
    current_account: Any = object()
    handed_back: dict[str, list[int]] = {}  # rows DynamoDB handed back (UnprocessedItems), awaiting their resend
    for index, interaction in enumerate(golden.interactions):
        if interaction.operation != "BatchWriteItem":
            continue
        in_this_call: dict[str, int] = {}
        for position, request in enumerate(interaction.params.get("RequestItems", {}).get(table, [])):
            item = request.get("PutRequest", {}).get("Item", {})
            fingerprint = json.dumps(item, sort_keys=True)
            if handed_back.get(fingerprint):  # the batch writer resending a row: same occurrence, not a new count
                occurrence_of_row[(index, position)] = handed_back[fingerprint].pop(0)
                in_this_call[fingerprint] = occurrence_of_row[(index, position)]
                continue
            account, region, count = (
                _text(item.get("accountId")),
                _text(item.get("region")),
                _number(item.get("serverCount")),
            )
            if region is None or count is None:
                return None
            if not counts or account != current_account or region in counts[-1]:
                counts.append({})
                current_account = account
            counts[-1][region] = count
            occurrence_of_row[(index, position)] = len(counts) - 1
            in_this_call[fingerprint] = len(counts) - 1
            rows_by_region.setdefault(region, []).append((index, len(counts) - 1))
            if index in skipped_calls:
                skipped.add(len(counts) - 1)
        for request in (interaction.response or {}).get("UnprocessedItems", {}).get(table, []):
            fingerprint = json.dumps(request.get("PutRequest", {}).get("Item", {}), sort_keys=True)
            if fingerprint in in_this_call:
                handed_back.setdefault(fingerprint, []).append(in_this_call[fingerprint])
    occurrence_of_put: dict[int, int] = {}
    for index, interaction in enumerate(golden.interactions):
        if interaction.operation == "PutItem" and interaction.params.get("TableName") == table:
            region = _text(interaction.params.get("Item", {}).get("region"))
            flushed = _row_flushed_just_before(golden, table, index, region, occurrence_of_row)
            later = [occurrence for row_index, occurrence in rows_by_region.get(region or "", []) if row_index > index]
            if flushed is not None:
                occurrence_of_put[index] = flushed
            elif later:
                occurrence_of_put[index] = later[0]
    return RegionTotals(occurrence_of_row, occurrence_of_put, counts, frozenset(skipped))


def _row_flushed_just_before(
    golden: Cassette, table: str, index: int, region: str | None, occurrence_of_row: dict[RowPlace, int]
) -> int | None:
    """The occurrence of the PutItem at `index` when its own row went out in the batch call right before it.

    The legacy adds a region's row to the batch, then writes its PutItem: when that row fills the batch (25 rows),
    the BatchWriteItem carrying it, as its last row, comes immediately before the PutItem.
    """
    if index == 0:
        return None
    previous = golden.interactions[index - 1]
    rows = previous.params.get("RequestItems", {}).get(table) if previous.operation == "BatchWriteItem" else None
    if not isinstance(rows, list) or not rows:
        return None
    last = rows[-1].get("PutRequest", {}).get("Item", {})
    if _text(last.get("region")) != region:
        return None
    return occurrence_of_row.get((index - 1, len(rows) - 1))


def derived_status(error_message: Any, server_count: int) -> str:
    """The status `update_region_status` writes for an errorMessage and a server count."""
    if error_message:
        return "ERROR"
    return "AVAILABLE" if server_count > 0 else "UNINITIALIZED"


def _differs_only_in(golden: dict[str, Any], candidate: dict[str, Any], fields: set[str]) -> bool:
    """Two wire-form items with the same attributes, equal but for some of `fields`."""
    if set(golden) != set(candidate):
        return False
    return all(golden[name] == candidate[name] for name in golden if name not in fields)


def _batch_rows_are_running_totals(
    golden_view: dict[str, Any], candidate_view: dict[str, Any], table: str, totals: RegionTotals
) -> bool:
    """A region status batch whose rows differ from the golden's only in serverCount, each now the running total."""
    golden_params, candidate_params = golden_view["params"], candidate_view["params"]
    if not _differs_only_in(golden_params, candidate_params, {"RequestItems"}):
        return False
    golden_requests, candidate_requests = golden_params.get("RequestItems"), candidate_params.get("RequestItems")
    if not isinstance(golden_requests, dict) or not isinstance(candidate_requests, dict):
        return False
    if set(golden_requests) != {table} or set(candidate_requests) != {table}:
        return False
    golden_rows, candidate_rows = golden_requests[table], candidate_requests[table]
    if (
        not isinstance(golden_rows, list)
        or not isinstance(candidate_rows, list)
        or len(golden_rows) != len(candidate_rows)
    ):
        return False
    for position, (golden_row, candidate_row) in enumerate(zip(golden_rows, candidate_rows, strict=True)):
        if not isinstance(golden_row, dict) or not isinstance(candidate_row, dict):
            return False
        if set(golden_row) != {"PutRequest"} or set(candidate_row) != {"PutRequest"}:
            return False
        golden_item, candidate_item = golden_row["PutRequest"].get("Item"), candidate_row["PutRequest"].get("Item")
        if not isinstance(golden_item, dict) or not isinstance(candidate_item, dict):
            return False
        if not _differs_only_in(golden_item, candidate_item, {"serverCount"}):
            return False
        occurrence = totals.occurrence_of_row.get((golden_view["index"], position))
        region = _text(golden_item.get("region"))
        if occurrence is None or region is None:
            return False
        if _number(candidate_item.get("serverCount")) != totals.running_total(occurrence, region):
            return False
    return True


def _put_is_running_total(golden_view: dict[str, Any], candidate_view: dict[str, Any], totals: RegionTotals) -> bool:
    """An `update_region_status` PutItem differing only in serverCount (the running total) and the derived status."""
    golden_params, candidate_params = golden_view["params"], candidate_view["params"]
    if not _differs_only_in(golden_params, candidate_params, {"Item"}):
        return False
    golden_item, candidate_item = golden_params.get("Item"), candidate_params.get("Item")
    if not isinstance(golden_item, dict) or not isinstance(candidate_item, dict):
        return False
    if not _differs_only_in(golden_item, candidate_item, {"serverCount", "status"}):
        return False
    occurrence = totals.occurrence_of_put.get(golden_view["index"])
    region = _text(golden_item.get("region"))
    if occurrence is None or region is None:
        return False
    total = totals.running_total(occurrence, region)
    error_message = _text(golden_item.get("errorMessage"))
    return _number(candidate_item.get("serverCount")) == total and _text(candidate_item.get("status")) == (
        derived_status(error_message, total)
    )


def running_total_write(difference: Difference, context: DivergenceContext) -> bool:
    """A changed region status write whose only change is serverCount becoming the running total (and its status)."""
    table = region_table(context.golden)
    if (difference.kind, difference.change, difference.table) != ("write", "changed", table) or table is None:
        return False
    golden_view, candidate_view = difference.golden, difference.candidate
    if not isinstance(golden_view, dict) or not isinstance(candidate_view, dict):
        return False
    totals = region_totals(context.golden)
    if totals is None:
        return False
    if difference.operation == "BatchWriteItem":
        return _batch_rows_are_running_totals(golden_view, candidate_view, table, totals)
    if difference.operation == "PutItem":
        return _put_is_running_total(golden_view, candidate_view, totals)
    return False


def _with_count(item: dict[str, Any], total: int, *, status: bool) -> dict[str, Any]:
    """A wire-form region status item with serverCount set to `total` (and, for a PutItem, the status derived)."""
    changed = {**item, "serverCount": {"N": str(total)}}
    if status:
        changed["status"] = {"S": derived_status(_text(item.get("errorMessage")), total)}
    return changed


def running_total_params(golden: Cassette, index: int, totals: RegionTotals) -> dict[str, Any] | None:
    """The parameters the fix sends instead of the golden's region status write at `index` (None: not such a write)."""
    table = region_table(golden)
    interaction = golden.interactions[index]
    params = copy.deepcopy(interaction.params)
    if interaction.operation == "PutItem" and params.get("TableName") == table and index in totals.occurrence_of_put:
        region = _text(params["Item"].get("region")) or ""
        params["Item"] = _with_count(
            params["Item"], totals.running_total(totals.occurrence_of_put[index], region), status=True
        )
        return params
    rows = params.get("RequestItems", {}).get(table) if interaction.operation == "BatchWriteItem" else None
    if not isinstance(rows, list):
        return None
    for position, row in enumerate(rows):
        occurrence = totals.occurrence_of_row.get((index, position))
        if occurrence is None:
            return None
        item = row["PutRequest"]["Item"]
        row["PutRequest"]["Item"] = _with_count(
            item, totals.running_total(occurrence, _text(item.get("region")) or ""), status=False
        )
    return params


def running_total_answers(golden: Cassette) -> list[Interaction]:
    """The region status writes the fix sends with new serverCounts, answered as the golden's were (rows handed
    back as UnprocessedItems carry the new counts too, so the batch writer resends what the fix sent)."""
    totals = region_totals(golden)
    if totals is None:
        return []
    declared: list[Interaction] = []
    for index, interaction in enumerate(golden.interactions):
        params = running_total_params(golden, index, totals)
        if params is not None and params != interaction.params:
            declared.append(replace(interaction, params=params, response=_handed_back_as_sent(interaction, params)))
    return declared


def _handed_back_as_sent(interaction: Interaction, params: dict[str, Any]) -> dict[str, Any] | None:
    """The recorded response, its UnprocessedItems rows replaced by the rows as the fix sent them."""
    response = interaction.response
    unprocessed = (response or {}).get("UnprocessedItems")
    if not response or not unprocessed:
        return response
    sent = {
        json.dumps(original["PutRequest"]["Item"], sort_keys=True): changed
        for table, rows in interaction.params.get("RequestItems", {}).items()
        for original, changed in zip(rows, params["RequestItems"][table], strict=True)
        if "PutRequest" in original
    }
    rewritten = {
        table: [
            sent.get(json.dumps(request.get("PutRequest", {}).get("Item", {}), sort_keys=True), request)
            for request in rows
        ]
        for table, rows in unprocessed.items()
    }
    return {**response, "UnprocessedItems": rewritten}


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-4-region-status-running-total",
        defect=4,
        description=(
            "The region status row (keyed by region only) carries every account's servers: each account's rows and "
            "update_region_status PutItems hold serverCount = the running total of the region's servers over the "
            "accounts synced so far (status derived from it as before), so the last row of a region holds the sum "
            "over all accounts and a region where only an earlier account has servers stays active."
        ),
        matcher=running_total_write,
        answers=running_total_answers,
    ),
)
