"""Rows describing a zone's backing allocator (zalloc or kmalloc_obj), shared by two panes."""

from __future__ import annotations

from rich.text import Text

from ztui.core.snapshot import AllocatorView, AssemblyView, SlabView
from ztui.tui.panes.base import Row, SnapshotPane
from ztui.tui.panes.draw import bar, ratio

ZALLOC_SHOWN = ("zfreecnt", "zfreemin", "zpagecount", "zpagemax")


def allocator_rows(pane: SnapshotPane, view: AllocatorView, width: int) -> list[Row]:
    if view.kind == "kmalloc_obj":
        return kmalloc_obj_rows(pane, view, width)
    return zalloc_rows(pane, view, width)


def assembly_rows(pane: SnapshotPane, view: AllocatorView, width: int) -> list[Row]:
    return [Row(assembly_text(pane, a, width), 0) for a in view.assembling]


def header_text(pane: SnapshotPane, view: AllocatorView) -> Text:
    geometry = view.geometry
    if view.kind == "kmalloc_obj":
        shape = f"{geometry.get('objects_per_slab', '?')}/slab × {geometry.get('objsize', '?')}B"
    else:
        shape = f"{geometry.get('items_per_page', '?')}/page × {geometry.get('zsize', '?')}B"
    style = pane.style("chain") if view.zone in pane.chain.resources else pane.style("label")
    text = Text(f"{view.zone} ", style=style)
    text.append(f"{view.kind} ", style=pane.style("warn" if view.kind == "kmalloc_obj" else "good"))
    text.append(f"{shape}  in use {view.in_use}", style=pane.style("dim"))
    return text


def none_left_level(pane: SnapshotPane, view: AllocatorView, exhausted: bool) -> str:
    """An empty stock is a fact until someone needs it: red only when the verdict names this zone,
    yellow while a refill is under way, neutral otherwise (so nothing alarms at step 0)."""
    if not exhausted:
        return "good"
    if view.zone in pane.chain.resources:
        return "bad"
    return "warn" if view.assembling else "dim"


def kmalloc_obj_rows(pane: SnapshotPane, view: AllocatorView, width: int) -> list[Row]:
    rows = [Row(header_text(pane, view), 2)]
    by_list: dict[str, list[SlabView]] = {}
    for slab in view.slabs:
        by_list.setdefault(slab.where, []).append(slab)
    for where, rank in (("active", 0), ("alternate", 2)):
        slabs = by_list.get(where) or []
        if slabs:
            rows.append(Row(slab_text(pane, where, slabs[0], width), rank))
        else:
            rows.append(Row(Text(f"{where:<10}none", style=pane.style("dim")), rank))
    counts = Text("lists ", style=pane.style("label"))
    for name in ("partial", "full", "empty"):
        counts.append(f"{name} {len(by_list.get(name, []))}  ")
    rows.append(Row(counts, 1))
    blank_style = pane.style("chain") if "gd_kmslab" in pane.chain.resources else pane.style("label")
    blank = Text("gd_kmslab ", style=blank_style)
    blank.append(f"{view.blank_slabs} blank slab{'s' if view.blank_slabs != 1 else ''}",
                 style=pane.style(none_left_level(pane, view, view.blank_slabs == 0)))
    rows.append(Row(blank, 0))
    rows += assembly_rows(pane, view, width)
    # With room to spare, every slab on the global lists, with its occupancy.
    for name in ("partial", "full", "empty"):
        for slab in by_list.get(name, []):
            rows.append(Row(slab_text(pane, name, slab, width), 6))
    rows.append(Row(Text("full = all free, empty = none free", style=pane.style("dim")), 7))
    return rows


def slab_text(pane: SnapshotPane, where: str, slab: SlabView, width: int) -> Text:
    used = slab.ncount - slab.nfree
    label = f"{where:<10}#{slab.sid:<4}"
    numbers = f" {used:>4}/{slab.ncount} used"
    text = Text(label, style=pane.style("label"))
    text.append(bar(ratio(used, slab.ncount), max(width - len(label) - len(numbers), 3)),
                style=pane.style("bad" if slab.nfree == 0 else "good"))
    text.append(numbers)
    return text


def zalloc_rows(pane: SnapshotPane, view: AllocatorView, width: int) -> list[Row]:
    state = view.state
    rows = [Row(header_text(pane, view), 2)]
    free, freemin = state.get("zfreecnt", 0), state.get("zfreemin", 0)
    pool = Text("pool  ", style=pane.style("label"))
    pool.append(f"zfreecnt {free}  zfreemin {freemin}",
                style=pane.style(none_left_level(pane, view, free <= freemin)))
    rows.append(Row(pool, 0))
    mapped, limit = state.get("zpagecount", 0), state.get("zpagemax", 0)
    numbers = f"zpagecount {mapped}/zpagemax {limit} "
    pages = Text("pages ", style=pane.style("label"))
    pages.append(numbers)
    pages.append(bar(ratio(mapped, limit), max(width - 6 - len(numbers), 3)),
                 style=pane.style("bad" if limit and mapped >= limit else "good"))
    rows.append(Row(pages, 0))
    rows += assembly_rows(pane, view, width)
    others = [f"{k} {v}" for k, v in state.items() if k not in ZALLOC_SHOWN]
    if others:
        rows.append(Row(Text("  ".join(others), style=pane.style("dim")), 5))
    return rows


def assembly_text(pane: SnapshotPane, assembly: AssemblyView, width: int) -> Text:
    """A slab or refill being put together page by page, with the pages it holds (the bar if room)."""
    label = f"{assembly.thread} {assembly.function} "
    numbers = f" {assembly.pages_held}/{assembly.pages_needed} held"
    style = pane.style("chain") if assembly.thread in pane.chain.threads else pane.style("warn")
    text = Text(label, style=style)
    room = width - len(label) - len(numbers)
    if room >= 3:
        text.append(bar(ratio(assembly.pages_held, assembly.pages_needed), room), style=pane.style("warn"))
    text.append(numbers)
    return text
