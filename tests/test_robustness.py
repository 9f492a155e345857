"""Regression tests of issue 14: what a user gives never crashes, hangs, destroys or miscounts.

One test (or a few) per defect of the adversarial run, each failing before its fix. Special
files (device nodes) need root to create; those tests are skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from pathlib import Path

import pytest

from clirun import ROOT, run_cli
from cmf_config.rules import IR, Op, Ref

MINI = ["--catalog", "tests/data/mini/catalog", "--rules", "tests/data/mini/rules"]
GOOD = "tests/data/mini/configs/good.yaml"
PARTIAL = "tests/data/mini/configs/partial.yaml"
ROOT_ONLY = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod needs root"
)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, list(args))


def _mini_copy(tmp_path: Path) -> Path:
    """A writable copy of the mini catalog."""
    shutil.copytree(ROOT / "tests/data/mini/catalog", tmp_path / "catalog")
    return tmp_path / "catalog"


def _no_bug(code: int, err: str) -> None:
    assert code in (0, 1, 2), err
    assert "internal error" not in err
    assert "Traceback" not in err


# ------------------------------------------------------------------ 1: -o and special files


def test_output_through_a_symlink_writes_its_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "target.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", str(link))
    assert code == 0, err
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert "Alpha test car" in target.read_text()


def test_output_through_a_relative_symlink_chain(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "real.txt").write_text("old\n")
    (tmp_path / "a").symlink_to("sub/real.txt")
    (tmp_path / "b").symlink_to("a")
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", str(tmp_path / "b"))
    assert code == 0, err
    assert (tmp_path / "b").is_symlink()
    assert (tmp_path / "a").is_symlink()
    assert "Alpha test car" in (tmp_path / "sub" / "real.txt").read_text()


@ROOT_ONLY
def test_output_to_a_device_writes_into_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", str(device))
    assert code == 0, err
    assert stat.S_ISCHR(device.stat().st_mode), "the device node was replaced by a file"


@ROOT_ONLY
def test_output_to_a_full_device_is_exit_2_and_keeps_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    device = tmp_path / "full"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", str(device))
    assert code == 2, err
    assert str(device) in err
    assert "No space left" in err
    assert stat.S_ISCHR(device.stat().st_mode)


def test_output_to_a_fifo_writes_into_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", str(fifo))
    reader.join(timeout=20)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert b"Alpha test car" in got[0]


def test_output_dash_is_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _cli(capsys, "build", GOOD, *MINI, "-o", "-")
    assert code == 0, err
    assert "Alpha test car" in out
    assert not (ROOT / "-").exists()


# ------------------------------------------------------------------ 2: OSError is exit 2


@pytest.mark.parametrize("where", ["folder", "empty", "missing-folder"])
def test_output_errors_are_exit_2_naming_the_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    target = {"folder": str(tmp_path), "empty": "", "missing-folder": str(tmp_path / "no" / "x")}[
        where
    ]
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", target)
    assert code == 2, err
    _no_bug(code, err)
    assert "cannot write" in err
    assert "hint:" in err


def test_output_to_a_read_only_folder_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    out = tmp_path / "bom.txt"
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", str(out))
    assert code == 2, err
    assert f"cannot write '{out}': Permission denied" in err
    assert not out.exists()


def test_heatmap_into_a_missing_folder_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _cli(
        capsys,
        "share",
        "--bom-table",
        "tests/data/bom/trio.csv",
        "--heatmap",
        str(tmp_path / "missing" / "h.png"),
    )
    _no_bug(code, err)
    assert code == 2, err
    assert "does not exist" in err


def test_a_failed_write_leaves_the_old_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "bom.txt"
    out.write_text("keep me\n")

    def no_space(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", no_space)
    code, _, err = _cli(capsys, "build", GOOD, *MINI, "-o", str(out))
    assert code == 2, err
    assert "No space left on device" in err
    assert out.read_text() == "keep me\n"
    assert [p.name for p in tmp_path.iterdir()] == ["bom.txt"]


# ------------------------------------------------------------------ 3: special files as input


@ROOT_ONLY
def test_validate_a_zero_device_stops_at_the_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    zero = tmp_path / "zero"
    os.mknod(zero, 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    code, out, err = _cli(capsys, "validate", str(zero), *MINI)
    assert code == 2, err
    assert "too large" in out + err


@ROOT_ONLY
def test_bom_table_from_a_zero_device_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    zero = tmp_path / "zero"
    os.mknod(zero, 0o666 | stat.S_IFCHR, os.makedev(1, 5))
    code, _, err = _cli(capsys, "share", "--bom-table", str(zero))
    assert code == 2, err
    assert "too large" in err


@pytest.mark.parametrize(
    "command", [["validate"], ["model", "count"], ["import"], ["share", "--bom-table"]]
)
def test_a_fifo_without_writer_does_not_hang(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done: list[tuple[int, str, str]] = []
    worker = threading.Thread(target=lambda: done.append(_cli(capsys, *command, str(fifo))))
    worker.start()
    worker.join(timeout=30)
    if not done:  # unblock the reader so the test process can end, then fail
        with fifo.open("w"):
            pass
        worker.join()
        pytest.fail("reading a FIFO without a writer hung")
    code, out, err = done[0]
    assert code == 2, err
    assert "empty" in out + err


def test_reading_is_bounded_by_bytes_read_not_st_size(tmp_path: Path) -> None:
    from cmf_config.files import TooLarge, read_bounded

    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_bounded(path, 100) == b"x" * 100
    with pytest.raises(TooLarge):
        read_bounded(path, 99)


# ------------------------------------------------------------------ 11: symlinks as input


def test_symlink_loop_as_input_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    code, out, err = _cli(capsys, "validate", str(tmp_path / "a.yaml"), *MINI)
    _no_bug(code, err)
    assert code == 2
    assert "a.yaml:1:1" in out
    assert "symlink loop" in out


def test_symlink_loop_as_catalog_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "c1").symlink_to(tmp_path / "c2")
    (tmp_path / "c2").symlink_to(tmp_path / "c1")
    code, _out, err = _cli(capsys, "validate", GOOD, "--catalog", str(tmp_path / "c1"))
    _no_bug(code, err)
    assert code == 2


def test_dangling_symlink_names_the_given_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "given.yaml").symlink_to(tmp_path / "nowhere.yaml")
    code, out, _ = _cli(capsys, "validate", str(tmp_path / "given.yaml"), *MINI)
    assert code == 2
    assert f"\n{tmp_path / 'given.yaml'}:1:1:" in out
    assert "symlink to" in out


# ------------------------------------------------------------------ 4 and 15: catalog checks


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "options.yaml",
            "  - {id: tow_bar, name: Tow bar}",
            "  - {id: tow_bar, name: Tow bar}\n  - {id: tow_bar, name: Tow bar}",
            "options.yaml:14:10: error E210: feature 'tow_bar' is listed twice",
        ),
        (
            "options.yaml",
            "segments: [B, C]",
            "segments: [B, C, B]",
            "options.yaml:1:18: error E210: segment 'B' is listed twice",
        ),
        (
            "options.yaml",
            "battery_kwh: [0, 40]",
            "battery_kwh: [0, 40, 40.0]",
            "error E210: battery_kwh value '40.0' is listed twice",
        ),
        (
            "platforms.yaml",
            "modules: [ec-ice, ck-lhd,",
            "modules: [ec-ice, ck-lhd, ec-ice,",
            "platforms.yaml:7:31: error E210: platform 'plat-ice': module 'ec-ice' is listed twice",
        ),
        (
            "platforms.yaml",
            "    max_mass_kg: 100",
            "    max_mass_kg: -1",
            "error E203: platform 'plat-ev': max_mass_kg must be zero or more, not -1",
        ),
        (
            "platforms.yaml",
            "    max_mass_kg: 100",
            "    max_mass_kg: 100\n    battery_kwh: {min: 90, max: 10}",
            "error E203: platform 'plat-ev': the battery_kwh range is inverted (min 90 > max 10)",
        ),
        (
            "options.yaml",
            "  - {id: tow_bar, name: Tow bar}",
            '  - {id: "tow\\u200bbar", name: Tow bar}',
            "feature id 'tow\u200bbar' contains the invisible character U+200B (ZERO WIDTH SPACE)",
        ),
    ],
)
def test_catalog_mistakes_are_positioned_errors(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    file: str,
    old: str,
    new: str,
    expected: str,
) -> None:
    catalog = _mini_copy(tmp_path)
    _edit(catalog / file, old, new)
    code, _, err = _cli(
        capsys, "count", "--catalog", str(catalog), "--rules", "tests/data/mini/rules"
    )
    assert code == 2, err
    assert expected in err


def test_duplicate_feature_no_longer_doubles_the_count(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The adversarial run: a second tow_bar doubled `count`; now it is refused."""
    code, out, _ = _cli(capsys, "count", *MINI)
    assert code == 0
    catalog = _mini_copy(tmp_path)
    _edit(
        catalog / "options.yaml",
        "  - {id: tow_bar, name: Tow bar}",
        "  - {id: tow_bar, name: Tow bar}\n  - {id: tow_bar, name: Tow bar}",
    )
    code, out, _ = _cli(
        capsys, "count", "--catalog", str(catalog), "--rules", "tests/data/mini/rules"
    )
    assert code == 2
    assert out == ""


def test_invisible_character_in_a_rule_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "tests/data/mini/rules", rules)
    _edit(rules / "basic.yaml", "- id: bev-has-battery", '- id: "bev-has\\u200b-battery"')
    code, _, err = _cli(
        capsys, "count", "--catalog", "tests/data/mini/catalog", "--rules", str(rules)
    )
    assert code == 2
    assert "basic.yaml:16:9: error E203: the rule id" in err
    assert "U+200B" in err


# ------------------------------------------------------------------ 15: configurations


def _config(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "car.yaml"
    path.write_text((ROOT / GOOD).read_text())
    _edit(path, old, new)
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "brand: alpha",
            "brand: alpha\n__span__: 3",
            "car.yaml:3:1: error E201: unknown key '__span__'",
        ),
        (
            "  drive: fwd",
            "  drive: fwd\n  __fields__: {}",
            "car.yaml:17:3: error E201: unknown key '__fields__'",
        ),
        (  # written with escapes: the text does not hold the name (regression guard)
            "brand: alpha",
            'brand: alpha\n"\\x5f_sp\\x61n__": 3',
            "car.yaml:3:1: error E201: unknown key '__span__'",
        ),
        (
            "brand: alpha",
            "brand: alpha\nstatus: bogus",
            "car.yaml:3:9: error E203: unknown status 'bogus'",
        ),
    ],
)
def test_reserved_keys_and_bad_status_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, old: str, new: str, expected: str
) -> None:
    code, out, _ = _cli(capsys, "validate", str(_config(tmp_path, old, new)), *MINI)
    assert code == 2
    assert expected in out


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
def test_wide_encodings_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "car.yaml"
    path.write_bytes((ROOT / GOOD).read_text().encode(encoding))
    code, out, _ = _cli(capsys, "validate", str(path), *MINI)
    assert code == 2
    assert f"is {encoding[:6].upper()} text, not UTF-8" in out
    assert "save it as UTF-8" in out
    assert "\x00" not in out


@pytest.mark.parametrize("number", ["1_000", "\u0661\u0662", "\uff11\uff12", "1\u00a0000"])
def test_csv_numbers_are_plain_ascii(tmp_path: Path, number: str) -> None:
    from cmf_config.bomtable import parse_bom_table
    from cmf_config.errors import InputError

    data = f"product,part,quantity\nV1,a,{number}\nV2,a,1\n".encode()
    with pytest.raises(InputError) as caught:
        parse_bom_table(data, path="t.csv")
    assert [(d.span.line, d.code) for d in caught.value.diagnostics] == [(2, "E158")]


# ------------------------------------------------------------------ 12: one problem, one error


def test_wrong_typed_part_field_is_not_also_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _config(
        tmp_path,
        "  features: []",
        "  features: []\nextra_parts:\n  - {part: X-1, name: Bolt, quantity: two, unit_cost: 1.0, unit_mass_kg: 0.1}",
    )
    code, out, _ = _cli(capsys, "validate", str(path), *MINI)
    assert code == 2
    assert "wrong type for 'quantity'" in out
    assert "missing key" not in out


# ------------------------------------------------------------------ 10: huge numbers


@pytest.mark.parametrize("digits", [40, 400, 5000])
@pytest.mark.parametrize("field", ["wheelbase", "quantity"])
def test_huge_integers_are_positioned_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, digits: int, field: str
) -> None:
    big = "9" * digits
    if field == "wheelbase":
        path = _config(tmp_path, "wheelbase_mm: 2600", f"wheelbase_mm: {big}")
    else:
        path = _config(
            tmp_path,
            "  features: []",
            f"  features: []\nextra_parts:\n  - {{part: X-1, name: Bolt, quantity: {big}, unit_cost: 1.0, unit_mass_kg: 0.1}}",
        )
    code, out, err = _cli(capsys, "build", str(path), *MINI)
    _no_bug(code, err)
    assert code == 2
    assert "car.yaml:" in err + out
    assert "E203" in err + out


# ------------------------------------------------------------------ 7: long flat chains


def _rules_with(tmp_path: Path, constraint: str) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yaml").write_text(
        f'rules:\n  - id: long\n    description: long\n    constraint: "{constraint}"\n'
    )
    return rules


@pytest.mark.parametrize(
    "constraint",
    [
        " and ".join(["not tow_bar"] * 600) + " or true",
        " or ".join(["tow_bar"] * 600) + " or true",
        " + ".join(["wheelbase_mm"] * 3000) + " > 0",
    ],
)
def test_long_flat_chains_in_rules_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, constraint: str
) -> None:
    rules = _rules_with(tmp_path, constraint)
    for command in (["validate", GOOD], ["count"]):
        code, _, err = _cli(
            capsys, *command, "--catalog", "tests/data/mini/catalog", "--rules", str(rules)
        )
        _no_bug(code, err)
        assert code == 0, err


@pytest.mark.parametrize("op", ["<=>", "=>", "-", "*"])
def test_long_nesting_chains_in_rules_are_positioned_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, op: str
) -> None:
    term = "wheelbase_mm" if op in "-*" else "tow_bar"
    chain = f" {op} ".join([term] * 500) + (" > 0" if op in "-*" else "")
    rules = _rules_with(tmp_path, chain)
    code, _, err = _cli(
        capsys, "count", "--catalog", "tests/data/mini/catalog", "--rules", str(rules)
    )
    _no_bug(code, err)
    assert code == 2
    assert "r.yaml:4:" in err
    assert "nested" in err


@pytest.mark.parametrize("op", ["=>", "<=>"])
def test_long_uvl_chains_are_positioned_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, op: str
) -> None:
    names = [f"F{i}" for i in range(400)]
    path = tmp_path / "chain.uvl"
    path.write_text(
        "features\n    Root\n        optional\n"
        + "".join(f"            {n}\n" for n in names)
        + "constraints\n    "
        + f" {op} ".join(names)
        + "\n"
    )
    code, _, err = _cli(capsys, "model", "count", str(path))
    _no_bug(code, err)
    assert code == 2
    assert "chain.uvl:405:" in err
    assert f"more than 200 '{op}' in a row" in err


def test_uvl_chain_within_the_bound_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    names = [f"F{i}" for i in range(150)]
    path = tmp_path / "chain.uvl"
    path.write_text(
        "features\n    Root\n        optional\n"
        + "".join(f"            {n}\n" for n in names)
        + "constraints\n    "
        + " => ".join(names)
        + "\n"
    )
    code, out, err = _cli(capsys, "model", "count", str(path), "--format", "json")
    assert code == 0, err
    assert '"count"' in out


# ------------------------------------------------------------------ 5: DIMACS strictness


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "p cnf 3 5\n1 2 0\n-1 3 0\n",
            ":1:1:",
            "the header declares 5 clauses but the file holds 2",
        ),
        (
            "p cnf 3 1\n1 2 0\n-1 3 0\n",
            ":1:1:",
            "the header declares 1 clauses but the file holds 2",
        ),
        ("p cnf 3 2\n1 2 0\n-1 3", ":3:1:", "the last clause does not end with 0"),
        ("p cnf 3 2\n1 2 0\n-1\n3\n", ":3:1:", "the last clause does not end with 0"),
        ("p cnf 3 2\n1 2 -0\n-1 3 0\n", ":2:5:", "'-0' is not a literal"),
        ("p cnf 3 2\n1 -0 2 0\n-1 3 0\n", ":2:3:", "'-0' is not a literal"),
    ],
)
def test_dimacs_cut_or_miscounted_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = tmp_path / "m.dimacs"
    path.write_text(text)
    code, out, err = _cli(capsys, "model", "count", str(path))
    assert code == 2, out
    assert f"m.dimacs{where} error E170: {message}" in err
    code, out, err = _cli(capsys, "import", str(path))
    assert code == 2
    assert message in err


def test_dimacs_clause_over_lines_still_reads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "m.dimacs"
    path.write_text("c 1 a\np cnf 3 2\n1 2\n 0\n-1\n 3 0\n")
    code, out, err = _cli(capsys, "model", "count", str(path))
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "4"


# ------------------------------------------------------------------ 9: sharing with a partial vehicle


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (PARTIAL, "it is a partial configuration (open:"),
        ("tests/data/mini/configs/broken-rules.yaml", "it breaks the rules"),
    ],
)
def test_maximize_sharing_with_a_partial_or_invalid_vehicle_is_exit_2(
    capsys: pytest.CaptureFixture[str], reference: str, message: str
) -> None:
    code, _, err = _cli(capsys, "complete", PARTIAL, "--maximize-sharing-with", reference, *MINI)
    _no_bug(code, err)
    assert code == 2
    assert f"cannot maximize sharing with '{reference}': {message}" in err


def test_maximize_sharing_with_a_complete_vehicle_still_works(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _cli(
        capsys, "complete", PARTIAL, "--maximize-sharing-with", GOOD, "--format", "json", *MINI
    )
    assert code == 0, err
    assert '"objective": "sharing"' in out


# ------------------------------------------------------------------ 13: JSON is always JSON


def test_json_output_never_holds_infinity_or_nan() -> None:
    from cmf_config.report import to_json

    text = to_json({"cost": float("inf"), "ratios": [float("nan"), 0.5], "n": 3})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON")) == {
        "cost": None,
        "ratios": [None, 0.5],
        "n": 3,
    }


def test_huge_costs_are_refused_not_summed_to_infinity(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _config(
        tmp_path,
        "  features: []",
        "  features: []\nextra_parts:\n"
        "  - {part: X-1, name: Bolt, quantity: 1000, unit_cost: 1.0e308, unit_mass_kg: 0.1}\n"
        "  - {part: X-2, name: Nut, quantity: 1000, unit_cost: 1.0e308, unit_mass_kg: 0.1}",
    )
    code, out, err = _cli(capsys, "build", str(path), "--format", "json", *MINI)
    _no_bug(code, err)
    assert code == 2
    assert "Infinity" not in out
    found = json.loads(out)["files"][0]["diagnostics"]
    assert [(d["line"], d["code"]) for d in found] == [(21, "E203"), (22, "E203")]


# ------------------------------------------------------------------ 14: the size message


def test_many_plain_values_are_not_called_an_alias_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    from cmf_config import source
    from cmf_config.errors import InputError

    monkeypatch.setattr(source, "MAX_NODES", 50)
    plain = "items:\n" + "".join(f"  - {{part: P{i}, quantity: 1}}\n" for i in range(40))
    with pytest.raises(InputError) as caught:
        source.parse_text(plain, "plain.yaml")
    message = caught.value.diagnostics[0].message
    assert "holds more than 50 values" in message
    assert "alias" not in message
    assert "split it" in (caught.value.diagnostics[0].hint or "")

    bomb = "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    with pytest.raises(InputError) as caught:
        source.parse_text(bomb, "bomb.yaml")
    assert "through its aliases" in caught.value.diagnostics[0].message


# ------------------------------------------------------------------ 15: a sentence, not nothing


def test_enumerate_without_result_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(
        capsys, "enumerate", "tests/data/mini/configs/partial-impossible.yaml", *MINI
    )
    assert code == 1
    assert "no valid configuration: the given choices leave none" in out


def test_options_on_a_complete_configuration_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "options", GOOD, *MINI)
    assert code == 0
    assert "no open slot: every slot of the configuration is chosen" in out


# ------------------------------------------------------------------ 6: counts past 4,300 digits


def test_counts_over_4300_digits_are_printed_exactly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "free.dimacs"
    path.write_text("p cnf 15000 0\n")
    code, out, err = _cli(capsys, "model", "count", str(path))
    assert code == 0, err
    digits = out.strip().splitlines()[-1]
    assert len(digits) == 4516
    assert digits == str(2**15000)
    code, out, err = _cli(capsys, "import", str(path), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["count"] == digits


def test_import_does_not_call_a_crashed_count_a_time_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmf_config.featuremodel import FeatureAnalysis

    def broken(self: object, selection: object = None) -> int:
        raise ValueError("boom")

    monkeypatch.setattr(FeatureAnalysis, "count", broken)
    path = tmp_path / "m.dimacs"
    path.write_text("p cnf 3 1\n1 2 0\n")
    code, out, err = _cli(capsys, "import", str(path))
    assert code == 3
    assert "the model counter failed: ValueError: boom" in err
    assert "not counted within" not in out


def test_long_numbers_in_models_are_refused_before_int(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "m.dimacs"
    path.write_text("p cnf 3 1\n1 " + "9" * 5000 + " 0\n")
    code, _, err = _cli(capsys, "model", "count", str(path))
    _no_bug(code, err)
    assert code == 2
    assert "m.dimacs:2:3:" in err
    uvl = tmp_path / "m.uvl"
    uvl.write_text(
        "features\n    Root\n        [1.." + "9" * 5000 + "]\n            A\n            B\n"
    )
    code, _, err = _cli(capsys, "model", "count", str(uvl))
    _no_bug(code, err)
    assert code == 2
    assert "m.uvl:3:" in err


# ------------------------------------------------------------------ 8: <=> chains in linear work


def _iff_chain(names: list[str]) -> IR:
    formula: IR = Ref(names[0])
    for name in names[1:]:
        formula = Op("<=>", (formula, Ref(name)))
    return formula


@pytest.mark.parametrize("repeat", [True, False])
def test_iff_chain_conversion_grows_linearly(repeat: bool) -> None:
    """Each (subformula, polarity) is converted once: 2n steps for n terms, not 2^n."""
    from cmf_config.featuremodel import _CnfBuilder

    steps = {}
    for n in (12, 24, 48):
        names = ["A"] * n if repeat else [f"F{i}" for i in range(n)]
        builder = _CnfBuilder({name: i + 1 for i, name in enumerate(dict.fromkeys(names))})
        builder.convert(_iff_chain(names), True)
        steps[n] = builder.steps
    assert steps[48] <= 2 * steps[24] + 4
    assert steps[24] <= 2 * steps[12] + 4
    assert steps[48] <= 4 * 48


def test_iff_chain_of_one_feature_counts_like_the_oracle(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The adversarial case: 24 times the same feature (each operand's CNF stays small)."""
    for n in (23, 24):
        path = tmp_path / f"iff{n}.uvl"
        path.write_text(
            "features\n    Root\n        optional\n            A\n            B\nconstraints\n    "
            + " <=> ".join(["A"] * n)
            + "\n"
        )
        code, out, err = _cli(capsys, "model", "count", str(path))
        assert code == 0, err
        # A <=> A <=> ... (n times) is A when n is odd, true when n is even; B is free.
        assert out.strip().splitlines()[-1] == ("2" if n % 2 else "4")


# ------------------------------------------------------------------ found by the fuzzer


def test_a_table_of_one_product_names_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "t.csv"
    table.write_text("product,part,quantity\nV1,a,1\n")
    code, _, err = _cli(capsys, "share", "--bom-table", str(table))
    assert code == 2
    assert f"the table '{table}' holds 1 product; a fleet needs at least two" in err
