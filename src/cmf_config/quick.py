"""The fast path: `validate` and `build` of complete, clean configuration files, answered from
the compiled workspace in the cache without loading the model, the rule compiler or a solver.

A complete configuration needs no SAT search: every slot is fixed, so it is valid exactly
when every error rule evaluates to true on it (`ruleeval.evaluate_plain`, the semantics of
`rules.evaluate`; orders.py relies on the same fact). The full commands store the compiled
workspace as plain data (`quickstore.remember`: names, slot attributes, rules and BOM
positions as tuples) in one marshal file; this module reads it with the standard library and
PyYAML only, so a `validate` of a good file costs about what `import yaml` costs.

The fast path answers only what it is sure of: a command line it fully understands, an entry
whose key (versions, code fingerprint, working directory, project file, options) and content
digest (every catalog and rules file) still match, and files that parse, structure and name-
check without a single finding, are complete and break no rule (error or warning). Anything
else -- a typo, an open slot, a broken rule, a missing or stale entry, an unexpected error --
returns None and the full command runs, which writes every diagnostic. The reports come from
`plainreport.py`, the functions the full commands call too, so the bytes are the same
(tests/test_quick.py compares both paths).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from cmf_config import __version__, cache, plainreport, term, yaml12
from cmf_config.paths import display_path, yaml_files
from cmf_config.projectfile import find_project_file
from cmf_config.ruleeval import Const, PlainIR, evaluate_plain

FORMAT = 2
"""Bump when the entry's shape changes."""
COMMANDS = ("validate", "build", "options", "explain")
QUESTIONS = ("options", "explain")
"""The commands that ask the engine (a SAT solver) about a partial or invalid configuration."""
FORMATS = {
    "validate": ("text", "json", "sarif", "github"),
    "build": ("text", "json", "csv", "xlsx"),
    "options": ("text", "json"),
    "explain": ("text", "json"),
}
ANSWERS = ("text", "json")
"""The formats the fast path writes (the others: the full command)."""
MAX_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 40
MAX_MAGNITUDE = 10**15
_RESERVED = ("__span__", "__fields__")
_NUMBER_TAGS = (yaml12.INT, yaml12.FLOAT)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Decline(Exception):
    """The fast path does not answer this; the full command will."""


# ------------------------------------------------------------------ command line


class Args:
    """The command line, as far as the fast path understands it."""

    def __init__(self, argv: Sequence[str]) -> None:
        if not argv or argv[0] not in COMMANDS:
            raise Decline
        self.command = argv[0]
        self.files: list[str] = []
        self.quiet = False
        given: dict[str, str] = {}
        words = list(argv[1:])
        while words:
            word = words.pop(0)
            if word in ("-q", "--quiet"):
                self.quiet = True
                continue
            name, equals, value = word.partition("=")
            if name in ("--format", "--color", "--catalog", "--rules"):
                if not equals:
                    if not words:
                        raise Decline
                    value = words.pop(0)
                if not value or value.startswith("-"):
                    raise Decline
                given[name[2:]] = value
            elif word.startswith("-"):
                raise Decline  # any other option (-o, --no-cache, -v, --debug, ...), or "-"
            else:
                self.files.append(word)
        self.format = given.get("format")
        self.color = given.get("color")
        self.catalog = given.get("catalog")
        self.rules = given.get("rules")
        if not self.files or (self.command != "validate" and len(self.files) != 1):
            raise Decline
        if self.format is not None and self.format not in FORMATS[self.command]:
            raise Decline
        if self.color is not None and self.color not in ("auto", "always", "never"):
            raise Decline


# ------------------------------------------------------------------ the entry


def _option_dir(value: str | None) -> str:
    return "" if value is None else str(Path(value).resolve())


def entry_key(catalog_option: str, rules_option: str) -> str:
    """The name of the entry for this run: everything the sources depend on besides content
    (versions, code, working directory, the project file and its bytes, the options)."""
    digest = hashlib.sha256()
    found = find_project_file(Path.cwd())
    project = b""
    if found is not None:
        project = found[0].read_bytes()
    kinds_here = (Path.cwd() / "catalog" / "kinds.yaml").is_file()
    for part in (
        "quick",
        str(FORMAT),
        __version__,
        sys.version,
        cache.code_fingerprint(),
        os.path.realpath(os.getcwd()),
        str(Path.cwd()),
        catalog_option,
        rules_option,
        "" if found is None else f"{found[0]}\0{found[1]}",
        hashlib.sha256(project).hexdigest(),
        str(kinds_here),
    ):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def entry_path(key: str) -> Path:
    """Where the entry of `key` is kept."""
    return cache.folder() / f"quick-{key}.marshal"


def data_files(catalog_dir: Path, rules_dir: Path) -> tuple[list[Path], list[Path]]:
    """The files a compiled workspace is made of, as load_catalog and load_rules list them."""
    files = yaml_files(catalog_dir) if catalog_dir.is_dir() else []
    rules = sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []
    return files, rules


def content_digest(catalog_dir: Path, rules_dir: Path) -> str:
    """The SHA-256 of the names and bytes of every catalog and rules file (each file's digest
    kept for the run by `cache.file_digest`, which reads a file again if it changed)."""
    digest = hashlib.sha256()
    for group in data_files(catalog_dir, rules_dir):
        digest.update(b"\0group\0")
        for path in group:
            digest.update(str(path).encode() + b"\0")
            digest.update(cache.file_digest(path))
    return digest.hexdigest()


def _load_entry(args: Args) -> dict[str, Any]:
    if not cache.enabled():
        raise Decline
    key = entry_key(_option_dir(args.catalog), _option_dir(args.rules))
    try:
        # read whole, then decode: marshal.load on a file reads object by object (6x slower)
        entry = marshal.loads(entry_path(key).read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        raise Decline from None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        raise Decline
    if tuple(entry["kinds"]) != plainreport.KINDS:
        raise Decline
    catalog_dir, rules_dir = Path(entry["catalog_dir"]), Path(entry["rules_dir"])
    if content_digest(catalog_dir, rules_dir) != entry["content"]:
        raise Decline  # an edited, added or removed file: the full command recompiles
    return entry


# ------------------------------------------------------------------ reading a file


def _scalar(event: Any) -> tuple[object, str]:
    if event.anchor or event.tag is not None:
        raise Decline  # anchors and tags: the full reader says what they mean
    tag = yaml12.resolve(event.value) if event.implicit[0] else yaml12.STR
    if tag in _NUMBER_TAGS and len(event.value) > MAX_NUMBER_CHARS:
        raise Decline
    try:
        return yaml12.construct(tag, event.value), event.value
    except ValueError:
        return event.value, event.value


Spans = dict[tuple[str, ...], tuple[int, int]]
"""Where each value of a mapping starts (1-based line, column), by its key path."""


def _open(stack: list[list[Any]], event: Any, spans: Spans | None) -> list[Any]:
    """The stack frame of a mapping or sequence starting (its start noted in `spans`)."""
    if event.anchor or event.tag is not None or len(stack) >= MAX_DEPTH:
        raise Decline
    path: tuple[str, ...] = ()
    if stack:
        if isinstance(stack[-1][0], dict):
            if stack[-1][1] is None:
                raise Decline  # a collection as a key
            path = (*stack[-1][2], stack[-1][1])
            if spans is not None:
                spans[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
        else:
            path = (*stack[-1][2], "-")
    return [{} if type(event) is yaml.MappingStartEvent else [], None, path]


def _tree(text: str, spans: Spans | None = None) -> dict[str, object]:
    """The document as plain data, as source.parse_text reads it; Decline on anything it would
    report (duplicate keys, aliases, tags, several documents, depth, odd keys). `spans`
    receives where each mapping value starts (source.py's spans, by key path)."""
    stack: list[list[Any]] = []  # [container, pending key or None, key path]
    root: object = None
    documents = 0
    events: Any = yaml.parse(text, Loader=_Loader)
    for event in events:
        kind = type(event)
        if kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise Decline
            continue
        if kind is yaml.ScalarEvent:
            value, raw = _scalar(event)
            node: object = value
            if stack and isinstance(stack[-1][0], dict) and stack[-1][1] is None:
                if (value is None and raw == "") or raw in _RESERVED or raw in stack[-1][0]:
                    raise Decline
                stack[-1][1] = raw
                continue
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            stack.append(_open(stack, event, spans))
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            node = stack.pop()[0]
        elif kind is yaml.AliasEvent:
            raise Decline
        else:
            continue
        if not stack:
            root = node
        elif isinstance(stack[-1][0], dict):
            if spans is not None and kind is yaml.ScalarEvent:
                mark = event.start_mark
                spans[(*stack[-1][2], stack[-1][1])] = (mark.line + 1, mark.column + 1)
            stack[-1][0][stack[-1][1]] = node
            stack[-1][1] = None
        else:
            stack[-1][0].append(node)
    if not isinstance(root, dict):
        raise Decline
    return root


def _read(path: Path, spans: Spans | None = None) -> dict[str, object]:
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            raise Decline
        data = path.read_bytes()
    except OSError:
        raise Decline from None
    if not data.strip() or b"\x00" in data or data[:1] in (b"\xff", b"\xfe"):
        raise Decline
    try:
        text = data.decode("utf-8-sig")
        return _tree(text, spans)
    except (UnicodeDecodeError, yaml.YAMLError):
        raise Decline from None


# ------------------------------------------------------------------ structure


def _text(value: object, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise Decline
    return value


def _in_range(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (-MAX_MAGNITUDE <= value <= MAX_MAGNITUDE)
    )


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not _in_range(value):
        raise Decline
    return value


def _number(value: object) -> float:
    if not _in_range(value):
        raise Decline  # also NaN and infinities
    assert isinstance(value, int | float)
    return float(value)


def _texts(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Decline
    return value


def _mapping(value: object, allowed: Sequence[str]) -> dict[str, object]:
    if not isinstance(value, dict) or not set(value) <= set(allowed):
        raise Decline
    return value


VEHICLE_KEYS = (
    "name",
    "id",
    "brand",
    "platform",
    "segment",
    "body",
    "powertrain",
    "modules",
    "options",
    "extra_parts",
    "sources",
    "status",
    "notes",
    "production",
    "generation",
    "plants",
    "markets",
    "provenance",
)
"""The keys of a configuration file (load.VehicleFile; a test keeps the two equal)."""
OPTION_KEYS = ("battery_kwh", "wheelbase_mm", "drive", "steering", "market", "features")
PART_KEYS = ("part", "name", "quantity", "unit_cost", "unit_mass_kg")
YEAR_KEYS = ("start", "end")
TOP = ("brand", "platform", "segment", "body", "powertrain")
CHOICES = ("drive", "steering", "market")


def _known(value: object, known: Sequence[str] | Mapping[str, str]) -> str:
    if not isinstance(value, str) or value not in known:
        raise Decline  # open (None), of the wrong type, or unknown: the full command
    return value


def _metadata(data: Mapping[str, object], names: Mapping[str, Sequence[str]]) -> list[str]:
    """Check the reference-vehicle fields (load.vehicle_from_document); the markets listed."""
    _text(data.get("id"))
    for key in ("notes", "provenance"):
        if key in data:
            _text(data[key], optional=False)
    if _text(data.get("status", "confirmed"), optional=False) not in names["status"]:
        raise Decline
    _text(data.get("generation"))
    _texts(data.get("sources", []))
    _texts(data.get("plants", []))
    markets = _texts(data.get("markets", []))
    if not set(markets) <= set(names["market"]):
        raise Decline
    production = data.get("production")
    if production is not None:
        years = _mapping(production, YEAR_KEYS)
        start = _whole(years["start"]) if "start" in years else None
        end = years.get("end")
        if start is None or (end is not None and _whole(end) < start):
            raise Decline
    return markets


def _extra_parts(extra: object) -> list[plainreport.BomRow]:
    """The vehicle's own parts as BOM rows (positive quantity, no negative cost or mass)."""
    if not isinstance(extra, list):
        raise Decline
    rows: list[plainreport.BomRow] = []
    for item in extra:
        line = _mapping(item, PART_KEYS)
        if set(line) != set(PART_KEYS):
            raise Decline
        row = (
            str(_text(line["part"], optional=False)),
            str(_text(line["name"], optional=False)),
            "vehicle",
            _whole(line["quantity"]),
            _number(line["unit_cost"]),
            _number(line["unit_mass_kg"]),
        )
        if row[3] <= 0 or row[4] < 0 or row[5] < 0:
            raise Decline
        rows.append(row)
    return rows


class Vehicle:
    """A configuration file whose catalog names all check out: complete (validate, build),
    or with open slots (`partial`: options, explain)."""

    def __init__(
        self, data: dict[str, object], entry: Mapping[str, Any], partial: bool = False
    ) -> None:
        names: Mapping[str, Sequence[str]] = entry["names"]
        data = _mapping(data, VEHICLE_KEYS)
        if "name" not in data:
            raise Decline
        self.name = str(_text(data["name"], optional=False))
        markets = _metadata(data, names)

        def known(value: object, ids: Sequence[str] | Mapping[str, str]) -> str | None:
            return None if partial and value is None else _known(value, ids)

        # every slot fixed (or open, when partial), with a known id (a module of its kind)
        self.choice: dict[str, str | None] = {}
        for slot in TOP:
            self.choice[slot] = known(data.get(slot), names[slot])
        modules = _mapping(data.get("modules", {}), plainreport.KINDS)
        kinds: Mapping[str, str] = entry["module_kinds"]
        for kind in plainreport.KINDS:
            chosen = known(modules.get(kind), kinds)
            if chosen is not None and kinds[chosen] != kind:
                raise Decline
            self.choice[kind] = chosen
        options = _mapping(data.get("options", {}), OPTION_KEYS)
        for slot in CHOICES:
            self.choice[slot] = known(options.get(slot), names[slot])
        market = self.choice["market"]
        if markets and market is not None and market not in markets:
            raise Decline
        if not partial and not set(OPTION_KEYS) <= set(options):
            raise Decline
        self.numbers: dict[str, float] = {}
        for slot, read in (("battery_kwh", _number), ("wheelbase_mm", _whole)):
            if not partial or options.get(slot) is not None:
                self.numbers[slot] = float(read(options[slot]))
        if self.numbers and min(self.numbers.values()) < 0:
            raise Decline
        self.features: frozenset[str] | None = None
        if not partial or options.get("features") is not None:
            features = _texts(options["features"])
            if len(set(features)) != len(features) or not set(features) <= set(names["feature"]):
                raise Decline
            self.features = frozenset(features)
        self.extra = _extra_parts(data.get("extra_parts", []))

    def value(self, slot: str) -> str:
        """The value id of a slot a complete vehicle fixes."""
        chosen = self.choice[slot]
        assert chosen is not None
        return chosen

    def reader(self, attributes: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> Any:
        """What a rule's reference reads on this configuration (rules.ref_value)."""

        def read(slot: str, attr: str | None) -> Const:
            if slot in self.numbers:
                if attr is not None:
                    raise Decline
                return self.numbers[slot]
            if slot not in self.choice:
                if attr is not None or self.features is None:
                    raise Decline
                return slot in self.features
            value = self.choice[slot]
            if value is None:
                raise Decline
            if attr is None:
                return value
            got = attributes[slot][value][attr]
            if isinstance(got, int) and not isinstance(got, bool):
                return float(got)
            result: Const = got
            return result

        return read


# ------------------------------------------------------------------ answers


def _holds(vehicle: Vehicle, entry: Mapping[str, Any]) -> bool:
    read = vehicle.reader(entry["attributes"])
    rules: Sequence[tuple[str, bool, PlainIR]] = entry["rules"]
    return all(bool(evaluate_plain(formula, read)) for _, _, formula in rules)


def _bom(vehicle: Vehicle, entry: Mapping[str, Any]) -> list[plainreport.BomRow]:
    """Workspace.bom_lines: each module's fixed parts and selected alternatives, then the
    brand's, then the vehicle's own parts."""
    read = vehicle.reader(entry["attributes"])
    selected: dict[str, list[plainreport.BomRow]] = {}
    for owner_slot, owner, needed, alternatives in entry["positions"]:
        if owner_slot is not None and vehicle.choice[owner_slot] != owner:
            continue
        if not evaluate_plain(needed, read):
            continue
        for condition, part in alternatives:
            if evaluate_plain(condition, read):
                selected.setdefault(owner, []).append(part)
    rows: list[plainreport.BomRow] = []
    for kind in plainreport.KINDS:
        module = vehicle.value(kind)
        for part, name, quantity, cost, mass in (
            *entry["module_parts"][module],
            *selected.get(module, ()),
        ):
            rows.append((part, name, kind, quantity, cost, mass))
    brand = vehicle.value("brand")
    for part, name, quantity, cost, mass in (
        *entry["brand_parts"][brand],
        *selected.get(brand, ()),
    ):
        rows.append((part, name, "brand", quantity, cost, mass))
    return rows + vehicle.extra


def _stamp(entry: Mapping[str, Any], text: str, fmt: str) -> str:
    """commands.common.stamp: the sources line in text, the "sources" key in JSON."""
    if term.STATE["quiet"] and fmt != "json":
        return text
    if fmt == "json":
        import json

        document = json.loads(text)
        document["sources"] = entry["sources_json"]
        return plainreport.to_json(document)
    return f"{entry['sources_line']}\n{text}"


# ------------------------------------------------------------------ options and explain

NUMBERS = ("battery_kwh", "wheelbase_mm")


def _num_id(number: float) -> str:
    """problem._num_id: a number's value id."""
    return str(int(number)) if number.is_integer() else repr(number)


def _assignment(vehicle: Vehicle, slots: Sequence[Sequence[Any]]) -> dict[str, int]:
    """problem.config_assignment over the stored slots. Decline on a number that is not yet a
    value of its slot: the full command adds it to the slot, which changes the encoding."""
    out: dict[str, int] = {}
    for name, ids, is_bool, is_numeric, _ in slots:
        if is_bool:
            if vehicle.features is not None:
                out[name] = 1 if name in vehicle.features else 0
            continue
        number = vehicle.numbers.get(name) if is_numeric else None
        value = _num_id(number) if number is not None else vehicle.choice.get(name)
        if value is None:
            continue
        if value not in ids:
            raise Decline
        out[name] = ids.index(value)
    return out


def _chosen_at(spans: Spans, slot: str) -> tuple[int, int]:
    """problem.choice_span: where the file makes its choice for `slot` (line, column)."""
    if slot in plainreport.KINDS:
        return spans[("modules", slot)]
    if slot in CHOICES or slot in NUMBERS:
        return spans[("options", slot)]
    if slot in TOP:
        return spans[(slot,)]
    return spans[("options", "features")]


def _question(args: Args, entry: Mapping[str, Any], fmt: str) -> tuple[str, int]:
    """options and explain: the engine's questions (questions.py, as solver.Engine asks them)
    on the stored CNF, in the same order as the full command, so with the same answers."""
    from cmf_config.questions import PlainCnf, PlainRule, Questions

    if "engine" not in entry:
        raise Decline  # stored by a validate or build: the full command adds the engine
    path = Path(args.files[0])
    spans: Spans = {}
    vehicle = Vehicle(_read(path, spans), entry, partial=True)
    engine: Mapping[str, Any] = entry["engine"]
    slots: Sequence[Sequence[Any]] = engine["slots"]
    assignment = _assignment(vehicle, slots)
    values = {name: ids for name, ids, *_ in slots}
    hard = [PlainRule(rid, builtin, frozenset(read)) for rid, builtin, read in engine["hard"]]
    questions = Questions(
        PlainCnf(engine["clauses"], engine["nvars"], engine["slot_lits"]),
        values,
        [name for name, _, is_bool, *_ in slots if is_bool],
        hard,
        engine["selectors"],
    )
    texts = {s[0]: plainreport.SlotText(s[4], s[2]) for s in slots}
    if args.command == "options":
        consistent = questions.is_consistent(assignment)
        found = questions.options(assignment)
        code = 0 if consistent else 1
        if fmt == "json":
            return plainreport.options_json(found, consistent), code
        head = "" if consistent else plainreport.options_contradiction_text()
        labels = {name: text.label for name, text in texts.items()}
        return head + plainreport.options_text(found, labels), code
    read = vehicle.reader(entry["attributes"])
    formulas: dict[str, PlainIR] = {rid: formula for rid, _, formula in entry["rules"]}
    conflict = questions.explain(
        assignment, lambda rule: not evaluate_plain(formulas[rule.id], read)
    )
    derivation = (
        None
        if conflict is None
        else questions.derive(assignment, conflict, {r.id: r.slots for r in hard})
    )
    shown = display_path(path)
    chosen = {
        slot: (values[slot][index], (shown, *_chosen_at(spans, slot)))
        for slot, index in assignment.items()
    }
    rules = {
        rid: plainreport.RuleText(message, description, tuple(where))
        for rid, (message, description, where) in engine["rule_text"].items()
    }
    code = 0 if conflict is None else 1
    if fmt == "json":
        return plainreport.explain_json(conflict, derivation, texts, rules, chosen), code
    if derivation is None:
        return plainreport.consistent_text(shown), code
    where = {slot: at for slot, (_, at) in chosen.items()}
    return plainreport.explanation(derivation, texts, rules, where), code


def _answer(args: Args, entry: Mapping[str, Any], fmt: str) -> tuple[str, int]:
    vehicles = []
    for name in args.files:
        path = Path(name)
        vehicle = Vehicle(_read(path), entry)
        if not _holds(vehicle, entry):
            raise Decline  # a broken rule: the full command names it, with its lines
        vehicles.append((display_path(path), vehicle))
    if args.command == "validate":
        if fmt == "json":
            return plainreport.validate_json([(p, True, []) for p, _ in vehicles]), 0
        return plainreport.validate_text([(p, True, []) for p, _ in vehicles]), 0
    _, vehicle = vehicles[0]
    choice = {slot: vehicle.value(slot) for slot in vehicle.choice}
    modules = {kind: choice[kind] for kind in plainreport.KINDS}
    bom = _bom(vehicle, entry)
    if fmt == "json":
        text = plainreport.build_json(
            name=vehicle.name,
            brand=choice["brand"],
            platform=choice["platform"],
            modules=modules,
            filled={},
            bom=bom,
            provenance=entry["provenance"],
        )
    else:
        text = plainreport.build_text(
            name=vehicle.name,
            brand=(choice["brand"], entry["brand_names"][choice["brand"]]),
            platform=(choice["platform"], entry["platform_names"][choice["platform"]]),
            modules={k: (v, entry["module_names"][v]) for k, v in modules.items()},
            filled={},
            bom=bom,
            provenance=entry["provenance"],
        )
    return text, 0


def run(argv: Sequence[str]) -> int | None:
    """Answer `cmf-config argv` on the fast path: the exit code, or None (nothing written)
    when the full command must answer."""
    try:
        args = Args(argv)
        entry = _load_entry(args)
        fmt = args.format or entry["format_default"] or "text"
        if fmt not in FORMATS[args.command]:
            fmt = "text"
        if fmt not in ANSWERS:
            raise Decline
        question = args.command in QUESTIONS
        text, code = (_question if question else _answer)(args, entry, fmt)
        color = args.color or entry["color"] or "auto"
        term.configure(
            color,
            text=fmt == "text",
            quiet=args.quiet,
            verbose=False,
            out=sys.stdout,
            err=sys.stderr,
        )
        out = _stamp(entry, text, fmt)
    except Decline:
        return None
    except Exception:  # anything unforeseen: the full command answers, and reports it
        return None
    try:
        sys.stdout.write(term.paint(out) if term.STATE["color"] else out)
        sys.stdout.flush()
    except BrokenPipeError:
        return 0
    except OSError:  # a full disk, an I/O error: the full command says so (exit 2, the path)
        return None
    return code
