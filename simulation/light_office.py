"""Light offices: many simulated offices without a hub each, for ``talon demo --offices N`` and
``talon bench hq``.

A light office is what head office sees of an office, and nothing more: its own real mosquitto
with the real bridge to head office (``hub.brokers.MosquittoBroker`` with ``[hq]``), into which it
publishes a simulated day's real ``event/ticket`` messages (made by the queue's own rules: the
simulator drives a ``queue_core`` ``Office`` in memory), its retained ``hq/config`` and its
devices' presence; it answers ``hq/replay`` from its events, as the hub's ``hub.hq_link`` does.
A real hub costs a Python process and a database per office; a light office costs a mosquitto
and a few kilobytes, so a hundred fit on one machine.

Office time runs ``speed`` times faster than the wall clock from ``wall0`` (office time
``office0``): an event whose office time is ``at`` is published at ``wall0 + (at - office0) /
speed``, with ``at`` as it is, so head office's reports read a real office day.

Several light offices run in one worker process (``python -m simulation.light_office SPEC``),
driven over stdin/stdout by one-line commands (``go WALL0``, ``report``, ``halt``, ``exit``),
so the machine's cores share the publishing and head office's process stays alone.
"""
from __future__ import annotations

import heapq
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from broker import messages
from broker.mqtt import MqttConnection
from broker.topics import Topics
from queue_core.config import HqLink, OfficeConfig
from queue_core.errors import QueueError
from queue_core.model import Event
from queue_core.office import Office

log = logging.getLogger(__name__)
DEVICES = (("kiosk-1", "kiosk"), ("board-1", "board"))


class MemoryOffice:
    """What ``simulation.simulator.Simulator`` needs of a ``QueueDatabase``, in memory: each
    operation's events are kept instead of stored."""

    def __init__(self, config: OfficeConfig):
        self.config = config
        self.office = Office(config)
        self.events: list[Event] = []

    def transaction(self, operation):
        try:
            result = operation(None, self.office)
        except QueueError:
            self.office.take_events()
            raise
        events, _tickets = self.office.take_events()
        self.events.extend(events)
        return result, events


def office_day_events(config: OfficeConfig, day: date, load: float, seed: int) -> list[Event]:
    """One office day's events, as the hub would have published them."""
    from simulation.simulator import Simulator
    from simulation.workload import Workload

    memory = MemoryOffice(config)
    Simulator(memory, Workload(load=load), seed=seed).run_day(day)
    return memory.events


def event_payloads(events: list[Event]) -> list[dict]:
    """``event/ticket`` payloads, calls carrying their recall count like the hub's."""
    from hub.dispatcher import event_payload

    recalls: dict[str, int] = {}
    out = []
    for e in events:
        count = None
        if e.kind in ("called", "recalled"):
            count = recalls[e.ticket] = recalls.get(e.ticket, -1) + 1 if e.kind == "recalled" else 0
        out.append(event_payload(e, count))
    return out


@dataclass
class LightOffice:
    config: OfficeConfig
    data_dir: Path
    hq_url: str
    hq_password: str
    port: int
    events: list[Event] = field(default_factory=list)
    published: int = 0                  # events handed to the office broker so far
    replays: int = 0

    def __post_init__(self) -> None:
        from hub.brokers import MosquittoBroker

        self.id = self.config.office_id
        self.topics = Topics(self.id)
        self.payloads = event_payloads(self.events)
        self.broker = MosquittoBroker(self.data_dir, "127.0.0.1", self.port, allow_anonymous=True, office=self.id,
                                      hq=HqLink(url=self.hq_url, user=self.id), hq_password=self.hq_password)
        self.conn = MqttConnection(f"mqtt://127.0.0.1:{self.port}", f"light-{self.id}", persistent=True)

    def start(self) -> None:
        from host.ports import free_port
        from hub.hq_link import config_message, hq_topic

        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o755)
        for attempt in range(5):      # a port picked free may be taken meanwhile (another bridge's own end)
            try:
                self.broker.start()
                break
            except RuntimeError:
                if attempt == 4:
                    raise
                self.port = self.broker.port = free_port()
                self.conn = MqttConnection(f"mqtt://127.0.0.1:{self.port}", f"light-{self.id}", persistent=True)
        self.conn.subscribe(hq_topic(self.id, "replay"), self._on_replay)
        self.conn.start()
        if not self.conn.wait_connected(30):
            raise RuntimeError(f"light office {self.id}: its broker did not answer")
        at = self.events[0].at if self.events else datetime.now().astimezone()
        self.conn.publish(hq_topic(self.id, "config"), config_message(self.config, at), retain=True)
        for device, role in DEVICES:
            self.conn.publish(self.topics.status(device),
                              messages.device_status(device, role, "online", at=at.isoformat()), retain=True)

    def publish_next(self) -> None:
        self.conn.publish(self.topics.event, self.payloads[self.published])
        self.published += 1

    def _on_replay(self, topic: str, payload: bytes, retained: bool) -> None:
        """Head office lost some events: the ones asked for, in order, in batches (hub.hq_link's way)."""
        from hub.hq_link import REPLAY_BATCH, hq_topic, parse_replay_request
        try:
            request = parse_replay_request(payload)
        except ValueError as exc:
            log.warning("light office %s: bad replay request (%s)", self.id, exc)
            return
        last = self.published
        end = last if request.to_seq is None else min(last, request.to_seq)
        chosen = self.payloads[request.from_seq - 1:end]
        batches = [chosen[i:i + REPLAY_BATCH] for i in range(0, len(chosen), REPLAY_BATCH)] or [[]]
        for i, batch in enumerate(batches):
            self.conn.publish(hq_topic(self.id, "replayed"), {"v": 1, "id": request.id, "events": batch,
                                                              "last_seq": last, "done": i == len(batches) - 1})
        self.replays += 1

    def stop(self) -> None:
        for device, role in DEVICES:
            self.conn.publish(self.topics.status(device), messages.device_status(device, role, "offline"),
                              retain=True)
        self.conn.stop()
        self.broker.stop()


def schedule(offices: list[LightOffice], office0: datetime, speed: float):
    """(due offset in wall seconds from wall0, office index) of every event, in time order."""
    heap = []
    for i, o in enumerate(offices):
        for e in o.events:
            heap.append(((e.at - office0).total_seconds() / speed, i))
    heapq.heapify(heap)
    while heap:
        yield heapq.heappop(heap)


class Publisher:
    """Publishes the offices' events when due, on a thread of its own, until halted."""

    def __init__(self, offices: list[LightOffice], office0: datetime, speed: float):
        self.offices, self.office0, self.speed = offices, office0, speed
        self.halted = threading.Event()
        self.late_s = 0.0                   # how far behind its schedule the publisher fell at worst
        self._thread: threading.Thread | None = None

    def start(self, wall0: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(wall0,), name="light-offices", daemon=True)
        self._thread.start()

    def _run(self, wall0: float) -> None:
        for due, i in schedule(self.offices, self.office0, self.speed):
            wait = wall0 + due - time.time()
            if wait > 0 and self.halted.wait(wait):
                return
            if self.halted.is_set():
                return
            self.late_s = max(self.late_s, -wait)
            self.offices[i].publish_next()

    def halt(self) -> None:
        self.halted.set()
        if self._thread is not None:
            self._thread.join(10)


# ---------------------------------------------------------------------- the worker process
def spec_for(offices: list[dict], hq_url: str, folder: Path, office0: datetime, speed: float, load: float) -> dict:
    """A worker's spec: ``offices`` = [{"toml", "password", "port", "seed"}]."""
    return {"hq_url": hq_url, "folder": str(folder), "office0": office0.isoformat(), "speed": speed, "load": load,
            "offices": offices}


def _build(spec: dict) -> tuple[list[LightOffice], datetime]:
    from queue_core.config import parse_office_toml

    office0 = datetime.fromisoformat(spec["office0"])
    offices = []
    for o in spec["offices"]:
        config = parse_office_toml(o["toml"])
        day = office0.astimezone(config_tz(config)).date()
        events = office_day_events(config, day, spec["load"], o["seed"])    # those before office0 go at once
        offices.append(LightOffice(config, Path(spec["folder"]) / config.office_id, spec["hq_url"], o["password"],
                                   o["port"], events))
    return offices, office0


def config_tz(config: OfficeConfig):
    from zoneinfo import ZoneInfo
    return ZoneInfo(config.timezone)


def worker(spec_path: str) -> int:
    """``python -m simulation.light_office SPEC``: run the spec's offices, obeying stdin."""
    import signal
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))     # through ``finally``: the brokers stop
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    offices, office0 = _build(spec)
    started: list[LightOffice] = []
    try:
        for o in offices:
            o.start()
            started.append(o)
        return _obey(offices, office0, spec)
    finally:
        for o in started:
            try:
                o.stop()
            except Exception:
                log.exception("light office %s did not stop cleanly", o.id)


def _obey(offices: list[LightOffice], office0: datetime, spec: dict) -> int:
    publisher = Publisher(offices, office0, spec["speed"])

    def say(word: str, data) -> None:
        print(word, json.dumps(data), flush=True)

    say("ready", {o.id: len(o.events) for o in offices})
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "go":
            publisher.start(float(arg))
        elif command == "report":
            say("published", {o.id: o.published for o in offices})
        elif command == "halt":
            publisher.halt()
            say("published", {o.id: o.published for o in offices})
            say("late_s", round(publisher.late_s, 3))
        elif command == "exit":
            break
    publisher.halt()
    say("replays", {o.id: o.replays for o in offices})
    return 0


class Workers:
    """The light offices of a run, spread over ``processes`` worker processes."""

    def __init__(self, offices: list[dict], hq_url: str, folder: Path, office0: datetime, speed: float,
                 load: float, processes: int = 2):
        import subprocess
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        self.procs = []
        for n in range(processes):
            part = offices[n::processes]
            if not part:
                continue
            path = folder / f"worker-{n}.json"
            path.write_text(json.dumps(spec_for(part, hq_url, folder, office0, speed, load)), encoding="utf-8")
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "simulation.light_office", str(path)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=(folder / f"worker-{n}.log").open("w"), text=True, bufsize=1,
                start_new_session=True))    # a Ctrl-C reaches the parent, which stops them in order
        self.events: dict[str, int] = {}
        try:
            for p in self.procs:
                self.events.update(self._read(p, "ready"))
        except RuntimeError:
            self.close()
            raise

    @staticmethod
    def _read(p, word: str):
        while True:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"a light-office worker ended early (exit {p.poll()}); see its log")
            got, _, data = line.strip().partition(" ")
            if got == word:
                return json.loads(data)

    def _all(self, command: str, word: str) -> dict:
        out: dict = {}
        for p in self.procs:
            p.stdin.write(command + "\n")
            p.stdin.flush()
        for p in self.procs:
            out.update(self._read(p, word))
        return out

    def go(self, wall0: float) -> None:
        for p in self.procs:
            p.stdin.write(f"go {wall0!r}\n")
            p.stdin.flush()

    def published(self) -> dict[str, int]:
        return self._all("report", "published")

    def halt(self) -> tuple[dict[str, int], float]:
        published = self._all("halt", "published")
        late = max((self._read(p, "late_s") for p in self.procs), default=0.0)
        return published, late

    def close(self) -> dict[str, int]:
        import subprocess
        replays: dict[str, int] = {}
        for p in self.procs:
            try:
                p.stdin.write("exit\n")
                p.stdin.flush()
                replays.update(self._read(p, "replays"))
                p.wait(30)
            except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired):
                p.terminate()         # its brokers stop in its ``finally``
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        return replays


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1]))
