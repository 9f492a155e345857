"""The UVL reader: the UVL project's parser test cases, shared models flamapy cannot read, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmf_config.errors import InputError
from cmf_config.featuremodel import FeatureAnalysis, compile_model
from cmf_config.fmodel import Attributes
from cmf_config.report import render_diagnostics
from cmf_config.rules import Op, Ref
from cmf_config.uvl import load_uvl, parse_uvl
from cmf_config.uvlexport import feature_model_uvl, formula_text

DATA = Path(__file__).parent / "data" / "uvl"
MODELS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "models"

# file: (features, groups, constraints, count); counts worked out by hand from the trees
LOADS = {
    "boolean02.uvl": (16, 8, 8, None),
    "cardinality.uvl": (4, 1, 0, 4),  # A with [2..3] of B, C, D: 3 + 1
    "cardinality02.uvl": (19, 6, 0, None),
    "attributes.uvl": (3, 1, 0, 4),
    "fm01_attrctcs.uvl": (5, 2, 2, None),
    "namespace.uvl": (3, 1, 0, 3),
    "fm03_block_comment.uvl": (12, 5, 1, None),
    "fm04_tabs.uvl": (12, 5, 1, None),
}
FAILS = {
    "fm06_comments_and_blanks.uvl": "E163",
    "comments.uvl": "E163",
    "brackets.uvl": "E163",
    "dash.uvl": "E163",
    "bike.uvl": "E163",
    "wrongindent.uvl": "E162",
    "same_feature_names.uvl": "E165",
    "dotinfeaturename.uvl": "E161",
}


def _errors(text: str, path: str = "m.uvl") -> str:
    with pytest.raises(InputError) as info:
        parse_uvl(text, path)
    return render_diagnostics(list(info.value.diagnostics))


@pytest.mark.parametrize("name", sorted(LOADS))
def test_the_uvl_projects_boolean_test_cases_load(name: str) -> None:
    """Every boolean-level test case of uvl-parser loads, with its features, groups and constraints."""
    features, groups, constraints, count = LOADS[name]
    model = load_uvl(DATA / name)
    assert (len(model.features), len(model.groups), len(model.constraints)) == (
        features,
        groups,
        constraints,
    )
    if count is not None:
        assert FeatureAnalysis(compile_model(model)).count() == count


@pytest.mark.parametrize("name", sorted(FAILS))
def test_the_uvl_projects_other_test_cases_are_positioned_errors(name: str) -> None:
    """Typed features, numeric constraints, bad indentation, duplicates: InputError with a position."""
    with pytest.raises(InputError) as info:
        load_uvl(DATA / name, name)
    codes = {d.code for d in info.value.diagnostics}
    assert FAILS[name] in codes
    assert all(d.span.line > 0 and d.span.path == name for d in info.value.diagnostics)


def test_the_same_file_parses_block_comments_and_tabs_alike() -> None:
    """A block comment inside the tree changes nothing: fm03 and fm04 are the same model."""
    a = load_uvl(DATA / "fm03_block_comment.uvl")
    b = load_uvl(DATA / "fm04_tabs.uvl")
    assert a.features == b.features
    assert a.groups == b.groups


def test_attributes_are_kept_nested() -> None:
    """Attributes, nested maps included, stay attached to their feature in the written order."""
    model = load_uvl(DATA / "attributes.uvl")
    b = next(f for f in model.features if f.name == "B")
    assert b.attributes == Attributes(
        (
            ("Fun", "yes"),
            ("Name", "B"),
            ("Package", Attributes((("Name", "P"), ("Content", "Even more fun")))),
            ("Price", 5),
        )
    )


def test_an_attribute_constraint_joins_the_constraints() -> None:
    """{constraint B => C} is a cross-tree constraint like any other."""
    model = load_uvl(DATA / "fm01_attrctcs.uvl")
    assert [c.text for c in model.constraints] == ["B => C", "D => (C & B)"]


def test_precedence_and_associativity_follow_the_grammar() -> None:
    """! binds tightest, then &, |, =>, <=>; binary operators associate to the left."""
    model = parse_uvl(
        "features\n\tA\n\t\toptional\n\t\t\tB\n\t\t\tC\n\t\t\tD\nconstraints\n\tA | B & !C\n\tA => B => C\n\tA <=> B => C | D\n"
    )
    a, b, c, d = Ref("A"), Ref("B"), Ref("C"), Ref("D")
    assert [k.formula for k in model.constraints] == [
        Op("or", (a, Op("and", (b, Op("not", (c,)))))),
        Op("=>", (Op("=>", (a, b)), c)),
        Op("<=>", (a, Op("=>", (b, Op("or", (c, d)))))),
    ]
    assert [formula_text(k.formula) for k in model.constraints] == [
        "A | B & !C",
        "(A => B) => C",
        "A <=> B => C | D",
    ]


def test_keywords_are_names_where_the_grammar_allows_no_keyword() -> None:
    """A feature called Type (a keyword of 'include' lines) and one called constraint load."""
    model = parse_uvl(
        "features\n\tTruck\n\t\tmandatory\n\t\t\tType\n\t\toptional\n\t\t\tString\nconstraints\n\tType => Truck\n"
    )
    assert model.feature_names() == ["Truck", "Type", "String"]


def test_double_quoted_attribute_values_are_text() -> None:
    """Collections write attribute values in double quotes; they load as text, dots included."""
    model = parse_uvl('features\n\tR {featureDescription__ "ERB.N;JHB,Y80 21"}\n')
    assert model.features[0].attributes.get("featureDescription__") == "ERB.N;JHB,Y80 21"


def test_syntax_error_is_rendered_with_position_and_hint(tmp_path: Path) -> None:
    """A stray token: file:line:col, the line, a caret and what to do."""
    path = tmp_path / "bad.uvl"
    path.write_text("features\n\tA\n\t\toptional\n\t\t\tB )\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_uvl(path, "bad.uvl")
    diag = info.value.diagnostics[0]
    assert (diag.code, diag.span.line, diag.span.col) == ("E161", 4, 6)
    assert diag.message == "expected the end of the line, found ')'"
    assert diag.hint == "write one item per line"


def test_unknown_feature_in_a_constraint_suggests_the_closest() -> None:
    """E164 names the unknown feature and the closest declared one."""
    text = _errors("features\n\tTruck\n\t\toptional\n\t\t\tEngine\nconstraints\n\tEngin => Truck\n")
    assert text == (
        "m.uvl:6:2: error E164: unknown feature 'Engin' in a constraint; did you mean 'Engine'?\n"
        "  hint: declare the feature under 'features' or fix the name\n"
        "1 error, 0 warnings\n"
    )


def test_every_unsupported_constraint_is_reported_not_dropped() -> None:
    """Each numeric constraint line gets its own E163; the boolean ones still parse."""
    with pytest.raises(InputError) as info:
        parse_uvl(
            "features\n\tA {x 1}\n\t\toptional\n\t\t\tB\nconstraints\n\tA.x > 2\n\tB => A\n\tsum(x) < 3\n",
            "m.uvl",
        )
    assert [(d.code, d.span.line) for d in info.value.diagnostics] == [("E163", 6), ("E163", 8)]


def test_imports_and_feature_cardinality_are_unsupported() -> None:
    """Composition and clones are beyond the boolean level: positioned E163."""
    with pytest.raises(InputError) as info:
        parse_uvl(
            "imports\n\tsub as s\nfeatures\n\tA\n\t\toptional\n\t\t\tB cardinality [1..3]\n",
            "m.uvl",
        )
    assert [(d.code, d.span.line, d.span.col) for d in info.value.diagnostics] == [
        ("E163", 1, 1),
        ("E163", 6, 6),
    ]


def test_bad_indentation_is_e162() -> None:
    """A line indented to no enclosing level."""
    with pytest.raises(InputError) as info:
        parse_uvl("features\n\tA\n\t\toptional\n\t\t\tB\n\t\t  C\n", "m.uvl")
    assert info.value.diagnostics[0].code == "E162"


def test_binary_and_non_utf8_files_are_e160(tmp_path: Path) -> None:
    """Unreadable bytes are an error with a position, not a traceback."""
    path = tmp_path / "bin.uvl"
    path.write_bytes(b"features\n\tA\xff\n")
    with pytest.raises(InputError) as info:
        load_uvl(path, "bin.uvl")
    assert [(d.code, d.span.line, d.span.col) for d in info.value.diagnostics] == [("E160", 2, 3)]
    with pytest.raises(InputError):
        parse_uvl("features\n\tA\x00\n")


def test_written_uvl_reads_back_identically() -> None:
    """The normalised UVL of each loadable test case reads back with the same tree and constraints."""
    for name in LOADS:
        model = load_uvl(DATA / name)
        again = parse_uvl(feature_model_uvl(model), "again.uvl")
        assert again.features == model.features
        assert again.groups == model.groups
        assert [c.formula for c in again.constraints] == [c.formula for c in model.constraints]


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "flamapy-benchmarking/Truck.uvl",
        "softvare-fmb/eshop_Lau2006.uvl",
        "softvare-fmb/financialservices01-2018-05-09_Nieke2018.uvl",
        "softvare-fmb/automotive01_Kowal2016.uvl",
    ],
)
def test_models_flamapy_cannot_parse_load(name: str) -> None:
    """Feature `Type` (Truck, eShop) and double-quoted attribute values (Nieke, Kowal) load."""
    path = MODELS / name
    if not path.is_file():
        pytest.skip("the shared models are not beside the repository")
    model = load_uvl(path)
    assert model.features
    assert FeatureAnalysis(compile_model(model)).is_satisfiable()


def _uvl_project_syntax_errors(text: str) -> list[str]:
    """Syntax errors the UVL project's own parser (the uvlparser package) finds in a text."""
    antlr4 = pytest.importorskip("antlr4")
    lexer_module = pytest.importorskip("uvl.UVLCustomLexer")
    parser_module = pytest.importorskip("uvl.UVLPythonParser")
    listener_module = pytest.importorskip("antlr4.error.ErrorListener")
    errors: list[str] = []

    def syntax_error(
        self: object,
        recognizer: object,
        symbol: object,
        line: int,
        column: int,
        msg: str,
        e: object,
    ) -> None:
        errors.append(f"{line}:{column}: {msg}")

    # antlr calls the listener's syntaxError; the class is built at run time (antlr is optional)
    collect = type("Collect", (listener_module.ErrorListener,), {"syntaxError": syntax_error})

    lexer = lexer_module.UVLCustomLexer(antlr4.InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(collect())
    parser = parser_module.UVLPythonParser(antlr4.CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(collect())
    parser.featureModel()
    return errors


def test_what_we_write_the_uvl_projects_parser_reads() -> None:
    """Normalised models (Truck's `Type` quoted) and the catalog export pass uvlparser."""
    assert _uvl_project_syntax_errors("features\n\tTruck\n\t\tmandatory\n\t\t\tType\n")  # unquoted
    for name in ("boolean02.uvl", "attributes.uvl", "cardinality02.uvl", "fm04_tabs.uvl"):
        assert _uvl_project_syntax_errors(feature_model_uvl(load_uvl(DATA / name))) == [], name
    truck = parse_uvl(
        "namespace T\nfeatures\n\tTruck\n\t\tmandatory\n\t\t\tType\nconstraints\n\tType => Truck\n"
    )
    assert _uvl_project_syntax_errors(feature_model_uvl(truck)) == []
    from cmf_config.uvlexport import export_uvl
    from cmf_config.workspace import Workspace

    mini = Path(__file__).parent / "data" / "mini"
    workspace, _ = Workspace.open(mini / "catalog", mini / "rules")
    assert _uvl_project_syntax_errors(export_uvl(workspace.problem, workspace.rules).text) == []
