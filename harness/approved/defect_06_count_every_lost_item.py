"""Defect 6 fixed: a failed inventory batch counts every item it lost, and a failed final flush no longer aborts.

The legacy counts an item as synced once handed to the batch writer, counts one error for a failed flush of up to 25
items, and a failure of the final flush aborts the sync. The refactored sync counts an item synced only once its
batch is written, one error per item of a failed batch, and goes on after a failed final flush (remaining accounts,
the stale cleanup, a 200 response).

Its changes, in a golden with a failed inventory batch: totalSynced and totalErrors, or the legacy's exception
(the batch's error) replaced by a 200 response; the cleanup that then runs is defect 1's change.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import OUTPUT, WHOLE_OUTPUTS, ApprovedDivergence, Change


def counted(change: Change, golden: Cassette, changes: Sequence[Change]) -> bool:
    """The counts, or a 200 instead of the final flush's error, in a golden where an inventory batch failed."""
    inventory = facts.table(golden, facts.INVENTORY)
    lost = any(
        facts.failed(call) and inventory in call.params.get("RequestItems", {})
        for call in facts.calls(golden, "BatchWriteItem")
    )
    if change.kind != OUTPUT or not lost:
        return False
    if change.field == WHOLE_OUTPUTS:
        aborted = "BatchWriteItem" in str(facts.raised(change.was).get("message"))
        return aborted and facts.response_of(change.now).get("statusCode") == 200
    return change.field in ("totalSynced", "totalErrors")


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-6-count-every-lost-item",
        defect=6,
        description=(
            "A failed inventory batch counts one error per item it carried (each lost key logged), items count as "
            "synced only once their batch is written, and a failed final flush no longer aborts the sync: it is "
            "counted the same way and the sync goes on (remaining accounts, cleanup, a 200 response)."
        ),
        predicate=counted,
    ),
)
