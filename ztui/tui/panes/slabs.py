"""swblock slabs: SWAPMETA's allocator as it really is (kmalloc_obj slabs or zalloc pool)."""

from __future__ import annotations

from ztui.core.snapshot import Snapshot
from ztui.tui.panes.allocator import allocator_rows
from ztui.tui.panes.base import LinePane, Row


class SlabsPane(LinePane):
    TITLE = "swblock slabs"
    RESOURCES = frozenset({"SWAPMETA", "swblock", "gd_kmslab", "kmalloc_obj", "zfreemin"})

    def content(self, snapshot: Snapshot) -> object:
        return snapshot.swapmeta

    def rows(self, width: int) -> list[Row]:
        return allocator_rows(self, self.drawn.swapmeta, width)
