"""Deep copies and canonical encodings of the machine state.

Both walk attrs classes by their fields (cached per class).  The encoding
is order-independent for dicts and stable across processes, so two runs
that reach the same state give the same hash.
"""

from __future__ import annotations

import hashlib
from collections import deque

import attrs

from .state import Kernel

_FIELDS: dict[type, tuple[str, ...]] = {}
# Constant for a whole run (or observer data): shared by clones, left out of hashes.
SHARED = frozenset({"th", "cfg", "log", "mitigations", "step_cap"})


def field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(a.name for a in attrs.fields(cls))
    return names


def deep_copy(x):
    if type(x) in (int, str, bool, float, tuple, frozenset) or x is None:
        return x
    if isinstance(x, list):
        return [deep_copy(v) for v in x]
    if isinstance(x, dict):
        return {key: deep_copy(v) for key, v in x.items()}
    if isinstance(x, deque):
        return deque(x)  # queues hold immutable tuples
    cls = type(x)
    new = object.__new__(cls)
    for name in field_names(cls):
        v = getattr(x, name)
        object.__setattr__(new, name, v if name in SHARED else deep_copy(v))
    return new


def clone_kernel(k: Kernel) -> Kernel:
    new = deep_copy(k)
    new.log = None if k.log is None else []
    return new


def encode(x):
    """A nested tuple that equal states share, whatever their construction order."""
    if type(x) in (int, str, bool, float, tuple) or x is None:
        return x
    if isinstance(x, (list, deque)):
        return tuple(encode(v) for v in x)
    if isinstance(x, dict):
        return tuple(sorted((key, encode(v)) for key, v in x.items()))
    return tuple(encode(getattr(x, n)) for n in field_names(type(x)) if n not in SHARED)


def state_digest(k: Kernel) -> str:
    return hashlib.blake2b(repr(encode(k)).encode(), digest_size=16).hexdigest()
