"""The clock and batching (core/kern_synch.py): how many like steps a thread may take at once."""

from ztui.core.boot import boot
from ztui.core.kern_synch import STEP_UNITS, VISIT_UNITS, made_free, now, slice_room
from ztui.core.state import ReadReq

from .helpers import small_scenario


def kernel_in_a_slice():
    k = boot(small_scenario(), 0)
    k.slice_left, k.tick_units = 64, 0
    return k


def test_a_batch_is_bounded_by_the_slice_and_the_tick():
    k = kernel_in_a_slice()
    assert slice_room(k) == 64
    k.tick_units = k.tick_budget - 5 * STEP_UNITS
    assert slice_room(k) == 5
    assert slice_room(k, VISIT_UNITS) == 40


def test_a_batch_stops_where_an_io_completes():
    """biodone runs between steps (Simulator._complete_io): a batch must not carry a thread past it."""
    k = kernel_in_a_slice()
    k.reads.append(ReadReq(done_at=now(k) + 2 * STEP_UNITS + 1, tid=0))
    assert slice_room(k) == 3, "after the third step the read is done"
    assert slice_room(k, VISIT_UNITS) == 2 * STEP_UNITS + 1


def test_freeing_pages_is_progress_and_marks_the_thread_a_source_of_memory():
    """made_free: the verdict rules read freed_tick to find who can still feed a wait (verdict.live_source)."""
    k = boot(small_scenario(), 0)
    t = k.threads[-1]
    k.actor, k.tick = t.tid, 42
    made_free(k)
    assert (t.progress_tick, t.freed_tick) == (42, 42)
