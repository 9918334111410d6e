"""The hazard report: the closest approaches of a run, and one paragraph on why it survived or wedged."""

from __future__ import annotations

from .callpath import callpath
from .hazard import EPISODES, PAGERS, floor_of
from .kern_kmalloc import KMALLOC_SLAB_PAGES
from .kern_slaballoc import slab_page_class
from .snapshot import HazardView, VerdictView
from .state import Kernel, KmemAlloc3Frame, SlabAllocFrame
from .vm_page import VM_ALLOC_NORMAL, class_name

KEEP = 50  # closest approaches a report keeps


def hazard_view(record: tuple) -> HazardView:
    (where, s0, t0, s1, t1, what, pages, req, floor_name, floor, margin, need, below, outcome, thread) = record
    return HazardView(thread, where, s0, t0, s1, t1, what, pages, class_name(req), floor_name, floor, margin, need, below, outcome)


def keep_closest(kept: list[HazardView], new: list[HazardView]) -> list[HazardView]:
    """The KEEP closest approaches, closest (lowest margin) first, earliest first among equals."""
    return sorted(kept + new, key=lambda h: (h.lowest_margin, h.step))[:KEEP]


def open_episodes(k: Kernel) -> list[HazardView]:
    """Pagers' allocations still running at the verdict."""
    out = []
    for t in k.threads:
        if t.kind not in PAGERS:
            continue
        for f in t.frames:
            if not isinstance(f, EPISODES) or f.t0 < 0:
                continue
            if isinstance(f, SlabAllocFrame):
                req, pages = slab_page_class(f.flags), KMALLOC_SLAB_PAGES
                what = f"kmalloc_obj slab for {k.cfg.ktype_names[f.ktype]} (kmem_slab_alloc, 32 pages)"
            else:
                req, pages, what = VM_ALLOC_NORMAL, f.npages, f"MAP ENTRY zone refill (kmem_alloc3, {f.npages} pages)"
            name, floor = floor_of(k, t, req)
            out.append(
                HazardView(
                    t.name, callpath(t, k), f.s0, f.t0, k.step, k.tick, what, pages,
                    class_name(req | (0x02 if t.systhread else 0)), name, floor, f.low_margin, f.low_need,
                    tuple(sorted(f.below.items())), f"open, {f.held} of {pages} pages held",
                )
            )
    return out


def seconds(k: Kernel, tick: int) -> str:
    return f"{tick / k.hz:.2f} s"


def taken_text(h: HazardView) -> str:
    if not h.taken_below_severe:
        return "nobody else took a page below v_free_severe meanwhile"
    parts = ", ".join(f"{who} {n}" for who, n in h.taken_below_severe)
    return f"meanwhile others took pages below v_free_severe: {parts}"


def why(k: Kernel, view: VerdictView, hazards: tuple[HazardView, ...], count: int) -> str:
    """One paragraph in kernel terms."""
    th = k.th
    if view.kind in ("livelock", "deadlock"):
        waiting = [h for h in hazards if h.lowest_margin < 0 and h.outcome.startswith("open")]
        if waiting:
            h = waiting[0]
            have = h.lowest_margin + h.floor + h.pages_needed_then
            return (
                f"Why it wedged: {h.thread} is in {h.allocation}, page class {h.page_class}. Each page needs"
                f" free+cache of at least {h.floor} ({h.floor_name}), so the {h.pages_needed_then} pages it still"
                f" needs take free+cache {h.floor + h.pages_needed_then - 1} or more; it found {have},"
                f" {-h.lowest_margin} short. Only the pagers make free pages out of dirty ones, and they are the"
                f" ones waiting. {taken_text(h).capitalize()}."
            )
        return ""
    if k.swapmeta_kind == "zalloc":
        closest = next((h for h in hazards if h.allocation.startswith("zalloc")), None)
        refills = f"; of {count} refills by the pagers the closest found free at {closest.lowest_margin + 1}" if closest else ""
        return (
            "Why there is no SWAPMETA hazard: swblocks come from zalloc's ZONE_INTERRUPT zone, whose KVA"
            " swap_pager_swap_init reserved at boot; a refill maps pages taken with VM_ALLOC_INTERRUPT, which"
            " may take the last free page, one page gives 12 swblocks, and the zfreemin stock covers a refill"
            f" that gets none{refills}."
        )
    slab = [h for h in hazards if "slab" in h.allocation]
    ty = k.ktypes.get("SWAPMETA")
    if not slab:
        blank = f", {ty.slabs_from_blank} of them blank slabs from gd_kmslab" if ty and ty.slabs_from_blank else ""
        formed = ty.slabs_from_blank + ty.slabs_allocated if ty else 0
        return (
            "Why it survived: the pagers never assembled a slab from kmem_slab_alloc; SWAPMETA's swblocks"
            f" ({ty.ncount if ty else 398} to a slab) fit in the {formed} slabs formed{blank}."
        )
    h = slab[0]
    return (
        f"Why it survived: the pagers assembled {ty.slabs_allocated if ty else len(slab)} slabs with"
        f" kmem_slab_alloc. At the closest approach ({h.thread}, step {h.step}, {seconds(k, h.tick)}),"
        f" free+cache stood {h.lowest_margin} pages above what the last {h.pages_needed_then} pages of the 32-page"
        f" slab needed ({h.page_class} stops at {h.floor_name} {th.v_interrupt_free_min}). A wedge needs"
        f" {h.pages_to_wedge} more pages taken below v_free_severe ({th.v_free_severe}) by SYSTEM-class consumers"
        f" (buffer-cache reads, kmalloc M_NOWAIT) while a slab is assembled; user faults stop at v_free_severe"
        f" and cannot do it. {taken_text(h).capitalize()}."
    )
