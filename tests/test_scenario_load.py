"""Loading scenario files: the structure, and one clear line per problem."""

import textwrap

import pytest

from ztui.scenario.errors import ScenarioError
from ztui.scenario.load import check_scenario, load_scenario
from ztui.scenario.model import (
    AllocatorKind,
    MiB,
    Mitigation,
    PhaseOp,
    Scheduler,
    Verdict,
)

PROCESS = """
[[process]]
name = "hog"
phases = [{op = "alloc", pages = "4m"}]
"""


def write(tmp_path, text, name="exp.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(tmp_path, text):
    return check_scenario(write(tmp_path, text))


def only_problem(tmp_path, text):
    """The single problem in a file, checked for the FILE: prefix."""
    path = write(tmp_path, text)
    problems = check_scenario(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: ")
    return problems[0].removeprefix(f"{path}: ")


def test_full_scenario_structures_onto_the_model(tmp_path):
    path = write(
        tmp_path,
        """\
        # Churn on a small box.
        # Second line of the description.

        [machine]
        physmem = "16m"
        swap = "8m"
        ncpus = 2
        hz = 1000

        [vm]
        v_free_min = 100

        [allocators]
        swapmeta = "kmalloc_obj"
        mitigations = ["reserved-slab", "pageout-reserve"]

        [interrupt]
        rate = "1m/s"
        hold = "5 ticks"

        [[process]]
        name = "hog"
        nice = 5
        phases = [{op = "alloc", pages = "6m", rate = "2m/s"}, {op = "sleep", time = "250ms"}]

        [[process]]
        name = "churner"
        [[process.phases]]
        op = "churn"
        [[process.phases]]
        op = "exit"

        [run]
        seed = 7
        scheduler = "random"
        max_time = "30s"

        [expect]
        verdict = "livelock"
        events = ["oom-kill"]
        """,
    )
    scenario = load_scenario(path)
    assert scenario.name == "exp"
    assert scenario.description == "Churn on a small box.\nSecond line of the description."
    assert scenario.machine.physmem == 16 * MiB
    assert scenario.machine.ncpus == 2
    assert scenario.vm.overrides() == {"v_free_min": 100}
    assert scenario.allocators.swapmeta is AllocatorKind.KMALLOC_OBJ
    assert scenario.allocators.mapentry is AllocatorKind.ZALLOC
    assert scenario.allocators.mitigations == (Mitigation.RESERVED_SLAB, Mitigation.PAGEOUT_RESERVE)
    assert scenario.interrupt.hold == 5_000  # 5 ticks at the machine's hz = 1000
    hog, churner = scenario.process
    assert (hog.name, hog.nice) == ("hog", 5)
    assert hog.phases[0].op is PhaseOp.ALLOC
    assert hog.phases[0].pages == 6 * MiB
    assert hog.phases[0].rate == 2 * MiB
    assert hog.phases[1].time == 250_000
    assert [phase.op for phase in churner.phases] == [PhaseOp.CHURN, PhaseOp.EXIT]
    assert churner.phases[0].pages is None
    assert scenario.run.seed == 7
    assert scenario.run.scheduler is Scheduler.RANDOM
    assert scenario.run.max_time == 30_000_000
    assert scenario.expect.verdict is Verdict.LIVELOCK
    assert scenario.expect.events == ("oom-kill",)


def test_name_key_overrides_the_file_stem(tmp_path):
    assert load_scenario(write(tmp_path, 'name = "mine"\n' + PROCESS)).name == "mine"


def test_load_raises_with_every_problem(tmp_path):
    path = write(tmp_path, "[machine]\nncpus = 0\nhz = 1\n" + PROCESS)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == check_scenario(path)
    assert len(caught.value.problems) == 2


# --- the file as a whole --------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert check_scenario(path) == [f"{path}: no such file"]


def test_directory(tmp_path):
    assert check_scenario(tmp_path) == [f"{tmp_path}: is a directory, not a scenario file"]


@pytest.mark.parametrize("text", ["", "  \n\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    assert check_scenario(path) == [
        f"{path}: empty file; a scenario needs at least one [[process]] (see docs/scenarios.md)"
    ]


def test_comments_only(tmp_path):
    path = write(tmp_path, "# nothing here\n")
    assert check_scenario(path) == [f"{path}: no settings, only comments; a scenario needs at least one [[process]]"]


def test_binary_garbage(tmp_path):
    path = tmp_path / "core.toml"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00garbage")
    assert check_scenario(path) == [f"{path}: binary data (a NUL byte); a scenario is a TOML text file"]


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    (problem,) = check_scenario(path)
    assert problem == f"{path}: not UTF-8 text (byte 0xe9 at offset 11); a scenario is a TOML text file"


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    path = write(tmp_path, '[machine]\nphysmem = "2g"\nswap = \n')
    (problem,) = check_scenario(path)
    assert problem.startswith(f"{path}: TOML syntax error: ")
    assert "(at line 3, column 8)" in problem


def test_too_large(tmp_path):
    path = write(tmp_path, "# " + "x" * (1024 * 1024) + "\n")
    (problem,) = check_scenario(path)
    assert "a scenario is at most 1m" in problem


# --- keys and types ---------------------------------------------------------------


def test_unknown_key_suggests_the_nearest(tmp_path):
    problem = only_problem(tmp_path, '[machine]\nphysmen = "2g"\n' + PROCESS)
    assert problem.startswith('machine.physmen: unknown key (did you mean "physmem"?); allowed in [machine]: physmem,')


def test_unknown_section_suggests_the_nearest(tmp_path):
    problem = only_problem(tmp_path, "[runn]\nseed = 1\n" + PROCESS)
    assert problem.startswith('runn: unknown key (did you mean "run"?); allowed at the top level: name,')


def test_unknown_key_in_a_phase(tmp_path):
    problem = only_problem(tmp_path, '[[process]]\nname = "a"\nphases = [{op = "alloc", pagse = "1m", pages = "1m"}]\n')
    assert problem.startswith('process[0].phases[0].pagse: unknown key (did you mean "pages"?)')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[machine]\nncpus = "4"\n', 'machine.ncpus: found "4"; expected an integer'),
        ("[machine]\nncpus = 1.5\n", "machine.ncpus: found 1.5; expected an integer"),
        ("[machine]\nncpus = true\n", "machine.ncpus: found true; expected an integer"),
        ("[run]\nmax_steps = [1]\n", "run.max_steps: found an array; expected an integer"),
        ("machine = 5\n", "machine: found 5; expected a table with keys physmem, swap, ncpus, hz,"),
        ('[machine]\nphysmem = 2.5\n', 'machine.physmem: found 2.5; expected a size: "2g", "512m", "64k"'),
        ('[machine]\nphysmem = "lots"\n', 'machine.physmem: found "lots"; expected a size: "2g", "512m"'),
        ('[io]\nswap_write_latency = 10\n', 'io.swap_write_latency: found 10; expected a duration: "30s", "250ms"'),
        ('[interrupt]\nrate = "1m"\n', 'interrupt.rate: found "1m"; expected a rate: "100m/s", "2000 pages/s"'),
        ('[allocators]\nmitigations = "reserved-slab"\n', 'allocators.mitigations: found "reserved-slab"; expected an array'),
        ('[expect]\nevents = [1]\n', "expect.events[0]: found 1; expected a string"),
        ("description = 3\n", "description: found 3; expected a string"),
    ],
)
def test_wrong_types_say_what_was_expected(tmp_path, text, expected):
    assert only_problem(tmp_path, text + PROCESS).startswith(expected)


def test_process_written_as_a_single_table(tmp_path):
    problem = only_problem(tmp_path, '[process]\nname = "a"\n')
    assert problem == "process: found a table; expected an array of tables, each written [[name]]"


def test_process_name_is_required(tmp_path):
    problem = only_problem(tmp_path, '[[process]]\nphases = [{op = "exit"}]\n')
    assert problem == "process[0].name: missing; required: a string"


def test_phase_op_is_required(tmp_path):
    problem = only_problem(tmp_path, '[[process]]\nname = "a"\nphases = [{pages = "1m"}]\n')
    assert problem.startswith('process[0].phases[0].op: missing; required: one of "alloc", "read", "churn"')


# --- enums ---------------------------------------------------------------------------


def test_unknown_allocator_lists_the_choices(tmp_path):
    problem = only_problem(tmp_path, '[allocators]\nswapmeta = "kmaloc_obj"\n' + PROCESS)
    assert problem == 'allocators.swapmeta: found "kmaloc_obj"; one of "zalloc", "kmalloc_obj" (did you mean "kmalloc_obj"?)'


def test_unknown_mitigation_lists_the_choices(tmp_path):
    problem = only_problem(tmp_path, '[allocators]\nmitigations = ["reserved-slab", "magic"]\n' + PROCESS)
    assert problem == (
        'allocators.mitigations[1]: found "magic"; one of "pass-reserve-flags", "reserved-slab", '
        '"pageout-reserve", "no-hold-and-wait", "slab-kreserve", "nowait-reserve"'
    )


def test_repeated_mitigation(tmp_path):
    problem = only_problem(tmp_path, '[allocators]\nmitigations = ["reserved-slab", "reserved-slab"]\n' + PROCESS)
    assert problem == 'allocators.mitigations[1]: found "reserved-slab" again; list each mitigation once'


def test_unknown_verdict_and_event(tmp_path):
    problems = problems_of(tmp_path, '[expect]\nverdict = "deadlok"\nevents = ["oom-kil"]\n' + PROCESS)
    assert [problem.split(": ", 1)[1] for problem in problems] == [
        'expect.verdict: found "deadlok"; one of "ok", "deadlock", "livelock", "recursion", "limit" (did you mean "deadlock"?)',
        'expect.events[0]: found "oom-kil"; one of "oom-kill", "swap-full", "packets-dropped" (did you mean "oom-kill"?)',
    ]


# --- values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[machine]\nswap = "-8m"\n', 'machine.swap: found "-8m"; a size cannot be negative'),
        ("[machine]\nswap = 0\n", "machine.swap: found 0; must be more than zero"),
        ('[machine]\nphysmem = "0"\n', "machine.physmem: found 0 bytes; must be at least 1m"),
        ('[machine]\nphysmem = "512k"\n', "machine.physmem: found 512k; must be at least 1m"),
        ('[machine]\nphysmem = "2t"\n', "machine.physmem: found 2t; the model holds at most 1t"),
        ('[machine]\nswap = "1t"\n', "machine.swap: found 1t; the model holds at most 256g"),
        ("[machine]\nncpus = 0\n", "machine.ncpus: found 0; allowed: 1 to 64"),
        ("[machine]\nncpus = 65\n", "machine.ncpus: found 65; allowed: 1 to 64"),
        ("[machine]\nhz = 5000\n", "machine.hz: found 5000; allowed: 10 to 1000"),
        ("[machine]\nsteps_per_tick = 0\n", "machine.steps_per_tick: found 0; must be at least 1"),
        ('[run]\nmax_time = "0s"\n', "run.max_time: found 0; must be more than zero"),
        ("[run]\nmax_steps = 0\n", "run.max_steps: found 0; must be at least 1"),
        ("[run]\nquantum = 0\n", "run.quantum: found 0; must be at least 1"),
        ("[allocators]\nkmslab_cache = -1\n", "allocators.kmslab_cache: found -1; must be at least 0"),
        ('name = ""\n', 'name: found ""; leave name out to use the file name'),
    ],
)
def test_values_out_of_range(tmp_path, text, expected):
    assert only_problem(tmp_path, text + PROCESS) == expected


def test_reserved_memory_must_leave_free_pages(tmp_path):
    problem = only_problem(tmp_path, '[machine]\nphysmem = "4m"\ndma_reserved = "4m"\n' + PROCESS)
    assert problem == (
        "machine: found dma_reserved 4m + kernel_wired 256k; must be less than physmem 4m, or no page is ever free"
    )


def test_threshold_override_that_breaks_the_kernel_order(tmp_path):
    problem = only_problem(tmp_path, '[machine]\nphysmem = "2g"\n[vm]\nv_free_min = 10000\n' + PROCESS)
    assert problem == "vm: threshold order broken: v_free_min (10000) must be below v_paging_wait (5370)"


def test_threshold_override_cannot_be_negative(tmp_path):
    problem = only_problem(tmp_path, "[vm]\nv_interrupt_free_min = -3\n" + PROCESS)
    assert problem == "vm.v_interrupt_free_min: found -3; a page count cannot be negative"


def test_physmem_too_small_for_its_own_thresholds(tmp_path):
    problem = only_problem(tmp_path, '[machine]\nphysmem = "1m"\n' + PROCESS)
    assert problem == "machine.physmem: threshold order broken: v_paging_target2 (325) must be below v_page_count (256)"


def test_interrupt_consumer_names_a_process(tmp_path):
    problem = only_problem(tmp_path, '[interrupt]\nconsumer = "hgo"\n' + PROCESS)
    assert problem == 'interrupt.consumer: found "hgo" (did you mean "hog"?); the name of a [[process]]: "hog"'


# --- processes and phases ------------------------------------------------------------


def process(phases, extra=""):
    return f'[[process]]\nname = "p"\n{extra}phases = [{phases}]\n'


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ('{op = "alloc"}', 'process[0].phases[0].pages: missing; "alloc" needs pages, e.g. pages = "6m"'),
        ('{op = "read"}', 'process[0].phases[0].pages: missing; "read" needs pages'),
        ('{op = "free"}', 'process[0].phases[0].pages: missing; "free" needs pages'),
        ('{op = "sleep"}', 'process[0].phases[0].time: missing; "sleep" needs time, e.g. time = "2s"'),
        ('{op = "alloc", pages = "0"}', "process[0].phases[0].pages: found 0; must be more than zero"),
        ('{op = "alloc", pages = "100"}', "process[0].phases[0].pages: found 100 bytes; must be whole pages of 4k"),
        ('{op = "alloc", pages = "1m", rate = 0}', "process[0].phases[0].rate: found 0; must be more than zero"),
        ('{op = "sleep", time = "0s"}', "process[0].phases[0].time: found 0; must be more than zero"),
        ('{op = "exit", pages = "1m"}', 'process[0].phases[0].pages: found pages on "exit"; only "alloc", "read"'),
        ('{op = "alloc", pages = "1m", time = "1s"}', 'process[0].phases[0].time: found time on "alloc"; only "sleep"'),
        ('{op = "exit"}, {op = "churn"}', 'process[0].phases[1].op: found "churn" after "exit"; "exit" must be the last'),
        ("", "process[0].phases: missing; a process needs at least one phase"),
    ],
)
def test_phase_rules(tmp_path, phases, expected):
    assert only_problem(tmp_path, process(phases)).startswith(expected)


def test_nice_range(tmp_path):
    assert only_problem(tmp_path, process('{op = "exit"}', "nice = 21\n")) == "process[0].nice: found 21; allowed: -20 to 20"


def test_churn_without_pages_runs_until_the_end(tmp_path):
    scenario = load_scenario(write(tmp_path, process('{op = "churn"}')))
    assert scenario.process[0].phases[0].pages is None


# --- everything at once -----------------------------------------------------------------


def test_all_problems_at_once_including_rules_next_to_type_errors(tmp_path):
    problems = problems_of(
        tmp_path,
        """\
        [machine]
        ncpus = "4"
        hz = 5000

        [allocators]
        swapmeta = "slab"

        [[process]]
        name = "a"
        phases = [{op = "alloc"}, {op = "exit"}, {op = "sleep", time = 3}, {op = "read", pages = "1m"}]

        [[process]]
        name = 5
        phases = []
        """,
    )
    where = [problem.split(": ")[1] for problem in problems]
    assert where == [
        "machine.ncpus",
        "machine.hz",
        "allocators.swapmeta",
        "process[0].phases[2].time",  # the type error...
        "process[1].name",
        "process[0].phases[0].pages",  # ...and the rules of the same process
        "process[0].phases[2].op",
        "process[0].phases[3].op",
    ]


def test_rules_resting_on_a_bad_value_stay_quiet(tmp_path):
    # physmem is unreadable, so the thresholds and the reserved-memory
    # rule cannot be judged; only the real problem is reported.
    problem = only_problem(tmp_path, '[machine]\nphysmem = "2 gigs"\ndma_reserved = "32m"\n[vm]\nv_free_min = 9999\n' + PROCESS)
    assert problem.startswith('machine.physmem: found "2 gigs"; expected a size')



def test_a_bare_integer_phase_amount_counts_pages(tmp_path):
    path = write(tmp_path, '[[process]]\nname = "p"\nphases = [{op = "alloc", pages = 1536}]\n')
    assert load_scenario(path).process[0].phases[0].pages == 1536 * 4096


def test_a_workload_kmalloc_obj_type_must_name_its_owner_and_fit_a_slab(tmp_path):
    text = PROCESS + '[[allocators.kmalloc_obj]]\nname = "vnode"\nsize = "200k"\nowner = "nobody"\nrate = 0\n'
    problems = [p.split(": ", 1)[1] for p in problems_of(tmp_path, text)]
    assert any(p.startswith("allocators.kmalloc_obj[0].size: found 200k") for p in problems)
    assert any(p.startswith("allocators.kmalloc_obj[0].rate: found 0") for p in problems)
    assert any(p.startswith('allocators.kmalloc_obj[0].owner: found "nobody"') for p in problems)


def test_the_rx_ring_is_within_what_em_allows(tmp_path):
    problem = only_problem(tmp_path, "[interrupt]\nring = 100\n" + PROCESS)
    assert problem == "interrupt.ring: found 100; allowed: 256 to 4096"
