"""cmf-config: a vehicle platform and big-module configurator.

The public API (docs/api.md): open a workspace from a catalog folder and a rules folder, then
validate, explain, fix, complete, build, count, share and bom-check configurations, or import a
UVL/DIMACS feature model and analyse it. Every name in `__all__` is stable within a major
version. The names are loaded on first use, so that `import cmf_config` stays fast for the
command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cmf_config.api import (
        Explanation,
        FileResult,
        Fix,
        FleetShare,
        analyse_model,
        assignment_of,
        bill_of_materials,
        bom_check,
        broken_rules,
        build,
        complete,
        count_vehicles,
        diagnostics,
        enumerate_vehicles,
        explain,
        export_uvl,
        fix,
        import_model,
        lint_catalog,
        model_uvl,
        open_workspace,
        options,
        rule_states,
        share,
        share_fleet,
        validate,
        validate_files,
    )
    from cmf_config.derivation import Conflict, Derivation
    from cmf_config.errors import (
        CmfConfigError,
        Diagnostic,
        InputError,
        Severity,
        Span,
        UsageError,
    )
    from cmf_config.featuremodel import FeatureAnalysis
    from cmf_config.fmodel import FeatureModel
    from cmf_config.model import BuiltVehicle, Vehicle, VehicleConfig
    from cmf_config.report import render_diagnostics
    from cmf_config.sharing import PairShare
    from cmf_config.solver import Change, SlotOptions
    from cmf_config.uvlexport import Export
    from cmf_config.workspace import Verdict, Workspace

_HOMES = {
    "api": [
        "Explanation",
        "FileResult",
        "Fix",
        "FleetShare",
        "analyse_model",
        "assignment_of",
        "bill_of_materials",
        "bom_check",
        "broken_rules",
        "build",
        "complete",
        "count_vehicles",
        "diagnostics",
        "enumerate_vehicles",
        "explain",
        "export_uvl",
        "fix",
        "import_model",
        "lint_catalog",
        "model_uvl",
        "open_workspace",
        "options",
        "rule_states",
        "share",
        "share_fleet",
        "validate",
        "validate_files",
    ],
    "derivation": ["Conflict", "Derivation"],
    "errors": ["CmfConfigError", "Diagnostic", "InputError", "Severity", "Span", "UsageError"],
    "featuremodel": ["FeatureAnalysis"],
    "fmodel": ["FeatureModel"],
    "model": ["BuiltVehicle", "Vehicle", "VehicleConfig"],
    "report": ["render_diagnostics"],
    "sharing": ["PairShare"],
    "solver": ["Change", "SlotOptions"],
    "uvlexport": ["Export"],
    "workspace": ["Verdict", "Workspace"],
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

# Not `count` or `lint`: those are the names of submodules, which the import system sets
# on this package as attributes.

__all__ = [
    "BuiltVehicle",
    "Change",
    "CmfConfigError",
    "Conflict",
    "Derivation",
    "Diagnostic",
    "Explanation",
    "Export",
    "FeatureAnalysis",
    "FeatureModel",
    "FileResult",
    "Fix",
    "FleetShare",
    "InputError",
    "PairShare",
    "Severity",
    "SlotOptions",
    "Span",
    "UsageError",
    "Vehicle",
    "VehicleConfig",
    "Verdict",
    "Workspace",
    "__version__",
    "analyse_model",
    "assignment_of",
    "bill_of_materials",
    "bom_check",
    "broken_rules",
    "build",
    "complete",
    "count_vehicles",
    "diagnostics",
    "enumerate_vehicles",
    "explain",
    "export_uvl",
    "fix",
    "import_model",
    "lint_catalog",
    "model_uvl",
    "open_workspace",
    "options",
    "render_diagnostics",
    "rule_states",
    "share",
    "share_fleet",
    "validate",
    "validate_files",
]


def __getattr__(name: str) -> object:
    """Load a public name from its module on first use."""
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'cmf_config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"cmf_config.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
