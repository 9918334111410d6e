"""User keymaps: rebinding controls by their id, from a TOML file.

The file is $ZTUI_KEYMAP if set, else $XDG_CONFIG_HOME/ztui/keymap.toml
(~/.config/ztui/keymap.toml).  It has one table:

    [keys]
    step = "n"                  # a control id from ztui.tui.controls
    fast_forward = "F,ctrl+f"   # several keys, comma-separated (Textual key names)

A missing file is no keymap; a faulty one is reported and ignored.  It is
read through ztui.input_files (a regular file of at most 64 KiB); the app
shows its problems capped (ztui.tui.safe.capped).
"""

from __future__ import annotations

import os
from pathlib import Path

from ztui.input_files import KEYMAP, InputError, parse_toml, read_text
from ztui.tui.controls import CONTROLS

KEYS_MAX = 64  # characters in one control's key list


def keymap_path() -> Path:
    if os.environ.get("ZTUI_KEYMAP"):
        return Path(os.environ["ZTUI_KEYMAP"])
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "ztui" / "keymap.toml"


def load_keymap(path: Path) -> tuple[dict[str, str], list[str]]:
    """The keymap in ``path`` and the problems found in it."""
    if not path.exists():
        return {}, []
    try:
        data = parse_toml(read_text(path, KEYMAP))
    except InputError as error:
        return {}, [f"{path}: {error}"]
    keys = data.get("keys", {})
    if set(data) - {"keys"} or not isinstance(keys, dict):
        return {}, [f"{path}: expected a single [keys] table"]
    known = {control.id for control in CONTROLS}
    keymap, problems = {}, []
    for control_id, value in keys.items():
        if control_id not in known:
            problems.append(f"{path}: unknown control {control_id[:40]!r} (known: {', '.join(sorted(known))})")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{path}: keys.{control_id} must be a string of keys")
        elif len(value) > KEYS_MAX or not value.isprintable():
            problems.append(f"{path}: keys.{control_id} must be at most {KEYS_MAX} printable characters")
        else:
            keymap[control_id] = value
    return keymap, problems
