"""Bad goldens are refused when read, naming the file and the field; stale ones are told apart from bad ones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.golden import GOLDEN_DIR, GoldenError, from_data, read_golden
from harness.golden_validation import record_command, staleness

BASIC = GOLDEN_DIR / "single-account-basic.json"


def basic_data() -> dict[str, Any]:
    """The committed golden of the basic scenario, as plain data to spoil."""
    data: dict[str, Any] = json.loads(BASIC.read_text(encoding="utf-8"))
    return data


def refusal(data: dict[str, Any]) -> str:
    """The message a golden's data is refused with."""
    with pytest.raises(GoldenError) as raised:
        from_data(data, "golden/spoilt.json")
    return str(raised.value)


def test_the_committed_golden_is_accepted() -> None:
    assert from_data(basic_data(), str(BASIC)).interactions


def test_an_operation_that_is_not_a_string_is_refused_naming_the_field() -> None:
    data = basic_data()
    data["interactions"][2]["operation"] = 7

    message = refusal(data)

    assert message.startswith("golden/spoilt.json: malformed golden (1 problem):")
    assert "golden/spoilt.json: interactions[2].operation: expected a string, got a number 7" in message


def test_a_misspelt_operation_is_refused_with_the_nearest_one_of_the_service_model() -> None:
    data = basic_data()
    index = next(i for i, entry in enumerate(data["interactions"]) if entry["operation"] == "DescribeSourceServers")
    data["interactions"][index]["operation"] = "DescribeSourceServer"

    assert (
        f"interactions[{index}].operation: 'DescribeSourceServer' is not an operation of drs "
        "(did you mean 'DescribeSourceServers'?)"
    ) in refusal(data)


def test_an_unknown_service_is_refused() -> None:
    data = basic_data()
    data["interactions"][0]["service"] = "dynamodbb"

    assert "interactions[0].service: 'dynamodbb' is not a service botocore knows (did you mean 'dynamodb'?)" in (
        refusal(data)
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("params", [], "interactions[1].params: expected an object, got a list"),
        ("response", "ok", "interactions[1].response: expected an object or nothing, got a string"),
        ("region", None, "interactions[1].region: expected a string, got null None"),
        ("identitty", "hub", "interactions[1]: unknown fields identitty"),
    ],
)
def test_interaction_fields_of_the_wrong_type_are_refused(field: str, value: Any, expected: str) -> None:
    data = basic_data()
    data["interactions"][1][field] = value

    assert expected in refusal(data)


def test_a_missing_field_and_an_interaction_that_is_not_an_object_are_refused_together() -> None:
    data = basic_data()
    del data["interactions"][0]["identity"]
    data["interactions"][3] = "GetItem"

    message = refusal(data)

    assert "(2 problems)" in message
    assert "interactions[0].identity: missing (expected a string)" in message
    assert "interactions[3]: expected an object, got a string" in message


def test_header_counts_that_disagree_with_the_interactions_are_refused() -> None:
    data = basic_data()
    calls = len(data["interactions"])
    data["header"]["counts"]["calls"] = calls + 1
    data["header"]["counts"]["writes"] = 0

    message = refusal(data)

    assert f"header.counts.calls: says {calls + 1}, but the golden holds {calls} calls" in message
    assert "header.counts.writes: says 0, but the golden holds 3 writes" in message


def test_a_bad_schedule_and_outputs_without_a_result_are_refused() -> None:
    data = basic_data()
    data["header"]["schedule"] = "sideways"
    data["outputs"] = {"exception": {"type": "ValueError"}}

    message = refusal(data)

    assert "header.schedule: unknown schedule 'sideways'" in message
    assert "outputs.exception: expected an object with string 'type' and 'message'" in message


def test_a_directory_or_an_unreadable_path_is_refused_as_a_golden(tmp_path: Path) -> None:
    with pytest.raises(GoldenError, match=re.escape(f"{tmp_path}: is a directory, expected a golden file")):
        read_golden(tmp_path)
    not_a_directory = tmp_path / "file.json"
    not_a_directory.write_text("{}", encoding="utf-8")
    with pytest.raises(GoldenError, match=re.escape("file.json/inner.json: cannot read the golden")):
        read_golden(not_a_directory / "inner.json")


def test_a_golden_of_a_changed_or_missing_scenario_is_stale_and_says_how_to_re_record_it(tmp_path: Path) -> None:
    header = read_golden(BASIC).header
    assert staleness(header) is None

    changed = {**header, "scenario": {**header["scenario"], "content_hash": "0" * 64}}
    assert staleness(changed) == "its scenario scenarios/single-account-basic.yaml changed since it was recorded"
    missing = {**header, "scenario": {**header["scenario"], "file": "scenarios/no-such-scenario.yaml"}}
    assert staleness(missing) == "its scenario file scenarios/no-such-scenario.yaml no longer exists"
    other_legacy = {**header, "recorded_from": {**header["recorded_from"], "legacy_sha256": "1" * 64}}
    assert staleness(other_legacy) == "it was recorded from another version of the legacy module"

    assert record_command(header, BASIC) == (
        "python -m harness record --scenario scenarios/single-account-basic.yaml --schedule submission "
        "--out golden/single-account-basic.json"
    )
    live = {**header, "scenario": {"name": "live", "file": None, "content_hash": None}}
    assert staleness(live) is None
    assert record_command(live, tmp_path / "live.json") is None
