"""`ztui launch --trace FILE`: a record of the session, one JSON object per line.

Every line has "kind", "at" (seconds since launch) and "step" (the
simulator's step after the action).  Kinds:

* "open": a scenario was loaded; "scenario" (its name), "path", "seed".
* "step": one step; "tid" is the thread the user chose, or null when the
  scheduler picked.
* "run", "fast-forward", "go to": a run started; "go to" has "target".
* "pause": a run stopped, by the user or at its end.
* "back": one step back.
* "verdict": first seen; "verdict" (kind) and "headline".

The simulator is deterministic, so the "open" line and the "step" lines
with a tid are enough to reproduce what the user saw.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TextIO


class SessionTrace:
    def __init__(self, path: Path) -> None:
        self._file: TextIO = path.open("w", encoding="utf-8")
        self._started = time.monotonic()

    def record(self, kind: str, step: int, **fields: object) -> None:
        line = {"kind": kind, "at": round(time.monotonic() - self._started, 3), "step": step, **fields}
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()  # a crash or kill -9 keeps what happened so far

    def close(self) -> None:
        self._file.close()
