"""Writes the compiled workspace the fast path (`quick.py`) reads: plain data, one marshal file.

After a full `validate`, `build`, `options` or `explain` has loaded a catalog and its rules,
the same sources are compiled once more into plain values -- names, slot attributes, rules
and BOM positions as tuples (`rules.plain`), parts and names, and the engine (`solver.Engine`:
its CNF as lists of ints, slot literals, rule selectors, the error rules with the slots they
read, labels, messages and positions: what `questions.Questions` and the options and explain
reports need) -- and stored under the run's entry key. The content
digest of every catalog and rules file is taken before and after compiling, and the entry
is written only when the two agree, so it never holds data of files that changed meanwhile.
"""

from __future__ import annotations

import argparse
import marshal
from pathlib import Path
from typing import Any

from cmf_config import cache, plainreport, quick
from cmf_config.load import STATUSES, load_catalog
from cmf_config.model import KINDS, Catalog, PartLine
from cmf_config.problem import Problem, catalog_problem
from cmf_config.project import Sources
from cmf_config.rules import Rule, plain, platform_rules
from cmf_config.solver import Engine
from cmf_config.workspace import compiled, engine_as_built


def _part(line: PartLine) -> tuple[str, str, int, float, float]:
    return (line.part, line.name, line.quantity, line.unit_cost, line.unit_mass_kg)


def _engine(
    catalog: Catalog, rules_dir: Path, problem: Problem, rules: list[Rule]
) -> dict[str, Any]:
    """The engine as plain data: the CNF as built (before any question), the slots in the
    encoding's order, the error rules in order, and what the reports say of them.

    `workspace.engine_as_built`: the engine an options or explain run has just used, when its
    questions added nothing to it, else the copy in the engine cache (pickled as built), rather
    than encoding the rules a second time."""
    engine: Engine = engine_as_built(catalog, rules_dir, problem, rules)
    span = {r.id: (r.span.path, r.span.line, r.span.col) for r in engine.hard}
    return {
        "clauses": engine.encoding.clauses,
        "nvars": engine.encoding.nvars,
        "slots": [
            (s.name, [v.id for v in s.values], s.is_bool, s.is_numeric, s.label or s.name)
            for s in problem.slots
        ],
        "slot_lits": engine.encoding.slot_lits,
        "selectors": engine.selectors,
        "hard": [(r.id, r.builtin, sorted(r.slots)) for r in engine.hard],
        "rule_text": {r.id: (r.message, r.description, span[r.id]) for r in engine.hard},
    }


def compile_entry(sources: Sources, engine: bool = False) -> dict[str, Any]:
    """The fast path's plain-data view of a catalog and its rules (see quick.py); with
    `engine`, the engine too (what options and explain need, validate and build do not)."""
    catalog: Catalog = load_catalog(sources.catalog.path)
    problem = catalog_problem(catalog, [v.config for v in catalog.vehicles.values()])
    loaded, positions = compiled(catalog, sources.rules.path, problem)
    rules = platform_rules(catalog, problem) + loaded
    opts = catalog.options
    attributes: dict[str, dict[str, dict[str, object]]] = {}
    for slot in problem.slots:
        if not slot.is_bool and not slot.is_numeric:
            attributes[slot.name] = {v.id: dict(v.attributes) for v in slot.values}
    return {
        "format": quick.FORMAT,
        "catalog_dir": str(sources.catalog.path),
        "rules_dir": str(sources.rules.path),
        "sources_line": plainreport.sources_line(sources),
        "sources_json": sources.as_json(),
        "format_default": None,
        "names": {
            "brand": sorted(catalog.brands),
            "platform": sorted(catalog.platforms),
            "segment": list(opts.segments),
            "body": list(opts.bodies),
            "powertrain": [p.id for p in opts.powertrains],
            "drive": list(opts.drives),
            "steering": list(opts.steering),
            "market": [m.id for m in opts.markets],
            "feature": [f.id for f in opts.features],
            "status": list(STATUSES),
        },
        "module_kinds": {m.id: m.kind for m in catalog.modules.values()},
        "attributes": attributes,
        "rules": [(r.id, r.severity.value == "error", plain(r.formula)) for r in rules],
        "positions": [
            (
                item.owner_slot if problem.has(item.owner_slot) else None,
                item.owner,
                plain(item.needed),
                tuple(
                    (plain(condition), _part(alternative.line()))
                    for alternative, condition in zip(
                        item.position.alternatives, item.conditions, strict=True
                    )
                ),
            )
            for item in positions
        ],
        "module_parts": {m.id: [_part(p) for p in m.parts] for m in catalog.modules.values()},
        "brand_parts": {b.id: [_part(p) for p in b.parts] for b in catalog.brands.values()},
        "module_names": {m.id: m.name for m in catalog.modules.values()},
        "brand_names": {b.id: b.name for b in catalog.brands.values()},
        "platform_names": {p.id: p.name for p in catalog.platforms.values()},
        "provenance": catalog.provenance,
        "kinds": list(KINDS),
        **({"engine": _engine(catalog, sources.rules.path, problem, rules)} if engine else {}),
    }


def remember(args: argparse.Namespace) -> None:
    """Store the fast path's entry for this run's sources, unless it is there already.

    Called after a full `validate`, `build`, `options` or `explain` that could load its
    catalog and rules; any failure only costs the next run its speed. The engine is compiled
    into the entry by the first `options` or `explain` (a `validate` does not pay for it) and
    kept by the runs after it.
    """
    if not cache.enabled() or args.command not in quick.COMMANDS:
        return
    sources: Sources | None = getattr(args, "sources", None)
    if sources is None:
        return
    try:
        key = quick.entry_key(
            str(sources.catalog.path) if sources.catalog.origin == "option" else "",
            str(sources.rules.path) if sources.rules.origin == "option" else "",
        )
        target = quick.entry_path(key)
        catalog_dir, rules_dir = Path(sources.catalog.path), Path(sources.rules.path)
        before = quick.content_digest(catalog_dir, rules_dir)
        engine = args.command in quick.QUESTIONS
        found = _current(target, before) if target.is_file() else None
        if found is not None and (found or not engine):
            return
        entry = compile_entry(sources, engine)
        project = sources.project
        entry["format"] = quick.FORMAT
        entry["format_default"] = project.format if project is not None else None
        entry["color"] = project.color if project is not None else None
        entry["content"] = before
        if quick.content_digest(catalog_dir, rules_dir) != before:
            return  # a file changed while compiling: store nothing
        cache.store(target, marshal.dumps(entry))
    except Exception:  # an unusable catalog or rules folder, a full disk: no entry
        return


def _current(target: Path, digest: str) -> bool | None:
    """None when the entry is missing, unreadable or of other content; else whether it holds
    the engine."""
    try:
        entry = marshal.loads(target.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(entry, dict) or entry.get("content") != digest:
        return None
    return "engine" in entry
