"""python -m cmf_config."""

from __future__ import annotations

from cmf_config.cli import main

raise SystemExit(main())
