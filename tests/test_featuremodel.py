"""Feature models as the engine's problem: counts, core/dead and explanations agree with brute force.

Random feature models are written as UVL text, read back, compiled, and every answer is checked
against a brute-force reading of the *generated* tree (not of our parse), so the parser, the
rules and the direct clauses are all under test. The shared real-world models give the
published counts and core/dead numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.count import count_models, normalise_clauses, small_count
from cmf_config.errors import InputError
from cmf_config.featuremodel import FeatureAnalysis, compile_model, unit_implied
from cmf_config.rules import holds
from cmf_config.solver import Engine
from cmf_config.uvl import load_uvl, parse_uvl
from cmf_config.uvlexport import export_uvl, feature_model_uvl
from cmf_config.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO.parent / "shared" / "benchmarks" / "models"
SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])

# file: (count, core, dead) from models/README.md (flamapy/benchmarking models_info.py)
PUBLISHED = {
    "flamapy-benchmarking/pizzas.uvl": (42, 4, 0),
    "flamapy-benchmarking/wget.uvl": (8192, 2, 0),
    "flamapy-benchmarking/GPL.uvl": (436, 5, 0),
    "flamapy-benchmarking/Truck.uvl": (234, 8, 1),
    "flamapy-benchmarking/tankwar.uvl": (1741824, 7, 0),
    "flamapy-benchmarking/mobilemedia2.uvl": (2128896, 10, 0),
    "flamapy-benchmarking/jHipster.uvl": (26256, 7, 0),
}


def shared(name: str) -> Path:
    """A shared model file, or skip when the shared folder is not beside the repository."""
    path = MODELS / name
    if not path.is_file():
        pytest.skip(f"shared model {name} is not available")
    return path


# ------------------------------------------------------------------ random feature models


@attrs.frozen
class Spec:
    """A generated feature model: groups as (parent, kind, low, high, children), constraints as clauses."""

    names: tuple[str, ...]
    groups: tuple[tuple[str, str, int, int, tuple[str, ...]], ...]
    clauses: tuple[tuple[tuple[str, bool], ...], ...]

    def text(self) -> str:
        """The model as UVL."""
        children: dict[str, list[tuple[str, int, int, tuple[str, ...]]]] = {}
        for parent, kind, low, high, kids in self.groups:
            children.setdefault(parent, []).append((kind, low, high, kids))
        lines = ["features"]

        def write(name: str, depth: int) -> None:
            lines.append("\t" * depth + name)
            for kind, low, high, kids in children.get(name, []):
                keyword = f"[{low}..{high}]" if kind == "cardinality" else kind
                lines.append("\t" * (depth + 1) + keyword)
                for kid in kids:
                    write(kid, depth + 2)

        write(self.names[0], 1)
        if self.clauses:
            lines.append("constraints")
            for clause in self.clauses:
                lines.append("\t" + " | ".join(n if v else f"!{n}" for n, v in clause))
        return "\n".join(lines) + "\n"

    def valid(self, chosen: Mapping[str, bool]) -> bool:
        """The tree and constraint semantics, read directly."""
        if not chosen[self.names[0]]:
            return False
        for parent, kind, low, high, kids in self.groups:
            on = sum(chosen[k] for k in kids)
            if any(chosen[k] and not chosen[parent] for k in kids):
                return False
            if not chosen[parent]:
                continue
            if kind == "mandatory" and on != len(kids):
                return False
            if kind == "alternative" and on != 1:
                return False
            if kind == "or" and on < 1:
                return False
            if kind == "cardinality" and not low <= on <= high:
                return False
        return all(any(chosen[n] == v for n, v in clause) for clause in self.clauses)

    def configurations(self) -> Iterator[dict[str, bool]]:
        """Every valid configuration (brute force)."""
        for values in itertools.product((False, True), repeat=len(self.names)):
            chosen = dict(zip(self.names, values, strict=True))
            if self.valid(chosen):
                yield chosen


@st.composite
def specs(draw: st.DrawFn, max_features: int = 9) -> Spec:
    """A random small feature model with every group kind and random clauses."""
    n = draw(st.integers(1, max_features))
    names = tuple(f"F{i}" for i in range(n))
    groups = []
    i = 1
    frontier = [names[0]]
    while i < n:
        parent = draw(st.sampled_from(frontier))
        size = draw(st.integers(1, min(4, n - i)))
        kids = names[i : i + size]
        i += size
        kind = draw(st.sampled_from(("mandatory", "optional", "alternative", "or", "cardinality")))
        low = draw(st.integers(0, size)) if kind == "cardinality" else 0
        high = draw(st.integers(low, size)) if kind == "cardinality" else 0
        groups.append((parent, kind, low, high, tuple(kids)))
        frontier.extend(kids)
    literal = st.tuples(st.sampled_from(names), st.booleans())
    clauses = draw(st.lists(st.lists(literal, min_size=1, max_size=3).map(tuple), max_size=3))
    return Spec(names=names, groups=tuple(groups), clauses=tuple(clauses))


def _analysis(spec: Spec) -> FeatureAnalysis:
    return FeatureAnalysis(compile_model(parse_uvl(spec.text(), "random.uvl")))


@SETTINGS
@given(specs())
def test_count_core_dead_match_brute_force(spec: Spec) -> None:
    """Count, satisfiability, core and dead features equal a direct reading of the tree."""
    configs = list(spec.configurations())
    analysis = _analysis(spec)
    assert analysis.count() == len(configs)
    assert analysis.is_satisfiable() == bool(configs)
    if configs:
        found = analysis.core_dead()
        assert set(found.core) == {n for n in spec.names if all(c[n] for c in configs)}
        assert set(found.dead) == {n for n in spec.names if not any(c[n] for c in configs)}


@SETTINGS
@given(specs())
def test_rules_mean_what_the_clauses_mean(spec: Spec) -> None:
    """The rules' formulas (rules.holds) accept exactly the valid configurations, and the
    generic engine (encode.py) counts what the direct clauses count."""
    compiled = compile_model(parse_uvl(spec.text(), "random.uvl"))
    for values in itertools.product((0, 1), repeat=len(spec.names)):
        assignment = dict(zip(spec.names, values, strict=True))
        expected = spec.valid({k: bool(v) for k, v in assignment.items()})
        assert all(holds(compiled.problem, r, assignment) for r in compiled.rules) == expected
    assert (
        Engine(compiled.problem, list(compiled.rules)).count({})
        == FeatureAnalysis(compiled).count()
    )


@SETTINGS
@given(specs(), st.data())
def test_explanations_are_minimal_conflicts(spec: Spec, data: st.DataObject) -> None:
    """An explanation's choices and rules cannot hold together; without any one of them they can."""
    selection = data.draw(st.dictionaries(st.sampled_from(spec.names), st.booleans(), max_size=4))
    compiled = compile_model(parse_uvl(spec.text(), "random.uvl"))
    analysis = FeatureAnalysis(compiled)
    consistent = any(all(c[n] == v for n, v in selection.items()) for c in spec.configurations())
    conflict = analysis.explain(selection)
    assert (conflict is None) == consistent
    if conflict is None:
        return
    rules = {r.id: r for r in compiled.rules}

    def satisfiable(choices: Sequence[str], rule_ids: Sequence[str]) -> bool:
        for values in itertools.product((0, 1), repeat=len(spec.names)):
            assignment = dict(zip(spec.names, values, strict=True))
            if all(assignment[c] == selection[c] for c in choices) and all(
                holds(compiled.problem, rules[r], assignment) for r in rule_ids
            ):
                return True
        return False

    assert not satisfiable(conflict.choices, conflict.rules)
    for i in range(len(conflict.choices)):
        assert satisfiable(conflict.choices[:i] + conflict.choices[i + 1 :], conflict.rules)
    for i in range(len(conflict.rules)):
        assert satisfiable(conflict.choices, conflict.rules[:i] + conflict.rules[i + 1 :])


@SETTINGS
@given(specs())
def test_false_optional_features_match_brute_force(spec: Spec) -> None:
    """A non-mandatory child is false-optional when every configuration with its parent has it."""
    configs = list(spec.configurations())
    if not configs:
        return
    analysis = _analysis(spec)
    dead = analysis.core_dead().dead
    expected = set()
    for parent, kind, _, _, kids in spec.groups:
        if kind == "mandatory" or parent in dead:
            continue
        for kid in kids:
            if kid not in dead and all(c[kid] for c in configs if c[parent]):
                expected.add(kid)
    assert set(analysis.false_optional(dead)) == expected


@SETTINGS
@given(specs(), st.data())
def test_counting_under_a_selection_matches_brute_force(spec: Spec, data: st.DataObject) -> None:
    """count(selection) counts the valid configurations that extend the selection."""
    selection = data.draw(st.dictionaries(st.sampled_from(spec.names), st.booleans(), max_size=3))
    want = sum(1 for c in spec.configurations() if all(c[n] == v for n, v in selection.items()))
    assert _analysis(spec).count(selection) == want


@SETTINGS
@given(specs())
def test_normalised_uvl_reads_back_to_the_same_model(spec: Spec) -> None:
    """feature_model_uvl(model) parses to a model with the same features and count."""
    model = parse_uvl(spec.text(), "random.uvl")
    again = parse_uvl(feature_model_uvl(model), "again.uvl")
    assert again.feature_names() == model.feature_names()
    assert (
        FeatureAnalysis(compile_model(again)).count()
        == FeatureAnalysis(compile_model(model)).count()
    )


@given(
    st.integers(1, 10),
    st.lists(st.lists(st.tuples(st.integers(1, 10), st.booleans()), max_size=4), max_size=25),
)
def test_small_counter_equals_d4(nvars: int, raw: list[list[tuple[int, bool]]]) -> None:
    """The in-process counter and d4 count the same CNF alike (d4 given normalised clauses:
    it can crash on a clause that repeats a literal)."""
    clauses = [[v if s else -v for v, s in clause if v <= nvars] for clause in raw]
    assert small_count(clauses, nvars) == count_models(normalise_clauses(clauses), nvars)


def test_unit_implied_follows_units_and_binary_chains() -> None:
    """Unit propagation derives level-0 facts the solver does not report."""
    assert unit_implied([[1], [-1, 2], [-2, 3], [4, 5]], []) == {1, 2, 3}
    assert unit_implied([[-1, 2], [-2, -3, 4]], [1, 3]) == {1, 2, 3, 4}


# ------------------------------------------------------------------ published values


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_small_models_give_the_published_values(name: str) -> None:
    """Counts, core and dead feature numbers equal FeatureIDE's (flamapy/benchmarking)."""
    count, core, dead = PUBLISHED[name]
    analysis = FeatureAnalysis(compile_model(load_uvl(shared(name))))
    assert analysis.count() == count
    found = analysis.core_dead()
    assert (len(found.core), len(found.dead)) == (core, dead)


def test_truck_explains_its_dead_feature() -> None:
    """Truck's dead feature is Beds2, and the reason is a conflict of rules that cites the constraints."""
    analysis = FeatureAnalysis(compile_model(load_uvl(shared("flamapy-benchmarking/Truck.uvl"))))
    report = analysis.lint()
    assert [f.feature for f in report.dead] == ["Beds2"]
    because = report.dead[0].because
    assert because is not None
    assert "constraint:54" in because.rules  # Beds2 => HighRoof
    assert [f.feature for f in report.false_optional] == ["Bed1"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("uvl", "dimacs"),
    [
        (
            "softvare-fmb/busybox-1.18.0_Knueppel2017.uvl",
            "softvare-fmb/busybox-1.18.0_Knueppel2017.dimacs",
        ),
        (
            "softvare-fmb/ecos-aaed2000_Knueppel2017.uvl",
            "softvare-fmb/ecos-aaed2000_Knueppel2017.dimacs",
        ),
        ("softvare-fmb/berkeleydb_Hierons2020.uvl", "softvare-fmb/berkeleydb_Hierons2020.dimacs"),
    ],
)
def test_uvl_and_dimacs_translations_agree(uvl: str, dimacs: str) -> None:
    """The UVL and DIMACS translations of one model have the same count, core and dead features."""
    from cmf_config.dimacs import load_dimacs

    a = FeatureAnalysis(compile_model(load_uvl(shared(uvl))))
    b = FeatureAnalysis(compile_model(load_dimacs(shared(dimacs))))
    assert a.count() == b.count()
    found_a, found_b = a.core_dead(), b.core_dead()
    assert set(found_a.core) == set(found_b.core)
    assert set(found_a.dead) == set(found_b.dead)


# ------------------------------------------------------------------ export


def _catalog_workspace() -> Workspace:
    """The bundled catalog with its rules, or the mini test catalog when that is not usable."""
    try:
        workspace, _ = Workspace.open(None, None)
        if workspace.rules and workspace.engine.is_consistent({}):
            return workspace
    except (InputError, OSError):
        pass
    mini = REPO / "tests" / "data" / "mini"
    workspace, _ = Workspace.open(mini / "catalog", mini / "rules")
    return workspace


@pytest.mark.slow
def test_export_then_import_gives_the_same_count() -> None:
    """The catalog exported as UVL, read back, has exactly the catalog's number of configurations."""
    workspace = _catalog_workspace()
    exported = export_uvl(workspace.problem, workspace.rules)
    hard = [r for r in workspace.rules if r.severity.value == "error"]
    assert len(exported.written) == len(hard), exported.skipped
    model = parse_uvl(exported.text, "export.uvl")
    assert FeatureAnalysis(compile_model(model)).count() == workspace.engine.count({})


def test_export_of_the_mini_catalog_lists_the_warning_rule_as_skipped() -> None:
    """Warning rules are advice: listed in a comment and reported, not written as constraints."""
    mini = REPO / "tests" / "data" / "mini"
    workspace, _ = Workspace.open(mini / "catalog", mini / "rules")
    exported = export_uvl(workspace.problem, workspace.rules)
    assert exported.skipped == (("no-tow-bar-on-ev", "a warning rule (advice, not a constraint)"),)
    assert (
        "// skipped rule no-tow-bar-on-ev: a warning rule (advice, not a constraint)"
        in exported.text
    )


# ------------------------------------------------------------------ command line

TRUCK_LIKE = """namespace Mini

features
\tCar {abstract}
\t\tmandatory
\t\t\tEngine
\t\t\t\talternative
\t\t\t\t\tPetrol
\t\t\t\t\tElectric
\t\toptional
\t\t\tTowBar
\t\t\tSunroof

constraints
\tTowBar => Petrol
\tSunroof => !Sunroof
"""


@pytest.fixture
def mini_uvl(tmp_path: Path) -> Path:
    """A small UVL model with a dead feature (Sunroof) and a conflict (TowBar with Electric)."""
    path = tmp_path / "mini.uvl"
    path.write_text(TRUCK_LIKE, encoding="utf-8")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from cmf_config.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_import_reports_size_and_count_and_writes_a_model(
    mini_uvl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """import: text summary, JSON keys, and -o DIR/model.uvl that reads back with the same count."""
    code, out, _ = _run(["import", str(mini_uvl)], capsys)
    assert code == 0
    assert "features: 6 (1 abstract), groups: 3, constraints: 2" in out
    assert "configurations: 3 (counter: dpll-components)" in out
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, _ = _run(["import", str(mini_uvl), "-o", str(out_dir), "--format", "json"], capsys)
    import json

    doc = json.loads(out)
    assert (code, doc["features"], doc["count"], doc["format"]) == (0, 6, "3", "uvl")
    code, out, _ = _run(["model", "count", str(out_dir / "model.uvl")], capsys)
    assert (code, out) == (0, "3\n")


def test_cli_model_questions(mini_uvl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """count/options/lint/explain/validate: answers, reasons and exit codes."""
    import json

    assert _run(["model", "count", str(mini_uvl), "--select", "Petrol"], capsys)[:2] == (0, "2\n")
    code, out, _ = _run(
        ["model", "options", str(mini_uvl), "--select", "TowBar", "--format", "json"], capsys
    )
    doc = json.loads(out)
    forced = {f["feature"]: f["value"] for f in doc["forced"]}
    assert code == 0
    assert forced["Petrol"] is True
    assert forced["Electric"] is False
    code, out, _ = _run(["model", "lint", str(mini_uvl)], capsys)
    assert code == 1
    assert "warning L401: feature 'Sunroof' is in no valid configuration" in out
    assert "Because constraint Sunroof => !Sunroof (" in out
    assert "so Sunroof cannot be selected." in out
    code, out, _ = _run(["model", "explain", str(mini_uvl), "--select", "TowBar,Electric"], capsys)
    assert code == 1
    assert out == (
        f"{mini_uvl}: no valid configuration extends this selection (explain):\n"
        "  Because you selected Electric,\n"
        "      and because Engine has an alternative group: Engine => exactly one of Petrol,"
        f" Electric ({mini_uvl}:7:5),\n"
        "      so Petrol cannot be selected.\n"
        "  And because you selected TowBar,\n"
        f"      and because constraint TowBar => Petrol ({mini_uvl}:15:2),\n"
        "      so no valid configuration extends this selection.\n"
    )
    assert _run(["model", "validate", str(mini_uvl), "--select", "TowBar"], capsys)[0] == 0
    code, out, _ = _run(
        [
            "model",
            "validate",
            str(mini_uvl),
            "--select",
            "TowBar",
            "--deselect",
            "Petrol",
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 1
    assert json.loads(out)["valid"] is False


def test_cli_errors_are_positioned_or_usage_errors(
    mini_uvl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown feature is a usage error (exit 2, did you mean); a broken file a diagnostic."""
    code, _, err = _run(["model", "count", str(mini_uvl), "--select", "Petrl"], capsys)
    assert code == 2
    assert "unknown feature 'Petrl' in --select; did you mean 'Petrol'?" in err
    bad = tmp_path / "bad.uvl"
    bad.write_text("features\n\tA\n\t\toptional\n\t\t\tInteger B\n", encoding="utf-8")
    code, _, err = _run(["model", "lint", str(bad)], capsys)
    assert code == 2
    assert ":4:4: error E163: Integer features are not supported: only boolean features are" in err
    assert "Traceback" not in err


def test_cli_export_writes_uvl_that_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """export uvl -o FILE on the mini catalog: the file reads back with the catalog's count."""
    mini = REPO / "tests" / "data" / "mini"
    target = tmp_path / "cmf.uvl"
    code, out, err = _run(
        [
            "export",
            "uvl",
            "-o",
            str(target),
            "--catalog",
            str(mini / "catalog"),
            "--rules",
            str(mini / "rules"),
        ],
        capsys,
    )
    assert code == 0
    assert out.splitlines()[0].startswith("catalog: ")  # what it exported (docs/project.md)
    assert out.splitlines()[1].startswith(f"wrote {target}:")
    assert "rule 'no-tow-bar-on-ev' not exported: a warning rule" in err
    workspace, _ = Workspace.open(mini / "catalog", mini / "rules")
    assert FeatureAnalysis(compile_model(load_uvl(target))).count() == workspace.engine.count({})


@pytest.mark.parametrize(
    "argv",
    [
        ["import"],
        ["export"],
        ["model"],
        *[["model", q] for q in ("count", "options", "lint", "explain", "validate")],
    ],
)
def test_cli_every_subcommand_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """--help works and exits 0 for each new command."""
    from cmf_config.cli import main

    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_count_within_a_time_limit_runs_in_a_child_and_returns_the_counter(mini_uvl: Path) -> None:
    """count_within gives the same count with and without a limit, and names the counter."""
    from cmf_config.api import count_model as count_within
    from cmf_config.api import import_model

    analysis = FeatureAnalysis(compile_model(import_model(mini_uvl)))
    assert count_within(analysis, {}, 0) == (3, "dpll-components")
    assert count_within(analysis, {"TowBar": True}, 30) == (1, "dpll-components")
