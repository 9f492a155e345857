"""Order banks on disk: CSV, JSON Lines and Parquet read in chunks, results written atomically.

A run is cut into slices, each a run of consecutive chunks of one file that one worker checks.
A Parquet slice is a descriptor (row group, first record batch, how many): the worker reads
those batches itself, so no order data passes through the parent. A text file (CSV, JSON
Lines) has no index to seek by row, so the reader (one process, in file order) cuts it into
raw chunks with their row and line numbers, one slice each. `decode` (in a worker) turns a raw
chunk into columns: configuration fields dictionary-encoded (each distinct cell parsed once),
pass-through columns as Arrow text arrays. Memory stays bounded by the chunk size whatever the
file size.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cmf_config.errors import UsageError
from cmf_config.files import AtomicFile
from cmf_config.reprs import shared_repr

_T = TypeVar("_T")

CHUNK_ROWS = 65_536
"""Rows per chunk: the unit of work of a worker and of memory (a few MB of Arrow data)."""
JSONL_HEADER_ROWS = 1_000
"""A JSON Lines bank's columns are the keys of its first rows (the file has no header)."""
_CSV_FIELD_LIMIT = 1 << 20

INPUT_KINDS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
OUTPUT_KINDS = {".csv": "csv", ".jsonl": "jsonl", ".json": "json", ".parquet": "parquet"}

Codes = npt.NDArray[np.int32]
TEXT = pa.dictionary(pa.int32(), pa.string())
"""The type of text columns in verdicts: repeated values (status, plant, week...) stored once."""


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class BankFile:
    """An order bank file that opened: its kind, its columns, and its row count if known."""

    path: str
    kind: str
    columns: tuple[str, ...]
    rows: int | None
    size: int


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class RawChunk:
    """Rows of a bank as the reader cut them: Arrow (Parquet), text rows (CSV), lines (JSONL).

    `start` is the 0-based index of the first row in its file; `lines` the 1-based line of
    each row in a text file.
    """

    file: str
    index: int
    start: int
    columns: tuple[str, ...]
    table: pa.Table | None = None
    rows: list[list[str]] | None = None
    lines: list[int] | None = None
    texts: list[bytes] | None = None

    @property
    def size(self) -> int:
        """Rows in the chunk."""
        if self.table is not None:
            return int(self.table.num_rows)
        if self.rows is not None:
            return len(self.rows)
        return len(self.texts or ())


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Slice:
    """Consecutive chunks of one file, the unit a worker takes.

    Parquet: batches `first_batch` .. `first_batch + chunks - 1` of row group `row_group`,
    read by the worker (`read_slice`); the batches of a row group are `chunk_rows` rows each,
    the last one shorter, so every process cuts the same chunks. Text files: `raw`, one chunk
    the reader already cut. `index` is the file-local index of the first chunk, `start` the
    0-based index of its first row in the file.
    """

    file: str
    columns: tuple[str, ...]
    index: int
    start: int
    rows: int
    chunks: int
    chunk_rows: int
    row_group: int = -1
    first_batch: int = 0
    raw: RawChunk | None = None

    def after(self, done: int) -> Slice:
        """The rest of the slice once its first `done` chunks are checked (a Parquet slice)."""
        if done <= 0:
            return self
        assert self.raw is None
        assert done < self.chunks
        skipped = done * self.chunk_rows
        return attrs.evolve(
            self,
            index=self.index + done,
            start=self.start + skipped,
            rows=self.rows - skipped,
            chunks=self.chunks - done,
            first_batch=self.first_batch + done,
        )


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Coded:
    """A dictionary-encoded column: row -> index into `uniques` (-1: empty cell)."""

    codes: Codes
    uniques: list[object]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Columns:
    """A decoded chunk: coded cells by column, the rows that could not be read at all."""

    file: str
    start: int
    size: int
    typed: bool
    lines: npt.NDArray[np.int64] | None
    cells: Mapping[str, Coded]
    text: Mapping[str, pa.Array]
    row_errors: Mapping[int, str]

    def plain_of(self, column: str) -> pa.Array:
        """A column as plain text (null for empty cells and missing columns): order ids."""
        if column in self.text:
            return plain_text(self.text[column])
        return self.text_of(column).cast(pa.string())

    def text_of(self, column: str) -> pa.Array:
        """A column as dictionary-encoded text (null for empty cells and missing columns)."""
        if column in self.text:
            return as_text(self.text[column])
        coded = self.cells.get(column)
        if coded is None:
            return pa.nulls(self.size, TEXT)
        words = pa.array([_as_text(u) for u in coded.uniques], pa.string())
        indices = pa.array(coded.codes, mask=coded.codes < 0)
        return pa.DictionaryArray.from_arrays(indices, words)


class BankError(UsageError):
    """An order bank that cannot be used at all (exit 2): the path and what to do."""


# ------------------------------------------------------------------ opening


def open_bank(path: Path) -> BankFile:
    """Check that a bank file can be read and learn its columns; raise BankError if not."""
    shown = str(path)
    kind = INPUT_KINDS.get(path.suffix.lower())
    if kind is None:
        raise BankError(
            f"{shown}: cannot tell the format of an order bank from the extension '{path.suffix}'",
            "name it .parquet, .csv or .jsonl (JSON Lines: one JSON object a line)",
        )
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise BankError(f"{shown}: is a directory, not an order bank", "give a file")
        if kind == "parquet":
            return _open_parquet(path, info.st_size)
        if kind == "csv":
            return _open_csv(path, info.st_size)
        return _open_jsonl(path, info.st_size)
    except OSError as exc:
        raise BankError(
            f"{shown}: cannot read the file: {exc.strerror or exc}",
            "check the path and its permissions",
        ) from None


def _open_parquet(path: Path, size: int) -> BankFile:
    try:
        meta = pq.ParquetFile(path)
    except (pa.ArrowException, ValueError) as exc:
        raise BankError(
            f"{path}: not a readable Parquet file: {exc}",
            "write the bank with pyarrow or pandas (to_parquet), or give .csv / .jsonl",
        ) from None
    columns = tuple(meta.schema_arrow.names)
    return BankFile(
        path=str(path), kind="parquet", columns=columns, rows=meta.metadata.num_rows, size=size
    )


def _open_csv(path: Path, size: int) -> BankFile:
    with _text(path) as handle:
        try:
            csv.field_size_limit(_CSV_FIELD_LIMIT)
            header = next(csv.reader(handle, strict=True), None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BankError(
                f"{path}:1: cannot read the CSV header: {exc}", "save the file as UTF-8 CSV"
            ) from None
    if not header or not any(h.strip() for h in header):
        raise BankError(
            f"{path}: the CSV file has no header line",
            "put the column names (order_id, brand, platform, ...) on the first line",
        )
    columns = tuple(h.strip() for h in header)
    _no_duplicates(path, columns)
    return BankFile(path=str(path), kind="csv", columns=columns, rows=None, size=size)


def _open_jsonl(path: Path, size: int) -> BankFile:
    seen: dict[str, None] = {}
    with path.open("rb") as handle:
        for count, line in enumerate(handle):
            if count >= JSONL_HEADER_ROWS:
                break
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                seen.update(dict.fromkeys(str(k) for k in record))
    if not seen:
        raise BankError(
            f"{path}: no JSON object in the first {JSONL_HEADER_ROWS:,} lines",
            'write one JSON object a line: {"order_id": "A1", "brand": "renault", ...}',
        )
    return BankFile(path=str(path), kind="jsonl", columns=tuple(seen), rows=None, size=size)


def _no_duplicates(path: Path, columns: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise BankError(
                f"{path}:1: the column '{name}' appears twice in the header",
                "give every column a unique name",
            )
        seen.add(name)


def _text(path: Path) -> IO[str]:
    return path.open("r", encoding="utf-8-sig", newline="")


# ------------------------------------------------------------------ reading


def read_chunks(bank: BankFile, chunk_rows: int = CHUNK_ROWS) -> Iterator[RawChunk]:
    """The raw chunks of a bank in file order; raise BankError when the file breaks mid-way."""
    for piece in slices(bank, chunk_rows):
        yield from read_slice(piece)


def slices(bank: BankFile, chunk_rows: int, max_chunks: int = 0) -> Iterator[Slice]:
    """The slices of a bank in file order: Parquet row groups cut into runs of at most
    `max_chunks` batches (0: whole row groups), text files one raw chunk each."""
    path = Path(bank.path)
    if bank.kind == "parquet":
        yield from _parquet_slices(bank, path, chunk_rows, max_chunks)
        return
    try:
        raws = (
            _csv_chunks(bank, path, chunk_rows)
            if bank.kind == "csv"
            else _jsonl_chunks(bank, path, chunk_rows)
        )
        for raw in raws:
            yield Slice(
                file=bank.path,
                columns=bank.columns,
                index=raw.index,
                start=raw.start,
                rows=raw.size,
                chunks=1,
                chunk_rows=chunk_rows,
                raw=raw,
            )
    except OSError as exc:
        raise BankError(
            f"{bank.path}: reading failed: {exc.strerror or exc}", "check the file and rerun"
        ) from None


def parquet_row_groups(bank: BankFile) -> list[int]:
    """The rows of each row group of a Parquet bank ([] for a text bank)."""
    if bank.kind != "parquet":
        return []
    try:
        meta = pq.ParquetFile(Path(bank.path)).metadata
        return [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise BankError(
            f"{bank.path}: cannot read the Parquet row groups: {exc}",
            "write the file again; no output was written",
        ) from None


def _parquet_slices(
    bank: BankFile, path: Path, chunk_rows: int, max_chunks: int
) -> Iterator[Slice]:
    sizes = parquet_row_groups(bank)
    start = 0
    index = 0
    for group, rows in enumerate(sizes):
        batches = -(-rows // chunk_rows)
        step = max_chunks if max_chunks > 0 else max(batches, 1)
        for first in range(0, batches, step):
            count = min(step, batches - first)
            size = min(rows - first * chunk_rows, count * chunk_rows)
            yield Slice(
                file=bank.path,
                columns=bank.columns,
                index=index,
                start=start,
                rows=size,
                chunks=count,
                chunk_rows=chunk_rows,
                row_group=group,
                first_batch=first,
            )
            start += size
            index += count


PLAIN_TEXT = frozenset({"order_id"})
"""Text columns read as plain strings, not dictionaries: order ids are (nearly) all distinct."""


def read_slice(piece: Slice) -> Iterator[RawChunk]:
    """The raw chunks of a slice (a worker reads a Parquet slice's batches itself)."""
    if piece.raw is not None:
        yield piece.raw
        return
    path = Path(piece.file)
    done = 0
    try:
        schema = pq.ParquetFile(path).schema_arrow
        # Text columns come out dictionary-encoded as Parquet stores them: no string is
        # materialised or hashed again.
        text = [
            f.name
            for f in schema
            if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
            and f.name not in PLAIN_TEXT
        ]
        parquet = pq.ParquetFile(path, read_dictionary=text)
        batches = parquet.iter_batches(batch_size=piece.chunk_rows, row_groups=[piece.row_group])
        for number, batch in enumerate(batches):
            if number < piece.first_batch:
                continue
            if done == piece.chunks:
                break
            start = piece.start + done * piece.chunk_rows
            expected = min(piece.chunk_rows, piece.start + piece.rows - start)
            if batch.num_rows != expected:  # never: the plan and the reader cut alike
                raise RuntimeError(
                    f"{piece.file}: row group {piece.row_group} batch {number} has "
                    f"{batch.num_rows} rows, {expected} planned"
                )
            yield RawChunk(
                file=piece.file,
                index=piece.index + done,
                start=start,
                columns=piece.columns,
                table=pa.Table.from_batches([batch]),
            )
            done += 1
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise BankError(
            f"{piece.file}: the Parquet data is damaged after row {piece.start + done * piece.chunk_rows:,}: {exc}",
            "write the file again; no output was written",
        ) from None
    if done != piece.chunks:
        raise BankError(
            f"{piece.file}: row group {piece.row_group} ends early (after row "
            f"{piece.start + done * piece.chunk_rows:,})",
            "write the file again; no output was written",
        )


def _csv_chunks(bank: BankFile, path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    with _text(path) as handle:
        for index, start, lines, rows in _batches(_csv_rows(bank, handle), chunk_rows):
            yield RawChunk(
                file=bank.path,
                index=index,
                start=start,
                columns=bank.columns,
                rows=rows,
                lines=lines,
            )


def _csv_rows(bank: BankFile, handle: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of each data row; blank lines are no orders."""
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    reader = csv.reader(handle, strict=True)
    line = 1
    try:
        next(reader)
        line = reader.line_num + 1
        for row in reader:
            if row:
                yield line, row
            line = reader.line_num + 1
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BankError(
            f"{bank.path}:{line}: cannot read the CSV text: {exc}",
            "fix the quoting or the encoding (UTF-8) at that line; no output was written",
        ) from None


def _jsonl_chunks(bank: BankFile, path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    with path.open("rb") as handle:
        numbered = ((number, text) for number, text in enumerate(handle, 1) if text.strip())
        for index, start, lines, texts in _batches(numbered, chunk_rows):
            yield RawChunk(
                file=bank.path,
                index=index,
                start=start,
                columns=bank.columns,
                texts=texts,
                lines=lines,
            )


def _batches(
    numbered: Iterator[tuple[int, _T]], size: int
) -> Iterator[tuple[int, int, list[int], list[_T]]]:
    """(chunk index, first row index, lines, items) for each run of `size` numbered items."""
    start = 0
    index = 0
    while True:
        batch = list(itertools.islice(numbered, size))
        if not batch:
            return
        yield index, start, [line for line, _ in batch], [item for _, item in batch]
        start += len(batch)
        index += 1


# ------------------------------------------------------------------ decoding (in workers)


def decode(raw: RawChunk, coded: frozenset[str]) -> Columns:
    """Columns of a raw chunk; the columns named in `coded` are dictionary-encoded."""
    if raw.table is not None:
        return _decode_arrow(raw, coded)
    if raw.rows is not None:
        return _decode_csv(raw, coded)
    return _decode_jsonl(raw, coded)


def _decode_arrow(raw: RawChunk, coded: frozenset[str]) -> Columns:
    assert raw.table is not None
    table = raw.table
    cells: dict[str, Coded] = {}
    text: dict[str, pa.Array] = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if name in coded:
            cells[name] = _encode_arrow(column)
        else:
            text[name] = column
    return Columns(
        file=raw.file,
        start=raw.start,
        size=table.num_rows,
        typed=True,
        lines=None,
        cells=cells,
        text=text,
        row_errors={},
    )


def _encode_arrow(column: pa.Array) -> Coded:
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        # A list column (features): one cell value per distinct list, kept as a tuple.
        if pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type):
            joined = pc.binary_join(column, "\x1f")
            encoded = pc.dictionary_encode(joined)
            words = encoded.dictionary.to_pylist()
            uniques: list[object] = [tuple(w.split("\x1f")) if w else () for w in words]
            return Coded(codes=_indices(encoded), uniques=uniques)
        return _encode_python(column.to_pylist())
    if pa.types.is_dictionary(kind):
        if pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type):
            return Coded(codes=_indices(column), uniques=column.dictionary.to_pylist())
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_null(kind):
        return Coded(codes=np.full(len(column), -1, np.int32), uniques=[])
    if pa.types.is_struct(kind) or pa.types.is_map(kind) or pa.types.is_binary(kind):
        return _encode_python(column.to_pylist())
    encoded = pc.dictionary_encode(column)
    return Coded(codes=_indices(encoded), uniques=encoded.dictionary.to_pylist())


def _indices(encoded: pa.DictionaryArray) -> Codes:
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, -1)
    return np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int32)


def plain_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as plain text, as `as_text` words it but without the dictionary."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_large_string(kind) or (
        pa.types.is_dictionary(kind)
        and (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type))
    ):
        return column.cast(pa.string())
    return as_text(column).cast(pa.string())


def as_text(column: pa.Array) -> pa.Array:
    """A column as dictionary-encoded text (int32 indices, string values)."""
    kind = column.type
    if kind == TEXT:
        return column
    if pa.types.is_dictionary(kind):
        if pa.types.is_string(kind.value_type):
            return column.cast(TEXT)
        column = column.cast(kind.value_type)
        kind = column.type
    if not pa.types.is_string(kind):
        try:
            column = column.cast(pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            column = pa.array([_as_text(v) for v in column.to_pylist()], pa.string())
    return pc.dictionary_encode(column).cast(TEXT)


def _decode_csv(raw: RawChunk, coded: frozenset[str]) -> Columns:
    assert raw.rows is not None
    width = len(raw.columns)
    row_errors: dict[int, str] = {}
    rows = raw.rows
    for i, row in enumerate(rows):
        if len(row) != width:
            more = "quote values that contain commas" if len(row) > width else "fill every column"
            row_errors[i] = f"the row has {len(row)} fields where the header has {width}: {more}"
    if row_errors:
        # a ragged row keeps its first fields (the order id, usually) and nothing else
        rows = [
            row if i not in row_errors else [*row[:1], *[""] * (width - 1)]
            for i, row in enumerate(rows)
        ]
    cells: dict[str, Coded] = {}
    text: dict[str, pa.Array] = {}
    for j, name in enumerate(raw.columns):
        values = pa.array([row[j] for row in rows], pa.string())
        values = pc.if_else(
            pc.equal(pc.utf8_trim_whitespace(values), ""), pa.scalar(None, pa.string()), values
        )
        if name in coded:
            encoded = pc.dictionary_encode(values)
            uniques = [str(u).strip() for u in encoded.dictionary.to_pylist()]
            cells[name] = Coded(codes=_indices(encoded), uniques=list(uniques))
        else:
            text[name] = values
    return Columns(
        file=raw.file,
        start=raw.start,
        size=len(rows),
        typed=False,
        lines=np.asarray(raw.lines, dtype=np.int64),
        cells=cells,
        text=text,
        row_errors=row_errors,
    )


def _decode_jsonl(raw: RawChunk, coded: frozenset[str]) -> Columns:
    assert raw.texts is not None
    records: list[Mapping[str, Any]] = []
    row_errors: dict[int, str] = {}
    known = set(raw.columns)
    for i, line in enumerate(raw.texts):
        try:
            record = json.loads(line)
        except ValueError as exc:
            row_errors[i] = f"not valid JSON: {exc}"
            records.append({})
            continue
        if not isinstance(record, dict):
            row_errors[i] = f"a JSON {type(record).__name__} where an object was expected"
            records.append({})
            continue
        extra = [str(k) for k in record if k not in known]
        if extra:
            row_errors[i] = (
                f"unknown column '{extra[0]}' (not among the keys of the first "
                f"{JSONL_HEADER_ROWS:,} lines): put every key in the first lines, or fix the key"
            )
        records.append(record)
    cells: dict[str, Coded] = {}
    text: dict[str, pa.Array] = {}
    for name in raw.columns:
        values = [r.get(name) for r in records]
        if name in coded:
            cells[name] = _encode_python(values)
        else:
            text[name] = pa.array([_as_text(v) for v in values], pa.string())
    return Columns(
        file=raw.file,
        start=raw.start,
        size=len(records),
        typed=True,
        lines=np.asarray(raw.lines, dtype=np.int64),
        cells=cells,
        text=text,
        row_errors=row_errors,
    )


@shared_repr
@attrs.frozen(repr=False)
class Unhashable:
    """A cell value that cannot be a dictionary key (a JSON object), kept as its JSON text."""

    text: str


def _encode_python(values: Sequence[object]) -> Coded:
    index: dict[object, int] = {}
    uniques: list[object] = []
    codes = np.empty(len(values), np.int32)
    for i, value in enumerate(values):
        if value is None:
            codes[i] = -1
            continue
        key = _hashable(value)
        # (type, value): keep True, 1 and 1.0 apart, they are different cells
        slot = index.get((type(key), key))
        if slot is None:
            slot = index[(type(key), key)] = len(uniques)
            uniques.append(key)
        codes[i] = slot
    return Coded(codes=codes, uniques=uniques)


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return Unhashable(json.dumps(value, sort_keys=True))
    return value


def _as_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Unhashable):
        return value.text
    if isinstance(value, tuple | list):
        return ";".join(str(_as_text(v)) for v in value)
    return str(value)


# ------------------------------------------------------------------ writing


POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"
"""Arrow's own setting of its allocator: when a user sets it, `lean_memory_pool` leaves it."""


def lean_memory_pool() -> None:
    """Arrow's jemalloc allocator for an order-bank run (the command's process and each
    worker it starts), unless ARROW_DEFAULT_MEMORY_POOL names one.

    pyarrow's default (mimalloc in pyarrow 26) keeps more of what the chunks freed: on the
    benchmark's 10-million-order bank the peak PSS was 602 -> 511 MiB with one worker and
    932-937 -> 736-768 MiB with two, and the runs were no slower. A pyarrow built without
    jemalloc keeps its default.
    """
    if os.environ.get(POOL_ENV) or pa.default_memory_pool().backend_name == "jemalloc":
        return
    with contextlib.suppress(NotImplementedError, pa.ArrowException):
        pa.set_memory_pool(pa.jemalloc_memory_pool())


class TableWriter:
    """Appends Arrow tables of one schema to a Parquet, CSV, JSON Lines or JSON file."""

    def __init__(self, path: Path, schema: pa.Schema, plain: Sequence[str] = ()) -> None:
        """`plain`: text columns of (nearly) unique values, such as order ids, that Parquet
        stores without a dictionary (building one costs time and saves nothing there)."""
        kind = OUTPUT_KINDS.get(path.suffix.lower())
        if kind is None:
            raise UsageError(
                f"cannot tell the output format of '{path}' from its extension",
                "name it .parquet, .csv, .jsonl or .json",
            )
        self.kind = kind
        if kind != "parquet":  # text formats have no dictionaries: plain strings
            schema = pa.schema(
                [
                    pa.field(f.name, f.type.value_type) if pa.types.is_dictionary(f.type) else f
                    for f in schema
                ]
            )
        self.schema = schema
        self.file = AtomicFile(path)
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._handle: IO[bytes] | None = None
        self._csv: pacsv.CSVWriter | None = None
        if kind == "parquet":
            # integers (row and line numbers, counts) delta-encoded; `plain` columns without
            # a dictionary; the rest dictionary-encoded (Parquet's default)
            encodings = {
                f.name: "DELTA_BINARY_PACKED" if pa.types.is_integer(f.type) else "PLAIN"
                for f in schema
                if pa.types.is_integer(f.type) or (f.name in plain and pa.types.is_string(f.type))
            }
            self._parquet = pq.ParquetWriter(
                self.file.temp,
                schema,
                compression="zstd",
                use_dictionary=[f.name for f in schema if f.name not in encodings],
                column_encoding=encodings or None,
            )
        else:
            self._handle = self.file.temp.open("wb")
            if kind == "csv":
                # the header as Python's csv writes it: quoted only where needed
                header = io.StringIO()
                csv.writer(header, lineterminator="\n").writerow(schema.names)
                self._handle.write(header.getvalue().encode("utf-8"))
                options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
                self._csv = pacsv.CSVWriter(self._handle, schema, write_options=options)
            elif kind == "json":
                self._handle.write(b"[")

    def write(self, table: pa.Table) -> None:
        """Append rows (the table's columns are cast to the writer's schema)."""
        table = table.select(self.schema.names).cast(self.schema)
        if self._parquet is not None:
            self._parquet.write_table(table)
        elif self._csv is not None:
            self._csv.write_table(table)
        else:
            assert self._handle is not None
            self._write_json(table)
        self.rows += table.num_rows

    def _write_json(self, table: pa.Table) -> None:
        assert self._handle is not None
        separator = b"\n" if self.kind == "jsonl" else b",\n"
        parts: list[bytes] = []
        for record in table.to_pylist():
            text = json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
            if self.kind == "json" and (self.rows or parts):
                parts.append(separator)
            elif self.kind == "json":
                parts.append(b"\n")
            parts.append(text)
            if self.kind == "jsonl":
                parts.append(separator)
        self._handle.write(b"".join(parts))

    def close(self) -> None:
        """Finish the file (still under its temporary name)."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._csv is not None:
            self._csv.close()
            self._csv = None
        if self._handle is not None:
            if self.kind == "json":
                self._handle.write(b"\n]\n" if self.rows else b"]\n")
            self._handle.flush()
            if not self.file.direct:
                os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def commit(self) -> None:
        """Close and give the file its final name."""
        self.close()
        self.file.commit()

    def discard(self) -> None:
        """Close and remove the temporary file."""
        with contextlib.suppress(Exception):
            self.close()
        self.file.discard()
