"""YAML text -> a tree of nodes that remember where they came from.

PyYAML's composer silently keeps the last of two duplicate keys (yaml/pyyaml#165), recurses
once per nesting level and expands aliases without bound. So we build the tree ourselves from
PyYAML's event stream (C parser where present): iteratively, with a depth limit, an alias
expansion budget, duplicate-key detection, and 1-based spans converted here, once. Scalars
take their YAML 1.2 core-schema meaning (`yaml12.py`), the one editors and schema tools give.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import yaml

from cmf_config import cache, yaml12
from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.files import TooLarge, os_error_hint, os_error_text, read_bounded
from cmf_config.reprs import shared_repr

MAX_DEPTH = 64
MAX_NODES = 500_000
MAX_BYTES = 32 * 1024 * 1024
MAX_NUMBER_CHARS = 40
"""A longer number is refused where it is read (Python will not even print a 4,301-digit int)."""

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}

_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_UNREAD: Any = object()

Scalar = str | int | float | bool | None


class ScalarNode:
    """A scalar with its resolved value, its raw text, its quoting style and its span; `end`
    is where it ends.

    A value like the collections (whose nodes it shares): equal and hashed by those five
    fields, never assigned to (tests/test_layering.py checks). A plain class with slots, not
    an attrs one: a catalog read creates some 20,000 scalars, and `end`, which few are ever
    asked for, is made on first use from the line and column the reader gives (`at`).
    """

    __slots__ = ("_end", "_end_col", "_end_line", "raw", "span", "style", "value")

    def __init__(
        self, *, value: Scalar, raw: str, style: str | None, span: Span, end: Span
    ) -> None:
        self.value = value
        self.raw = raw
        self.style = style
        self.span = span
        self._end: Span | None = end
        self._end_line = end.line
        self._end_col = end.col

    @classmethod
    def at(
        cls, value: Scalar, raw: str, style: str | None, span: Span, end_line: int, end_col: int
    ) -> ScalarNode:
        """A scalar ending at a 1-based line and column of the span's file."""
        node = cls.__new__(cls)
        node.value = value
        node.raw = raw
        node.style = style
        node.span = span
        node._end = None
        node._end_line = end_line
        node._end_col = end_col
        return node

    @property
    def end(self) -> Span:
        """Where the scalar ends."""
        end = self._end
        if end is None:
            end = self._end = Span(self.span.path, self._end_line, self._end_col)
        return end

    def _fields(self) -> tuple[object, ...]:
        return (self.value, self.raw, self.style, self.span, self.end)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, ScalarNode)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((ScalarNode, *self._fields()))

    def __repr__(self) -> str:
        return (
            f"ScalarNode(value={self.value!r}, raw={self.raw!r}, style={self.style!r}, "
            f"span={self.span!r}, end={self.end!r})"
        )


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class MapNode:
    """A mapping; keys are plain strings with their own spans, in file order."""

    items: tuple[tuple[ScalarNode, Node], ...]
    span: Span
    end: Span

    def get(self, key: str) -> Node | None:
        """The value node of `key`, or None."""
        for k, v in self.items:
            if k.raw == key:
                return v
        return None

    def key_node(self, key: str) -> ScalarNode | None:
        """The key node of `key`, or None."""
        for k, _ in self.items:
            if k.raw == key:
                return k
        return None


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class SeqNode:
    """A sequence."""

    items: tuple[Node, ...]
    span: Span
    end: Span


Node = ScalarNode | MapNode | SeqNode


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Document:
    """One parsed YAML file: its root node and its text (for carets and expression spans)."""

    path: str
    text: str
    root: Node


def to_plain(node: Node) -> object:
    """Convert a node tree to plain dicts, lists and scalars (keys are the raw key text)."""
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, SeqNode):
        return [to_plain(item) for item in node.items]
    return {key.raw: to_plain(value) for key, value in node.items}


def node_at(root: Node, path: tuple[str | int, ...]) -> Node | None:
    """Follow a path of keys and indices; None when it leads nowhere."""
    node: Node | None = root
    for step in path:
        if isinstance(node, MapNode) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, SeqNode) and isinstance(step, int) and 0 <= step < len(node.items):
            node = node.items[step]
        else:
            return None
    return node


def _span(path: str, mark: object) -> Span:
    """PyYAML marks (pure-Python or libyaml) are 0-based; spans are 1-based."""
    if mark is None:
        return Span(path, 1, 1)
    return Span(path, int(getattr(mark, "line", 0)) + 1, int(getattr(mark, "column", 0)) + 1)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class TextInput:
    """How errors about one kind of input file are worded: its name, size limit and codes.

    The YAML files use E001 (cannot read), E107 (empty), E100 (binary or not UTF-8) and E108
    (too large); the model files of `uvl`/`dimacs` use one code for all of them.
    """

    what: str = "YAML"
    limit: int = MAX_BYTES
    unreadable: str = "E001"
    empty: str = "E107"
    binary: str = "E100"
    too_large: str = "E108"
    empty_hint: str = "write the YAML document this file should hold (see docs/formats.md)"
    too_large_hint: str = "split it into several files"


YAML_INPUT = TextInput()


_WIDE_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32 by its byte-order mark, or by the NUL bytes of ASCII text without one."""
    for mark, name in _WIDE_MARKS:
        if data.startswith(mark):
            return name
    head = data[: min(len(data), 64) // 4 * 4]
    quarter = bytes(len(head) // 4)
    if len(head) >= 8 and head[1::4] == head[2::4] == head[3::4] == quarter and all(head[::4]):
        return "UTF-32"
    if len(head) >= 8 and head[0::4] == head[1::4] == head[2::4] == quarter and all(head[3::4]):
        return "UTF-32"
    head = data[: min(len(data), 64) // 2 * 2]
    half = bytes(len(head) // 2)
    if len(head) >= 4 and (
        (head[1::2] == half and all(head[::2])) or (head[::2] == half and all(head[1::2]))
    ):
        return "UTF-16"
    return None


def decode(path: str, data: bytes, kind: TextInput = YAML_INPUT) -> str:
    """The bytes of a text input as text: UTF-8 (a BOM allowed), else an InputError naming
    the offending byte and what to do."""

    def fail(code: str, offset: int, message: str, hint: str) -> InputError:
        line = data.count(b"\n", 0, offset) + 1
        col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        return InputError(
            [Diagnostic(code=code, span=Span(path, line, col), message=message, hint=hint)]
        )

    if not data.strip():
        raise fail(kind.empty, 0, "the file is empty", kind.empty_hint)
    wide = _wide_encoding(data)
    if wide is not None:
        raise fail(
            kind.binary,
            0,
            f"the file is {wide} text, not UTF-8",
            f"save it as UTF-8 (in most editors: Save as, encoding UTF-8); e.g. iconv -f {wide} -t UTF-8",
        )
    if b"\x00" in data:
        raise fail(
            kind.binary,
            data.index(b"\x00"),
            f"this is a binary file, not {kind.what} text (it contains a NUL byte)",
            f"give the path of a UTF-8 {kind.what} file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(
            kind.binary,
            exc.start,
            f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8",
        ) from None


def read_text(path: Path, display: str | None = None, kind: TextInput = YAML_INPUT) -> str:
    """Read a UTF-8 text file; raise InputError (never OSError) when it cannot be used."""
    shown = display or str(path)

    def fail(code: str, message: str, hint: str) -> InputError:
        return InputError(
            [Diagnostic(code=code, span=Span(shown, 1, 1), message=message, hint=hint)]
        )

    try:
        data = read_bounded(path, kind.limit)
    except IsADirectoryError:
        raise fail(
            kind.unreadable,
            "this is a directory, not a file",
            f"give the path of a {kind.what} file",
        ) from None
    except TooLarge as exc:
        raise fail(
            kind.too_large,
            f"the file is too large (more than {exc.limit} bytes)",
            kind.too_large_hint,
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENOENT and path.is_symlink():
            raise fail(
                kind.unreadable,
                f"cannot read the file: it is a symlink to '{os.readlink(path)}', which does not exist",
                "fix the symlink, or give the path of the file itself",
            ) from None
        raise fail(
            kind.unreadable,
            f"cannot read the file: {os_error_text(exc)}",
            os_error_hint(exc)
            if exc.errno != errno.ENOENT
            else "check the path and its permissions",
        ) from None
    return decode(shown, data, kind)


def parse_file(path: Path, display: str | None = None) -> Document:
    """Read and parse one YAML file; raise InputError with every problem found."""
    shown = display or str(path)
    try:
        regular = path.is_file() and path.stat().st_size <= YAML_INPUT.limit
    except OSError:
        regular = False
    if not regular:  # read_text says what is wrong with it
        return parse_text(read_text(path, shown), shown)
    return cache.memoized(
        "yaml", [path], lambda _: parse_text(read_text(path, shown), shown), extra=(shown,)
    )


class _Frame:
    """An open mapping or sequence: its start, anchor, items so far and (a mapping) its keys."""

    __slots__ = ("anchor", "is_map", "items", "keys", "pending_key", "span")

    def __init__(self, is_map: bool, span: Span, anchor: str | None) -> None:
        self.is_map = is_map
        self.span = span
        self.anchor = anchor
        self.items: list[Any] = []
        self.keys: dict[str, Span] = {}
        self.pending_key: ScalarNode | None = None


_ScalarEvent = yaml.ScalarEvent
_MappingStart = yaml.MappingStartEvent
_SequenceStart = yaml.SequenceStartEvent
_CollectionEnd = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _size(node: Node) -> int:
    total = 0
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        total += 1
        if isinstance(current, SeqNode):
            stack.extend(current.items)
        elif isinstance(current, MapNode):
            stack.extend(v for _, v in current.items)
    return total


def _too_many(aliased: int) -> tuple[str, str]:
    """The message and hint of E105 for too many nodes: blame aliases only when they did it."""
    if aliased > MAX_NODES // 2:
        return (
            f"the document expands to more than {MAX_NODES:,} values through its aliases "
            "('*name'): an alias bomb?",
            "remove the nested aliases ('*name'); write the data out",
        )
    return (
        f"the document holds more than {MAX_NODES:,} values (keys, items and scalars)"
        + (f", {aliased:,} of them through aliases" if aliased else ""),
        "split it into several files; no configuration or catalog file needs this many",
    )


def _diagnostic(
    code: str, span: Span, message: str, hint: str, related: tuple[Span, ...] = ()
) -> Diagnostic:
    return Diagnostic(code=code, span=span, message=message, hint=hint, related=related)


def _read_scalar(
    event: yaml.ScalarEvent, span: Span, out: list[Diagnostic], typed: dict[str, Scalar]
) -> Scalar:
    """The value of a scalar that may be other than the string it reads: quoted, tagged, or
    plain and starting like a number, a boolean or null. A plain one is read once per document
    (`typed` keeps its value by its text), except a number too long, reported at each place."""
    if event.tag is not None or not event.implicit[0]:
        return _scalar_value(event, span, out)
    raw = event.value
    value = typed.get(raw, _UNREAD)
    if value is _UNREAD:
        found = len(out)
        value = _scalar_value(event, span, out)
        if len(out) == found:
            typed[raw] = value
    return value  # type: ignore[no-any-return]


def _scalar_value(event: yaml.ScalarEvent, span: Span, out: list[Diagnostic]) -> Scalar:
    """The value of a quoted or tagged scalar (YAML 1.2 core schema: only plain scalars are
    resolved, quoted ones are strings)."""
    tag = event.tag
    if tag is None or tag == "!":
        plain = bool(event.implicit and event.implicit[0]) and tag is None
        tag = yaml12.resolve(event.value) if plain else yaml12.STR
    return _typed_value(tag, event.value, span, out)


def _typed_value(tag: str, text: str, span: Span, out: list[Diagnostic]) -> Scalar:
    """The value of a scalar with its tag: E203 for a number too long to read, E104 for a
    tag other than the core schema's (the text is kept as the value)."""
    if tag in _NUMBER_TAGS and len(text) > MAX_NUMBER_CHARS:
        out.append(
            _diagnostic(
                "E203",
                span,
                f"the number '{text[:12]}...' is {len(text)} characters long",
                f"write a number of at most {MAX_NUMBER_CHARS} characters (quote it if it is a text)",
            )
        )
        return text
    if tag in _PLAIN_TAGS:
        try:
            return yaml12.construct(tag, text)
        except ValueError:
            return text
    if tag != "tag:yaml.org,2002:timestamp":
        out.append(
            _diagnostic(
                "E104",
                span,
                f"the YAML tag '{tag}' is not supported",
                "remove the tag; write a plain value",
            )
        )
    return text


def _build(text: str, path: str, out: list[Diagnostic]) -> Node | None:
    """The node tree of `text` from the parser's events, with an explicit stack (no
    recursion); problems go to `out`. Raises PyYAML's errors for a syntax error.

    One loop with the common cases inline (a plain string scalar is most of a file): this is
    most of the time a command spends reading a catalog without the cache.
    """
    loader = _Loader(text)
    try:
        return _tree(loader.get_event, path, out)
    finally:
        loader.dispose()


def _tree(next_event: Callable[[], Any], path: str, out: list[Diagnostic]) -> Node | None:
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Node, int]] = {}
    root: Node | None = None
    nodes = 0
    counts = _Counts()
    frame: _Frame | None = None  # the innermost open collection (stack[-1])
    maybe_typed = yaml12.MAYBE_TYPED
    typed: dict[str, Scalar] = {}  # plain texts that are not strings, by text, once read
    make_scalar = ScalarNode.at
    while True:
        event = next_event()
        if event is None:
            break
        kind = event.__class__
        node: Node
        weight = 1
        if kind is _ScalarEvent:
            mark = event.start_mark
            span = Span(path, mark.line + 1, mark.column + 1)
            mark = event.end_mark
            raw = event.value
            value: Scalar = raw  # a plain string, most scalars; else by the core schema
            if event.tag is not None or not event.implicit[0] or raw[:1] in maybe_typed:
                value = _read_scalar(event, span, out, typed)
            node = make_scalar(value, raw, event.style, span, mark.line + 1, mark.column + 1)
            if event.anchor:
                anchors[event.anchor] = (node, 1)
        elif kind is _MappingStart or kind is _SequenceStart:
            frame = _open(event, kind is _MappingStart, path, len(stack), out)
            if frame is None:
                break  # nested too deep
            stack.append(frame)
            continue  # nothing attached, no node counted
        elif kind in _CollectionEnd:
            done = stack.pop()
            frame = stack[-1] if stack else None
            node = _close(done, event.end_mark, path, anchors)
        else:  # an alias, or the stream's and documents' other events
            target = _other(event, kind, anchors, counts, path, out)
            if target is None:
                if counts.stopped:
                    break
                continue  # nothing to attach
            node, weight = target
        # Attach the finished node to the open collection (or make it the root).
        nodes += weight
        if frame is None:
            root = node
        elif not frame.is_map:
            frame.items.append(node)
        elif frame.pending_key is not None:  # the value of the key before it
            frame.items.append((frame.pending_key, node))
            frame.pending_key = None
        else:
            frame.pending_key = _key(frame, node, out)
        if nodes > MAX_NODES:
            out.append(
                _diagnostic("E105", _span(path, event.start_mark), *_too_many(counts.aliased))
            )
            break
    return root


class _Counts:
    """What `_tree` counts besides nodes: documents, nodes added through aliases, and whether
    reading stopped (a second document)."""

    __slots__ = ("aliased", "documents", "stopped")

    def __init__(self) -> None:
        self.aliased = 0
        self.documents = 0
        self.stopped = False


def _other(
    event: yaml.Event,
    kind: type,
    anchors: dict[str, tuple[Node, int]],
    counts: _Counts,
    path: str,
    out: list[Diagnostic],
) -> tuple[Node, int] | None:
    """An alias's node and size (None for an unknown anchor: E101); None for the stream's and
    documents' other events, `counts.stopped` at a second document (E106)."""
    if kind is yaml.AliasEvent:
        target = _alias(event, anchors, path, out)  # type: ignore[arg-type]
        if target is not None:
            counts.aliased += target[1]
        return target
    if kind is yaml.DocumentStartEvent:
        counts.documents += 1
        if counts.documents > 1:
            out.append(_second_document(event, path))
            counts.stopped = True
    return None


def _open(
    event: yaml.CollectionStartEvent, is_map: bool, path: str, depth: int, out: list[Diagnostic]
) -> _Frame | None:
    """A new open collection (E104 for a tag); None past MAX_DEPTH (E105)."""
    span = _span(path, event.start_mark)
    if event.tag not in _COLLECTION_TAGS:
        out.append(
            _diagnostic(
                "E104",
                span,
                f"the YAML tag '{event.tag}' is not supported",
                "remove the tag; write plain data",
            )
        )
    if depth >= MAX_DEPTH:
        out.append(
            _diagnostic(
                "E105",
                span,
                f"the document is nested more than {MAX_DEPTH} levels deep",
                "flatten the structure; no cmf-config file needs this depth",
            )
        )
        return None
    return _Frame(is_map, span, event.anchor)


def _alias(
    event: yaml.AliasEvent,
    anchors: dict[str, tuple[Node, int]],
    path: str,
    out: list[Diagnostic],
) -> tuple[Node, int] | None:
    """The node an alias repeats and its size, or None (E101) for an unknown anchor."""
    target = anchors.get(event.anchor or "")
    if target is None:
        out.append(
            _diagnostic(
                "E101",
                _span(path, event.start_mark),
                f"unknown alias '*{event.anchor}'",
                "define the anchor first",
            )
        )
    return target


def _second_document(event: yaml.Event, path: str) -> Diagnostic:
    return _diagnostic(
        "E106",
        _span(path, event.start_mark),
        "the file holds more than one YAML document",
        "keep one document per file; remove the '---' separator",
    )


def _close(done: _Frame, mark: Any, path: str, anchors: dict[str, tuple[Node, int]]) -> Node:
    """The finished collection of a frame (remembered under its anchor, with its size)."""
    end = Span(path, mark.line + 1, mark.column + 1)
    node: Node
    if done.is_map:
        node = MapNode(items=tuple(done.items), span=done.span, end=end)
    else:
        node = SeqNode(items=tuple(done.items), span=done.span, end=end)
    if done.anchor:
        anchors[done.anchor] = (node, _size(node))
    return node


def _key(frame: _Frame, node: Node, out: list[Diagnostic]) -> ScalarNode:
    """A mapping key: a plain scalar given once (E103, E102)."""
    if not isinstance(node, ScalarNode) or (node.value is None and node.raw == ""):
        out.append(
            _diagnostic(
                "E103",
                node.span,
                "a mapping key must be a plain name",
                "write the key as a plain word",
            )
        )
        return ScalarNode(value="?", raw="?", style=None, span=node.span, end=node.span)
    first = frame.keys.get(node.raw)
    if first is not None:
        out.append(
            _diagnostic(
                "E102",
                node.span,
                f"duplicate key '{node.raw}' (first given at line {first.line}, column {first.col})",
                "keep one of the two; YAML would silently drop the first",
                (first,),
            )
        )
    else:
        frame.keys[node.raw] = node.span
    return node


def _syntax_error(path: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """A YAML syntax error at its position (E105 for libyaml's own depth limit)."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    if "nesting depth" in problem:  # libyaml's own limit, met before our depth check
        return _diagnostic(
            "E105",
            _span(path, mark),
            f"the document is nested more than {MAX_DEPTH} levels deep",
            "flatten the structure; no cmf-config file needs this depth",
        )
    return _diagnostic(
        "E101",
        _span(path, mark),
        f"YAML syntax error: {problem}",
        "fix the YAML syntax at this position (indentation, ':' after keys, closing brackets and quotes)",
    )


def parse_text(text: str, path: str) -> Document:
    """Parse YAML text into a single Document; raise InputError with every problem found."""
    diagnostics: list[Diagnostic] = []
    root: Node | None = None
    try:
        root = _build(text, path, diagnostics)
    except yaml.MarkedYAMLError as exc:
        diagnostics.append(_syntax_error(path, exc))
    except yaml.YAMLError as exc:
        diagnostics.append(
            Diagnostic(
                code="E101",
                span=Span(path, 1, 1),
                message=f"YAML error: {exc}",
                hint="fix the YAML syntax",
            )
        )
    if diagnostics:
        raise InputError(diagnostics)
    if root is None or (isinstance(root, ScalarNode) and root.value is None):
        raise InputError(
            [
                Diagnostic(
                    code="E107",
                    span=Span(path, 1, 1),
                    message="the file holds no YAML document (only comments or blanks)",
                    hint="write the YAML document this file should hold (see docs/formats.md)",
                )
            ]
        )
    return Document(path=path, text=text, root=root)


def scalar_offset_span(doc: Document, node: ScalarNode, offset: int, length: int = 1) -> Span:
    """The span of the character at `offset` inside a scalar's value (for expression errors).

    Exact for single-line scalars and for literal/folded block scalars; for multi-line plain
    or quoted scalars it falls back to the best line match.
    """
    value = node.raw
    start = node.span
    before = value[:offset]
    line_in_value = before.count("\n")
    col_in_line = offset - (before.rfind("\n") + 1)
    if node.style in ("|", ">"):
        lines = doc.text.splitlines()
        # Content starts on the line after the indicator; find its indentation.
        first = start.line  # 1-based line of the indicator; content is on following lines
        idx = first + line_in_value  # 0-based index of the content line
        if 0 <= idx < len(lines):
            text_line = lines[idx]
            indent = len(text_line) - len(text_line.lstrip(" "))
            col = indent + col_in_line + 1
            return Span(start.path, idx + 1, col, col + length)
        return start
    if line_in_value == 0 and start.line == node.end.line:
        shift = 1 if node.style in ("'", '"') else 0
        col = start.col + shift + offset
        return Span(start.path, start.line, col, col + length)
    # Multi-line flow scalar: find the fragment on the lines the scalar covers.
    fragment = value[offset : offset + max(length, 1)]
    lines = doc.text.splitlines()
    for idx in range(start.line - 1, min(node.end.line, len(lines))):
        pos = lines[idx].find(fragment)
        if pos >= 0:
            return Span(start.path, idx + 1, pos + 1, pos + 1 + length)
    return start
