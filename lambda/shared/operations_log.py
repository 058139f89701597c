"""What the function tells its operators: the SDK it runs with, and failed syncs as a log line and a metric.

- `log_runtime_sdk` (once per cold start): one JSON line `{"event": "lambda_runtime_sdk", "boto3": ..., "botocore":
  ..., "bundled": true|false, "python": ...}`; `bundled` says whether botocore came from the deployment package
  (which bundles the pinned SDK) rather than from the Lambda runtime.
- `report_sync_failure`: one structured ERROR line `{"event": "inventory_sync_failed", ...}` and one CloudWatch
  embedded-metric (EMF) record counting `InventorySyncFailed` in the `DRSOrchestration/InventorySync` namespace,
  with the function's name as its dimension (the metric template.yaml's alarm watches).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import boto3
import botocore

METRIC_NAMESPACE = "DRSOrchestration/InventorySync"
FAILURE_METRIC = "InventorySyncFailed"
FAILURE_EVENT = "inventory_sync_failed"
SDK_EVENT = "lambda_runtime_sdk"
# The Lambda runtime sets it; a local run (tests, the harness) has none.
FUNCTION_NAME_ENV = "AWS_LAMBDA_FUNCTION_NAME"
LOCAL_FUNCTION_NAME = "local"
# How much of an exception's text the failure line carries (the traceback is logged beside it).
MESSAGE_LIMIT = 1000
# The deployment package's root: the directory holding `shared/` (lambda/ in the repository, /var/task deployed).
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def runtime_sdk() -> dict[str, Any]:
    """The boto3 and botocore this process imported, whether they are the package's own, and the Python version."""
    botocore_file = Path(botocore.__file__ or "").resolve()
    return {
        "event": SDK_EVENT,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "bundled": botocore_file.is_relative_to(PACKAGE_ROOT),
        "python": platform.python_version(),
    }


def log_runtime_sdk(logger: logging.Logger) -> None:
    """Log the SDK versions as one INFO JSON line (the handler calls it once, at import: a cold start)."""
    logger.info(json.dumps(runtime_sdk(), sort_keys=True))


def report_sync_failure(
    logger: logging.Logger,
    impl: str,
    *,
    error: BaseException | None = None,
    response: dict[str, Any] | None = None,
    metrics: TextIO | None = None,
) -> dict[str, Any]:
    """Log one structured ERROR line and print one EMF record for a sync that raised `error` or answered `response`.

    Returns the logged record. `metrics` defaults to standard output, where the Lambda runtime sends EMF to
    CloudWatch Logs, which extracts the metric.
    """
    record: dict[str, Any] = {"event": FAILURE_EVENT, "operation": "sync_source_server_inventory", "impl": impl}
    if error is not None:
        record["errorType"] = type(error).__name__
        record["error"] = str(error)[:MESSAGE_LIMIT]
    else:
        body = (response or {}).get("body")
        record["statusCode"] = (response or {}).get("statusCode")
        record["error"] = str(body)[:MESSAGE_LIMIT]
    logger.error(json.dumps(record, sort_keys=True, default=str))
    stream = metrics or sys.stdout
    stream.write(json.dumps(failure_metric_record()) + "\n")
    stream.flush()
    return record


def failure_metric_record() -> dict[str, Any]:
    """A CloudWatch embedded-metric record: `InventorySyncFailed` = 1 for this function."""
    return {
        "_aws": {
            "Timestamp": int(datetime.now(UTC).timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": FAILURE_METRIC, "Unit": "Count"}],
                }
            ],
        },
        "FunctionName": os.environ.get(FUNCTION_NAME_ENV, LOCAL_FUNCTION_NAME),
        FAILURE_METRIC: 1,
    }


def is_failed_response(result: Any) -> bool:
    """Whether a sync's API response is a server-side failure (a 5xx status, as the legacy's "not configured")."""
    if not isinstance(result, dict):
        return False
    status = result.get("statusCode")
    return isinstance(status, int) and status >= 500
