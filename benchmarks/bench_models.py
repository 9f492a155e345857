"""cmf-config against flamapy 2.6.0 on the shared real-world variability models: one command.

    .venv/bin/python benchmarks/bench_models.py            # every shared model
    .venv/bin/python benchmarks/bench_models.py --quick    # the small models only
    .venv/bin/python benchmarks/bench_models.py --no-flamapy --models linux

For each model (../shared/benchmarks/models/**/*.uvl and *.dimacs) and each operation (parse,
sat, count, core, dead) it takes the median of --runs runs of each tool, two ways:

- in process: the library call alone, imports excluded, for the operation alone and end to end
  (reading the model plus the operation). Ours runs in a forked child per operation (so that a
  count no counter finishes can be stopped too); flamapy through benchmarks/flamapy_runner.py,
  which times its own calls, one subprocess per run.
- whole process (sat, count, core, dead; not with --no-whole): a fresh process as a user starts
  it, start-up included, wall-clock and CPU time (the process and its children). Ours is
  `cmf-config model validate|count|lint FILE --format json` (lint with --reasons 0, since
  flamapy gives no reasons; its JSON holds both core and dead); flamapy's is its CLI
  (`flamapy satisfiable|configurations_number|core_features|dead_features FILE`) for UVL,
  and for DIMACS, which its CLI does not read, flamapy_runner.py, a short script through its
  Python API. The two tools' runs are interleaved (the order alternating), so that a busy spell
  of the shared machine slows both alike.

Ratios are flamapy/cmf-config: below 1x cmf-config is slower. flamapy runs in its own virtual
environment (benchmarks/.venv-flamapy, created here with `pip install flamapy==2.6.0` when
missing; the same Python) with a per-run time-out (--timeout); a run that does not finish shows
as TIMEOUT, one that fails as FAIL; when flamapy cannot read a model at all, its other
operations (each of which reads the model first) show the same, and a question that timed out
or failed in process is not run again as a whole process. Each flamapy run re-reads the model,
and its operation time includes its model-to-solver transformation; ours likewise includes
compiling the model to CNF. Answers are compared: the two tools with each other (counts equal,
sat equal, core/dead feature sets the same) and each tool's whole-process answer with its
in-process one; disagreements are printed and make the exit code 1. The run ends with one
Markdown table (in process and whole process side by side); the JSON of every run goes to
benchmarks/results/models-<time>.json (or --out).
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import multiprocessing as mp
import os
import queue as queue_module
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from cmf_config.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "benchmarks" / "models"
VENV = ROOT / "benchmarks" / ".venv-flamapy"
RUNNER = ROOT / "benchmarks" / "flamapy_runner.py"
CMF = Path(sys.executable).parent / "cmf-config"
OPS = ("parse", "sat", "count", "core", "dead")
WHOLE_OPS = ("sat", "count", "core", "dead")  # parse is no question a user asks
FLAMAPY_CLI = {
    "sat": "satisfiable",
    "count": "configurations_number",
    "core": "core_features",
    "dead": "dead_features",
}
QUICK = (
    "flamapy-benchmarking/",
    "uvl-models/berkeleydb_featureide.uvl",
    "softvare-fmb/berkeleydb_Hierons2020.dimacs",
)
SLOW_RUN_S = 20.0  # a run slower than this is not repeated

Result = dict[str, object]


def ensure_flamapy() -> Path | None:
    """The flamapy venv's python, creating the venv when missing; None if it cannot be set up."""
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    print(f"creating {VENV} and installing flamapy==2.6.0 ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "flamapy==2.6.0"], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"flamapy could not be installed ({exc}); running cmf-config only", flush=True)
        return None
    return python


# ------------------------------------------------------------------ ours


def _ours_once(path: str, op: str) -> Result:
    from cmf_config.dimacs import load_dimacs
    from cmf_config.featuremodel import FeatureAnalysis, compile_model
    from cmf_config.uvl import load_uvl

    start = time.perf_counter()
    model = load_dimacs(Path(path)) if path.endswith(".dimacs") else load_uvl(Path(path))
    parse_s = time.perf_counter() - start
    if op == "parse":
        return {"op_s": parse_s, "result": len(model.features)}
    start = time.perf_counter()
    analysis = FeatureAnalysis(compile_model(model))
    result: object
    extra: Result = {}
    if op == "sat":
        result = analysis.is_satisfiable()
    elif op == "count":
        result = str(analysis.count())
        extra = {"counter": analysis.last_counter}
    elif op == "core":
        result = sorted(analysis.core_dead(dead=False).core)
    else:
        result = sorted(analysis.core_dead(core=False).dead)
    return {"op_s": time.perf_counter() - start, "result": result, **extra}


def _ours_child(path: str, op: str, runs: int, queue: mp.Queue[Result]) -> None:
    times: list[float] = []
    last: Result = {}
    for _ in range(runs):
        last = _ours_once(path, op)
        times.append(float(str(last["op_s"])))
        if times[-1] > SLOW_RUN_S:
            break
    queue.put({**last, "times": times})


def run_ours(path: Path, op: str, runs: int, timeout: float) -> Result:
    """Median seconds and result of our operation, in a forked child (TIMEOUT after `timeout`)."""
    ctx = mp.get_context("fork")
    queue: mp.Queue[Result] = ctx.Queue()
    child = ctx.Process(target=_ours_child, args=(str(path), op, runs, queue))
    child.start()
    try:
        got = queue.get(timeout=timeout + SLOW_RUN_S * runs)
    except queue_module.Empty:  # the child did not finish in time
        child.kill()
        child.join()
        return {"status": "TIMEOUT"}
    child.join()
    times = [float(t) for t in got.pop("times")]  # type: ignore[attr-defined]
    return {"status": "ok", "median_s": statistics.median(times), "runs": len(times), **got}


# ------------------------------------------------------------------ flamapy


def run_flamapy(python: Path, path: Path, op: str, runs: int, timeout: float) -> Result:
    """Median seconds (parse or operation) and result of one flamapy operation over `runs` runs."""
    times: list[float] = []
    last: Result = {}
    for _ in range(runs):
        try:
            proc = subprocess.run(
                [str(python), str(RUNNER), str(path), op],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"status": "TIMEOUT"}
        try:
            last = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"status": "FAIL", "error": (proc.stderr or proc.stdout)[-300:]}
        if "error" in last:
            return {"status": "FAIL", "error": last["error"]}
        key = "parse_s" if op == "parse" else "op_s"
        times.append(float(str(last[key])))
        if times[-1] > SLOW_RUN_S:
            break
    return {
        "status": "ok",
        "median_s": statistics.median(times),
        "runs": len(times),
        "result": last.get("result"),
        "backend": last.get("backend"),
    }


# ------------------------------------------------------------------ whole processes


def ours_command(path: Path, op: str) -> list[str]:
    """The command a cmf-config user runs for `op` (docs/interchange.md)."""
    question = {"sat": ["validate"], "count": ["count"]}.get(op, ["lint", "--reasons", "0"])
    return [str(CMF), "model", question[0], str(path), *question[1:], "--format", "json"]


def flamapy_command(python: Path, path: Path, op: str) -> list[str]:
    """The command a flamapy user runs for `op`: its CLI for UVL; for DIMACS, which the CLI
    does not read, a short script through flamapy's Python API (flamapy_runner.py)."""
    if path.suffix == ".uvl":
        return [str(python.parent / "flamapy"), FLAMAPY_CLI[op], str(path)]
    return [str(python), str(RUNNER), str(path), op]


def ours_answer(op: str, stdout: str) -> object:
    """The answer in the JSON document of `ours_command`, shaped as `_ours_once` returns it."""
    doc = json.loads(stdout)
    if op == "sat":
        return bool(doc["valid"])
    if op == "count":
        return str(doc["count"])
    return sorted(doc.get(op) or [])


def flamapy_answer(path: Path, op: str, stdout: str) -> object:
    """The answer flamapy printed, shaped as flamapy_runner.py returns it (ValueError if none).

    The CLI prints the result's repr and nothing (exit 0) or an "... error: ..." line when it
    fails."""
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    if path.suffix != ".uvl":
        found = json.loads(last)
        if "error" in found:
            raise ValueError(str(found["error"]))
        return found["result"]
    result = ast.literal_eval(last)
    if isinstance(result, bool):
        return result
    if isinstance(result, int):
        return str(result)
    if isinstance(result, list | set | tuple):
        return sorted(str(x) for x in result)
    raise ValueError(f"unexpected output: {last[:80]}")


WHOLE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Whole processes run with bytecode, as installed packages do (flamapy's, installed by pip,
has its own; cmf-config's sources are compiled once by `main`): some sandboxes set
PYTHONDONTWRITEBYTECODE, which would charge only the editable checkout its compilation."""


def _timed(command: list[str], timeout: float) -> tuple[float, float, str | None, int]:
    """Wall and CPU seconds (the process and its children), stdout (None past the time-out)
    and the exit code of one fresh process, run from the repository as a user would."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=WHOLE_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # so that a time-out stops its children too (d4's workers)
    )
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return time.perf_counter() - start, 0.0, None, -1
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, stdout, proc.returncode


def run_whole(
    commands: dict[str, list[str] | None],
    answers: dict[str, Callable[[str], object]],
    runs: int,
    timeouts: dict[str, float],
) -> dict[str, Result]:
    """Each tool's command as a fresh process, `runs` times, interleaved (one run of each per
    round, the order alternating), so that a busy spell of the shared machine slows both.

    A tool whose command is None is not run ("-"); a run past its time-out is TIMEOUT, one
    whose output holds no answer is FAIL; a run over SLOW_RUN_S is not repeated."""
    out: dict[str, Result] = {t: {"status": "-"} for t, c in commands.items() if c is None}
    walls: dict[str, list[float]] = {t: [] for t, c in commands.items() if c is not None}
    cpus: dict[str, list[float]] = {t: [] for t in walls}
    results: dict[str, object] = {}
    for index in range(runs):
        order = list(walls) if index % 2 == 0 else list(reversed(walls))
        for tool in order:
            if tool in out or (walls[tool] and walls[tool][-1] > SLOW_RUN_S):
                continue
            command = commands[tool]
            assert command is not None
            wall, cpu, stdout, code = _timed(command, timeouts[tool])
            if stdout is None:
                out[tool] = {"status": "TIMEOUT", "command": _shown(command)}
                continue
            try:
                results[tool] = answers[tool](stdout)
            except (ValueError, KeyError, TypeError, SyntaxError, IndexError) as exc:
                out[tool] = {
                    "status": "FAIL",
                    "error": f"exit {code}: {exc}"[:200],
                    "command": _shown(command),
                }
                continue
            walls[tool].append(wall)
            cpus[tool].append(cpu)
    for tool, times in walls.items():
        if tool not in out:
            out[tool] = {
                "status": "ok",
                "median_s": statistics.median(times),
                "cpu_s": statistics.median(cpus[tool]),
                "runs": len(times),
                "result": results[tool],
                "command": _shown(commands[tool] or []),
            }
    return out


def _shown(command: list[str]) -> str:
    """A command as a user would type it: tools by name, paths relative to the models."""
    words = [Path(command[0]).name, *command[1:]]
    if words[0].startswith("python"):
        words[1] = Path(words[1]).name
    return " ".join(Path(w).name if w.startswith(str(MODELS)) else w for w in words)


# ------------------------------------------------------------------ report


def _cell(r: Result) -> str:
    if r.get("status") != "ok":
        return str(r.get("status", "-"))
    seconds = float(str(r["median_s"]))
    return f"{seconds * 1000:.1f}ms" if seconds < 1 else f"{seconds:.2f}s"


def _ratio(ours: Result, theirs: Result) -> str:
    if ours.get("status") != "ok":
        return "-"
    if theirs.get("status") != "ok":
        return "only ours" if theirs.get("status") in ("TIMEOUT", "FAIL") else "-"
    a, b = float(str(ours["median_s"])), float(str(theirs["median_s"]))
    if a <= 0:
        return "inf"
    return f"{b / a:.0f}x" if b / a >= 10 else f"{b / a:.1f}x"


def _plus(parse: Result | None, op_result: Result, op: str) -> Result:
    """End to end: reading the model plus the operation (what one question costs a user)."""
    if op == "parse" or parse is None:
        return op_result
    if parse.get("status") != "ok" or op_result.get("status") != "ok":
        return op_result if op_result.get("status") != "ok" else parse
    return {
        **op_result,
        "median_s": float(str(parse["median_s"])) + float(str(op_result["median_s"])),
    }


def _agreement(op: str, ours: Result, theirs: Result, dimacs: bool) -> str | None:
    if ours.get("status") != "ok" or theirs.get("status") != "ok" or op == "parse":
        return None
    if op == "count":
        return (
            "agree"
            if str(ours["result"]) == str(theirs["result"])
            else f"DIFFER (ours {ours['result']}, flamapy {theirs['result']})"
        )
    if op == "sat":
        return "agree" if ours["result"] == theirs["result"] else "DIFFER"
    a, b = set(ours["result"]), set(theirs["result"])  # type: ignore[call-overload]
    if dimacs:
        # flamapy's DIMACS reader keeps a name only up to its first space
        a = {str(n).split()[0] if str(n).split() else n for n in a}
    return (
        "agree"
        if a == b
        else f"DIFFER (only ours: {sorted(a - b)[:5]}, only flamapy: {sorted(b - a)[:5]})"
    )


def models(selected: list[str], quick: bool) -> list[Path]:
    """The shared model files to run, small ones first."""
    found = sorted(
        [*MODELS.glob("*/*.uvl"), *MODELS.glob("*/*.dimacs")],
        key=lambda p: (p.stat().st_size, p.name),
    )
    rel = {p: p.relative_to(MODELS).as_posix() for p in found}
    if quick:
        found = [p for p in found if rel[p].startswith(QUICK)]
    if selected:
        found = [p for p in found if any(s in rel[p] for s in selected)]
    return found


def markdown(paths: list[Path]) -> str:
    """Earlier result files as one Markdown table: a row per model, a column per operation.

    Each cell is "ours / flamapy (ratio)"; for sat, count, core and dead the ratio is end to end
    (reading the model plus the operation), for parse the reading alone. A model found in
    several files takes each operation from the last file that has it.
    """
    merged: dict[str, Result] = {}
    for path in paths:
        for found in json.loads(path.read_text(encoding="utf-8"))["models"]:
            merged.setdefault(str(found["model"]), {}).update(found)
    out = [
        "| model | parse | sat | count | core | dead | count (counter) | core / dead |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in merged.items():
        out.append(f"| {name} | " + " | ".join(_markdown_cells(row)) + " |")
    return "\n".join(out) + "\n"


def _markdown_cells(row: Result) -> list[str]:
    parse: dict[str, Result] = {}
    cells: list[str] = []
    for op in OPS:
        if op not in row:
            cells.append("")
            continue
        ours, theirs = row[op]["cmf-config"], row[op]["flamapy"]  # type: ignore[index]
        if op == "parse":
            parse = {"ours": ours, "theirs": theirs}
        ratio = _ratio(_plus(parse.get("ours"), ours, op), _plus(parse.get("theirs"), theirs, op))
        cells.append(f"{_cell(ours)} / {_cell(theirs)} ({ratio})")
    count = row.get("count", {}).get("cmf-config", {})  # type: ignore[attr-defined]
    if count.get("status") == "ok":
        text = str(count["result"])
        shown = text if len(text) <= 12 else f"{len(text)} digits"
        cells.append(f"{shown} ({count.get('counter')})")
    else:
        cells.append(str(count.get("status", "")))
    sizes = []
    for op in ("core", "dead"):
        ours = row.get(op, {}).get("cmf-config", {})  # type: ignore[attr-defined]
        sizes.append(str(len(ours["result"])) if ours.get("status") == "ok" else "-")
    cells.append(" / ".join(sizes))
    return cells


def whole_table(rows: list[Result]) -> str:
    """One Markdown table, a row per model and question: in process and whole process side by
    side, each "cmf-config / flamapy (flamapy/cmf-config)"; below 1x cmf-config is slower.

    In process is end to end (reading the model plus the operation, imports excluded) when the
    row has a parse figure; whole process is the wall-clock time of a fresh process as a user
    starts it, and its CPU time (the process and its children) beside it.
    """
    out = [
        "| model | question | in process | whole process | whole process, CPU | agree |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        parse = cast("dict[str, Result]", row.get("parse") or {})
        for op in WHOLE_OPS:
            cell = cast("dict[str, Result]", row.get(op) or {})
            if "whole" not in cell:
                continue
            ours, theirs = cell["cmf-config"], cell["flamapy"]
            inside = _pair(
                _plus(parse.get("cmf-config"), ours, op), _plus(parse.get("flamapy"), theirs, op)
            )
            whole = cast("dict[str, Result]", cell["whole"])
            w_ours, w_theirs = whole["cmf-config"], whole["flamapy"]
            cpu = _pair(_cpu(w_ours), _cpu(w_theirs))
            agree = str(cell.get("agree", ""))
            if agree in ("yes", "-", "ours only"):  # older result files said "yes" for both
                agree = _compared(cast(Result, cell))
            out.append(
                f"| {row['model']} | {op} | {inside} | {_pair(w_ours, w_theirs)} | {cpu} | {agree} |"
            )
    return "\n".join(out) + "\n"


def _pair(ours: Result, theirs: Result) -> str:
    return f"{_cell(ours)} / {_cell(theirs)} ({_ratio(ours, theirs)})"


def _cpu(r: Result) -> Result:
    return {**r, "median_s": r["cpu_s"]} if r.get("status") == "ok" else r


def _whole_for(
    python: Path | None, path: Path, op: str, ours: Result, theirs: Result, args: argparse.Namespace
) -> dict[str, Result]:
    """Both tools' whole-process figures for one question. A tool whose in-process run timed
    out or failed is not run again (a whole process does that work and more): it keeps that
    status."""
    commands: dict[str, list[str] | None] = {
        "cmf-config": ours_command(path, op) if ours.get("status") == "ok" else None,
        "flamapy": flamapy_command(python, path, op)
        if python is not None and theirs.get("status") == "ok"
        else None,
    }
    whole = run_whole(
        commands,
        {
            "cmf-config": functools.partial(ours_answer, op),
            "flamapy": functools.partial(flamapy_answer, path, op),
        },
        args.runs,
        {"cmf-config": args.ours_timeout, "flamapy": args.timeout},
    )
    for tool, inside in (("cmf-config", ours), ("flamapy", theirs)):
        if commands[tool] is None and inside.get("status") in ("TIMEOUT", "FAIL"):
            whole[tool] = {"status": inside["status"], "note": "as in process"}
    return whole


def _check(op: str, path: Path, cell: Result) -> list[str]:
    """Disagreements of one question: each tool's whole process against its in-process
    answer, and the two tools against each other (in process and whole process)."""
    dimacs = path.suffix == ".dimacs"
    found: list[str] = []
    whole: dict[str, Result] = cell.get("whole", {})  # type: ignore[assignment]
    for tool in ("cmf-config", "flamapy"):
        inside: Result = cell[tool]  # type: ignore[assignment]
        outside = whole.get(tool, {})
        both = inside.get("status") == outside.get("status") == "ok"
        if both and inside["result"] != outside["result"]:
            found.append(f"{tool} whole process DIFFERS from in process")
    pairs = [(cell["cmf-config"], cell["flamapy"], "in process")]
    if whole:
        pairs.append((whole["cmf-config"], whole["flamapy"], "whole process"))
    for ours, theirs, where in pairs:
        agree = _agreement(op, ours, theirs, dimacs)  # type: ignore[arg-type]
        if agree is not None and agree != "agree":
            found.append(f"{where}: {agree}")
    return found


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="only the small models (with published values)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per tool and operation (median; default 3)"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per run before TIMEOUT (default 120)"
    )
    parser.add_argument(
        "--ours-timeout", type=float, default=900.0, help="seconds per run of ours (default 900)"
    )
    parser.add_argument(
        "--models",
        nargs="*",
        default=[],
        metavar="TEXT",
        help="only models whose path contains TEXT",
    )
    parser.add_argument(
        "--ops", default=",".join(OPS), help="comma-separated operations (default: all)"
    )
    parser.add_argument("--no-flamapy", action="store_true", help="run cmf-config only")
    parser.add_argument(
        "--no-whole",
        action="store_true",
        help="in process only: no fresh process per question (much shorter)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the JSON results file (default benchmarks/results/models-<time>.json)",
    )
    parser.add_argument(
        "--markdown",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="print earlier result files (benchmarks/results/*.json) as Markdown tables, run nothing",
    )
    return parser


def run_model(
    path: Path, ops: list[str], python: Path | None, args: argparse.Namespace
) -> tuple[Result, int]:
    """Every operation of one model with both tools (printed as it goes); the row and the
    number of questions on which the answers disagree."""
    name = path.relative_to(MODELS).as_posix()
    row: Result = {"model": name}
    lines: dict[str, list[str]] = {"cmf-config": [], "flamapy": [], "ratio": [], "ratio e2e": []}
    if not args.no_whole:
        lines.update({"whole ours": [], "whole flamapy": [], "ratio whole": []})
    parse: dict[str, Result] = {}
    flamapy_cannot_read: Result | None = None
    notes: list[str] = []
    disagreements = 0
    for op in ops:
        ours = run_ours(path, op, args.runs, args.ours_timeout)
        theirs: Result
        if python is None:
            theirs = {"status": "-"}
        elif flamapy_cannot_read is not None:
            theirs = dict(flamapy_cannot_read)  # every operation re-reads the model first
        else:
            theirs = run_flamapy(python, path, op, args.runs, args.timeout)
            if op == "parse" and theirs.get("status") in ("TIMEOUT", "FAIL"):
                flamapy_cannot_read = theirs
        cell: Result = {"cmf-config": ours, "flamapy": theirs}
        row[op] = cell
        lines["cmf-config"].append(_cell(ours))
        lines["flamapy"].append(_cell(theirs))
        lines["ratio"].append(_ratio(ours, theirs))
        if op == "parse":
            parse = {"ours": ours, "theirs": theirs}
        lines["ratio e2e"].append(
            _ratio(_plus(parse.get("ours"), ours, op), _plus(parse.get("theirs"), theirs, op))
        )
        if not args.no_whole:
            w_ours: Result = {"status": ""}
            w_theirs: Result = {"status": ""}
            if op in WHOLE_OPS:
                whole = _whole_for(python, path, op, ours, theirs, args)
                cell["whole"] = whole
                w_ours, w_theirs = whole["cmf-config"], whole["flamapy"]
            lines["whole ours"].append(_cell(w_ours))
            lines["whole flamapy"].append(_cell(w_theirs))
            lines["ratio whole"].append(_ratio(w_ours, w_theirs) if op in WHOLE_OPS else "")
        notes.extend(_notes(op, path, cell))
        disagreements += "agree" in cell and cell["agree"] not in ("yes", "ours only", "-")
    print(f"{name}")
    print(f"  {'':13}" + "".join(f"{op:>12}" for op in ops))
    for tool, cells in lines.items():
        print(f"  {tool:13}" + "".join(f"{c:>12}" for c in cells))
    print("  " + "; ".join(notes) + "\n", flush=True)
    return row, disagreements


def _notes(op: str, path: Path, cell: Result) -> list[str]:
    """What a model's printout says of one question; sets cell["agree"] (not for parse):
    "yes", "-" (nothing to compare) or the disagreements."""
    ours: Result = cell["cmf-config"]  # type: ignore[assignment]
    theirs: Result = cell["flamapy"]  # type: ignore[assignment]
    notes: list[str] = []
    if op == "count" and ours.get("status") == "ok":
        text = str(ours["result"])
        notes.append(
            f"count {text[:24]}{'...' if len(text) > 24 else ''} ({len(text)} digits, counter {ours.get('counter')})"
        )
    if op in ("core", "dead") and ours.get("status") == "ok":
        notes.append(f"{op} {len(ours['result'])}")  # type: ignore[arg-type]
    if op != "parse":
        differ = _check(op, path, cell)
        cell["agree"] = "; ".join(differ) if differ else _compared(cell)
        notes.append(f"{op}: {'agree' if cell['agree'] == 'yes' else cell['agree']}")
    if theirs.get("status") == "FAIL":
        notes.append(f"flamapy {op} failed: {str(theirs.get('error'))[:80]}")
    return notes


def _compared(cell: Result) -> str:
    """What was compared, when nothing disagreed: "yes" (the two tools' answers), "ours only"
    (flamapy gave none; cmf-config's whole-process answer equals its in-process one) or "-"."""
    whole = cast("dict[str, Result]", cell.get("whole", {}))
    inside = [cast(Result, cell["cmf-config"]), cast(Result, cell["flamapy"])]
    for ours, theirs in (inside, [whole.get("cmf-config", {}), whole.get("flamapy", {})]):
        if ours.get("status") == theirs.get("status") == "ok":
            return "yes"
    answers = [inside[0], whole.get("cmf-config", {})]
    return "ours only" if all(a.get("status") == "ok" for a in answers) else "-"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a result disagrees."""
    parser = _arguments()
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(args.markdown), end="")
        found = [r for p in args.markdown for r in json.loads(p.read_text("utf-8"))["models"]]
        if any("whole" in r.get(op, {}) for r in found for op in WHOLE_OPS):
            print("\n" + whole_table(found), end="")
        return 0
    if not MODELS.is_dir():
        print(f"no shared models at {MODELS}", file=sys.stderr)
        return 2
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    ops = [o for o in args.ops.split(",") if o in OPS]
    python = None if args.no_flamapy else ensure_flamapy()
    subprocess.run(  # cmf-config's bytecode, as an installed package has it
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "cmf_config")],
        env=WHOLE_ENV,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    rows: list[Result] = []
    disagreements = 0
    out: Path = (
        args.out
        or ROOT / "benchmarks" / "results" / f"models-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} cores, load average {load} at the start; runs: {args.runs}; "
        f"flamapy time-out: {args.timeout:.0f}s per run\n"
        f"results: {out} (written after each model)\n",
        flush=True,
    )
    for path in models(args.models, args.quick):
        row, differ = run_model(path, ops, python, args)
        rows.append(row)
        disagreements += differ
        # after each model, so that a run stopped part way keeps what it measured
        write_atomic(
            out,
            json.dumps(
                {"runs": args.runs, "timeout": args.timeout, "models": rows}, indent=1, default=str
            )
            + "\n",
        )
    if not args.no_whole and rows:
        print(whole_table(rows))
    print(f"results: {out}")
    print(f"{disagreements} disagreement{'s' if disagreements != 1 else ''}")
    return 1 if disagreements else 0


_: Callable[..., object] = main

if __name__ == "__main__":
    raise SystemExit(main())
