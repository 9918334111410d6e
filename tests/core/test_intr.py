"""em(4) receive: the RX ring, M_NOWAIT mbuf clusters, the socket buffer (if_em.c, uipc_mbuf.c, kern_slaballoc.c)."""

import attrs

from ztui.core.boot import boot
from ztui.core.frames import HANDLERS
from ztui.core.intr import ZONE_CLUSTERS, ZONE_PAGES, soreceive
from ztui.core.simulator import Simulator
from ztui.scenario.model import Interrupt, Rate, Size

from .helpers import small_scenario


def nic_scenario(rate_mb: int, consumer: str | None = "hog", sockbuf_kib: int = 512, **kw):
    scenario = small_scenario(**kw)
    interrupt = Interrupt(rate=Rate(rate_mb << 20), hold=scenario.interrupt.hold, consumer=consumer, sockbuf=Size(sockbuf_kib << 10))
    return attrs.evolve(scenario, interrupt=interrupt)


def em0(k):
    return next(t for t in k.threads if t.name == "em0")


def test_the_ring_holds_its_clusters_from_boot():
    """em_init_rx_ring: hw.em.rxd (512) clusters, M_WAITOK, in 128 KiB kmalloc zones of 64 clusters."""
    k = boot(nic_scenario(10), 0)
    assert k.nic_clusters == 512 and k.nic_zones == 512 // ZONE_CLUSTERS
    assert k.page_total() == k.th.v_page_count


def test_a_new_zone_takes_system_class_pages_and_never_dips_below_v_interrupt_free_min():
    """M_NOWAIT -> VM_ALLOC_SYSTEM (kern_slaballoc.c:1719-1746): with cache pages around, not below reserved;
    with none, not below v_interrupt_free_min; all 32 pages or none."""
    k = boot(nic_scenario(40), 0)
    t = em0(k)
    k.cfg = attrs.evolve(k.cfg, intr_hold_ticks=10_000)  # the reader never keeps up
    imin = k.th.v_interrupt_free_min
    k.wired += k.free - (imin + 40)
    k.kernel_wired += k.free - (imin + 40)
    k.free = imin + 40
    zones = k.nic_zones
    for _ in range(20):
        HANDLERS[type(t.frames[0])](k, t, t.frames[0])
        k.tick += 1
    assert k.nic_zones == zones + 1, "one zone fit (32 pages), the next did not"
    assert k.free == imin + 8 and k.intr_dropped > 0
    assert k.sockbuf_clusters == ZONE_CLUSTERS, "no packet went to the socket without a cluster to refill the ring"


def test_the_socket_buffer_bounds_what_a_blocked_reader_pins():
    """A full socket buffer drops the packet and frees its cluster (sbappend fails): memory stays bounded."""
    k = boot(nic_scenario(80, sockbuf_kib=256), 0)
    t = em0(k)
    reader = next(p for p in k.threads if p.name == "hog")
    reader.state, reader.wmesg = "S", "pfault"  # blocked in the kernel: it reads nothing
    for _ in range(100):
        HANDLERS[type(t.frames[0])](k, t, t.frames[0])
        soreceive(k)
        k.tick += 1
    assert k.sockbuf_clusters == 256 * 1024 // 2048
    # ring + socket buffer, and one more: em_newbuf refills the ring before the packet reaches the full socket
    assert k.nic_zones == -(-(512 + 128 + 1) // ZONE_CLUSTERS)
    reader.state, reader.wmesg = "R", ""
    k.tick += k.cfg.intr_hold_ticks
    soreceive(k)
    assert k.sockbuf_clusters == 0 and k.nic_clusters == 512
    assert k.nic_zones * ZONE_PAGES == 11 * 32, "zones stay with kmalloc (fewer than ZoneRelsThresh free)"


def test_a_run_with_network_load_keeps_every_invariant():
    sim = Simulator.from_scenario(nic_scenario(80, procs=(("hog", (("alloc", 9), ("churn", 2), ("exit", 0))),)), check_every=1)
    sim.run(max_steps=60_000)
    assert sim.k.nic_clusters >= 512
