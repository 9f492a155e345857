"""The one-loop YAML reader against the one it replaced (tests/source_oracle.py).

Every bundled YAML file and generated documents -- well-formed, broken, with anchors,
aliases, tags, duplicates, several documents, long numbers -- give the same tree (values with
their types, raw text, styles, every span) or the same diagnostics, in the same order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import source_oracle
from cmf_config import yaml12
from cmf_config.errors import InputError, Span
from cmf_config.source import MapNode, Node, ScalarNode, parse_text

ROOT = Path(__file__).parents[1]
BUNDLED = sorted(
    path
    for folder in ("catalog", "rules", "examples", "tests", "src", "docs", "benchmarks")
    for path in (ROOT / folder).rglob("*.y*ml")
)


def _shape(node: Node) -> object:
    """A node tree as nested tuples: values by type and repr (1, 1.0 and True differ; NaN
    equals NaN), raw text, style and both spans of every node."""
    if isinstance(node, ScalarNode):
        value = (type(node.value).__name__, repr(node.value))
        return ("scalar", value, node.raw, node.style, node.span, node.end)
    if isinstance(node, MapNode):
        pairs = tuple((_shape(key), _shape(value)) for key, value in node.items)
        return ("map", pairs, node.span, node.end)
    return ("seq", tuple(_shape(item) for item in node.items), node.span, node.end)


def _outcome(parse: object, text: str, path: str = "t.yaml") -> object:
    try:
        doc = parse(text, path)  # type: ignore[operator]
    except InputError as exc:
        return ("error", tuple(exc.diagnostics))
    return ("ok", doc.path, doc.text, _shape(doc.root))


def _same(text: str, path: str = "t.yaml") -> None:
    assert _outcome(parse_text, text, path) == _outcome(source_oracle.parse_text, text, path)


def test_the_bundled_files_are_many() -> None:
    """The catalog, rules, examples and test data are all in the comparison."""
    assert len(BUNDLED) > 200
    assert ROOT / "catalog" / "options.yaml" in BUNDLED


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_bundled_yaml_file_reads_as_before(path: Path) -> None:
    """Same tree and spans (or the same diagnostics) for every YAML file in the repository."""
    _same(path.read_text(encoding="utf-8", errors="replace"), str(path.relative_to(ROOT)))


_FRAGMENTS = [
    "a",
    "b",
    "id",
    "name",
    ": ",
    ":",
    "- ",
    "  ",
    "    ",
    "\n",
    "\n  ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "&x ",
    "*x",
    "*y",
    "&y ",
    "!!str ",
    "!!int ",
    "!!float ",
    "!!map ",
    "!!seq ",
    "!!timestamp ",
    "!foo ",
    "! ",
    "'q'",
    '"d\\n"',
    "'it''s'",
    "---\n",
    "...\n",
    "? ",
    "|\n  x\n",
    ">-\n  y\n",
    "1",
    "-7",
    "+3",
    "0x1F",
    "0o17",
    "017",
    "1.5e3",
    ".5",
    "1.",
    ".inf",
    "-.Inf",
    ".nan",
    "null",
    "Null",
    "~",
    "true",
    "False",
    "no",
    "yes",
    "1:20",
    "0b101",
    "2026-12-02",
    "#c",
    "\t",
    "%YAML 1.2\n",
    "9" * 41,
    "é",
    "n/a",
    "tr",
    "nul",
    "",
]


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """YAML-ish text from fragments: mostly broken, sometimes a document."""
    return "".join(draw(st.lists(st.sampled_from(_FRAGMENTS), max_size=30)))


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet="ab01.-+:~xo nNtTfF'\"#&*!", max_size=8)
)
_data = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet="abcde_", min_size=1, max_size=4), children, max_size=4)
    ),
    max_leaves=25,
)


@given(yaml_texts())
def test_generated_text_reads_as_before(text: str) -> None:
    """Broken and odd YAML: the same diagnostics (or tree) as the reader before."""
    _same(text)


@given(_data, st.booleans(), st.sampled_from([None, "'", '"']), st.integers(2, 6))
def test_dumped_documents_read_as_before(
    data: object, flow: bool, style: str | None, indent: int
) -> None:
    """Well-formed documents in block or flow style, plain or quoted: the same tree."""
    text = yaml.safe_dump(data, default_flow_style=flow, default_style=style, indent=indent)
    _same(text)


@given(_data, st.sampled_from(["a", "b", "c"]))
def test_anchored_documents_read_as_before(data: object, key: str) -> None:
    """Anchors and aliases (yaml.dump writes them for shared objects), duplicates included."""
    text = yaml.safe_dump({"a": [data, data], "b": {"x": data, "y": data}}, sort_keys=False)
    _same(text + f"{key}: *id001\n")


_NUMERIC = "0123456789+-.eExXoObB_:"


@given(st.text(max_size=8) | st.text(alphabet=_NUMERIC + "aAfFiInNlLsStTuUrR~ ", max_size=8))
def test_resolve_agrees_with_trying_every_pattern(text: str) -> None:
    """The first character picks the patterns to try: the same tag as trying them all."""
    assert yaml12.resolve(text) == source_oracle.resolve(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "~",
        "null",
        "NULL",
        "nul",
        "n",
        "true",
        "TRUE",
        "tRue",
        "f",
        ".inf",
        "-.inf",
        ".nan",
        ".",
        "-",
        "+",
        "0o",
        "0x",
        "0o7",
        "0xF",
        "1e5",
        "1.e5",
        "+.5",
        "name",
        "no",
        "~x",
    ],
)
def test_resolve_agrees_on_the_edges(text: str) -> None:
    """The forms at the edge of each pattern."""
    assert yaml12.resolve(text) == source_oracle.resolve(text)


def test_a_scalar_node_made_by_the_reader_equals_one_made_whole() -> None:
    """`ScalarNode.at` (the reader's: `end` made on first use) and the constructor give equal,
    equally hashed nodes; `end` is made once; nodes differ when any field does."""
    span = Span("t.yaml", 2, 5)
    lazy = ScalarNode.at(3, "3", None, span, 2, 6)
    whole = ScalarNode(value=3, raw="3", style=None, span=span, end=Span("t.yaml", 2, 6))
    assert lazy == whole
    assert hash(lazy) == hash(whole)
    assert lazy.end is lazy.end
    assert lazy.end == Span("t.yaml", 2, 6)
    assert (
        repr(lazy)
        == repr(whole)
        == (
            "ScalarNode(value=3, raw='3', style=None, span=Span(path='t.yaml', line=2, col=5, "
            "end_col=None), end=Span(path='t.yaml', line=2, col=6, end_col=None))"
        )
    )
    assert lazy != ScalarNode.at(3, "3", None, span, 2, 7)
    assert lazy != ScalarNode.at(3, "3", "'", span, 2, 6)
    assert lazy.__eq__(object()) is NotImplemented


def test_repeated_plain_scalars_read_alike_and_long_numbers_are_reported_each_time() -> None:
    """The reader reads each plain text that may be typed once per document and reuses the
    value: every repetition has its own node and span, and a number too long to read is
    reported at every place it is written (it is never taken from the memo)."""
    long_number = "9" * 41
    text = (
        f"a: [1, 1, true, null, 0x1F, .nan, '1', {long_number}]\n"
        f"b: [1, true, {long_number}, 0x1F, ~, .nan]\n"
    )
    _same(text)
    try:
        parse_text(text, "t.yaml")
    except InputError as exc:
        found = [(d.code, d.span.line, d.span.col) for d in exc.diagnostics]
    assert found == [("E203", 1, 40), ("E203", 2, 14)]
    doc = parse_text("a: [1, 1, true, 1.0, '1']\nb: 1\n", "t.yaml")
    assert isinstance(doc.root, MapNode)
    first = doc.root.items[0][1]
    assert [(type(n.value), n.value, n.span.col) for n in first.items] == [  # type: ignore[union-attr]
        (int, 1, 5),
        (int, 1, 8),
        (bool, True, 11),
        (float, 1.0, 17),
        (str, "1", 22),
    ]
