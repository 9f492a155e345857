"""A run with an empty cache does only the work its answer needs (issue 12, empty-cache rows).

validate and build of a complete configuration decide validity by evaluating the error rules
(no CNF engine); the catalog entry a run wrote is not read back by the same run; spans pickle
as four values; the collector is paused while a catalog is built and frozen before the
program exits.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clirun import run_cli
from cmf_config import cache, load, quickstore
from cmf_config import workspace as workspace_module
from cmf_config.errors import Severity, Span
from cmf_config.load import load_catalog, load_vehicle_file
from cmf_config.project import resolve
from cmf_config.rules import Op, Ref, holds
from cmf_config.solver import Engine
from cmf_config.workspace import Verdict, Workspace

ROOT = Path(__file__).parents[1]
CATALOG = load_catalog(ROOT / "catalog")
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml")) + sorted(
    (ROOT / "examples" / "invalid").glob("*.yaml")
)


def _workspace() -> Workspace:
    return Workspace(CATALOG, ROOT / "rules")


WORKSPACE = _workspace()
ENGINE = Engine(WORKSPACE.problem, WORKSPACE.rules)


def _configs() -> list[object]:
    configs: list[object] = [v.config for v in CATALOG.vehicles.values()]
    for path in EXAMPLES:
        try:
            configs.append(load_vehicle_file(path, CATALOG).config)
        except Exception:  # an example of an unusable file: not a configuration
            continue
    return configs


def _verdict_with_the_engine(workspace: Workspace, config: object) -> Verdict:
    """How validate decided a complete configuration before: one solver call, then the
    warning rules (valid) or every rule (invalid) evaluated."""
    assignment = workspace.assignment(config)  # type: ignore[arg-type]
    valid = ENGINE.is_consistent(assignment)
    to_check = workspace.warning_rules if valid else workspace.rules
    violations = [
        workspace._violation(config, assignment, rule)  # type: ignore[arg-type]
        for rule in to_check
        if not holds(workspace.problem, rule, assignment)
    ]
    return Verdict(config=config, complete=True, violations=tuple(violations))  # type: ignore[arg-type]


COMPLETE = [c for c in _configs() if WORKSPACE.is_complete(WORKSPACE.assignment(c))]  # type: ignore[arg-type]


@pytest.mark.parametrize("index", range(len(COMPLETE)))
def test_validate_of_a_complete_configuration_builds_no_engine(index: int) -> None:
    """Every complete catalog vehicle and example: the verdict the engine gave, no engine built."""
    config = COMPLETE[index]
    workspace = _workspace()
    verdict = workspace.validate(config)  # type: ignore[arg-type]
    assert verdict == _verdict_with_the_engine(workspace, config)
    if verdict.is_valid:
        assert workspace.build(config) is not None  # type: ignore[arg-type]
    assert workspace._engine is None


def test_the_examples_hold_valid_and_invalid_complete_configurations() -> None:
    """The comparison above covers both answers."""
    assert len(COMPLETE) > 60
    answers = {WORKSPACE.validate(c).is_valid for c in COMPLETE}  # type: ignore[arg-type]
    assert answers == {True, False}


@given(st.data())
def test_every_error_rule_holding_is_the_engines_consistency(data: st.DataObject) -> None:
    """Random complete assignments of the bundled catalog: valid exactly when the engine says."""
    assignment = {
        slot.name: data.draw(st.integers(0, len(slot.values) - 1), label=slot.name)
        for slot in WORKSPACE.problem.slots
    }
    hard = [r for r in WORKSPACE.rules if r.severity is Severity.ERROR]
    assert all(holds(WORKSPACE.problem, r, assignment) for r in hard) == ENGINE.is_consistent(
        assignment
    )


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder for this test, nothing kept in memory."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CMF_CONFIG_CACHE_DIR", str(folder))
    monkeypatch.setattr(cache, "_STATE", {"disabled": False})
    monkeypatch.setattr(cache, "_MEMO", {})
    load._load_catalog_cached.cache_clear()
    return folder


def test_a_run_does_not_read_back_the_catalog_it_wrote(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second load in the same process (the fast path's store) unpickles nothing."""
    reads: list[object] = []
    real_load = pickle.load

    def counting(handle: object) -> object:
        reads.append(handle)
        return real_load(handle)  # type: ignore[arg-type]

    monkeypatch.setattr(pickle, "load", counting)
    first = load_catalog(ROOT / "catalog")
    assert list(cache_dir.glob("catalog-*.pickle"))
    assert load_catalog(ROOT / "catalog") is first
    assert reads == []


def test_a_span_pickles_as_its_values() -> None:
    """Span round-trips with or without end_col, and a pickled catalog reads back equal."""
    for span in (Span("a.yaml", 3, 4), Span("b.yaml", 1, 2, 9), Span("<none>", 0, 0)):
        back = pickle.loads(pickle.dumps(span, protocol=pickle.HIGHEST_PROTOCOL))
        assert (back, back.end_col, type(back)) == (span, span.end_col, Span)
    assert pickle.loads(pickle.dumps(CATALOG)) == CATALOG
    assert b"__getstate__" not in pickle.dumps(Span("a", 1, 1))


def test_gc_paused_restores_the_collector() -> None:
    """Off inside, nested uses keep it off, on again after (also after an error)."""
    assert gc.isenabled()
    with cache.gc_paused():
        assert not gc.isenabled()
        with cache.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="inside"), cache.gc_paused():
        raise ValueError("inside")
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled() -> None:
    """A caller that turned the collector off keeps it off."""
    gc.disable()
    try:
        with cache.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def _exit_state(tmp_path: Path, argv: list[str]) -> list[str]:
    """The output of `cmf-config ARGV` run through the entry point, ending with a line an
    atexit handler prints: whether the heap was frozen, whether the collector ran."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('atexit', gc.get_freeze_count() > 0, gc.isenabled()))\n"
        f"sys.argv = ['cmf-config', *{argv!r}]\n"
        "from cmf_config.entry import main\n"
        "raise SystemExit(main())\n"
    )
    env = dict(os.environ, CMF_CONFIG_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_program_freezes_the_heap_and_still_runs_atexit(tmp_path: Path) -> None:
    """validate (one catalog, one answer) runs without the cycle collector, and the objects
    are frozen before the exit (whose collection then has nothing to scan); the answer is
    printed and atexit handlers still run."""
    lines = _exit_state(tmp_path, ["validate", "examples/sedan.yaml"])
    assert lines[-2:] == ["examples/sedan.yaml: valid", "atexit True False"]


def test_one_file_with_valued_options_runs_without_the_collector(tmp_path: Path) -> None:
    """An option's value is not a file: `validate FILE --format json --catalog DIR` still runs
    without the collector (regression: every word that was not an option counted)."""
    argv = ["validate", "examples/sedan.yaml", "--format", "json", "--catalog", "catalog"]
    argv += ["--rules", "rules", "--color", "never"]
    for _ in range(2):  # the full command, then the fast path (which freezes nothing)
        last = _exit_state(tmp_path, argv)[-1].split()
        assert last[0] == "atexit"
        assert last[2] == "False"  # the collector was off


def test_the_files_of_a_command_line() -> None:
    """Words that name files: not options, not the values of the short commands' options."""
    from cmf_config.entry import _files

    assert _files(["a.yaml", "--format", "json", "-o", "out.csv", "b.yaml", "-q"]) == [
        "a.yaml",
        "b.yaml",
    ]
    assert _files(["--catalog", "c", "--rules", "r", "--year", "2024", "x.yaml"]) == ["x.yaml"]
    assert _files(["--format=json", "x.yaml", "--diagram", "d.svg", "--color", "never"]) == [
        "x.yaml"
    ]
    assert _files(["-"]) == ["-"]


def test_several_files_keep_the_cycle_collector(tmp_path: Path) -> None:
    """With several files (a pre-commit run over many vehicles) the collector stays on, so
    what each file leaves behind is freed; the heap is still frozen at the exit."""
    lines = _exit_state(tmp_path, ["validate", "examples/sedan.yaml", "examples/city-ev.yaml"])
    assert lines[-1] == "atexit True True"


def _program(tmp_path: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """`cmf-config ARGV` through the program's own entry (`entry.run`), with an atexit
    handler that prints a line and leaves, in a module of its own, an object whose finaliser
    runs only if the interpreter then takes its modules apart (made after the heap is frozen,
    so that freezing does not keep it)."""
    code = (
        "import atexit, os, sys, types\n"
        "class Kept:\n"
        "    def __del__(self):\n"
        "        os.write(2, b'torn down\\n')\n"
        "def late():\n"
        "    print('atexit ran')\n"
        "    probe = types.ModuleType('probe')\n"
        "    probe.KEPT = Kept()\n"
        "    sys.modules['probe'] = probe\n"
        "atexit.register(late)\n"
        f"sys.argv = ['cmf-config', *{argv!r}]\n"
        "from cmf_config.entry import run\n"
        "run()\n"
    )
    env = dict(os.environ, CMF_CONFIG_CACHE_DIR=str(tmp_path / "cache"))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("argv", "code", "first"),
    [
        (["validate", "examples/sedan.yaml"], 0, "catalog: "),
        (["explain", "examples/invalid/city-ev-with-ice-bay.yaml"], 1, "catalog: "),
        (["options", "examples/partial-suv.yaml", "--format", "json"], 0, "{"),
        (["build", "no-such-file.yaml"], 2, None),
    ],
    ids=["valid", "invalid", "json", "unusable"],
)
def test_a_short_command_ends_without_the_teardown(
    tmp_path: Path, argv: list[str], code: int, first: str | None
) -> None:
    """After validate, build, options or explain the process ends once the answer is flushed
    and the atexit handlers have run: the exit code and every line of output are there, the
    heap is not taken apart (the finaliser never runs). Twice: the empty cache, then warm."""
    for _ in range(2):
        done = _program(tmp_path, argv)
        assert done.returncode == code, done.stderr
        lines = done.stdout.splitlines()
        assert lines[-1] == "atexit ran"
        if first is None:
            assert lines == ["atexit ran"]
            assert "no-such-file.yaml:1:1: error E001" in done.stderr
        else:
            assert lines[0].startswith(first)
            assert len(lines) > 2
        assert "torn down" not in done.stderr
        assert "Traceback" not in done.stderr
    if first == "{":
        assert json.loads("\n".join(lines[:-1]))["sources"]


def test_other_commands_end_as_python_does(tmp_path: Path) -> None:
    """A command that may leave threads or files behind (here `catalog`) takes Python's own
    exit: the heap is taken apart, the atexit handlers run."""
    done = _program(tmp_path, ["catalog", "list"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "atexit ran"
    assert "torn down" in done.stderr


def test_the_installed_program_is_the_entry_run() -> None:
    """pyproject's console script and `python -m cmf_config` both go through `entry.run`."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'cmf-config = "cmf_config.entry:run"' in text
    main = (ROOT / "src" / "cmf_config" / "__main__.py").read_text(encoding="utf-8")
    assert "from cmf_config.entry import run" in main


def test_a_session_alive_at_exit_is_freed_quietly(tmp_path: Path) -> None:
    """PySAT is imported on first use, so the exit may tear it down before a module that holds
    a session (a test runner keeps its test modules to the end): the session is freed before
    that, with nothing on stderr (regression: 'Exception ignored in ... Solver.__del__' once
    PySAT was no longer imported with the package; CaDiCaL comes from `pysat.solvers`)."""
    (tmp_path / "test_holder.py").write_text(
        "from cmf_config.sat import BULK_SOLVER, Session\n"
        "KEPT = []\n"
        "def test_kept() -> None:\n"
        "    KEPT.append(Session([[1, 2], [-1]], solver=BULK_SOLVER))\n"
        "    assert KEPT[0].solve()\n",
        encoding="utf-8",
    )
    env = dict(os.environ, CMF_CONFIG_NO_CACHE="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout
    assert done.stderr == ""


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    reads: list[Path] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(self)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    return reads


def test_a_settled_files_digest_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that last changed long enough ago is hashed once per process."""
    monkeypatch.setattr(cache, "_DIGESTS", {})
    monkeypatch.setattr(cache, "SETTLED_NS", -(10**18))  # as if written long ago
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    reads = _counting_reads(monkeypatch)
    first = cache.file_digest(path)
    assert cache.file_digest(path) == first
    assert reads == [path]


def test_a_file_written_just_now_is_hashed_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rewritten at once with bytes of the same size (within one tick of the file system's
    clock, so possibly the same times): the new bytes' digest, never the kept one."""
    monkeypatch.setattr(cache, "_DIGESTS", {})
    path = tmp_path / "a.yaml"
    digests = []
    for text in ("a: 1\n", "a: 2\n", "a: 3\n"):
        path.write_text(text, encoding="utf-8")
        digests.append(cache.file_digest(path))
    assert len(set(digests)) == 3
    assert cache._DIGESTS == {}


def _outcome(converter: object, data: object, cls: type) -> tuple[object, ...]:
    try:
        return ("ok", converter.structure(data, cls))  # type: ignore[attr-defined]
    except Exception:
        return ("error",)


_VEHICLE_DATA = [
    load._plain_with_spans(
        load.parse_file(path, str(path)).root  # type: ignore[attr-defined]
    )
    for path in sorted((ROOT / "catalog" / "vehicles").glob("*.yaml"))[:8]
]
_ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3), st.just([]), st.just({})
)


@given(st.sampled_from(_VEHICLE_DATA), st.data())
def test_the_fast_converter_agrees_with_the_detailed_one(data: object, draw: st.DataObject) -> None:
    """A vehicle file with a value replaced or a key removed: both converters fail, or both
    give the same object (the fast one answers good files, the detailed one every error)."""
    import copy

    changed = copy.deepcopy(data)
    target = changed
    while isinstance(target, dict) and draw.draw(st.booleans()):
        keys = sorted(k for k in target if not k.startswith("__"))
        if not keys:
            break
        inner = target[draw.draw(st.sampled_from(keys))]
        if not isinstance(inner, dict):
            break
        target = inner
    keys = sorted(k for k in target if not k.startswith("__")) if isinstance(target, dict) else []
    change = draw.draw(st.sampled_from(["none", "delete", "replace", "add"]))
    if keys and isinstance(target, dict) and change != "none":
        key = draw.draw(st.sampled_from(keys))
        if change == "delete":
            del target[key]
        elif change == "replace":
            target[key] = draw.draw(_ODD_VALUES)
        else:
            target[key + "_x"] = draw.draw(_ODD_VALUES)
    fast = _outcome(load._FAST, changed, load.VehicleFile)
    assert fast == _outcome(load.CONVERTER, changed, load.VehicleFile)


def test_the_converters_on_a_good_and_a_broken_vehicle() -> None:
    """Both outcomes, for certain: the same vehicle, and the same failure."""
    good = _VEHICLE_DATA[0]
    assert isinstance(good, dict)
    ok = _outcome(load._FAST, good, load.VehicleFile)
    assert ok[0] == "ok"
    assert ok == _outcome(load.CONVERTER, good, load.VehicleFile)
    broken = dict(good, name=12)
    assert _outcome(load._FAST, broken, load.VehicleFile) == ("error",)
    assert _outcome(load.CONVERTER, broken, load.VehicleFile) == ("error",)


def _bundled_engine(workspace: Workspace) -> Engine:
    return workspace_module.engine(
        workspace.catalog, ROOT / "rules", workspace.problem, workspace.rules
    )


def test_the_engine_as_built_is_the_runs_own_while_unchanged(cache_dir: Path) -> None:
    """The store after options or explain reads the run's engine, not its pickled copy;
    once a question has added to it, a view of it as built (the same CNF as a new engine),
    the run's engine left as it is."""
    workspace = _workspace()
    used = _bundled_engine(workspace)
    args = (workspace.catalog, ROOT / "rules", workspace.problem, workspace.rules)
    assert workspace_module.engine_as_built(*args) is used
    built = (list(used.encoding.clauses), used.encoding.nvars)
    used.literal(Op("=>", (Ref("tow_bar"), Ref("third_row"))))  # a question's new literal
    assert len(used.encoding.clauses) > len(built[0])
    grown = len(used.encoding.clauses)
    copy = workspace_module.engine_as_built(*args)
    assert copy is not used
    assert (copy.encoding.clauses, copy.encoding.nvars) == built
    assert (copy.selectors, copy.encoding.slot_lits) == (used.selectors, used.encoding.slot_lits)
    assert len(used.encoding.clauses) == grown
    fresh = Engine(workspace.problem, workspace.rules)
    assert (fresh.encoding.clauses, fresh.encoding.nvars) == built


@pytest.mark.parametrize(
    "args",
    [
        ["options", "examples/partial-suv.yaml"],
        ["explain", "examples/invalid/city-ev-with-ice-bay.yaml"],
    ],
    ids=lambda a: a[0],
)
def test_the_stored_engine_after_a_question_is_the_one_built(
    cache_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    """The fast path's entry written after options or explain holds the engine a new run
    compiles from nothing (the run's own engine seen as built, whatever its questions added)."""
    run_cli(capsys, args)
    monkeypatch.chdir(ROOT)
    sources = resolve(None, None)
    after = quickstore.compile_entry(sources, engine=True)["engine"]
    workspace_module._LAST_ENGINE.clear()
    cache._MEMO.clear()
    load._load_catalog_cached.cache_clear()
    for entry in cache_dir.iterdir():
        entry.unlink()
    assert after == quickstore.compile_entry(sources, engine=True)["engine"]
