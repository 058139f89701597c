"""The refactored source-server inventory sync: single-purpose functions under a short orchestrator.

Every AWS call (service, region, identity, operation, parameters), every write and its order, and the outputs are
identical to `inventory_sync_legacy.handle_sync_source_server_inventory_legacy`, under any completion order of the
region queries, except where a legacy defect (LEGACY_CONTRACT.md, 1-7 and 9-11) is fixed on purpose: each fix is an
approved divergence the gate checks (harness/approved/, docs/approved-divergences.md). Where a requirement's
wording and identical behaviour disagree, the behaviour is kept by placing the legacy's logic in the caller, and the
function's docstring says so.

The sync is a pipeline (`sync_accounts`). Reads depend on no write of the run, so they run ahead: the identity,
AssumeRole and DRS queries of the next accounts start while earlier accounts are still being written (at most
`INVENTORY_SYNC_ACCOUNT_WINDOW` accounts held at once), an origin group's STS calls are made as soon as a DRS page
names it, and each account's EC2 origin groups are described concurrently. The calling thread consumes the accounts
in order, one `as_completed` per account over its regions, as the legacy. Every write goes to a single writer thread
in exactly the legacy's order (region statuses, then inventory, account after account); inventory rows are built and
serialised beforehand on another thread, and completed with their EC2 details as the chunks asking for them answer,
so the writer only makes the calls. The stale cleanup reads after the last write. When pools run tasks at submission
(the harness's inline executor) and the window is 1, the run makes every call in the legacy's exact order; with a
larger window, the reads of up to window-1 later accounts come earlier, and so do origin groups' STS calls. Bounds
are read from INVENTORY_SYNC_* environment variables (`PipelineSettings`), and each run logs one structured line
saying where its time went (`StageClock`).
"""

import gc
import json
import logging
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import Executor, Future, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, ParamSpec, TypeVar

import boto3
from boto3.dynamodb.table import BatchWriter
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.serialize import JSONSerializer
from botocore.validate import ParamValidator

from shared.active_region_filter import get_active_regions, invalidate_region_cache, update_region_status
from shared.client_classes import reusing_client_classes
from shared.cross_account import (
    assume_role_credentials,
    create_drs_client,
    create_ec2_client,
    default_client,
    get_current_account_id,
)
from shared.drs_regions import DRS_REGIONS
from shared.dynamodb_tables import (
    TARGET_ACCOUNTS_TABLE_ENV,
    get_inventory_table,
    get_region_status_table,
    get_target_accounts_table,
)
from shared.response_utils import response

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

# Every DRS and EC2 client: short timeouts and a single retry, as the legacy's.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
# The inventory writer's client skips botocore's client-side parameter validation (`inventory_writer_client`).
WRITER_CLIENT_CONFIG = Config(parameter_validation=False)
ASSUME_ROLE_DURATION_SECONDS = 900
INVENTORY_SESSION_NAME = "inventory-sync"
EC2_SESSION_NAME = "inventory-ec2-query"
DEFAULT_EC2_ROLE_ARN = "arn:aws:iam::{account_id}:role/DRSOrchestrationRole"
DEFAULT_EC2_EXTERNAL_ID = "drs-orchestration-cross-account"
DRS_MAX_WORKERS = 28
EC2_CHUNK_SIZE = 100
# Prepared rows decoded ahead of the inventory writer (`items_decoded_ahead`): a BatchWriteItem's worth at a time.
DECODE_BATCH_SIZE = 25
DECODE_BATCHES_AHEAD = 2

# Pipeline bounds (PipelineSettings): environment variable names and defaults.
ACCOUNT_WINDOW_ENV = "INVENTORY_SYNC_ACCOUNT_WINDOW"
DRS_WORKERS_ENV = "INVENTORY_SYNC_DRS_WORKERS"
EC2_WORKERS_ENV = "INVENTORY_SYNC_EC2_WORKERS"
EC2_RETRY_WORKERS_ENV = "INVENTORY_SYNC_EC2_RETRY_WORKERS"
GC_GEN0_THRESHOLD_ENV = "INVENTORY_SYNC_GC_GEN0_THRESHOLD"
SWITCH_INTERVAL_ENV = "INVENTORY_SYNC_SWITCH_INTERVAL_US"
# Accounts held at once, from the start of their reads to the end of their writes (1: no read-ahead at all, neither of
# later accounts nor of the origin groups' clients, whose calls then follow the account's region statuses).
DEFAULT_ACCOUNT_WINDOW = 3
# DRS region queries in flight: the legacy's own per-account pool size (one paginator per region and account).
DEFAULT_DRS_WORKERS = DRS_MAX_WORKERS
# EC2 origin groups described at once (each is its own account and region, so its own EC2 request-rate bucket).
DEFAULT_EC2_WORKERS = 10
# Single-id DescribeInstances retries of failed chunks in flight at once: a chunk's 100 retries then stay within
# one account and region's burst of non-mutating EC2 requests.
DEFAULT_EC2_RETRY_WORKERS = 10
# The run allocates heavily (parsed pages, rows, and each EC2 client's class: some 18,000 objects, cyclic garbage once
# the client is dropped): with CPython's default first-generation threshold (700) almost every object is promoted
# and collections, which stop every thread (the writer too), recur all along the run. At 100,000, most of these
# objects die before a collection sees them: over the 9,000-server bench the collector's CPU fell from 1.75 s (at
# 10,000) to 1.0 s, at the cost of at most that many young objects waiting for a collection. 0 keeps the default.
DEFAULT_GC_GEN0_THRESHOLD = 100_000
# The interpreter's thread switch interval during the run, in microseconds. A thread that wants the interpreter lock
# asks the holder to drop it after this long (CPython's default: 5,000). The writer sleeps through every call and
# then needs the lock back while readers parse pages and build rows: at 500, it waits at most about half a
# millisecond per call for them instead of up to five (over the 9,000-server bench, about 0.5 ms less per write).
# Shorter intervals cost CPU-bound threads more switches and gained nothing more there. 0 keeps the default.
DEFAULT_SWITCH_INTERVAL_US = 500
TIMING_STAGES = ("accounts", "drs", "ec2", "prepare", "writes", "cleanup")

# DynamoDB numbers hold 38 significant digits; boto3 refuses (raises on) integers beyond them.
DYNAMODB_NUMBER_LIMIT = 10**38
_TYPE_SERIALIZER = TypeSerializer()
_TYPE_DESERIALIZER = TypeDeserializer()

_P = ParamSpec("_P")
_R = TypeVar("_R")

# The eight DRS error types of the requirements. The modeled ones arrive as ClientError subclasses carrying the code;
# the others as a plain ClientError with the code; anything else is a generic Exception.
DRS_CLIENT_ERROR_TYPES = (
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidRequestException",
    "ThrottlingException",
    "ServiceQuotaExceededException",
    "InternalServerException",
)
DRS_ERROR_GUIDANCE = {
    "ThrottlingException": (
        "DRS throttled the request: retry later with exponential backoff, or spread syncs out over time."
    ),
    "ServiceQuotaExceededException": (
        "A DRS service quota was exceeded: request a quota increase for Elastic Disaster Recovery in Service Quotas "
        "for this account and region."
    ),
}
# "SCP" (or "SCPs") as a word of a lower-cased DRS error text (defect 7's fix: not inside another word).
SCP_WORD = re.compile(r"\bscps?\b")


def _target_accounts_table() -> Any:
    """Return the target accounts Table, failing exactly as the legacy does when TARGET_ACCOUNTS_TABLE is unset.

    The shared getter returns None for an unset or empty name, but the legacy always builds `Table(<env value>)`:
    unset makes boto3 raise `ValueError("Required parameter name not set")`, and an empty name goes out as
    `TableName=""` and fails the Scan's parameter validation. That behaviour is kept here, in the caller, by building
    the Table on the raw environment value only when the shared getter has none.
    """
    table = get_target_accounts_table()
    if table is None:
        table = boto3.resource("dynamodb").Table(os.environ.get(TARGET_ACCOUNTS_TABLE_ENV))
    return table


def scan_every_page(table: Any) -> list[dict[str, Any]]:
    """Return every item of an unfiltered Scan of `table`, page after page (following LastEvaluatedKey)."""
    page = table.scan()
    items = list(page.get("Items", []))
    while "LastEvaluatedKey" in page:
        page = table.scan(ExclusiveStartKey=page["LastEvaluatedKey"])
        items.extend(page.get("Items", []))
    return items


def collect_accounts_to_query() -> list[dict[str, Any]]:
    """Return the target accounts to sync, read with one Scan of the target accounts table (staging never).

    Each account is `{accountId, accountName, roleArn, externalId, accountType: "target"}`, a missing field being
    None, in scan order. Every page is read, following LastEvaluatedKey: approved divergence (defect 9 fixed), where
    the legacy read the first page only. A DynamoDB error is logged with a descriptive message and re-raised as the
    same exception with that message attached as a note (requirement 2.3): its type and `str()` stay those of the
    original, which is what the legacy lets propagate out of the sync.
    """
    try:
        items = scan_every_page(_target_accounts_table())
    except Exception as error:
        description = f"Failed to read target accounts from {os.environ.get(TARGET_ACCOUNTS_TABLE_ENV)!r}: {error}"
        logger.error(description)
        error.add_note(description)
        raise
    accounts = [
        {
            "accountId": item.get("accountId"),
            "accountName": item.get("accountName"),
            "roleArn": item.get("roleArn"),
            "externalId": item.get("externalId"),
            "accountType": "target",
        }
        for item in items
    ]
    logger.info("Inventory sync: %d target accounts", len(accounts))
    return accounts


def account_needs_assumed_role(account: dict[str, Any], sts_client: Any = None) -> bool:
    """Return whether `account` must be reached through AssumeRole: every account but the hub itself.

    Asks STS for the hub's account id (one GetCallerIdentity per account, as the legacy; through `sts_client` when
    given). Only the hub is queried with the Lambda's own credentials: a row of another account without roleArn is
    not (approved divergence defect-5-no-hub-credentials-without-role; `get_account_credentials` refuses it).
    """
    current_account_id = get_current_account_id(sts_client)
    return bool(account["accountId"] != current_account_id)


def get_account_credentials(account: dict[str, Any], sts_client: Any = None) -> dict[str, str] | None:
    """Assume the account's role and return its credentials {AccessKeyId, SecretAccessKey, SessionToken}, or None.

    AssumeRole (through `sts_client` when given) carries RoleSessionName "inventory-sync", DurationSeconds 900 and
    ExternalId only when the account has a truthy one. Any failure is logged and answered with None; the caller then
    skips the account, as the legacy. An account without roleArn (never the hub: see `account_needs_assumed_role`)
    is logged as an error and answered with None without any call, so it is skipped too instead of being queried
    with the hub's credentials (legacy defect 5, fixed: approved divergence defect-5-no-hub-credentials-without-role).
    """
    if not account.get("roleArn"):
        logger.error(
            "Account %s has no roleArn and is not the hub: skipping it rather than querying it with the hub's "
            "credentials",
            account["accountId"],
        )
        return None
    try:
        credentials = assume_role_credentials(
            account["roleArn"],
            account.get("externalId"),
            session_name=INVENTORY_SESSION_NAME,
            duration_seconds=ASSUME_ROLE_DURATION_SECONDS,
            sts_client=sts_client,
        )
    except Exception as error:
        logger.error("Failed to assume role for account %s, skipping it: %s", account["accountId"], error)
        return None
    logger.info("Assumed role for account %s", account["accountId"])
    return credentials


# The parts of a DRS source server document the sync reads (the inventory row, the EC2 grouping, the cleanup keys);
# the rest (replicated disks, tags, staging details...) is dropped as each page arrives. Per key: None keeps the
# value whole, a dict names the parts kept of the map it holds, or of each map of the list it holds.
SERVER_DOCUMENT_PARTS: dict[str, Any] = {
    "arn": None,
    "sourceServerID": None,
    "agentVersion": None,
    "stagingArea": {"stagingAccountID": None},
    "sourceCloudProperties": {"originAccountID": None, "originRegion": None},
    "dataReplicationInfo": {"dataReplicationState": None, "lagDuration": None, "lastSnapshotDateTime": None},
    "lifeCycle": {"lastSeenByServiceDateTime": None},
    "sourceProperties": {
        "identificationHints": {"awsInstanceID": None, "hostname": None, "fqdn": None},
        "cpus": {"modelName": None, "cores": None},
        "ramBytes": None,
        "disks": {"deviceName": None, "bytes": None},
        "os": {"fullString": None},
        "networkInterfaces": {"ips": None, "macAddress": None},
    },
}


def document_parts(value: Any, parts: dict[str, Any] | None) -> Any:
    """`value` with only `parts` of it kept (`SERVER_DOCUMENT_PARTS`), for a DRS document waiting to be written.

    A map keeps the keys named (each reduced to its own parts) in its own order, a list has each element reduced, and
    anything else (None, a string where a map was expected...) is kept whole: every part the sync reads is the same
    value, present or absent as before, so reading the reduced document gives what reading the whole one gives,
    errors included.
    """
    if parts is None:
        return value
    if type(value) is dict:
        return {key: document_parts(item, parts[key]) for key, item in value.items() if key in parts}
    if type(value) is list:
        return [document_parts(item, parts) for item in value]
    return value


def list_drs_source_servers(
    drs_client: Any,
    region: str,
    account_id: str | None,
    servers: list[dict[str, Any]] | None = None,
    on_page: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """Return every DRS source server of a client's region (all pages), each tagged `_queryRegion`/`_queryAccount`.

    The servers are appended to `servers` (a new list when None) page by page as they are read, so a caller that
    passes its own list keeps the pages read before a failing one (defect 7's fix). Each is kept reduced to the parts
    of it the sync reads (`document_parts`): an account's servers wait for their EC2 details and their turn to be
    written while later accounts are read, and the whole documents would be most of the run's memory. `on_page`
    hears of the servers of each page that more pages follow (while the region's listing still has calls to wait
    for), once they are kept.
    """
    servers = [] if servers is None else servers
    paginator = drs_client.get_paginator("describe_source_servers")
    for page in paginator.paginate():
        first = len(servers)
        for document in page.get("items", []):
            server = document_parts(document, SERVER_DOCUMENT_PARTS)
            server["_queryRegion"] = region
            server["_queryAccount"] = account_id
            servers.append(server)
        if on_page is not None and page.get("nextToken"):
            on_page(servers[first:])
    return servers


def mentions_scp(text: str) -> bool:
    """Whether a DRS error text names a service control policy: the phrase, or "SCP"/"SCPs" as a word.

    Approved divergence (defect 7 fixed): the legacy's substring test also matched "scp" inside unrelated words
    (an "ISCP" plan, a "dscp" value) and misfiled those errors as SCP_DENIED.
    """
    lowered = text.lower()
    return "service control policy" in lowered or SCP_WORD.search(lowered) is not None


def classify_drs_client_error(error: ClientError) -> tuple[str, str]:
    """Return the (region status, errorMessage) of a DRS ClientError: the legacy's table, first match wins.

    UninitializedAccountException or "not initialized" -> NOT_INITIALIZED; AccessDeniedException (code or text) ->
    IAM_PERMISSION_DENIED; a service control policy named in the text (`mentions_scp`) -> SCP_DENIED;
    UnrecognizedClientException -> REGION_NOT_ENABLED; Throttling/TooManyRequests -> THROTTLED; OptInRequired ->
    REGION_NOT_OPTED_IN; otherwise ERROR with "{code}: {message}" (or the text), as InvalidRequestException,
    ServiceQuotaExceededException and InternalServerException. Approved divergences (defect 7 fixed): "scp" counts
    only as a word, and UnrecognizedClientException arriving as a ClientError lands in REGION_NOT_ENABLED, as on the
    non-ClientError path, where the legacy filed it under ERROR.
    """
    error_code = error.response.get("Error", {}).get("Code", "")
    error_text = error.response.get("Error", {}).get("Message", "")
    error_str = str(error)
    if error_code == "UninitializedAccountException" or "not initialized" in error_str.lower():
        return "NOT_INITIALIZED", "DRS not initialized in region"
    if "AccessDeniedException" in error_str or error_code == "AccessDeniedException":
        return "IAM_PERMISSION_DENIED", f"IAM permissions denied: {error_text}"
    if mentions_scp(error_str):
        return "SCP_DENIED", "Blocked by Service Control Policy"
    if error_code == "UnrecognizedClientException":
        return "REGION_NOT_ENABLED", "Region not enabled in account"
    if error_code in ("ThrottlingException", "TooManyRequestsException"):
        return "THROTTLED", "API rate limit exceeded"
    if error_code == "OptInRequired":
        return "REGION_NOT_OPTED_IN", "Region not enabled in account"
    return "ERROR", f"{error_code}: {error_text}" if error_code else error_str[:500]


def classify_drs_exception(error: Exception) -> tuple[str, str]:
    """Return the legacy's (region status, errorMessage) for a DRS failure that is not a ClientError.

    "UnrecognizedClientException" or "security token" in the text -> REGION_NOT_ENABLED; "Could not connect" or
    "EndpointConnectionError" -> ENDPOINT_UNREACHABLE; otherwise ERROR with the text cut to 500 characters.
    """
    error_str = str(error)
    if "UnrecognizedClientException" in error_str or "security token" in error_str.lower():
        return "REGION_NOT_ENABLED", "Region not enabled in account"
    if "Could not connect" in error_str or "EndpointConnectionError" in error_str:
        return "ENDPOINT_UNREACHABLE", "Cannot connect to DRS endpoint"
    return "ERROR", error_str[:500]


def drs_error_result(
    error_type: str,
    error_code: str,
    region_status: str,
    message: str,
    region: str,
    account_id: str | None,
    servers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the `{"status": "error", ...}` answer of a failed DRS region query and log the failure.

    `regionStatus` and `errorMessage` are the classification; `errorType` names which of the 8 DRS error types it
    was; `guidance` adds retry advice for ThrottlingException and quota-increase advice for
    ServiceQuotaExceededException (None otherwise). Guidance is only returned, never written anywhere. `servers` are
    those of the pages read before the failure (defect 7's fix; none by default).
    """
    logger.warning("DRS query failed in %s for account %s: %s (%s)", region, account_id, region_status, error_type)
    return {
        "status": "error",
        "errorType": error_type,
        "errorCode": error_code,
        "regionStatus": region_status,
        "errorMessage": message,
        "guidance": DRS_ERROR_GUIDANCE.get(error_type),
        "servers": [] if servers is None else servers,
    }


def query_drs_single_region(
    region: str,
    account_id: str | None,
    credentials: dict[str, Any] | None,
    on_page: Callable[[list[dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """Query every DRS source server of one region and answer `{"status": "success", "servers": [...]}`.

    The client (with `credentials`, or the Lambda's own when None) uses the short-timeout single-retry config. Any
    failure answers an error dictionary (`drs_error_result`) that keeps the servers of the pages read before it:
    approved divergence (defect 7 fixed), where the legacy discarded them.
    The 8 error types: AccessDeniedException, UnrecognizedClientException, InvalidRequestException,
    ThrottlingException, ServiceQuotaExceededException and InternalServerException arrive as ClientError carrying
    their code and are named by it; any other ClientError is "ClientError"; a non-ClientError is "Exception" (or
    UnrecognizedClientException when its text names it). The region status and message stay the legacy's.
    `on_page` hears of the servers of each page that more pages follow (`list_drs_source_servers`).
    """
    servers: list[dict[str, Any]] = []
    try:
        drs_client = create_drs_client(region, credentials=credentials, config=CLIENT_CONFIG)
        listed = list_drs_source_servers(drs_client, region, account_id, servers, on_page)
        return {"status": "success", "servers": listed}
    except ClientError as error:
        error_code = error.response.get("Error", {}).get("Code", "")
        error_type = error_code if error_code in DRS_CLIENT_ERROR_TYPES else "ClientError"
        region_status, message = classify_drs_client_error(error)
        return drs_error_result(error_type, error_code, region_status, message, region, account_id, servers)
    except Exception as error:
        error_type = "UnrecognizedClientException" if "UnrecognizedClientException" in str(error) else "Exception"
        region_status, message = classify_drs_exception(error)
        return drs_error_result(error_type, "", region_status, message, region, account_id, servers)


def region_status_of(result: dict[str, Any]) -> dict[str, Any]:
    """Return the region status record `{status, serverCount, errorMessage}` for a single-region answer.

    serverCount is the number of servers read: for a failed region, those of the pages read before the failure
    (approved divergence, defect 7 fixed; the legacy had none, so 0).
    """
    if result["status"] == "success":
        return {"status": "ACTIVE", "serverCount": len(result["servers"]), "errorMessage": None}
    return {
        "status": result["regionStatus"],
        "serverCount": len(result["servers"]),
        "errorMessage": result["errorMessage"],
    }


def region_server_count(region: str, region_info: dict[str, Any], region_server_totals: dict[str, int] | None) -> int:
    """The serverCount to record for a region: the running total over the run's accounts so far, or the account's own.

    With `region_server_totals` (the run's running totals by region, in account order), the account's count is added
    to its region's total, which is returned and kept for the next account: the region status table is keyed by
    region only, so its row must carry every account's servers (legacy defect 4, fixed: approved divergence
    defect-4-region-status-running-total). Without it, the account's own count, as the legacy.
    """
    if region_server_totals is None:
        return int(region_info["serverCount"])
    total = region_server_totals.get(region, 0) + int(region_info["serverCount"])
    region_server_totals[region] = total
    return total


def record_region_statuses(
    account_id: str | None,
    region_statuses: dict[str, dict[str, Any]],
    now: str,
    region_server_totals: dict[str, int] | None = None,
) -> None:
    """Write one account's region statuses: a batch of rows plus `update_region_status`, as the legacy.

    Only when the region status table is configured. Per region, in `region_statuses` (completion) order, the row
    `{region, accountId, status, serverCount, lastUpdated: now}` (+ errorMessage when truthy) goes into a batch writer
    and `update_region_status()` writes its own row at once; the batch flushes at the end (or every 25 rows), so the
    BatchWriteItem overwrites the PutItems. The table is keyed by region only, so each account's row replaces the
    previous account's: given the run's `region_server_totals`, serverCount (and the status `update_region_status`
    derives from it) is the running total of the region's servers over the accounts synced so far, so the last row
    of a region counts every account's servers and a region where only an earlier account has servers stays active
    (defect 4 fixed); status and errorMessage stay the current account's. Without it, the account's own count.
    """
    region_status_table = get_region_status_table()
    if region_status_table is None:
        return
    with region_status_table.batch_writer() as status_batch:
        for region, region_info in region_statuses.items():
            server_count = region_server_count(region, region_info, region_server_totals)
            status_item: dict[str, Any] = {
                "region": region,
                "accountId": account_id,
                "status": region_info["status"],
                "serverCount": server_count,
                "lastUpdated": now,
            }
            if region_info["errorMessage"]:
                status_item["errorMessage"] = region_info["errorMessage"]
            status_batch.put_item(Item=status_item)
            update_region_status(region, server_count, region_info["errorMessage"])


def query_drs_all_regions(
    account_id: str | None, credentials: dict[str, Any] | None, active_regions: list[str], now: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Query DRS in every active region in parallel; record and return (servers, region statuses).

    One `query_drs_single_region` task per region on a ThreadPoolExecutor of 28 workers, submitted in active-region
    order and consumed with `as_completed`, so servers and statuses follow completion order (legacy defect 8). A
    failed region is captured in its status without failing the others. The statuses are then written through
    `record_region_statuses` (which calls `update_region_status()` per region), with `now`, the sync's one timestamp.
    """
    with ThreadPoolExecutor(max_workers=DRS_MAX_WORKERS) as executor:
        futures = submit_drs_queries(executor, account_id, credentials, active_regions)
        all_servers, region_statuses = collect_drs_results(account_id, futures)
    record_region_statuses(account_id, region_statuses, now)
    return all_servers, region_statuses


def submit_drs_queries(
    executor: Executor,
    account_id: str | None,
    credentials: dict[str, Any] | None,
    active_regions: list[str],
    query: Callable[[str, str | None, dict[str, Any] | None], dict[str, Any]] = query_drs_single_region,
) -> dict[Future[dict[str, Any]], str]:
    """Submit one `query` (query_drs_single_region) per region, in active-region order; return {future: region}."""
    return {executor.submit(query, region, account_id, credentials): region for region in active_regions}


def collect_drs_results(
    account_id: str | None, futures: dict[Future[dict[str, Any]], str]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Consume one account's region queries with one `as_completed` and return (servers, region statuses).

    Both follow completion order (legacy defect 8): statuses keyed by region in the order the regions finished, and
    servers extended region by region in that order, which the EC2 grouping and the inventory writes then follow.
    """
    region_statuses: dict[str, dict[str, Any]] = {}
    all_servers: list[dict[str, Any]] = []
    for future in as_completed(futures):
        result = future.result()
        region_statuses[futures[future]] = region_status_of(result)
        all_servers.extend(result["servers"])
    logger.info("Account %s: %d source servers found", account_id, len(all_servers))
    return all_servers, region_statuses


def instance_details(instance: dict[str, Any]) -> dict[str, Any]:
    """Return the legacy's EC2 details of one DescribeInstances instance (network, security groups, profile, tags)."""
    return {
        "vpcId": instance.get("VpcId", ""),
        "subnetId": instance.get("SubnetId", ""),
        "privateIp": instance.get("PrivateIpAddress", ""),
        "securityGroups": [sg["GroupId"] for sg in instance.get("SecurityGroups", [])],
        "instanceProfile": instance.get("IamInstanceProfile", {}).get("Arn", ""),
        "tags": {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])},
    }


def describe_instance_details(ec2_client: Any, instance_ids: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Call DescribeInstances(InstanceIds=instance_ids) and yield (InstanceId, details) per instance; errors propagate.

    A generator, so a caller that stores each pair as it comes keeps what was read before a failure, as the legacy.
    """
    ec2_response = ec2_client.describe_instances(InstanceIds=instance_ids)
    for reservation in ec2_response.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            yield instance["InstanceId"], instance_details(instance)


def query_ec2_instances(
    region: str, instance_ids: list[str], credentials: dict[str, Any] | None, ec2_client: Any = None
) -> dict[str, dict[str, Any]]:
    """Return `{instance_id: details}` from one DescribeInstances in `region`, or `{}` on any error.

    The EC2 client is created for `region` (with `credentials`, or the Lambda's own) and the short-timeout config,
    unless the caller passes the one it already has (`ec2_client`), as the legacy reuses one client per group.
    """
    try:
        if ec2_client is None:
            ec2_client = create_ec2_client(region, credentials=credentials, config=CLIENT_CONFIG)
        return dict(describe_instance_details(ec2_client, instance_ids))
    except Exception as error:
        logger.debug("DescribeInstances failed in %s for %s: %s", region, instance_ids, error)
        return {}


def document_section(document: dict[str, Any], name: str) -> dict[str, Any]:
    """Return a DRS document's sub-object `name`, {} when it is missing or null.

    Approved divergence (defect 11 fixed): the legacy's `.get(name, {})` defaulted only a missing key, so a null
    `sourceProperties`, `identificationHints` or `sourceCloudProperties` raised where it was touched.
    """
    value = document.get(name)
    return {} if value is None else value


def group_instances_by_origin(servers: list[dict[str, Any]], account_id: Any) -> dict[tuple[Any, Any], list[str]]:
    """Return the EC2 instance ids of `servers` grouped by origin (account, region), groups in first-seen order.

    The origin is `sourceCloudProperties.originAccountID` (default `account_id`) and `.originRegion` (default the
    server's `_queryRegion`); servers without `sourceProperties.identificationHints.awsInstanceID` are left out.
    Approved divergence (defect 11 fixed): a null `sourceProperties`, `identificationHints` or `sourceCloudProperties`
    counts as missing (`document_section`), where the legacy raised AttributeError outside any handler and the whole
    sync failed.
    """
    ec2_groups: dict[tuple[Any, Any], list[str]] = {}
    for server in servers:
        instance_id = document_section(document_section(server, "sourceProperties"), "identificationHints").get(
            "awsInstanceID"
        )
        cloud_props = document_section(server, "sourceCloudProperties")
        origin_account = cloud_props.get("originAccountID", account_id)
        origin_region = cloud_props.get("originRegion", server.get("_queryRegion"))
        if instance_id:
            ec2_groups.setdefault((origin_account, origin_region), []).append(instance_id)
    return ec2_groups


def origin_groups_named(servers: list[dict[str, Any]], account_id: Any) -> list[tuple[Any, Any]]:
    """The origin groups (`group_instances_by_origin` keys) of `servers`, in first-seen order; a server whose group
    cannot be told (a document the grouping would fail on) is passed over."""
    named: dict[tuple[Any, Any], None] = {}
    for server in servers:
        try:
            named.update(dict.fromkeys(group_instances_by_origin([server], account_id)))
        except Exception:
            continue
    return list(named)


class OriginClients:
    """One account's EC2 clients per origin group, each made as soon as a DRS page names the group.

    Making a group's client is the group's first calls (GetCallerIdentity, and GetItem + AssumeRole for another
    account: `create_origin_ec2_client`), which depend on nothing but the group's key. Every server a page lists is
    kept (defect 7's fix keeps the pages read before a failing one), so every group a page names is described later,
    with exactly these calls, once each: made here while the region's next page is being read, they are no longer in
    the way of the account's first inventory rows. Only pages that more pages follow are noted (there is no wait to
    fill after a region's last page), so an account whose regions answer in one page makes its calls in the legacy's
    order. `connect` hands a group's client to its describe task.
    """

    def __init__(
        self,
        account_id: Any,
        executor: Executor,
        create: Callable[[Any, Any], tuple[Any, dict[str, Any] | None]],
    ) -> None:
        """No group named yet; clients will be made by `create(src_account, src_region)` on `executor`."""
        self._account_id = account_id
        self._executor = executor
        self._create = create
        self._made: dict[tuple[Any, Any], Future[tuple[Any, dict[str, Any] | None]]] = {}
        self._lock = threading.Lock()

    def note_page(self, servers: list[dict[str, Any]]) -> None:
        """Start making the client of every group a page's `servers` name for the first time (from a DRS thread)."""
        for key in origin_groups_named(servers, self._account_id):
            with self._lock:
                if key in self._made:
                    continue
                self._made[key] = self._executor.submit(self._create, *key)

    def connect(self, src_account: Any, src_region: Any) -> tuple[Any, dict[str, Any] | None]:
        """The group's client and credentials: the one made ahead (or its failure, raised), else made now."""
        with self._lock:
            made = self._made.get((src_account, src_region))
        return made.result() if made is not None else self._create(src_account, src_region)


def origin_account_role(src_account: Any) -> tuple[Any, Any]:
    """Return the (roleArn, externalId) to reach an origin account's EC2: its target accounts row, else the defaults.

    The defaults are `arn:aws:iam::{src}:role/DRSOrchestrationRole` and "drs-orchestration-cross-account"; a row found
    by GetItem replaces each one it has (even with an empty or null value, as the legacy). GetItem errors are ignored.
    Origin groups look rows up from several threads at once: the lookup is the Table's `get_item(Key=...)` call made
    on the Table's client (`table.meta.client`, where boto3 converts the key and the item as for the Table itself),
    because botocore clients are thread-safe and Table resource objects are not.
    """
    role_arn: Any = DEFAULT_EC2_ROLE_ARN.format(account_id=src_account)
    external_id: Any = DEFAULT_EC2_EXTERNAL_ID
    try:
        table = get_target_accounts_table()
        src_item = table.meta.client.get_item(TableName=table.name, Key={"accountId": src_account}).get("Item")
        if src_item:
            role_arn = src_item.get("roleArn", role_arn)
            external_id = src_item.get("externalId", external_id)
    except Exception as error:
        logger.debug("Target account lookup failed for %s: %s", src_account, error)
    return role_arn, external_id


def create_origin_ec2_client(
    src_account: Any, src_region: Any, sts_client: Any = None
) -> tuple[Any, dict[str, Any] | None]:
    """Return an EC2 client for an origin (account, region) and the assumed credentials it signs with (None: own).

    Asks STS for the hub's id (one GetCallerIdentity per group, as the legacy; through `sts_client` when given). The
    hub's own account gets a default client; any other is reached by AssumeRole with RoleSessionName
    "inventory-ec2-query", DurationSeconds 900 and the ExternalId always sent (even empty or null, as the legacy).
    Failures propagate to the caller, which skips the group.
    """
    if src_account == get_current_account_id(sts_client):
        return create_ec2_client(src_region, config=CLIENT_CONFIG), None
    role_arn, external_id = origin_account_role(src_account)
    credentials = assume_role_credentials(
        role_arn,
        external_id,
        session_name=EC2_SESSION_NAME,
        duration_seconds=ASSUME_ROLE_DURATION_SECONDS,
        always_send_external_id=True,
        sts_client=sts_client,
    )
    return create_ec2_client(src_region, credentials=credentials, config=CLIENT_CONFIG), credentials


def collect_group_instance_details(
    ec2_client: Any,
    src_region: Any,
    instance_ids: list[str],
    credentials: dict[str, Any] | None,
    ec2_details: dict[str, dict[str, Any]],
    retry_executor: Executor | None = None,
    on_chunk: Callable[[], None] | None = None,
) -> None:
    """Add the EC2 details of one origin group's instances to `ec2_details`, in DescribeInstances chunks of 100.

    A ClientError on a chunk retries each of its ids alone (`retry_instances_one_by_one`, on `retry_executor` when
    given). The chunk call itself is made here, not through `query_ec2_instances`, because that function answers `{}`
    on error and the caller must see the chunk's ClientError to trigger the per-id retry (DESIGN.md names this case);
    any other error propagates, and the caller skips the rest of the group, as the legacy. Chunks stay sequential:
    a chunk after such an error is never requested. `on_chunk` is called as each chunk's details are in.
    """
    for start in range(0, len(instance_ids), EC2_CHUNK_SIZE):
        chunk = instance_ids[start : start + EC2_CHUNK_SIZE]
        try:
            for instance_id, details in describe_instance_details(ec2_client, chunk):
                ec2_details[instance_id] = details
        except ClientError as error:
            logger.warning("DescribeInstances failed for a chunk in %s, retrying ids one by one: %s", src_region, error)
            retried = retry_instances_one_by_one(ec2_client, src_region, chunk, credentials, retry_executor)
            ec2_details.update(retried)
        if on_chunk is not None:
            on_chunk()


def retry_instances_one_by_one(
    ec2_client: Any,
    src_region: Any,
    instance_ids: list[str],
    credentials: dict[str, Any] | None,
    executor: Executor | None = None,
) -> dict[str, dict[str, Any]]:
    """Describe each id alone via `query_ec2_instances` (its `{}` on error ignores that id); merge in id order.

    Every id is asked whatever the others answer, as in the legacy's loop, so with an `executor` the calls run
    concurrently; their answers are still merged in id order, so the result is the legacy's.
    """
    if executor is None:
        answers = [query_ec2_instances(src_region, [single_id], credentials, ec2_client) for single_id in instance_ids]
    else:
        futures = [
            executor.submit(query_ec2_instances, src_region, [single_id], credentials, ec2_client)
            for single_id in instance_ids
        ]
        answers = [future.result() for future in futures]
    details: dict[str, dict[str, Any]] = {}
    for answer in answers:
        details.update(answer)
    return details


def describe_origin_group(
    src_account: Any,
    src_region: Any,
    instance_ids: list[str],
    retry_executor: Executor | None = None,
    sts_client: Any = None,
    progress: "OriginGroupProgress | None" = None,
    connect: Callable[[Any, Any], tuple[Any, dict[str, Any] | None]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Return the EC2 details of one origin group; on a failure, those collected before it (the failure is logged).

    Creates the origin's EC2 client (one GetCallerIdentity, and GetItem + AssumeRole for another account, through
    `sts_client` when given), then describes the instances in chunks (failed chunks retried id by id on
    `retry_executor`). Any failure skips the rest of the group and keeps what was read, as the legacy. With a
    `progress`, the details go into its dict, each chunk is announced as it is in, and the group as done at the end.
    `connect(src_account, src_region)`, when given, hands over the client instead (`OriginClients.connect`: the same
    calls, made as soon as DRS named the group).
    """
    details: dict[str, dict[str, Any]] = {} if progress is None else progress.details
    on_chunk = None if progress is None else progress.chunk_resolved
    try:
        if connect is not None:
            ec2_client, credentials = connect(src_account, src_region)
        else:
            ec2_client, credentials = create_origin_ec2_client(src_account, src_region, sts_client)
        collect_group_instance_details(
            ec2_client, src_region, instance_ids, credentials, details, retry_executor, on_chunk
        )
    except Exception as error:
        logger.warning("EC2 enrichment skipped for account %s in %s: %s", src_account, src_region, error)
    finally:
        if progress is not None:
            progress.finish()
    return details


def submit_origin_groups(
    groups: dict[tuple[Any, Any], list[str]],
    group_executor: Executor,
    retry_executor: Executor | None,
    describe: Callable[..., dict[str, dict[str, Any]]] = describe_origin_group,
    sts_client: Any = None,
    progresses: Sequence["OriginGroupProgress | None"] | None = None,
    connect: Callable[[Any, Any], tuple[Any, dict[str, Any] | None]] | None = None,
) -> list[Future[dict[str, dict[str, Any]]]]:
    """Submit one `describe` (describe_origin_group) per origin group, in group order; return the futures in order.

    `progresses`, when given, holds each group's `OriginGroupProgress`, in group order; a group whose task never runs
    (cancelled when the run fails) is marked done all the same, so nothing waits for it forever. `connect` is passed
    on to each `describe`.
    """
    progress_of = list(progresses) if progresses is not None else [None] * len(groups)
    futures: list[Future[dict[str, dict[str, Any]]]] = []
    for ((src_account, src_region), instance_ids), progress in zip(groups.items(), progress_of, strict=True):
        future = group_executor.submit(
            describe, src_account, src_region, instance_ids, retry_executor, sts_client, progress, connect
        )
        if progress is not None:
            future.add_done_callback(progress.finish_with)
        futures.append(future)
    return futures


class OriginGroupProgress:
    """One origin group's EC2 details as its describe task fills them, chunk by chunk, for readers to wait on."""

    def __init__(self) -> None:
        """No chunk in yet."""
        self.details: dict[str, dict[str, Any]] = {}
        self._resolved = 0
        self._done = False
        self._condition = threading.Condition()

    def chunk_resolved(self) -> None:
        """The next chunk's details are in (described, or retried id by id): the ids it holds have their details."""
        with self._condition:
            self._resolved += 1
            self._condition.notify_all()

    def finish(self) -> None:
        """The group is done: every chunk is in, or the rest was skipped after a failure (as the legacy skips it)."""
        with self._condition:
            self._done = True
            self._condition.notify_all()

    def finish_with(self, _task: Future[Any]) -> None:
        """`finish`, as the done callback of the group's task (whether it ran or was cancelled)."""
        self.finish()

    def wait_for_chunk(self, index: int) -> None:
        """Wait until chunk `index` (from 0) is in, or the group is done."""
        with self._condition:
            self._condition.wait_for(lambda: self._done or self._resolved > index)


class PendingEc2Details:
    """An account's EC2 details while its origin groups are being described, each instance's given once it is final.

    The legacy describes every group, then merges their details in group order (a later group wins an id), then
    builds the rows. Here a row waits only for the chunks that ask for its instance (in any group): once they are in,
    no later call can change its details, so the first rows are written while later chunks are still being described.
    DescribeInstances answers for the ids it is asked for only, so an id's details come from those chunks.
    """

    def __init__(self, groups: dict[tuple[Any, Any], list[str]]) -> None:
        """One progress per group (in group order), and where each instance id is asked for: (group, chunk) pairs."""
        self.progresses = [OriginGroupProgress() for _ in groups]
        self._asked_in: dict[Any, list[tuple[int, int]]] = {}
        for group_index, instance_ids in enumerate(groups.values()):
            for position, instance_id in enumerate(instance_ids):
                try:
                    self._asked_in.setdefault(instance_id, []).append((group_index, position // EC2_CHUNK_SIZE))
                except TypeError:  # an unhashable id: its row cannot be built (its lookup raises there too)
                    continue

    def details_of(self, instance_id: Any) -> dict[str, Any] | None:
        """The instance's details as the merged groups give them (None without any), once every chunk asking is in."""
        asked_in = self._asked_in.get(instance_id, [])
        for group_index, chunk in asked_in:
            self.progresses[group_index].wait_for_chunk(chunk)
        for group_index, _ in reversed(asked_in):
            found = self.progresses[group_index].details.get(instance_id)
            if found is not None:
                return found
        return None


def merge_group_details(group_futures: list[Future[dict[str, dict[str, Any]]]]) -> dict[str, dict[str, Any]]:
    """Wait for the origin groups and merge their details in group order (a later group wins an id, as the legacy)."""
    ec2_details: dict[str, dict[str, Any]] = {}
    for future in group_futures:
        ec2_details.update(future.result())
    return ec2_details


def enrich_with_ec2_metadata(
    servers: list[dict[str, Any]],
    account_id: Any,
    group_executor: Executor | None = None,
    retry_executor: Executor | None = None,
) -> dict[str, dict[str, Any]]:
    """Return EC2 metadata (network, security groups, instance profile, tags) of the servers' instances by id.

    Groups the instance ids by origin (account, region), then describes each group (`describe_origin_group`) with its
    own (cross-account) client: one after another in group order, as the legacy, or concurrently on `group_executor`
    (failed chunks retried id by id on `retry_executor`), as the sync's pipeline does; the result is the same. A group
    whose client or queries fail is logged and skipped: its servers keep their original data without enrichment.
    Null document sections count as missing (defect 11 fixed), so the grouping does not raise.
    """
    groups = group_instances_by_origin(servers, account_id)
    if group_executor is not None:
        return merge_group_details(submit_origin_groups(groups, group_executor, retry_executor))
    ec2_details: dict[str, dict[str, Any]] = {}
    for (src_account, src_region), instance_ids in groups.items():
        ec2_details.update(describe_origin_group(src_account, src_region, instance_ids, retry_executor))
    return ec2_details


def first_nic_ip(nics: list[dict[str, Any]]) -> Any:
    """Return the first NIC's first IP: `ips` defaults to [""] when absent, and "" when there is no NIC at all.

    Approved divergence (defect 10 fixed): a first NIC whose `ips` list is empty gives "" as if there were no NIC,
    where the legacy's `ips[0]` raised and the server was never written.
    """
    if not nics:
        return ""
    ips = nics[0].get("ips", [""])
    if isinstance(ips, list) and not ips:
        return ""
    return ips[0]


def inventory_item_from_server(
    server: dict[str, Any], account_id: Any, ec2_details: dict[str, dict[str, Any]], now: str
) -> dict[str, Any]:
    """Return the inventory row of one DRS source server (LEGACY_CONTRACT.md, "Inventory item"), with EC2 details.

    Raises on a malformed document where the legacy does; the caller counts that as an error. Approved divergences:
    a first NIC with an empty `ips` list gives primaryIp "" (`first_nic_ip`, defect 10 fixed), and a null
    `sourceProperties`, `identificationHints` or `sourceCloudProperties` counts as missing (defect 11 fixed).
    """
    source_props = document_section(server, "sourceProperties")
    hints = document_section(source_props, "identificationHints")
    cloud_props = document_section(server, "sourceCloudProperties")
    replication_info = server.get("dataReplicationInfo", {})
    cpus = source_props.get("cpus", [])
    disks = source_props.get("disks", [])
    nics = source_props.get("networkInterfaces", [])
    server_instance_id = hints.get("awsInstanceID") or ""
    ram_bytes = source_props.get("ramBytes")

    item: dict[str, Any] = {
        "sourceServerArn": server.get("arn") or "",
        "stagingAccountId": server.get("stagingArea", {}).get("stagingAccountID", account_id),
        "sourceServerID": server.get("sourceServerID") or "",
        "sourceAccountId": cloud_props.get("originAccountID", account_id),
        "sourceRegion": cloud_props.get("originRegion", server.get("_queryRegion")),
        "hostname": hints.get("hostname") or "",
        "fqdn": hints.get("fqdn") or "",
        "instanceId": server_instance_id,
        "agentVersion": server.get("agentVersion") or "",
        "replicationRegion": server.get("_queryRegion"),
        "replicationState": replication_info.get("dataReplicationState") or "",
        "lagDuration": replication_info.get("lagDuration") or "",
        "lastSnapshot": replication_info.get("lastSnapshotDateTime") or "",
        "lastSeen": server.get("lifeCycle", {}).get("lastSeenByServiceDateTime") or "",
        "lastUpdated": now,
        "cpuModel": (cpus[0].get("modelName") or "") if cpus else "",
        "cpuCores": sum(cpu.get("cores", 0) for cpu in cpus),
        "ramBytes": int(ram_bytes) if ram_bytes else 0,
        "totalStorageBytes": int(sum(disk.get("bytes", 0) for disk in disks)),
        "osName": source_props.get("os", {}).get("fullString") or "",
        "primaryIp": first_nic_ip(nics),
        "macAddress": (nics[0].get("macAddress") or "") if nics else "",
        "disks": [{"deviceName": disk.get("deviceName") or "", "bytes": disk.get("bytes") or 0} for disk in disks],
    }

    item.update(ec2_item_parts(ec2_details.get(server_instance_id)))
    return item


def ec2_item_parts(details: dict[str, Any] | None) -> dict[str, Any]:
    """The attributes an instance's EC2 details add at the end of its inventory row: none without details."""
    if not details:
        return {}
    return {
        "networkConfig": {
            "vpcId": details["vpcId"],
            "subnetId": details["subnetId"],
            "privateIp": details["privateIp"],
            "securityGroups": details["securityGroups"],
            "instanceProfile": details["instanceProfile"],
        },
        "sourceTags": details["tags"],
    }


def to_attribute_value(value: Any) -> dict[str, Any]:
    """Return `value` in DynamoDB's wire form, exactly as boto3's `TypeSerializer().serialize(value)` would.

    None, bool, str, int (within DynamoDB's 38 digits), and dict and list of those are converted here directly, which
    is what boto3 makes of them; any other value (Decimal, set, bytes, float, a subclass...) goes to TypeSerializer
    itself, with its result or its exception.
    """
    kind = type(value)
    if value is None:
        return {"NULL": True}
    if kind is bool:
        return {"BOOL": value}
    if kind is str:
        return {"S": value}
    if kind is int and -DYNAMODB_NUMBER_LIMIT < value < DYNAMODB_NUMBER_LIMIT:
        return {"N": str(value)}
    if kind is dict:
        return {"M": {name: to_attribute_value(item) for name, item in value.items()}}
    if kind is list:
        return {"L": [to_attribute_value(item) for item in value]}
    return dict(_TYPE_SERIALIZER.serialize(value))


class WireRow(dict[str, Any]):
    """A typed inventory row that also carries its JSON text (`json.dumps` of the row), made when the row is prepared.

    The inventory writer's serializer (`WireFormSerializer`) joins these texts into a BatchWriteItem body, so the
    writer, whose every millisecond of CPU delays the next write, does not encode the rows itself.
    """

    __slots__ = ("json_text",)

    def __init__(self, attributes: dict[str, Any], json_text: str) -> None:
        """The row's attributes in wire form, and `json.dumps` of exactly those attributes."""
        super().__init__(attributes)
        self.json_text = json_text

    @classmethod
    def from_json_text(cls, json_text: str) -> "WireRow":
        """The row whose JSON text is `json_text` (made by `typed_row`): its attributes decoded again, the text kept."""
        return cls(json.loads(json_text), json_text)

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        """Pickle (and deep-copy) as the plain dict of its attributes: a copy needs neither this module nor the text."""
        return dict, (dict(self),)


def has_binary_attribute(json_text: str) -> bool:
    """Whether a wire-form row's JSON holds a binary (`B`/`BS`) attribute, which botocore's serializer re-encodes."""
    return '{"B": ' in json_text or '{"BS": ' in json_text


def typed_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return an inventory row in DynamoDB's wire form, attribute by attribute (as the Table resource sends it).

    The row comes back as a `WireRow` carrying its JSON text, unless that text is not what botocore would send for it
    (bytes, which JSON cannot hold, or a binary attribute): those stay plain dicts for botocore to serialize.
    """
    attributes = {name: to_attribute_value(value) for name, value in row.items()}
    try:
        json_text = json.dumps(attributes)
    except (TypeError, ValueError):
        return attributes
    return attributes if has_binary_attribute(json_text) else WireRow(attributes, json_text)


@dataclass(frozen=True)
class PreparedInventory:
    """One account's inventory rows, built ahead of the writes: per server, its row or the error building it raised.

    Only each server's `arn` is kept beside its row (for the error log), so the DRS documents can be freed early.

    `typed` says the rows are already in DynamoDB's wire form (`typed_row`: exactly what the Table resource's
    TypeSerializer makes of them when it sends them). A typed row waiting for the writer is kept as its JSON text (a
    single string, a tenth of the memory of its nested dicts, which the garbage collector never has to trace), and
    decoded back into a `WireRow` only as it is handed to the batch writer (`inventory_item`); a typed row that
    carries no JSON text (a binary attribute) is kept as it is.
    """

    arns: list[Any]
    rows: Sequence[str | dict[str, Any] | Exception]
    typed: bool
    completion: "RowCompletion | None" = None


@dataclass(frozen=True)
class RowCompletion:
    """What an account's rows, built before their EC2 details were in, still need: each row's instance id, and the
    account's details as its origin groups are being described (`PendingEc2Details`).

    Every attribute of a row but the EC2 ones is known from DRS alone; the EC2 ones come last in the row, so a row is
    completed by appending them (to its JSON text, for a typed row: the text `json.dumps` of the whole row gives).
    """

    instance_ids: Sequence[Any]
    details: PendingEc2Details
    typed: bool

    def item(self, index: int, row: str | dict[str, Any] | Exception) -> dict[str, Any] | Exception:
        """Row `index` completed with its instance's details (waiting for them) and ready to put, or its error."""
        if isinstance(row, Exception):
            return row
        parts = ec2_item_parts(self.details.details_of(self.instance_ids[index]))
        if not parts:
            return inventory_item(row)
        if self.typed:
            parts = {name: to_attribute_value(value) for name, value in parts.items()}
        if isinstance(row, str):  # a typed row's JSON text
            appended = "".join(f", {json.dumps(name)}: {json.dumps(value)}" for name, value in parts.items())
            return WireRow.from_json_text(row[:-1] + appended + "}")
        return {**row, **parts}


def kept_for_writing(row: dict[str, Any]) -> str | dict[str, Any]:
    """How a typed row waits for the writer: its JSON text when it is a `WireRow`, else the row itself."""
    return row.json_text if type(row) is WireRow else row


def inventory_item(row: str | dict[str, Any] | Exception) -> dict[str, Any] | Exception:
    """The item the batch writer puts for a prepared row: a `WireRow` again for JSON text, else the row itself (or
    the error of a row that could not be built)."""
    return WireRow.from_json_text(row) if isinstance(row, str) else row


def inventory_items(
    rows: Sequence[str | dict[str, Any] | Exception], start: int = 0, completion: RowCompletion | None = None
) -> list[dict[str, Any] | Exception]:
    """The items to put for `rows` (the account's rows from index `start`), in order: each `inventory_item`, or
    completed with its EC2 details first (`RowCompletion.item`, which waits for them) when they were not in yet."""
    if completion is None:
        return [inventory_item(row) for row in rows]
    return [completion.item(start + offset, row) for offset, row in enumerate(rows)]


def items_decoded_ahead(
    rows: Sequence[str | dict[str, Any] | Exception],
    decoder: Executor | None = None,
    completion: RowCompletion | None = None,
) -> Iterator[dict[str, Any] | Exception]:
    """The prepared rows as items to put, in order, decoded a batch at a time on `decoder` ahead of the writer.

    Decoding a row's JSON costs the writer's thread some 17 microseconds; on `decoder` (one worker) the next
    `DECODE_BATCHES_AHEAD` batches are decoded while the writer waits for DynamoDB, and no more, so an account's rows
    are never all decoded at once. Rows still waiting for their EC2 details (`completion`) are completed there too,
    each once its details are in, so the writer sends a batch as soon as its rows are complete. Without `decoder`,
    each row is decoded (and completed) as it is taken.
    """
    if decoder is None:
        for index, row in enumerate(rows):
            yield inventory_item(row) if completion is None else completion.item(index, row)
        return
    pending: deque[Future[list[dict[str, Any] | Exception]]] = deque()
    for start in range(0, len(rows), DECODE_BATCH_SIZE):
        pending.append(decoder.submit(inventory_items, rows[start : start + DECODE_BATCH_SIZE], start, completion))
        if len(pending) > DECODE_BATCHES_AHEAD:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def prepare_inventory(
    servers: list[dict[str, Any]],
    account_id: Any,
    now: str,
    ec2_details: dict[str, dict[str, Any]] | PendingEc2Details,
    *,
    serialize: bool = False,
) -> PreparedInventory:
    """Build every server's inventory row (keeping the error of one that cannot be built) and, if asked, serialise them.

    Serialising here, off the writer, leaves the writer only the calls. If any row cannot be serialised, none is: the
    rows then go through the Table resource, which fails on that row in the flush that carries it, as the legacy.
    With `PendingEc2Details` (origin groups still being described), the rows are built without their EC2 attributes,
    which only EC2 gives, always as text, so they decide nothing about serialising; each row is completed with them
    as it is taken for writing (`RowCompletion`).
    """
    pending = ec2_details if isinstance(ec2_details, PendingEc2Details) else None
    known = {} if isinstance(ec2_details, PendingEc2Details) else ec2_details
    arns = [server.get("arn") for server in servers]
    rows: list[dict[str, Any] | Exception] = []
    for server in servers:
        try:
            rows.append(inventory_item_from_server(server, account_id, known, now))
        except Exception as error:
            rows.append(error)
    instance_ids = [None if isinstance(row, Exception) else row["instanceId"] for row in rows]
    if serialize:
        try:
            typed_rows = [row if isinstance(row, Exception) else kept_for_writing(typed_row(row)) for row in rows]
            completion = None if pending is None else RowCompletion(instance_ids, pending, typed=True)
            return PreparedInventory(arns, typed_rows, typed=True, completion=completion)
        except Exception as error:
            logger.info("Inventory rows of %s left to the Table resource to serialise: %s", account_id, error)
    completion = None if pending is None else RowCompletion(instance_ids, pending, typed=False)
    return PreparedInventory(arns, rows, typed=False, completion=completion)


def _plain_key_value(value: Any) -> Any:
    """A key attribute as text for a log line, whether the row is plain or in wire form (`{"S": ...}`)."""
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value


class AccountedBatchWriter(BatchWriter):
    """boto3's BatchWriter, same calls, that accounts for every item and goes on after a failed batch.

    The calls are BatchWriter's own (a BatchWriteItem per 25 items, unprocessed items resent with the next batch, the
    rest drained at exit). An item counts as written once DynamoDB accepted the batch carrying it; when a batch's call
    fails, each of its items is logged with its key (sourceServerArn, stagingAccountId) and counted lost, and writing
    goes on, the final flush included (legacy defect 6, fixed: approved divergence defect-6-count-every-lost-item).
    It overrides BatchWriter's `_flush` and reads its `_items_buffer` and `_flush_amount` (boto3 is pinned in
    constraints.txt; the unit tests of the inventory writes exercise them).
    """

    def __init__(self, table_name: str, client: Any) -> None:
        """A writer of `table_name` through `client`, nothing written or lost yet."""
        super().__init__(table_name, client)
        self.written = 0
        self.lost = 0

    def _flush(self) -> None:
        """Send the next batch as BatchWriter does; count its items written, or lost when the call fails."""
        batch = self._items_buffer[: self._flush_amount]
        left = len(self._items_buffer) - len(batch)
        try:
            super()._flush()
        except Exception as error:
            self.lost += len(batch)
            for request in batch:
                item = request.get("PutRequest", {}).get("Item", {})
                logger.error(
                    "Inventory item lost with its failed batch (sourceServerArn %s, stagingAccountId %s): %s",
                    _plain_key_value(item.get("sourceServerArn")),
                    _plain_key_value(item.get("stagingAccountId")),
                    error,
                )
            return
        self.written += len(batch) - (len(self._items_buffer) - left)


class WireFormSerializer(JSONSerializer):
    """botocore's JSON-protocol serializer, with a shortcut for a BatchWriteItem whose rows are already in wire form.

    botocore builds a request body by walking the operation's input shape value by value (some 20,000 steps for a
    25-row batch) to produce a JSON document; for rows made by `typed_row` (strings, numbers as strings, booleans,
    NULL, lists and maps) that walk changes nothing, so the body is `json.dumps` of the parameters themselves: the
    same bytes. Whatever the walk would change takes it: bytes (base64-encoded by the walk, refused by json.dumps),
    and any binary (`B`/`BS`) attribute; so do all other operations. When every row of the batch is a `WireRow` (made
    off the writer, and never changed after), the body is joined from their JSON texts instead of encoded again.
    """

    def serialize_to_request(self, parameters: Any, operation_model: Any) -> Any:
        """The request for `parameters`: the shortcut body when it is exactly botocore's, else botocore's own."""
        if operation_model.name == "BatchWriteItem":
            body = self._joined_body(parameters)
            if body is None:
                try:
                    body = json.dumps(parameters)
                except (TypeError, ValueError):
                    body = None
            if body is not None and not has_binary_attribute(body):
                request = super().serialize_to_request({}, operation_model)
                request["body"] = body.encode(self.DEFAULT_ENCODING)
                return request
        return super().serialize_to_request(parameters, operation_model)

    @staticmethod
    def _joined_body(parameters: Any) -> str | None:
        """`json.dumps(parameters)` joined from the rows' own JSON texts, for a batch of `WireRow` puts only; else None.

        The parts are those `json.dumps` writes around the rows (its default separators), so the text is the same.
        """
        if not isinstance(parameters, dict) or list(parameters) != ["RequestItems"]:
            return None
        tables = parameters["RequestItems"]
        if not isinstance(tables, dict) or len(tables) != 1:
            return None
        ((table_name, requests),) = tables.items()
        texts: list[str] = []
        for request in requests if isinstance(requests, list) else ():
            put = request.get("PutRequest") if isinstance(request, dict) and len(request) == 1 else None
            row = put.get("Item") if isinstance(put, dict) and len(put) == 1 else None
            if type(row) is not WireRow:
                return None
            texts.append('{"PutRequest": {"Item": ' + row.json_text + "}}")
        if not isinstance(table_name, str) or len(texts) != len(requests):
            return None
        return '{"RequestItems": {' + json.dumps(table_name) + ": [" + ", ".join(texts) + "]}}"


def inventory_writer_client(table_name: str | None) -> Any:
    """Return the DynamoDB client for the inventory batches of typed rows: botocore's parameter validation off.

    Validation walks every attribute of every item (about 8 ms of a 25-item BatchWriteItem's CPU on the writer,
    twice its serialization) and can only reject a malformed request. The rows it would check are made by
    `typed_row`, whose every value is a well-formed AttributeValue by construction (S, N, BOOL, NULL, M, L, or
    TypeSerializer's own output), so for them validation never fails; the rest of the request is the table name
    (checked here once, on a request of that shape) and BatchWriter's batches of at most 25. A table name the
    validator refuses keeps a validating client, so such a run fails exactly as the legacy, client-side. The calls
    sent are the same either way: validation never changes a parameter. The client's serializer is
    `WireFormSerializer`, which sends those rows' batches with the body botocore's would build, built directly.
    """
    client = default_client("dynamodb", config=WRITER_CLIENT_CONFIG)
    shape = client.meta.service_model.operation_model("BatchWriteItem").input_shape
    skeleton: dict[str, Any] = {"RequestItems": {table_name: [{"PutRequest": {"Item": {}}}]}}
    if ParamValidator().validate(skeleton, shape).has_errors():
        return default_client("dynamodb")
    if type(getattr(client, "_serializer", None)) is JSONSerializer:
        client._serializer = WireFormSerializer()
    return client


def write_prepared_inventory(
    prepared: PreparedInventory, dynamodb_client: Any = None, decoder: Executor | None = None
) -> tuple[int, int]:
    """Write prepared rows to the inventory table with one batch writer; return (items written, items failed).

    Typed rows go through the plain DynamoDB client `dynamodb_client` (same BatchWriteItem calls as the Table's batch
    writer, without serialising again; rows kept as JSON text decoded ahead on `decoder`, `items_decoded_ahead`);
    untyped ones through the Table's client, which serialises them. A row that
    could not be built is logged and counted as one failure. A batch whose call fails, the final flush included, is
    counted as one failure per item it carried, each logged with its key, and the rest continue; items count as
    written only once their batch is (legacy defect 6, fixed: approved divergence defect-6-count-every-lost-item).
    """
    inventory_table = get_inventory_table()
    errors = 0
    client = (dynamodb_client or default_client("dynamodb")) if prepared.typed else inventory_table.meta.client
    writer = AccountedBatchWriter(inventory_table.name, client)
    with writer as batch:
        items = items_decoded_ahead(prepared.rows, decoder, prepared.completion)
        for arn, item in zip(prepared.arns, items, strict=True):
            if isinstance(item, Exception):
                logger.error("Failed to write inventory item for %s: %s", arn, item)
                errors += 1
                continue
            batch.put_item(Item=item)
    return writer.written, errors + writer.lost


def write_inventory_to_dynamodb(
    servers: list[dict[str, Any]], account_id: Any, now: str, ec2_details: dict[str, dict[str, Any]]
) -> tuple[int, int]:
    """Write one account's servers to the inventory table and return (items written, items failed).

    One batch writer (BatchWriteItem of 25 items; boto3 resends unprocessed items). An item that cannot be built is
    logged and counted as one failure; a batch whose call fails, the final flush included, counts one failure per
    item it carried and the rest continue (defect 6 fixed, see `write_prepared_inventory`).
    """
    return write_prepared_inventory(prepare_inventory(servers, account_id, now, ec2_details))


def inventory_keys_of(servers: list[dict[str, Any]], account_id: Any) -> frozenset[tuple[Any, Any]]:
    """The (sourceServerArn, stagingAccountId) keys of one account's servers, as their inventory rows carry them."""
    return frozenset(
        (server.get("arn") or "", server.get("stagingArea", {}).get("stagingAccountID", account_id))
        for server in servers
    )


@dataclass(frozen=True)
class AccountRead:
    """What the stale cleanup needs of one account's read: its id, its servers' inventory keys, its failed regions.

    Only the keys are kept, not the DRS documents: the cleanup runs after the last write, and holding every account's
    documents until then would keep the whole run's servers in memory.
    """

    account_id: Any
    synced_keys: frozenset[tuple[Any, Any]]
    failed_regions: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, account_id: Any, servers: list[dict[str, Any]], failed_regions: frozenset[str] = frozenset()
    ) -> "AccountRead":
        """The read of `account_id` that listed `servers` and could not query `failed_regions`."""
        return cls(account_id, inventory_keys_of(servers, account_id), failed_regions)


def synced_inventory_keys(reads: list[AccountRead]) -> set[tuple[Any, Any]]:
    """The (sourceServerArn, stagingAccountId) keys of every server the run read, as inventory rows carry them."""
    return {key for read in reads for key in read.synced_keys}


def drs_source_of(row: dict[str, Any]) -> tuple[str, str]:
    """The (account, region) whose DRS lists an inventory row's server: from its ARN, else its own fields."""
    parts = str(row.get("sourceServerArn") or "").split(":")
    if len(parts) > 4 and parts[2] == "drs" and parts[3] and parts[4]:
        return parts[4], parts[3]
    return str(row.get("sourceAccountId") or ""), str(row.get("replicationRegion") or "")


def unread_sources(reads: list[AccountRead], unreadable_accounts: list[Any]) -> Callable[[dict[str, Any]], bool]:
    """A test of whether an inventory row's DRS (account, region) went unread this run, so its row must stay.

    Unread: an account that could not be read at all (AssumeRole failed, or it was skipped), or a region whose query
    failed for the account that holds the server. Rows whose DRS answered are judged by the synced keys alone.
    """
    unreadable = {str(account) for account in unreadable_accounts}
    failed = {(str(read.account_id), region) for read in reads for region in read.failed_regions}

    def unread(row: dict[str, Any]) -> bool:
        """Whether the row's server lives in a DRS account or region this run could not read."""
        account, region = drs_source_of(row)
        return account in unreadable or (account, region) in failed

    return unread


# The inventory row attributes the stale cleanup reads: the row's key, and where its server's DRS lives.
CLEANUP_ROW_FIELDS = ("sourceServerArn", "stagingAccountId", "sourceAccountId", "replicationRegion")
# An inventory row's primary key.
INVENTORY_KEY_FIELDS = ("sourceServerArn", "stagingAccountId")
# The most values DynamoDB accepts in one IN comparison: accounts beyond it are cleaned up by another Scan.
CLEANUP_SCAN_ACCOUNTS = 100
# The Scan of several accounts is a parallel Scan in this many segments, read at once: each reads a quarter of the
# table, so the cleanup after the last write takes about a quarter of the pages one after another.
CLEANUP_SCAN_SEGMENTS = 4


def cleanup_scan_params(table_name: str, account_ids: Sequence[Any], segment: int = 0) -> dict[str, Any]:
    """The stale cleanup's Scan of the rows whose sourceAccountId is one of `account_ids` (1 to 100, in order).

    One account: the legacy's own Scan (`sourceAccountId = :acct_id`, as the Table resource sends it), so a run that
    read one account makes exactly the legacy's calls. Several: `sourceAccountId IN (:acct_0, :acct_1, ...)`, the
    placeholders numbered in account order, so the table is read once for all of them instead of once per account,
    as segment `segment` of a parallel Scan in `CLEANUP_SCAN_SEGMENTS`, and only the attributes the cleanup reads
    (`CLEANUP_ROW_FIELDS`) come back: every account's rows, not one's, are returned, and each row's other attributes
    would only be parsed to be dropped.
    """
    if len(account_ids) == 1:
        return {
            "TableName": table_name,
            "FilterExpression": "sourceAccountId = :acct_id",
            "ExpressionAttributeValues": {":acct_id": _TYPE_SERIALIZER.serialize(account_ids[0])},
        }
    names = [f":acct_{number}" for number in range(len(account_ids))]
    return {
        "TableName": table_name,
        "FilterExpression": f"sourceAccountId IN ({', '.join(names)})",
        "ExpressionAttributeValues": {
            name: _TYPE_SERIALIZER.serialize(account_id) for name, account_id in zip(names, account_ids, strict=True)
        },
        "ProjectionExpression": ", ".join(CLEANUP_ROW_FIELDS),
        "Segment": segment,
        "TotalSegments": CLEANUP_SCAN_SEGMENTS,
    }


def plain_attribute(value: dict[str, Any]) -> Any:
    """An attribute in wire form as the Table resource hands it out: a string directly, anything else deserialized."""
    text = value.get("S")
    if type(text) is str and len(value) == 1:
        return text
    return _TYPE_DESERIALIZER.deserialize(value)


def scan_cleanup_rows(
    dynamodb_client: Any,
    table_name: str,
    account_ids: Sequence[Any],
    current_keys: AbstractSet[tuple[Any, Any]] = frozenset(),
) -> list[dict[str, Any]]:
    """The inventory rows of `account_ids` that may be stale, by the cleanup's Scan (`cleanup_scan_params`).

    One account: the legacy's paginated Scan. Several: the segments of a parallel Scan, read at once, their rows
    joined in segment order (the order of a Scan of the whole table, which reads its segments one after another).
    A row whose (sourceServerArn, stagingAccountId) is among `current_keys` (servers the run listed) cannot be stale
    and is dropped as its page arrives; of the others, only `CLEANUP_ROW_FIELDS` are kept.
    """
    if len(account_ids) == 1:
        return scan_cleanup_segment(dynamodb_client, cleanup_scan_params(table_name, account_ids), current_keys)
    with bounded_executor(CLEANUP_SCAN_SEGMENTS) as segments:
        scans = [
            segments.submit(
                scan_cleanup_segment,
                dynamodb_client,
                cleanup_scan_params(table_name, account_ids, segment),
                current_keys,
            )
            for segment in range(CLEANUP_SCAN_SEGMENTS)
        ]
        return [row for scan in scans for row in scan.result()]


def scan_cleanup_segment(
    dynamodb_client: Any, params: dict[str, Any], current_keys: AbstractSet[tuple[Any, Any]]
) -> list[dict[str, Any]]:
    """Every page of one cleanup Scan (`params`), each page's LastEvaluatedKey passed back as is, as the Table resource
    does; the rows not among `current_keys`, with only `CLEANUP_ROW_FIELDS` converted from DynamoDB's wire form.

    The calls go through a plain client, so no other attribute of any row is ever converted.
    """
    rows: list[dict[str, Any]] = []
    page: dict[str, Any] = {}
    while True:
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]} if "LastEvaluatedKey" in page else {}
        page = dynamodb_client.scan(**params, **start)
        for item in page.get("Items", []):
            key = tuple(plain_attribute(item[name]) if name in item else None for name in INVENTORY_KEY_FIELDS)
            if key not in current_keys:
                rows.append({name: plain_attribute(item[name]) for name in CLEANUP_ROW_FIELDS if name in item})
        if "LastEvaluatedKey" not in page:
            return rows


def delete_stale_rows(
    dynamodb_client: Any,
    table_name: str,
    rows: list[dict[str, Any]],
    synced_keys: set[tuple[Any, Any]],
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> int:
    """Delete those of the scanned `rows` that are stale, in scan order; return how many were deleted.

    A row is stale when its (sourceServerArn, stagingAccountId) is not among `synced_keys` (every server the run
    read, in any account) and `keep` (rows whose DRS went unread this run) does not hold. Each DeleteItem is the
    Table resource's; a failure is logged and not counted.
    """
    stale_deleted = 0
    for existing in rows:
        if (existing.get("sourceServerArn"), existing.get("stagingAccountId")) in synced_keys:
            continue
        if keep is not None and keep(existing):
            logger.warning(
                "Keeping inventory row %s of account %s: its DRS region could not be read this run",
                existing.get("sourceServerArn"),
                existing.get("sourceAccountId"),
            )
            continue
        try:
            key = {name: existing[name] for name in INVENTORY_KEY_FIELDS}
            dynamodb_client.delete_item(
                TableName=table_name, Key={name: _TYPE_SERIALIZER.serialize(value) for name, value in key.items()}
            )
            stale_deleted += 1
        except Exception as error:
            logger.error("Failed to delete stale inventory row %s: %s", existing.get("sourceServerArn"), error)
    return stale_deleted


def cleanup_every_read_account(reads: list[AccountRead], unreadable_accounts: list[Any]) -> int:
    """Clean up the stale rows of every account that was read; return how many were deleted.

    Fixes legacy defects 1-3: every read account is cleaned against the servers of the whole run (not only the last
    account, not with another account's list); an account that could not be read, and a region whose query failed,
    keep their rows; with no account read there is nothing to clean up (the legacy raised UnboundLocalError).
    The accounts' rows are read by one Scan for up to 100 accounts (the legacy's own Scan when one account was read;
    for several, a parallel Scan in `CLEANUP_SCAN_SEGMENTS` segments), so the table is read once, as the legacy's one
    Scan did, and after the last write; the deletes follow, in scan order. Each further 100 accounts take another
    Scan and its deletes.
    """
    if not reads:
        logger.warning("Inventory sync: no target account could be read; stale cleanup skipped")
        return 0
    synced_keys = synced_inventory_keys(reads)
    keep = unread_sources(reads, unreadable_accounts)
    table_name, client = get_inventory_table().name, default_client("dynamodb")
    accounts = [read.account_id for read in reads]
    stale_deleted = 0
    for start in range(0, len(accounts), CLEANUP_SCAN_ACCOUNTS):
        rows = scan_cleanup_rows(client, table_name, accounts[start : start + CLEANUP_SCAN_ACCOUNTS], synced_keys)
        stale_deleted += delete_stale_rows(client, table_name, rows, synced_keys, keep)
    return stale_deleted


def _positive_int_setting(name: str, default: int, minimum: int = 1) -> int:
    """Return the whole number >= `minimum` in environment variable `name`; `default` when unset, empty or invalid."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        logger.warning("Ignoring %s=%r (expected a whole number >= %d), using %d", name, raw, minimum, default)
        return default
    return value


def read_regions_and_accounts() -> tuple[list[str], list[dict[str, Any]]]:
    """The active regions (every DRS region when none) and the target accounts, their tables read at the same time.

    `get_active_regions` never raises (on any error it answers every DRS region), so the target accounts are read
    whatever it finds, as the legacy reads them right after it; the regions' read is not cancelled when the accounts'
    fails, so both calls are made in every case, as the legacy's.
    """
    with bounded_executor(1, cancel_pending_on_error=False) as reader:
        regions = reader.submit(get_active_regions)
        accounts = collect_accounts_to_query()
    active_regions = regions.result() or DRS_REGIONS
    logger.info("Inventory sync: querying %d active regions", len(active_regions))
    return active_regions, accounts


@contextmanager
def gc_gen0_threshold(threshold: int) -> Iterator[None]:
    """Raise the garbage collector's first-generation threshold to `threshold` for the block (0: leave it alone).

    Fewer young collections let short-lived objects die before they are promoted, so far fewer full collections
    (which hold every thread) happen during the run. The interpreter's thresholds are restored when the block ends.
    """
    previous = gc.get_threshold()
    if threshold:
        gc.set_threshold(max(threshold, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def thread_switch_interval(microseconds: int) -> Iterator[None]:
    """Set the interpreter's thread switch interval to `microseconds` for the block (0: leave it alone).

    A thread waiting for the interpreter lock gets it within about that long, so the writer, woken when a call
    returns, is held up less by the threads parsing and building rows. The previous interval is restored at the end.
    """
    previous = sys.getswitchinterval()
    if microseconds:
        sys.setswitchinterval(microseconds / 1_000_000)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@dataclass(frozen=True)
class PipelineSettings:
    """How far the sync's reads may run ahead of its writes, and how many calls may be in flight at once."""

    account_window: int = DEFAULT_ACCOUNT_WINDOW
    drs_workers: int = DEFAULT_DRS_WORKERS
    ec2_workers: int = DEFAULT_EC2_WORKERS
    ec2_retry_workers: int = DEFAULT_EC2_RETRY_WORKERS
    gc_gen0_threshold: int = DEFAULT_GC_GEN0_THRESHOLD
    switch_interval_us: int = DEFAULT_SWITCH_INTERVAL_US

    @classmethod
    def from_environment(cls) -> "PipelineSettings":
        """Read the settings from INVENTORY_SYNC_* environment variables (read per run; defaults when unset)."""
        return cls(
            account_window=_positive_int_setting(ACCOUNT_WINDOW_ENV, DEFAULT_ACCOUNT_WINDOW),
            drs_workers=_positive_int_setting(DRS_WORKERS_ENV, DEFAULT_DRS_WORKERS),
            ec2_workers=_positive_int_setting(EC2_WORKERS_ENV, DEFAULT_EC2_WORKERS),
            ec2_retry_workers=_positive_int_setting(EC2_RETRY_WORKERS_ENV, DEFAULT_EC2_RETRY_WORKERS),
            gc_gen0_threshold=_positive_int_setting(GC_GEN0_THRESHOLD_ENV, DEFAULT_GC_GEN0_THRESHOLD, minimum=0),
            switch_interval_us=_positive_int_setting(SWITCH_INTERVAL_ENV, DEFAULT_SWITCH_INTERVAL_US, minimum=0),
        )


class StageClock:
    """Where a run's time went: for each stage, the wall-clock time during which at least one of its tasks ran.

    Stages overlap (account k+1 is read while account k is written), so their figures may add up to more than the
    run's total; each one is the union of its tasks' intervals, so a stage running on several threads counts once.
    """

    def __init__(self) -> None:
        """Start the run's clock with no stage interval recorded."""
        self._started = time.perf_counter()
        self._intervals: dict[str, list[tuple[float, float]]] = {stage: [] for stage in TIMING_STAGES}
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Record the block's wall-clock interval under stage `name` (from any thread)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            finished = time.perf_counter()
            with self._lock:
                self._intervals[name].append((started, finished))

    def timed(self, name: str, function: Callable[_P, _R]) -> Callable[_P, _R]:
        """Return `function` wrapped so each of its calls is recorded under stage `name`."""

        def timed_call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            """Call the wrapped function inside the stage."""
            with self.stage(name):
                return function(*args, **kwargs)

        return timed_call

    def summary(self) -> dict[str, Any]:
        """The timing line's fields: `{stage}Ms` per stage (union of its intervals) and `totalMs`, in milliseconds."""
        with self._lock:
            intervals = {stage: sorted(spans) for stage, spans in self._intervals.items()}
        fields: dict[str, Any] = {"event": "inventory_sync_timing"}
        for stage, spans in intervals.items():
            busy = 0.0
            covered_until = float("-inf")
            for started, finished in spans:
                busy += max(0.0, finished - max(started, covered_until))
                covered_until = max(covered_until, finished)
            fields[f"{stage}Ms"] = round(busy * 1000)
        fields["totalMs"] = round((time.perf_counter() - self._started) * 1000)
        return fields

    def log(self) -> None:
        """Log the run's timing as one structured (JSON) line."""
        logger.info(json.dumps(self.summary()))


@contextmanager
def bounded_executor(max_workers: int, *, cancel_pending_on_error: bool = True) -> Iterator[Executor]:
    """A ThreadPoolExecutor of `max_workers` for the block, shut down (waiting for its tasks) when the block ends.

    When the block raises, tasks not started yet are cancelled if `cancel_pending_on_error` (reads nobody will use),
    and otherwise still run (the writer: writes queued before the failure are the legacy's too).
    """
    executor = ThreadPoolExecutor(max_workers=max_workers)
    try:
        yield executor
    except BaseException:
        executor.shutdown(wait=True, cancel_futures=cancel_pending_on_error)
        raise
    executor.shutdown(wait=True)


def warm_client_factories(region: str) -> None:
    """Create a DRS client, its paginator and an EC2 client once, making no call, before the reads fan out.

    The first client of a service loads its model, endpoint rules and paginators from botocore's data files (the
    loader lists the whole data directory on its first lookup); done by one thread up front instead of by every
    region's query at once, and inside `reusing_client_classes`, the DRS and EC2 client classes are built here too,
    while the run waits for its first AssumeRole. A failure is only logged: the queries then create as they would.
    """
    try:
        create_drs_client(region, config=CLIENT_CONFIG).get_paginator("describe_source_servers")
        create_ec2_client(region, config=CLIENT_CONFIG)
    except Exception as error:
        logger.info("DRS and EC2 clients not prepared ahead of the reads: %s", error)


@dataclass(frozen=True)
class SyncExecutors:
    """The run's pools: account reads, DRS queries, EC2 origin groups and per-id retries, row preparation, decoding
    of prepared rows ahead of the writer, writes."""

    accounts: Executor
    drs: Executor
    ec2_groups: Executor
    ec2_retries: Executor
    prepare: Executor
    decode: Executor
    writer: Executor


@contextmanager
def sync_executors(settings: PipelineSettings) -> Iterator[SyncExecutors]:
    """Open the run's pools for the block; at its end the writer finishes first, then the readers are shut down.

    On a failure, reads not started yet are cancelled, while writes queued before it still run (they are the
    legacy's too: it stops at the failure, not before), and the pools they wait on are still open.
    """
    with (
        bounded_executor(settings.drs_workers) as drs,
        bounded_executor(settings.account_window) as accounts,
        bounded_executor(settings.ec2_retry_workers) as ec2_retries,
        bounded_executor(settings.ec2_workers) as ec2_groups,
        bounded_executor(1) as prepare,
        bounded_executor(1) as decode,
        bounded_executor(1, cancel_pending_on_error=False) as writer,
    ):
        yield SyncExecutors(accounts, drs, ec2_groups, ec2_retries, prepare, decode, writer)


def _write_after(previous: Future[Any] | None, write: Callable[..., _R], *args: Any) -> _R:
    """Run `write(*args)` unless the write queued before it failed, in which case re-raise that failure."""
    if previous is not None:
        previous.result()
    return write(*args)


class OrderedWrites:
    """The run's writes on one worker, strictly in the order they are queued; after a failure nothing more is written.

    Each write runs only once the one queued before it has succeeded, so the first failure (say, a region-status batch
    the table refuses) stops every later write and is what `wait` raises, as the legacy stops at its first error.
    Inventory batch failures never get here: they are counted and logged per item (`AccountedBatchWriter`).
    """

    def __init__(self, executor: Executor) -> None:
        """Queue writes on `executor`, which must have a single worker."""
        self._executor = executor
        self._last: Future[Any] | None = None

    def submit(self, write: Callable[..., _R], *args: Any) -> Future[_R]:
        """Queue `write(*args)` after every write queued so far; return its future."""
        future = self._executor.submit(_write_after, self._last, write, *args)
        self._last = future
        return future

    def raise_if_failed(self) -> None:
        """Raise the failure of the writes queued so far if it has already happened (never waits)."""
        if self._last is not None and self._last.done():
            error = self._last.exception()
            if error is not None:
                raise error

    def wait(self) -> None:
        """Wait until every queued write is done; raise the first failure."""
        if self._last is not None:
            self._last.result()


@dataclass
class SyncTotals:
    """What the account loop leaves for the summary and the cleanup: counts, accounts read, accounts not read."""

    synced: int = 0
    errors: int = 0
    reads: list[AccountRead] = field(default_factory=list)
    unreadable: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class SyncRun:
    """One run's shared state: timestamp, regions, settings, pools, ordered writes, clock, clients, region totals.

    The STS client serves the accounts' and the origin groups' GetCallerIdentity and AssumeRole calls (one pair per
    account and per group, so a client per call would dominate their cost), the writer's plain DynamoDB client (made
    on the preparing worker while the first account is read) the inventory batches of prepared rows: the calls are
    the legacy's, only the client objects are reused (clients are thread-safe).
    """

    now: str
    active_regions: list[str]
    settings: PipelineSettings
    executors: SyncExecutors
    writes: OrderedWrites
    clock: StageClock
    sts_client: Any
    writer_client: Future[Any]
    clients_warmed: Future[None]
    # Each region's servers over the accounts whose region statuses are written so far (defect 4 fixed).
    region_server_totals: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountQueries:
    """One account's reads in flight: its DRS queries ({future: region}) and its origin groups' EC2 clients."""

    drs: dict[Future[dict[str, Any]], str]
    origins: OriginClients


def start_account_reads(account: dict[str, Any], run: SyncRun) -> AccountQueries | None:
    """Start one account's reads: identity, AssumeRole, then one DRS query per active region; None if skipped.

    An account whose AssumeRole fails, or that is not the hub and has no roleArn (defect 5 fixed), is skipped before
    any other call, as the legacy skips a failed AssumeRole. The region queries are
    submitted in active-region order and left running; `collect_drs_results` consumes them later, in account order.
    Each page they read has the clients of the origin groups it names made at once (`OriginClients`), unless the
    window is 1, which reads nothing ahead of the writes: the clients are then made when the groups are described.
    """
    with run.clock.stage("accounts"):
        credentials: dict[str, Any] | None = None
        if account_needs_assumed_role(account, run.sts_client):
            credentials = get_account_credentials(account, run.sts_client)
            if credentials is None:
                return None
    create = run.clock.timed("ec2", partial(create_origin_ec2_client, sts_client=run.sts_client))
    origins = OriginClients(account["accountId"], run.executors.ec2_groups, create)
    on_page = origins.note_page if run.settings.account_window > 1 else None
    query = run.clock.timed("drs", partial(query_drs_single_region, on_page=on_page))
    run.clients_warmed.result()
    drs = submit_drs_queries(run.executors.drs, account["accountId"], credentials, run.active_regions, query)
    return AccountQueries(drs, origins)


def start_account_reads_after(
    previous: Future[Any] | None, account: dict[str, Any], run: SyncRun
) -> AccountQueries | None:
    """`start_account_reads` of `account` once the account before it has started its DRS queries (or was skipped).

    Accounts read ahead then reach STS and DRS one after another rather than all at once: the first account, whose
    calls stand between the run's start and its first write, does not share the interpreter with the others' client
    creation and first DRS pages, and the later ones are still read long before their turn to be written.
    """
    if previous is not None:
        wait([previous])
    return start_account_reads(account, run)


class AccountReads:
    """The accounts' reads, started ahead in account order, with at most `account_window` accounts held at once.

    An account is held from the start of its reads to the end of its inventory writes, so account k is read only
    once account k-window's inventory is written: memory stays within a few accounts, and a failure leaves at most
    window-1 accounts read for nothing. No account is started once a write has failed.
    """

    def __init__(self, accounts: list[dict[str, Any]], run: SyncRun) -> None:
        """Nothing started yet."""
        self._accounts = accounts
        self._run = run
        self._started: dict[int, Future[AccountQueries | None]] = {}
        self._next = 0
        self.inventory_writes: list[tuple[int, Future[tuple[int, int]]]] = []

    def take(self, index: int) -> AccountQueries | None:
        """Return account `index`'s reads in flight (None if it was skipped), starting the reads the window allows."""
        self._run.writes.raise_if_failed()
        if self._next == index:
            window_write = self._window_write(index)
            if window_write is not None:
                wait([window_write])
        self._start_allowed(index)
        return self._started.pop(index).result()

    def _window_write(self, index: int) -> Future[tuple[int, int]] | None:
        """The inventory write that must be done before account `index` is read (the last one `window` places back)."""
        for written, inventory_write in reversed(self.inventory_writes):
            if written <= index - self._run.settings.account_window:
                return inventory_write
        return None

    def _start_allowed(self, index: int) -> None:
        """Start account `index` (if not yet) and the following ones the window already allows, in account order."""
        last = min(len(self._accounts), index + self._run.settings.account_window)
        while self._next < last:
            window_write = self._window_write(self._next)
            if self._next > index and window_write is not None and not window_write.done():
                return
            account, previous = self._accounts[self._next], self._started.get(self._next - 1)
            self._started[self._next] = self._run.executors.accounts.submit(
                start_account_reads_after, previous, account, self._run
            )
            self._next += 1


def prepare_account_inventory(
    servers: list[dict[str, Any]], account_id: Any, ec2_details: PendingEc2Details, run: SyncRun
) -> PreparedInventory:
    """Build and serialise an account's inventory rows (off the writer thread) while its EC2 calls are in flight;
    each row is completed with its EC2 details once they are in (`RowCompletion`)."""
    with run.clock.stage("prepare"):
        return prepare_inventory(servers, account_id, run.now, ec2_details, serialize=True)


def write_account_inventory(prepared: Future[PreparedInventory], run: SyncRun) -> tuple[int, int]:
    """The writer's inventory step for one account: wait for its prepared rows, then write them in one batch writer."""
    rows = prepared.result()
    with run.clock.stage("writes"):
        return write_prepared_inventory(rows, run.writer_client.result(), run.executors.decode)


def queue_account_sync(
    account: dict[str, Any], queries: AccountQueries, run: SyncRun
) -> tuple[AccountRead, Future[tuple[int, int]]]:
    """Consume one account's DRS queries and queue the rest of its sync; return (what it read, its inventory write).

    One `as_completed` over the account's regions (completion order), the region statuses queued on the writer, the
    EC2 grouping, the origin groups described on the EC2 pool (with the clients made as DRS named them), the rows
    prepared beside them, the inventory writes queued. Null document sections no longer break the grouping (defect
    11 fixed); should it raise anyway, the error is raised once the account's region statuses, and every write before
    them, are written, before any DescribeInstances.
    """
    account_id = account["accountId"]
    servers, region_statuses = collect_drs_results(account_id, queries.drs)
    run.writes.submit(
        run.clock.timed("writes", record_region_statuses),
        account_id,
        region_statuses,
        run.now,
        run.region_server_totals,
    )
    run.writes.raise_if_failed()
    try:
        groups = group_instances_by_origin(servers, account_id)
    except Exception:
        run.writes.wait()
        raise
    describe = run.clock.timed("ec2", describe_origin_group)
    executors, ec2_details = run.executors, PendingEc2Details(groups)
    progresses, connect = ec2_details.progresses, queries.origins.connect
    submit_origin_groups(
        groups, executors.ec2_groups, executors.ec2_retries, describe, run.sts_client, progresses, connect
    )
    prepared = executors.prepare.submit(prepare_account_inventory, servers, account_id, ec2_details, run)
    failed_regions = frozenset(region for region, status in region_statuses.items() if status["status"] != "ACTIVE")
    return AccountRead.of(account_id, servers, failed_regions), run.writes.submit(
        write_account_inventory, prepared, run
    )


def sync_accounts(
    accounts: list[dict[str, Any]], active_regions: list[str], now: str, clock: StageClock, settings: PipelineSettings
) -> SyncTotals:
    """Sync every account through the pipeline and return the totals once every write is done.

    Accounts are consumed in order while later accounts' reads (`AccountReads`) and earlier accounts' EC2 calls and
    writes proceed. A write failure stops the reads, and the first one is raised once the writes queued before it are
    done, as the legacy raises at that write.
    """
    totals = SyncTotals()
    with sync_executors(settings) as executors:
        writes = OrderedWrites(executors.writer)
        warmed = executors.prepare.submit(warm_client_factories, active_regions[0])
        writer_client = executors.prepare.submit(inventory_writer_client, get_inventory_table().name)
        run = SyncRun(
            now, active_regions, settings, executors, writes, clock, default_client("sts"), writer_client, warmed
        )
        reads = AccountReads(accounts, run)
        for index, account in enumerate(accounts):
            queries = reads.take(index)
            if queries is None:
                totals.unreadable.append(account["accountId"])
                continue
            account_read, inventory_write = queue_account_sync(account, queries, run)
            totals.reads.append(account_read)
            reads.inventory_writes.append((index, inventory_write))
        writes.wait()
    for _, inventory_write in reads.inventory_writes:
        synced, errors = inventory_write.result()
        totals.synced += synced
        totals.errors += errors
    return totals


def sync_source_server_inventory() -> dict[str, Any]:
    """Orchestrate the inventory sync of every target account and active region; return an API-Gateway response.

    Without SOURCE_SERVER_INVENTORY_TABLE: a 500 response and no AWS call. Otherwise one timestamp for the whole
    run, the active regions (all DRS regions when none), the target accounts synced through the pipeline
    (`sync_accounts`), then, after the last write, the stale cleanup of every account that was read against the
    servers of the whole run, keeping the rows of accounts and regions that could not be read (approved fixes of
    legacy defects 1-3; with no account read there is nothing to clean), the summary body, and the region cache
    invalidated. One timing line is logged per run, even a failed one.
    """
    if get_inventory_table() is None:
        return response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})
    clock = StageClock()
    try:
        now = datetime.now(UTC).isoformat()
        with clock.stage("accounts"):
            active_regions, accounts = read_regions_and_accounts()
        settings = PipelineSettings.from_environment()
        logger.info("Inventory sync pipeline: %s", settings)
        with (
            gc_gen0_threshold(settings.gc_gen0_threshold),
            thread_switch_interval(settings.switch_interval_us),
            reusing_client_classes(),
        ):
            totals = sync_accounts(accounts, active_regions, now, clock, settings)
            with clock.stage("cleanup"):
                stale_deleted = cleanup_every_read_account(totals.reads, totals.unreadable)

        body = {
            "message": "Source server inventory sync complete",
            "totalSynced": totals.synced,
            "totalErrors": totals.errors,
            "staleRecordsDeleted": stale_deleted,
            "regionsScanned": len(active_regions),
            "regionsSkipped": len(DRS_REGIONS) - len(active_regions),
            "timestamp": now,
        }
        logger.info(
            "Inventory sync complete: %d synced, %d errors, %d stale deleted",
            totals.synced,
            totals.errors,
            stale_deleted,
        )
        invalidate_region_cache()
        return response(200, body)
    finally:
        clock.log()
