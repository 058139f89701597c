"""Identity and cross-account helpers: the hub's account id, assumed-role sessions, DRS/EC2 clients."""

import logging
from typing import Any

import boto3

logger = logging.getLogger(__name__)

CROSS_ACCOUNT_SESSION_NAME = "drs-orchestration-cross-account"


def get_current_account_id() -> str:
    """Return the account id of the Lambda's own credentials (STS GetCallerIdentity), or "unknown" on any error."""
    try:
        sts_client = boto3.client("sts")
        return str(sts_client.get_caller_identity()["Account"])
    except Exception as e:
        logger.warning("Could not determine current account id: %s", e)
        return "unknown"


def get_cross_account_session(role_arn: str, external_id: str | None = None) -> boto3.Session:
    """Assume `role_arn` (with `external_id` when given) and return a boto3 Session on the temporary credentials.

    Any failure is logged and re-raised so the caller decides whether to skip the account.
    """
    try:
        sts_client = boto3.client("sts")
        assume_kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": CROSS_ACCOUNT_SESSION_NAME}
        if external_id:
            assume_kwargs["ExternalId"] = external_id
        credentials = sts_client.assume_role(**assume_kwargs)["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    except Exception as e:
        logger.error("Failed to assume role %s: %s", role_arn, e)
        raise


def _create_client(service: str, region: str, account_context: dict[str, Any] | None) -> Any:
    """Create a `service` client in `region`, in the assumed account when `account_context` names a roleArn."""
    if account_context and account_context.get("roleArn"):
        session = get_cross_account_session(account_context["roleArn"], account_context.get("externalId"))
        return session.client(service, region_name=region)
    return boto3.client(service, region_name=region)


def create_drs_client(region: str, account_context: dict[str, Any] | None = None) -> Any:
    """Return a DRS client for `region`: the current account's, or an assumed role's if `account_context` has one."""
    return _create_client("drs", region, account_context)


def create_ec2_client(region: str, account_context: dict[str, Any] | None = None) -> Any:
    """Return an EC2 client for `region`: the current account's, or an assumed role's if `account_context` has one."""
    return _create_client("ec2", region, account_context)
