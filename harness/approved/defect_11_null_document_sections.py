"""Defect 11 fixed: a null `sourceProperties`, `identificationHints` or `sourceCloudProperties` counts as missing.

The legacy reads these sections with `.get(name, {})`, which defaults a missing key only: a null section makes the
EC2 grouping raise. The refactored sync reads them through `document_section`, so a null gets the contract's
defaults and the sync goes on.

No recording can show it: botocore's JSON parser drops a structure member whose value is null, so through any boto3
client a null section arrives as a missing one, which the legacy handles (the `drs-documents-malformed` goldens are
equivalent). tests/harness/test_approved_defect_11.py injects nulls after parsing to show both behaviours. This
approval accepts no change: should a golden ever hold such a null, its difference stays DIVERGENT for review.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.cassette import Cassette
from harness.divergences import ApprovedDivergence, Change


def no_recorded_change(change: Change, golden: Cassette, changes: Sequence[Change]) -> bool:
    """Nothing: no recording holds a null section (botocore drops null structure members)."""
    return False


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-11-null-document-sections",
        defect=11,
        description=(
            "A null sourceProperties, identificationHints or sourceCloudProperties counts as missing (the contract's "
            "defaults apply) in the EC2 grouping and item building, so the sync goes on instead of failing. botocore "
            "drops null structure members, so no recording shows it: this approval accepts no recorded change."
        ),
        predicate=no_recorded_change,
        scenarios=("drs-documents-malformed",),
    ),
)
