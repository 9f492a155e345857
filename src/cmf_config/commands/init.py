"""init: start a project in the user's repository (config file, catalog, rules, hooks, example).

The starting catalog and rules are copies of the bundled ones, so the new project checks
exactly what the demo did until the user edits it; from then on every command run inside the
project checks the project's data, never the bundled demo.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cmf_config import report
from cmf_config.commands.common import emit
from cmf_config.errors import ExitCode, UsageError
from cmf_config.files import write_atomic
from cmf_config.load import load_catalog
from cmf_config.paths import bundled_dir, display_path
from cmf_config.projectfile import CONFIG_NAME
from cmf_config.schema import FILE_KINDS, config_schema, file_schema

PROJECT_FILE = """\
# cmf-config project settings (see docs/project.md). Every cmf-config command run in this
# folder or below checks the catalog and rules named here; paths are relative to this file.
catalog = "catalog"
rules = "rules"
# format = "text"   # the default output format: text, json, sarif or github
# ignore = []       # lint finding codes to leave out, such as ["L203"]
"""

SCHEMA_PATH = "schemas/vehicle.schema.json"

EXAMPLE = """\
# yaml-language-server: $schema=../schemas/vehicle.schema.json
# An example vehicle configuration (docs/formats.md). Keys left out are open slots that
# `cmf-config options` lists and `cmf-config complete` fills. Check it with
# `cmf-config validate configs/example.yaml`.
name: Example SUV, Dacia mild hybrid on CMF-B LS
brand: dacia
platform: cmf-b-ls
body: suv
powertrain: mhev
modules:
  engine_compartment: ec-b-ice
  ee_architecture: ee-b-gen2
options:
  market: eu
  features: [roof_rails]
"""

PRE_COMMIT = """\
# cmf-config hooks (docs/project.md): vehicle configurations are validated, the catalog and
# rules linted, on every commit that touches them. `language: system` runs the cmf-config
# installed in the environment that runs pre-commit.
repos:
  - repo: local
    hooks:
      - id: cmf-config-validate
        name: cmf-config validate
        entry: cmf-config validate
        language: system
        files: ^configs/.*\\.ya?ml$
      - id: cmf-config-lint
        name: cmf-config lint
        entry: cmf-config lint
        language: system
        files: ^(catalog|rules)/.*\\.ya?ml$
        pass_filenames: false
"""


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


def _schema_kind(relative: Path) -> str:
    """Which schema a copied catalog or rules file follows."""
    if relative.parts[0] == "rules":
        return "rules"
    if len(relative.parts) > 2:  # catalog/vehicles/*.yaml
        return "vehicle"
    stem = relative.stem
    return "modules" if stem.startswith("modules") else stem


def _plan(target: Path) -> dict[Path, bytes]:
    """Every file init writes, with its content (copied YAML files get the schema modeline)."""
    files: dict[Path, bytes] = {target / CONFIG_NAME: PROJECT_FILE.encode()}
    for name in ("catalog", "rules"):
        source = bundled_dir(name)
        for path in sorted(source.rglob("*.yaml")):
            relative = Path(name) / path.relative_to(source)
            kind = _schema_kind(relative)
            up = "../" * (len(relative.parts) - 1)
            modeline = f"# yaml-language-server: $schema={up}schemas/{kind}.schema.json\n"
            files[target / relative] = modeline.encode() + path.read_bytes()
    catalog = load_catalog(bundled_dir("catalog"))
    files[target / SCHEMA_PATH] = report.to_json(config_schema(catalog)).encode()
    for kind in FILE_KINDS:
        files[target / "schemas" / f"{kind}.schema.json"] = report.to_json(
            file_schema(kind)
        ).encode()
    files[target / "configs" / "example.yaml"] = EXAMPLE.encode()
    return files


def run_init(args: argparse.Namespace) -> int:
    """init [DIR]."""
    target: Path = args.dir
    if target.exists() and not target.is_dir():
        raise UsageError(f"'{target}' exists and is not a folder", "give a folder to start in")
    files = _plan(target)
    existing = [display_path(p) for p in files if p.exists() or p.is_symlink()]
    if existing:
        shown = ", ".join(existing[:5]) + (
            f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        )
        raise UsageError(
            f"init would overwrite {shown}",
            "init never overwrites files: run it in a new folder (`cmf-config init DIR`), "
            "or move these files away first",
        )
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
    except OSError as exc:
        raise UsageError(
            f"cannot write into '{target}': {exc.strerror or exc}", "check the folder's permissions"
        ) from None
    hooks = target / ".pre-commit-config.yaml"
    copied = [p for p in files if p.relative_to(target).parts[0] in ("catalog", "rules")]
    lines = [f"started a cmf-config project in {display_path(target.resolve())}/:"]
    lines += [
        f"  {display_path(p)}" for p in files if p not in copied and p.parent.name != "schemas"
    ]
    lines.append(
        f"  {display_path(target / 'schemas')}/: JSON Schemas for editors (vehicle, catalog, rules files)"
    )
    lines.append(f"  catalog/ and rules/: {len(copied)} files copied from the bundled demo data")
    if hooks.exists():
        lines.append(f"left {display_path(hooks)} as it is; add these hooks to it:")
        lines += ["    " + line for line in PRE_COMMIT.splitlines()[4:]]
    else:
        write_atomic(hooks, PRE_COMMIT)
        lines.append(f"  {display_path(hooks)}")
    here = target.resolve() == Path.cwd().resolve()
    go = "" if here else f"cd {display_path(target.resolve())} and "
    lines.append(f"next: {go}run `cmf-config validate configs/example.yaml`")
    emit("\n".join(lines) + "\n")
    return ExitCode.OK
