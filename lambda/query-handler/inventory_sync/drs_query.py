"""One region's DRS query: every source server of an account in a region, or the classified failure."""

from typing import Any

from shared.cross_account import create_drs_client

from .drs_errors import drs_error_result
from .settings import CLIENT_CONFIG


def query_drs_single_region(region: str, account_id: str | None, credentials: dict[str, Any] | None) -> dict[str, Any]:
    """Query every DRS source server of one region and answer `{"status": "success", "servers": [...]}`.

    The DRS client (signed with `credentials`, or the Lambda's own when None) has the short-timeout single-retry
    config. Every page is read (DescribeSourceServers' paginator, no filter) and each server is tagged with
    `_queryRegion` and `_queryAccount`. Any failure answers the error dictionary of `drs_error_result`, which keeps
    the servers of the pages read before it (defect 7 fixed, where the legacy discarded them).
    """
    servers: list[dict[str, Any]] = []
    try:
        drs_client = create_drs_client(region, credentials=credentials, config=CLIENT_CONFIG)
        for page in drs_client.get_paginator("describe_source_servers").paginate():
            for server in page.get("items", []):
                server["_queryRegion"] = region
                server["_queryAccount"] = account_id
                servers.append(server)
    except Exception as error:
        return drs_error_result(error, region, account_id, servers)
    return {"status": "success", "servers": servers}
