"""The screen every Kivy role draws on: one set-up for kiosk, counter and board.

Call ``configure_screen`` before anything imports ``kivy.core.window``: Kivy reads
these settings when its window is created.
"""
from __future__ import annotations

import os


def configure_screen(fullscreen: bool, size: str = "", default_size: tuple[int, int] = (1280, 800),
                     images: bool = True) -> None:
    """Full screen without a cursor on a device (SDL2 KMS/DRM on a Pi), or a window of
    ``size`` ("WxH") on a desktop."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # An interruptible clock: an update scheduled from the MQTT thread wakes the UI loop
    # at once instead of after the rest of a 1/60 s sleep (read when kivy.clock is imported).
    os.environ.setdefault("KIVY_CLOCK", "interrupt")
    os.environ.setdefault("KIVY_AUDIO", "sdl2")
    if not images:     # no pictures to show: skip Kivy's PIL image provider (~2 MB resident)
        os.environ.setdefault("KIVY_IMAGE", "tex,dds,sdl2")
    from kivy.config import Config

    # No multisampling: on a software renderer (Mesa llvmpipe) it doubles the cost of every
    # frame and ~40 MB of memory; shapes are antialiased by Kivy's Smooth* instructions.
    Config.set("graphics", "multisamples", "0")
    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
    else:
        width, _, height = size.partition("x")
        Config.set("graphics", "width", width or str(default_size[0]))
        Config.set("graphics", "height", height or str(default_size[1]))
