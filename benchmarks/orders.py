"""Order banks: generate realistic ones from the catalog, and measure `cmf-config orders`.

Generation: a pool of distinct valid configurations drawn from the SAT engine (random partial
configurations completed by the engine), ordered with Zipf-like weights (real order banks
repeat a few popular configurations heavily); a share of invalid orders (a valid
configuration with one field changed so that an error rule breaks, checked); a share of
malformed rows (an unknown id, a wrong type, a missing field). The same seed gives the same
bytes.

Measures, on the bundled catalog, each figure the median of --repeat runs in this one run:
- orders/s on one core (read + decode + validate + BOM explosion of a Parquet bank, in this
  process) against two baselines measured side by side: `Workspace.validate` (the SAT engine)
  once per order, and the compiled rules evaluated once per order without the
  distinct-configuration cache;
- the CLI three ways side by side, interleaved in one run: `--workers 1` (the baseline),
  `--workers 2` (the 1 -> 2 scaling) and `--dask local` with two workers (Dask against
  `--workers 2` on the same cores): wall seconds (median), CPU seconds of the whole process
  tree, and peak memory of the whole tree (sum of RSS and sum of PSS over the command and
  every process under it, sampled every 100 ms from /proc);
- --big N: the same three on an N-order Parquet bank (10,000,000 for the issue's target),
  --big-repeat times each.

Usage:
  python benchmarks/orders.py generate OUT.parquet|.csv|.jsonl --orders N [--seed S]
  python benchmarks/orders.py bench [--orders N] [--repeat R] [--big N] [--big-repeat R] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmf_config.model import KINDS
from cmf_config.orders import FIELDS, Checker
from cmf_config.workspace import Workspace

HERE = Path(__file__).resolve().parent
CLI = [sys.executable, "-m", "cmf_config"]
PLANTS = ("douai", "sunderland", "oppama", "bursa", "valladolid", "busan", "chennai", "flins")


# ------------------------------------------------------------------ generating


def valid_pool(workspace: Workspace, size: int, rng: random.Random) -> list[dict[str, str]]:
    """Distinct valid configurations (slot -> value id): random partial ones completed by the
    SAT engine, so that every one is valid by construction."""
    problem = workspace.problem
    seen: dict[tuple[str, ...], dict[str, str]] = {}
    tries = 0
    while len(seen) < size and tries < size * 20:
        tries += 1
        partial: dict[str, int] = {}
        for slot in problem.slots:
            if rng.random() < 0.25:
                partial[slot.name] = rng.randrange(len(slot.values))
        completed = workspace.engine.complete_any(partial)
        if completed is None:
            continue
        config = {s.name: s.values[completed[s.name]].id for s in problem.slots}
        seen.setdefault(tuple(config.values()), config)
    return list(seen.values())


def invalid_pool(
    workspace: Workspace,
    checker: Checker,
    valid: Sequence[dict[str, str]],
    size: int,
    rng: random.Random,
) -> list[dict[str, str]]:
    """Valid configurations with one field changed so that at least one error rule breaks."""
    problem = workspace.problem
    out: list[dict[str, str]] = []
    fields = [f for f in FIELDS if not problem.slot(f).is_numeric]
    tries = 0
    while len(out) < size and tries < size * 50:
        tries += 1
        config = dict(rng.choice(valid))
        slot = problem.slot(rng.choice(fields))
        config[slot.name] = rng.choice(slot.values).id
        broken, _ = checker.evaluate(config)
        if broken:
            out.append(config)
    return out


def _row_columns(
    configs: Sequence[dict[str, str]], features: Sequence[str]
) -> dict[str, list[object]]:
    columns: dict[str, list[object]] = {f: [] for f in (*FIELDS, "features")}
    for config in configs:
        for field in FIELDS:
            columns[field].append(config[field])
        columns["features"].append([f for f in features if config[f] == "true"])
    return columns


def generate(
    path: Path,
    orders: int,
    seed: int = 7,
    distinct: int = 2000,
    invalid_share: float = 0.02,
    malformed_share: float = 0.005,
    zipf: float = 1.1,
) -> dict[str, int]:
    """Write an order bank of `orders` rows; return how many of each kind were written."""
    rng = random.Random(seed)
    workspace = Workspace.open(None, None)[0]
    checker = Checker.open(None, None)
    valid = valid_pool(workspace, distinct, rng)
    invalid = invalid_pool(workspace, checker, valid, max(len(valid) // 10, 10), rng)
    features = [s.name for s in workspace.problem.slots if s.is_bool]
    pool = [*valid, *invalid]
    table = _row_columns(pool, features)
    weights = 1.0 / np.arange(1, len(valid) + 1) ** zipf
    weights /= weights.sum()
    gen = np.random.default_rng(seed)
    counts = {"orders": orders, "invalid": 0, "malformed": 0}
    writer: pq.ParquetWriter | None = None
    handle = None
    block = 1_000_000
    try:
        for start in range(0, orders, block):
            n = min(block, orders - start)
            picks = gen.choice(len(valid), size=n, p=weights)
            bad = gen.random(n)
            is_invalid = bad < invalid_share
            picks[is_invalid] = len(valid) + gen.integers(0, len(invalid), int(is_invalid.sum()))
            counts["invalid"] += int(is_invalid.sum())
            index = pa.array(picks)
            data: dict[str, pa.Array] = {
                "order_id": pa.array([f"O{start + i:09d}" for i in range(n)], pa.string())
            }
            for field in (*FIELDS, "features"):
                kind = pa.list_(pa.string()) if field == "features" else pa.string()
                data[field] = pa.array(table[field], kind).take(index)
            malformed = (bad >= invalid_share) & (bad < invalid_share + malformed_share)
            counts["malformed"] += int(malformed.sum())
            rows = np.nonzero(malformed)[0]
            # a third each: an unknown id, a wrong type, a missing field
            for kind, (column, value) in enumerate(
                (("cockpit", "ck-unknown-x"), ("battery_kwh", "lots"), ("market", None))
            ):
                chosen = rows[rows % 3 == kind].tolist()
                if chosen:
                    values = data[column].to_pylist()
                    for row in chosen:
                        values[row] = value
                    data[column] = pa.array(values, pa.string())
            weeks = gen.integers(1, 53, n)
            data["week"] = pa.array([f"2026-W{w:02d}" for w in weeks.tolist()], pa.string())
            data["plant"] = pa.array(np.array(PLANTS)[gen.integers(0, len(PLANTS), n)])
            data["dealer"] = pa.array([f"D{d:04d}" for d in gen.integers(0, 500, n).tolist()])
            chunk = pa.table(data)
            if path.suffix == ".parquet":
                if writer is None:
                    writer = pq.ParquetWriter(path, chunk.schema, compression="zstd")
                writer.write_table(chunk)
            elif path.suffix == ".csv":
                flat = chunk.set_column(
                    chunk.column_names.index("features"),
                    "features",
                    pa.array([";".join(f) for f in chunk.column("features").to_pylist()]),
                )
                if handle is None:
                    handle = path.open("wb")
                    pacsv.write_csv(flat, handle)
                else:
                    options = pacsv.WriteOptions(include_header=False)
                    pacsv.write_csv(flat, handle, write_options=options)
            else:
                import json

                if handle is None:
                    handle = path.open("wb")
                for record in chunk.to_pylist():
                    handle.write((json.dumps(record) + "\n").encode())
    finally:
        if writer is not None:
            writer.close()
        if handle is not None:
            handle.close()
    counts["distinct_valid"] = len(valid)
    counts["distinct_invalid"] = len(invalid)
    return counts


# ------------------------------------------------------------------ measuring


def one_core(bank: Path) -> tuple[Rate, int]:
    """Orders/s of the whole pipeline in this process (read, decode, check, tally)."""
    from cmf_config.orderrun import check_job, jobs, plan

    checker = Checker.open(None, None)
    run = plan(checker, [bank], ("week",))
    clock = _Clock()
    rows = 0
    for job in jobs(run, 65_536):
        rows += sum(result.verdicts.num_rows for _, result in check_job(checker, job))
    return clock.rate(rows), rows


@dataclasses.dataclass(frozen=True)
class Rate:
    """Orders per second of wall time and per second of CPU time (this process, all its
    threads): on a shared machine the CPU rate is the per-core figure."""

    wall: float
    cpu: float


class _Clock:
    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def rate(self, count: int) -> Rate:
        return Rate(
            count / (time.perf_counter() - self.wall), count / (time.process_time() - self.cpu)
        )


def baseline_sat(bank: Path, sample: int) -> Rate:
    """Orders/s of `Workspace.validate` (the SAT engine) + `build`, one call per order."""
    from cmf_config.model import ModuleChoices, VehicleConfig, VehicleOptions

    workspace = Workspace.open(None, None)[0]
    table = pq.read_table(bank).slice(0, sample).to_pylist()
    configs = []
    for row in table:
        try:
            configs.append(
                VehicleConfig(
                    name=str(row["order_id"]),
                    brand=row["brand"],
                    platform=row["platform"],
                    segment=row["segment"],
                    body=row["body"],
                    powertrain=row["powertrain"],
                    modules=ModuleChoices(**{k: row[k] for k in KINDS}),
                    options=VehicleOptions(
                        battery_kwh=float(row["battery_kwh"]),
                        wheelbase_mm=int(row["wheelbase_mm"]),
                        drive=row["drive"],
                        steering=row["steering"],
                        market=row["market"],
                        features=tuple(row["features"]),
                    ),
                )
            )
        except (TypeError, ValueError):
            continue  # malformed rows are not the baseline's job
    clock = _Clock()
    for config in configs:
        if workspace.validate(config).is_valid:
            workspace.build(config)
    return clock.rate(len(configs))


def baseline_uncached(bank: Path, sample: int) -> Rate:
    """Orders/s of the compiled rules + BOM evaluated once per order (no distinct cache)."""
    checker = Checker.open(None, None)
    table = pq.read_table(bank).slice(0, sample).to_pylist()
    slots = checker.problem.slots
    clock = _Clock()
    done = 0
    for row in table:
        try:
            chosen = {f: str(row[f]) for f in FIELDS}
            chosen["battery_kwh"] = _num(float(row["battery_kwh"]))
            chosen["wheelbase_mm"] = _num(float(row["wheelbase_mm"]))
        except (TypeError, ValueError):
            continue
        on = set(row["features"])
        config = {
            s.name: ("true" if s.name in on else "false") if s.is_bool else chosen[s.name]
            for s in slots
        }
        try:
            broken, _ = checker.evaluate(config)
        except (AssertionError, KeyError):
            continue
        if not broken:
            checker.bom(config)
        done += 1
    return clock.rate(done)


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (from /proc/PID/task/*/children)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(c) for c in handle.read().split()]
        except (OSError, ValueError):
            continue
    return found


def _memory(pids: Sequence[int]) -> tuple[int, int]:
    """Sum of resident memory (RSS) and of proportional set size (PSS) of processes, in
    bytes. RSS counts pages shared between processes once per process (an upper bound);
    PSS splits each shared page between its users."""
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return rss, pss


@dataclasses.dataclass
class Run:
    """One run of the command: wall and CPU seconds, peak memory of its process tree."""

    seconds: float
    cpu: float
    rss: int
    pss: int
    processes: int
    load: float


def run_cli(args: Sequence[str]) -> Run:
    """Run `cmf-config ARGS`; memory of the whole tree sampled every 100 ms.

    CPU is user + system time of the command and every process under it (the children's
    rusage, which includes their own reaped children: workers, Dask nannies and workers)."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0, 0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            pids = _tree(process.pid)
            rss, pss = _memory(pids)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            peak[2] = max(peak[2], len(pids))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode not in (0, 1):
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit(f"cmf-config orders failed with exit code {process.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(seconds, cpu, peak[0], peak[1], peak[2], load)


MODES: dict[str, list[str]] = {
    "--workers 1": ["--workers", "1"],
    "--workers 2": ["--workers", "2"],
    "--dask local, 2 workers": ["--dask", "local", "--workers", "2"],
}


def side_by_side(bank: Path, orders: int, repeat: int, out: Path) -> None:
    """The three ways of running, interleaved (w1, w2, Dask, w1, ...), so that the load of
    the shared machine falls on all three alike; medians, peaks over the runs."""
    common = ["orders", str(bank), "-o", str(out), "--group-by", "week,plant"]
    runs: dict[str, list[Run]] = {m: [] for m in MODES}
    for _ in range(repeat):
        for mode, flags in MODES.items():
            runs[mode].append(run_cli([*common, *flags]))
    med = {m: statistics.median(r.seconds for r in rs) for m, rs in runs.items()}
    cpu = {m: statistics.median(r.cpu for r in rs) for m, rs in runs.items()}
    loads = [r.load for rs in runs.values() for r in rs]
    print()
    print(
        f"## The CLI on {orders:,} orders (Parquet in, Parquet out, --group-by week,plant; "
        f"median of {repeat}, interleaved)"
    )
    print()
    print(
        "| run | seconds | orders/s | CPU s (tree) | peak RSS sum (tree) | peak PSS sum | "
        "processes | ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    one, two = "--workers 1", "--workers 2"
    for mode, rs in runs.items():
        rss = max(r.rss for r in rs) / 2**20
        pss = max(r.pss for r in rs) / 2**20
        if mode == one:
            ratio = "baseline"
        elif mode == two:
            ratio = f"1 -> 2 workers: {med[one] / med[two]:.2f}x faster"
        else:
            ratio = f"{med[mode] / med[two]:.2f}x the time of --workers 2"
        print(
            f"| {mode} | {med[mode]:.1f} | {orders / med[mode]:,.0f} | {cpu[mode]:.1f} | "
            f"{rss:,.0f} MiB | {pss:,.0f} MiB | {max(r.processes for r in rs)} | {ratio} |"
        )
    print()
    print(
        f"load average (1 min) at the start of the runs: {min(loads):.1f}-{max(loads):.1f} "
        f"on {os.cpu_count()} cores; all runs: "
        + ", ".join(f"{m} {', '.join(f'{r.seconds:.1f}' for r in rs)} s" for m, rs in runs.items())
    )


def bench(orders: int, repeat: int, big: int, big_repeat: int, quick: bool) -> None:
    """Generate the banks, measure, print the tables."""
    tmp = Path(tempfile.mkdtemp(prefix="cmf-orders-bench-"))
    bank = tmp / "bank.parquet"
    started = time.perf_counter()
    made = generate(bank, orders)
    print(
        f"generated {orders:,} orders ({made['distinct_valid']:,} distinct valid configurations, "
        f"Zipf 1.1; {made['invalid']:,} invalid, {made['malformed']:,} malformed) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    sample = 300 if quick else 2000
    rates = [one_core(bank)[0] for _ in range(repeat)]
    core = Rate(statistics.median(r.wall for r in rates), statistics.median(r.cpu for r in rates))
    sat = baseline_sat(bank, sample)
    uncached = baseline_uncached(bank, sample * 5)
    print()
    print(f"## One core, in process ({orders:,} orders, median of {repeat})")
    print()
    print("| pipeline | orders/s (wall) | orders per CPU second | vs SAT baseline (CPU) |")
    print("| --- | ---: | ---: | ---: |")
    for name, rate in (
        ("baseline: Workspace.validate + build per order (SAT)", sat),
        ("baseline: compiled rules + BOM per order, no cache", uncached),
        ("orders: read + decode + check + BOM, distinct cache", core),
    ):
        print(f"| {name} | {rate.wall:,.0f} | {rate.cpu:,.0f} | {rate.cpu / sat.cpu:,.1f}x |")
    side_by_side(bank, orders, repeat, tmp / "out")
    if big:
        big_bank = tmp / "big.parquet"
        started = time.perf_counter()
        generate(big_bank, big)
        print()
        print(
            f"generated {big:,} orders in {time.perf_counter() - started:.0f} s "
            f"({big_bank.stat().st_size / 2**20:,.0f} MiB Parquet)"
        )
        side_by_side(big_bank, big, big_repeat, tmp / "big-out")
    print(f"\n(banks and outputs in {tmp})")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what")
    g = sub.add_parser("generate", help="write an order bank")
    g.add_argument("out", type=Path)
    g.add_argument("--orders", type=int, default=100_000)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--distinct", type=int, default=2000)
    g.add_argument("--invalid-share", type=float, default=0.02)
    g.add_argument("--malformed-share", type=float, default=0.005)
    b = sub.add_parser("bench", help="measure (the default)")
    b.add_argument("--orders", type=int, default=1_000_000)
    b.add_argument("--repeat", type=int, default=3)
    b.add_argument("--big", type=int, default=0, help="also runs on a bank of this size")
    b.add_argument("--big-repeat", type=int, default=1, help="runs of each mode on the big bank")
    b.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.what == "generate":
        made = generate(
            args.out,
            args.orders,
            args.seed,
            args.distinct,
            args.invalid_share,
            args.malformed_share,
        )
        print(made)
        return 0
    if args.what is None:
        args = parser.parse_args(["bench", *(argv or sys.argv[1:])])
    if args.quick:
        bench(50_000, 1, 0, 1, True)
    else:
        bench(args.orders, args.repeat, args.big, args.big_repeat, False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
