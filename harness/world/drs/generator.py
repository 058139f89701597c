"""Realistic DRS source-server documents, as DescribeSourceServers returns them, drawn only from a seeded rng.

Every field is a member botocore keeps for the drs `SourceServer` shape, so a parsed response equals the document.
Two kinds: EC2 instances replicated across regions (`generate_source_server`: identificationHints carry the
awsInstanceID, sourceCloudProperties the origin), and on-premises servers, VMware virtual machines or physical
machines (`generate_on_premises_server`: a vmWareUuid for the VMware ones, no awsInstanceID, no
sourceCloudProperties). Nothing in a document is secret: ids, names, addresses and sizes only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(2025, 1, 6, 8, 0, 0, tzinfo=UTC)

_OPERATING_SYSTEMS = [
    ("Amazon Linux release 2 (Karoo)", "linux"),
    ("Amazon Linux release 2023.6.20250115 (Amazon Linux)", "linux"),
    ("Red Hat Enterprise Linux release 8.9 (Ootpa)", "linux"),
    ("Ubuntu 22.04.4 LTS", "linux"),
    ("Microsoft Windows Server 2019 Datacenter", "windows"),
    ("Microsoft Windows Server 2022 Datacenter", "windows"),
]
_CPU_MODELS = [
    "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz",
    "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
    "AMD EPYC 7R32",
]
_INSTANCE_TYPES = ["t3.medium", "t3.large", "m5.large", "m5.xlarge", "c5.xlarge", "r5.large", "m6i.2xlarge"]
_ENVIRONMENTS = ["production", "staging", "development"]
_APPLICATIONS = ["billing", "catalog", "identity", "reporting", "search", "payments"]
_REPLICATION_STATES = ["CONTINUOUS"] * 8 + ["BACKLOG", "RESCAN"]
_DISK_SIZES_GIB = [8, 20, 30, 50, 100, 200, 500]

# On-premises servers: the operating systems and CPUs of a data centre, sites, roles and NIC vendors.
_ON_PREMISES_OPERATING_SYSTEMS = [
    ("Red Hat Enterprise Linux Server release 7.9 (Maipo)", "linux"),
    ("Red Hat Enterprise Linux release 8.9 (Ootpa)", "linux"),
    ("CentOS Linux release 7.9.2009 (Core)", "linux"),
    ("SUSE Linux Enterprise Server 15 SP4", "linux"),
    ("Ubuntu 20.04.6 LTS", "linux"),
    ("Microsoft Windows Server 2016 Standard", "windows"),
    ("Microsoft Windows Server 2019 Standard", "windows"),
]
_ON_PREMISES_CPU_MODELS = [
    "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz",
    "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz",
    "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
    "AMD EPYC 7302 16-Core Processor",
]
_SITES = {"dc1": 16, "dc2": 17, "colo": 18}  # site -> the second octet of its 10.x.0.0/16
_ROLES = ["app", "db", "web", "file", "erp", "mq"]
_VMWARE_SHARE = 0.8  # the rest are physical machines
_PHYSICAL_NIC_VENDORS = ["00:1b:21", "3c:fd:fe", "98:03:9b"]  # Intel and Mellanox OUIs
# Kept light, so a 50,000-server estate records into a golden of about 10 MB: most servers have one disk, one NIC and
# one CPU entry (a VM's vCPUs as one socket); some have two or three disks, a few a NIC on the backup network.
_ON_PREMISES_DISK_COUNT_WEIGHTS = (75, 20, 5)
_ON_PREMISES_SECOND_NIC_SHARE = 0.1
_ON_PREMISES_AGENT_VERSIONS = ["4.5.212", "4.6.318", "4.7.405"]  # an estate upgrades its agents in rounds
_WAVES = 30  # migration waves over the 150 days after _EPOCH
_SEEN_AT = _EPOCH + timedelta(days=160, hours=11, minutes=55)
_GIB = 1024**3


@dataclass(frozen=True)
class InstanceFacts:
    """The EC2 instance a source server replicates, as the origin account's EC2 describes it."""

    instance_id: str
    hostname: str
    private_ip: str
    mac_address: str


def _hex(rng: random.Random, length: int) -> str:
    """`length` lowercase hex digits from `rng`."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, the form the DRS model's datetime pattern accepts."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _duration(seconds: int) -> str:
    """An ISO-8601 duration such as PT0S, PT42S or PT3H12M5S."""
    if seconds == 0:
        return "PT0S"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return f"PT{parts}"


def _mac(rng: random.Random) -> str:
    """A locally administered unicast MAC address like the ones EC2 gives ENIs."""
    return ":".join(["0e", *(_hex(rng, 2) for _ in range(5))])


def generate_source_server(
    rng: random.Random,
    *,
    drs_account_id: str,
    region: str,
    staging_account_id: str,
    origin_account_id: str,
    origin_region: str,
    instance: InstanceFacts,
) -> dict[str, Any]:
    """A full source-server document for `instance`, replicated into `region` of `drs_account_id`."""
    server_id = f"s-{_hex(rng, 17)}"
    arn = f"arn:aws:drs:{region}:{drs_account_id}:source-server/{server_id}"
    os_name, family = rng.choice(_OPERATING_SYSTEMS)
    added, first_byte, last_seen, properties_updated = _moments(rng)

    disk_count = rng.randint(1, 3)
    if family == "windows":
        device_names = [f"\\\\.\\PHYSICALDRIVE{index}" for index in range(disk_count)]
    else:
        device_names = ["/dev/xvda", "/dev/xvdb", "/dev/xvdc"][:disk_count]
    sizes = [rng.choice(_DISK_SIZES_GIB) * _GIB for _ in device_names]
    state, lag_seconds, replicated_disks = _replication(rng, device_names, sizes)

    nics = [{"ips": [instance.private_ip], "isPrimary": True, "macAddress": instance.mac_address}]
    if rng.random() < 0.25:
        octets = instance.private_ip.split(".")
        secondary_ip = ".".join([*octets[:2], str(rng.randrange(0, 256)), str(rng.randrange(4, 255))])
        nics.append({"ips": [secondary_ip], "isPrimary": False, "macAddress": _mac(rng)})

    fqdn_suffix = "ec2.internal" if origin_region == "us-east-1" else f"{origin_region}.compute.internal"
    staging_area = _staging_area(rng, region, drs_account_id, staging_account_id)

    return {
        "sourceServerID": server_id,
        "arn": arn,
        "tags": _tags(rng, instance.hostname),
        "lastLaunchResult": "NOT_STARTED",
        "dataReplicationInfo": _data_replication_info(rng, region, state, lag_seconds, last_seen, replicated_disks),
        "lifeCycle": _life_cycle(added, first_byte, last_seen),
        "sourceProperties": {
            "lastUpdatedDateTime": _timestamp(properties_updated),
            "recommendedInstanceType": rng.choice(_INSTANCE_TYPES),
            "identificationHints": {
                "fqdn": f"{instance.hostname}.{fqdn_suffix}",
                "hostname": instance.hostname,
                "awsInstanceID": instance.instance_id,
            },
            "networkInterfaces": nics,
            "disks": [{"deviceName": name, "bytes": size} for name, size in zip(device_names, sizes, strict=True)],
            "cpus": [
                {"cores": rng.choice([1, 2, 4, 8]), "modelName": rng.choice(_CPU_MODELS)}
                for _ in range(rng.randint(1, 2))
            ],
            "ramBytes": rng.choice([2, 4, 8, 16, 32, 64]) * _GIB,
            "os": {"fullString": os_name},
            "supportsNitroInstances": True,
            "architecture": "x86_64",
        },
        "stagingArea": staging_area,
        "sourceCloudProperties": {
            "originAccountID": origin_account_id,
            "originRegion": origin_region,
            "originAvailabilityZone": f"{origin_region}{rng.choice('abc')}",
        },
        "replicationDirection": "FAILOVER",
        "agentVersion": f"4.{rng.randint(3, 7)}.{rng.randint(100, 999)}",
    }


def generate_on_premises_server(
    rng: random.Random, *, drs_account_id: str, region: str, staging_account_id: str, number: int
) -> dict[str, Any]:
    """A full source-server document for the `number`-th on-premises server replicated into `region`.

    A VMware virtual machine (most of them) or a physical machine in one of the data centre's sites: hostname,
    fqdn and, for VMware, the VM's vmWareUuid as identificationHints; no awsInstanceID and no
    sourceCloudProperties, as DRS reports servers that do not run on EC2; NICs with a site address and the MAC
    of the VMware or physical adapter. An etaDateTime only while replication catches up, the instance type DRS
    recommends sized from the server's cores and memory, and an agent version from the estate's few.
    """
    server_id = f"s-{_hex(rng, 17)}"
    arn = f"arn:aws:drs:{region}:{drs_account_id}:source-server/{server_id}"
    os_name, family = rng.choice(_ON_PREMISES_OPERATING_SYSTEMS)
    vmware = rng.random() < _VMWARE_SHARE
    site = rng.choice(list(_SITES))
    hostname = f"{site}-{rng.choice(_ROLES)}-{number:05d}"
    added, first_byte, last_seen, properties_updated = _on_premises_moments(rng)

    disk_count = rng.choices((1, 2, 3), weights=_ON_PREMISES_DISK_COUNT_WEIGHTS)[0]
    if family == "windows":
        device_names = [f"\\\\.\\PHYSICALDRIVE{index}" for index in range(disk_count)]
    else:
        device_names = ["/dev/sda", "/dev/sdb", "/dev/sdc"][:disk_count]
    sizes = [rng.choice(_DISK_SIZES_GIB) * _GIB for _ in device_names]
    state, lag_seconds, replicated_disks = _replication(rng, device_names, sizes)

    subnet = f"10.{_SITES[site]}.{rng.randrange(0, 256)}"
    nics = [{"ips": [f"{subnet}.{rng.randrange(4, 255)}"], "isPrimary": True, "macAddress": _nic_mac(rng, vmware)}]
    if rng.random() < _ON_PREMISES_SECOND_NIC_SHARE:
        backup_ip = f"10.{_SITES[site] + 100}.{rng.randrange(0, 256)}.{rng.randrange(4, 255)}"
        nics.append({"ips": [backup_ip], "isPrimary": False, "macAddress": _nic_mac(rng, vmware)})
    hints = {"fqdn": f"{hostname}.{site}.corp.example.com", "hostname": hostname}
    if vmware:
        hints["vmWareUuid"] = f"42{_hex(rng, 6)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"
    staging_area = _staging_area(rng, region, drs_account_id, staging_account_id)
    cores = rng.choice([2, 4, 8, 16])
    ram_gib = cores * rng.choice([2, 4, 8])

    return {
        "sourceServerID": server_id,
        "arn": arn,
        "tags": _tags(rng, hostname),
        "lastLaunchResult": "NOT_STARTED",
        "dataReplicationInfo": _data_replication_info(
            rng, region, state, lag_seconds, last_seen, replicated_disks, eta_when_continuous=False
        ),
        "lifeCycle": _life_cycle(added, first_byte, last_seen),
        "sourceProperties": {
            "lastUpdatedDateTime": _timestamp(properties_updated),
            "recommendedInstanceType": _right_sized(cores, ram_gib),
            "identificationHints": hints,
            "networkInterfaces": nics,
            "disks": [{"deviceName": name, "bytes": size} for name, size in zip(device_names, sizes, strict=True)],
            "cpus": [{"cores": cores, "modelName": rng.choice(_ON_PREMISES_CPU_MODELS)}],
            "ramBytes": ram_gib * _GIB,
            "os": {"fullString": os_name},
            "supportsNitroInstances": True,
            "architecture": "x86_64",
        },
        "stagingArea": staging_area,
        "replicationDirection": "FAILOVER",
        "agentVersion": rng.choice(_ON_PREMISES_AGENT_VERSIONS),
    }


def _moments(rng: random.Random) -> tuple[datetime, datetime, datetime, datetime]:
    """When the server was added, sent its first byte, was last seen, and last reported its properties."""
    added = _EPOCH + timedelta(seconds=rng.randrange(0, 150 * 86400), milliseconds=rng.randrange(1000))
    first_byte = added + timedelta(seconds=rng.randrange(60, 900), milliseconds=rng.randrange(1000))
    last_seen = _EPOCH + timedelta(days=160, seconds=rng.randrange(0, 86400), milliseconds=rng.randrange(1000))
    properties_updated = last_seen - timedelta(seconds=rng.randrange(60, 3600))
    return added, first_byte, last_seen, properties_updated


def _right_sized(cores: int, ram_gib: int) -> str:
    """The instance type DRS recommends for a server: the family by memory per core, the size by cores."""
    family = {2: "c5", 4: "m5", 8: "r5"}[ram_gib // cores]
    size = {2: "large", 4: "xlarge", 8: "2xlarge", 16: "4xlarge"}[cores]
    return f"{family}.{size}"


def _on_premises_moments(rng: random.Random) -> tuple[datetime, datetime, datetime, datetime]:
    """`_moments` for an on-premises server: added in a migration wave, last seen by the service minutes ago.

    Whole seconds, like the agent's reports; servers join DRS in waves (one of a few dozen weekdays, office hours),
    and a replicating agent is seen continuously, so every server was last seen within minutes of `_SEEN_AT`.
    """
    wave = rng.randrange(0, _WAVES) * (150 // _WAVES)
    added = _EPOCH + timedelta(days=wave, seconds=rng.randrange(3600, 9 * 3600))  # _EPOCH is 08:00
    first_byte = added + timedelta(seconds=rng.randrange(60, 900))
    last_seen = _SEEN_AT - timedelta(seconds=rng.randrange(0, 300))
    properties_updated = last_seen - timedelta(seconds=rng.randrange(60, 3600))
    return added, first_byte, last_seen, properties_updated


def _replication(
    rng: random.Random, device_names: list[str], sizes: list[int]
) -> tuple[str, int, list[dict[str, Any]]]:
    """The replication state, its lag in seconds and the per-disk replication figures (a backlog unless CONTINUOUS)."""
    state = rng.choice(_REPLICATION_STATES)
    lag_seconds = 0 if state == "CONTINUOUS" else rng.randrange(30, 7200)
    replicated_disks = []
    for name, total in zip(device_names, sizes, strict=True):
        backlog = 0 if state == "CONTINUOUS" else rng.randrange(0, total // 10)
        replicated_disks.append(
            {
                "deviceName": name,
                "totalStorageBytes": total,
                "replicatedStorageBytes": total - backlog,
                "rescannedStorageBytes": total if state == "RESCAN" else 0,
                "backloggedStorageBytes": backlog,
            }
        )
    return state, lag_seconds, replicated_disks


def _staging_area(rng: random.Random, region: str, drs_account_id: str, staging_account_id: str) -> dict[str, Any]:
    """The staging area: NOT_EXTENDED in the DRS account itself, EXTENDED (with the staging server's ARN) otherwise."""
    if staging_account_id == drs_account_id:
        return {"status": "NOT_EXTENDED", "stagingAccountID": staging_account_id}
    return {
        "status": "EXTENDED",
        "stagingAccountID": staging_account_id,
        "stagingSourceServerArn": f"arn:aws:drs:{region}:{staging_account_id}:source-server/s-{_hex(rng, 17)}",
    }


def _tags(rng: random.Random, hostname: str) -> dict[str, str]:
    """The source server's DRS tags: its name, environment and application."""
    return {"Name": hostname, "Environment": rng.choice(_ENVIRONMENTS), "Application": rng.choice(_APPLICATIONS)}


def _data_replication_info(
    rng: random.Random,
    region: str,
    state: str,
    lag_seconds: int,
    last_seen: datetime,
    replicated_disks: list[dict[str, Any]],
    *,
    eta_when_continuous: bool = True,
) -> dict[str, Any]:
    """The dataReplicationInfo block, staged in one of the region's availability zones.

    Without `eta_when_continuous` a server in CONTINUOUS replication has no etaDateTime (nothing left to catch up).
    """
    info: dict[str, Any] = {"lagDuration": _duration(lag_seconds)}
    if eta_when_continuous or state != "CONTINUOUS":
        info["etaDateTime"] = _timestamp(last_seen + timedelta(seconds=lag_seconds))
    info["replicatedDisks"] = replicated_disks
    info["dataReplicationState"] = state
    info["stagingAvailabilityZone"] = f"{region}{rng.choice('abc')}"
    return info


def _life_cycle(added: datetime, first_byte: datetime, last_seen: datetime) -> dict[str, str]:
    """The lifeCycle block: added, first byte, time replicating and last seen."""
    return {
        "addedToServiceDateTime": _timestamp(added),
        "firstByteDateTime": _timestamp(first_byte),
        "elapsedReplicationDuration": _duration(int((last_seen - first_byte).total_seconds())),
        "lastSeenByServiceDateTime": _timestamp(last_seen),
    }


def _nic_mac(rng: random.Random, vmware: bool) -> str:
    """A VMware virtual NIC's MAC (00:50:56, statically assigned range) or a physical adapter's (vendor OUI)."""
    if vmware:
        return f"00:50:56:{rng.randrange(0, 0x40):02x}:{_hex(rng, 2)}:{_hex(rng, 2)}"
    return f"{rng.choice(_PHYSICAL_NIC_VENDORS)}:{_hex(rng, 2)}:{_hex(rng, 2)}:{_hex(rng, 2)}"
