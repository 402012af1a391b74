"""Process-wide test setup: Kivy renders offscreen, escpos keeps its cache in a temp dir."""
import os
import sys
import tempfile

import pytest

_tmp = tempfile.mkdtemp(prefix="talon-tests-")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", os.path.join(_tmp, "kivy"))
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", os.path.join(_tmp, "escpos"))


@pytest.fixture(autouse=True)
def _kivy_event_loop_running():
    """A Kivy app test ends by closing the event loop, after which ``EventLoop.idle()``
    does nothing (no layout, blank screenshots). Reopen it for the next Kivy test."""
    base = sys.modules.get("kivy.base")
    if base is not None and base.EventLoop.quit:
        base.EventLoop.quit = False
        base.EventLoop.status = "started"
    yield
