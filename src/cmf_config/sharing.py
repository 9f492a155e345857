"""Parts-sharing (commonality) measures between bills of materials, as pure functions.

The input is a generic, single-level bill of materials (product -> part lines) rather than
the catalog model, so that the same code measures catalog vehicles, a CSV export from a
PLM system, or a synthetic fleet in a benchmark. Formulas and references are in
docs/sharing.md and ../shared/domain/commonality.md.

Conventions that hold for every function here:

* Duplicate lines of one part number within a product are aggregated first (quantities,
  costs and masses add up), so a part listed twice counts once for the part-number
  measures.
* Every ratio is ``float | None``: None when it is 0/0, never a made-up 0.
* Sums of floats use ``math.fsum``, so the results do not depend on line order.
* Inputs are not validated (constructors do not validate, house style): quantities, unit
  costs and unit masses are expected to be finite and >= 0; ``bomtable`` guarantees that.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, get_args

import attrs

from cmf_config.errors import OptionError
from cmf_config.model import BomLine
from cmf_config.reprs import shared_repr

if TYPE_CHECKING:  # numpy and scipy are imported by the functions that compute (start-up time)
    import numpy as np
    import numpy.typing as npt
    import scipy.sparse as sp

__all__ = [
    "PCI_FACTORS",
    "CommonRule",
    "FamilyIndices",
    "Measure",
    "ModuleShare",
    "PairShare",
    "PartUse",
    "ProductBom",
    "SharingOptionError",
    "SimilarityMatrix",
    "cluster_order",
    "compare",
    "family_indices",
    "fleet_matrix",
]

Measure = Literal["ratio", "dice", "jaccard", "overlap", "share_of_a_in_b", "share_of_b_in_a"]
"""Part-number measures that `fleet_matrix` can tabulate (the weighted ones are pairwise only)."""

CommonRule = Literal["all", "at-least-two"]
"""Which parts %C counts as common in a family of more than two products."""

PCI_FACTORS: Final = ("size", "material", "assembly")
"""The PCI penalty factors (Kota et al.): f1 size/shape, f2 material/process, f3 assembly."""

_PAIR: Final = 2  # products needed to speak of sharing at all

_EMPTY_ATTRIBUTES: Final[Mapping[str, str]] = MappingProxyType({})


class SharingOptionError(OptionError):
    """An option (a measure or a %C rule) that this module does not know.

    Raised by `fleet_matrix` and `family_indices` (a `UsageError`, so a `CmfConfigError`);
    static typing catches it earlier.
    """


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class PartUse:
    """One line of a product's bill of materials, as the sharing measures read it (apart from
    `model.BomLine`, the line of a built vehicle, which always has a name, cost and mass).

    ``module`` is the big module kind the part comes from (``engine_compartment``, ...),
    or ``"brand"``/``"vehicle"`` for brand- and vehicle-specific parts, or None when
    unknown; it only scopes `PairShare.by_module`. ``attributes`` carries the PCI
    dissection (``component``, ``size``, ``material``, ``assembly``,
    ``differentiating``); it is excluded from the hash so that a plain dict may be passed.
    """

    part: str
    quantity: float
    unit_cost: float | None = None
    unit_mass_kg: float | None = None
    module: str | None = None
    attributes: Mapping[str, str] = attrs.field(default=_EMPTY_ATTRIBUTES, hash=False)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class ProductBom:
    """A named product (vehicle) and its flattened, single-level bill of materials."""

    name: str
    lines: tuple[PartUse, ...]


def bom_product(name: str, lines: Iterable[BomLine]) -> ProductBom:
    """A vehicle's bill of materials (resolved BOM lines) as a sharing product."""
    return ProductBom(
        name=name,
        lines=tuple(
            PartUse(
                part=line.part,
                quantity=float(line.quantity),
                unit_cost=line.unit_cost,
                unit_mass_kg=line.unit_mass_kg,
                module=line.module,
            )
            for line in lines
        ),
    )


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class ModuleShare:
    """Part-number sharing between two sets of part numbers (whole products or one module).

    ``shared`` = s = |A∩B|, ``a_parts`` = |A|, ``b_parts`` = |B|. ``share_of_a_in_b`` =
    s/|A| answers "which fraction of A's part numbers does B also use"; ``ratio`` is the
    headline, equal to ``dice``.
    """

    shared: int
    a_parts: int
    b_parts: int
    jaccard: float | None
    dice: float | None
    overlap: float | None
    share_of_a_in_b: float | None
    share_of_b_in_a: float | None
    ratio: float | None


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class PairShare:
    """Every pairwise sharing measure of two products, on each basis.

    Part-number (PN) measures count distinct part numbers. ``pieces_*`` weight each part
    number by its quantity, ``cost_*`` by quantity x unit cost and ``mass_*`` by quantity
    x unit mass. ``*_ruzicka`` is the weighted Jaccard Σmin/Σmax (symmetric);
    ``*_share_of_a`` = Σmin / Σ(A's weights) is the fraction of A's pieces (cost, mass)
    that B matches, and likewise for B. Cost and mass measures are None unless every line
    of both products has the unit cost (mass).

    ``ratio`` is the headline: Dice over distinct part numbers, 2s/(|A|+|B|), which is
    the harmonic mean of the two directional shares (docs/sharing.md says why).
    ``by_module`` holds the PN measures restricted to the lines of each module value
    (lines whose module is None appear only in the whole-product figures).
    """

    a_name: str
    b_name: str
    shared: int
    a_parts: int
    b_parts: int
    jaccard: float | None
    dice: float | None
    overlap: float | None
    share_of_a_in_b: float | None
    share_of_b_in_a: float | None
    ratio: float | None
    pieces_ruzicka: float | None
    pieces_share_of_a: float | None
    pieces_share_of_b: float | None
    cost_ruzicka: float | None
    cost_share_of_a: float | None
    cost_share_of_b: float | None
    mass_ruzicka: float | None
    mass_share_of_a: float | None
    mass_share_of_b: float | None
    by_module: Mapping[str, ModuleShare] = attrs.field(hash=False)
    only_in_a: tuple[str, ...]
    only_in_b: tuple[str, ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class SimilarityMatrix:
    """A square table of one pairwise measure over a fleet.

    ``values[i][j]`` is the measure of product i against product j (for the directional
    measures: product i in the role of A). None marks 0/0, e.g. an empty product.
    """

    names: tuple[str, ...]
    measure: Measure
    values: tuple[tuple[float | None, ...], ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class FamilyIndices:
    """The product-family commonality indices of commonality.md §2-§6, single-level BOM.

    ``dci`` (Collier, 1..N), ``tcci`` (Wacker & Treleven, 0..1), ``ci`` (Martin & Ishii,
    0..1), ``percent_c`` (Siddique et al., components %C, 0..100) under the ``common``
    rule and ``percent_c_other`` under the other rule, ``pci`` (Kota et al., 0..100)
    computed from ``pci_components`` non-differentiating components with the factors
    named in ``pci_factors``. Counts: ``product_count`` = N, ``distinct_part_count`` = u,
    ``part_use_count`` = Σ_k p_k (= Σ_j Φ_j). None where an index is undefined.
    """

    product_count: int
    distinct_part_count: int
    part_use_count: int
    dci: float | None
    tcci: float | None
    ci: float | None
    common: CommonRule
    percent_c: float | None
    percent_c_other: float | None
    pci: float | None
    pci_components: int
    pci_factors: tuple[str, ...]


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class _PartTotal:
    """One part number's aggregated quantity, cost and mass within one product."""

    quantity: float
    cost: float | None
    mass: float | None


def _div(numerator: float, denominator: float) -> float | None:
    """Return numerator/denominator, or None for x/0 (always 0/0 here: numerators are bounded)."""
    if denominator == 0:
        return None
    return numerator / denominator


def _weighted_total(lines: Sequence[PartUse], unit: Sequence[float | None]) -> float | None:
    """Sum quantity x unit over lines, or None if any line lacks the unit value."""
    if any(u is None for u in unit):
        return None
    return math.fsum(
        line.quantity * u for line, u in zip(lines, unit, strict=True) if u is not None
    )


def _aggregate(lines: Iterable[PartUse]) -> dict[str, _PartTotal]:
    """Merge duplicate lines of a part number, because sharing is counted per part number."""
    groups: dict[str, list[PartUse]] = {}
    for line in lines:
        groups.setdefault(line.part, []).append(line)
    return {
        part: _PartTotal(
            quantity=math.fsum(line.quantity for line in group),
            cost=_weighted_total(group, [line.unit_cost for line in group]),
            mass=_weighted_total(group, [line.unit_mass_kg for line in group]),
        )
        for part, group in groups.items()
    }


def _pn_share(a: set[str], b: set[str]) -> ModuleShare:
    """Compute the part-number measures of two sets, with the exact integer formulas."""
    s, na, nb = len(a & b), len(a), len(b)
    dice = _div(2 * s, na + nb)
    return ModuleShare(
        shared=s,
        a_parts=na,
        b_parts=nb,
        jaccard=_div(s, na + nb - s),
        dice=dice,
        overlap=_div(s, min(na, nb)),
        share_of_a_in_b=_div(s, na),
        share_of_b_in_a=_div(s, nb),
        ratio=dice,
    )


def _weighted_share(
    wa: Mapping[str, float | None], wb: Mapping[str, float | None]
) -> tuple[float | None, float | None, float | None]:
    """Return (Ruzicka, share of A, share of B) of two weight vectors; all None if a weight is unknown."""
    if any(w is None for w in wa.values()) or any(w is None for w in wb.values()):
        return None, None, None
    xa = {part: w for part, w in wa.items() if w is not None}
    xb = {part: w for part, w in wb.items() if w is not None}
    minimum = math.fsum(min(xa[part], xb[part]) for part in xa.keys() & xb.keys())
    maximum = math.fsum(max(xa.get(part, 0.0), xb.get(part, 0.0)) for part in xa.keys() | xb.keys())
    return (
        _div(minimum, maximum),
        _div(minimum, math.fsum(xa.values())),
        _div(minimum, math.fsum(xb.values())),
    )


def _by_module(a: ProductBom, b: ProductBom) -> Mapping[str, ModuleShare]:
    """Compute the PN measures per module value, so that platform and top-hat sharing separate."""
    parts_a: dict[str, set[str]] = {}
    parts_b: dict[str, set[str]] = {}
    for line in a.lines:
        if line.module is not None:
            parts_a.setdefault(line.module, set()).add(line.part)
    for line in b.lines:
        if line.module is not None:
            parts_b.setdefault(line.module, set()).add(line.part)
    modules = sorted(parts_a.keys() | parts_b.keys())
    return MappingProxyType(
        {
            module: _pn_share(parts_a.get(module, set()), parts_b.get(module, set()))
            for module in modules
        }
    )


def compare(a: ProductBom, b: ProductBom) -> PairShare:
    """Measure how much two products share, on every basis (PN, pieces, cost, mass) and per module."""
    totals_a, totals_b = _aggregate(a.lines), _aggregate(b.lines)
    set_a, set_b = set(totals_a), set(totals_b)
    pn = _pn_share(set_a, set_b)
    pieces = _weighted_share(
        {p: t.quantity for p, t in totals_a.items()}, {p: t.quantity for p, t in totals_b.items()}
    )
    cost = _weighted_share(
        {p: t.cost for p, t in totals_a.items()}, {p: t.cost for p, t in totals_b.items()}
    )
    mass = _weighted_share(
        {p: t.mass for p, t in totals_a.items()}, {p: t.mass for p, t in totals_b.items()}
    )
    return PairShare(
        a_name=a.name,
        b_name=b.name,
        shared=pn.shared,
        a_parts=pn.a_parts,
        b_parts=pn.b_parts,
        jaccard=pn.jaccard,
        dice=pn.dice,
        overlap=pn.overlap,
        share_of_a_in_b=pn.share_of_a_in_b,
        share_of_b_in_a=pn.share_of_b_in_a,
        ratio=pn.ratio,
        pieces_ruzicka=pieces[0],
        pieces_share_of_a=pieces[1],
        pieces_share_of_b=pieces[2],
        cost_ruzicka=cost[0],
        cost_share_of_a=cost[1],
        cost_share_of_b=cost[2],
        mass_ruzicka=mass[0],
        mass_share_of_a=mass[1],
        mass_share_of_b=mass[2],
        by_module=_by_module(a, b),
        only_in_a=tuple(sorted(set_a - set_b)),
        only_in_b=tuple(sorted(set_b - set_a)),
    )


@shared_repr
@attrs.frozen(kw_only=True, eq=False, repr=False)
class _Incidence:
    """The products x part-numbers 0/1 matrix (CSR) and the per-product part counts."""

    matrix: sp.csr_matrix
    columns: npt.NDArray[np.intp]
    part_counts: npt.NDArray[np.int64]
    distinct_parts: int


def _incidence(products: Sequence[ProductBom]) -> _Incidence:
    """Build the incidence matrix in one pass; the only per-line Python work in the fleet path."""
    import numpy as np
    import scipy.sparse as sp

    uses: list[str] = []
    counts: list[int] = []
    for product in products:  # one set at a time: 2,000 live sets of 3,000 would cost ~250 MiB
        parts = {line.part for line in product.lines}
        uses.extend(parts)
        counts.append(len(parts))
    # dict.fromkeys and map run in C: much faster than a Python loop over 6 M uses.
    index = {part: k for k, part in enumerate(dict.fromkeys(uses))}
    cols = np.fromiter(map(index.__getitem__, uses), dtype=np.intp, count=len(uses))
    pointers = np.zeros(len(products) + 1, dtype=np.intp)
    np.cumsum(counts, out=pointers[1:])
    data = np.ones(len(cols), dtype=np.int32)
    matrix = sp.csr_matrix((data, cols, pointers), shape=(len(products), len(index)))
    return _Incidence(
        matrix=matrix,
        columns=cols,
        part_counts=np.diff(pointers).astype(np.int64),
        distinct_parts=len(index),
    )


def _check_option(option: str, value: str, choices: tuple[str, ...]) -> None:
    """Reject an unknown option value at run time, for callers without a type checker."""
    if value not in choices:
        raise SharingOptionError(option, value, choices)


def _measure_array(
    shared: npt.NDArray[np.float64], counts: npt.NDArray[np.float64], measure: Measure
) -> npt.NDArray[np.float64]:
    """Apply one PN formula to all pairs; the same operations as `_pn_share`, so the floats agree."""
    import numpy as np

    rows = counts[:, np.newaxis]
    cols = counts[np.newaxis, :]
    numerator = shared
    if measure in ("ratio", "dice"):
        numerator = 2.0 * shared
        denominator = rows + cols
    elif measure == "jaccard":
        denominator = rows + cols - shared
    elif measure == "overlap":
        denominator = np.minimum(rows, cols)
    elif measure == "share_of_a_in_b":
        denominator = np.broadcast_to(rows, shared.shape)
    else:
        denominator = np.broadcast_to(cols, shared.shape)
    values = np.full(shared.shape, np.nan)
    np.divide(numerator, denominator, out=values, where=denominator != 0)
    return values


def fleet_matrix(products: Sequence[ProductBom], measure: Measure = "ratio") -> SimilarityMatrix:
    """Tabulate one part-number measure for every pair of products.

    The intersections come from one sparse product (incidence @ incidence.T), so a fleet
    of thousands of products takes seconds; each value equals the one `compare` gives.
    Raises SharingOptionError for an unknown measure.
    """
    import numpy as np

    _check_option("measure", measure, get_args(Measure))
    incidence = _incidence(products)
    shared = np.asarray((incidence.matrix @ incidence.matrix.T).toarray(), dtype=np.float64)
    values = _measure_array(shared, incidence.part_counts.astype(np.float64), measure)
    undefined_rows = {int(i) for i in np.flatnonzero(np.isnan(values).any(axis=1))}
    rows: list[tuple[float | None, ...]] = []
    for i, row in enumerate(values.tolist()):
        rows.append(
            tuple(None if math.isnan(v) else v for v in row) if i in undefined_rows else tuple(row)
        )
    return SimilarityMatrix(
        names=tuple(p.name for p in products), measure=measure, values=tuple(rows)
    )


def _is_differentiating(line: PartUse) -> bool:
    """Tell whether a line is a deliberate differentiator, which PCI leaves out of P."""
    return line.attributes.get("differentiating", "").strip().lower() == "true"


def _pci(products: Sequence[ProductBom]) -> tuple[float | None, int, tuple[str, ...]]:
    """Compute Kota's PCI from the lines' attributes; return (PCI, P, factors used).

    Lines with no ``component`` attribute or marked differentiating are outside P. A
    factor is used when at least one such line carries it; a product's variant of a
    component for a factor is the set of values of its lines (missing = ""), so a factor
    is 1/(number of distinct variants among the n_i products) and stays >= 1/n_i.
    """
    lines = [
        (k, line)
        for k, product in enumerate(products)
        for line in product.lines
        if line.attributes.get("component", "") and not _is_differentiating(line)
    ]
    factors = tuple(f for f in PCI_FACTORS if any(f in line.attributes for _, line in lines))
    # variants[component][product] = one set of values per factor
    variants: dict[str, dict[int, tuple[set[str], ...]]] = {}
    for k, line in lines:
        per_product = variants.setdefault(line.attributes["component"], {})
        values = per_product.setdefault(k, tuple(set() for _ in factors))
        for value_set, factor in zip(values, factors, strict=True):
            value_set.add(line.attributes.get(factor, ""))
    if not factors or not variants:
        return None, len(variants), factors
    # Exact arithmetic, so that identical products give exactly 100 and the worst case 0.
    # Components are grouped by (n_i, 1/f) first: only a few distinct groups exist, which
    # keeps the fractions cheap for large fleets.
    gains: Counter[tuple[int, int]] = Counter()
    uses: Counter[int] = Counter()
    for per_product in variants.values():
        inverse_f = 1
        for position in range(len(factors)):
            inverse_f *= len({frozenset(v[position]) for v in per_product.values()})
        gains[len(per_product), inverse_f] += 1
        uses[len(per_product)] += 1
    gain = sum(
        (Fraction(count * n_i, inverse_f) for (n_i, inverse_f), count in gains.items()), Fraction(0)
    )
    correction = sum((Fraction(count, n_i * n_i) for n_i, count in uses.items()), Fraction(0))
    denominator = len(variants) * len(products) - correction
    value = None if denominator == 0 else float(100 * (gain - correction) / denominator)
    return value, len(variants), factors


def family_indices(products: Sequence[ProductBom], common: CommonRule = "all") -> FamilyIndices:
    """Compute DCI, TCCI, CI, %C and PCI for a family of products with single-level BOMs.

    ``common`` picks which parts %C counts as common: "all" (in every product, the strict
    reading, and the default) or "at-least-two"; the value under the other rule is
    returned too. %C needs at least two products. Raises SharingOptionError for an
    unknown rule.
    """
    import numpy as np

    _check_option("common rule", common, get_args(CommonRule))
    incidence = _incidence(products)
    n = len(products)
    u = incidence.distinct_parts
    uses = int(incidence.part_counts.sum())
    largest = int(incidence.part_counts.max()) if n else 0
    parents = np.bincount(incidence.columns, minlength=u)
    in_all = int(np.count_nonzero(parents == n))
    in_two = int(np.count_nonzero(parents >= _PAIR))
    by_rule = {
        "all": _div(100 * in_all, u) if n >= _PAIR else None,
        "at-least-two": _div(100 * in_two, u) if n >= _PAIR else None,
    }
    other: CommonRule = "at-least-two" if common == "all" else "all"
    pci, pci_components, pci_factors = _pci(products)
    return FamilyIndices(
        product_count=n,
        distinct_part_count=u,
        part_use_count=uses,
        dci=_div(uses, u),
        # 1 - (u-1)/(Σp-1) and 1 - (u-max p)/(Σp-max p), each as a single exact division
        tcci=_div(uses - u, uses - 1) if u else None,
        ci=_div(uses - u, uses - largest),
        common=common,
        percent_c=by_rule[common],
        percent_c_other=by_rule[other],
        pci=pci,
        pci_components=pci_components,
        pci_factors=pci_factors,
    )


def _to_array(matrix: SimilarityMatrix) -> npt.NDArray[np.float64]:
    """Return the values as a float array with NaN for None."""
    import numpy as np

    n = len(matrix.names)
    return np.array(
        [[math.nan if v is None else v for v in row] for row in matrix.values], dtype=np.float64
    ).reshape(n, n)


def cluster_order(matrix: SimilarityMatrix) -> list[int]:
    """Order products so that similar ones sit together (for heatmaps).

    Average-linkage hierarchical clustering on 1 - similarity, read off as the dendrogram's
    leaf order; deterministic for a given matrix. A directional matrix is symmetrised by
    averaging both directions, and None counts as no similarity.
    """
    import numpy as np
    from scipy.cluster import hierarchy
    from scipy.spatial.distance import squareform

    n = len(matrix.names)
    if n <= _PAIR:
        return list(range(n))
    similarity = np.nan_to_num(_to_array(matrix), nan=0.0)
    distance = np.clip(1.0 - (similarity + similarity.T) / 2.0, 0.0, 1.0)
    np.fill_diagonal(distance, 0.0)
    linkage = hierarchy.linkage(squareform(distance, checks=False), method="average")
    return [int(i) for i in hierarchy.leaves_list(linkage)]
