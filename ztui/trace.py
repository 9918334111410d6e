"""Traces: a run's scheduling decisions, enough to replay it exactly.

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
      "scenario": {...},                # the Scenario that ran, every field (cattrs)
      "scenario_sha256": "...",         # of the canonical JSON of "scenario"
      "source": {"path": "...", "sha256": "..."} or null,   # the scenario file, if any
      "seed": 0,
      "hash_every": 4096,
      "decisions": 2360,                # how many step() calls the run made
      "schedule": [[3, 27], [-1, 1], [0, 2], ...],
      "hashes": ["5f0c...", ...],       # state_hash() after decision K, 2K, 3K, ...
      "end": {"step": 2360, "tick": 1200, "hash": "...", "verdict": "livelock"},
      "stepping": "exact",              # optional; absent means "batched" (see below)
      "breakpoints": ["free+cache < 100"],  # optional: the TUI's, restored by `ztui launch --trace`
      "past_verdict": true              # optional: the run stepped on past a livelock (see below)
    }

``schedule`` is run-length encoded ``[decision, count]`` pairs.  A decision
is the tid of the thread that ran, or -1 (CLOCK) for a clock advance.
``end.verdict`` is null when the run stopped before a verdict.

Replaying decision ``d`` calls ``step()`` when ``d`` is the thread the
scheduler would pick anyway (so a seeded-random scheduler draws exactly as
it did when recording) and ``step(d)`` otherwise (the caller chose: "you are
the scheduler").  TraceRecorder.step() follows the same rule, so both
sides make the same calls.  With ``"stepping": "exact"`` every decision is
one kernel step (``step(..., exact=True)``): how the TUI saves a session,
whose single steps and forced threads can fall inside what a batched
``step()`` would take at once.  With ``"past_verdict": true`` a livelock
verdict does not end the replay: the run steps on past it, as
Simulator.step_past_verdict() lets the TUI do.

Reading a damaged, truncated or other-version file raises TraceError, whose
message is one line naming the file and the problem.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import cattrs

from ztui import __version__
from ztui.core.simulator import Simulator
from ztui.core.snapshot import VerdictView
from ztui.core.timeline import Timeline
from ztui.scenario.model import Scenario

FORMAT = "ztui-trace"
VERSION = 1
CLOCK = -1
# A state hash costs about 90 us on an 8 MiB machine and 4 ms on 2 GiB;
# every 4096 decisions keeps that a few percent of the run.
DEFAULT_HASH_EVERY = 4096
GZIP_MAGIC = b"\x1f\x8b"
# TraceRecorder.run() asks should_stop() once per this many steps taken.
STOP_CHECK_EVERY = 1024
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
    source_path: str | None = None
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


@attrs.frozen
class ReplayResult:
    decisions: int  # decisions replayed
    step: int
    tick: int
    verdict: str | None
    hashes_checked: int
    divergence: str | None = None  # one line: where and how the replay left the recording

    @property
    def ok(self) -> bool:
        return self.divergence is None


# --- recording -----------------------------------------------------------------


class TraceRecorder:
    """Steps a Simulator and records every decision; trace() returns the Trace so far."""

    def __init__(
        self,
        sim: Simulator,
        *,
        hash_every: int = DEFAULT_HASH_EVERY,
        source: str | Path | None = None,
        exact: bool = False,
    ) -> None:
        """``exact`` records one kernel step per decision (see the module's docstring)."""
        if sim.step_count != 0:
            raise ValueError("a trace starts at step 0: record from a fresh Simulator")
        if hash_every < 1:
            raise ValueError("hash_every must be at least 1")
        self.sim = sim
        self.hash_every = hash_every
        self._source = None if source is None else str(source)
        self._source_sha256 = (
            None if source is None else hashlib.sha256(Path(source).read_bytes()).hexdigest()
        )
        self.exact = exact
        self._runs: list[list[int]] = []
        self._count = 0
        self._hashes: list[str] = []

    def step(self, tid: int | None = None) -> bool:
        """One step; ``tid`` forces a thread as Simulator.step(tid) does.  False once a verdict stands."""
        sim = self.sim
        if sim.verdict is not None:
            return False
        pick = sim.next_tid()
        if tid is None or tid == pick:
            sim.step(exact=self.exact)
            self._append(CLOCK if pick is None else pick)
        else:
            sim.step(tid, exact=self.exact)
            self._append(tid)
        return True

    def run(
        self, max_steps: int | None = None, should_stop: Callable[[], bool] | None = None
    ) -> VerdictView | None:
        """Like Simulator.run(), recording every decision.

        Simulator.step() takes no cap, so the last batch of like actions may
        end a few steps past ``max_steps`` (Simulator.run() stops exactly).
        """
        sim = self.sim
        limit = None if max_steps is None else sim.step_count + max_steps
        taken = 0
        while sim.verdict is None and (limit is None or sim.step_count < limit):
            if should_stop is not None and taken % STOP_CHECK_EVERY == 0 and should_stop():
                break
            pick = sim.next_tid()
            sim.step(exact=self.exact)
            self._append(CLOCK if pick is None else pick)
            taken += 1
        return sim.verdict

    def trace(self) -> Trace:
        sim = self.sim
        return Trace(
            scenario=sim.scenario,
            seed=sim.seed,
            hash_every=self.hash_every,
            schedule=tuple((d, n) for d, n in self._runs),
            hashes=tuple(self._hashes),
            end_step=sim.step_count,
            end_tick=sim.tick,
            end_hash=sim.state_hash(),
            verdict=None if sim.verdict is None else sim.verdict.kind,
            source_path=self._source,
            source_sha256=self._source_sha256,
            exact=self.exact,
        )

    def _append(self, decision: int) -> None:
        runs = self._runs
        if runs and runs[-1][0] == decision:
            runs[-1][1] += 1
        else:
            runs.append([decision, 1])
        self._count += 1
        if self._count % self.hash_every == 0:
            self._hashes.append(self.sim.state_hash())


def record(
    sim: Simulator,
    max_steps: int | None = None,
    *,
    hash_every: int = DEFAULT_HASH_EVERY,
    source: str | Path | None = None,
) -> Trace:
    """Run ``sim`` (fresh) to its verdict or ``max_steps`` and return the trace."""
    recorder = TraceRecorder(sim, hash_every=hash_every, source=source)
    recorder.run(max_steps)
    return recorder.trace()


def run_with_trace(
    sim: Simulator,
    path: str | Path,
    *,
    max_steps: int | None = None,
    source: str | Path | None = None,
    hash_every: int = DEFAULT_HASH_EVERY,
    progress: Callable[[Simulator], None] | None = None,
    chunk: int = 200_000,
) -> VerdictView | None:
    """`ztui run --trace FILE`: run a fresh ``sim`` like Simulator.run(), write its trace to ``path``.

    ``source`` is the scenario file, recorded with its sha256; ``progress(sim)``
    is called after every ``chunk`` steps, for a progress bar.
    """
    recorder = TraceRecorder(sim, hash_every=hash_every, source=source)
    while sim.verdict is None and (max_steps is None or sim.step_count < max_steps):
        recorder.run(chunk if max_steps is None else min(chunk, max_steps - sim.step_count))
        if progress is not None:
            progress(sim)
    write_trace(recorder.trace(), path)
    return sim.verdict


def trace_of_schedule(
    scenario: Scenario,
    seed: int,
    schedule: list[int] | tuple[int, ...],
    *,
    hash_every: int = DEFAULT_HASH_EVERY,
) -> Trace:
    """The trace of running ``scenario`` from the start with these decisions (e.g. a search's result)."""
    recorder = TraceRecorder(Simulator.from_scenario(scenario, seed, log=False), hash_every=hash_every)
    for decision in schedule:
        recorder.step(None if decision == CLOCK else decision)
    return recorder.trace()


# --- replaying -----------------------------------------------------------------


def replay(trace: Trace, progress: Callable[[int, int], None] | None = None) -> ReplayResult:
    """Re-run ``trace`` with its decisions, checking each one and every recorded hash.

    ``progress(done, total)`` is called every hash_every decisions.
    """
    sim = Simulator.from_scenario(trace.scenario, trace.seed, log=False)
    total = trace.decision_count
    done = 0
    checked = 0

    def result(divergence: str | None = None) -> ReplayResult:
        kind = None if sim.verdict is None else sim.verdict.kind
        return ReplayResult(done, sim.step_count, sim.tick, kind, checked, divergence)

    for decision in trace.decisions():
        where = f"decision {done + 1} (step {sim.step_count + 1})"
        pass_livelock(sim, trace)
        problem = apply_decision(sim, decision, trace.exact)
        if problem:
            return result(f"{where}: {problem}")
        done += 1
        if done % trace.hash_every == 0:
            expected = trace.hashes[checked]
            actual = sim.state_hash()
            if actual != expected:
                since = f"; it matched at decision {checked * trace.hash_every}" if checked else ""
                return result(
                    f"decisions {checked * trace.hash_every + 1}-{done} (steps up to {sim.step_count}):"
                    f" the state differs from the recording (hash {actual[:12]}, recorded {expected[:12]}){since}"
                )
            checked += 1
            if progress is not None:
                progress(done, total)
    kind = None if sim.verdict is None else sim.verdict.kind
    if sim.step_count != trace.end_step or kind != trace.verdict or sim.state_hash() != trace.end_hash:
        return result(
            f"end of the trace (decision {done}): replay reached step {sim.step_count}, verdict {kind or 'none'};"
            f" the recording ended at step {trace.end_step}, verdict {trace.verdict or 'none'}"
            + (
                ""
                if sim.step_count != trace.end_step or kind != trace.verdict
                else ", with another state hash"
            )
        )
    checked += 1
    return result()


def pass_livelock(sim: Simulator, trace: Trace) -> None:
    """A trace that stepped on past a livelock does so again here."""
    if trace.past_verdict and sim.verdict is not None and sim.verdict.kind == "livelock":
        sim.step_past_verdict()


def apply_decision(sim: Simulator, decision: int, exact: bool = False) -> str:
    """Take one recorded decision; a non-empty return says why it cannot be taken."""
    pick = sim.next_tid()
    problem = decision_problem(sim, decision, pick)
    if not problem:
        if decision == CLOCK or decision == pick:
            sim.step(exact=exact)
        else:
            sim.step(decision, exact=exact)
    return problem


def decision_problem(sim: Simulator, decision: int, pick: int | None) -> str:
    """Why ``decision`` cannot be taken now, or "" if it can; ``pick`` is sim.next_tid()."""
    if sim.verdict is not None:
        return f"the run already ended ({sim.verdict.kind}) but the trace goes on"
    if decision == CLOCK:
        return "" if pick is None else f"the trace advances the clock, but {_thread_name(sim, pick)} can run"
    if decision == pick or decision in sim.runnable():
        return ""
    runnable = ", ".join(_thread_name(sim, tid) for tid in sim.runnable()) or "none (the clock must advance)"
    return f"the trace runs {_thread_name(sim, decision)}, which cannot run now; runnable: {runnable}"


def _thread_name(sim: Simulator, tid: int) -> str:
    threads = sim.snapshot(events=0).threads
    name = threads[tid].name if 0 <= tid < len(threads) else "?"
    return f"thread {tid} ({name})"


def timeline_from_trace(trace: Trace, sim: Simulator | None = None, **timeline_options) -> Timeline:
    """`ztui launch --trace FILE`: a Timeline standing at the trace's end, ready to go back.

    ``sim`` is a fresh Simulator of the trace's scenario and seed to follow
    it with (the TUI's records a history); by default one is made.  Raises
    TraceError if a decision cannot be taken.  The hashes are not checked
    here; replay() (`ztui replay`) does that.
    """
    sim = sim or Simulator.from_scenario(trace.scenario, trace.seed)
    timeline = Timeline(sim, **timeline_options)
    for done, decision in enumerate(trace.decisions()):
        sim = timeline.sim
        pass_livelock(sim, trace)
        pick = sim.next_tid()
        problem = decision_problem(sim, decision, pick)
        if problem:
            raise TraceError(f"decision {done + 1} (step {sim.step_count + 1}): {problem}")
        tid = None if decision == CLOCK else decision
        if trace.exact:
            timeline.step(None if tid == pick else tid)
        else:
            timeline.follow(tid)
    return timeline


# --- files ---------------------------------------------------------------------


def write_trace(trace: Trace, path: str | Path) -> None:
    """Write ``trace`` to ``path`` (gzip-compressed if the name ends in .gz)."""
    path = Path(path)
    data = (json.dumps(_to_document(trace), separators=(",", ":")) + "\n").encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)


def read_trace(path: str | Path) -> Trace:
    """Read and validate a trace file; TraceError (one line) if it cannot be used."""
    path = Path(path)
    try:
        return _from_document(_load_json(path))
    except TraceError as exc:
        raise TraceError(f"{path}: {exc}") from None


def _to_document(trace: Trace) -> dict:
    scenario = _converter.unstructure(trace.scenario)
    source = None
    if trace.source_path is not None:
        source = {"path": trace.source_path, "sha256": trace.source_sha256}
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


def _load_json(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TraceError(f"cannot read: {exc.strerror or exc}") from None
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise TraceError("corrupt or truncated gzip data") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TraceError("not a ztui trace (not UTF-8 text)") from None
    if not text.lstrip().startswith("{"):
        raise TraceError("not a ztui trace (not a JSON object)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise TraceError("truncated: the JSON ends early") from None
        raise TraceError(
            f"corrupt: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def _from_document(doc: object) -> Trace:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise TraceError(f'not a ztui trace (no "format": "{FORMAT}")')
    version = doc.get("version")
    if version != VERSION:
        raise TraceError(f"trace format version {version!r}; this ztui {__version__} reads version {VERSION}")
    scenario_data = _field(doc, "scenario", dict)
    if _digest(scenario_data) != _field(doc, "scenario_sha256", str):
        raise TraceError("the embedded scenario does not match its checksum (edited or corrupt)")
    try:
        scenario = _converter.structure(scenario_data, Scenario)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise TraceError(f"the embedded scenario cannot be read ({type(exc).__name__})") from None
    if _converter.unstructure(scenario) != scenario_data:  # coerced or defaulted: not what was written
        writer = doc.get("ztui", "?")
        raise TraceError(
            f"the embedded scenario does not fit this ztui's scenario fields exactly"
            f" (wrong types, or written by another version: ztui {writer}, this is {__version__})"
        )
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
    source = doc.get("source")
    if source is not None and not (isinstance(source, dict) and isinstance(source.get("path"), str)):
        raise TraceError('"source" must be null or {"path": ..., "sha256": ...}')
    end_hash = _field(end, "hash", str, "end.hash")
    if not _is_hex(end_hash):
        raise TraceError('"end.hash" must be a hex digest')
    stepping = doc.get("stepping", "batched")
    if stepping not in ("batched", "exact"):
        raise TraceError(f'"stepping" is {json.dumps(stepping)[:40]}; expected "batched" or "exact"')
    breakpoints = doc.get("breakpoints", [])
    if not (isinstance(breakpoints, list) and len(breakpoints) <= MAX_BREAKPOINTS
            and all(isinstance(b, str) and len(b) <= MAX_BREAKPOINT_CHARS for b in breakpoints)):
        raise TraceError(f'"breakpoints" must be a list of at most {MAX_BREAKPOINTS} strings'
                         f" of at most {MAX_BREAKPOINT_CHARS} characters")
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
        source_path=None if source is None else source["path"],
        source_sha256=None if source is None else source.get("sha256"),
        exact=stepping == "exact",
        breakpoints=tuple(breakpoints),
        past_verdict=past_verdict,
    )


def _field(doc: dict, name: str, kind: type, label: str | None = None):
    value = doc.get(name)
    # bool is an int to Python, never to a trace.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        found = "missing" if name not in doc else f"a {type(value).__name__}"
        raise TraceError(f'"{label or name}" is {found}; expected a {kind.__name__} (truncated or corrupt)')
    return value


def _schedule(runs: list) -> tuple[tuple[int, int], ...]:
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
    return tuple(out)


def _is_hex(value: object) -> bool:
    return isinstance(value, str) and len(value) > 0 and all(c in "0123456789abcdef" for c in value)
