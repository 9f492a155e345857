"""Plain set-based reference implementations of the sharing measures, for the tests only.

Every formula is written the slow, obvious way with exact fractions, straight from
../shared/domain/commonality.md, so that the tests compare the vectorised code in
src/cmf_config/sharing.py with an independent count. The hand-worked examples of
docs/sharing.md are built here too, so the tests and the docs share one source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from fractions import Fraction

from cmf_config.sharing import PartUse, ProductBom

Ratio = Fraction | None


def frac_div(numerator: Fraction | int, denominator: Fraction | int) -> Ratio:
    """Divide exactly, with None for a zero denominator (0/0 in every use here)."""
    if denominator == 0:
        return None
    return Fraction(numerator) / Fraction(denominator)


def part_set(
    product: ProductBom, module: str | None = None, *, all_modules: bool = True
) -> set[str]:
    """Return the distinct part numbers of a product, optionally of one module only."""
    return {line.part for line in product.lines if all_modules or line.module == module}


def weights(product: ProductBom, basis: str) -> dict[str, Fraction] | None:
    """Return per-part exact weights (pieces, cost or mass), or None if a unit value is missing."""
    out: dict[str, Fraction] = {}
    for line in product.lines:
        if basis == "pieces":
            unit: float | None = 1.0
        elif basis == "cost":
            unit = line.unit_cost
        else:
            unit = line.unit_mass_kg
        if unit is None:
            return None
        out[line.part] = out.get(line.part, Fraction(0)) + Fraction(line.quantity) * Fraction(unit)
    return out


def pn_measures(a: set[str], b: set[str]) -> dict[str, Ratio]:
    """Return the part-number measures of two sets of part numbers."""
    s = len(a & b)
    return {
        "jaccard": frac_div(s, len(a | b)),
        "dice": frac_div(2 * s, len(a) + len(b)),
        "overlap": frac_div(s, min(len(a), len(b))),
        "share_of_a_in_b": frac_div(s, len(a)),
        "share_of_b_in_a": frac_div(s, len(b)),
        "ratio": frac_div(2 * s, len(a) + len(b)),
    }


def weighted_measures(a: ProductBom, b: ProductBom, basis: str) -> dict[str, Ratio]:
    """Return Ruzicka and both directional shares on one weighted basis."""
    wa, wb = weights(a, basis), weights(b, basis)
    keys = (f"{basis}_ruzicka", f"{basis}_share_of_a", f"{basis}_share_of_b")
    if wa is None or wb is None:
        return dict.fromkeys(keys)
    union = set(wa) | set(wb)
    low = sum((min(wa.get(p, Fraction(0)), wb.get(p, Fraction(0))) for p in union), Fraction(0))
    high = sum((max(wa.get(p, Fraction(0)), wb.get(p, Fraction(0))) for p in union), Fraction(0))
    return {
        keys[0]: frac_div(low, high),
        keys[1]: frac_div(low, sum(wa.values(), Fraction(0))),
        keys[2]: frac_div(low, sum(wb.values(), Fraction(0))),
    }


def pair(a: ProductBom, b: ProductBom) -> dict[str, Ratio]:
    """Return every ratio of `compare(a, b)` by direct counting."""
    out = pn_measures(part_set(a), part_set(b))
    for basis in ("pieces", "cost", "mass"):
        out.update(weighted_measures(a, b, basis))
    return out


def by_module(a: ProductBom, b: ProductBom) -> dict[str, dict[str, Ratio]]:
    """Return the PN measures of each module value (None modules left out)."""
    modules = {line.module for line in (*a.lines, *b.lines) if line.module is not None}
    return {
        m: pn_measures(part_set(a, m, all_modules=False), part_set(b, m, all_modules=False))
        for m in sorted(modules)
    }


def family(products: Sequence[ProductBom], common: str) -> dict[str, Ratio]:
    """Return DCI, TCCI, CI and %C by the textbook formulas (commonality.md §2-§4, §6)."""
    sets = [part_set(p) for p in products]
    n = len(sets)
    phi = Counter(part for s in sets for part in s)
    u = len(phi)
    uses = sum(len(s) for s in sets)
    largest = max((len(s) for s in sets), default=0)
    if common == "all":
        shared = sum(1 for count in phi.values() if count == n)
    else:
        shared = sum(1 for count in phi.values() if count >= 2)
    dci = frac_div(sum(phi.values()), u)
    tcci_den = frac_div(u - 1, uses - 1)
    ci_den = frac_div(u - largest, uses - largest)
    return {
        "dci": dci,
        "tcci": None if u == 0 or tcci_den is None else 1 - tcci_den,
        "ci": None if ci_den is None else 1 - ci_den,
        "percent_c": frac_div(100 * shared, u) if n >= 2 else None,
    }


def pci(products: Sequence[ProductBom]) -> Ratio:
    """Return Kota's PCI with exact fractions, by the rules documented in sharing._pci."""
    factors = ("size", "material", "assembly")
    slots: dict[str, dict[int, list[Mapping[str, str]]]] = {}
    for k, product in enumerate(products):
        for line in product.lines:
            attrs = line.attributes
            if (
                not attrs.get("component")
                or attrs.get("differentiating", "").strip().lower() == "true"
            ):
                continue
            slots.setdefault(attrs["component"], {}).setdefault(k, []).append(attrs)
    used = [
        f
        for f in factors
        if any(f in a for per in slots.values() for lst in per.values() for a in lst)
    ]
    if not used or not slots:
        return None
    numerator = Fraction(0)
    correction = Fraction(0)
    for per_product in slots.values():
        n_i = len(per_product)
        f = Fraction(1)
        for factor in used:
            variants = {frozenset(a.get(factor, "") for a in lst) for lst in per_product.values()}
            f /= len(variants)
        numerator += n_i * f
        correction += Fraction(1, n_i * n_i)
    return frac_div(100 * (numerator - correction), len(slots) * len(products) - correction)


# ---- hand-worked examples (docs/sharing.md uses the same numbers) ----


def _line(
    part: str, quantity: float, cost: float, mass: float, module: str, **attributes: str
) -> PartUse:
    """Build a line tersely."""
    return PartUse(
        part=part,
        quantity=quantity,
        unit_cost=cost,
        unit_mass_kg=mass,
        module=module,
        attributes=attributes,
    )


def vans() -> tuple[ProductBom, ProductBom]:
    """Example 1: a van and its rebadge (FU-1 listed twice in the Kangoo, 4 + 2 pieces)."""
    kangoo = ProductBom(
        name="Kangoo",
        lines=(
            _line("EC-1", 1, 400, 30, "engine_compartment"),
            _line("FU-1", 4, 25, 2, "front_underbody"),
            _line("FU-1", 2, 25, 2, "front_underbody"),
            _line("CK-1", 1, 300, 15, "cockpit"),
            _line("CK-T1", 1, 60, 3, "cockpit"),
            _line("RU-1", 2, 50, 5, "rear_underbody"),
            _line("BR-RN", 1, 10, 0.5, "brand"),
        ),
    )
    kubistar = ProductBom(
        name="Kubistar",
        lines=(
            _line("EC-1", 1, 400, 30, "engine_compartment"),
            _line("FU-1", 4, 25, 2, "front_underbody"),
            _line("CK-1", 1, 300, 15, "cockpit"),
            _line("CK-T2", 1, 70, 3, "cockpit"),
            _line("RU-1", 2, 50, 5, "rear_underbody"),
            _line("BR-NS", 1, 12, 0.5, "brand"),
            _line("BR-NS2", 2, 4, 0.25, "brand"),
        ),
    )
    return kangoo, kubistar


def trio() -> tuple[ProductBom, ProductBom, ProductBom]:
    """Example 2: three products for the family indices and PCI (grilles differentiate)."""
    seat = {"component": "seat-frame", "size": "std", "material": "steel", "assembly": "weld"}
    wheel16 = {"component": "wheel", "size": "16", "material": "steel", "assembly": "bolt"}
    wheel17 = {"component": "wheel", "size": "17", "material": "alu", "assembly": "bolt"}
    mirror = {"component": "mirror", "size": "m", "material": "abs", "assembly": "clip"}
    grille = {"component": "grille", "differentiating": "true"}

    def line(part: str, attributes: Mapping[str, str]) -> PartUse:
        return PartUse(part=part, quantity=1, attributes=dict(attributes))

    return (
        ProductBom(
            name="V1",
            lines=(line("a", seat), line("b", wheel16), line("c", mirror), line("d", grille)),
        ),
        ProductBom(
            name="V2",
            lines=(line("a", seat), line("b", wheel16), line("c", mirror), line("e", grille)),
        ),
        ProductBom(name="V3", lines=(line("a", seat), line("c", mirror), line("f", wheel17))),
    )
