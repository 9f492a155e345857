"""Draw a fleet's sharing matrix as a heatmap (PNG or SVG), reproducibly and atomically.

Why these choices:

* The figure is built with matplotlib's object API on an Agg canvas, never pyplot, so no
  GUI backend or global figure registry is involved (safe in a CLI and in tests).
* The same matrix gives the same bytes: SVG ids are salted with a fixed
  ``svg.hashsalt``, text is drawn as paths, and the metadata carries no date and no
  matplotlib version. That makes heatmaps diffable and usable as goldens.
* The file is written by ``files.write_atomic``: a failure never leaves a half-written
  heatmap behind (an existing file stays as it was), a symlink is written through.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Final

import matplotlib as mpl
import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from cmf_config.errors import OutputError
from cmf_config.files import write_atomic
from cmf_config.sharing import SimilarityMatrix, cluster_order

__all__ = ["ANNOTATE_MAX", "FORMATS", "HeatmapError", "render_heatmap"]

FORMATS: Final = {".png": "png", ".svg": "svg"}
"""File extensions `render_heatmap` understands, and the format each one selects."""

ANNOTATE_MAX: Final = 40
"""Up to this many products, each cell shows its percentage; beyond, the text is unreadable."""

_LABEL_MAX: Final = 150  # beyond this many products, tick labels overlap into a black band
_DARK_BELOW: Final = 0.5  # viridis is dark below the middle: annotate those cells in white
_MEASURE_LABELS: Final = {
    "ratio": "shared part numbers (Dice, the headline ratio)",
    "dice": "shared part numbers (Dice)",
    "jaccard": "shared part numbers (Jaccard)",
    "overlap": "shared part numbers (overlap)",
    "share_of_a_in_b": "share of the row's part numbers also in the column",
    "share_of_b_in_a": "share of the column's part numbers also in the row",
}


class HeatmapError(OutputError):
    """A heatmap that cannot be drawn: an unknown file extension or an empty matrix.

    Raised by `render_heatmap` before anything is written (a `UsageError`, so a
    `CmfConfigError`). Errors of the file system are UsageErrors from `files.write_atomic`.
    """

    def __init__(self, path: str, reason: str, hint: str) -> None:
        super().__init__(path, reason, hint, what="the heatmap")


def render_heatmap(matrix: SimilarityMatrix, path: str | os.PathLike[str], title: str) -> None:
    """Write the matrix as a PNG or SVG heatmap (chosen by the extension of ``path``).

    Rows and columns follow `cluster_order`, so similar products sit together. Raises
    HeatmapError for an unsupported extension or an empty matrix, UsageError if the file
    cannot be written.
    """
    target = Path(path)
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise HeatmapError(
            str(target),
            f"cannot draw a heatmap as '{target.suffix or '(no extension)'}'",
            "name the file .png or .svg",
        )
    if not matrix.names:
        raise HeatmapError(str(target), "the matrix has no products", "give at least one product")
    with mpl.rc_context(
        {"svg.hashsalt": "cmf-config", "svg.fonttype": "path", "font.family": "DejaVu Sans"}
    ):
        figure = _draw(matrix, title)
        _write_atomically(figure, target, fmt, title)


def _ordered_values(matrix: SimilarityMatrix) -> tuple[list[str], npt.NDArray[np.float64]]:
    """Return the names and the values permuted by `cluster_order`, NaN for None."""
    order = cluster_order(matrix)
    values = np.array(
        [
            [math.nan if matrix.values[i][j] is None else matrix.values[i][j] for j in order]
            for i in order
        ],
        dtype=np.float64,
    ).reshape(len(order), len(order))
    return [matrix.names[i] for i in order], values


def _draw(matrix: SimilarityMatrix, title: str) -> Figure:
    """Lay out the heatmap, labels, colour bar and (for small fleets) the cell percentages."""
    names, values = _ordered_values(matrix)
    n = len(names)
    side = min(max(4.0, 0.42 * n + 3.0), 24.0)
    font = max(3.0, min(9.0, 400.0 / max(n, 1)))
    figure = Figure(figsize=(side + 1.5, side), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    colours = mpl.colormaps["viridis"].with_extremes(bad="lightgrey")
    image = axes.imshow(
        np.ma.masked_invalid(values), cmap=colours, vmin=0.0, vmax=1.0, interpolation="nearest"
    )
    axes.set_title(title)
    if n <= _LABEL_MAX:
        axes.set_xticks(range(n), labels=names, rotation=90, fontsize=font)
        axes.set_yticks(range(n), labels=names, fontsize=font)
    else:
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_xlabel(f"{n} products (too many to label)")
    if n <= ANNOTATE_MAX:
        for i in range(n):
            for j in range(n):
                value = values[i, j]
                text = "n/a" if math.isnan(value) else f"{100.0 * value:.0f}%"
                colour = "white" if not math.isnan(value) and value < _DARK_BELOW else "black"
                axes.text(j, i, text, ha="center", va="center", fontsize=font * 0.8, color=colour)
    bar = figure.colorbar(image, ax=axes, format=PercentFormatter(xmax=1.0))
    bar.set_label(_MEASURE_LABELS.get(matrix.measure, matrix.measure))
    figure.tight_layout()
    return figure


def _write_atomically(figure: Figure, target: Path, fmt: str, title: str) -> None:
    """Render into memory, then write the file atomically (files.write_atomic)."""
    # Fixed metadata: no date and no library version, so equal input gives equal bytes.
    metadata = (
        {"Software": "cmf-config", "Title": title}
        if fmt == "png"
        else {"Creator": "cmf-config", "Date": None, "Title": title}
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata=metadata)
    write_atomic(target, buffer.getvalue())
