"""Fuzzing: strategies that build valid inputs and then break them, and the contract every run keeps.

Used by tests/test_fuzz.py (a fixed small budget in CI) and by benchmarks/fuzz_campaign.py
(a long campaign before a release, docs/fuzzing.md). Each strategy draws a `Case`: the files
to write (relative path -> bytes), the command line to run (with `{dir}` for the folder the
files are written to) and, where an independent answer exists, the expected count from a
brute-force oracle. `run_case` runs the command in process and checks the contract:

- the exit code is 0, 1 or 2 (3 would be a bug, anything else a crash);
- no traceback and no "internal error" on stderr;
- every exit 2 names a file:line:column or a path the case gave;
- a count agrees with the oracle;
- a file at an `-o` path is unchanged when the run fails.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import shutil
import signal
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import attrs
from hypothesis import strategies as st

from cmf_config.cli import main

ROOT = Path(__file__).parents[1]
MINI_CATALOG = ROOT / "tests" / "data" / "mini" / "catalog"
MINI_RULES = ROOT / "tests" / "data" / "mini" / "rules"
MINI_CONFIGS = ROOT / "tests" / "data" / "mini" / "configs"
OLD_OUTPUT = b"the file that was here before the run\n"


@attrs.frozen
class Case:
    """One generated input: files, a command, and what the oracle says (None: no oracle)."""

    name: str
    files: tuple[tuple[str, bytes], ...]
    argv: tuple[str, ...]
    expected_count: int | None = None
    output: str | None = None
    """A file name given to -o: it exists before the run and must not change if the run fails."""
    special: str | None = None
    """A special file to create instead of a regular one: fifo, loop, dangling, folder, null."""


@attrs.frozen
class Outcome:
    """What a run did."""

    code: int
    out: str
    err: str


class ContractBroken(AssertionError):
    """A run broke the contract (the message says how)."""


# ------------------------------------------------------------------ breaking text


ZERO_WIDTH = "\u200b"
BREAKS = ("truncate", "flip", "zero-width", "duplicate-line", "utf16", "huge-number", "nul")


@st.composite
def broken(draw: st.DrawFn, text: str) -> bytes:
    """`text` broken in one of the ways the adversarial run used (or left whole)."""
    how = draw(st.sampled_from((None, *BREAKS)))
    data = text.encode()
    if how is None:
        return data
    if how == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if how == "flip":
        at = draw(st.integers(0, max(0, len(data) - 1)))
        byte = draw(st.integers(0, 255))
        return data[:at] + bytes([byte]) + data[at + 1 :]
    if how == "zero-width":
        at = draw(st.integers(0, len(text)))
        return (text[:at] + ZERO_WIDTH + text[at:]).encode()
    if how == "duplicate-line":
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        return "".join(lines[: at + 1] + lines[at:]).encode()
    if how == "utf16":
        return text.encode(draw(st.sampled_from(("utf-16", "utf-16-le", "utf-32"))))
    if how == "nul":
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\x00" + data[at:]
    numbers = list(re.finditer(rb"\b\d+\b", data))
    if not numbers:
        return data
    match = draw(st.sampled_from(numbers))
    big = draw(st.sampled_from((b"9" * 400, b"9" * 5000, b"1e400", b"-" + b"9" * 30)))
    return data[: match.start()] + big + data[match.end() :]


# ------------------------------------------------------------------ configurations and catalogs


@st.composite
def config_cases(draw: st.DrawFn) -> Case:
    """A mini configuration, maybe broken, validated or built into an existing -o file."""
    source = draw(st.sampled_from(sorted(p.name for p in MINI_CONFIGS.glob("*.yaml"))))
    text = (MINI_CONFIGS / source).read_text()
    edit = draw(
        st.sampled_from(
            (
                None,
                ("name:", "__span__: 1\nname:"),
                ("name:", "status: bogus\nname:"),
                ("wheelbase_mm: 2600", "wheelbase_mm: " + "9" * 400),
                (
                    "options:",
                    "extra_parts:\n"
                    + "".join(
                        f"  - {{part: P{i}, name: N, quantity: {q}, unit_cost: 1.0e300, unit_mass_kg: 1}}\n"
                        for i, q in enumerate(("1", "two", "9" * 50))
                    )
                    + "options:",
                ),
                ("name:", "a: &a [x, x, x, x, x, x, x, x]\nb: [*a, *a, *a, *a]\nname:"),
                ("name:", "deep: " + "[" * 80 + "]" * 80 + "\nname:"),
            )
        )
    )
    if edit is not None and edit[0] in text:
        text = text.replace(edit[0], edit[1], 1)
    data = draw(broken(text))
    command = draw(st.sampled_from(("validate", "build", "options", "explain", "complete")))
    argv = [command, "{dir}/car.yaml", "--catalog", str(MINI_CATALOG), "--rules", str(MINI_RULES)]
    output = None
    if command in ("build", "complete") and draw(st.booleans()):
        output = "out.txt"
        argv += ["-o", "{dir}/out.txt"]
    return Case(
        name=f"config:{source}:{command}",
        files=(("car.yaml", data),),
        argv=tuple(argv),
        output=output,
    )


_CATALOG_EDITS = (
    ("options.yaml", "segments: [B, C]", "segments: [B, C, B]"),
    ("options.yaml", "drives: [fwd]", "drives: [fwd, fwd]"),
    (
        "options.yaml",
        "  - {id: tow_bar, name: Tow bar}",
        "  - {id: tow_bar, name: Tow bar}\n  - {id: tow_bar, name: Tow bar}",
    ),
    (
        "options.yaml",
        "  - {id: tow_bar, name: Tow bar}",
        '  - {id: "tow\\u200bbar", name: Tow bar}',
    ),
    ("platforms.yaml", "    max_mass_kg: 100", "    max_mass_kg: -5"),
    (
        "platforms.yaml",
        "    max_mass_kg: 100",
        "    max_mass_kg: 100\n    wheelbase_mm: {min: 3000, max: 2000}",
    ),
    ("platforms.yaml", "modules: [ec-ice, ck-lhd,", "modules: [ec-ice, ck-lhd, ck-lhd,"),
    ("platforms.yaml", "    max_mass_kg: 100", "    max_mass_kg: " + "9" * 400),
)


@st.composite
def catalog_cases(draw: st.DrawFn) -> Case:
    """The mini catalog with one mistake (or a broken file), counted."""
    files = {p.name: p.read_bytes() for p in MINI_CATALOG.glob("*.yaml")}
    target, old, new = draw(st.sampled_from(_CATALOG_EDITS))
    files[target] = files[target].decode().replace(old, new, 1).encode()
    victim = draw(st.sampled_from(sorted(files)))
    files[victim] = draw(broken(files[victim].decode()))
    return Case(
        name=f"catalog:{target}",
        files=tuple((f"catalog/{k}", v) for k, v in sorted(files.items())),
        argv=("count", "--catalog", "{dir}/catalog", "--rules", str(MINI_RULES)),
    )


# ------------------------------------------------------------------ rules, with the oracle


ATOMS = (
    "tow_bar",
    "powertrain == 'bev'",
    "powertrain == 'ice'",
    "battery_kwh > 0",
    "battery_kwh <= rear_underbody.tray_kwh",
    "steering == 'rhd'",
    "segment in ['B']",
    "body == 'suv'",
    "market == 'uk'",
    "wheelbase_mm + battery_kwh > 2600",
)


@st.composite
def rule_expressions(draw: st.DrawFn, depth: int = 3) -> str:
    """A valid rule expression over the mini catalog's slots."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(ATOMS))
    op = draw(st.sampled_from(("and", "or", "=>", "<=>", "not")))
    if op == "not":
        return f"not ({draw(rule_expressions(depth - 1))})"
    left = draw(rule_expressions(depth - 1))
    right = draw(rule_expressions(depth - 1))
    return f"({left}) {op} ({right})"


@st.composite
def long_chains(draw: st.DrawFn) -> str:
    """A flat or nesting chain far longer than any hand-written rule."""
    n = draw(st.sampled_from((50, 130, 600, 3000)))
    kind = draw(st.sampled_from(("and", "or", "+", "<=>", "=>", "-", "parens", "not")))
    if kind == "parens":
        return "(" * n + "tow_bar" + ")" * n
    if kind == "not":
        return "not " * n + "tow_bar"
    if kind in ("+", "-"):
        return f" {kind} ".join(["battery_kwh"] * n) + " >= 0"
    return f" {kind} ".join(["tow_bar"] * n)


@st.composite
def rule_cases(draw: st.DrawFn) -> Case:
    """The mini rules plus one generated rule: counted and checked against brute force."""
    constraint = draw(st.one_of(rule_expressions(), long_chains()))
    text = f'rules:\n  - id: fuzz\n    description: generated\n    constraint: "{constraint}"\n'
    data = draw(broken(text)) if draw(st.integers(0, 3)) == 0 else text.encode()
    files = (
        ("rules/basic.yaml", (MINI_RULES / "basic.yaml").read_bytes()),
        ("rules/fuzz.yaml", data),
    )
    expected = _rules_oracle(data.decode("utf-8", "replace")) if data == text.encode() else None
    return Case(
        name="rules",
        files=files,
        argv=(
            "count",
            "--format",
            "json",
            "--catalog",
            str(MINI_CATALOG),
            "--rules",
            "{dir}/rules",
        ),
        expected_count=expected,
    )


def _rules_oracle(text: str) -> int | None:
    """Brute force over the mini catalog's 8,192 assignments (None when the rules do not load)."""
    import tempfile

    from cmf_config import api
    from cmf_config.errors import InputError, Severity
    from oracle import valid_assignments

    with tempfile.TemporaryDirectory() as folder:
        rules = Path(folder)
        shutil.copy(MINI_RULES / "basic.yaml", rules / "basic.yaml")
        (rules / "fuzz.yaml").write_text(text)
        try:
            workspace = api.open_workspace(MINI_CATALOG, rules, [])
        except (InputError, RecursionError):
            return None
        hard = [r for r in workspace.rules if r.severity is Severity.ERROR]  # warnings allow
        return len(valid_assignments(workspace.problem, hard))


# ------------------------------------------------------------------ DIMACS, with the oracle


@st.composite
def cnf(draw: st.DrawFn) -> tuple[int, list[list[int]]]:
    """A small CNF: 1-8 variables, 0-10 clauses of 1-4 literals."""
    n = draw(st.integers(1, 8))
    literal = st.integers(1, n).flatmap(lambda v: st.sampled_from((v, -v)))
    clauses = draw(st.lists(st.lists(literal, min_size=1, max_size=4), max_size=10))
    return n, clauses


def cnf_count(n: int, clauses: Sequence[Sequence[int]]) -> int:
    """Models of a CNF by trying all 2^n assignments (the oracle)."""
    total = 0
    for bits in itertools.product((False, True), repeat=n):
        if all(any(bits[abs(x) - 1] == (x > 0) for x in c) for c in clauses):
            total += 1
    return total


@st.composite
def dimacs_cases(draw: st.DrawFn, whole: bool = False) -> Case:
    """A DIMACS file, whole (counted against brute force) or broken like a cut download."""
    n, clauses = draw(cnf())
    body = "".join(" ".join(map(str, c)) + " 0\n" for c in clauses)
    text = f"c generated\np cnf {n} {len(clauses)}\n{body}"
    how = (
        None
        if whole
        else draw(st.sampled_from((None, "count", "cut", "minus-zero", "long", "generic")))
    )
    expected = None
    if how is None:
        data = text.encode()
        expected = cnf_count(n, clauses)
    elif how == "count":
        data = text.replace(f"p cnf {n} {len(clauses)}", f"p cnf {n} {len(clauses) + 1}").encode()
    elif how == "cut":
        data = text.encode()[: draw(st.integers(0, max(0, len(text) - 1)))]
    elif how == "minus-zero":
        data = text.replace(" 0\n", " -0\n", 1).encode()
    elif how == "long":
        data = (
            text.replace("p cnf", "c " + "9" * 5000 + " x\np cnf", 1).encode()
            + b"1 "
            + b"7" * 3000
            + b" 0\n"
        )
    else:
        data = draw(broken(text))
    counting = ("model", "count", "--format", "json")
    command = (
        counting
        if whole
        else draw(st.sampled_from((counting, ("import", "--format", "json"), ("model", "lint"))))
    )
    return Case(
        name=f"dimacs:{how}:{command[-1] if command[0] == 'model' else 'import'}",
        files=(("m.dimacs", data),),
        argv=(*command, "{dir}/m.dimacs"),
        expected_count=expected if command[:2] == ("model", "count") else None,
    )


# ------------------------------------------------------------------ UVL, with the oracle


@st.composite
def uvl_formula(
    draw: st.DrawFn, names: Sequence[str], depth: int = 3
) -> tuple[str, Callable[[dict[str, bool]], bool]]:
    """A UVL constraint and a Python function that evaluates it (the oracle's meaning)."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        name = draw(st.sampled_from(names))
        return name, lambda v: v[name]
    op = draw(st.sampled_from(("&", "|", "=>", "<=>", "!")))
    if op == "!":
        text, f = draw(uvl_formula(names, depth - 1))
        return f"!({text})", lambda v: not f(v)
    lt, lf = draw(uvl_formula(names, depth - 1))
    rt, rf = draw(uvl_formula(names, depth - 1))
    fn: Callable[[dict[str, bool]], bool] = {
        "&": lambda v: lf(v) and rf(v),
        "|": lambda v: lf(v) or rf(v),
        "=>": lambda v: (not lf(v)) or rf(v),
        "<=>": lambda v: lf(v) == rf(v),
    }[op]
    return f"({lt}) {op} ({rt})", fn


@st.composite
def uvl_cases(draw: st.DrawFn) -> Case:
    """Optional features under a root plus constraints; counted against brute force, or broken."""
    names = [f"F{i}" for i in range(draw(st.integers(1, 6)))]
    formulas = draw(st.lists(uvl_formula(names), max_size=3))
    how = draw(st.sampled_from((None, None, "chain", "repeat-iff", "cardinality", "generic")))
    lines = [f"    {text}" for text, _ in formulas]
    if how == "chain":
        op = draw(st.sampled_from(("=>", "<=>", "&", "|")))
        lines.append(
            "    "
            + f" {op} ".join(draw(st.lists(st.sampled_from(names), min_size=150, max_size=450)))
        )
    elif how == "repeat-iff":
        lines.append("    " + " <=> ".join([names[0]] * draw(st.integers(20, 60))))
    text = (
        "features\n    Root\n        optional\n"
        + "".join(f"            {n}\n" for n in names)
        + ("constraints\n" + "\n".join(lines) + "\n" if lines else "")
    )
    if how == "cardinality":
        text = text.replace(
            "        optional\n",
            "        [1.." + "9" * draw(st.sampled_from((3, 50, 5000))) + "]\n",
            1,
        )
    expected = None
    if how is None:
        checks = [f for _, f in formulas]
        expected = sum(
            1
            for bits in itertools.product((False, True), repeat=len(names))
            if all(f(dict(zip(names, bits, strict=True))) for f in checks)
        )
    data = draw(broken(text)) if how == "generic" else text.encode()
    return Case(
        name=f"uvl:{how}",
        files=(("m.uvl", data),),
        argv=("model", "count", "--format", "json", "{dir}/m.uvl"),
        expected_count=expected,
    )


# ------------------------------------------------------------------ CSV tables


@st.composite
def csv_cases(draw: st.DrawFn) -> Case:
    """A product/part table with odd numbers, maybe broken; its heatmap may go to a bad place."""
    cells = st.sampled_from(
        (
            "1",
            "2",
            "0.5",
            "1_000",
            "\u0661\u0662",
            "\uff11",
            "inf",
            "nan",
            "-1",
            "1e400",
            "",
            "9" * 400,
        )
    )
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(("V1", "V2", "V3")), st.sampled_from(("a", "b", "c")), cells, cells
            ),
            min_size=0,
            max_size=8,
        )
    )
    text = "product,part,quantity,unit_cost\n" + "".join(
        f"{p},{q},{n},{c}\n" for p, q, n, c in rows
    )
    data = draw(broken(text))
    argv = [
        "share",
        "--bom-table",
        "{dir}/t.csv",
        "--format",
        draw(st.sampled_from(("text", "json"))),
    ]
    if draw(st.booleans()):
        argv += [
            "--heatmap",
            draw(st.sampled_from(("{dir}/h.png", "{dir}/missing/h.png", "{dir}", "{dir}/h.txt"))),
        ]
    return Case(name="csv", files=(("t.csv", data),), argv=tuple(argv))


# ------------------------------------------------------------------ special files


@st.composite
def special_cases(draw: st.DrawFn) -> Case:
    """A FIFO, symlink loop, dangling symlink, folder or null device as input or as -o."""
    special = draw(st.sampled_from(("fifo", "loop", "dangling", "folder", "null", "link-to-file")))
    command = draw(
        st.sampled_from(
            (
                (
                    "validate",
                    "{dir}/x.yaml",
                    "--catalog",
                    str(MINI_CATALOG),
                    "--rules",
                    str(MINI_RULES),
                ),
                ("model", "count", "{dir}/x.yaml"),
                ("share", "--bom-table", "{dir}/x.yaml"),
                (
                    "build",
                    str(MINI_CONFIGS / "good.yaml"),
                    "--catalog",
                    str(MINI_CATALOG),
                    "--rules",
                    str(MINI_RULES),
                    "-o",
                    "{dir}/x.yaml",
                ),
                ("schema", "-o", "{dir}/x.yaml"),
            )
        )
    )
    return Case(name=f"special:{special}:{command[0]}", files=(), argv=command, special=special)


def all_cases() -> st.SearchStrategy[Case]:
    """Every kind of case."""
    return st.one_of(
        config_cases(),
        catalog_cases(),
        rule_cases(),
        dimacs_cases(),
        uvl_cases(),
        csv_cases(),
        special_cases(),
    )


# ------------------------------------------------------------------ running and the contract


def _make_special(path: Path, kind: str) -> bool:
    """Create the special file; False when this machine cannot (mknod needs root)."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        path.symlink_to(path.with_name("loop2"))
        path.with_name("loop2").symlink_to(path)
    elif kind == "dangling":
        path.symlink_to(path.with_name("nowhere"))
    elif kind == "folder":
        path.mkdir()
    elif kind == "link-to-file":
        path.with_name("real.yaml").write_bytes(OLD_OUTPUT)
        path.symlink_to("real.yaml")
    elif kind == "null":
        if os.geteuid() != 0:
            return False
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return True


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def run_case(case: Case, folder: Path) -> Outcome:
    """Write the case's files into `folder`, run its command in process and check the contract.

    Raises ContractBroken with what went wrong.
    """
    for name, data in case.files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if case.special is not None and not _make_special(folder / "x.yaml", case.special):
        return Outcome(0, "", "")
    if case.output is not None:
        (folder / case.output).write_bytes(OLD_OUTPUT)
    argv = [a.replace("{dir}", str(folder)) for a in case.argv]
    reader = _fifo_reader(folder / "x.yaml") if case.special == "fifo" and "-o" in argv else None
    with _captured() as (out, err), _time_limit(HANG_SECONDS, argv):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors exit 2 by themselves
            code = int(exc.code or 0)
    if reader is not None:
        _release(folder / "x.yaml", reader)
    outcome = Outcome(code, out.getvalue(), err.getvalue())
    check_contract(case, folder, argv, outcome)
    return outcome


HANG_SECONDS = 60
"""A run that takes longer has hung (the slowest generated case takes about a second)."""


@contextlib.contextmanager
def _time_limit(seconds: int, argv: Sequence[str]) -> Iterator[None]:
    """Raise ContractBroken when the run takes longer (SIGALRM; main thread, Unix only)."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def hung(*_: object) -> None:
        raise ContractBroken(f"the run hung for {seconds} s: cmf-config {' '.join(argv)}")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _fifo_reader(fifo: Path) -> threading.Thread:
    """Read a FIFO given as -o in the background (a writer waits for its reader, as in a shell)."""
    reader = threading.Thread(target=fifo.read_bytes, daemon=True)
    reader.start()
    return reader


def _release(fifo: Path, reader: threading.Thread) -> None:
    """End a reader still waiting (the run failed before writing): open and close the writer end."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    reader.join(timeout=5)


_POSITION = re.compile(r"[^\s:]+:\d+:\d+:")


def check_contract(case: Case, folder: Path, argv: Sequence[str], outcome: Outcome) -> None:
    """The contract of every run (see the module docstring)."""
    shown = f"$ cmf-config {' '.join(argv)}\n--- exit {outcome.code}\n--- stdout\n{outcome.out[:2000]}\n--- stderr\n{outcome.err[:2000]}"
    if outcome.code not in (0, 1, 2):
        raise ContractBroken(f"exit {outcome.code} (only 0, 1, 2 are allowed)\n{shown}")
    if "Traceback" in outcome.err or "internal error" in outcome.err:
        raise ContractBroken(f"a traceback or internal error\n{shown}")
    if outcome.code == 2:
        text = outcome.out + outcome.err
        names = [str(folder), *(str(folder / n) for n, _ in case.files)]
        if (
            not _POSITION.search(text)
            and not any(n in text for n in names)
            and "usage:" not in text
        ):
            raise ContractBroken(f"exit 2 names no position and no path\n{shown}")
    if case.expected_count is not None and outcome.code == 0:
        got = json.loads(outcome.out)["count"]
        if int(got) != case.expected_count:
            raise ContractBroken(
                f"count {got}, the brute-force oracle says {case.expected_count}\n{shown}"
            )
    if (
        case.output is not None
        and outcome.code != 0
        and (folder / case.output).read_bytes() != OLD_OUTPUT
    ):
        raise ContractBroken(f"the failed run changed its -o file\n{shown}")
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    if leftovers:
        raise ContractBroken(f"temporary files left behind: {leftovers}\n{shown}")
    if case.special == "null" and not stat.S_ISCHR((folder / "x.yaml").stat().st_mode):
        raise ContractBroken(f"the device node was replaced\n{shown}")
    if case.special == "link-to-file" and not (folder / "x.yaml").is_symlink():
        raise ContractBroken(f"the symlink was replaced\n{shown}")
