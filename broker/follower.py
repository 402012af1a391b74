"""Following the office's event ``seq`` on a device (one implementation for every app).

The hub numbers its events 1, 2, 3… per office and stamps each retained state with
the ``seq`` it reflects. A device that follows both:

* ignores an event whose ``seq`` it has already seen (a redelivery, or something a
  newer retained state already covered): ``event(seq)`` returns False;
* on a gap (``seq`` jumps by more than one: an event was lost) asks the bus to re-read
  the retained states it follows, then takes the event: ``event(seq)`` returns True;
* ignores a retained state older than the events it already applied:
  ``state(seq)`` returns False.

Not thread-safe by design: it lives inside a single-threaded presenter.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Rereader(Protocol):
    def reread_state(self, name: str) -> None: ...


class SeqFollower:
    """``bus``: anything with ``reread_state(name)``; ``names``: the retained states to
    re-read on a gap or a reconnect; ``on_resync(reason)`` runs after asking."""

    def __init__(self, bus: Rereader, names: Iterable[str] = (),
                 on_resync: Callable[[str], Any] | None = None) -> None:
        self.bus = bus
        self.names: list[str] = list(dict.fromkeys(names))
        self.on_resync = on_resync
        self.last_seq: int | None = None
        self.resyncs = 0        # how many times the retained state was asked for again
        self.gaps = 0           # of which because of a gap in seq

    def follow(self, name: str) -> None:
        """Also re-read ``name`` on a gap (e.g. a window the hall board started to watch)."""
        if name not in self.names:
            self.names.append(name)

    def event(self, seq: object) -> bool:
        """True when the event is new (after a resync if events were missed before it);
        False when it is stale or a duplicate. An event without an integer seq is new."""
        if type(seq) is not int:
            return True
        last = self.last_seq
        if last is not None and seq <= last:
            return False
        if last is not None and seq > last + 1:
            self.gaps += 1
            self.resync(f"seq gap: {last} -> {seq}")
        self.last_seq = seq if self.last_seq is None else max(seq, self.last_seq)
        return True

    def state(self, seq: object) -> bool:
        """True when a retained state stamped ``seq`` is current (not older than the
        events applied); it then becomes the last seq seen."""
        if type(seq) is not int:
            return True
        if self.last_seq is not None and seq < self.last_seq:
            return False
        self.last_seq = seq
        return True

    def resync(self, reason: str) -> None:
        """Ask the bus for every followed retained state again (a gap, a reconnect)."""
        self.resyncs += 1
        log.info("re-reading %s (%s)", ", ".join(self.names) or "nothing", reason)
        for name in self.names:
            try:
                self.bus.reread_state(name)
            except Exception:  # the retained state also comes back on the next reconnect
                log.exception("reread_state(%r) failed", name)
        if self.on_resync is not None:
            self.on_resync(reason)
