"""Drill: the kiosk's printer runs out of paper mid-morning and is refilled, over a real
hub and mosquitto. No ticket is issued that cannot be handed out: while the paper is out
the visitor of an office that serves ticket pages gets the ticket on the screen, as the QR
code of its page, and nothing is printed; an office without pages (`talon hub --no-web`)
says politely that tickets are stopped and issues nothing. Staff see the printer state in
the hub's device log; printed tickets resume after the refill with no number lost."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from hardware.printer_fake import FakePrinter
from hardware.printer_status import PrinterState
from hub.service import Hub
from kiosk.presenter import KioskPresenter, Screen
from storage import directory
from storage.models import PresenceRow, TicketRow
from storage.queue_db import QueueDatabase
from tests.mqtt_fixtures import OFFICE, PASSWORDS, wait_until
from tests.queue_core.helpers import MONDAY_10, make_config

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["pages", "no_web"])
def hub(request, tmp_path, mosquitto_broker):
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", replace(make_config(windows=1), office_id=OFFICE))
    with db.sessions() as s, s.begin():
        directory.add_device(s, OFFICE, "kiosk-1", "kiosk", password=PASSWORDS["kiosk-1"])
        directory.add_device(s, OFFICE, "counter-1", "counter", window=1, password=PASSWORDS["counter-1"])
    began = datetime.now(timezone.utc)
    h = Hub(db, mosquitto_broker.url, username="hub", password=PASSWORDS["hub"],
            clock=lambda: MONDAY_10 + (datetime.now(timezone.utc) - began),
            public_url="http://hub.test:8080" if request.param == "pages" else None)
    h.start()
    yield h, db, request.param == "pages"
    h.stop()


def numbers(db) -> list[str]:
    with db.sessions() as s:
        return s.execute(select(TicketRow.number).order_by(TicketRow.id)).scalars().all()


def test_paper_out_then_refill(hub, mosquitto_broker, bus):
    h, db, pages = hub
    bus.start(mosquitto_broker.hub_client("counter-1", "counter")).request("open", {"window": 1})
    printer = FakePrinter()
    kiosk = KioskPresenter(bus.start(mosquitto_broker.hub_client("kiosk-1", "kiosk")), printer,
                           now=lambda: MONDAY_10)
    kiosk.start()
    wait_until(lambda: kiosk.config.topics and "A" in kiosk.queue.topics and kiosk.queue.topics["A"].accepting,
               what="the kiosk seeing the open window")
    kiosk.poll_printer(force_publish=True)

    kiosk.begin()
    kiosk.choose_topic("A")
    assert len(printer.jobs) == 1 and numbers(db) == ["А001"]

    printer.state = PrinterState.PAPER_OUT
    kiosk.go_home()
    kiosk.poll_printer()
    assert kiosk.tickets_stopped
    kiosk.begin()
    kiosk.choose_topic("A")
    if pages:                                                # no paper: the ticket's code on the screen
        assert kiosk.screen is Screen.PHONE
        assert len(printer.jobs) == 1 and numbers(db) == ["А001", "А002"]
        assert "http://hub.test:8080/t/" in kiosk.view().ticket_url
        kiosk.go_home()
    else:                                                    # no pages: nothing is issued, the visitor is told
        assert kiosk.screen is Screen.OUT_OF_SERVICE and numbers(db) == ["А001"]
    issued = numbers(db)

    wait_until(lambda: _printer_log(db) and _printer_log(db)[-1] == "paper_out", what="staff seeing paper out")
    printer.state = PrinterState.OK                          # refilled
    kiosk.poll_printer()
    kiosk.begin()
    kiosk.choose_topic("A")
    assert len(printer.jobs) == 2 and numbers(db) == issued + [f"А{len(issued) + 1:03d}"]
    wait_until(lambda: _printer_log(db)[-1] == "ok", what="the refill reaching the hub")


def _printer_log(db) -> list[str]:
    with db.sessions() as s:
        return s.execute(select(PresenceRow.printer).where(PresenceRow.device == "kiosk-1")
                         .order_by(PresenceRow.id)).scalars().all()
