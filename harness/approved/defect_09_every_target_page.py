"""Defect 9 fixed: every page of the target accounts Scan is read (LastEvaluatedKey followed).

The legacy makes one unpaginated Scan of the target accounts table: when the table is over 1 MB, the accounts of the
later pages are never synced. The refactored sync reads every page and syncs those accounts too.

Its changes, in a golden whose target accounts Scan names a LastEvaluatedKey: the calls added for the later pages
and their accounts (the Scan of page 2 on, each account's identity, AssumeRole, DRS queries and region statuses);
their cleanup is defect 1's change.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import ADD, ApprovedDivergence, Change


def later_pages(change: Change, golden: Cassette, changes: Sequence[Change]) -> bool:
    """A call added in a golden whose target accounts Scan left pages unread."""
    return change.kind == ADD and facts.more_target_pages(golden)


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-9-every-target-page",
        defect=9,
        description=(
            "Every page of the target accounts Scan is read (LastEvaluatedKey followed), so the accounts of later "
            "pages are synced and cleaned up too."
        ),
        predicate=later_pages,
    ),
)
