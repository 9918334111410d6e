"""Invariants on random small machines and workloads."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ztui.core.kern_kmalloc import KMALLOC_SLAB_PAGES
from ztui.core.kern_slaballoc import assembling_pages
from ztui.core.simulator import Simulator

from .helpers import small_scenario

phase = st.sampled_from(["alloc", "churn", "free", "read", "touch"]).flatmap(
    lambda op: st.tuples(st.just(op), st.integers(1, 6))
)
process = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.lists(phase, min_size=1, max_size=3).map(lambda ps: tuple(ps) + (("exit", 0),)),
)
machines = st.fixed_dictionaries(
    {
        "physmem_mib": st.integers(4, 16),
        "swap_mib": st.integers(0, 12),
        "swapmeta": st.sampled_from(["zalloc", "kmalloc_obj"]),
        "mitigations": st.sampled_from([(), ("pageout-reserve",), ("reserved-slab",), ("no-hold-and-wait",), ("pass-reserve-flags",)]),
        "intr_pages_per_s": st.sampled_from([0, 500, 5000]),
        "quantum": st.sampled_from([1, 16, 64]),
        "scheduler": st.sampled_from(["round-robin", "random"]),
        "ncpus": st.integers(1, 3),
        "procs": st.lists(process, min_size=1, max_size=3, unique_by=lambda p: p[0]).map(tuple),
    }
)


def check_invariants(sim: Simulator) -> None:
    k = sim.k
    assert k.page_total() == k.th.v_page_count, "page conservation"
    for name in ("free", "cache", "inactive", "active", "wired", "swap_free", "pbufs_free", "pageout_reserve"):
        assert getattr(k, name) >= 0, name
    queued = {"active": 0, "inactive": 0, "cache": 0}
    for obj in k.objects.values():
        for q in queued:
            queued[q] += sum(c for _, c, _, _ in getattr(obj, q))
    busy = sum(c for obj in k.objects.values() for _, c in obj.busy)
    assert queued["active"] == k.active
    assert queued["cache"] == k.cache
    assert queued["inactive"] + busy == k.inactive
    held = sum(assembling_pages(t) for t in k.threads)
    zone_pages = sum(z.zpagecount for z in k.zones.values())
    assert k.wired == k.kernel_wired + k.slab_pages + zone_pages + k.intr_pages + k.swapin_pages + held
    swapped = sum(bin(m).count("1") for obj in k.objects.values() for m in obj.swb.values())
    # putpages takes a chunk's swap blocks first, then records them page by page
    unrecorded = sum(f.d - f.e for t in k.threads for f in t.frames if f.fn == "vm_pageout_flush" and 1 <= f.pc <= 3)
    assert k.swap_total - k.swap_free == swapped + unrecorded, "swap blocks = swblock slots in use"
    nswb = sum(len(obj.swb) for obj in k.objects.values())
    if k.swapmeta_kind == "zalloc":
        assert k.zones["SWAPMETA"].inuse == nswb
    else:
        ty = k.ktypes["SWAPMETA"]
        assert ty.inuse == nswb
        assert sum(s.ncount - s.nfree for s in k.slabs.values()) == ty.inuse + sum(
            k.ktypes[n].inuse for n in k.ktypes if n != "SWAPMETA"
        )
        blanks = sum(k.kmslab_free) + sum(t.reserved_slab for t in k.ktypes.values())
        assert k.slab_pages == KMALLOC_SLAB_PAGES * (len(k.slabs) + blanks)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines)
def test_invariants_hold_after_every_step(params):
    sim = Simulator.from_scenario(small_scenario(**params), log=False)
    for _ in range(3000):
        if not sim.step():
            break
        check_invariants(sim)


@settings(max_examples=15, deadline=None)
@given(machines, st.integers(0, 2**32))
def test_same_scenario_and_seed_give_the_same_run(params, seed):
    runs = []
    for _ in range(2):
        sim = Simulator.from_scenario(small_scenario(**params), seed=seed)
        sim.run(max_steps=4000)
        runs.append((sim.state_hash(), sim.step_count, [e.text for e in sim.events]))
    assert runs[0] == runs[1]


@settings(max_examples=15, deadline=None)
@given(machines, st.integers(0, 1500))
def test_a_clone_continues_exactly_like_the_original(params, split):
    sim = Simulator.from_scenario(small_scenario(**params), seed=7)
    sim.run(max_steps=split)
    twin = sim.clone()
    assert twin.state_hash() == sim.state_hash()
    sim.run(max_steps=1500)
    twin.run(max_steps=1500)
    assert twin.state_hash() == sim.state_hash()


@settings(max_examples=20, deadline=None)
@given(machines, st.integers(0, 2**16))
def test_batched_steps_equal_page_by_page_steps(params, seed):
    """run(max_steps=1) caps every batch at one step: page-by-page stepping."""
    batched = Simulator.from_scenario(small_scenario(**params), seed=seed, log=False)
    batched.run(max_steps=2500)
    single = Simulator.from_scenario(small_scenario(**params), seed=seed, log=False)
    while single.step_count < batched.step_count and single.verdict is None:
        single.run(max_steps=1)
    assert single.step_count == batched.step_count
    assert single.state_hash() == batched.state_hash()
