"""Defect 7 fixed, in three approved divergences: how a failing DRS region is read and classified.

`defect-7-keep-pages-read`: the legacy discards the servers of pages 1..N-1 when page N fails; the refactored sync
keeps them (enriched, written, counted in totalSynced) and the region still reports its error, with serverCount the
servers read. Its changes: the failed region's status rows with the new serverCount, the account's inventory batches
with the kept rows, the EC2 calls for their instances, totalSynced and totalErrors.

`defect-7-scp-as-a-word`: the legacy files any error whose text contains "scp" (ISCP, dscp) as SCP_DENIED; the fix
matches "service control policy" or SCP/SCPs as a word. Its changes: that region's status rows, SCP_DENIED no more.

`defect-7-unrecognized-client-region-not-enabled`: UnrecognizedClientException arriving as a ClientError is
classified REGION_NOT_ENABLED "Region not enabled in account" instead of ERROR. Its changes: that region's status
rows.
"""

from __future__ import annotations

from typing import Any

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import ADD, ApprovedDivergence, Change

SCP_MESSAGE = "Blocked by Service Control Policy"
NOT_ENABLED = "Region not enabled in account"


def pages_kept(golden: Cassette) -> bool:
    """Whether a DRS query failed on a later page (one that passed a nextToken): pages before it were read."""
    return any(
        facts.failed(call) and call.params.get("nextToken") for call in facts.calls(golden, "DescribeSourceServers")
    )


def kept_pages(change: Change, golden: Cassette) -> bool:
    """An EC2 call for the kept servers, an inventory batch with their rows, or a failed region's new serverCount."""
    if not pages_kept(golden):
        return False
    if (change.kind == ADD and change.call.get("service") in ("ec2", "sts")) or change.operation == "GetItem":
        return True
    if change.operation == "BatchWriteItem" and change.table == facts.table(golden, facts.INVENTORY):
        return True
    return facts.rows_differ_in(change, golden, {"serverCount"}, lambda old, new: bool(old.get("errorMessage")))


def not_scp(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A row the legacy filed as SCP_DENIED that the fix files otherwise."""
    return old.get("errorMessage") == SCP_MESSAGE and new.get("errorMessage") != SCP_MESSAGE


def region_not_enabled(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A row the legacy filed as an UnrecognizedClientException ERROR, now REGION_NOT_ENABLED."""
    return str(old.get("errorMessage")).startswith("UnrecognizedClientException") and new["errorMessage"] == NOT_ENABLED


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-7-keep-pages-read",
        defect=7,
        description=(
            "An error on page N of a region keeps the servers of pages 1..N-1: they are enriched and written, the "
            "region still reports its error with serverCount the number of servers read, and totalSynced counts them."
        ),
        predicate=facts.with_outputs(("totalSynced", "totalErrors"), kept_pages),
    ),
    ApprovedDivergence(
        name="defect-7-scp-as-a-word",
        defect=7,
        description=(
            "'scp' classifies a DRS error as SCP_DENIED only as a word ('SCP', 'SCPs') or as 'service control "
            "policy', so unrelated messages ('ISCP', 'dscp') fall through to the next rows of the table."
        ),
        predicate=facts.status_change(not_scp),
    ),
    ApprovedDivergence(
        name="defect-7-unrecognized-client-region-not-enabled",
        defect=7,
        description=(
            "UnrecognizedClientException arriving as a ClientError is classified REGION_NOT_ENABLED 'Region not "
            "enabled in account', as on the non-ClientError path, instead of ERROR."
        ),
        predicate=facts.status_change(region_not_enabled),
    ),
)
