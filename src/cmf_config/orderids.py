"""Duplicate order ids across a whole run (every file, every chunk), in bounded memory.

An order id names one order, so a second row with the same id is a data error, wherever it
is: in the next row, a million rows later, or in another file of the run. Keeping every id
seen would cost the text of every id; instead, before the orders are checked:

1. every id is hashed to 64 bits (numpy, over the Arrow string buffers) and the hashes are
   sorted: 8 bytes an order. An id whose hash occurs once is unique, which is nearly all;
2. only if some hash repeats, the ids are read again and, for the rows whose hash repeats,
   the exact texts are compared in input order: the first row with an id keeps its verdict,
   each later row with the same id is a duplicate of that first row. Equal hashes of
   different ids (possible, if very rare) are told apart here.

Ids are compared as the text of the verdicts' `order_id` column; rows without an id are
malformed on their own ("missing order id") and never duplicates.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from cmf_config.orderio import PLAIN_TEXT, BankError, BankFile, decode, plain_text, read_chunks
from cmf_config.reprs import shared_repr

ORDER_ID = "order_id"
assert ORDER_ID in PLAIN_TEXT
Hashes = npt.NDArray[np.uint64]

_BATCH = 65_536
_P = 0x100000001B3  # odd, so it has an inverse modulo 2**64
_P_INV = pow(_P, -1, 1 << 64)
_EMPTY = np.zeros(0, np.uint64)


def hash_ids(ids: pa.Array) -> Hashes:
    """A 64-bit hash of each text id (0 for a null id, never 0 for an id).

    A polynomial hash of the bytes modulo 2**64 from prefix sums (vectorised: no Python per
    row), the length mixed in, then SplitMix64's finaliser. Not collision-proof, and it need
    not be: equal hashes are only candidates, compared exactly afterwards.
    """
    out = [_hash_batch(ids.slice(i, _BATCH)) for i in range(0, len(ids), _BATCH)]
    return np.concatenate(out) if out else _EMPTY


def _hash_batch(ids: pa.Array) -> Hashes:
    binary = ids.cast(pa.large_binary())
    n = len(binary)
    offsets = np.frombuffer(binary.buffers()[1], np.int64, count=n + 1, offset=binary.offset * 8)
    low, high = int(offsets[0]), int(offsets[-1])
    data_buffer = binary.buffers()[2]
    data = (
        np.frombuffer(data_buffer, np.uint8)[low:high].astype(np.uint64)
        if data_buffer is not None and high > low
        else _EMPTY
    )
    powers, inverse = _powers(len(data) + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(data) + 1, np.uint64)
        np.cumsum((data + np.uint64(1)) * powers[: len(data)], dtype=np.uint64, out=prefix[1:])
        starts = offsets[:-1] - low
        ends = offsets[1:] - low
        value = (prefix[ends] - prefix[starts]) * inverse[starts]
        value ^= (ends - starts).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        value ^= value >> np.uint64(30)
        value *= np.uint64(0xBF58476D1CE4E5B9)
        value ^= value >> np.uint64(27)
        value *= np.uint64(0x94D049BB133111EB)
        value ^= value >> np.uint64(31)
    value[value == 0] = 1
    if binary.null_count:
        valid = np.asarray(binary.is_valid().to_numpy(zero_copy_only=False), bool)
        value[~valid] = 0
    return value


_TABLES: list[tuple[Hashes, Hashes]] = []


def _powers(size: int) -> tuple[Hashes, Hashes]:
    """P**i and P**-i modulo 2**64 for i < size (at least), computed once and kept."""
    if not _TABLES or len(_TABLES[0][0]) < size:
        length = max(size, 1 << 20)
        with np.errstate(over="ignore"):
            powers = np.full(length, _P, np.uint64)
            inverse = np.full(length, _P_INV, np.uint64)
            powers[0] = inverse[0] = 1
            _TABLES[:] = [
                (np.cumprod(powers, dtype=np.uint64), np.cumprod(inverse, dtype=np.uint64))
            ]
    return _TABLES[0]


def id_batches(bank: BankFile, chunk_rows: int) -> Iterator[pa.Array]:
    """A bank's order ids as text, in file order, as the verdicts will show them."""
    if bank.kind == "parquet":
        try:
            parquet = pq.ParquetFile(Path(bank.path))
            for batch in parquet.iter_batches(
                batch_size=max(chunk_rows, _BATCH), columns=[ORDER_ID]
            ):
                yield plain_text(batch.column(0))
        except (pa.ArrowException, ValueError, OSError) as exc:
            raise BankError(
                f"{bank.path}: the Parquet data is damaged: {exc}",
                "write the file again; no output was written",
            ) from None
        return
    for raw in read_chunks(bank, chunk_rows):
        yield decode(raw, frozenset()).plain_of(ORDER_ID)


@shared_repr
@attrs.frozen(repr=False)
class Duplicates:
    """The rows whose id an earlier row has: per file, (0-based row, message), by row."""

    rows: Mapping[str, tuple[tuple[int, str], ...]] = attrs.field(factory=dict)

    @property
    def count(self) -> int:
        """Rows that are duplicates."""
        return sum(len(v) for v in self.rows.values())

    def within(self, file: str, start: int, size: int) -> tuple[tuple[int, str], ...]:
        """The duplicates among rows start .. start+size-1 of a file."""
        found = self.rows.get(file, ())
        if not found:
            return ()
        low = bisect.bisect_left(found, (start, ""))
        high = bisect.bisect_left(found, (start + size, ""))
        return found[low:high]


def find_duplicates(banks: Sequence[BankFile], chunk_rows: int) -> Duplicates:
    """Every row whose order id an earlier row of the run (any file) already has."""
    suspects = _repeated_hashes(banks, chunk_rows)
    if not len(suspects):
        return Duplicates()
    first: dict[str, tuple[int, int]] = {}
    found: dict[str, list[tuple[int, str]]] = {}
    for number, bank in enumerate(banks):
        row = 0
        for ids in id_batches(bank, chunk_rows):
            candidates = _members(hash_ids(ids), suspects)
            texts = ids.take(pa.array(candidates)).to_pylist() if len(candidates) else []
            for index, text in zip(candidates.tolist(), texts, strict=True):
                here = row + index
                seen = first.setdefault(text, (number, here))
                if seen != (number, here):
                    where = "" if seen[0] == number else f" of {banks[seen[0]].path}"
                    found.setdefault(bank.path, []).append(
                        (here, f"duplicate of row {seen[1] + 1:,}{where}")
                    )
            row += len(ids)
    return Duplicates({k: tuple(v) for k, v in found.items()})


def _repeated_hashes(banks: Sequence[BankFile], chunk_rows: int) -> Hashes:
    """The hash values (not 0) that more than one row has, sorted.

    The hashes of every row are held once (8 bytes a row): filled into one array when the
    files tell their row counts (Parquet), else gathered and joined (twice that, briefly).
    """
    counts = [bank.rows for bank in banks]
    if all(count is not None for count in counts):
        every = np.empty(sum(count or 0 for count in counts), np.uint64)
        filled = 0
        for bank in banks:
            for ids in id_batches(bank, chunk_rows):
                hashes = hash_ids(ids)
                if filled + len(hashes) > len(every):  # a file with more rows than it said
                    every = np.concatenate([every[:filled], np.empty(len(hashes), np.uint64)])
                every[filled : filled + len(hashes)] = hashes
                filled += len(hashes)
        every = every[:filled]
    else:
        parts = [hash_ids(ids) for bank in banks for ids in id_batches(bank, chunk_rows)]
        every = np.concatenate(parts) if parts else _EMPTY
        del parts
    if not len(every):
        return _EMPTY
    every.sort()
    repeated = every[1:][(every[1:] == every[:-1]) & (every[1:] != 0)]
    return np.unique(repeated)


def _members(hashes: Hashes, suspects: Hashes) -> npt.NDArray[np.int64]:
    """Positions of the hashes that are among the (sorted) suspects."""
    at = np.searchsorted(suspects, hashes)
    hit = suspects[np.minimum(at, len(suspects) - 1)] == hashes
    return np.nonzero(hit & (hashes != 0))[0].astype(np.int64)


__all__ = ["Duplicates", "find_duplicates", "hash_ids", "id_batches"]
