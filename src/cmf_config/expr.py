"""The rule expression language: tokens, a recursive-descent parser and the syntax tree.

Expressions are parsed, never evaluated with eval. Every node keeps the offset and length of
its text in the expression string, so that errors can point at the exact characters.

Grammar (lowest precedence first)::

    expr    := iff
    iff     := implies ('<=>' implies)*
    implies := or ('=>' implies)?               right-associative
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | cmp
    cmp     := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum | 'not'? 'in' sum)?
    sum     := product (('+'|'-') product)*
    product := unary ('*' unary)*
    unary   := '-' unary | atom
    atom    := NUMBER | STRING | 'true' | 'false' | NAME ('.' NAME)* | NAME '(' args ')'
             | '(' expr ')' | '[' [expr (',' expr)*] ']'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import attrs

from cmf_config.errors import CmfConfigError
from cmf_config.reprs import shared_repr

MAX_EXPR_DEPTH = 60
MAX_TREE_HEIGHT = 120
"""The deepest syntax tree accepted, counting a run of one of the flat operators (`and`, `or`,
`+`) as one level: the resolver, the evaluator and the encoder walk trees recursively, and
this bound keeps them far from Python's recursion limit. Past it: a positioned error."""
MAX_NUMBER_CHARS = 40
FLAT_OPS = frozenset({"and", "or", "+"})
"""Associative operators: a chain of them becomes one n-ary operator, however long."""


@shared_repr
@attrs.frozen(repr=False)
class ExprSyntaxError(CmfConfigError):
    """A syntax error at `offset` in the expression text (`rules.py` turns it into an E120
    Diagnostic at the right file position)."""

    offset: int
    length: int
    message: str
    hint: str

    def __str__(self) -> str:
        return self.message


@shared_repr
@attrs.frozen(repr=False)
class Token:
    """A lexical token."""

    kind: str  # NUM STR NAME OP KW END
    text: str
    offset: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=>|=>|==|!=|<=|>=|<|>|\+|-|\*|\(|\)|\[|\]|,|\.)
    """,
    re.VERBOSE,
)
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})


def tokenize(text: str) -> list[Token]:
    """Split expression text into tokens; raise ExprSyntaxError on a stray character."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            char = text[pos]
            hint = (
                "quote ids that contain '-' or other signs: 'cmf-bev'"
                if char in "-/"
                else "remove or quote it"
            )
            if char in "'\"":
                raise ExprSyntaxError(
                    pos, 1, "unterminated string", "close the quote on the same line"
                )
            if char == "=":
                raise ExprSyntaxError(
                    pos, 1, "unexpected '='", "write '==' to compare, or '=>' for implies"
                )
            if char in "&|!":
                raise ExprSyntaxError(pos, 1, f"unexpected '{char}'", "write 'and', 'or', 'not'")
            raise ExprSyntaxError(pos, 1, f"unexpected character '{char}'", hint)
        kind = match.lastgroup
        value = match.group()
        if kind == "num":
            tokens.append(Token("NUM", value, pos))
        elif kind == "str":
            tokens.append(Token("STR", value, pos))
        elif kind == "name":
            tokens.append(Token("KW" if value in KEYWORDS else "NAME", value, pos))
        elif kind == "op":
            tokens.append(Token("OP", value, pos))
        pos = match.end()
    tokens.append(Token("END", "", len(text)))
    return tokens


# ------------------------------------------------------------------ syntax tree


@shared_repr
@attrs.frozen(repr=False)
class Num:
    """A number literal."""

    value: float
    offset: int
    length: int


@shared_repr
@attrs.frozen(repr=False)
class Str:
    """A string literal (an id or an attribute value)."""

    value: str
    offset: int
    length: int


@shared_repr
@attrs.frozen(repr=False)
class Bool:
    """true or false."""

    value: bool
    offset: int
    length: int


@shared_repr
@attrs.frozen(repr=False)
class Name:
    """A dotted name: a slot, a slot's attribute or a boolean feature."""

    parts: tuple[str, ...]
    offset: int
    length: int


@shared_repr
@attrs.frozen(repr=False)
class ListLit:
    """A list literal [a, b, c]: a set for 'in', the items of a cardinality function."""

    items: tuple[Node, ...]
    offset: int
    length: int


@shared_repr
@attrs.frozen(repr=False)
class Unary:
    """'not' or unary '-'."""

    op: str
    operand: Node
    offset: int
    length: int


@shared_repr
@attrs.frozen(repr=False)
class Binary:
    """and, or, =>, <=>, comparisons, in, not in, +, -, *."""

    op: str
    left: Node
    right: Node
    offset: int
    length: int


@shared_repr
@attrs.frozen(repr=False)
class Call:
    """A function: at_least(k, [...]), at_most, exactly, sum(modules.attr), excludes(a, b)."""

    name: str
    args: tuple[Node, ...]
    offset: int
    length: int
    name_length: int


Node = Num | Str | Bool | Name | ListLit | Unary | Binary | Call
FUNCTIONS = ("at_least", "at_most", "exactly", "sum", "excludes", "requires")
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        tok = self.tok
        return tok.kind == kind and (not texts or tok.text in texts)

    def expect(self, kind: str, text: str, hint: str) -> Token:
        if not self.at(kind, text):
            tok = self.tok
            got = "the end of the expression" if tok.kind == "END" else f"'{tok.text}'"
            raise ExprSyntaxError(
                tok.offset, max(len(tok.text), 1), f"expected '{text}' but found {got}", hint
            )
        return self.advance()

    def span(self, start: int) -> int:
        prev = self.tokens[self.pos - 1]
        return prev.offset + len(prev.text) - start

    def parse(self) -> Node:
        node = self.iff()
        if not self.at("END"):
            tok = self.tok
            raise ExprSyntaxError(
                tok.offset,
                max(len(tok.text), 1),
                f"unexpected '{tok.text}' after a complete expression",
                "join conditions with 'and', 'or' or '=>', and quote ids containing '-'",
            )
        return node

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            tok = self.tok
            raise ExprSyntaxError(
                tok.offset,
                1,
                "the expression is nested too deeply",
                "simplify it or split the rule",
            )

    def iff(self) -> Node:
        start = self.tok.offset
        node = self.implies()
        while self.at("OP", "<=>"):
            self.advance()
            right = self.implies()
            node = Binary("<=>", node, right, start, self.span(start))
        return node

    def implies(self) -> Node:
        start = self.tok.offset
        node = self.or_()
        if self.at("OP", "=>"):
            self.advance()
            self._enter()
            right = self.implies()
            self.depth -= 1
            node = Binary("=>", node, right, start, self.span(start))
        return node

    def or_(self) -> Node:
        start = self.tok.offset
        node = self.and_()
        while self.at("KW", "or"):
            self.advance()
            node = Binary("or", node, self.and_(), start, self.span(start))
        return node

    def and_(self) -> Node:
        start = self.tok.offset
        node = self.not_()
        while self.at("KW", "and"):
            self.advance()
            node = Binary("and", node, self.not_(), start, self.span(start))
        return node

    def not_(self) -> Node:
        if self.at("KW", "not"):
            start = self.advance().offset
            self._enter()
            operand = self.not_()
            self.depth -= 1
            return Unary("not", operand, start, self.span(start))
        return self.cmp()

    def cmp(self) -> Node:
        start = self.tok.offset
        left = self.sum()
        if self.at("OP", *COMPARISONS):
            op = self.advance().text
            right = self.sum()
            return Binary(op, left, right, start, self.span(start))
        if self.at("KW", "in"):
            self.advance()
            return Binary("in", left, self.sum(), start, self.span(start))
        if (
            self.at("KW", "not")
            and self.tokens[self.pos + 1].kind == "KW"
            and self.tokens[self.pos + 1].text == "in"
        ):
            self.advance()
            self.advance()
            return Binary("not in", left, self.sum(), start, self.span(start))
        return left

    def sum(self) -> Node:
        start = self.tok.offset
        node = self.product()
        while self.at("OP", "+", "-"):
            op = self.advance().text
            node = Binary(op, node, self.product(), start, self.span(start))
        return node

    def product(self) -> Node:
        start = self.tok.offset
        node = self.unary()
        while self.at("OP", "*"):
            self.advance()
            node = Binary("*", node, self.unary(), start, self.span(start))
        return node

    def unary(self) -> Node:
        if self.at("OP", "-"):
            start = self.advance().offset
            self._enter()
            operand = self.unary()
            self.depth -= 1
            return Unary("-", operand, start, self.span(start))
        return self.atom()

    def atom(self) -> Node:
        tok = self.tok
        start = tok.offset
        if tok.kind == "NUM":
            self.advance()
            value = float(tok.text)
            if len(tok.text) > MAX_NUMBER_CHARS or not math.isfinite(value):
                raise ExprSyntaxError(
                    start,
                    len(tok.text),
                    f"the number is too long ({len(tok.text)} characters)",
                    f"write a number of at most {MAX_NUMBER_CHARS} characters",
                )
            return Num(value, start, len(tok.text))
        if tok.kind == "STR":
            self.advance()
            body = tok.text[1:-1]
            body = re.sub(r"\\(.)", r"\1", body)
            return Str(body, start, len(tok.text))
        if tok.kind == "KW" and tok.text in ("true", "false"):
            self.advance()
            return Bool(tok.text == "true", start, len(tok.text))
        if tok.kind == "NAME":
            self.advance()
            if self.at("OP", "("):
                return self.call(tok)
            parts = [tok.text]
            while self.at("OP", "."):
                self.advance()
                if not self.at("NAME"):
                    bad = self.tok
                    raise ExprSyntaxError(
                        bad.offset,
                        max(len(bad.text), 1),
                        "expected an attribute name after '.'",
                        "write slot.attribute, e.g. cockpit.steering_side",
                    )
                parts.append(self.advance().text)
            return Name(tuple(parts), start, self.span(start))
        if tok.kind == "OP" and tok.text == "(":
            self.advance()
            self._enter()
            node = self.iff()
            self.depth -= 1
            self.expect("OP", ")", "close the parenthesis")
            return node
        if tok.kind == "OP" and tok.text == "[":
            self.advance()
            items: list[Node] = []
            if not self.at("OP", "]"):
                self._enter()
                items.append(self.iff())
                while self.at("OP", ","):
                    self.advance()
                    items.append(self.iff())
                self.depth -= 1
            self.expect("OP", "]", "close the list with ']'")
            return ListLit(tuple(items), start, self.span(start))
        got = "the end of the expression" if tok.kind == "END" else f"'{tok.text}'"
        raise ExprSyntaxError(
            tok.offset,
            max(len(tok.text), 1),
            f"expected a value, a name or '(' but found {got}",
            "complete the expression",
        )

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            from cmf_config.suggest import did_you_mean

            raise ExprSyntaxError(
                name.offset,
                len(name.text),
                f"unknown function '{name.text}'{did_you_mean(name.text, FUNCTIONS)}",
                f"the functions are {', '.join(FUNCTIONS)}",
            )
        self.advance()  # (
        args: list[Node] = []
        self._enter()
        if not self.at("OP", ")"):
            args.append(self.iff())
            while self.at("OP", ","):
                self.advance()
                args.append(self.iff())
        self.depth -= 1
        self.expect("OP", ")", "close the argument list with ')'")
        return Call(name.text, tuple(args), name.offset, self.span(name.offset), len(name.text))


def parse_expression(text: str) -> Node:
    """Parse expression text into a syntax tree; raise ExprSyntaxError."""
    if not text.strip():
        raise ExprSyntaxError(
            0,
            1,
            "the expression is empty",
            "write a condition, e.g. cockpit.steering_side == 'rhd'",
        )
    tree = _Parser(text).parse()
    _check_height(tree)
    return tree


def flat_operands(node: Binary) -> list[Node]:
    """The operands of a run of `node.op` (for `and`, `or`, `+`), left to right, iteratively.

    The parser builds `a and b and c` as ((a and b) and c); a 3,000-term chain would be 3,000
    levels deep for any recursive walk, so consumers take the run as one n-ary operator.
    """
    out: list[Node] = []
    current: Node = node
    while isinstance(current, Binary) and current.op == node.op:
        out.append(current.right)
        current = current.left
    out.append(current)
    out.reverse()
    return out


def _check_height(tree: Node) -> None:
    """Refuse a tree deeper than MAX_TREE_HEIGHT (flat runs count once), with its position."""
    stack: list[tuple[Node, int]] = [(tree, 1)]
    while stack:
        node, height = stack.pop()
        if height > MAX_TREE_HEIGHT:
            raise ExprSyntaxError(
                node.offset,
                max(node.length, 1),
                f"the expression is nested more than {MAX_TREE_HEIGHT} levels deep here",
                "split the rule into several rules, or simplify the chain of operators",
            )
        if isinstance(node, Binary) and node.op in FLAT_OPS:
            stack.extend((child, height + 1) for child in flat_operands(node))
        elif isinstance(node, Binary):
            stack.extend(((node.left, height + 1), (node.right, height + 1)))
        elif isinstance(node, Unary):
            stack.append((node.operand, height + 1))
        elif isinstance(node, ListLit):
            stack.extend((item, height + 1) for item in node.items)
        elif isinstance(node, Call):
            stack.extend((arg, height + 1) for arg in node.args)


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, parents first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, Binary):
            stack.extend((current.right, current.left))
        elif isinstance(current, ListLit):
            stack.extend(reversed(current.items))
        elif isinstance(current, Call):
            stack.extend(reversed(current.args))
