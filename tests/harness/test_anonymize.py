"""`--anonymize`: every identifying value of a recording mapped to a stable fake, consistently, so it still replays."""

from __future__ import annotations

import json
import re

from harness.anonymize import anonymized
from harness.experiment import anonymize, check
from harness.golden import GOLDEN_DIR, dumps, read_golden

DEMO = GOLDEN_DIR / "demo-two-accounts.json"
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d])")
MAC = re.compile(r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}")
INSTANCE = re.compile(r"\bi-[0-9a-f]{8,17}\b")
DNS_WITH_ADDRESS = re.compile(r"\b(?:ip|ec2)-\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3}\b")


def field_values(data: object, names: set[str]) -> set[str]:
    """Every string under one of `names`, plain or in DynamoDB's wire form."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key in names and isinstance(value, str):
                found.add(value)
            if key in names and isinstance(value, dict) and isinstance(value.get("S"), str):
                found.add(value["S"])
            found |= field_values(value, names)
    elif isinstance(data, list):
        for item in data:
            found |= field_values(item, names)
    return found


def test_a_recording_keeps_no_real_identifier_and_still_replays_equivalent() -> None:
    golden = read_golden(DEMO)
    real_text = dumps(golden)
    real_data = json.loads(real_text)
    hosts = field_values(real_data, {"hostname", "fqdn", "PrivateDnsName", "PublicDnsName"}) - {""}
    external_ids = field_values(real_data, {"externalId", "ExternalId"})
    addresses = {value for value in IPV4.findall(real_text) if not value.startswith("10.0.")}
    assert hosts and external_ids and addresses and MAC.search(real_text) and INSTANCE.search(real_text)

    fake = anonymize(golden)
    text = json.dumps([json.loads(dumps(fake))[part] for part in ("interactions", "outputs")])

    macs, instances = set(MAC.findall(real_text)), set(INSTANCE.findall(real_text))
    accounts = {"111111111111", "222222222222", "999999999999"}
    leaked = [value for value in (*hosts, *external_ids, *addresses, *macs, *instances, *accounts) if value in text]
    assert leaked == []
    assert all(re.fullmatch(r"i-0*[0-9a-f]{1,4}", instance) for instance in INSTANCE.findall(text))
    assert DNS_WITH_ADDRESS.search(text) is None
    assert fake.header == golden.header
    assert check(fake, "legacy").equivalent


def test_the_same_value_gets_the_same_fake_everywhere_and_fakes_keep_the_sorted_order() -> None:
    data = {
        "a": {"hostname": {"S": "web-2"}, "ips": ["192.168.4.20"], "ExternalId": "ext-prod"},
        "b": ["web-2", "host web-2 at 192.168.4.20", "i-0bbbbbbbbbbbbbbbb", "i-0aaaaaaaaaaaaaaaa"],
        "c": {"externalId": {"S": "ext-prod"}, "mac": "0e:c2:55:40:4e:4f", "size": {"N": "192.168.4.20"}},
    }

    fake = anonymized(data)

    assert fake["a"]["hostname"] == {"S": "host-00001"}
    assert fake["b"][:2] == ["host-00001", "host host-00001 at 10.0.0.1"]
    assert fake["a"]["ips"] == ["10.0.0.1"]
    assert fake["a"]["ExternalId"] == fake["c"]["externalId"]["S"] == "external-id-00001"
    assert fake["c"]["mac"] == "02:00:00:00:00:01"
    assert fake["c"]["size"] == {"N": "192.168.4.20"}, "a DynamoDB number is not an address"
    assert fake["b"][2:] == ["i-00000000000000002", "i-00000000000000001"]
