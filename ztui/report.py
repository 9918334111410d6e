"""The end-of-run report of `ztui run`: Rich tables for people (the JSON for CI is ztui.report_json).

It is built from a Snapshot only, so it says exactly what the TUI
would show at the same step.  Every string in a snapshot may come from a
scenario file (a process's name is in thread names, events and the
explanation), so the tables hold only Text made by ztui.textsafe.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ztui.core.snapshot import Snapshot
from ztui.core.vmstats import PAGE_SIZE, THRESHOLD_NAMES
from ztui.report_json import expectation_met
from ztui.scenario.model import Scenario
from ztui.scenario.units import format_size
from ztui.textsafe import as_text, visible

VERDICT_STYLES = {
    "ok": "bold green",
    "deadlock": "bold red",
    "livelock": "bold yellow",
    "recursion": "bold magenta",
    "limit": "bold cyan",
}
# Not in THRESHOLD_NAMES but configuration all the same (sysctl-tunable or fixed at boot).
CONFIG_NAMES = ("v_page_count", "vm_max_launder", "v_dma_pages")
HAZARDS_SHOWN = 5  # closest approaches in the human report


def print_report(snap: Snapshot, scenario: Scenario, console: Console) -> None:
    """The full human report: verdict and why, thresholds, counters, allocators, threads."""
    console.print(_verdict_panel(snap, scenario))
    if snap.verdict and snap.verdict.hazards:
        console.print(_hazards_lines(snap))
    console.print(_thresholds_table(snap))
    console.print(_counters_table(snap))
    console.print(_allocators_table(snap))
    console.print(_threads_table(snap))


def summary_line(snap: Snapshot, scenario: Scenario) -> Text:
    """One line for --quiet: verdict, where, and whether it was expected."""
    line = _verdict_text(snap)
    line.append(f"  step {snap.step:,}, {snap.sim_time_s:.2f} s simulated  ")
    line.append(_expect_text(snap, scenario))
    return line


def _verdict_text(snap: Snapshot) -> Text:
    kind = snap.verdict.kind if snap.verdict else "none"
    return Text(kind.upper(), style=VERDICT_STYLES.get(kind, "bold"))


def _expect_text(snap: Snapshot, scenario: Scenario) -> Text:
    expected = scenario.expect.verdict
    if expected is None:
        return Text("(no expected verdict)", style="dim")
    if expectation_met(snap, scenario):
        return Text(f"as expected ({expected.value})", style="green")
    return Text(f"expected {expected.value}", style="bold red")


def _verdict_panel(snap: Snapshot, scenario: Scenario) -> Panel:
    head = _verdict_text(snap)
    if snap.verdict:
        head.append_text(as_text(f"  {snap.verdict.headline}"))
    where = Text(f"step {snap.step:,}, tick {snap.tick:,} = {snap.sim_time_s:.2f} s simulated; ")
    where.append(_expect_text(snap, scenario))
    # The chain arrives formatted: causes marked "<-" under what they explain.
    explanation = snap.verdict.explanation if snap.verdict else ()
    chain = Text("\n".join(visible("  " + line) for line in explanation))
    title = as_text(f"{snap.scenario} (seed {snap.seed})")
    parts = [head, where, Text(), Text("Why:", style="bold"), chain]
    if snap.verdict and snap.verdict.why:
        parts += [Text(), Text("How close:", style="bold"), Text(visible(snap.verdict.why))]
    body = Group(*parts)
    return Panel(body, title=title, title_align="left")


def _hazards_lines(snap: Snapshot) -> Group:
    """The closest approaches, one per line: when, who, what, the pages it had to spare."""
    verdict = snap.verdict
    assert verdict is not None, "only a finished run has closest approaches"
    shown = verdict.hazards[:HAZARDS_SHOWN]
    title = f"Closest approaches ({len(shown)} of {verdict.hazard_count} pager allocations only the pagers can feed)"
    lines = [Text(title, style="italic")]
    for h in shown:
        line = Text(f"  {h.tick / snap.hz:7.2f} s  ")
        line.append(visible(h.thread))
        line.append(": ")
        line.append(visible(h.allocation))
        line.append(f", {h.lowest_margin:,} pages to spare", style="red" if h.lowest_margin < 0 else "")
        line.append(f" over {h.floor_name} ({h.page_class})")
        line.append(f" on a stale copy, true free+cache {h.true_free_cache:,}; " if h.stale_view else "; ")
        line.append(h.outcome)
        lines.append(line)
    return Group(*lines)


def _thresholds_table(snap: Snapshot) -> Table:
    free_cache = snap.vmstats.get("v_free_count", 0) + snap.vmstats.get("v_cache_count", 0)
    table = Table(title=f"Thresholds (free+cache now {free_cache:,} pages)", title_justify="left")
    table.add_column("sysctl")
    table.add_column("pages", justify="right")
    table.add_column("size", justify="right")
    table.add_column("free+cache is")
    for name in THRESHOLD_NAMES:
        if name in snap.vmstats:
            value = snap.vmstats[name]
            below = free_cache < value
            table.add_row(
                name,
                f"{value:,}",
                format_size(value * PAGE_SIZE),
                Text("below", style="red") if below else Text("above", style="green"),
            )
    return table


def _counters_table(snap: Snapshot) -> Table:
    table = Table(title="Final counters", title_justify="left")
    table.add_column("name")
    table.add_column("value", justify="right")
    configuration = set(THRESHOLD_NAMES) | set(CONFIG_NAMES)
    counters = {name: value for name, value in snap.vmstats.items() if name not in configuration}
    for group, values in (("vmstats", counters), ("pagedaemon", snap.pagedaemon), ("swap", snap.swap)):
        for name, value in values.items():
            table.add_row(f"{group}.{name}", as_text(f"{value:,}" if type(value) is int else str(value)))
    return table


def _allocators_table(snap: Snapshot) -> Table:
    table = Table(title="Allocators", title_justify="left")
    for column in ("zone", "kind", "geometry", "state", "in use"):
        table.add_column(column)
    for view in (snap.swapmeta, snap.mapentry.zone):
        table.add_row(
            as_text(view.zone), as_text(view.kind), _pairs(view.geometry), _pairs(view.state), f"{view.in_use:,}"
        )
    return table


def _threads_table(snap: Snapshot) -> Table:
    # Why each thread is blocked is in the verdict's chain above (and in --json).
    table = Table(title="Threads", title_justify="left")
    for column in ("tid", "name", "STAT", "wmesg"):
        table.add_column(column, no_wrap=True)
    table.add_column("wchan")
    table.add_column("in")
    for thread in snap.threads:
        where = f"{thread.function} ({thread.progress})" if thread.progress else thread.function
        table.add_row(str(thread.tid), *(as_text(text) for text in (thread.name, thread.state, thread.wmesg, thread.wchan, where)))
    return table


def _pairs(values: dict) -> Text:
    return Text("\n".join(visible(f"{name}={value}") for name, value in values.items()))
