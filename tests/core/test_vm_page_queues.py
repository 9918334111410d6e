"""PageQueue against a reference that keeps every page: order, lookups, markers, canonical runs."""

from hypothesis import given, settings
from hypothesis import strategies as st
from sortedcontainers import SortedList

from ztui.core.vm_page_queues import HEAD, PageQueue, copy_sorted, run_hash

OIDS = (0, 1)


class Reference:
    """Pages as (seq, oid, pindex) -> flags; queue order is the order of the keys."""

    def __init__(self) -> None:
        self.pages: dict[tuple[int, int, int], int] = {}
        self.seq = 0

    def ordered(self) -> list[tuple[int, int, int, int]]:
        return [(seq, oid, p, self.pages[seq, oid, p]) for seq, oid, p in sorted(self.pages)]

    def where(self, oid: int, p: int) -> tuple[int, int, int, int] | None:
        for key, flags in self.pages.items():
            if key[1:] == (oid, p):
                return (*key, flags)
        return None

    def append(self, oid: int, start: int, n: int, flags: int) -> None:
        order = self.ordered()
        seq = self.seq
        if order and order[-1][1:] == (oid, start - 1, flags):
            seq = order[-1][0]  # joins the tail run: TAILQ order is the same
        else:
            self.seq += 1
        for p in range(start, start + n):
            self.pages[seq, oid, p] = flags

    def take(self, oid: int, start: int, n: int) -> list[tuple[int, int, int, int]]:
        gone = [page for page in self.ordered() if page[1] == oid and start <= page[2] < start + n]
        for seq, o, p, _ in gone:
            del self.pages[seq, o, p]
        return gone


def free_range(ref: Reference, oid: int, start: int, n: int) -> bool:
    return all(ref.where(oid, p) is None for p in range(start, start + n))


ops = st.lists(
    st.tuples(
        st.sampled_from(["append", "take", "set_flags", "reinsert"]),
        st.sampled_from(OIDS),
        st.integers(0, 40),
        st.integers(1, 12),
        st.sampled_from([0, 1, 2, 3]),
    ),
    max_size=40,
)


def check_against(q: PageQueue, ref: Reference) -> None:
    pages = []
    for seq, oid, start in q.order:
        rseq, count, flags = q.runs[oid, start]
        assert rseq == seq
        pages += [(seq, oid, p, flags) for p in range(start, start + count)]
    assert pages == ref.ordered()
    assert q.lcnt == len(pages)
    assert q.fp == sum(run_hash(oid, start, *run) for (oid, start), run in q.runs.items()), "fp kept with the runs"
    for oid in OIDS:  # runs are maximal: neighbours with one seq and flags are one run
        runs = q.object_runs(oid)
        for (s1, q1, c1, f1), (s2, q2, _, f2) in zip(runs, runs[1:]):
            assert not (s1 + c1 == s2 and q1 == q2 and f1 == f2)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_a_page_queue_keeps_order_flags_and_maximal_runs(program):
    q, ref = PageQueue("inactive"), Reference()
    q.keep_fp()
    taken: list[tuple[int, int, int, int]] = []
    for op, oid, start, n, flags in program:
        if op == "append" and free_range(ref, oid, start, n) and all(
            (oid, p) not in {(o, pp) for _, o, pp, _ in taken} for p in range(start, start + n)
        ):
            joined = q.append(ref.seq, oid, start, n, flags)
            before = ref.seq
            ref.append(oid, start, n, flags)
            assert joined == (ref.seq == before)
        elif op == "take":
            got = q.take(oid, start, n)
            want = ref.take(oid, start, n)
            assert sum(c for _, _, c, _ in got) == len(want)
            taken += want
        elif op == "set_flags":
            q.set_flags(oid, start, n, flags)
            for key in list(ref.pages):
                if key[1] == oid and start <= key[2] < start + n:
                    ref.pages[key] = flags
        elif op == "reinsert" and taken:
            seq, o, p, f = taken.pop(0)
            q.insert(seq, o, p, 1, f)
            ref.pages[seq, o, p] = f
        check_against(q, ref)
        for o in OIDS:
            for p in range(0, 52, 5):
                found, page = q.find(o, p), ref.where(o, p)
                assert (found is None) == (page is None)
                if found is not None:
                    start_, seq_, count_, flags_ = found
                    assert (seq_, flags_) == (page[0], page[3]) and start_ <= p < start_ + count_
    rebuilt = PageQueue("inactive")
    for seq, oid, p, flags in ref.ordered():
        rebuilt.insert(seq, oid, p, 1, flags)
    assert rebuilt.encode() == q.encode(), "the same pages give the same runs, however they were built"


def test_a_marker_inside_a_run_resumes_at_its_page():
    q = PageQueue("active")
    q.append(0, 7, 100, 20, 0)
    q.append(1, 8, 0, 5, 0)
    assert q.first_at(HEAD) == (0, 7, 100, 20, 0)
    assert q.first_at((0, 7, 112)) == (0, 7, 112, 8, 0), "the rest of the run after the marker"
    assert q.first_at((0, 7, 120)) == (1, 8, 0, 5, 0), "past the run's end: the next run"
    assert q.first_at((1, 8, 5)) is None


def test_changing_the_flags_of_a_whole_run_keeps_its_place():
    q = PageQueue("active")
    q.append(0, 1, 0, 4, 0)
    q.append(1, 2, 0, 4, 0)
    q.set_flags(1, 0, 4, 3)
    assert [key for key in q.order] == [(0, 1, 0), (1, 2, 0)]
    assert q.runs[1, 0] == (0, 4, 3)


def test_take_skips_the_pages_not_on_the_queue():
    q = PageQueue("cache")
    q.append(0, 0, 0, 3, 0)
    q.append(1, 0, 10, 3, 0)
    assert q.take(0, 1, 10) == [(1, 0, 2, 0), (10, 1, 1, 0)]
    assert q.lcnt == 3


def test_pages_join_the_tail_run_only_with_the_same_flags():
    q = PageQueue("active")
    assert not q.append(0, 1, 0, 4, 0)
    assert q.append(1, 1, 4, 4, 0), "contiguous, same object and flags: one run"
    assert not q.append(2, 1, 8, 4, 1), "other flags: a run of its own"
    assert not q.append(3, 2, 12, 4, 1), "another object: a run of its own"
    assert q.runs == {(1, 0): (0, 8, 0), (1, 8): (2, 4, 1), (2, 12): (3, 4, 1)}


def test_flags_changed_inside_one_run_split_it_and_join_the_neighbours_of_its_seq():
    """Each edge case of set_flags within a run: runs as (start, count, flags) of one seq, after each change."""
    q = PageQueue("active")
    q.append(0, 1, 0, 10, 0)
    q.keep_fp()
    q.append(1, 2, 0, 4, 0)  # another object behind it: its key must stay
    steps = [
        ((0, 3, 1), [(0, 3, 1), (3, 7, 0)]),  # a head piece: the rest is rekeyed
        ((3, 2, 1), [(0, 5, 1), (5, 5, 0)]),  # a head piece that joins the run before it
        ((7, 3, 2), [(0, 5, 1), (5, 2, 0), (7, 3, 2)]),  # a tail piece
        ((5, 2, 2), [(0, 5, 1), (5, 5, 2)]),  # a whole run that joins the run after it
        ((5, 5, 1), [(0, 10, 1)]),  # a whole run that joins the run before it
        ((4, 2, 3), [(0, 4, 1), (4, 2, 3), (6, 4, 1)]),  # a middle piece
        ((4, 2, 1), [(0, 10, 1)]),  # a whole run that joins both neighbours
        ((2, 3, 1), [(0, 10, 1)]),  # the flags it already has
    ]
    for (start, count, flags), want in steps:
        q.set_flags(1, start, count, flags)
        assert [(s, c, f) for s, seq, c, f in q.object_runs(1)] == want, (start, count, flags)
        assert {seq for _, seq, _, _ in q.object_runs(1)} == {0}, "every piece keeps the run's place"
        assert list(q.order) == sorted((0, 1, s) for s, _, _ in want) + [(1, 2, 0)]
        assert q.lcnt == 14
        assert q.fp == sum(run_hash(oid, start, *run) for (oid, start), run in q.runs.items())


def test_queue_fingerprints_follow_every_change_a_run_makes():
    """The search keeps PageQueue.fp from its root on: through a whole run, and in clones, it is the runs' sum."""
    from ztui.core.simulator import Simulator
    from ztui.scenario.bundled import resolve_scenario
    from ztui.scenario.load import load_scenario

    sim = Simulator.from_scenario(load_scenario(resolve_scenario("teach-swapmeta-kmalloc-obj")), log=False)
    sim.keep_fingerprints()
    seen = set()
    while sim.verdict is None:
        sim.run(max_steps=50)
        twin = sim.clone()
        for q in (*sim.k.queues.values(), *twin.k.queues.values()):
            assert q.fp == sum(run_hash(oid, start, *run) for (oid, start), run in q.runs.items()), sim.step_count
            seen.add((q.name, q.fp))
    assert len({fp for name, fp in seen if name == "active"}) > 100, "faults and the active scan changed its runs"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9000), max_size=6000, unique=True), st.lists(st.integers(0, 5000), max_size=300),
       st.lists(st.integers(0, 5000), max_size=300))
def test_copy_sorted_is_an_independent_sorted_list(values, added_to_copy, removed_from_original):
    """Sizes past the load factor (1000) give several sublists; then each side changes alone."""
    original = SortedList(values)
    copy = copy_sorted(original)
    assert list(copy) == list(original)
    if values:
        assert copy[len(values) // 2] == original[len(values) // 2]  # the positional index, built anew
    copy.update(added_to_copy)
    for value in removed_from_original:
        original.discard(value)
    assert list(copy) == sorted(values + added_to_copy)
    assert list(original) == sorted(v for v in values if v not in removed_from_original)
    copy._check()
    original._check()
