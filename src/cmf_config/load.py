"""Plain YAML data -> the model, through one cattrs Converter, with errors mapped to spans.

Every mapping handed to cattrs carries two hidden keys, `__span__` (the mapping's position)
and `__fields__` (each key's value position); model classes receive them as `span` and
`field_spans`. cattrs' grouped errors are walked back to key paths, and those to positions.
"""

from __future__ import annotations

import functools
import math
import os
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn, override

from cmf_config import cache
from cmf_config.errors import Diagnostic, InputError, Severity, Span
from cmf_config.model import (
    DERIVED_ATTRIBUTES,
    KINDS,
    AttributeDef,
    AttrValue,
    Brand,
    Catalog,
    Kind,
    Market,
    ModuleChoices,
    ModuleVariant,
    OptionDomains,
    OptionFeature,
    PartLine,
    Platform,
    Powertrain,
    Vehicle,
    VehicleConfig,
    VehicleOptions,
    YearSpan,
)
from cmf_config.paths import bundled_dir, display_path, yaml_files
from cmf_config.reprs import shared_repr
from cmf_config.source import Document, MapNode, Node, ScalarNode, SeqNode, node_at, parse_file
from cmf_config.suggest import did_you_mean

T = TypeVar("T")
_SPAN_KEY = "__span__"
_FIELDS_KEY = "__fields__"
_META = (_SPAN_KEY, _FIELDS_KEY)


class _WrongType(TypeError):
    """A value of the wrong type; carries what was expected for the message."""

    def __init__(self, expected: str, value: object, hint: str) -> None:
        self.expected = expected
        self.value = value
        self.hint = hint
        super().__init__(expected)


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return f"the number {value}"


def _str(value: object, _: object) -> str:
    if isinstance(value, str):
        return value
    raise _WrongType(
        "a text value",
        value,
        "write a text value (quote it if YAML reads it as a number or boolean)",
    )


MAX_MAGNITUDE = 10**15
"""The largest number a file may give (in absolute value): exact as a float, and far above any
cost, mass or length; a 400-digit integer would overflow float arithmetic."""


def _in_range(value: int | float) -> bool:
    return -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE  # False for NaN; no float() of a huge int


def _int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if _in_range(value):
            return value
        raise _WrongType(
            f"a whole number of at most {MAX_MAGNITUDE:.0e}".replace("e+", "e"),
            value,
            "write a smaller number",
        )
    if isinstance(value, float) and value.is_integer() and _in_range(value):
        return int(value)  # 2600.0 is the integer 2600, as JSON Schema's "integer" says
    raise _WrongType("a whole number", value, "write a whole number such as 2")


def _float(value: object, _: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and _in_range(value):
        return float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _WrongType(
            f"a number between -{MAX_MAGNITUDE:.0e} and {MAX_MAGNITUDE:.0e}",
            value,
            "write a smaller number",
        )
    raise _WrongType("a number", value, "write a finite number such as 12.5")


def _bool(value: object, _: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _WrongType("true or false", value, "write true or false")


def _attr_value(value: object, _: object) -> AttrValue:
    if isinstance(value, bool | str) or (isinstance(value, int | float) and _in_range(value)):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise _WrongType(
        "a number, text, true/false or a list of texts",
        value,
        "write a plain value or a list of names",
    )


def _strip_meta(value: object) -> object:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in _META}
    return value


def _make_converter(detailed: bool = True) -> cattrs.Converter:
    """The converter of the model classes; `detailed` collects every error with its path
    (what the diagnostics are made of), else the first error is raised as it is."""
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=detailed)
    conv.register_structure_hook(str, _str)
    conv.register_structure_hook(int, _int)
    conv.register_structure_hook(float, _float)
    conv.register_structure_hook(bool, _bool)
    conv.register_structure_hook(Span, lambda v, _: v)
    conv.register_structure_hook(AttrValue, _attr_value)

    def mapping_hook_factory(cls: Any) -> Callable[[object, Any], dict[str, object]]:
        """The hook of one Mapping type, its values' hook looked up once (a catalog has some
        2,000 mappings; most are the field spans, whose values are kept as they are)."""
        _key_type, value_type = get_args(cls)
        value_hook = conv.get_structure_hook(value_type)
        kept = value_type is Span  # spans are structured as they are: no call per value

        def mapping(value: object, _: Any) -> dict[str, object]:
            if not isinstance(value, dict):
                raise _WrongType("a mapping", value, "write 'key: value' lines")
            if kept:
                return {k: v for k, v in value.items() if k not in _META}
            return {k: value_hook(v, value_type) for k, v in value.items() if k not in _META}

        return mapping

    conv.register_structure_hook_factory(_is_mapping, mapping_hook_factory)
    conv.register_structure_hook_factory(_is_homogeneous_tuple, _list_guard(conv))

    def attrs_hook_factory(cls: type) -> Callable[[object, type], object]:
        names = {a.name for a in attrs.fields(cls)}
        overrides = {}
        if "span" in names:
            overrides["span"] = override(rename=_SPAN_KEY)
        if "field_spans" in names:
            overrides["field_spans"] = override(rename=_FIELDS_KEY)
        inner: Callable[[Any, Any], object] = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=True,
            **overrides,  # type: ignore[arg-type]
        )

        unused = [
            key
            for key, field in ((_SPAN_KEY, "span"), (_FIELDS_KEY, "field_spans"))
            if field not in names
        ]

        def hook(value: object, target: type) -> object:
            if not isinstance(value, dict):
                raise _WrongType("a mapping", value, "write 'key: value' lines")
            if unused:
                value = {k: v for k, v in value.items() if k not in unused}
            return inner(value, target)

        return hook

    conv.register_structure_hook_factory(attrs.has, attrs_hook_factory)
    return conv


def _is_mapping(t: object) -> bool:
    origin: object = get_origin(t)
    return origin is Mapping


def _is_homogeneous_tuple(t: object) -> bool:
    origin: object = get_origin(t)
    args = get_args(t)
    return origin is tuple and len(args) == 2 and args[1] is Ellipsis


def _list_guard(
    conv: cattrs.Converter,
) -> Callable[[Any], Callable[[object, Any], tuple[object, ...]]]:
    """Structure homogeneous tuples from YAML lists only (a string is not a list of letters);
    the items' hook is looked up once per tuple type."""

    def factory(cls: Any) -> Callable[[object, Any], tuple[object, ...]]:
        (item_type, _) = get_args(cls)
        item_hook = conv.get_structure_hook(item_type)

        def hook(value: object, _: Any) -> tuple[object, ...]:
            if not isinstance(value, list):
                raise _WrongType("a list", value, "write a list, e.g. [a, b]")
            errors: list[Exception] = []
            out: list[object] = []
            for index, item in enumerate(value):
                try:
                    out.append(item_hook(item, item_type))
                except Exception as exc:
                    exc.__notes__ = [
                        *getattr(exc, "__notes__", []),
                        IterableValidationNote(f"@ index {index}", index, item_type),
                    ]
                    errors.append(exc)
            if errors:
                raise cattrs.IterableValidationError(f"While structuring {cls!r}", errors, cls)
            return tuple(out)

        return hook

    return factory


CONVERTER = _make_converter()
"""Reports every structural error of a file with its path."""
_FAST = _make_converter(detailed=False)
"""The same objects from a good file, quicker (and its structure functions compile quicker)."""


def _structured(data: object, cls: type[T]) -> T:
    """`data` as a `cls`: through the fast converter, and through the detailed one when that
    fails, so that an error is always the detailed converter's (every problem, with paths)."""
    try:
        return _FAST.structure(data, cls)
    except Exception:  # whatever went wrong, the detailed converter says it in full
        return CONVERTER.structure(data, cls)


def _plain_with_spans(node: Node) -> object:
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, SeqNode):
        return [_plain_with_spans(item) for item in node.items]
    out: dict[str, object] = {
        k.raw: _plain_with_spans(v) for k, v in node.items if k.raw not in _META
    }
    out[_SPAN_KEY] = node.span
    out[_FIELDS_KEY] = {k.raw: v.span for k, v in node.items}
    return out


def _reserved_keys(doc: Document) -> list[Diagnostic]:
    """E201 for the keys this loader uses internally (`__span__`, `__fields__`).

    They would otherwise vanish silently: the loader drops them from the user's mapping.
    A text with neither name nor a backslash (the only way to write a key's characters other
    than as themselves: YAML folds lines into spaces) holds none, and is not walked.
    """
    text = doc.text
    if "\\" not in text and not any(name in text for name in _META):
        return []
    out: list[Diagnostic] = []
    stack: list[Node] = [doc.root]
    while stack:
        node = stack.pop()
        if isinstance(node, SeqNode):
            stack.extend(node.items)
        elif isinstance(node, MapNode):
            for key, value in node.items:
                if key.raw in _META:
                    out.append(
                        Diagnostic(
                            code="E201",
                            span=key.span,
                            message=f"unknown key '{key.raw}' (a name cmf-config keeps for itself)",
                            hint="remove the key",
                        )
                    )
                stack.append(value)
    return out


def _path_step(exc: BaseException) -> str | int | None:
    for note in getattr(exc, "__notes__", []):
        if isinstance(note, IterableValidationNote):
            return int(note.index)
        name = getattr(note, "name", None)
        if isinstance(name, str):
            return name
    return None


def _class_fields(cls: object) -> list[str]:
    if isinstance(cls, type) and attrs.has(cls):
        return [a.name for a in attrs.fields(cls) if a.name not in ("span", "field_spans")]
    return []


def _diagnostics_from(
    exc: BaseException, doc: Document, path: tuple[str | int, ...]
) -> list[tuple[Diagnostic, tuple[str | int, ...]]]:
    step = _path_step(exc)
    here = (*path, step) if step is not None else path
    out: list[tuple[Diagnostic, tuple[str | int, ...]]] = []
    if isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            out.extend(_diagnostics_from(sub, doc, here))
        return out
    where = _where(here)
    if isinstance(exc, ForbiddenExtraKeysError):
        parent = node_at(doc.root, here)
        allowed = _class_fields(exc.cl)
        for key in sorted(exc.extra_fields):
            key_node = parent.key_node(key) if isinstance(parent, MapNode) else None
            span = key_node.span if key_node else _span_of(doc, here)
            out.append(
                (
                    Diagnostic(
                        code="E201",
                        span=span,
                        message=f"unknown key '{key}'{_in(here)}{did_you_mean(key, allowed)}",
                        hint=f"allowed keys here: {', '.join(allowed)}"
                        if allowed
                        else "remove the key",
                    ),
                    (*here, key),
                )
            )
    elif isinstance(exc, KeyError):
        key = str(exc.args[0]) if exc.args else "?"
        parent_path = here[:-1] if here and here[-1] == key else here
        out.append(
            (
                Diagnostic(
                    code="E202",
                    span=_span_of(doc, parent_path),
                    message=f"missing key '{key}'{_in(parent_path)}",
                    hint=f"add '{key}: ...' to this mapping (see docs/formats.md)",
                ),
                (*parent_path, "?missing", key),
            )
        )
    elif isinstance(exc, _WrongType):
        out.append(
            (
                Diagnostic(
                    code="E203",
                    span=_span_of(doc, here),
                    message=f"wrong type for {where}: expected {exc.expected}, got {_describe(exc.value)}",
                    hint=exc.hint,
                ),
                here,
            )
        )
    else:
        out.append(
            (
                Diagnostic(
                    code="E203",
                    span=_span_of(doc, here),
                    message=f"invalid value for {where}: {exc}",
                    hint="see docs/formats.md for the expected value",
                ),
                here,
            )
        )
    return out


def _where(path: tuple[str | int, ...]) -> str:
    names = [p for p in path if isinstance(p, str)]
    return f"'{names[-1]}'" if names else "the document"


def _in(path: tuple[str | int, ...]) -> str:
    names = [p for p in path if isinstance(p, str)]
    return f" in '{names[-1]}'" if names else ""


def _span_of(doc: Document, path: tuple[str | int, ...]) -> Span:
    node = node_at(doc.root, path)
    while node is None and path:
        path = path[:-1]
        node = node_at(doc.root, path)
    return node.span if node is not None else Span(doc.path, 1, 1)


def structure(doc: Document, cls: type[T]) -> T:
    """Structure a whole document into `cls`; raise InputError listing every problem."""
    if not isinstance(doc.root, MapNode):
        raise InputError(
            [
                Diagnostic(
                    code="E203",
                    span=doc.root.span,
                    message="the document must be a mapping of keys to values",
                    hint="start the file with 'key: value' lines (see docs/formats.md)",
                )
            ]
        )
    reserved = _reserved_keys(doc)
    try:
        value = _structured(_plain_with_spans(doc.root), cls)
    except Exception as exc:
        raise InputError([*reserved, *(d for d, _ in _diagnostics_from(exc, doc, ()))]) from None
    if reserved:
        raise InputError(reserved)
    return value


def structure_lenient(
    doc: Document, cls: type[T], placeholders: Mapping[str, object]
) -> tuple[T | None, list[Diagnostic]]:
    """Structure, and on failure drop the bad values and try again.

    So that one wrong type does not hide the unknown ids elsewhere in the same file: the
    caller gets every structural diagnostic *and* a best-effort object to check further.
    Missing required keys get `placeholders[key]`.
    """
    if not isinstance(doc.root, MapNode):
        structure(doc, cls)
    data = _plain_with_spans(doc.root)
    diagnostics: list[Diagnostic] = _reserved_keys(doc)
    pruned: set[tuple[str | int, ...]] = set()
    for _attempt in range(4):
        try:
            return _structured(data, cls), diagnostics
        except Exception as exc:
            # A key removed for its wrong value is not "missing" too (one problem, one error).
            found = _diagnostics_from(exc, doc, ())
            diagnostics += [
                d
                for d, path in found
                if not (
                    len(path) >= 2 and path[-2] == "?missing" and (*path[:-2], path[-1]) in pruned
                )
            ]
            pruned.update(path for _, path in found)
            targets = {_target(path, placeholders) for _, path in found}
            # Deepest and last items first, so that list indices stay valid while pruning.
            ordered = sorted(
                targets,
                key=lambda p: (len(p), [str(x).zfill(9) if isinstance(x, int) else x for x in p]),
                reverse=True,
            )
            if not all(_prune(data, path, placeholders) for path in ordered):
                return None, diagnostics
    return None, diagnostics


def _target(
    path: tuple[str | int, ...], placeholders: Mapping[str, object]
) -> tuple[str | int, ...]:
    """What to remove for a failure at `path`: a list item missing a key goes as a whole."""
    if (
        len(path) >= 3
        and path[-2] == "?missing"
        and path[-1] not in placeholders
        and isinstance(path[-3], int)
    ):
        return path[:-2]
    return path


def _prune(data: object, path: tuple[str | int, ...], placeholders: Mapping[str, object]) -> bool:
    """Remove the value at `path` (or fill a missing key); False when that is not possible."""
    if len(path) >= 2 and path[-2] == "?missing":
        parent = _walk(data, path[:-2])
        key = path[-1]
        if isinstance(parent, dict) and isinstance(key, str) and key in placeholders:
            parent[key] = placeholders[key]
            return True
        return False
    if not path:
        return False
    parent = _walk(data, path[:-1])
    last = path[-1]
    if (
        isinstance(parent, dict)
        and isinstance(last, str)
        and last in placeholders
        and path[:-1] == ()
    ):
        parent[last] = placeholders[last]
        return True
    if isinstance(parent, dict) and isinstance(last, str) and last in parent:
        del parent[last]
        parent.get(_FIELDS_KEY, {}).pop(last, None)
        return True
    if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        del parent[last]
        return True
    return False


def _walk(data: object, path: tuple[str | int, ...]) -> object:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


# ---------------------------------------------------------------- file schemas


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class _KindsFile:
    kinds: tuple[Kind, ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class _ModulesFile:
    modules: tuple[ModuleVariant, ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class _PlatformsFile:
    platforms: tuple[Platform, ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class _BrandsFile:
    brands: tuple[Brand, ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class VehicleFile:
    """A configuration file's top level: the configuration plus reference-vehicle metadata."""

    name: str
    id: str | None = None
    brand: str | None = None
    platform: str | None = None
    segment: str | None = None
    body: str | None = None
    powertrain: str | None = None
    modules: ModuleChoices = attrs.field(factory=ModuleChoices)
    options: VehicleOptions = attrs.field(factory=VehicleOptions)
    extra_parts: tuple[PartLine, ...] = ()
    sources: tuple[str, ...] = ()
    status: str = "confirmed"
    notes: str = ""
    production: YearSpan | None = None
    generation: str | None = None
    plants: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    provenance: str = ""
    span: Span = attrs.field(default=Span("<none>", 0, 0), eq=False)
    field_spans: Mapping[str, Span] = attrs.field(factory=dict, eq=False)

    def config(self) -> VehicleConfig:
        """The configuration part of the file."""
        return VehicleConfig(
            name=self.name,
            brand=self.brand,  # type: ignore[arg-type]
            platform=self.platform,  # type: ignore[arg-type]
            segment=self.segment,
            body=self.body,
            powertrain=self.powertrain,
            modules=self.modules,
            options=self.options,
            extra_parts=self.extra_parts,
            span=self.span,
            field_spans=self.field_spans,
        )


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load and cross-check a catalog directory; raise InputError with every problem."""
    # Spans hold paths relative to the working directory, so the cache is per directory too:
    # a catalog loaded elsewhere would show another directory's relative paths.
    root = Path(_real(directory or bundled_dir("catalog")))
    here = os.path.realpath(os.getcwd())
    try:
        files = yaml_files(root) if root.is_dir() else []
    except (OSError, RuntimeError):
        files = []
    if not files:  # nothing to key on: the loader reports what is wrong
        return _load_catalog_cached(str(root), here)
    with cache.gc_paused():
        return cache.cached(
            "catalog",
            files,
            lambda content: _load_catalog_cached(str(root), here, content),
            extra=(str(root), here),
            memo=True,  # a second caller (the fast path's store) does not read the entry back
        )


def _real(path: Path) -> str:
    """The absolute path with symlinks resolved; a symlink loop is left for the reader to report."""
    try:
        return str(path.resolve())
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a loop
        return os.path.abspath(path)


@functools.lru_cache(maxsize=8)
def _load_catalog_cached(directory: str, cwd: str, content: str = "") -> Catalog:
    """The catalog of `directory` as seen from the working directory `cwd`, memoised per
    process by its files' `content` key (an edited file is read again)."""
    root = Path(directory)
    diagnostics: list[Diagnostic] = []
    if not root.is_dir():
        raise InputError(
            [
                Diagnostic(
                    code="E001",
                    span=Span(display_path(root), 0, 0),  # a folder: no line
                    message="the catalog directory does not exist",
                    hint="give --catalog the path of a directory holding kinds.yaml, modules*.yaml, ...",
                )
            ]
        )

    def parse(path: Path, cls: type[T]) -> tuple[Document, T] | None:
        return _parse_into(path, cls, diagnostics)

    kinds = _read_kinds(root / "kinds.yaml", diagnostics)
    options = OptionDomains()
    options_doc: Document | None = None
    if (root / "options.yaml").is_file():
        got_options = parse(root / "options.yaml", OptionDomains)
        if got_options:
            options_doc, options = got_options
    modules: dict[str, ModuleVariant] = {}
    module_docs: list[tuple[Document, ModuleVariant, int]] = []
    for path in sorted(root.glob("modules*.yaml")):
        got_modules = parse(path, _ModulesFile)
        if got_modules:
            for index, module in enumerate(got_modules[1].modules):
                _add_unique(
                    modules,
                    module.id,
                    module,
                    module.field_spans.get("id", module.span),
                    "module",
                    diagnostics,
                )
                module_docs.append((got_modules[0], module, index))
    platforms: dict[str, Platform] = {}
    platforms_doc: Document | None = None
    if (root / "platforms.yaml").is_file():
        got_platforms = parse(root / "platforms.yaml", _PlatformsFile)
        if got_platforms:
            platforms_doc = got_platforms[0]
            for platform in got_platforms[1].platforms:
                _add_unique(
                    platforms,
                    platform.id,
                    platform,
                    platform.field_spans.get("id", platform.span),
                    "platform",
                    diagnostics,
                )
    brands = _read_brands(root / "brands.yaml", diagnostics)
    if diagnostics:
        raise InputError(diagnostics)
    for doc, module, index in module_docs:
        diagnostics.extend(_check_module(doc, module, index, kinds))
        diagnostics.extend(_check_module_era(module))
    return _cross_checked(
        Catalog(
            kinds=kinds,
            modules=modules,
            platforms=platforms,
            brands=brands,
            options=options,
            vehicles={},
            root=str(root),
        ),
        options_doc,
        platforms_doc,
        diagnostics,
    )


def _parse_into(
    path: Path, cls: type[T], diagnostics: list[Diagnostic]
) -> tuple[Document, T] | None:
    """A catalog file read and structured, or None with its diagnostics added."""
    try:
        doc = parse_file(path, display_path(path))
        return doc, structure(doc, cls)
    except InputError as exc:
        diagnostics.extend(exc.diagnostics)
        return None


def _read_brands(path: Path, diagnostics: list[Diagnostic]) -> dict[str, Brand]:
    """The brands of brands.yaml, if there is one (E210 for an id given twice)."""
    brands: dict[str, Brand] = {}
    got = _parse_into(path, _BrandsFile, diagnostics) if path.is_file() else None
    for brand in got[1].brands if got else ():
        _add_unique(
            brands, brand.id, brand, brand.field_spans.get("id", brand.span), "brand", diagnostics
        )
    return brands


def _read_kinds(kinds_path: Path, diagnostics: list[Diagnostic]) -> dict[str, Kind]:
    """The module kinds of kinds.yaml (E001 when it is missing, E211 for an unknown kind)."""
    kinds: dict[str, Kind] = {}
    if not kinds_path.is_file():
        diagnostics.append(
            Diagnostic(
                code="E001",
                span=Span(display_path(kinds_path), 1, 1),
                message="the catalog has no kinds.yaml",
                hint="declare the five module kinds in kinds.yaml (see docs/formats.md)",
            )
        )
        return kinds
    got = _parse_into(kinds_path, _KindsFile, diagnostics)
    for kind in got[1].kinds if got else ():
        if kind.id not in KINDS:
            diagnostics.append(
                Diagnostic(
                    code="E211",
                    span=kind.field_spans.get("id", kind.span),
                    message=f"unknown module kind '{kind.id}'{did_you_mean(kind.id, KINDS)}",
                    hint=f"the kinds are {', '.join(KINDS)}",
                )
            )
        kinds[kind.id] = kind
    return kinds


def _cross_checked(
    catalog: Catalog,
    options_doc: Document | None,
    platforms_doc: Document | None,
    diagnostics: list[Diagnostic],
) -> Catalog:
    """The catalog once its parts agree with each other, with its reference vehicles; raise
    InputError with every error found (here and before)."""
    options = catalog.options
    platforms = catalog.platforms
    root = Path(catalog.root)
    diagnostics.extend(_check_options(options, options_doc))
    diagnostics.extend(_check_ids(catalog))
    for index, platform in enumerate(platforms.values()):
        diagnostics.extend(_check_platform(platform, catalog, platforms_doc, index))
    diagnostics.extend(_check_part_numbers(catalog))
    vehicles: dict[str, Vehicle] = {}
    for path in sorted((root / "vehicles").glob("*.yaml")):
        try:
            vehicle = load_vehicle_file(path, catalog)
        except InputError as exc:
            diagnostics.extend(exc.diagnostics)
            continue
        _add_unique(vehicles, vehicle.id, vehicle, vehicle.span, "vehicle", diagnostics)
    if any(d.severity is Severity.ERROR for d in diagnostics):
        raise InputError(diagnostics)
    return attrs.evolve(catalog, vehicles=vehicles)


def _add_unique(
    table: dict[str, T], key: str, value: T, span: Span, what: str, diagnostics: list[Diagnostic]
) -> None:
    if key in table:
        first = getattr(table[key], "span", None)
        where = f" (first defined at {first})" if isinstance(first, Span) else ""
        diagnostics.append(
            Diagnostic(
                code="E210",
                span=span,
                message=f"duplicate {what} id '{key}'{where}",
                hint=f"give every {what} a unique id",
            )
        )
    else:
        table[key] = value


def _check_module(
    doc: Document, module: ModuleVariant, index: int, kinds: Mapping[str, Kind]
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    kind = kinds.get(module.kind)
    if kind is None:
        out.append(
            Diagnostic(
                code="E211",
                span=module.field_spans.get("kind", module.span),
                message=f"module '{module.id}' has unknown kind '{module.kind}'{did_you_mean(module.kind, kinds)}",
                hint=f"the kinds are {', '.join(sorted(kinds))}",
            )
        )
        return out
    attrs_span = module.field_spans.get("attributes", module.span)
    declared = {a.name for a in kind.attributes}
    attr_node = node_at(doc.root, ("modules", index, "attributes"))
    for name, value in sorted(module.attributes.items()):
        key_node = attr_node.key_node(name) if isinstance(attr_node, MapNode) else None
        value_node = attr_node.get(name) if isinstance(attr_node, MapNode) else None
        if name not in declared:
            hint = (
                f"'{name}' is derived from the parts list; remove it"
                if name in DERIVED_ATTRIBUTES
                else f"declare '{name}' for kind '{kind.id}' in kinds.yaml, or fix the name"
            )
            out.append(
                Diagnostic(
                    code="E212",
                    span=key_node.span if key_node else attrs_span,
                    message=f"unknown attribute '{name}' for a {kind.id} variant{did_you_mean(name, declared)}",
                    hint=hint,
                )
            )
            continue
        attr = kind.attribute(name)
        assert attr is not None
        problem = _attr_type_problem(attr, value)
        if problem:
            out.append(
                Diagnostic(
                    code="E212",
                    span=value_node.span if value_node else attrs_span,
                    message=f"attribute '{name}' of module '{module.id}' {problem}",
                    hint=f"see the declaration of '{name}' in kinds.yaml",
                )
            )
    for attr in kind.attributes:
        if attr.name not in module.attributes:
            out.append(
                Diagnostic(
                    code="E212",
                    span=attrs_span,
                    message=f"module '{module.id}' lacks attribute '{attr.name}' that every {kind.id} variant must give",
                    hint=f"add '{attr.name}: ...' ({attr.type}) under 'attributes:'",
                )
            )
    return out


def _attr_type_problem(attr: AttributeDef, value: AttrValue) -> str | None:
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "set": isinstance(value, frozenset),
    }[attr.type]
    if not ok:
        return f"must be of type {attr.type}, not {_describe(sorted(value) if isinstance(value, frozenset) else value)}"
    if attr.values:
        items = (
            sorted(value)
            if isinstance(value, frozenset)
            else [value]
            if isinstance(value, str)
            else []
        )
        bad = [v for v in items if v not in attr.values]
        if bad:
            return f"has value '{bad[0]}' which is not one of {', '.join(attr.values)}{did_you_mean(str(bad[0]), attr.values)}"
    return None


STATUSES = ("confirmed", "secondary", "unconfirmed", "conflict")
"""How sure the sources are about a reference vehicle (docs/catalog.md)."""


def id_problem(value: str) -> str | None:
    """Why `value` cannot be an id (an invisible, control or space character), or None.

    A zero-width space makes two ids that print alike differ, and one that cannot be typed.
    """
    for char in value:
        if unicodedata.category(char)[0] in "CZ" or char.isspace():
            name = unicodedata.name(char, "a control character")
            return f"contains the invisible character U+{ord(char):04X} ({name})"
    return None


def _invisible(value: str, what: str, span: Span) -> list[Diagnostic]:
    problem = id_problem(value)
    if problem is None:
        return []
    return [
        Diagnostic(
            code="E203",
            span=span,
            message=f"the {what} id '{value}' {problem}",
            hint="retype the id with letters, digits, '-' and '_' only",
        )
    ]


def _duplicates(
    values: Iterable[object], what: str, spans: Callable[[int], Span]
) -> list[Diagnostic]:
    """E210 for every value given twice in one list (it would be counted twice)."""
    out: list[Diagnostic] = []
    first: dict[object, int] = {}
    for index, value in enumerate(values):
        if value in first:
            out.append(
                Diagnostic(
                    code="E210",
                    span=spans(index),
                    message=f"{what} '{value}' is listed twice (first at {spans(first[value])})",
                    hint="remove the second one; a value listed twice would be counted twice",
                    related=(spans(first[value]),),
                )
            )
        else:
            first[value] = index
    return out


def _item_spans(
    doc: Document | None, path: tuple[str | int, ...], fallback: Span
) -> Callable[[int], Span]:
    def span(index: int) -> Span:
        node = node_at(doc.root, (*path, index)) if doc is not None else None
        return node.span if node is not None else fallback

    return span


def _check_ids(catalog: Catalog) -> list[Diagnostic]:
    """No id may hold an invisible character."""
    out: list[Diagnostic] = []
    items: list[
        tuple[str, ModuleVariant | Platform | Brand | Powertrain | Market | OptionFeature]
    ] = [
        *(("module", m) for m in catalog.modules.values()),
        *(("platform", p) for p in catalog.platforms.values()),
        *(("brand", b) for b in catalog.brands.values()),
        *(("powertrain", p) for p in catalog.options.powertrains),
        *(("market", m) for m in catalog.options.markets),
        *(("feature", f) for f in catalog.options.features),
    ]
    for what, item in items:
        out += _invisible(item.id, what, item.field_spans.get("id", item.span))
    opts = catalog.options
    for key, what in (("segments", "segment"), ("bodies", "body"), ("drives", "drive")):
        for value in getattr(opts, key):
            out += _invisible(value, what, opts.field_spans.get(key, opts.span))
    return out


def _check_options(options: OptionDomains, doc: Document | None = None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    spans = options.field_spans
    for key, what in (
        ("segments", "segment"),
        ("bodies", "body"),
        ("drives", "drive"),
        ("steering", "steering side"),
        ("battery_kwh", "battery_kwh value"),
        ("wheelbase_mm", "wheelbase_mm value"),
    ):
        out += _duplicates(
            getattr(options, key), what, _item_spans(doc, (key,), spans.get(key, options.span))
        )
    for key in ("powertrains", "markets", "features"):
        entries: tuple[Powertrain | Market | OptionFeature, ...] = getattr(options, key)
        id_spans = [entry.field_spans.get("id", entry.span) for entry in entries]
        out += _duplicates(
            [entry.id for entry in entries], key.removesuffix("s"), id_spans.__getitem__
        )
    for market in options.markets:
        if market.steering not in options.steering:
            out.append(
                Diagnostic(
                    code="E220",
                    span=market.field_spans.get("steering", market.span),
                    message=f"market '{market.id}' has steering '{market.steering}', not one of {', '.join(options.steering)}",
                    hint="write lhd or rhd",
                )
            )
    return out


def _check_refs(
    values: Iterable[str], known: Iterable[str], what: str, owner: str, span: Span
) -> list[Diagnostic]:
    pool = list(known)
    return [
        Diagnostic(
            code="E220",
            span=span,
            message=f"{owner} refers to unknown {what} '{value}'{did_you_mean(value, pool)}",
            hint=f"define '{value}' in the catalog, or fix the id",
        )
        for value in values
        if value not in pool
    ]


def _check_platform(
    platform: Platform, catalog: Catalog, doc: Document | None = None, index: int = 0
) -> list[Diagnostic]:
    owner = f"platform '{platform.id}'"
    spans = platform.field_spans
    problems: list[Diagnostic] = []
    for key in ("modules", "segments", "powertrains", "drives"):
        problems += _duplicates(
            getattr(platform, key),
            f"{owner}: {key.removesuffix('s')}",
            _item_spans(doc, ("platforms", index, key), spans.get(key, platform.span)),
        )
    for key in ("battery_kwh", "wheelbase_mm"):
        bounds = getattr(platform, key)
        if bounds is not None and bounds.min > bounds.max:
            problems.append(
                Diagnostic(
                    code="E203",
                    span=bounds.field_spans.get("min", spans.get(key, platform.span)),
                    message=f"{owner}: the {key} range is inverted (min {bounds.min:g} > max {bounds.max:g})",
                    hint="write the smaller number as min and the larger as max",
                )
            )
    if platform.max_mass_kg is not None and platform.max_mass_kg < 0:
        problems.append(
            Diagnostic(
                code="E203",
                span=spans.get("max_mass_kg", platform.span),
                message=f"{owner}: max_mass_kg must be zero or more, not {platform.max_mass_kg:g}",
                hint="write the heaviest total module mass the platform takes, in kg",
            )
        )
    out = _check_refs(
        platform.modules, catalog.modules, "module", owner, spans.get("modules", platform.span)
    )
    out += _check_refs(
        platform.segments,
        catalog.options.segments,
        "segment",
        owner,
        spans.get("segments", platform.span),
    )
    out += _check_refs(
        platform.powertrains,
        [p.id for p in catalog.options.powertrains],
        "powertrain",
        owner,
        spans.get("powertrains", platform.span),
    )
    out += _check_refs(
        platform.drives, catalog.options.drives, "drive", owner, spans.get("drives", platform.span)
    )
    return problems + out


def _check_module_era(module: ModuleVariant) -> list[Diagnostic]:
    era = module.era
    if era is None or era.end is None or era.end >= era.start:
        return []
    return [
        Diagnostic(
            code="E234",
            span=era.field_spans.get("end", era.span),
            message=f"module '{module.id}': its era ends ({era.end}) before it starts ({era.start})",
            hint="write the first year as `start` and the last year as `end`",
        )
    ]


def _check_part_numbers(catalog: Catalog) -> list[Diagnostic]:
    """A part number means one part: the same number must not carry two different names."""
    seen: dict[str, PartLine] = {}
    out: list[Diagnostic] = []
    owners: list[ModuleVariant | Brand] = [*catalog.modules.values(), *catalog.brands.values()]
    lines = [line for owner in owners for line in owner.parts]
    lines += [
        alt.line()
        for owner in owners
        for position in owner.positions
        for alt in position.alternatives
    ]
    for owner in owners:
        ids: dict[str, Span] = {}
        for position in owner.positions:
            span = position.field_spans.get("id", position.span)
            if position.id in ids:
                out.append(
                    Diagnostic(
                        code="E210",
                        span=span,
                        message=f"duplicate position id '{position.id}' in '{owner.id}' (first defined at {ids[position.id]})",
                        hint="give every position of a module variant or brand its own id",
                    )
                )
            ids.setdefault(position.id, span)
    for line in lines:
        first = seen.setdefault(line.part, line)
        if first is not line and first.name != line.name:
            out.append(
                Diagnostic(
                    code="E213",
                    severity=Severity.ERROR,
                    span=line.span,
                    message=f"part number '{line.part}' is named '{line.name}' here but '{first.name}' at {first.span}",
                    hint="one part number must name one part; give one of them a new number",
                )
            )
    return out


# ---------------------------------------------------------------- configurations


def load_vehicle_file(path: Path, catalog: Catalog) -> Vehicle:
    """Load one configuration file and check its names against the catalog."""
    doc = parse_file(path, display_path(path))
    return vehicle_from_document(doc, catalog)


def vehicle_from_document(doc: Document, catalog: Catalog) -> Vehicle:
    """Structure a parsed configuration and check every name in it; raise InputError."""
    raw, diagnostics = structure_lenient(doc, VehicleFile, {"name": "?"})
    if raw is None:
        raise InputError(diagnostics)
    config = raw.config()
    if raw.status not in STATUSES:
        diagnostics.append(
            Diagnostic(
                code="E203",
                span=raw.field_spans.get("status", raw.span),
                message=f"unknown status '{raw.status}'{did_you_mean(raw.status, STATUSES)}",
                hint=f"the statuses are {', '.join(STATUSES)}",
            )
        )
    diagnostics += check_config_names(config, catalog)
    diagnostics += _check_parts(config.extra_parts)
    diagnostics += _check_time_and_markets(raw, catalog)
    if diagnostics:
        raise InputError(diagnostics)
    vid = raw.id or Path(doc.path).stem
    return Vehicle(
        id=vid,
        config=config,
        sources=raw.sources,
        status=raw.status,
        notes=raw.notes,
        production=raw.production,
        generation=raw.generation,
        plants=raw.plants,
        markets=raw.markets,
        provenance=raw.provenance,
        span=raw.span,
    )


def _check_time_and_markets(raw: VehicleFile, catalog: Catalog) -> list[Diagnostic]:
    """Production years in order; markets known; the configuration's market among them."""
    spans = raw.field_spans
    out: list[Diagnostic] = []
    market_ids = [m.id for m in catalog.options.markets]
    markets_span = spans.get("markets", raw.span)
    for market in raw.markets:
        out += _name_check(
            market, market_ids, "market", markets_span, f"the markets are {', '.join(market_ids)}"
        )
    chosen = raw.options.market
    if raw.markets and chosen is not None and chosen in market_ids and chosen not in raw.markets:
        out.append(
            Diagnostic(
                code="E233",
                span=raw.options.field_spans.get("market", raw.options.span),
                message=f"market '{chosen}' is not one of the vehicle's markets ({', '.join(raw.markets)})",
                hint="pick one of `markets` here, or add the market to the `markets` list",
            )
        )
    years = raw.production
    if years is not None and years.end is not None and years.end < years.start:
        out.append(
            Diagnostic(
                code="E234",
                span=years.field_spans.get("end", years.span),
                message=f"production ends ({years.end}) before it starts ({years.start})",
                hint="write the start of production as `start` and the last year as `end`",
            )
        )
    return out


def _check_parts(lines: Iterable[PartLine]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for line in lines:
        for field, value in (
            ("quantity", line.quantity),
            ("unit_cost", line.unit_cost),
            ("unit_mass_kg", line.unit_mass_kg),
        ):
            if value < 0 or (field == "quantity" and value == 0):
                out.append(
                    Diagnostic(
                        code="E203",
                        span=line.field_spans.get(field, line.span),
                        message=f"'{field}' of part '{line.part}' must be {'positive' if field == 'quantity' else 'zero or more'}, not {value}",
                        hint=f"write a {'positive whole number' if field == 'quantity' else 'non-negative number'}",
                    )
                )
    return out


def _name_check(
    value: str | None, known: Iterable[str], what: str, span: Span, hint: str
) -> list[Diagnostic]:
    pool = list(known)
    if value is None or value in pool:
        return []
    return [
        Diagnostic(
            code="E230",
            span=span,
            message=f"unknown {what} '{value}'{did_you_mean(value, pool)}",
            hint=hint,
        )
    ]


def check_config_names(config: VehicleConfig, catalog: Catalog) -> list[Diagnostic]:
    """Every id a configuration names must exist, and module ids must be of their slot's kind."""
    spans = config.field_spans
    opts = catalog.options
    out = _name_check(
        config.brand,
        catalog.brands,
        "brand",
        spans.get("brand", config.span),
        "see `cmf-config catalog list` for the brands",
    )
    out += _name_check(
        config.platform,
        catalog.platforms,
        "platform",
        spans.get("platform", config.span),
        "see `cmf-config catalog list` for the platforms",
    )
    out += _name_check(
        config.segment,
        opts.segments,
        "segment",
        spans.get("segment", config.span),
        f"the segments are {', '.join(opts.segments)}",
    )
    out += _name_check(
        config.body,
        opts.bodies,
        "body type",
        spans.get("body", config.span),
        f"the body types are {', '.join(opts.bodies)}",
    )
    powertrains = [p.id for p in opts.powertrains]
    out += _name_check(
        config.powertrain,
        powertrains,
        "powertrain",
        spans.get("powertrain", config.span),
        f"the powertrains are {', '.join(powertrains)}",
    )
    mspans = config.modules.field_spans
    for kind, choice in config.modules.items():
        if choice is None:
            continue
        span = mspans.get(kind, config.modules.span)
        module = catalog.modules.get(choice)
        if module is None:
            same_kind = [m.id for m in catalog.modules_of(kind)]
            suggestion = did_you_mean(choice, same_kind or list(catalog.modules)) or _by_words(
                choice, kind, catalog
            )
            out.append(
                Diagnostic(
                    code="E230",
                    span=span,
                    message=f"unknown module '{choice}'{suggestion}",
                    hint=f"see `cmf-config catalog list` for the {kind} variants",
                )
            )
        elif module.kind != kind:
            out.append(
                Diagnostic(
                    code="E231",
                    span=span,
                    message=f"module '{choice}' is {_a(module.kind)} variant, not {_a(kind)} variant",
                    hint=f"put it under '{module.kind}:', or choose {_a(kind)} variant here",
                )
            )
    options = config.options
    ospans = options.field_spans
    out += _name_check(
        options.drive,
        opts.drives,
        "drive",
        ospans.get("drive", options.span),
        f"the drives are {', '.join(opts.drives)}",
    )
    out += _name_check(
        options.steering,
        opts.steering,
        "steering side",
        ospans.get("steering", options.span),
        f"write {' or '.join(opts.steering)}",
    )
    markets = [m.id for m in opts.markets]
    out += _name_check(
        options.market,
        markets,
        "market",
        ospans.get("market", options.span),
        f"the markets are {', '.join(markets)}",
    )
    features = [f.id for f in opts.features]
    for feature in options.features or ():
        out += _name_check(
            feature,
            features,
            "feature",
            ospans.get("features", options.span),
            f"the features are {', '.join(features)}",
        )
    listed = list(options.features or ())
    for feature in sorted({f for f in listed if listed.count(f) > 1}):
        out.append(
            Diagnostic(
                code="E232",
                span=ospans.get("features", options.span),
                message=f"feature '{feature}' is listed {listed.count(feature)} times",
                hint="list each feature once (the JSON Schema says so too: uniqueItems)",
            )
        )
    for name, value in (
        ("battery_kwh", options.battery_kwh),
        ("wheelbase_mm", options.wheelbase_mm),
    ):
        if value is not None and value < 0:
            out.append(
                Diagnostic(
                    code="E203",
                    span=ospans.get(name, options.span),
                    message=f"'{name}' must be zero or more, not {value}",
                    hint="write a non-negative number",
                )
            )
    return out


def _a(kind: str) -> str:
    """'a cockpit', 'an engine_compartment', 'an ee_architecture'."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _by_words(name: str, kind: str, catalog: Catalog) -> str:
    """Suggest variants of `kind` sharing words with `name` (its id, name, kind and platforms).

    'cmf-b-hs-cockpit' is far from 'ck-b-lhd' by spelling, but it names the platform and the
    kind of the variants it means.
    """
    words = {w for w in name.lower().replace("_", "-").split("-") if w}
    scored = []
    for module in catalog.modules_of(kind):
        platforms = [p for p in catalog.platforms.values() if module.id in p.modules]
        pool = set(module.id.split("-")) | set(module.name.lower().replace("/", " ").split())
        pool |= set(kind.split("_")) | {w for p in platforms for w in p.id.split("-")}
        score = len(words & pool)
        if score >= 2:
            scored.append((-score, module.id))
    best = [mid for _, mid in sorted(scored)[:3]]
    return f"; did you mean {' or '.join(repr(b) for b in best)}?" if best else ""
