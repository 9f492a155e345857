"""Running an order-bank check: in this process, on all cores, or on a Dask cluster.

Before any order is checked, the order ids of every file are hashed to find duplicates
(`orderids`). The run is then cut into slices (`orderio.Slice`): a Parquet slice is a
descriptor, and the worker reads its batches itself, so no order data passes through this
process; a text file's slice is a chunk this process read. Workers decode and check each
chunk (`orders.check_columns`) and send back its result (verdicts as dictionary-encoded Arrow
columns, counts, demand as sparse triples); results are merged and written strictly in chunk
order, so the outputs are the same bytes whatever the number of workers. Only a few slices
are in flight, which bounds memory. A worker that dies takes its slice with it: the chunks it
had not sent are sent again (a chunk that keeps killing workers stops the run with a clear
message), and each chunk is merged exactly once, so no order is lost or counted twice.
Outputs are written under temporary names and renamed only when the whole run succeeded.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from cmf_config.errors import CmfConfigError, UsageError
from cmf_config.files import AtomicFile
from cmf_config.orderids import Duplicates, find_duplicates
from cmf_config.orderio import (
    BankError,
    BankFile,
    Slice,
    TableWriter,
    decode,
    lean_memory_pool,
    open_bank,
    parquet_row_groups,
    read_slice,
    slices,
)
from cmf_config.orders import (
    ORDER_ID,
    Checker,
    ChunkResult,
    Layout,
    Tally,
    check_columns,
    pack_verdicts,
    unpack_verdicts,
    verdict_schema,
)
from cmf_config.reprs import shared_repr

MAX_TRIES = 3
"""Times a chunk is given to a worker before a run gives up on it."""
SLICES_PER_WORKER = 2
"""Parquet slices a run is cut into at least, per worker, to keep the workers evenly busy."""
FAULT_ENV = "CMF_CONFIG_ORDERS_FAULT"
"""Test hook: `kill:N[:MARKER]` makes the worker that takes chunk N kill itself (once, if a
MARKER path is given and does not exist yet). Used by the tests of lost workers."""


class WorkerDied(UsageError):
    """A worker process died and its chunks could not be redone."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Job:
    """One slice to check, with what the worker needs besides the checker.

    `seq` is the run-wide number of the slice's first chunk; `duplicates` the slice's rows
    whose order id an earlier row has, (row in the file, message).
    """

    seq: int
    piece: Slice
    layout: Layout
    group_by: tuple[str, ...]
    duplicates: tuple[tuple[int, str], ...] = ()

    def after(self, done: int) -> Job:
        """The rest of the job once its first `done` chunks are merged."""
        return attrs.evolve(self, seq=self.seq + done, piece=self.piece.after(done))

    @property
    def last(self) -> int:
        """The run-wide number of its last chunk."""
        return self.seq + self.piece.chunks - 1


def check_job(
    checker: Checker, job: Job, before: Callable[[int], None] | None = None
) -> Iterator[tuple[int, ChunkResult]]:
    """Read, decode and check the chunks of a slice: (run-wide chunk number, result).

    A configuration's BOM travels once a slice, with the first chunk that has it (the merge
    keeps the first one it sees, and merges the chunks of a slice in order).
    """
    sent: set[str] = set()
    for offset, raw in enumerate(read_slice(job.piece)):
        seq = job.seq + offset
        if before is not None:
            before(seq)
        columns = decode(raw, job.layout.coded)
        repeated = [d for d in job.duplicates if raw.start <= d[0] < raw.start + raw.size]
        result = check_columns(checker, job.layout, columns, job.group_by, repeated)
        fresh = {k: v for k, v in result.boms.items() if k not in sent}
        sent.update(fresh)
        yield seq, attrs.evolve(result, boms=fresh)


# ------------------------------------------------------------------ planning


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
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


def jobs(
    run: Plan, chunk_rows: int, max_chunks: int = 0, duplicates: Duplicates | None = None
) -> Iterator[Job]:
    """The slices of every file, in order (Parquet slices at most `max_chunks` chunks; 0:
    whole row groups). The duplicate order ids are found first unless given."""
    if duplicates is None:
        duplicates = find_duplicates(run.banks, chunk_rows)
    seq = 0
    for bank, layout in zip(run.banks, run.layouts, strict=True):
        for piece in slices(bank, chunk_rows, max_chunks):
            yield Job(
                seq=seq,
                piece=piece,
                layout=layout,
                group_by=run.group_by,
                duplicates=duplicates.within(piece.file, piece.start, piece.rows),
            )
            seq += piece.chunks


# ------------------------------------------------------------------ executing


Results = Callable[[Plan, int], Iterator[ChunkResult]]
"""A way of checking a run: (plan, chunk rows) -> chunk results in chunk order."""


def results_here(checker: Checker) -> Results:
    """Check the chunks in this process, reading whole row groups."""

    def results(run: Plan, chunk_rows: int) -> Iterator[ChunkResult]:
        for job in jobs(run, chunk_rows):
            for _, result in check_job(checker, job):
                yield result

    return results


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


def _worker_main(conn: Connection, shipped: str) -> None:
    """A worker process: load the checker the parent pickled into the file `shipped`, then
    check the slices sent on `conn` until told to stop (None), sending each chunk's result
    as soon as it is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    lean_memory_pool()
    with open(shipped, "rb") as handle:
        checker: Checker = pickle.load(handle)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            for seq, result in check_job(checker, job, _fault):
                conn.send(("chunk", seq, _packed(result)))
            reply: tuple[str, int, object] = ("done", job.seq, None)
        except CmfConfigError as exc:  # unusable input found mid-way (a damaged file)
            reply = ("input", job.seq, (str(exc), getattr(exc, "hint", None)))
        except Exception:  # a bug: the parent reports it (exit 3) with the worker's traceback
            reply = ("error", job.seq, traceback.format_exc())
        conn.send(reply)


@shared_repr
@attrs.define(repr=False)
class _Worker:
    """A worker process, its end of the pipe, the slice it holds (None: idle) and how many
    of that slice's chunks it has sent back."""

    process: BaseProcess
    conn: Connection
    job: Job | None = None
    sent: int = 0


def results_pool(checker: Checker, workers: int) -> Results:
    """Check the chunks on `workers` processes; results in chunk order."""

    def results(run: Plan, chunk_rows: int) -> Iterator[ChunkResult]:
        return _pool(checker, run, chunk_rows, workers)

    return results


def _pool(checker: Checker, run: Plan, chunk_rows: int, workers: int) -> Iterator[ChunkResult]:
    """Each worker holds one slice at a time and sends each chunk's result when done, so
    when one dies (its sentinel fires) the chunks it had not sent are known exactly: they
    go back to the front of the queue and a new worker takes the dead one's place."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    # The checker goes to the workers through a file: given as a Process argument it would be
    # written into a pipe that a new worker reads only after its imports, and this process
    # would wait for each worker to start, one after the other.
    with tempfile.NamedTemporaryFile(prefix="cmf-orders-", suffix=".pickle", delete=False) as f:
        pickle.dump(checker, f, protocol=pickle.HIGHEST_PROTOCOL)
    shipped = f.name

    def start() -> _Worker:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker_main, args=(theirs, shipped), daemon=True)
        process.start()
        theirs.close()
        return _Worker(process=process, conn=ours)

    pool: list[_Worker] = []
    try:
        pool += [start() for _ in range(workers)]  # they start while the ids are hashed
        step, widest = slicing(run, chunk_rows, workers)
        yield from _run_pool(pool, start, jobs(run, chunk_rows, step), workers, widest)
    finally:
        _stop(pool)
        with contextlib.suppress(OSError):
            os.unlink(shipped)


def slicing(run: Plan, chunk_rows: int, workers: int) -> tuple[int, int]:
    """Chunks in a Parquet slice given to a worker (0: whole row groups), and the most
    chunks a slice can have.

    A worker reads a slice's batches itself, and one that starts in the middle of a row group
    decodes the batches before it too (Parquet cannot be entered at a row). So slices are
    whole row groups when the files have enough of them for SLICES_PER_WORKER slices per
    worker, else the row groups are cut evenly into that many slices.
    """
    batches: list[int] = []
    for bank in run.banks:
        batches += [-(-rows // chunk_rows) for rows in parquet_row_groups(bank)]
    wanted = SLICES_PER_WORKER * max(workers, 1)
    if not batches:
        return 0, 1
    if len(batches) >= wanted:
        return 0, max(*batches, 1)
    parts = -(-wanted // len(batches))
    step = max(1, -(-max(batches) // parts))
    return step, step


def _run_pool(
    pool: list[_Worker],
    start: Callable[[], _Worker],
    work: Iterator[Job],
    workers: int,
    widest: int,
) -> Iterator[ChunkResult]:
    feed = _Feed(work, ahead=(workers + 1) * widest)
    done: dict[int, ChunkResult] = {}
    """Give out the slices, take the results back, yield them in chunk order."""
    while True:
        if feed.following in done:
            yield done.pop(feed.following)
            feed.following += 1
            continue
        for worker in pool:
            if worker.job is None and not feed.give(worker):
                break
        busy = [w for w in pool if w.job is not None]
        if not busy:
            return
        wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
        for i, worker in enumerate(pool):
            if worker.job is None:
                continue
            _drain(worker, done, feed.following)
            if worker.job is not None and not worker.process.is_alive():
                _drain(worker, done, feed.following)
                feed.lost(worker)
                worker.conn.close()
                pool[i] = start()


class _Feed:
    """The slices still to give out, in chunk order, at most `ahead` chunks past the next
    one to merge (so results waiting to be merged stay few)."""

    def __init__(self, work: Iterator[Job], ahead: int) -> None:
        self.work = work
        self.ahead = ahead
        self.queue: list[Job] = []
        self.tries: dict[int, int] = {}
        self.following = 0

    def give(self, worker: _Worker) -> bool:
        """Send the next slice to an idle worker; False when there is none to send yet."""
        if not self.queue:
            job = next(self.work, None)
            if job is None:
                return False
            self.queue.append(job)
        if self.queue[0].seq >= self.following + self.ahead:
            return False
        job = self.queue.pop(0)
        self.tries[job.seq] = self.tries.get(job.seq, 0) + 1
        if self.tries[job.seq] > MAX_TRIES:
            raise _died(job, MAX_TRIES)
        worker.job, worker.sent = job, 0
        with contextlib.suppress(OSError):  # if it died, its sentinel says so
            worker.conn.send(job)
        return True

    def lost(self, worker: _Worker) -> None:
        """A worker died: the chunks of its slice it had not sent are checked again first."""
        job = worker.job
        if job is not None and worker.sent < job.piece.chunks:
            self.queue.insert(0, job.after(worker.sent))
            self.queue.sort(key=lambda j: j.seq)
        worker.job = None


def _drain(worker: _Worker, done: dict[int, ChunkResult], following: int) -> None:
    """Take every message waiting on a worker's pipe."""
    while worker.job is not None:
        try:
            if not worker.conn.poll():
                return
            kind, seq, value = worker.conn.recv()
        except (EOFError, OSError):
            return
        if kind == "chunk":
            assert isinstance(value, ChunkResult)
            if seq >= following and seq not in done:  # each chunk merged exactly once
                done[seq] = value
            worker.sent += 1
        elif kind == "done":
            worker.job = None
        elif kind == "input":
            message, hint = value
            raise BankError(message, hint)
        else:
            raise RuntimeError(f"a worker failed on chunk {seq}:\n{value}")


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
    piece = job.piece
    last = min(piece.start + piece.chunk_rows, piece.start + piece.rows)
    return WorkerDied(
        f"a worker process died each of the {tries} times it was given rows "
        f"{piece.start + 1:,}-{last:,} of {piece.file} (out of memory, or killed); "
        "no output was written",
        "rerun with fewer --workers, or free memory; `dmesg` names what killed it",
    )


def _dask_work(checker: Checker, job: Job, ours: bool = False) -> list[ChunkResult]:
    """A slice checked on a Dask worker. On the workers of a LocalCluster this run started
    (`ours`), with Arrow's lean allocator (`lean_memory_pool`); the workers of a cluster the
    user runs keep their own."""
    if ours:
        lean_memory_pool()
    return [_packed(result) for _, result in check_job(checker, job, _fault)]


def _packed(result: ChunkResult) -> ChunkResult:
    """A result as it travels to the merging process (`execute` unpacks it)."""
    return attrs.evolve(result, verdicts=pack_verdicts(result.verdicts))


def _dask_checker(blob: bytes) -> Checker:
    """The checker, unpickled on a Dask worker (a task, so Dask can run it again)."""
    checker: Checker = pickle.loads(blob)
    return checker


def results_dask(checker: Checker, address: str, workers: int) -> Results:
    """Check the chunks on a Dask cluster (`local`: a LocalCluster of `workers` processes)."""

    def results(run: Plan, chunk_rows: int) -> Iterator[ChunkResult]:
        return _dask(checker, run, chunk_rows, address, workers)

    return results


def _dask(
    checker: Checker, run: Plan, chunk_rows: int, address: str, workers: int
) -> Iterator[ChunkResult]:
    """Tasks are slice descriptors (for Parquet: the workers read the file themselves)."""
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
        # The checker is the result of a task, not scattered data: `scatter` waits at most
        # the connect timeout for every worker to unpickle it (importing cmf-config there:
        # 21 s measured at load 14 on 2 cores, against 30 s by default), and scattered data
        # that was only on a worker that dies is lost for good, cancelling every chunk that
        # needs it; a task's result is computed again.
        blob = pickle.dumps(checker, protocol=pickle.HIGHEST_PROTOCOL)
        shipped = client.submit(
            _dask_checker, blob, pure=False, key=f"cmf-orders-checker-{os.getpid()}"
        )
        window = capacity * 2
        futures: dict[int, Any] = {}
        waiting: dict[int, Job] = {}
        order: list[int] = []
        exhausted = False
        work = jobs(run, chunk_rows, slicing(run, chunk_rows, workers)[0])
        while True:
            while not exhausted and len(waiting) < window:
                job = next(work, None)
                if job is None:
                    exhausted = True
                    break
                waiting[job.seq] = job
                order.append(job.seq)
                futures[job.seq] = client.submit(
                    _dask_work,
                    shipped,
                    job,
                    cluster is not None,
                    pure=False,
                    key=f"cmf-orders-{job.seq}-{os.getpid()}",
                )
            if not order:
                return
            seq = order.pop(0)
            try:
                chunk_results: list[ChunkResult] = futures[seq].result()
            except (KilledWorker, FutureCancelledError):
                raise _died(waiting[seq], MAX_TRIES) from None
            except CmfConfigError as exc:
                raise BankError(str(exc), getattr(exc, "hint", None)) from None
            del futures[seq], waiting[seq]
            yield from chunk_results
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------ outputs


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
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
    results: Results,
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
            table_writer = TableWriter(outputs.verdicts, schema, plain=(ORDER_ID,))
            writers.append(table_writer)
            verdicts = _Behind(table_writer)
        rows = run.rows
        following = ("", 1)
        for arrived in results(run, chunk_rows):
            result = attrs.evolve(arrived, verdicts=unpack_verdicts(arrived.verdicts))
            following = _in_order(result, following)
            tally.add(result)
            if verdicts is not None:
                verdicts.write(_fit(result.verdicts, schema))
            if progress is not None:
                progress(result.verdicts.num_rows)
        if verdicts is not None:
            verdicts.finish()
        if rows is not None and tally.orders != rows:  # never: each chunk merged exactly once
            raise RuntimeError(f"{rows:,} orders in the files but {tally.orders:,} checked")
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
        if verdicts is not None:
            verdicts.stop()
        for writer in writers:
            writer.discard()


class _Behind:
    """Writes a table writer's tables on a thread of its own, in order, at most `ahead`
    behind: Parquet's encoding and compression release the GIL, so checking (in this
    process) or taking the workers' results goes on meanwhile. An error of the writing
    (a full disk) is raised in the caller's thread at its next write or at `finish`."""

    def __init__(self, writer: TableWriter, ahead: int = 4) -> None:
        self.writer = writer
        self._queue: queue.Queue[pa.Table | None] = queue.Queue(maxsize=ahead)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cmf-orders-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            table = self._queue.get()
            if table is None:
                return
            if self._error is None:
                try:
                    self.writer.write(table)
                except BaseException as exc:  # raised again in the caller's thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def write(self, table: pa.Table) -> None:
        """Queue a table (waits while `ahead` tables are queued)."""
        self._raise()
        if not self._thread.is_alive():
            raise RuntimeError("a table written after the writer was stopped")
        self._queue.put(table)

    def finish(self) -> None:
        """Wait until every queued table is written; raise the writing's error, if any."""
        self.stop()
        self._raise()

    def stop(self) -> None:
        """Let the thread end after the queued tables (idempotent)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


def _in_order(result: ChunkResult, following: tuple[str, int]) -> tuple[str, int]:
    """Check that a chunk starts where the previous one ended (or a file at its row 1), so
    that no order is lost or merged twice; the (file, row) the next chunk starts at."""
    table = result.verdicts
    if not table.num_rows:
        return following
    file = str(table.column("file")[0].as_py())
    first = int(table.column("row")[0].as_py())
    last = int(table.column("row")[-1].as_py())
    if first != (following[1] if file == following[0] else 1):  # never: merged in order
        raise RuntimeError(f"{file}: chunk starts at row {first:,}, expected {following}")
    return file, last + 1


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
