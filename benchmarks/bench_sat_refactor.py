"""Before/after benchmark of the SAT-session refactor (issue 11): the same engine workloads
on the code just before sat.py was introduced and on the current code, side by side.

The "before" tree is a git worktree of the parent of the commit that added
src/cmf_config/sat.py (found with `git log --diff-filter=A`), made in a temporary folder and
removed afterwards (never committed). Each round runs one worker process per tree, in
alternating order, with PYTHONPATH pointing at that tree's src/; a worker loads its inputs
once, then times each workload (wall, and CPU of the worker and its children, such as d4)
and prints the figures as JSON. The table gives
the median over the rounds and the ratio after/before (below 1: the refactor is faster).

Workloads, on the catalog, rules and examples of the before tree (the same data for both:
the catalog has grown keys since, which the old loader does not know):
- compile: `Workspace(catalog, rules, configs)` (problem, rules, Engine, BOM positions);
  the catalog is loaded before the clock starts (the new tree also has a load cache);
- validate: every example configuration and every catalog vehicle (`Workspace.validate`);
- explain: the invalid examples (`Workspace.explain`, the minimal conflict);
- options: the partial example (`Workspace.options`, with reasons);
- fix: the invalid examples (`Workspace.fix`);
- bom-check: `variantbom.check` over every position;
- count: the whole catalog and one platform (`Engine.count`, d4);
and on feature models from ../shared/benchmarks/models (UVL): compile + is_satisfiable,
`core_dead`, `forced` under a selection (20 reasons), `lint` (20 reasons) and `count`.

Usage: python benchmarks/bench_sat_refactor.py [--rounds N] [--after REV] [--keep] [--quick]
(--after REV: time that commit, in a second temporary worktree, instead of this tree;
--quick: one round, the catalog workloads and one model; a smoke run). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "benchmarks" / "models"
MODEL_FILES = (
    "flamapy-benchmarking/GPL.uvl",
    "flamapy-benchmarking/jHipster.uvl",
    "softvare-fmb/eshop_Lau2006.uvl",
    "softvare-fmb/berkeleydb_Hierons2020.uvl",
)


# ------------------------------------------------------------------ the worker (one tree)


def _cpu() -> float:
    """CPU seconds of this process (to the nanosecond) and of its finished children (d4 runs
    as a child; the system counts theirs in clock ticks of 10 ms)."""
    children = os.times()
    return time.process_time() + children.children_user + children.children_system


def _timed(out: dict[str, list[float]], name: str, work: Callable[[], object]) -> object:
    wall, cpu = time.perf_counter(), _cpu()
    result = work()
    out[name] = [time.perf_counter() - wall, _cpu() - cpu]
    return result


def worker(data: Path, quick: bool) -> None:
    """Time every workload once with the cmf_config found on PYTHONPATH, on the catalog,
    rules and examples under `data`; print JSON."""
    import cmf_config
    from cmf_config import variantbom
    from cmf_config.featuremodel import FeatureAnalysis, compile_model
    from cmf_config.load import load_catalog
    from cmf_config.uvl import load_uvl
    from cmf_config.workspace import Workspace, load_configs

    print(Path(cmf_config.__file__).parents[1])  # which tree answered
    out: dict[str, list[float]] = {}
    catalog = load_catalog(data / "catalog")
    examples = data / "examples"
    paths = sorted(examples.glob("*.yaml")) + sorted((examples / "invalid").glob("*.yaml"))
    loaded, _problems = load_configs(catalog, [p for p in paths if p.name != "typos.yaml"])
    configs = [v.config for v in loaded]
    workspace = _timed(out, "catalog: compile", lambda: Workspace(catalog, data / "rules", configs))
    assert isinstance(workspace, Workspace)
    every = configs + [v.config for v in catalog.vehicles.values()]
    invalid = [v.config for v in loaded if "invalid" in v.config.span.path]
    partial = [v.config for v in loaded if "partial" in v.config.span.path]
    _timed(out, "catalog: validate", lambda: [workspace.validate(c) for c in every])
    _timed(out, "catalog: explain", lambda: [workspace.explain(c) for c in invalid])
    _timed(out, "catalog: options", lambda: [workspace.options(c) for c in partial])
    _timed(out, "catalog: fix", lambda: [workspace.fix(c) for c in invalid])
    _timed(
        out,
        "catalog: bom-check",
        lambda: variantbom.check(workspace.engine, workspace.positions),
    )
    platform = workspace.problem.slot("platform").index("cmf-b-hs")
    assert platform is not None
    _timed(out, "catalog: count", lambda: workspace.engine.count({}))
    _timed(out, "catalog: count cmf-b-hs", lambda: workspace.engine.count({"platform": platform}))

    for name in MODEL_FILES[:1] if quick else MODEL_FILES:
        path = MODELS / name
        if not path.is_file():
            continue
        short = Path(name).stem
        model = load_uvl(path)

        def compiled(model: object = model) -> FeatureAnalysis:
            analysis = FeatureAnalysis(compile_model(model))  # type: ignore[arg-type]
            analysis.is_satisfiable()
            return analysis

        analysis = _timed(out, f"{short}: compile+sat", compiled)
        assert isinstance(analysis, FeatureAnalysis)
        found = _timed(out, f"{short}: core_dead", lambda a=analysis: a.core_dead({}))
        optional = [f for f in analysis.names if f not in found.core and f not in found.dead]  # type: ignore[attr-defined]
        selection = {optional[0]: True} if optional else {}
        _timed(out, f"{short}: forced", lambda a=analysis, s=selection: a.forced(s, 20))
        _timed(out, f"{short}: lint", lambda a=analysis: a.lint(20))
        _timed(out, f"{short}: count", lambda a=analysis: a.count())
    print(json.dumps(out))


# ------------------------------------------------------------------ the driver


def _before_commit() -> str:
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "src/cmf_config/sat.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise SystemExit("cannot find the commit that added src/cmf_config/sat.py")
    return added[-1] + "^"


def _run(src: Path, data: Path, quick: bool) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=str(src), CMF_CONFIG_CACHE_DIR=tempfile.mkdtemp())
    args = [sys.executable, __file__, "--worker", str(data)] + (["--quick"] if quick else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker on {src} failed:\n{done.stderr}")
    lines = done.stdout.splitlines()
    if Path(lines[0]) != src:
        raise SystemExit(f"the worker for {src} imported cmf_config from {lines[0]}")
    figures: dict[str, list[float]] = json.loads(lines[-1])
    return figures


def _worktree(commit: str, name: str) -> Path:
    """A detached worktree of `commit` in a temporary folder (removed at the end)."""
    tree = Path(tempfile.mkdtemp(prefix=f"cmf-{name}-")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(tree), commit],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return tree


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--after", default=None, metavar="REV", help="time REV, not this tree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary trees")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.quick)
        return
    rounds = 1 if args.quick else args.rounds
    commit = _before_commit()
    sha = subprocess.run(
        ["git", "rev-parse", "--short", commit],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    old = _worktree(commit, "before")
    made = [old]
    new = ROOT
    if args.after is not None:
        new = _worktree(args.after, "after")
        made.append(new)
    trees = {"before": old / "src", "after": new / "src"}
    runs: dict[str, list[dict[str, list[float]]]] = {"before": [], "after": []}
    after = "this tree" if args.after is None else args.after
    print(f"before: {sha} (parent of the commit that added sat.py); after: {after}")
    print(f"load average at start: {_load()} ({os.cpu_count()} CPUs)")
    try:
        for index in range(rounds):
            order = ("before", "after") if index % 2 == 0 else ("after", "before")
            for which in order:
                runs[which].append(_run(trees[which], old, args.quick))
    finally:
        for tree in made if not args.keep else []:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            )
    print(f"load average at end:   {_load()}; {rounds} rounds, medians in ms")
    header = f"{'workload':34} {'before':>9} {'after':>9} {'ratio':>6} {'cpu before':>11} {'cpu after':>10} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name in runs["after"][0]:
        if not all(name in r for r in runs["before"]):
            continue
        cells = []
        for column in (0, 1):
            before = statistics.median(r[name][column] for r in runs["before"]) * 1000
            after = statistics.median(r[name][column] for r in runs["after"]) * 1000
            ratio = after / before if before > 0 else float("nan")
            cells.append((before, after, ratio))
        (wb, wa, wr), (cb, ca, cr) = cells
        print(f"{name:34} {wb:9.1f} {wa:9.1f} {wr:6.2f} {cb:11.1f} {ca:10.1f} {cr:6.2f}")


if __name__ == "__main__":
    main()
