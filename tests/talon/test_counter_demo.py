"""``talon counter --demo``: the terminal on the real hub in this process."""
from __future__ import annotations

import argparse

from talon import counter


def parse(*argv):
    parser = argparse.ArgumentParser()
    counter.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_demo_runs_the_terminal_on_the_real_hub(monkeypatch):
    seen = {}

    def fake_run(args, bus=None):      # what the terminal would do, while the hub runs
        seen["window"] = bus.request("sign_in", {"window": 2, "operator": "ivanova", "pin": "1234"})["window"]
        seen["ticket"] = bus.request("call_next", {"window": 2})["ticket"]
        return 0

    monkeypatch.setattr(counter, "run_counter", fake_run)
    assert counter.run(parse("--window", "2", "--demo")) == 0
    # the only open window of three may neither break nor close in working hours (004:1130)
    assert seen["window"]["state"] == "open" and seen["window"]["actions"] == ["call_next"]
    assert seen["ticket"]["number"] == "К001"


def test_demo_refuses_a_window_the_demo_office_lacks():
    assert counter.run(parse("--window", "9", "--demo")) == 2


def test_the_device_app_alone_cannot_start_a_hub():
    from counter_app.cli import run
    assert run(parse("--window", "1", "--demo")) == 2
