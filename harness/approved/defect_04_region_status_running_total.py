"""Defect 4 fixed: the region status row carries every account's servers, not only the last synced account's.

The region status table is keyed by region only, so with several accounts each account's row replaces the previous
one and a region where the last account has no servers turns inactive for every account. The refactored sync writes,
account after account, serverCount = the running total of the region's servers over the accounts synced so far (the
batch rows and the `update_region_status` PutItem, whose status is derived from that total as before).

Its changes: region status writes replaced, in a run that synced several accounts, whose rows differ only in a
larger serverCount (and, for a PutItem, the status derived from it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import ApprovedDivergence, Change


def derived_status(row: dict[str, Any]) -> str:
    """The status `update_region_status` derives from an errorMessage and a server count."""
    return "ERROR" if row.get("errorMessage") else "AVAILABLE" if row["serverCount"] > 0 else "UNINITIALIZED"


def larger_total(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The count grew, and a PutItem's status is the one derived from it."""
    status_ok = "accountId" in new or new.get("status") == derived_status(new)
    return bool(new["serverCount"] > old["serverCount"] and status_ok)


def running_total(change: Change, golden: Cassette, changes: Sequence[Change]) -> bool:
    """A region status write of a run over several accounts whose rows now carry a larger running total."""
    return len(facts.target_rows(golden)) > 1 and facts.rows_differ_in(
        change, golden, {"serverCount", "status"}, larger_total
    )


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
        predicate=running_total,
    ),
)
