"""Golden files: a stable, reviewable format that round-trips, rejects what it cannot read, and never varies."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.cassette import Cassette, Interaction, Outputs
from harness.experiment import record_scenario
from harness.golden import (
    COMPRESS_ABOVE_BYTES,
    FORMAT_VERSION,
    GoldenError,
    dumps,
    from_data,
    read_golden,
    to_data,
    write_golden,
)
from harness.lambda_env import REPO_ROOT
from harness.world.scenario import load_scenario

SCENARIO_FILE = "scenarios/single-account-basic.yaml"


@pytest.fixture(scope="module")
def recording() -> Cassette:
    """The legacy recorded once on a small scenario."""
    return record_scenario(load_scenario(REPO_ROOT / SCENARIO_FILE))


def large_cassette(items: int = 2500) -> Cassette:
    """A synthetic recording whose golden text is well over the compression threshold."""
    interactions = [
        Interaction(
            service="dynamodb",
            region="us-east-1",
            identity="hub",
            operation="PutItem",
            params={
                "TableName": "source-server-inventory",
                "Item": {
                    "sourceServerArn": {"S": f"arn:aws:drs:us-east-1:111111111111:source-server/s-{index:017x}"},
                    "hostname": {"S": f"host-{index:05d}.example.internal"},
                    "notes": {"S": "x" * 400},
                },
            },
            response={"ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0}},
        )
        for index in range(items)
    ]
    header = {
        "format": "drs-inventory-sync-golden",
        "version": FORMAT_VERSION,
        "scenario": {"name": "large", "file": None, "content_hash": None},
        "recorded_from": {"impl": "legacy", "source": "test"},
        "clock": "2026-01-15T12:00:00+00:00",
        "schedule": "submission",
        "environment": {},
        "allowances": {"fewer_reads": []},
    }
    return Cassette(header, interactions, Outputs(result={"statusCode": 200}))


def test_a_golden_round_trips_through_write_and_read(recording, tmp_path):
    written = write_golden(recording, tmp_path / "basic.json")

    assert written == tmp_path / "basic.json"
    again = read_golden(written)
    assert to_data(again) == to_data(recording)
    assert again.interactions == recording.interactions
    assert again.outputs == recording.outputs


def test_golden_text_has_sorted_keys_and_one_space_indentation(recording):
    text = dumps(recording)

    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    lines = text.splitlines()
    assert lines[:2] == ["{", ' "header": {']
    assert [line for line in lines if line.startswith(' "')] == [' "header": {', ' "interactions": [', ' "outputs": {']
    header = json.loads(text)["header"]
    assert header["counts"] == {"calls": len(recording.interactions), "writes": 3}
    assert header["scenario"]["file"] == SCENARIO_FILE


def test_an_unknown_format_version_is_rejected_saying_which_versions_are_read(recording):
    data = to_data(recording)
    data["header"]["version"] = 99

    with pytest.raises(GoldenError) as raised:
        from_data(data, "golden/future.json")

    message = str(raised.value)
    assert message.startswith("golden/future.json: golden format version 99 is not supported")
    assert f"this harness reads version {FORMAT_VERSION}" in message
    assert "python -m harness record" in message


def test_corrupt_json_is_rejected_with_line_and_column(recording, tmp_path):
    path = tmp_path / "broken.json"
    lines = dumps(recording).splitlines()
    line = next(number for number, text in enumerate(lines, start=1) if text.startswith('  "clock": '))
    lines[line - 1] = '  "clock": 2026-01-15T12:00:00,'  # an unquoted timestamp, as a hand edit might leave it
    path.write_text("\n".join(lines), encoding="utf-8")

    with pytest.raises(GoldenError) as raised:
        read_golden(path)

    assert str(raised.value) == f"{path}: corrupt golden, not JSON (line {line}, column 16: Expecting ',' delimiter)"


def test_a_truncated_gzip_golden_is_rejected_as_unreadable(tmp_path):
    written = write_golden(large_cassette(), tmp_path / "large.json")
    raw = written.read_bytes()
    written.write_bytes(raw[: len(raw) // 2])

    with pytest.raises(GoldenError) as raised:
        read_golden(written)

    assert str(raised.value).startswith(f"{written}: corrupt golden, cannot be read")


def test_a_large_golden_is_gzipped_with_the_same_bytes_every_time(tmp_path):
    cassette = large_cassette()
    assert len(dumps(cassette).encode("utf-8")) > COMPRESS_ABOVE_BYTES

    first = write_golden(cassette, tmp_path / "large.json")
    first_bytes = first.read_bytes()
    second = write_golden(cassette, tmp_path / "large.json")

    assert first == second == tmp_path / "large.json.gz"
    assert second.read_bytes() == first_bytes
    assert first_bytes[:2] == b"\x1f\x8b"
    assert first_bytes[4:8] == b"\x00\x00\x00\x00", "gzip header must carry no timestamp"
    assert not (tmp_path / "large.json").exists()
    assert read_golden(second).interactions == cassette.interactions


def test_rewriting_a_golden_small_again_removes_the_stale_compressed_copy(recording, tmp_path):
    write_golden(large_cassette(), tmp_path / "shrinking.json")

    written = write_golden(recording, tmp_path / "shrinking.json")

    assert written == tmp_path / "shrinking.json"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["shrinking.json"]


def test_recording_the_same_scenario_twice_gives_the_same_golden_text(recording):
    again = record_scenario(load_scenario(REPO_ROOT / SCENARIO_FILE))

    assert dumps(again) == dumps(recording)


def test_recordings_in_separate_processes_with_different_hash_seeds_are_byte_identical(recording, tmp_path):
    outputs = [tmp_path / f"seed-{seed}.json" for seed in (1, 2)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "harness", "record", "--scenario", SCENARIO_FILE, "--out", str(out)],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed, out in zip((1, 2), outputs, strict=True)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()

    first, second = (path.read_bytes() for path in outputs)
    assert first == second
    assert first.decode("utf-8") == dumps(recording)
