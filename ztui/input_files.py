"""Every file ztui reads comes through here: regular files only, bounded, parsed safely.

A scenario, a trace, a keymap or a theme may be hostile: a FIFO or a
device (an open that blocks, a read that never ends), a huge file, a gzip
bomb, or TOML/JSON nested deeply enough to exhaust the parser's recursion.
read_bytes() refuses anything but a regular file without blocking on it,
reads at most the kind's limit and stops decompressing there; parse_toml()
and parse_json() turn a RecursionError into a problem and refuse data
nested deeper than MAX_NESTING.  Every refusal is an InputError whose
message is one line, without the file name (the caller adds it).

The limits, per kind of file (README, "Limits"):

=========  =========================================================
scenario   1 MiB
trace      8 MiB, uncompressed (gzip is decompressed up to that)
keymap     64 KiB
theme      64 KiB
=========  =========================================================
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
import zlib
from collections.abc import Iterable
from pathlib import Path

import attrs

from ztui.scenario.units import format_size

KiB, MiB = 1024, 1024 * 1024
# The deepest real file is a trace: document > scenario > process > [i] >
# phases > [j] > phase.  Anything much deeper is not a ztui file.
MAX_NESTING = 16
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * KiB


class InputError(Exception):
    """A file that cannot be used as it is; the message is one line, without the file name."""


@attrs.frozen
class FileKind:
    noun: str  # "scenario": used in messages
    syntax: str  # "TOML": what its text is
    max_bytes: int  # after decompression
    gzip: bool = False  # may be gzip-compressed (detected by its magic bytes)


SCENARIO = FileKind("scenario", "TOML", 1 * MiB)
# A trace takes about 120 KiB per million steps (2 GiB machine, random scheduler):
# 6 MiB at the default limit of 50 M steps.  Parsing JSON takes some 32 times its size.
TRACE = FileKind("trace", "JSON", 8 * MiB, gzip=True)
KEYMAP = FileKind("keymap", "TOML", 64 * KiB)
THEME = FileKind("theme", "TOML", 64 * KiB)


def read_bytes(path: str | Path, kind: FileKind) -> bytes:
    """The content of ``path`` (decompressed, for a kind that may be gzip), at most kind.max_bytes."""
    data = _read_regular_file(os.fspath(path), kind)
    if kind.gzip and data.startswith(GZIP_MAGIC):
        return _gunzip(data, kind)
    return data


def read_text(path: str | Path, kind: FileKind) -> str:
    """read_bytes() as UTF-8 text (a BOM is dropped); refuses binary data."""
    data = read_bytes(path, kind)
    if b"\0" in data:
        raise InputError(f"binary data (a NUL byte); a {kind.noun} is a {kind.syntax} text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); a {kind.noun} is a {kind.syntax} text file"
        ) from None


def parse_toml(text: str) -> dict:
    """tomllib.loads(), with syntax errors, too-deep nesting and recursion as InputError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"TOML syntax error: {exc}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise InputError(_too_deep()) from None
    check_nesting(data)
    return data


def parse_json(text: str) -> object:
    """json.loads(), with too-deep nesting and recursion as InputError (syntax errors propagate)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(_too_deep()) from None
    check_nesting(data)
    return data


def check_nesting(data: object, limit: int = MAX_NESTING) -> None:
    """Refuse arrays and tables nested more than ``limit`` deep; iterative, so it cannot recurse."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        children: Iterable
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            raise InputError(_too_deep(limit))
        stack.extend((child, depth + 1) for child in children)


def _too_deep(limit: int = MAX_NESTING) -> str:
    return f"arrays or tables nested more than {limit} deep; no ztui file needs that"


def _read_regular_file(path: str, kind: FileKind) -> bytes:
    try:
        _require_regular(os.stat(path), kind)  # refuse a FIFO or a device before opening it
        # O_NONBLOCK: should the file be swapped for a FIFO after the stat, the open still returns.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError("no such file") from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        _require_regular(info, kind)
        if info.st_size > kind.max_bytes:
            raise InputError(_too_big(format_size(info.st_size), kind))
        return _read_at_most(fd, kind)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def _require_regular(info: os.stat_result, kind: FileKind) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"is a directory, not a {kind.noun} file")
    what = next((name for test, name in _SPECIAL_FILES if test(info.st_mode)), "a special file")
    raise InputError(f"{what}, not a regular file; a {kind.noun} is read from a regular file only")


def _read_at_most(fd: int, kind: FileKind) -> bytes:
    parts, size = [], 0
    while chunk := os.read(fd, min(_CHUNK, kind.max_bytes + 1 - size)):
        parts.append(chunk)
        size += len(chunk)
        if size > kind.max_bytes:  # it grew after the fstat
            raise InputError(_too_big(f"more than {format_size(kind.max_bytes)}", kind))
    return b"".join(parts)


def _gunzip(data: bytes, kind: FileKind) -> bytes:
    """Decompress every gzip member, never holding more than kind.max_bytes + 1 bytes of output."""
    limit = kind.max_bytes
    out = bytearray()
    rest = data
    try:
        while rest.strip(b"\0"):  # gzip allows members back to back, and zero padding after them
            if not rest.startswith(GZIP_MAGIC):
                raise InputError("corrupt gzip data (something other than gzip follows it)")
            member = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            pending = rest
            while not member.eof:
                before = len(out)
                out += member.decompress(pending, limit + 1 - len(out))
                if len(out) > limit:
                    raise InputError(_too_big(f"more than {format_size(limit)} uncompressed", kind))
                pending = member.unconsumed_tail
                if not pending and len(out) == before:
                    raise InputError("truncated gzip data")
            rest = member.unused_data
    except zlib.error:
        raise InputError("corrupt gzip data") from None
    return bytes(out)


def _too_big(found: str, kind: FileKind) -> str:
    uncompressed = " uncompressed" if kind.gzip else ""
    return f"{found}; a {kind.noun} is at most {format_size(kind.max_bytes)}{uncompressed}"


# Problems shown per file; a file with thousands (a generated keymap, a fuzzer's scenario) is summed up.
PROBLEMS_SHOWN = 20


def capped_problems(problems: list[str], limit: int = PROBLEMS_SHOWN) -> list[str]:
    """The first ``limit`` problems, then one line saying how many more there are."""
    if len(problems) <= limit:
        return problems
    return [*problems[:limit], f"... and {len(problems) - limit} more"]
