"""Feature models as read from UVL or DIMACS: data only, apart from their analysis.

A `FeatureModel` is a feature tree with groups, attributes kept as read, and cross-tree
constraints as `rules.IR`, each with its position; a DIMACS model keeps its clauses as plain
integers (`ClauseTable`). The readers (`uvl`, `dimacs`), the writer (`uvlexport`) and the
analysis (`featuremodel`) share these classes.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from typing import TypeAlias

import attrs

from cmf_config.errors import NO_SPAN, Span
from cmf_config.reprs import shared_repr
from cmf_config.rules import IR, K, Op, Ref


@shared_repr
@attrs.frozen(repr=False)
class Attributes:
    """A UVL attribute map (nested maps are Attributes too), in the order written."""

    items: tuple[tuple[str, UvlValue], ...] = ()

    def get(self, key: str) -> UvlValue | None:
        """The value of `key`, or None."""
        for k, v in self.items:
            if k == key:
                return v
        return None


UvlValue: TypeAlias = "bool | int | float | str | tuple[UvlValue, ...] | Attributes | None"
"""An attribute value: boolean, number, text, none (a key written alone), vector or map."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Feature:
    """A boolean feature: its parent (None for the root), abstract flag and attributes."""

    name: str
    parent: str | None = None
    abstract: bool = False
    attributes: Attributes = Attributes()
    span: Span = attrs.field(default=NO_SPAN, eq=False)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Group:
    """Children of a feature under one relation: mandatory, optional, alternative, or, [low..high]."""

    parent: str
    kind: str
    children: tuple[str, ...]
    low: int = 0
    high: int | None = None
    span: Span = attrs.field(default=NO_SPAN, eq=False)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Constraint:
    """A cross-tree constraint (or a DIMACS clause) as a boolean formula over features."""

    formula: IR
    text: str
    span: Span = attrs.field(default=NO_SPAN, eq=False)
    clause: tuple[int, ...] | None = None
    """For a DIMACS clause: its literals (n = the n-th feature, -n its negation)."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class ClauseTable:
    """DIMACS clauses as read (literal n = the n-th feature, -n its negation) and where each starts.

    Kept as plain integers: a model with 200,000 clauses needs no formula objects until an
    explanation names one of its clauses (`FeatureModel.clause_constraint`).
    """

    clauses: tuple[tuple[int, ...], ...] = ()
    lines: tuple[int, ...] = ()
    columns: tuple[int, ...] = ()
    """Empty when every clause starts in column 1."""

    def span(self, path: str, index: int) -> Span:
        """Where clause `index` (0-based) starts."""
        return Span(path, self.lines[index], self.columns[index] if self.columns else 1)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class FeatureModel:
    """A feature model as read from a file (`kind` 'uvl' or 'dimacs'); DIMACS has no tree.

    A UVL model's cross-tree constraints are `constraints`; a DIMACS model's clauses are `cnf`
    (`all_constraints` gives both as `Constraint`s).
    """

    path: str
    kind: str
    namespace: str = ""
    root: str | None = None
    features: tuple[Feature, ...] = ()
    groups: tuple[Group, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    cnf: ClauseTable | None = None

    def feature_names(self) -> list[str]:
        """Feature names in file order."""
        return [f.name for f in self.features]

    def constraint_count(self) -> int:
        """How many constraints (or DIMACS clauses) the model has."""
        return len(self.constraints) + (len(self.cnf.clauses) if self.cnf is not None else 0)

    def clause_constraint(self, index: int) -> Constraint:
        """DIMACS clause `index` (0-based) as a constraint over the features."""
        assert self.cnf is not None
        unique = tuple(dict.fromkeys(self.cnf.clauses[index]))
        names = [self.features[abs(x) - 1].name for x in unique]
        refs: list[IR] = [
            Ref(n) if x > 0 else Op("not", (Ref(n),)) for n, x in zip(names, unique, strict=True)
        ]
        texts = [n if x > 0 else f"!{n}" for n, x in zip(names, unique, strict=True)]
        return Constraint(
            formula=disjunction(refs),
            text=" | ".join(texts) or "false (an empty clause)",
            span=self.cnf.span(self.path, index),
            clause=unique,
        )

    def all_constraints(self) -> tuple[Constraint, ...]:
        """Every constraint, DIMACS clauses included (builds a formula per clause)."""
        if self.cnf is None:
            return self.constraints
        return self.constraints + tuple(
            self.clause_constraint(i) for i in range(len(self.cnf.clauses))
        )


def disjunction(items: Sequence[IR]) -> IR:
    """The 'or' of the items (false for none, the item itself for one)."""
    if not items:
        return K(False)
    return items[0] if len(items) == 1 else Op("or", tuple(items))


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large acyclic model.

    Reading automotive02 creates a few million small objects; the collector's repeated passes
    over them took 85% of the time (11 s of 13 s), and none of them can be a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
