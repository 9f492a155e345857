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
        OrdersResult,
        Starter,
        allow_count_digits,
        analyse_model,
        assignment_of,
        bill_of_materials,
        bom_check,
        bom_positions,
        bom_product,
        broken_rules,
        build,
        check_orders,
        compare_products,
        complete,
        count_model,
        count_vehicles,
        diagnostics,
        edit_config_file,
        enumerate_vehicles,
        explain,
        export_uvl,
        filled_values,
        fix,
        has_completion,
        import_model,
        json_schema,
        lint_catalog,
        model_uvl,
        open_catalog,
        open_slots,
        open_workspace,
        options,
        read_bom_table,
        resolve_vehicle,
        rule_index,
        rule_states,
        schema_kinds,
        share,
        share_fleet,
        similarity_matrix,
        starter_project,
        validate,
        validate_files,
    )
    from cmf_config.derivation import (
        Conflict,
        Derivation,
    )
    from cmf_config.errors import (
        CmfConfigError,
        Diagnostic,
        InputError,
        Severity,
        Span,
        UsageError,
    )
    from cmf_config.featuremodel import (
        FeatureAnalysis,
    )
    from cmf_config.fmodel import (
        FeatureModel,
    )
    from cmf_config.model import (
        BomLine,
        BuiltVehicle,
        Catalog,
        Vehicle,
        VehicleConfig,
    )
    from cmf_config.report import (
        render_diagnostics,
    )
    from cmf_config.rules import (
        Rule,
    )
    from cmf_config.sharing import (
        FamilyIndices,
        PairShare,
        ProductBom,
        SimilarityMatrix,
    )
    from cmf_config.solver import (
        Change,
        SlotOptions,
    )
    from cmf_config.uvlexport import (
        Export,
    )
    from cmf_config.workspace import (
        Verdict,
        Workspace,
    )

_HOMES = {
    "api": [
        "OrdersResult",
        "check_orders",
        "Explanation",
        "FileResult",
        "Fix",
        "FleetShare",
        "Starter",
        "allow_count_digits",
        "analyse_model",
        "assignment_of",
        "bill_of_materials",
        "bom_check",
        "bom_positions",
        "bom_product",
        "broken_rules",
        "build",
        "compare_products",
        "complete",
        "count_model",
        "count_vehicles",
        "diagnostics",
        "edit_config_file",
        "enumerate_vehicles",
        "explain",
        "export_uvl",
        "filled_values",
        "fix",
        "has_completion",
        "import_model",
        "json_schema",
        "lint_catalog",
        "model_uvl",
        "open_catalog",
        "open_slots",
        "open_workspace",
        "options",
        "read_bom_table",
        "resolve_vehicle",
        "rule_index",
        "rule_states",
        "schema_kinds",
        "share",
        "share_fleet",
        "similarity_matrix",
        "starter_project",
        "validate",
        "validate_files",
    ],
    "derivation": ["Conflict", "Derivation"],
    "errors": ["CmfConfigError", "Diagnostic", "InputError", "Severity", "Span", "UsageError"],
    "featuremodel": ["FeatureAnalysis"],
    "fmodel": ["FeatureModel"],
    "model": ["BomLine", "BuiltVehicle", "Catalog", "Vehicle", "VehicleConfig"],
    "report": ["render_diagnostics"],
    "rules": ["Rule"],
    "sharing": ["FamilyIndices", "PairShare", "ProductBom", "SimilarityMatrix"],
    "solver": ["Change", "SlotOptions"],
    "uvlexport": ["Export"],
    "workspace": ["Verdict", "Workspace"],
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

# Not `count` or `lint`: those are the names of submodules, which the import system sets
# on this package as attributes.

__all__ = [
    "BomLine",
    "BuiltVehicle",
    "Catalog",
    "Change",
    "CmfConfigError",
    "Conflict",
    "Derivation",
    "Diagnostic",
    "Explanation",
    "Export",
    "FamilyIndices",
    "FeatureAnalysis",
    "FeatureModel",
    "FileResult",
    "Fix",
    "FleetShare",
    "InputError",
    "OrdersResult",
    "PairShare",
    "ProductBom",
    "Rule",
    "Severity",
    "SimilarityMatrix",
    "SlotOptions",
    "Span",
    "Starter",
    "UsageError",
    "Vehicle",
    "VehicleConfig",
    "Verdict",
    "Workspace",
    "__version__",
    "allow_count_digits",
    "analyse_model",
    "assignment_of",
    "bill_of_materials",
    "bom_check",
    "bom_positions",
    "bom_product",
    "broken_rules",
    "build",
    "check_orders",
    "compare_products",
    "complete",
    "count_model",
    "count_vehicles",
    "diagnostics",
    "edit_config_file",
    "enumerate_vehicles",
    "explain",
    "export_uvl",
    "filled_values",
    "fix",
    "has_completion",
    "import_model",
    "json_schema",
    "lint_catalog",
    "model_uvl",
    "open_catalog",
    "open_slots",
    "open_workspace",
    "options",
    "read_bom_table",
    "render_diagnostics",
    "resolve_vehicle",
    "rule_index",
    "rule_states",
    "schema_kinds",
    "share",
    "share_fleet",
    "similarity_matrix",
    "starter_project",
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
