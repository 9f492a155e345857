"""The YAML reader as it was before the one-loop rewrite (session 5, issue 12): the oracle
that tests/test_source_oracle.py holds `source.parse_text` and `yaml12.resolve` to.

Kept verbatim but for its imports: a tree builder fed one event at a time through
`yaml.parse`, and the core-schema resolver that tries every pattern in turn.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

from collections.abc import Iterator

import yaml

from cmf_config import yaml12
from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.source import (
    _NUMBER_TAGS,
    _PLAIN_TAGS,
    MAX_DEPTH,
    MAX_NODES,
    MAX_NUMBER_CHARS,
    Document,
    MapNode,
    Node,
    Scalar,
    ScalarNode,
    SeqNode,
    _Loader,
    _size,
    _span,
    _too_many,
)


def resolve(text: str) -> str:
    """The core-schema tag of a plain (unquoted, untagged) scalar."""
    if yaml12._NULL.match(text):
        return yaml12.NULL
    if yaml12._BOOL.match(text):
        return yaml12.BOOL
    if yaml12._INT10.match(text) or yaml12._INT8.match(text) or yaml12._INT16.match(text):
        return yaml12.INT
    if yaml12._FLOAT.match(text) or yaml12._INF.match(text) or yaml12._NAN.match(text):
        return yaml12.FLOAT
    return yaml12.STR


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
            tag = resolve(event.value) if plain else yaml12.STR
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
