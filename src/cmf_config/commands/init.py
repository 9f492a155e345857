"""init: start a project in the user's repository (config file, catalog, rules, hooks, example).

The starting catalog and rules are copies of the bundled ones, so the new project checks
exactly what the demo did until the user edits it; from then on every command run inside the
project checks the project's data, never the bundled demo.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cmf_config import api, report
from cmf_config.commands.common import emit
from cmf_config.errors import ExitCode
from cmf_config.files import write_atomic
from cmf_config.projectfile import CONFIG_NAME

SCHEMA_PATH = "schemas/vehicle.schema.json"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add init."""
    p = sub.add_parser(
        "init",
        help="start a project: config file, catalog and rules, pre-commit hooks, an example",
        description=(
            f"Write {CONFIG_NAME}, a starting catalog/ and rules/ (copies of the bundled ones), "
            f"{SCHEMA_PATH} for editors, configs/example.yaml (with the yaml-language-server "
            "schema line) and a .pre-commit-config.yaml into DIR (default: here). Refuses to "
            "overwrite any existing file; an existing .pre-commit-config.yaml is left alone and "
            "the hooks to add are printed."
        ),
    )
    p.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    p.set_defaults(run=run_init)


def run_init(args: argparse.Namespace) -> int:
    """init [DIR]."""
    target: Path = args.dir
    if target.exists() and not target.is_dir():
        raise report.usage_error("init-not-a-folder", target=target)
    starter = api.starter_project(target)
    files = starter.files
    existing = [p for p in files if p.exists() or p.is_symlink()]
    if existing:
        raise report.init_would_overwrite(existing)
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
    except OSError as exc:
        raise report.usage_error(
            "init-unwritable", target=target, why=exc.strerror or exc
        ) from None
    hooks = target / ".pre-commit-config.yaml"
    kept = hooks.exists()
    if not kept:
        write_atomic(hooks, starter.hooks)
    emit(report.init_text(target, list(files), hooks, kept, starter.hooks))
    return ExitCode.OK
