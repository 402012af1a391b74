"""An in-memory stand-in for ``broker.client.HubClient``, for unit tests of device apps.

It implements ``broker.bus.Bus`` and lets a test play the hub and the broker: answer
requests with a handler, push retained state and events, drop the connection, or
retain a state without delivering it (``deliver=False``: the device missed it) so that
only ``reread_state`` brings it, as the broker does after a re-subscription.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker.errors import CommandError, HubUnreachable

Handler = Callable[[str, dict], dict]


class FakeBus:
    def __init__(self, handler: Handler | None = None, connected: bool = True):
        self.handler = handler
        self.connected = connected
        self.sent: list[tuple[str, dict]] = []
        self.request_ids: list[str | None] = []   # the caller's ids (None: the bus made one)
        self.statuses: list[dict] = []
        self._state: dict[str, dict] = {}       # what the broker retains
        self.rereads: list[str] = []             # every reread_state(name), in order
        self._state_watchers: dict[str, list[Callable[[dict], Any]]] = {}
        self._event_watchers: list[Callable[[dict], Any]] = []
        self._connection_watchers: list[Callable[[bool], Any]] = []

    # --- the HubClient interface -------------------------------------------------
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def on_connection(self, cb: Callable[[bool], Any]) -> None:
        self._connection_watchers.append(cb)

    def request(self, op: str, args: dict | None = None, timeout: float = 3.0, request_id: str | None = None) -> dict:
        args = dict(args or {})
        if not self.connected:
            raise HubUnreachable()
        self.sent.append((op, args))
        self.request_ids.append(request_id)
        if self.handler is None:
            return {}
        return self.handler(op, args)

    def watch_state(self, name: str, cb: Callable[[dict], Any]) -> None:
        self._state_watchers.setdefault(name, []).append(cb)
        if name in self._state:
            cb(self._state[name])

    def reread_state(self, name: str) -> None:
        """Like the broker after a re-subscription: the retained state, once more."""
        self.rereads.append(name)
        if self.connected and name in self._state:
            for cb in list(self._state_watchers.get(name, [])):
                cb(self._state[name])

    def on_event(self, cb: Callable[[dict], Any]) -> None:
        self._event_watchers.append(cb)

    def publish_status(self, status: dict) -> None:
        self.statuses.append(dict(status))

    # --- what a test does as the hub ---------------------------------------------
    def set_state(self, name: str, payload: dict, deliver: bool = True) -> None:
        """Retain ``payload`` as state ``name`` and (unless ``deliver`` is False) tell the watchers."""
        self._state[name] = payload
        if deliver:
            for cb in list(self._state_watchers.get(name, [])):
                cb(payload)

    def emit(self, event: dict) -> None:
        for cb in list(self._event_watchers):
            cb(event)

    def set_connected(self, connected: bool) -> None:
        self.connected = connected
        for cb in self._connection_watchers:
            cb(connected)

    @staticmethod
    def refuse(code: str, message: str = "отказано") -> CommandError:
        """Build the error a handler raises to answer ``ok: false``."""
        return CommandError(code, message, message)
