"""Stopping a screen role on SIGTERM (``systemctl stop``) the way closing its window does."""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable


def stop_on_sigterm(schedule_once: Callable[[Callable[[float], object]], object], stop: Callable[[], object]) -> bool:
    """SIGTERM schedules ``stop()`` on the UI thread (``schedule_once`` is Kivy's
    ``Clock.schedule_once``), so the app's ``on_stop`` runs: the device says "offline"
    itself, closes its connection and the process exits 0. Only the main thread may set
    a signal handler: elsewhere (an app inside a test) nothing is done and False returned."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, lambda *_: schedule_once(lambda _dt: stop()))
    return True
