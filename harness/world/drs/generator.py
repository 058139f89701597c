"""Realistic DRS source-server documents, as DescribeSourceServers returns them, drawn only from a seeded rng.

Every field is a member botocore keeps for the drs `SourceServer` shape, so a parsed response equals the document.
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

    added = _EPOCH + timedelta(seconds=rng.randrange(0, 150 * 86400), milliseconds=rng.randrange(1000))
    first_byte = added + timedelta(seconds=rng.randrange(60, 900), milliseconds=rng.randrange(1000))
    last_seen = _EPOCH + timedelta(days=160, seconds=rng.randrange(0, 86400), milliseconds=rng.randrange(1000))
    properties_updated = last_seen - timedelta(seconds=rng.randrange(60, 3600))

    disk_count = rng.randint(1, 3)
    if family == "windows":
        device_names = [f"\\\\.\\PHYSICALDRIVE{index}" for index in range(disk_count)]
    else:
        device_names = ["/dev/xvda", "/dev/xvdb", "/dev/xvdc"][:disk_count]
    sizes = [rng.choice([8, 20, 30, 50, 100, 200, 500]) * _GIB for _ in device_names]
    disks: list[dict[str, Any]] = [
        {"deviceName": name, "bytes": size} for name, size in zip(device_names, sizes, strict=True)
    ]

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

    nics = [{"ips": [instance.private_ip], "isPrimary": True, "macAddress": instance.mac_address}]
    if rng.random() < 0.25:
        octets = instance.private_ip.split(".")
        secondary_ip = ".".join([*octets[:2], str(rng.randrange(0, 256)), str(rng.randrange(4, 255))])
        nics.append({"ips": [secondary_ip], "isPrimary": False, "macAddress": _mac(rng)})

    fqdn_suffix = "ec2.internal" if origin_region == "us-east-1" else f"{origin_region}.compute.internal"
    staging_area: dict[str, Any]
    if staging_account_id == drs_account_id:
        staging_area = {"status": "NOT_EXTENDED", "stagingAccountID": staging_account_id}
    else:
        staging_area = {
            "status": "EXTENDED",
            "stagingAccountID": staging_account_id,
            "stagingSourceServerArn": f"arn:aws:drs:{region}:{staging_account_id}:source-server/s-{_hex(rng, 17)}",
        }

    return {
        "sourceServerID": server_id,
        "arn": arn,
        "tags": {
            "Name": instance.hostname,
            "Environment": rng.choice(_ENVIRONMENTS),
            "Application": rng.choice(_APPLICATIONS),
        },
        "lastLaunchResult": "NOT_STARTED",
        "dataReplicationInfo": {
            "lagDuration": _duration(lag_seconds),
            "etaDateTime": _timestamp(last_seen + timedelta(seconds=lag_seconds)),
            "replicatedDisks": replicated_disks,
            "dataReplicationState": state,
            "stagingAvailabilityZone": f"{region}{rng.choice('abc')}",
        },
        "lifeCycle": {
            "addedToServiceDateTime": _timestamp(added),
            "firstByteDateTime": _timestamp(first_byte),
            "elapsedReplicationDuration": _duration(int((last_seen - first_byte).total_seconds())),
            "lastSeenByServiceDateTime": _timestamp(last_seen),
        },
        "sourceProperties": {
            "lastUpdatedDateTime": _timestamp(properties_updated),
            "recommendedInstanceType": rng.choice(_INSTANCE_TYPES),
            "identificationHints": {
                "fqdn": f"{instance.hostname}.{fqdn_suffix}",
                "hostname": instance.hostname,
                "awsInstanceID": instance.instance_id,
            },
            "networkInterfaces": nics,
            "disks": disks,
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
