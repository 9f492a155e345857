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
from cmf_config.paths import display_path
from cmf_config.projectfile import find_project_file
from cmf_config.ruleeval import Const, PlainIR, evaluate_plain

FORMAT = 1
"""Bump when the entry's shape changes."""
COMMANDS = ("validate", "build")
FORMATS = {
    "validate": ("text", "json", "sarif", "github"),
    "build": ("text", "json", "csv", "xlsx"),
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
        if not self.files or (self.command == "build" and len(self.files) != 1):
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
    files = [p for p in catalog_dir.rglob("*.yaml") if p.is_file()] if catalog_dir.is_dir() else []
    rules = sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []
    return sorted(files), rules


def content_digest(catalog_dir: Path, rules_dir: Path) -> str:
    """The SHA-256 of the names and bytes of every catalog and rules file."""
    digest = hashlib.sha256()
    for group in data_files(catalog_dir, rules_dir):
        digest.update(b"\0group\0")
        for path in group:
            digest.update(str(path).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _load_entry(args: Args) -> dict[str, Any]:
    if not cache.enabled():
        raise Decline
    key = entry_key(_option_dir(args.catalog), _option_dir(args.rules))
    try:
        with entry_path(key).open("rb") as handle:
            entry = marshal.load(handle)
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


def _tree(text: str) -> dict[str, object]:
    """The document as plain data, as source.parse_text reads it; Decline on anything it would
    report (duplicate keys, aliases, tags, several documents, depth, odd keys)."""
    stack: list[list[Any]] = []  # [container, pending key or None]
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
            if event.anchor or event.tag is not None or len(stack) >= MAX_DEPTH:
                raise Decline
            if stack and isinstance(stack[-1][0], dict) and stack[-1][1] is None:
                raise Decline  # a collection as a key
            stack.append([{} if kind is yaml.MappingStartEvent else [], None])
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
            stack[-1][0][stack[-1][1]] = node
            stack[-1][1] = None
        else:
            stack[-1][0].append(node)
    if not isinstance(root, dict):
        raise Decline
    return root


def _read(path: Path) -> dict[str, object]:
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
        return _tree(text)
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
    """A complete configuration file that the catalog's names all check out for."""

    def __init__(self, data: dict[str, object], entry: Mapping[str, Any]) -> None:
        names: Mapping[str, Sequence[str]] = entry["names"]
        data = _mapping(data, VEHICLE_KEYS)
        if "name" not in data:
            raise Decline
        self.name = str(_text(data["name"], optional=False))
        markets = _metadata(data, names)
        # every slot fixed, with a known id (a module of its own kind)
        self.choice: dict[str, str] = {}
        for slot in TOP:
            self.choice[slot] = _known(data.get(slot), names[slot])
        modules = _mapping(data.get("modules", {}), plainreport.KINDS)
        kinds: Mapping[str, str] = entry["module_kinds"]
        for kind in plainreport.KINDS:
            chosen = _known(modules.get(kind), kinds)
            if kinds[chosen] != kind:
                raise Decline
            self.choice[kind] = chosen
        options = _mapping(data.get("options", {}), OPTION_KEYS)
        for slot in CHOICES:
            self.choice[slot] = _known(options.get(slot), names[slot])
        if markets and self.choice["market"] not in markets:
            raise Decline
        if not set(OPTION_KEYS) <= set(options):
            raise Decline
        self.numbers = {
            "battery_kwh": _number(options["battery_kwh"]),
            "wheelbase_mm": float(_whole(options["wheelbase_mm"])),
        }
        if min(self.numbers.values()) < 0:
            raise Decline
        features = _texts(options["features"])
        if len(set(features)) != len(features) or not set(features) <= set(names["feature"]):
            raise Decline
        self.features = frozenset(features)
        self.extra = _extra_parts(data.get("extra_parts", []))

    def reader(self, attributes: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> Any:
        """What a rule's reference reads on this configuration (rules.ref_value)."""

        def read(slot: str, attr: str | None) -> Const:
            if slot in self.numbers:
                if attr is not None:
                    raise Decline
                return self.numbers[slot]
            if slot not in self.choice:
                if attr is not None:
                    raise Decline
                return slot in self.features
            value = self.choice[slot]
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
        module = vehicle.choice[kind]
        for part, name, quantity, cost, mass in (
            *entry["module_parts"][module],
            *selected.get(module, ()),
        ):
            rows.append((part, name, kind, quantity, cost, mass))
    brand = vehicle.choice["brand"]
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
    choice = vehicle.choice
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
        text, code = _answer(args, entry, fmt)
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
