"""Tests for cmf_config.sharing: hand-worked fractions, commonality.md §10 identities, properties."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import get_args

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sharing_oracle as oracle
from cmf_config.sharing import (
    CommonRule,
    FamilyIndices,
    Measure,
    ModuleShare,
    PairShare,
    PartUse,
    ProductBom,
    SharingOptionError,
    SimilarityMatrix,
    cluster_order,
    compare,
    family_indices,
    fleet_matrix,
)

TOLERANCE = 1e-12
MEASURES: tuple[Measure, ...] = get_args(Measure)
RULES: tuple[CommonRule, ...] = get_args(CommonRule)
RATIO_FIELDS = (
    "jaccard",
    "dice",
    "overlap",
    "share_of_a_in_b",
    "share_of_b_in_a",
    "ratio",
    "pieces_ruzicka",
    "pieces_share_of_a",
    "pieces_share_of_b",
    "cost_ruzicka",
    "cost_share_of_a",
    "cost_share_of_b",
    "mass_ruzicka",
    "mass_share_of_a",
    "mass_share_of_b",
)
PN_FIELDS = ("jaccard", "dice", "overlap", "share_of_a_in_b", "share_of_b_in_a", "ratio")
WEIGHTED_FIELDS = tuple(name for name in RATIO_FIELDS if name not in PN_FIELDS)


def assert_matches(actual: float | None, expected: Fraction | None) -> None:
    """Assert a float equals an exact fraction within 1e-12 (relative above 1), or both are None."""
    if expected is None:
        assert actual is None
        return
    assert actual is not None
    assert abs(Fraction(actual) - expected) <= TOLERANCE * max(Fraction(1), abs(expected))


# ---- strategies: small worlds, so that overlaps and duplicates are frequent ----

PARTS = tuple(f"P{i}" for i in range(8))
QUANTITIES = st.one_of(st.just(0.0), st.sampled_from([1.0, 2.0, 4.0]), st.floats(0.001, 1000.0))
UNITS = st.one_of(st.none(), st.sampled_from([1.0, 2.5, 10.0]), st.floats(0.001, 1000.0))
PCI_ATTRIBUTES = st.fixed_dictionaries(
    {},
    optional={
        "component": st.sampled_from(["wheel", "seat", "mirror", ""]),
        "size": st.sampled_from(["s", "m"]),
        "material": st.sampled_from(["steel", "alu"]),
        "assembly": st.sampled_from(["bolt", "weld"]),
        "differentiating": st.sampled_from(["true", "false", "TRUE"]),
    },
)


@st.composite
def lines(draw: st.DrawFn) -> PartUse:
    """Draw one BOM line."""
    return PartUse(
        part=draw(st.sampled_from(PARTS)),
        quantity=draw(QUANTITIES),
        unit_cost=draw(UNITS),
        unit_mass_kg=draw(UNITS),
        module=draw(st.sampled_from([None, "brand", "cockpit", "vehicle"])),
        attributes=draw(PCI_ATTRIBUTES),
    )


@st.composite
def costed_lines(draw: st.DrawFn) -> PartUse:
    """Draw a line that always has a cost and a mass, so the weighted paths are exercised."""
    line = draw(lines())
    return attrs.evolve(
        line, unit_cost=draw(st.floats(0.001, 1000.0)), unit_mass_kg=draw(st.floats(0.001, 1000.0))
    )


@st.composite
def products(draw: st.DrawFn, name: str = "X") -> ProductBom:
    """Draw a product; half of them are fully costed."""
    line_strategy = costed_lines() if draw(st.booleans()) else lines()
    return ProductBom(name=name, lines=tuple(draw(st.lists(line_strategy, max_size=8))))


@st.composite
def fleets(draw: st.DrawFn, max_size: int = 5) -> list[ProductBom]:
    """Draw a family of products with distinct names."""
    size = draw(st.integers(0, max_size))
    return [draw(products(name=f"V{k}")) for k in range(size)]


def ratios(share: PairShare) -> list[float | None]:
    """Return every ratio of a PairShare, by_module included."""
    values: list[float | None] = [getattr(share, name) for name in RATIO_FIELDS]
    for module in share.by_module.values():
        values += [getattr(module, name) for name in PN_FIELDS]
    return values


# ---- hand-worked examples (docs/sharing.md) ----

VANS_EXPECTED = {
    "jaccard": Fraction(4, 9),
    "dice": Fraction(8, 13),
    "overlap": Fraction(2, 3),
    "share_of_a_in_b": Fraction(2, 3),
    "share_of_b_in_a": Fraction(4, 7),
    "ratio": Fraction(8, 13),
    "pieces_ruzicka": Fraction(1, 2),
    "pieces_share_of_a": Fraction(2, 3),
    "pieces_share_of_b": Fraction(2, 3),
    "cost_ruzicka": Fraction(30, 37),
    "cost_share_of_a": Fraction(15, 17),
    "cost_share_of_b": Fraction(10, 11),
    "mass_ruzicka": Fraction(126, 149),
    "mass_share_of_a": Fraction(42, 47),
    "mass_share_of_b": Fraction(63, 67),
}


def test_ratio_fields_are_all_covered() -> None:
    """RATIO_FIELDS lists every float field of PairShare, so no measure escapes the properties."""
    # annotations are strings here, because of `from __future__ import annotations`
    floats = {f.name for f in attrs.fields(PairShare) if str(f.type) == "float | None"}
    assert floats == set(RATIO_FIELDS) == set(VANS_EXPECTED)


@pytest.mark.parametrize("name", sorted(VANS_EXPECTED))
def test_vans_ratios_equal_the_hand_worked_fractions(name: str) -> None:
    """Example 1 (Kangoo vs Kubistar) gives the fractions worked out by hand in docs/sharing.md."""
    assert_matches(getattr(compare(*oracle.vans()), name), VANS_EXPECTED[name])


def test_vans_counts_and_part_lists() -> None:
    """Duplicate FU-1 lines count once; only_in_a/only_in_b are sorted part numbers."""
    share = compare(*oracle.vans())
    assert (share.a_name, share.b_name) == ("Kangoo", "Kubistar")
    assert (share.shared, share.a_parts, share.b_parts) == (4, 6, 7)
    assert share.only_in_a == ("BR-RN", "CK-T1")
    assert share.only_in_b == ("BR-NS", "BR-NS2", "CK-T2")


def test_vans_by_module() -> None:
    """Per module: brand parts share nothing, the cockpit half, the underbodies everything."""
    share = compare(*oracle.vans())
    half = Fraction(1, 2)
    assert list(share.by_module) == [
        "brand",
        "cockpit",
        "engine_compartment",
        "front_underbody",
        "rear_underbody",
    ]
    assert share.by_module["brand"] == ModuleShare(
        shared=0,
        a_parts=1,
        b_parts=2,
        jaccard=0.0,
        dice=0.0,
        overlap=0.0,
        share_of_a_in_b=0.0,
        share_of_b_in_a=0.0,
        ratio=0.0,
    )
    cockpit = share.by_module["cockpit"]
    assert (cockpit.shared, cockpit.a_parts, cockpit.b_parts) == (1, 2, 2)
    assert_matches(cockpit.jaccard, Fraction(1, 3))
    for name in ("dice", "overlap", "share_of_a_in_b", "share_of_b_in_a", "ratio"):
        assert_matches(getattr(cockpit, name), half)
    for module in ("engine_compartment", "front_underbody", "rear_underbody"):
        assert all(getattr(share.by_module[module], name) == 1.0 for name in PN_FIELDS)


def test_headline_ratio_is_the_harmonic_mean_of_the_directional_shares() -> None:
    """8/13 = 2 / (3/2 + 7/4): Dice is the harmonic mean of 2/3 and 4/7."""
    share = compare(*oracle.vans())
    assert share.share_of_a_in_b is not None
    assert share.share_of_b_in_a is not None
    harmonic = 2 / (1 / Fraction(share.share_of_a_in_b) + 1 / Fraction(share.share_of_b_in_a))
    assert_matches(share.ratio, harmonic)


def test_trio_family_indices_equal_the_hand_worked_fractions() -> None:
    """Example 2 gives DCI 11/6, TCCI 1/2, CI 5/7, %C 100/3 (all) or 50 (≥2), PCI 1925/26."""
    result = family_indices(oracle.trio())
    assert (result.product_count, result.distinct_part_count, result.part_use_count) == (3, 6, 11)
    assert result.common == "all"
    assert_matches(result.dci, Fraction(11, 6))
    assert_matches(result.tcci, Fraction(1, 2))
    assert_matches(result.ci, Fraction(5, 7))
    assert_matches(result.percent_c, Fraction(100, 3))
    assert_matches(result.percent_c_other, Fraction(50))
    assert_matches(result.pci, Fraction(1925, 26))
    assert result.pci_components == 3
    assert result.pci_factors == ("size", "material", "assembly")


def test_trio_at_least_two_rule_swaps_the_percent_c_values() -> None:
    """With common='at-least-two' the two %C values trade places and the rule is reported."""
    result = family_indices(oracle.trio(), common="at-least-two")
    assert result.common == "at-least-two"
    assert_matches(result.percent_c, Fraction(50))
    assert_matches(result.percent_c_other, Fraction(100, 3))


def test_trio_fleet_matrix() -> None:
    """The trio's Dice matrix is 3/4 for V1-V2 and 4/7 for the pairs with V3."""
    matrix = fleet_matrix(oracle.trio())
    three_quarters, four_sevenths = float(Fraction(3, 4)), float(Fraction(4, 7))
    assert matrix == SimilarityMatrix(
        names=("V1", "V2", "V3"),
        measure="ratio",
        values=(
            (1.0, three_quarters, four_sevenths),
            (three_quarters, 1.0, four_sevenths),
            (four_sevenths, four_sevenths, 1.0),
        ),
    )


# ---- undefined values and edge cases ----


def test_two_empty_products_give_none_not_zero() -> None:
    """0/0 is None for every ratio; counts are 0."""
    empty = ProductBom(name="E", lines=())
    share = compare(empty, empty)
    assert all(value is None for value in ratios(share))
    assert (share.shared, share.a_parts, share.b_parts, dict(share.by_module)) == (0, 0, 0, {})


def test_one_empty_product_gives_zero_where_defined() -> None:
    """Against an empty product, symmetric PN measures are 0, s/|A| is None and s/|B| is 0."""
    van = oracle.vans()[0]
    share = compare(ProductBom(name="E", lines=()), van)
    assert (share.jaccard, share.dice, share.overlap) == (0.0, 0.0, None)
    assert (share.share_of_a_in_b, share.share_of_b_in_a) == (None, 0.0)
    assert (share.pieces_ruzicka, share.pieces_share_of_a, share.pieces_share_of_b) == (
        0.0,
        None,
        0.0,
    )


def test_a_missing_unit_cost_makes_cost_measures_none() -> None:
    """One line without a unit cost leaves cost measures undefined, mass ones intact."""
    kangoo, kubistar = oracle.vans()
    stripped = attrs.evolve(
        kubistar, lines=(attrs.evolve(kubistar.lines[0], unit_cost=None), *kubistar.lines[1:])
    )
    share = compare(kangoo, stripped)
    assert (share.cost_ruzicka, share.cost_share_of_a, share.cost_share_of_b) == (None, None, None)
    assert_matches(share.mass_ruzicka, Fraction(126, 149))


def test_zero_quantities_give_undefined_piece_measures() -> None:
    """Listed parts with quantity 0 share by part number but have no pieces to compare."""
    product = ProductBom(name="Z", lines=(PartUse(part="P", quantity=0.0),))
    share = compare(product, product)
    assert share.ratio == 1.0
    assert (share.pieces_ruzicka, share.pieces_share_of_a, share.pieces_share_of_b) == (
        None,
        None,
        None,
    )


def test_lines_without_module_are_left_out_of_by_module() -> None:
    """by_module has no key for lines whose module is None."""
    product = ProductBom(
        name="A",
        lines=(PartUse(part="P", quantity=1), PartUse(part="Q", quantity=1, module="brand")),
    )
    assert list(compare(product, product).by_module) == ["brand"]


def test_family_indices_of_no_products_are_undefined() -> None:
    """An empty family has no index at all."""
    result = family_indices([])
    assert result == FamilyIndices(
        product_count=0,
        distinct_part_count=0,
        part_use_count=0,
        dci=None,
        tcci=None,
        ci=None,
        common="all",
        percent_c=None,
        percent_c_other=None,
        pci=None,
        pci_components=0,
        pci_factors=(),
    )


def test_single_product_family() -> None:
    """One product: DCI 1, TCCI 0 (commonality.md §3), CI and %C undefined."""
    result = family_indices([oracle.vans()[0]])
    assert (result.dci, result.tcci, result.ci, result.percent_c, result.percent_c_other) == (
        1.0,
        0.0,
        None,
        None,
        None,
    )


def test_one_part_in_one_product_leaves_tcci_undefined() -> None:
    """ΣΦ = 1 makes TCCI 0/0."""
    result = family_indices([ProductBom(name="A", lines=(PartUse(part="P", quantity=1),))])
    assert (result.dci, result.tcci) == (1.0, None)


def test_pci_needs_component_and_a_factor() -> None:
    """PCI is None without 'component', or with it but no size/material/assembly."""
    bare = [ProductBom(name=n, lines=(PartUse(part="P", quantity=1),)) for n in "AB"]
    assert family_indices(bare).pci is None
    only_component = [
        ProductBom(
            name=n, lines=(PartUse(part="P", quantity=1, attributes={"component": "wheel"}),)
        )
        for n in "AB"
    ]
    result = family_indices(only_component)
    assert (result.pci, result.pci_components, result.pci_factors) == (None, 1, ())


def test_pci_leaves_out_differentiating_lines() -> None:
    """A differentiating grille does not count in P; the remaining identical wheel gives 100."""
    wheel = {"component": "wheel", "size": "16"}
    family = [
        ProductBom(
            name=name,
            lines=(
                PartUse(part="W", quantity=4, attributes=wheel),
                PartUse(
                    part=f"G-{name}",
                    quantity=1,
                    attributes={"component": "grille", "differentiating": "true"},
                ),
            ),
        )
        for name in "AB"
    ]
    result = family_indices(family)
    assert (result.pci, result.pci_components, result.pci_factors) == (100.0, 1, ("size",))


def test_unknown_options_raise_a_readable_error() -> None:
    """A misspelt measure or rule raises SharingOptionError naming the choices."""
    with pytest.raises(SharingOptionError) as measure_error:
        fleet_matrix([], measure="cosine")  # type: ignore[arg-type]
    assert str(measure_error.value) == (
        "unknown measure 'cosine'; choose one of: ratio, dice, jaccard, overlap, share_of_a_in_b, share_of_b_in_a"
    )
    with pytest.raises(SharingOptionError) as rule_error:
        family_indices([], common="two")  # type: ignore[arg-type]
    assert str(rule_error.value) == "unknown common rule 'two'; choose one of: all, at-least-two"


def test_fleet_matrix_of_no_products_is_empty() -> None:
    """No products, no values."""
    assert fleet_matrix([]) == SimilarityMatrix(names=(), measure="ratio", values=())


def test_cluster_order_groups_similar_products() -> None:
    """Two interleaved groups of look-alikes come out as two contiguous runs."""
    group_a = [
        ProductBom(
            name=f"a{k}",
            lines=tuple(PartUse(part=p, quantity=1) for p in ("A1", "A2", "A3", f"a{k}")),
        )
        for k in range(3)
    ]
    group_b = [
        ProductBom(
            name=f"b{k}",
            lines=tuple(PartUse(part=p, quantity=1) for p in ("B1", "B2", "B3", f"b{k}")),
        )
        for k in range(3)
    ]
    fleet = [group_a[0], group_b[0], group_a[1], group_b[1], group_a[2], group_b[2]]
    order = cluster_order(fleet_matrix(fleet))
    labels = "".join(fleet[i].name[0] for i in order)
    assert labels in ("aaabbb", "bbbaaa")
    assert sorted(order) == list(range(6))


def test_cluster_order_of_tiny_matrices_is_the_identity() -> None:
    """Zero, one or two products keep their order."""
    for size in range(3):
        fleet = [ProductBom(name=str(k), lines=()) for k in range(size)]
        assert cluster_order(fleet_matrix(fleet)) == list(range(size))


# ---- commonality.md §10 identities (two products, single level) ----


@given(st.sets(st.sampled_from(PARTS)), st.sets(st.sampled_from(PARTS)))
def test_two_product_identities(a_parts: set[str], b_parts: set[str]) -> None:
    """CI = overlap, %C = 100 Jaccard (both rules), TCCI = s/(a+b-1), DCI = (a+b)/(a+b-s), PCI = 100(7s/4)/(a+b-s/4)."""
    attributes = {"size": "std", "material": "steel", "assembly": "bolt"}

    def product(name: str, parts: set[str]) -> ProductBom:
        return ProductBom(
            name=name,
            lines=tuple(
                PartUse(part=p, quantity=1, attributes={"component": p, **attributes})
                for p in sorted(parts)
            ),
        )

    pa, pb = product("A", a_parts), product("B", b_parts)
    a, b, s = len(a_parts), len(b_parts), len(a_parts & b_parts)
    share = compare(pa, pb)
    for rule in RULES:
        result = family_indices([pa, pb], common=rule)
        assert result.ci == share.overlap
        assert_matches(
            result.percent_c, None if share.jaccard is None else 100 * Fraction(share.jaccard)
        )
        assert_matches(
            result.percent_c_other, None if share.jaccard is None else 100 * Fraction(share.jaccard)
        )
        assert_matches(result.tcci, oracle.frac_div(s, a + b - 1) if a + b else None)
        assert_matches(result.dci, oracle.frac_div(a + b, a + b - s))
        assert_matches(
            result.pci, oracle.frac_div(100 * Fraction(7 * s, 4), a + b - Fraction(s, 4))
        )


# ---- properties against the oracle ----


@given(products(name="A"), products(name="B"))
def test_compare_matches_the_oracle(a: ProductBom, b: ProductBom) -> None:
    """Every ratio equals the direct exact count, by_module included."""
    share = compare(a, b)
    expected = oracle.pair(a, b)
    for name in RATIO_FIELDS:
        assert_matches(getattr(share, name), expected[name])
    assert share.shared == len(oracle.part_set(a) & oracle.part_set(b))
    by_module = oracle.by_module(a, b)
    assert list(share.by_module) == list(by_module)
    for module, values in by_module.items():
        for name in PN_FIELDS:
            assert_matches(getattr(share.by_module[module], name), values[name])


@given(products(name="A"), products(name="B"))
def test_all_ratios_lie_in_the_unit_interval_or_are_none(a: ProductBom, b: ProductBom) -> None:
    """No ratio leaves [0, 1]."""
    assert all(value is None or 0.0 <= value <= 1.0 for value in ratios(compare(a, b)))


@given(products(name="A"), products(name="B"))
def test_symmetric_measures_are_symmetric_and_directional_ones_swap(
    a: ProductBom, b: ProductBom
) -> None:
    """compare(b, a) mirrors compare(a, b)."""
    ab, ba = compare(a, b), compare(b, a)
    for name in (
        "jaccard",
        "dice",
        "overlap",
        "ratio",
        "pieces_ruzicka",
        "cost_ruzicka",
        "mass_ruzicka",
    ):
        assert getattr(ab, name) == getattr(ba, name)
    assert (ab.share_of_a_in_b, ab.share_of_b_in_a) == (ba.share_of_b_in_a, ba.share_of_a_in_b)
    for basis in ("pieces", "cost", "mass"):
        assert getattr(ab, f"{basis}_share_of_a") == getattr(ba, f"{basis}_share_of_b")
    assert (ab.only_in_a, ab.only_in_b) == (ba.only_in_b, ba.only_in_a)


@given(products())
def test_identical_products_give_the_maximum(a: ProductBom) -> None:
    """A product against itself scores 1 on every basis (None only where there is nothing to count)."""
    share = compare(a, a)
    expected_pn = 1.0 if a.lines else None
    assert all(getattr(share, name) == expected_pn for name in PN_FIELDS)
    assert all(getattr(share, name) in (1.0, None) for name in WEIGHTED_FIELDS)


@given(products(name="A"), products(name="B"))
def test_disjoint_products_give_the_minimum(a: ProductBom, b: ProductBom) -> None:
    """With no part number in common, every ratio is 0 (or None for 0/0)."""
    b = attrs.evolve(
        b, lines=tuple(attrs.evolve(line, part=f"other-{line.part}") for line in b.lines)
    )
    assert all(value in (0.0, None) for value in ratios(compare(a, b)))
    assert compare(a, b).shared == 0


@given(products(name="A"), products(name="B"), st.randoms(use_true_random=False))
def test_line_order_does_not_matter(a: ProductBom, b: ProductBom, rng: random.Random) -> None:
    """Shuffling the lines gives exactly the same result (fsum makes float sums order-free)."""
    shuffled_a = attrs.evolve(a, lines=tuple(rng.sample(a.lines, len(a.lines))))
    shuffled_b = attrs.evolve(b, lines=tuple(rng.sample(b.lines, len(b.lines))))
    assert compare(shuffled_a, shuffled_b) == compare(a, b)


@given(fleets(), st.sampled_from(MEASURES))
def test_fleet_matrix_agrees_with_pairwise_compare(
    fleet: list[ProductBom], measure: Measure
) -> None:
    """Each matrix cell is exactly the value compare() gives for that pair."""
    matrix = fleet_matrix(fleet, measure)
    assert matrix.names == tuple(p.name for p in fleet)
    assert matrix.measure == measure
    for i, a in enumerate(fleet):
        for j, b in enumerate(fleet):
            assert matrix.values[i][j] == getattr(compare(a, b), measure)


@given(fleets(), st.permutations(range(5)), st.sampled_from(MEASURES))
def test_fleet_matrix_follows_a_reordering_of_products(
    fleet: list[ProductBom], order: list[int], measure: Measure
) -> None:
    """Permuting the products permutes rows and columns, and changes no value."""
    kept = [k for k in order if k < len(fleet)]
    original = fleet_matrix(fleet, measure).values
    permuted = fleet_matrix([fleet[k] for k in kept], measure).values
    assert permuted == tuple(tuple(original[i][j] for j in kept) for i in kept)


@given(fleets())
def test_matrix_diagonal_is_one(fleet: list[ProductBom]) -> None:
    """A product shares all of its part numbers with itself; an empty one is None."""
    matrix = fleet_matrix(fleet)
    assert [matrix.values[k][k] for k in range(len(fleet))] == [
        1.0 if p.lines else None for p in fleet
    ]


@given(fleets(), st.sampled_from(RULES))
def test_family_indices_match_the_oracle(fleet: list[ProductBom], rule: CommonRule) -> None:
    """DCI, TCCI, CI, both %C values and PCI equal the textbook formulas counted directly."""
    result = family_indices(fleet, common=rule)
    other = "at-least-two" if rule == "all" else "all"
    expected = oracle.family(fleet, rule)
    for name in ("dci", "tcci", "ci", "percent_c"):
        assert_matches(getattr(result, name), expected[name])
    assert_matches(result.percent_c_other, oracle.family(fleet, other)["percent_c"])
    assert_matches(result.pci, oracle.pci(fleet))
    assert result.common == rule


@given(fleets())
def test_family_indices_stay_in_range(fleet: list[ProductBom]) -> None:
    """TCCI, CI in [0, 1]; %C, PCI in [0, 100]; 1 <= DCI <= N (commonality.md §12)."""
    result = family_indices(fleet)
    for value, high in (
        (result.tcci, 1.0),
        (result.ci, 1.0),
        (result.percent_c, 100.0),
        (result.percent_c_other, 100.0),
        (result.pci, 100.0),
    ):
        assert value is None or 0.0 <= value <= high
    assert result.dci is None or 1.0 <= result.dci <= len(fleet)


@given(fleets(), st.permutations(range(5)), st.randoms(use_true_random=False))
def test_family_indices_ignore_product_and_line_order(
    fleet: list[ProductBom], order: list[int], rng: random.Random
) -> None:
    """Reordering products and their lines gives exactly the same indices."""
    permuted = [fleet[k] for k in order if k < len(fleet)]
    permuted = [attrs.evolve(p, lines=tuple(rng.sample(p.lines, len(p.lines)))) for p in permuted]
    assert family_indices(permuted) == family_indices(fleet)


@given(products(), st.integers(2, 4))
def test_identical_family_has_full_commonality(product: ProductBom, copies: int) -> None:
    """N copies of one non-empty product: CI = 1, %C = 100; PCI = 100 when defined."""
    fleet = [attrs.evolve(product, name=f"V{k}") for k in range(copies)]
    result = family_indices(fleet)
    if product.lines:
        assert (result.ci, result.percent_c, result.percent_c_other) == (1.0, 100.0, 100.0)
    assert result.pci in (100.0, None)


@given(st.lists(st.integers(1, 4), min_size=2, max_size=4))
def test_disjoint_family_has_no_commonality(sizes: list[int]) -> None:
    """Products with nothing in common: TCCI = CI = %C = 0 and DCI = 1."""
    fleet = [
        ProductBom(
            name=f"V{k}", lines=tuple(PartUse(part=f"V{k}-{i}", quantity=1) for i in range(size))
        )
        for k, size in enumerate(sizes)
    ]
    result = family_indices(fleet)
    assert (result.tcci, result.ci, result.percent_c, result.percent_c_other, result.dci) == (
        0.0,
        0.0,
        0.0,
        0.0,
        1.0,
    )


@given(fleets(max_size=6), st.sampled_from(MEASURES))
def test_cluster_order_is_a_deterministic_permutation(
    fleet: list[ProductBom], measure: Measure
) -> None:
    """The order lists each product once and is the same on every call."""
    matrix = fleet_matrix(fleet, measure)
    order = cluster_order(matrix)
    assert sorted(order) == list(range(len(fleet)))
    assert cluster_order(matrix) == order
