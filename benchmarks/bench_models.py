"""cmf-config against flamapy 2.6.0 on the shared real-world variability models: one command.

    .venv/bin/python benchmarks/bench_models.py            # every shared model
    .venv/bin/python benchmarks/bench_models.py --quick    # the small models only
    .venv/bin/python benchmarks/bench_models.py --no-flamapy --models linux

For each model (../shared/benchmarks/models/**/*.uvl and *.dimacs) and each operation (parse,
sat, count, core, dead) it takes the median of --runs runs of each tool and prints a table with
the ratio flamapy/cmf-config, for the operation alone and end to end (reading the model plus
the operation, what one question costs a user). flamapy runs in its own virtual environment
(benchmarks/.venv-flamapy, created here with `pip install flamapy==2.6.0` when missing) through
benchmarks/flamapy_runner.py, one subprocess per run, with a per-run time-out (--timeout); a
run that does not finish shows as TIMEOUT, one that fails as FAIL; when flamapy cannot read a
model at all, its other operations (each of which reads the model first) show the same. Each flamapy run re-reads
the model, and its operation time includes its model-to-solver transformation; ours likewise
includes compiling the model to CNF. Ours runs in a forked child per operation (so that a
count no counter finishes can be stopped too). Results agree when counts are equal and
core/dead feature sets are the same; disagreements are printed. The JSON of every run goes to
benchmarks/results/models-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue as queue_module
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cmf_config.files import write_atomic

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "benchmarks" / "models"
VENV = ROOT / "benchmarks" / ".venv-flamapy"
RUNNER = ROOT / "benchmarks" / "flamapy_runner.py"
OPS = ("parse", "sat", "count", "core", "dead")
QUICK = ("flamapy-benchmarking/", "uvl-models/berkeleydb_featureide.uvl")
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a result disagrees."""
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
        "--markdown",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="print earlier result files (benchmarks/results/*.json) as one Markdown table, run nothing",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(args.markdown), end="")
        return 0
    if not MODELS.is_dir():
        print(f"no shared models at {MODELS}", file=sys.stderr)
        return 2
    ops = [o for o in args.ops.split(",") if o in OPS]
    python = None if args.no_flamapy else ensure_flamapy()
    rows: list[Result] = []
    disagreements = 0
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"models-{time.strftime('%Y%m%d-%H%M%S')}.json"
    print(
        f"machine: {os.cpu_count()} cores; runs: {args.runs}; flamapy time-out: {args.timeout:.0f}s per run\n"
        f"results: {out} (written after each model)\n",
        flush=True,
    )
    for path in models(args.models, args.quick):
        name = path.relative_to(MODELS).as_posix()
        row: Result = {"model": name}
        lines = {"cmf-config": [], "flamapy": [], "ratio": [], "ratio e2e": []}  # type: dict[str, list[str]]
        parse: dict[str, Result] = {}
        flamapy_cannot_read: Result | None = None
        notes: list[str] = []
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
            row[op] = {"cmf-config": ours, "flamapy": theirs}
            lines["cmf-config"].append(_cell(ours))
            lines["flamapy"].append(_cell(theirs))
            lines["ratio"].append(_ratio(ours, theirs))
            if op == "parse":
                parse = {"ours": ours, "theirs": theirs}
            lines["ratio e2e"].append(
                _ratio(_plus(parse.get("ours"), ours, op), _plus(parse.get("theirs"), theirs, op))
            )
            agree = _agreement(op, ours, theirs, path.suffix == ".dimacs")
            if op == "count" and ours.get("status") == "ok":
                notes.append(
                    f"count {str(ours['result'])[:24]}{'...' if len(str(ours['result'])) > 24 else ''} ({len(str(ours['result']))} digits, counter {ours.get('counter')})"
                )
            if op in ("core", "dead") and ours.get("status") == "ok":
                notes.append(f"{op} {len(ours['result'])}")  # type: ignore[arg-type]
            if agree is not None:
                notes.append(f"{op}: {agree}")
                disagreements += agree != "agree"
            if theirs.get("status") == "FAIL":
                notes.append(f"flamapy {op} failed: {str(theirs.get('error'))[:80]}")
        rows.append(row)
        print(f"{name}")
        print(f"  {'':11}" + "".join(f"{op:>12}" for op in ops))
        for tool, cells in lines.items():
            print(f"  {tool:11}" + "".join(f"{c:>12}" for c in cells))
        print("  " + "; ".join(notes) + "\n", flush=True)
        # after each model, so that a run stopped part way keeps what it measured
        write_atomic(
            out,
            json.dumps(
                {"runs": args.runs, "timeout": args.timeout, "models": rows}, indent=1, default=str
            )
            + "\n",
        )
    print(f"results: {out}")
    print(f"{disagreements} disagreement{'s' if disagreements != 1 else ''}")
    return 1 if disagreements else 0


_: Callable[..., object] = main

if __name__ == "__main__":
    raise SystemExit(main())
