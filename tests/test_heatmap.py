"""Tests for cmf_config.heatmap: valid files, byte-for-byte reproducibility, atomic writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PIL import Image

import sharing_oracle as oracle
from cmf_config import heatmap
from cmf_config.errors import UsageError
from cmf_config.heatmap import HeatmapError, render_heatmap
from cmf_config.sharing import PartUse, ProductBom, SimilarityMatrix, fleet_matrix

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fleet_of(size: int) -> SimilarityMatrix:
    """Return the Dice matrix of a synthetic fleet with overlapping part sets."""
    products = [
        ProductBom(
            name=f"V{k:03d}",
            lines=tuple(PartUse(part=f"P{p}", quantity=1) for p in range(k % 7, k % 7 + 10)),
        )
        for k in range(size)
    ]
    return fleet_matrix(products)


def small_matrix() -> SimilarityMatrix:
    """Return the matrix of both hand-worked examples plus an empty product (one None cell)."""
    return fleet_matrix([*oracle.trio(), *oracle.vans(), ProductBom(name="empty", lines=())])


def test_png_is_a_valid_image(tmp_path: Path) -> None:
    """A .png path gives a PNG that Pillow can decode."""
    path = tmp_path / "share.png"
    render_heatmap(small_matrix(), path, "Parts sharing")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG"


def test_svg_is_well_formed_xml(tmp_path: Path) -> None:
    """A .svg path gives an SVG document with no date in it."""
    path = tmp_path / "share.svg"
    render_heatmap(small_matrix(), path, "Parts sharing")
    root = ET.parse(path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<dc:date>" not in path.read_text(encoding="utf-8")


def test_extension_is_case_insensitive(tmp_path: Path) -> None:
    """SHARE.PNG is a PNG too."""
    path = tmp_path / "SHARE.PNG"
    render_heatmap(small_matrix(), path, "Parts sharing")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_same_input_gives_the_same_bytes(tmp_path: Path, suffix: str) -> None:
    """Two renderings of one matrix are byte-identical, so heatmaps can be goldens."""
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    render_heatmap(small_matrix(), first, "Parts sharing")
    render_heatmap(small_matrix(), second, "Parts sharing")
    assert first.read_bytes() == second.read_bytes()


def test_failure_while_saving_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If saving fails half-way, neither the target nor a temporary file remains."""

    def broken_savefig(self: Figure, stream: object, **kwargs: object) -> None:
        assert hasattr(stream, "write")
        stream.write(b"half a heatmap")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk on fire"):
        render_heatmap(small_matrix(), tmp_path / "share.png", "Parts sharing")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing heatmap stays untouched when a new rendering fails."""
    path = tmp_path / "share.svg"
    path.write_bytes(b"previous")

    def broken_savefig(self: Figure, stream: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="out of memory"):
        render_heatmap(small_matrix(), path, "Parts sharing")
    assert list(tmp_path.iterdir()) == [path]
    assert path.read_bytes() == b"previous"


def test_unknown_extension_writes_nothing(tmp_path: Path) -> None:
    """A .pdf path is refused before anything is written."""
    path = tmp_path / "share.pdf"
    with pytest.raises(HeatmapError) as caught:
        render_heatmap(small_matrix(), path, "Parts sharing")
    assert (caught.value.message, caught.value.hint) == (
        f"cannot draw the heatmap '{path}': cannot draw a heatmap as '.pdf'",
        "name the file .png or .svg",
    )
    assert list(tmp_path.iterdir()) == []


def test_empty_matrix_is_refused(tmp_path: Path) -> None:
    """There is nothing to draw for zero products."""
    path = tmp_path / "share.png"
    with pytest.raises(HeatmapError) as caught:
        render_heatmap(fleet_matrix([]), path, "Parts sharing")
    assert (caught.value.message, caught.value.hint) == (
        f"cannot draw the heatmap '{path}': the matrix has no products",
        "give at least one product",
    )


def test_missing_directory_raises_usage_error(tmp_path: Path) -> None:
    """File-system errors are the user's (UsageError naming the path, exit 2); nothing is created."""
    with pytest.raises(UsageError, match="does not exist"):
        render_heatmap(small_matrix(), tmp_path / "no" / "share.png", "Parts sharing")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cells_are_annotated_up_to_forty_products() -> None:
    """40 products get 1,600 percentage labels, ordered by cluster_order; 41 get none."""
    drawn = heatmap._draw(fleet_of(heatmap.ANNOTATE_MAX), "t")
    assert len(drawn.axes[0].texts) == heatmap.ANNOTATE_MAX**2
    assert not heatmap._draw(fleet_of(heatmap.ANNOTATE_MAX + 1), "t").axes[0].texts


def test_annotations_show_percentages_and_none() -> None:
    """Cells read as whole percentages; a 0/0 cell reads n/a."""
    texts = [t.get_text() for t in heatmap._draw(small_matrix(), "t").axes[0].texts]
    assert "n/a" in texts
    assert "75%" in texts  # V1-V2, 3/4
    assert "62%" in texts  # Kangoo-Kubistar, 8/13


@pytest.mark.slow
def test_large_fleet_renders_without_labels(tmp_path: Path) -> None:
    """A fleet too large to label still renders (as a plain colour field)."""
    path = tmp_path / "fleet.png"
    render_heatmap(fleet_of(160), path, "Fleet")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
