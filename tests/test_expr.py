"""The rule expression parser: precedence, positions and errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmf_config.expr import Binary, Call, ExprSyntaxError, Name, Str, Unary, parse_expression


def test_precedence_not_and_or_implies() -> None:
    """not > and > or > =>, and => is right-associative."""
    tree = parse_expression("not a and b or c => d => e")
    assert isinstance(tree, Binary)
    assert tree.op == "=>"
    assert isinstance(tree.right, Binary)
    assert tree.right.op == "=>"
    left = tree.left
    assert isinstance(left, Binary)
    assert left.op == "or"
    assert isinstance(left.left, Binary)
    assert left.left.op == "and"
    assert isinstance(left.left.left, Unary)


def test_nodes_keep_offsets() -> None:
    """Each node knows where its text is."""
    tree = parse_expression("cockpit.steering_side == 'rhd'")
    assert isinstance(tree, Binary)
    assert isinstance(tree.left, Name)
    assert (tree.left.offset, tree.left.length) == (0, 21)
    assert isinstance(tree.right, Str)
    assert (tree.right.offset, tree.right.value) == (25, "rhd")


def test_functions_and_lists() -> None:
    """at_most(k, [...]) and sum(modules.x) parse as calls."""
    tree = parse_expression("at_most(1, [a, b, c]) and sum(modules.mass_kg) <= 10")
    assert isinstance(tree, Binary)
    assert isinstance(tree.left, Call)
    assert tree.left.name == "at_most"


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("a ==", 4, "expected a value, a name or '(' but found the end of the expression"),
        ("a = b", 2, "unexpected '='"),
        ("a && b", 2, "unexpected '&'"),
        ("foo(1)", 0, "unknown function 'foo'"),
        ("a b", 2, "unexpected 'b' after a complete expression"),
        ("(a", 2, "expected ')' but found the end of the expression"),
        ("'abc", 0, "unterminated string"),
        ("", 0, "the expression is empty"),
    ],
)
def test_syntax_errors_point_at_the_problem(text: str, offset: int, message: str) -> None:
    """Each syntax error has the exact offset and message."""
    with pytest.raises(ExprSyntaxError) as info:
        parse_expression(text)
    assert info.value.offset == offset
    assert info.value.message == message


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    """A thousand parentheses do not exhaust the stack."""
    with pytest.raises(ExprSyntaxError):
        parse_expression("(" * 1000 + "a" + ")" * 1000)


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_syntax_error(text: str) -> None:
    """No input produces any exception other than ExprSyntaxError."""
    error: ExprSyntaxError | None = None
    try:
        parse_expression(text)
    except ExprSyntaxError as exc:
        error = exc
    if error is not None:
        assert 0 <= error.offset <= len(text)
