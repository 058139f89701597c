"""Defect 11 fixed: a null `sourceProperties`, `identificationHints` or `sourceCloudProperties` counts as missing.

The legacy reads these sections with `.get(name, {})`, which defaults a missing key only: a null section makes the
EC2 grouping raise AttributeError outside any handler, and the whole sync fails after that account's region statuses
were written (later accounts, inventory writes and the stale cleanup never happen). The refactored sync reads them
through `document_section` (EC2 grouping and item building), so a null section gets the contract's defaults: no
instance id, origin account and region defaulted, empty hints; the sync goes on.

No recording can show the difference, so this approval covers nothing. The sections are structure members of DRS's
`SourceServer` shape, and botocore's JSON parser drops a structure member whose value is null: through any boto3
client, local AWS or real, a null section arrives as a missing one, which the legacy already handles. The
`drs-documents-malformed` scenario puts exactly these nulls in its DRS documents, and its goldens show them dropped
(the legacy succeeds there); the fixed sync replays them equivalently. The fix only matters for documents that do
not come through botocore's parser; tests/harness/test_approved_defect_11.py injects nulls after parsing, on the
local AWS, to show both behaviours. Should a golden ever hold such a null, this approval (a matcher matching
nothing) leaves the difference DIVERGENT, to be reviewed with a matcher of its own.
"""

from __future__ import annotations

from harness.comparison import Difference
from harness.divergences import ApprovedDivergence, DivergenceContext


def _no_recorded_difference(difference: Difference, context: DivergenceContext) -> bool:
    """Nothing: no recording holds a null section (botocore drops null structure members)."""
    return False


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-11-null-document-sections",
        defect=11,
        description=(
            "A null sourceProperties, identificationHints or sourceCloudProperties counts as missing (the contract's "
            "defaults apply) in the EC2 grouping and item building, so the sync goes on instead of failing. botocore "
            "drops null structure members, so no recording shows it: this approval covers no recorded difference."
        ),
        matcher=_no_recorded_difference,
        scenarios=("drs-documents-malformed",),
    ),
)
