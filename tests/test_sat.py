"""The SAT session and every analysis built on it agree with the brute-force oracle.

The oracle properties run against each user of `sat.Session` (the catalog engine, the
feature-model analysis, the variant-BOM check session) through one parametrised fixture, on
the same small random boolean worlds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.derivation import Chosen, Conflict, Derivation, Derived, Fact
from cmf_config.featuremodel import FeatureAnalysis, compile_model
from cmf_config.fmodel import Constraint, Feature, FeatureModel
from cmf_config.problem import Problem, bool_slot
from cmf_config.rules import IR, Rule, evaluate
from cmf_config.sat import SOLVER, Glucose41, Session, maxsat
from cmf_config.solver import Engine
from cmf_config.variantbom import CheckSession
from strategies import expressions

SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])

Choices = Mapping[str, bool]


# ---------------------------------------------------------------- the session itself


LITERALS = st.integers(1, 8).flatmap(lambda v: st.sampled_from([v, -v]))
CLAUSES = st.lists(st.lists(LITERALS, min_size=1, max_size=3), max_size=24)
CALLS = st.lists(
    st.tuples(
        st.sampled_from(["solve", "limited", "propagate", "phases", "clause"]),
        st.lists(LITERALS, max_size=4, unique_by=abs),
    ),
    min_size=1,
    max_size=12,
)


def _answer(solver: Any, call: str, literals: list[int]) -> object:
    """What one call gives, and the model and core after it (None where there is none)."""
    if call == "clause":
        return solver.add_clause(literals or [1])
    if call == "phases":
        return solver.set_phases(literals)
    if call == "propagate":
        ok, implied = solver.propagate(assumptions=literals)
        return bool(ok), list(implied)
    if call == "limited":
        solver.conf_budget(3)
        status = solver.solve_limited(assumptions=literals)
    else:
        status = solver.solve(assumptions=literals)
    model = solver.get_model()
    core = solver.get_core()
    return status, model, None if core is None else sorted(core)


@settings(max_examples=60, deadline=None)
@given(clauses=CLAUSES, calls=CALLS)
def test_glucose41_answers_as_pysat_s_glucose4(
    clauses: list[list[int]], calls: list[tuple[str, list[int]]]
) -> None:
    """sat.Glucose41 (PySAT's extension driven directly, no import of pysat.solvers) gives
    what pysat.solvers.Glucose4 gives, call for call: statuses, models, cores, propagations."""
    import pysolvers
    from pysat.solvers import Solver

    ours = Glucose41(clauses, pysolvers)
    theirs = Solver(name=SOLVER, bootstrap_with=clauses)
    try:
        for call, literals in calls:
            assert _answer(ours, call, literals) == _answer(theirs, call, literals), call
    finally:
        ours.delete()
        theirs.delete()


def test_a_glucose41_nobody_holds_is_freed() -> None:
    """Regression guard (PySAT's classes free their solver when collected, and a server makes
    many engines): a Glucose41 frees its solver when it goes, once, and not after delete."""
    import gc
    import types

    freed: list[object] = []
    fake = types.SimpleNamespace(
        glucose41_new=lambda: "solver", glucose41_del=freed.append, glucose41_add_cl=None
    )
    Glucose41([], fake)
    gc.collect()
    assert freed == ["solver"]
    kept = Glucose41([], fake)
    kept.delete()
    del kept
    gc.collect()
    assert freed == ["solver", "solver"]


def test_a_session_uses_glucose41_without_pysat_s_solvers_module() -> None:
    """The default session runs on Glucose41 (what keeps `import pysat.solvers`, ~15 ms, out of
    the fast path's options and explain)."""
    with Session([[1, 2], [-1]]) as session:
        assert isinstance(session._solver, Glucose41)
        assert session.solution([]) == [-1, 2]
    with Session([[1]], solver="cd19") as session:
        assert not isinstance(session._solver, Glucose41)


def test_shrink_gives_a_minimal_unsatisfiable_subset() -> None:
    """Of x1, x2, x3 with clauses (-x1 | -x2), only {x1, x2} conflicts: shrink finds exactly it."""
    with Session([[-1, -2]]) as session:
        assert session.minimal_core([3, 1, 2]) == [1, 2]
        assert session.minimal_core([1, 3]) is None


def test_shrink_keeps_fixed_literals_out_of_the_core() -> None:
    """With x1 fixed, the minimal set among the candidates is the one literal clashing with it."""
    with Session([[-1, -2], [-1, -3]]) as session:
        assert session.shrink([2, 4], fixed=[1]) == [2]


def test_a_following_session_sees_clauses_appended_later() -> None:
    """Clauses appended to the followed list after the session opened take part in the next call."""
    clauses = [[1, 2]]
    with Session.following(clauses) as session:
        assert session.solve([-1])
        clauses.append([1])
        assert not session.solve([-1])


def test_models_are_padded_to_every_variable() -> None:
    """A variable in no clause reads as false in the model, not as missing."""
    with Session([[1]], nvars=3) as session:
        assert session.solution() == [1, -2, -3]


def test_guarded_clauses_hold_only_under_their_selector() -> None:
    """Clauses added under a selector constrain only the calls that assume it."""
    with Session() as session:
        session.add_guarded(9, [[-1]])
        assert session.solve([1])
        assert not session.solve([1, 9])
        assert session.core() == {1, 9}


def test_maxsat_breaks_the_cheapest_soft_clauses() -> None:
    """x1 xor x2 is hard; preferring x1 (weight 1) over x2 (weight 5) gives x2 true."""
    model = maxsat([[1, 2], [-1, -2]], [([1], 1), ([2], 5)], 2)
    assert model is not None
    assert set(model) == {-1, 2}
    assert maxsat([[1], [-1]], [], 1) is None


# ---------------------------------------------------------------- boolean worlds


class World:
    """Boolean features and rules over them (each rule a formula)."""

    def __init__(self, names: Sequence[str], formulas: Sequence[IR]) -> None:
        self.names = list(names)
        self.formulas = list(formulas)
        self.problem = Problem(slots=tuple(bool_slot(n) for n in names))

    def holds(self, index: int, values: Choices) -> bool:
        """Whether rule `index` holds under a complete assignment."""
        assignment = {n: int(values[n]) for n in self.names}
        return bool(evaluate(self.problem, self.formulas[index], assignment))

    def models(self, choices: Choices, rules: Sequence[int] | None = None) -> Iterator[Choices]:
        """Every complete assignment extending `choices` under which the rules hold."""
        chosen = range(len(self.formulas)) if rules is None else rules
        for bits in itertools.product((False, True), repeat=len(self.names)):
            values = dict(zip(self.names, bits, strict=True))
            if all(values[n] == v for n, v in choices.items()) and all(
                self.holds(i, values) for i in chosen
            ):
                yield values


@st.composite
def boolean_worlds(draw: st.DrawFn) -> tuple[World, dict[str, bool]]:
    """2-5 boolean features, 0-4 rules over them, and a partial selection."""
    names = [f"f{i}" for i in range(draw(st.integers(2, 5)))]
    problem = Problem(slots=tuple(bool_slot(n) for n in names))
    formulas = draw(st.lists(expressions(problem), max_size=4))
    choices = draw(st.dictionaries(st.sampled_from(names), st.booleans(), max_size=3))
    return World(names, formulas), choices


class Asker(Protocol):
    """One user of the SAT session, asked about a world under a selection."""

    def witness(self, choices: Choices) -> Choices | None:
        """A valid configuration extending the choices, or None."""


class Explainer(Asker, Protocol):
    """A user of the SAT session that also explains conflicts."""

    def derivation(self, choices: Choices) -> tuple[Conflict, Derivation] | None:
        """A conflict of the choices and its derivation (from one explanation: a second one
        may find another minimal conflict); None if consistent."""

    def conflict(self, choices: Choices) -> tuple[set[str], set[int]] | None:
        """Minimal (choices, rule indices) that cannot hold together; None if consistent."""


class EngineAsker:
    """The catalog engine (`solver.Engine`) on the world's rules."""

    def __init__(self, world: World) -> None:
        rules = [Rule(id=f"r{i}", constraint=f) for i, f in enumerate(world.formulas)]
        self.engine = Engine(world.problem, rules)

    def witness(self, choices: Choices) -> Choices | None:
        found = self.engine.complete_any({n: int(v) for n, v in choices.items()})
        return None if found is None else {n: bool(v) for n, v in found.items()}

    def conflict(self, choices: Choices) -> tuple[set[str], set[int]] | None:
        return _indices(
            self.engine.explain({n: int(v) for n, v in choices.items()}), lambda r: int(r[1:])
        )

    def derivation(self, choices: Choices) -> tuple[Conflict, Derivation] | None:
        assignment = {n: int(v) for n, v in choices.items()}
        conflict = self.engine.explain(assignment)
        return None if conflict is None else (conflict, self.engine.derive(assignment, conflict))


class FeatureAsker:
    """The feature-model analysis on a model whose constraints are the world's rules."""

    def __init__(self, world: World) -> None:
        model = FeatureModel(
            path="world.uvl",
            kind="uvl",
            features=tuple(Feature(name=n) for n in world.names),
            constraints=tuple(
                Constraint(formula=f, text=f"r{i}") for i, f in enumerate(world.formulas)
            ),
        )
        self.analysis = FeatureAnalysis(compile_model(model))

    def witness(self, choices: Choices) -> Choices | None:
        return self.analysis.complete_any(choices)

    def conflict(self, choices: Choices) -> tuple[set[str], set[int]] | None:
        # constraint:N is the N-th constraint, counted from 1
        return _indices(self.analysis.explain(choices), lambda r: int(r.split(":")[1]) - 1)

    def derivation(self, choices: Choices) -> tuple[Conflict, Derivation] | None:
        conflict = self.analysis.explain(choices)
        return None if conflict is None else (conflict, self.analysis.derive(choices, conflict))


class CheckAsker:
    """The variant-BOM check session (error rules as units, questions as assumptions)."""

    def __init__(self, world: World) -> None:
        self.inner = EngineAsker(world)

    def witness(self, choices: Choices) -> Choices | None:
        engine = self.inner.engine
        with CheckSession(engine) as session:
            found = session.witness(engine.choice_lits({n: int(v) for n, v in choices.items()}))
        return None if found is None else {n: bool(v) for n, v in found.items()}


def _indices(
    conflict: Conflict | None, index: Callable[[str], int]
) -> tuple[set[str], set[int]] | None:
    if conflict is None:
        return None
    return set(conflict.choices), {index(r) for r in conflict.rules}


EXPLAINERS: dict[str, Callable[[World], Explainer]] = {
    "engine": EngineAsker,
    "feature-analysis": FeatureAsker,
}
ASKERS: dict[str, Callable[[World], Asker]] = {**EXPLAINERS, "check-session": CheckAsker}
"""Every user of the SAT session; the check session explains nothing (its findings carry
witnesses), so it answers only the witness property."""


@pytest.fixture(params=sorted(ASKERS), scope="module")
def asker(request: pytest.FixtureRequest) -> Callable[[World], Asker]:
    """Each user of the SAT session in turn."""
    return ASKERS[request.param]


@pytest.fixture(params=sorted(EXPLAINERS), scope="module")
def explainer(request: pytest.FixtureRequest) -> Callable[[World], Explainer]:
    """Each user of the SAT session that explains conflicts, in turn."""
    return EXPLAINERS[request.param]


@SETTINGS
@given(boolean_worlds())
def test_verdict_and_witness_match_the_oracle(
    asker: Callable[[World], Asker], case: tuple[World, dict[str, bool]]
) -> None:
    """A witness exists exactly when brute force finds one, extends the choices and keeps every rule."""
    world, choices = case
    found = asker(world).witness(choices)
    assert (found is not None) == any(True for _ in world.models(choices))
    if found is not None:
        assert all(found[n] == v for n, v in choices.items())
        assert all(world.holds(i, found) for i in range(len(world.formulas)))


@SETTINGS
@given(boolean_worlds())
def test_conflicts_are_minimal_by_the_oracle(
    explainer: Callable[[World], Explainer], case: tuple[World, dict[str, bool]]
) -> None:
    """A conflict's choices and rules have no model; without any one of them they have one."""
    world, choices = case
    conflict = explainer(world).conflict(choices)
    assert (conflict is None) == any(True for _ in world.models(choices))
    if conflict is None:
        return
    names, rules = conflict
    chosen = {n: choices[n] for n in names}
    assert not any(True for _ in world.models(chosen, sorted(rules)))
    for name in names:
        fewer = {n: v for n, v in chosen.items() if n != name}
        assert any(True for _ in world.models(fewer, sorted(rules)))
    for rule in rules:
        assert any(True for _ in world.models(chosen, sorted(rules - {rule})))


def _rule_index(rule_id: str) -> int:
    """r3 (engine) or constraint:4 (feature model, counted from 1) -> 3."""
    return int(rule_id[1:]) if rule_id.startswith("r") else int(rule_id.split(":")[1]) - 1


def _holds(fact: Fact, values: Choices) -> bool:
    return values[fact.slot] == fact.holds


@SETTINGS
@given(boolean_worlds())
def test_derivations_are_sound_and_cite_the_whole_conflict(
    explainer: Callable[[World], Explainer], case: tuple[World, dict[str, bool]]
) -> None:
    """Every step's fact holds in every model of its premises and rules; the root's causes have
    no model; the derivation cites exactly the conflict's choices and rules."""
    world, choices = case
    found = explainer(world).derivation(choices)
    assert (found is None) == any(True for _ in world.models(choices))
    if found is None:
        return
    conflict, derivation = found
    for step in derivation.steps():
        facts = [c.fact for c in step.premises if isinstance(c, Chosen)]
        facts += [c.fact for c in step.premises if isinstance(c, Derived) and c.fact is not None]
        rules = sorted(_rule_index(r) for r in step.rules)
        assert rules, "every step applies a rule"
        models = [
            values
            for values in world.models({}, rules)
            if all(_holds(fact, values) for fact in facts)
        ]
        if step.fact is None:
            assert not models
        else:
            assert all(_holds(step.fact, values) for values in models)
    cited = {r for step in derivation.steps() for r in step.rules}
    assert cited == set(conflict.rules)
    assert {fact.slot for fact in derivation.choices()} == set(conflict.choices)


@SETTINGS
@given(boolean_worlds())
def test_forced_features_come_with_sound_derivations(case: tuple[World, dict[str, bool]]) -> None:
    """`forced` (model options, model lint) decides what brute force decides, and each forced
    feature's derivation ends with that feature's value, every step holds in every model of
    its premises and rules, and it cites exactly the reason's choices and rules."""
    world, choices = case
    if not any(True for _ in world.models(choices)):
        return
    analysis = FeatureAsker(world).analysis
    forced, free = analysis.forced(choices)
    models = list(world.models(choices))
    decided = {
        n: models[0][n]
        for n in world.names
        if n not in choices and all(m[n] == models[0][n] for m in models)
    }
    assert {f.feature: f.value for f in forced} == decided
    assert set(free) == set(world.names) - set(choices) - set(decided)
    for item in forced:
        assert item.because is not None
        assert item.derivation is not None
        steps = item.derivation.steps()
        assert steps[-1] is item.derivation.root
        assert item.derivation.root.fact == Fact(item.feature, "true", item.value)
        for step in steps:
            facts = [c.fact for c in step.premises if isinstance(c, Chosen)]
            facts += [c.fact for c in step.premises if isinstance(c, Derived) and c.fact]
            rules = sorted(_rule_index(r) for r in step.rules)
            assert step.fact is not None
            assert all(
                _holds(step.fact, values)
                for values in world.models({}, rules)
                if all(_holds(fact, values) for fact in facts)
            )
        cited = {r for step in steps for r in step.rules}
        assert cited == set(item.because.rules)
        assert {f.slot for f in item.derivation.choices()} == set(item.because.choices)
