"""Start fast: lazy imports, the compiled-catalog cache, and Ctrl-C at any moment."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clirun import run_cli
from cmf_config import cache, cli
from cmf_config.cli import COMMANDS, build_parser

ROOT = Path(__file__).parents[1]
HEAVY = ("numpy", "scipy", "matplotlib")
CMF = str(Path(sys.executable).parent / "cmf-config")


def _python(code: str) -> str:
    """What a fresh interpreter running `code` in the repository prints."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def _imported_after(code: str) -> set[str]:
    """The heavy top-level packages a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return set(_python(probe).split()[-1000:]) & set(HEAVY)


def test_importing_the_cli_imports_no_numpy_scipy_or_matplotlib() -> None:
    """`import cmf_config.cli` (what every run starts with) loads none of the heavy libraries."""
    assert _imported_after("import cmf_config.cli") == set()


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["validate", "examples/sedan.yaml"],
        ["build", "examples/sedan.yaml", "--format", "json"],
        ["options", "examples/partial-suv.yaml"],
    ],
    ids=lambda a: a[0],
)
def test_light_commands_import_no_numpy_scipy_or_matplotlib(args: list[str]) -> None:
    """validate, build, options (and --help) run without the heavy libraries."""
    code = (
        "import contextlib, io\n"
        "from cmf_config.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    assert _imported_after(code) == set()


def test_commands_that_need_them_still_import_them() -> None:
    """share --all clusters the fleet with scipy: imported when it runs."""
    code = (
        "import contextlib, io\n"
        "from cmf_config.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['share', '--all'])\n"
    )
    assert "scipy" in _imported_after(code)


def test_the_command_table_matches_the_modules() -> None:
    """Each one-line help in cli.COMMANDS is the one its module registers (they cannot drift)."""
    full = build_parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    helps = {action.dest: action.help for action in sub._choices_actions}
    assert {name: text for name, _, text in COMMANDS} == helps


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: argparse.ArgumentParser = sub.choices[name]
    return found


@pytest.mark.parametrize("columns", ["44", "100", "", "not-a-number"])
def test_help_is_wrapped_as_argparse_wraps_it(
    monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    """The parser reads the terminal's width itself (argparse's way imports shutil, zlib, bz2
    and lzma on every start-up): the help is the same, character for character, as with
    argparse's own formatter, for a narrow and a wide $COLUMNS and without one."""
    monkeypatch.setenv("COLUMNS", columns)
    ours = build_parser("options")
    texts = [ours.format_help(), _subparser(ours, "options").format_help()]
    monkeypatch.setattr(cli._Parser, "_get_formatter", argparse.ArgumentParser._get_formatter)
    stock = build_parser("options")
    assert texts == [stock.format_help(), _subparser(stock, "options").format_help()]


def test_parsing_a_command_line_imports_no_shutil() -> None:
    """Registering and parsing a command's arguments imports neither shutil nor the
    compression modules it brings (building and parsing took 5.4 ms with them, 3.2 without)."""
    code = (
        "import sys\n"
        "import cmf_config.commands.check\n"
        "from cmf_config.cli import build_parser\n"
        "build_parser('options').parse_args(['options', 'examples/partial-suv.yaml'])\n"
        "print(sorted({'shutil', 'bz2', 'lzma'} & set(sys.modules)))\n"
    )
    assert _python(code).split("\n")[-2] == "[]"


# ------------------------------------------------------------------ the cache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder for this test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CMF_CONFIG_CACHE_DIR", str(folder))
    monkeypatch.setattr(cache, "_STATE", {"disabled": False})
    monkeypatch.setattr(cache, "_MEMO", {})  # nothing kept in memory from an earlier test
    return folder


def _copy_mini(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "tests" / "data" / "mini", tmp_path / "mini")
    return tmp_path / "mini"


def _validate(capsys: pytest.CaptureFixture[str], mini: Path, *extra: str) -> tuple[int, str]:
    code, out, _ = run_cli(
        capsys,
        [
            "validate",
            str(mini / "configs" / "broken-rules.yaml"),
            "--catalog",
            str(mini / "catalog"),
            "--rules",
            str(mini / "rules"),
            "--format",
            "json",
            *extra,
        ],
    )
    return code, out


def test_cache_is_filled_then_used(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first run writes the compiled catalog; the second reads it and says the same."""
    mini = _copy_mini(tmp_path)
    first = _validate(capsys, mini)
    entries = sorted(p.name for p in cache_dir.iterdir())
    assert any(name.startswith("catalog-") for name in entries)
    assert not any(name.endswith(".tmp") for name in entries)
    assert _validate(capsys, mini) == first


def test_corrupt_cache_entry_is_ignored_and_rebuilt(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every entry truncated to garbage: the run gives the same answer and rewrites them."""
    mini = _copy_mini(tmp_path)
    expected = _validate(capsys, mini)
    for entry in cache_dir.iterdir():
        entry.write_bytes(b"\x80\x05garbage")
    cache._MEMO.clear()  # the next run is a new process: nothing kept in memory
    assert _validate(capsys, mini) == expected
    (catalog,) = cache_dir.glob("catalog-*.pickle")
    pickle.loads(catalog.read_bytes())  # rewritten whole


def test_changed_rules_or_catalog_file_is_read_again(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An edited rules file (or catalog file) is another key: the cache never answers stale."""
    mini = _copy_mini(tmp_path)
    code, out = _validate(capsys, mini)
    assert code == 1
    assert "no-tow-bar-on-ev" in out
    rules = mini / "rules" / "basic.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("severity: warning", "severity: error"),
        encoding="utf-8",
    )
    code, out = _validate(capsys, mini)
    broken = [d for f in json.loads(out)["files"] for d in f["diagnostics"]]
    assert any(d["rule"] == "no-tow-bar-on-ev" and d["severity"] == "error" for d in broken)
    modules = mini / "catalog" / "modules.yaml"
    modules.write_text(
        modules.read_text(encoding="utf-8").replace("Cockpit RHD", "Cockpit, right-hand drive"),
        encoding="utf-8",
    )
    code, out, _ = run_cli(
        capsys, ["catalog", "show", "ck-rhd", "--catalog", str(mini / "catalog")]
    )
    assert "name: Cockpit, right-hand drive" in out


def test_no_cache_writes_nothing(
    cache_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--no-cache neither reads nor writes the cache."""
    mini = _copy_mini(tmp_path)
    code, _ = _validate(capsys, mini, "--no-cache")
    assert code == 1
    assert not cache_dir.exists()


def test_unwritable_cache_folder_only_costs_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cache folder that cannot be created (a file is in the way) is skipped silently."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("CMF_CONFIG_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(cache, "_STATE", {"disabled": False})
    code, _ = _validate(capsys, _copy_mini(tmp_path))
    assert code == 1


# ------------------------------------------------------------------ Ctrl-C


# `share --all --no-cache` takes about 1.5 s on this machine (reading the catalog about 0.2 s):
# the last delay falls well inside the clustering, not at the exit (once the interpreter has
# restored the default handler, a SIGINT kills the process without the one line).
@pytest.mark.parametrize("delay", [0.15, 0.4, 1.0])
def test_ctrl_c_exits_130_without_a_traceback(delay: float, tmp_path: Path) -> None:
    """SIGINT while importing, loading or solving: exit 130, one line, no traceback."""
    env = dict(os.environ, CMF_CONFIG_CACHE_DIR=str(tmp_path / "cache"))
    # Before the interpreter has run entry.py no program can catch SIGINT (the default action
    # or site.py's KeyboardInterrupt applies). `--version` gets past entry.py under the same
    # load, so the signal never comes before that point, whatever the machine is doing.
    started = time.monotonic()
    subprocess.run([CMF, "--version"], env=env, capture_output=True, check=True)
    delay = max(delay, 1.5 * (time.monotonic() - started))
    process = subprocess.Popen(
        [CMF, "share", "--all", "--no-cache"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    if process.poll() is not None:
        pytest.skip(f"the command ended before {delay} s")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "cmf-config: interrupted"


def test_a_changed_cmf_config_never_reads_old_entries(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Regression: a model class gained a field (no version change) and the old pickle was read
    back without it. The key holds the package's code fingerprint: changed code, new key."""
    source = tmp_path / "f.yaml"
    source.write_text("a: 1\n", encoding="utf-8")
    builds: list[str] = []

    def build(_: str) -> str:
        builds.append("built")
        return f"value {len(builds)}"

    monkeypatch.setattr(cache, "code_fingerprint", lambda: "code A")
    assert cache.cached("t", [source], build) == "value 1"
    assert cache.cached("t", [source], build) == "value 1"  # from the cache
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "code B")
    assert cache.cached("t", [source], build) == "value 2"
    assert builds == ["built", "built"]


CACHED_QUESTIONS = [
    ["explain", "examples/invalid/city-ev-with-ice-bay.yaml"],
    ["explain", "--year", "2016", "examples/invalid/alpine-city-car-impossible.yaml"],
    ["options", "examples/partial-suv.yaml"],
    ["options", "--year", "2019", "examples/partial-suv.yaml", "--format", "json"],
    ["fix", "examples/invalid/uk-sedan-with-lhd-cockpit.yaml"],
    ["complete", "examples/partial-suv.yaml", "--minimize", "mass"],
    ["build", "examples/partial-suv.yaml"],
    ["validate", "examples/invalid/ev-battery-too-big.yaml", "examples/sedan.yaml"],
]


@pytest.mark.parametrize("args", CACHED_QUESTIONS, ids=" ".join)
def test_cached_engine_answers_as_a_fresh_one(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """The compiled rules, positions and engine from the cache give the answers (bytes, exit
    code) of a run that compiles everything afresh (--no-cache), with and without --year."""
    filled = run_cli(capsys, args)
    kinds = {p.name.split("-")[0] for p in cache_dir.iterdir()}
    assert {"catalog", "compiled"} <= kinds
    # Complete configurations are validated by their rules, without a CNF engine.
    assert ("engine" in kinds) == (args[0] != "validate")
    cache._MEMO.clear()
    assert run_cli(capsys, args) == filled  # every entry read back from disk
    assert run_cli(capsys, [*args, "--no-cache"]) == filled


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rule is used on Linux only")
@pytest.mark.parametrize("xdg", [None, "", "  ", "/tmp/xdg-cache"])
def test_cache_folder_is_platformdirs_one_on_linux(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None
) -> None:
    """The cache folder computed without importing platformdirs is the one it gives."""
    from platformdirs import user_cache_dir

    monkeypatch.delenv("CMF_CONFIG_CACHE_DIR", raising=False)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache.folder() == Path(user_cache_dir("cmf-config", appauthor=False))


def test_pickles_written_after_importing_orders_do_not_name_it() -> None:
    """Regression: orders.py registered its own MappingProxyType reducer, so the catalog
    cache written by any process that had imported it named `cmf_config.orders`, and a later
    `validate` unpickling that cache imported numpy, scipy and pyarrow (CI on a fresh
    machine failed the light-command import test)."""
    code = (
        "import pickle, types\n"
        "import cmf_config.cache, cmf_config.orders\n"
        "data = pickle.dumps(types.MappingProxyType({'a': 1}))\n"
        "assert b'cmf_config.orders' not in data, data\n"
        "assert pickle.loads(data) == {'a': 1}\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
