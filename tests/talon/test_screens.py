"""`talon screens` renders pictures (a separate process: it runs the Kivy apps one after another)."""
import os
import subprocess
import sys

import pytest


@pytest.mark.kivy
def test_talon_screens_renders_the_window_display_and_the_tickets(tmp_path):
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=str(tmp_path / "kivy"))
    result = subprocess.run([sys.executable, "-m", "talon", "screens", "--out", str(tmp_path / "out"),
                             "--only", "window", "--only", "ticket", "--check"],
                            capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "window-1080x1920.png" in names and "window-1920x1080.png" in names
    assert any(n.startswith("ticket-") and n.endswith("-80mm.png") for n in names)
