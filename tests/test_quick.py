"""The fast path (quick.py): same bytes and exit codes as the full commands, or no answer.

Every test fills the compiled-workspace entry with a full run, then asks the fast path; where
it answers, its output must equal the full command's (also with --no-cache), and where it
cannot be sure (open slots, broken rules, typos, options it does not know, a stale or corrupt
entry) it must write nothing and return None.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clirun import run_cli
from cmf_config import cache, plainreport, quick
from cmf_config.load import VehicleFile, load_catalog
from cmf_config.model import KINDS, PartLine, VehicleOptions, YearSpan
from cmf_config.paths import bundled_dir
from cmf_config.problem import catalog_problem
from cmf_config.ruleeval import evaluate_plain
from cmf_config.rules import evaluate, load_rules, plain, platform_rules, ref_value

ROOT = Path(__file__).parents[1]
VALID = ["examples/sedan.yaml", "examples/city-ev.yaml", "examples/ev-crossover.yaml"]
MUST_ANSWER = ["examples/partial-suv.yaml", "examples/invalid/city-ev-with-ice-bay.yaml"]
"""The benchmark's options and explain files: the fast path answers them."""
OTHERS = [
    "examples/partial-suv.yaml",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples" / "invalid").glob("*.yaml")),
]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder for this test (and the cache switched on)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CMF_CONFIG_CACHE_DIR", str(folder))
    monkeypatch.delenv("CMF_CONFIG_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "_STATE", {"disabled": False})
    monkeypatch.setattr(cache, "_MEMO", {})  # nothing kept in memory from an earlier test
    return folder


def fast(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int | None, str, str]:
    """The fast path's answer from the repository root: exit code (None: no answer), output."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = quick.run(args)
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


COMMANDS = [
    ["validate"],
    ["validate", "--format", "json"],
    ["validate", "-q"],
    ["build"],
    ["build", "--format=json"],
    ["build", "-q"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_fast_path_answers_complete_valid_files_as_the_full_command(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Valid, complete examples: the fast path answers, with the full command's bytes."""
    for example in VALID:
        args = [*command, example]
        full = run_cli(capsys, args)
        assert fast(capsys, args) == full, example
    if command[0] == "validate":
        args = [*command, *VALID]
        assert fast(capsys, args) == run_cli(capsys, args)
    answers = [fast(capsys, [*command, example]) for example in VALID]
    for example, answer in zip(VALID, answers, strict=True):  # the same bytes with no cache
        assert answer == run_cli(capsys, [*command, example, "--no-cache"]), example


@pytest.mark.parametrize("command", [["validate"], ["build"], ["validate", "--format", "json"]])
def test_fast_path_leaves_the_rest_to_the_full_command(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Open slots, broken rules and typos: no answer and nothing written."""
    run_cli(capsys, [*command, VALID[0]])
    assert fast(capsys, [*command, VALID[0]])[0] == 0
    for example in OTHERS:
        assert fast(capsys, [*command, example]) == (None, "", ""), example
    assert fast(capsys, [*command, VALID[0], OTHERS[0]]) == (None, "", "")


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--no-cache", VALID[0]],
        ["validate", "-v", VALID[0]],
        ["validate", "--format", "sarif", VALID[0]],
        ["validate", "--format", "github", VALID[0]],
        ["validate", "--form", "json", VALID[0]],
        ["validate", "--debug", VALID[0]],
        ["build", "-o", "out.txt", VALID[0]],
        ["build", "--format", "csv", VALID[0]],
        ["build", VALID[0], VALID[1]],
        ["validate"],
        ["validate", "-", VALID[0]],
        ["fix", VALID[0]],
        ["validate", "missing.yaml"],
        ["validate", "examples"],
        ["options", "--year", "2020", "examples/partial-suv.yaml"],
        ["explain", "--no-cache", "examples/partial-suv.yaml"],
        ["explain", "-v", "examples/partial-suv.yaml"],
        ["options", "--format", "sarif", "examples/partial-suv.yaml"],
        ["options", "examples/partial-suv.yaml", VALID[0]],
        ["explain", "missing.yaml"],
        ["options", "examples/invalid/typos.yaml"],
    ],
    ids=" ".join,
)
def test_fast_path_declines_what_it_does_not_know(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """Options other than --format text/json, -q, --color, --catalog, --rules (--year ...),
    several files to options or explain, a file the loader would report: no answer."""
    run_cli(capsys, ["options", "examples/partial-suv.yaml"])
    assert fast(capsys, ["validate", VALID[0]])[0] == 0
    assert fast(capsys, ["options", "examples/partial-suv.yaml"])[0] == 0
    assert fast(capsys, args) == (None, "", "")


def test_no_entry_no_answer(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty cache, or a cache switched off: the full command answers."""
    assert fast(capsys, ["validate", VALID[0]]) == (None, "", "")
    run_cli(capsys, ["validate", VALID[0], "--no-cache"])
    assert not cache_dir.exists()
    cache.disable()
    assert fast(capsys, ["validate", VALID[0]]) == (None, "", "")


def test_corrupt_entry_is_ignored_and_rewritten(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A truncated or foreign entry: no answer; the next full run writes it whole again."""
    expected = run_cli(capsys, ["validate", VALID[0]])
    (entry,) = cache_dir.glob("quick-*.marshal")
    for garbage in (b"", b"\x00garbage", entry.read_bytes()[:100]):
        entry.write_bytes(garbage)
        assert fast(capsys, ["validate", VALID[0]]) == (None, "", "")
    assert run_cli(capsys, ["validate", VALID[0]]) == expected
    assert fast(capsys, ["validate", VALID[0]]) == expected


def _mini_args(mini: Path, command: str = "validate") -> list[str]:
    return [
        command,
        str(mini / "configs" / "good.yaml"),
        "--catalog",
        str(mini / "catalog"),
        "--rules",
        str(mini / "rules"),
    ]


def test_an_edited_rules_or_catalog_file_is_never_answered_stale(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression guard for the compiled entry: after a rules edit that makes the vehicle
    invalid, the fast path does not say valid; after a catalog edit, its answer is the new one.
    explain answers only from an entry a full options or explain stored the engine in (a
    validate's entry has none; a validate after it keeps it), and never from a stale one."""
    mini = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "data" / "mini", mini)
    args = _mini_args(mini)
    explain = ["explain", str(mini / "configs" / "partial.yaml"), *args[2:]]
    valid = run_cli(capsys, args)
    assert valid[0] == 0
    assert fast(capsys, args) == valid
    assert fast(capsys, explain) == (None, "", "")  # the entry of a validate has no engine
    explained = run_cli(capsys, explain)  # the full explain adds it
    assert fast(capsys, explain) == explained
    assert run_cli(capsys, args) == valid
    assert fast(capsys, explain) == explained  # a validate keeps it
    rules = mini / "rules" / "basic.yaml"
    original = rules.read_text(encoding="utf-8")
    rules.write_text(
        original
        + "  - id: no-uk\n    description: not for the UK\n    constraint: \"market != 'uk'\"\n",
        encoding="utf-8",
    )
    assert fast(capsys, args) == (None, "", "")  # stale: the content digest changed
    assert fast(capsys, explain) == (None, "", "")
    invalid = run_cli(capsys, args)
    assert invalid[0] == 1
    assert "no-uk" in invalid[1]
    assert fast(capsys, args) == (None, "", "")  # fresh entry, but a rule is broken
    explained = run_cli(capsys, explain)
    assert fast(capsys, explain) == explained  # the new rule counts
    rules.write_text(original, encoding="utf-8")
    modules = mini / "catalog" / "modules.yaml"
    modules.write_text(
        modules.read_text(encoding="utf-8").replace("Cockpit RHD", "Cockpit, right-hand drive"),
        encoding="utf-8",
    )
    build = _mini_args(mini, "build")
    assert fast(capsys, build) == (None, "", "")
    built = run_cli(capsys, build)
    assert "Cockpit, right-hand drive" in built[1], built
    assert fast(capsys, build) == built
    (mini / "rules" / "more.yaml").write_text("rules: []\n", encoding="utf-8")  # a new file
    assert fast(capsys, build) == (None, "", "")


def test_each_project_and_folder_has_its_own_entry(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same catalog named by another option or project is another entry (the report
    names what it checked, so an answer for one must not serve the other)."""
    mini = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "data" / "mini", mini)
    run_cli(capsys, _mini_args(mini))
    copy = tmp_path / "copy"
    shutil.copytree(mini, copy)
    assert fast(capsys, _mini_args(copy)) == (None, "", "")
    assert fast(capsys, ["validate", VALID[0]]) == (None, "", "")


# ------------------------------------------------------------------ a property


def _example(path: str) -> dict[str, object]:
    data = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _catalog_words() -> list[object]:
    catalog = load_catalog(bundled_dir("catalog"))
    words: list[object] = [*catalog.brands, *catalog.platforms, *catalog.modules]
    words += [*catalog.options.segments, *catalog.options.bodies, *catalog.options.drives]
    words += [m.id for m in catalog.options.markets] + [f.id for f in catalog.options.features]
    return words


WORDS = _catalog_words()
VALUES = st.one_of(
    st.sampled_from(WORDS),
    st.none(),
    st.integers(-5, 4000),
    st.floats(-1, 200, allow_nan=False),
    st.booleans(),
    st.lists(st.sampled_from(WORDS), max_size=3),
    st.text(max_size=4),
)


@st.composite
def benign(draw: st.DrawFn, data: dict[str, object]) -> None:
    """A change that keeps a valid file valid: metadata, names, key order, part figures."""
    what = draw(st.sampled_from(["name", "meta", "order", "part", "features"]))
    if what == "name":
        data["name"] = draw(st.text(min_size=1, max_size=12))
    elif what == "meta":
        data["status"] = draw(st.sampled_from(["confirmed", "secondary", "unconfirmed"]))
        data["sources"] = draw(st.lists(st.text(max_size=4), max_size=2))
        data["notes"] = draw(st.text(max_size=8))
        start = draw(st.integers(1990, 2030))
        data["production"] = {"start": start, "end": draw(st.none() | st.integers(start, 2040))}
    elif what == "order":
        keys = draw(st.permutations(list(data)))
        items = [(k, data.pop(k)) for k in keys]
        data.update(items)
    elif what == "part" and data.get("extra_parts"):
        parts = data["extra_parts"]
        assert isinstance(parts, list)
        parts[0]["quantity"] = draw(st.integers(1, 9))
        parts[0]["unit_cost"] = draw(st.floats(0, 1e4, allow_nan=False))
        parts[0]["unit_mass_kg"] = draw(st.integers(0, 99))
    elif what == "features":
        options = data["options"]
        assert isinstance(options, dict)
        options["features"] = (
            draw(st.lists(st.sampled_from(options["features"] or ["x"]), unique=True))
            if options["features"]
            else []
        )


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, object]:
    """A valid example with changes that keep it valid, and maybe one that may not."""
    data = _example(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 2))):
        draw(benign(data))
    if draw(st.booleans()):
        return data
    where = draw(st.sampled_from(["top", "modules", "options", "part", "meta"]))
    if where == "top":
        key = draw(
            st.sampled_from(["brand", "platform", "segment", "body", "powertrain", "name", "zz"])
        )
        target: dict[str, object] = data
    elif where in ("modules", "options"):
        inner = data[where]
        assert isinstance(inner, dict)
        target = inner
        key = draw(st.sampled_from([*inner, "zz"]))
    elif where == "part" and data.get("extra_parts"):
        parts = data["extra_parts"]
        assert isinstance(parts, list)
        target = parts[0]
        key = draw(st.sampled_from(["quantity", "unit_cost", "unit_mass_kg", "name", "zz"]))
    else:
        target = data
        key = draw(st.sampled_from(["status", "markets", "production", "sources", "id"]))
    if draw(st.booleans()) and key in target:
        del target[key]
    else:
        target[key] = draw(VALUES)
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=mutated(), flow=st.sampled_from([False, None, True]))
def test_fast_path_answers_only_as_the_full_command_would(
    data: dict[str, object], flow: bool | None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Property: on any variation of a valid file, the fast path either declines or gives the
    full command's exit code and bytes (validate and build)."""
    folder = tmp_path_factory.mktemp("v")
    vehicle = folder / "vehicle.yaml"
    vehicle.write_text(
        yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=flow),
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CMF_CONFIG_CACHE_DIR", str(folder / "cache"))
        patch.setattr(cache, "_STATE", {"disabled": False})
        for command in ("validate", "build"):
            args = [command, str(vehicle)]
            full = _captured(run_cli_plain, args)
            answer = _captured(_fast_plain, args)
            event(f"{command}: {'answered' if answer[0] is not None else 'declined'}")
            if answer[0] is not None:
                assert answer == full, args


def run_cli_plain(args: list[str]) -> int:
    from cmf_config.cli import main

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return main(args)
    finally:
        os.chdir(cwd)


def _fast_plain(args: list[str]) -> int | None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return quick.run(args)
    finally:
        os.chdir(cwd)


def _captured(
    call: Callable[[list[str]], int | None], args: list[str]
) -> tuple[int | None, str, str]:
    """Exit code, stdout and stderr of a call (hypothesis tests take no capsys fixture)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = call(args)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ the parts agree


def test_plain_rules_evaluate_as_the_rules_do() -> None:
    """ruleeval.evaluate_plain on rules.plain(formula) == rules.evaluate, rule by rule, on
    every reference vehicle and on random complete assignments."""
    catalog = load_catalog(bundled_dir("catalog"))
    problem = catalog_problem(catalog, [v.config for v in catalog.vehicles.values()])
    rules = platform_rules(catalog, problem) + load_rules(bundled_dir("rules"), problem)

    @settings(max_examples=40, deadline=None)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        assignment = {s.name: data.draw(st.integers(0, len(s.values) - 1)) for s in problem.slots}

        def read(slot: str, attr: str | None) -> object:
            from cmf_config.rules import Ref

            return ref_value(problem, Ref(slot, attr), assignment[slot])

        for rule in rules:
            expected = evaluate(problem, rule.formula, assignment)
            assert evaluate_plain(plain(rule.formula), read) == expected, rule.id  # type: ignore[arg-type]

    check()


def test_the_fast_path_knows_the_model_s_fields() -> None:
    """The keys the fast path accepts are the loader's (a new field must be taught to it)."""
    own = {a.name for a in attrs.fields(VehicleFile)} - {"span", "field_spans"}
    assert set(quick.VEHICLE_KEYS) == own
    assert set(quick.OPTION_KEYS) == {a.name for a in attrs.fields(VehicleOptions)} - {
        "span",
        "field_spans",
    }
    assert set(quick.PART_KEYS) == {a.name for a in attrs.fields(PartLine)} - {
        "span",
        "field_spans",
    }
    assert set(quick.YEAR_KEYS) == {a.name for a in attrs.fields(YearSpan)} - {
        "span",
        "field_spans",
    }
    assert plainreport.KINDS == KINDS


MODEL = ("model", "load", "problem", "rules", "encode", "solver", "workspace", "report")
"""The model's modules: none of them on the fast path."""


@pytest.mark.parametrize(
    ("command", "example", "expected"),
    [
        ("validate", VALID[0], "HEAVY 0 "),
        ("build", VALID[0], "HEAVY 0 "),
        ("options", MUST_ANSWER[0], "HEAVY 0 pysolvers"),
        ("explain", MUST_ANSWER[1], "HEAVY 1 pysolvers"),
    ],
)
def test_fast_path_imports_neither_the_model_nor_attrs(
    tmp_path: Path, command: str, example: str, expected: str
) -> None:
    """A warm `validate` and `build` load no attrs, cattrs, PySAT, numpy or model module
    (what makes them fast); a warm `options` and `explain` load PySAT's extension module
    (they ask Glucose) and nothing else of those, not even `pysat.solvers`: the stored
    engine is plain data. The first run, which fills the cache, loads the model."""
    env = dict(os.environ, CMF_CONFIG_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("CMF_CONFIG_NO_CACHE", None)
    probe = (
        "import sys\n"
        "from cmf_config.entry import main\n"
        "sys.argv = ['cmf-config', *sys.argv[1:]]\n"
        "code = main()\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'attr', 'attrs', 'cattrs', 'pysat', 'pysolvers', 'numpy'})\n"
        f"heavy += sorted(m for m in {MODEL!r} if 'cmf_config.' + m in sys.modules)\n"
        "print('HEAVY', code, ' '.join(heavy))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe, command, example],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[-1]
        for _ in range(2)
    ]
    assert runs[1] == expected, runs


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_full_output_device_is_reported_as_by_the_full_command(
    tmp_path: Path, command: str
) -> None:
    """Regression: with a warm cache, `validate FILE > /dev/full` ended in a traceback (the
    fast path's write raised ENOSPC); now it is exit 2 with the full command's message."""
    env = dict(os.environ, CMF_CONFIG_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("CMF_CONFIG_NO_CACHE", None)
    cmf = str(Path(sys.executable).parent / "cmf-config")
    subprocess.run([cmf, command, VALID[0]], cwd=ROOT, env=env, capture_output=True, check=True)
    assert list((tmp_path / "cache").glob("quick-*"))
    runs = []
    for extra in ([], ["--no-cache"]):  # warm (the fast path), and no cache at all
        with Path("/dev/full").open("w") as full:
            done = subprocess.run(
                [cmf, command, VALID[0], *extra],
                cwd=ROOT,
                env=env,
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
        runs.append((done.returncode, done.stderr))
    assert runs[0] == runs[1] == (2, runs[1][1])
    assert "Traceback" not in runs[0][1]
    assert "No space left on device" in runs[0][1]


# ------------------------------------------------------------------ options and explain

QUESTIONS = [
    [command, *how]
    for command in ("options", "explain")
    for how in ([], ["--format", "json"], ["--format=json", "-q"], ["-q"])
]


@pytest.mark.parametrize("command", QUESTIONS, ids=" ".join)
def test_fast_path_answers_options_and_explain_as_the_full_command(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Partial, invalid and complete examples: the fast path's options and explain have the
    full command's exit code and bytes (with the cache, and with --no-cache); the benchmark's
    two files are answered."""
    answered = []
    for example in [*VALID, *OTHERS]:
        args = [*command, example]
        full = run_cli(capsys, args)
        answer = fast(capsys, args)
        if example in MUST_ANSWER:
            assert answer[0] is not None, example
        if answer[0] is not None:
            assert answer == full, example
            answered.append((args, answer))
    for args, answer in answered:  # the same bytes with no cache (which switches it off)
        assert answer == run_cli(capsys, [*args, "--no-cache"]), args


def test_the_mini_catalog_s_questions_agree(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another catalog (--catalog, --rules): options and explain of its partial and impossible
    configurations, answered by the fast path with the full command's bytes."""
    mini = tmp_path / "mini"
    shutil.copytree(ROOT / "tests" / "data" / "mini", mini)
    for command in ("options", "explain"):
        for name in ("partial.yaml", "partial-impossible.yaml", "good.yaml"):
            args = [*_mini_args(mini, command)[:1], str(mini / "configs" / name)]
            args += _mini_args(mini)[2:]
            full = run_cli(capsys, args)
            assert fast(capsys, args) == full, args


def test_a_new_number_is_left_to_the_full_command(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A battery size no catalog vehicle has joins the slot's values (another encoding): no
    answer from the stored one."""
    data = _example(MUST_ANSWER[0])
    options = data["options"]
    assert isinstance(options, dict)
    options["battery_kwh"] = 12.34
    vehicle = tmp_path / "vehicle.yaml"
    vehicle.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run_cli(capsys, ["options", MUST_ANSWER[0]])
    assert fast(capsys, ["options", str(vehicle)]) == (None, "", "")


def _slot_values() -> dict[str, list[object]]:
    """Every value each configuration key may take in the bundled catalog (numbers: those
    the catalog's vehicles and options already have, so the encoding stays the stored one)."""
    catalog = load_catalog(bundled_dir("catalog"))
    problem = catalog_problem(catalog, [v.config for v in catalog.vehicles.values()])
    out: dict[str, list[object]] = {}
    for slot in problem.slots:
        if slot.is_numeric:
            out[slot.name] = [
                int(v.number) if v.number is not None and v.number.is_integer() else v.number
                for v in slot.values
            ]
        elif not slot.is_bool:
            out[slot.name] = [v.id for v in slot.values]
    out["features"] = [s.name for s in problem.slots if s.is_bool]
    return out


SLOT_VALUES = _slot_values()
WHERE = {
    **dict.fromkeys(("brand", "platform", "segment", "body", "powertrain"), ()),
    **dict.fromkeys(KINDS, ("modules",)),
    **dict.fromkeys(
        ("drive", "steering", "market", "battery_kwh", "wheelbase_mm", "features"), ("options",)
    ),
}


@st.composite
def partial_configs(draw: st.DrawFn) -> dict[str, object]:
    """An example with each slot kept, opened, or set to any value of the catalog (so often
    to one that conflicts with the others)."""
    data = _example(draw(st.sampled_from([*VALID, *MUST_ANSWER])))
    data.pop("markets", None)  # a market outside the list is a loader error, not a question
    keep = draw(st.sampled_from([1, 4, 12]))  # how often a slot keeps its value
    for key, parents in WHERE.items():
        target = data
        for parent in parents:
            inner = target.setdefault(parent, {})
            assert isinstance(inner, dict)
            target = inner
        what = draw(st.sampled_from(["keep"] * keep + ["open", "other"]))
        if what == "open":
            target.pop(key, None)
        elif what == "other" and key == "features":
            target[key] = draw(st.lists(st.sampled_from(SLOT_VALUES[key]), unique=True))
        elif what == "other":
            target[key] = draw(st.sampled_from(SLOT_VALUES[key]))
    return data


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the property's examples: the entry is filled once, then reused."""
    return tmp_path_factory.mktemp("shared") / "cache"


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=partial_configs(), fmt=st.sampled_from(["text", "json"]))
def test_fast_path_options_and_explain_agree_on_any_partial_configuration(
    data: dict[str, object],
    fmt: str,
    shared_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Property: on partial configurations of the bundled catalog (open slots, conflicting
    choices, any features), the fast path answers options and explain, with the full
    command's exit code and bytes."""
    folder = tmp_path_factory.mktemp("q")
    vehicle = folder / "vehicle.yaml"
    vehicle.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    for command in ("options", "explain"):
        args = [command, "--format", fmt, str(vehicle)]
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("CMF_CONFIG_CACHE_DIR", str(shared_cache))
            patch.setattr(cache, "_STATE", {"disabled": False})
            full = _captured(run_cli_plain, args)
            answer = _captured(_fast_plain, args)
        event(f"{command}: exit {full[0]}")
        assert answer == full, args
