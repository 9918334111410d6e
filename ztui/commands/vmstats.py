"""`ztui vmstats`: the paging thresholds the kernel computes at boot for that much memory."""

from __future__ import annotations

import json

import click

from ztui.cli_common import GuardedCommand, SizeParam
from ztui.core.vmstats import PAGE_SIZE, THRESHOLD_NAMES, compute_thresholds
from ztui.scenario.units import format_size

# `sysctl vm` puts v_interrupt_free_min (read-only) under vm.stats.vm.
STATS_NAMES = ("v_page_count", "v_interrupt_free_min")


@click.command(cls=GuardedCommand)
@click.option("--pages", type=click.IntRange(min=1), help="v_page_count, in 4 KiB pages.")
@click.option("--physmem", type=SizeParam(), help='Physical memory, e.g. "2g"; v_page_count = physmem/4096.')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object keyed by kernel names.")
def vmstats(pages: int | None, physmem: int | None, as_json: bool) -> None:
    """Print the paging thresholds the kernel computes at boot.

    The values are vm_pageout_free_page_calc()'s and vm_pageout_thread()'s
    for the given v_page_count, printed the way `sysctl vm` shows them.
    Give exactly one of --pages and --physmem.

    \b
    Examples:
      ztui vmstats --pages 524288
      ztui vmstats --physmem 2g --json
    """
    if (pages is None) == (physmem is None):
        raise click.UsageError("give exactly one of --pages and --physmem")
    if pages is not None:
        page_count = pages
    else:
        assert physmem is not None
        page_count = physmem // PAGE_SIZE
    if page_count < 1:
        raise click.BadParameter(f"{format_size(physmem or 0)} is less than one page", param_hint="--physmem")
    values = compute_thresholds(page_count).as_dict()
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    for name in ("v_page_count", *THRESHOLD_NAMES):
        prefix = "vm.stats.vm" if name in STATS_NAMES else "vm"
        click.echo(f"{prefix}.{name}: {values[name]}")
    click.echo(f"vm.max_launder: {values['vm_max_launder']}")


