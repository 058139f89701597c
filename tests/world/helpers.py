"""Shared helpers for the world's tests: scenario dicts, assumed-role sessions and listing helpers over real boto3."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

HUB = "999999999999"
PROD = "111111111111"
STAGING = "222222222222"
OTHER = "333333333333"
REGION = "us-east-1"

# One attempt, no retry: a fault shows up exactly once, as the caller would see it without botocore's retry.
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


def scenario(**fields: Any) -> dict[str, Any]:
    """A minimal valid scenario dict (name, hub account, seed) with `fields` on top."""
    return {"name": "world-test", "hub_account": HUB, "seed": 5, **fields}


def role_arn(account: str) -> str:
    """The orchestration role ARN in `account`."""
    return f"arn:aws:iam::{account}:role/DRSOrchestrationRole"


def assumed_session(account: str, region: str = REGION, **client_kwargs: Any) -> boto3.session.Session:
    """A boto3 session whose credentials come from AssumeRole into `account`, signed by the hub's credentials."""
    sts = boto3.client("sts", region_name=region, **client_kwargs)
    credentials = sts.assume_role(RoleArn=role_arn(account), RoleSessionName="world-test")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def pages_of(drs: Any, **kwargs: Any) -> list[list[dict[str, Any]]]:
    """Every DescribeSourceServers page the paginator walks, as lists of server documents."""
    return [page["items"] for page in drs.get_paginator("describe_source_servers").paginate(**kwargs)]


def server_ids(drs: Any, **kwargs: Any) -> list[str]:
    """The sourceServerIDs of a full listing, in listing order."""
    return [server["sourceServerID"] for page in pages_of(drs, **kwargs) for server in page]


def instances(ec2: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every EC2 instance DescribeInstances returns (all pages)."""
    found: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_instances").paginate(**kwargs):
        for reservation in page["Reservations"]:
            found.extend(reservation["Instances"])
    return found
