"""Invariants (ztui/core/invariants.py) on random small machines and workloads, determinism, clones, batching."""

import re

import attrs
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ztui.core.simulator import Simulator
from ztui.scenario.model import KmallocObj, Size

from .helpers import small_scenario, with_allocators

phase = st.sampled_from(["alloc", "churn", "free", "read", "touch"]).flatmap(
    lambda op: st.tuples(st.just(op), st.integers(1, 6))
)
process = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.lists(phase, min_size=1, max_size=3).map(lambda ps: tuple(ps) + (("exit", 0),)),
)
MITIGATIONS = [
    (),
    ("pageout-reserve",),
    ("reserved-slab",),
    ("no-hold-and-wait",),
    ("pass-reserve-flags",),
    ("nowait-reserve",),
]
machines = st.fixed_dictionaries(
    {
        "physmem_mib": st.integers(4, 16),
        "swap_mib": st.integers(1, 12),
        "swapmeta": st.sampled_from(["zalloc", "kmalloc_obj"]),
        "mitigations": st.sampled_from(MITIGATIONS),
        "intr_pages_per_s": st.sampled_from([0, 500, 5000]),
        "quantum": st.sampled_from([1, 16, 64]),
        "scheduler": st.sampled_from(["round-robin", "random"]),
        "ncpus": st.integers(1, 3),
        "kmslab_cache": st.integers(0, 2),
        "procs": st.lists(process, min_size=1, max_size=3, unique_by=lambda p: p[0]).map(tuple),
    }
)
workload = st.fixed_dictionaries(
    {
        "region": st.sampled_from([None, 4, 40]),
        "working_set": st.sampled_from([0, 64]),
        "vnodes": st.sampled_from([0, 2000]),
    }
)


def scenario_of(params: dict, extra: dict):
    scenario = small_scenario(**params)
    procs = tuple(
        attrs.evolve(
            p,
            region=None if extra["region"] is None else Size(extra["region"] * 4096),
            working_set=Size(extra["working_set"] * 4096),
        )
        for p in scenario.process
    )
    scenario = attrs.evolve(scenario, process=procs)
    if extra["vnodes"]:
        obj = KmallocObj(name="vnode", size=Size(640), owner=procs[0].name, rate=extra["vnodes"], lifetime=200_000)
        scenario = with_allocators(scenario, kmalloc_obj=(obj,))
    return scenario


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines, workload)
def test_invariants_hold_after_every_step(params, extra):
    sim = Simulator.from_scenario(scenario_of(params, extra), log=False, check_every=1)
    sim.run(max_steps=3000)


@settings(max_examples=15, deadline=None)
@given(machines, workload, st.integers(0, 2**32))
def test_same_scenario_and_seed_give_the_same_run(params, extra, seed):
    runs = []
    for _ in range(2):
        sim = Simulator.from_scenario(scenario_of(params, extra), seed=seed)
        sim.run(max_steps=4000)
        runs.append((sim.state_hash(), sim.step_count, [e.text for e in sim.events]))
    assert runs[0] == runs[1]


@settings(max_examples=15, deadline=None)
@given(machines, workload, st.integers(0, 1500))
def test_a_clone_continues_exactly_like_the_original(params, extra, split):
    sim = Simulator.from_scenario(scenario_of(params, extra), seed=7)
    sim.run(max_steps=split)
    twin = sim.clone()
    assert twin.state_hash() == sim.state_hash()
    sim.run(max_steps=1500)
    twin.run(max_steps=1500)
    assert twin.state_hash() == sim.state_hash()


# Found by Hypothesis: the cache scan rolled vmstats up once per batch, not once per pass.
CACHE_SCAN_ROLLUP = dict(
    physmem_mib=4, swap_mib=1, swapmeta="kmalloc_obj", mitigations=(), intr_pages_per_s=5000, quantum=16,
    scheduler="round-robin", ncpus=2, kmslab_cache=0, procs=(("a", (("read", 4), ("exit", 0))),),
)


# Two CPUs faulting 10 MiB: a batch of faults once took its CPU's free delta past -PCPU_SYNC in one go,
# where page by page the delta is pushed to the global at -1025 and the later faults count again from 0.
FAULTS_PAST_PCPU_SYNC = dict(
    physmem_mib=13, swap_mib=1, swapmeta="zalloc", mitigations=(), intr_pages_per_s=0, quantum=16,
    scheduler="round-robin", ncpus=2, kmslab_cache=0, procs=(("a", (("alloc", 1), ("alloc", 3), ("alloc", 6), ("exit", 0))),),
)


@settings(max_examples=25, deadline=None)
@given(machines, workload, st.integers(0, 2**16))
@example(CACHE_SCAN_ROLLUP, {"region": None, "working_set": 0, "vnodes": 0}, 0)
@example(FAULTS_PAST_PCPU_SYNC, {"region": None, "working_set": 0, "vnodes": 0}, 0)
def test_batched_steps_equal_page_by_page_steps(params, extra, seed):
    """run(max_steps=1) caps every batch at one step: page-by-page stepping."""
    batched = Simulator.from_scenario(scenario_of(params, extra), seed=seed, log=False)
    batched.run(max_steps=2500)
    single = Simulator.from_scenario(scenario_of(params, extra), seed=seed, log=False)
    while single.step_count < batched.step_count and single.verdict is None:
        single.run(max_steps=1)
    assert single.step_count == batched.step_count
    assert single.state_hash() == batched.state_hash()


# 8 MiB, 8 MiB swap: a hog churning while a second process takes what is left
STORM = (("hog", (("alloc", 5), ("churn", 4), ("exit", 0))), ("b", (("alloc", 4), ("exit", 0))))
RARE = {
    "oom-kill": dict(physmem_mib=8, swap_mib=1, swapmeta="zalloc", procs=(("leaky", (("alloc", 12), ("exit", 0))),)),
    "give-back": dict(mitigations=("no-hold-and-wait",), procs=STORM),
    "reserved-slab": dict(mitigations=("reserved-slab",), procs=STORM),
    "nowait-reserve": dict(mitigations=("nowait-reserve",), procs=STORM),
    "pageout-reserve": dict(mitigations=("pageout-reserve",), procs=STORM),
    "emergency-pager": dict(procs=STORM),
    "kreserve": dict(mapentry="kmalloc_obj", mitigations=("slab-kreserve",), procs=STORM),
}


def test_the_rare_paths_are_reached_with_every_invariant_holding():
    """The workloads above reach each path they are named for; the invariants hold at every step."""
    reached = {}
    for name, params in RARE.items():
        sim = Simulator.from_scenario(small_scenario(**params), check_every=1)
        sim.run(max_steps=60_000)
        texts = " | ".join(e.text for e in sim.events)
        reached[name] = {
            "oom-kill": sim.k.oom_kills > 0,
            "give-back": re.search(r"gave back [1-9]\d* pages", texts) is not None,  # pages held, then freed
            "reserved-slab": "using the reserved slab" in texts,
            "nowait-reserve": "the pagers' reserve" in texts,
            "pageout-reserve": "from the pageout reserve" in texts,
            "emergency-pager": "emergpager: primary pager" in texts,
            "kreserve": "slab for MAP ENTRY complete" in texts,  # its map entry from the cushion: no recursion
        }[name]
    assert reached == {name: True for name in RARE}
