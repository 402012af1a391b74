"""Light offices (simulation/light_office.py) and the network demo (``talon demo --offices``)."""
import json
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from queue_core.config import office_from_profile
from simulation.light_office import LightOffice, event_payloads, office_day_events

DAY = date(2026, 11, 17)


def test_a_light_office_day_is_the_day_the_simulator_stores(tmp_path):
    """The same seed through the real database path gives the very events a light office publishes."""
    from simulation.simulator import Simulator
    from simulation.workload import Workload
    from storage.queue_db import QueueDatabase

    config = office_from_profile("mek", windows=3, office_id="lo-1")
    light = office_day_events(config, DAY, 0.8, seed=7)
    db = QueueDatabase(f"sqlite:///{tmp_path / 'office.db'}", config)
    stored = []
    original = db.transaction

    def keep(operation):
        result, events = original(operation)
        stored.extend(events)
        return result, events
    db.transaction = keep
    Simulator(db, Workload(load=0.8), seed=7).run_day(DAY)
    db.close()
    assert len(light) > 100
    assert [(e.seq, e.kind, e.ticket, e.window, e.at) for e in light] == \
        [(e.seq, e.kind, e.ticket, e.window, e.at) for e in stored]


def test_calls_carry_their_recall_count():
    from queue_core.model import Event
    at = datetime(2026, 11, 17, 9, tzinfo=timezone.utc)
    events = [Event(1, at, "called", "А001", "A", 1, {}), Event(2, at, "recalled", "А001", "A", 1, {}),
              Event(3, at, "recalled", "А001", "A", 1, {}), Event(4, at, "started", "А001", "A", 1, {})]
    payloads = event_payloads(events)
    assert [p["data"].get("recalls") for p in payloads] == [0, 1, 2, None]


class FakeConnection:
    def __init__(self):
        self.sent = []

    def publish(self, topic, payload, qos=1, retain=False):
        self.sent.append((topic, payload))


def _office(tmp_path, published):
    config = office_from_profile("mek", windows=3, office_id="lo-2")
    office = LightOffice(config, tmp_path, "mqtt://127.0.0.1:1", "secret-1", 1,
                         office_day_events(config, DAY, 0.8, seed=3))
    office.conn = FakeConnection()
    office.published = published
    return office


def test_a_replay_sends_what_was_asked_of_what_was_published_in_batches(tmp_path):
    office = _office(tmp_path, 0)
    office.published = last = len(office.events) - 3          # the day's last three are not out yet
    assert last > 520
    office._on_replay("t", json.dumps({"v": 1, "id": "r1", "from_seq": 5, "to_seq": None}).encode(), False)
    batches = [p for _t, p in office.conn.sent]
    assert [t for t, _p in office.conn.sent] == ["talon/lo-2/hq/replayed"] * len(batches) and len(batches) == 2
    seqs = [e["seq"] for b in batches for e in b["events"]]
    assert seqs == list(range(5, last + 1))
    assert all(len(b["events"]) <= 500 for b in batches)
    assert [b["done"] for b in batches] == [False, True]
    assert {b["last_seq"] for b in batches} == {last}


def test_a_replay_beyond_what_was_published_is_one_empty_batch(tmp_path):
    office = _office(tmp_path, 10)
    office._on_replay("t", json.dumps({"v": 1, "id": "r2", "from_seq": 50, "to_seq": 60}).encode(), False)
    assert [p["events"] for _t, p in office.conn.sent] == [[]]
    assert office.conn.sent[0][1]["done"] is True and office.conn.sent[0][1]["last_seq"] == 10


@pytest.mark.parametrize("raw", [b"not json", json.dumps({"v": 1, "id": "x", "from_seq": 0}).encode(),
                                 json.dumps({"v": 1, "id": "x", "from_seq": 9, "to_seq": 3}).encode()])
def test_a_bad_replay_request_is_dropped(tmp_path, raw):
    office = _office(tmp_path, 10)
    office._on_replay("t", raw, False)
    assert office.conn.sent == [] and office.replays == 0


@pytest.mark.parametrize("offices", [-1, 201])
def test_the_network_demo_refuses_a_bad_number_of_offices(offices):
    from talon.cli import main
    with pytest.raises(SystemExit, match="--offices must be between 1 and 200"):
        main(["demo", "--offices", str(offices)])


@pytest.mark.e2e
def test_a_network_of_offices_reaches_head_office_through_real_bridges(tmp_path):
    """Two light offices, each its own mosquitto bridged to a real head office (broker with a user
    and ACL per office, the ingest into SQLite): every event published is applied at head office
    once, in order, and the HQ web shows both offices."""
    from simulation.hq_demo import NetworkDemo
    from storage import hq
    demo = NetworkDemo(2, tmp_path, f"sqlite:///{tmp_path / 'hq.db'}", windows=2, speed=600, web_port=0)
    try:
        demo.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with demo.runtime.sessions() as s:
                if all(o.last_seq >= 200 for o in hq.offices(s)) and len(hq.offices(s)) == 2:
                    break
            time.sleep(0.5)
        published, _late = demo.workers.halt()
        while time.monotonic() < deadline:
            with demo.runtime.sessions() as s:
                applied = {o.office: o.last_seq for o in hq.offices(s)}
            if applied == published:
                break
            time.sleep(0.5)
        assert applied == published and min(published.values()) >= 200
        assert demo.runtime.ingest.counts.dropped == 0
        from sqlalchemy import func, select

        from storage.models import EventRow
        with demo.runtime.sessions() as s:
            rows = s.execute(select(EventRow.office, func.count(), func.max(EventRow.seq))
                             .group_by(EventRow.office)).all()
        assert {o: (n, m) for o, n, m in rows} == {o: (n, n) for o, n in published.items()}
    finally:
        demo.stop()
    assert _processes_under(tmp_path) == []        # every office's mosquitto and head office's stopped


def _processes_under(folder) -> list[str]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in cmdline:
            found.append(cmdline)
    return found
