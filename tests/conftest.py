"""Process-wide test setup: Kivy renders offscreen, escpos keeps its cache in a temp dir."""
import os
import tempfile

_tmp = tempfile.mkdtemp(prefix="talon-tests-")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", os.path.join(_tmp, "kivy"))
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", os.path.join(_tmp, "escpos"))
