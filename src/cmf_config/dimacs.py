"""DIMACS CNF -> FeatureModel: variables become features, clauses become constraints.

A `p cnf <variables> <clauses>` header, then clauses as whole numbers ending in 0 (a clause may
span lines; `%` ends the clauses, as in the SATLIB files). Comment lines `c <n> <name>` name
variable n (FeatureIDE and the SoftVarE collection write them); a variable without such a line
is called `x<n>`. Kconfig-derived files add a type after the name (`c 1 CONFIG_KILL bool`);
it is kept as the attribute `type`.

Diagnostic codes: E160 unreadable file, E170 syntax (header, literal, range).
"""

from __future__ import annotations

import re
from pathlib import Path

from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.featuremodel import Attributes, Constraint, Feature, FeatureModel, paused_gc
from cmf_config.rules import IR, Op, Ref
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
_TOKEN = re.compile(r"\S+")


def load_dimacs(path: Path, display: str | None = None) -> FeatureModel:
    """Read a DIMACS CNF file; raise InputError with every problem found (up to 50)."""
    shown = display or str(path)
    return parse_dimacs(read_text(path, shown), shown)


def parse_dimacs(text: str, path: str = "<dimacs>") -> FeatureModel:
    """Parse DIMACS text; raise InputError (E170) with every problem found (up to 50)."""
    with paused_gc():
        return _parse_dimacs(text, path)


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
            parts = stripped.split(None, 2)
            if len(parts) == 3 and parts[1].isdigit():
                rest = parts[2].split()
                if len(rest) >= 2 and rest[1] in KCONFIG_TYPES:
                    names[int(parts[1])] = (rest[0], " ".join(rest[1:]))
                else:
                    names[int(parts[1])] = (parts[2].strip(), "")
                name_lines[int(parts[1])] = number
            continue
        if stripped[0] == "%":
            break
        if stripped[0] == "p":
            fields = stripped.split()
            if header is not None:
                diags.append(
                    _err(path, number, 1, "a second 'p cnf' header", "keep one header line")
                )
            elif (
                len(fields) != 4
                or fields[1] != "cnf"
                or not fields[2].isdigit()
                or not fields[3].isdigit()
            ):
                diags.append(
                    _err(
                        path,
                        number,
                        1,
                        f"bad header '{stripped}'",
                        "write p cnf <variables> <clauses>",
                    )
                )
                header = (0, 0)
            else:
                header = (int(fields[2]), int(fields[3]))
                header_span = Span(path, number, 1)
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
        for m in _TOKEN.finditer(line):
            token = m.group()
            try:
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
            if lit == 0:
                clauses.append((tuple(current), start or Span(path, number, m.start() + 1)))
                current = []
                start = None
                continue
            if abs(lit) > header[0]:
                diags.append(
                    _err(
                        path,
                        number,
                        m.start() + 1,
                        f"literal {lit} is out of range: the header declares {header[0]} variables",
                        "fix the literal or the header",
                    )
                )
                continue
            if start is None:
                start = Span(path, number, m.start() + 1, m.end() + 1)
            current.append(lit)
        if len(diags) >= 50:
            break
    if current:
        clauses.append((tuple(current), start or Span(path, len(lines), 1)))
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
    if diags:
        raise InputError(diags[:50])
    assert header is not None
    features = _features(header[0], names, name_lines, header_span)
    feature_names = [f.name for f in features]
    constraints = []
    # one formula and one text per literal, shared by every clause that uses it
    literal_ir: dict[int, IR] = {}
    literal_text: dict[int, str] = {}
    for var, name in enumerate(feature_names, start=1):
        ref = Ref(name)
        literal_ir[var], literal_ir[-var] = ref, Op("not", (ref,))
        literal_text[var], literal_text[-var] = name, f"!{name}"
    for clause, span in clauses:
        unique = tuple(dict.fromkeys(clause))
        if len(unique) == 1:
            formula, text_ = literal_ir[unique[0]], literal_text[unique[0]]
        else:
            formula = Op("or", tuple(literal_ir[x] for x in unique))
            text_ = " | ".join(literal_text[x] for x in unique) or "false (an empty clause)"
        constraints.append(Constraint(formula=formula, text=text_, span=span, clause=unique))
    return FeatureModel(
        path=path, kind="dimacs", features=tuple(features), constraints=tuple(constraints)
    )


def _whole_clause(line: str, variables: int) -> tuple[int, ...] | None:
    """The clause of a line holding exactly one well-formed clause, else None (slow path)."""
    try:
        lits = [int(t) for t in line.split()]
    except ValueError:
        return None
    if not lits or lits[-1] != 0:
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
    for var in range(1, count + 1):
        name, kind = names.get(var, (f"x{var}", ""))
        if not name or name in used:
            name = f"{name or 'x'}#{var}"
        used.add(name)
        attributes = Attributes((("type", kind),)) if kind else Attributes()
        where = Span(span.path, lines[var], 1) if var in lines else span
        out.append(Feature(name=name, attributes=attributes, span=where))
    return out
