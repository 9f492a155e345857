"""Running an order-bank check: in this process, on all cores, or on a Dask cluster.

The reader cuts the files into chunks in file order; workers decode and check chunks (see
`orders.check_columns`); results come back and are merged and written strictly in chunk order,
so the outputs are the same bytes whatever the number of workers. At most a few chunks per
worker are in flight, which bounds memory. A worker that dies takes its chunks with it: they
are sent again (a chunk that keeps killing workers stops the run with a clear message), so no
order is lost or counted twice. Outputs are written under temporary names and renamed only
when the whole run succeeded.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from cmf_config.errors import UsageError
from cmf_config.orderio import (
    AtomicFile,
    BankFile,
    RawChunk,
    TableWriter,
    decode,
    open_bank,
    read_chunks,
)
from cmf_config.orders import (
    ORDER_ID,
    Checker,
    ChunkResult,
    Layout,
    Tally,
    check_columns,
    verdict_schema,
)

MAX_TRIES = 3
"""Times a chunk is sent to a worker before a run gives up on it."""
FAULT_ENV = "CMF_CONFIG_ORDERS_FAULT"
"""Test hook: `kill:N[:MARKER]` makes the worker that takes chunk N kill itself (once, if a
MARKER path is given and does not exist yet). Used by the tests of lost workers."""


class WorkerDied(UsageError):
    """A worker process died and its chunks could not be redone."""


@attrs.frozen(kw_only=True)
class Job:
    """One chunk to check, with what the worker needs besides the checker."""

    seq: int
    raw: RawChunk
    layout: Layout
    group_by: tuple[str, ...]


def check_job(checker: Checker, job: Job) -> ChunkResult:
    """Decode and check one chunk."""
    columns = decode(job.raw, job.layout.coded)
    return check_columns(checker, job.layout, columns, job.group_by)


# ------------------------------------------------------------------ planning


@attrs.frozen(kw_only=True)
class Plan:
    """The files of a run, their layouts, and the columns every verdict row carries."""

    banks: tuple[BankFile, ...]
    layouts: tuple[Layout, ...]
    passthrough: tuple[str, ...]
    group_by: tuple[str, ...]

    @property
    def rows(self) -> int | None:
        """Rows in all files, when every format tells (Parquet)."""
        counts = [b.rows for b in self.banks]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)


def plan(checker: Checker, paths: Sequence[Path], group_by: Sequence[str]) -> Plan:
    """Open every file and sort its columns; raise BankError for an unusable file."""
    banks = [open_bank(p) for p in paths]
    layouts = [checker.layout(b.path, b.columns) for b in banks]
    passthrough: dict[str, None] = {}
    for layout in layouts:
        passthrough.update(dict.fromkeys(layout.passthrough))
    for column in group_by:
        for bank in banks:
            if column not in bank.columns:
                raise UsageError(
                    f"--group-by {column}: {bank.path} has no column '{column}'",
                    f"group by columns every file has: {', '.join(bank.columns)}",
                )
    return Plan(
        banks=tuple(banks),
        layouts=tuple(layouts),
        passthrough=tuple(passthrough),
        group_by=tuple(group_by),
    )


def jobs(run: Plan, chunk_rows: int) -> Iterator[Job]:
    """The chunks of every file, in order."""
    seq = 0
    for bank, layout in zip(run.banks, run.layouts, strict=True):
        for raw in read_chunks(bank, chunk_rows):
            yield Job(seq=seq, raw=raw, layout=layout, group_by=run.group_by)
            seq += 1


# ------------------------------------------------------------------ executing


def results_here(checker: Checker, work: Iterator[Job]) -> Iterator[ChunkResult]:
    """Check the chunks in this process."""
    for job in work:
        yield check_job(checker, job)


_WORKER: Checker | None = None


def _init_worker(checker: Checker) -> None:
    global _WORKER  # noqa: PLW0603 (one checker per worker process, received once)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER = checker


def _pool_work(job: Job) -> ChunkResult:
    _fault(job.seq)
    assert _WORKER is not None
    return check_job(_WORKER, job)


def _dask_work(checker: Checker, job: Job) -> ChunkResult:
    _fault(job.seq)
    return check_job(checker, job)


def _fault(seq: int) -> None:
    """The test hook of FAULT_ENV: die like a worker killed by the OOM killer."""
    setting = os.environ.get(FAULT_ENV, "")
    if not setting.startswith("kill:"):
        return
    _, chunk, *marker = setting.split(":", 2)
    if int(chunk) != seq:
        return
    if marker:
        try:
            fd = os.open(marker[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


def results_pool(checker: Checker, work: Iterator[Job], workers: int) -> Iterator[ChunkResult]:
    """Check the chunks on `workers` processes; results in chunk order."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")

    def start() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(checker,)
        )

    pool = start()
    window = workers * 3
    waiting: dict[int, Job] = {}  # every chunk read and not yet yielded, in order
    futures: dict[int, Future[ChunkResult]] = {}
    tries: dict[int, int] = {}
    following = 0
    exhausted = False
    try:
        while True:
            try:
                for seq, lost in waiting.items():  # chunks lost with a broken pool
                    if seq not in futures:
                        futures[seq] = _submit(pool, lost)
                while not exhausted and len(waiting) < window:
                    job = next(work, None)
                    if job is None:
                        exhausted = True
                        break
                    waiting[job.seq] = job
                    tries[job.seq] = 1
                    futures[job.seq] = _submit(pool, job)
                if not waiting:
                    return
                result = futures[following].result()
            except BrokenProcessPool:
                # The chunks in flight died with the pool: a new pool gets them again.
                pool.shutdown(wait=True, cancel_futures=True)
                for seq in list(waiting):
                    if seq in futures and _succeeded(futures[seq]):
                        continue
                    futures.pop(seq, None)
                    if tries[seq] >= MAX_TRIES:
                        raise _died(waiting[seq], MAX_TRIES) from None
                    tries[seq] += 1
                pool = start()
                continue
            yield result
            del futures[following], waiting[following], tries[following]
            following += 1
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor, job: Job) -> Future[ChunkResult]:
    """Send a chunk to the pool. A pool that breaks while it replaces a dead worker can fail
    to start the new process (ValueError on its closed pipes): that is a broken pool too."""
    try:
        return pool.submit(_pool_work, job)
    except (ValueError, OSError) as exc:
        raise BrokenProcessPool(str(exc)) from exc


def _succeeded(future: Future[ChunkResult]) -> bool:
    """Whether a future finished with a result (never waits)."""
    if not future.done() or future.cancelled():
        return False
    return future.exception(timeout=0) is None


def _died(job: Job, tries: int) -> WorkerDied:
    raw = job.raw
    return WorkerDied(
        f"a worker process died each of the {tries} times it was given rows "
        f"{raw.start + 1:,}-{raw.start + raw.size:,} of {raw.file} (out of memory, or killed); "
        "no output was written",
        "rerun with fewer --workers, or free memory; `dmesg` names what killed it",
    )


def results_dask(
    checker: Checker, work: Iterator[Job], address: str, workers: int
) -> Iterator[ChunkResult]:
    """Check the chunks on a Dask cluster (`local`: a LocalCluster of `workers` processes)."""
    import logging

    from distributed import Client, LocalCluster
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster: LocalCluster | None = None
    try:
        if address == "local":
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            client = Client(cluster)  # type: ignore[no-untyped-call]
        else:
            client = Client(address, timeout="20s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: {exc}",
            "start one with `dask scheduler` and `dask worker ADDRESS`, or use --dask local",
        ) from None
    try:
        capacity = max(len(client.scheduler_info().get("workers", {})), workers, 1)
        shipped = client.scatter(checker, broadcast=True)  # type: ignore[no-untyped-call]
        window = capacity * 3
        futures: dict[int, Any] = {}
        waiting: dict[int, Job] = {}
        following = 0
        exhausted = False
        while True:
            while not exhausted and len(waiting) < window:
                job = next(work, None)
                if job is None:
                    exhausted = True
                    break
                waiting[job.seq] = job
                futures[job.seq] = client.submit(
                    _dask_work, shipped, job, pure=False, key=f"cmf-orders-{job.seq}-{os.getpid()}"
                )
            if not waiting:
                return
            try:
                result: ChunkResult = futures[following].result()
            except (KilledWorker, FutureCancelledError):
                raise _died(waiting[following], MAX_TRIES) from None
            yield result
            del futures[following], waiting[following]
            following += 1
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------ outputs


@attrs.frozen(kw_only=True)
class Outputs:
    """Where each result goes (None: not written)."""

    verdicts: Path | None = None
    demand: Path | None = None
    boms: Path | None = None
    summary: Path | None = None

    @classmethod
    def in_directory(cls, directory: Path) -> Outputs:
        """The default layout of -o DIR."""
        return cls(
            verdicts=directory / "verdicts.parquet",
            demand=directory / "demand.parquet",
            boms=directory / "boms.parquet",
            summary=directory / "summary.json",
        )

    def named(self) -> dict[str, str]:
        """Output name -> path, for the summary."""
        return {k: str(v) for k, v in attrs.asdict(self).items() if v is not None}


def execute(
    checker: Checker,
    run: Plan,
    outputs: Outputs,
    results: Callable[[Iterator[Job]], Iterator[ChunkResult]],
    chunk_rows: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[Tally, dict[str, object]]:
    """Check every order, write the outputs atomically; return the tally and the summary."""
    schema = verdict_schema(run.passthrough)
    tally = Tally(parts=len(checker.part_keys))
    writers: list[TableWriter | _DocumentWriter] = []
    verdicts = None
    try:
        if outputs.verdicts is not None:
            verdicts = TableWriter(outputs.verdicts, schema)
            writers.append(verdicts)
        read = [0]

        def counted() -> Iterator[Job]:
            for job in jobs(run, chunk_rows):
                read[0] += job.raw.size
                yield job

        for result in results(counted()):
            tally.add(result)
            if verdicts is not None:
                verdicts.write(_fit(result.verdicts, schema))
            if progress is not None:
                progress(result.verdicts.num_rows)
        if tally.orders != read[0]:  # never: each chunk is merged exactly once, in order
            raise RuntimeError(f"{read[0]:,} orders read but {tally.orders:,} checked")
        summary = summarize(checker, run, tally, outputs)
        if tally.orders:
            if outputs.demand is not None:
                demand = tally.demand_table(checker, run.group_by)
                demand_writer = TableWriter(outputs.demand, demand.schema)
                writers.append(demand_writer)
                demand_writer.write(demand)
            if outputs.boms is not None:
                boms = tally.bom_table(checker)
                bom_writer = TableWriter(outputs.boms, boms.schema)
                writers.append(bom_writer)
                bom_writer.write(boms)
            if outputs.summary is not None:
                document = _DocumentWriter(outputs.summary)
                writers.append(document)
                document.write_json(summary)
            for writer in writers:
                writer.commit()
            writers = []
        return tally, summary
    finally:
        for writer in writers:
            writer.discard()


class _DocumentWriter:
    """The summary document, written through an atomic file like the tables."""

    def __init__(self, path: Path) -> None:
        if path.suffix.lower() != ".json":
            raise UsageError(
                f"the summary is a JSON document: name '{path}' .json", "write --summary OUT.json"
            )
        self.file = AtomicFile(path)

    def write_json(self, document: object) -> None:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        with self.file.temp.open("w", encoding="utf-8") as handle:
            handle.write(text)

    def commit(self) -> None:
        self.file.commit()

    def discard(self) -> None:
        self.file.discard()


def _fit(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A chunk's verdicts with every pass-through column of the run (null where a file lacks it)."""
    missing = [name for name in schema.names if name not in table.column_names]
    for name in missing:
        table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    return table.select(schema.names)


def summarize(checker: Checker, run: Plan, tally: Tally, outputs: Outputs) -> dict[str, object]:
    """The summary document (deterministic: no times, no worker counts)."""
    valid, invalid, malformed = tally.counts
    return {
        "catalog": checker.catalog_label,
        "rules": checker.rules_label,
        "fingerprint": checker.fingerprint,
        "rules_checked": len(checker.rules),
        "files": [b.path for b in run.banks],
        "orders": tally.orders,
        "valid": valid,
        "invalid": invalid,
        "malformed": malformed,
        "configurations": len(tally.boms),
        "rules_broken": [
            {"rule": rule, "orders": count, "message": checker.messages.get(rule, "")}
            for rule, count in sorted(tally.broken.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "warnings": [
            {"rule": rule, "orders": count, "message": checker.messages.get(rule, "")}
            for rule, count in sorted(tally.warned.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "group_by": list(run.group_by),
        "examples": [attrs.asdict(e) for e in tally.examples],
        "outputs": outputs.named(),
    }


__all__ = [
    "ORDER_ID",
    "Outputs",
    "Plan",
    "WorkerDied",
    "execute",
    "plan",
    "results_dask",
    "results_here",
    "results_pool",
]
