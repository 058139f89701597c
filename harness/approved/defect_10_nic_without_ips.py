"""Defect 10 fixed: a first NIC whose `ips` list is empty gives primaryIp "" and the server is written.

The legacy builds `primaryIp` as `nics[0].get("ips", [""])[0]`: a first NIC with an empty `ips` list raises
IndexError, the server is counted in totalErrors and its row is never written. The refactored sync treats that NIC as
if there were none: primaryIp "", every other field as usual, the row written at its place.

Its changes, in a golden with such a server: the account's inventory batches (with the row), totalSynced and
totalErrors.
"""

from __future__ import annotations

from harness.approved import facts
from harness.cassette import Cassette
from harness.divergences import ApprovedDivergence, Change


def nic_without_ips(golden: Cassette) -> bool:
    """Whether DRS listed a server whose first NIC has an empty `ips` list."""
    for server in facts.servers(golden):
        nics = ((server.get("sourceProperties") or {}).get("networkInterfaces")) or [{}]
        if nics[0].get("ips") == []:
            return True
    return False


def written_row(change: Change, golden: Cassette) -> bool:
    """An inventory batch of a golden where such a server's row is now written."""
    inventory = change.operation == "BatchWriteItem" and change.table == facts.table(golden, facts.INVENTORY)
    return inventory and nic_without_ips(golden)


DIVERGENCES = (
    ApprovedDivergence(
        name="defect-10-nic-without-ips",
        defect=10,
        description=(
            "A first NIC with an empty ips list gives primaryIp '' (as with no NIC) instead of raising: the server is "
            "written at its place in the account's inventory batches, and totalSynced/totalErrors move by one per "
            "such server."
        ),
        predicate=facts.with_outputs(("totalSynced", "totalErrors"), written_row),
    ),
)
