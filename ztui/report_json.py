"""The one JSON object `ztui run --json` prints, built from a Snapshot without Rich.

It says exactly what the TUI and the human report (ztui.report) would
show at the same step.
"""

from __future__ import annotations

import attrs

from ztui.core.snapshot import AllocatorView, Snapshot
from ztui.scenario.model import Scenario

HAZARDS_SHOWN_JSON = 20


def expectation_met(snap: Snapshot, scenario: Scenario) -> bool:
    """Whether the run ended as [expect] says: its verdict, and each expected event at least once."""
    expected = scenario.expect.verdict
    verdict_ok = expected is None or (snap.verdict is not None and snap.verdict.kind == expected.value)
    return verdict_ok and all(snap.counters.get(event, 0) > 0 for event in scenario.expect.events)


def report_json(snap: Snapshot, scenario: Scenario) -> dict:
    """The one JSON object `ztui run --json` prints."""
    verdict = snap.verdict
    return {
        "scenario": snap.scenario,
        "seed": snap.seed,
        "verdict": verdict.kind if verdict else None,
        "headline": verdict.headline if verdict else "",
        "expect": {
            "verdict": scenario.expect.verdict.value if scenario.expect.verdict else None,
            "events": list(scenario.expect.events),
            "met": expectation_met(snap, scenario),
        },
        "step": snap.step,
        "tick": snap.tick,
        "sim_time_s": snap.sim_time_s,
        "explanation": list(verdict.explanation) if verdict else [],
        "vmstats": dict(snap.vmstats),
        "queues": dict(snap.queues),
        "pagedaemon": dict(snap.pagedaemon),
        "swap": dict(snap.swap),
        "allocators": {
            "SWAPMETA": _allocator_json(snap.swapmeta),
            "MAP ENTRY": {
                **_allocator_json(snap.mapentry.zone),
                "cpus": [attrs.asdict(cpu) for cpu in snap.mapentry.cpus],
                "recursion_depth": snap.mapentry.recursion_depth,
            },
        },
        "threads": [
            {
                "name": thread.name,
                "state": thread.state,
                "wchan": thread.wchan,
                "wmesg": thread.wmesg,
                "function": thread.function,
                "progress": thread.progress,
                "blocked_reason": thread.blocked_reason,
            }
            for thread in snap.threads
        ],
        "hazards": _hazards_json(snap),
        "events": [attrs.asdict(event) for event in snap.events],
        "event_counts": snap.counters,
    }


def _hazards_json(snap: Snapshot) -> dict:
    """The pagers' allocations only their own work could feed: how many, the closest, the low water, why."""
    verdict = snap.verdict
    if verdict is None:
        return {"count": 0, "closest": [], "low_water": None, "why": ""}
    closest = [
        {**attrs.asdict(h), "pages_to_wedge": h.pages_to_wedge, "stale_view": h.stale_view}
        for h in verdict.hazards[:HAZARDS_SHOWN_JSON]
    ]
    return {
        "count": verdict.hazard_count,
        "closest": closest,
        "low_water": attrs.asdict(verdict.low_water) if verdict.low_water else None,
        "why": verdict.why,
    }


def _allocator_json(view: AllocatorView) -> dict:
    return {
        "kind": view.kind,
        "geometry": dict(view.geometry),
        "state": dict(view.state),
        "in_use": view.in_use,
    }
