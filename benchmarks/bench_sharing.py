"""Benchmark the fleet sharing analysis: vectorised (sharing.py) vs a plain pairwise set loop.

A synthetic fleet (seeded, so every run sees the same data) of 2,000 products with about
3,000 distinct part numbers each, drawn from 100,000 part numbers: products belong to
platforms and take about 60 % of their parts from their platform's pool, the rest from
anywhere. The task timed is what ``cmf-config share`` does for a fleet: the full Dice
matrix (`fleet_matrix`) plus the family indices (`family_indices`).

The baseline is the obvious code: one frozenset per product and ``len(a & b)`` for every
pair. For the full fleet that would take well over two minutes, so its pair loop is timed
on a subsample of products and extrapolated by the number of pairs (the output says so);
its set building and family indices are timed on the whole fleet.

Usage: python benchmarks/bench_sharing.py [--quick] [--runs N] [--seed S]
(--quick: 200 products, for smoke runs). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cmf_config.sharing import (
    PartUse,
    ProductBom,
    family_indices,
    fleet_matrix,
)

BASELINE_BUDGET_S = 120.0  # above this estimated time the baseline's pair loop is subsampled
SUBSAMPLE_TARGET_S = 15.0  # aim for a subsample pair loop of about this long per run
Matrix = list[list[float | None]]


def make_fleet(
    products: int, parts: int, part_numbers: int, platforms: int, seed: int
) -> list[ProductBom]:
    """Build the synthetic fleet; quantities and part-number strings are shared objects."""
    rng = np.random.default_rng(seed)
    names = [f"PN-{k:06d}" for k in range(part_numbers)]
    quantities = (1.0, 2.0, 4.0)
    pools = [rng.choice(part_numbers, size=2 * parts, replace=False) for _ in range(platforms)]
    fleet: list[ProductBom] = []
    for k in range(products):
        size = int(rng.integers(int(parts * 0.85), int(parts * 1.15) + 1))
        own = rng.choice(pools[k % platforms], size=int(size * 0.6), replace=False)
        anywhere = rng.integers(0, part_numbers, size=size - len(own))
        chosen = np.unique(np.concatenate([own, anywhere]))
        lines = tuple(PartUse(part=names[j], quantity=quantities[j % 3]) for j in chosen.tolist())
        fleet.append(ProductBom(name=f"V{k:04d}", lines=lines))
    return fleet


def vectorised(fleet: Sequence[ProductBom]) -> Matrix:
    """The implementation under test: the matrix and the family indices."""
    matrix = fleet_matrix(fleet)
    family_indices(fleet)
    return [list(row) for row in matrix.values[:2]]  # a little of it, for the sanity check


def baseline_sets(fleet: Sequence[ProductBom]) -> list[frozenset[str]]:
    """Baseline step 1: one set of part numbers per product."""
    return [frozenset(line.part for line in product.lines) for product in fleet]


def baseline_pairs(sets: Sequence[frozenset[str]]) -> Matrix:
    """Baseline step 2: Dice for every pair, the obvious nested loop."""
    n = len(sets)
    values: Matrix = [[None] * n for _ in range(n)]
    for i in range(n):
        a = sets[i]
        for j in range(i, n):
            b = sets[j]
            total = len(a) + len(b)
            value = 2 * len(a & b) / total if total else None
            values[i][j] = value
            values[j][i] = value
    return values


def baseline_family(sets: Sequence[frozenset[str]]) -> tuple[float | None, ...]:
    """Baseline step 3: DCI, TCCI, CI and %C (both rules) from a Counter."""
    phi = Counter(part for s in sets for part in s)
    u, uses = len(phi), sum(len(s) for s in sets)
    largest = max((len(s) for s in sets), default=0)
    n = len(sets)
    return (
        uses / u if u else None,
        (uses - u) / (uses - 1) if u and uses != 1 else None,
        (uses - u) / (uses - largest) if uses != largest else None,
        100 * sum(1 for c in phi.values() if c == n) / u if u else None,
        100 * sum(1 for c in phi.values() if c >= 2) / u if u else None,
    )


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """Say on stderr what runs now: the full benchmark takes minutes."""
    print(f"[{time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


@attrs.frozen
class Timing:
    """Wall-clock and CPU seconds of several runs.

    CPU time is reported too because the machine may be shared: other processes inflate
    wall-clock time but hardly the CPU time of this single-threaded code.
    """

    wall: tuple[float, ...]
    cpu: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def scaled(self, factor: float) -> Timing:
        return Timing(tuple(t * factor for t in self.wall), tuple(t * factor for t in self.cpu))


def timed(function: Callable[[], object], runs: int) -> Timing:
    """Run the function several times and record each run's wall and CPU time."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Timing(tuple(wall), tuple(cpu))


def peak_mib(function: Callable[[], object]) -> float:
    """Return the peak memory traced while the function runs (NumPy buffers included)."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def pairs(n: int) -> int:
    """Number of cells the pair loop computes (upper triangle with the diagonal)."""
    return n * (n + 1) // 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 products (smoke run)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per method (median)")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    products = 200 if args.quick else 2000
    parts, part_numbers, platforms = 3000, 100_000, 40

    start = time.perf_counter()
    progress("building the fleet")
    fleet = make_fleet(products, parts, part_numbers, platforms, args.seed)
    lines = sum(len(p.lines) for p in fleet)
    print(
        f"fleet: {products:,} products, {lines / products:,.0f} distinct parts each on average "
        f"({lines / 1e6:.1f} M lines), {part_numbers:,} part numbers, {platforms} platforms, "
        f"seed {args.seed}; built in {time.perf_counter() - start:.1f} s; {args.runs} runs each"
    )

    progress("vectorised: timed runs")
    fast = timed(lambda: vectorised(fleet), args.runs)
    matrix_only = timed(lambda: fleet_matrix(fleet), 1)
    family_only = timed(lambda: family_indices(fleet), 1)
    progress("vectorised: peak memory")
    fast_peak = peak_mib(lambda: vectorised(fleet))
    progress("baseline: sets and family indices")

    sets = baseline_sets(fleet)
    sets_time = timed(lambda: baseline_sets(fleet), args.runs)
    family_time = timed(lambda: baseline_family(sets), args.runs)
    calibration = sets[: min(len(sets), 60)]
    per_cell = timed(lambda: baseline_pairs(calibration), 1).median / pairs(len(calibration))
    estimate = per_cell * pairs(products)
    if estimate > BASELINE_BUDGET_S:
        sample = min(products, math.isqrt(int(2 * SUBSAMPLE_TARGET_S / per_cell)))
    else:
        sample = products
    sub_sets = sets[:sample]
    progress(f"baseline: pair loop on {sample} products (estimated full loop {estimate:.0f} s)")
    pair_time = timed(lambda: baseline_pairs(sub_sets), args.runs)
    pair_full = pair_time.scaled(pairs(products) / pairs(sample))
    slow_median = sets_time.median + pair_full.median + family_time.median
    slow_cpu = sets_time.cpu_median + pair_full.cpu_median + family_time.cpu_median
    progress("baseline: peak memory")

    # the peak includes building the sets, as the vectorised one includes its incidence matrix
    def whole_baseline() -> None:
        fresh = baseline_sets(fleet)
        baseline_pairs(fresh[:sample])
        baseline_family(fresh)

    slow_peak = peak_mib(whole_baseline)

    # sanity: both methods give the same values (on a few products, to save time)
    check = min(products, 100)
    reference = fleet_matrix(fleet[:check]).values
    assert baseline_pairs(baseline_sets(fleet[:check])) == [list(row) for row in reference], (
        "methods disagree"
    )

    subsampled = sample < products
    rows = [
        ("method", "median wall s", "median CPU s", "wall s of each run", "peak MiB"),
        (
            "vectorised (sharing.py)",
            f"{fast.median:.2f}",
            f"{fast.cpu_median:.2f}",
            " ".join(f"{t:.2f}" for t in fast.wall),
            f"{fast_peak:,.0f}",
        ),
        (
            "plain pairwise sets" + (" *" if subsampled else ""),
            f"{slow_median:.2f}",
            f"{slow_cpu:.2f}",
            " ".join(f"{t:.2f}" for t in pair_time.wall)
            + (" (pair loop, sample)" if subsampled else " (pair loop)"),
            f"{slow_peak:,.0f}" + (" (sample)" if subsampled else ""),
        ),
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    print()
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(
        f"speed-up (baseline / vectorised): {slow_median / fast.median:,.1f} x wall, "
        f"{slow_cpu / fast.cpu_median:,.1f} x CPU"
    )
    print(
        f"breakdown (wall): fleet_matrix {matrix_only.median:.2f} s, family_indices "
        f"{family_only.median:.2f} s; baseline sets {sets_time.median:.2f} s, pair loop "
        f"{pair_full.median:.2f} s, family {family_time.median:.2f} s"
    )
    if subsampled:
        print(
            f"* the baseline's pair loop ran on the first {sample} products ({pairs(sample):,} "
            f"pairs, median {pair_time.median:.2f} s) and was extrapolated by pair count to "
            f"{pairs(products):,} pairs; its peak memory is for that subsample. Set building and "
            f"family indices ran on the full fleet."
        )
    load = os.getloadavg()
    print(f"load average at the end (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS (fleet objects included): {max_rss:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
