"""Command line: `world serve`, `run`; exit 0 on success, 1 on divergence, 2 on bad input."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.botocore_cache import share_botocore_loader
from harness.divergences import RegistryError
from harness.filters import SecretFound
from harness.golden import GoldenError
from harness.impls import IMPL_HELP, ImplError
from harness.report import GateRow
from harness.scheduling import Schedule
from harness.world.scenario import ScenarioError, load_scenario

EXIT_OK, EXIT_DIVERGENT, EXIT_BAD_INPUT = 0, 1, 2


class BadInput(Exception):
    """Input the user must fix: the message says what and where."""


def build_parser() -> argparse.ArgumentParser:
    """The `python -m harness` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    world = commands.add_parser("world", help="the local AWS")
    world_commands = world.add_subparsers(dest="world_command", required=True)
    serve = world_commands.add_parser("serve", help="serve a scenario on 127.0.0.1 until SIGINT/SIGTERM")
    serve.add_argument("--scenario", required=True, help="scenario YAML file")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")

    run = commands.add_parser("run", help="run an implementation on a fresh in-process world")
    run.add_argument("--scenario", required=True, help="scenario YAML file")
    run.add_argument("--impl", required=True, help=IMPL_HELP)
    run.add_argument("--schedule", default="submission", help="submission (default), reverse or seed:N")
    run.add_argument("--json", action="store_true", help="print one JSON object: result, tables, calls")

    sync = commands.add_parser("sync", help="serve a scenario and run the Lambda handler against it over HTTP")
    sync.add_argument("--scenario", required=True, help="scenario YAML file")

    record = commands.add_parser("record", help="record a golden (from the legacy by default)")
    source = record.add_mutually_exclusive_group(required=True)
    source.add_argument("--scenario", help="scenario YAML file, recorded on a fresh in-process local AWS")
    source.add_argument("--live", action="store_true", help="record against the AWS the environment points at")
    record.add_argument("--out", required=True, help="golden file to write")
    record.add_argument("--impl", default="legacy", help=IMPL_HELP)
    record.add_argument("--schedule", default="submission", help="submission (default), reverse or seed:N")
    record.add_argument("--anonymize-accounts", action="store_true", help="map account ids to stable fake ones")
    record.add_argument("--name", default="live", help="scenario name written in a live golden's header")

    replay = commands.add_parser("replay", help="replay a golden into an implementation and compare")
    replay.add_argument("--golden", required=True, help="golden file")
    replay.add_argument("--impl", required=True, help=IMPL_HELP)
    replay.add_argument("--schedule", default=None, help="defaults to the schedule the golden was recorded under")
    replay.add_argument("--report", default=None, help="also write the report as Markdown to this file")

    diff = commands.add_parser("diff", help="compare two goldens (A as expected, B as actual)")
    diff.add_argument("golden_a")
    diff.add_argument("golden_b")

    gate = commands.add_parser("gate", help="replay every golden in golden/ into an implementation")
    gate.add_argument("--impl", default="refactored", help=IMPL_HELP + " (default: refactored)")
    gate.add_argument("--report", default=None, help="write the gate report as Markdown to this file")
    gate.add_argument("--golden-dir", default=None, help="directory of goldens (default: golden/)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the command, map failures to exit codes with a one-line reason."""
    share_botocore_loader()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "world":
            return _world_serve(args)
        if args.command == "run":
            return _run(args)
        if args.command == "sync":
            return _sync(args)
        if args.command == "record":
            return _record(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "diff":
            return _diff(args)
        if args.command == "gate":
            return _gate(args)
    except (BadInput, ScenarioError, ImplError, GoldenError, SecretFound, RegistryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_BAD_INPUT


def _schedule(text: str) -> Schedule:
    """Parse --schedule, as bad input when it is not one of the accepted forms."""
    try:
        return Schedule.parse(text)
    except ValueError as error:
        raise BadInput(str(error)) from None


def _world_serve(args: argparse.Namespace) -> int:
    """`world serve`: serve the scenario until signalled."""
    from harness.world.server import serve

    serve(load_scenario(args.scenario), args.port, sys.stdout)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    """`run`: one run on a fresh world, printed as JSON or as a short summary."""
    from harness.runner import run_scenario

    scenario = load_scenario(args.scenario)
    report = run_scenario(scenario, args.impl, _schedule(args.schedule))
    if args.json:
        print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        print(summarize(report.to_json()))
    return EXIT_OK


def summarize(data: dict[str, object]) -> str:
    """A few lines for a person: the outcome, the counts in the body, and the size of each table."""
    lines = []
    if "exception" in data:
        lines.append(f"raised {data['exception']}")
    else:
        result = data.get("result")
        body = result.get("body") if isinstance(result, dict) else None
        status = result.get("statusCode") if isinstance(result, dict) else None
        lines.append(f"status {status}: {body}" if status is not None else f"returned {result}")
    tables = data.get("tables")
    if isinstance(tables, dict):
        lines.append("tables: " + ", ".join(f"{name} {len(rows)} rows" for name, rows in tables.items()))
    lines.append(f"AWS calls: {data.get('calls')}")
    return "\n".join(lines)


def _sync(args: argparse.Namespace) -> int:
    """`sync`: the handler over HTTP against a served scenario, summarised."""
    from harness.http_sync import summarize_sync, sync_over_http

    load_scenario(args.scenario)  # a bad scenario fails here, before a server starts
    print(summarize_sync(sync_over_http(Path(args.scenario))))
    return EXIT_OK


def _record(args: argparse.Namespace) -> int:
    """`record`: a golden from a scenario on the local AWS, or live."""
    from harness.experiment import anonymize, record_live, record_scenario
    from harness.golden import write_golden

    if args.live:
        cassette = record_live(args.impl, anonymize_accounts=args.anonymize_accounts, name=args.name)
    else:
        cassette = record_scenario(load_scenario(args.scenario), args.impl, _schedule(args.schedule))
        if args.anonymize_accounts:
            cassette = anonymize(cassette)
    out = Path(args.out)
    written = write_golden(cassette, out)
    print(f"recorded {len(cassette.interactions)} calls into {written}")
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    """`replay`: one golden into one implementation; exit 0 equivalent (or approved), 1 divergent."""
    from harness.gate import judge
    from harness.golden import read_golden
    from harness.report import GateRow, describe_triage, gate_markdown

    _require_impl(args.impl)
    cassette = read_golden(Path(args.golden))
    schedule = _schedule(args.schedule) if args.schedule else None
    verdict = judge(cassette, args.impl, schedule)
    print(describe_triage(f"{args.golden} replayed into {args.impl}", verdict))
    if args.report:
        row = GateRow(
            Path(args.golden).name,
            cassette.header["scenario"]["name"],
            cassette.header["schedule"],
            verdict.comparison,
            triage=verdict,
        )
        Path(args.report).write_text(gate_markdown([row], args.impl), encoding="utf-8")
    return EXIT_OK if verdict.passed else EXIT_DIVERGENT


def _diff(args: argparse.Namespace) -> int:
    """`diff`: what differs between two goldens; exit 0 when equivalent, 1 otherwise."""
    from harness.comparison import compare_cassettes
    from harness.golden import read_golden
    from harness.report import describe_comparison

    comparison = compare_cassettes(read_golden(Path(args.golden_a)), read_golden(Path(args.golden_b)))
    print(describe_comparison(f"{args.golden_b} against {args.golden_a}", comparison))
    return EXIT_OK if comparison.equivalent else EXIT_DIVERGENT


def _gate(args: argparse.Namespace) -> int:
    """`gate`: every golden into the implementation; a table, optionally Markdown; exit 1 on any divergence."""
    from harness.gate import golden_paths, run_gate, stderr_progress
    from harness.golden import GOLDEN_DIR
    from harness.report import gate_markdown, gate_table

    _require_impl(args.impl)
    directory = Path(args.golden_dir) if args.golden_dir else GOLDEN_DIR
    paths = golden_paths(directory)
    if not paths:
        raise BadInput(f"no goldens in {directory}: record them with `python -m harness record` (see README)")
    logging.disable(logging.CRITICAL)  # the table is the gate's output; the code under test's own logs would bury it
    try:
        rows = run_gate(args.impl, paths, stderr_progress())
    finally:
        logging.disable(logging.NOTSET)
    print(gate_table(rows))
    for row in rows:
        if row.verdict != "equivalent":
            print()
            print(row.describe())
    if args.report:
        Path(args.report).write_text(gate_markdown(rows, args.impl), encoding="utf-8")
    print(f"\n{gate_summary(rows, args.impl)}")
    return EXIT_OK if all(row.passed for row in rows) else EXIT_DIVERGENT


def gate_summary(rows: Sequence[GateRow], impl: str) -> str:
    """The gate's last line: how many goldens are equivalent, and how many pass with which approved divergences."""
    equivalent = sum(1 for row in rows if row.verdict == "equivalent")
    line = f"gate: {equivalent} of {len(rows)} goldens equivalent"
    approved = [row for row in rows if row.approved]
    if approved:
        names = sorted({d.name for row in approved if row.triage is not None for d in row.triage.approved})
        line += f", {len(approved)} with approved divergences ({', '.join(names)})"
    return f"{line} for impl {impl!r}"


def _require_impl(impl: str) -> None:
    """Fail as bad input, clearly, when the implementation does not exist yet (e.g. before the refactor lands)."""
    from harness.impls import impl_exists
    from harness.lambda_env import cold_start
    from harness.replay_session import REPLAY_ENVIRONMENT

    # The Lambda's modules build boto3 clients at import: give them the replay credentials and a region to do so.
    with cold_start({"AWS_DEFAULT_REGION": "us-east-1", **REPLAY_ENVIRONMENT}):
        exists = impl_exists(impl)
    if not exists:
        hint = (
            " (the refactor has not landed yet: use --impl legacy, or IMPL=legacy with make)"
            if impl == "refactored"
            else ""
        )
        raise BadInput(f"implementation {impl!r} does not exist{hint}")
