"""Deliberately wrong candidates: the refactored sync with one behaviour changed, to prove the harness catches it.

Each mutant is a zero-argument callable the harness can run as `tests.comparison.mutants:<name>`. A replay cold
starts the Lambda's modules, so a mutant imports `inventory_sync` when called (getting the replay's fresh module),
swaps one of its functions for a variant, and runs the real orchestrator. The swap only lives in that fresh module,
which the cold start throws away after the run; it is undone anyway, so nothing leaks even outside a cold start.
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
    """The refactored module as the current (replayed) Lambda container has it."""
    return importlib.import_module("inventory_sync")


def statuses_in_submission_order() -> dict[str, Any]:
    """Region statuses written in active-region (submission) order instead of completion order (defect 8 'fixed').

    Identical to the legacy under the `submission` schedule, divergent as soon as regions complete in another
    order, which is what the schedules of the goldens and of the property tests are there to expose.
    """
    sync = _inventory_sync()
    real = sync.record_region_statuses

    def in_submission_order(
        account_id: Any, region_statuses: dict[str, dict[str, Any]], now: str, *totals: dict[str, int]
    ) -> None:
        regions = sync.get_active_regions() or sync.DRS_REGIONS
        ordered = {region: region_statuses[region] for region in regions if region in region_statuses}
        real(account_id, ordered, now, *totals)

    with _swapped(sync, "record_region_statuses", in_submission_order):
        return sync.sync_source_server_inventory()


def assume_role_without_external_id() -> dict[str, Any]:
    """The target accounts' externalId dropped before AssumeRole, as if the column were ignored."""
    sync = _inventory_sync()
    real = sync.get_account_credentials

    def without_external_id(account: dict[str, Any], sts_client: Any = None) -> dict[str, str] | None:
        return real({**account, "externalId": None}, sts_client)

    with _swapped(sync, "get_account_credentials", without_external_id):
        return sync.sync_source_server_inventory()


def cleanup_with_own_servers() -> dict[str, Any]:
    """Defects 1-2 "fixed" differently from the approved fix: every read account is cleaned, but each against its own
    server list only, so rows another account's DRS listed in this run (servers whose origin is the account) go."""
    sync = _inventory_sync()

    def clean_each_against_its_own(reads: list[Any], unreadable: list[Any]) -> int:
        keep = sync.unread_sources(reads, unreadable)
        client, table = sync.default_client("dynamodb"), sync.get_inventory_table().name
        rows = sync.scan_cleanup_rows(client, table, [read.account_id for read in reads])
        own_keys = {str(read.account_id): set(read.synced_keys) for read in reads}
        return sum(
            int(
                sync.delete_stale_rows(client, table, [row], own_keys.get(str(row.get("sourceAccountId")), set()), keep)
            )
            for row in rows
        )

    with _swapped(sync, "cleanup_every_read_account", clean_each_against_its_own):
        return sync.sync_source_server_inventory()


def region_errors_without_message() -> dict[str, Any]:
    """A failed region's status written without its errorMessage (one field lost in the batch rows)."""
    sync = _inventory_sync()
    real = sync.region_status_of

    def without_message(result: dict[str, Any]) -> dict[str, Any]:
        status = real(result)
        return {**status, "errorMessage": None} if status["status"] != "ACTIVE" else status

    with _swapped(sync, "region_status_of", without_message):
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
