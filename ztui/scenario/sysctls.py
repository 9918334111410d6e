"""Which [vm] overrides a kernel developer can make with sysctl, and which need a rebuilt kernel.

The read-write knobs are the SYSCTL_ULONG(_vm, ...) entries of
sys/vm/vm_meter.c:70-95 and SYSCTL_INT(_vm, OID_AUTO, max_launder) of
sys/vm/vm_pageout.c:214-215, at 577b958f5e.  v_interrupt_free_min is
exported read-only (vm.stats.vm.v_interrupt_free_min, vm_meter.c:418-420,
CTLFLAG_RD) and v_free_target not at all: both are set once by
vm_pageout_free_page_calc() and vm_pageout_thread(), so overriding them is a
what-if that needs a kernel change.
"""

from __future__ import annotations

from .model import Vm

# name -> where the kernel declares it read-write
READ_WRITE = {
    "v_free_min": "vm_meter.c:70",
    "v_paging_wait": "vm_meter.c:73",
    "v_paging_start": "vm_meter.c:76",
    "v_paging_target1": "vm_meter.c:79",
    "v_paging_target2": "vm_meter.c:82",
    "v_free_reserved": "vm_meter.c:85",
    "v_inactive_target": "vm_meter.c:88",
    "v_pageout_free_min": "vm_meter.c:91",
    "v_free_severe": "vm_meter.c:94",
    "vm_max_launder": "vm_pageout.c:214",
}
# name -> why no sysctl can set it
REBUILD = {
    "v_interrupt_free_min": "read-only (vm.stats.vm.v_interrupt_free_min, CTLFLAG_RD, vm_meter.c:418)",
    "v_free_target": "no sysctl; set by vm_pageout_free_page_calc()",
}


def sysctl_name(name: str) -> str:
    """The OID a user types: vm.max_launder for vm_max_launder, vm.<name> for the rest."""
    return "vm.max_launder" if name == "vm_max_launder" else f"vm.{name}"


def override_notes(vm: Vm) -> list[str]:
    """One line per [vm] override: the sysctl command that makes it, or why it needs a rebuilt kernel."""
    notes = []
    for name, value in vm.overrides().items():
        if name in READ_WRITE:
            notes.append(f"[vm] {name} = {value}: `sysctl {sysctl_name(name)}={value}` on a running kernel")
        else:
            notes.append(f"[vm] {name} = {value}: a what-if; {REBUILD[name]}, so it needs a kernel change")
    return notes
