"""What rule operators mean on constants, and rules evaluated as plain tuples.

The arithmetic and comparison semantics (`apply`, with the EPSILON tolerance) are the ones
`rules.evaluate` uses; `evaluate_plain` is the same evaluation over the plain-tuple form of
a compiled rule (`rules.plain`), which the compiled-workspace cache stores and the fast path
(`quick.py`) evaluates without loading the model. Standard library only.

Plain form: ("k", value) a constant, ("r", slot, attribute or None) a reference, ("o", op,
(args...)) an operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

Const = bool | float | str | frozenset[str] | frozenset[float]
PlainIR = tuple[object, ...]
Reader = Callable[[str, str | None], Const]
"""(slot, attribute or None) -> the value a reference reads under a complete assignment."""

EPSILON = 1e-7
"""Absolute tolerance of numeric comparisons (catalog numbers are decimals; sums of floats drift)."""
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})


def num(value: object) -> float:
    """A rule number as a float (booleans are not numbers)."""
    assert isinstance(value, int | float)
    assert not isinstance(value, bool)
    return float(value)


def cmp(op: str, a: object, b: object) -> bool:
    """A comparison, numeric ones within EPSILON."""
    if op == "==":
        return eq(a, b)
    if op == "!=":
        return not eq(a, b)
    x, y = num(a), num(b)
    eps = EPSILON
    if op == "<":
        return x < y - eps
    if op == "<=":
        return x <= y + eps
    if op == ">":
        return x > y + eps
    return x >= y - eps


def eq(a: object, b: object) -> bool:
    """Equality: booleans by identity, numbers within EPSILON, the rest as Python's ==."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= EPSILON
    return a == b


def member(item: object, collection: object) -> bool:
    """`item in collection`, numbers within EPSILON."""
    assert isinstance(collection, frozenset)
    if isinstance(item, int | float) and not isinstance(item, bool):
        return any(isinstance(c, int | float) and eq(item, c) for c in collection)
    return item in collection


def apply(op: str, values: Sequence[Const]) -> Const:
    """Apply an operator to constant arguments."""
    if op == "not":
        return not values[0]
    if op == "and":
        return all(values)
    if op == "or":
        return any(values)
    if op == "=>":
        return (not values[0]) or bool(values[1])
    if op == "<=>":
        return bool(values[0]) == bool(values[1])
    if op in _COMPARISONS:
        return cmp(op, values[0], values[1])
    if op == "in":
        return member(values[0], values[1])
    if op == "set":
        return cast(Const, frozenset(values))
    if op == "+":
        return sum(num(v) for v in values)
    if op == "-":
        return num(values[0]) - num(values[1])
    if op == "*":
        return num(values[0]) * num(values[1])
    if op == "neg":
        return -num(values[0])
    count = sum(1 for v in values[1:] if v)
    k = num(values[0])
    if op == "at_least":
        return count >= k
    if op == "at_most":
        return count <= k
    assert op == "exactly"
    return count == k


def evaluate_plain(node: PlainIR, read: Reader) -> Const:
    """Evaluate a plain-form expression under a complete assignment (as `rules.evaluate`)."""
    tag = node[0]
    if tag == "k":
        return cast(Const, node[1])
    if tag == "r":
        return read(cast(str, node[1]), cast("str | None", node[2]))
    op = cast(str, node[1])
    args = cast("tuple[PlainIR, ...]", node[2])
    if op == "and":
        return all(evaluate_plain(a, read) for a in args)
    if op == "or":
        return any(evaluate_plain(a, read) for a in args)
    if op == "=>":  # short-circuit: most rules are out of scope for a given vehicle
        return (not evaluate_plain(args[0], read)) or bool(evaluate_plain(args[1], read))
    return apply(op, [evaluate_plain(a, read) for a in args])
