"""A stopped kiosk leaves nothing behind in its process: its voice thread ends, and no kv
rule of its widgets runs again once another app is the running one (tests and
``talon screens`` run several apps in one process, one after the other)."""
import argparse

import pytest

from tests.kiosk.office_fixture import office_bus


@pytest.mark.kivy
def test_a_stopped_kiosk_leaves_nothing_for_the_next_app():
    from kivy.app import App
    from kivy.clock import Clock

    from kiosk.cli import add_arguments, build_app

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    app = build_app(parser.parse_args(["--printer", "fake", "--player", "null"]), bus=office_bus())
    app.build()                 # built but never drawn: its first layouts are still due on the clock
    voice = app.speaker._thread
    assert voice.is_alive()
    app.dispatch("on_stop")
    voice.join(timeout=30)
    assert not voice.is_alive()

    class NextApp(App):         # no `k`, no `vm`: a kiosk rule run now would fail on them
        pass

    following = NextApp()
    try:
        for _ in range(5):
            Clock.tick()
    finally:
        following.dispatch("on_stop")
