"""Benchmark the variant-BOM checks (issue 6) on synthetic product lines at three sizes.

The full size is that of a large real product line: 100 slots with about 1,500 options, 3,000
rules (the product line of synthetic.py) and about 35,000 parts in BOM positions. The other
sizes are a tenth and a third of it (slots, rules and parts alike).

Positions are drawn like those of a real "150%" BOM: each belongs to one option (a slot value,
as a position belongs to a module variant), is sometimes needed only under a condition over
one option of its cluster, and splits its alternatives by the values of another slot of the
cluster (``B in [...]``), sometimes refined by a flag of a third slot (``... and C.premium``).
Such alternatives are exclusive and exhaustive by construction, but the rules may still make
some of them unreachable: those are real findings too, counted as *incidental*.

Defects are planted on top, each certain to be real because the generator's planted valid
configuration P shows it (or a hard rule forbids the condition):

- overlap: an alternative's values also take P's value, next to the alternative that has it
  (a uniqueness finding with P as witness);
- gap: the alternative that P selects is dropped (a completeness finding);
- impossible: an alternative whose condition is the pair an ``excludes`` rule forbids (a
  superfluous part).

The check is timed as ``variantbom.check`` on a freshly compiled engine (so that encoding
the conditions is included), median of 3 runs; compiling the rules is timed apart. The table
gives the findings per check (all planted ones must be among them), the solver calls and the
growth from one size to the next.

Usage: python benchmarks/bench_variantbom.py [--quick] [--runs N] [--seed S] [--profile]
(--quick: a hundredth and a thirtieth of the full size, one run each; --profile: cProfile of
one check at the largest size, the top functions by cumulative time). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
from pysat.solvers import Solver

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import CLUSTER, Instance, generate

from cmf_config.errors import Diagnostic
from cmf_config.model import Alternative, Position
from cmf_config.problem import Problem, Slot
from cmf_config.rules import IR, TRUE, K, Op, Ref, evaluate
from cmf_config.solver import Engine
from cmf_config.variantbom import CompiledPosition, check

FULL = (100, 3000, 35_000)
# a tenth, a third and the full size (synthetic.py wants whole clusters of 10 slots: 30, not 33)
SIZES = ((10, 300, 3_500), (30, 1000, 11_667), FULL)
QUICK = ((5, 150, 1_750), (10, 300, 3_500))
DEFECTS_PER_10K = 3  # planted defects of each kind per 10,000 parts (at least 1)


@attrs.frozen(kw_only=True)
class Line:
    """A synthetic product line with its BOM positions and the defects planted in them."""

    instance: Instance
    positions: tuple[CompiledPosition, ...]
    planted: frozenset[tuple[str, str, tuple[str, ...]]]  # (check, position key, parts)

    @property
    def parts(self) -> int:
        """Alternatives over all positions."""
        return sum(len(p.conditions) for p in self.positions)


def _in(slot: Slot, indices: Sequence[int]) -> IR:
    ids = [slot.values[i].id for i in sorted(indices)]
    if len(ids) == 1:
        return Op("==", (Ref(slot.name), K(ids[0])))
    return Op("in", (Ref(slot.name), K(frozenset(ids))))


def _and(*items: IR) -> IR:
    kept = [i for i in items if i != TRUE]
    return kept[0] if len(kept) == 1 else Op("and", tuple(kept))


def _compiled(
    owner: Slot, index: int, pid: str, needed: IR, conditions: Sequence[IR]
) -> CompiledPosition:
    owner_id = owner.values[index].id
    alternatives = tuple(
        Alternative(
            part=f"{pid}-{i + 1}",
            name=f"part {i + 1} of {pid}",
            quantity=1,
            unit_cost=1.0,
            unit_mass_kg=1.0,
        )
        for i in range(len(conditions))
    )
    position = Position(id=pid, name=pid, alternatives=alternatives)
    return CompiledPosition(
        owner_slot=owner.name,
        owner=owner_id,
        position=position,
        needed=needed,
        conditions=tuple(conditions),
    )


def samples(instance: Instance, count: int, seed: int) -> list[dict[str, int]]:
    """`count` valid configurations spread over the product line (the planted one first).

    Glucose with random phases on the slot variables gives a different configuration each
    call; the positions are then drawn from value combinations these configurations show,
    so that their alternatives are reachable by construction.
    """
    engine = Engine(instance.problem, instance.rules)
    rng = random.Random(seed)
    out = [dict(instance.planted)]
    units = [[lit] for lit in engine.hard_lits()]
    with Solver(name="g4", bootstrap_with=engine.encoding.clauses + units) as solver:
        primary = range(1, engine.encoding.primary_vars + 1)
        while len(out) < count:
            solver.set_phases([v if rng.random() < 0.5 else -v for v in primary])
            if not solver.solve():
                break
            out.append(engine.decode(solver.get_model() or []))
    return out


def product_line(slots: int, rules: int, parts: int, seed: int, sample_count: int = 1500) -> Line:
    """The product line of synthetic.generate plus positions holding about `parts` parts."""
    instance = generate(slots, rules, seed)
    problem: Problem = instance.problem
    configs = samples(instance, sample_count, seed + 5)
    planted_config = configs[0]
    by_value: dict[tuple[str, int], list[int]] = {}
    for i, config in enumerate(configs):
        for name, value in config.items():
            by_value.setdefault((name, value), []).append(i)
    rng = random.Random(seed + 6)
    defects = max(1, round(DEFECTS_PER_10K * parts / 10_000))
    kinds = ["overlap", "gap", "impossible"] * defects
    spread = max(1, parts // 4)  # fewer positions than that: the defects sit among the first ones
    schedule = {round((i + 1) * spread / (len(kinds) + 1)): kind for i, kind in enumerate(kinds)}
    excludes = [r for r in instance.rules if r.id.endswith("-excludes")]
    positions: list[CompiledPosition] = []
    planted: set[tuple[str, str, tuple[str, ...]]] = set()
    made = 0
    while made < parts:
        pid = f"p{len(positions):05d}"
        kind = schedule.get(len(positions))
        seen = (
            planted_config if kind in ("overlap", "gap") else configs[rng.randrange(len(configs))]
        )
        owner = rng.choice(problem.slots)
        index = seen[owner.name]
        start = (problem.slots.index(owner) // CLUSTER) * CLUSTER
        cluster = [s for s in problem.slots[start : start + CLUSTER] if s.name != owner.name] or [
            s for s in problem.slots if s.name != owner.name
        ]
        needed: IR = TRUE
        if kind is None and rng.random() < 0.3:
            other = rng.choice(cluster)
            if (
                problem.slot(other.name).values[seen[other.name]].attributes["premium"]
                and rng.random() < 0.5
            ):
                needed = Ref(other.name, "premium")
            else:
                extra = rng.sample(range(len(other.values)), rng.randint(0, len(other.values) // 2))
                needed = _in(other, sorted({seen[other.name], *extra}))
        # the configurations that have the owner and need the position
        where = [configs[i] for i in by_value[(owner.name, index)]]
        where = [c for c in where if needed == TRUE or _holds(problem, needed, c)]
        selector, groups = _split(rng, cluster, where)
        if selector is None:
            continue
        if kind in ("overlap", "gap"):
            p_value = planted_config[selector.name]
            mine = next(i for i, g in enumerate(groups) if p_value in g)
            conditions = [_in(selector, g) for g in groups]
            if kind == "overlap":
                other_i = (mine + 1) % len(groups)
                conditions[other_i] = _in(selector, [*groups[other_i], p_value])
                a, b = sorted((mine, other_i))
                planted.add(
                    (
                        "uniqueness",
                        f"{owner.values[index].id}/{pid}",
                        (f"{pid}-{a + 1}", f"{pid}-{b + 1}"),
                    )
                )
            else:
                conditions.pop(mine)
                planted.add(("completeness", f"{owner.values[index].id}/{pid}", ()))
            positions.append(_compiled(owner, index, pid, needed, conditions))
            made += len(conditions)
            continue
        conditions = []
        for g in groups:
            flag = rng.choice(cluster)
            both = {
                problem.slot(flag.name).values[c[flag.name]].attributes["premium"]
                for c in where
                if c[selector.name] in g
            }
            if rng.random() < 0.2 and both == {True, False} and flag.name != selector.name:
                conditions += [
                    _and(_in(selector, g), Ref(flag.name, "premium")),
                    _and(_in(selector, g), Op("not", (Ref(flag.name, "premium"),))),
                ]
            else:
                conditions.append(_in(selector, g))
        if kind == "impossible":
            rule = rng.choice(excludes)
            assert isinstance(rule.constraint, Op)
            # the rule is not (X == x and Y == y): the pair it forbids is never selected
            conditions.append(rule.constraint.args[0])
            planted.add(
                ("superfluous", f"{owner.values[index].id}/{pid}", (f"{pid}-{len(conditions)}",))
            )
        positions.append(_compiled(owner, index, pid, needed, conditions))
        made += len(conditions)
    assert len(planted) == len(kinds), "every scheduled defect is planted"
    return Line(instance=instance, positions=tuple(positions), planted=frozenset(planted))


def _holds(problem: Problem, condition: IR, config: dict[str, int]) -> bool:
    return bool(evaluate(problem, condition, config))


def _split(
    rng: random.Random, cluster: Sequence[Slot], where: Sequence[dict[str, int]]
) -> tuple[Slot | None, list[list[int]]]:
    """A selector slot of the cluster and a partition of its values into 2-5 groups, each
    holding a value that some configuration in `where` takes (so every group is reachable)."""
    for _ in range(8):
        selector = rng.choice(cluster)
        taken = sorted({c[selector.name] for c in where})
        k = min(rng.choice((2, 3, 3, 4, 4, 5)), len(taken))
        if k < 2:
            continue
        groups = [[v] for v in rng.sample(taken, k)]
        for value in range(len(selector.values)):
            if not any(value in g for g in groups):
                rng.choice(groups).append(value)
        return selector, groups
    return None, []


@attrs.frozen(kw_only=True)
class Result:
    """What one size measured."""

    slots: int
    options: int
    rules: int
    positions: int
    parts: int
    compile_s: float
    check_s: float
    check_cpu_s: float
    runs: int
    solver_calls: int
    findings: Counter[str]
    planted: int
    planted_found: int
    extra: int
    cnf: str


def _key(f: Diagnostic) -> tuple[str, str, tuple[str, ...]]:
    return (f.kind, f.subject, f.parts)


def measure(line: Line, runs: int) -> Result:
    """Median time of `variantbom.check` on a fresh engine, `runs` times."""
    compile_times: list[float] = []
    check_times: list[float] = []
    cpu_times: list[float] = []
    findings: list[Diagnostic] = []
    calls = 0
    cnf = ""
    for _ in range(runs):
        start = time.perf_counter()
        engine = Engine(line.instance.problem, line.instance.rules)
        engine.sat  # noqa: B018  (loading the clauses into the solver is part of compiling)
        compile_times.append(time.perf_counter() - start)
        before = (engine.encoding.nvars, len(engine.encoding.clauses))
        with _counting_solver_calls() as counted:
            start, cpu = time.perf_counter(), time.process_time()
            findings = check(engine, line.positions)
            check_times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu)
        calls = counted[0]
        cnf = (
            f"CNF {before[0]:,} vars / {before[1]:,} clauses for the rules, "
            f"+{engine.encoding.nvars - before[0]:,} / +{len(engine.encoding.clauses) - before[1]:,} for the positions"
        )
        engine.close()
    found = {_key(f) for f in findings}
    return Result(
        slots=len(line.instance.problem.slots),
        options=line.instance.variants,
        rules=len(line.instance.rules),
        positions=len(line.positions),
        parts=line.parts,
        compile_s=statistics.median(compile_times),
        check_s=statistics.median(check_times),
        check_cpu_s=statistics.median(cpu_times),
        runs=runs,
        solver_calls=calls,
        findings=Counter(f.kind for f in findings),
        planted=len(line.planted),
        planted_found=len(line.planted & found),
        extra=len(found - line.planted),
        cnf=cnf,
    )


@contextlib.contextmanager
def _counting_solver_calls() -> Iterator[list[int]]:
    """Count the SAT calls of every solver object made meanwhile (the check makes its own)."""
    counted = [0]
    original = Solver.solve

    def solve(self: Solver, assumptions: list[int] = []) -> bool:  # noqa: B006  (pysat's signature)
        counted[0] += 1
        return bool(original(self, assumptions))

    Solver.solve = solve
    try:
        yield counted
    finally:
        Solver.solve = original


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table, with the growth from each size to the next."""
    head = (
        "| slots | options | rules | positions | parts | compile rules (s) | check (s) | check CPU (s) | growth (CPU) "
        "| solver calls | uniqueness | completeness | superfluous | planted found | other findings |"
    )
    rows = [head, "|" + " --- |" * (head.count("|") - 1)]
    previous: Result | None = None
    for r in results:
        growth = (
            ""
            if previous is None
            else f"x{r.check_cpu_s / previous.check_cpu_s:.1f} for x{r.parts / previous.parts:.1f} parts"
        )
        rows.append(
            f"| {r.slots} | {r.options:,} | {r.rules:,} | {r.positions:,} | {r.parts:,} | {r.compile_s:.2f} | {r.check_s:.2f} | {r.check_cpu_s:.2f} | {growth} | "
            f"{r.solver_calls:,} | {r.findings['uniqueness']} | {r.findings['completeness']} | {r.findings['superfluous']} | "
            f"{r.planted_found}/{r.planted} | {r.extra} |"
        )
        previous = r
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one run each (a smoke run)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per size (median; default 3)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--profile", action="store_true", help="profile one check at the largest size"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else SIZES
    runs = 1 if args.quick else args.runs
    results: list[Result] = []
    for slots, rules, parts in sizes:
        line = product_line(slots, rules, parts, args.seed)
        result = measure(line, runs)
        results.append(result)
        print(
            f"{slots} slots, {result.options} options, {rules} rules, {result.positions} positions, {result.parts} parts: "
            f"check {result.check_s:.2f} s, CPU {result.check_cpu_s:.2f} s (median of {runs}), {result.solver_calls} solver calls, "
            f"findings {dict(result.findings)}, planted found {result.planted_found}/{result.planted}; {result.cnf}",
            flush=True,
        )
        if result.planted_found != result.planted:
            print("ERROR: a planted defect was missed", file=sys.stderr)
            return 1
    print()
    print(table(results))
    if args.profile:
        slots, rules, parts = sizes[-1]
        line = product_line(slots, rules, parts, args.seed)
        engine = Engine(line.instance.problem, line.instance.rules)
        engine.sat  # noqa: B018
        profiler = cProfile.Profile()
        profiler.enable()
        check(engine, line.positions)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(18)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
