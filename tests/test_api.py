"""The public API: every name is documented, and the examples of the docs run as written."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import cmf_config

ROOT = Path(__file__).parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _blocks(doc: Path) -> list[str]:
    return BLOCK.findall(doc.read_text(encoding="utf-8"))


def test_every_public_name_is_documented() -> None:
    """Each name of cmf_config.__all__ resolves and carries a docstring."""
    for name in cmf_config.__all__:
        value = getattr(cmf_config, name)
        if name != "__version__":
            assert (getattr(value, "__doc__", None) or "").strip(), name


def test_the_lazy_table_and_all_name_the_same_names() -> None:
    """`__all__` (for readers and tools) and the lazy loader's table list the same names."""
    assert set(cmf_config.__all__) == {*cmf_config._HOME_OF, "__version__"}
    assert len(cmf_config.__all__) == len(set(cmf_config.__all__))


def test_an_unknown_name_is_an_attribute_error() -> None:
    """A misspelt name fails as for any module (the names are loaded lazily)."""
    with pytest.raises(AttributeError, match="open_workspaces"):
        _ = cmf_config.open_workspaces


@pytest.mark.parametrize(
    "doc",
    [
        "docs/api.md",
        "README.md",
        pytest.param(
            "docs/diagrams.md",
            marks=pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz dot"),
        ),
    ],
)
def test_doc_examples_run(doc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python block of the page runs, in order, from the repository root."""
    blocks = _blocks(ROOT / doc)
    assert blocks, f"{doc} has no python example"
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"{doc} (example {number})", "exec")
        exec(code, namespace)
    assert os.getcwd() == str(ROOT)
