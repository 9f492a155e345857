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

`--load`: `cmf-config serve --port 0 --workers N` as its own process on 127.0.0.1 (bundled
catalog), for each N of --workers (default 1 and 2), and 50 concurrent httpx clients in this
process for --load-seconds (default 60) s, each asking /api/step for states of a seeded walk;
p50/p95/max latency, errors, and the resident memory of the server's processes (supervisor
and workers, from /proc) every 2 s. Bounded: loopback only, stops at the deadline or after
100,000 requests, and the server is stopped at the end.

Usage: python benchmarks/bench_serve.py [--quick] [--steps N] [--baseline-steps N]
[--synthetic-steps N] [--alternatives] [--load] [--load-seconds S] [--clients N]
[--workers N [N ...]]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import Instance, generate

from cmf_config.bounded import cost_of, rc2_completion, shifted_soft
from cmf_config.configurator import Stepper
from cmf_config.load import bundled_dir, load_catalog
from cmf_config.problem import Problem
from cmf_config.solver import Engine
from cmf_config.web.app import Service, describe_source
from cmf_config.web.state import State
from cmf_config.workspace import Workspace

Assignment = dict[str, int]

MAX_REQUESTS = 100_000
"""The load test stops after this many requests in all, or at its deadline, whichever first."""

SAMPLE_SECONDS = 2.0
WARM_SECONDS = 30.0
"""Memory is flat when it does not grow after this warm-up (the caches fill while it lasts);
`--warm-seconds` changes it."""


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


def cpu_timed(function: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (CPU time is what the load does not inflate)."""
    start, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - cpu


def bench_synthetic(
    steps: int,
    baseline_steps: int,
    seed: int,
    alternatives: bool,
    count_seconds: float,
    completion_states: int,
    rc2_seconds: float,
) -> None:
    instance = generate(100, 3000, seed)
    start = time.perf_counter()
    engine = Engine(instance.problem, instance.rules)
    engine.sat  # noqa: B018  (loading the solver is part of starting)
    weights = {s.name: [v.cost for v in s.values] for s in instance.problem.slots}
    stepper = Stepper(
        engine, weights, count_seconds=count_seconds or None, alternatives=alternatives
    )
    compiled = (
        "d4 compiled the rules"
        if stepper.counter is not None
        else f"d4 did not compile the rules within {count_seconds:g} s (in a child process)"
        if count_seconds
        else "d4 not tried (--count-seconds 0)"
    )
    print(
        f"\nsynthetic line: {len(instance.problem.slots)} slots, {instance.variants} values, {len(instance.rules)} rules, "
        f"CNF {engine.encoding.nvars:,} variables, {len(engine.encoding.clauses):,} clauses; start {ms(time.perf_counter() - start)}; {compiled}"
    )
    names = [s.name for s in instance.problem.slots]
    # The walk is drawn by a second stepper (options only), so that the measured one has
    # seen none of its states: what it keeps (models, reasons) comes from earlier steps.
    walker = Stepper(Engine(instance.problem, instance.rules), weights, count_seconds=None)

    def possible(state: Assignment) -> Mapping[str, tuple[Sequence[str], Sequence[str]]]:
        if not walker.consistent(state):
            return {}
        found = walker.options(state, [n for n in names if n not in state], reasons=False)
        return {k: (v.possible, tuple(v.excluded)) for k, v in found.items()}

    states = walk(instance.problem, possible, steps, seed)
    first_wall, first_cpu = cpu_timed(partial(stepper.step, {}))
    print(
        f"first step (no choice; builds the guarded rule solver and finds every dead value's reason once, "
        f"a start-up cost): {ms(first_wall)} wall, {ms(first_cpu)} CPU"
    )
    # Each part of a step is timed where `Stepper._compute` calls it (instance wrappers).
    parts: dict[str, float] = {}

    def timing(part: str, function: Callable[..., object]) -> Callable[..., object]:
        def timed_part(*args: object, **kwargs: object) -> object:
            begin, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                parts[part] = parts.get(part, 0.0) + time.perf_counter() - begin
                parts[part + " CPU"] = parts.get(part + " CPU", 0.0) + time.process_time() - cpu

        return timed_part

    for attribute, part in (
        ("consistent", "options"),
        ("options", "options"),
        ("least_cost", "BOM"),
        ("count", "count"),
    ):
        if hasattr(stepper, attribute):
            setattr(stepper, attribute, timing(part, getattr(stepper, attribute)))
    encoding = engine.encoding
    before = (len(encoding.clauses), encoding.nvars)
    walls: list[float] = []
    cpus: list[float] = []
    split: dict[str, list[float]] = {
        name: [] for part in ("options", "BOM", "count") for name in (part, part + " CPU")
    }
    cached = 0
    excluded = 0
    sizes: list[int] = []
    for state in states:
        parts.clear()
        wall, cpu = cpu_timed(partial(stepper.step, state))
        walls.append(wall)
        cpus.append(cpu)
        cached += not parts
        for part, times in split.items():
            times.append(parts.get(part, 0.0))
        step = stepper.step(state)
        for found in step.options.values():
            for reason in found.excluded.values():
                assert reason, "an excluded value shown without its rules"
                excluded += 1
                sizes.append(len(reason))
    after = (len(encoding.clauses), encoding.nvars)
    label = (
        "whole step (open slots + chosen slots' alternatives)"
        if alternatives
        else "whole step (open slots' options, as `options`)"
    )
    print()
    print(
        "| synthetic, 100 slots / 3,000 rules | steps | p50 wall | p95 wall | max wall | p50 CPU | p95 CPU | aim |"
    )
    print("|---|---|---|---|---|---|---|---|")

    def row(name: str, wall: Sequence[float], cpu: Sequence[float] | None, aim: str = "") -> None:
        cpu_cells = f"{ms(statistics.median(cpu))} | {ms(percentile(cpu, 0.95))}" if cpu else "| "
        print(
            f"| {name} | {len(wall)} | {ms(statistics.median(wall))} | {ms(percentile(wall, 0.95))} "
            f"| {ms(max(wall))} | {cpu_cells} | {aim} |"
        )

    row(label, walls, cpus, "100 / 250 ms")
    row("- options with reasons (+ consistency)", split["options"], split["options CPU"])
    row("- BOM (least-cost completion)", split["BOM"], split["BOM CPU"])
    row("- count", split["count"], split["count CPU"])
    print(
        f"\n{cached} of {len(states)} states were answered from the step cache (the walk's undo steps)"
    )
    print(f"flat curve (wall): {flat(walls)}")
    print(f"flat curve (CPU):  {flat(cpus)}")
    print(f"flat curve (options part, wall): {flat(split['options'])}")
    print(f"flat curve (options part, CPU):  {flat(split['options CPU'])}")
    sizes.sort()
    print(
        f"excluded values shown over the steps: {excluded:,}, every one with its rules; rules per reason: "
        f"median {statistics.median(sizes) if sizes else 0}, p95 {percentile(sizes, 0.95) if sizes else 0}, max {max(sizes, default=0)}; "
        f"reason searches past the conflict budget: {stepper.unbounded}"
    )
    print(
        f"engine CNF before/after: clauses {before[0]:,} -> {after[0]:,}, variables {before[1]:,} -> {after[1]:,}; "
        f"second-solver rebuilds: {stepper.rebuilds}"
    )
    if baseline_steps:
        # The CLI's engine path, on a fresh engine in a child process with a time limit
        # (it can run for minutes on this line); the step's options part on the same states.
        picked = states[:baseline_steps]
        base = [_limited_options(instance, state, BASELINE_SECONDS) for state in picked]
        cells = [
            f"{ms(w)} wall / {ms(c)} CPU"
            if w is not None and c is not None
            else f"over {BASELINE_SECONDS:.0f} s"
            for w, c in base
        ]
        ours = split["options"][: len(picked)]
        print(
            f"baseline, the CLI's `Engine.options` (minimal reasons) on the first {len(picked)} states: "
            + ", ".join(cells)
            + f"; the step's options part on the same states: {', '.join(ms(t) for t in ours)}"
        )
    for part in ("consistent", "options", "least_cost", "count"):
        stepper.__dict__.pop(part, None)  # the timing wrappers go
    bench_answers(stepper, states[:completion_states], rc2_seconds)


BASELINE_SECONDS = 120.0


def _limited_options(
    instance: Instance, state: Assignment, seconds: float
) -> tuple[float | None, float | None]:
    """Wall and CPU seconds of `Engine.options` (fresh engine) in a forked child, or Nones
    past `seconds`."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)

    def child() -> None:
        engine = Engine(instance.problem, instance.rules)
        engine.sat  # noqa: B018
        sender.send(cpu_timed(partial(engine.options, state)))

    process = ctx.Process(target=child)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            return None, None
        wall, cpu = receiver.recv()
        return float(wall), float(cpu)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()


def bench_answers(stepper: Stepper, states: Sequence[Assignment], rc2_seconds: float) -> None:
    """The count and the least-cost completion of a step, each timed alone, and the completion
    against RC2 given `rc2_seconds` per state, side by side on the same states."""
    engine = stepper.engine
    weights = stepper._int_weights
    rows = []
    for state in states:
        if not engine.is_consistent(state):
            continue
        step = stepper.step(state)
        allowed = {
            name: [stepper._value_index[name][v] for v in found.possible]
            for name, found in step.options.items()
            if name not in state
        }
        stepper._completions.clear()
        started = time.perf_counter()
        least = stepper.least_cost(state, allowed)
        ours = time.perf_counter() - started
        assert least is not None
        started = time.perf_counter()
        counted = stepper.count(state, least.assignment)
        count_time = time.perf_counter() - started
        soft, _ = shifted_soft(engine, weights, state)
        started = time.perf_counter()
        model = rc2_completion(engine, state, soft, rc2_seconds) if soft else None
        rc2_time = time.perf_counter() - started
        optimum = cost_of(weights, engine.decode(model)) if model is not None else None
        rows.append((len(state), least, ours, counted, count_time, optimum, rc2_time))
    if not rows:
        return
    print(f"\n| {len(rows)} walk states | p50 | p95 | max | what |\n|---|---|---|---|---|")
    proven = sum(1 for r in rows if r[1].proven)
    gaps = [(r[1].cost - r[1].bound) / r[1].cost for r in rows if r[1].cost]
    print(
        f"| least-cost completion (`Stepper.least_cost`, budget {stepper.complete_seconds * 1000:.0f} ms) "
        f"| {ms(statistics.median([r[2] for r in rows]))} | {ms(percentile([r[2] for r in rows], 0.95))} "
        f"| {ms(max(r[2] for r in rows))} | proven least in {proven} of {len(rows)}; gap to the lower bound p50 {statistics.median(gaps):.1%} |"
    )
    kinds: dict[str, int] = {}
    for r in rows:
        kind = f"{'exact' if r[3].exact else 'at least'} ({r[3].how})"
        kinds[kind] = kinds.get(kind, 0) + 1
    print(
        f"| count (`Stepper.count`) | {ms(statistics.median([r[4] for r in rows]))} | {ms(percentile([r[4] for r in rows], 0.95))} "
        f"| {ms(max(r[4] for r in rows))} | {', '.join(f'{k}: {v}' for k, v in sorted(kinds.items()))}; "
        f"values {', '.join(f'{r[3].value:,}' for r in rows[:8])}{' ...' if len(rows) > 8 else ''} |"
    )
    finished = [r for r in rows if r[5] is not None]
    print(
        f"| baseline: RC2 (stratified) with {rc2_seconds:g} s per state | {ms(statistics.median([r[6] for r in rows]))} "
        f"| {ms(percentile([r[6] for r in rows], 0.95))} | {ms(max(r[6] for r in rows))} | finished in {len(finished)} of {len(rows)} |"
    )
    if finished:
        ratios = [r[1].cost / r[5] for r in finished if r[5]]
        print(
            f"where RC2 finished: ours / optimum p50 {statistics.median(ratios):.3f}, max {max(ratios):.3f}; "
            f"choices in those states: {sorted(r[0] for r in finished)}"
        )
    print("choices per state:", ", ".join(str(r[0]) for r in rows))


# ------------------------------------------------------------------ load test


def _tree_rss_kib(root: int) -> dict[int, int]:
    """Resident memory (KiB) of a process and its descendants, by pid (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out: dict[int, int] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        out[pid] = int(line.split()[1])
        except OSError:
            continue
        todo += children.get(pid, [])
    return out


def _start_server(workers: int) -> tuple[subprocess.Popen[str], str]:
    """`cmf-config serve --port 0 --workers N` in its own process group; its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cmf_config", "serve", "--port", "0", "--workers", str(workers)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")},
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("cmf-config serve: http://127.0.0.1:"):
            url = line.split()[2]
            break
    else:
        raise RuntimeError("the server did not start")
    # The workers compile the catalog after the URL is printed: wait until every one is up
    # (one process per worker besides the supervisor) and the server answers.
    import httpx

    deadline = time.monotonic() + 300
    while len(_tree_rss_kib(process.pid)) < (workers + 1 if workers > 1 else 1):
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.2)
    for _ in range(2 * workers):
        while True:
            try:
                if httpx.get(url + "api/step", timeout=60).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server does not answer"
            time.sleep(0.2)
    return process, url


def _stop_server(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def bench_load(
    seconds: float, clients: int, seed: int, workers: int, warm_seconds: float = WARM_SECONDS
) -> None:
    """50 clients against `cmf-config serve --workers N` on 127.0.0.1 for `seconds` seconds.

    Bounded in count and time: each client stops at the deadline (or after MAX_REQUESTS),
    only loopback is addressed, and the server is stopped at the end.
    """
    import httpx

    catalog = load_catalog(None)
    workspace = Workspace(catalog, bundled_dir("rules"))
    service = Service(workspace, describe_source(None, None, workspace))
    conf = service.configurator

    def possible(state: Assignment) -> Mapping[str, tuple[Sequence[str], Sequence[str]]]:
        step = conf.step(state)
        return {k: (v.possible, tuple(v.excluded)) for k, v in step.options.items()}

    states = walk(workspace.problem, possible, 2000, seed)
    queries = [service.query(State(assignment=s)) for s in states]
    process, base = _start_server(workers)
    latencies: list[float] = []
    errors: list[str] = []
    memory: list[tuple[float, dict[int, int]]] = []
    start_time = time.monotonic()
    deadline = start_time + seconds
    budget = [MAX_REQUESTS]

    async def client(number: int) -> None:
        rng = random.Random(seed + number)
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while time.monotonic() < deadline and budget[0] > 0:
                budget[0] -= 1
                query = rng.choice(queries)
                start = time.perf_counter()
                try:
                    response = await http.get(f"api/step?{query}")
                    if response.status_code != 200:
                        errors.append(str(response.status_code))
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)
                latencies.append(time.perf_counter() - start)

    async def sample() -> None:
        while time.monotonic() < deadline:
            memory.append((time.monotonic() - start_time, _tree_rss_kib(process.pid)))
            await asyncio.sleep(SAMPLE_SECONDS)
        memory.append((time.monotonic() - start_time, _tree_rss_kib(process.pid)))

    async def main() -> None:
        await asyncio.gather(sample(), *(client(i) for i in range(clients)))

    load_before = os.getloadavg()[0]
    try:
        asyncio.run(main())
    finally:
        _stop_server(process)
    print(
        f"\nload test: `cmf-config serve --workers {workers}` on 127.0.0.1, {clients} clients, "
        f"{seconds:.0f} s, /api/step over {len(queries)} walk states (load average {load_before:.2f} -> {os.getloadavg()[0]:.2f})"
    )
    print("| workers | requests | errors | p50 | p95 | max | throughput |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {workers} | {len(latencies)} | {len(errors)} | {ms(percentile(latencies, 0.5))} | {ms(percentile(latencies, 0.95))} "
        f"| {ms(max(latencies))} | {len(latencies) / seconds:.1f}/s |"
    )
    totals = [(t, sum(by_pid.values()) / 1024) for t, by_pid in memory]
    print(
        "resident memory of the server's processes (supervisor + workers), MiB:",
        ", ".join(f"{t:.0f}s {mib:.0f}" for t, mib in totals),
    )
    warm = [mib for t, mib in totals if t >= warm_seconds]
    if len(warm) >= 2:
        print(
            f"after {warm_seconds:.0f} s of warm-up: {min(warm):.0f} to {max(warm):.0f} MiB "
            f"(last minus first {warm[-1] - warm[0]:+.0f} MiB)"
        )
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
    parser.add_argument("--synthetic-baseline-steps", type=int, default=2)
    parser.add_argument("--alternatives", action="store_true")
    parser.add_argument(
        "--count-seconds", type=float, default=30.0, help="d4's budget at start (0: not tried)"
    )
    parser.add_argument("--completion-states", type=int, default=10)
    parser.add_argument("--rc2-seconds", type=float, default=10.0)
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--no-catalog", action="store_true", help="skip the bundled catalog")
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--warm-seconds", type=float, default=WARM_SECONDS)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="uvicorn worker counts to load-test, one run each (default: 1 2)",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.steps, args.baseline_steps, args.synthetic_steps = 40, 5, 10
        args.synthetic_baseline_steps = 1
        args.completion_states, args.rc2_seconds, args.count_seconds = 3, 2.0, 5.0
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    if not args.no_catalog:
        bench_catalog(args.steps, args.baseline_steps, args.seed)
    if not args.no_synthetic:
        bench_synthetic(
            args.synthetic_steps,
            args.synthetic_baseline_steps,
            args.seed,
            args.alternatives,
            args.count_seconds,
            args.completion_states,
            args.rc2_seconds,
        )
    if args.load and not args.quick:
        for workers in args.workers:
            bench_load(args.load_seconds, args.clients, args.seed, workers, args.warm_seconds)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
