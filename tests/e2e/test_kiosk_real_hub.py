"""The kiosk against a real hub (``OfficeRuntime`` with mosquitto on loopback):

* the hub stalls, the kiosk gives up and offers «Повторить»; the hub then applies the
  first attempt; the retry carries the same command id and gets the same ticket, and
  the database holds exactly one;
* ``talon kiosk`` as a process (offscreen) comes online at the hub and stops cleanly on
  SIGTERM (``systemctl stop``), and so do ``talon counter`` and ``talon board``: exit
  code 0, "offline" said by the device itself, not one ERROR in the log.
"""
import os
import shutil
import signal
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from broker.client import HubClient
from hardware.printer_fake import FakePrinter
from hub.brokers import find_mosquitto
from hub.runtime import OfficeRuntime, RuntimeSettings
from kiosk.presenter import KioskPresenter, Screen
from queue_core.config import parse_office_toml
from storage import directory
from storage.models import PresenceRow, TicketRow
from tests.e2e.conftest import office_toml, wait_for
from tests.mqtt_fixtures import OFFICE, broker_dir, free_port, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def hub():
    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    folder = broker_dir()  # mosquitto (its own user) must reach its files
    runtime = OfficeRuntime(RuntimeSettings(
        config=parse_office_toml(office_toml(windows=1, office=OFFICE)), data_dir=folder,
        database_url=f"sqlite:///{folder}/talon.db", broker_kind="mosquitto", port=free_port(), web_port=None))
    with runtime.db.sessions() as s, s.begin():
        runtime.passwords = {"kiosk-1": directory.add_device(s, OFFICE, "kiosk-1", "kiosk"),
                             "counter-1": directory.add_device(s, OFFICE, "counter-1", "counter", window=1),
                             "board-1": directory.add_device(s, OFFICE, "board-1", "board")}
    runtime.start()
    yield runtime
    runtime.stop()
    shutil.rmtree(folder, ignore_errors=True)


def client(hub, device: str, role: str) -> HubClient:
    return HubClient(hub.broker_url, OFFICE, device, role, password=hub.passwords[device])


def numbers(hub) -> list[str]:
    with hub.db.sessions() as s:
        return s.execute(select(TicketRow.number).order_by(TicketRow.id)).scalars().all()


def presence(hub, device: str) -> list[tuple[str, str | None]]:
    with hub.db.sessions() as s:
        rows = s.execute(select(PresenceRow).where(PresenceRow.device == device).order_by(PresenceRow.id)).scalars()
        return [(r.state, r.printer) for r in rows]


def test_kiosk_retry_after_an_unanswered_issue_gets_the_same_ticket(hub, bus):
    bus.start(client(hub, "counter-1", "counter")).request("open", {"window": 1})
    printer = FakePrinter()
    kiosk = KioskPresenter(bus.start(client(hub, "kiosk-1", "kiosk")), printer)
    kiosk.start()
    wait_until(lambda: kiosk.config.topics and "A" in kiosk.queue.topics and kiosk.queue.topics["A"].accepting,
               what="the kiosk seeing the open window")

    stalled, hanging = threading.Event(), threading.Event()

    def hang() -> None:
        hanging.set()
        stalled.wait(60)

    hub.hub.run_on_writer(hang)                        # the hub's single writer hangs...
    assert hanging.wait(10)                            # ...from now on, not once the kiosk has asked
    try:
        kiosk.begin()
        kiosk.choose_topic("A")                        # every copy of the command waits in the hub
        assert kiosk.screen is Screen.UNREACHABLE and printer.jobs == []
    finally:
        stalled.set()
    wait_until(lambda: numbers(hub) == ["А001"], what="the hub applying the first attempt")

    kiosk.retry()
    assert kiosk.screen is Screen.TICKET and kiosk.ticket_layout.number == "А001"
    assert len(printer.jobs) == 1
    assert numbers(hub) == ["А001"]                    # one ticket, not two


ROLES = {   # device -> its command line after the connection options, and the presence row that says "up"
    "kiosk-1": (["kiosk", "--printer", "file", "--size", "800x480"], ("online", "unknown")),
    "counter-1": (["counter", "--window", "1"], None),
    "board-1": (["board", "--no-sound", "--size", "800x480"], None),
}


@pytest.mark.parametrize("device", sorted(ROLES))
def test_talon_device_process_comes_online_and_stops_quietly_on_sigterm(hub, tmp_path, device):
    kivy_home = tmp_path / "kivy"
    kivy_home.mkdir()
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "KIVY_NO_ARGS": "1",
           "KIVY_HOME": str(kivy_home), "TALON_DEVICE_PASSWORD": hub.passwords[device], "TALON_LOG": "INFO"}
    command, up = ROLES[device]
    if device == "kiosk-1":
        command = [*command, "--printer-target", str(tmp_path / "tickets.bin")]
    log = tmp_path / f"{device}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "talon", command[0], "--broker", hub.broker_url, "--office", OFFICE,
             "--device", device, *command[1:]], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # online (the kiosk: with the printer state its presenter read): the app is really up
        wait_for(lambda: (up in presence(hub, device) if up else any(s == "online" for s, _ in presence(hub, device)))
                 or proc.poll() is not None, timeout=60, what=f"{device} coming online at the hub")
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_for(lambda: presence(hub, device)[-1][0] == "offline", what=f"{device} saying it went offline")
    text = log.read_text()
    assert "ERROR" not in text and "Traceback" not in text, text
