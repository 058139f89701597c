"""`python -m harness.mutation` (`make mutation`): mutmut over the refactored sync, the gate as the test suite.

Lays out a scratch copy (`harness/mutation/scratch.py`, default `build/mutation/`), runs `mutmut run` in it with a
time budget, reads the verdicts back and writes `mutation/results.json` and `mutation/report.md`. Every module of
the package `lambda/query-handler/inventory_sync/` is mutated in the copy; the real files are only read (each file's
sha256, as copied, goes into the report). `lambda/shared/` is not mutated (see SHARED_LEFT_OUT).

Every mutant is run by default; `--sample N` runs a stratified random sample instead (`harness/mutation/sampling.py`)
and the report gives the score with its 95% confidence interval. Goldens over `--max-golden-mb` on disk are left
out of the mutation suite (see LEFT_OUT_REASON); the gate itself still replays every golden.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from harness.lambda_env import REPO_ROOT
from harness.mutation.launch import ORDER_SEED_VARIABLE
from harness.mutation.plugin import DEADLINE_FACTOR, KILLS_VARIABLE, MIN_DEADLINE_S
from harness.mutation.report import write_report
from harness.mutation.results import function_of, module_of, read_results, working_directory
from harness.mutation.sampling import DEFAULT_SEED, stratified_sample
from harness.mutation.scratch import (
    DO_NOT_MUTATE_PATTERNS,
    PACKAGE,
    TARGET,
    build_scratch,
    goldens_larger_than,
    source_files,
)

DEFAULT_SCRATCH = REPO_ROOT / "build" / "mutation"
DEFAULT_OUT = REPO_ROOT / "mutation"
TRIAGE_FILE = "triage.json"
MUTANTS_PHASE_MARKER = "Running mutation testing"
POLL_S = 2.0
PROGRESS_EVERY_S = 60.0
# After the budget, mutmut gets this long to stop its workers and save before it is killed.
GRACE_S = 30.0
# Goldens bigger than this on disk stay out of the mutation suite unless --max-golden-mb says otherwise: only the
# 50,000-server estate's three (11 MB gzipped each; the next largest, fleet-2000's, are 1 MB).
DEFAULT_MAX_GOLDEN_MB = 5.0
LEFT_OUT_REASON = (
    "they replay the estate-50000 scenario, the same functions as the other goldens at scale: every function of the "
    "sync an estate golden reaches is reached by the other goldens too (on-premises servers are in stale-cleanup, "
    "stale rows in several accounts in stale-cleanup-multi-account, paged regions in the drs-* goldens; checked by "
    "tracing the calls of a replay). A mutant that survives replays every golden reaching its function, and these "
    "three took 75 s of a 120 s clean gate (45 s without them, on 2 cores), so they made each survivor cost more "
    "than twice as much. What only they could catch is a mutation that shows at their scale alone; fleet-2000 "
    "(2,000 servers in pages of 100 over four accounts, kept) already crosses the page, batch and chunk limits. The "
    "gate (`python -m harness gate`) still replays them on every change; `--max-golden-mb 0` puts them back into "
    "the mutation suite"
)
EXCLUSIONS = (
    "logging calls: statements matching "
    + ", ".join(f"`{pattern}`" for pattern in DO_NOT_MUTATE_PATTERNS)
    + " (mutmut's `do_not_mutate_patterns`); no golden records logs, and logging never raises on a bad message",
    "module-level code (constants, imports, the logger's level) and class bodies outside methods: mutmut only "
    "mutates inside functions and methods",
    "docstrings and type annotations: mutmut leaves them alone",
)
SHARED_LEFT_OUT = (
    "`lambda/shared/` (the handler's shared modules, copied unmutated): among them the helpers only the sync uses "
    "for botocore's internals (client-class reuse, prebuilt request bodies), which detect those internals and fall "
    "back to plain boto3 when they differ; what they do shows in no golden (a replay answers above botocore), so "
    "their unit tests test them, on the oldest and newest botocore the Lambda runtime may give"
)


def decorated_functions(path: Path, prefix_all: str = "") -> list[str]:
    """Functions and methods with a decorator other than @staticmethod/@classmethod: mutmut does not mutate them.

    Each name is prefixed with `prefix_all` (a module's name, so names from several modules stay apart).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        bodies = [(node.name + ".", node.body)] if isinstance(node, ast.ClassDef) else []
        if isinstance(node, ast.Module):
            bodies.append(("", node.body))
        for prefix, body in bodies:
            for child in body:
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                    not (isinstance(decorator, ast.Name) and decorator.id in ("staticmethod", "classmethod"))
                    for decorator in child.decorator_list
                ):
                    names.append(prefix_all + prefix + child.name)
    return sorted(names)


def module_name(relative: Path) -> str:
    """A package file's module name without the package, as the report names it (`inventory_sync/ec2.py` -> `ec2`)."""
    return ".".join(relative.with_suffix("").parts[1:])


def exclusions(package: Path) -> list[str]:
    """What is not mutated, for the report: the fixed list, the decorated functions of this version, lambda/shared."""
    names = [
        name
        for relative in source_files(package)
        for name in decorated_functions(package.parent / relative, module_name(relative) + ".")
    ]
    decorated = ", ".join(f"`{name}`" for name in names) or "none"
    return [
        *EXCLUSIONS,
        f"functions with a decorator other than @staticmethod/@classmethod (mutmut skips them): {decorated}",
        SHARED_LEFT_OUT,
    ]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_digests(package: Path, shown_as: Path) -> dict[str, str]:
    """The sha256 of every Python file of `package`, keyed by its path under `shown_as` (the real package's path)."""
    return {
        (shown_as.parent / relative).as_posix(): sha256_of(package.parent / relative)
        for relative in source_files(package)
    }


def mutmut_command(scratch: Path) -> list[str]:
    """mutmut's command line through the scratch copy's launcher (`harness/mutation/launch.py`: a seeded random
    order of the mutants), on this interpreter."""
    if importlib.util.find_spec("mutmut") is None:
        raise SystemExit("mutmut is not installed: `make mutation` installs the `mutation` extra")
    return [sys.executable, str(scratch / "harness" / "mutation" / "launch.py")]


def generated_mutants(scratch: Path) -> list[str]:
    """The names of every mutant mutmut will generate for the scratch copy's package, every module (its settings
    apply), sorted."""
    from mutmut.mutation.file_mutation import mutate_file_contents
    from mutmut.utils.format_utils import get_mutant_name

    names = []
    with working_directory(scratch):
        for relative in source_files(Path(PACKAGE).resolve()):
            mutated = mutate_file_contents(str(relative), relative.read_text(encoding="utf-8"))
            names += [get_mutant_name(relative, name) for name in mutated.mutant_names]
    return sorted(names)


def sample_plan(names: list[str], size: int, seed: int) -> dict[str, Any]:
    """The run's sample, stratified by (module, function): which mutants, out of how many, drawn how (stored in
    results.json for --report-only)."""
    chosen = stratified_sample(names, size, function_of, seed)
    return {
        "requested": size,
        "size": len(chosen),
        "total": len(names),
        "seed": seed,
        "functions": len({function_of(name) for name in names}),
        "modules": len({module_of(name) for name in names}),
        "module_totals": dict(sorted(Counter(module_of(name) for name in names).items())),
        "mutants": chosen,
    }


def left_out_goldens(max_golden_mb: float) -> dict[str, Any] | None:
    """The goldens over the size limit (None when there is no limit or none is over it), with why."""
    if max_golden_mb <= 0:
        return None
    names = goldens_larger_than(int(max_golden_mb * 1024 * 1024))
    if not names:
        return None
    return {"limit_mb": max_golden_mb, "goldens": names, "reason": LEFT_OUT_REASON}


def run_mutmut(
    scratch: Path, workers: int, mutants: list[str], budget_s: float, order_seed: int = DEFAULT_SEED
) -> tuple[int, float | None]:
    """Run `mutmut run` in `scratch` (output to `mutmut.log` there) until done or over budget, the mutants in the
    random order of `order_seed`.

    Returns mutmut's exit code and the seconds its mutants phase took (None if it never started).
    """
    log_path = scratch / "mutmut.log"
    # No PYTHONPATH (the scratch copy's harness must win), and compiled modules cached (see plugin.py).
    environment = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    environment[KILLS_VARIABLE] = str(scratch / "kills")
    environment[ORDER_SEED_VARIABLE] = str(order_seed)
    command = [*mutmut_command(scratch), "run", "--max-children", str(workers), *mutants]
    started = time.monotonic()
    phase_started: float | None = None
    last_progress = started
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=scratch, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        interrupted_at: float | None = None
        while process.poll() is None:
            time.sleep(POLL_S)
            now = time.monotonic()
            if phase_started is None and MUTANTS_PHASE_MARKER.encode() in log_path.read_bytes():
                phase_started = now
                print(f"mutation: mutants phase started after {now - started:.0f} s", flush=True)
            if now - last_progress >= PROGRESS_EVERY_S:
                last_progress = now
                kills = len(list((scratch / "kills").glob("*.json")))
                print(f"mutation: {now - started:.0f} s elapsed, {kills} mutants killed so far", flush=True)
            if interrupted_at is None and now - started > budget_s:
                print(f"mutation: budget of {budget_s:.0f} s spent, stopping mutmut", flush=True)
                os.killpg(process.pid, signal.SIGINT)
                interrupted_at = now
            elif interrupted_at is not None and now - interrupted_at > GRACE_S:
                os.killpg(process.pid, signal.SIGKILL)
                break
        exit_code = process.wait()
    phase_s = time.monotonic() - phase_started if phase_started is not None else None
    return exit_code, phase_s


def log_tail(scratch: Path, characters: int = 3000) -> str:
    """The end of mutmut's log, spinner frames dropped."""
    text = (scratch / "mutmut.log").read_text(encoding="utf-8", errors="replace")
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.strip() and not line.startswith("⠋")]
    return "\n".join(line for line in lines if "Running" not in line or "done" in line)[-characters:]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m harness.mutation", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MUTATION_WORKERS", "2")))
    parser.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH, help="scratch copy (emptied first)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results.json and report.md go")
    parser.add_argument("--budget-minutes", type=float, default=float(os.environ.get("MUTATION_BUDGET_MINUTES", "75")))
    parser.add_argument(
        "--timeout-multiplier",
        type=float,
        default=10.0,
        help="mutmut's per-mutant wall limit is (clean time of the mutant's goldens + 10 s) times this: a backstop "
        "only (the plugin's per-golden deadline catches hangs first); a tight one turns slow runs on a loaded "
        "machine into false timeouts",
    )
    parser.add_argument(
        "--mutant", action="append", default=[], help="only these mutmut names or globs (repeatable; a sample run)"
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="run a random sample of N mutants, stratified by module and function (each at least one), instead of "
        "every mutant; the report gives the score with a 95%% confidence interval",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"the seed of the sample and of the order mutmut takes the mutants in (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--max-golden-mb",
        type=float,
        default=DEFAULT_MAX_GOLDEN_MB,
        help=f"leave goldens bigger than this on disk out of the mutation suite (default {DEFAULT_MAX_GOLDEN_MB:g}: "
        "the 50,000-server estate's); 0 keeps every golden",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="no run: re-read the last run's scratch copy and rewrite the report (after editing mutation/triage.json)",
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        default=0.0,
        help="exit 1 below this mutation score (percent; equivalent mutants left out)",
    )
    args = parser.parse_args(argv)
    if args.sample is not None and args.sample < 1:
        parser.error(f"--sample: expected a number of mutants >= 1, got {args.sample}")
    if args.sample is not None and args.mutant:
        parser.error("--sample and --mutant do not combine: a sample is drawn from every mutant")
    return args


RUN_KEYS = (
    "tool",
    "tool_version",
    "file",
    "files",
    "command",
    "workers",
    "started",
    "finished",
    "duration_s",
    "mutants_phase_s",
    "mutmut_exit_code",
    "per_golden_deadline",
    "mutmut_timeout_multiplier",
    "exclusions",
    "sample",
    "left_out_goldens",
)


def rewrite_report(args: argparse.Namespace) -> int:
    """`--report-only`: the last run's facts from `<out>/results.json`, its verdicts from the scratch copy."""
    previous = json.loads((args.out / "results.json").read_text(encoding="utf-8"))
    run = {key: previous[key] for key in RUN_KEYS if key in previous}
    run["exclusions"] = exclusions(args.scratch.resolve() / PACKAGE)
    results = read_results(args.scratch.resolve(), args.scratch.resolve() / "kills")
    return summarise(write_report(results, run, args.out, args.out / TRIAGE_FILE), args)


def summarise(document: dict[str, Any], args: argparse.Namespace) -> int:
    """Print the one-line outcome; 1 when the score is under `--fail-under`."""
    untriaged = sum(1 for survivor in document["survivors"] if str(survivor["triage"]).startswith("untriaged"))
    sample = document.get("sample")
    sampled = f" (a sample of {sample['size']} of {sample['total']})" if sample else ""
    low, high = document["mutation_score_interval"]
    print(
        f"mutation: {document['mutants_total']} mutants{sampled}, {document['killed']} killed, "
        f"{document['timeout']} timeout, {document['survived']} survived, {document['no_tests']} unreached, "
        f"{document['not_checked']} not checked, {document['equivalent']} triaged equivalent; mutation score "
        f"{document['mutation_score']:.1%} (95% CI {low:.1%} to {high:.1%}; {document['score']:.1%} counting the "
        f"equivalent as alive); {untriaged} untriaged; {document['duration_s']:.0f} s; report in {args.out}",
        flush=True,
    )
    return 1 if document["mutation_score"] * 100 < args.fail_under else 0


def main(argv: list[str] | None = None) -> int:
    """Run the mutation testing and write the report; 0 unless mutmut could not run or the score is too low."""
    args = parse_args(argv)
    if args.report_only:
        return rewrite_report(args)
    started_at = datetime.now(UTC)
    started = time.monotonic()
    left_out = left_out_goldens(args.max_golden_mb)
    scratch = build_scratch(
        args.scratch.resolve(),
        timeout_multiplier=args.timeout_multiplier,
        left_out_goldens=left_out["goldens"] if left_out else (),
    )
    digests = file_digests(scratch / PACKAGE, TARGET.relative_to(REPO_ROOT))
    print(
        f"mutation: mutmut {version('mutmut')} over {TARGET.relative_to(REPO_ROOT)}/ ({len(digests)} modules) in "
        f"{scratch}",
        flush=True,
    )
    if left_out:
        print(f"mutation: goldens left out of the suite (over {args.max_golden_mb:g} MB): {left_out['goldens']}")
    sample = sample_plan(generated_mutants(scratch), args.sample, args.seed) if args.sample else None
    selected = sample["mutants"] if sample else args.mutant
    if sample:
        print(f"mutation: a sample of {sample['size']} of {sample['total']} mutants (seed {args.seed})", flush=True)
    exit_code, phase_s = run_mutmut(scratch, args.workers, selected, args.budget_minutes * 60, args.seed)
    if phase_s is None:
        print(log_tail(scratch), file=sys.stderr)
        print(f"mutation: mutmut stopped (exit {exit_code}) before testing any mutant", file=sys.stderr)
        return 1
    results = read_results(scratch, scratch / "kills")
    command = "make mutation" if os.environ.get("MAKELEVEL") else "python -m harness.mutation"
    if sample:
        command += f" --sample {args.sample} --seed {args.seed}"
    if args.max_golden_mb != DEFAULT_MAX_GOLDEN_MB:
        command += f" --max-golden-mb {args.max_golden_mb:g}"
    run: dict[str, Any] = {
        "tool": "mutmut",
        "tool_version": version("mutmut"),
        "file": TARGET.relative_to(REPO_ROOT).as_posix(),
        "files": digests,
        "command": command + (" " + " ".join(f"--mutant {name}" for name in args.mutant) if args.mutant else ""),
        "workers": args.workers,
        "started": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "mutants_phase_s": round(phase_s, 1),
        "mutmut_exit_code": exit_code,
        "per_golden_deadline": f"{DEADLINE_FACTOR:g}x the golden's clean time, at least {MIN_DEADLINE_S:g} s",
        "mutmut_timeout_multiplier": args.timeout_multiplier,
        "exclusions": exclusions(scratch / PACKAGE),
        "sample": sample,
        "left_out_goldens": left_out,
    }
    return summarise(write_report(results, run, args.out, args.out / TRIAGE_FILE), args)
