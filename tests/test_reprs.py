"""Every attrs class of the package shows the repr attrs itself would write (reprs.py).

The classes are made with `repr=False` and share one `__repr__` (attrs compiles one per class
at import, some 6 ms of every start). The oracle is attrs: a twin class made by
`attrs.make_class` with the same fields and attrs' own repr, whose generated `__repr__` is
called on real objects of the package -- a loaded catalog, a workspace's problem, rules and
positions, diagnostics, the answers of the API.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from pathlib import Path
from typing import Any

import attrs
import pytest

import cmf_config
from cmf_config import api, reprs
from cmf_config.errors import InputError, Span

ROOT = Path(__file__).parents[1]


def _package_classes() -> list[type]:
    """Every attrs class defined in a module of the package."""
    found: dict[str, type] = {}
    for module in pkgutil.walk_packages(cmf_config.__path__, "cmf_config."):
        if module.name.endswith("__main__"):
            continue
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module.name:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


CLASSES = _package_classes()


def test_the_package_has_many_attrs_classes() -> None:
    assert len(CLASSES) > 100


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_attrs_class_shares_the_repr(cls: type) -> None:
    """None compiles a repr of its own (made with repr=False, given the shared one)."""
    shown: object = cls.__repr__
    assert shown is reprs._attrs_repr or "__repr__" in vars(cls)


def _attrs_repr_of(obj: Any) -> str:
    """The repr attrs writes for `obj`'s class, called on `obj`."""
    cls: Any = type(obj)
    twin = attrs.make_class(
        cls.__name__,
        {
            field.name: attrs.field(repr=field.repr, init=field.init, kw_only=True)
            for field in attrs.fields(cls)
        },
        repr=True,
    )
    write: Any = twin.__repr__
    text: str = write(obj)
    return text


def _objects(root: object, limit: int = 4000) -> list[object]:
    """The attrs objects reachable from `root`, at most `limit` (at most 40 of a class)."""
    seen: set[int] = set()
    per_class: dict[type, int] = {}
    out: list[object] = []
    stack: list[Any] = [root]
    while stack and len(out) < limit:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if attrs.has(type(item)):
            if per_class.get(type(item), 0) < 40:
                per_class[type(item)] = per_class.get(type(item), 0) + 1
                out.append(item)
            stack.extend(getattr(item, field.name, None) for field in attrs.fields(type(item)))
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, dict | types.MappingProxyType):
            stack.extend(item.values())
    return out


def test_real_objects_show_what_attrs_would_show() -> None:
    """Catalog, problem, rules, positions, diagnostics and API answers: each repr is the one
    attrs writes, character for character."""
    workspace = api.open_workspace(
        ROOT / "catalog", ROOT / "rules", [ROOT / "examples" / "partial-suv.yaml"]
    )
    vehicle = workspace.loaded[0]
    with pytest.raises(InputError) as broken:
        api.open_workspace(
            ROOT / "catalog", ROOT / "rules", [ROOT / "examples" / "invalid" / "typos.yaml"]
        )
    roots: list[object] = [
        workspace.catalog,
        workspace.problem,
        workspace.rules,
        workspace.positions,
        vehicle,
        list(broken.value.diagnostics),
        api.options(workspace, vehicle.config),
        api.explain(workspace, vehicle.config),
    ]
    objects = [obj for root in roots for obj in _objects(root)]
    classes = {type(obj) for obj in objects}
    assert len(classes) >= 25, sorted(c.__name__ for c in classes)
    for obj in objects:
        assert repr(obj) == _attrs_repr_of(obj)


def test_fields_left_out_or_shown_through_a_callable_and_recursion() -> None:
    """A field with repr=False is left out, one with a callable is shown through it, and an
    object met again inside its own repr is '...': the same text as a class made with
    attrs' own repr, on the same structure."""

    def make(shared: bool) -> Any:
        @attrs.define(repr=not shared)
        class Node:
            name: str
            secret: str = attrs.field(default="x", repr=False)
            size: int = attrs.field(default=3, repr=lambda v: f"<{v}>")
            children: list[Any] = attrs.field(factory=list)

        cls = reprs.shared_repr(Node) if shared else Node
        node = cls("a")
        node.children += [node, cls("b", children=[node])]
        return node

    ours, theirs = make(True), make(False)
    shown: list[object] = [type(ours).__repr__, type(theirs).__repr__]
    assert shown[0] is reprs._attrs_repr
    assert shown[1] is not reprs._attrs_repr
    assert repr(ours) == repr(theirs)
    assert (
        repr(ours)
        == "Node(name='a', size=<3>, children=[..., Node(name='b', size=<3>, children=[...])])"
    )
    assert repr(Span("f.yaml", 2, 3)) == "Span(path='f.yaml', line=2, col=3, end_col=None)"


def test_a_class_that_writes_its_own_repr_keeps_it() -> None:
    @reprs.shared_repr
    @attrs.frozen(repr=False)
    class Own:
        value: int

        def __repr__(self) -> str:
            return "own"

    assert repr(Own(1)) == "own"
