"""Hypothesis strategies: small random worlds of slots, attributes and rules."""

from __future__ import annotations

from hypothesis import strategies as st

from cmf_config.problem import Problem, Slot, Value, bool_slot
from cmf_config.rules import IR, K, Op, Ref, Rule

COMPARE = ("==", "!=", "<", "<=", ">", ">=")


@st.composite
def problems(draw: st.DrawFn, max_slots: int = 4, max_values: int = 4) -> Problem:
    """2-4 slots of 2-4 values, with a numeric attribute `w` and a text attribute `c`; maybe a boolean."""
    count = draw(st.integers(2, max_slots))
    slots: list[Slot] = []
    for i in range(count):
        if draw(st.booleans()) and i > 0 and draw(st.integers(0, 3)) == 0:
            slots.append(bool_slot(f"f{i}"))
            continue
        n = draw(st.integers(1, max_values))
        values = tuple(
            Value(
                id=f"s{i}v{j}",
                attributes={
                    "w": float(draw(st.integers(0, 5))),
                    "c": draw(st.sampled_from(["x", "y", "z"])),
                },
            )
            for j in range(n)
        )
        slots.append(Slot(name=f"s{i}", values=values, attribute_types={"w": "float", "c": "str"}))
    return Problem(slots=tuple(slots))


@st.composite
def expressions(draw: st.DrawFn, problem: Problem, depth: int = 2) -> IR:
    """A random boolean expression over the problem's slots."""
    slots = problem.slots
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        slot = draw(st.sampled_from(slots))
        if slot.is_bool:
            return Ref(slot.name)
        choice = draw(st.integers(0, 3))
        if choice == 0:
            return Op("==", (Ref(slot.name), K(draw(st.sampled_from([v.id for v in slot.values])))))
        if choice == 1:
            ids = draw(
                st.lists(st.sampled_from([v.id for v in slot.values]), min_size=1, max_size=3)
            )
            return Op("in", (Ref(slot.name), K(frozenset(ids))))
        numeric = [s for s in slots if not s.is_bool]
        terms = draw(
            st.lists(st.sampled_from(numeric), min_size=1, max_size=3, unique_by=lambda s: s.name)
        )
        total: IR = (
            Op("+", tuple(Ref(s.name, "w") for s in terms))
            if len(terms) > 1
            else Ref(terms[0].name, "w")
        )
        if choice == 2:
            return Op(draw(st.sampled_from(COMPARE)), (total, K(float(draw(st.integers(0, 12))))))
        other = draw(st.sampled_from(numeric))
        return Op("==", (Ref(slot.name, "c"), Ref(other.name, "c")))
    op = draw(st.sampled_from(["and", "or", "not", "=>", "<=>", "at_least", "at_most", "exactly"]))
    if op == "not":
        return Op("not", (draw(expressions(problem, depth - 1)),))
    if op in ("at_least", "at_most", "exactly"):
        items = draw(st.lists(expressions(problem, depth - 1), min_size=1, max_size=3))
        return Op(op, (K(float(draw(st.integers(0, 3)))), *items))
    args = (draw(expressions(problem, depth - 1)), draw(expressions(problem, depth - 1)))
    return Op(op, args)


@st.composite
def worlds(draw: st.DrawFn, max_rules: int = 4) -> tuple[Problem, list[Rule]]:
    """A problem and 0-4 rules over it."""
    problem = draw(problems())
    n = draw(st.integers(0, max_rules))
    rules = [Rule(id=f"r{i}", constraint=draw(expressions(problem))) for i in range(n)]
    return problem, rules


@st.composite
def partial_assignments(draw: st.DrawFn, problem: Problem) -> dict[str, int]:
    """Fix a random subset of the slots."""
    out: dict[str, int] = {}
    for slot in problem.slots:
        if draw(st.booleans()):
            out[slot.name] = draw(st.integers(0, len(slot.values) - 1))
    return out
