"""The per-CPU map-entry reserve and the MAP ENTRY zone (sys/vm/vm_map.c:876-1015, vm_kern.c:207-295)."""

import attrs
import pytest

from ztui.core.boot import boot
from ztui.core.frames import HANDLERS
from ztui.core.simulator import Simulator
from ztui.core.state import ReserveFrame, ZallocFrame
from ztui.core.vm_map import (
    MAP_RESERVE_COUNT,
    vm_map_entry_create,
    vm_map_entry_dispose,
    vm_map_entry_krelease,
    vm_map_entry_kreserve,
    vm_map_entry_release,
)
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario

from .helpers import small_scenario, with_allocators


def test_map_entry_cushion_at_boot():
    """vm_map_entry_reserve_cpu_init (876-905): avail -8, 257 entries on the BSP not credited (H = 265)."""
    k = boot(small_scenario(ncpus=2), 0)
    assert k.gd_vme_avail == [-2 * MAP_RESERVE_COUNT] * 2
    assert k.gd_vme_base[0] - k.gd_vme_avail[0] == 265
    assert k.gd_vme_base[1] - k.gd_vme_avail[1] == 16, "8 per AP, plus the 8 owed"


def test_release_trims_the_cache_past_map_reserve_slop():
    """vm_map_entry_release (944-968): past MAP_RESERVE_SLOP (512) available, pop down to MAP_RESERVE_HYST (448) and zfree them."""
    k = boot(small_scenario(), 0)
    z = k.zones["MAP ENTRY"]
    k.gd_vme_avail[0], k.gd_vme_base[0] = 510, 775
    free_before, inuse_before = z.zfreecnt, z.inuse
    vm_map_entry_release(k, 0, 2)
    assert k.gd_vme_avail[0] == 512 and z.zfreecnt == free_before
    vm_map_entry_release(k, 0, 1)
    assert k.gd_vme_avail[0] == 448 and k.gd_vme_base[0] == 775 - 65 and z.zfreecnt == free_before + 65
    assert z.inuse == inuse_before - 65, "zfree of each trimmed entry: the zone's in-use count falls with it"


@pytest.mark.parametrize(
    "avail,refills,after",
    [
        (MAP_RESERVE_COUNT + 1, 0, 1),
        (MAP_RESERVE_COUNT, 0, 0),  # exactly enough: no refill
        (MAP_RESERVE_COUNT - 1, 1, 0),  # one short: one entry from the zone, credited to base and avail, then taken
        (MAP_RESERVE_COUNT - 3, 3, 0),
    ],
)
def test_vm_map_entry_reserve_refills_only_the_entries_missing(avail, refills, after):
    """vm_map_entry_reserve (909-931): while avail < count, zalloc one entry (base and avail +1); then avail -= count."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    t = k.threads[-1]
    cpu, z = t.cpu, k.zones["MAP ENTRY"]
    k.gd_vme_avail[cpu] = avail
    base, inuse = k.gd_vme_base[cpu], z.inuse
    t.frames.append(ReserveFrame(count=MAP_RESERVE_COUNT))
    while isinstance(t.frames[-1], (ReserveFrame, ZallocFrame)):
        HANDLERS[type(t.frames[-1])](k, t, t.frames[-1])
    assert t.rv == MAP_RESERVE_COUNT
    assert (k.gd_vme_avail[cpu], k.gd_vme_base[cpu], z.inuse) == (after, base + refills, inuse + refills)


def test_create_dispose_and_kreserve_move_the_counts_as_the_kernel_does():
    """vm_map_entry_create pops base and uses one of the reservation; dispose pushes n back onto both;
    kreserve takes from avail with no refill (into the cushion), krelease gives it back."""
    k = boot(small_scenario(), 0)
    avail, base = k.gd_vme_avail[0], k.gd_vme_base[0]
    assert vm_map_entry_create(k, 0, MAP_RESERVE_COUNT) == MAP_RESERVE_COUNT - 1
    assert k.gd_vme_base[0] == base - 1
    assert vm_map_entry_dispose(k, 0, 3, 2) == 5
    assert k.gd_vme_base[0] == base + 1
    assert vm_map_entry_kreserve(k, 0, MAP_RESERVE_COUNT) == MAP_RESERVE_COUNT
    assert k.gd_vme_avail[0] == avail - MAP_RESERVE_COUNT < 0, "below zero: the cushion"
    vm_map_entry_krelease(k, 0, MAP_RESERVE_COUNT)
    assert k.gd_vme_avail[0] == avail


def test_a_map_entry_zone_refill_uses_the_cushion_and_renormalises_avail():
    """zget(ZONE_SPECIAL) (vm_zone.c:624-706): kmem_alloc3(KM_KRESERVE), then avail renormalised to >= 2."""
    scenario = with_allocators(
        small_scenario(swapmeta="zalloc", procs=(("sh", (("alloc", 1), ("alloc", 1), ("exit", 0))),)), mapent_boot=31
    )
    sim = Simulator.from_scenario(scenario)
    sim.run()
    z = sim.k.zones["MAP ENTRY"]
    assert z.zpagecount == 32, "one kmem_alloc3 refill of 32 pages"
    assert z.ztotal == 31 + 32 * 4096 // z.zsize
    assert any("kmem_alloc3 refill" in e.text for e in sim.events)
    assert sim.verdict.kind == "ok"


def test_map_entry_on_kmalloc_obj_recurses_three_deep_with_nothing_credited():
    """vm_map_entry_reserve (909-931) credits only after each allocation; kmem_slab_alloc (kern_slaballoc.c:1689) reserves first."""
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("mapentry-kmalloc-obj")))
    verdict = sim.run()
    assert verdict.kind == "recursion"
    t = next(t for t in sim.k.threads if t.name in verdict.threads)
    names = [f.fn for f in t.frames]
    assert names.count("vm_map_entry_reserve") == 3 and names.count("kmem_slab_alloc") == 2
    assert sim.k.gd_vme_avail[t.cpu] == -2 * MAP_RESERVE_COUNT, "nothing was ever credited"


def test_slab_kreserve_takes_the_slabs_entry_from_the_cushion():
    """slab-kreserve: kmem_slab_alloc uses vm_map_entry_kreserve, as its comment (1666-1669) says it would have to."""
    scenario = load_scenario(resolve_scenario("mapentry-kmalloc-obj-slab-kreserve"))
    sim = Simulator.from_scenario(scenario)
    assert sim.run().kind == "ok"
    plain = Simulator.from_scenario(attrs.evolve(scenario, allocators=attrs.evolve(scenario.allocators, mitigations=())))
    assert plain.run().kind == "recursion", "without the mitigation the same machine recurses"
