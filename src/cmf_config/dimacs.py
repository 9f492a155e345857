"""DIMACS CNF -> FeatureModel: variables become features, clauses a `ClauseTable`.

A `p cnf <variables> <clauses>` header, then clauses as whole numbers ending in 0 (a clause may
span lines; `%` ends the clauses, as in the SATLIB files). Comment lines `c <n> <name>` name
variable n (FeatureIDE and the SoftVarE collection write them); a variable without such a line
is called `x<n>`. Kconfig-derived files add a type after the name (`c 1 CONFIG_KILL bool`);
it is kept as the attribute `type`. The clauses stay integer tuples with their lines; a clause
becomes a formula (`FeatureModel.clause_constraint`) only when something asks for it.

Diagnostic codes: E160 unreadable file, E170 syntax (header, literal, range).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.fmodel import Attributes, ClauseTable, Feature, FeatureModel, paused_gc
from cmf_config.uvl import read_text

_BASE_TYPES = (
    "bool",
    "tristate",
    "nonbool",
    "choice_bool",
    "choice_tristate",
    "string",
    "int",
    "hex",
)
KCONFIG_TYPES = frozenset({*_BASE_TYPES, *(f"hidden_{t}" for t in _BASE_TYPES)})
MAX_VARIABLES = 10_000_000
MAX_TOKEN = 20
"""The longest number read (a literal or a count); int() of a longer one costs quadratic time."""
_TOKEN = re.compile(r"\S+")
_LONG = re.compile(rf"\d{{{MAX_TOKEN + 1}}}")


def load_dimacs(path: Path, display: str | None = None) -> FeatureModel:
    """Read a DIMACS CNF file; raise InputError with every problem found (up to 50)."""
    shown = display or str(path)
    return parse_dimacs(read_text(path, shown), shown)


def parse_dimacs(text: str, path: str = "<dimacs>") -> FeatureModel:
    """Parse DIMACS text; raise InputError (E170) with every problem found (up to 50)."""
    with paused_gc():
        return _parse_plain(text, path) or _parse_dimacs(text, path)


def _parse_plain(text: str, path: str) -> FeatureModel | None:
    """The common layout read at C speed, or None to use the general reader.

    The layout FeatureIDE and the collections write: comment lines, the header, then one
    clause per line, each ending in 0, no blank line or comment among them. The numbers go
    through numpy's text reader at once; anything unexpected (a word, a clause over two lines,
    a range error) sends the file to the general reader, which says where and why.
    """
    at = 0 if text.startswith("p ") else text.find("\np ") + 1  # find() -1 gives 0 too
    if not text.startswith("p ", at):
        return None
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    fields = text[at:end].split()
    if len(fields) != 4 or fields[1] != "cnf" or not fields[2].isdigit() or not fields[3].isdigit():
        return None
    if len(fields[2]) > MAX_TOKEN or len(fields[3]) > MAX_TOKEN or _LONG.search(text):
        return None
    variables = int(fields[2])
    if variables > MAX_VARIABLES or "-0" in text:
        return None
    head = text[:at].splitlines()
    if any(line and line[:2] not in ("c", "c ", "c\t") for line in head):
        return None
    body = text[end + 1 :].rstrip().replace("\r\n", "\n")
    lines = body.count("\n") + 1 if body else 0
    if body and not _one_clause_per_line(body):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            numbers = (
                np.fromstring(body, dtype=np.int64, sep=" ") if body else np.zeros(0, np.int64)
            )
        except (DeprecationWarning, ValueError):
            return None
    zeros = np.flatnonzero(numbers == 0)
    if len(zeros) != lines or (lines and zeros[-1] != len(numbers) - 1):
        return None
    if lines != int(fields[3]):
        return None  # the general reader says where the count goes wrong
    if len(numbers) and int(np.abs(numbers).max()) > variables:
        return None
    names: dict[int, tuple[str, str]] = {}
    name_lines: dict[int, int] = {}
    for number, line in enumerate(head, start=1):
        _name_comment(line.strip(), number, names, name_lines)
    flat = numbers.tolist()
    clauses = []
    start = 0
    for stop in zeros.tolist():
        clauses.append(tuple(flat[start:stop]))
        start = stop + 1
    header_line = len(head) + 1
    return FeatureModel(
        path=path,
        kind="dimacs",
        features=tuple(_features(variables, names, name_lines, Span(path, header_line, 1))),
        cnf=ClauseTable(
            clauses=tuple(clauses),
            lines=tuple(range(header_line + 1, header_line + 1 + lines)),
        ),
    )


_NUMBER_CHARS = b"0123456789- \t\n"
_MINUS, _NEWLINE, _ZERO = ord("-"), ord("\n"), ord("0")


def _byte_table(chars: bytes) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
    table = np.zeros(256, dtype=np.bool_)
    table[np.frombuffer(chars, np.uint8)] = True
    return table


_IS_DIGIT = _byte_table(b"0123456789")
_IS_BLANK = _byte_table(b" \t")
_IS_SEPARATOR = _byte_table(b" \t\n")
_STARTS_NUMBER = _byte_table(b"-0123456789")


def _one_clause_per_line(body: str) -> bool:
    """Whether every line is one clause: signed whole numbers, blanks between, a lone 0 last.

    Checked on the bytes with numpy (no Python loop per line): only digits, '-', blanks and
    newlines; a '-' only at the start of a number; every line starts with a number (no
    indent, no blank line) and ends in a 0 standing alone. Together with "as many zeros as
    lines" (checked by the caller) this leaves no 0 inside a line.
    """
    try:
        raw = body.encode("ascii")
    except UnicodeEncodeError:
        return False
    if raw.translate(None, _NUMBER_CHARS):
        return False
    a = np.frombuffer(raw, np.uint8)
    minus = np.flatnonzero(a == _MINUS)
    if len(minus):
        if minus[-1] + 1 >= len(a) or not _IS_DIGIT[a[minus + 1]].all():
            return False
        if not _IS_SEPARATOR[a[minus[minus > 0] - 1]].all():
            return False
    newlines = np.flatnonzero(a == _NEWLINE)
    starts = np.append(0, newlines + 1)
    if starts[-1] >= len(a) or not _STARTS_NUMBER[a[starts]].all():
        return False
    ends = np.append(newlines, len(a)) - 1  # the last character of each line
    if not (a[ends] == _ZERO).all():
        return False
    before_zero = ends - 1
    alone = (before_zero < starts) | _IS_BLANK[a[np.maximum(before_zero, 0)]]
    return bool(alone.all())


def _name_comment(
    stripped: str, number: int, names: dict[int, tuple[str, str]], name_lines: dict[int, int]
) -> None:
    """Record `c <n> <name> [type]` (a Kconfig type after the name is kept apart)."""
    parts = stripped.split(None, 2)
    if len(parts) == 3 and parts[0] == "c" and parts[1].isdigit() and len(parts[1]) <= MAX_TOKEN:
        rest = parts[2].split()
        if len(rest) >= 2 and rest[1] in KCONFIG_TYPES:
            names[int(parts[1])] = (rest[0], " ".join(rest[1:]))
        else:
            names[int(parts[1])] = (parts[2].strip(), "")
        name_lines[int(parts[1])] = number


def _clause_tokens(
    line: str,
    path: str,
    number: int,
    variables: int,
    current: list[int],
    start: Span | None,
    clauses: list[tuple[tuple[int, ...], Span]],
    diags: list[Diagnostic],
) -> Span | None:
    """Read the literals of one line into the clause being read (`current`, which began at
    `start`); a 0 ends it into `clauses`. Returns where the open clause began."""
    for m in _TOKEN.finditer(line):
        token = m.group()
        try:
            if len(token) > MAX_TOKEN:
                raise ValueError(token)
            lit = int(token)
        except ValueError:
            diags.append(
                _err(
                    path,
                    number,
                    m.start() + 1,
                    f"'{token}' is not a literal",
                    "clauses are whole numbers ending in 0",
                )
            )
            continue
        if lit == 0 and token[0] in "+-":
            diags.append(
                _err(
                    path,
                    number,
                    m.start() + 1,
                    f"'{token}' is not a literal (variables are numbered from 1)",
                    "end a clause with a plain 0; write the literal as n or -n",
                )
            )
            continue
        if lit == 0:
            clauses.append((tuple(current), start or Span(path, number, m.start() + 1)))
            current.clear()
            start = None
            continue
        if abs(lit) > variables:
            diags.append(
                _err(
                    path,
                    number,
                    m.start() + 1,
                    f"literal {lit} is out of range: the header declares {variables} variables",
                    "fix the literal or the header",
                )
            )
            continue
        if start is None:
            start = Span(path, number, m.start() + 1, m.end() + 1)
        current.append(lit)
    return start


def _header(stripped: str, path: str, number: int, diags: list[Diagnostic]) -> tuple[int, int]:
    """(variables, clauses) of a 'p cnf' line; (0, 0) and a diagnostic when it is malformed, a
    diagnostic too when it declares more than MAX_VARIABLES."""
    fields = stripped.split()
    if (
        len(fields) != 4
        or fields[1] != "cnf"
        or not fields[2].isdigit()
        or not fields[3].isdigit()
        or len(fields[2]) > MAX_TOKEN
        or len(fields[3]) > MAX_TOKEN
    ):
        diags.append(
            _err(path, number, 1, f"bad header '{stripped}'", "write p cnf <variables> <clauses>")
        )
        return (0, 0)
    header = (int(fields[2]), int(fields[3]))
    if header[0] > MAX_VARIABLES:
        diags.append(
            _err(
                path,
                number,
                1,
                f"{header[0]} variables are more than this reader accepts",
                f"at most {MAX_VARIABLES} variables",
            )
        )
    return header


def _check_end(
    path: str,
    header: tuple[int, int] | None,
    header_span: Span,
    current: Sequence[int],
    start: Span | None,
    count: int,
    diags: list[Diagnostic],
) -> None:
    """What only the end of the file tells: an unterminated last clause, a clause count other
    than the header's, no header at all."""
    if current and not diags:
        assert start is not None
        diags.append(
            Diagnostic(
                code="E170",
                span=start,
                message="the last clause does not end with 0 (is the file cut short?)",
                hint="end every clause with 0; if the file was cut, get the whole file again",
            )
        )
    if header is not None and header != (0, 0) and not diags and count != header[1]:
        diags.append(
            Diagnostic(
                code="E170",
                span=header_span,
                message=f"the header declares {header[1]} clauses but the file holds {count}",
                hint="fix the count in 'p cnf <variables> <clauses>', or check whether the file was cut short",
            )
        )
    if header is None and not diags:
        diags.append(
            _err(
                path,
                1,
                1,
                "no 'p cnf' header",
                "write p cnf <variables> <clauses> before the clauses",
            )
        )


def _parse_dimacs(text: str, path: str) -> FeatureModel:
    diags: list[Diagnostic] = []
    names: dict[int, tuple[str, str]] = {}
    name_lines: dict[int, int] = {}
    header: tuple[int, int] | None = None
    header_span = Span(path, 1, 1)
    clauses: list[tuple[tuple[int, ...], Span]] = []
    current: list[int] = []
    start: Span | None = None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped[0] == "c" and (len(stripped) == 1 or stripped[1] in " \t"):
            _name_comment(stripped, number, names, name_lines)
            continue
        if stripped[0] == "%":
            break
        if stripped[0] == "p":
            if header is not None:
                diags.append(
                    _err(path, number, 1, "a second 'p cnf' header", "keep one header line")
                )
                continue
            header = _header(stripped, path, number, diags)
            if header != (0, 0):
                header_span = Span(path, number, 1)
            if header[0] > MAX_VARIABLES:
                break
            continue
        if header is None:
            diags.append(
                _err(
                    path,
                    number,
                    1,
                    "a clause before the 'p cnf' header",
                    "start the file with comments and p cnf <variables> <clauses>",
                )
            )
            header = (0, 0)
        if not current:
            fast = _whole_clause(line, header[0])
            if fast is not None:
                clauses.append((fast, Span(path, number, len(line) - len(line.lstrip()) + 1)))
                continue
        start = _clause_tokens(line, path, number, header[0], current, start, clauses, diags)
        if len(diags) >= 50:
            break
    _check_end(path, header, header_span, current, start, len(clauses), diags)
    if diags:
        raise InputError(diags[:50])
    assert header is not None
    return FeatureModel(
        path=path,
        kind="dimacs",
        features=tuple(_features(header[0], names, name_lines, header_span)),
        cnf=ClauseTable(
            clauses=tuple(c for c, _ in clauses),
            lines=tuple(span.line for _, span in clauses),
            columns=tuple(span.col for _, span in clauses),
        ),
    )


def _whole_clause(line: str, variables: int) -> tuple[int, ...] | None:
    """The clause of a line holding exactly one well-formed clause, else None (slow path)."""
    tokens = line.split()
    if any(len(t) > MAX_TOKEN for t in tokens):
        return None
    try:
        lits = [int(t) for t in tokens]
    except ValueError:
        return None
    if not lits or lits[-1] != 0 or "-0" in line:
        return None
    body = lits[:-1]
    if 0 in body or any(abs(x) > variables for x in body):
        return None
    return tuple(body)


def _err(path: str, line: int, col: int, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code="E170", span=Span(path, line, col), message=message, hint=hint)


def _features(
    count: int, names: dict[int, tuple[str, str]], lines: dict[int, int], span: Span
) -> list[Feature]:
    used: set[str] = set()
    out = []
    none = Attributes()
    for var in range(1, count + 1):
        got = names.get(var)
        name, kind = got if got is not None else (f"x{var}", "")
        if not name or name in used:
            name = f"{name or 'x'}#{var}"
        used.add(name)
        line = lines.get(var)
        out.append(
            Feature(
                name=name,
                attributes=Attributes((("type", kind),)) if kind else none,
                span=span if line is None else Span(span.path, line, 1),
            )
        )
    return out
