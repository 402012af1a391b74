"""Talking to the hub: one request, its outcome as a value, and where requests run.

``bus.request`` blocks until the reply (or the client's retries give up), so a UI never
calls it itself: the presenter hands the job to a runner — :func:`run_inline` (tests,
benchmarks) or one :class:`RequestWorker` thread for the app's lifetime — and the
outcome comes back to the presenter's thread through its ``post``.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from broker.errors import CommandError, HubUnreachable

log = logging.getLogger(__name__)

Runner = Callable[[Callable[[], None]], None]


@dataclass(frozen=True)
class Outcome:
    """What became of one request: ``data`` when ``ok``; else ``error`` names a string key
    (``hub_unreachable``, ``internal_error``) or ``refusal`` holds the hub's own texts."""
    ok: bool
    data: dict = field(default_factory=dict)
    error: str = ""
    refusal: dict[str, str] | None = None       # {"ru": …, "en": …} from an ok:false reply


def execute(bus, op: str, args: dict) -> Outcome:
    """Send one request and never raise: every failure becomes an :class:`Outcome`."""
    try:
        data = bus.request(op, args)
    except HubUnreachable:
        log.warning("%s %s: hub unreachable", op, args.get("window", ""))
        return Outcome(False, error="hub_unreachable")
    except CommandError as exc:
        log.info("%s %s refused: %s", op, args.get("window", ""), exc.code)
        return Outcome(False, refusal={"ru": exc.message, "en": exc.message_en or exc.message})
    except Exception:
        log.exception("%s %s failed", op, args.get("window", ""))
        return Outcome(False, error="internal_error")
    return Outcome(True, data=data if isinstance(data, dict) else {})


def run_inline(job: Callable[[], None]) -> None:
    """Run a request on the caller's thread (tests, benchmarks)."""
    job()


class RequestWorker:
    """One long-lived thread that runs requests in order (the presenter allows one at a time)."""

    def __init__(self, name: str = "counter-requests"):
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def __call__(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except Exception:
                log.exception("counter request job failed")

    def close(self) -> None:
        self._jobs.put(None)
