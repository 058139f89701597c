"""How a DRS source server and its EC2 details become an inventory row (LEGACY_CONTRACT.md, "Inventory item")."""

from typing import Any

from boto3.dynamodb.types import TypeSerializer

_SERIALIZER = TypeSerializer()

# A server's row, or the error its document raised while the row was built, beside the server's ARN (for the log).
InventoryRow = tuple[Any, dict[str, Any] | Exception]


def document_section(document: dict[str, Any], name: str) -> dict[str, Any]:
    """A DRS document's sub-object `name`, {} when it is missing or null.

    Approved divergence defect-11-null-document-sections: the legacy's `.get(name, {})` defaulted only a missing
    key, so a null `sourceProperties`, `identificationHints` or `sourceCloudProperties` raised where it was touched.
    """
    value = document.get(name)
    return {} if value is None else value


def first_nic_ip(nics: list[dict[str, Any]]) -> Any:
    """The first NIC's first IP: `ips` defaults to [""] when absent, and "" when there is no NIC.

    Approved divergence defect-10-nic-without-ips: a first NIC whose `ips` list is empty gives "", where the
    legacy's `ips[0]` raised and the server was never written.
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
    """The inventory row of one DRS source server, with its instance's EC2 details when there are any.

    Raises on a malformed document where the legacy does; the caller counts that as an error.
    """
    source_props = document_section(server, "sourceProperties")
    hints = document_section(source_props, "identificationHints")
    cloud_props = document_section(server, "sourceCloudProperties")
    replication_info = server.get("dataReplicationInfo", {})
    cpus = source_props.get("cpus", [])
    disks = source_props.get("disks", [])
    nics = source_props.get("networkInterfaces", [])
    instance_id = hints.get("awsInstanceID") or ""
    ram_bytes = source_props.get("ramBytes")
    item: dict[str, Any] = {
        "sourceServerArn": server.get("arn") or "",
        "stagingAccountId": server.get("stagingArea", {}).get("stagingAccountID", account_id),
        "sourceServerID": server.get("sourceServerID") or "",
        "sourceAccountId": cloud_props.get("originAccountID", account_id),
        "sourceRegion": cloud_props.get("originRegion", server.get("_queryRegion")),
        "hostname": hints.get("hostname") or "",
        "fqdn": hints.get("fqdn") or "",
        "instanceId": instance_id,
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
    details = ec2_details.get(instance_id)
    if details:
        item["networkConfig"] = {
            name: details[name] for name in ("vpcId", "subnetId", "privateIp", "securityGroups", "instanceProfile")
        }
        item["sourceTags"] = details["tags"]
    return item


def build_inventory_rows(
    servers: list[dict[str, Any]], account_id: Any, ec2_details: dict[str, dict[str, Any]], now: str
) -> list[InventoryRow]:
    """Every server's (ARN, row) in server order, the row in DynamoDB's wire form; the error instead for a server
    whose row cannot be built.

    Rows are typed here, by boto3's TypeSerializer, so the writer sends them as they are; the Table resource would
    type them the same way, on the writer's thread.
    """
    rows: list[InventoryRow] = []
    for server in servers:
        try:
            item = inventory_item_from_server(server, account_id, ec2_details, now)
            rows.append((server.get("arn"), {name: _SERIALIZER.serialize(value) for name, value in item.items()}))
        except Exception as error:
            rows.append((server.get("arn"), error))
    return rows


def inventory_keys(servers: list[dict[str, Any]], account_id: Any) -> frozenset[tuple[Any, Any]]:
    """The (sourceServerArn, stagingAccountId) keys of an account's servers, as their inventory rows carry them."""
    return frozenset(
        (server.get("arn") or "", server.get("stagingArea", {}).get("stagingAccountID", account_id))
        for server in servers
    )
