"""Defect 1 fixed: the stale cleanup covers every account that was read, judged against the whole run's servers.

The legacy cleans up once, after the account loop, for the last account only and with that account's server list.
The refactored sync cleans up every account it read after the last write: one Scan of the inventory table for all
of them (`sourceAccountId IN (...)`, parallel segments; the legacy's own Scan when it read one account), then a
DeleteItem per row whose server no account's DRS listed in this run.

Its changes: cleanup Scans and DeleteItems of the inventory table added; the legacy's cleanup Scan of a read account
dropped (the Scan of every account replaces it); a DeleteItem of a row whose server was listed dropped; and
`staleRecordsDeleted`.
"""

from __future__ import annotations

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import ADD, DROP, ApprovedDivergence, Change


def cleanup_call(change: Change, golden: Cassette) -> bool:
    """A cleanup call of the inventory table this fix adds or no longer makes."""
    inventory = change.table == facts.table(golden, facts.INVENTORY)
    if change.kind == ADD:
        return inventory and (change.operation == "DeleteItem" or facts.is_cleanup_scan(change, golden))
    if change.kind == DROP and facts.is_cleanup_scan(change, golden):
        return not facts.scan_accounts(change) & facts.unread_accounts(golden)
    return change.kind == DROP and inventory and facts.deleted_arn(change) in facts.listed_arns(golden)


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-1-cleanup-every-account",
        defect=1,
        description=(
            "stale inventory rows of every account that was read are removed (not only the last account's), found by "
            "one (parallel) Scan of the table for all of them, and a row is stale only when no account's DRS listed "
            "its server in this run"
        ),
        predicate=facts.with_outputs(("staleRecordsDeleted",), cleanup_call),
    ),
)
