"""Map-entry reserve: per-CPU gd_vme_avail and cushion, the MAP ENTRY zone, refills, recursion."""

from __future__ import annotations

import attrs
from rich.text import Text

from ztui.core.snapshot import Snapshot
from ztui.tui.panes.allocator import allocator_rows, assembly_text
from ztui.tui.panes.base import LinePane, Row


class MapEntryPane(LinePane):
    TITLE = "Map-entry reserve"
    RESOURCES = frozenset({"MAP ENTRY", "gd_vme_avail", "gd_vme_base", "cushion", "mapentzone", "kernel_map"})

    def content(self, snapshot: Snapshot) -> object:
        return snapshot.mapentry

    def rows(self, width: int) -> list[Row]:
        view = self.drawn.mapentry
        rows = []
        avail_style = self.style("chain") if "gd_vme_avail" in self.chain.resources else self.style("label")
        for cpu in view.cpus:
            text = Text(f"cpu{cpu.cpu} ", style=self.style("label"))
            text.append("gd_vme_avail ", style=avail_style)
            text.append(str(cpu.gd_vme_avail), style=self.style(self.avail_level(cpu.gd_vme_avail, view)))
            text.append(f" base {cpu.gd_vme_base} cushion {cpu.cushion}")
            rows.append(Row(text, 0 if cpu.cpu == 0 else 2))
        # The zone's own rows matter less here than the per-CPU cache above them.
        rows += [attrs.evolve(row, rank=row.rank + 1) for row in allocator_rows(self, view.zone, width)]
        rows += [Row(assembly_text(self, refill, width), 0) for refill in view.refill]
        if view.zone.kind == "kmalloc_obj" or view.recursion_depth:
            depth = Text("recursion depth ", style=self.style("label"))
            depth.append(str(view.recursion_depth), style=self.style("bad" if view.recursion_depth > 1 else "good"))
            depth.append("  vm_map_entry_reserve → kmalloc_obj → kmem_slab_alloc", style=self.style("dim"))
            rows.append(Row(depth, 0))
        return rows

    def avail_level(self, avail: int, view) -> str:
        """Below MAP_RESERVE_COUNT (4) a reservation must refill; an alarm only when that recurses
        or the verdict names it (boot can leave the count overdrawn: nothing is wrong yet)."""
        if avail >= 4:
            return "good"
        if "gd_vme_avail" in self.chain.resources or view.recursion_depth > 1:
            return "bad"
        return "warn" if view.recursion_depth or view.refill else "dim"
