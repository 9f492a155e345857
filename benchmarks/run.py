"""Run every benchmark: one command, each benchmark in its own process, tables as they come.

The benchmarks are the ``benchmarks/bench_*.py`` scripts: the engine first (bench_engine.py),
then the parts-sharing analysis (bench_sharing.py) and the shared real-world models
(bench_models.py) when they exist, then any other ``bench_*.py`` in name order. Each runs with
this Python as a subprocess, so a crash or a hung native solver in one cannot take the others
down; its output goes straight to the terminal. ``--quick`` is passed through to every
benchmark (a smoke run of each). ``--only NAME`` runs one benchmark (engine, sharing, ...).

Usage: python benchmarks/run.py [--quick] [--only NAME]. The exit code is 0 when every
benchmark succeeded, else 1. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIRST = ("bench_engine.py", "bench_sharing.py", "bench_models.py")


def benchmarks() -> list[Path]:
    """The benchmark scripts in running order."""
    found = {path.name: path for path in HERE.glob("bench_*.py")}
    ordered = [found.pop(name) for name in FIRST if name in found]
    return ordered + [found[name] for name in sorted(found)]


def run(script: Path, quick: bool) -> tuple[int, float]:
    """Run one benchmark script; return its exit code and wall-clock seconds."""
    command = [sys.executable, str(script)]
    if quick:
        command.append("--quick")
    shown = " ".join(
        [Path(sys.executable).name, str(script.relative_to(HERE.parent)), *command[2:]]
    )
    print(f"\n=== {script.stem.removeprefix('bench_')}: {shown}", flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, check=False, cwd=HERE.parent)
    return done.returncode, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print a summary line for each."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of every benchmark")
    parser.add_argument("--only", metavar="NAME", help="run only bench_NAME.py")
    args = parser.parse_args(argv)
    scripts = benchmarks()
    if args.only:
        scripts = [s for s in scripts if s.stem == f"bench_{args.only}"]
        if not scripts:
            names = ", ".join(s.stem.removeprefix("bench_") for s in benchmarks())
            print(f"no benchmark '{args.only}' (there are: {names})", file=sys.stderr)
            return 2
    results = [(script, *run(script, args.quick)) for script in scripts]
    print("\n=== summary")
    for script, code, seconds in results:
        status = "ok" if code == 0 else f"FAILED (exit code {code})"
        print(f"{script.name:<24} {status:<24} {seconds:8.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
