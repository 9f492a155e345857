"""orders: validate an order bank and explode it into part demand, on all cores or on Dask."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cmf_config import api, report
from cmf_config.commands.common import add_common, emit, stamp
from cmf_config.errors import ExitCode

CHUNK_ROWS = 65_536
"""The default of --chunk-rows (orderio.CHUNK_ROWS; a test keeps the two equal)."""


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
    p.add_argument(
        "--verdicts",
        type=Path,
        default=None,
        metavar="OUT",
        help="write the verdict of every order to OUT (.parquet, .csv, .jsonl or .json)",
    )
    p.add_argument(
        "--demand",
        type=Path,
        default=None,
        metavar="OUT",
        help="write the part demand to OUT (.parquet, .csv, .jsonl or .json)",
    )
    p.add_argument(
        "--boms",
        type=Path,
        default=None,
        metavar="OUT",
        help="write the resolved BOM of every valid configuration to OUT (.parquet, .csv, .jsonl or .json)",
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


def _outputs(args: argparse.Namespace) -> dict[str, Path | None]:
    """The output paths: -o DIR's default layout, overridden by --verdicts/--demand/..."""
    names = ("verdicts", "demand", "boms", "summary")
    base: dict[str, Path | None] = dict.fromkeys(names)
    if args.output is not None:
        directory: Path = args.output
        if directory.exists() and not directory.is_dir():
            raise report.usage_error("orders-output-file", directory=directory)
        if not directory.exists():
            if not directory.parent.is_dir():
                raise report.usage_error(
                    "orders-output-parent", directory=directory, parent=directory.parent
                )
            directory.mkdir()
        base = {
            "verdicts": directory / "verdicts.parquet",
            "demand": directory / "demand.parquet",
            "boms": directory / "boms.parquet",
            "summary": directory / "summary.json",
        }
    return {name: getattr(args, name) or base[name] for name in names}


def run_orders(args: argparse.Namespace) -> int:
    """orders FILE... [--group-by COL,...] [-o DIR] [--workers N] [--dask ADDRESS|local]."""
    if args.workers < 0:
        raise report.usage_error("orders-workers")
    if args.chunk_rows < 1:
        raise report.usage_error("chunk-rows")
    group_by = tuple(c.strip() for c in args.group_by.split(",") if c.strip())
    outputs = _outputs(args)
    progress = _Progress() if sys.stderr.isatty() else None
    started = time.monotonic()
    try:
        result = api.check_orders(
            args.files,
            catalog=args.catalog,
            rules=args.rules,
            group_by=group_by,
            workers=args.workers,
            dask=args.dask,
            chunk_rows=args.chunk_rows,
            progress=progress.update if progress else None,
            **outputs,
        )
    except OSError as exc:
        raise report.orders_cannot_write(exc.filename, exc.strerror or str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    if not result.orders:
        raise report.usage_error("orders-none", files=", ".join(str(f) for f in args.files))
    if args.format == "json":
        emit(stamp(args, report.to_json(result.summary)))
    else:
        emit(stamp(args, report.orders_text(result.summary, time.monotonic() - started)))
    return ExitCode.OK if result.all_valid else ExitCode.INVALID


class _Progress:
    """A one-line progress bar on stderr (only on a terminal), redrawn at most 5 times a second."""

    def __init__(self) -> None:
        self.done = 0
        self.started = time.monotonic()
        self.shown = 0.0

    def update(self, rows: int, total: int | None) -> None:
        self.done += rows
        now = time.monotonic()
        if now - self.shown < 0.2:
            return
        self.shown = now
        rate = self.done / max(now - self.started, 1e-9)
        sys.stderr.write(f"\r{report.orders_progress(self.done, total, rate)}\x1b[K")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
