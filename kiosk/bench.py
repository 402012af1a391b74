"""Kiosk figures: ticket composition time (text and image mode) and tap → ticket shown.

    python -m kiosk.bench            # full run, JSON on stdout
    python -m kiosk.bench --quick

The hub is a FakeBus and the printer a FakePrinter (which composes real bytes), so the
tap figure is the kiosk's own share: presenter, composition, view; not the network.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime

from broker.fake_bus import FakeBus
from hardware.printer import PrinterSettings, compose_ticket
from hardware.printer_fake import FakePrinter
from hardware.printer_ticket import TicketLayout
from kiosk.presenter import KioskPresenter, Screen
from talon.bench import median_ms

SAMPLE = TicketLayout(office_name="Центр обслуживания клиентов", number="А015",
                      topic_label="Консультация по договорам энергоснабжения",
                      issued_at=datetime(2025, 3, 12, 10, 42), people_ahead=3, eta_min=11.5,
                      footer_lines=("Контактный центр: 8 800 000-00-00", "Сайт: example.ru"))
CONFIG = {"office": {"name": {"ru": "Центр обслуживания клиентов"}, "languages": ["ru"]},
          "topics": [{"code": "A", "prefix": "А", "name": {"ru": "Консультация"}}]}




def _tap_to_ticket_shown():
    issued = []

    def hub(op, args):
        issued.append(1)
        return {"ticket": {"number": f"А{len(issued):03d}", "topic": "A", "kind": "walk_in",
                           "issued_at": "2025-03-12T10:42:00+05:00", "people_ahead": 2, "eta_min": 8.0}}

    bus = FakeBus(handler=hub)
    bus.set_state("config", CONFIG)
    kiosk = KioskPresenter(bus, FakePrinter())
    kiosk.start()

    def tap():
        kiosk.go_home()
        kiosk.begin()
        kiosk.choose_topic("A")
        assert kiosk.view().screen == Screen.TICKET

    return tap


def run(quick: bool) -> dict:
    repeats = 20 if quick else 200
    text_80mm = PrinterSettings(cyrillic="cp866_17")
    image_58mm = PrinterSettings(cyrillic="image", paper_width_px=384, qr="none")
    image_80mm = PrinterSettings(cyrillic="image", paper_width_px=576, qr="none")
    return {
        "repeats": repeats,
        "compose_text_ms_median": median_ms(lambda: compose_ticket(SAMPLE, text_80mm), repeats),
        "compose_image_384_ms_median": median_ms(lambda: compose_ticket(SAMPLE, image_58mm), repeats),
        "compose_image_576_ms_median": median_ms(lambda: compose_ticket(SAMPLE, image_80mm), repeats),
        "ticket_bytes_text": len(compose_ticket(SAMPLE, text_80mm)),
        "ticket_bytes_image_576": len(compose_ticket(SAMPLE, image_80mm)),
        "tap_to_ticket_shown_ms_median": median_ms(_tap_to_ticket_shown(), repeats),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
