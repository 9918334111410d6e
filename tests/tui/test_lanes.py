"""The thread timeline's cells: what each thread did most in a column's samples (lanes.lane_kinds)."""

from ztui.core.history import HistoryView, LaneState, Sample
from ztui.tui.panes.lanes import lane_kinds
from ztui.tui.panes.plot import STEPS, XAxis

RAN = LaneState("R", True, "", "user")
READY = LaneState("R", False, "", "user")
VMWAIT = LaneState("S", False, "vmwait", "vm_wait")
ASLEEP = LaneState("S", False, "psleep", "tsleep")
STATES = [RAN, READY, VMWAIT, ASLEEP]


def sample(step: int, *lanes: LaneState) -> Sample:
    return Sample(step, step, 0, 0, 0, 0, 0, 0, 0, tuple(STATES.index(lane) for lane in lanes))


def kinds(samples: list[Sample], cells: int, hi: int) -> list[list[str]]:
    view = HistoryView(samples, len(samples), STATES, ("a", "b"), 1)
    return lane_kinds(view, XAxis(STEPS, 0, hi, cells), 2)


def test_the_most_samples_win_and_a_tie_goes_to_the_more_telling_state():
    samples = [sample(0, RAN, ASLEEP), sample(1, READY, VMWAIT), sample(2, READY, ASLEEP),  # column 0
               sample(10, ASLEEP, VMWAIT), sample(11, VMWAIT, ASLEEP)]  # column 1: each a tie
    a, b = kinds(samples, cells=2, hi=20)
    assert a == ["ready", "memory"]  # 2 ready beat 1 ran; memory is more telling than asleep
    assert b == ["asleep", "memory"]


def test_a_column_without_samples_holds_the_one_before_and_nothing_is_known_past_the_last():
    samples = [sample(0, RAN, VMWAIT), sample(25, READY, ASLEEP)]
    a, b = kinds(samples, cells=5, hi=50)  # columns of 10 steps: samples in 0 and 2
    assert a == ["run", "run", "ready", "exited", "exited"]
    assert b == ["memory", "memory", "asleep", "exited", "exited"]
