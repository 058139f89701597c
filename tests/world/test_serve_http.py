"""`python -m harness world serve`: the world over real HTTP on loopback, reached by plain boto3 via endpoint URL."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from tests.world.helpers import HUB, NO_RETRY, OTHER, PROD, REGION, STAGING, instances, pages_of, role_arn

REPO = Path(__file__).resolve().parents[2]
ENDPOINT_LINE = re.compile(r"endpoint=http://127\.0\.0\.1:(\d+)")
DUMMY = {"aws_access_key_id": "dummy-access", "aws_secret_access_key": "dummy-secret", "region_name": REGION}

SERVED = {
    "name": "served",
    "hub_account": HUB,
    "seed": 9,
    "accounts": {
        PROD: {
            "drs": {
                REGION: {"servers": 5, "page_size": 2},
                "eu-west-1": {"servers": 2, "origin": {"account": STAGING, "region": "us-west-2"}},
            }
        },
        STAGING: {
            "drs": {
                REGION: {
                    "servers": 4,
                    "page_size": 2,
                    "error": {"code": "ThrottlingException", "message": "Rate exceeded for staging", "on_page": 2},
                }
            }
        },
        OTHER: {
            "drs": {
                REGION: {
                    "servers": 1,
                    "error": {"code": "AccessDeniedException", "message": "DRS is denied by an SCP", "on_page": 1},
                }
            }
        },
    },
    "faults": [{"service": "dynamodb", "operation": "DescribeLimits", "connection": True}],
}


@dataclass
class Served:
    """A running `world serve` process and the endpoint it printed."""

    process: subprocess.Popen
    endpoint: str
    port: int
    log: Path

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, float]:
        """Send `signum` and wait; return (exit code, seconds it took). Kills the process if it hangs."""
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        return code, time.monotonic() - started


def write_scenario(directory: Path, spec: dict) -> Path:
    """Write `spec` as `<name>.yaml` in `directory` (the name must match the file's stem)."""
    path = directory / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def start_serving(path: Path, log: Path) -> Served:
    """Start `world serve --port 0` for the scenario at `path` and read its endpoint line."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "world", "serve", "--scenario", str(path), "--port", "0"],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline().rstrip("\n") if ready else ""
    match = ENDPOINT_LINE.fullmatch(line)
    if match is None:
        process.kill()
        process.wait()
        pytest.fail(f"world serve printed {line!r} instead of its endpoint; stderr: {log.read_text()}")
    return Served(process, line.removeprefix("endpoint="), int(match.group(1)), log)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module's read-mostly tests."""
    directory = tmp_path_factory.mktemp("serve")
    server = start_serving(write_scenario(directory, SERVED), directory / "stderr.log")
    yield server
    code, _ = server.stop()
    assert code == 0


def hub_session() -> boto3.session.Session:
    """A plain boto3 session with dummy credentials (the hub's, to the world)."""
    return boto3.session.Session(**DUMMY)


def assumed(served: Served, account: str) -> boto3.session.Session:
    """A session with credentials from AssumeRole into `account`, over HTTP."""
    sts = hub_session().client("sts", endpoint_url=served.endpoint)
    credentials = sts.assume_role(RoleArn=role_arn(account), RoleSessionName="over-http")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def test_hub_identity_through_aws_endpoint_url(served, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", served.endpoint)
    assert hub_session().client("sts").get_caller_identity()["Account"] == HUB


def test_assumed_identities(served):
    for account in (PROD, STAGING, OTHER):
        sts = assumed(served, account).client("sts", endpoint_url=served.endpoint)
        assert sts.get_caller_identity()["Account"] == account


def test_page_counts_follow_the_page_size(served):
    drs = assumed(served, PROD).client("drs", endpoint_url=served.endpoint)
    assert [len(page) for page in pages_of(drs)] == [2, 2, 1]


def test_each_account_sees_only_its_own_servers(served):
    prod = assumed(served, PROD).client("drs", endpoint_url=served.endpoint)
    staging = assumed(served, STAGING).client("drs", endpoint_url=served.endpoint)
    prod_arns = {server["arn"] for page in pages_of(prod) for server in page}
    staging_first = staging.describe_source_servers()["items"]
    assert {arn.split(":")[4] for arn in prod_arns} == {PROD}
    assert {server["arn"].split(":")[4] for server in staging_first} == {STAGING}
    assert hub_session().client("drs", endpoint_url=served.endpoint).describe_source_servers()["items"] == []


def test_cross_origin_instances_live_in_the_origin_account(served):
    drs = assumed(served, PROD).client("drs", region_name="eu-west-1", endpoint_url=served.endpoint)
    servers = drs.describe_source_servers()["items"]
    wanted = sorted(server["sourceProperties"]["identificationHints"]["awsInstanceID"] for server in servers)
    origin = assumed(served, STAGING).client("ec2", region_name="us-west-2", endpoint_url=served.endpoint)
    assert sorted(item["InstanceId"] for item in instances(origin)) == wanted
    own = assumed(served, PROD).client("ec2", region_name="us-west-2", endpoint_url=served.endpoint)
    assert instances(own) == []


def test_throttling_on_page_two(served):
    drs = assumed(served, STAGING).client("drs", endpoint_url=served.endpoint, config=NO_RETRY)
    first = drs.describe_source_servers()
    assert len(first["items"]) == 2
    with pytest.raises(drs.exceptions.ThrottlingException) as raised:
        drs.describe_source_servers(nextToken=first["nextToken"])
    assert raised.value.response["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded for staging"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_access_denied_on_page_one(served):
    drs = assumed(served, OTHER).client("drs", endpoint_url=served.endpoint, config=NO_RETRY)
    with pytest.raises(drs.exceptions.AccessDeniedException) as raised:
        drs.describe_source_servers()
    assert raised.value.response["Error"] == {"Code": "AccessDeniedException", "Message": "DRS is denied by an SCP"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_connection_fault_reaches_boto3_as_a_connection_error(served):
    dynamodb = hub_session().client("dynamodb", endpoint_url=served.endpoint, config=NO_RETRY)
    with pytest.raises((EndpointConnectionError, ConnectionClosedError)):  # the socket closes with no response
        dynamodb.describe_limits()
    # The server survives the dropped connection, and drops it quietly (no traceback on stderr).
    assert dynamodb.list_tables()["TableNames"]
    time.sleep(0.2)
    assert "Traceback" not in served.log.read_text()


def _listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp{,6} writes them) of sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                address, port_hex = fields[1].rsplit(":", 1)
                if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                    found.append(address)
    return found


def _non_loopback_address() -> str | None:
    """This machine's outward IPv4 address, if it has one (a UDP connect sends nothing)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_listens_on_loopback_only(served):
    assert served.endpoint.startswith("http://127.0.0.1:")
    if os.path.exists("/proc/net/tcp"):
        assert _listening_addresses(served.port) == ["0100007F"]  # 127.0.0.1, and nothing else
    outward = _non_loopback_address()
    if outward is not None:
        with pytest.raises(OSError):
            socket.create_connection((outward, served.port), timeout=2).close()


def test_sigterm_stops_the_server_with_exit_zero(tmp_path):
    spec = {"name": "tiny", "hub_account": HUB, "accounts": {PROD: {"drs": {REGION: {"servers": 1}}}}}
    server = start_serving(write_scenario(tmp_path, spec), tmp_path / "stderr.log")
    try:
        sts = hub_session().client("sts", endpoint_url=server.endpoint)
        assert sts.get_caller_identity()["Account"] == HUB
    finally:
        code, _ = server.stop(signal.SIGTERM, timeout=60)  # stop() kills and raises if the server hangs
    assert code == 0
    assert server.process.stdout is not None
    assert server.process.stdout.read() == ""  # nothing after the endpoint line
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_bad_scenario_exits_2_naming_the_field(tmp_path):
    path = write_scenario(tmp_path, {"name": "bad", "hub_account": "not-an-account"})
    finished = subprocess.run(
        [sys.executable, "-m", "harness", "world", "serve", "--scenario", str(path), "--port", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert finished.stdout == ""
    assert "hub_account" in finished.stderr
