"""Edit a configuration file in place of its values: a fix or a completion changes only the
values that change.

The loader already knows the exact span of every key and value, so an edit replaces the text
of the changed scalars (in the quoting style they had), rewrites only a changed list, and
inserts a missing key on a line of its own at its usual place with the indentation the file
uses. Comments, key order, quoting, flow style, blank lines, line endings and the
`# yaml-language-server: $schema=` line are never touched, so the diff of an edit is exactly
the changed values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

import attrs

from cmf_config import yaml12
from cmf_config.reprs import shared_repr
from cmf_config.source import Document, MapNode, Node, ScalarNode, SeqNode

# The order keys are written in (docs/formats.md); a missing key is inserted after the last
# key present that comes before it here.
ORDER = {
    None: (
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
    ),
    "modules": (
        "engine_compartment",
        "cockpit",
        "front_underbody",
        "rear_underbody",
        "ee_architecture",
    ),
    "options": ("battery_kwh", "wheelbase_mm", "drive", "steering", "market", "features"),
}

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*( [A-Za-z0-9_./()-]+)*$")
_SPECIAL = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}


@shared_repr
@attrs.frozen(repr=False)
class _Edit:
    start: int
    end: int
    text: str


class _Text:
    """Offsets of (line, column) positions in a document's text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self.starts.append(index + 1)
        self.newline = "\r\n" if "\r\n" in text else "\n"

    def offset(self, line: int, col: int) -> int:
        if line - 1 >= len(self.starts):
            return len(self.text)
        return min(self.starts[line - 1] + col - 1, len(self.text))

    def line_end(self, line: int) -> int:
        """The offset just after the line break ending `line` (or the end of the text)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)


def edit_config(doc: Document, old: Mapping[str, object], new: Mapping[str, object]) -> str:
    """The document's text with `new`'s values where they differ from `old`'s.

    `old` and `new` are configuration data as `dump.config_to_data` builds them (open slots
    left out); `old` describes what `doc` holds.
    """
    text = _Text(doc.text)
    edits: list[_Edit] = []
    if not isinstance(doc.root, MapNode):
        raise ValueError("a configuration file is a mapping")
    _edit_map(text, doc.root, old, new, None, edits)
    out = doc.text
    # From the end backwards so that earlier offsets stay valid; several insertions at one
    # offset keep the order they were made in.
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1].start, ie[1].end, ie[0]))
    for _, edit in reversed(ordered):
        out = out[: edit.start] + edit.text + out[edit.end :]
    if out and not out.endswith("\n") and out != doc.text:
        out += text.newline
    return out


def _edit_map(
    text: _Text,
    node: MapNode,
    old: Mapping[str, object],
    new: Mapping[str, object],
    section: str | None,
    edits: list[_Edit],
) -> None:
    order = ORDER.get(section, ())
    for key, value in new.items():
        if key in old and _same(old[key], value):
            continue
        current = node.get(key)
        if current is None or (isinstance(current, ScalarNode) and current.value is None):
            if current is None:
                edits.append(_insert(text, node, key, value, order))
            else:
                edits.append(_replace_scalar(text, current, value, empty=True))
        elif isinstance(current, MapNode) and isinstance(value, Mapping):
            before = old.get(key)
            _edit_map(
                text,
                current,
                before if isinstance(before, Mapping) else {},
                value,
                key,
                edits,
            )
        elif isinstance(current, SeqNode) and isinstance(value, list):
            before = old.get(key)
            edits.append(
                _replace_seq(text, current, before if isinstance(before, list) else [], value)
            )
        elif isinstance(current, ScalarNode):
            edits.append(_replace_scalar(text, current, value))
        else:
            edits.append(_replace_node(text, current, value))


def _same(a: object, b: object) -> bool:
    if isinstance(a, list) and isinstance(b, list) and all(isinstance(x, str) for x in a + b):
        return sorted(map(str, a)) == sorted(map(str, b))  # features: a set, in any order
    return a == b


# ------------------------------------------------------------------ scalars


def scalar_text(value: object, style: str | None = None) -> str:
    """A value as YAML scalar text, in `style` (' or ") when given, plain when safe."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        return "null"
    string = str(value)
    if style == "'" and "\n" not in string:
        return "'" + string.replace("'", "''") + "'"
    if style == '"':
        return json.dumps(string, ensure_ascii=False)
    if (
        _PLAIN.match(string)
        and string.lower() not in _SPECIAL
        and yaml12.resolve(string) == yaml12.STR
    ):
        return string
    return json.dumps(string, ensure_ascii=False)


def _replace_scalar(text: _Text, node: ScalarNode, value: object, empty: bool = False) -> _Edit:
    start = text.offset(node.span.line, node.span.col)
    end = text.offset(node.end.line, node.end.col)
    style = node.style if node.style in ("'", '"') else None
    rendered = scalar_text(value, style)
    if empty and start == end and start > 0 and text.text[start - 1] == ":":
        rendered = " " + rendered  # `brand:` with nothing after the colon
    return _Edit(start, end, rendered)


# ------------------------------------------------------------------ lists


def _flow(values: Sequence[object]) -> str:
    return "[" + ", ".join(scalar_text(v) for v in values) + "]"


def _replace_seq(text: _Text, node: SeqNode, old: list[object], new: list[object]) -> _Edit:
    """Keep the items that stay (in the file's order), drop the others, append the new ones."""
    kept = [v for v in old if v in new]
    added = [v for v in new if v not in old]
    start = text.offset(node.span.line, node.span.col)
    if text.text[start : start + 1] == "[":
        end = text.offset(node.end.line, node.end.col)
        styles = {
            str(item.value): item.style for item in node.items if isinstance(item, ScalarNode)
        }
        body = ", ".join(
            [scalar_text(v, styles.get(str(v))) for v in kept] + [scalar_text(v) for v in added]
        )
        return _Edit(start, end, f"[{body}]")
    # Block sequence: one line per item; rewrite only the lines of the sequence.
    line_start = text.starts[node.span.line - 1]
    indent = text.text[line_start:start]
    end = text.line_end(node.items[-1].end.line) if node.items else start
    lines = []
    for item in node.items:
        if isinstance(item, ScalarNode) and item.value in kept:
            lines.append(text.text[text.starts[item.span.line - 1] : text.line_end(item.end.line)])
    lines += [f"{indent}- {scalar_text(v)}{text.newline}" for v in added]
    if not lines:
        return _Edit(start, end, "[]" + text.newline)
    return _Edit(line_start, end, "".join(lines))


def _replace_node(text: _Text, node: Node, value: object) -> _Edit:
    start = text.offset(node.span.line, node.span.col)
    end = text.offset(node.end.line, node.end.col)
    if isinstance(value, list):
        return _Edit(start, end, _flow(value))
    return _Edit(start, end, scalar_text(value))


# ------------------------------------------------------------------ new keys


def _block(key: str, value: object, indent: str, step: str, newline: str) -> str:
    """`key: value` lines for a key the file does not have yet."""
    if isinstance(value, Mapping):
        inner = "".join(_block(k, v, indent + step, step, newline) for k, v in value.items())
        return f"{indent}{key}:{newline}{inner}"
    if isinstance(value, list):
        if all(not isinstance(v, Mapping | list) for v in value):
            return f"{indent}{key}: {_flow(value)}{newline}"
        items = "".join(
            f"{indent}{step}- {{{', '.join(f'{k}: {scalar_text(x)}' for k, x in v.items())}}}{newline}"
            for v in value
            if isinstance(v, Mapping)
        )
        return f"{indent}{key}:{newline}{items}"
    return f"{indent}{key}: {scalar_text(value)}{newline}"


def _step(text: _Text) -> str:
    """The file's indentation unit (two spaces unless the file shows another)."""
    for line in text.text.splitlines():
        stripped = line.lstrip(" ")
        if stripped and not stripped.startswith("#") and len(line) > len(stripped):
            return " " * (len(line) - len(stripped))
    return "  "


def _insert(text: _Text, node: MapNode, key: str, value: object, order: Sequence[str]) -> _Edit:
    """Insert `key: value` after the last present key that precedes it in `order`."""
    rank = order.index(key) if key in order else len(order)
    after: tuple[ScalarNode, Node] | None = None
    for k, v in node.items:
        if (order.index(k.raw) if k.raw in order else len(order)) < rank:
            after = (k, v)
    first_key = node.items[0][0] if node.items else None
    if text.text[text.offset(node.span.line, node.span.col)] == "{":  # a flow mapping
        end = text.offset(node.end.line, node.end.col) - 1
        sep = ", " if node.items else ""
        return _Edit(end, end, f"{sep}{key}: {_flow_value(value)}")
    indent = " " * ((first_key.span.col - 1) if first_key is not None else 0)
    block = _block(key, value, indent, _step(text), text.newline)
    if after is None:
        at = text.starts[first_key.span.line - 1] if first_key is not None else len(text.text)
        return _Edit(at, at, block)
    value_node = after[1]
    if isinstance(value_node, ScalarNode) or _is_flow(text, value_node):
        at = text.line_end(value_node.end.line)
    else:
        # A block collection ends where the next token starts: after its last item's line.
        at = text.line_end(_last_line(text, value_node))
    if at == len(text.text) and text.text and not text.text.endswith("\n"):
        block = text.newline + block
    return _Edit(at, at, block)


def _flow_value(value: object) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow_value(v) for v in value) + "]"
    return scalar_text(value)


def _is_flow(text: _Text, node: Node) -> bool:
    return text.text[text.offset(node.span.line, node.span.col)] in "[{"


def _last_line(text: _Text, node: Node) -> int:
    """The last line holding text of a node (a block collection ends at the next token)."""
    if isinstance(node, ScalarNode) or _is_flow(text, node):
        return node.end.line
    items: list[Node] = (
        [v for _, v in node.items] if isinstance(node, MapNode) else list(node.items)
    )
    return _last_line(text, items[-1]) if items else node.span.line
