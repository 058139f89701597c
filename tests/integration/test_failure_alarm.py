"""A failed sync is something an operator can alarm on: the handler's response is unchanged, and one structured ERROR
line and one `InventorySyncFailed` EMF record (the metric template.yaml's alarm watches) are logged.

Each case runs the Lambda handler against the local AWS, cold-started with a scenario's environment; the sync fails
for real (DynamoDB refuses the first write, or the inventory table is not configured).
"""

import json
import logging
from pathlib import Path

import pytest

from harness.clock import frozen_clock
from harness.lambda_env import cold_start, import_lambda_module
from harness.world.local import local_aws
from harness.world.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SYNC_EVENT = {"operation": "sync_source_server_inventory"}
FAILURE_EVENT = "inventory_sync_failed"


def run_handler(scenario_name: str, impl: str, function_name: str | None = None) -> dict:
    """lambda_handler with the sync event on a fresh world of the scenario, the flag set to `impl`."""
    scenario = load_scenario(SCENARIOS / f"{scenario_name}.yaml")
    environment = {**scenario.environment(), "INVENTORY_SYNC_IMPL": impl, "AWS_LAMBDA_FUNCTION_NAME": function_name}
    with frozen_clock(scenario.clock), local_aws(scenario), cold_start(environment):
        result: dict = import_lambda_module("index").lambda_handler(SYNC_EVENT, None)
    return result


def failure_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    """The structured failure lines the handler logged (as JSON), with their levels checked to be ERROR."""
    found = []
    for record in caplog.records:
        if record.name == "index" and FAILURE_EVENT in record.getMessage():
            assert record.levelno == logging.ERROR
            found.append(json.loads(record.getMessage()))
    return found


def emf_records(stdout: str) -> list[dict]:
    """Every CloudWatch embedded-metric record printed to standard output."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]


@pytest.mark.parametrize("impl", ["refactored", "legacy"])
def test_a_sync_that_raises_keeps_its_error_body_and_logs_one_failure_line_and_one_metric(impl, caplog, capsys):
    with caplog.at_level(logging.INFO):
        result = run_handler("region-status-write-fails", impl, function_name="drs-sync-query-handler")

    # The legacy's response to an exception, unchanged: an error body naming the operation.
    assert set(result) == {"error", "operation"}
    assert result["operation"] == "sync_source_server_inventory"
    assert result["error"].startswith("Operation failed: ")
    assert "AccessDeniedException" in result["error"]

    [line] = failure_lines(caplog)
    assert line["impl"] == impl
    assert line["operation"] == "sync_source_server_inventory"
    assert line["errorType"] == "ClientError"
    assert "not authorized to perform dynamodb:BatchWriteItem" in line["error"]

    [emf] = emf_records(capsys.readouterr().out)
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "DRSOrchestration/InventorySync"
    assert directive["Dimensions"] == [["FunctionName"]]
    assert directive["Metrics"] == [{"Name": "InventorySyncFailed", "Unit": "Count"}]
    assert emf["FunctionName"] == "drs-sync-query-handler"
    assert emf["InventorySyncFailed"] == 1
    assert isinstance(emf["_aws"]["Timestamp"], int)


def test_a_sync_answering_500_is_returned_as_it_is_and_reported(caplog, capsys):
    with caplog.at_level(logging.INFO):
        result = run_handler("inventory-table-unset", "refactored")

    assert result == {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"}
    [line] = failure_lines(caplog)
    assert line["statusCode"] == 500
    assert "SOURCE_SERVER_INVENTORY_TABLE not configured" in line["error"]
    [emf] = emf_records(capsys.readouterr().out)
    assert emf["InventorySyncFailed"] == 1
    assert emf["FunctionName"] == "local"  # no AWS_LAMBDA_FUNCTION_NAME outside the Lambda


def test_a_sync_that_succeeds_reports_no_failure(caplog, capsys):
    with caplog.at_level(logging.INFO):
        result = run_handler("demo-two-accounts", "refactored")

    assert result["totalSynced"] == 12
    assert failure_lines(caplog) == []
    assert emf_records(capsys.readouterr().out) == []


def test_the_cold_start_logs_the_sdk_versions_once(caplog):
    import platform

    import boto3
    import botocore

    with caplog.at_level(logging.INFO):
        run_handler("demo-two-accounts", "refactored")

    lines = [json.loads(r.getMessage()) for r in caplog.records if "lambda_runtime_sdk" in r.getMessage()]
    assert lines == [
        {
            "event": "lambda_runtime_sdk",
            "boto3": boto3.__version__,
            "botocore": botocore.__version__,
            "bundled": False,  # the repository's lambda/ runs with this venv's SDK
            "python": platform.python_version(),
        }
    ]
