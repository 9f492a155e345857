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
from collections.abc import Iterator
from pathlib import Path

import attrs
import yaml

from cmf_config import cache, yaml12
from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.files import TooLarge, os_error_hint, os_error_text, read_bounded

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

Scalar = str | int | float | bool | None


@attrs.frozen(kw_only=True)
class ScalarNode:
    """A scalar with its resolved value, its raw text and its quoting style."""

    value: Scalar
    raw: str
    style: str | None
    span: Span
    end: Span


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class SeqNode:
    """A sequence."""

    items: tuple[Node, ...]
    span: Span
    end: Span


Node = ScalarNode | MapNode | SeqNode


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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


class _Builder:
    """Builds the node tree from events with an explicit stack (no recursion)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, tuple[Node, int]] = {}
        self.budget = MAX_NODES

    def _error(
        self, code: str, span: Span, message: str, hint: str, related: tuple[Span, ...] = ()
    ) -> None:
        self.diagnostics.append(
            Diagnostic(code=code, span=span, message=message, hint=hint, related=related)
        )

    def scalar(self, event: yaml.ScalarEvent) -> ScalarNode:
        span = _span(self.path, event.start_mark)
        end = _span(self.path, event.end_mark)
        tag = event.tag
        if tag is None or tag == "!":
            # YAML 1.2 core schema: only plain scalars are resolved; quoted ones are strings.
            plain = bool(event.implicit and event.implicit[0]) and tag is None
            tag = yaml12.resolve(event.value) if plain else yaml12.STR
        value: Scalar
        if tag in _NUMBER_TAGS and len(event.value) > MAX_NUMBER_CHARS:
            self._error(
                "E203",
                span,
                f"the number '{event.value[:12]}...' is {len(event.value)} characters long",
                f"write a number of at most {MAX_NUMBER_CHARS} characters (quote it if it is a text)",
            )
            value = event.value
        elif tag in _PLAIN_TAGS:
            try:
                value = yaml12.construct(tag, event.value)
            except ValueError:
                value = event.value
        elif tag == "tag:yaml.org,2002:timestamp":
            value = event.value
        else:
            self._error(
                "E104",
                span,
                f"the YAML tag '{tag}' is not supported",
                "remove the tag; write a plain value",
            )
            value = event.value
        return ScalarNode(value=value, raw=event.value, style=event.style, span=span, end=end)


class _Frame:
    __slots__ = ("anchor", "end", "is_map", "items", "keys", "pending_key", "span")

    def __init__(self, is_map: bool, span: Span, anchor: str | None) -> None:
        self.is_map = is_map
        self.span = span
        self.end = span
        self.anchor = anchor
        self.items: list[object] = []
        self.keys: dict[str, Span] = {}
        self.pending_key: ScalarNode | None = None


def _events(text: str) -> Iterator[yaml.Event]:
    return yaml.parse(text, Loader=_Loader)


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


class _Tree(_Builder):
    """The node tree under construction: open collections on a stack, the root once closed,
    and the counts that bound it (documents, nodes, nodes added through aliases)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.stack: list[_Frame] = []
        self.root: Node | None = None
        self.documents = 0
        self.nodes = 0
        self.aliased = 0

    def attach(self, node: Node, weight: int = 1) -> None:
        """Put a finished node into the open collection (or make it the root)."""
        self.nodes += weight
        if not self.stack:
            self.root = node
            return
        frame = self.stack[-1]
        if not frame.is_map:
            frame.items.append(node)
        elif frame.pending_key is None:
            self._key(frame, node)
        else:
            frame.items.append((frame.pending_key, node))
            frame.pending_key = None

    def _key(self, frame: _Frame, node: Node) -> None:
        """A mapping key: a plain scalar given once (E103, E102)."""
        if not isinstance(node, ScalarNode) or (node.value is None and node.raw == ""):
            self._error(
                "E103",
                node.span,
                "a mapping key must be a plain name",
                "write the key as a plain word",
            )
            frame.pending_key = ScalarNode(
                value="?", raw="?", style=None, span=node.span, end=node.span
            )
            return
        first = frame.keys.get(node.raw)
        if first is not None:
            self._error(
                "E102",
                node.span,
                f"duplicate key '{node.raw}' (first given at line {first.line}, column {first.col})",
                "keep one of the two; YAML would silently drop the first",
                (first,),
            )
        else:
            frame.keys[node.raw] = node.span
        frame.pending_key = node

    def feed(self, event: yaml.Event) -> bool:
        """Take one parser event; False when reading must stop (a limit was reached)."""
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self._error(
                    "E106",
                    _span(self.path, event.start_mark),
                    "the file holds more than one YAML document",
                    "keep one document per file; remove the '---' separator",
                )
                return False
        elif isinstance(event, yaml.ScalarEvent):
            node = self.scalar(event)
            if event.anchor:
                self.anchors[event.anchor] = (node, 1)
            self.attach(node)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if not self._open(event):
                return False
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self._close(event)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        if self.nodes > MAX_NODES:
            self._error(
                "E105",
                _span(self.path, getattr(event, "start_mark", None)),
                *_too_many(self.aliased),
            )
            return False
        return True

    def _open(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> bool:
        """Open a collection (E104 for a tag, E105 past MAX_DEPTH: then False)."""
        if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            self._error(
                "E104",
                _span(self.path, event.start_mark),
                f"the YAML tag '{event.tag}' is not supported",
                "remove the tag; write plain data",
            )
        if len(self.stack) >= MAX_DEPTH:
            self._error(
                "E105",
                _span(self.path, event.start_mark),
                f"the document is nested more than {MAX_DEPTH} levels deep",
                "flatten the structure; no cmf-config file needs this depth",
            )
            return False
        self.stack.append(
            _Frame(
                isinstance(event, yaml.MappingStartEvent),
                _span(self.path, event.start_mark),
                event.anchor,
            )
        )
        return True

    def _close(self, event: yaml.MappingEndEvent | yaml.SequenceEndEvent) -> None:
        frame = self.stack.pop()
        end = _span(self.path, event.end_mark)
        built: Node
        if frame.is_map:
            pairs = tuple(item for item in frame.items if isinstance(item, tuple))
            built = MapNode(items=pairs, span=frame.span, end=end)
        else:
            seq = tuple(item for item in frame.items if not isinstance(item, tuple))
            built = SeqNode(items=seq, span=frame.span, end=end)  # type: ignore[arg-type]
        if frame.anchor:
            self.anchors[frame.anchor] = (built, _size(built))
        self.attach(built)

    def _alias(self, event: yaml.AliasEvent) -> None:
        target = self.anchors.get(event.anchor or "")
        if target is None:
            self._error(
                "E101",
                _span(self.path, event.start_mark),
                f"unknown alias '*{event.anchor}'",
                "define the anchor first",
            )
            return
        self.aliased += target[1]
        self.attach(target[0], target[1])

    def syntax_error(self, exc: yaml.MarkedYAMLError) -> None:
        """A YAML syntax error at its position (E105 for libyaml's own depth limit)."""
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if "nesting depth" in problem:  # libyaml's own limit, met before our depth check
            self._error(
                "E105",
                _span(self.path, mark),
                f"the document is nested more than {MAX_DEPTH} levels deep",
                "flatten the structure; no cmf-config file needs this depth",
            )
        else:
            self._error(
                "E101",
                _span(self.path, mark),
                f"YAML syntax error: {problem}",
                "fix the YAML syntax at this position (indentation, ':' after keys, closing brackets and quotes)",
            )


def parse_text(text: str, path: str) -> Document:
    """Parse YAML text into a single Document; raise InputError with every problem found."""
    tree = _Tree(path)
    try:
        for event in _events(text):
            if not tree.feed(event):
                break
    except yaml.MarkedYAMLError as exc:
        tree.syntax_error(exc)
    except yaml.YAMLError as exc:
        tree.diagnostics.append(
            Diagnostic(
                code="E101",
                span=Span(path, 1, 1),
                message=f"YAML error: {exc}",
                hint="fix the YAML syntax",
            )
        )
    if tree.diagnostics:
        raise InputError(tree.diagnostics)
    root = tree.root
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
