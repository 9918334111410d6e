"""The trace file: what it holds, writing it and reading it back (trusting nothing in it).

The simulator is deterministic given its scenario, its seed and the
scheduling decisions, so a trace stores those and, to prove that a replay
really went the same way, the state hash every ``hash_every`` decisions.

Format ``ztui-trace`` version 1: one JSON object (UTF-8), gzip-compressed
when the file name ends in ``.gz`` (reading detects gzip by its magic
bytes, whatever the name)::

    {
      "format": "ztui-trace",
      "version": 1,
      "ztui": "0.1.0",                  # the version that wrote it (information only)
      "scenario": {...},                # the Scenario that ran, every field (cattrs; base units)
      "scenario_sha256": "...",         # of the canonical JSON of "scenario"
      "source": {"path": "...", "sha256": "..."} or null,   # the scenario file, if any (information only)
      "seed": 0,
      "hash_every": 4096,
      "decisions": 2360,                # how many step() calls the run made
      "schedule": [[3, 27], [-1, 1], [0, 2], ...],
      "hashes": ["5f0c...", ...],       # state_hash() after decision K, 2K, 3K, ...
      "end": {"step": 2360, "tick": 1200, "hash": "...", "verdict": "livelock"},
      "stepping": "exact",              # optional; absent means "batched" (ztui.trace.record)
      "breakpoints": ["free+cache < 100"],  # optional: the TUI's, restored by `ztui launch --trace`
      "past_verdict": true              # optional: the run stepped on past a livelock (ztui.trace.replay)
    }

``schedule`` is run-length encoded ``[decision, count]`` pairs.  A decision
is the tid of the thread that ran, or -1 (CLOCK) for a clock advance.
``end.verdict`` is null when the run stopped before a verdict.

A trace is read as hostile input: through ztui.input_files (a regular
file, at most 8 MiB uncompressed, nesting bounded), and its checksum
proves nothing (anyone can recompute it), so the embedded scenario is
judged by exactly the rules a scenario file is (``ztui check``'s, same
messages).  ``source.path`` is kept only to be shown: ztui never opens a
file a trace names.

Reading a damaged, truncated, invalid or other-version file raises
TraceError, whose message is one line naming the file and the problem.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import cattrs

from ztui import __version__
from ztui.input_files import TRACE, InputError, parse_json, read_text
from ztui.output_files import OutputError, write_atomically
from ztui.scenario.errors import ScenarioError
from ztui.scenario.load import scenario_from_data
from ztui.scenario.model import Scenario
from ztui.scenario.units import format_size

FORMAT = "ztui-trace"
VERSION = 1
CLOCK = -1
MAX_BREAKPOINTS, MAX_BREAKPOINT_CHARS = 100, 200

_converter = cattrs.Converter()


class TraceError(Exception):
    """A trace file cannot be used; the message is one line."""


@attrs.frozen
class Trace:
    scenario: Scenario
    seed: int
    hash_every: int
    schedule: tuple[tuple[int, int], ...]  # run-length encoded (decision, count)
    hashes: tuple[str, ...]  # state_hash() after decisions hash_every, 2*hash_every, ...
    end_step: int
    end_tick: int
    end_hash: str
    verdict: str | None
    # The scenario file it was recorded from, as the recorder named it: to be
    # shown (through ztui.textsafe), never opened.
    source_name: str | None = None
    source_sha256: str | None = None
    exact: bool = False  # every decision is one kernel step
    breakpoints: tuple[str, ...] = ()  # the TUI's breakpoints, as text (ztui.tui.breakpoints)
    past_verdict: bool = False  # the run went on past a livelock

    @property
    def decision_count(self) -> int:
        return sum(count for _, count in self.schedule)

    def decisions(self) -> Iterator[int]:
        for decision, count in self.schedule:
            for _ in range(count):
                yield decision


# --- writing -------------------------------------------------------------------


def write_trace(trace: Trace, path: str | Path, *, force: bool = False) -> None:
    """Write ``trace`` to ``path`` (gzip-compressed if the name ends in .gz), atomically.

    An existing file is replaced only with ``force`` (ztui.output_files);
    TraceError if the trace is larger than ztui reads or the file cannot be written.
    """
    path = Path(path)
    data = (json.dumps(_to_document(trace), separators=(",", ":")) + "\n").encode()
    if len(data) > TRACE.max_bytes:
        raise TraceError(
            f"{path}: the trace would be {format_size(len(data))}; ztui reads traces of at most"
            f" {format_size(TRACE.max_bytes)} (record fewer steps, e.g. --max-steps)"
        )
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    try:
        write_atomically(path, data, force=force)
    except OutputError as exc:
        raise TraceError(str(exc)) from None


def _to_document(trace: Trace) -> dict:
    scenario = _converter.unstructure(trace.scenario)
    source = None
    if trace.source_name is not None:
        source = {"path": trace.source_name, "sha256": trace.source_sha256}
    return {
        "format": FORMAT,
        "version": VERSION,
        "ztui": __version__,
        "scenario": scenario,
        "scenario_sha256": _digest(scenario),
        "source": source,
        "seed": trace.seed,
        "hash_every": trace.hash_every,
        "decisions": trace.decision_count,
        "schedule": [list(run) for run in trace.schedule],
        "hashes": list(trace.hashes),
        "end": {
            "step": trace.end_step,
            "tick": trace.end_tick,
            "hash": trace.end_hash,
            "verdict": trace.verdict,
        },
        **({"stepping": "exact"} if trace.exact else {}),
        **({"breakpoints": list(trace.breakpoints)} if trace.breakpoints else {}),
        **({"past_verdict": True} if trace.past_verdict else {}),
    }


def _digest(scenario_data: dict) -> str:
    canonical = json.dumps(scenario_data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- reading -------------------------------------------------------------------


def read_trace(path: str | Path) -> Trace:
    """Read and validate a trace file; TraceError (one line) if it cannot be used."""
    path = Path(path)
    try:
        return _from_document(_load_json(path))
    except TraceError as exc:
        raise TraceError(f"{path}: {exc}") from None


def _load_json(path: Path) -> object:
    try:
        text = read_text(path, TRACE)
    except InputError as exc:
        raise TraceError(str(exc)) from None
    if not text.lstrip().startswith("{"):
        raise TraceError("not a ztui trace (not a JSON object)")
    try:
        return parse_json(text)
    except InputError as exc:
        raise TraceError(str(exc)) from None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise TraceError("truncated: the JSON ends early") from None
        raise TraceError(
            f"corrupt: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError:  # an integer of thousands of digits (int_max_str_digits)
        raise TraceError("corrupt: a number too long to be a ztui value") from None


def _from_document(doc: object) -> Trace:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise TraceError(f'not a ztui trace (no "format": "{FORMAT}")')
    version = doc.get("version")
    if version != VERSION:
        found = repr(version) if isinstance(version, int) else f"a {type(version).__name__}"
        raise TraceError(f"trace format version {found}; this ztui {__version__} reads version {VERSION}")
    scenario_data = _field(doc, "scenario", dict)
    if _digest(scenario_data) != _field(doc, "scenario_sha256", str):
        raise TraceError("the embedded scenario does not match its checksum (edited or corrupt)")
    scenario = _scenario(scenario_data, doc)
    hash_every = _field(doc, "hash_every", int)
    if hash_every < 1:
        raise TraceError('"hash_every" must be at least 1')
    schedule = _schedule(_field(doc, "schedule", list))
    decisions = _field(doc, "decisions", int)
    count = sum(n for _, n in schedule)
    if count != decisions:
        raise TraceError(
            f"the schedule holds {count} decisions but the header says {decisions} (truncated or corrupt)"
        )
    hashes = _field(doc, "hashes", list)
    if len(hashes) != decisions // hash_every or not all(_is_hex(h) for h in hashes):
        raise TraceError(f'"hashes" should be {decisions // hash_every} hex digests (truncated or corrupt)')
    end = _field(doc, "end", dict)
    verdict = end.get("verdict")
    if verdict is not None and not isinstance(verdict, str):
        raise TraceError('"end.verdict" must be a string or null')
    source_name, source_sha256 = _source(doc.get("source"))
    end_hash = _field(end, "hash", str, "end.hash")
    if not _is_hex(end_hash):
        raise TraceError('"end.hash" must be a hex digest')
    stepping = doc.get("stepping", "batched")
    if stepping not in ("batched", "exact"):
        raise TraceError(f'"stepping" is {json.dumps(stepping)[:40]}; expected "batched" or "exact"')
    breakpoints = doc.get("breakpoints", [])
    if not (
        isinstance(breakpoints, list)
        and len(breakpoints) <= MAX_BREAKPOINTS
        and all(isinstance(b, str) and len(b) <= MAX_BREAKPOINT_CHARS for b in breakpoints)
    ):
        raise TraceError(
            f'"breakpoints" must be a list of at most {MAX_BREAKPOINTS} strings'
            f" of at most {MAX_BREAKPOINT_CHARS} characters"
        )
    past_verdict = doc.get("past_verdict", False)
    if not isinstance(past_verdict, bool):
        raise TraceError('"past_verdict" must be true or false')
    return Trace(
        scenario=scenario,
        seed=_field(doc, "seed", int),
        hash_every=hash_every,
        schedule=schedule,
        hashes=tuple(hashes),
        end_step=_field(end, "step", int, "end.step"),
        end_tick=_field(end, "tick", int, "end.tick"),
        end_hash=end_hash,
        verdict=verdict,
        source_name=source_name,
        source_sha256=source_sha256,
        exact=stepping == "exact",
        breakpoints=tuple(breakpoints),
        past_verdict=past_verdict,
    )


def _scenario(data: dict, doc: dict) -> Scenario:
    """The embedded scenario, judged as a scenario file is; it must also be exactly what was written."""
    try:
        scenario = scenario_from_data(data, "scenario")
    except ScenarioError as exc:
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise TraceError(f"the embedded {exc.problems[0]}{more}") from None
    if _converter.unstructure(scenario) != data:  # defaulted: a field is missing
        writer = doc.get("ztui", "?")
        raise TraceError(
            "the embedded scenario does not hold exactly this ztui's scenario fields"
            f" (a field is missing, or it was written by another version: ztui {str(writer)[:20]},"
            f" this is {__version__})"
        )
    return scenario


def _source(source: object) -> tuple[str | None, str | None]:
    if source is None:
        return None, None
    if not (isinstance(source, dict) and isinstance(source.get("path"), str)):
        raise TraceError('"source" must be null or {"path": ..., "sha256": ...}')
    sha256 = source.get("sha256")
    if sha256 is not None and not _is_hex(sha256):
        raise TraceError('"source.sha256" must be a hex digest or null')
    return source["path"], sha256


def _field(doc: dict, name: str, kind: type, label: str | None = None):
    value = doc.get(name)
    # bool is an int to Python, never to a trace.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        found = "missing" if name not in doc else f"a {type(value).__name__}"
        raise TraceError(f'"{label or name}" is {found}; expected a {kind.__name__} (truncated or corrupt)')
    return value


def _schedule(runs: list) -> tuple[tuple[int, int], ...]:
    """The runs as tuples; each JSON list is dropped as soon as it is converted, to keep the peak low."""
    out = []
    for i, run in enumerate(runs):
        if not (
            isinstance(run, list)
            and len(run) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in run)
            and run[0] >= CLOCK
            and run[1] >= 1
        ):
            raise TraceError(
                f'"schedule" entry {i} is {json.dumps(run)[:40]}; expected [tid or -1, count >= 1]'
            )
        out.append((run[0], run[1]))
        runs[i] = None
    return tuple(out)


def _is_hex(value: object) -> bool:
    return isinstance(value, str) and len(value) > 0 and all(c in "0123456789abcdef" for c in value)
