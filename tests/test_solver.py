"""The SAT engine agrees with the brute-force oracle on small random worlds."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.count import PORTFOLIO_FROM_VARS, count_models
from cmf_config.problem import Problem
from cmf_config.rules import Rule, holds
from cmf_config.solver import Engine
from oracle import assignments, changes, valid, valid_assignments
from strategies import partial_assignments, worlds

SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])


def _world(data: st.DataObject) -> tuple[Problem, list[Rule], dict[str, int], Engine]:
    problem, rules = data.draw(worlds())
    fixed = data.draw(partial_assignments(problem))
    return problem, rules, fixed, Engine(problem, rules)


@SETTINGS
@given(st.data())
def test_verdict_and_count_match_the_oracle(data: st.DataObject) -> None:
    """Consistency and the exact count equal brute force."""
    problem, rules, fixed, engine = _world(data)
    want = valid_assignments(problem, rules, fixed)
    assert engine.is_consistent(fixed) == bool(want)
    assert engine.count(fixed) == len(want)


@SETTINGS
@given(st.data())
def test_completion_satisfies_every_rule(data: st.DataObject) -> None:
    """A completion the solver returns passes rules.evaluate and keeps the fixed choices."""
    problem, rules, fixed, engine = _world(data)
    found = engine.complete_any(fixed)
    if found is None:
        assert not valid_assignments(problem, rules, fixed)
        return
    assert all(found[k] == v for k, v in fixed.items())
    assert all(holds(problem, r, found) for r in rules)


@SETTINGS
@given(st.data())
def test_options_are_backtrack_free(data: st.DataObject) -> None:
    """Offered values have a valid completion; withheld ones have none; reasons are real rules."""
    problem, rules, fixed, engine = _world(data)
    want = valid_assignments(problem, rules, fixed)
    options = engine.options(fixed)
    for name, found in options.items():
        slot = problem.slot(name)
        expected = sorted({slot.values[a[name]].id for a in want})
        assert sorted(found.possible) == expected
        assert set(found.possible).isdisjoint(found.excluded)
        if want:
            assert set(found.possible) | set(found.excluded) == {v.id for v in slot.values}
        ids = {r.id for r in rules}
        for reasons in found.excluded.values():
            assert set(reasons) <= ids


@SETTINGS
@given(st.data())
def test_explanation_is_unsatisfiable_and_minimal(data: st.DataObject) -> None:
    """The conflict's choices + rules admit no assignment, and dropping any one does."""
    problem, rules, fixed, engine = _world(data)
    conflict = engine.explain(fixed)
    if conflict is None:
        assert valid_assignments(problem, rules, fixed)
        return
    by_id = {r.id: r for r in rules}
    chosen = {k: fixed[k] for k in conflict.choices}
    cited = [by_id[r] for r in conflict.rules]
    assert not valid_assignments(problem, cited, chosen)
    for slot in conflict.choices:
        rest = {k: v for k, v in chosen.items() if k != slot}
        assert valid_assignments(problem, cited, rest), f"choice {slot} is not needed"
    for rule in cited:
        others = [r for r in cited if r is not rule]
        assert valid_assignments(problem, others, chosen), f"rule {rule.id} is not needed"


@SETTINGS
@given(st.data())
def test_fix_changes_the_fewest_choices(data: st.DataObject) -> None:
    """The fix is valid and no valid assignment changes fewer of the fixed choices."""
    problem, rules, fixed, engine = _world(data)
    result = engine.fix(fixed)
    every = valid_assignments(problem, rules)
    if result is None:
        assert not every
        return
    assignment, diff = result
    assert valid(problem, rules, assignment)
    best = min(changes(fixed, a) for a in every)
    assert changes(fixed, assignment) == best == len(diff)


@SETTINGS
@given(st.data())
def test_complete_is_optimal(data: st.DataObject) -> None:
    """The completion minimises the summed weight `w` among all valid completions."""
    problem, rules, fixed, engine = _world(data)
    weights = {
        s.name: [float(v.attributes.get("w", 0.0)) for v in s.values]  # type: ignore[arg-type]
        for s in problem.slots
        if not s.is_bool
    }

    def cost(a: dict[str, int]) -> float:
        return sum(weights[n][i] for n, i in a.items() if n in weights)

    found = engine.complete(fixed, weights)
    want = valid_assignments(problem, rules, fixed)
    if found is None:
        assert not want
        return
    assert valid(problem, rules, found)
    assert cost(found) == min(cost(a) for a in want)


@SETTINGS
@given(st.data())
def test_enumerate_lists_distinct_valid_assignments(data: st.DataObject) -> None:
    """enumerate returns min(limit, count) distinct valid assignments."""
    problem, rules, fixed, engine = _world(data)
    total = len(valid_assignments(problem, rules, fixed))
    found = engine.enumerate(fixed, 5)
    assert len(found) == min(5, total)
    assert len({tuple(sorted(a.items())) for a in found}) == len(found)
    assert all(valid(problem, rules, a) for a in found)


def test_oracle_enumerates_the_full_product() -> None:
    """The oracle itself: a 2 x 3 world has 6 assignments."""
    from cmf_config.problem import Slot, Value

    problem = Problem(
        slots=(
            Slot(name="a", values=(Value(id="1"), Value(id="2"))),
            Slot(name="b", values=tuple(Value(id=str(i)) for i in range(3))),
        )
    )
    assert len(list(assignments(problem))) == 6


def test_large_counts_go_through_the_d4_portfolio() -> None:
    """From PORTFOLIO_FROM_VARS variables both d4 heuristics race in children; the count is exact."""
    pairs = PORTFOLIO_FROM_VARS // 2 + 10
    clauses = [[2 * i + 1, 2 * i + 2] for i in range(pairs)]  # x or y: 3 of 4 assignments
    assert count_models(clauses, 2 * pairs) == 3**pairs
    assert count_models([*clauses, [1], [-1]], 2 * pairs) == 0
