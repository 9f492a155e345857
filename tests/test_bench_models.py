"""benchmarks/bench_models.py keeps running: a --quick smoke run on one small shared model, and
the reading of each tool's whole-process output. No timing is asserted (speed is measured in
the benchmark, not in tests)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "bench_models.py"
PIZZAS = REPO.parent / "shared" / "benchmarks" / "models" / "flamapy-benchmarking" / "pizzas.uvl"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_models", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_run_measures_in_process_and_whole_process_and_checks_the_answers(
    tmp_path: Path,
) -> None:
    if not PIZZAS.is_file():
        pytest.skip("the shared models are not beside the repository")
    out = tmp_path / "models.json"
    run = [sys.executable, str(SCRIPT), "--quick", "--no-flamapy", "--runs", "1"]
    proc = subprocess.run(
        [*run, "--models", "pizzas", "--ops", "sat,core", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 disagreements" in proc.stdout
    assert "| flamapy-benchmarking/pizzas.uvl | core |" in proc.stdout
    (row,) = json.loads(out.read_text(encoding="utf-8"))["models"]
    sat, core = row["sat"], row["core"]
    # the whole process (`cmf-config model ... --format json`) answers as the library does
    assert sat["whole"]["cmf-config"]["result"] is True
    assert sat["cmf-config"]["result"] is True
    assert (
        sat["whole"]["cmf-config"]["command"]
        == "cmf-config model validate pizzas.uvl --format json"
    )
    assert core["whole"]["cmf-config"]["result"] == ["Dough", "Pizza", "Size", "Topping"]
    assert core["cmf-config"]["result"] == core["whole"]["cmf-config"]["result"]
    assert sat["whole"]["flamapy"] == {"status": "-"}  # --no-flamapy
    assert sat["agree"] == core["agree"] == "ours only"  # whole process = in process
    assert core["whole"]["cmf-config"]["cpu_s"] > 0


def test_flamapy_cli_output_is_read_as_its_runner_reports_it() -> None:
    module = bench()
    uvl, dimacs = Path("m.uvl"), Path("m.dimacs")
    assert module.flamapy_answer(uvl, "sat", "True\n") is True
    assert module.flamapy_answer(uvl, "count", "42\n") == "42"
    found = module.flamapy_answer(uvl, "core", "WARNING: x\n['Size', 'Pizza', \"it's\"]\n")
    assert found == ["Pizza", "Size", "it's"]
    runner = json.dumps({"parse_s": 0.1, "op_s": 0.2, "result": ["a"], "backend": "pysat"})
    assert module.flamapy_answer(dimacs, "dead", runner + "\n") == ["a"]


@pytest.mark.parametrize(
    ("path", "stdout"),
    [
        ("m.uvl", ""),  # flamapy printed nothing: its facade logged a FlamaException
        ("m.uvl", "Type error: unsupported operand\n"),
        ("m.dimacs", json.dumps({"error": "TransformationNotFound"}) + "\n"),
    ],
)
def test_a_flamapy_failure_is_no_answer(path: str, stdout: str) -> None:
    with pytest.raises((ValueError, SyntaxError)):
        bench().flamapy_answer(Path(path), "sat", stdout)


def test_ours_command_is_what_a_user_types() -> None:
    module = bench()
    shown = [module._shown(module.ours_command(PIZZAS, op)) for op in ("sat", "count", "dead")]
    assert shown == [
        "cmf-config model validate pizzas.uvl --format json",
        "cmf-config model count pizzas.uvl --format json",
        "cmf-config model lint pizzas.uvl --reasons 0 --format json",
    ]
