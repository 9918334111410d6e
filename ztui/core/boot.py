"""Boot: build the Kernel a scenario describes (vm_page_startup .. SI_SUB_KTHREAD_PAGE).

Simplifications: v_page_count is physmem/4096 (the vm_page array and BIOS
holes are not subtracted, matching the reference's case (a)); the kernel's
own wired memory is a scenario setting (default physmem/16).
"""

from __future__ import annotations

import attrs

from ztui.scenario.model import USEC, AllocatorKind, Scenario

from .intr import MCLBYTES, ZONE_CLUSTERS, ZONE_PAGES
from .kern_kmalloc import KMALLOC_SLAB_PAGES, TYPE_NAMES, cacheline_align, malloc_mgt_init_count, new_slab
from .kern_proc import FIRST_PID, spawn_objects
from .kern_synch import STEP_UNITS
from .state import (
    Config,
    IthreadFrame,
    Kernel,
    KmallocType,
    KobjCfg,
    PageoutFrame,
    PhaseCfg,
    PollerFrame,
    ProcCfg,
    Thread,
    ThreadKind,
    UserFrame,
    Zone,
)
from .vm_zone import PAGE_SIZE, ZONE_MAXPGLOAD, ZONE_ROUNDING, zone_refill_items
from .vmstats import compute_thresholds

SWBLOCK_SIZE = 304  # sizeof(struct swblock) on x86_64
MAP_ENTRY_SIZE = 136  # sizeof(struct vm_map_entry), reference §16 estimate
MAPENTRYBSP_CACHE = 257
MAPENTRYAP_CACHE = 8
MAP_RESERVE_COUNT = 4
PAGEOUT_RESERVE_PAGES = 2 * KMALLOC_SLAB_PAGES  # one slab for each pager


def pages(nbytes: int) -> int:
    return nbytes // PAGE_SIZE


def ticks(usec: int, hz: int) -> int:
    return usec * hz // USEC


def cpu_units(usec: int, hz: int, budget: int) -> int:
    """A latency in the clock's finest units (a tick is ``budget`` of them), at least one."""
    return max(1, usec * hz * budget // USEC)


def proc_configs(sc: Scenario, hz: int) -> tuple[ProcCfg, ...]:
    return tuple(
        ProcCfg(
            phases=tuple(
                PhaseCfg(
                    op=ph.op.value,
                    pages=-1 if ph.pages is None else pages(ph.pages),
                    rate=0 if ph.rate is None else max(1, pages(ph.rate)),
                    ticks=0 if ph.time is None else ticks(ph.time, hz),
                )
                for ph in proc.phases
            ),
            region=0 if proc.region is None else max(1, pages(proc.region)),
            working_set=pages(proc.working_set),
        )
        for proc in sc.process
    )


def boot(sc: Scenario, seed: int) -> Kernel:
    m = sc.machine
    hz = m.hz
    v_page_count = pages(m.physmem)
    dma = pages(m.dma_reserved) if m.dma_reserved is not None else min(pages(128 << 20), v_page_count // 16)
    kernel_wired = pages(m.kernel_wired) if m.kernel_wired is not None else v_page_count // 16
    budget = m.steps_per_tick * m.ncpus * STEP_UNITS
    latencies = (sc.io.swap_write_latency, sc.io.file_read_latency, sc.io.swap_read_latency, sc.interrupt.hold)
    cfg = Config(
        swap_write_units=cpu_units(sc.io.swap_write_latency, hz, budget),
        file_read_units=cpu_units(sc.io.file_read_latency, hz, budget),
        swap_read_units=cpu_units(sc.io.swap_read_latency, hz, budget),
        longest_latency_ticks=-(-max(latencies) * hz // USEC),
        intr_rate=sc.interrupt.rate // MCLBYTES,
        intr_hold_ticks=max(1, ticks(sc.interrupt.hold, hz)),
        intr_consumer=-1,  # known once the threads exist
        intr_ring=sc.interrupt.ring,
        intr_sockbuf=sc.interrupt.sockbuf // MCLBYTES,
        livelock_ticks=max(1, ticks(sc.run.livelock_window, hz)),
        quantum=max(1, sc.run.quantum),
        procs=proc_configs(sc, hz),
        ktype_names=TYPE_NAMES + tuple(obj.name for obj in sc.allocators.kmalloc_obj),
        poll_types=max(sc.allocators.poll_types, len(TYPE_NAMES) + len(sc.allocators.kmalloc_obj)),
    )
    mitigations = frozenset(x.value for x in sc.allocators.mitigations)
    k = Kernel(
        th=None,  # type: ignore[arg-type]  # computed below, once boot's wiring leaves the free count
        cfg=cfg,
        hz=hz,
        ncpus=m.ncpus,
        steps_per_tick=m.steps_per_tick,
        tick_budget=budget,
        rng=(seed * 0x9E3779B97F4A7C15 + 1) & 0xFFFFFFFFFFFFFFFF or 1,
        swapmeta_kind=sc.allocators.swapmeta.value,
        mapentry_kind=sc.allocators.mapentry.value,
        mitigations=mitigations,
    )
    k.dma = dma
    k.kernel_wired = kernel_wired
    k.wired = kernel_wired
    k.free = v_page_count - dma - kernel_wired
    setup_swap(k, pages(m.swap))
    setup_kmalloc(k, sc)
    setup_zones(k, sc, v_page_count, m.physmem)
    if "pageout-reserve" in mitigations:
        k.pageout_reserve = k.pageout_reserve_max = PAGEOUT_RESERVE_PAGES
        k.free -= PAGEOUT_RESERVE_PAGES
    k.th = compute_thresholds(v_page_count, free_at_init=k.free, overrides=sc.vm.overrides())
    setup_map_entries(k)
    if cfg.intr_rate:
        setup_rx_ring(k)
    setup_threads(k, sc)
    if k.ncpus > 1:
        k.gd_free, k.gd_cache = [k.free] * k.ncpus, [k.cache] * k.ncpus
        k.gd_adj_free, k.gd_adj_cache = [0] * k.ncpus, [0] * k.ncpus
    readers = [t.tid for t in k.threads if t.kind is ThreadKind.PROC and t.name == sc.interrupt.consumer]
    k.cfg = attrs.evolve(k.cfg, intr_consumer=readers[0] if readers else -1, kobjs=kobj_configs(k, sc))
    return k


def setup_swap(k: Kernel, swap_pages: int) -> None:
    """swap_pager_newswap(): low/high water marks at 4 % and 6 %."""
    k.swap_total = k.swap_free = swap_pages
    if swap_pages:
        k.nswap_lowat = swap_pages * 4 // 100
        k.nswap_hiwat = swap_pages * 6 // 100
    else:
        k.nswap_lowat, k.nswap_hiwat = 128, 512


def setup_kmalloc(k: Kernel, sc: Scenario) -> None:
    """malloc_init() of the kmalloc_obj types: SWAPMETA and MAP ENTRY when on kmalloc_obj, the workload's own."""
    al = sc.allocators
    types = [(name, kind is AllocatorKind.KMALLOC_OBJ, size) for name, kind, size in (
        ("SWAPMETA", al.swapmeta, SWBLOCK_SIZE),
        ("MAP ENTRY", al.mapentry, MAP_ENTRY_SIZE),
    )]
    types += [(obj.name, True, obj.size) for obj in al.kmalloc_obj]
    for name, on_kmalloc_obj, size in types:
        if not on_kmalloc_obj:
            continue
        objsize = cacheline_align(size)
        ty = KmallocType(
            name=name,
            objsize=objsize,
            ncount=malloc_mgt_init_count(objsize),
            active=[-1] * k.ncpus,
            alternate=[-1] * k.ncpus,
        )
        mitigated = name in TYPE_NAMES
        if mitigated and "reserved-slab" in k.mitigations:
            ty.reserved_slab = 1
            take_slab_pages(k, 1)
        if name == "SWAPMETA" and "nowait-reserve" in k.mitigations:
            take_slab_pages(k, 1)
            ty.reserve = new_slab(k, ty, 0)
            k.slabs[ty.reserve].where = "reserve"
        k.ktypes[name] = ty
    k.kmslab_free = [al.kmslab_cache] * k.ncpus
    take_slab_pages(k, al.kmslab_cache * k.ncpus)


def kobj_configs(k: Kernel, sc: Scenario) -> tuple[KobjCfg, ...]:
    """Who allocates each workload kmalloc_obj type, once the threads exist."""
    owners = {t.name: t.tid for t in k.threads if t.kind is ThreadKind.PROC}
    return tuple(
        KobjCfg(
            ktype=len(TYPE_NAMES) + i,
            owner=owners[obj.owner],
            rate=obj.rate,
            lifetime=-1 if obj.lifetime is None else max(1, ticks(obj.lifetime, k.hz)),
        )
        for i, obj in enumerate(sc.allocators.kmalloc_obj)
    )


def take_slab_pages(k: Kernel, nslabs: int) -> None:
    n = nslabs * KMALLOC_SLAB_PAGES
    k.free -= n
    k.wired += n
    k.slab_pages += n


def setup_zones(k: Kernel, sc: Scenario, v_page_count: int, physmem: int) -> None:
    if sc.allocators.swapmeta is AllocatorKind.ZALLOC:
        # swap_pager_swap_init(): n = max(v_page_count/2, maxswzone/sizeof(swblock)),
        # maxswzone clamped to physmem/2; the KVA for n items is reserved up front.
        n = max(v_page_count // 2, (physmem // 2) // SWBLOCK_SIZE)
        zsize = -(-SWBLOCK_SIZE // ZONE_ROUNDING) * ZONE_ROUNDING
        z = Zone(
            name="SWAPMETA",
            zsize=zsize,
            interrupt=True,
            zfreemin=PAGE_SIZE // zsize,
            zpagemax=-(-zsize * n // PAGE_SIZE),
        )
        # ZONE_INTERRUPT zones are pre-populated with one refill at zinit.
        k.free -= ZONE_MAXPGLOAD
        k.wired += ZONE_MAXPGLOAD
        z.zfreecnt = zone_refill_items(z, ZONE_MAXPGLOAD)
        k.zones["SWAPMETA"] = z
    if sc.allocators.mapentry is AllocatorKind.ZALLOC:
        # zbootinit(): static boot entries, zsize unrounded (ZONE_BOOT); zinitna sets zfreemin.
        boot_items = sc.allocators.mapent_boot
        k.zones["MAP ENTRY"] = Zone(
            name="MAP ENTRY",
            zsize=MAP_ENTRY_SIZE,
            interrupt=False,
            zfreecnt=boot_items,
            ztotal=boot_items,
            zbytes=boot_items * MAP_ENTRY_SIZE,
            zfreemin=PAGE_SIZE // MAP_ENTRY_SIZE,
        )


def setup_rx_ring(k: Kernel) -> None:
    """em_init_rx_ring(): every RX descriptor gets a cluster, M_WAITOK, at attach."""
    k.nic_clusters = k.cfg.intr_ring
    k.nic_zones = -(-k.cfg.intr_ring // ZONE_CLUSTERS)
    k.free -= k.nic_zones * ZONE_PAGES
    k.wired += k.nic_zones * ZONE_PAGES


def setup_map_entries(k: Kernel) -> None:
    """vm_map_entry_reserve_cpu_init(): avail -8, a static cushion not credited to it."""
    k.gd_vme_avail = [-2 * MAP_RESERVE_COUNT] * k.ncpus
    k.gd_vme_base = [MAPENTRYBSP_CACHE if cpu == 0 else MAPENTRYAP_CACHE for cpu in range(k.ncpus)]


def setup_threads(k: Kernel, sc: Scenario) -> None:
    def add(name: str, kind: ThreadKind, frame, cpu: int = 0, systhread: bool = False, nice: int = 0) -> Thread:
        t = Thread(tid=len(k.threads), name=name, kind=kind, cpu=cpu % k.ncpus, systhread=systhread, nice=nice)
        t.frames.append(frame)
        k.threads.append(t)
        return t

    add("pagedaemon", ThreadKind.PAGEDAEMON, PageoutFrame(), 0, systhread=True)
    add("emergpager", ThreadKind.EMERGPAGER, PageoutFrame(), 1, systhread=True)
    add("kmalloc_poller", ThreadKind.KMALLOC_POLLER, PollerFrame(), 0)
    if k.cfg.intr_rate:
        add("em0", ThreadKind.INTR, IthreadFrame(), 0)
    for i, proc in enumerate(sc.process):
        t = add(proc.name, ThreadKind.PROC, UserFrame(), i, nice=proc.nice)
        t.pid = FIRST_PID + i
        cfg = k.cfg.procs[i]
        spawn_objects(k, t, cfg.region, cfg.working_set)
