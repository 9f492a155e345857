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

import contextlib
import json
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from cmf_config.errors import UsageError
from cmf_config.files import AtomicFile
from cmf_config.orderio import (
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


def _worker_main(conn: Connection, checker: Checker) -> None:
    """A worker process: check the chunks sent on `conn` until told to stop (None)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        _fault(job.seq)
        try:
            reply: tuple[str, object] = ("ok", check_job(checker, job))
        except Exception:  # a bug: the parent reports it (exit 3) with the worker's traceback
            reply = ("error", traceback.format_exc())
        conn.send(reply)


@attrs.define
class _Worker:
    """A worker process, its end of the pipe, and the chunk it holds (None: idle)."""

    process: BaseProcess
    conn: Connection
    job: Job | None = None


def results_pool(checker: Checker, work: Iterator[Job], workers: int) -> Iterator[ChunkResult]:
    """Check the chunks on `workers` processes; results in chunk order.

    Each worker holds one chunk at a time, so when one dies (its sentinel fires with nothing
    on its pipe) exactly its chunk is known to be lost: it goes back to the front of the queue
    and a new worker takes the dead one's place.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")

    def start() -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker_main, args=(theirs, checker), daemon=True)
        process.start()
        theirs.close()
        return _Worker(process=process, conn=ours)

    pool = [start() for _ in range(workers)]
    window = workers * 3
    queue: list[Job] = []  # chunks to send, in chunk order
    done: dict[int, ChunkResult] = {}
    sent: dict[int, int] = {}
    following = 0
    exhausted = False
    try:
        while True:
            busy = [w for w in pool if w.job is not None]
            while not exhausted and len(queue) + len(busy) + len(done) < window:
                job = next(work, None)
                if job is None:
                    exhausted = True
                    break
                queue.append(job)
            for worker in pool:
                if worker.job is None and queue:
                    job = queue.pop(0)
                    if sent.get(job.seq, 0) >= MAX_TRIES:
                        raise _died(job, MAX_TRIES)
                    sent[job.seq] = sent.get(job.seq, 0) + 1
                    worker.job = job
                    with contextlib.suppress(OSError):  # if it died, its sentinel says so
                        worker.conn.send(job)
            if following in done:
                yield done.pop(following)
                following += 1
                continue
            busy = [w for w in pool if w.job is not None]
            if not busy:
                return
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for i, worker in enumerate(pool):
                if worker.job is None:
                    continue
                job = worker.job
                reply = _receive(worker)
                if reply is not None:
                    kind, value = reply
                    if kind == "error":
                        raise RuntimeError(f"a worker failed on chunk {job.seq}:\n{value}")
                    assert isinstance(value, ChunkResult)
                    done[job.seq] = value
                    worker.job = None
                elif not worker.process.is_alive():
                    # Lost with its worker: checked again first, by a new worker.
                    queue.insert(0, job)
                    queue.sort(key=lambda j: j.seq)
                    worker.conn.close()
                    pool[i] = start()
    finally:
        _stop(pool)


def _receive(worker: _Worker) -> tuple[str, object] | None:
    """The worker's reply if one is waiting (None: none yet, or the worker died)."""
    try:
        if worker.conn.poll():
            reply: tuple[str, object] = worker.conn.recv()
            return reply
    except (EOFError, OSError):
        return None
    return None


def _stop(pool: Sequence[_Worker]) -> None:
    """Ask every worker to stop; end those that do not within a few seconds."""
    for worker in pool:
        with contextlib.suppress(OSError):
            worker.conn.send(None)
    deadline = time.monotonic() + 5
    for worker in pool:
        worker.process.join(max(deadline - time.monotonic(), 0.1))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(1)
        worker.conn.close()


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

    import dask
    from distributed import Client, LocalCluster
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    logging.getLogger("distributed").setLevel(logging.ERROR)
    # A loaded machine can take longer than Dask's default 30 s to start and connect workers.
    dask.config.set({"distributed.comm.timeouts.connect": "120s"})
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
