"""Deep copies and canonical encodings of the machine state.

The state classes are walked once, by their attrs fields and annotations,
to generate one copier and one encoder per class (as attrs and
dataclasses generate __init__): the search clones and encodes hundreds of
thousands of states, and a generic walker was ten times slower.  The
encoding sorts dict items, so two runs that reach the same state give the
same value, and its repr is stable across processes.
"""

from __future__ import annotations

import hashlib
import typing

import attrs

from . import state as S
from .vm_page_queues import PageQueue

# Constant for a whole run (or observer data): shared by clones, left out of encodings.
SHARED = frozenset({"th", "cfg", "log", "hazlog", "lowwater", "mitigations", "step_cap"})
STATE_CLASSES = (*S.FRAME_CLASSES, S.Thread, S.VmObject, S.Slab, S.KmallocType, S.Zone, S.IoReq, S.ReadReq, S.Kernel)


def field_code(name: str, annotation, queue_code: str = "v.encode()") -> tuple[str | None, str]:
    """(encoder expression, copier statement) for one field of ``x`` into ``n``; ``queue_code`` encodes a PageQueue ``v``."""
    if name in SHARED:
        return None, f"n.{name} = x.{name}"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and args and args[0] is S.Frame:  # a stack of frames of many classes
        return (
            f"tuple([ENCF[f.__class__](f) for f in x.{name}])",
            f"n.{name} = [COPYF[f.__class__](f) for f in x.{name}]",
        )
    if origin is dict and len(args) == 2 and args[1] is PageQueue:
        return (
            f"tuple(sorted([(key, {queue_code}) for key, v in x.{name}.items()]))",
            f"n.{name} = {{key: v.copy() for key, v in x.{name}.items()}}",
        )
    if origin is list and args and attrs.has(args[0]):
        sub = args[0].__name__
        return f"tuple(map(ENC['{sub}'], x.{name}))", f"n.{name} = list(map(COPY['{sub}'], x.{name}))"
    if origin is dict and len(args) == 2 and attrs.has(args[1]):
        sub = args[1].__name__
        return (
            f"tuple(sorted([(key, ENC['{sub}'](v)) for key, v in x.{name}.items()]))",
            f"n.{name} = {{key: COPY['{sub}'](v) for key, v in x.{name}.items()}}",
        )
    if annotation is dict or origin is dict:
        return f"tuple(sorted(x.{name}.items()))", f"n.{name} = x.{name}.copy()"
    if origin is list or annotation in (list, S.deque):
        return f"tuple(x.{name})", f"n.{name} = x.{name}.copy()"
    return f"x.{name}", f"n.{name} = x.{name}"


def generate(cls: type, namespace: dict) -> None:
    hints = typing.get_type_hints(cls, {**vars(S), "PageQueue": PageQueue})
    encs, fps, copies = [], [], []
    for a in attrs.fields(cls):
        enc, copy = field_code(a.name, hints[a.name])
        if enc is not None:
            encs.append(enc)
            fps.append(field_code(a.name, hints[a.name], queue_code="v.encode() if v.fp is None else v.fp")[0] or enc)
        copies.append(copy)
    name = cls.__name__
    if issubclass(cls, S.Frame):
        encs.insert(0, repr(cls.fn))
        fps.insert(0, repr(cls.fn))
    source = (
        f"def encode_{name}(x):\n    return ({', '.join(encs)},)\n"
        f"def fingerprint_{name}(x):\n    return ({', '.join(fps)},)\n"
        f"def copy_{name}(x, new=object.__new__, cls=CLASSES['{name}']):\n"
        f"    n = new(cls)\n    " + "\n    ".join(copies) + "\n    return n\n"
    )
    exec(compile(source, f"<ztui.core.copying {name}>", "exec"), namespace)  # generated from attrs fields only
    namespace["ENC"][name] = namespace[f"encode_{name}"]
    namespace["FP"][name] = namespace[f"fingerprint_{name}"]
    namespace["COPY"][name] = namespace[f"copy_{name}"]
    namespace["ENCF"][cls] = namespace[f"encode_{name}"]
    namespace["COPYF"][cls] = namespace[f"copy_{name}"]


def _build() -> tuple[dict, dict, dict]:
    namespace = {
        "ENC": {}, "FP": {}, "COPY": {}, "ENCF": {}, "COPYF": {}, "CLASSES": {c.__name__: c for c in STATE_CLASSES}
    }
    for cls in STATE_CLASSES:
        generate(cls, namespace)
    return namespace["ENC"], namespace["FP"], namespace["COPY"]


ENCODERS, FINGERPRINTS, COPIERS = _build()


def clone_kernel(k: S.Kernel) -> S.Kernel:
    new = COPIERS["Kernel"](k)
    new.log = None if k.log is None else []
    new.hazlog = None if k.hazlog is None else []
    new.lowwater = None if k.lowwater is None else list(k.lowwater)
    return new


def encode(k: S.Kernel) -> tuple:
    """A nested tuple that equal states share, whatever their construction order."""
    return ENCODERS["Kernel"](k)


def fingerprint(k: S.Kernel) -> tuple:
    """encode() with each page queue that keeps one as its run-hash sum (PageQueue.fp): for the
    search's 64-bit fingerprints, O(1) in the queues' length; equal states give equal values."""
    return FINGERPRINTS["Kernel"](k)


def state_digest(k: S.Kernel) -> str:
    return hashlib.blake2b(repr(encode(k)).encode(), digest_size=16).hexdigest()
