"""Defect 2 fixed: rows of an account, or a DRS region, that could not be read are never deleted.

When the last account's AssumeRole fails, the legacy's cleanup pairs that account's id with the previous account's
server list and deletes every inventory row of the account: a transient STS failure loses its whole inventory. Its
cleanup likewise deletes the rows of a region whose DRS query failed (the servers were simply not listed). The
refactored sync cleans up only accounts it read, and keeps every row whose server lives in a DRS account or region
that could not be read in this run (logged at warning level, row by row).

Shows as: a missing cleanup Scan of an account whose AssumeRole failed, missing DeleteItems of rows whose DRS
account or region went unread, and `staleRecordsDeleted` counting exactly the deletes that succeeded.
"""

from __future__ import annotations

from typing import Any

from harness.approved import cleanup_facts as facts
from harness.divergences import ApprovedDivergence, DivergenceContext, any_of, body_fields_differ, reads, writes

NAME = "defect-2-keep-unread-rows"


def scan_of_an_unread_account(view: dict[str, Any], context: DivergenceContext) -> bool:
    """The legacy's cleanup Scan of an account whose AssumeRole failed."""
    accounts = facts.cleanup_scan_accounts_of(view, context)
    return bool(accounts) and {str(account) for account in accounts or []} <= facts.unread_accounts(context)


def delete_of_an_unread_row(view: dict[str, Any], context: DivergenceContext) -> bool:
    """A DeleteItem the legacy made of a row whose DRS account or region could not be read."""
    key = facts.deleted_key(view, context)
    return key is not None and facts.row_went_unread(key, context)


def stale_count_without_unread_rows(
    golden: dict[str, Any], candidate: dict[str, Any], context: DivergenceContext
) -> bool:
    """The count is the candidate's successful deletes, and the legacy deleted a row that went unread."""
    legacy_deleted_unread = any(
        delete_of_an_unread_row({"operation": "DeleteItem", "params": call.params}, context)
        for call in context.golden_calls("DeleteItem", "dynamodb")
        if call.response is not None
    )
    return candidate["staleRecordsDeleted"] == facts.successful_deletes(context) and legacy_deleted_unread


DIVERGENCES = (
    ApprovedDivergence(
        name=NAME,
        defect=2,
        description=(
            "inventory rows of an account whose AssumeRole failed, or of a DRS region whose query failed, are kept "
            "instead of being deleted as stale"
        ),
        matcher=any_of(
            reads("missing", "Scan", where=scan_of_an_unread_account),
            writes("missing", "DeleteItem", where=delete_of_an_unread_row),
            body_fields_differ("staleRecordsDeleted", where=stale_count_without_unread_rows),
        ),
        shows_in=("assume-role-fails-last", "stale-row-in-failed-region"),
    ),
)
