"""The inventory row a fixed sync writes for one DRS document: LEGACY_CONTRACT.md's "Inventory item", independently.

Approved divergences that make the sync write rows the legacy never wrote (a first NIC with an empty `ips` list,
defect 10; the servers of the pages read before a failing page, defect 7) must say exactly which rows they expect,
from the golden's DRS documents and EC2 answers. This module builds them from the contract's table, not from the
refactored code, with the approved fixes applied: a first NIC whose `ips` is empty gives primaryIp "" (defect 10),
and a null `sourceProperties`, `identificationHints` or `sourceCloudProperties` counts as missing (defect 11). Any
other malformed document raises where the legacy's item building raises, so the caller counts it as an error.
Rows come out in DynamoDB's wire form (`wire_item`), as the batch writer sends them.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer

# `{instance id: details}` as the legacy's EC2 enrichment makes them (vpcId, subnetId, privateIp, ...).
Ec2Details = dict[str, dict[str, Any]]


def section(document: dict[str, Any], name: str) -> dict[str, Any]:
    """A document's sub-object `name`, missing or null alike giving {} (defect 11's fix)."""
    value = document.get(name)
    return {} if value is None else value


def expected_item(server: dict[str, Any], account_id: Any, now: str, ec2_details: Ec2Details) -> dict[str, Any]:
    """The inventory row of one DRS document (tagged `_queryRegion`), per the contract, with the approved fixes."""
    source_props = section(server, "sourceProperties")
    hints = section(source_props, "identificationHints")
    cloud_props = section(server, "sourceCloudProperties")
    replication = server.get("dataReplicationInfo", {})
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
        "replicationState": replication.get("dataReplicationState") or "",
        "lagDuration": replication.get("lagDuration") or "",
        "lastSnapshot": replication.get("lastSnapshotDateTime") or "",
        "lastSeen": server.get("lifeCycle", {}).get("lastSeenByServiceDateTime") or "",
        "lastUpdated": now,
        "cpuModel": (cpus[0].get("modelName") or "") if cpus else "",
        "cpuCores": sum(cpu.get("cores", 0) for cpu in cpus),
        "ramBytes": int(ram_bytes) if ram_bytes else 0,
        "totalStorageBytes": int(sum(disk.get("bytes", 0) for disk in disks)),
        "osName": source_props.get("os", {}).get("fullString") or "",
        "primaryIp": _primary_ip(nics),
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


def _primary_ip(nics: list[dict[str, Any]]) -> Any:
    """The first NIC's first IP; "" without a NIC or (defect 10's fix) with an empty `ips` list."""
    if not nics:
        return ""
    ips = nics[0].get("ips", [""])
    return "" if isinstance(ips, list) and not ips else ips[0]


def has_empty_first_nic_ips(server: dict[str, Any]) -> bool:
    """Whether a document's first NIC has an empty `ips` list: the legacy's item building raised on it (defect 10)."""
    nics = section(server, "sourceProperties").get("networkInterfaces")
    if not isinstance(nics, list) or not nics or not isinstance(nics[0], dict):
        return False
    ips = nics[0].get("ips")
    return isinstance(ips, list) and not ips


def instance_details(instance: dict[str, Any]) -> dict[str, Any]:
    """The legacy's EC2 details of one DescribeInstances instance (contract, step 5e)."""
    return {
        "vpcId": instance.get("VpcId", ""),
        "subnetId": instance.get("SubnetId", ""),
        "privateIp": instance.get("PrivateIpAddress", ""),
        "securityGroups": [group["GroupId"] for group in instance.get("SecurityGroups", [])],
        "instanceProfile": instance.get("IamInstanceProfile", {}).get("Arn", ""),
        "tags": {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])},
    }


def details_of_response(response: dict[str, Any]) -> Ec2Details:
    """`{InstanceId: details}` of one DescribeInstances response."""
    return {
        instance["InstanceId"]: instance_details(instance)
        for reservation in response.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    }


def wire_item(item: dict[str, Any]) -> dict[str, Any]:
    """A row in DynamoDB's wire form, as the Table resource serialises it."""
    serializer = TypeSerializer()
    return {name: serializer.serialize(value) for name, value in item.items()}
