"""A thread's kernel call path, as a stack trace (ddb's trace, procstat -kk) would show it."""

from __future__ import annotations

from .kern_proc import EXIT, EXIT_REMOVE, MMAP_DONE, phase_cfg
from .state import RUN, Kernel, KmallocObjFrame, Thread
from .vm_pageout import PC_FUNCTION

SLEEP_FUNCTION = {
    "VMWait": "vm_wait",
    "vmwait": "vm_wait",
    "pfault": "vm_wait_pfault",
    "wswbuf2": "getpbuf_kva",
    "zgetlk": "lockmgr",
    "vmopar": "vm_page_sleep_busy",
    "objtrm1": "vm_object_pip_wait",
    "objtrm2": "vm_object_pip_wait",
    "biord": "biowait",
    "swread": "swap_pager_getpages",
    "vmpfw": "vm_page_sleep_busy",
}

USER_PATH = {
    "alloc": ("trap", "vm_fault"),
    "churn": ("trap", "vm_fault"),
    "touch": ("trap", "vm_fault"),
    "read": ("sys_read", "vn_read"),
    "free": ("sys_munmap", "vm_map_remove"),
    "exit": ("exit1", "vmspace_terminate"),
    "sleep": ("sys_nanosleep",),
}


def frame_path(k: Kernel, t: Thread) -> list[str]:
    path: list[str] = []
    for f in t.frames:
        if f.fn == "vm_pageout_thread":
            path.append("vm_pageout_thread")
            fn = PC_FUNCTION[f.pc]
            if fn != "vm_pageout_thread":
                path.append(fn)
        elif f.fn == "user":
            ph = phase_cfg(k, t)
            if ph is None:
                path.append("sys_wait4")
                continue
            op = "exit" if t.lowmemkill or f.pc in (EXIT, EXIT_REMOVE) else ph.op
            if f.pc == MMAP_DONE:
                path.extend(("sys_mmap", "vm_map_find"))
            else:
                path.extend(USER_PATH[op])
        elif isinstance(f, KmallocObjFrame):
            path.append(f"kmalloc_obj({k.cfg.ktype_names[f.ktype]})")
        elif f.fn == "vm_pageout_flush":
            path.extend(("vm_pageout_flush", "swap_pager_putpages"))
        elif f.fn == "zalloc":
            path.extend(("zalloc(MAP ENTRY)", "zget") if f.pc else ("zalloc(MAP ENTRY)",))
        else:
            path.append(f.fn)
    return path


def callpath(t: Thread, k: Kernel | None = None) -> tuple[str, ...]:
    """Outermost first: the frames, the kernel's own names for their stages, then the sleep."""
    path = frame_path(k, t) if k is not None else [f.fn for f in t.frames]
    if t.state != RUN and t.wmesg in SLEEP_FUNCTION:
        path.append(SLEEP_FUNCTION[t.wmesg])
    if t.state != RUN and t.wmesg in ("psleep", "kmslp", "pdelay", "nanslp", "iwait"):
        path.append("tsleep")
    return tuple(path)
