"""One `__repr__` for every attrs class of the package, written as attrs writes it.

attrs writes the source of a `__repr__` for each class and compiles it when the class is
made, at import: for the 64 classes a full short command imports that is about 6 ms of every
start, for a method only a traceback, a debugger or a failing test ever calls. So the classes
are made with `repr=False` and `@shared_repr` gives them this one function, whose text is the
one attrs would have written: `Name(field=value, ...)` with each field's `repr` (a field with
`repr=False` left out, one with a callable shown through it), `...` for an object met again
inside its own repr. tests/test_reprs.py holds every class to attrs' own output.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

T = TypeVar("T")

_FIELDS: dict[type, tuple[tuple[str, Callable[[Any], str]], ...]] = {}
"""Per class: the fields its repr shows, each with how it is shown."""


def shared_repr(cls: type[T]) -> type[T]:
    """Give an attrs class made with `repr=False` the repr attrs would have written (a class
    that writes its own `__repr__` keeps it)."""
    if "__repr__" not in vars(cls):
        cls.__repr__ = _attrs_repr  # type: ignore[method-assign]
    return cls


def _shown(cls: type) -> tuple[tuple[str, Callable[[Any], str]], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(
            (field.name, repr if field.repr is True else field.repr)
            for field in attrs.fields(cls)
            if field.repr is not False
        )
    return found


@reprlib.recursive_repr("...")
def _attrs_repr(self: object) -> str:
    cls = self.__class__
    shown = ", ".join(
        f"{name}={how(getattr(self, name, attrs.NOTHING))}" for name, how in _shown(cls)
    )
    return f"{cls.__qualname__.rsplit('>.', 1)[-1]}({shown})"
