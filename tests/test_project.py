"""Project discovery, the catalog and rules every report names, and `init`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cmf_config.cli import main

ROOT = Path(__file__).parents[1]
MINI = ROOT / "tests" / "data" / "mini"


def run_in(
    cwd: Path, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `cmf-config ARGS` run in `cwd`."""
    monkeypatch.chdir(cwd)
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with its own (mini) catalog and rules, and a cmf-config.toml."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(MINI / "catalog", tmp_path / "data" / "catalog")
    shutil.copytree(MINI / "rules", tmp_path / "data" / "rules")
    shutil.copytree(MINI / "configs", tmp_path / "configs")
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "cmf-config.toml").write_text(
        'catalog = "data/catalog"\nrules = "data/rules"\n', encoding="utf-8"
    )
    return tmp_path


def test_project_catalog_is_used_not_the_bundled_one(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: in a repository with its own data, validate checked the bundled demo catalog.

    examples/sedan.yaml is valid for the bundled catalog; against the project's it names
    unknown ids (exit 2), and the project's broken file breaks the project's rules (exit 1).
    """
    sedan = str(ROOT / "examples" / "sedan.yaml")
    code, out, _ = run_in(repo / "sub" / "deeper", ["validate", sedan], capsys, monkeypatch)
    assert code == 2, out
    assert out.splitlines()[0] == (
        "catalog: ../../data/catalog/, rules: ../../data/rules/ (from ../../cmf-config.toml)"
    )
    code, out, _ = run_in(repo, ["validate", "configs/broken-rules.yaml"], capsys, monkeypatch)
    assert code == 1, out
    assert (
        out.splitlines()[0] == "catalog: data/catalog/, rules: data/rules/ (from cmf-config.toml)"
    )


def test_json_reports_carry_the_sources(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """JSON: {"sources": {"project", "catalog": {"path", "source"}, "rules": {...}}}."""
    code, out, _ = run_in(
        repo,
        ["validate", "configs/good.yaml", "--format", "json", "--rules", str(MINI / "rules")],
        capsys,
        monkeypatch,
    )
    assert code == 0
    assert json.loads(out)["sources"] == {
        "project": "cmf-config.toml",
        "catalog": {"path": "data/catalog", "source": "project"},
        "rules": {"path": str(MINI / "rules"), "source": "option"},
    }
    code, out, _ = run_in(repo, ["catalog", "list", "--format", "json"], capsys, monkeypatch)
    assert json.loads(out)["sources"] == {
        "project": "cmf-config.toml",
        "catalog": {"path": "data/catalog", "source": "project"},
    }


def test_options_override_the_project(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--catalog and --rules win over the project file, and the line says so."""
    code, out, _ = run_in(
        repo,
        [
            "validate",
            str(ROOT / "examples" / "sedan.yaml"),
            "--catalog",
            str(ROOT / "catalog"),
            "--rules",
            str(ROOT / "rules"),
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, out
    assert "(from --catalog)" in out.splitlines()[0]
    assert "(from --rules)" in out.splitlines()[0]


def test_bundled_only_without_a_project_and_it_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No project up to the repository root: the bundled data, named as such (text and JSON)."""
    (tmp_path / ".git").mkdir()
    sedan = str(ROOT / "examples" / "sedan.yaml")
    code, out, _ = run_in(tmp_path, ["validate", sedan], capsys, monkeypatch)
    assert code == 0
    assert out.startswith("catalog: the bundled demo catalog and rules (no cmf-config.toml")
    code, out, _ = run_in(tmp_path, ["validate", sedan, "--format", "json"], capsys, monkeypatch)
    sources = json.loads(out)["sources"]
    assert sources["project"] is None
    assert sources["catalog"]["source"] == sources["rules"]["source"] == "bundled"
    # An unused catalog/ folder in the working directory is called out.
    shutil.copytree(MINI / "catalog", tmp_path / "catalog")
    _, out, _ = run_in(tmp_path, ["validate", sedan], capsys, monkeypatch)
    assert "the catalog/ folder here is NOT used" in out.splitlines()[0]


def test_pyproject_table_and_precedence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """[tool.cmf-config] in pyproject.toml; a pyproject without it is skipped; cmf-config.toml
    beats pyproject.toml in the same folder; the walk stops at the repository root."""
    outer = tmp_path / "outer"
    inner = outer / "repo"
    (inner / "pkg").mkdir(parents=True)
    shutil.copytree(MINI / "catalog", inner / "cat")
    shutil.copytree(MINI / "rules", inner / "rul")
    (inner / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.cmf-config]\ncatalog = "cat"\nrules = "rul"\nformat = "json"\n',
        encoding="utf-8",
    )
    (inner / "pkg" / "pyproject.toml").write_text('[project]\nname = "y"\n', encoding="utf-8")
    code, out, _ = run_in(inner / "pkg", ["count"], capsys, monkeypatch)
    assert code == 0
    document = json.loads(out)  # the project's default format
    assert document["sources"]["project"] == "../pyproject.toml"
    assert document["count"] > 0
    code, out, _ = run_in(inner / "pkg", ["count", "--format", "text"], capsys, monkeypatch)
    assert (
        out.splitlines()[0]
        == "catalog: ../cat/, rules: ../rul/ (from ../pyproject.toml [tool.cmf-config])"
    )
    # cmf-config.toml in the same folder wins.
    (inner / "cmf-config.toml").write_text('catalog = "cat"\nrules = "rul"\n', encoding="utf-8")
    code, out, _ = run_in(inner, ["count"], capsys, monkeypatch)
    assert out.splitlines()[0] == "catalog: cat/, rules: rul/ (from cmf-config.toml)"
    # A repository root ends the walk: the project above it is not used.
    (outer / "cmf-config.toml").write_text('catalog = "nowhere"\n', encoding="utf-8")
    (inner / "cmf-config.toml").unlink()
    (inner / "pyproject.toml").unlink()
    (inner / ".git").mkdir()
    code, out, _ = run_in(inner / "pkg", ["count"], capsys, monkeypatch)
    assert code == 0
    assert out.startswith("catalog: the bundled demo catalog and rules")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'catalog = "data/catalog"\nrule = "data/rules"\n',
            "cmf-config.toml:2:1: error E011: unknown key 'rule' in [cmf-config.toml]; did you mean 'rules'?",
        ),
        (
            'catalog = "data/catalog"\nrules = "data/rules"\nformat = "jsn"\n',
            "cmf-config.toml:3:10: error E012: 'format' must be one of text, json, sarif, github, not 'jsn'; did you mean 'json'?",
        ),
        (
            'catalog = 3\nrules = "data/rules"\n',
            "cmf-config.toml:1:11: error E012: 'catalog' must be a folder path (a string), not a number",
        ),
        (
            'catalog = "data/catalog"\nrules = "data/rules"\nignore = ["l203"]\n',
            "cmf-config.toml:3:10: error E012: 'l203' is not a finding code (a capital letter and three digits, such as L203)",
        ),
        (
            'catalog = "data/catalog"\nrules = "data/rules\n',
            "cmf-config.toml:2:20: error E010: TOML syntax error: Illegal character '\\n'",
        ),
        (
            'catalog = "data/katalog"\nrules = "data/rules"\n',
            "cmf-config.toml:1:11: error E013: the catalog folder 'data/katalog' named here does not exist",
        ),
    ],
)
def test_project_file_errors_are_positioned(
    repo: Path,
    text: str,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each mistake in the project file: file:line:column, a did-you-mean where one fits, exit 2."""
    (repo / "cmf-config.toml").write_text(text, encoding="utf-8")
    code, out, err = run_in(repo, ["validate", "configs/good.yaml"], capsys, monkeypatch)
    assert code == 2
    assert out == ""
    assert err.splitlines()[0] == expected
    assert "  hint: " in err


def test_pyproject_errors_name_the_table_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positions in pyproject.toml count from the file's first line, inside [tool.cmf-config]."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ncatalog = 1\n\n[tool.cmf-config]\n  catalgo = "c"\n',
        encoding="utf-8",
    )
    code, _, err = run_in(tmp_path, ["lint"], capsys, monkeypatch)
    assert code == 2
    assert err.startswith(
        "pyproject.toml:6:3: error E011: unknown key 'catalgo' in [tool.cmf-config]; did you mean 'catalog'?"
    )


@pytest.mark.parametrize("content", [None, "rules: []\n"])
def test_empty_or_missing_rules_folder_is_an_error(
    repo: Path,
    content: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: with an empty rules folder a broken configuration was 'valid' (exit 0)."""
    empty = repo / "empty-rules"
    empty.mkdir()
    if content is not None:
        (empty / "none.yaml").write_text(content, encoding="utf-8")
    code, out, _ = run_in(
        repo,
        ["validate", "configs/broken-rules.yaml", "--rules", "empty-rules"],
        capsys,
        monkeypatch,
    )
    assert code == 2
    assert "empty-rules: error E002: the rules folder holds" in out
    assert "nothing would be checked" in out
    code, out, err = run_in(repo, ["lint", "--rules", "missing"], capsys, monkeypatch)
    assert code == 2
    assert "missing: error E001: the rules directory does not exist" in err


def test_lint_ignores_the_project_codes(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ignore` in the project file leaves those lint codes out (the mini catalog has one L201)."""
    code, out, _ = run_in(repo, ["lint"], capsys, monkeypatch)
    assert code == 1
    assert " L201 vacuous: " in out
    with (repo / "cmf-config.toml").open("a", encoding="utf-8") as handle:
        handle.write('ignore = ["L201"]\n')
    code, out, _ = run_in(repo, ["lint"], capsys, monkeypatch)
    assert code == 0, out
    assert out.splitlines()[-1].endswith("; ignored codes: L201)")


def test_init_scaffolds_a_working_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """init writes a project whose example validates and whose data lints clean, from inside it;
    a second init refuses and changes nothing."""
    code, out, _ = run_in(tmp_path, ["init", "proj"], capsys, monkeypatch)
    assert code == 0, out
    proj = tmp_path / "proj"
    for name in (
        "cmf-config.toml",
        "catalog/kinds.yaml",
        "rules/platform.yaml",
        "schemas/vehicle.schema.json",
        ".pre-commit-config.yaml",
    ):
        assert (proj / name).is_file(), name
    example = (proj / "configs" / "example.yaml").read_text(encoding="utf-8")
    assert example.startswith("# yaml-language-server: $schema=../schemas/vehicle.schema.json\n")
    assert "cmf-config-validate" in (proj / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    code, out, _ = run_in(proj, ["validate", "configs/example.yaml"], capsys, monkeypatch)
    assert (code, out) == (
        0,
        "catalog: catalog/, rules: rules/ (from cmf-config.toml)\nconfigs/example.yaml: valid\n",
    )
    code, out, _ = run_in(proj, ["lint"], capsys, monkeypatch)
    assert code == 0, out
    before = {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()}
    (proj / "cmf-config.toml").write_text('catalog = "catalog"\nrules = "rules"\n# mine\n')
    before[proj / "cmf-config.toml"] = (proj / "cmf-config.toml").read_bytes()
    code, _, err = run_in(tmp_path, ["init", "proj"], capsys, monkeypatch)
    assert code == 2
    assert err.startswith("cmf-config: error: init would overwrite proj/cmf-config.toml")
    assert {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()} == before


def test_init_keeps_an_existing_pre_commit_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing .pre-commit-config.yaml is left alone; the hooks to add are printed."""
    mine = "repos: []  # mine\n"
    (tmp_path / ".pre-commit-config.yaml").write_text(mine, encoding="utf-8")
    code, out, _ = run_in(tmp_path, ["init"], capsys, monkeypatch)
    assert code == 0
    assert (tmp_path / ".pre-commit-config.yaml").read_text(encoding="utf-8") == mine
    assert "left .pre-commit-config.yaml as it is; add these hooks to it:" in out
    assert "id: cmf-config-lint" in out
