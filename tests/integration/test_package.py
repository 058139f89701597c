"""The Lambda deployment package (`make package`): reproducible, complete, runnable on its own, with its own SDK.

The package is built once for the module, unzipped into a clean directory, and run in a child interpreter that sees
what the Lambda runtime sees: the unzipped package first on `sys.path`, then the runtime's own boto3 and botocore
(here a decoy that fails when imported: the package must never reach it), and the standard library. No site
packages, no editable install of this repository, no moto: the child imports `index` from the package and syncs a
scenario served as a local AWS over HTTP, once per INVENTORY_SYNC_IMPL value. The SDK it imports is the package's
copy at the pinned versions (constraints.txt, or `BUILD_LAMBDA_CONSTRAINTS` under `make test-sdk`).
"""

import json
import os
import platform
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import boto3
import pytest

from deploy.build_lambda import (
    EXECUTABLE_MODE,
    FILE_MODE,
    ZIP_DATE_TIME,
    build_package,
    constraint_pins,
    harness_modules,
    summary,
)
from harness.golden import GOLDEN_DIR, read_golden
from harness.http_sync import HTTP_CREDENTIALS, served_world
from harness.lambda_env import HANDLER_DIR, LAMBDA_ROOT, REPO_ROOT
from harness.world.scenario import load_scenario
from harness.world.seeding import table_names

SCENARIO = REPO_ROOT / "scenarios" / "demo-two-accounts.yaml"
# The SDK distributions the package bundles (boto3 and what it requires), with their top-level modules.
SDK_TOP_LEVELS = {
    "boto3": "boto3",
    "botocore": "botocore",
    "s3transfer": "s3transfer",
    "jmespath": "jmespath",
    "python-dateutil": "dateutil",
    "urllib3": "urllib3",
    "six": "six",
}
# What the python3.12 Lambda runtime puts on sys.path after the package: its own boto3 and botocore.
RUNTIME_SDK = ("boto3", "botocore")
CHILD_TIMEOUT_S = 180
RESULT_PREFIX = "PACKAGE-RUN "

# Runs in the child interpreter (python -I -S): argv = package dir, runtime dir, repository root.
CHILD = r"""
import json, logging, platform, sys
package_dir, runtime_dir, repo_root = sys.argv[1:4]
sys.path[:0] = [package_dir, runtime_dir]
# As the Lambda runtime with ApplicationLogLevel INFO: one handler on the root logger, to stderr here.
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="[%(levelname)s] %(name)s %(message)s")

import index

result = index.lambda_handler({"operation": "sync_source_server_inventory"}, None)
vendored = None
if sys.version_info[:2] == (3, 12) and platform.machine() == "x86_64":
    import deepdiff  # the package's wheels are for CPython 3.12 x86_64: only importable on such an interpreter
    vendored = deepdiff.__file__
modules = {name: getattr(module, "__file__", None) for name, module in sorted(sys.modules.items())}
import importlib.metadata, boto3, botocore
sdk = {
    "boto3": [boto3.__version__, boto3.__file__, importlib.metadata.version("boto3")],
    "botocore": [botocore.__version__, botocore.__file__, importlib.metadata.version("botocore")],
}
print("PACKAGE-RUN " + json.dumps({"result": result, "modules": modules, "deepdiff": vendored, "sdk": sdk}))
"""
# The runtime's boto3 and botocore, as the child finds them after the package on sys.path: importing them fails.
DECOY = 'raise ImportError("the Lambda runtime\'s {name} was imported: the package must bring its own")\n'


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployment package, built as `make package` builds it, into a temporary directory."""
    directory = tmp_path_factory.mktemp("package")
    return build_package(directory / "query-handler.zip", directory / "work")


@pytest.fixture(scope="module")
def unzipped(package: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package extracted into a clean directory, as the Lambda runtime extracts it into /var/task."""
    directory = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(package) as archive:
        archive.extractall(directory)
    return directory


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runtime's SDK directory, after the package on sys.path: boto3 and botocore packages that fail on import."""
    directory = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME_SDK:
        (directory / name).mkdir()
        (directory / name / "__init__.py").write_text(DECOY.format(name=name), encoding="utf-8")
    return directory


def run_unzipped(unzipped: Path, runtime_dir: Path, impl: str) -> tuple[dict, str, str, dict]:
    """Serve the scenario, run the child on the unzipped package; (child report, stdout, stderr, tables after)."""
    scenario = load_scenario(SCENARIO)
    with served_world(SCENARIO) as endpoint:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(unzipped.parent),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            **{key: value for key, value in scenario.environment().items() if value is not None},
            **HTTP_CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "INVENTORY_SYNC_IMPL": impl,
        }
        completed = subprocess.run(
            [sys.executable, "-I", "-S", "-c", CHILD, str(unzipped), str(runtime_dir), str(REPO_ROOT)],
            cwd=unzipped,
            env=environment,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        counts = table_counts(scenario, endpoint)
    [line] = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    return json.loads(line.removeprefix(RESULT_PREFIX)), completed.stdout, completed.stderr, counts


def table_counts(scenario, endpoint: str) -> dict[str, int]:
    """Item count of each of the scenario's tables, read over HTTP as the hub."""
    client = boto3.client(
        "dynamodb",
        region_name=scenario.environment().get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=HTTP_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=HTTP_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    return {
        logical: client.scan(TableName=name, Select="COUNT")["Count"] for logical, name in table_names(scenario).items()
    }


def expected_body() -> dict:
    """The sync's body for the scenario, as recorded in its golden (the timestamp aside)."""
    body = json.loads(read_golden(GOLDEN_DIR / f"{SCENARIO.stem}.json").outputs.result["body"])
    body.pop("timestamp")
    return body


def test_two_builds_give_the_same_bytes(package, tmp_path):
    again = build_package(tmp_path / "query-handler.zip", tmp_path / "work")
    assert again.read_bytes() == package.read_bytes()


def test_the_package_holds_the_handler_shared_the_shadow_harness_deepdiff_and_the_sdk(package):
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {ZIP_DATE_TIME}
    assert {info.external_attr >> 16 for info in infos} <= {FILE_MODE, EXECUTABLE_MODE}

    root_modules = {name for name in names if "/" not in name} - {"six.py"}  # six, boto3's, is a single module
    assert root_modules == {path.name for path in HANDLER_DIR.glob("*.py")}
    assert root_modules >= {"index.py", "inventory_sync_legacy.py"}
    assert {name for name in names if name.startswith("inventory_sync/")} == {
        f"inventory_sync/{path.name}" for path in (HANDLER_DIR / "inventory_sync").glob("*.py")
    }
    assert {name for name in names if name.startswith("shared/")} == {
        f"shared/{path.name}" for path in (LAMBDA_ROOT / "shared").glob("*.py")
    }
    packaged_harness = {name for name in names if name.startswith("harness/")}
    assert packaged_harness == {
        module.replace(".", "/") + ("/__init__.py" if (REPO_ROOT / module.replace(".", "/")).is_dir() else ".py")
        for module in harness_modules()
    }
    assert {"harness/approved/__init__.py", "harness/approved/defect_01_cleanup_every_account.py"} <= packaged_harness
    assert {"harness/shadow.py", "harness/replay_session.py", "harness/replayer.py"} <= packaged_harness
    assert not any(name.startswith("harness/world/") for name in names)  # the local AWS (moto) stays out

    tops = {name.split("/", 1)[0].removesuffix(".py") for name in names}
    assert {"deepdiff", "orderly_set", "cachebox"} <= tops
    assert set(SDK_TOP_LEVELS.values()) <= tops
    pins = constraint_pins()
    for distribution in SDK_TOP_LEVELS:
        dist_info = f"{distribution.replace('-', '_')}-{pins[distribution]}.dist-info/METADATA"
        assert dist_info in names, f"{distribution} is not bundled at its pin {pins[distribution]}"
    for absent in ("moto", "yaml", "time_machine", "bin"):
        assert absent not in tops, absent
    assert not any(name.endswith(".pyc") or "__pycache__" in name for name in names)
    compiled = [name for name in names if name.endswith(".so")]
    assert compiled and all("cpython-312-x86_64-linux-gnu" in name for name in compiled), compiled
    assert f"boto3 {pins['boto3']}, botocore {pins['botocore']}" in summary(package)


@pytest.mark.parametrize("impl", ["refactored", "legacy"])
def test_the_unzipped_package_syncs_against_the_local_aws(unzipped, runtime_dir, impl):
    report, _, stderr, counts = run_unzipped(unzipped, runtime_dir, impl)

    body = report["result"]
    assert "error" not in body, body
    timestamp = body.pop("timestamp")
    assert timestamp
    assert body == expected_body()
    assert body["totalSynced"] == 12 and body["totalErrors"] == 0
    assert counts["inventory"] == body["totalSynced"]
    assert f"Inventory sync implementation: {impl}" in stderr
    assert_only_the_package_was_imported(report, unzipped)


def test_the_package_runs_its_own_pinned_sdk_and_says_so_at_cold_start(unzipped, runtime_dir):
    report, _, stderr, _ = run_unzipped(unzipped, runtime_dir, "refactored")

    pins = constraint_pins()
    for distribution in ("boto3", "botocore"):
        version, file, metadata_version = report["sdk"][distribution]
        assert file.startswith(str(unzipped / distribution) + os.sep), file
        assert version == metadata_version == pins[distribution]
    [cold_start] = [json.loads(line[line.index("{") :]) for line in stderr.splitlines() if "lambda_runtime_sdk" in line]
    assert cold_start["boto3"] == pins["boto3"] and cold_start["botocore"] == pins["botocore"]
    assert cold_start["bundled"] is True
    assert_only_the_package_was_imported(report, unzipped)


def test_shadow_mode_runs_from_the_package_and_finds_the_refactored_sync_equivalent(unzipped, runtime_dir):
    report, stdout, stderr, counts = run_unzipped(unzipped, runtime_dir, "shadow")

    body = report["result"]
    body.pop("timestamp")
    assert body == expected_body()
    assert counts["inventory"] == body["totalSynced"]
    verdicts = [json.loads(line[line.index("{") :]) for line in stderr.splitlines() if "inventory_sync_shadow" in line]
    assert len(verdicts) == 1, stderr
    assert verdicts[0]["equivalent"] is True and verdicts[0]["differences"] == [], json.dumps(verdicts[0])
    [emf] = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    assert emf["ShadowEquivalent"] == 1 and emf["ShadowDivergent"] == 0 and emf["ShadowErrors"] == 0
    assert report["modules"]["harness.shadow"].startswith(str(unzipped))
    assert_only_the_package_was_imported(report, unzipped)


def assert_only_the_package_was_imported(report: dict, unzipped: Path) -> None:
    """Every module the child loaded came from the package (its SDK included) or the standard library."""
    modules: dict[str, str | None] = report["modules"]
    assert modules["index"] == str(unzipped / "index.py")
    allowed = tuple(str(Path(root)) + os.sep for root in (unzipped, sysconfig.get_paths()["stdlib"]))
    for name, file in modules.items():
        if file is None:
            continue
        assert file.startswith(allowed), f"{name} came from outside the package and the stdlib: {file}"
        assert not file.startswith(str(REPO_ROOT) + os.sep), f"{name} was imported from the repository: {file}"
        top = name.split(".", 1)[0]
        assert top not in {"moto", "yaml", "time_machine", "pytest", "hypothesis"}, name
        if top in {"harness", "shared", "index", "inventory_sync", "inventory_sync_legacy", *SDK_TOP_LEVELS.values()}:
            assert file.startswith(str(unzipped) + os.sep), f"{name} did not come from the package: {file}"
    if sys.version_info[:2] == (3, 12) and platform.machine() == "x86_64":
        assert report["deepdiff"].startswith(str(unzipped) + os.sep)
