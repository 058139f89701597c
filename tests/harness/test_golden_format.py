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
    store_golden,
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
    written = write_golden(large_cassette(), tmp_path / "large.json.gz")
    raw = written.read_bytes()
    written.write_bytes(raw[: len(raw) // 2])

    with pytest.raises(GoldenError) as raised:
        read_golden(written)

    assert str(raised.value).startswith(f"{written}: corrupt golden, cannot be read")


def test_a_golden_is_gzipped_if_and_only_if_its_path_ends_in_gz_with_the_same_bytes_every_time(recording, tmp_path):
    cassette = large_cassette()
    assert len(dumps(cassette).encode("utf-8")) > COMPRESS_ABOVE_BYTES

    first = write_golden(cassette, tmp_path / "large.json.gz")
    first_bytes = first.read_bytes()
    second = write_golden(cassette, tmp_path / "large.json.gz")
    small = write_golden(recording, tmp_path / "small.json.gz")

    assert first == second == tmp_path / "large.json.gz"
    assert second.read_bytes() == first_bytes
    assert first_bytes[:2] == b"\x1f\x8b"
    assert first_bytes[4:8] == b"\x00\x00\x00\x00", "gzip header must carry no timestamp"
    assert read_golden(second).interactions == cassette.interactions
    assert small == tmp_path / "small.json.gz" and small.read_bytes()[:2] == b"\x1f\x8b"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["large.json.gz", "small.json.gz"]


def test_a_large_golden_asked_for_as_plain_json_is_written_plain_at_exactly_that_path(tmp_path):
    (tmp_path / "large.json.gz").write_bytes(b"another file, left alone")
    cassette = large_cassette()

    written = write_golden(cassette, tmp_path / "large.json")

    assert written == tmp_path / "large.json"
    assert written.read_text(encoding="utf-8") == dumps(cassette)
    assert (tmp_path / "large.json.gz").read_bytes() == b"another file, left alone"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["large.json", "large.json.gz"]


def test_record_out_writes_exactly_the_path_given_and_deletes_nothing(tmp_path):
    plain, compressed = tmp_path / "basic.json", tmp_path / "basic.json.gz"
    compressed.write_bytes(b"left alone")
    record = [sys.executable, "-m", "harness", "record", "--scenario", SCENARIO_FILE, "--out"]

    first = subprocess.run([*record, str(plain)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert compressed.read_bytes() == b"left alone"
    assert plain.read_bytes()[:1] == b"{"

    gz = tmp_path / "other.json.gz"
    second = subprocess.run([*record, str(gz)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["basic.json", "basic.json.gz", "other.json.gz"]
    assert read_golden(gz).interactions == read_golden(plain).interactions


def test_the_golden_directory_keeps_a_large_golden_compressed_and_each_golden_once(recording, tmp_path):
    large = store_golden(large_cassette(), tmp_path, "shrinking.json")
    assert large == tmp_path / "shrinking.json.gz"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["shrinking.json.gz"]

    small = store_golden(recording, tmp_path, "shrinking.json")

    assert small == tmp_path / "shrinking.json"
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
