"""Deliberately wrong candidates: the refactored sync with one behaviour changed, to prove the harness catches it.

Each mutant is a zero-argument callable the harness can run as `tests.comparison.mutants:<name>`. A replay cold
starts the Lambda's modules, so a mutant imports the `inventory_sync` package when called (getting the replay's fresh
modules), swaps one function for a variant in the module that calls it, and runs the real orchestrator. The swap only
lives in those fresh modules, which the cold start throws away after the run; it is undone anyway, so nothing leaks
even outside a cold start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

MUTANT_MODULE = "tests.comparison.mutants"


@contextmanager
def _swapped(module: Any, name: str, replacement: Callable[..., Any]) -> Iterator[None]:
    """Replace `module.name` for the block."""
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)


def _inventory_sync() -> Any:
    """The refactored package as the current (replayed) Lambda container has it (its modules as attributes)."""
    return importlib.import_module("inventory_sync")


def statuses_in_submission_order() -> dict[str, Any]:
    """Region statuses written in active-region (submission) order instead of completion order (defect 8 'fixed').

    Identical to the legacy under the `submission` schedule, divergent as soon as regions complete in another
    order, which is what the schedules of the goldens and of the property tests are there to expose.
    """
    sync = _inventory_sync()
    real = sync.regions.record_region_statuses
    region_filter = importlib.import_module("shared.active_region_filter")
    all_regions = importlib.import_module("shared.drs_regions").DRS_REGIONS

    def in_submission_order(
        account_id: Any, region_statuses: dict[str, dict[str, Any]], now: str, *totals: dict[str, int] | None
    ) -> None:
        regions = region_filter.get_active_regions() or all_regions
        ordered = {region: region_statuses[region] for region in regions if region in region_statuses}
        real(account_id, ordered, now, *totals)

    with _swapped(sync.regions, "record_region_statuses", in_submission_order):
        return sync.sync_source_server_inventory()


def assume_role_without_external_id() -> dict[str, Any]:
    """The target accounts' externalId dropped before AssumeRole, as if the column were ignored."""
    sync = _inventory_sync()
    real = sync.accounts.get_account_credentials

    def without_external_id(account: dict[str, Any], sts_client: Any = None) -> dict[str, str] | None:
        return real({**account, "externalId": None}, sts_client)

    with _swapped(sync.orchestrator, "get_account_credentials", without_external_id):
        return sync.sync_source_server_inventory()


def cleanup_with_own_servers() -> dict[str, Any]:
    """Defects 1-2 "fixed" differently from the approved fix: every read account is cleaned, but each against its own
    server list only, so rows another account's DRS listed in this run (servers whose origin is the account) go.

    The cleanup's reads stay the real ones (same Scans): only which scanned rows count as stale changes.
    """
    sync = _inventory_sync()
    cleanup = sync.cleanup
    scan_name = next(name for name in ("scan_rows", "scan_account_rows") if hasattr(cleanup, name))
    real_scan, real_clean = getattr(cleanup, scan_name), cleanup.clean_up_stale_rows
    own_keys: dict[str, frozenset[tuple[Any, Any]]] = {}

    def scan_against_own_servers(*args: Any) -> list[Any]:
        *scan_args, _synced_by_the_run = args
        rows = real_scan(*scan_args, frozenset())
        return [
            row
            for row in rows
            if (row.get("sourceServerArn"), row.get("stagingAccountId"))
            not in own_keys.get(str(row.get("sourceAccountId")), frozenset())
        ]

    def clean(reads: list[Any], unread_accounts: list[Any]) -> int:
        own_keys.update({str(read.account_id): read.synced_keys for read in reads})
        return int(real_clean(reads, unread_accounts))

    with (
        _swapped(cleanup, scan_name, scan_against_own_servers),
        _swapped(sync.orchestrator, "clean_up_stale_rows", clean),
    ):
        return sync.sync_source_server_inventory()


def region_errors_without_message() -> dict[str, Any]:
    """A failed region's status written without its errorMessage (one field lost in the batch rows)."""
    sync = _inventory_sync()
    real = sync.regions.region_status_of

    def without_message(result: dict[str, Any]) -> dict[str, Any]:
        status = real(result)
        return {**status, "errorMessage": None} if status["status"] != "ACTIVE" else status

    with _swapped(sync.regions, "region_status_of", without_message):
        return sync.sync_source_server_inventory()


MUTANTS = {
    name: f"{MUTANT_MODULE}:{name}"
    for name in (
        "statuses_in_submission_order",
        "assume_role_without_external_id",
        "cleanup_with_own_servers",
        "region_errors_without_message",
    )
}
