"""The configurator's step against the brute-force oracle on small random worlds.

One `Stepper` answers a run of states, so that what it keeps between steps (models that vouch
for values, reasons reused for later states) is exercised: each state's possible values must
equal the oracle's, every other value must be excluded, and every reason must be a true one
(its rules alone, with the choices, leave no valid completion that uses the value).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.configurator import Stepper
from cmf_config.guarded import RuleSolver
from cmf_config.problem import Problem
from cmf_config.rules import Rule
from cmf_config.solver import Engine
from oracle import valid_assignments
from strategies import partial_assignments, worlds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def _check(stepper: Stepper, problem: Problem, rules: list[Rule], state: dict[str, int]) -> None:
    step = stepper.step(state)
    assert step.consistent == bool(valid_assignments(problem, rules, state))
    if not step.consistent:
        return
    by_id = {r.id: r for r in rules}
    for slot in problem.slots:
        others = {k: v for k, v in state.items() if k != slot.name}
        vehicles = valid_assignments(problem, rules, others)
        want = {slot.values[i].id for i in {v[slot.name] for v in vehicles}}
        found = step.options[slot.name]
        assert set(found.possible) == want
        assert set(found.excluded) == {v.id for v in slot.values} - want
        for value, reason in found.excluded.items():
            index = slot.index(value)
            assert index is not None
            assert reason, "an excluded value without its rules"
            chosen = [by_id[r] for r in reason]
            assert not valid_assignments(problem, chosen, {**others, slot.name: index})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_steps_match_the_oracle(data: st.DataObject) -> None:
    """Possible and excluded values equal brute force; every reason excludes its value."""
    problem, rules = data.draw(worlds(max_rules=5))
    stepper = Stepper(Engine(problem, rules), {}, count_seconds=None)
    states = data.draw(st.lists(partial_assignments(problem), min_size=1, max_size=5))
    for state in states:
        _check(stepper, problem, rules, state)
    # the same states again, in reverse: now every reason and model kept comes from elsewhere
    stepper._steps.clear()
    for state in reversed(states):
        _check(stepper, problem, rules, state)


def test_every_excluded_value_has_its_reason_on_a_synthetic_line() -> None:
    """On a generated product line (dead values, long rule chains) no excluded value is
    left without rules, and each reason refutes its value on the engine's solver."""
    # benchmarks/ is no package: its generator is loaded by name (typed loosely here)
    synthetic: Any = importlib.import_module("synthetic")
    instance = synthetic.generate(30, 400, 3)
    engine = Engine(instance.problem, instance.rules)
    stepper = Stepper(engine, {}, count_seconds=None, alternatives=False)
    planted = instance.planted
    names = [s.name for s in instance.problem.slots]
    for size in (0, 5, 15):
        state = {name: planted[name] for name in names[:size]}
        step = stepper.step(state)
        assert step.consistent
        excluded = 0
        for name, found in step.options.items():
            slot = instance.problem.slot(name)
            for value, reason in found.excluded.items():
                excluded += 1
                index = slot.index(value)
                assert index is not None
                assert reason
                lits = [
                    *engine.choice_lits({**state, name: index}),
                    *(engine.selectors[r] for r in reason),
                ]
                assert not engine.sat.solve(lits)
            for value in found.possible:
                index = slot.index(value)
                assert engine.is_consistent({**state, name: index} if index is not None else {})
        assert excluded > 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_guarded_rules_agree_with_the_oracle(data: st.DataObject) -> None:
    """With a set of rules switched on, the guarded solver holds exactly when brute force
    finds a valid completion under those rules (each rule's clauses stand alone)."""
    problem, rules = data.draw(worlds(max_rules=5))
    state = data.draw(partial_assignments(problem))
    on = data.draw(st.lists(st.sampled_from(rules), unique_by=lambda r: r.id)) if rules else []
    guarded = RuleSolver(problem, rules)
    lits = [guarded.slot_lits[name][index] for name, index in state.items()]
    found = guarded.session.solve([*lits, *(guarded.selectors[r.id] for r in on)])
    assert found == bool(valid_assignments(problem, on, state))
    guarded.close()
