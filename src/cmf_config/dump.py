"""Model -> YAML text (the inverse of loading), for `fix -o` and `complete -o`."""

from __future__ import annotations

import yaml

from cmf_config import yaml12
from cmf_config.model import KINDS, PartLine, VehicleConfig


def _part(line: PartLine) -> dict[str, object]:
    return {
        "part": line.part,
        "name": line.name,
        "quantity": line.quantity,
        "unit_cost": line.unit_cost,
        "unit_mass_kg": line.unit_mass_kg,
    }


def config_to_data(config: VehicleConfig) -> dict[str, object]:
    """Plain data in the file format of docs/formats.md; open slots are left out."""
    data: dict[str, object] = {"name": config.name}
    for key in ("brand", "platform", "segment", "body", "powertrain"):
        value = getattr(config, key)
        if value is not None:
            data[key] = value
    modules = {
        kind: config.modules.get(kind) for kind in KINDS if config.modules.get(kind) is not None
    }
    if modules:
        data["modules"] = modules
    opts = config.options
    options: dict[str, object] = {}
    for key in ("battery_kwh", "wheelbase_mm", "drive", "steering", "market"):
        value = getattr(opts, key)
        if value is not None:
            options[key] = value
    if opts.features is not None:
        options["features"] = list(opts.features)
    if options:
        data["options"] = options
    if config.extra_parts:
        data["extra_parts"] = [_part(p) for p in config.extra_parts]
    return data


class _Dumper(yaml.SafeDumper):
    """Block style for mappings, flow style for part lines and short lists."""


def _represent_list(dumper: yaml.SafeDumper, data: list[object]) -> yaml.Node:
    flow = all(not isinstance(x, dict | list) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # PyYAML quotes what YAML 1.1 would misread; quote also what YAML 1.2 (our reader) would.
    if yaml12.resolve(data) != yaml12.STR:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'")
    return dumper.represent_str(data)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def config_to_yaml(config: VehicleConfig, header: str = "") -> str:
    """A configuration as YAML text that `load` reads back to an equal configuration."""
    body = yaml.dump(
        config_to_data(config), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    prefix = "".join(f"# {line}\n" for line in header.splitlines()) if header else ""
    return prefix + body
