"""Bounded counts and anytime least-cost completions against the brute-force oracle.

A count is exact only when it is the oracle's number; "at least N" never exceeds it. A
completion is always valid and extends the choices; its lower bound never exceeds the least
cost; "proven least" means it is the least cost. Both paths of the completion are checked:
RC2 (small formulas) and the anytime solver path (the one large product lines take).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.bounded import Completion, WarmSolver, cost_of, product_bound
from cmf_config.configurator import Stepper
from cmf_config.problem import Problem
from cmf_config.rules import Rule
from cmf_config.solver import Engine, int_weights
from oracle import valid_assignments
from strategies import partial_assignments, worlds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def _weights(data: st.DataObject, problem: Problem) -> dict[str, list[float]]:
    return {
        slot.name: [data.draw(st.sampled_from([0.0, 1.0, 2.5, 7.0, 10.0])) for _ in slot.values]
        for slot in problem.slots
    }


def _cheapest(
    problem: Problem,
    rules: Sequence[Rule],
    state: Mapping[str, int],
    weights: Mapping[str, Sequence[int]],
) -> int | None:
    costs = [cost_of(weights, a) for a in valid_assignments(problem, rules, state)]
    return min(costs) if costs else None


def _honest(
    problem: Problem,
    rules: Sequence[Rule],
    state: Mapping[str, int],
    weights: Mapping[str, Sequence[int]],
    found: Completion | None,
) -> bool:
    """Check a completion against the oracle: None exactly when there is no valid one; else
    valid, extending the choices, its cost its weights' sum, its bound at most the least cost
    and its cost the least when proven. Whether there was a completion."""
    least = _cheapest(problem, rules, state, weights)
    if least is None:
        assert found is None
        return False
    assert found is not None
    assert {k: found.assignment[k] for k in state} == state
    assert valid_assignments(problem, rules, found.assignment) == [dict(found.assignment)]
    assert found.cost == cost_of(weights, found.assignment)
    assert found.bound <= least <= found.cost
    if found.proven:
        assert found.cost == least
    return True


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_counts_are_exact_or_true_lower_bounds(data: st.DataObject) -> None:
    problem, rules = data.draw(worlds(max_rules=5))
    engine = Engine(problem, rules)
    warm = WarmSolver(engine)
    compiled = Stepper(engine, {}, count_seconds=30.0)
    for _ in range(3):
        state = data.draw(partial_assignments(problem))
        want = len(valid_assignments(problem, rules, state))
        limit = data.draw(st.integers(1, 12))
        counted = warm.enumerate_count(state, limit=limit, seconds=60.0)
        if counted.exact:
            assert counted.value == want
        else:
            assert counted.value == limit <= want
        assert (want < limit) <= counted.exact
        step_count = compiled.count(state)
        assert step_count.exact
        assert step_count.how == "d4"
        assert step_count.value == want


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_least_cost_is_valid_bounded_and_least_when_proven(
    data: st.DataObject, use_rc2: bool
) -> None:
    problem, rules = data.draw(worlds(max_rules=5))
    weights = _weights(data, problem)
    stepper = Stepper(Engine(problem, rules), weights, count_seconds=None)
    stepper.rc2_max_clauses = 10**9 if use_rc2 else 0
    stepper.complete_seconds = data.draw(st.sampled_from([0.0, 5.0]))
    exact = int_weights(weights)
    for _ in range(3):
        state = data.draw(partial_assignments(problem))
        found = stepper.least_cost(state)
        if not _honest(problem, rules, state, exact, found):
            continue
        assert found is not None
        if found.proven:
            assert found.cost == found.bound
        if use_rc2 and stepper.complete_seconds > 0:
            assert found.proven
            assert found.how in ("rc2", "bound")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_step_reports_the_count_and_completion_honestly(data: st.DataObject) -> None:
    """Through `step` (the page's path): options narrow the lower bound, the count is exact
    or "at least", and a proven completion stays proven for choices it agrees with."""
    problem, rules = data.draw(worlds(max_rules=5))
    weights = _weights(data, problem)
    stepper = Stepper(Engine(problem, rules), weights, count_seconds=None)
    stepper.rc2_max_clauses = data.draw(st.sampled_from([0, 10**9]))
    exact = int_weights(weights)
    state = data.draw(partial_assignments(problem))
    step = stepper.step(state)
    want = len(valid_assignments(problem, rules, state))
    assert step.counted is not None
    assert step.counted.value == want if step.counted.exact else step.counted.value <= want
    assert step.count == (want if step.counted.exact else None)
    if not want:
        assert step.completion is None
        assert step.least is None
        return
    assert step.least is not None
    assert step.completion == dict(step.least.assignment)
    least = _cheapest(problem, rules, state, exact)
    assert least is not None
    assert step.least.bound <= least <= step.least.cost
    if step.least.proven:
        # one more choice that agrees with it: the same completion, still proven least
        open_slots = [s.name for s in problem.slots if s.name not in state]
        if open_slots:
            more = {**state, open_slots[0]: step.least.assignment[open_slots[0]]}
            again = stepper.least_cost(more)
            assert again is not None
            assert again.proven
            assert again.cost == _cheapest(problem, rules, more, exact) == step.least.cost


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_product_bound_never_exceeds_the_count(data: st.DataObject) -> None:
    problem, rules = data.draw(worlds(max_rules=5))
    state = data.draw(partial_assignments(problem))
    vehicles = valid_assignments(problem, rules, state)
    if not vehicles:
        return
    vehicle = data.draw(st.sampled_from(vehicles))
    reading: dict[str, list[Rule]] = {}
    for rule in rules:
        for slot in rule.slots:
            reading.setdefault(slot, []).append(rule)
    open_slots = [s.name for s in problem.slots if s.name not in state]
    bound = product_bound(problem, reading, vehicle, open_slots)
    assert 1 <= bound <= len(vehicles)
    if not rules:
        assert bound == len(vehicles)  # nothing interacts: the product is the count


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's memory is flat once its caches are full: steps, completions and reasons
    stay within their bounds however many states go through, and no clause is added."""
    import random

    from cmf_config import configurator

    monkeypatch.setattr(configurator, "CACHE_STATES", 8)
    synthetic: Any = importlib.import_module("synthetic")
    instance = synthetic.generate(12, 40, 3)
    engine = Engine(instance.problem, instance.rules)
    weights = {s.name: [v.cost for v in s.values] for s in instance.problem.slots}
    stepper = Stepper(engine, weights, count_seconds=None)
    clauses = len(engine.encoding.clauses)
    rng = random.Random(5)
    names = [s.name for s in instance.problem.slots]
    for _ in range(40):
        chosen = rng.sample(names, rng.randint(0, 6))
        stepper.step({n: instance.planted[n] for n in chosen})
    assert len(stepper._steps) <= 8
    assert len(stepper._completions) <= 8
    assert all(
        len(kept) <= configurator.CACHE_REASONS_PER_VALUE for kept in stepper._reasons.values()
    )
    assert len(engine.encoding.clauses) == clauses


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_optimize_any_objective_is_valid_and_least_when_proven(
    data: st.DataObject, use_rc2: bool
) -> None:
    """`Stepper.optimize` (the server's fix and completions) for objectives other than the
    stepper's own, against the brute-force oracle: valid, extends the choices, its bound at
    most the least cost, and the least cost when it says proven."""
    problem, rules = data.draw(worlds(max_rules=5))
    stepper = Stepper(Engine(problem, rules), {}, count_seconds=None)
    stepper.rc2_max_clauses = 10**9 if use_rc2 else 0
    seconds = data.draw(st.sampled_from([0.0, 5.0]))
    for _ in range(3):
        objective = int_weights(_weights(data, problem))
        if data.draw(st.booleans()):  # a slot left out costs nothing
            objective.pop(problem.slots[0].name, None)
        full = {s.name: objective.get(s.name, [0] * len(s.values)) for s in problem.slots}
        state = data.draw(partial_assignments(problem))
        found = stepper.optimize(state, objective, seconds)
        if not _honest(problem, rules, state, full, found):
            continue
        if use_rc2 and seconds > 0:
            assert found is not None
            assert found.proven
