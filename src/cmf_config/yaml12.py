"""YAML 1.2 core-schema scalars: the meaning editors and JSON Schema tools give a file.

PyYAML resolves plain scalars by YAML 1.1 rules, under which `02710` is octal 1480, `no` is
false, `1:20` is the sexagesimal 80 and `0b101` is 5, while yaml-language-server and every
YAML 1.2 tool read the string, the decimal 2710 or the text "1:20". cmf-config reads its files
with PyYAML's parser but resolves scalars here, by the core schema of YAML 1.2.2 (section
10.3.2), so that the command line, the JSON Schema and the editor agree on every value.
"""

from __future__ import annotations

import math
import re

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"

_NULL = re.compile(r"^(?:null|Null|NULL|~|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?(?:\.inf|\.Inf|\.INF)$")
_NAN = re.compile(r"^(?:\.nan|\.NaN|\.NAN)$")

Scalar = str | int | float | bool | None


_NULL_START = frozenset("nN~")
_BOOL_START = frozenset("tTfF")
_NUMBER_START = frozenset("0123456789+-.")
"""The first characters of the forms above: null is "" or starts with n, N or ~; a boolean
with t, T, f or F; an integer or a float (.inf and .nan too) with a digit, a sign or a dot.
So the first character picks the patterns to try, and most names try none."""

MAYBE_TYPED = _NULL_START | _BOOL_START | _NUMBER_START | {""}
"""`text[:1]` of the plain scalars that may be something other than a string (the empty text
is null); after any other first character a plain scalar is a string, no pattern tried."""


def resolve(text: str) -> str:
    """The core-schema tag of a plain (unquoted, untagged) scalar."""
    first = text[:1]
    if first not in _NUMBER_START:
        if first in _NULL_START or not first:
            return NULL if _NULL.match(text) else STR
        if first in _BOOL_START:
            return BOOL if _BOOL.match(text) else STR
        return STR
    if _INT10.match(text) or _INT8.match(text) or _INT16.match(text):
        return INT
    if _FLOAT.match(text) or _INF.match(text) or _NAN.match(text):
        return FLOAT
    return STR


def construct(tag: str, text: str) -> Scalar:
    """The value of a scalar with a core-schema tag; ValueError when the text does not fit it."""
    if tag == NULL:
        if not _NULL.match(text):
            raise ValueError(f"'{text}' is not null")
        return None
    if tag == BOOL:
        if not _BOOL.match(text):
            raise ValueError(f"'{text}' is not a boolean")
        return text.lower() == "true"
    if tag == INT:
        if _INT8.match(text):
            return int(text[2:], 8)
        if _INT16.match(text):
            return int(text[2:], 16)
        if _INT10.match(text):
            return int(text, 10)
        raise ValueError(f"'{text}' is not an integer")
    if tag == FLOAT:
        if _INF.match(text):
            return -math.inf if text.startswith("-") else math.inf
        if _NAN.match(text):
            return math.nan
        if _FLOAT.match(text) or _INT10.match(text):
            return float(text)
        raise ValueError(f"'{text}' is not a number")
    return text


def plain_value(text: str) -> Scalar:
    """The value of a plain scalar."""
    return construct(resolve(text), text)
