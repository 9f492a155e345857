"""YAML text -> nodes with spans: duplicates, limits and positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmf_config.errors import InputError
from cmf_config.source import ScalarNode, node_at, parse_text, scalar_offset_span, to_plain


def test_spans_are_one_based() -> None:
    """Line and column of a value are 1-based."""
    doc = parse_text("a: 1\nb:\n  c: hello\n", "t.yaml")
    node = node_at(doc.root, ("b", "c"))
    assert isinstance(node, ScalarNode)
    assert (node.span.line, node.span.col) == (3, 6)


def test_duplicate_keys_are_errors_not_silently_dropped() -> None:
    """PyYAML keeps the last duplicate; we report it with both positions."""
    with pytest.raises(InputError) as info:
        parse_text("a: 1\nb: 2\na: 3\n", "t.yaml")
    (diag,) = info.value.diagnostics
    assert diag.code == "E102"
    assert (diag.span.line, diag.span.col) == (3, 1)
    assert diag.related[0].line == 1


def test_all_duplicates_of_a_file_are_reported_at_once() -> None:
    """Two duplicate keys in different mappings give two diagnostics."""
    with pytest.raises(InputError) as info:
        parse_text("a: {x: 1, x: 2}\nb: {y: 1, y: 2}\n", "t.yaml")
    assert [d.code for d in info.value.diagnostics] == ["E102", "E102"]


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    """10,000 nested lists give a positioned error, not a RecursionError."""
    with pytest.raises(InputError) as info:
        parse_text("a: " + "[" * 10_000 + "]" * 10_000, "t.yaml")
    assert info.value.diagnostics[0].code == "E105"


def test_alias_bomb_is_refused_quickly() -> None:
    """A billion-laughs document stops at the node budget."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(InputError) as info:
        parse_text("\n".join(lines), "t.yaml")
    assert info.value.diagnostics[0].code == "E105"


def test_small_aliases_are_expanded() -> None:
    """Anchors and aliases within the budget work as in YAML."""
    doc = parse_text("a: &x [1, 2]\nb: *x\n", "t.yaml")
    assert to_plain(doc.root) == {"a": [1, 2], "b": [1, 2]}


def test_expression_offsets_map_into_quoted_and_block_scalars() -> None:
    """Offsets inside an expression become exact file positions."""
    doc = parse_text('r: "abc == 1"\nb: |\n  first\n  x == y\n', "t.yaml")
    quoted = node_at(doc.root, ("r",))
    block = node_at(doc.root, ("b",))
    assert isinstance(quoted, ScalarNode)
    assert isinstance(block, ScalarNode)
    span = scalar_offset_span(doc, quoted, 4, 2)
    assert (span.line, span.col) == (1, 9)
    span = scalar_offset_span(doc, block, len("first\n") + 5, 1)
    assert (span.line, span.col) == (4, 8)


_plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.text(alphabet="abcxyz -_", min_size=1, max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.text(alphabet="abcdef", min_size=1, max_size=4), _plain, min_size=1, max_size=4
    )
)
def test_parse_agrees_with_pyyaml_safe_load(data: dict[str, object]) -> None:
    """On documents without duplicates, our tree equals yaml.safe_load's data."""
    import yaml

    text = yaml.safe_dump(data)
    assert to_plain(parse_text(text, "t.yaml").root) == yaml.safe_load(text)


def test_display_path_is_relative_to_the_working_directory_wherever_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shown relative to the working directory through symlinked folders, as given outside
    it; the folders resolved once per run still follow a change of directory."""
    from cmf_config.paths import display_path

    (tmp_path / "real" / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path / "real")
    assert display_path(tmp_path / "link" / "sub" / "a.yaml") == "sub/a.yaml"
    assert display_path(Path("sub/../a.yaml")) == "a.yaml"
    assert display_path(tmp_path / "a.yaml") == str(tmp_path / "a.yaml")
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "link" / "sub" / "a.yaml") == "real/sub/a.yaml"
    assert display_path(Path("link/sub/a.yaml")) == "real/sub/a.yaml"
    monkeypatch.chdir(tmp_path / "real" / "sub")
    assert display_path(tmp_path / "link" / "sub" / "a.yaml") == "a.yaml"


_NAMES = st.sampled_from(["a.yaml", "b.yaml", ".h.yaml", "c.yml", "d.yaml.bak", "x", "E.YAML"])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "sub/", "sub/deeper/", "other/", ".hidden/"]),
            _NAMES,
            st.sampled_from(["file", "dir", "link-file", "link-dir", "dangling"]),
        ),
        max_size=12,
    )
)
def test_yaml_files_lists_what_rglob_lists(entries: list[tuple[str, str, str]]) -> None:
    """The one-scan listing of a catalog equals `sorted(p for p in root.rglob('*.yaml') if
    p.is_file())` on trees of files, folders, symlinks to files and folders, and dangling
    symlinks."""
    import tempfile

    from cmf_config.paths import yaml_files

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "catalog"
        root.mkdir()
        target = Path(tmp) / "outside"
        (target / "in").mkdir(parents=True)
        (target / "in" / "t.yaml").write_text("a: 1\n")
        (target / "t.yaml").write_text("a: 1\n")
        for folder, name, kind in entries:
            path = root / folder / name
            if path.exists() or path.is_symlink():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                path.write_text("a: 1\n")
            elif kind == "dir":
                path.mkdir()
                (path / "in.yaml").write_text("a: 1\n")
            elif kind == "link-file":
                path.symlink_to(target / "t.yaml")
            elif kind == "link-dir":
                path.symlink_to(target / "in")
            else:
                path.symlink_to(Path(tmp) / "missing.yaml")
        expected = sorted(p for p in root.rglob("*.yaml") if p.is_file())
        assert yaml_files(root) == expected
        assert yaml_files(root / "no-such-folder") == []
