"""Timing marks for benchmarks and drills: ``TALON_TRACE_FILE=path talon board …``.

The board appends one line per mark, ``<kind> <ticket> <time.time()>``:

* ``connected - t`` / ``disconnected - t``: the bus came up / went down;
* ``offline_shown - t`` / ``online_shown - t``: the «Нет связи» badge appeared / went away;
* ``flash <ticket> t``: the panel started blinking for a call;
* ``prerendered <count> t``: the first calls of the day are rendered;
* ``frame <ticket> t``: the first frame that shows a newly called number was swapped
  to the screen and fully drawn (``glFinish``; the big slot of the hall board, the main
  line of a window display);
* ``sound_start <ticket> t`` / ``sound_end <ticket> t``: its announcement began / ended.

Without the variable nothing is written and nothing is slowed down.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

ENV = "TALON_TRACE_FILE"


class Tracer:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)

    def mark(self, kind: str, what: object = "-", at: float | None = None) -> None:
        line = f"{kind} {what} {time.time() if at is None else at:.6f}\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(line)

    def close(self) -> None:
        with self._lock:
            self._file.close()


def from_env() -> Tracer | None:
    path = os.environ.get(ENV)
    return Tracer(path) if path else None


def read_marks(path: str | os.PathLike) -> list[tuple[str, str, float]]:
    """``(kind, what, time)`` of every complete line written so far."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    marks = []
    for line in text.splitlines(keepends=True):
        parts = line.split()
        if line.endswith("\n") and len(parts) == 3:
            try:
                marks.append((parts[0], parts[1], float(parts[2])))
            except ValueError:
                pass
    return marks
