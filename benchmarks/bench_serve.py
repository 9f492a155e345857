"""Benchmark one configurator step of `cmf-config serve` (issue 13), and a loopback load test.

A step is what the server computes for one choice: options with reasons, the least-cost
completion (the BOM) and the count. Two product lines:

- the bundled catalog: `web.app.Service.step_document` (what /api/step answers, without the
  HTTP), so options of every slot (open slots and the alternatives of chosen ones), BOM,
  count (d-DNNF), closest catalog vehicles;
- the large synthetic line of synthetic.py (100 slots, about 1,500 values, 3,000 rules):
  `configurator.Stepper.step` with cost weights; its count is not available (d4 does not
  compile it within the time limit), and by default only the open slots' options (as the
  CLI's `options`): `--alternatives` adds the chosen slots' alternatives.

Each walk is seeded: from no choice, each step picks an open slot and one of its possible
values (one step in ten an excluded value, then the next step undoes it), starting again
when every slot is chosen. Every state is new to the step cache; reasons learnt earlier in
the walk are reused, as on a warm server. The baseline, measured side by side on the same
states, is the CLI's engine path on a fresh `solver.Engine`: `Engine.options` (minimal
reasons), `Engine.complete` and `Engine.count`, for the first --baseline-steps steps.

The flat-curve check: the median of the first and of the last 50 of 200 consecutive steps
on one warm engine, and the engine's clause and variable counts before and after.

`--load`: uvicorn on 127.0.0.1 (a free port, one worker, bundled catalog) and 50 concurrent
httpx clients for --load-seconds (default 60) s, each walking states through /api/step;
p50/p95/max latency, errors, and the server's resident memory every 5 s.

Usage: python benchmarks/bench_serve.py [--quick] [--steps N] [--baseline-steps N]
[--synthetic-steps N] [--alternatives] [--load] [--load-seconds S] [--clients N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import generate

from cmf_config.configurator import Stepper
from cmf_config.load import bundled_dir, load_catalog
from cmf_config.problem import Problem
from cmf_config.solver import Engine
from cmf_config.web.app import Service, describe_source
from cmf_config.web.state import State
from cmf_config.workspace import Workspace

Assignment = dict[str, int]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def walk(
    problem: Problem,
    possible: Callable[[Assignment], Mapping[str, tuple[Sequence[str], Sequence[str]]]],
    steps: int,
    seed: int,
) -> list[Assignment]:
    """A seeded sequence of states, each one choice away from the last (see the docstring)."""
    rng = random.Random(seed)
    state: Assignment = {}
    states: list[Assignment] = []
    undo: Assignment | None = None
    while len(states) < steps:
        if undo is not None:
            state, undo = undo, None
        elif len(state) == len(problem.slots):
            state = {}
        else:
            options = possible(state)
            open_slots = [s for s in problem.slots if s.name not in state]
            slot = rng.choice(open_slots)
            good, bad = options.get(slot.name, ((), ()))
            if bad and rng.random() < 0.1:
                undo = dict(state)
                value = rng.choice(list(bad))
            elif good:
                value = rng.choice(list(good))
            else:
                state = {}
                continue
            index = slot.index(value)
            assert index is not None
            state = {**state, slot.name: index}
        states.append(dict(state))
    return states


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def summary(label: str, times: Sequence[float], aim: str = "") -> str:
    return (
        f"| {label} | {len(times)} | {ms(statistics.median(times))} | {ms(percentile(times, 0.95))} "
        f"| {ms(max(times))} | {aim} |"
    )


def flat(times: Sequence[float]) -> str:
    if len(times) < 100:
        return "(too few steps)"
    first, last = statistics.median(times[:50]), statistics.median(times[-50:])
    return f"median of steps 1-50 {ms(first)}, of steps {len(times) - 49}-{len(times)} {ms(last)} (x{last / first:.2f})"


# ------------------------------------------------------------------ the bundled catalog


def bench_catalog(steps: int, baseline_steps: int, seed: int) -> None:
    catalog = load_catalog(None)
    start = time.perf_counter()
    workspace = Workspace(catalog, bundled_dir("rules"))
    service = Service(workspace, describe_source(None, None, workspace))
    print(
        f"bundled catalog: server start (compile + d-DNNF + catalog BOMs) {ms(time.perf_counter() - start)}"
    )
    conf = service.configurator
    problem = workspace.problem

    def possible(state: Assignment) -> Mapping[str, tuple[Sequence[str], Sequence[str]]]:
        step = conf.step(state)
        return {k: (v.possible, tuple(v.excluded)) for k, v in step.options.items()}

    states = walk(problem, possible, steps, seed)
    conf.clear()
    encoding = workspace.engine.encoding
    before = (len(encoding.clauses), encoding.nvars)
    times = [timed(lambda s=s: service.step_document(State(assignment=s))) for s in states]
    after = (len(encoding.clauses), encoding.nvars)
    # The CLI's engine path on a fresh engine, side by side on the first states.
    baseline_engine = Engine(workspace.problem, workspace.rules)
    weights = workspace.module_weights("cost")
    clauses_before = len(baseline_engine.encoding.clauses)

    def cli_step(state: Assignment) -> None:
        baseline_engine.options(state)
        baseline_engine.complete(state, weights)
        baseline_engine.count(state)

    base_times = [timed(lambda s=s: cli_step(s)) for s in states[:baseline_steps]]
    ours = times[: len(base_times)]
    print()
    print("| bundled catalog | steps | p50 | p95 | max | aim |")
    print("|---|---|---|---|---|---|")
    print(summary("serve step (Service.step_document)", times, "50 / 100 ms"))
    print(summary(f"same, first {len(ours)} steps", ours))
    print(summary("baseline: Engine.options + complete + count", base_times))
    print(
        f"\nratio baseline / serve on the same {len(ours)} states: p50 x{statistics.median(base_times) / statistics.median(ours):.1f}"
    )
    print(f"flat curve: {flat(times)}")
    print(
        f"engine CNF before/after {len(times)} serve steps: clauses {before[0]:,} -> {after[0]:,}, variables {before[1]:,} -> {after[1]:,}"
    )
    print(
        f"baseline engine after {len(base_times)} steps: clauses {clauses_before:,} -> {len(baseline_engine.encoding.clauses):,} (+{(len(baseline_engine.encoding.clauses) - clauses_before) / max(1, len(base_times)):.0f} per step)"
    )
    print(f"second-solver rebuilds: {conf.rebuilds}")


# ------------------------------------------------------------------ the synthetic line


def bench_synthetic(steps: int, baseline_steps: int, seed: int, alternatives: bool) -> None:
    instance = generate(100, 3000, seed)
    start = time.perf_counter()
    engine = Engine(instance.problem, instance.rules)
    engine.sat  # noqa: B018  (loading the solver is part of starting)
    weights = {s.name: [v.cost for v in s.values] for s in instance.problem.slots}
    stepper = Stepper(engine, weights, count_seconds=None, alternatives=alternatives)
    print(
        f"\nsynthetic line: {len(instance.problem.slots)} slots, {instance.variants} values, {len(instance.rules)} rules, "
        f"CNF {engine.encoding.nvars:,} variables, {len(engine.encoding.clauses):,} clauses; start {ms(time.perf_counter() - start)}"
    )

    def possible(state: Assignment) -> Mapping[str, tuple[Sequence[str], Sequence[str]]]:
        step = stepper.step(state)
        return {k: (v.possible, tuple(v.excluded)) for k, v in step.options.items()}

    first = timed(lambda: stepper.step({}))
    print(f"first step (no choice, cold: every dead value's reason found once): {ms(first)}")
    states = walk(instance.problem, possible, steps, seed)
    stepper._steps.clear()  # new states, warm reasons: as a server that has run a while
    encoding = engine.encoding
    before = (len(encoding.clauses), encoding.nvars)
    times = [timed(lambda s=s: stepper.step(s)) for s in states]
    after = (len(encoding.clauses), encoding.nvars)
    baseline = Engine(instance.problem, instance.rules)
    clauses_before = len(baseline.encoding.clauses)

    def cli_step(state: Assignment) -> None:
        baseline.options(state)
        baseline.complete(state, weights)

    base_times = [timed(lambda s=s: cli_step(s)) for s in states[:baseline_steps]]
    ours = times[: len(base_times)]
    label = (
        "serve step (open slots + chosen slots' alternatives)"
        if alternatives
        else "serve step (open slots, as `options`)"
    )
    print()
    print("| synthetic, 100 slots / 3,000 rules | steps | p50 | p95 | max | aim |")
    print("|---|---|---|---|---|---|")
    print(summary(label, times, "100 / 250 ms"))
    print(summary(f"same, first {len(ours)} steps", ours))
    print(summary("baseline: Engine.options + complete", base_times))
    print(
        f"\nratio baseline / serve on the same {len(ours)} states: p50 x{statistics.median(base_times) / statistics.median(ours):.1f}"
    )
    print(f"flat curve: {flat(times)}")
    print(
        f"engine CNF before/after: clauses {before[0]:,} -> {after[0]:,}, variables {before[1]:,} -> {after[1]:,}"
    )
    print(
        f"baseline engine after {len(base_times)} steps: clauses {clauses_before:,} -> {len(baseline.encoding.clauses):,}"
    )
    print(
        f"count: not computed (d4 does not compile this line in time); second-solver rebuilds: {stepper.rebuilds}"
    )
    print("per-step times of the baseline:", ", ".join(ms(t) for t in base_times))


# ------------------------------------------------------------------ load test


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bench_load(seconds: float, clients: int, seed: int) -> None:
    import httpx
    import uvicorn

    from cmf_config.web.app import create_app

    app = create_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", limit_concurrency=200))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    service: Service = app.app.state.service  # type: ignore[attr-defined]
    problem = service.workspace.problem
    conf = service.configurator

    def possible(state: Assignment) -> Mapping[str, tuple[Sequence[str], Sequence[str]]]:
        step = conf.step(state)
        return {k: (v.possible, tuple(v.excluded)) for k, v in step.options.items()}

    queries = [service.query(State(assignment=s)) for s in walk(problem, possible, 2000, seed)]
    conf.clear()
    latencies: list[float] = []
    errors: list[str] = []
    memory: list[tuple[float, int]] = []
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        rng = random.Random(seed + number)
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.monotonic() < deadline:
                query = rng.choice(queries)
                start = time.perf_counter()
                try:
                    response = await http.get(f"/api/step?{query}")
                    if response.status_code != 200:
                        errors.append(str(response.status_code))
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                latencies.append(time.perf_counter() - start)

    async def sample() -> None:
        start = time.monotonic()
        while time.monotonic() < deadline:
            memory.append((time.monotonic() - start, _rss_kib(os.getpid())))
            await asyncio.sleep(5)

    async def main() -> None:
        await asyncio.gather(sample(), *(client(i) for i in range(clients)))

    asyncio.run(main())
    server.should_exit = True
    thread.join(timeout=10)
    print(
        f"\nload test: {clients} clients, {seconds:.0f} s, /api/step over {len(queries)} walk states, one worker on 127.0.0.1"
    )
    print("| requests | errors | p50 | p95 | max | throughput |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {len(latencies)} | {len(errors)} | {ms(percentile(latencies, 0.5))} | {ms(percentile(latencies, 0.95))} | {ms(max(latencies))} | {len(latencies) / seconds:.1f}/s |"
    )
    print(
        "resident memory of the process (server + clients), MiB:",
        ", ".join(f"{t:.0f}s {kib / 1024:.0f}" for t, kib in memory),
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if errors:
        print("errors:", sorted(set(errors)))


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run (few steps, no load test)"
    )
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--baseline-steps", type=int, default=30)
    parser.add_argument("--synthetic-steps", type=int, default=200)
    parser.add_argument("--synthetic-baseline-steps", type=int, default=6)
    parser.add_argument("--alternatives", action="store_true")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.steps, args.baseline_steps, args.synthetic_steps = 40, 5, 10
        args.synthetic_baseline_steps = 1
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    bench_catalog(args.steps, args.baseline_steps, args.seed)
    if not args.no_synthetic:
        bench_synthetic(
            args.synthetic_steps, args.synthetic_baseline_steps, args.seed, args.alternatives
        )
    if args.load and not args.quick:
        bench_load(args.load_seconds, args.clients, args.seed)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
