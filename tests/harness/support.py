"""Helpers for the harness tests: scenario dicts, recording a boto3 script in a world, replaying it with no world."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from harness.cassette import Cassette, Interaction
from harness.experiment import REPLAY_ENVIRONMENT
from harness.interception import intercept
from harness.lambda_env import lambda_environment
from harness.recorder import Recorder
from harness.replayer import Replayer
from harness.world.local import local_aws
from harness.world.scenario import parse_scenario

HUB = "999999999999"
PROD = "111111111111"
STAGING = "222222222222"
REGION = "us-east-1"
TARGET_TABLE = "target-accounts"
INVENTORY_TABLE = "source-server-inventory"

# One attempt, no retry: a fault shows up exactly once, fast.
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
# What the legacy uses: one retry, so a persistent error's message ends "(reached max retries: 1)".
LEGACY_RETRIES = Config(retries={"max_attempts": 1})


def scenario(**fields: Any) -> dict[str, Any]:
    """A minimal valid scenario dict (name, hub account, seed) with `fields` on top."""
    return {"name": "harness-test", "hub_account": HUB, "seed": 3, **fields}


def role_arn(account: str) -> str:
    """The orchestration role ARN in `account`."""
    return f"arn:aws:iam::{account}:role/DRSOrchestrationRole"


def assumed_session(account: str, region: str = REGION) -> boto3.session.Session:
    """A boto3 session signed with credentials from AssumeRole into `account` (made with the hub's credentials)."""
    sts = boto3.client("sts", region_name=region)
    credentials = sts.assume_role(RoleArn=role_arn(account), RoleSessionName="harness-test")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


@dataclass(frozen=True)
class Outcome:
    """What a script did: its value, or the class and text of the exception it raised."""

    value: Any = None
    error_type: type[BaseException] | None = None
    error_text: str | None = None


def run_capturing(script: Callable[[], Any]) -> Outcome:
    """Run `script`, capturing its return value or its exception (class and str)."""
    try:
        return Outcome(value=script())
    except Exception as error:
        return Outcome(error_type=type(error), error_text=str(error))


def record(scenario_dict: dict[str, Any], script: Callable[[], Any]) -> tuple[list[Interaction], Outcome]:
    """Run `script` on the scenario's local AWS with a recorder on; the interactions and what the script did."""
    recorder = Recorder()
    with local_aws(parse_scenario(scenario_dict, source="<harness test>")), intercept(recorder):
        outcome = run_capturing(script)
    return recorder.interactions, outcome


@contextmanager
def replaying(interactions: list[Interaction]) -> Iterator[Replayer]:
    """Answer boto3 calls from `interactions` for the block: replay credentials and region, no world."""
    replayer = Replayer(Cassette(header={}, interactions=list(interactions)))
    with lambda_environment({**REPLAY_ENVIRONMENT, "AWS_DEFAULT_REGION": REGION}), intercept(replayer):
        yield replayer


def replay(interactions: list[Interaction], script: Callable[[], Any]) -> tuple[Replayer, Outcome]:
    """Run `script` with every boto3 call answered from `interactions`; the replayer and what the script did."""
    with replaying(interactions) as replayer:
        outcome = run_capturing(script)
    return replayer, outcome
