"""Whole-process start-up: what a user waits for, next to `python -c "import yaml"`.

Every row is a fresh process, as a user (or pre-commit, or CI) runs cmf-config. Rows are
measured side by side in interleaved rounds (one run of each per round), so a machine that is
busy for a while slows every row alike and the ratios stay fair. The baseline is
`python -c "import yaml"` in the same environment. "warm" runs find the compiled catalog in
the cache (one untimed run fills it); "empty cache" runs get a new, empty cache folder each
time (CMF_CONFIG_CACHE_DIR).

Bytecode: every row runs as installed Python packages run, with their compiled bytecode
(`pip install` writes it for site-packages; an editable checkout writes __pycache__ on first
import). The benchmark compiles cmf-config's sources once (compileall) and removes
PYTHONDONTWRITEBYTECODE from the children's environment (some sandboxes set it, which would
charge cmf-config, and not PyYAML, the compilation of its sources on every run).

Aims (issue 12): --help <= 150 ms; each command <= 3x the baseline with a warm cache and
<= 10x with an empty one.

Usage: python benchmarks/bench_startup.py [--quick] [--rounds N]. Prints a Markdown table of
medians (wall clock and CPU time, user + system) with their ratios to the baseline and whether
each aim is met, and the load average before and after. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CMF = str(BIN / "cmf-config")
SEDAN = "examples/sedan.yaml"
PARTIAL = "examples/partial-suv.yaml"
BROKEN = "examples/invalid/city-ev-with-ice-bay.yaml"

ROWS: list[tuple[str, list[str], str]] = [
    ('python -c "import yaml" (baseline)', [sys.executable, "-c", "import yaml"], "none"),
    ("cmf-config --help", [CMF, "--help"], "none"),
    ("validate sedan.yaml, warm cache", [CMF, "validate", SEDAN], "warm"),
    ("build sedan.yaml, warm cache", [CMF, "build", SEDAN], "warm"),
    ("explain city-ev-with-ice-bay.yaml, warm cache", [CMF, "explain", BROKEN], "warm"),
    ("options partial-suv.yaml, warm cache", [CMF, "options", PARTIAL], "warm"),
    ("validate sedan.yaml, empty cache", [CMF, "validate", SEDAN], "empty"),
    ("build sedan.yaml, empty cache", [CMF, "build", SEDAN], "empty"),
    ("explain city-ev-with-ice-bay.yaml, empty cache", [CMF, "explain", BROKEN], "empty"),
    ("options partial-suv.yaml, empty cache", [CMF, "options", PARTIAL], "empty"),
]


def _once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def _environment() -> dict[str, str]:
    """The children's environment: as a user's, with bytecode written and read."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure(rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of each row over `rounds` interleaved rounds."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in ROWS}
    base = _environment()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "cmf_config")],
        env=base,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        warm = dict(base, CMF_CONFIG_CACHE_DIR=str(Path(tmp) / "warm"))
        for _, command, cache in ROWS:  # fill the warm cache (untimed)
            if cache == "warm":
                _once(command, warm)
        for index in range(rounds):
            for name, command, cache in ROWS:
                if cache == "empty":
                    env = dict(base, CMF_CONFIG_CACHE_DIR=str(Path(tmp) / f"e{index}{name}"))
                else:
                    env = warm
                times[name].append(_once(command, env))
    return times


def table(times: dict[str, list[tuple[float, float]]]) -> str:
    """Markdown: median wall ms, ratio to the baseline, median CPU ms and its ratio, the aim."""
    base = statistics.median(w for w, _ in times[ROWS[0][0]])
    base_cpu = statistics.median(c for _, c in times[ROWS[0][0]])
    lines = [
        "| command (whole process) | median ms | x baseline | CPU ms | CPU x baseline | aim |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, _, cache in ROWS:
        median = statistics.median(w for w, _ in times[name])
        cpu = statistics.median(c for _, c in times[name])
        if name.startswith("cmf-config --help"):
            aim = "<= 150 ms " + ("met" if median <= 0.150 else "NOT met")
        elif cache == "warm":
            aim = "<= 3x " + ("met" if median <= 3 * base else "NOT met")
        elif cache == "empty":
            aim = "<= 10x " + ("met" if median <= 10 * base else "NOT met")
        else:
            aim = "(baseline)"
        lines.append(
            f"| {name} | {median * 1000:.0f} | {median / base:.1f} | {cpu * 1000:.0f} | {cpu / base_cpu:.1f} | {aim} |"
        )
    return "\n".join(lines)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds (a smoke run)")
    parser.add_argument("--rounds", type=int, default=15, metavar="N")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    print(
        f"start-up, whole processes, {rounds} interleaved rounds, medians"
        f" (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {_load()} at the start)"
    )
    times = measure(rounds)
    print(table(times))
    print(f"load average at the end: {_load()}; aims are judged on the wall-clock medians")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
