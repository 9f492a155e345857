"""Brute-force reference answers: try every assignment with itertools.product (tests only)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence

from cmf_config.problem import Problem
from cmf_config.rules import Rule, holds


def assignments(
    problem: Problem, fixed: Mapping[str, int] | None = None
) -> Iterator[dict[str, int]]:
    """Every complete assignment extending `fixed`."""
    fixed = fixed or {}
    names = [s.name for s in problem.slots]
    ranges = [[fixed[n]] if n in fixed else range(len(problem.slot(n).values)) for n in names]
    for combo in itertools.product(*ranges):
        yield dict(zip(names, combo, strict=True))


def valid(problem: Problem, rules: Sequence[Rule], assignment: Mapping[str, int]) -> bool:
    """Whether every rule holds."""
    return all(holds(problem, rule, assignment) for rule in rules)


def valid_assignments(
    problem: Problem, rules: Sequence[Rule], fixed: Mapping[str, int] | None = None
) -> list[dict[str, int]]:
    """Every valid complete assignment extending `fixed`."""
    return [a for a in assignments(problem, fixed) if valid(problem, rules, a)]


def changes(a: Mapping[str, int], b: Mapping[str, int]) -> int:
    """How many slots of `a` differ in `b`."""
    return sum(1 for name, value in a.items() if b[name] != value)
