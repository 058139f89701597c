"""The refactored source-server inventory sync: one module per responsibility, composed by a short orchestrator.

Every AWS call, every write and its order, and the outputs are those of
`inventory_sync_legacy.handle_sync_source_server_inventory_legacy`, under any completion order of the region
queries, except where a legacy defect (LEGACY_CONTRACT.md, 1-7 and 9-11) is fixed on purpose: each fix is an approved
divergence the gate checks (harness/approved/, docs/approved-divergences.md).

- `accounts`: which accounts are read (`collect_accounts_to_query`) and with which credentials
  (`get_account_credentials`);
- `drs_query`: one region's DRS query (`query_drs_single_region`), and `drs_errors`: how its failures are classified;
- `regions`: every active region of an account (`query_drs_all_regions`) and their statuses;
- `ec2`: EC2 enrichment (`enrich_with_ec2_metadata`, through `query_ec2_instances`);
- `rows`: a DRS server and its EC2 details as an inventory row;
- `inventory_writes`: the inventory batches (`write_inventory_to_dynamodb`);
- `ordered_writes`: the one writer that keeps the legacy's write order while accounts are read ahead;
- `cleanup`: the stale cleanup after the last write;
- `orchestrator`: `sync_source_server_inventory`, composing them;
- `settings`: the client config and the read-ahead window.
"""

from .accounts import collect_accounts_to_query, get_account_credentials
from .drs_query import query_drs_single_region
from .ec2 import enrich_with_ec2_metadata, query_ec2_instances
from .inventory_writes import write_inventory_to_dynamodb
from .orchestrator import sync_source_server_inventory
from .regions import query_drs_all_regions

__all__ = [
    "collect_accounts_to_query",
    "enrich_with_ec2_metadata",
    "get_account_credentials",
    "query_drs_all_regions",
    "query_drs_single_region",
    "query_ec2_instances",
    "sync_source_server_inventory",
    "write_inventory_to_dynamodb",
]
