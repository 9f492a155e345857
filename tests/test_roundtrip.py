"""Edits keep the file: fix and complete change only the values that change."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clirun import run_cli
from cmf_config.roundtrip import edit_config
from cmf_config.source import parse_text, to_plain
from golden import assert_golden

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data" / "roundtrip"
GOLDEN = ROOT / "tests" / "cases" / "roundtrip"
MINI = ["--catalog", "tests/data/mini/catalog", "--rules", "tests/data/mini/rules"]

CASES = {
    "fix-broken-commented": ("fix", "broken-commented.yaml", MINI),
    "complete-partial-commented": ("complete", "partial-commented.yaml", MINI),
    "fix-uk-sedan": ("fix", "../../../examples/invalid/uk-sedan-with-lhd-cockpit.yaml", []),
    "complete-partial-suv": ("complete", "../../../examples/partial-suv.yaml", []),
}


def _diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_edit_diff_is_exactly_the_changed_values(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], update_goldens: bool
) -> None:
    """A commented file in, `-o OUT`: the unified diff is the reviewed golden one, the schema
    modeline and every comment are still there, and the result validates."""
    command, name, flags = CASES[case]
    source = (DATA / name).resolve()
    out = tmp_path / "out.yaml"
    code, _, err = run_cli(capsys, [command, str(source), "-o", str(out), *flags])
    assert code == 0, err
    before = source.read_text(encoding="utf-8")
    after = out.read_text(encoding="utf-8")
    assert_golden(GOLDEN / f"{case}.diff", _diff(before, after, source.name), update_goldens)
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == comments
    code, text, _ = run_cli(capsys, ["validate", str(out), *flags])
    assert code == 0, text


def test_in_place_rewrites_the_input_atomically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--in-place: the input itself is corrected, no temporary file is left beside it, and a
    second fix finds nothing to change (and leaves the bytes alone)."""
    target = tmp_path / "b.yaml"
    shutil.copy(DATA / "broken-commented.yaml", target)
    code, out, _ = run_cli(capsys, ["fix", str(target), "--in-place", *MINI])
    assert code == 0
    assert out.splitlines()[-1] == f"wrote {target}"
    assert [p.name for p in tmp_path.iterdir()] == ["b.yaml"]
    fixed = target.read_bytes()
    assert b"cockpit: 'ck-lhd'" in fixed
    code, out, _ = run_cli(capsys, ["fix", str(target), "-i", *MINI])
    assert code == 0
    assert "already valid" in out
    assert target.read_bytes() == fixed


def test_output_and_in_place_exclude_each_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o and -i together: a usage error (exit 2), nothing written."""
    target = tmp_path / "b.yaml"
    shutil.copy(DATA / "broken-commented.yaml", target)
    with pytest.raises(SystemExit) as stop:
        run_cli(capsys, ["fix", str(target), "-i", "-o", str(tmp_path / "x.yaml"), *MINI])
    assert stop.value.code == 2
    assert [p.name for p in tmp_path.iterdir()] == ["b.yaml"]


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    """A Windows file stays a Windows file, inserted lines included."""
    text = "name: x\r\nbrand: a\r\noptions:\r\n  market: eu\r\n"
    doc = parse_text(text, "f.yaml")
    old = {"name": "x", "brand": "a", "options": {"market": "eu"}}
    new = {"name": "x", "brand": "b", "platform": "p", "options": {"market": "eu", "drive": "fwd"}}
    out = edit_config(doc, old, new)
    assert (
        out == "name: x\r\nbrand: b\r\nplatform: p\r\noptions:\r\n  drive: fwd\r\n  market: eu\r\n"
    )


# ------------------------------------------------------------------ property: any layout

IDS = st.sampled_from(["a", "b-1", "c_2", "yes", "no", "on", "null", "1:20", "0755", "x y"])
TOP = ["brand", "platform", "segment", "body", "powertrain"]
MODULES = ["engine_compartment", "cockpit", "front_underbody", "rear_underbody"]
OPTIONS = ["drive", "steering", "market"]
FEATURES = ["f1", "f2", "f3", "f4"]


def _scalar(value: Any, style: str) -> str:
    if isinstance(value, int | float) or style == "plain":
        plain = str(value)
        safe = plain.replace("-", "").replace("_", "").isalnum() and plain not in (
            "yes",
            "no",
            "on",
            "null",
            "0755",
        )
        if isinstance(value, int | float) or safe:
            return plain
    if style == "single":
        return "'" + str(value).replace("'", "''") + "'"
    return '"' + str(value) + '"'


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A configuration written in a random layout, its data, and new data to edit it to."""
    styles = st.sampled_from(["plain", "single", "double"])
    comment = st.sampled_from(["", "  # note", "   # another: note"])
    data: dict[str, Any] = {"name": "car"}
    lines = ["# yaml-language-server: $schema=x.json", f"name: car{draw(comment)}"]
    for key in draw(st.lists(st.sampled_from(TOP), unique=True)):
        value = draw(IDS)
        data[key] = value
        lines.append(f"{key}: {_scalar(value, draw(styles))}{draw(comment)}")
    for section, keys in (("modules", MODULES), ("options", OPTIONS)):
        chosen = draw(st.lists(st.sampled_from(keys), unique=True))
        values: dict[str, Any] = {k: draw(IDS) for k in chosen}
        if section == "options" and draw(st.booleans()):
            values["features"] = draw(st.lists(st.sampled_from(FEATURES), unique=True))
        if not values:
            continue
        data[section] = values
        rendered = {
            k: ("[" + ", ".join(v) + "]") if isinstance(v, list) else _scalar(v, draw(styles))
            for k, v in values.items()
        }
        if draw(st.booleans()):
            lines.append(
                f"{section}: {{" + ", ".join(f"{k}: {v}" for k, v in rendered.items()) + "}"
            )
        else:
            indent = draw(st.sampled_from(["  ", "    "]))
            lines.append(f"{section}:{draw(comment)}")
            if draw(st.booleans()):
                lines.append(f"{indent}# a comment line")
            lines += [f"{indent}{k}: {v}{draw(comment)}" for k, v in rendered.items()]
    lines.append("# the end")
    new: dict[str, Any] = {"name": "car"}
    for key in TOP:
        if key in data or draw(st.booleans()):
            new[key] = draw(IDS) if draw(st.booleans()) or key not in data else data[key]
    for section, keys in (("modules", MODULES), ("options", OPTIONS)):
        old_section = data.get(section, {})
        new_section = {
            k: draw(IDS) if draw(st.booleans()) or k not in old_section else old_section[k]
            for k in keys
            if k in old_section or draw(st.booleans())
        }
        if section == "options" and ("features" in old_section or draw(st.booleans())):
            new_section["features"] = draw(st.lists(st.sampled_from(FEATURES), unique=True))
        if new_section:
            new[section] = new_section
    return "\n".join(lines) + "\n", data, new


def _normal(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _normal(v) for k, v in data.items()}
    if isinstance(data, list):
        return sorted(data)
    return data


@given(documents())
def test_any_layout_reads_back_as_the_new_values(
    case: tuple[str, dict[str, Any], dict[str, Any]],
) -> None:
    """Oracle: the edited text parses to exactly the new data; every comment line stays; a
    line whose key kept its value is unchanged."""
    text, old, new = case
    doc = parse_text(text, "f.yaml")
    assert to_plain(doc.root) == old
    out = edit_config(doc, old, new)
    assert _normal(to_plain(parse_text(out, "f.yaml").root)) == _normal(new)
    comment_lines = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in out.splitlines() if line.lstrip().startswith("#")] == comment_lines
    unchanged = [
        line
        for line in text.splitlines()
        if ":" in line
        and not line.startswith(("modules", "options"))
        and line.split(":")[0].strip() in {k for k, v in old.items() if new.get(k) == v}
    ]
    for line in unchanged:
        assert line in out.splitlines()
    if old == new:
        assert out == text
