"""Golden tests of `talon setup ROLE --dry-run`: the plan a technician reads.

Regenerate after an intended change: TALON_UPDATE_GOLDEN=1 pytest tests/deploy
(the variable is read before the autouse fixture clears TALON_*).
"""
import os
from pathlib import Path

import pytest

from talon import cli

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("TALON_UPDATE_GOLDEN") == "1"
COMMON = ["--office", "mek", "--source", "/srv/talon", "--dry-run"]

CASES = {
    "hub": ["setup", "hub", "--device", "hub-1", *COMMON],
    "kiosk": ["setup", "kiosk", "--device", "kiosk-1", "--password", "p4ss", "--optional",
              "--broker", "mqtt://10.0.0.2:1883", *COMMON],
    "counter": ["setup", "counter", "--device", "counter-3", "--password", "p4ss", "--window", "3", *COMMON],
    "board": ["setup", "board", "--device", "board-1", "--password", "p4ss", *COMMON],
    "board-window": ["setup", "board", "--device", "display-2", "--password", "p4ss", "--window", "2", *COMMON],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_setup_dry_run_matches_golden(name, capsys):
    assert cli.main(CASES[name]) == 0
    out = capsys.readouterr().out
    golden = GOLDEN / f"setup-{name}.txt"
    if UPDATE:
        golden.write_text(out)
    assert out == golden.read_text()
    assert "p4ss" not in out  # the password is masked


def test_setup_dry_run_password_from_env(monkeypatch, capsys):
    monkeypatch.setenv("TALON_DEVICE_PASSWORD", "from-env")
    assert cli.main(["setup", "kiosk", "--device", "kiosk-1", *COMMON]) == 0
    assert "TALON_DEVICE_PASSWORD=********" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["setup", "kiosk", "--device", "k1", *COMMON], "needs the device password"),
    (["setup", "counter", "--device", "c1", "--password", "x", *COMMON], "needs --window"),
    (["setup", "kiosk", "--device", "k1", "--password", "x", "--window", "2", *COMMON], "does not take --window"),
    (["setup", "hub", "--device", "bad id", *COMMON], "--device"),
    (["setup", "hub", "--device", "h1", "--broker", "http://x", *COMMON], "--broker"),
    (["setup", "hub", "--device", "h1", "--source", "/srv/t", "--dry-run"], "--office"),
])
def test_setup_rejects_bad_options(args, message, capsys):
    assert cli.main(args) == 2
    assert message in capsys.readouterr().err
