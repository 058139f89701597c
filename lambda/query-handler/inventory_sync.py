"""The refactored source-server inventory sync: single-purpose functions under a short orchestrator.

Every AWS call (service, region, identity, operation, parameters), every write and its order, and the outputs are
identical to `inventory_sync_legacy.handle_sync_source_server_inventory_legacy`, under any completion order of the
region queries, known defects included (LEGACY_CONTRACT.md). Where a requirement's wording and identical behaviour
disagree, the behaviour is kept by placing the legacy's logic in the caller, and the function's docstring says so.
"""

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared.active_region_filter import get_active_regions, invalidate_region_cache, update_region_status
from shared.cross_account import (
    create_drs_client,
    create_ec2_client,
    get_cross_account_session,
    get_current_account_id,
    session_credentials,
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
ASSUME_ROLE_DURATION_SECONDS = 900
INVENTORY_SESSION_NAME = "inventory-sync"
EC2_SESSION_NAME = "inventory-ec2-query"
DEFAULT_EC2_ROLE_ARN = "arn:aws:iam::{account_id}:role/DRSOrchestrationRole"
DEFAULT_EC2_EXTERNAL_ID = "drs-orchestration-cross-account"
DRS_MAX_WORKERS = 28
EC2_CHUNK_SIZE = 100

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
# What the legacy raises when no account got past AssumeRole (defect 3): its cleanup names a variable never set.
NO_SYNCED_ACCOUNT_MESSAGE = "cannot access local variable 'all_servers' where it is not associated with a value"


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


def collect_accounts_to_query() -> list[dict[str, Any]]:
    """Return the target accounts to sync, read with one Scan of the target accounts table (staging never).

    Each account is `{accountId, accountName, roleArn, externalId, accountType: "target"}`, a missing field being
    None, in scan order. Only the first page is read (legacy defect 9). A DynamoDB error is logged with a descriptive
    message and re-raised as the same exception with that message attached as a note (requirement 2.3): its type and
    `str()` stay those of the original, which is what the legacy lets propagate out of the sync.
    """
    try:
        accounts_scan = _target_accounts_table().scan()
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
        for item in accounts_scan.get("Items", [])
    ]
    logger.info("Inventory sync: %d target accounts", len(accounts))
    return accounts


def account_needs_assumed_role(account: dict[str, Any]) -> bool:
    """Return whether `account` must be reached through AssumeRole: it is not the hub and it names a roleArn.

    Asks STS for the hub's account id (one GetCallerIdentity per account, as the legacy). The hub itself, or a row
    without roleArn (legacy defect 5), is queried with the Lambda's own credentials.
    """
    current_account_id = get_current_account_id()
    return account["accountId"] != current_account_id and bool(account.get("roleArn"))


def get_account_credentials(account: dict[str, Any]) -> dict[str, str] | None:
    """Assume the account's role and return its credentials {AccessKeyId, SecretAccessKey, SessionToken}, or None.

    AssumeRole carries RoleSessionName "inventory-sync", DurationSeconds 900 and ExternalId only when the account has
    a truthy one. Any failure is logged and answered with None; the caller then skips the account, as the legacy.
    """
    try:
        session = get_cross_account_session(
            account["roleArn"],
            account.get("externalId"),
            session_name=INVENTORY_SESSION_NAME,
            duration_seconds=ASSUME_ROLE_DURATION_SECONDS,
        )
        credentials = session_credentials(session)
    except Exception as error:
        logger.error("Failed to assume role for account %s, skipping it: %s", account["accountId"], error)
        return None
    logger.info("Assumed role for account %s", account["accountId"])
    return credentials


def list_drs_source_servers(drs_client: Any, region: str, account_id: str | None) -> list[dict[str, Any]]:
    """Return every DRS source server of a client's region (all pages), each tagged `_queryRegion`/`_queryAccount`."""
    servers: list[dict[str, Any]] = []
    paginator = drs_client.get_paginator("describe_source_servers")
    for page in paginator.paginate():
        for server in page.get("items", []):
            server["_queryRegion"] = region
            server["_queryAccount"] = account_id
            servers.append(server)
    return servers


def classify_drs_client_error(error: ClientError) -> tuple[str, str]:
    """Return the legacy's (region status, errorMessage) for a DRS ClientError: its table, first match wins.

    UninitializedAccountException or "not initialized" -> NOT_INITIALIZED; AccessDeniedException (code or text) ->
    IAM_PERMISSION_DENIED; "service control policy"/"scp" in the text -> SCP_DENIED; Throttling/TooManyRequests ->
    THROTTLED; OptInRequired -> REGION_NOT_OPTED_IN; otherwise ERROR with "{code}: {message}" (or the text). So
    UnrecognizedClientException, InvalidRequestException, ServiceQuotaExceededException and InternalServerException
    land in ERROR unless an earlier row matches their text (legacy defect 7, kept).
    """
    error_code = error.response.get("Error", {}).get("Code", "")
    error_text = error.response.get("Error", {}).get("Message", "")
    error_str = str(error)
    if error_code == "UninitializedAccountException" or "not initialized" in error_str.lower():
        return "NOT_INITIALIZED", "DRS not initialized in region"
    if "AccessDeniedException" in error_str or error_code == "AccessDeniedException":
        return "IAM_PERMISSION_DENIED", f"IAM permissions denied: {error_text}"
    if "service control policy" in error_str.lower() or "scp" in error_str.lower():
        return "SCP_DENIED", "Blocked by Service Control Policy"
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
    error_type: str, error_code: str, region_status: str, message: str, region: str, account_id: str | None
) -> dict[str, Any]:
    """Return the `{"status": "error", ...}` answer of a failed DRS region query and log the failure.

    `regionStatus` and `errorMessage` are the legacy's classification; `errorType` names which of the 8 DRS error
    types it was; `guidance` adds retry advice for ThrottlingException and quota-increase advice for
    ServiceQuotaExceededException (None otherwise). Guidance is only returned, never written anywhere.
    """
    logger.warning("DRS query failed in %s for account %s: %s (%s)", region, account_id, region_status, error_type)
    return {
        "status": "error",
        "errorType": error_type,
        "errorCode": error_code,
        "regionStatus": region_status,
        "errorMessage": message,
        "guidance": DRS_ERROR_GUIDANCE.get(error_type),
        "servers": [],
    }


def query_drs_single_region(region: str, account_id: str | None, credentials: dict[str, Any] | None) -> dict[str, Any]:
    """Query every DRS source server of one region and answer `{"status": "success", "servers": [...]}`.

    The client (with `credentials`, or the Lambda's own when None) uses the short-timeout single-retry config. Any
    failure discards the pages already read (legacy defect 7) and answers an error dictionary (`drs_error_result`).
    The 8 error types: AccessDeniedException, UnrecognizedClientException, InvalidRequestException,
    ThrottlingException, ServiceQuotaExceededException and InternalServerException arrive as ClientError carrying
    their code and are named by it; any other ClientError is "ClientError"; a non-ClientError is "Exception" (or
    UnrecognizedClientException when its text names it). The region status and message stay the legacy's.
    """
    try:
        drs_client = create_drs_client(region, credentials=credentials, config=CLIENT_CONFIG)
        return {"status": "success", "servers": list_drs_source_servers(drs_client, region, account_id)}
    except ClientError as error:
        error_code = error.response.get("Error", {}).get("Code", "")
        error_type = error_code if error_code in DRS_CLIENT_ERROR_TYPES else "ClientError"
        region_status, message = classify_drs_client_error(error)
        return drs_error_result(error_type, error_code, region_status, message, region, account_id)
    except Exception as error:
        error_type = "UnrecognizedClientException" if "UnrecognizedClientException" in str(error) else "Exception"
        region_status, message = classify_drs_exception(error)
        return drs_error_result(error_type, "", region_status, message, region, account_id)


def region_status_of(result: dict[str, Any]) -> dict[str, Any]:
    """Return the legacy's region status record `{status, serverCount, errorMessage}` for a single-region answer."""
    if result["status"] == "success":
        return {"status": "ACTIVE", "serverCount": len(result["servers"]), "errorMessage": None}
    return {"status": result["regionStatus"], "serverCount": 0, "errorMessage": result["errorMessage"]}


def record_region_statuses(account_id: str | None, region_statuses: dict[str, dict[str, Any]], now: str) -> None:
    """Write one account's region statuses, exactly as the legacy: a batch of rows plus `update_region_status`.

    Only when the region status table is configured. Per region, in `region_statuses` (completion) order, the row
    `{region, accountId, status, serverCount, lastUpdated: now}` (+ errorMessage when truthy) goes into a batch writer
    and `update_region_status()` writes its own row at once; the batch flushes at the end (or every 25 rows), so the
    BatchWriteItem overwrites the PutItems, and the last account's row wins for every account (legacy defect 4).
    """
    region_status_table = get_region_status_table()
    if region_status_table is None:
        return
    with region_status_table.batch_writer() as status_batch:
        for region, region_info in region_statuses.items():
            status_item: dict[str, Any] = {
                "region": region,
                "accountId": account_id,
                "status": region_info["status"],
                "serverCount": region_info["serverCount"],
                "lastUpdated": now,
            }
            if region_info["errorMessage"]:
                status_item["errorMessage"] = region_info["errorMessage"]
            status_batch.put_item(Item=status_item)
            update_region_status(region, region_info["serverCount"], region_info["errorMessage"])


def query_drs_all_regions(
    account_id: str | None, credentials: dict[str, Any] | None, active_regions: list[str], now: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Query DRS in every active region in parallel; record and return (servers, region statuses).

    One `query_drs_single_region` task per region on a ThreadPoolExecutor of 28 workers, submitted in active-region
    order and consumed with `as_completed`, so servers and statuses follow completion order (legacy defect 8). A
    failed region is captured in its status without failing the others. The statuses are then written through
    `record_region_statuses` (which calls `update_region_status()` per region), with `now`, the sync's one timestamp.
    """
    region_statuses: dict[str, dict[str, Any]] = {}
    all_servers: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=DRS_MAX_WORKERS) as executor:
        futures = {
            executor.submit(query_drs_single_region, region, account_id, credentials): region
            for region in active_regions
        }
        for future in as_completed(futures):
            region = futures[future]
            result = future.result()
            region_statuses[region] = region_status_of(result)
            all_servers.extend(result["servers"])
    logger.info("Account %s: %d source servers found", account_id, len(all_servers))
    record_region_statuses(account_id, region_statuses, now)
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


def group_instances_by_origin(servers: list[dict[str, Any]], account_id: Any) -> dict[tuple[Any, Any], list[str]]:
    """Return the EC2 instance ids of `servers` grouped by origin (account, region), groups in first-seen order.

    The origin is `sourceCloudProperties.originAccountID` (default `account_id`) and `.originRegion` (default the
    server's `_queryRegion`); servers without `sourceProperties.identificationHints.awsInstanceID` are left out. A
    null `sourceProperties`, `identificationHints` or `sourceCloudProperties` raises AttributeError here, outside any
    handler, exactly as the legacy (defect 11): the sync fails after the account's region statuses were written.
    """
    ec2_groups: dict[tuple[Any, Any], list[str]] = {}
    for server in servers:
        instance_id = server.get("sourceProperties", {}).get("identificationHints", {}).get("awsInstanceID")
        origin_account = server.get("sourceCloudProperties", {}).get("originAccountID", account_id)
        origin_region = server.get("sourceCloudProperties", {}).get("originRegion", server.get("_queryRegion"))
        if instance_id:
            ec2_groups.setdefault((origin_account, origin_region), []).append(instance_id)
    return ec2_groups


def origin_account_role(src_account: Any) -> tuple[Any, Any]:
    """Return the (roleArn, externalId) to reach an origin account's EC2: its target accounts row, else the defaults.

    The defaults are `arn:aws:iam::{src}:role/DRSOrchestrationRole` and "drs-orchestration-cross-account"; a row found
    by GetItem replaces each one it has (even with an empty or null value, as the legacy). GetItem errors are ignored.
    """
    role_arn: Any = DEFAULT_EC2_ROLE_ARN.format(account_id=src_account)
    external_id: Any = DEFAULT_EC2_EXTERNAL_ID
    try:
        src_item = get_target_accounts_table().get_item(Key={"accountId": src_account}).get("Item")
        if src_item:
            role_arn = src_item.get("roleArn", role_arn)
            external_id = src_item.get("externalId", external_id)
    except Exception as error:
        logger.debug("Target account lookup failed for %s: %s", src_account, error)
    return role_arn, external_id


def create_origin_ec2_client(src_account: Any, src_region: Any) -> tuple[Any, dict[str, Any] | None]:
    """Return an EC2 client for an origin (account, region) and the assumed credentials it signs with (None: own).

    Asks STS for the hub's id (one GetCallerIdentity per group, as the legacy). The hub's own account gets a default
    client; any other is reached by AssumeRole with RoleSessionName "inventory-ec2-query", DurationSeconds 900 and the
    ExternalId always sent (even empty or null, as the legacy). Failures propagate to the caller, which skips the group.
    """
    if src_account == get_current_account_id():
        return create_ec2_client(src_region, config=CLIENT_CONFIG), None
    role_arn, external_id = origin_account_role(src_account)
    session = get_cross_account_session(
        role_arn,
        external_id,
        session_name=EC2_SESSION_NAME,
        duration_seconds=ASSUME_ROLE_DURATION_SECONDS,
        always_send_external_id=True,
    )
    credentials = session_credentials(session)
    return create_ec2_client(src_region, credentials=credentials, config=CLIENT_CONFIG), credentials


def collect_group_instance_details(
    ec2_client: Any,
    src_region: Any,
    instance_ids: list[str],
    credentials: dict[str, Any] | None,
    ec2_details: dict[str, dict[str, Any]],
) -> None:
    """Add the EC2 details of one origin group's instances to `ec2_details`, in DescribeInstances chunks of 100.

    A ClientError on a chunk retries each of its ids alone through `query_ec2_instances`, whose `{}` on error is the
    legacy's "ignore a per-id failure". The chunk call itself is made here, not through `query_ec2_instances`, because
    that function answers `{}` on error and the caller must see the chunk's ClientError to trigger the per-id retry
    (DESIGN.md names this case); any other error propagates, and the caller skips the rest of the group, as the legacy.
    """
    for start in range(0, len(instance_ids), EC2_CHUNK_SIZE):
        chunk = instance_ids[start : start + EC2_CHUNK_SIZE]
        try:
            for instance_id, details in describe_instance_details(ec2_client, chunk):
                ec2_details[instance_id] = details
        except ClientError as error:
            logger.warning("DescribeInstances failed for a chunk in %s, retrying ids one by one: %s", src_region, error)
            for single_id in chunk:
                ec2_details.update(query_ec2_instances(src_region, [single_id], credentials, ec2_client))


def enrich_with_ec2_metadata(servers: list[dict[str, Any]], account_id: Any) -> dict[str, dict[str, Any]]:
    """Return EC2 metadata (network, security groups, instance profile, tags) of the servers' instances by id.

    Groups the instance ids by origin (account, region), then per group creates the (cross-account) EC2 client and
    describes the instances. A group whose client or queries fail is logged and skipped: its servers keep their
    original data without enrichment. Grouping errors (defect 11) propagate, as the legacy's.
    """
    ec2_details: dict[str, dict[str, Any]] = {}
    for (src_account, src_region), instance_ids in group_instances_by_origin(servers, account_id).items():
        try:
            ec2_client, credentials = create_origin_ec2_client(src_account, src_region)
            collect_group_instance_details(ec2_client, src_region, instance_ids, credentials, ec2_details)
        except Exception as error:
            logger.warning("EC2 enrichment skipped for account %s in %s: %s", src_account, src_region, error)
    return ec2_details


def inventory_item_from_server(
    server: dict[str, Any], account_id: Any, ec2_details: dict[str, dict[str, Any]], now: str
) -> dict[str, Any]:
    """Return the inventory row of one DRS source server (LEGACY_CONTRACT.md, "Inventory item"), with EC2 details.

    Raises on a malformed document exactly where the legacy does (e.g. a first NIC with an empty `ips` list, defect
    10); the caller counts that as an error.
    """
    source_props = server.get("sourceProperties", {})
    hints = source_props.get("identificationHints", {})
    cloud_props = server.get("sourceCloudProperties", {})
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
        "primaryIp": nics[0].get("ips", [""])[0] if nics else "",
        "macAddress": (nics[0].get("macAddress") or "") if nics else "",
        "disks": [{"deviceName": disk.get("deviceName") or "", "bytes": disk.get("bytes") or 0} for disk in disks],
    }

    details = ec2_details.get(server_instance_id)
    if details:
        item["networkConfig"] = {
            "vpcId": details["vpcId"],
            "subnetId": details["subnetId"],
            "privateIp": details["privateIp"],
            "securityGroups": details["securityGroups"],
            "instanceProfile": details["instanceProfile"],
        }
        item["sourceTags"] = details["tags"]
    return item


def write_inventory_to_dynamodb(
    servers: list[dict[str, Any]], account_id: Any, now: str, ec2_details: dict[str, dict[str, Any]]
) -> tuple[int, int]:
    """Write one account's servers to the inventory table and return (items written, items failed).

    One batch writer (BatchWriteItem of 25 items; boto3 resends unprocessed items). An item that cannot be built, or
    a `put_item` whose flush fails, is logged and counted as one failure, and the rest continue (one failure for up to
    25 lost items, legacy defect 6). A failure of the final flush, at the end of the batch, propagates (defect 6).
    """
    inventory_table = get_inventory_table()
    synced = 0
    errors = 0
    with inventory_table.batch_writer() as batch:
        for server in servers:
            try:
                batch.put_item(Item=inventory_item_from_server(server, account_id, ec2_details, now))
                synced += 1
            except Exception as error:
                logger.error("Failed to write inventory item for %s: %s", server.get("arn"), error)
                errors += 1
    return synced, errors


def cleanup_stale_inventory(account_id: Any, servers: list[dict[str, Any]]) -> int:
    """Delete the inventory rows of `account_id` that are not among `servers`; return how many were deleted.

    Called once, after the account loop, with the last account's id and the last server list that was read, which
    keeps legacy defects 1 and 2 (other accounts' stale rows stay; a last account whose AssumeRole failed is paired
    with the previous account's servers). Rows come from a paginated Scan filtered on sourceAccountId; each
    DeleteItem failure is logged and not counted.
    """
    synced_keys = set()
    for server in servers:
        synced_keys.add((server.get("arn") or "", server.get("stagingArea", {}).get("stagingAccountID", account_id)))

    inventory_table = get_inventory_table()
    scan_kwargs: dict[str, Any] = {
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": account_id},
    }
    existing_scan = inventory_table.scan(**scan_kwargs)
    existing_items = existing_scan.get("Items", [])
    while "LastEvaluatedKey" in existing_scan:
        existing_scan = inventory_table.scan(**scan_kwargs, ExclusiveStartKey=existing_scan["LastEvaluatedKey"])
        existing_items.extend(existing_scan.get("Items", []))

    stale_deleted = 0
    for existing in existing_items:
        if (existing.get("sourceServerArn"), existing.get("stagingAccountId")) in synced_keys:
            continue
        try:
            inventory_table.delete_item(
                Key={"sourceServerArn": existing["sourceServerArn"], "stagingAccountId": existing["stagingAccountId"]}
            )
            stale_deleted += 1
        except Exception as error:
            logger.error("Failed to delete stale inventory row %s: %s", existing.get("sourceServerArn"), error)
    return stale_deleted


def sync_account(
    account: dict[str, Any], active_regions: list[str], now: str
) -> tuple[list[dict[str, Any]], int, int] | None:
    """Sync one target account and return (servers read, items written, items failed), or None if it was skipped.

    Credentials (AssumeRole unless it is the hub or has no roleArn), DRS in every active region with the region
    statuses written, EC2 enrichment, inventory writes: the legacy's per-account steps, in its order. An account
    whose AssumeRole fails is skipped (None) before any other call, as the legacy.
    """
    credentials: dict[str, Any] | None = None
    if account_needs_assumed_role(account):
        credentials = get_account_credentials(account)
        if credentials is None:
            return None
    servers, _ = query_drs_all_regions(account["accountId"], credentials, active_regions, now)
    ec2_details = enrich_with_ec2_metadata(servers, account["accountId"])
    synced, errors = write_inventory_to_dynamodb(servers, account["accountId"], now, ec2_details)
    return servers, synced, errors


def sync_source_server_inventory() -> dict[str, Any]:
    """Orchestrate the inventory sync of every target account and active region; return an API-Gateway response.

    Without SOURCE_SERVER_INVENTORY_TABLE: a 500 response and no AWS call. Otherwise one timestamp for the whole
    run, the active regions (all DRS regions when none), each target account synced in turn, the stale cleanup once
    with the last account's id and the last server list read (defects 1-2), the summary body, and the region cache
    invalidated. With no account past AssumeRole the legacy's cleanup names a variable never set (defect 3): the same
    UnboundLocalError, type and message, is raised here explicitly, at the same point (before any cleanup call).
    """
    if get_inventory_table() is None:
        return response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})
    now = datetime.now(UTC).isoformat()
    active_regions = get_active_regions() or DRS_REGIONS
    logger.info("Inventory sync: querying %d active regions", len(active_regions))

    total_synced = 0
    total_errors = 0
    last_account_id: Any = None
    last_servers: list[dict[str, Any]] | None = None
    for account in collect_accounts_to_query():
        last_account_id = account["accountId"]
        outcome = sync_account(account, active_regions, now)
        if outcome is not None:
            last_servers, synced, errors = outcome
            total_synced += synced
            total_errors += errors
    if last_servers is None:
        raise UnboundLocalError(NO_SYNCED_ACCOUNT_MESSAGE)
    stale_deleted = cleanup_stale_inventory(last_account_id, last_servers)

    body = {
        "message": "Source server inventory sync complete",
        "totalSynced": total_synced,
        "totalErrors": total_errors,
        "staleRecordsDeleted": stale_deleted,
        "regionsScanned": len(active_regions),
        "regionsSkipped": len(DRS_REGIONS) - len(active_regions),
        "timestamp": now,
    }
    logger.info(
        "Inventory sync complete: %d synced, %d errors, %d stale deleted", total_synced, total_errors, stale_deleted
    )
    invalidate_region_cache()
    return response(200, body)
