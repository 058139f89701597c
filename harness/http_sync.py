"""The Lambda handler against a served local AWS over real HTTP, as it would run against a dev account."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.impls import SYNC_EVENT
from harness.lambda_env import REPO_ROOT, cold_start, import_lambda_module
from harness.world.scenario import Scenario, load_scenario
from harness.world.seeding import table_names

STARTUP_TIMEOUT_S = 60
# Any credentials that are not an assumed role's act as the scenario's hub account.
HTTP_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local-hub-access", "AWS_SECRET_ACCESS_KEY": "local-hub-secret"}


@contextmanager
def served_world(scenario_path: Path, port: int = 0) -> Iterator[str]:
    """Run `python -m harness world serve` for the block; yields its endpoint URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "world", "serve", "--scenario", str(scenario_path), "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("endpoint="):
            raise RuntimeError(f"world serve did not start (first line {line!r}, exit code {process.poll()})")
        yield line.removeprefix("endpoint=")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sync_over_http(scenario_path: Path) -> dict[str, Any]:
    """Serve the scenario, invoke lambda_handler with the sync event through AWS_ENDPOINT_URL, read the tables."""
    scenario = load_scenario(scenario_path)
    with served_world(scenario_path) as endpoint:
        environment = {**scenario.environment(), **HTTP_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
        with cold_start(environment):
            index = import_lambda_module("index")
            result = index.lambda_handler(dict(SYNC_EVENT), None)
            tables = _read_tables(scenario)
    return {"result": result, "tables": tables}


def _read_tables(scenario: Scenario) -> dict[str, list[dict[str, Any]]]:
    """Every item of the scenario's tables, read over HTTP as the hub."""
    import boto3

    from harness.world.state import plain_json

    dynamodb = boto3.resource("dynamodb", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    tables: dict[str, list[dict[str, Any]]] = {}
    for logical, name in table_names(scenario).items():
        table = dynamodb.Table(name)
        items: list[dict[str, Any]] = []
        page = table.scan()
        items.extend(page["Items"])
        while "LastEvaluatedKey" in page:
            page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
            items.extend(page["Items"])
        tables[logical] = [plain_json(item) for item in items]
    return tables


def summarize_sync(outcome: dict[str, Any]) -> str:
    """The handler's result and a few lines per table, for a person at a terminal."""
    lines = ["result: " + json.dumps(outcome["result"], sort_keys=True)]
    tables = outcome["tables"]
    inventory = tables.get("inventory", [])
    by_account = Counter(str(row.get("sourceAccountId")) for row in inventory)
    lines.append(f"inventory: {len(inventory)} rows " + ", ".join(f"{a}: {n}" for a, n in sorted(by_account.items())))
    for row in sorted(tables.get("region_status", []), key=lambda row: str(row.get("region"))):
        message = f" ({row['errorMessage']})" if row.get("errorMessage") else ""
        lines.append(f"region {row.get('region')}: {row.get('status')}, {row.get('serverCount')} servers{message}")
    lines.append(f"target accounts: {len(tables.get('target_accounts', []))} rows")
    return "\n".join(lines)
