"""Characterization of the Lambda entry point `index.lambda_handler`: routing, error bodies and the impl flag.

Each case runs inside a scenario's world (cold start, environment from the scenario) so `index` is imported the
way the Lambda runtime imports it. The zero-argument functions below are implementations for `run_impl`.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import pytest

from tests.characterization.scenarios import (
    ACCOUNT_A,
    NOW,
    calls,
    run,
    run_impl,
    scenario,
    target,
    trace,
)

SYNC = "sync_source_server_inventory"


def one_server() -> dict[str, Any]:
    """Account A with one generated server in us-east-1."""
    return scenario(targets=[target(ACCOUNT_A, "ext-a")], accounts={ACCOUNT_A: {"drs": {"us-east-1": {"servers": 1}}}})


def unknown_operation() -> Any:
    """lambda_handler with an operation it does not know."""
    return importlib.import_module("index").lambda_handler({"operation": "delete_everything"}, None)


def missing_operation() -> Any:
    """lambda_handler with an event that names no operation."""
    return importlib.import_module("index").lambda_handler({"source": "aws.events"}, None)


def test_sync_event_returns_the_decoded_body() -> None:
    report = run_impl(one_server(), "handler")

    assert report.outputs.exception is None
    assert report.outputs.result == {
        "message": "Source server inventory sync complete",
        "totalSynced": 1,
        "totalErrors": 0,
        "staleRecordsDeleted": 0,
        "regionsScanned": 1,
        "regionsSkipped": 27,
        "timestamp": NOW,
    }
    # The same calls as the legacy called directly.
    assert trace(report) == trace(run(one_server()))


def test_unknown_operation_is_an_error_body_naming_it() -> None:
    report = run_impl(one_server(), "tests.characterization.test_index:unknown_operation")

    assert report.outputs.result == {
        "error": "Unknown operation: delete_everything",
        "supportedOperations": [SYNC],
    }
    assert report.interactions == []


def test_missing_operation_is_a_clear_error() -> None:
    report = run_impl(one_server(), "tests.characterization.test_index:missing_operation")

    assert report.outputs.result == {
        "error": "Missing required field 'operation'",
        "supportedOperations": [SYNC],
    }
    assert report.interactions == []


def test_exception_becomes_operation_failed_body() -> None:
    """No target accounts makes the legacy raise (defect 3); the handler turns it into an error body."""
    report = run_impl(scenario(targets=[], accounts={}, env={"INVENTORY_SYNC_IMPL": "legacy"}), "handler")

    assert report.outputs.exception is None
    assert report.outputs.result == {
        "error": "Operation failed: cannot access local variable 'all_servers' where it is not associated with a value",
        "operation": SYNC,
    }


def test_missing_inventory_table_through_the_handler_returns_the_500_body() -> None:
    report = run_impl(dict(one_server(), env={"SOURCE_SERVER_INVENTORY_TABLE": None}), "handler")

    assert report.outputs.result == {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"}
    assert report.interactions == []


def test_unknown_impl_flag_logs_an_error_and_runs_the_legacy(caplog: pytest.LogCaptureFixture) -> None:
    data = dict(one_server(), env={"INVENTORY_SYNC_IMPL": "turbo"})
    with caplog.at_level(logging.INFO):
        report = run_impl(data, "handler")

    errors = [record for record in caplog.records if record.levelno == logging.ERROR and record.name == "index"]
    assert len(errors) == 1
    assert "INVENTORY_SYNC_IMPL" in errors[0].getMessage()
    assert "'turbo'" in errors[0].getMessage()
    assert "legacy" in errors[0].getMessage()
    assert report.outputs.result["totalSynced"] == 1
    assert trace(report) == trace(run(one_server()))
    assert len(calls(report, "DescribeSourceServers")) == 1


def test_explicit_legacy_flag_runs_the_legacy(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        report = run_impl(dict(one_server(), env={"INVENTORY_SYNC_IMPL": "legacy"}), "handler")

    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert report.outputs.result["totalSynced"] == 1
