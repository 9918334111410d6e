"""The step history samples what the kernel holds at the step it is taken, and thins evenly."""

from ztui.core.history import FAULT_OPS, LaneState, StepHistory
from ztui.core.kern_proc import FIRST_PID
from ztui.core.simulator import Simulator
from ztui.core.state import RUN
from ztui.scenario.bundled import SCENARIO_DIR
from ztui.scenario.load import load_scenario


def faulted_pages(k) -> int:
    """Pages the processes' fault phases handled: finished phases in full, the current one so far."""
    total = 0
    for t in k.threads:
        if t.kind != "proc":
            continue
        phases = k.cfg.procs[t.pid - FIRST_PID].phases
        total += sum(p.pages for p in phases[:t.phase] if p.op in FAULT_OPS and p.pages > 0)
        if t.phase < len(phases) and phases[t.phase].op in FAULT_OPS:
            total += t.done
    return total


def lanes_now(k) -> list[LaneState]:
    return [LaneState(t.state, t.state == RUN and t.tid == k.cur, t.wmesg if t.state != RUN else "",
                      t.frames[-1].fn if t.frames else "") for t in k.threads]


def test_every_sample_is_the_kernel_at_its_step():
    sim = Simulator.from_scenario(load_scenario(SCENARIO_DIR / "teach-swapmeta-kmalloc-obj.toml"), log=False)
    history = sim.record_history()
    k = sim.k
    checked = faulting = 0
    while sim.step(exact=True):
        sample = history.samples[-1]
        if sample.step != k.step:
            continue  # no sample at this step
        assert (sample.free, sample.cache, sample.inactive, sample.active) == (k.free, k.cache, k.inactive, k.active)
        assert sample.swap_used == k.swap_total - k.swap_free and sample.slab_pages == k.slab_pages
        assert sample.faulted == faulted_pages(k)
        assert [history.states[code] for code in sample.lanes] == lanes_now(k)
        checked += 1
        faulting += sample.faulted > 0
    assert checked > 100 and faulting > 50


def test_thinning_keeps_samples_evenly_spread_within_capacity():
    sim = Simulator.from_scenario(load_scenario(SCENARIO_DIR / "teach-swapmeta-kmalloc-obj.toml"), log=False)
    history: StepHistory = sim.record_history(capacity=16)
    sim.run(max_steps=5000)
    steps = [s.step for s in history.samples]
    assert history.every >= 64 and len(steps) <= 16
    assert all(b - a >= history.every // 2 for a, b in zip(steps, steps[1:]))
    assert steps == sorted(steps)
