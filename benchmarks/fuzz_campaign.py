"""The long fuzzing campaign: tests/fuzz_strategies.py with a large budget, run before a release.

    .venv/bin/python benchmarks/fuzz_campaign.py --minutes 15 [--kinds rules,dimacs] [--seed N]
        [--report out/fuzz-campaign.json]

Each kind of input (configurations, catalogs, rules, DIMACS, UVL, CSV tables, special files)
is fuzzed in turn in rounds of `--round` examples until the time is up; every case runs the
command in process and checks the contract (exit 0/1/2 only, no traceback, exit 2 positioned,
counts equal to the brute-force oracle, a failed run leaves its -o file alone, nothing hangs).
Hypothesis shrinks a failure to a small example, which is printed and kept in the report.

It prints a table: cases tried per kind, how many were compared with the oracle, failures.
Exit 1 when a failure was found (docs/fuzzing.md says what to do with it).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from hypothesis import HealthCheck, Phase, given, seed, settings

import fuzz_strategies as fz

KINDS = {
    "config": fz.config_cases,
    "catalog": fz.catalog_cases,
    "rules": fz.rule_cases,
    "dimacs": fz.dimacs_cases,
    "uvl": fz.uvl_cases,
    "csv": fz.csv_cases,
    "special": fz.special_cases,
}


def _round(
    kind: str, examples: int, seed_value: int, tried: Counter[str], compared: Counter[str]
) -> str | None:
    """Fuzz one kind for `examples` cases; the shrunk failure as text, or None."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=True,
    )
    @seed(seed_value)
    @given(case=KINDS[kind]())
    def check(case: fz.Case) -> None:
        tried[kind] += 1
        if case.expected_count is not None:
            compared[kind] += 1
        with tempfile.TemporaryDirectory() as folder:
            fz.run_case(case, Path(folder))

    try:
        check()
    except Exception as exc:  # the contract broken (or the harness): report it, go on
        return f"{type(exc).__name__}: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; print the table; exit 1 when something broke the contract."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="time budget (default 15)")
    parser.add_argument("--round", type=int, default=200, help="examples per round and kind")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first round")
    parser.add_argument("--report", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds {unknown}; the kinds are {', '.join(KINDS)}")
    rng = random.Random(args.seed)
    tried: Counter[str] = Counter()
    compared: Counter[str] = Counter()
    failures: list[dict[str, object]] = []
    start = time.monotonic()
    deadline = start + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        for kind in kinds:
            if time.monotonic() >= deadline:
                break
            seed = rng.randrange(2**32)
            found = _round(kind, args.round, seed, tried, compared)
            if found is not None:
                failures.append({"kind": kind, "seed": seed, "failure": found})
                print(f"--- failure in {kind} (seed {seed}):\n{found}\n", file=sys.stderr)
        rounds += 1
    elapsed = time.monotonic() - start
    rows = [(k, tried[k], compared[k], sum(1 for f in failures if f["kind"] == k)) for k in kinds]
    print(
        f"fuzz campaign: {elapsed / 60:.1f} min, {rounds} rounds of up to {args.round} cases per kind"
    )
    print(f"{'kind':<10} {'cases':>8} {'oracle':>8} {'failures':>9}")
    for kind, n, m, f in rows:
        print(f"{kind:<10} {n:>8} {m:>8} {f:>9}")
    total = sum(tried.values())
    print(f"{'total':<10} {total:>8} {sum(compared.values()):>8} {len(failures):>9}")
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(
            json.dumps(
                {
                    "minutes": round(elapsed / 60, 2),
                    "rounds": rounds,
                    "cases": dict(tried),
                    "oracle_compared": dict(compared),
                    "failures": failures,
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
