"""Small text-drawing helpers shared by the panes (bars, numbers, times)."""

from __future__ import annotations

from ztui.core.vmstats import PAGE_SIZE

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """A horizontal bar ``width`` cells wide, filled to ``fraction`` in eighths of a cell."""
    if width <= 0:
        return ""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def ratio(part: int, whole: int) -> float:
    return part / whole if whole > 0 else 0.0


def size_of(n_pages: int) -> str:
    """A page count in binary units, e.g. 1.5M, 2.0G."""
    size = float(n_pages * PAGE_SIZE)
    for unit in ("K", "M", "G", "T"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f}{unit}" if size < 100 else f"{size:.0f}{unit}"
    return f"{size:.0f}P"


def seconds(tick: int, hz: int) -> str:
    return f"{tick / hz:.2f}s" if hz else f"{tick}t"


def fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells, marking the cut with an ellipsis."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"
