"""The refactored source-server inventory sync (phase 1: the monolith moved onto the shared utilities).

Phase 1 of the refactor (DESIGN.md, "Refactor phases"): the body is still the legacy's, but its tables come from
`shared.dynamodb_tables` and its AssumeRole calls and DRS/EC2 clients from `shared.cross_account`, with the legacy's
parameters kept (session names, DurationSeconds, ExternalId rules, the botocore Config), so every AWS call, every write
and the outputs stay identical to `inventory_sync_legacy`.
"""

import logging
import os
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


def legacy_target_accounts_table() -> Any:
    """Return the target accounts Table, failing exactly as the legacy does when TARGET_ACCOUNTS_TABLE is unset.

    The shared getter returns None for an unset or empty name, but the legacy always builds `Table(<env value>)`:
    unset makes boto3 raise `ValueError("Required parameter name not set")` at construction, and an empty name goes
    out as `TableName=""` and fails the call's parameter validation. That behaviour is kept here, in the caller, by
    building the Table on the raw environment value only when the shared getter has none.
    """
    table = get_target_accounts_table()
    if table is None:
        table = boto3.resource("dynamodb").Table(os.environ.get(TARGET_ACCOUNTS_TABLE_ENV))
    return table


def sync_source_server_inventory() -> dict[str, Any]:
    """Sync DRS source servers of every target account and active region into the inventory table.

    Walks the target accounts, queries DRS in every active region in parallel, records region statuses, enriches
    servers with EC2 metadata, writes the inventory and removes stale rows; returns an API-Gateway-style response.
    Behaviour (defects included) is the legacy contract; see the module docstring before touching anything.
    """
    inventory_table = get_inventory_table()
    if inventory_table is None:
        return response(500, {"error": "SOURCE_SERVER_INVENTORY_TABLE not configured"})

    now = datetime.now(UTC).isoformat()
    boto_config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})

    total_synced = 0
    total_errors = 0
    stale_deleted = 0

    # Step 3: active regions
    active_regions = get_active_regions()
    if not active_regions:
        active_regions = DRS_REGIONS
    logger.info("Inventory sync: querying %d active regions", len(active_regions))

    # Step 4: target accounts (first page only)
    accounts_to_query: list[dict[str, Any]] = []
    target_accounts_table = legacy_target_accounts_table()
    accounts_scan = target_accounts_table.scan()
    for account_item in accounts_scan.get("Items", []):
        accounts_to_query.append(
            {
                "accountId": account_item.get("accountId"),
                "roleArn": account_item.get("roleArn"),
                "externalId": account_item.get("externalId"),
                "accountType": "target",
            }
        )
    logger.info("Inventory sync: %d target accounts", len(accounts_to_query))

    def query_region(region: str, creds: dict[str, Any] | None, account_id: str | None) -> dict[str, Any]:
        """Query every DRS source server of one region; classify any failure into a region status."""
        try:
            drs_client = create_drs_client(region, credentials=creds, config=boto_config)

            region_servers: list[dict[str, Any]] = []
            paginator = drs_client.get_paginator("describe_source_servers")
            for page in paginator.paginate():
                for server in page.get("items", []):
                    server["_queryRegion"] = region
                    server["_queryAccount"] = account_id
                    region_servers.append(server)

            return {
                "servers": region_servers,
                "status": "ACTIVE",
                "serverCount": len(region_servers),
                "errorMessage": None,
            }
        except ClientError as e:
            error_code = e.response.get("Error", {}).get("Code", "")
            error_text = e.response.get("Error", {}).get("Message", "")
            error_str = str(e)
            if error_code == "UninitializedAccountException" or "not initialized" in error_str.lower():
                status = "NOT_INITIALIZED"
                message = "DRS not initialized in region"
            elif "AccessDeniedException" in error_str or error_code == "AccessDeniedException":
                status = "IAM_PERMISSION_DENIED"
                message = f"IAM permissions denied: {error_text}"
            elif "service control policy" in error_str.lower() or "scp" in error_str.lower():
                status = "SCP_DENIED"
                message = "Blocked by Service Control Policy"
            elif error_code in ("ThrottlingException", "TooManyRequestsException"):
                status = "THROTTLED"
                message = "API rate limit exceeded"
            elif error_code == "OptInRequired":
                status = "REGION_NOT_OPTED_IN"
                message = "Region not enabled in account"
            else:
                status = "ERROR"
                message = f"{error_code}: {error_text}" if error_code else error_str[:500]
            logger.warning("DRS query failed in %s for account %s: %s (%s)", region, account_id, status, error_code)
            return {"servers": [], "status": status, "serverCount": 0, "errorMessage": message}
        except Exception as e:
            error_str = str(e)
            if "UnrecognizedClientException" in error_str or "security token" in error_str.lower():
                status = "REGION_NOT_ENABLED"
                message = "Region not enabled in account"
            elif "Could not connect" in error_str or "EndpointConnectionError" in error_str:
                status = "ENDPOINT_UNREACHABLE"
                message = "Cannot connect to DRS endpoint"
            else:
                status = "ERROR"
                message = error_str[:500]
            logger.warning("DRS query failed in %s for account %s: %s", region, account_id, status)
            return {"servers": [], "status": status, "serverCount": 0, "errorMessage": message}

    # Step 5: every account in turn
    for account in accounts_to_query:
        acct_id = account["accountId"]
        role_arn = account.get("roleArn")
        external_id = account.get("externalId")

        # 5a/5b: credentials
        current_account_id = get_current_account_id()
        credentials: dict[str, Any] | None = None
        if acct_id != current_account_id and role_arn:
            try:
                session = get_cross_account_session(
                    role_arn, external_id, session_name="inventory-sync", duration_seconds=900
                )
                credentials = session_credentials(session)
                logger.info("Assumed role for account %s", acct_id)
            except Exception as e:
                logger.error("Failed to assume role for account %s, skipping it: %s", acct_id, e)
                continue

        # 5c: DRS in every active region, in parallel, consumed in completion order
        region_statuses: dict[str, dict[str, Any]] = {}
        all_servers: list[dict[str, Any]] = []
        with ThreadPoolExecutor(max_workers=28) as executor:
            futures = {executor.submit(query_region, region, credentials, acct_id): region for region in active_regions}
            for future in as_completed(futures):
                region = futures[future]
                result = future.result()
                region_statuses[region] = {
                    "status": result["status"],
                    "serverCount": result["serverCount"],
                    "errorMessage": result["errorMessage"],
                }
                all_servers.extend(result["servers"])
        logger.info("Account %s: %d source servers found", acct_id, len(all_servers))

        # 5d: region statuses (the batch flushes at block exit, after the immediate PutItems)
        region_status_table = get_region_status_table()
        if region_status_table is not None:
            with region_status_table.batch_writer() as status_batch:
                for region, region_info in region_statuses.items():
                    status_item: dict[str, Any] = {
                        "region": region,
                        "accountId": acct_id,
                        "status": region_info["status"],
                        "serverCount": region_info["serverCount"],
                        "lastUpdated": now,
                    }
                    if region_info["errorMessage"]:
                        status_item["errorMessage"] = region_info["errorMessage"]
                    status_batch.put_item(Item=status_item)
                    update_region_status(region, region_info["serverCount"], region_info["errorMessage"])

        # 5e: EC2 enrichment. Grouping is deliberately outside any handler (a null document raises here).
        ec2_groups: dict[tuple[Any, Any], list[str]] = {}
        for server in all_servers:
            instance_id = server.get("sourceProperties", {}).get("identificationHints", {}).get("awsInstanceID")
            origin_account = server.get("sourceCloudProperties", {}).get("originAccountID", acct_id)
            origin_region = server.get("sourceCloudProperties", {}).get("originRegion", server.get("_queryRegion"))
            if instance_id:
                ec2_groups.setdefault((origin_account, origin_region), []).append(instance_id)

        ec2_details: dict[str, dict[str, Any]] = {}
        for (src_account, src_region), instance_ids in ec2_groups.items():
            try:
                current_account_id = get_current_account_id()
                if src_account == current_account_id:
                    ec2_client = create_ec2_client(src_region, config=boto_config)
                else:
                    ec2_role_arn = f"arn:aws:iam::{src_account}:role/DRSOrchestrationRole"
                    ec2_external_id = "drs-orchestration-cross-account"
                    try:
                        src_item = legacy_target_accounts_table().get_item(Key={"accountId": src_account}).get("Item")
                        if src_item:
                            ec2_role_arn = src_item.get("roleArn", ec2_role_arn)
                            ec2_external_id = src_item.get("externalId", ec2_external_id)
                    except Exception as e:
                        logger.debug("Target account lookup failed for %s: %s", src_account, e)
                    ec2_session = get_cross_account_session(
                        ec2_role_arn,
                        ec2_external_id,
                        session_name="inventory-ec2-query",
                        duration_seconds=900,
                        always_send_external_id=True,
                    )
                    ec2_client = create_ec2_client(
                        src_region, credentials=session_credentials(ec2_session), config=boto_config
                    )

                for start in range(0, len(instance_ids), 100):
                    chunk = instance_ids[start : start + 100]
                    try:
                        ec2_response = ec2_client.describe_instances(InstanceIds=chunk)
                        for reservation in ec2_response.get("Reservations", []):
                            for instance in reservation.get("Instances", []):
                                ec2_details[instance["InstanceId"]] = {
                                    "vpcId": instance.get("VpcId", ""),
                                    "subnetId": instance.get("SubnetId", ""),
                                    "privateIp": instance.get("PrivateIpAddress", ""),
                                    "securityGroups": [sg["GroupId"] for sg in instance.get("SecurityGroups", [])],
                                    "instanceProfile": instance.get("IamInstanceProfile", {}).get("Arn", ""),
                                    "tags": {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])},
                                }
                    except ClientError as e:
                        logger.warning(
                            "DescribeInstances failed for a chunk in %s, retrying ids one by one: %s", src_region, e
                        )
                        for single_id in chunk:
                            try:
                                single_response = ec2_client.describe_instances(InstanceIds=[single_id])
                                for reservation in single_response.get("Reservations", []):
                                    for instance in reservation.get("Instances", []):
                                        ec2_details[instance["InstanceId"]] = {
                                            "vpcId": instance.get("VpcId", ""),
                                            "subnetId": instance.get("SubnetId", ""),
                                            "privateIp": instance.get("PrivateIpAddress", ""),
                                            "securityGroups": [
                                                sg["GroupId"] for sg in instance.get("SecurityGroups", [])
                                            ],
                                            "instanceProfile": instance.get("IamInstanceProfile", {}).get("Arn", ""),
                                            "tags": {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])},
                                        }
                            except Exception:
                                pass
            except Exception as e:
                logger.warning("EC2 enrichment skipped for account %s in %s: %s", src_account, src_region, e)
                continue

        # 5f: inventory writes (a failure of the final flush at block exit propagates)
        with inventory_table.batch_writer() as batch:
            for server in all_servers:
                try:
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
                        "stagingAccountId": server.get("stagingArea", {}).get("stagingAccountID", acct_id),
                        "sourceServerID": server.get("sourceServerID") or "",
                        "sourceAccountId": cloud_props.get("originAccountID", acct_id),
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
                        "disks": [
                            {"deviceName": disk.get("deviceName") or "", "bytes": disk.get("bytes") or 0}
                            for disk in disks
                        ],
                    }

                    instance_details = ec2_details.get(server_instance_id)
                    if instance_details:
                        item["networkConfig"] = {
                            "vpcId": instance_details["vpcId"],
                            "subnetId": instance_details["subnetId"],
                            "privateIp": instance_details["privateIp"],
                            "securityGroups": instance_details["securityGroups"],
                            "instanceProfile": instance_details["instanceProfile"],
                        }
                        item["sourceTags"] = instance_details["tags"]

                    batch.put_item(Item=item)
                    total_synced += 1
                except Exception as e:
                    logger.error("Failed to write inventory item for %s: %s", server.get("arn"), e)
                    total_errors += 1

    # Step 6: stale cleanup, once, for the loop's last account and server list
    synced_keys = set()
    for server in all_servers:
        synced_keys.add((server.get("arn") or "", server.get("stagingArea", {}).get("stagingAccountID", acct_id)))

    scan_kwargs: dict[str, Any] = {
        "FilterExpression": "sourceAccountId = :acct_id",
        "ExpressionAttributeValues": {":acct_id": acct_id},
    }
    existing_scan = inventory_table.scan(**scan_kwargs)
    existing_items = existing_scan.get("Items", [])
    while "LastEvaluatedKey" in existing_scan:
        existing_scan = inventory_table.scan(**scan_kwargs, ExclusiveStartKey=existing_scan["LastEvaluatedKey"])
        existing_items.extend(existing_scan.get("Items", []))

    for existing in existing_items:
        existing_key = (existing.get("sourceServerArn"), existing.get("stagingAccountId"))
        if existing_key not in synced_keys:
            try:
                inventory_table.delete_item(
                    Key={
                        "sourceServerArn": existing["sourceServerArn"],
                        "stagingAccountId": existing["stagingAccountId"],
                    }
                )
                stale_deleted += 1
            except Exception as e:
                logger.error("Failed to delete stale inventory row %s: %s", existing.get("sourceServerArn"), e)

    # Step 7
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
