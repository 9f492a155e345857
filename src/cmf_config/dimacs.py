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
from cmf_config.featuremodel import Attributes, Constraint, Feature, FeatureModel
from cmf_config.rules import IR, Op, Ref
from cmf_config.uvl import read_text

KCONFIG_TYPES = frozenset({"bool", "tristate", "nonbool", "choice_bool", "choice_tristate", "string", "int", "hex"})
MAX_VARIABLES = 10_000_000
_TOKEN = re.compile(r"\S+")


def load_dimacs(path: Path, display: str | None = None) -> FeatureModel:
    """Read a DIMACS CNF file; raise InputError with every problem found (up to 50)."""
    shown = display or str(path)
    return parse_dimacs(read_text(path, shown), shown)


def parse_dimacs(text: str, path: str = "<dimacs>") -> FeatureModel:
    """Parse DIMACS text; raise InputError (E170) with every problem found (up to 50)."""
    diags: list[Diagnostic] = []
    names: dict[int, tuple[str, str]] = {}
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
            continue
        if stripped[0] == "%":
            break
        if stripped[0] == "p":
            fields = stripped.split()
            if header is not None:
                diags.append(_err(path, number, 1, "a second 'p cnf' header", "keep one header line"))
            elif len(fields) != 4 or fields[1] != "cnf" or not fields[2].isdigit() or not fields[3].isdigit():
                diags.append(_err(path, number, 1, f"bad header '{stripped}'", "write p cnf <variables> <clauses>"))
                header = (0, 0)
            else:
                header = (int(fields[2]), int(fields[3]))
                header_span = Span(path, number, 1)
                if header[0] > MAX_VARIABLES:
                    diags.append(_err(path, number, 1, f"{header[0]} variables are more than this reader accepts", f"at most {MAX_VARIABLES} variables"))
                    break
            continue
        if header is None:
            diags.append(_err(path, number, 1, "a clause before the 'p cnf' header", "start the file with comments and p cnf <variables> <clauses>"))
            header = (0, 0)
        for m in _TOKEN.finditer(line):
            token = m.group()
            try:
                lit = int(token)
            except ValueError:
                diags.append(_err(path, number, m.start() + 1, f"'{token}' is not a literal", "clauses are whole numbers ending in 0"))
                continue
            if lit == 0:
                clauses.append((tuple(current), start or Span(path, number, m.start() + 1)))
                current = []
                start = None
                continue
            if abs(lit) > header[0]:
                diags.append(_err(path, number, m.start() + 1, f"literal {lit} is out of range: the header declares {header[0]} variables", "fix the literal or the header"))
                continue
            if start is None:
                start = Span(path, number, m.start() + 1, m.end() + 1)
            current.append(lit)
        if len(diags) >= 50:
            break
    if current:
        clauses.append((tuple(current), start or Span(path, len(lines), 1)))
    if header is None and not diags:
        diags.append(_err(path, 1, 1, "no 'p cnf' header", "write p cnf <variables> <clauses> before the clauses"))
    if diags:
        raise InputError(diags[:50])
    assert header is not None
    features = _features(header[0], names, header_span)
    feature_names = [f.name for f in features]
    constraints = []
    for clause, span in clauses:
        unique = tuple(dict.fromkeys(clause))
        constraints.append(Constraint(formula=_formula(unique, feature_names), text=_text(unique, feature_names), span=span, clause=unique))
    return FeatureModel(path=path, kind="dimacs", features=tuple(features), constraints=tuple(constraints))


def _err(path: str, line: int, col: int, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code="E170", span=Span(path, line, col), message=message, hint=hint)


def _features(count: int, names: dict[int, tuple[str, str]], span: Span) -> list[Feature]:
    used: set[str] = set()
    out = []
    for var in range(1, count + 1):
        name, kind = names.get(var, (f"x{var}", ""))
        if not name or name in used:
            name = f"{name or 'x'}#{var}"
        used.add(name)
        attributes = Attributes((("type", kind),)) if kind else Attributes()
        out.append(Feature(name=name, attributes=attributes, span=span))
    return out


def _formula(clause: tuple[int, ...], names: list[str]) -> IR:
    lits: list[IR] = [Ref(names[lit - 1]) if lit > 0 else Op("not", (Ref(names[-lit - 1]),)) for lit in clause]
    if len(lits) == 1:
        return lits[0]
    return Op("or", tuple(lits))


def _text(clause: tuple[int, ...], names: list[str]) -> str:
    if not clause:
        return "false (an empty clause)"
    return " | ".join(names[lit - 1] if lit > 0 else f"!{names[-lit - 1]}" for lit in clause)
