"""The DRS emulator: models (filters, paging, tokens), generator documents and the wire protocol via real botocore."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from harness.world.drs.generator import InstanceFacts, generate_source_server
from harness.world.drs.models import DrsBackend, DrsBackends
from harness.world.drs.responses import dispatch
from harness.world.errors import AwsError, error_response

ACCOUNT = "111111111111"
STAGING = "222222222222"
REGION = "us-east-1"


def make_server(rng: random.Random, index: int, *, staging: str = ACCOUNT) -> dict[str, Any]:
    """One generated server for instance number `index`."""
    instance = InstanceFacts(
        instance_id=f"i-{index:017x}",
        hostname=f"ip-10-0-{index // 256}-{index % 256}",
        private_ip=f"10.0.{index // 256}.{index % 256}",
        mac_address=f"0e:00:00:00:{index // 256:02x}:{index % 256:02x}",
    )
    return generate_source_server(
        rng,
        drs_account_id=ACCOUNT,
        region=REGION,
        staging_account_id=staging,
        origin_account_id=ACCOUNT,
        origin_region=REGION,
        instance=instance,
    )


def fleet(count: int, seed: int = 1, **kwargs: Any) -> list[dict[str, Any]]:
    """`count` generated servers from one seeded rng."""
    rng = random.Random(seed)
    return [make_server(rng, index, **kwargs) for index in range(count)]


def filled_backend(servers: list[dict[str, Any]], page_size: int = 100) -> DrsBackend:
    """A backend holding `servers` with the given service page size."""
    backend = DrsBackend(ACCOUNT, REGION, page_size=page_size)
    for server in servers:
        backend.add_server(server)
    return backend


def all_pages(
    backend: DrsBackend, filters: dict[str, Any] | None = None, max_results: int | None = None
) -> list[list[dict[str, Any]]]:
    """Every page of a describe, following tokens."""
    pages, token = [], None
    while True:
        items, token = backend.describe_source_servers(filters, max_results, token)
        pages.append(items)
        if token is None:
            return pages


# ---- models: pagination ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "page_size", "max_results", "expected_pages"),
    [
        (0, 100, None, [0]),
        (5, 2, None, [2, 2, 1]),
        (4, 2, None, [2, 2]),
        (250, 100, None, [100, 100, 50]),
        (250, 100, 1000, [100, 100, 50]),
        (10, 100, 3, [3, 3, 3, 1]),
        (10, 4, 3, [3, 3, 3, 1]),
        (10, 3, 5, [3, 3, 3, 1]),
    ],
)
def test_page_lengths(count, page_size, max_results, expected_pages):
    servers = fleet(count)
    pages = all_pages(filled_backend(servers, page_size), max_results=max_results)
    assert [len(page) for page in pages] == expected_pages
    assert [item for page in pages for item in page] == servers


def test_page_number_follows_tokens():
    backend = filled_backend(fleet(7), page_size=2)
    assert backend.page_number(None) == 1
    token, numbers = None, []
    while True:
        numbers.append(backend.page_number(token))
        _, token = backend.describe_source_servers(None, None, token)
        if token is None:
            break
    assert numbers == [1, 2, 3, 4]


@pytest.mark.parametrize("max_results", [0, -1, 1001])
def test_max_results_out_of_range(max_results):
    backend = filled_backend(fleet(2))
    with pytest.raises(AwsError) as info:
        backend.describe_source_servers(None, max_results, None)
    assert (info.value.code, info.value.status) == ("ValidationException", 400)


@pytest.mark.parametrize("token", ["not-a-token!!", "e30", "eyJvIjotMSwicCI6MiwiZiI6IngifQ", "bnVsbA"])
def test_bad_token(token):
    backend = filled_backend(fleet(3), page_size=1)
    with pytest.raises(AwsError) as info:
        backend.describe_source_servers(None, None, token)
    assert info.value.code == "ValidationException"
    with pytest.raises(AwsError):
        backend.page_number(token)


def test_token_reused_with_other_filters():
    servers = fleet(4, staging=STAGING)
    backend = filled_backend(servers, page_size=1)
    _, token = backend.describe_source_servers({"stagingAccountIDs": [STAGING]}, None, None)
    assert token is not None
    items, _ = backend.describe_source_servers({"stagingAccountIDs": [STAGING]}, None, token)
    assert items == [servers[1]]
    with pytest.raises(AwsError) as info:
        backend.describe_source_servers(None, None, token)
    assert info.value.code == "ValidationException"
    # Equivalent filters (empty lists mean "all") share tokens.
    _, plain = backend.describe_source_servers(None, None, None)
    assert backend.describe_source_servers({"sourceServerIDs": []}, None, plain)[0] == [servers[1]]


def test_returns_deep_copies():
    servers = fleet(1)
    backend = filled_backend(servers)
    servers[0]["arn"] = "changed"
    items, _ = backend.describe_source_servers(None, None, None)
    assert items[0]["arn"] != "changed"
    items[0]["sourceProperties"]["identificationHints"]["hostname"] = "changed"
    again, _ = backend.describe_source_servers(None, None, None)
    assert again[0]["sourceProperties"]["identificationHints"]["hostname"] != "changed"


# ---- models: filters -------------------------------------------------------------------------------------------


def test_filter_source_server_ids():
    servers = fleet(5)
    backend = filled_backend(servers)
    wanted = [servers[3]["sourceServerID"], servers[1]["sourceServerID"]]
    items, token = backend.describe_source_servers({"sourceServerIDs": wanted}, None, None)
    assert items == [servers[1], servers[3]]
    assert token is None
    assert backend.describe_source_servers({"sourceServerIDs": []}, None, None)[0] == servers


def test_filter_staging_account_ids():
    own = fleet(3, seed=1)
    extended = fleet(2, seed=2, staging=STAGING)
    backend = filled_backend(own + extended)
    assert backend.describe_source_servers({"stagingAccountIDs": [STAGING]}, None, None)[0] == extended
    assert backend.describe_source_servers({"stagingAccountIDs": [ACCOUNT]}, None, None)[0] == own
    assert backend.describe_source_servers({"stagingAccountIDs": ["333333333333"]}, None, None)[0] == []


def test_filter_hardware_id_matches_instance_id_vmware_uuid_and_mac():
    servers = fleet(3)
    servers[2]["sourceProperties"]["identificationHints"]["vmWareUuid"] = "4203a5c1-1111-2222-3333-444455556666"
    backend = filled_backend(servers)
    by_instance = servers[0]["sourceProperties"]["identificationHints"]["awsInstanceID"]
    by_mac = servers[1]["sourceProperties"]["networkInterfaces"][0]["macAddress"]
    assert backend.describe_source_servers({"hardwareId": by_instance}, None, None)[0] == [servers[0]]
    assert backend.describe_source_servers({"hardwareId": by_mac}, None, None)[0] == [servers[1]]
    vmware = {"hardwareId": "4203a5c1-1111-2222-3333-444455556666"}
    assert backend.describe_source_servers(vmware, None, None)[0] == [servers[2]]
    assert backend.describe_source_servers({"hardwareId": "i-0000000000000dead"}, None, None)[0] == []


def test_filters_combine():
    servers = fleet(2, seed=1) + fleet(2, seed=2, staging=STAGING)
    backend = filled_backend(servers)
    filters = {"sourceServerIDs": [servers[0]["sourceServerID"], servers[3]["sourceServerID"]]}
    filters["stagingAccountIDs"] = [STAGING]
    assert backend.describe_source_servers(filters, None, None)[0] == [servers[3]]


MALFORMED: list[Any] = [
    {},
    {"sourceServerID": None, "stagingArea": None, "sourceProperties": None},
    {"arn": "arn:aws:drs:us-east-1:111111111111:source-server/s-00000000000000bad", "sourceProperties": {}},
    {"sourceProperties": {"identificationHints": None, "networkInterfaces": None}},
    {"sourceProperties": {"identificationHints": "junk", "networkInterfaces": [None, {"macAddress": None}, 3]}},
    {"stagingArea": {"stagingAccountID": None}, "sourceCloudProperties": None, "extra": [1, {"x": None}]},
]


def test_malformed_documents_stored_and_returned_verbatim():
    backend = filled_backend(MALFORMED, page_size=4)
    assert [item for page in all_pages(backend) for item in page] == MALFORMED
    for filters in (
        {"sourceServerIDs": ["s-00000000000000bad"]},
        {"stagingAccountIDs": [ACCOUNT]},
        {"hardwareId": "i-0000000000000dead"},
    ):
        assert backend.describe_source_servers(filters, None, None)[0] == []


def test_backends_create_once_and_reset():
    backends = DrsBackends()
    first = backends.backend(ACCOUNT, REGION)
    assert backends.backend(ACCOUNT, REGION) is first
    assert backends.backend(ACCOUNT, "eu-west-1") is not first
    backends.reset()
    assert backends.backend(ACCOUNT, REGION) is not first


# ---- generator -------------------------------------------------------------------------------------------------


def test_generator_is_deterministic():
    assert json.dumps(fleet(20, seed=7)) == json.dumps(fleet(20, seed=7))
    assert fleet(20, seed=7) != fleet(20, seed=8)


def test_generated_document_shape():
    doc = fleet(1, staging=STAGING)[0]
    assert doc["sourceServerID"].startswith("s-") and len(doc["sourceServerID"]) == 19
    assert doc["arn"] == f"arn:aws:drs:{REGION}:{ACCOUNT}:source-server/{doc['sourceServerID']}"
    assert doc["stagingArea"]["stagingAccountID"] == STAGING
    assert doc["stagingArea"]["status"] == "EXTENDED"
    assert doc["sourceCloudProperties"]["originAccountID"] == ACCOUNT
    assert doc["sourceProperties"]["identificationHints"]["awsInstanceID"] == "i-00000000000000000"
    assert doc["sourceProperties"]["networkInterfaces"][0]["ips"] == ["10.0.0.0"]
    assert 1 <= len(doc["sourceProperties"]["disks"]) <= 3
    assert doc["lifeCycle"]["addedToServiceDateTime"].startswith("2025-")
    assert doc["lifeCycle"]["addedToServiceDateTime"].endswith("Z")


def _parse_with_botocore(payload: dict[str, Any]) -> dict[str, Any]:
    """Parse a DescribeSourceServers response body the way botocore does for the drs client."""
    model = botocore.session.get_session().get_service_model("drs")
    shape = model.operation_model("DescribeSourceServers").output_shape
    raw = {"status_code": 200, "headers": {}, "body": json.dumps(payload).encode()}
    return create_parser("rest-json").parse(raw, shape)


def test_generated_documents_survive_botocore_parsing():
    docs = fleet(50, seed=3) + fleet(50, seed=4, staging=STAGING)
    parsed = _parse_with_botocore({"items": docs})
    assert parsed["items"] == docs


def test_generated_documents_validate_against_model_patterns():
    """String members respect the model's length bounds and patterns (as a real DRS answer would)."""
    import re

    model = botocore.session.get_session().get_service_model("drs")
    shape = model.operation_model("DescribeSourceServers").output_shape.members["items"].member

    def check(value: Any, node: Any, where: str) -> None:
        if node.type_name == "structure":
            assert set(value) <= set(node.members), where
            for key, item in value.items():
                check(item, node.members[key], f"{where}.{key}")
        elif node.type_name == "list":
            for index, item in enumerate(value):
                check(item, node.member, f"{where}[{index}]")
        elif node.type_name == "map":
            for key, item in value.items():
                check(item, node.value, f"{where}[{key}]")
        elif node.type_name == "string":
            pattern = node.metadata.get("pattern")
            assert pattern is None or re.fullmatch(pattern, value), (where, value)
            assert node.metadata.get("min", 0) <= len(value) <= node.metadata.get("max", 10**9), (where, value)
            assert not node.enum or value in node.enum, (where, value)

    for doc in fleet(30, seed=5) + fleet(30, seed=6, staging=STAGING):
        check(doc, shape, "item")


# ---- wire protocol through a real botocore client ----------------------------------------------------------------


class _Raw:
    """The raw body botocore reads through `.stream()`."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._body


@pytest.fixture
def world() -> DrsBackends:
    return DrsBackends()


@pytest.fixture
def drs(world: DrsBackends):
    client = botocore.session.get_session().create_client(
        "drs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )
    sent: list[dict[str, Any]] = []

    def answer(request: Any, **_kwargs: Any) -> AWSResponse:
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        sent.append({"method": request.method, "path": path, "body": body})
        try:
            status, headers, payload = dispatch(world, ACCOUNT, REGION, request.method, path, body)
        except AwsError as err:
            status, headers, payload = error_response("rest-json", err, "req-error")
        return AWSResponse(request.url, status, headers, _Raw(payload))

    client.meta.events.register("before-send.drs", answer)
    client.sent = sent
    return client


def test_paginator_through_botocore(world, drs):
    servers = fleet(7)
    backend = world.backend(ACCOUNT, REGION)
    backend.page_size = 3
    for server in servers:
        backend.add_server(server)
    pages = list(drs.get_paginator("describe_source_servers").paginate())
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    assert [item for page in pages for item in page["items"]] == servers
    assert "nextToken" in pages[0] and "nextToken" not in pages[-1]
    assert [call["method"] for call in drs.sent] == ["POST"] * 3
    assert {call["path"] for call in drs.sent} == {"/DescribeSourceServers"}
    assert json.loads(drs.sent[0]["body"]) == {}
    assert json.loads(drs.sent[1]["body"]) == {"nextToken": pages[0]["nextToken"]}
    request_ids = [page["ResponseMetadata"]["RequestId"] for page in pages]
    assert len(set(request_ids)) == 3


def test_paginator_with_filters_and_page_size(world, drs):
    servers = fleet(4, seed=1) + fleet(5, seed=2, staging=STAGING)
    for server in servers:
        world.backend(ACCOUNT, REGION).add_server(server)
    paginator = drs.get_paginator("describe_source_servers")
    pages = list(paginator.paginate(filters={"stagingAccountIDs": [STAGING]}, PaginationConfig={"PageSize": 2}))
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert [item for page in pages for item in page["items"]] == servers[4:]
    body = json.loads(drs.sent[1]["body"])
    assert body["filters"] == {"stagingAccountIDs": [STAGING]} and body["maxResults"] == 2
    assert "nextToken" in body


def test_regions_and_accounts_are_separate(world, drs):
    world.backend(ACCOUNT, "eu-west-1").add_server(fleet(1)[0])
    assert drs.describe_source_servers()["items"] == []


def test_request_ids_are_deterministic():
    def run() -> list[str]:
        backends = DrsBackends()
        backends.backend(ACCOUNT, REGION).add_server(fleet(1)[0])
        return [
            dispatch(backends, ACCOUNT, REGION, "POST", "/DescribeSourceServers", b"{}")[1]["x-amzn-RequestId"]
            for _ in range(3)
        ]

    first = run()
    assert first == run()
    assert len(set(first)) == 3


def test_bad_token_is_a_botocore_validation_exception(drs):
    with pytest.raises(ClientError) as info:
        drs.describe_source_servers(nextToken="garbage!")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert type(info.value).__name__ == "ValidationException"
    assert isinstance(info.value, drs.exceptions.ValidationException)


def test_token_with_other_filters_through_botocore(world, drs):
    backend = world.backend(ACCOUNT, REGION)
    backend.page_size = 1
    for server in fleet(3):
        backend.add_server(server)
    token = drs.describe_source_servers()["nextToken"]
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_source_servers(nextToken=token, filters={"stagingAccountIDs": [ACCOUNT]})


def test_max_results_above_limit_through_botocore(drs):
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_source_servers(maxResults=1001)


def test_malformed_documents_through_botocore(world, drs):
    # The wire carries stored documents verbatim, nulls included; botocore then drops null structure members
    # (a null sourceProperties reaches the caller as a missing key) but keeps null list entries.
    kept = [*MALFORMED[:4], {"sourceProperties": {"networkInterfaces": [None, {"ips": []}]}}]
    for doc in kept:
        world.backend(ACCOUNT, REGION).add_server(doc)
    _, _, wire = dispatch(world, ACCOUNT, REGION, "POST", "/DescribeSourceServers", b"{}")
    assert json.loads(wire)["items"] == kept
    assert drs.describe_source_servers()["items"] == [
        {},
        {},
        kept[2],
        {"sourceProperties": {}},
        {"sourceProperties": {"networkInterfaces": [None, {"ips": []}]}},
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "status"),
    [
        ("POST", "/DescribeJobs", b"{}", "UnknownOperationException", 404),
        ("GET", "/DescribeSourceServers", b"", "UnknownOperationException", 404),
        ("POST", "/DescribeSourceServers", b"{not json", "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b"[]", "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"maxResults": "10"}', "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"maxResults": true}', "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"nextToken": 5}', "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"filters": []}', "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"filters": {"sourceServerIDs": "s-1"}}', "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"filters": {"sourceServerIDs": ["s-1"]}}', "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"filters": {"stagingAccountIDs": [1]}}', "ValidationException", 400),
        ("POST", "/DescribeSourceServers", b'{"filters": {"hardwareId": 7}}', "ValidationException", 400),
    ],
)
def test_dispatch_rejects(world, method, path, body, code, status):
    with pytest.raises(AwsError) as info:
        dispatch(world, ACCOUNT, REGION, method, path, body)
    assert (info.value.code, info.value.status) == (code, status)


def test_dispatch_response_shape(world):
    world.backend(ACCOUNT, REGION).add_server(fleet(1)[0])
    status, headers, body = dispatch(world, ACCOUNT, REGION, "POST", "/DescribeSourceServers", b"")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["x-amzn-RequestId"]
    payload = json.loads(body)
    assert set(payload) == {"items"} and len(payload["items"]) == 1
