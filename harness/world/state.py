"""Reading a world's tables back: every item of every configured table, sorted by key, in plain JSON types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from harness.world.scenario import Scenario
from harness.world.seeding import TABLE_KEYS, InternalClients, table_names


def dump_tables(scenario: Scenario) -> dict[str, list[dict[str, Any]]]:
    """Every item of the scenario's tables (logical name -> items sorted by key); the world must be active."""
    clients = InternalClients()
    region = scenario.environment().get("AWS_DEFAULT_REGION") or "us-east-1"
    dynamodb = clients.client("dynamodb", region, scenario.hub_account)
    deserializer = TypeDeserializer()
    dump: dict[str, list[dict[str, Any]]] = {}
    for logical, name in table_names(scenario).items():
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            items.extend(
                {key: plain_json(deserializer.deserialize(value)) for key, value in item.items()}
                for item in page["Items"]
            )
        hash_key, range_key = TABLE_KEYS[logical]
        items.sort(key=lambda item: (str(item.get(hash_key, "")), str(item.get(range_key, "")) if range_key else ""))
        dump[logical] = items
    return dump


def plain_json(value: Any) -> Any:
    """DynamoDB's Python types as JSON types: whole Decimals to int, others to float, sets to sorted lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(plain_json(item) for item in value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value
