"""Run one flamapy 2.6.0 operation on one model and print one JSON line (bench_models.py calls it).

Runs inside benchmarks/.venv-flamapy, never in the project's environment:

    python flamapy_runner.py MODEL {parse,sat,count,core,dead}

Prints {"parse_s": seconds to read the model, "op_s": seconds of the operation (including
flamapy's own model-to-solver transformation), "result": ..., "backend": ...}, or
{"error": "..."} when flamapy fails. UVL files go through the FLAMAFeatureModel facade with its
default backends (PySAT for sat/core/dead, BDD for the count); DIMACS files through flamapy's
DIMACS reader into its PySAT model, where the count enumerates configurations.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback


def _uvl(path: str, op: str) -> dict[str, object]:
    from flamapy.interfaces.python.flamapy_feature_model import FLAMAFeatureModel  # type: ignore[import-not-found]

    start = time.perf_counter()
    fm = FLAMAFeatureModel(path)
    parse_s = time.perf_counter() - start
    if op == "parse":
        return {
            "parse_s": parse_s,
            "op_s": 0.0,
            "result": len(fm.fm_model.get_features()),
            "backend": "uvl",
        }
    call = {
        "sat": fm.satisfiable,
        "count": fm.configurations_number,
        "core": fm.core_features,
        "dead": fm.dead_features,
    }[op]
    start = time.perf_counter()
    result = call()
    op_s = time.perf_counter() - start
    if result is None:
        return {
            "error": "flamapy returned no result (it logs a FlamaException)",
            "parse_s": parse_s,
        }
    return {
        "parse_s": parse_s,
        "op_s": op_s,
        "result": _plain(result),
        "backend": "bdd" if op == "count" else "sat",
    }


def _dimacs(path: str, op: str) -> dict[str, object]:
    from flamapy.core.discover import DiscoverMetamodels  # type: ignore[import-not-found]

    discover = DiscoverMetamodels()
    start = time.perf_counter()
    model = discover.use_transformation_t2m(path, "pysat")
    parse_s = time.perf_counter() - start
    if op == "parse":
        return {"parse_s": parse_s, "op_s": 0.0, "result": len(model.variables), "backend": "pysat"}
    name = {
        "sat": "PySATSatisfiable",
        "count": "PySATConfigurationsNumber",
        "core": "PySATCoreFeatures",
        "dead": "PySATDeadFeatures",
    }[op]
    start = time.perf_counter()
    operation = discover.get_operation(model, name)
    operation.execute(model)
    result = operation.get_result()
    op_s = time.perf_counter() - start
    return {"parse_s": parse_s, "op_s": op_s, "result": _plain(result), "backend": "pysat"}


def _plain(result: object) -> object:
    if isinstance(result, bool):
        return result
    if isinstance(result, int):
        return str(result)  # counts exceed JSON's safe integers
    if isinstance(result, list | set | tuple):
        return sorted(str(getattr(x, "name", x)) for x in result)
    return str(result)


def main(argv: list[str]) -> int:
    """flamapy_runner.py MODEL OP."""
    logging.disable(logging.CRITICAL)
    sys.setrecursionlimit(100000)
    path, op = argv[1], argv[2]
    try:
        out = _dimacs(path, op) if path.endswith((".dimacs", ".cnf")) else _uvl(path, op)
    except Exception as exc:
        out = {
            "error": f"{type(exc).__name__}: {exc}"[:300],
            "trace": traceback.format_exc()[-600:],
        }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
