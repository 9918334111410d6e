"""tsleep/wakeup, the clock and the scheduler (sys/kern/kern_synch.c, kern_clock.c).

The scheduler is deterministic: round-robin over thread ids, or a seeded
xorshift64 draw whose state lives in the Kernel, so clones replay alike.
Only runnable threads compete; with one runnable thread no draw is made.

Simplification: LWKT's thread priorities and preemption are not modelled.
A thread keeps the CPU for run.quantum steps or until it sleeps, and one
thread runs at a time; ncpus multiplies the CPU time a tick holds, and
each thread reads and updates the copy of the counts of the CPU it is on
(vmstats.py), so the per-CPU overshoot the kernel has is kept.  Which
interleaving the CPUs follow within a tick is the scheduler's choice, and
the seeded-random scheduler varies it: swapmeta-kmalloc-obj-storm
livelocks under 16 of 16 seeds and seed-2g-chrome-buildkernel survives
under 8 of 8 (docs/seed-answer.md), as under round-robin.

CPU time: a step (a page fault, a page cached or freed, a slab page) costs
STEP_UNITS; a scan's look at a page it leaves in place or only moves on its
queue (pmap_ts_referenced, act_count aging, the second chance) costs
VISIT_UNITS, an eighth of that: a pageout pass over a 2 GiB machine's
~46,000 pages then takes about 30 ms of one CPU at the default
steps_per_tick, in line with a pass of the real daemon.  A tick holds
steps_per_tick * ncpus * STEP_UNITS.
"""

from __future__ import annotations

from bisect import insort

from .state import DISK, RUN, SLEEP, Kernel, ReadReq, Thread


def tsleep(k: Kernel, t: Thread, wchan: str, wmesg: str, timo: int, state: str = SLEEP) -> None:
    """tsleep(): block ``t`` on ``wchan``; ``timo`` ticks, 0 for no timeout."""
    t.state = state
    t.wchan = wchan
    t.wmesg = wmesg
    t.wake_tick = k.tick + timo if timo > 0 else -1
    t.slept_at = k.tick
    t.timed_out = False


def setrunnable(t: Thread, timed_out: bool = False) -> None:
    t.state = RUN
    t.wchan = ""
    t.wmesg = ""
    t.wake_tick = -1
    t.timed_out = timed_out


def wakeup(k: Kernel, wchan: str) -> int:
    """wakeup(): make every thread sleeping on ``wchan`` runnable."""
    woken = 0
    for t in k.threads:
        if t.wchan == wchan and (t.state == SLEEP or t.state == DISK):
            setrunnable(t)
            woken += 1
    return woken


def sleeping_on(k: Kernel, wchan: str) -> bool:
    """Whether a wakeup() on ``wchan`` would make a thread runnable."""
    return any(t.wchan == wchan and (t.state == SLEEP or t.state == DISK) for t in k.threads)


def runnable(k: Kernel) -> list[Thread]:
    return [t for t in k.threads if t.state == RUN]


STEP_UNITS = 8
VISIT_UNITS = 1


def slice_room(k: Kernel, units: int = STEP_UNITS) -> int:
    """Steps of ``units`` each the running thread may still take back to back: the rest of its slice and
    tick, and no further than the next I/O completion (biodone runs between steps, so a batch stops there)."""
    room = min(k.slice_left, (k.tick_budget - k.tick_units) // units, k.step_cap - k.step)
    if k.io or k.reads:
        room = min(room, -(-(next_io(k) - now(k)) // units))
    return max(1, room)


def charge(k: Kernel, n: int, units: int = STEP_UNITS) -> None:
    """Count a run of n like actions as n steps of ``units`` CPU each (the dispatcher counts one step)."""
    k.step += n - 1
    k.tick_units += n * units - STEP_UNITS
    k.slice_left -= n - 1


def made_progress(k: Kernel) -> None:
    """The running thread did a unit of its work (verdict.py judges threads by this)."""
    if k.actor >= 0:
        k.threads[k.actor].progress_tick = k.tick


def made_free(k: Kernel) -> None:
    """The running thread put pages on PQ_FREE or PQ_CACHE: it is a source of memory."""
    if k.actor >= 0:
        t = k.threads[k.actor]
        t.progress_tick = t.freed_tick = k.tick


def time_uptime(k: Kernel) -> int:
    """time_uptime: whole seconds since boot."""
    return k.tick // k.hz


def xorshift64(x: int) -> int:
    x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 7
    x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
    return x


def pick_round_robin(k: Kernel, ready: list[Thread]) -> Thread:
    for t in ready:
        if t.tid > k.rr_last:
            return t
    return ready[0]


def pick_random(k: Kernel, ready: list[Thread], advance: bool) -> Thread:
    if len(ready) == 1:
        return ready[0]
    x = xorshift64(k.rng)
    if advance:
        k.rng = x
    return ready[x % len(ready)]


def now(k: Kernel) -> int:
    """The time in the clock's finest units: ticks of tick_budget units, and the units used of this one.

    Timeouts and callouts fire on ticks; I/O completes at any unit, so a
    1 ms read at hz = 100 takes a tenth of a tick of CPU time, not a tick.
    """
    return k.tick * k.tick_budget + k.tick_units


def start_read(k: Kernel, t: Thread, units: int, wmesg: str) -> None:
    """Issue a read that takes ``units`` and sleep in biowait until it is done (no timeout: the I/O wakes us)."""
    insort(k.reads, ReadReq(now(k) + units, t.tid), key=done_at)
    tsleep(k, t, io_channel(t.tid), wmesg, 0, DISK)


def io_channel(tid: int) -> str:
    return f"io:{tid}"


def done_at(req) -> int:
    return req.done_at


def next_io(k: Kernel) -> int:
    """When the first I/O in flight completes; -1 if none."""
    due = [q[0].done_at for q in (k.io, k.reads) if q]
    return min(due) if due else -1


def next_event_tick(k: Kernel) -> int:
    """The earliest tick at which a timeout or a callout fires; -1 if none (I/O: next_io)."""
    best = -1
    for t in k.threads:
        w = t.wake_tick
        if w >= 0 and (best < 0 or w < best):
            best = w
    if k.cfg.kobjs:
        from .kern_kmalloc import next_kobj_expiry  # kern_kmalloc sleeps through this module

        e = next_kobj_expiry(k)
        if e >= 0 and (best < 0 or e < best):
            best = max(e, k.tick + 1)
    if k.sockbuf:
        # Queued packets wait for their reader; the socket is looked at every tick.
        r = max(k.sockbuf[0][0], k.tick + 1)
        if best < 0 or r < best:
            best = r
    return best


VOLUNTARY = frozenset({"nanslp", "", "wait"})  # a process's own sleeps: its phase, its rate, waiting to exit


def fire_timeouts(k: Kernel) -> None:
    """The callout wheel: sleeps whose timeout has come end; a voluntary sleep's end is the thread's progress."""
    tick = k.tick
    for t in k.threads:
        if 0 <= t.wake_tick <= tick:
            if t.wchan == "" and t.wmesg in VOLUNTARY:
                t.progress_tick = tick
            setrunnable(t, timed_out=True)
