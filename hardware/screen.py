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


def run_scripted(app, size: tuple[int, int], script, *, first_wait_s: float = 0.3) -> None:
    """Run ``app`` the way its command does (``app.run()``) in a ``size`` window and drive
    it with ``script(app)``, a generator: each ``yield`` lets the app run (``yield 0.2``:
    that many seconds, default 0.1) before the next step; the app stops when the script
    ends or raises (the error is raised again here). For tests and ``talon screens``."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    Window.size = size
    steps = iter(script(app))
    errors: list[BaseException] = []

    def advance(_dt) -> None:
        try:
            wait = next(steps)
        except StopIteration:
            app.stop()
            return
        except BaseException as exc:  # handed to the caller after the app has stopped
            errors.append(exc)
            app.stop()
            return
        Clock.schedule_once(advance, 0.1 if wait is None else wait)

    Clock.schedule_once(advance, first_wait_s)
    app.run()
    if errors:
        raise errors[0]


def screenshot(path) -> str:
    """Save everything in the window (popups included) as the PNG ``path``; returns the
    path. Drawn into an off-screen buffer of the window's size, so it works at any size,
    even one larger than an offscreen SDL surface."""
    from kivy.core.window import Window
    from kivy.graphics import ClearBuffers, ClearColor, Fbo, Scale, Translate

    width, height = (int(v) for v in Window.size)
    fbo = Fbo(size=(width, height), with_stencilbuffer=True)
    with fbo:
        ClearColor(*Window.clearcolor)
        ClearBuffers()
        Scale(1, -1, 1)
        Translate(0, -height, 0)
    moved = []
    for child in reversed(Window.children):        # bottom first, popups last
        index = Window.canvas.indexof(child.canvas)
        if index > -1:
            Window.canvas.remove(child.canvas)
        fbo.add(child.canvas)
        moved.append((child, index))
    try:
        fbo.draw()
        fbo.texture.save(str(path), flipped=False)
    finally:
        for child, index in moved:
            fbo.remove(child.canvas)
            if index > -1:
                Window.canvas.insert(index, child.canvas)
    return str(path)


def register_widget_classes(module) -> None:
    """Register ``module``'s widget classes with Kivy's Factory again if they are missing
    (a test framework's temporary Factory context may have dropped them after the module
    was first imported inside it)."""
    from kivy.factory import Factory
    from kivy.uix.widget import Widget

    for name, obj in vars(module).items():
        mine = isinstance(obj, type) and issubclass(obj, Widget) and obj.__module__ == module.__name__
        if mine and name not in Factory.classes:
            Factory.register(name, cls=obj)
