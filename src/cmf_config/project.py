"""Where a command's catalog and rules come from: the command line, the user's project, or
the bundled demo data -- in that order.

A project is a `cmf-config.toml` or a `pyproject.toml` with a `[tool.cmf-config]` table, found
by walking up from the working directory as ruff, black and mypy do (the walk stops at the
root of the repository, the first folder holding `.git` or `.hg`). Its paths are relative to
the file that names them. A check must never pass against data the user did not mean, so
every report names what it checked (see `Sources`), and the bundled data is used only when no
project is found.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import attrs

from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.paths import bundled_dir, display_path
from cmf_config.projectfile import CONFIG_NAME, find_project_file
from cmf_config.reprs import shared_repr
from cmf_config.suggest import did_you_mean

FORMATS = ("text", "json", "sarif", "github")
COLORS = ("auto", "always", "never")
KEYS = ("catalog", "rules", "format", "ignore", "color")
_CODE = re.compile(r"^[A-Z][0-9]{3}$")

Origin = Literal["option", "project", "bundled"]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Project:
    """The settings of one project file; paths already resolved against the file's folder."""

    file: Path
    table: str  # "" for cmf-config.toml, "tool.cmf-config" in pyproject.toml
    catalog: Path | None = None
    rules: Path | None = None
    format: str | None = None
    ignore: tuple[str, ...] = ()
    color: str | None = None
    spans: Mapping[str, Span] = attrs.field(factory=dict)

    @property
    def shown(self) -> str:
        """The file as reports show it: `pyproject.toml [tool.cmf-config]` or `cmf-config.toml`."""
        where = shown_path(self.file, self.file.parent)
        return f"{where} [{self.table}]" if self.table else where


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class DataDir:
    """A catalog or rules folder and where the choice of it came from."""

    path: Path
    origin: Origin
    root: Path | None = None  # the project's folder, when the project chose this one

    @property
    def shown(self) -> str:
        """The folder as reports show it (relative to the working directory when inside it)."""
        return shown_path(self.path, self.root)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Sources:
    """What a command checks against: the project (if any), the catalog and the rules."""

    project: Project | None
    catalog: DataDir
    rules: DataDir

    def as_json(self, rules: bool = True) -> dict[str, object]:
        """The stable JSON shape documented in docs/cli.md ("sources")."""
        doc: dict[str, object] = {
            "project": self.project and shown_path(self.project.file, self.project.file.parent),
            "catalog": {"path": self.catalog.shown, "source": self.catalog.origin},
        }
        if rules:
            doc["rules"] = {"path": self.rules.shown, "source": self.rules.origin}
        return doc


def shown_path(path: Path, root: Path | None = None) -> str:
    """A path as reports show it: relative to the working directory when it lies inside it,
    or inside the project folder `root` above it ('../../catalog'); else absolute."""
    here = Path.cwd().resolve()
    if root is not None and here.is_relative_to(root.resolve()) and path.is_relative_to(root):
        return os.path.relpath(path, here)
    return display_path(path)


# ------------------------------------------------------------------ discovery


# ------------------------------------------------------------------ reading


def load_project(path: Path, table: str) -> Project:
    """Read and check one project file; raise InputError with positioned diagnostics."""
    shown = shown_path(path, path.parent)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            [
                Diagnostic(
                    code="E001",
                    span=Span(shown, 1, 1),
                    message=f"cannot read the project file: {getattr(exc, 'strerror', None) or exc}",
                    hint="check the file's permissions and that it is UTF-8 text",
                )
            ]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, col, message = _toml_position(str(exc))
        raise InputError(
            [
                Diagnostic(
                    code="E010",
                    span=Span(shown, line, col),
                    message=f"TOML syntax error: {message}",
                    hint="fix the TOML syntax at this position (see docs/project.md)",
                )
            ]
        ) from None
    settings: object = data
    for part in table.split(".") if table else ():
        settings = settings.get(part, {}) if isinstance(settings, dict) else {}
    locate = _Locator(text, shown, table)
    diagnostics: list[Diagnostic] = []
    values: dict[str, object] = {}
    spans: dict[str, Span] = {}
    assert isinstance(settings, dict)
    for key, value in settings.items():
        span = locate.key(key)
        if key not in KEYS:
            diagnostics.append(
                Diagnostic(
                    code="E011",
                    span=span,
                    message=f"unknown key '{key}' in [{table or CONFIG_NAME}]{did_you_mean(key, KEYS)}",
                    hint=f"the keys are {', '.join(KEYS)} (see docs/project.md)",
                )
            )
            continue
        problem = _check_value(key, value)
        if problem is not None:
            diagnostics.append(
                Diagnostic(code="E012", span=locate.value(key), message=problem[0], hint=problem[1])
            )
            continue
        values[key] = value
        spans[key] = locate.value(key)
    if diagnostics:
        raise InputError(diagnostics)
    base = path.parent

    def folder(key: str) -> Path | None:
        value = values.get(key)
        return (base / str(value)).resolve() if value is not None else None

    ignore = values.get("ignore", [])
    assert isinstance(ignore, list)
    return Project(
        file=path,
        table=table,
        catalog=folder("catalog"),
        rules=folder("rules"),
        format=str(values["format"]) if "format" in values else None,
        ignore=tuple(str(code) for code in ignore),
        color=str(values["color"]) if "color" in values else None,
        spans=spans,
    )


def _check_value(key: str, value: object) -> tuple[str, str] | None:
    """A (message, hint) when a setting has the wrong type or value."""
    if key in ("catalog", "rules"):
        if not isinstance(value, str) or not value.strip():
            return (
                f"'{key}' must be a folder path (a string), not {_describe(value)}",
                f'write {key} = "{key}" (relative to this file)',
            )
    elif key in ("format", "color"):
        choices = FORMATS if key == "format" else COLORS
        if not isinstance(value, str) or value not in choices:
            shown = f"'{value}'" if isinstance(value, str) else _describe(value)
            near = did_you_mean(value, choices) if isinstance(value, str) else ""
            return (
                f"'{key}' must be one of {', '.join(choices)}, not {shown}{near}",
                f'write {key} = "{choices[0]}"',
            )
    elif key == "ignore":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return (
                f"'ignore' must be a list of finding codes, not {_describe(value)}",
                'write ignore = ["L203"]',
            )
        bad = [v for v in value if not _CODE.match(v)]
        if bad:
            return (
                f"'{bad[0]}' is not a finding code (a capital letter and three digits, such as L203)",
                "see the codes in docs/cli.md",
            )
    return None


def _describe(value: object) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    kinds.update({list: "a list", dict: "a table"})
    return kinds.get(type(value), type(value).__name__)


def _toml_position(message: str) -> tuple[int, int, str]:
    """tomllib puts the position in the message: '... (at line 3, column 5)'."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    if found:
        return int(found.group(1)), int(found.group(2)), message[: found.start()]
    found = re.search(r"\s*\(at end of document\)\s*$", message)
    return 1, 1, message[: found.start()] if found else message


class _Locator:
    """Finds where a key of the project table is written (tomllib keeps no positions)."""

    _HEADER = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]\s*(#.*)?$")

    def __init__(self, text: str, path: str, table: str) -> None:
        self.path = path
        self.lines: list[tuple[int, str]] = []  # (line number, text) inside the table
        current = ""
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                current = _normal_table(header.group(1))
                if not table and current:
                    # In cmf-config.toml a [section] is itself a key (an unknown one).
                    self.lines.append((number, line))
                continue
            if current == table:
                self.lines.append((number, line))

    def _find(self, key: str) -> tuple[int, str, re.Match[str]] | None:
        pattern = re.compile(
            rf"^\s*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*(=|\.)"
        )
        header = re.compile(rf"^\s*\[\s*{re.escape(key)}\s*[\].]")
        for number, line in self.lines:
            found = pattern.match(line) or header.match(line)
            if found:
                return number, line, found
        return None

    def key(self, key: str) -> Span:
        """The position of the key's name."""
        found = self._find(key)
        if found is None:
            return Span(self.path, 1, 1)
        number, line, _ = found
        col = len(line) - len(line.lstrip()) + 1
        return Span(self.path, number, col, col + len(key))

    def value(self, key: str) -> Span:
        """The position of the key's value (just after '=')."""
        found = self._find(key)
        if found is None:
            return Span(self.path, 1, 1)
        number, line, match = found
        rest = line[match.end() :]
        col = match.end() + (len(rest) - len(rest.lstrip())) + 1
        text = rest.strip().split("#", 1)[0].rstrip()
        return Span(self.path, number, col, col + max(len(text), 1))


def _normal_table(name: str) -> str:
    parts = [p.strip().strip('"').strip("'") for p in name.split(".")]
    return ".".join(parts)


# ------------------------------------------------------------------ resolution


def resolve(
    catalog: Path | None, rules: Path | None, start: Path | None = None, *, use_project: bool = True
) -> Sources:
    """The catalog and rules a command uses: options first, then the project, then bundled.

    Raises InputError when the project file is broken or names a folder that does not exist.
    """
    project = None
    if use_project:
        found = find_project_file(start or Path.cwd())
        if found is not None:
            project = load_project(*found)
    diagnostics: list[Diagnostic] = []

    def pick(option: Path | None, key: str) -> DataDir:
        if option is not None:
            return DataDir(path=option.resolve(), origin="option")
        named = getattr(project, key) if project is not None else None
        if project is not None and named is not None:
            if not named.is_dir():
                where = project.spans.get(
                    key, Span(shown_path(project.file, project.file.parent), 1, 1)
                )
                what = "exists but is not a folder" if named.exists() else "does not exist"
                diagnostics.append(
                    Diagnostic(
                        code="E013",
                        span=where,
                        message=f"the {key} folder '{shown_path(named, project.file.parent)}' named here {what}",
                        hint=f"fix the path (relative to {project.shown}), or run `cmf-config init` in a new folder to start one",
                    )
                )
            return DataDir(path=named, origin="project", root=project.file.parent)
        if project is not None:
            # A project that names no folder uses the conventional one beside its file.
            beside = (project.file.parent / key).resolve()
            if not beside.is_dir():
                diagnostics.append(
                    Diagnostic(
                        code="E013",
                        span=Span(shown_path(project.file, project.file.parent), 1, 1),
                        message=f"the project names no {key} folder and there is no '{shown_path(beside, project.file.parent)}'",
                        hint=f'add {key} = "PATH" to {project.shown}, or create the folder',
                    )
                )
            return DataDir(path=beside, origin="project", root=project.file.parent)
        return DataDir(path=bundled_dir(key).resolve(), origin="bundled")

    sources = Sources(project=project, catalog=pick(catalog, "catalog"), rules=pick(rules, "rules"))
    if diagnostics:
        raise InputError(diagnostics)
    return sources
