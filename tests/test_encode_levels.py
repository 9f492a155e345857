"""The encoding's shortcuts give the CNF the previous encoding gave, variable for variable.

The interval decision diagram finds a bound's node by binary search (it scanned each level in
the order the nodes were added), and a diagram's last slot is evaluated (it was bound and
encoded as a constant). The oracle is the previous code: the same clauses, variables and
literals on random linear sums, on random worlds of rules, and on the bundled catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmf_config import solver
from cmf_config.encode import Encoding, _Level
from cmf_config.load import load_catalog
from cmf_config.problem import Problem, Slot, Value
from cmf_config.rules import IR, K, Rule, bind, slots_of
from cmf_config.workspace import Workspace
from strategies import worlds

ROOT = Path(__file__).parents[1]


class ScanEncoding(Encoding):
    """The encoding as it was: interval levels scanned in order, and every diagram's last slot
    bound (`rules.bind`) and encoded as a constant rather than evaluated."""

    def _diagram(self, ir: IR) -> int:
        if isinstance(ir, K):
            return self.true if ir.value else -self.true
        found = self._cache.get(ir)
        if found is not None:
            return found
        linear = self._linear_form(ir)
        if linear is not None:
            result = self._linear_diagram(*linear)
            self._cache[ir] = result
            return result
        slots = sorted(slots_of(ir), key=self.order.__getitem__)
        if not slots:
            folded = bind(self.problem, ir, {})
            return self._diagram(folded) if isinstance(folded, K) else -self.true
        name = slots[0]
        slot_lits = self.slot_lits[name]
        children = [self._diagram(bind(self.problem, ir, {name: i})) for i in range(len(slot_lits))]
        result = self._select(slot_lits, children)
        self._cache[ir] = result
        return result

    def _linear_diagram(self, slots: list[str], weights: list[list[float]], bound: float) -> int:
        inf = float("inf")
        levels: list[list[tuple[float, float, int]]] = [[] for _ in range(len(slots) + 1)]

        def build(i: int, k: float) -> tuple[float, float, int]:
            if i == len(slots):
                return (0.0, inf, self.true) if k >= 0 else (-inf, 0.0, -self.true)
            for lo, hi, node in levels[i]:
                if lo <= k < hi:
                    return lo, hi, node
            lo, hi = -inf, inf
            children: list[int] = []
            for w in weights[i]:
                c_lo, c_hi, child = build(i + 1, k - w)
                lo, hi = max(lo, c_lo + w), min(hi, c_hi + w)
                children.append(child)
            node = self._select(self.slot_lits[slots[i]], children)
            levels[i].append((lo, hi, node))
            return lo, hi, node

        return build(0, bound)[2]


_weights = st.one_of(
    st.integers(-20, 20).map(float),
    st.sampled_from([0.1, 0.2, 0.3, 1e-7, 2.5, -0.7, 1 / 3]),
    st.floats(-50, 50, allow_nan=False, allow_infinity=False),
)


@st.composite
def sums(draw: st.DrawFn) -> tuple[Problem, list[str], list[list[float]], float]:
    """3-5 slots of 1-6 values with real weights, and a bound."""
    count = draw(st.integers(3, 5))
    slots = tuple(
        Slot(
            name=f"s{i}",
            values=tuple(Value(id=f"v{j}") for j in range(draw(st.integers(1, 6)))),
        )
        for i in range(count)
    )
    weights = [[draw(_weights) for _ in slot.values] for slot in slots]
    bound = draw(_weights | st.sampled_from([0.0, 1e-7, -1e-7]))
    return Problem(slots=slots), [s.name for s in slots], weights, bound


@given(sums())
def test_binary_search_gives_the_scans_clauses(
    case: tuple[Problem, list[str], list[list[float]], float],
) -> None:
    """Same literal, same variables, same clauses, in the same order."""
    problem, names, weights, bound = case
    fast, scan = Encoding(problem), ScanEncoding(problem)
    assert fast._linear_diagram(names, weights, bound) == scan._linear_diagram(
        names, weights, bound
    )
    assert (fast.nvars, fast.clauses) == (scan.nvars, scan.clauses)


def test_the_bundled_engine_is_the_same_cnf(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole engine of the bundled catalog and rules (two sum rules) is unchanged."""
    workspace = Workspace(load_catalog(ROOT / "catalog"), ROOT / "rules")
    fast = solver.Engine(workspace.problem, workspace.rules)
    monkeypatch.setattr(solver, "Encoding", ScanEncoding)
    scan = solver.Engine(workspace.problem, workspace.rules)
    assert isinstance(scan.encoding, ScanEncoding)
    assert fast.encoding.clauses == scan.encoding.clauses
    assert (fast.rule_lits, fast.selectors) == (scan.rule_lits, scan.selectors)


def test_overlapping_intervals_fall_back_to_the_first_added() -> None:
    """Should two intervals of a level overlap, the first one added that holds k wins."""
    level = _Level()
    level.add(0.0, 10.0, 1)
    level.add(20.0, 30.0, 2)
    assert level.find(25.0) == (20.0, 30.0, 2)
    assert level.find(15.0) is None
    level.add(5.0, 25.0, 3)  # overlaps both
    assert level.find(7.0) == (0.0, 10.0, 1)
    assert level.find(15.0) == (5.0, 25.0, 3)
    assert level.find(22.0) == (20.0, 30.0, 2)


def test_empty_intervals_hold_nothing() -> None:
    """An interval with lo >= hi (or NaN) never matches, as in the scan."""
    level = _Level()
    level.add(5.0, 5.0, 1)
    level.add(float("nan"), 3.0, 2)
    level.add(0.0, 10.0, 3)
    assert level.find(5.0) == (0.0, 10.0, 3)
    assert level.find(11.0) is None


@given(worlds(max_rules=6))
def test_random_rules_give_the_previous_cnf(world: tuple[Problem, list[Rule]]) -> None:
    """Every rule of a random world: the same literal and the same clauses, in order."""
    problem, rules = world
    fast, scan = Encoding(problem), ScanEncoding(problem)
    for rule in rules:
        assert fast.lit(rule.formula) == scan.lit(rule.formula)
    assert (fast.nvars, fast.clauses) == (scan.nvars, scan.clauses)
