"""Head office end to end: real mosquitto ×3 (two offices, each bridged by its own hub's
mosquitto, and head office's ``hq.broker.HqBroker``), real office hubs (``OfficeRuntime`` with
``[hq]``: the bridge and the replay responder), head office's ingest as a ``talon hq run``
child process (so it can be SIGKILLed), and PostgreSQL for head office's database."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broker import messages
from broker.client import HubClient
from broker.mqtt import MqttConnection
from hq.broker import HqBroker
from hq.offices import INGEST_USER, Registry
from hq.subscriber import CLIENT_ID
from hub.brokers import find_mosquitto
from hub.runtime import OfficeRuntime, RuntimeSettings
from queue_core.config import parse_office_toml
from storage import directory, hq
from storage import events as event_log
from storage.engine import make_engine, make_sessionmaker
from storage.models import EventRow
from tests.conftest import fresh_postgres
from tests.hq.conftest import office_toml
from tests.hq.test_ingest import projection, reports
from tests.mqtt_fixtures import CONNECT_TIMEOUT, broker_dir, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

OFFICES = {"mek-1": ("Урал", "Екатеринбург"), "mek-2": ("Урал", "Тюмень")}
INGEST_PASSWORD = "ingest-secret"
CATCH_UP_S = 90.0


class NetworkOffice:
    """A real office hub with its own mosquitto bridged to head office, and its devices."""

    def __init__(self, office: str, hq_url: str, password: str):
        self.id = office
        self.dir = Path(broker_dir())
        config = parse_office_toml(office_toml(office, windows=2) + f'\n[hq]\nurl = "{hq_url}"\n')
        (self.dir / "hq.password").write_text(password + "\n")
        os.chmod(self.dir / "hq.password", 0o600)
        self.runtime = OfficeRuntime(RuntimeSettings(
            config=config, data_dir=self.dir, database_url=f"sqlite:///{self.dir}/talon.db",
            broker_kind="mosquitto", port=free_port(), web_port=None))
        with self.runtime.db.sessions() as s, s.begin():
            self.passwords = {"kiosk-1": directory.add_device(s, office, "kiosk-1", "kiosk"),
                              "counter-1": directory.add_device(s, office, "counter-1", "counter", window=1),
                              "counter-2": directory.add_device(s, office, "counter-2", "counter", window=2)}
        self.clients: dict[str, HubClient] = {}

    def start(self) -> NetworkOffice:
        self.runtime.start()
        for device, role in (("kiosk-1", "kiosk"), ("counter-1", "counter"), ("counter-2", "counter")):
            c = HubClient(self.runtime.broker_url, self.id, device, role, password=self.passwords[device])
            c.start()
            assert c.wait_ready(CONNECT_TIMEOUT)
            self.clients[device] = c
        for n in (1, 2):
            self.clients[f"counter-{n}"].request("open", {"window": n}, timeout=10)
        return self

    def work(self, visitors: int) -> None:
        """Visitors issued, then served at both windows (call, start, finish), every third rated."""
        kiosk = self.clients["kiosk-1"]
        for i in range(visitors):
            kiosk.request("issue", {"topic": "A" if i % 2 else "R", "kind": "walk_in"}, timeout=10)
        for i in range(visitors):
            n = 1 + i % 2
            counter = self.clients[f"counter-{n}"]
            ticket = counter.request("call_next", {"window": n}, timeout=10)["ticket"]
            if ticket is None:
                break
            counter.request("start", {"window": n}, timeout=10)
            counter.request("finish", {"window": n}, timeout=10)
            if i % 3 == 0:
                counter.request("rate", {"window": n, "ticket": ticket["number"], "score": 5}, timeout=10)

    def last_seq(self) -> int:
        with self.runtime.db.sessions() as s:
            return event_log.last_seq(s, self.id)

    def stop(self) -> None:
        for c in self.clients.values():
            c.stop()
        self.runtime.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Ingest:
    """``talon hq run --broker …``: head office's ingest alone, as a child process."""

    def __init__(self, folder: Path, broker_url: str, db_url: str):
        self.args = [sys.executable, "-m", "talon", "hq", "run", "--broker", broker_url, "--db", db_url,
                     "--data-dir", str(folder), "--no-web"]
        self.env = {**os.environ, "TALON_HQ_INGEST_PASSWORD": INGEST_PASSWORD, "TALON_LOG": "INFO"}
        self.log = folder / "ingest.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Network:
    def __init__(self):
        self.dir = Path(broker_dir())
        registry = Registry(self.dir)
        self.office_passwords = {o: registry.add(o, region=r, branch=b) for o, (r, b) in OFFICES.items()}
        self.broker = HqBroker(self.dir, "127.0.0.1", free_port(), registry.load(), INGEST_PASSWORD)
        self.db_url = fresh_postgres()
        self.engine = make_engine(self.db_url)
        self.sessions = make_sessionmaker(self.engine)
        self.ingest = Ingest(self.dir, self.broker.url, self.db_url)
        self.offices: dict[str, NetworkOffice] = {}

    def start(self) -> Network:
        self.broker.start()
        self.ingest.start()
        for o in OFFICES:
            self.offices[o] = NetworkOffice(o, self.broker.url, self.office_passwords[o]).start()
        return self

    def hq_last_seq(self, office: str) -> int:
        try:
            with self.sessions() as s:
                row = hq.office(s, office)
                return row.last_seq if row else 0
        except Exception:          # the ingest is creating the schema
            return 0

    def wait_caught_up(self, timeout: float = CATCH_UP_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.hq_last_seq(o.id) == o.last_seq() > 0 for o in self.offices.values()):
                return
            time.sleep(0.2)
        raise AssertionError(f"head office did not catch up within {timeout} s: "
                             + ", ".join(f"{o.id} {self.hq_last_seq(o.id)}/{o.last_seq()}" for o in self.offices.values())
                             + "\n" + self.ingest.log.read_text(errors="replace")[-3000:])

    def assert_exactly_once_and_equal(self) -> None:
        for o in self.offices.values():
            with self.sessions() as s:
                seqs = list(s.execute(select(EventRow.seq).where(EventRow.office == o.id)
                                      .order_by(EventRow.seq)).scalars())
            assert seqs == list(range(1, o.last_seq() + 1)), o.id
            assert projection(self.sessions, o.id) == projection(o.runtime.db.sessions, o.id), o.id
            config = o.runtime.db.config
            with o.runtime.db.sessions() as s:
                first = s.execute(select(func.min(EventRow.at)).where(EventRow.office == o.id)).scalar()
            start, end = first - timedelta(hours=1), first + timedelta(days=1)
            mine = reports(o.runtime.db.sessions, config, start, end)
            assert mine == reports(self.sessions, config, start, end), o.id
            assert mine["groups"]["total"][0]["tickets"] > 0 and mine["csat"]["ratings"] > 0, o.id

    def stop(self) -> None:
        for o in self.offices.values():
            o.stop()
        self.ingest.stop()
        self.broker.stop()
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def network():
    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    n = Network()
    try:
        yield n.start()
    finally:
        n.stop()


def ingest_reader(network: Network, inbox: list) -> MqttConnection:
    """A second reader with the ingest's rights (its own client id) to watch what head office gets."""
    conn = MqttConnection(network.broker.url, "test-hq-watch", INGEST_USER, INGEST_PASSWORD)
    conn.subscribe("talon/#", lambda topic, payload, retained: inbox.append((topic, payload)))
    conn.start()
    assert conn.wait_subscribed(CONNECT_TIMEOUT)
    return conn


def test_events_from_both_offices_arrive_once_each_and_the_reports_are_the_offices(network):
    for o in network.offices.values():
        o.work(visitors=12)
    network.wait_caught_up()
    network.assert_exactly_once_and_equal()
    with network.sessions() as s:
        grouped = {o.office: (o.region, o.branch, o.name) for o in hq.offices(s)}
        assert [v for v, _ in hq.config_versions(s, "mek-1")]      # its configuration is recorded
    assert grouped == {"mek-1": ("Урал", "Екатеринбург", "Офис mek-1"), "mek-2": ("Урал", "Тюмень", "Офис mek-2")}


def test_an_office_cannot_publish_under_another_offices_prefix(network):
    inbox: list = []
    watch = ingest_reader(network, inbox)
    a = MqttConnection(network.broker.url, "test-as-mek-1", "mek-1", network.office_passwords["mek-1"])
    a.start()
    assert a.wait_connected(CONNECT_TIMEOUT)
    forged = messages.event(999_999, "issued", ticket="А999", topic="A", at="2026-10-05T09:00:00+05:00",
                            data={"day": "2026-10-05", "seq_no": 999, "kind": "walk_in"})
    a.publish("talon/mek-2/event/ticket", forged).wait_for_publish(10)
    a.publish("talon/mek-2/hq/replay", {"v": 1, "id": "x", "from_seq": 1, "to_seq": 2}).wait_for_publish(10)
    own = messages.device_status("probe-1", "kiosk", "online")
    a.publish("talon/mek-1/device/probe-1/status", own).wait_for_publish(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(t == "talon/mek-1/device/probe-1/status" for t, _ in inbox):
        time.sleep(0.05)
    assert any(t == "talon/mek-1/device/probe-1/status" for t, _ in inbox)    # its own prefix: delivered
    assert not any(t.startswith("talon/mek-2/") and b"999999" in p for t, p in inbox)
    assert not any(t == "talon/mek-2/hq/replay" for t, _ in inbox)
    wrong = MqttConnection(network.broker.url, "test-bad-password", "mek-1", "not-the-password")
    wrong.start()
    assert not wrong.wait_connected(3)
    for c in (a, watch, wrong):
        c.stop()
    with network.sessions() as s:
        assert s.execute(select(EventRow).where(EventRow.office == "mek-2", EventRow.seq == 999_999)).first() is None


def test_the_ingest_sigkilled_mid_stream_and_restarted_stores_every_event_exactly_once(network):
    office = network.offices["mek-1"]
    start = office.last_seq()
    done = threading.Event()
    errors: list[BaseException] = []

    def stream():
        try:
            office.work(visitors=120)
        except BaseException as exc:   # reported below
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=stream, daemon=True).start()
    deadline = time.monotonic() + 60
    while network.hq_last_seq("mek-1") < start + 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    logged = len(network.ingest.log.read_text(errors="replace"))
    network.ingest.kill()                 # mid-stream
    assert not done.is_set(), "the stream ended before the kill; make it longer"
    time.sleep(1.0)
    network.ingest.start()
    assert done.wait(120) and not errors, errors
    network.wait_caught_up()
    network.assert_exactly_once_and_equal()
    assert "(session resumed)" in network.ingest.log.read_text(errors="replace")[logged:]   # what was queued for it


def test_a_gap_forced_by_dropping_messages_is_healed_by_replay(network):
    office = network.offices["mek-2"]
    logged = len(network.ingest.log.read_text(errors="replace"))
    network.ingest.stop()
    before = office.last_seq()
    office.work(visitors=8)              # queued at head office for the ingest's session…
    time.sleep(2.0)                      # (through the bridge)
    wipe = MqttConnection(network.broker.url, CLIENT_ID, INGEST_USER, INGEST_PASSWORD, persistent=False,
                          protocol=5)
    wipe.start()                         # …and thrown away: a clean session under the ingest's id
    assert wipe.wait_connected(CONNECT_TIMEOUT)
    wipe.stop()
    assert office.last_seq() > before
    network.ingest.start()
    office.work(visitors=4)              # later events arrive, the dropped ones only by replay
    network.wait_caught_up()
    network.assert_exactly_once_and_equal()
    log = network.ingest.log.read_text(errors="replace")[logged:]
    assert "office mek-2: events" in log and "asking for a replay" in log


def test_head_office_unreachable_under_load_then_back_gets_every_event_once_in_order(network):
    network.broker.stop()                 # every bridge cut at once; the offices carry on
    for o in network.offices.values():
        o.work(visitors=20)
    network.broker.start()                # its saved sessions: the ingest's subscriptions and queue
    network.wait_caught_up()
    network.assert_exactly_once_and_equal()
