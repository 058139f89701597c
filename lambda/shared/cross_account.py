"""Identity and cross-account helpers: the hub's account id, assumed-role sessions, DRS/EC2 clients."""

import logging
import threading
from typing import Any

import boto3

logger = logging.getLogger(__name__)

CROSS_ACCOUNT_SESSION_NAME = "drs-orchestration-cross-account"

# boto3's default session is not thread-safe for creating clients; the sync creates them from several threads.
_CLIENT_CREATION_LOCK = threading.Lock()


def default_client(service: str, **kwargs: Any) -> Any:
    """Return a new `service` client of boto3's default session, created under a lock so any thread may call it."""
    with _CLIENT_CREATION_LOCK:
        return boto3.client(service, **kwargs)


def get_current_account_id(sts_client: Any = None) -> str:
    """Return the account id of the Lambda's own credentials (STS GetCallerIdentity), or "unknown" on any error.

    Asks through `sts_client` when given (a caller making many calls reuses one), else through a new default client.
    """
    try:
        if sts_client is None:
            sts_client = default_client("sts")
        return str(sts_client.get_caller_identity()["Account"])
    except Exception as e:
        logger.warning("Could not determine current account id: %s", e)
        return "unknown"


def assume_role_credentials(
    role_arn: str,
    external_id: str | None = None,
    session_name: str = CROSS_ACCOUNT_SESSION_NAME,
    duration_seconds: int | None = None,
    *,
    always_send_external_id: bool = False,
    sts_client: Any = None,
) -> dict[str, str]:
    """Assume `role_arn` and return its temporary credentials {AccessKeyId, SecretAccessKey, SessionToken}.

    The AssumeRole call (through `sts_client`, else a new default STS client) carries RoleArn and RoleSessionName
    `session_name`, DurationSeconds only when `duration_seconds` is given, and ExternalId only when `external_id` is
    truthy, unless `always_send_external_id` asks for it to be sent as is (even None or empty, as some callers have
    always done). Any failure is logged and re-raised so the caller decides whether to skip the account.
    """
    try:
        if sts_client is None:
            sts_client = default_client("sts")
        assume_kwargs: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
        if external_id or always_send_external_id:
            assume_kwargs["ExternalId"] = external_id
        if duration_seconds is not None:
            assume_kwargs["DurationSeconds"] = duration_seconds
        credentials = sts_client.assume_role(**assume_kwargs)["Credentials"]
        return {key: credentials[key] for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    except Exception as e:
        logger.error("Failed to assume role %s: %s", role_arn, e)
        raise


def get_cross_account_session(
    role_arn: str,
    external_id: str | None = None,
    session_name: str = CROSS_ACCOUNT_SESSION_NAME,
    duration_seconds: int | None = None,
    *,
    always_send_external_id: bool = False,
) -> boto3.Session:
    """Assume `role_arn` with a default STS client and return a boto3 Session on the temporary credentials.

    The AssumeRole call is `assume_role_credentials`'s (same parameters); a failure is logged and re-raised.
    """
    credentials = assume_role_credentials(
        role_arn,
        external_id,
        session_name,
        duration_seconds,
        always_send_external_id=always_send_external_id,
    )
    with _CLIENT_CREATION_LOCK:
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


def session_credentials(session: boto3.Session) -> dict[str, str]:
    """Return a session's credentials as the STS-style dict {AccessKeyId, SecretAccessKey, SessionToken}."""
    frozen = session.get_credentials().get_frozen_credentials()
    return {"AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key, "SessionToken": frozen.token}


def _create_client(
    service: str,
    region: str,
    account_context: dict[str, Any] | None,
    credentials: dict[str, Any] | None = None,
    config: Any = None,
) -> Any:
    """Create a `service` client in `region` signed with `credentials`, an assumed role, or the current account.

    Truthy `credentials` (an STS-style dict) win; otherwise an `account_context` naming a roleArn is assumed;
    otherwise the default credentials are used. `config` (a botocore Config) applies in every case.
    """
    if credentials:
        return default_client(
            service,
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=config,
        )
    if account_context and account_context.get("roleArn"):
        session = get_cross_account_session(account_context["roleArn"], account_context.get("externalId"))
        with _CLIENT_CREATION_LOCK:
            return session.client(service, region_name=region, config=config)
    return default_client(service, region_name=region, config=config)


def create_drs_client(
    region: str,
    account_context: dict[str, Any] | None = None,
    *,
    credentials: dict[str, Any] | None = None,
    config: Any = None,
) -> Any:
    """Return a DRS client for `region` signed with `credentials`, an `account_context` role, or the own account."""
    return _create_client("drs", region, account_context, credentials, config)


def create_ec2_client(
    region: str,
    account_context: dict[str, Any] | None = None,
    *,
    credentials: dict[str, Any] | None = None,
    config: Any = None,
) -> Any:
    """Return an EC2 client for `region` signed with `credentials`, an `account_context` role, or the own account."""
    return _create_client("ec2", region, account_context, credentials, config)
