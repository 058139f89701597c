"""Active-region filter: which DRS regions have source servers, cached per warm Lambda process.

The region status table (env `DRS_REGION_STATUS_TABLE`, read at import) holds one row per region with its last
known server count. Regions with servers are "active"; the sync queries only those, or every DRS region when the
table is absent, empty or unreadable.
"""

import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr

from shared.drs_regions import DRS_REGIONS

logger = logging.getLogger(__name__)

dynamodb = boto3.resource("dynamodb")
DRS_REGION_STATUS_TABLE = os.environ.get("DRS_REGION_STATUS_TABLE")
# Kept for callers of the module's earlier name.
REGION_STATUS_TABLE = DRS_REGION_STATUS_TABLE
# Seconds a cached list of active regions stays valid.
CACHE_TTL = 60

_region_status_table: Any = None

# Process-wide cache, survives warm invocations. "data" is None when empty.
_region_cache: dict[str, dict[str, Any]] = {"active_regions": {"data": None, "timestamp": 0.0}}


def get_region_status_table() -> Any:
    """Return the region status Table object (created once, lazily), or None (with a warning) when not configured."""
    global _region_status_table
    if not DRS_REGION_STATUS_TABLE:
        logger.warning("DRS_REGION_STATUS_TABLE is not set: region statuses are neither read nor recorded")
        return None
    if _region_status_table is None:
        _region_status_table = dynamodb.Table(DRS_REGION_STATUS_TABLE)
    return _region_status_table


def get_active_regions(region_status_table: Any = None, cache_ttl: int = CACHE_TTL) -> list[str]:
    """Return the regions whose status row has `serverCount > 0`, in scan order.

    A cached list younger than `cache_ttl` seconds is returned as is. Without a table, with no active region, or
    on any error, every DRS region is returned (and nothing is cached).
    """
    cached = _region_cache["active_regions"]
    if cached["data"] is not None and time.time() - cached["timestamp"] < cache_ttl:
        return list(cached["data"])

    table = region_status_table if region_status_table is not None else get_region_status_table()
    if table is None:
        return DRS_REGIONS

    try:
        scan_result = table.scan(FilterExpression=Attr("serverCount").gt(0))
        items = scan_result.get("Items", [])
        while "LastEvaluatedKey" in scan_result:
            scan_result = table.scan(
                FilterExpression=Attr("serverCount").gt(0),
                ExclusiveStartKey=scan_result["LastEvaluatedKey"],
            )
            items.extend(scan_result.get("Items", []))

        active_regions = [item["region"] for item in items]
        if not active_regions:
            logger.info("No active regions recorded, querying all %d DRS regions", len(DRS_REGIONS))
            return DRS_REGIONS

        _region_cache["active_regions"] = {"data": active_regions, "timestamp": time.time()}
        logger.info("Active regions: %d of %d", len(active_regions), len(DRS_REGIONS))
        return list(active_regions)
    except Exception as e:
        logger.warning("Failed to read active regions, querying all DRS regions: %s", e)
        return DRS_REGIONS


def invalidate_region_cache() -> None:
    """Forget the cached active regions so the next `get_active_regions` reads the table again."""
    _region_cache["active_regions"] = {"data": None, "timestamp": 0.0}


def update_region_status(region: str, server_count: int, error_message: str | None = None) -> None:
    """Record a region's server count and status (ERROR / AVAILABLE / UNINITIALIZED) with a PutItem.

    Does nothing without a table; failures are logged and swallowed.
    """
    table = get_region_status_table()
    if table is None:
        return

    if error_message:
        status = "ERROR"
    elif server_count > 0:
        status = "AVAILABLE"
    else:
        status = "UNINITIALIZED"

    try:
        table.put_item(
            Item={
                "region": region,
                "status": status,
                "serverCount": server_count,
                "lastChecked": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "errorMessage": error_message,
            }
        )
    except Exception as e:
        logger.error("Failed to update region status for %s: %s", region, e)
