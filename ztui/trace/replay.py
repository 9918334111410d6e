"""Replaying a trace: re-run its decisions, checking each one and every recorded hash.

With ``past_verdict`` a livelock verdict does not end the replay: the run
steps on past it, as Simulator.step_past_verdict() lets the TUI do.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ztui.core.simulator import Simulator
from ztui.core.timeline import Timeline
from ztui.trace.format import CLOCK, Trace, TraceError


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
