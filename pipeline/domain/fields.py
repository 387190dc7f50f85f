"""How a typed value meets its JSON object: one place for the key names and the rules.

A dataclass field declared with `key("camelCase", fits)` is read from that key when the
value fits; a value that does not fit, an explicit null, and every key the class does not
name go to `extra` untouched and are written back as they came (the contract keeps unknown
fields). Known fields win over `extra` on the way out, so a value set by the runner
replaces whatever odd value the file held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import Field, field, fields
from functools import cache
from typing import Any, NamedTuple, TypeVar

Fits = Callable[[Any], bool]
T = TypeVar("T")


class Spec(NamedTuple):
    attr: str
    key: str
    fits: Fits
    seq: bool     # a JSON list held as a tuple
    absent: Any   # the value that stands for "not in the file": never written


def key(name: str, fits: Fits, default: Any = None, *, seq: bool = False,  # noqa: ANN401
        absent: Any = None) -> Any:  # noqa: ANN401
    """A field read from and written to the JSON key `name`; `absent` (None unless given)
    is the field's value when the file does not hold one, and is not written back."""
    return field(default=default, metadata={"key": name, "fits": fits, "seq": seq,
                                            "absent": absent})


@cache
def specs(cls: type) -> dict[str, Spec]:
    """The class's keyed fields, by JSON key."""
    found: tuple[Field[Any], ...] = fields(cls)
    return {f.metadata["key"]: Spec(f.name, f.metadata["key"], f.metadata["fits"],
                                    f.metadata["seq"], f.metadata["absent"])
            for f in found if "key" in f.metadata}


def split(cls: type, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the class's typed values by attribute name, everything else by key)."""
    known = specs(cls)
    values: dict[str, Any] = {}
    rest: dict[str, Any] = {}
    for name, value in raw.items():
        spec = known.get(name)
        if spec is None or value is None or not spec.fits(value):
            rest[name] = value
        else:
            values[spec.attr] = tuple(value) if spec.seq else value
    return values, rest


def make(cls: type[T], **values: Any) -> T:  # noqa: ANN401
    """A value of `cls`, a frozen dataclass without slots, with only `values` set: every
    other field reads the class's default. Its `__init__` would set all of them one by one
    (~40 for a Task: 5 us), which a CLI reading 10,000 queued tasks or a page walking the
    history pays for every object read."""
    value = object.__new__(cls)
    value.__dict__.update(values)  # a frozen value's own attributes, set once, as __init__ would
    return value


def build(cls: type[T], raw: Mapping[str, Any]) -> T:
    """A value of `cls` (see `make`; its fields not keyed here are `extra`) from its JSON
    object."""
    values, extra = split(cls, raw)
    return make(cls, **values, extra=extra)


def dump(value: object) -> dict[str, Any]:
    """The keyed fields that are set (not None), as JSON keys and values."""
    out: dict[str, Any] = {}
    for spec in specs(type(value)).values():
        item = getattr(value, spec.attr)
        if item is not None and item != spec.absent:
            out[spec.key] = list(item) if spec.seq else item
    return out


def dump_with(value: object, extra: Mapping[str, Any]) -> dict[str, Any]:
    """`dump(value)`, then the keys of `extra` it does not set (known fields win)."""
    out = dump(value)
    out.update((name, item) for name, item in extra.items() if name not in out)
    return out


def parsed(parse: Callable[[Any], T], items: Iterable[Any]) -> Iterator[T]:
    """What `parse` reads from `items`, one at a time (a reader that stops early converts
    no more); an item it refuses (ValueError) is skipped."""
    for item in items:
        try:
            yield parse(item)
        except ValueError:
            continue


# ----- what fits -----------------------------------------------------------------------
def is_str(value: object) -> bool:
    return isinstance(value, str)


def is_text(value: object) -> bool:
    """A non-empty string."""
    return isinstance(value, str) and bool(value)


def is_bool(value: object) -> bool:
    return isinstance(value, bool)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_count(value: object) -> bool:
    return is_int(value) and value >= 0  # type: ignore[operator]


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_mapping(value: object) -> bool:
    return isinstance(value, dict)


def one_of(*allowed: str) -> Fits:
    return lambda value: value in allowed
