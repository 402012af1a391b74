"""End-to-end drills: real processes, loopback only, every wait bounded."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import harness
from tests.mqtt_fixtures import bus, free_port, mosquitto_broker  # noqa: F401


def office_toml(windows: int = 3, office: str = "office") -> str:
    """An office open around the clock, so drills never depend on the hour they run."""
    return harness.office_toml(windows, office, name="Офис для учений", timezone="Asia/Yekaterinburg")


class HubProcess:
    """``talon hub`` as a child process that a drill can SIGKILL and start again."""

    def __init__(self, data: Path, broker_url: str, hub_password: str | None):
        self.data, self.broker_url = data, broker_url
        self.config = data / "office.toml"
        self.config.write_text(office_toml(), encoding="utf-8")
        self.env = {**os.environ, "TALON_HUB_PASSWORD": hub_password or "", "TALON_LOG": "INFO"}
        self.proc: subprocess.Popen | None = None
        self.log = data / "hub.log"

    def args(self):
        return [sys.executable, "-m", "talon", "hub", "--config", str(self.config), "--data", str(self.data),
                "--broker", self.broker_url, "--no-web"]

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args(), env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def hub_process(tmp_path, mosquitto_broker):  # noqa: F811
    h = HubProcess(tmp_path, mosquitto_broker.url, mosquitto_broker.password("hub"))
    yield h
    h.stop()


def wait_for(pred, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


__all__ = ["free_port", "office_toml", "wait_for"]


@pytest.fixture
def board_office(tmp_path):
    """A real hub, mosquitto and provisioned devices for the board drills."""
    from bench.board import BoardOffice
    o = BoardOffice(tmp_path / "hub", windows=3)
    try:
        o.start()
        yield o
    finally:
        o.stop()
