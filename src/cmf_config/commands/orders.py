"""orders: validate an order bank and explode it into part demand, on all cores or on Dask."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from cmf_config import report
from cmf_config.commands.common import add_common, emit, stamp
from cmf_config.errors import ExitCode, UsageError
from cmf_config.orderio import CHUNK_ROWS
from cmf_config.orderrun import (
    Outputs,
    execute,
    plan,
    results_dask,
    results_here,
    results_pool,
)
from cmf_config.orders import Checker


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the orders command."""
    p = sub.add_parser(
        "orders",
        help="validate an order bank and explode it into part demand",
        description=(
            "Check every order of CSV, JSON Lines or Parquet order banks against the catalog "
            "and the rules, resolve each valid order's bill of materials and sum the part "
            "demand. Exit 0 every order valid, 1 some order invalid or malformed, 2 unusable "
            "input. See docs/orders.md."
        ),
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument(
        "--group-by",
        default="",
        metavar="COL,...",
        help="sum the part demand per value of these columns (e.g. week,plant)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="DIR",
        help="write verdicts.parquet, demand.parquet, boms.parquet and summary.json into DIR",
    )
    for name, what in (
        ("verdicts", "the verdict of every order"),
        ("demand", "the part demand"),
        ("boms", "the resolved BOM of every valid configuration"),
    ):
        p.add_argument(
            f"--{name}",
            type=Path,
            default=None,
            metavar="OUT",
            help=f"write {what} to OUT (.parquet, .csv, .jsonl or .json)",
        )
    p.add_argument(
        "--summary", type=Path, default=None, metavar="OUT.json", help="write the summary to OUT"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (0: one per core; default 1: this process)",
    )
    p.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="run on Dask: 'local' starts a LocalCluster of --workers processes, "
        "tcp://host:8786 uses a running scheduler",
    )
    p.add_argument(
        "--chunk-rows",
        type=int,
        default=CHUNK_ROWS,
        metavar="N",
        help=f"orders per chunk, the unit of work and of memory (default {CHUNK_ROWS:,})",
    )
    add_common(p)
    p.set_defaults(run=run_orders)


def _outputs(args: argparse.Namespace) -> Outputs:
    base = Outputs()
    if args.output is not None:
        directory: Path = args.output
        if directory.exists() and not directory.is_dir():
            raise UsageError(
                f"-o {directory}: is a file; -o takes a directory",
                "give a directory, or name each output with --verdicts/--demand/--boms/--summary",
            )
        if not directory.exists():
            if not directory.parent.is_dir():
                raise UsageError(
                    f"-o {directory}: the directory '{directory.parent}' does not exist",
                    "create it first",
                )
            directory.mkdir()
        base = Outputs.in_directory(directory)
    return Outputs(
        verdicts=args.verdicts or base.verdicts,
        demand=args.demand or base.demand,
        boms=args.boms or base.boms,
        summary=args.summary or base.summary,
    )


def run_orders(args: argparse.Namespace) -> int:
    """orders FILE... [--group-by COL,...] [-o DIR] [--workers N] [--dask ADDRESS|local]."""
    if args.workers < 0:
        raise UsageError("--workers must be 0 (one per core) or more", "write --workers 2")
    if args.chunk_rows < 1:
        raise UsageError("--chunk-rows must be at least 1", "write --chunk-rows 65536")
    workers = args.workers or os.cpu_count() or 1
    group_by = tuple(c.strip() for c in args.group_by.split(",") if c.strip())
    checker = Checker.open(args.catalog, args.rules)
    run = plan(checker, args.files, group_by)
    outputs = _outputs(args)
    if args.dask:
        count = workers if args.workers else os.cpu_count() or 1
        results = results_dask(checker, args.dask, count)
    elif workers > 1:
        results = results_pool(checker, workers)
    else:
        results = results_here(checker)

    progress = _Progress(run.rows) if sys.stderr.isatty() else None
    started = time.monotonic()
    try:
        tally, summary = execute(
            checker,
            run,
            outputs,
            results,
            args.chunk_rows,
            progress.update if progress else None,
        )
    except OSError as exc:
        where = exc.filename or "the output"
        raise UsageError(
            f"cannot write {where}: {exc.strerror or exc}",
            "check the path, its permissions and the free space",
        ) from None
    finally:
        if progress is not None:
            progress.close()
    if not tally.orders:
        raise UsageError(
            f"no orders in {', '.join(str(f) for f in args.files)}: nothing was checked",
            "give a bank with at least one order row",
        )
    if args.format == "json":
        emit(stamp(args, report.to_json(summary)))
    else:
        emit(stamp(args, report.orders_text(summary, time.monotonic() - started)))
    return ExitCode.OK if tally.counts[0] == tally.orders else ExitCode.INVALID


class _Progress:
    """A one-line progress bar on stderr (only on a terminal), redrawn at most 5 times a second."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.shown = 0.0

    def update(self, rows: int) -> None:
        self.done += rows
        now = time.monotonic()
        if now - self.shown < 0.2:
            return
        self.shown = now
        rate = self.done / max(now - self.started, 1e-9)
        if self.total:
            share = min(self.done / self.total, 1.0)
            bar = "#" * int(share * 30)
            text = f"[{bar:<30}] {share:6.1%} {self.done:,}/{self.total:,} orders, {rate:,.0f}/s"
        else:
            text = f"{self.done:,} orders, {rate:,.0f}/s"
        sys.stderr.write(f"\r{text}\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
