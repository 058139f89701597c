"""Defect 2 fixed: rows of an account, or a DRS region, that could not be read are never deleted.

When the last account's AssumeRole fails, the legacy's cleanup pairs that account's id with the previous account's
server list and deletes every inventory row of the account; it likewise deletes the rows of a region whose DRS query
failed. The refactored sync cleans up only accounts it read, and keeps every row whose server lives in a DRS account
or region that could not be read in this run.

Its changes: the legacy's cleanup Scan of an unread account dropped, its DeleteItems of rows of an unread account or
failed region dropped, and `staleRecordsDeleted`.
"""

from __future__ import annotations

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import DROP, ApprovedDivergence, Change


def kept_row(change: Change, golden: Cassette) -> bool:
    """A cleanup Scan of an unread account, or a DeleteItem of an unread row, that the fix no longer makes."""
    if change.kind != DROP:
        return False
    if facts.is_cleanup_scan(change, golden):
        return bool(facts.scan_accounts(change) & facts.unread_accounts(golden))
    arn = facts.deleted_arn(change)
    account, region = facts.arn_place(arn)
    unread = account in facts.unread_accounts(golden) or (account, region) in facts.failed_regions(golden)
    return arn is not None and change.table == facts.table(golden, facts.INVENTORY) and unread


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-2-keep-unread-rows",
        defect=2,
        description=(
            "inventory rows of an account whose AssumeRole failed, or of a DRS region whose query failed, are kept "
            "instead of being deleted as stale"
        ),
        predicate=facts.with_outputs(("staleRecordsDeleted",), kept_row),
    ),
)
