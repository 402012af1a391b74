"""The device-side bus interface (docs/contract.md) as a ``typing.Protocol``.

``broker.client.HubClient`` (MQTT) and ``broker.fake_bus.FakeBus`` (tests) both
implement it; device apps and presenters are typed against ``Bus`` only.

Callbacks run on the bus's own thread. A presenter is single-threaded: it is handed
a ``Post`` function at ``start`` and sends every bus callback through it once, onto
its own thread (Kivy's clock, a worker thread); ``direct`` runs it in place (tests).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

StateCallback = Callable[[dict], Any]
EventCallback = Callable[[dict], Any]
ConnectionCallback = Callable[[bool], Any]
Post = Callable[..., Any]          # post(fn, *args): run fn(*args) on the presenter's thread


def direct(fn: Callable[..., Any], *args: Any) -> None:
    """A ``Post`` that runs the callback at once, on the caller's thread (tests, tools)."""
    fn(*args)


@runtime_checkable
class Bus(Protocol):
    """What a kiosk, counter or board talks to (see docs/contract.md)."""

    @property
    def connected(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def on_connection(self, cb: ConnectionCallback) -> None:
        """``cb(connected)`` on every change."""

    def request(self, op: str, args: dict | None = None, timeout: float = 3.0,
                request_id: str | None = None) -> dict:
        """The reply's ``data``; raises ``CommandError`` (refused) or ``HubUnreachable``
        (no answer: maybe applied, retry with the same ``request_id``)."""
        ...

    def watch_state(self, name: str, cb: StateCallback) -> None:
        """``cb(payload)`` now if the retained state is known, and on every update."""

    def reread_state(self, name: str) -> None:
        """Fetch the retained state ``name`` again; watchers get it as an update
        (a consumer that saw a gap in event ``seq`` calls this)."""

    def on_event(self, cb: EventCallback) -> None:
        """``cb(event)`` for every ``event/ticket``."""

    def publish_status(self, status: dict) -> None:
        """The retained ``device/<id>/status``, merged with the birth fields."""
