"""Benchmark the rule engine on synthetic product lines at two sizes (issue 3).

The large instance is the scale of a large real product line: 100 slots with about 1,500
variants and 3,000 rules (see synthetic.py). The small one is a tenth of it: 10 slots, about
150 variants, 300 rules. For each size it times:

- compile: ``Engine(problem, rules)`` plus loading the clauses into the SAT solver;
- validate: a complete valid configuration checked in process, ``rules.holds`` over every
  rule (what ``Workspace.validate`` does for complete configurations); beside it, two
  alternatives for comparison: re-checking only the rules of one changed slot (an index of
  rules by slot) and asking the SAT solver (``Engine.is_consistent``);
- options: about half the slots fixed to the planted configuration, ``Engine.options`` for
  every open slot (with minimal blame, the default, and without);
- explain and fix: the planted configuration with two values changed, each breaking rules;
  ``fix`` breaks ties by the values' cost as ``Workspace.fix`` does;
- count: d4 on the whole product line, in a child process with a time limit (TIMEOUT when
  it runs out), so that a hard count cannot hang the benchmark.

Every figure is the median of several runs on one engine (fewer when a run is slow: each
operation has a time budget, and the table says how many runs it got). The last columns
give the growth from the small to the large size, and the aims of the issue.

Usage: python benchmarks/bench_engine.py [--quick] [--runs N] [--seed S] [--count-timeout S]
(--quick: a twentieth and a tenth of the scale, one run each; a smoke run). Not part of the
test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import Instance, break_configuration, generate  # noqa: E402

from cmf_config.rules import Rule, holds  # noqa: E402
from cmf_config.solver import Engine, count_models  # noqa: E402

LARGE = (100, 3000)
SMALL = (10, 300)
QUICK = ((5, 150), (10, 300))
BUDGET_S = 60.0  # stop repeating an operation once its runs have taken this long
COUNT_MEMORY_GIB = 16  # address-space limit of the counting child process
AIMS: Mapping[str, tuple[float, str]] = {"options": (0.050, "< 50 ms"), "validate": (0.001, "< 1 ms")}


@attrs.frozen(kw_only=True)
class Timing:
    """The runs of one operation at one size."""

    median: float | None
    runs: int
    note: str = ""


@attrs.define
class Case:
    """One instance, its engine and the configurations the operations work on."""

    instance: Instance
    engine: Engine
    partial: dict[str, int]
    broken: dict[str, int]
    costs: dict[str, list[float]]
    index: dict[str, list[Rule]]
    results: dict[str, Timing] = attrs.field(factory=dict)
    facts: list[str] = attrs.field(factory=list)


def measure(function: Callable[[], object], runs: int, budget: float = BUDGET_S) -> Timing:
    """Median wall-clock time of up to `runs` runs, stopping early once `budget` is spent."""
    times: list[float] = []
    while len(times) < runs and sum(times) < budget:
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return Timing(median=statistics.median(times), runs=len(times))


def measure_fast(function: Callable[[], object], runs: int) -> Timing:
    """Median per-call time of a fast operation: each run repeats it for about 0.2 s."""
    start = time.perf_counter()
    function()
    once = max(time.perf_counter() - start, 1e-7)
    repeat = max(1, min(10_000, int(0.2 / once)))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        times.append((time.perf_counter() - start) / repeat)
    return Timing(median=statistics.median(times), runs=runs, note=f"x{repeat}")


def build(slots: int, rules: int, seed: int, runs: int) -> Case:
    """Generate an instance and time its compilation (the last engine built is kept)."""
    instance = generate(slots, rules, seed)
    engines: list[Engine] = []

    def compile_engine() -> None:
        for old in engines:
            old.close()
        engine = Engine(instance.problem, instance.rules)
        engine.sat  # noqa: B018  (loading the clauses into the solver is part of compiling)
        engines[:] = [engine]

    timing = measure(compile_engine, runs)
    engine = engines[0]
    rng = random.Random(seed + 1)
    names = [s.name for s in instance.problem.slots]
    fixed = rng.sample(names, len(names) // 2)
    index: dict[str, list[Rule]] = {name: [] for name in names}
    for rule in instance.rules:
        for name in rule.slots:
            index[name].append(rule)
    case = Case(
        instance=instance,
        engine=engine,
        partial={name: instance.planted[name] for name in fixed},
        broken=break_configuration(instance, 2, seed + 2),
        costs={s.name: [v.cost for v in s.values] for s in instance.problem.slots},
        index=index,
    )
    case.results["compile"] = timing
    encoding = engine.encoding
    case.facts.append(
        f"{slots} slots, {instance.variants} variants, {len(instance.rules)} rules "
        f"({', '.join(f'{k} {v}' for k, v in instance.kinds.items())}); "
        f"CNF {encoding.nvars:,} variables, {len(encoding.clauses):,} clauses"
    )
    return case


def validate(case: Case, assignment: Mapping[str, int]) -> list[str]:
    """The ids of the rules a complete assignment breaks (the in-process validation)."""
    problem = case.instance.problem
    return [rule.id for rule in case.instance.rules if not holds(problem, rule, assignment)]


def validate_slot(case: Case, assignment: Mapping[str, int], slot: str) -> list[str]:
    """Re-validation after a change of one slot: only the rules that read it."""
    problem = case.instance.problem
    return [rule.id for rule in case.index[slot] if not holds(problem, rule, assignment)]


def run_operations(case: Case, runs: int) -> None:
    """Time every in-process operation on a built case and record sanity facts."""
    engine, planted, broken = case.engine, case.instance.planted, case.broken
    assert not validate(case, planted), "the planted configuration must be valid"
    case.results["validate"] = measure_fast(lambda: validate(case, planted), runs)
    slot = max(case.index, key=lambda name: len(case.index[name]))
    case.results["validate, 1 slot"] = measure_fast(lambda: validate_slot(case, planted, slot), runs)
    case.results["validate, SAT"] = measure_fast(lambda: engine.is_consistent(planted), runs)
    options = engine.options(case.partial)
    possible = sum(len(o.possible) for o in options.values())
    excluded = sum(len(o.excluded) for o in options.values())
    case.facts.append(f"options: {len(case.partial)} slots fixed, {len(options)} open, {possible} values possible, {excluded} excluded")
    case.results["options"] = measure(lambda: engine.options(case.partial), runs)
    case.results["options, no min."] = measure(lambda: engine.options(case.partial, minimal=False), runs)
    broken_rules = validate(case, broken)
    conflict = engine.explain(broken)
    assert conflict is not None, "the broken configuration must be inconsistent"
    case.facts.append(
        f"explain: {len(broken_rules)} rules broken; minimal conflict of {len(conflict.choices)} choices and {len(conflict.rules)} rules"
    )
    case.results["explain"] = measure(lambda: engine.explain(broken), runs)
    fixed = engine.fix(broken, case.costs)
    assert fixed is not None
    assert not validate(case, fixed[0]), "a fix must be valid"
    case.facts.append(f"fix: {len(fixed[1])} changes")
    case.results["fix"] = measure(lambda: engine.fix(broken, case.costs), runs)


def run_count(case: Case, runs: int, timeout: float) -> None:
    """Count the whole product line with d4 in child processes; TIMEOUT past `timeout` s."""
    engine = case.engine
    clauses = engine.encoding.clauses + engine._selector_units()  # the units count() adds
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "line.cnf"
        lines = [f"p cnf {engine.encoding.nvars} {len(clauses)}", *(" ".join(map(str, c)) + " 0" for c in clauses)]
        path.write_text("\n".join(lines) + "\n")
        times: list[float] = []
        count = ""
        for _ in range(runs):
            command = [sys.executable, __file__, "--count-cnf", str(path)]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                case.results["count"] = Timing(median=None, runs=len(times) + 1, note=f"TIMEOUT > {timeout:.0f} s")
                case.facts.append(f"count: no result within {timeout:.0f} s")
                return
            if done.returncode != 0:
                tail = (done.stderr.strip().splitlines() or ["?"])[-1]
                case.results["count"] = Timing(median=None, runs=len(times) + 1, note=f"FAILED: {tail[:60]}")
                case.facts.append(f"count: child failed ({tail})")
                return
            answer = json.loads(done.stdout.strip().splitlines()[-1])
            times.append(float(answer["seconds"]))
            count = str(answer["count"])
    digits = len(count)
    shown = count if digits <= 20 else f"{count[:6]}...e{digits - 1} ({digits} digits)"
    case.facts.append(f"count: {shown} valid configurations")
    case.results["count"] = Timing(median=statistics.median(times), runs=len(times))


def count_child(path: Path) -> int:
    """In the child process: read a DIMACS CNF, count it with d4, print JSON."""
    limit = COUNT_MEMORY_GIB * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    clauses: list[list[int]] = []
    nvars = 0
    for line in path.read_text().splitlines():
        if line.startswith("p cnf"):
            nvars = int(line.split()[2])
        elif line:
            clauses.append([int(x) for x in line.split()[:-1]])
    start = time.perf_counter()
    count = count_models(clauses, nvars)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "count": str(count)}))
    return 0


def _ms(timing: Timing | None) -> str:
    if timing is None:
        return "-"
    if timing.median is None:
        return timing.note
    value = timing.median * 1000
    text = f"{value:,.3f} ms" if value < 1 else f"{value:,.1f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"
    return f"{text} ({timing.runs}{timing.note})" if timing.note.startswith("x") else f"{text} ({timing.runs})"


def report(small: Case, large: Case, labels: tuple[str, str]) -> None:
    """Print the facts of both instances and the table of medians."""
    for label, case in zip(labels, (small, large), strict=True):
        print(f"{label}: " + "\n  ".join(case.facts))
    header = ["operation", labels[0], labels[1], "growth", "aim (large)", "met"]
    rows = [header]
    for name in small.results:
        a, b = small.results.get(name), large.results.get(name)
        growth = "-"
        if a and b and a.median and b.median:
            growth = f"x{b.median / a.median:,.1f}"
        aim, met = "", ""
        if name in AIMS and b is not None:
            limit, aim = AIMS[name]
            met = "yes" if b.median is not None and b.median < limit else "NO"
        rows.append([name, _ms(a), _ms(b), growth, aim, met])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print()
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print("(median of n runs: 'ms (n)'; 'xR' = calls per timed run for sub-millisecond operations)")


def main(argv: Sequence[str] | None = None) -> int:
    """Build both instances, time every operation, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each (smoke run)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per operation (default 5; 1 with --quick)")
    parser.add_argument("--seed", type=int, default=20240603)
    parser.add_argument("--count-timeout", type=float, default=None, help="seconds for one d4 count (default 120; 30 with --quick)")
    parser.add_argument("--count-cnf", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_cnf is not None:
        return count_child(args.count_cnf)
    runs = args.runs or (1 if args.quick else 5)
    timeout = args.count_timeout or (30.0 if args.quick else 120.0)
    sizes = QUICK if args.quick else (SMALL, LARGE)
    print(f"engine benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} cores, seed {args.seed}, up to {runs} runs")
    cases = []
    for slots, rules in sizes:
        case = build(slots, rules, args.seed, runs)
        run_operations(case, runs)
        run_count(case, max(1, runs // 2) if slots < LARGE[0] else 1, timeout)
        case.engine.close()
        cases.append(case)
    labels = (f"{sizes[0][0]} slots/{sizes[0][1]} rules", f"{sizes[1][0]} slots/{sizes[1][1]} rules")
    report(cases[0], cases[1], labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
