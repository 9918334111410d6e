"""The hazard report: the closest approaches of a run, and one paragraph on why it survived or wedged."""

from __future__ import annotations

from .callpath import callpath
from .hazard import EPISODES, PAGERS, class_floor, floor_of
from .kern_kmalloc import KMALLOC_SLAB_PAGES, slab_alloc_flags
from .kern_slaballoc import slab_page_class
from .snapshot import HazardView, LowWaterView, VerdictView
from .state import Kernel, SlabAllocFrame
from .swap_pager import M_NULLOK_INTWAIT
from .vm_page import VM_ALLOC_NORMAL, VM_ALLOC_SYSTEM, class_name

KEEP = 50  # closest approaches a report keeps


def hazard_view(record: tuple) -> HazardView:
    (where, s0, t0, s1, t1, what, pages, req, floor_name, floor, margin, need, true, below, outcome, thread) = record
    return HazardView(
        thread, where, s0, t0, s1, t1, what, pages, class_name(req), floor_name, floor, margin, need, true, below, outcome
    )


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
                    class_name(req | (VM_ALLOC_SYSTEM if t.systhread else 0)), name, floor, f.low_margin, f.low_need,
                    f.low_true, tuple(sorted(f.below.items())), f"open, {f.held} of {pages} pages held",
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


def why(k: Kernel, view: VerdictView, hazards: tuple[HazardView, ...], count: int, low: LowWaterView | None) -> str:
    """One paragraph in kernel terms."""
    if view.kind in ("livelock", "deadlock"):
        return _why_wedged(hazards)
    if k.swapmeta_kind == "zalloc":
        return _why_zalloc(hazards, count) + low_water_text(k, low)
    return _why_kmalloc_obj(k, hazards) + low_water_text(k, low)


def _why_wedged(hazards: tuple[HazardView, ...]) -> str:
    """The allocation the pagers wait in (or, if they gave up, the latest that fell short)."""
    short = [h for h in hazards if h.lowest_margin < 0 and h.outcome != "completed"]
    if not short:
        return ""
    waiting = [h for h in short if h.outcome.startswith("open")]
    h = waiting[0] if waiting else max(short, key=lambda h: h.end_step)
    have = h.lowest_margin + h.floor + h.pages_needed_then - 1
    where = f"is in {h.allocation}" if waiting else f"last tried {h.allocation} and {h.outcome}"
    return (
        f"Why it wedged: {h.thread} {where}, page class {h.page_class}. Each page needs"
        f" free+cache of at least {h.floor} ({h.floor_name}), so the {h.pages_needed_then} pages it still"
        f" needed take free+cache {h.floor + h.pages_needed_then - 1} or more; it found {have},"
        f" {-h.lowest_margin} short. Only the pagers make free pages out of dirty ones, and they are the"
        f" ones waiting. {taken_text(h).capitalize()}."
    )


def _why_zalloc(hazards: tuple[HazardView, ...], count: int) -> str:
    closest = next((h for h in hazards if h.allocation.startswith("zalloc")), None)
    refills = f"; of {count} refills by the pagers the closest found free at {closest.lowest_margin + 1}" if closest else ""
    return (
        "Why there is no SWAPMETA hazard: swblocks come from zalloc's ZONE_INTERRUPT zone, whose KVA"
        " swap_pager_swap_init reserved at boot; a refill maps pages taken with VM_ALLOC_INTERRUPT, which"
        " may take the last free page, one page gives 12 swblocks, and the zfreemin stock covers a refill"
        f" that gets none{refills}."
    )


def _why_kmalloc_obj(k: Kernel, hazards: tuple[HazardView, ...]) -> str:
    slab = [h for h in hazards if "slab" in h.allocation]
    ty = k.ktypes.get("SWAPMETA")
    if not slab:
        blank = f", {ty.slabs_from_blank} of them blank slabs from gd_kmslab" if ty and ty.slabs_from_blank else ""
        formed = ty.slabs_from_blank + ty.slabs_allocated if ty else 0
        if not formed:
            return "Why it survived: nothing was swapped out, so SWAPMETA never needed a swblock."
        return (
            "Why it survived: the pagers never assembled a slab from kmem_slab_alloc; SWAPMETA's swblocks"
            f" ({ty.ncount if ty else 398} to a slab) fit in the {formed} slabs formed{blank}."
        )
    h = slab[0]
    assembled = f"Why it survived: the pagers assembled {ty.slabs_allocated if ty else len(slab)} slabs with kmem_slab_alloc."
    if h.lowest_margin < 0:
        closest = f"{assembled} The closest ({h.thread}, from step {h.step}, {seconds(k, h.tick)})"
        waited = f"{(h.end_tick - h.tick) / k.hz:.2f} s in vm_wait"
        if h.stale_view:
            why_wait = (
                f" waited {waited} for memory that was there: its CPU's copy of the counts put free+cache"
                f" {-h.lowest_margin} pages short of what the slab needed, while the true count was"
                f" {h.true_free_cache}. The copy lags the other CPUs' frees until hardclock, and vm_page_alloc fails"
                f" a {h.page_class} request on the copy without rolling it up (vm_page.c:2587-2664)."
            )
        else:
            why_wait = (
                f" had to wait: it was {-h.lowest_margin} page{'s' if h.lowest_margin != -1 else ''} short with"
                f" {h.pages_needed_then} of its 32 to go, and waited {waited} until others freed memory (a process"
                " freeing or exiting, the other pager caching clean pages): a wedge needs only that nobody does."
            )
        return f"{closest}{why_wait} {taken_text(h).capitalize()}."
    return (
        f"{assembled} The closest ({h.thread}, from step {h.step}, {seconds(k, h.tick)}) had"
        f" {h.lowest_margin} pages to spare when it still needed {h.pages_needed_then} of its 32 ({h.page_class}"
        f" pages are had while free+cache >= {h.floor_name}, {h.floor}): {h.pages_to_wedge} more taken by"
        f" others while it was assembled would have made it wait. {taken_text(h).capitalize()}."
    )


def pager_slab_class(k: Kernel) -> int:
    """The class of a pager's SWAPMETA slab pages: the flags _kmalloc_obj gives kmem_slab_alloc for
    swp_pager_meta_build's M_NULLOK|M_INTWAIT, mapped to a page class, with SYSTEM for a TDF_SYSTHREAD."""
    return slab_page_class(slab_alloc_flags(k, M_NULLOK_INTWAIT)) | VM_ALLOC_SYSTEM


def low_water_text(k: Kernel, low: LowWaterView | None) -> str:
    """Where free+cache bottomed out, how it got below v_free_severe, and what a slab begun then would have met."""
    th = k.th
    if low is None:
        return f" Free+cache never fell below v_free_min ({th.v_free_min})."
    text = f" Free+cache fell lowest to {low.pages} pages at {seconds(k, low.tick)} (step {low.step})"
    if low.during is not None:
        h = low.during
        return text + f", while {h.thread} was in {h.allocation} (its margin then at most {h.lowest_margin})."
    if low.pages < th.v_free_severe:
        if k.ncpus > 1:
            text += (
                f": user faults stop at v_free_severe ({th.v_free_severe}) only as their CPU's vmstats copy sees it,"
                f" and on {k.ncpus} CPUs each copy lags the others' allocations until hardclock rolls them up"
            )
        else:
            text += ", below v_free_severe: SYSTEM-class takers (buffer-cache reads, kmalloc M_NOWAIT) went on"
    if k.swapmeta_kind == "zalloc":
        return text + "; a zalloc refill needs only one free page."
    req = pager_slab_class(k)
    floor_name, floor = class_floor(k, req)
    gettable = max(0, low.pages - floor + 1)
    text += "; no pager was assembling a slab at that moment"
    if gettable < KMALLOC_SLAB_PAGES:
        return text + (
            f". A SWAPMETA slab begun then, with gd_kmslab empty, would have got {gettable} of its 32 pages"
            f" (a pager's {class_name(req)} pages are had while free+cache >= {floor_name}"
            f"{'' if floor_name.startswith(str(floor)) else f', {floor}'})"
            " and waited in vm_wait for the rest, the pager stopped until a process freed memory: in"
            " swapmeta-kmalloc-obj-storm none does, and both pagers livelock."
        )
    return text + "."
