"""The office's side of the head-office link (hub/hq_link.py, the bridge in hub/mosquitto_files.py).

Fast: the ``[hq]`` settings, the bridge section of the office's mosquitto conf, the replay
request's checks, and a replay from the event log equal to what the hub published live.
Slow (e2e, real mosquitto ×2): an office hub started by ``OfficeRuntime`` bridging into a
plain "head-office" mosquitto with a password file and an ACL for the office's user.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from broker.client import HubClient
from broker.mqtt import MqttConnection
from hub.brokers import find_mosquitto, wait_for_port
from hub.dispatcher import event_payload
from hub.hq_link import (
    REPLAY_BATCH,
    ReplayRequest,
    config_message,
    hq_from_file,
    hq_password,
    hq_topic,
    parse_replay_request,
    replay_batches,
)
from hub.local import LocalHub, demo_config
from hub.mosquitto_files import HQ_MAX_QUEUED, bridge_lines, hash_password, mosquitto_conf
from hub.runtime import OfficeRuntime, RuntimeSettings
from queue_core.config import HqLink, parse_hq_section, parse_office_toml
from queue_core.config_toml import config_to_toml
from queue_core.errors import ConfigError
from storage import directory
from storage import events as event_log
from tests.e2e.conftest import office_toml
from tests.mqtt_fixtures import CONNECT_TIMEOUT, broker_dir, free_port

OFFICE = "mek-1"


# --------------------------------------------------------------------------- [hq] settings
def test_hq_section_and_region_are_office_settings():
    text = office_toml(windows=1, office=OFFICE).replace(
        "[office]\n", '[office]\nregion = "Урал"\nbranch = "Екатеринбургский филиал"\n', 1)
    config = parse_office_toml(text + '\n[hq]\nurl = "mqtts://hq.example:8883"\ncafile = "/etc/talon/hq-ca.pem"\n')
    assert config.hq == HqLink("mqtts://hq.example:8883", OFFICE, "/etc/talon/hq-ca.pem")
    assert (config.hq.host, config.hq.port, config.hq.tls) == ("hq.example", 8883, True)
    assert (config.region, config.branch) == ("Урал", "Екатеринбургский филиал")
    assert parse_office_toml(config_to_toml(config)) == config          # the web's settings page keeps them
    assert parse_office_toml(office_toml(windows=1)).hq is None


@pytest.mark.parametrize("section, key", [
    ({"url": "http://hq.example"}, "hq.url"), ({"url": "mqtt://hq.example:70000"}, "hq.url"),
    ({"url": "mqtts://hq example"}, "hq.url"), ({}, "hq.url"), ({"url": "mqtt://h", "user": "a b"}, "hq.user"),
    ({"url": "mqtt://h", "cafile": "a\nb"}, "hq.cafile"), ({"url": "mqtt://h", "password": "x"}, "hq.password")])
def test_a_bad_hq_section_names_its_key(section, key):
    with pytest.raises(ConfigError) as exc:
        parse_hq_section(section, OFFICE)
    assert exc.value.key == key


def test_the_setup_file_gives_the_link(tmp_path):
    path = tmp_path / "hq.toml"
    path.write_text('[hq]\nurl = "mqtts://hq.example:8883"\nuser = "office-7"\n', encoding="utf-8")
    assert hq_from_file(path, OFFICE) == HqLink("mqtts://hq.example:8883", "office-7")
    path.write_text('[hq]\nurl = "ftp://x"\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="hq.url"):
        hq_from_file(path, OFFICE)


def test_the_password_file_is_required_and_one_line(tmp_path):
    with pytest.raises(SystemExit, match="hq.password"):
        hq_password(tmp_path)
    (tmp_path / "hq.password").write_text("s3cret\n")
    os.chmod(tmp_path / "hq.password", 0o600)
    assert hq_password(tmp_path) == "s3cret"
    (tmp_path / "hq.password").write_text("a\nb\n")
    with pytest.raises(SystemExit, match="one line"):
        hq_password(tmp_path)


def test_the_published_config_leaves_out_the_link_and_is_versioned():
    config = replace(demo_config(), hq=HqLink("mqtts://hq.example:8883", "demo"))
    message = config_message(config, datetime_utc())
    assert "[hq]" not in message["toml"] and "hq.example" not in message["toml"]
    assert parse_office_toml(message["toml"]) == replace(config, hq=None)
    assert len(message["version"]) == 16 and message["office"] == config.office_id
    assert config_message(replace(config, hq=None), datetime_utc())["version"] == message["version"]
    changed = replace(config, board_history=config.board_history + 1)
    assert config_message(changed, datetime_utc())["version"] != message["version"]


def datetime_utc():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- the bridge section
def test_the_bridge_section_follows_the_protocol(tmp_path):
    hq = HqLink("mqtts://hq.example:8883", OFFICE, "/etc/talon/hq-ca.pem")
    conf = mosquitto_conf("127.0.0.1", 1883, tmp_path, allow_anonymous=False,
                          bridge=bridge_lines(OFFICE, hq, "pw"))
    lines = conf.splitlines()
    for line in ["connection hq", "address hq.example:8883", f"remote_username {OFFICE}", "remote_password pw",
                 "cleansession false", "bridge_protocol_version mqttv311", "try_private true",
                 "start_type automatic", "restart_timeout 2 10", "queue_qos0_messages false",
                 f"max_queued_messages {HQ_MAX_QUEUED}", "persistence true", "bridge_cafile /etc/talon/hq-ca.pem",
                 "bridge_insecure false", f"remote_clientid talon-office-{OFFICE}",
                 f"topic event/# out 1 talon/{OFFICE}/ talon/{OFFICE}/",
                 f"topic state/# out 1 talon/{OFFICE}/ talon/{OFFICE}/",
                 f"topic device/+/status out 1 talon/{OFFICE}/ talon/{OFFICE}/",
                 f"topic hq/config out 1 talon/{OFFICE}/ talon/{OFFICE}/",
                 f"topic hq/replayed out 1 talon/{OFFICE}/ talon/{OFFICE}/",
                 f"topic hq/replay in 1 talon/{OFFICE}/ talon/{OFFICE}/"]:
        assert line in lines, line
    assert "max_queued_messages 10000" not in lines
    # the bridge's settings come after every global one (mosquitto reads them per connection)
    assert lines.index("connection hq") > max(lines.index(x) for x in lines if x.startswith(("persistence", "max_")))


def test_without_a_cafile_the_system_cas_check_head_office_and_plain_mqtt_has_no_tls():
    tls = bridge_lines(OFFICE, HqLink("mqtts://hq.example:8883", OFFICE), "pw")
    assert "bridge_capath /etc/ssl/certs" in tls and not any(x.startswith("bridge_cafile") for x in tls)
    plain = bridge_lines(OFFICE, HqLink("mqtt://10.0.0.5:1883", OFFICE), "pw")
    assert not any(x.startswith(("bridge_ca", "bridge_insecure")) for x in plain)
    assert "address 10.0.0.5:1883" in plain


@pytest.mark.parametrize("password", ["", "a\nb", "a\rb", "a b"])
def test_a_password_that_would_break_the_conf_is_refused(password):
    with pytest.raises(ValueError):
        bridge_lines(OFFICE, HqLink("mqtt://h:1883", OFFICE), password)


def test_no_bridge_no_change(tmp_path):
    conf = mosquitto_conf("127.0.0.1", 1883, tmp_path, allow_anonymous=False)
    assert "connection hq" not in conf.splitlines() and "max_queued_messages 10000" in conf.splitlines()


# --------------------------------------------------------------------------- replay requests
@pytest.mark.parametrize("raw", [
    b"", b"not json", b"[1, 2]", b'{"v": 2, "id": "a", "from_seq": 1}', b'{"v": 1, "from_seq": 1}',
    b'{"v": 1, "id": "", "from_seq": 1}', b'{"v": 1, "id": 5, "from_seq": 1}', b'{"v": 1, "id": "a"}',
    b'{"v": 1, "id": "a", "from_seq": 0}', b'{"v": 1, "id": "a", "from_seq": -3}',
    b'{"v": 1, "id": "a", "from_seq": 1.5}', b'{"v": 1, "id": "a", "from_seq": true}',
    b'{"v": 1, "id": "a", "from_seq": "1"}', b'{"v": 1, "id": "a", "from_seq": 5, "to_seq": 4}',
    b'{"v": 1, "id": "a", "from_seq": 5, "to_seq": "9"}', b'{"v": 1, "id": "' + b"x" * 65 + b'", "from_seq": 1}',
    b'{"v": 1, "id": "a", "from_seq": 1, "pad": "' + b"x" * 2000 + b'"}', b"\xff\xfe"])
def test_a_bad_replay_request_is_refused_with_a_reason(raw):
    with pytest.raises(ValueError):
        parse_replay_request(raw)


def test_a_good_replay_request():
    assert parse_replay_request(b'{"v": 1, "id": "r1", "from_seq": 3, "to_seq": null}') == ReplayRequest("r1", 3, None)
    assert parse_replay_request(b'{"v": 1, "id": "r1", "from_seq": 3, "to_seq": 3}') == ReplayRequest("r1", 3, 3)


# --------------------------------------------------------------------------- replay from the log
def busy_local_hub() -> LocalHub:
    """A LocalHub that has published calls, recalls (their counts), transfers and window events."""
    hub = LocalHub()
    hub.request("counter-1", "open", {"window": 1})
    hub.request("counter-2", "open", {"window": 2})
    for _ in range(3):
        hub.request("kiosk-1", "issue", {"topic": "K", "kind": "walk_in"})
    hub.request("counter-1", "call_next", {"window": 1})
    hub.request("counter-1", "recall", {"window": 1})
    hub.request("counter-1", "recall", {"window": 1})
    hub.request("counter-2", "call_next", {"window": 2})
    hub.request("counter-2", "recall", {"window": 2})
    hub.request("counter-1", "start", {"window": 1})
    hub.request("counter-1", "finish", {"window": 1})
    hub.request("counter-1", "call_next", {"window": 1})
    return hub


def test_a_replay_sends_exactly_what_the_hub_published_live():
    hub = busy_local_hub()
    try:
        live = hub.events
        assert [e["data"].get("recalls") for e in live if e["kind"] in ("called", "recalled")] == [0, 1, 2, 0, 1, 0]
        (batch,) = list(replay_batches(hub.db, ReplayRequest("all", 1, None)))
        assert batch == {"v": 1, "id": "all", "events": live, "last_seq": live[-1]["seq"], "done": True}
        middle = list(replay_batches(hub.db, ReplayRequest("mid", 4, 7)))
        assert [b["events"] for b in middle] == [[e for e in live if 4 <= e["seq"] <= 7]]
        (empty,) = list(replay_batches(hub.db, ReplayRequest("past", live[-1]["seq"] + 1, None)))
        assert empty["events"] == [] and empty["done"] and empty["last_seq"] == live[-1]["seq"]
        (huge,) = list(replay_batches(hub.db, ReplayRequest("huge", 1, 10**15)))
        assert huge["events"] == live
    finally:
        hub.close()


def test_a_long_replay_comes_in_ordered_batches_of_at_most_500():
    hub = LocalHub()
    try:
        hub.request("counter-1", "open", {"window": 1})
        from datetime import datetime

        now = datetime.now(hub.db.office.tz)
        for _ in range(2 * REPLAY_BATCH + 20):     # straight into the log: the replay reads only the log
            hub.db.transaction(lambda s, o: o.issue("A", now, enforce_hours=False))
        with hub.db.sessions() as s:
            newest = event_log.last_seq(s, hub.db.office_id)
        batches = list(replay_batches(hub.db, ReplayRequest("long", 1, None)))
        assert [len(b["events"]) for b in batches] == [REPLAY_BATCH, REPLAY_BATCH, newest - 2 * REPLAY_BATCH]
        assert [b["done"] for b in batches] == [False, False, True]
        assert [e["seq"] for b in batches for e in b["events"]] == list(range(1, newest + 1))
        exact = list(replay_batches(hub.db, ReplayRequest("exact", 1, REPLAY_BATCH)))
        assert [len(b["events"]) for b in exact] == [REPLAY_BATCH] and exact[-1]["done"]
    finally:
        hub.close()


def test_the_log_gives_events_as_stored():
    hub = busy_local_hub()
    try:
        with hub.db.sessions() as s:
            events = event_log.events_between(s, hub.db.office_id, 2, 5, 100)
            counts = event_log.recall_counts(s, hub.db.office_id, events)
        assert [e.seq for e in events] == [2, 3, 4, 5]
        tz = hub.db.office.tz
        assert [event_payload(replace(e, at=e.at.astimezone(tz)), counts.get(e.seq)) for e in events] == hub.events[1:5]
    finally:
        hub.close()


def test_the_embedded_broker_cannot_bridge(tmp_path):
    config = replace(parse_office_toml(office_toml(windows=1, office=OFFICE)), hq=HqLink("mqtt://127.0.0.1:1", OFFICE))
    runtime = OfficeRuntime(RuntimeSettings(config=config, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/t.db",
                                            broker_kind="amqtt", port=free_port(), web_port=None))
    try:
        with pytest.raises(SystemExit, match="embedded broker cannot bridge"):
            runtime.start()
        assert runtime.broker is None
    finally:
        runtime.stop()


# =========================================================================== real mosquitto ×2
INGEST, INGEST_PASSWORD, OFFICE_PASSWORD = "hq-ingest", "ingest-secret", "office-secret"


class HeadOfficeBroker:
    """A plain mosquitto standing for head office: a password file and an ACL per the protocol
    (the office writes under its own prefix and reads its replay requests), persistence on.
    ``tls``: a throwaway CA and server certificate made with openssl."""

    def __init__(self, tls: bool = False):
        self.dir = Path(broker_dir())
        self.port = free_port()
        self.tls = tls
        self.proc: subprocess.Popen | None = None
        (self.dir / "passwd").write_text(f"{OFFICE}:{hash_password(OFFICE_PASSWORD)}\n"
                                         f"{INGEST}:{hash_password(INGEST_PASSWORD)}\n")
        (self.dir / "acl").write_text(f"user {OFFICE}\ntopic write talon/{OFFICE}/#\ntopic read talon/{OFFICE}/hq/replay\n\n"
                                      f"user {INGEST}\ntopic read talon/#\ntopic write talon/+/hq/replay\n")
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous false", f"password_file {self.dir}/passwd",
                 f"acl_file {self.dir}/acl", "persistence true", f"persistence_location {self.dir}/",
                 "max_queued_messages 100000", "log_dest stderr", "log_type all"]
        if os.geteuid() == 0:
            lines.append("user root")
        if tls:
            self.cafile = make_certificates(self.dir)
            lines += [f"cafile {self.cafile}", f"certfile {self.dir}/server.crt", f"keyfile {self.dir}/server.key"]
        (self.dir / "mosquitto.conf").write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([find_mosquitto(), "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=(self.dir / "log").open("ab"), stderr=subprocess.STDOUT)
        assert wait_for_port("127.0.0.1", self.port, 10, alive=lambda: self.proc.poll() is None), self.log()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)      # saves its sessions and queues (persistence)
            self.proc.wait(10)

    def log(self) -> str:
        return (self.dir / "log").read_text(errors="replace")


def make_certificates(folder: Path) -> Path:
    """A CA and a certificate for 127.0.0.1 signed by it (openssl, a few hundred ms)."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Talon test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    (folder / "san.ext").write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.crt")
    for name in ("ca.crt", "server.crt", "server.key"):
        os.chmod(folder / name, 0o644)       # the office's mosquitto runs as its own user
    return folder / "ca.crt"


class HeadOfficeReader:
    """What head office's ingest would see: every message under ``talon/#``, in arrival order,
    on a persistent session (it gets what was queued for it while away)."""

    def __init__(self, hq: HeadOfficeBroker, client_id: str = "test-hq-ingest", persistent: bool = True):
        self.messages: list[tuple[str, dict | None, bool]] = []
        self._cond = threading.Condition()
        self.hq, self.client_id, self.persistent = hq, client_id, persistent
        self.conn = self._connection()

    def _connection(self) -> MqttConnection:
        conn = MqttConnection(self.hq.url, self.client_id, INGEST, INGEST_PASSWORD, persistent=self.persistent,
                              tls_ca=str(self.hq.cafile) if self.hq.tls else None)
        conn.subscribe("talon/#", self._on_message)
        return conn

    def reconnect(self) -> None:
        """Back on the same session (it kept what was queued for it meanwhile)."""
        self.conn = self._connection()
        self.start()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        with self._cond:
            self.messages.append((topic, json.loads(payload) if payload else None, retained))
            self._cond.notify_all()

    def start(self) -> HeadOfficeReader:
        self.conn.start()
        assert self.conn.wait_subscribed(CONNECT_TIMEOUT)
        return self

    def on(self, suffix: str) -> list[dict]:
        with self._cond:
            return [p for t, p, _ in self.messages if t == f"talon/{OFFICE}/{suffix}"]

    def wait(self, pred, timeout: float = 60.0, what: str = "messages at head office"):
        with self._cond:
            if not self._cond.wait_for(pred, timeout):
                raise AssertionError(f"{what}: not within {timeout} s; got {len(self.messages)} messages")

    def events(self) -> list[dict]:
        return self.on("event/ticket")

    def stop(self) -> None:
        self.conn.stop()


class LinkedOffice:
    """A real office hub (``OfficeRuntime``: its own mosquitto with the bridge) linked to ``hq``."""

    def __init__(self, hq: HeadOfficeBroker):
        self.dir = Path(broker_dir())
        cafile = f'cafile = "{hq.cafile}"\n' if hq.tls else ""
        config = parse_office_toml(office_toml(windows=2, office=OFFICE)
                                   + f'\n[hq]\nurl = "{hq.url}"\n{cafile}')
        (self.dir / "hq.password").write_text(OFFICE_PASSWORD + "\n")
        os.chmod(self.dir / "hq.password", 0o600)
        self.runtime = OfficeRuntime(RuntimeSettings(
            config=config, data_dir=self.dir, database_url=f"sqlite:///{self.dir}/talon.db", broker_kind="mosquitto",
            port=free_port(), web_port=None))
        with self.runtime.db.sessions() as s, s.begin():
            self.passwords = {"kiosk-1": directory.add_device(s, OFFICE, "kiosk-1", "kiosk"),
                              "counter-1": directory.add_device(s, OFFICE, "counter-1", "counter", window=1)}
        self.clients: list[HubClient] = []

    def start(self) -> LinkedOffice:
        self.runtime.start()
        self.kiosk = self.client("kiosk-1", "kiosk")
        self.counter = self.client("counter-1", "counter")
        self.counter.request("open", {"window": 1}, timeout=10)
        return self

    def client(self, device: str, role: str) -> HubClient:
        c = HubClient(self.runtime.broker_url, OFFICE, device, role, password=self.passwords[device])
        c.start()
        assert c.wait_ready(CONNECT_TIMEOUT)
        self.clients.append(c)
        return c

    def issue(self, n: int) -> None:
        for _ in range(n):
            self.kiosk.request("issue", {"topic": "A", "kind": "walk_in"}, timeout=10)

    def last_seq(self) -> int:
        with self.runtime.db.sessions() as s:
            return event_log.last_seq(s, OFFICE)

    def bridge_log(self) -> str:
        return self.runtime.broker._log_tail(40)

    def stop(self) -> None:
        for c in self.clients:
            c.stop()
        self.runtime.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def head_office():
    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    hq = HeadOfficeBroker()
    hq.start()
    yield hq
    hq.stop()
    shutil.rmtree(hq.dir, ignore_errors=True)


@pytest.fixture
def linked(head_office):
    reader = HeadOfficeReader(head_office).start()
    office = LinkedOffice(head_office).start()
    yield office, reader
    office.stop()
    reader.stop()


def seqs(events: list[dict]) -> list[int]:
    return [e["seq"] for e in events]


def assert_once_in_order(events: list[dict], newest: int) -> None:
    got = seqs(events)
    missing = sorted(set(range(1, newest + 1)) - set(got))
    repeated = sorted({s for s in got if got.count(s) > 1})
    assert not missing and not repeated, f"missing {missing}, repeated {repeated}"
    assert got == list(range(1, newest + 1)), "out of order"


@pytest.mark.e2e
def test_events_state_and_config_reach_head_office_under_the_office_prefix(linked, head_office):
    office, hq = linked
    office.issue(5)
    newest = office.last_seq()
    hq.wait(lambda: hq.events() and hq.events()[-1]["seq"] == newest, what="the events at head office")
    assert seqs(hq.events()) == list(range(1, newest + 1))
    assert [e["kind"] for e in hq.events()].count("issued") == 5
    hq.wait(lambda: hq.on("state/queue") and hq.on("state/queue")[-1]["seq"] == newest, what="state/queue")
    hq.wait(lambda: hq.on("hq/config"), what="hq/config")
    config = hq.on("hq/config")[-1]
    assert config["office"] == OFFICE and parse_office_toml(config["toml"]).office_id == OFFICE
    hq.wait(lambda: hq.on("device/kiosk-1/status"), what="the kiosk's presence")
    # retained at head office: a reader that comes later gets the states and the config at once
    late = HeadOfficeReader(head_office, client_id="test-late", persistent=False).start()
    try:
        late.wait(lambda: late.on("hq/config") and late.on("state/config") and late.on("state/queue"),
                  what="retained states at head office")
        assert all(r for t, _, r in late.messages if "/state/" in t or t.endswith("hq/config"))
        assert late.on("hq/config")[-1]["version"] == config["version"]
        assert not late.events()                   # events are not retained
    finally:
        late.stop()


@pytest.mark.e2e
def test_new_settings_publish_a_new_config_version(linked):
    office, hq = linked
    hq.wait(lambda: hq.on("hq/config"), what="hq/config")
    first = hq.on("hq/config")[-1]["version"]
    new = replace(office.runtime.db.config, board_history=office.runtime.db.config.board_history + 1)
    office.runtime.hub.apply_config(new)
    hq.wait(lambda: hq.on("hq/config")[-1]["version"] != first, what="the new settings at head office")
    assert parse_office_toml(hq.on("hq/config")[-1]["toml"]).board_history == new.board_history


def ask_replay(hq_url: str, payload: bytes | dict, client_id: str = "test-hq-asker") -> None:
    conn = MqttConnection(hq_url, client_id, INGEST, INGEST_PASSWORD)
    conn.start()
    try:
        assert conn.wait_connected(CONNECT_TIMEOUT)
        conn.publish(hq_topic(OFFICE, "replay"), payload, qos=1).wait_for_publish(10)
    finally:
        conn.stop()


@pytest.mark.e2e
def test_a_replay_asked_at_head_office_comes_back_in_order(linked, head_office):
    office, hq = linked
    office.issue(8)
    office.counter.request("call_next", {"window": 1}, timeout=10)
    office.counter.request("recall", {"window": 1}, timeout=10)
    newest = office.last_seq()
    hq.wait(lambda: hq.events() and hq.events()[-1]["seq"] == newest, what="the live events")
    live = hq.events()
    ask_replay(head_office.url, {"v": 1, "id": "gap-1", "from_seq": 3, "to_seq": 9})
    ask_replay(head_office.url, {"v": 1, "id": "tail", "from_seq": 5, "to_seq": None})
    hq.wait(lambda: {b["id"] for b in hq.on("hq/replayed")} == {"gap-1", "tail"}, what="both replays")
    answers = {b["id"]: b for b in hq.on("hq/replayed")}
    assert answers["gap-1"]["events"] == [e for e in live if 3 <= e["seq"] <= 9]
    assert answers["tail"]["events"] == [e for e in live if e["seq"] >= 5]      # the recall count too
    assert all(b["done"] and b["last_seq"] == newest for b in answers.values())


@pytest.mark.e2e
def test_bad_replay_requests_do_not_hurt_the_hub(linked, head_office):
    office, hq = linked
    for i, bad in enumerate([b"{not json", b'{"v": 1, "id": "x", "from_seq": 0}', b'{"v": 1, "id": "x", "from_seq": 9, '
                             b'"to_seq": 2}', b"\x00" * 5000, b'{"v": 1, "id": "big", "from_seq": 1, "to_seq": '
                             + str(10**18).encode() + b"}"]):
        ask_replay(head_office.url, bad, client_id=f"test-bad-{i}")
    office.issue(3)                                    # the hub still serves its office
    ask_replay(head_office.url, {"v": 1, "id": "after", "from_seq": 1})
    hq.wait(lambda: any(b["id"] == "after" for b in hq.on("hq/replayed")), what="a good replay after bad ones")
    answers = {b["id"]: b for b in hq.on("hq/replayed")}
    assert set(answers) == {"big", "after"}           # a huge range is just "up to the newest"
    assert seqs(answers["after"]["events"]) == list(range(1, office.last_seq() + 1))
    assert office.runtime.hub.healthy and office.runtime.hq_link.requests_dropped == 4


@pytest.mark.e2e
def test_a_replay_in_progress_never_holds_up_a_command(linked, head_office, monkeypatch):
    import hub.hq_link as hq_link

    office, hq = linked
    office.issue(3)
    reading, release = threading.Event(), threading.Event()
    real = hq_link.replay_batches

    def held(db, request):            # the replay stops in the middle of reading the log
        reading.set()
        assert release.wait(60)
        yield from real(db, request)

    monkeypatch.setattr(hq_link, "replay_batches", held)
    ask_replay(head_office.url, {"v": 1, "id": "slow", "from_seq": 1})
    assert reading.wait(30)
    office.issue(2)                   # answered while the replay is held
    assert not hq.on("hq/replayed")
    release.set()
    hq.wait(lambda: hq.on("hq/replayed"), what="the replay once released")
    assert seqs(hq.on("hq/replayed")[0]["events"]) == list(range(1, office.last_seq() + 1))


@pytest.mark.e2e
def test_head_office_away_while_200_tickets_are_issued_loses_nothing_and_duplicates_nothing(linked, head_office):
    office, hq = linked
    office.issue(2)
    before = office.last_seq()
    # nothing in flight when head office goes: QoS 1 may repeat a message whose PUBACK was cut off
    hq.wait(lambda: len(hq.events()) == before, what="the first events")
    hq.stop()                          # the reader's session stays at head office (persistent)
    head_office.stop()
    office.issue(200)
    newest = office.last_seq()
    head_office.start()
    hq.reconnect()
    hq.wait(lambda: len(hq.events()) >= newest, timeout=120, what="every event after the cut")
    office.issue(1)                    # delivery is in order: a late duplicate would come before this one
    hq.wait(lambda: hq.events()[-1]["seq"] == newest + 1, what="the event after the cut")
    assert_once_in_order(hq.events(), newest + 1)


@pytest.mark.e2e
def test_what_the_bridge_holds_survives_a_restart_of_the_office_broker(linked, head_office):
    """The office's mosquitto saves the bridge's queue when it stops (persistence), so a
    restart while head office is away loses nothing either."""
    office, hq = linked
    before = office.last_seq()
    hq.wait(lambda: len(hq.events()) == before, what="the first events")
    hq.stop()
    head_office.stop()
    office.issue(30)
    office.runtime.broker.stop()                       # SIGTERM: mosquitto saves its queues
    office.runtime.broker.start()
    assert office.runtime.hub.conn.wait_subscribed(30) and office.kiosk.wait_ready(30)
    office.issue(30)
    newest = office.last_seq()
    head_office.start()
    hq.reconnect()
    hq.wait(lambda: len(hq.events()) >= newest, timeout=120, what="every event after the cut and the restart")
    office.issue(1)
    hq.wait(lambda: hq.events()[-1]["seq"] == newest + 1, what="the event after")
    assert_once_in_order(hq.events(), newest + 1)


@pytest.mark.e2e
@pytest.mark.parametrize("url", ["mqtt://127.0.0.1:{closed}", "mqtts://hq.invalid:8883"])
def test_an_office_whose_head_office_is_unreachable_works_as_always(url):
    """Head office down, or its name not resolving, when the hub starts: the office serves."""
    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    unreachable = HeadOfficeBroker()                  # never started: its port is closed
    office = LinkedOffice(unreachable)
    office.runtime.hq = HqLink(url.format(closed=unreachable.port), OFFICE)
    try:
        office.start()
        office.issue(3)
        assert office.last_seq() == 4 and office.runtime.broker.running()
        assert "connection hq" in office.runtime.broker.conf_path.read_text()
    finally:
        office.stop()
        shutil.rmtree(unreachable.dir, ignore_errors=True)


@pytest.mark.e2e
def test_the_bridge_speaks_tls_with_the_given_ca():
    if not find_mosquitto() or not shutil.which("openssl"):
        pytest.skip("mosquitto or openssl is not installed")
    head_office = HeadOfficeBroker(tls=True)
    head_office.start()
    reader = HeadOfficeReader(head_office).start()
    office = LinkedOffice(head_office).start()
    try:
        office.issue(3)
        newest = office.last_seq()
        reader.wait(lambda: reader.events() and reader.events()[-1]["seq"] == newest, what="events over TLS")
        assert "bridge_cafile" in office.runtime.broker.conf_path.read_text()
    finally:
        office.stop()
        reader.stop()
        head_office.stop()
        shutil.rmtree(head_office.dir, ignore_errors=True)


def test_the_system_service_example_has_the_same_bridge():
    """deploy/mosquitto/talon.conf shows the bridge for a system-service mosquitto: the same lines."""
    conf = (Path(__file__).parents[2] / "deploy/mosquitto/talon.conf").read_text(encoding="utf-8").splitlines()
    example = [line[1:] for line in conf[conf.index("#connection hq"):] if line.startswith("#")]
    hq = HqLink("mqtts://hq.example:8883", "OFFICE", "/etc/mosquitto/certs/hq-ca.crt")
    assert example == bridge_lines("OFFICE", hq, "PASSWORD")


def test_the_hub_takes_the_link_from_the_setup_file(tmp_path, monkeypatch):
    import argparse

    from hub.cli import add_office_arguments, load_office
    office = tmp_path / "office.toml"
    office.write_text(office_toml(windows=1, office=OFFICE) + '\n[hq]\nurl = "mqtt://old.example:1883"\n')
    p = argparse.ArgumentParser()
    add_office_arguments(p)
    args = p.parse_args(["--config", str(office), "--data", str(tmp_path / "data")])
    assert load_office(args)[0].hq == HqLink("mqtt://old.example:1883", OFFICE)
    setup_file = tmp_path / "hq.toml"
    setup_file.write_text('[hq]\nurl = "mqtts://hq.example:8883"\n')
    monkeypatch.setenv("TALON_HQ_CONFIG", str(setup_file))
    assert load_office(args)[0].hq == HqLink("mqtts://hq.example:8883", OFFICE)
