"""The verdict rules of ztui/core/verdict.py, at their boundaries and on the cases that fooled the old rule."""

import attrs
import pytest

from ztui.core.boot import boot
from ztui.core.kern_synch import now
from ztui.core.simulator import Simulator
from ztui.core.state import IoReq, ReadReq, Verdict
from ztui.core.verdict import (
    check_stuck,
    deadlocked,
    floor_ticks,
    in_pass,
    live_source,
    waits_on,
    wedged,
    window_ticks,
    workload_complete,
)
from ztui.core.vm_pageout import PASS, TOP, WOKE
from ztui.scenario.bundled import resolve_scenario
from ztui.scenario.load import load_scenario
from ztui.scenario.model import USEC, Duration, Io, Phase, PhaseOp, Process, Rate, Size

from .helpers import MiB, small_scenario

TEACH = "teach-swapmeta-kmalloc-obj"


def at_livelock() -> Simulator:
    sim = Simulator.from_scenario(load_scenario(resolve_scenario(TEACH)), log=False)
    sim.run()
    assert sim.verdict.kind == "livelock"
    return sim


def test_a_wedge_needs_the_whole_window_without_progress():
    k = at_livelock().k
    k.verdict = Verdict.NONE
    window = window_ticks(k)
    assert check_stuck(k) is Verdict.LIVELOCK
    for t in k.threads:
        t.progress_tick = max(t.progress_tick, k.tick - window + 1)
    assert check_stuck(k) is Verdict.NONE
    assert wedged(k, window - 1), "one tick less and they are wedged"


def test_the_teaching_wedge_names_every_stuck_thread():
    sim = at_livelock()
    assert set(sim.verdict.threads) == {"pagedaemon", "emergpager", "hog", "builder"}
    assert "partial" not in sim.verdict.headline


def test_deadlock_when_nothing_timed_can_wake_the_wedge():
    k = at_livelock().k
    k.verdict = Verdict.NONE
    for t in wedged(k, window_ticks(k)):
        t.state, t.wake_tick = "S", -1  # as if vm_wait had no timeout
    assert check_stuck(k) is Verdict.DEADLOCK


def test_voluntary_sleep_is_not_stuck():
    k = at_livelock().k
    k.verdict = Verdict.NONE
    for t in k.threads:
        if t.kind == "proc":
            t.state, t.wchan, t.wmesg = "S", "", "nanslp"
    stuck = wedged(k, window_ticks(k))
    assert {t.name for t in stuck} == {"pagedaemon", "emergpager"}


def test_the_window_is_never_shorter_than_the_longest_latency_plus_three_seconds():
    scenario = small_scenario(swapmeta="zalloc")
    slow = attrs.evolve(scenario, io=Io(swap_write_latency=Duration(35 * USEC)))
    k = Simulator.from_scenario(slow).k
    assert floor_ticks(k) == 38 * k.hz and window_ticks(k) == 38 * k.hz
    assert window_ticks(Simulator.from_scenario(scenario).k) == 30 * k.hz, "run.livelock_window when longer"


def test_a_slow_swap_device_is_waiting_not_wedged():
    """Writes that take 35 s complete: the pagers wait for a pbuf with I/O in flight, which is progress in waiting."""
    scenario = small_scenario(
        physmem_mib=16, swap_mib=32, swapmeta="zalloc", procs=(("hog", (("alloc", 24), ("exit", 0))),)
    )
    run = attrs.evolve(scenario.run, max_time=Duration(100 * USEC))
    scenario = attrs.evolve(scenario, io=Io(swap_write_latency=Duration(35 * USEC)), run=run)
    sim = Simulator.from_scenario(scenario)
    verdict = sim.run()
    assert verdict.kind == "limit" and "still making progress" in verdict.headline, verdict.headline
    written = [e for e in sim.events if "written async" in e.text]
    assert len(written) > 4, "more writes than pbufs: some completed and freed theirs"


def wedge_plus_toucher():
    """The 8 MiB teaching wedge, plus a process that keeps touching its own resident pages."""
    scenario = load_scenario(resolve_scenario(TEACH))
    toucher = Process(
        "toucher",
        phases=(
            Phase(PhaseOp.ALLOC, pages=Size(256 * 1024)),
            Phase(PhaseOp.TOUCH, pages=Size(4096 * MiB), rate=Rate(1 * MiB)),
        ),
    )
    return attrs.evolve(scenario, process=scenario.process + (toucher,))


def test_a_wedge_is_reported_while_an_unrelated_process_keeps_running():
    """Progress is judged per wait chain: the toucher's touches free nothing the wedged threads wait for."""
    sim = Simulator.from_scenario(wedge_plus_toucher(), log=False)
    verdict = sim.run()
    assert verdict.kind == "livelock", verdict.headline
    assert "partial" in verdict.headline and "toucher" not in verdict.threads
    assert {"pagedaemon", "hog", "builder"} <= set(verdict.threads)
    assert any("still running, outside the wedge: toucher" in line for line in verdict.explanation)


def test_a_slab_assembled_from_a_trickle_of_pages_is_progress():
    """A pager that gets one page now and then for a slab it keeps is not wedged."""
    scenario = load_scenario(resolve_scenario(TEACH))
    freer = Process(
        "freer",
        phases=(
            Phase(PhaseOp.ALLOC, pages=Size(512 * 1024)),
            Phase(PhaseOp.SLEEP, time=Duration(3 * USEC)),
            Phase(PhaseOp.FREE, pages=Size(512 * 1024), rate=Rate(8 * 1024)),  # two pages a second
        ),
    )
    sim = Simulator.from_scenario(attrs.evolve(scenario, process=scenario.process + (freer,)), log=False)
    k = sim.k
    pd = k.threads[0]
    grew = []
    while sim.step() and k.tick < 40 * k.hz:
        slab = next((f for f in pd.frames if f.fn == "kmem_slab_alloc"), None)
        if slab is not None and (not grew or grew[-1][1] != slab.held):
            grew.append((k.tick, slab.held))
            assert pd.progress_tick == k.tick or slab.held == 0
    assert sim.verdict is None or sim.verdict.kind != "livelock", sim.verdict.headline
    assert len(grew) > 3, "the slab grew page by page"


def test_a_finished_workload_ends_ok_and_says_so():
    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-zalloc")))
    verdict = sim.run()
    assert verdict.kind == "ok" and "finished" in verdict.headline
    assert all(t.finished for t in sim.k.threads if t.kind == "proc")


def test_a_step_limit_ends_at_exactly_that_step_and_is_not_ok():
    scenario = load_scenario(resolve_scenario("teach-swapmeta-zalloc"))
    sim = Simulator.from_scenario(attrs.evolve(scenario, run=attrs.evolve(scenario.run, max_steps=777)))
    verdict = sim.run()
    assert (verdict.kind, sim.step_count) == ("limit", 777)
    assert "still making progress" in verdict.headline


def test_threads_stuck_when_the_limit_comes_are_named():
    """Reaching the limit inside a wedge shorter than the window: "stuck at the limit", never a bare ok."""
    scenario = load_scenario(resolve_scenario(TEACH))
    run = attrs.evolve(scenario.run, max_time=Duration(8 * USEC), livelock_window=Duration(30 * USEC))
    verdict = Simulator.from_scenario(attrs.evolve(scenario, run=run)).run()
    assert verdict.kind == "limit" and "stuck at the limit" in verdict.headline
    assert "pagedaemon" in verdict.threads


# --- each rule at its boundary --------------------------------------------------


def test_a_wedged_pager_is_not_deadlocked_when_only_one_of_the_wedge_sleeps_untimed():
    """check_stuck: deadlock only when *every* wedged thread sleeps without a timeout; one timed sleeper is a livelock."""
    k = at_livelock().k
    k.verdict = Verdict.NONE
    stuck = wedged(k, window_ticks(k))
    first = stuck[0]
    first.state, first.wake_tick = "S", -1
    assert check_stuck(k) is Verdict.LIVELOCK
    for t in stuck:
        t.state, t.wake_tick = "S", -1
    assert check_stuck(k) is Verdict.DEADLOCK


def all_asleep_untimed():
    """A small machine where every thread sleeps with no timeout and a process has work: deadlocked."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    for t in k.threads:
        t.state, t.wchan, t.wmesg, t.wake_tick = "S", "x", "vmwait", -1
    return k


@pytest.mark.parametrize("pending", ["nothing", "io", "reads", "sockbuf"])
def test_deadlock_needs_nothing_in_flight(pending):
    """deadlocked(): a swap write, a read, or packets waiting in a socket buffer will still wake or feed someone."""
    k = all_asleep_untimed()
    if pending == "io":
        k.io.append(IoReq(now(k) + 1, 0, 0, 1))
    elif pending == "reads":
        k.reads.append(ReadReq(now(k) + 1, k.threads[-1].tid))
    elif pending == "sockbuf":
        k.sockbuf.append((k.tick + 1, 1))
    assert deadlocked(k) is (pending == "nothing")


@pytest.mark.parametrize("pending,complete", [("nothing", True), ("vm_pages_needed", False), ("io", False), ("reads", False)])
def test_ok_needs_every_process_finished_and_the_pagers_idle(pending, complete):
    """workload_complete(): every phase done, no I/O in flight, and vm_pages_needed back at 0 (the pagers idle)."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    for t in k.threads:
        if t.kind == "proc":
            t.finished = True
    k.vm_pages_needed = 1 if pending == "vm_pages_needed" else 0
    if pending == "io":
        k.io.append(IoReq(now(k) + 1, 0, 0, 1))
    if pending == "reads":
        k.reads.append(ReadReq(now(k) + 1, k.threads[-1].tid))
    assert workload_complete(k) is complete


@pytest.mark.parametrize("ago,source", [(0, True), (-1, False)])
def test_a_thread_that_freed_pages_within_the_window_feeds_the_wedge(ago, source):
    """live_source, memory: another thread that freed pages less than a window ago (freed_tick > now - window) is a source."""
    k = at_livelock().k
    k.verdict = Verdict.NONE
    window = window_ticks(k)
    poller = next(t for t in k.threads if t.name == "kmalloc_poller")
    poller.freed_tick = k.tick - window + 1 + ago  # ago 0: the window's first tick; -1: the tick before it
    assert (wedged(k, window) == []) is source


def test_a_scanning_pager_with_writes_in_flight_is_not_wedged():
    """live_source: a pager waiting for memory while a swap write is in flight will cache the written pages."""
    k = at_livelock().k
    k.verdict = Verdict.NONE
    assert wedged(k, window_ticks(k))
    k.io.append(IoReq(now(k) + 10**9, 0, 0, 1))
    assert wedged(k, window_ticks(k)) == []


@pytest.mark.parametrize("pc,wmesg,passing", [(TOP, "psleep", False), (TOP, "pdelay", True), (WOKE, "", False), (PASS, "", True)])
def test_a_pager_between_two_short_passes_is_in_a_pass(pc, wmesg, passing):
    """in_pass: a pager past its wakeup, or asleep in pdelay between two short passes, has work; one in psleep does not."""
    k = boot(small_scenario(swapmeta="zalloc"), 0)
    pd = k.threads[0]
    pd.frames[0].pc, pd.wmesg = pc, wmesg
    assert in_pass(pd) is passing


@pytest.mark.parametrize(
    "state,wmesg,waits",
    [
        ("R", "", "memory"),  # retrying an allocation, or a pager scanning with nothing to take
        ("S", "pfault", "memory"),
        ("S", "vmwait", "memory"),
        ("S", "VMWait", "memory"),
        ("S", "pdelay", "memory"),
        ("S", "swzonxb", "memory"),
        ("D", "wswbuf2", "pbuf"),
        ("D", "vmpfw", "busy"),
        ("D", "objtrm2", "busy"),
        ("D", "zgetlk", "zgetlk"),
        ("D", "swread", "io"),
        ("D", "biord", "io"),
        ("S", "nanslp", "voluntary"),
    ],
)
def test_what_each_sleep_waits_for(state, wmesg, waits):
    """waits_on: the wait messages of the kernel's sleeps, sorted by what can end them."""
    t = boot(small_scenario(), 0).threads[-1]
    t.state, t.wmesg = state, wmesg
    assert waits_on(t) == waits


def test_a_zgetlk_waiter_is_fed_only_by_a_holder_outside_the_wedge():
    """live_source, zgetlk: the refill lock's holder will release it unless it is itself wedged."""
    k = boot(small_scenario(procs=(("a", (("alloc", 1), ("exit", 0))), ("b", (("alloc", 1), ("exit", 0))))), 0)
    waiter, holder = k.threads[-1], k.threads[-2]
    waiter.state, waiter.wchan, waiter.wmesg = "D", "zgetlk", "zgetlk"
    k.zones["MAP ENTRY"].zgetlk = holder.tid
    window = window_ticks(k)
    assert live_source(k, waiter, {waiter.tid}, window)
    assert not live_source(k, waiter, {waiter.tid, holder.tid}, window)
