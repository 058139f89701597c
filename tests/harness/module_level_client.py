"""A module that builds its boto3 client at import time, as Lambda modules do (imported by the recorder tests)."""

from typing import Any

import boto3

STS = boto3.client("sts", region_name="us-east-1")


def whoami() -> dict[str, Any]:
    """GetCallerIdentity through the module-level client."""
    return STS.get_caller_identity()
