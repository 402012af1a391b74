"""An announcement really played through Kivy/SDL: the disk audio driver writes the PCM."""
import os
import shutil
import subprocess
import sys
import textwrap
from array import array

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng not installed")

SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from hardware.sound import SoundCache
    from hardware.sound_players import KivyPlayer
    path = SoundCache(sys.argv[1]).announcement_path("А042", 3)
    KivyPlayer().play(Path(path))
    print("played", path)
""")


def test_sound_kivy_sdl_disk_driver_writes_real_pcm(tmp_path):
    raw = tmp_path / "out.raw"
    env = dict(os.environ, SDL_AUDIODRIVER="disk", SDL_DISKAUDIOFILE=str(raw), SDL_VIDEODRIVER="offscreen",
               KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_HOME=str(tmp_path / "kivy"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "cache")], env=env, capture_output=True,
                          text=True, timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert raw.exists() and raw.stat().st_size > 100_000
    samples = array("h")
    samples.frombytes(raw.read_bytes()[: raw.stat().st_size // 2 * 2])
    loud = sum(1 for s in samples if abs(s) > 2000)
    assert loud > 10_000          # the chime and the voice, not silence
