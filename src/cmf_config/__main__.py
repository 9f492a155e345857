"""python -m cmf_config."""

from __future__ import annotations

from cmf_config.entry import run

run()
