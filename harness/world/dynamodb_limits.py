"""DynamoDB limits moto leaves out: the 400 KB item size, checked on PutItem and BatchWriteItem as AWS does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from harness.world.errors import AwsError

MAX_ITEM_BYTES = 400 * 1024
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"


def check_item_sizes(operation: str, params: dict[str, Any]) -> None:
    """Raise the ValidationException AWS answers when any item of a PutItem or BatchWriteItem is over 400 KB."""
    for item in _items(operation, params):
        if item_size(item) > MAX_ITEM_BYTES:
            raise AwsError("ValidationException", ITEM_TOO_LARGE, 400)


def _items(operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The items a write request carries, in wire form."""
    if operation == "PutItem" and isinstance(params.get("Item"), dict):
        return [params["Item"]]
    if operation != "BatchWriteItem":
        return []
    items = []
    for requests in (params.get("RequestItems") or {}).values():
        for request in requests if isinstance(requests, list) else []:
            put = request.get("PutRequest") if isinstance(request, dict) else None
            if isinstance(put, dict) and isinstance(put.get("Item"), dict):
                items.append(put["Item"])
    return items


def item_size(item: dict[str, Any]) -> int:
    """An item's size by DynamoDB's rules: attribute name lengths plus value sizes."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def value_size(value: Any) -> int:
    """One AttributeValue's size (strings and binaries by length, numbers by digits, documents with overhead)."""
    if not isinstance(value, dict) or len(value) != 1:
        return 0
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(str(content))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "BS"):
        return sum(len(str(member).encode("utf-8")) for member in content)
    if kind == "NS":
        return sum(_number_size(str(member)) for member in content)
    if kind == "L":
        return 3 + sum(1 + value_size(member) for member in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(member) for name, member in content.items())
    return 0


def _number_size(text: str) -> int:
    """Numbers take about one byte per two significant digits, plus one."""
    digits = len(Decimal(text).as_tuple().digits)
    return (digits + 1) // 2 + 1
