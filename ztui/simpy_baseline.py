"""The benchmarks' baseline: a plain SimPy model, producers put, consumers get, both time out.

Kept apart from ztui.bench so that a fresh process timing it (ztui.startup_bench)
imports SimPy and nothing of ztui's core.
"""

from __future__ import annotations

import sys
import time


def simpy_run(events: int = 300_000) -> dict:
    """``events`` SimPy events of one Container shared by four producers and four consumers."""
    import simpy

    env = simpy.Environment()
    pool = simpy.Container(env, capacity=1000, init=500)

    def producer():
        while True:
            yield pool.put(1)
            yield env.timeout(1)

    def consumer():
        while True:
            yield pool.get(1)
            yield env.timeout(1)

    for _ in range(4):
        env.process(producer())
        env.process(consumer())
    t0 = time.perf_counter()
    for _ in range(events):
        env.step()
    wall = time.perf_counter() - t0
    return {"events": events, "wall_s": wall, "events_per_s": events / wall}


if __name__ == "__main__":
    simpy_run(int(sys.argv[1]))
