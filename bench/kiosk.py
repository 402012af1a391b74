"""Benchmark ``kiosk``: the figures the kiosk issue sets, plus ticket composition.

    talon bench kiosk [--quick] [--json]

* ``tap_to_print_ms`` {p50, p99}: the visitor taps a topic → the last byte of the ticket
  handed to the printer connection (its write returned). A real ``talon hub`` process
  with mosquitto on loopback, a real ``HubClient``, the presenter on one worker thread as
  in the app, and a ``file`` printer writing to a temp file (default text mode, 80 mm).
* ``first_frame_s``: ``python -m talon kiosk`` started (offscreen) → its first frame drawn
  (the app writes the time to ``TALON_FIRST_FRAME_FILE``); median of the runs.
* ``rss_mb``: that kiosk process's resident memory once it is online at the hub.
* ``compose_*``, ``ticket_bytes_*``: composing a ticket's bytes; ``tap_to_ticket_shown_ms_median``:
  the same tap with FakeBus and FakePrinter, i.e. the kiosk's own share.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from bench.harness import BenchOffice, free_port, median_ms, rss_mb, stop_process
from broker.fake_bus import FakeBus
from hardware.printer import PrinterSettings, TicketPrinter, compose_ticket
from hardware.printer_connection import open_connection
from hardware.printer_fake import FakePrinter
from hardware.printer_ticket import TicketLayout
from kiosk.presenter import KioskPresenter, Screen

GOALS = {"tap_to_print_ms.p99": ("<=", 100), "first_frame_s": ("<=", 2), "rss_mb": ("<=", 200)}
OFFICE = "bench"   # the office of bench.hub's office.toml
WAIT_S = 60.0      # bound on every wait for the hub or the kiosk process

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


def _compose_figures(repeats: int) -> dict:
    text_80mm = PrinterSettings(cyrillic="cp866_17")
    image_58mm = PrinterSettings(cyrillic="image", paper_width_px=384, qr="none")
    image_80mm = PrinterSettings(cyrillic="image", paper_width_px=576, qr="none")
    return {
        "compose_text_ms_median": median_ms(lambda: compose_ticket(SAMPLE, text_80mm), repeats),
        "compose_image_384_ms_median": median_ms(lambda: compose_ticket(SAMPLE, image_58mm), repeats),
        "compose_image_576_ms_median": median_ms(lambda: compose_ticket(SAMPLE, image_80mm), repeats),
        "ticket_bytes_text": len(compose_ticket(SAMPLE, text_80mm)),
        "ticket_bytes_image_576": len(compose_ticket(SAMPLE, image_80mm)),
        "tap_to_ticket_shown_ms_median": median_ms(_tap_to_ticket_shown(), repeats),
    }


def _wait(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.02)
    raise RuntimeError(f"kiosk bench: timed out waiting for {what}")


def _tap_to_print_ms(broker_url: str, password: str, tickets: Path, taps: int) -> dict:
    """Taps on a topic through a real hub; ms until the printer connection's write returned."""
    from broker.client import HubClient
    from broker.errors import CommandError

    written_at: list[float] = []

    def connect(settings):
        connection = open_connection(settings)
        send = connection.send

        def timed_send(data: bytes) -> None:
            send(data)
            written_at.append(time.perf_counter())
        connection.send = timed_send
        return connection

    bus = HubClient(broker_url, OFFICE, "kiosk-1", "kiosk", password=password)
    worker = ThreadPoolExecutor(max_workers=1)           # the app's presenter thread
    kiosk = KioskPresenter(bus, TicketPrinter(PrinterSettings(connection="file", target=str(tickets)),
                                              connect=connect))
    bus.start()
    try:
        worker.submit(kiosk.start, lambda fn, *args: worker.submit(fn, *args)).result()
        _wait(lambda: bus.wait_ready(0.1) and kiosk.config.topics and kiosk.queue.topics, "the kiosk reading the hub's state")

        def tap() -> float:
            kiosk.go_home()
            kiosk.begin()
            began = time.perf_counter()
            kiosk.choose_topic("A")
            if kiosk.screen != Screen.TICKET:
                raise CommandError("bench", f"the tap ended on {kiosk.screen.value}: {kiosk.message}")
            return (written_at[-1] - began) * 1000

        quiet = logging.getLogger("hardware.printer")
        level = quiet.level
        quiet.setLevel(logging.WARNING)                  # not one log line per ticket
        try:
            worker.submit(tap).result()                  # warm-up
            samples = sorted(worker.submit(tap).result() for _ in range(taps))
        finally:
            quiet.setLevel(level)
    finally:
        bus.stop()           # before the worker goes: its last connection callback lands there
        worker.shutdown()
    return {"p50": round(statistics.median(samples), 2),
            "p99": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))], 2), "n": len(samples)}


def _kiosk_process(broker_url: str, password: str, tmp: Path, db_url: str) -> tuple[float, float]:
    """Start ``talon kiosk`` offscreen: (seconds to its first frame, RSS in MB once online)."""
    from storage.engine import make_engine

    run_dir = Path(tempfile.mkdtemp(dir=tmp, prefix="kiosk-"))
    (run_dir / "kivy").mkdir()
    frame_file = run_dir / "first-frame"
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "KIVY_NO_ARGS": "1",
           "KIVY_HOME": str(run_dir / "kivy"), "TALON_FIRST_FRAME_FILE": str(frame_file),
           "TALON_DEVICE_PASSWORD": password}
    engine = make_engine(db_url)
    seen_before = _presence_count(engine)
    with (run_dir / "kiosk.log").open("w") as log:
        started = time.time()
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "talon", "kiosk", "--broker", broker_url, "--office", OFFICE,
             "--device", "kiosk-2", "--printer", "file", "--printer-target", str(run_dir / "tickets.bin")],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: frame_file.exists() and frame_file.read_text().strip() or kiosk.poll() is not None,
              "the kiosk's first frame")
        if kiosk.poll() is not None:
            raise RuntimeError(f"talon kiosk exited ({kiosk.returncode}); see {run_dir / 'kiosk.log'}")
        first_frame = float(frame_file.read_text()) - started
        _wait(lambda: _presence_count(engine) > seen_before, "the kiosk online at the hub")
        time.sleep(1.0)                                  # its first screens drawn with the office's config
        return round(first_frame, 3), rss_mb(kiosk.pid)
    finally:
        kiosk.send_signal(signal.SIGTERM)
        try:
            kiosk.wait(10)
        except subprocess.TimeoutExpired:
            kiosk.kill()
            kiosk.wait()
        engine.dispose()


def _presence_count(engine) -> int:
    """Times kiosk-2 was recorded online with its printer state (its presenter is running)."""
    from storage import presence
    from storage.engine import make_sessionmaker

    with make_sessionmaker(engine)() as s:
        return sum(1 for st in presence.history(s, OFFICE, "kiosk-2") if st.state == "online" and st.printer)


def run(quick: bool) -> dict:
    from hub.brokers import find_mosquitto

    repeats = 20 if quick else 200
    figures: dict = {"repeats": repeats, **_compose_figures(repeats)}
    if not find_mosquitto():
        return {**figures, "skipped": "mosquitto is not installed: no tap_to_print_ms, first_frame_s, rss_mb"}
    office = BenchOffice("bench-kiosk", 1, OFFICE)
    passwords = office.provision([("kiosk-1", "kiosk", None), ("kiosk-2", "kiosk", None), ("counter-1", "counter", 1)])
    port = free_port()
    broker_url = f"mqtt://127.0.0.1:{port}"
    hub = office.start_hub(port, "--broker-kind", "mosquitto")
    counter = office.client(broker_url, "counter-1", "counter")
    try:
        counter.start()
        _wait(lambda: counter.wait_ready(0.1) and _opened(counter), "the hub (window 1 opened)")
        figures["tap_to_print_ms"] = _tap_to_print_ms(broker_url, passwords["kiosk-1"], office.dir / "tickets.bin",
                                                      taps=50 if quick else 300)
        runs = [_kiosk_process(broker_url, passwords["kiosk-2"], office.dir, office.database_url)
                for _ in range(1 if quick else 3)]
        figures["first_frame_s"] = round(statistics.median(r[0] for r in runs), 3)
        figures["rss_mb"] = max(r[1] for r in runs)
        figures["note"] = ("tap_to_print: talon hub + mosquitto on loopback, file printer, text-mode 80 mm ticket; "
                           "first_frame_s: median of %d offscreen starts; rss_mb: the largest" % len(runs))
    finally:
        counter.stop()
        stop_process(hub)
    return figures


def _opened(counter) -> bool:
    from broker.errors import BusError

    try:
        counter.request("open", {"window": 1}, timeout=1.0)
        return True
    except BusError:
        return False


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
