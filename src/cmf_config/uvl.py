"""UVL text -> FeatureModel, with a position for every feature, group and constraint.

The grammar is the UVL project's (uvl-parser `uvl/UVLParser.g4` and `UVLLexer.g4`): an
indentation-based feature tree (`features`), groups `mandatory`, `optional`, `alternative`,
`or` and `[n..m]`, attributes in braces, and `constraints` built from `!`, `&`, `|`, `=>`,
`<=>` and parentheses (that precedence, each left-associative). We do not use the `uvlparser`
package: measured on the shared models it takes about 5 s for a 250 kB file (flamapy, which
wraps it, about 145 s for ERP) and rejects two kinds of real files, those with a feature named
`Type` (a keyword only inside `include`) and those with double-quoted attribute values. This
hand-written tokenizer and recursive-descent parser reads keywords by context, so both load.

Everything beyond the boolean level is a positioned error (E163), never silently dropped:
typed features (Integer, Real, String), feature cardinalities, imports, and numeric or string
constraints (comparisons, arithmetic, aggregate functions). Attributes are kept as data, and
`constraint`/`constraints` attributes join the cross-tree constraints.

Diagnostic codes: E160 unreadable file, E161 syntax, E162 indentation, E163 unsupported
construct, E164 unknown feature in a constraint, E165 duplicate feature name.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from cmf_config import source
from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.fmodel import (
    Attributes,
    Constraint,
    Feature,
    FeatureModel,
    Group,
    UvlValue,
    paused_gc,
)
from cmf_config.rules import IR, Op, Ref
from cmf_config.source import TextInput
from cmf_config.suggest import did_you_mean

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 400
MAX_NUMBER_CHARS = 40
MAX_CHAIN = MAX_DEPTH // 2
"""The longest run of '=>' or '<=>' (each nests the formula a level deeper; 'and'/'or' do not)."""

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t]+)
  | (?P<nl>\r\n|\r|\n|\f)
  | (?P<lc>//[^\r\n\f]*)
  | (?P<bc>/\*)
  | (?P<qname>"[^\r\n"]*")
  | (?P<string>'[^\r\n']*')
  | (?P<float>-?[0-9]*\.[0-9]+)
  | (?P<int>0|-?[1-9][0-9]*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_\#§%?\\'äüöÄÜÖß;]*)
  | (?P<op><=>|=>|==|<=|>=|!=|\.\.|[!&|<>+\-*/(){}\[\],.])
    """,
    re.VERBOSE,
)
_NEWLINE = re.compile(r"\r\n|\r|\n|\f")
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")", "]", "}"}
_GROUPS = ("mandatory", "optional", "alternative", "or")
_TYPES = ("Boolean", "Integer", "Real", "String")
_COMPARE = ("==", "<", "<=", ">", ">=", "!=")
_ARITH = ("+", "-", "*", "/")
_AGGREGATES = ("sum", "avg", "len", "floor", "ceil")

Token = tuple[str, str, int]
"""(kind, text, offset): kind is name, qname, string, int, float, op, newline, indent, dedent, eof."""


class _Stop(Exception):
    """A syntax error the parser cannot go on from (carried to the error boundary of `parse`)."""

    def __init__(self, offset: int, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.code = code
        self.message = message
        self.hint = hint


class _Unsupported(Exception):
    """A construct beyond the boolean level, found while parsing one constraint."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def _visual_col(text: str, start: int, offset: int) -> int:
    """Indentation width of the text before `offset` on its line (tabs to multiples of 8)."""
    width = 0
    for ch in text[start:offset]:
        width = width + 8 - (width % 8) if ch == "\t" else width + 1
    return width


def _open_line(
    tokens: list[Token],
    indents: list[int],
    errors: list[tuple[int, str, str, str]],
    width: int,
    pos: int,
) -> None:
    """The INDENT or DEDENT tokens of a line whose first token is `width` columns in (E162
    when it matches no enclosing level)."""
    if width > indents[-1]:
        indents.append(width)
        tokens.append(("indent", "", pos))
        return
    while width < indents[-1]:
        indents.pop()
        tokens.append(("dedent", "", pos))
    if width != indents[-1]:
        errors.append(
            (
                pos,
                "E162",
                "this line's indentation matches no enclosing level",
                "indent a child deeper than its parent, and siblings exactly alike",
            )
        )
        indents.append(width)


def tokenize(text: str) -> tuple[list[Token], list[int], list[tuple[int, str, str, str]]]:
    """Tokens with NEWLINE/INDENT/DEDENT as in the UVL lexer; (tokens, line starts, errors).

    Newlines inside brackets and comments do not end a line, and blank or comment-only lines
    do not change the indentation. Errors are (offset, code, message, hint).
    """
    tokens: list[Token] = []
    line_starts = [0]
    indents = [0]
    errors: list[tuple[int, str, str, str]] = []
    depth = 0
    pos = 0
    n = len(text)
    line_start = 0
    at_line_start = True
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            errors.append(
                (
                    pos,
                    "E161",
                    f"unexpected character {text[pos]!r}",
                    "UVL names are letters, digits and _, or any text in double quotes",
                )
            )
            pos += 1
            continue
        kind = m.lastgroup
        end = m.end()
        if kind in ("ws", "lc"):
            pos = end
            continue
        if kind == "nl":
            line_starts.append(end)
            line_start = end
            if depth == 0 and not at_line_start:
                tokens.append(("newline", "", pos))
                at_line_start = True
            pos = end
            continue
        if kind == "bc":
            close = text.find("*/", end)
            if close < 0:
                errors.append(
                    (pos, "E161", "unterminated comment /* ...", "close the comment with */")
                )
                close = n
            for nl in _NEWLINE.finditer(text, pos, close):
                line_starts.append(nl.end())
                line_start = nl.end()
            pos = close + 2
            continue
        assert kind is not None
        if at_line_start:
            at_line_start = False
            _open_line(tokens, indents, errors, _visual_col(text, line_start, pos), pos)
        value = m.group()
        if kind == "op":
            if value in _OPEN:
                depth += 1
            elif value in _CLOSE:
                depth = max(0, depth - 1)
        tokens.append((kind, value, pos))
        pos = end
    if not at_line_start:
        tokens.append(("newline", "", n))
    while len(indents) > 1:
        indents.pop()
        tokens.append(("dedent", "", n))
    tokens.append(("eof", "", n))
    return tokens, line_starts, errors


class _Parser:
    """Recursive descent over the token list; positions become Spans at the end."""

    def __init__(self, tokens: list[Token], text: str, path: str, line_starts: list[int]) -> None:
        self.tokens = tokens
        self.text = text
        self.path = path
        self.line_starts = line_starts
        self.i = 0
        self.errors: list[
            tuple[int, int, str, str, str]
        ] = []  # (offset, length, code, message, hint)
        self.features: list[Feature] = []
        self.groups: list[Group] = []
        self.constraints: list[tuple[IR, str, int, int, dict[str, int]]] = []
        self.namespace = ""
        self.root: str | None = None

    # ------------------------------------------------------------- helpers

    def span(self, offset: int, length: int = 0) -> Span:
        line = bisect.bisect_right(self.line_starts, offset)
        col = offset - self.line_starts[line - 1] + 1
        return Span(self.path, line, col, col + length if length > 0 else None)

    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok[0] != "eof":
            self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.tokens[self.i]
        return tok[0] == kind and (text is None or tok[1] == text)

    def expect(self, kind: str, text: str | None, what: str, hint: str) -> Token:
        if not self.at(kind, text):
            self.stop(what, hint)
        return self.next()

    def stop(self, what: str, hint: str, code: str = "E161") -> None:
        tok = self.peek()
        raise _Stop(tok[2], code, f"expected {what}, found {_describe(tok)}", hint)

    def error(self, offset: int, length: int, code: str, message: str, hint: str) -> None:
        self.errors.append((offset, length, code, message, hint))

    def skip_line(self) -> None:
        """Skip to just after the next NEWLINE (error recovery inside a block)."""
        while not self.at("newline") and not self.at("eof") and not self.at("dedent"):
            self.next()
        if self.at("newline"):
            self.next()

    def skip_block(self) -> None:
        """Skip an indented block that follows a NEWLINE."""
        if not self.at("indent"):
            return
        level = 0
        while not self.at("eof"):
            kind = self.next()[0]
            if kind == "indent":
                level += 1
            elif kind == "dedent":
                level -= 1
                if level == 0:
                    return

    # ------------------------------------------------------------- model

    def model(self) -> None:
        self.skip_newlines()
        if self.at("name", "namespace"):
            self.next()
            self.namespace = self.reference_text()
            self.end_line()
        seen_features = False
        while not self.at("eof"):
            self.skip_newlines()
            tok = self.peek()
            if tok[0] == "eof":
                break
            if (
                tok[0] == "name"
                and tok[1] in ("include", "imports")
                and self.peek(1)[0] == "newline"
            ):
                self.next()
                self.next()
                if tok[1] == "imports":
                    self.error(
                        tok[2],
                        len(tok[1]),
                        "E163",
                        "imports (model composition) are not supported",
                        "merge the imported models into one file",
                    )
                self.skip_block()
            elif tok[0] == "name" and tok[1] == "features" and not seen_features:
                seen_features = True
                self.next()
                self.expect(
                    "newline",
                    None,
                    "a new line after 'features'",
                    "put the root feature on its own indented line",
                )
                self.expect(
                    "indent",
                    None,
                    "an indented root feature",
                    "indent the root feature under 'features'",
                )
                self.root = self.feature(None, 0)
                if not self.at("dedent"):
                    self.stop(
                        "the end of the feature tree",
                        "a model has exactly one root feature; indent the others under it",
                        "E162",
                    )
                self.next()
            elif tok[0] == "name" and tok[1] == "constraints":
                self.next()
                self.expect(
                    "newline",
                    None,
                    "a new line after 'constraints'",
                    "put each constraint on its own indented line",
                )
                if self.at("indent"):
                    self.next()
                    while not self.at("dedent") and not self.at("eof"):
                        self.constraint_line()
                    if self.at("dedent"):
                        self.next()
            else:
                self.stop(
                    "'features' or 'constraints'",
                    "a UVL file has the sections namespace, include, imports, features and constraints, in that order",
                )

    def skip_newlines(self) -> None:
        while self.at("newline"):
            self.next()

    def end_line(self) -> None:
        self.expect("newline", None, "the end of the line", "write one item per line")

    def reference_text(self) -> str:
        parts = [self.ident()]
        while self.at("op", "."):
            self.next()
            parts.append(self.ident())
        return ".".join(parts)

    def ident(self) -> str:
        tok = self.peek()
        if tok[0] == "name":
            self.next()
            return tok[1]
        if tok[0] == "qname":
            if "." in tok[1] or len(tok[1]) == 2:
                raise _Stop(
                    tok[2],
                    "E161",
                    f"bad quoted name {tok[1]}",
                    "a name in double quotes is not empty and has no '.' (the '.' separates the parts of a reference)",
                )
            self.next()
            return tok[1][1:-1]
        self.stop(
            "a name", "names are letters, digits and _, or any text without '.' in double quotes"
        )
        return ""  # pragma: no cover - stop() raises

    # ------------------------------------------------------------- tree

    def feature(self, parent: str | None, level: int) -> str:
        if level > MAX_DEPTH:
            self.stop(
                "a shallower tree",
                f"the feature tree is nested more than {MAX_DEPTH} levels deep",
                "E162",
            )
        tok = self.peek()
        if tok[0] == "name" and tok[1] in _TYPES and self.peek(1)[0] in ("name", "qname"):
            self.next()
            if tok[1] != "Boolean":
                self.error(
                    tok[2],
                    len(tok[1]),
                    "E163",
                    f"{tok[1]} features are not supported: only boolean features are",
                    "model the value as a group of boolean features, one per value",
                )
        start = self.peek()
        if start[0] not in ("name", "qname"):
            self.stop(
                "a feature name",
                "names are letters, digits and _, or any text without '.' in double quotes",
            )
        name = self.reference_text()
        name_len = self.peek()[2] - start[2]
        if "." in name:
            self.error(
                start[2],
                name_len,
                "E163",
                f"'{name}' refers to a feature of an imported model, which is not supported",
                "write plain feature names",
            )
        attributes = Attributes()
        if self.at("name", "cardinality"):
            card = self.next()
            self.cardinality()
            self.error(
                card[2],
                len(card[1]),
                "E163",
                f"feature cardinality (several copies of '{name}') is not supported",
                "drop the cardinality or model the copies as separate features",
            )
        if self.at("op", "{"):
            attributes = self.attributes(name)
        self.end_line()
        flag = attributes.get("abstract")
        abstract = any(k == "abstract" for k, _ in attributes.items) and flag in (None, True)
        self.features.append(
            Feature(
                name=name,
                parent=parent,
                abstract=abstract,
                attributes=attributes,
                span=self.span(start[2], name_len),
            )
        )
        if self.at("indent"):
            self.next()
            while not self.at("dedent") and not self.at("eof"):
                self.group(name, level)
            if self.at("dedent"):
                self.next()
        return name

    def group(self, parent: str, level: int) -> None:
        tok = self.peek()
        low, high = 0, None
        if tok[0] == "name" and tok[1] in _GROUPS and self.peek(1)[0] == "newline":
            kind = tok[1]
            self.next()
        elif tok[0] == "op" and tok[1] == "[":
            kind = "cardinality"
            low, high = self.cardinality()
        else:
            self.stop(
                "a group keyword (mandatory, optional, alternative, or, [n..m])",
                "features under a parent sit in a group: write the group keyword on its own line, then the features indented below it",
                "E162" if tok[0] in ("name", "qname") else "E161",
            )
            return
        self.end_line()
        if not self.at("indent"):
            self.stop(
                "indented features in the group",
                "indent the group's features below the group keyword",
                "E162",
            )
        self.next()
        children: list[str] = []
        while not self.at("dedent") and not self.at("eof"):
            children.append(self.feature(parent, level + 1))
        if self.at("dedent"):
            self.next()
        self.groups.append(
            Group(
                parent=parent,
                kind=kind,
                children=tuple(children),
                low=low,
                high=high,
                span=self.span(tok[2], len(tok[1]) if tok[0] == "name" else 1),
            )
        )

    def cardinality(self) -> tuple[int, int | None]:
        self.expect("op", "[", "'[' of a cardinality", "write [n..m], [n..*] or [n]")
        low_tok = self.expect("int", None, "a whole number", "write [n..m], [n..*] or [n]")
        low = self.whole(low_tok)
        high: int | None = low
        if self.at("op", ".."):
            self.next()
            if self.at("op", "*"):
                self.next()
                high = None
            else:
                high = self.whole(
                    self.expect("int", None, "a whole number or *", "write [n..m], [n..*] or [n]")
                )
        self.expect("op", "]", "']' closing the cardinality", "write [n..m], [n..*] or [n]")
        if low < 0 or (high is not None and high < low):
            self.error(
                low_tok[2],
                1,
                "E161",
                f"bad cardinality [{low}..{'*' if high is None else high}]",
                "the bounds must satisfy 0 <= n <= m",
            )
        return low, high

    # ------------------------------------------------------------- attributes

    def attributes(self, owner: str) -> Attributes:
        self.expect("op", "{", "'{'", "attributes are written {key value, ...}")
        items: list[tuple[str, UvlValue]] = []
        if self.at("op", "}"):
            self.next()
            return Attributes(())
        while True:
            key = self.ident()
            if (
                key in ("constraint", "constraints")
                and not self.at("op", ",")
                and not self.at("op", "}")
            ):
                if key == "constraint":
                    self.attribute_constraint()
                else:
                    self.expect(
                        "op", "[", "'[' of a constraint list", "write constraints [A => B, C]"
                    )
                    while not self.at("op", "]"):
                        self.attribute_constraint()
                        if not self.at("op", ","):
                            break
                        self.next()
                    self.expect(
                        "op",
                        "]",
                        "']' closing the constraint list",
                        "write constraints [A => B, C]",
                    )
            elif self.at("op", ",") or self.at("op", "}"):
                items.append((key, None))
            else:
                items.append((key, self.value()))
            if self.at("op", ","):
                self.next()
                continue
            self.expect(
                "op",
                "}",
                "',' or '}' in the attributes",
                f"attributes of {owner} are written {{key value, ...}}",
            )
            return Attributes(tuple(items))

    def whole(self, tok: Token) -> int:
        """A whole-number token; a longer one than any model needs is refused before int()."""
        if len(tok[1]) > MAX_NUMBER_CHARS:
            raise _Stop(
                tok[2],
                "E161",
                f"the number is {len(tok[1])} digits long",
                f"write a number of at most {MAX_NUMBER_CHARS} digits",
            )
        return int(tok[1])

    def value(self) -> UvlValue:
        tok = self.peek()
        kind, text = tok[0], tok[1]
        if kind == "name" and text in ("true", "false"):
            self.next()
            return text == "true"
        if kind == "int":
            self.next()
            return self.whole(tok)
        if kind == "float":
            self.next()
            return float(text)
        if kind in ("string", "qname"):
            # UVL writes text in single quotes; some collections use double quotes: keep both.
            self.next()
            return text[1:-1]
        if kind == "op" and text == "{":
            return self.attributes("a nested attribute")
        if kind == "op" and text == "[":
            self.next()
            items: list[UvlValue] = []
            while not self.at("op", "]"):
                items.append(self.value())
                if not self.at("op", ","):
                    break
                self.next()
            self.expect("op", "]", "']' closing the list", "write [value, value, ...]")
            return tuple(items)
        self.stop("an attribute value", "values are true, false, numbers, 'text', {...} or [...]")
        return None  # pragma: no cover

    def attribute_constraint(self) -> None:
        start = self.peek()[2]
        try:
            formula, refs = self.constraint()
        except _Unsupported as exc:
            self.error(
                exc.offset,
                1,
                "E163",
                exc.message,
                "only boolean constraints (!, &, |, =>, <=>) are supported",
            )
            depth = 0
            while not self.at("eof") and not (
                depth == 0 and (self.at("op", ",") or self.at("op", "}") or self.at("op", "]"))
            ):
                tok = self.next()
                if tok[1] in _OPEN:
                    depth += 1
                elif tok[1] in _CLOSE:
                    depth -= 1
            return
        end = self.peek()[2]
        self.constraints.append((formula, self.text[start:end].strip(), start, end - start, refs))

    # ------------------------------------------------------------- constraints

    def constraint_line(self) -> None:
        start = self.peek()[2]
        try:
            formula, refs = self.constraint()
            if not self.at("newline"):
                tok = self.peek()
                if tok[0] == "op" and (tok[1] in _COMPARE or tok[1] in _ARITH):
                    raise _Unsupported(
                        tok[2],
                        f"numeric constraints ('{tok[1]}') are not supported: only boolean ones",
                    )
                self.stop(
                    "an operator (&, |, =>, <=>) or the end of the constraint",
                    "write one constraint per line",
                )
        except _Unsupported as exc:
            self.error(
                exc.offset,
                1,
                "E163",
                exc.message,
                "only boolean constraints (!, &, |, =>, <=>) over features are supported",
            )
            self.skip_line()
            return
        except _Stop as exc:
            self.error(exc.offset, 1, exc.code, exc.message, exc.hint)
            self.skip_line()
            return
        end = self.peek()[2]
        self.next()
        self.constraints.append((formula, self.text[start:end].strip(), start, end - start, refs))

    def constraint(self) -> tuple[IR, dict[str, int]]:
        refs: dict[str, int] = {}
        start = self.peek()[2]
        formula = self.binary(0, refs)
        if _height(formula) > MAX_DEPTH:
            raise _Stop(
                start,
                "E162",
                f"the constraint nests more than {MAX_DEPTH} levels (a '=>' or '<=>' counts two)",
                "split it into several constraints",
            )
        return formula, refs

    _LEVELS: tuple[str, ...] = ("<=>", "=>", "|", "&")

    def binary(self, level: int, refs: dict[str, int]) -> IR:
        if level == len(self._LEVELS):
            return self.unary(refs, 0)
        op = self._LEVELS[level]
        left = self.binary(level + 1, refs)
        links = 0
        while self.at("op", op):
            links += 1
            if links > MAX_CHAIN and op in ("=>", "<=>"):
                raise _Stop(
                    self.peek()[2],
                    "E162",
                    f"more than {MAX_CHAIN} '{op}' in a row",
                    f"split the chain into several constraints (each '{op}' nests the "
                    "formula one level deeper)",
                )
            self.next()
            right = self.binary(level + 1, refs)
            if op == "&":
                left = Op(
                    "and",
                    (*(left.args if isinstance(left, Op) and left.op == "and" else (left,)), right),
                )
            elif op == "|":
                left = Op(
                    "or",
                    (*(left.args if isinstance(left, Op) and left.op == "or" else (left,)), right),
                )
            else:
                left = Op(op, (left, right))
        return left

    def unary(self, refs: dict[str, int], depth: int) -> IR:
        if depth > MAX_DEPTH:
            self.stop(
                "a shallower constraint", f"the constraint nests more than {MAX_DEPTH} levels"
            )
        tok = self.peek()
        if tok[0] == "op" and tok[1] == "!":
            self.next()
            return Op("not", (self.unary(refs, depth + 1),))
        if tok[0] == "op" and tok[1] == "(":
            self.next()
            inner = self.binary(0, refs) if depth < MAX_DEPTH else self.unary(refs, depth + 1)
            self.expect("op", ")", "')'", "close the parenthesis")
            self.numeric_follows()
            return inner
        if tok[0] in ("int", "float", "string"):
            raise _Unsupported(
                tok[2], "numeric and string constraints are not supported: only boolean ones"
            )
        if tok[0] == "name" and tok[1] in _AGGREGATES and self.peek(1)[1] == "(":
            raise _Unsupported(
                tok[2],
                f"aggregate functions ({tok[1]}(...)) are not supported: only boolean constraints",
            )
        if tok[0] in ("name", "qname"):
            name = self.reference_text()
            self.numeric_follows()
            refs.setdefault(name, tok[2])
            return Ref(name)
        self.stop(
            "a feature name, '!' or '('",
            "constraints combine feature names with !, &, |, =>, <=> and parentheses",
        )
        return Ref("")  # pragma: no cover

    def numeric_follows(self) -> None:
        tok = self.peek()
        if tok[0] == "op" and (tok[1] in _COMPARE or tok[1] in _ARITH):
            raise _Unsupported(
                tok[2], f"numeric constraints ('{tok[1]}') are not supported: only boolean ones"
            )


def _height(formula: IR) -> int:
    """Nesting of a formula, iteratively: 'not' counts one level, other operators two.

    (The CNF conversion spends about that many stack frames per level.)
    """
    best = 0
    stack: list[tuple[IR, int]] = [(formula, 0)]
    while stack:
        node, height = stack.pop()
        best = max(best, height)
        if isinstance(node, Op):
            step = 1 if node.op == "not" else 2
            stack.extend((arg, height + step) for arg in node.args)
    return best


def _describe(tok: Token) -> str:
    kind, text = tok[0], tok[1]
    if kind in ("newline", "indent", "dedent", "eof"):
        return {
            "newline": "the end of the line",
            "indent": "a deeper indentation",
            "dedent": "a shallower indentation",
            "eof": "the end of the file",
        }[kind]
    return f"'{text}'"


MODEL_INPUT = TextInput(
    what="model",
    limit=MAX_BYTES,
    unreadable="E160",
    empty="E160",
    binary="E160",
    too_large="E160",
    empty_hint="write the model in UVL or DIMACS (see docs/interchange.md)",
    too_large_hint=f"model files up to {MAX_BYTES // (1024 * 1024)} MiB are read",
)
"""UVL and DIMACS files: every reading problem is E160."""


def read_text(path: Path, display: str) -> str:
    """The UTF-8 text of a model file; E160 if it cannot be read."""
    return source.read_text(path, display, MODEL_INPUT)


def load_uvl(path: Path, display: str | None = None) -> FeatureModel:
    """Read a UVL file; raise InputError with every problem found."""
    shown = display or str(path)
    return parse_uvl(read_text(path, shown), shown)


def parse_uvl(text: str, path: str = "<uvl>") -> FeatureModel:
    """Parse UVL text; raise InputError (E161-E165) with every problem found."""
    with paused_gc():
        return _parse_uvl(text, path)


def _parse_uvl(text: str, path: str) -> FeatureModel:
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        raise InputError(
            [
                Diagnostic(
                    code="E160",
                    span=Span(path, line, 1),
                    message="the file holds binary data (a NUL byte)",
                    hint="give a UVL text file",
                )
            ]
        )
    tokens, line_starts, errors = tokenize(text)
    if errors:
        lexed = _Parser([("eof", "", len(text))], text, path, line_starts)
        raise InputError(
            [
                Diagnostic(code=c, span=lexed.span(o, 1), message=m, hint=h)
                for o, c, m, h in errors[:50]
            ]
        )
    parser = _Parser(tokens, text, path, line_starts)
    try:
        parser.model()
    except _Stop as exc:
        parser.error(exc.offset, 1, exc.code, exc.message, exc.hint)
    except RecursionError:
        parser.error(
            parser.peek()[2],
            1,
            "E162",
            "the model is nested too deeply to read",
            f"keep the tree and constraints under {MAX_DEPTH} levels",
        )
    return _finish(parser, path)


def _finish(parser: _Parser, path: str) -> FeatureModel:
    diags = [
        Diagnostic(code=c, span=parser.span(o, ln), message=m, hint=h)
        for o, ln, c, m, h in parser.errors
    ]
    seen: dict[str, Span] = {}
    for feature in parser.features:
        first = seen.get(feature.name)
        if first is not None:
            diags.append(
                Diagnostic(
                    code="E165",
                    span=feature.span,
                    message=f"feature '{feature.name}' is declared twice (first at {first})",
                    hint="give every feature a unique name",
                    related=(first,),
                )
            )
        else:
            seen[feature.name] = feature.span
    constraints: list[Constraint] = []
    names = list(seen)
    for formula, text, offset, length, refs in parser.constraints:
        bad = False
        for name, ref_offset in refs.items():
            if name in seen:
                continue
            bad = True
            if "." in name and name.split(".", 1)[0] in seen:
                code, message, hint = (
                    "E163",
                    f"'{name}' reads an attribute: attribute constraints are not supported",
                    "only boolean constraints over features are supported",
                )
            else:
                code, message, hint = (
                    "E164",
                    f"unknown feature '{name}' in a constraint{did_you_mean(name, names)}",
                    "declare the feature under 'features' or fix the name",
                )
            diags.append(
                Diagnostic(
                    code=code, span=parser.span(ref_offset, len(name)), message=message, hint=hint
                )
            )
        if not bad:
            constraints.append(
                Constraint(formula=formula, text=text, span=parser.span(offset, length))
            )
    if parser.root is None and not diags:
        diags.append(
            Diagnostic(
                code="E161",
                span=Span(path, 1, 1),
                message="the model has no 'features' section",
                hint="write 'features' and then the root feature, indented",
            )
        )
    if diags:
        raise InputError(diags)
    return FeatureModel(
        path=path,
        kind="uvl",
        namespace=parser.namespace,
        root=parser.root,
        features=tuple(parser.features),
        groups=tuple(parser.groups),
        constraints=tuple(constraints),
    )
