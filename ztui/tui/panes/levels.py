"""The free+cache thresholds as the gauge and the chart draw them: letters, a scale, how worried to look."""

from __future__ import annotations

# Lowest first, with the letter the gauge draws (the chart names them in full when it has room).
MARKERS = (
    ("I", "v_interrupt_free_min"),
    ("P", "v_pageout_free_min"),
    ("!", "v_free_severe"),
    ("R", "v_free_reserved"),
    ("m", "v_free_min"),
    ("w", "v_paging_wait"),
    ("s", "v_paging_start"),
    ("1", "v_paging_target1"),
    ("2", "v_paging_target2"),
)


class ThresholdScale:
    """free+cache placed on 0..1 so that each band between two thresholds gets the same room.

    The thresholds span 342..13425 pages on 2 GiB: on a linear scale the
    ones the deadlock turns on (I, P, !, R) would share a cell.  The gauge
    and the chart both use it, so the two read alike; ``top`` (the chart's
    largest value) gives the band above the highest threshold its end.
    """

    def __init__(self, vm: dict, top: int = 0) -> None:
        levels = sorted({vm.get(name, 0) for _, name in MARKERS} - {0})
        ceiling = levels[-1] * 5 // 4 if levels else 1
        self.knots = [0, *levels, max(ceiling, top)]

    def __call__(self, value: int) -> float:
        bands = len(self.knots) - 1
        for band in range(bands):
            low, high = self.knots[band], self.knots[band + 1]
            if value < high:
                return (band + (value - low) / (high - low)) / bands
        return 1.0


def level_of(free_cache: int, vm: dict) -> str:
    """How worried to look: fine above v_paging_start, paging above v_free_min, bad below."""
    if free_cache >= vm.get("v_paging_start", 0):
        return "good"
    if free_cache > vm.get("v_free_min", 0):
        return "warn"
    return "bad"
