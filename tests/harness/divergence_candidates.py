"""Candidates for the approved-divergence tests: the refactored sync with one legacy defect fixed on purpose.

Each is a zero-argument callable named as `tests.harness.divergence_candidates:<function>`. They reuse the refactored
package's single-purpose functions (imported fresh inside the harness's cold start) and change only the orchestration
step the defect lives in, as a real fix would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from harness.lambda_env import import_lambda_module

# (account id, the servers read for it, or None when its AssumeRole failed), in target-account order.
AccountOutcome = tuple[Any, list[dict[str, Any]] | None]
Cleanup = Callable[[ModuleType, list[AccountOutcome]], int]


def _orchestrate(cleanup: Cleanup, prepare: Callable[[ModuleType], None] | None = None) -> dict[str, Any]:
    """The refactored orchestrator with its stale-cleanup step replaced by `cleanup` (and the package `prepare`d)."""
    sync = import_lambda_module("inventory_sync")
    region_filter = import_lambda_module("shared.active_region_filter")
    all_regions = import_lambda_module("shared.drs_regions").DRS_REGIONS
    response = import_lambda_module("shared.response_utils").response
    if prepare is not None:
        prepare(sync)
    if import_lambda_module("shared.dynamodb_tables").get_inventory_table() is None:
        return dict(response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"}))
    now = datetime.now(UTC).isoformat()
    active_regions = region_filter.get_active_regions() or all_regions
    total_synced = total_errors = 0
    outcomes: list[AccountOutcome] = []
    for account in sync.collect_accounts_to_query():
        outcome = _sync_account(sync, account, active_regions, now)
        outcomes.append((account["accountId"], outcome[0] if outcome else None))
        if outcome is not None:
            total_synced += outcome[1]
            total_errors += outcome[2]
    stale_deleted = cleanup(sync, outcomes)
    body = {
        "message": "Source server inventory sync complete",
        "totalSynced": total_synced,
        "totalErrors": total_errors,
        "staleRecordsDeleted": stale_deleted,
        "regionsScanned": len(active_regions),
        "regionsSkipped": len(all_regions) - len(active_regions),
        "timestamp": now,
    }
    region_filter.invalidate_region_cache()
    return dict(response(200, body))


def _sync_account(
    sync: ModuleType, account: dict[str, Any], active_regions: list[str], now: str
) -> tuple[list[dict[str, Any]], int, int] | None:
    """One account synced step after step with the module's functions: (servers, written, failed), None if skipped.

    Credentials (AssumeRole for every account but the hub), DRS in every active region with the region statuses
    written, EC2 enrichment, inventory writes: the legacy's per-account steps, in its order.
    """
    credentials: dict[str, Any] | None = None
    if not sync.accounts.is_hub_account(account):
        credentials = sync.get_account_credentials(account)
        if credentials is None:
            return None
    servers, _ = sync.query_drs_all_regions(account["accountId"], credentials, active_regions, now)
    ec2_details = sync.enrich_with_ec2_metadata(servers, account["accountId"])
    rows = sync.rows.build_inventory_rows(servers, account["accountId"], ec2_details, now)
    synced, errors = sync.write_inventory_to_dynamodb(rows)
    return servers, synced, errors


def _last_synced_servers(outcomes: list[AccountOutcome]) -> list[dict[str, Any]]:
    """The last server list read, raising the legacy's UnboundLocalError when no account got one (defect 3)."""
    servers = [servers for _, servers in outcomes if servers is not None]
    if not servers:
        raise UnboundLocalError("cannot access local variable 'all_servers' where it is not associated with a value")
    return servers[-1]


def _cleanup(sync: ModuleType, account: Any, servers: list[dict[str, Any]]) -> int:
    """The module's cleanup of one account against one server list (no row kept for an unread region)."""
    read = sync.cleanup.AccountRead(account, sync.rows.inventory_keys(servers, account), frozenset())
    return int(sync.cleanup.clean_up_stale_rows([read], []))


def _every_synced_account(sync: ModuleType, outcomes: list[AccountOutcome]) -> int:
    """Defects 1 and 2 fixed: clean up each account that was read, with its own servers."""
    return sum(_cleanup(sync, account, servers) for account, servers in outcomes if servers is not None)


def _legacy_unless_last_failed(sync: ModuleType, outcomes: list[AccountOutcome]) -> int:
    """Defect 2 fixed alone: the legacy's single cleanup, skipped when the last account's AssumeRole failed."""
    servers = _last_synced_servers(outcomes)
    last_account, last_servers = outcomes[-1]
    return 0 if last_servers is None else _cleanup(sync, last_account, servers)


def _legacy_or_nothing(sync: ModuleType, outcomes: list[AccountOutcome]) -> int:
    """Defect 3 fixed alone: with no account read there is nothing to clean up, instead of an UnboundLocalError."""
    if all(servers is None for _, servers in outcomes):
        return 0
    return _cleanup(sync, outcomes[-1][0], _last_synced_servers(outcomes))


def _rename_hosts(sync: ModuleType) -> None:
    """An unrelated change: every inventory row gets another hostname."""
    build = sync.rows.inventory_item_from_server

    def renamed(server: dict[str, Any], account_id: Any, ec2_details: dict[str, Any], now: str) -> dict[str, Any]:
        """The refactored row, hostname changed."""
        return {**build(server, account_id, ec2_details, now), "hostname": "renamed-host"}

    sync.rows.inventory_item_from_server = renamed


def cleanup_every_account() -> dict[str, Any]:
    """The refactored sync with defect 1 fixed: stale rows of every account are removed, not only the last's."""
    return _orchestrate(_every_synced_account)


def _skip_region_status_puts(sync: ModuleType) -> None:
    """An unrelated change: `update_region_status` no longer writes its row (a missing PutItem per region)."""
    sync.regions.update_region_status = lambda region, server_count, error_message=None: None


def cleanup_every_account_without_region_status_puts() -> dict[str, Any]:
    """Defect 1 fixed, plus an unrelated, unapproved change: the region status table's PutItems are gone."""
    return _orchestrate(_every_synced_account, _skip_region_status_puts)


def cleanup_every_account_renaming_hosts() -> dict[str, Any]:
    """Defect 1 fixed, plus an unrelated, unapproved change to every inventory row's hostname."""
    return _orchestrate(_every_synced_account, _rename_hosts)


def skip_cleanup_after_failed_assume_role() -> dict[str, Any]:
    """The refactored sync with defect 2 fixed: no rows are deleted for a last account whose AssumeRole failed."""
    return _orchestrate(_legacy_unless_last_failed)


def succeed_with_no_synced_account() -> dict[str, Any]:
    """The refactored sync with defect 3 fixed: no target accounts is a 200 with zero counts, not an exception."""
    return _orchestrate(_legacy_or_nothing)
