"""Benchmark the rule engine on synthetic product lines at two sizes (issue 3).

The large instance is the scale of a large real product line: 100 slots with about 1,500
variants and 3,000 rules (see synthetic.py). The small one is a tenth of it: 10 slots, about
150 variants, 300 rules. For each size it times:

- compile: ``Engine(problem, rules)`` plus loading the clauses into the SAT solver;
- validate: a complete valid configuration checked in process, ``rules.holds`` over every
  rule (what ``Workspace.validate`` does for complete configurations); beside it, two
  alternatives for comparison: re-checking only the rules that read one slot (the slot read
  by most rules, through an index of rules by slot) and asking the SAT solver
  (``Engine.is_consistent`` on the complete configuration);
- options: about half the slots fixed to the planted configuration, ``Engine.options`` for
  every open slot, with minimal reasons (the default) and without;
- explain and fix: the planted configuration with two values changed, each breaking rules;
  ``fix`` breaks ties by the values' cost, as ``Workspace.fix`` does;
- count: d4 (``count.count_models``) on the whole product line, in a child process with a
  time limit (TIMEOUT when it runs out), so that a hard count cannot hang the benchmark.

Every figure is the wall-clock median of several runs on one engine (fewer when runs are
slow: an operation stops repeating after 60 s; the table gives the number of runs). The
growth column divides the large figure by the small one. The machine's load average is
printed before and after, because other processes skew wall-clock times.

``--what-if`` adds rows that time prototypes of the changes the README proposes (they are
not the engine's behaviour): validation by one SAT call with the hard rules as unit clauses,
options by covering queries without reasons, fix without re-appending the hard clauses one
by one, and d4 with its classic branching heuristic.

Usage: python benchmarks/bench_engine.py [--quick] [--what-if] [--runs N] [--seed S]
[--count-timeout S]. --quick: a twentieth and a tenth of the scale, one run each (a smoke
run). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import itertools
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
import numpy as np
from pysat.examples.rc2 import RC2
from pysat.formula import WCNF
from pysat.solvers import Solver

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import Instance, break_configuration, generate

from cmf_config.count import count_models
from cmf_config.encode import Encoding
from cmf_config.problem import Problem
from cmf_config.rules import (
    IR,
    Const,
    K,
    Op,
    Ref,
    Rule,
    apply,
    evaluate,
    holds,
    ref_value,
    slots_of,
)
from cmf_config.sat import SOLVER as SOLVER_NAME
from cmf_config.solver import Engine

LARGE = (100, 3000)
SMALL = (10, 300)
QUICK = ((5, 150), (10, 300))
BUDGET_S = 60.0  # stop repeating an operation once its runs have taken this long
COUNT_MEMORY_GIB = 16  # address-space limit of the counting child process
AIMS: Mapping[str, tuple[float, str]] = {
    "options": (0.050, "< 50 ms"),
    "validate": (0.001, "< 1 ms"),
}


@attrs.frozen(kw_only=True)
class Timing:
    """The runs of one operation at one size: median seconds (None: no result), runs, note."""

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
    case.facts.append(f"CNF clauses by rule kind: {_clauses_by_kind(instance)}")
    return case


def _clauses_by_kind(instance: Instance) -> str:
    """How many clauses each kind of rule adds to the encoding (in the order rules come)."""
    encoding = Encoding(instance.problem)
    base = len(encoding.clauses)
    added: dict[str, int] = {}
    for rule in instance.rules:
        before = len(encoding.clauses)
        encoding.lit(rule.formula)
        kind = rule.id.split("-", 1)[1]
        added[kind] = added.get(kind, 0) + len(encoding.clauses) - before
    total = len(encoding.clauses)
    parts = [f"slots {base:,}"] + [
        f"{kind} {n:,} ({100 * n / total:.0f} %)"
        for kind, n in sorted(added.items(), key=lambda kv: -kv[1])
    ]
    return ", ".join(parts)


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
    case.facts.append(f"validate, 1 slot: the {len(case.index[slot])} rules that read {slot}")
    case.results["validate, 1 slot"] = measure_fast(
        lambda: validate_slot(case, planted, slot), runs
    )
    case.results["validate, SAT (the CLI's path)"] = measure_fast(
        lambda: engine.is_consistent(planted), runs
    )
    options = engine.options(case.partial)
    possible = sum(len(o.possible) for o in options.values())
    excluded = sum(len(o.excluded) for o in options.values())
    case.facts.append(
        f"options: {len(case.partial)} slots fixed, {len(options)} open, {possible} values possible, {excluded} excluded"
    )
    case.results["options"] = measure(lambda: engine.options(case.partial), runs)
    case.results["options, no min."] = measure(
        lambda: engine.options(case.partial, minimal=False), runs
    )
    case.results["options, no reasons"] = measure(
        lambda: engine.options(case.partial, reasons=False), runs
    )
    broken_rules = validate(case, broken)
    conflict = engine.explain(broken)
    assert conflict is not None, "the broken configuration must be inconsistent"
    case.facts.append(
        f"explain: {_n(len(broken_rules), 'rule')} broken; minimal conflict of {_n(len(conflict.choices), 'choice')} and {_n(len(conflict.rules), 'rule')}"
    )
    case.results["explain"] = measure(lambda: engine.explain(broken), runs)
    fixed = engine.fix(broken, case.costs)
    assert fixed is not None
    assert not validate(case, fixed[0]), "a fix must be valid"
    case.facts.append(f"fix: {_n(len(fixed[1]), 'change')}")
    case.results["fix"] = measure(lambda: engine.fix(broken, case.costs), runs)


def run_count(
    case: Case, runs: int, timeout: float, row: str = "count", branching: str = ""
) -> None:
    """Count the whole product line with d4 in child processes; TIMEOUT past `timeout` s."""
    engine = case.engine
    clauses = engine.encoding.clauses + engine.selector_units()  # what Engine.count({}) counts
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "line.cnf"
        lines = [
            f"p cnf {engine.encoding.nvars} {len(clauses)}",
            *(" ".join(map(str, c)) + " 0" for c in clauses),
        ]
        path.write_text("\n".join(lines) + "\n")
        times: list[float] = []
        count = ""
        for _ in range(runs):
            command = [
                sys.executable,
                __file__,
                "--count-cnf",
                str(path),
                "--d4-branching",
                branching,
            ]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=timeout, check=False
                )
            except subprocess.TimeoutExpired:
                case.results[row] = Timing(
                    median=None, runs=len(times) + 1, note=f"TIMEOUT > {timeout:.0f} s"
                )
                case.facts.append(f"{row}: no result within {timeout:.0f} s")
                return
            if done.returncode != 0:
                tail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
                case.results[row] = Timing(
                    median=None, runs=len(times) + 1, note=f"FAILED: {tail[:60]}"
                )
                case.facts.append(f"{row}: the child process failed ({tail})")
                return
            answer = json.loads(done.stdout.strip().splitlines()[-1])
            times.append(float(answer["seconds"]))
            count = str(answer["count"])
    digits = len(count)
    shown = f"{int(count):,}" if digits <= 20 else f"{count[:6]}...e{digits - 1} ({digits} digits)"
    case.facts.append(f"{row}: {shown} valid configurations")
    case.results[row] = Timing(median=statistics.median(times), runs=len(times))


def count_child(path: Path, branching: str) -> int:
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
    count = _count_with(clauses, nvars, branching) if branching else count_models(clauses, nvars)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "count": str(count)}))
    return 0


def _count_with(clauses: list[list[int]], nvars: int, branching: str) -> int:
    """What-if: count_models with another d4 branching heuristic (d4 prints on C stdout)."""
    import py_d4

    options = py_d4.dump_options_to_dict(py_d4.OptionDpllStyleMethod())
    options["branching"]["branchingHeuristicType"] = branching
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        result = py_d4.Solver(clauses, nvars, py_d4.load_options_from_dict(options)).count()
        text = str(result.getResult())
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    return int(text.strip().split()[-1])


# ------------------------------------------------------------------ what-if prototypes


class _FastValidator:
    """Complete-configuration validation without re-walking every rule tree.

    Rules scoped by one value (``when A == a``) are indexed by that value and their constraint
    is evaluated only when the configuration takes it; formulas are built once; ``=>``, ``and``
    and ``or`` short-circuit. With ``tables``, every rule over at most three slots is
    tabulated once (its truth value for every combination of their values), and every wider
    rule that is linear in single-slot terms (cardinalities, sums) becomes per-value weights
    and a bound; each of the two groups is then checked by a few NumPy operations.
    """

    def __init__(self, problem: Problem, rules: Sequence[Rule], tables: bool) -> None:
        self.problem = problem
        self.order = {slot.name: i for i, slot in enumerate(problem.slots)}
        self.scoped: dict[tuple[str, int], list[tuple[str, IR]]] = {}
        self.walked: list[tuple[str, IR]] = []
        tabled: list[Rule] = []
        linear: list[tuple[str, dict[str, list[float]], str, float]] = []
        for rule in rules:
            form = self._linear(rule.formula) if tables and len(rule.slots) > 3 else None
            if tables and len(rule.slots) <= 3:
                tabled.append(rule)
            elif form is not None:
                linear.append((rule.id, *form))
            elif (key := self._scope_key(rule.scope)) is not None:
                self.scoped.setdefault(key, []).append((rule.id, rule.constraint))
            else:
                self.walked.append((rule.id, rule.formula))
        self.tabulated = len(tabled)
        self.linear_count = len(linear)
        self._tabulate(tabled)
        self._weigh(linear)

    @property
    def walked_count(self) -> int:
        """How many rules are evaluated by walking their trees (when they apply)."""
        return len(self.walked) + sum(len(rules) for rules in self.scoped.values())

    def _scope_key(self, scope: IR) -> tuple[str, int] | None:
        if isinstance(scope, Op) and scope.op == "==":
            ref, value = scope.args
            if (
                isinstance(ref, Ref)
                and ref.attr is None
                and isinstance(value, K)
                and isinstance(value.value, str)
            ):
                index = self.problem.slot(ref.slot).index(value.value)
                if index is not None:
                    return ref.slot, index
        return None

    def _weights(self, term: IR, weights: dict[str, list[float]]) -> bool:
        """Add a single-slot numeric or boolean term's per-value weights; False if it is not one."""
        names = list(slots_of(term))
        if len(names) != 1:
            return False
        name = names[0]
        row = weights.setdefault(name, [0.0] * len(self.problem.slot(name).values))
        for index in range(len(row)):
            value = evaluate(self.problem, term, {name: index})
            if not isinstance(value, bool | float):
                return False
            row[index] += float(value)
        return True

    def _linear(self, formula: IR) -> tuple[dict[str, list[float]], str, float] | None:
        """A wide rule as (weights per slot and value, relation, bound), when it is linear."""
        if not isinstance(formula, Op):
            return None
        weights: dict[str, list[float]] = {}
        relation = {"at_most": "<=", "at_least": ">=", "exactly": "=="}.get(formula.op)
        first = formula.args[0]
        if relation is not None and isinstance(first, K) and isinstance(first.value, float):
            terms: Sequence[IR] = formula.args[1:]
            bound = first.value
        elif (
            formula.op in ("<", "<=", ">", ">=")
            and isinstance(right := formula.args[1], K)
            and isinstance(right.value, float)
        ):
            left = formula.args[0]
            terms = left.args if isinstance(left, Op) and left.op == "+" else (left,)
            relation, bound = formula.op, right.value
        else:
            return None
        if not all(self._weights(term, weights) for term in terms):
            return None
        return weights, relation, bound

    def _tabulate(self, rules: Sequence[Rule]) -> None:
        parts: list[list[bool]] = []
        columns: list[list[int]] = []
        strides: list[list[int]] = []
        offsets: list[int] = []
        offset = 0
        for rule in rules:
            names = sorted(rule.slots, key=self.order.__getitem__)
            sizes = [len(self.problem.slot(name).values) for name in names]
            formula = rule.formula
            truth = [
                bool(evaluate(self.problem, formula, dict(zip(names, combo, strict=True))))
                for combo in itertools.product(*(range(n) for n in sizes))
            ]
            stride = [1] * len(sizes)
            for i in range(len(sizes) - 2, -1, -1):
                stride[i] = stride[i + 1] * sizes[i + 1]
            pad = 3 - len(names)
            columns.append([self.order[name] for name in names] + [0] * pad)
            strides.append(stride + [0] * pad)
            offsets.append(offset)
            parts.append(truth)
            offset += len(truth)
        self.ids = [rule.id for rule in rules]
        self.entries = offset
        self.table = np.array([v for part in parts for v in part], dtype=bool)
        self.columns = np.array(columns, dtype=np.intp).reshape(-1, 3)
        self.strides = np.array(strides, dtype=np.intp).reshape(-1, 3)
        self.offsets = np.array(offsets, dtype=np.intp)

    def _weigh(self, linear: Sequence[tuple[str, dict[str, list[float]], str, float]]) -> None:
        width = max((len(weights) for _, weights, _, _ in linear), default=1)
        flat: list[float] = []
        columns, starts, masks = [], [], []
        for _, weights, _, _ in linear:
            names = sorted(weights, key=self.order.__getitem__)
            row_columns, row_starts = [], []
            for name in names:
                row_columns.append(self.order[name])
                row_starts.append(len(flat))
                flat += weights[name]
            pad = width - len(names)
            columns.append(row_columns + [0] * pad)
            starts.append(row_starts + [0] * pad)
            masks.append([1.0] * len(names) + [0.0] * pad)
        self.linear_ids = [rid for rid, _, _, _ in linear]
        self.weights = np.array(flat or [0.0])
        self.linear_columns = np.array(columns, dtype=np.intp).reshape(-1, width)
        self.linear_starts = np.array(starts, dtype=np.intp).reshape(-1, width)
        self.linear_masks = np.array(masks).reshape(-1, width)
        self.bounds = np.array([bound for _, _, _, bound in linear])
        relations = [relation for _, _, relation, _ in linear]
        self.relations = {
            op: np.array([r == op for r in relations], dtype=bool)
            for op in ("<", "<=", ">", ">=", "==")
        }

    def broken(self, assignment: Mapping[str, int]) -> list[str]:
        """The ids of the rules a complete assignment breaks."""
        out: list[str] = []
        if self.ids or self.linear_ids:
            values = np.array([assignment[slot.name] for slot in self.problem.slots], dtype=np.intp)
        if self.ids:
            held = self.table[self.offsets + (values[self.columns] * self.strides).sum(axis=1)]
            if not held.all():
                out += [self.ids[i] for i in np.flatnonzero(~held)]
        if self.linear_ids:
            sums = (
                self.weights[self.linear_starts + values[self.linear_columns]] * self.linear_masks
            ).sum(axis=1)
            diff = sums - self.bounds
            eps = 1e-9 * np.maximum(1.0, np.maximum(np.abs(sums), np.abs(self.bounds)))
            rel = self.relations
            held = (
                (rel["<"] & (diff < -eps))
                | (rel["<="] & (diff <= eps))
                | (rel[">"] & (diff > eps))
                | (rel[">="] & (diff >= -eps))
                | (rel["=="] & (np.abs(diff) <= eps))
            )
            if not held.all():
                out += [self.linear_ids[i] for i in np.flatnonzero(~held)]
        out += [rid for rid, formula in self.walked if not self._holds(formula, assignment)]
        for item in assignment.items():
            for rid, constraint in self.scoped.get(item, ()):
                if not self._holds(constraint, assignment):
                    out.append(rid)
        return out

    def _holds(self, node: IR, assignment: Mapping[str, int]) -> bool:
        return bool(self._value(node, assignment))

    def _value(self, node: IR, assignment: Mapping[str, int]) -> Const:
        if isinstance(node, K):
            return node.value
        if isinstance(node, Ref):
            return ref_value(self.problem, node, assignment[node.slot])
        if node.op == "=>":
            return not self._value(node.args[0], assignment) or bool(
                self._value(node.args[1], assignment)
            )
        if node.op == "and":
            return all(self._value(a, assignment) for a in node.args)
        if node.op == "or":
            return any(self._value(a, assignment) for a in node.args)
        return apply(node.op, [self._value(a, assignment) for a in node.args])


class _Covering:
    """Options without reasons: ask for a model taking any value not yet seen, until none.

    Each query adds a clause 'act -> some unseen value' under a fresh activation literal;
    each model removes at least one value from the unseen set, and the final unsatisfiable
    query proves every value still unseen excluded, all at once. The hard rules are unit
    clauses of a dedicated solver, so the queries assume only the fixed choices.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.solver = Solver(
            name=SOLVER_NAME,
            bootstrap_with=engine.encoding.clauses + [[lit] for lit in engine.hard_lits()],
        )
        self.top = engine.encoding.nvars
        self.calls = 0

    def options(self, assignment: Mapping[str, int]) -> dict[str, set[int]]:
        """For each open slot, the indices of the values some valid completion takes."""
        engine = self.engine
        base = engine.choice_lits(assignment)
        open_slots = [s.name for s in engine.problem.slots if s.name not in assignment]
        unseen = {
            (name, i): lit
            for name in open_slots
            for i, lit in enumerate(engine.encoding.slot_lits[name])
        }
        self.calls = 0
        while unseen:
            self.top += 1
            act = self.top
            self.solver.add_clause([-act, *unseen.values()])
            self.calls += 1
            found = self.solver.solve(assumptions=[*base, act])
            model = self.solver.get_model() if found else None
            self.solver.add_clause([-act])  # retire the query clause
            if model is None:
                break
            decoded = engine.decode(model)
            for name in open_slots:
                unseen.pop((name, decoded[name]), None)
        out: dict[str, set[int]] = {name: set() for name in open_slots}
        for name in open_slots:
            out[name] = {
                i for i in range(len(engine.encoding.slot_lits[name])) if (name, i) not in unseen
            }
        return out

    def close(self) -> None:
        """Free the solver."""
        self.solver.delete()


def _fix_reusing_hard(
    engine: Engine,
    hard: list[list[int]],
    assignment: Mapping[str, int],
    costs: Mapping[str, Sequence[float]],
) -> list[int] | None:
    """Engine.fix's MaxSAT problem, with the hard clauses handed over as one list."""
    weights = {name: [max(0, round(w * 100)) for w in ws] for name, ws in costs.items()}
    big = 1 + sum(max(ws, default=0) for ws in weights.values())
    wcnf = WCNF()
    wcnf.hard = list(hard)
    wcnf.nv = engine.encoding.nvars
    for name, index in sorted(assignment.items()):
        wcnf.append([engine.encoding.slot_lits[name][index]], weight=big)
    for name, ws in sorted(weights.items()):
        for lit, weight in zip(engine.encoding.slot_lits[name], ws, strict=True):
            if weight > 0:
                wcnf.append([-lit], weight=weight)
    with RC2(wcnf, solver="g4") as rc2:
        model = rc2.compute()
        return list(model) if model is not None else None


def _random_configuration(case: Case, rng: random.Random) -> dict[str, int]:
    return {slot.name: rng.randrange(len(slot.values)) for slot in case.instance.problem.slots}


def run_what_if(case: Case, runs: int, count_runs: int, timeout: float) -> None:
    """Time prototypes of the proposed changes on the same instance and configurations."""
    engine = case.engine
    planted, broken = case.instance.planted, case.broken
    fast = _FastValidator(case.instance.problem, case.instance.rules, tables=False)
    assert fast.broken(planted) == []
    assert sorted(fast.broken(broken)) == sorted(validate(case, broken))
    case.results["what-if: validate, scope index"] = measure_fast(
        lambda: fast.broken(planted), runs
    )
    start = time.perf_counter()
    tabled = _FastValidator(case.instance.problem, case.instance.rules, tables=True)
    case.facts.append(
        f"what-if validate by tables: {tabled.tabulated} rules over <= 3 slots in {tabled.entries:,} "
        f"table entries and {tabled.linear_count} linear rules, built in {time.perf_counter() - start:.1f} s; "
        f"{tabled.walked_count} rules walked"
    )
    rng = random.Random(len(case.instance.rules))
    for trial in [planted, broken] + [_random_configuration(case, rng) for _ in range(20)]:
        assert sorted(tabled.broken(trial)) == sorted(validate(case, trial)), (
            "the tables must agree"
        )
    case.results["what-if: validate, tables"] = measure_fast(lambda: tabled.broken(planted), runs)
    covering = _Covering(engine)
    try:
        got = covering.options(case.partial)
        want = engine.options(case.partial, minimal=False)
        assert got == {
            n: {engine.problem.slot(n).index(v) for v in o.possible} for n, o in want.items()
        }, "covering must agree"
        case.facts.append(f"what-if options by covering: {covering.calls} SAT calls")
        case.results["what-if: options, covering"] = measure(
            lambda: covering.options(case.partial), runs
        )
    finally:
        covering.close()
    hard = engine.encoding.clauses + engine.selector_units()
    model = _fix_reusing_hard(engine, hard, case.broken, case.costs)
    reference = engine.fix(case.broken, case.costs)
    assert model is not None
    assert reference is not None
    fixed = engine.decode(model)
    assert sum(fixed[n] != i for n, i in case.broken.items()) == len(reference[1]), (
        "the fix prototype must agree"
    )
    case.results["what-if: fix, hard reused"] = measure(
        lambda: _fix_reusing_hard(engine, hard, case.broken, case.costs), runs
    )
    run_count(case, count_runs, timeout, row="what-if: count, d4 classic", branching="classic")


# ------------------------------------------------------------------ output


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _ms(timing: Timing | None) -> str:
    if timing is None:
        return "-"
    if timing.median is None:
        return timing.note
    value = timing.median * 1000
    text = (
        f"{value:,.3f} ms"
        if value < 1
        else f"{value:,.1f} ms"
        if value < 10_000
        else f"{value / 1000:,.1f} s"
    )
    return f"{text} ({timing.runs}{timing.note})"


def report(small: Case, large: Case, labels: tuple[str, str], has_aims: bool) -> None:
    """Print the facts of both instances and the table of medians."""
    for label, case in zip(labels, (small, large), strict=True):
        print(f"{label}:\n  " + "\n  ".join(case.facts))
    header = ["operation", labels[0], labels[1], "growth", "aim (large)", "met"]
    rows = [header]
    for name in small.results:
        a, b = small.results.get(name), large.results.get(name)
        growth = "-"
        if a and b and a.median and b.median:
            growth = f"x{b.median / a.median:,.1f}"
        aim, met = "", ""
        if has_aims and name in AIMS and b is not None:
            limit, aim = AIMS[name]
            met = "yes" if b.median is not None and b.median < limit else "NO"
        rows.append([name, _ms(a), _ms(b), growth, aim, met])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print()
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(
        "wall-clock medians; (n) runs, (nxR) n runs of R calls each for sub-millisecond operations"
    )


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    """Build both instances, time every operation, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, one run each (smoke run)"
    )
    parser.add_argument(
        "--what-if", action="store_true", help="also time prototypes of the proposed changes"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="timed runs per operation (default 5; 1 with --quick)",
    )
    parser.add_argument("--seed", type=int, default=20240603)
    parser.add_argument(
        "--count-timeout",
        type=float,
        default=None,
        help="seconds for one d4 count (default 120; 60 with --quick)",
    )
    parser.add_argument("--count-cnf", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--d4-branching", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_cnf is not None:
        return count_child(args.count_cnf, args.d4_branching)
    runs = args.runs or (1 if args.quick else 5)
    timeout = args.count_timeout or (60.0 if args.quick else 120.0)
    sizes = QUICK if args.quick else (SMALL, LARGE)
    print(
        f"engine benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} cores, seed {args.seed}, up to {runs} runs; {_load()}"
    )
    cases = []
    for slots, rules in sizes:
        case = build(slots, rules, args.seed, runs)
        run_operations(case, runs)
        count_runs = 1 if slots >= LARGE[0] else max(1, runs // 2)
        run_count(case, count_runs, timeout)
        if args.what_if:
            run_what_if(case, runs, count_runs, timeout)
        case.engine.close()
        cases.append(case)
    labels = (
        f"{sizes[0][0]} slots/{sizes[0][1]} rules",
        f"{sizes[1][0]} slots/{sizes[1][1]} rules",
    )
    report(cases[0], cases[1], labels, has_aims=sizes[1] == LARGE)
    print(f"after the run: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
