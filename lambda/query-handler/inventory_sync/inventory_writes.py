"""The inventory writes: rows put 25 to a BatchWriteItem, every item accounted for as written or lost."""

import logging
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from shared.botocore_internals import prebuilt_json_bodies
from shared.cross_account import default_client
from shared.dynamodb_tables import get_inventory_table

from .rows import InventoryRow

logger = logging.getLogger(__name__)

BATCH_SIZE = 25
# The writer's client checks no parameters: the rows come typed by boto3's TypeSerializer, which only makes valid
# attribute values, and every millisecond the writer spends between two writes adds to the run.
WRITER_CONFIG = Config(parameter_validation=False)


@dataclass(frozen=True)
class InventoryTable:
    """The inventory table as the writer reaches it: its name, and a plain DynamoDB client for rows in wire form."""

    name: str
    client: Any

    @classmethod
    def configured(cls) -> "InventoryTable":
        """The table SOURCE_SERVER_INVENTORY_TABLE names, with a new client of the Lambda's own credentials whose
        BatchWriteItem bodies are `json.dumps` of the rows (`shared.botocore_internals.prebuilt_json_bodies`)."""
        return cls(get_inventory_table().name, prebuilt_json_bodies(default_client("dynamodb", config=WRITER_CONFIG)))


def write_inventory_to_dynamodb(rows: list[InventoryRow], table: InventoryTable | None = None) -> tuple[int, int]:
    """Write rows (in wire form) to the inventory table; return (items written, items failed).

    The calls are those of boto3's batch writer, which the legacy uses: a BatchWriteItem of 25 items whenever 25 are
    waiting, unprocessed items resent in the next batch, the rest drained at the end. A row whose document could not
    be built is logged and counted as one failure. An item counts as written once DynamoDB accepted it; a batch
    whose call fails, the last one included, counts each of its items as failed and logs its key, and the writes go
    on (legacy defect 6 fixed: approved divergence defect-6-count-every-lost-item).
    """
    table = InventoryTable.configured() if table is None else table
    waiting: list[dict[str, Any]] = []
    written = failed = 0
    for arn, item in rows:
        if isinstance(item, Exception):
            logger.error("Failed to write inventory item for %s: %s", arn, item)
            failed += 1
            continue
        waiting.append({"PutRequest": {"Item": item}})
        if len(waiting) >= BATCH_SIZE:
            waiting, accepted, lost = send_batch(table, waiting)
            written, failed = written + accepted, failed + lost
    while waiting:
        waiting, accepted, lost = send_batch(table, waiting)
        written, failed = written + accepted, failed + lost
    return written, failed


def send_batch(table: InventoryTable, waiting: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """Send the first 25 waiting requests in one BatchWriteItem; return (requests still waiting, accepted, lost).

    Unprocessed requests join the end of those still waiting, as in boto3's batch writer. A failed call loses the
    batch: each lost item is logged with its key (sourceServerArn, stagingAccountId).
    """
    batch, rest = waiting[:BATCH_SIZE], waiting[BATCH_SIZE:]
    try:
        answer = table.client.batch_write_item(RequestItems={table.name: batch})
    except Exception as error:
        for item in (request["PutRequest"]["Item"] for request in batch):
            key = [item.get(name, {}).get("S") for name in ("sourceServerArn", "stagingAccountId")]
            logger.error(
                "Inventory item lost with its failed batch (sourceServerArn %s, stagingAccountId %s): %s", *key, error
            )
        return rest, 0, len(batch)
    unprocessed = (answer.get("UnprocessedItems") or {}).get(table.name, [])
    return rest + unprocessed, len(batch) - len(unprocessed), 0
