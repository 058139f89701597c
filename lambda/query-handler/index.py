"""Query handler Lambda entry point: routes direct/scheduled operations and picks the inventory sync implementation.

`INVENTORY_SYNC_IMPL` (read on every invocation) selects the implementation of `sync_source_server_inventory`
without a deploy:

- `legacy`: the original monolith, kept callable for at least 30 days after the default flips;
- `refactored`: the decomposed sync in inventory_sync.py, proven call-for-call identical by the harness;
- `shadow`: the legacy runs for real while recorded, then its recording is replayed into the refactored code in
  the same invocation (no extra AWS call, no write); the verdict is logged and published as a metric, and the
  legacy's result is returned whatever happens to the shadow. Its judgement gives up after
  `INVENTORY_SYNC_SHADOW_BUDGET_S` seconds (harness/shadow.py), so the shadow never delays the result past it.

A sync that raises (or answers a 5xx response) still returns the legacy's response shape (`Operation failed: ...`,
or the response itself), and also logs one structured ERROR line and an `InventorySyncFailed` EMF metric, which
template.yaml's alarm watches (shared/operations_log.py). The boto3 and botocore versions are logged once per cold
start.
"""

import json
import logging
import os
from collections.abc import Callable
from typing import Any

from inventory_sync import sync_source_server_inventory
from inventory_sync_legacy import handle_sync_source_server_inventory_legacy

from shared.operations_log import is_failed_response, log_runtime_sdk, report_sync_failure

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)
log_runtime_sdk(logger)

__all__ = ["handle_sync_source_server_inventory", "handle_sync_source_server_inventory_legacy", "lambda_handler"]

INVENTORY_SYNC_IMPL_ENV = "INVENTORY_SYNC_IMPL"
DEFAULT_INVENTORY_SYNC_IMPL = "refactored"
SYNC_OPERATION = "sync_source_server_inventory"


def _inventory_sync_implementations() -> dict[str, Callable[[], dict[str, Any]]]:
    """Return the flag value -> implementation table, resolved at call time so patched module names take effect."""
    return {
        "legacy": handle_sync_source_server_inventory_legacy,
        "refactored": sync_source_server_inventory,
        "shadow": _sync_in_shadow,
    }


def _sync_in_shadow() -> dict[str, Any]:
    """The legacy for real, the refactored sync replayed from its recording on the side; the legacy's result wins."""
    try:
        from harness.shadow import run_in_shadow
    except ImportError:
        logger.error("INVENTORY_SYNC_IMPL=shadow needs the harness package in the deployment; running the legacy alone")
        return handle_sync_source_server_inventory_legacy()
    result: dict[str, Any] = run_in_shadow(handle_sync_source_server_inventory_legacy, candidate="refactored")
    return result


def handle_sync_source_server_inventory() -> dict[str, Any]:
    """Run the inventory sync chosen by `INVENTORY_SYNC_IMPL` (default refactored) and return its API response.

    An unknown flag value is logged as an error naming the accepted values, and the default is used instead. A sync
    that raises is reported (one structured ERROR line, one `InventorySyncFailed` metric) and the exception goes on
    to the caller unchanged; a 5xx response is reported the same way and returned as it is.
    """
    implementations = _inventory_sync_implementations()
    impl_name = os.environ.get(INVENTORY_SYNC_IMPL_ENV, DEFAULT_INVENTORY_SYNC_IMPL)
    if impl_name not in implementations:
        logger.error(
            "Unknown %s value %r; accepted values: %s; using the default %r",
            INVENTORY_SYNC_IMPL_ENV,
            impl_name,
            ", ".join(sorted(implementations)),
            DEFAULT_INVENTORY_SYNC_IMPL,
        )
        impl_name = DEFAULT_INVENTORY_SYNC_IMPL
    logger.info("Inventory sync implementation: %s", impl_name)
    try:
        result = implementations[impl_name]()
    except Exception as error:
        report_sync_failure(logger, impl_name, error=error)
        raise
    if is_failed_response(result):
        report_sync_failure(logger, impl_name, response=result)
    return result


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Handle a direct or EventBridge invocation `{"operation": ...}` and return the operation's decoded body.

    Missing or unknown operations and failures are returned as error bodies rather than raised.
    """
    operation = event.get("operation") if isinstance(event, dict) else None
    if not operation:
        logger.error("Invocation without an operation: %s", type(event).__name__)
        return {"error": "Missing required field 'operation'", "supportedOperations": [SYNC_OPERATION]}

    try:
        if operation == SYNC_OPERATION:
            result = handle_sync_source_server_inventory()
            decoded: dict[str, Any] = json.loads(result["body"])
            return decoded
        logger.error("Unknown operation: %s", operation)
        return {"error": f"Unknown operation: {operation}", "supportedOperations": [SYNC_OPERATION]}
    except Exception as e:
        logger.exception("Operation %s failed", operation)
        return {"error": f"Operation failed: {e}", "operation": operation}
