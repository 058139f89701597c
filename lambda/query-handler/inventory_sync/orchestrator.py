"""The sync's orchestrator: the seven functions of the requirements, composed account by account.

Reads run ahead of one ordered writer: up to `account_window()` accounts are read at once (credentials, DRS in every
region, EC2), while a single writer makes every write in the legacy's order (`ordered_writes`). The stale cleanup
reads after the last write.
"""

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.active_region_filter import get_active_regions, invalidate_region_cache
from shared.botocore_internals import fewer_collections, reusing_client_classes
from shared.cross_account import default_client
from shared.drs_regions import DRS_REGIONS
from shared.dynamodb_tables import get_inventory_table
from shared.response_utils import response

from .accounts import collect_accounts_to_query, get_account_credentials, is_hub_account
from .cleanup import AccountRead, clean_up_stale_rows
from .ec2 import enrich_with_ec2_metadata
from .inventory_writes import InventoryTable, write_inventory_to_dynamodb
from .ordered_writes import AccountWrites, OrderedWrites
from .regions import query_drs_all_regions
from .rows import build_inventory_rows, inventory_keys
from .settings import account_window

logger = logging.getLogger(__name__)


@dataclass
class SyncRun:
    """One run's shared state: its timestamp, its regions, its STS client, and the regions' running totals."""

    now: str
    active_regions: list[str]
    sts_client: Any
    inventory: InventoryTable
    region_totals: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountOutcome:
    """One account's sync: what the cleanup needs of its read (None when it could not be read), and its counts."""

    read: AccountRead | None
    written: int = 0
    failed: int = 0


def sync_source_server_inventory() -> dict[str, Any]:
    """Sync the DRS source servers of every target account and active region into the inventory table.

    Without SOURCE_SERVER_INVENTORY_TABLE: a 500 response and no AWS call. Otherwise one timestamp for the run, the
    active regions (every DRS region when none), the target accounts synced (`sync_accounts`), the stale cleanup of
    every account read, the summary, and the region cache invalidated.
    """
    if get_inventory_table() is None:
        return response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})
    now = datetime.now(UTC).isoformat()
    active_regions = get_active_regions() or DRS_REGIONS
    logger.info("Inventory sync: querying %d active regions", len(active_regions))
    accounts = collect_accounts_to_query()
    with reusing_client_classes(), fewer_collections():
        run = SyncRun(now, active_regions, default_client("sts"), InventoryTable.configured())
        outcomes = sync_accounts(accounts, run)
        reads = [outcome.read for outcome in outcomes if outcome.read is not None]
        unread = [account["accountId"] for account, outcome in zip(accounts, outcomes, strict=True) if not outcome.read]
        stale_deleted = clean_up_stale_rows(reads, unread)
    synced, errors = sum(outcome.written for outcome in outcomes), sum(outcome.failed for outcome in outcomes)
    body = {
        "message": "Source server inventory sync complete",
        "totalSynced": synced,
        "totalErrors": errors,
        "staleRecordsDeleted": stale_deleted,
        "regionsScanned": len(active_regions),
        "regionsSkipped": len(DRS_REGIONS) - len(active_regions),
        "timestamp": now,
    }
    logger.info("Inventory sync complete: %d synced, %d errors, %d stale deleted", synced, errors, stale_deleted)
    invalidate_region_cache()
    return response(200, body)


def sync_accounts(accounts: list[dict[str, Any]], run: SyncRun) -> list[AccountOutcome]:
    """Sync every account, `account_window()` at a time, their writes in account order; return their outcomes.

    An account holds its reader until its inventory is written, so account k is read once account k-window is
    written, and once account k-1 has listed its DRS servers: the accounts read ahead start one after another, so the
    first account's reads, which the first writes wait for, do not share the CPU with every other account's. No
    account is started after a failure, and the first failure is raised once the writes before it are made.
    """
    window = account_window()
    with ThreadPoolExecutor(max_workers=window) as readers, ThreadPoolExecutor(max_workers=1) as writer:
        writes = OrderedWrites(writer)
        started: list[Future[AccountOutcome]] = []
        turn: AccountWrites | None = None
        for index, account in enumerate(accounts):
            if turn is not None:
                turn.began.wait()
            writes.raise_if_failed()
            if index >= window:
                wait([started[index - window]])
            turn = writes.next_account()
            started.append(readers.submit(sync_account, account, run, turn))
        wait(started)
        writes.wait()
    return [future.result() for future in started]


def sync_account(account: dict[str, Any], run: SyncRun, writes: AccountWrites) -> AccountOutcome:
    """Sync one account: credentials, DRS in every region, EC2 details, inventory rows; return once written.

    The hub is read with the Lambda's own credentials, any other account through its role; one whose role cannot be
    assumed is skipped. The region statuses and the rows are written in the account's turn at the writer; while the
    rows wait for it, the DRS documents they were built from are no longer held. A failure stops the run at this
    point of the write order.
    """
    try:
        credentials = None
        if not is_hub_account(account, run.sts_client):
            credentials = get_account_credentials(account, run.sts_client)
            if credentials is None:
                return AccountOutcome(None)
        account_id = account["accountId"]
        servers, statuses = query_drs_all_regions(
            account_id, credentials, run.active_regions, run.now, writes, run.region_totals
        )
        writes.raise_if_failed()
        details = enrich_with_ec2_metadata(servers, account_id, run.sts_client)
        rows = build_inventory_rows(servers, account_id, details, run.now)
        failed_regions = frozenset(region for region, status in statuses.items() if status["status"] != "ACTIVE")
        read = AccountRead(account_id, inventory_keys(servers, account_id), failed_regions)
        del servers, details  # only the rows wait for the writer (the documents were 16% of the sync's peak memory)
        written = writes.submit(write_inventory_to_dynamodb, rows, run.inventory)
    except BaseException as error:
        writes.fail(error)
        raise
    finally:
        writes.close()
    return AccountOutcome(read, *written.result())
