"""Head office's broker files (hq/broker.py) and registry (hq/offices.py), and a real HQ mosquitto:
per-office users and ACL, a registry change reaching the running broker, the TLS listener."""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from broker import messages
from broker.mqtt import MqttConnection
from hq.broker import MAX_QUEUED, HqBroker, acl_text, conf_text, password_text
from hq.offices import INGEST_USER, Registry, check_office_id
from hub.brokers import find_mosquitto, wait_for_port
from storage import hq
from storage.credentials import verify_secret
from storage.engine import make_sessionmaker
from talon.cli import main
from tests.hq.conftest import office_toml
from tests.mqtt_fixtures import CONNECT_TIMEOUT, Inbox, broker_dir, free_port


# --------------------------------------------------------------------------- registry
def test_an_office_is_registered_with_a_hashed_password_shown_once(tmp_path):
    registry = Registry(tmp_path)
    plain = registry.add("mek-1", name="Офис на Ленина", region="Урал", branch="Екатеринбург")
    [entry] = registry.load()
    assert (entry.id, entry.name, entry.region, entry.branch) == ("mek-1", "Офис на Ленина", "Урал", "Екатеринбург")
    assert verify_secret(plain, entry.password_hash)
    assert plain not in registry.path.read_text(encoding="utf-8")
    again = registry.add("mek-1", region="Сибирь")            # a new password; the rest kept unless given
    [entry] = registry.load()
    assert verify_secret(again, entry.password_hash) and not verify_secret(plain, entry.password_hash)
    assert (entry.name, entry.region) == ("Офис на Ленина", "Сибирь")
    assert registry.remove("mek-1") and registry.load() == [] and not registry.remove("mek-1")


@pytest.mark.parametrize("bad", ["hq-ingest", "HQ-Ingest", "anonymous", "a/b", "a+", "#", "", "x" * 33])
def test_an_office_id_that_would_break_the_broker_is_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        check_office_id(bad)
    with pytest.raises(ValueError):
        Registry(tmp_path).add(bad)


def test_the_offices_command(tmp_path, capsys):
    assert main(["hq", "offices", "add", "mek-7", "--region", "Урал", "--branch", "Пермь",
                 "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    password = out.strip().split()[-1]
    [entry] = Registry(tmp_path).load()
    assert verify_secret(password, entry.password_hash)
    assert main(["hq", "offices", "list", "--data-dir", str(tmp_path)]) == 0
    assert "mek-7\t\tУрал\tПермь" in capsys.readouterr().out
    assert main(["hq", "offices", "remove", "mek-7", "--data-dir", str(tmp_path)]) == 0
    with pytest.raises(SystemExit, match="no office"):
        main(["hq", "offices", "remove", "mek-7", "--data-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="reserved"):
        main(["hq", "offices", "add", "hq-ingest", "--data-dir", str(tmp_path)])


# --------------------------------------------------------------------------- files
def test_the_acl_gives_each_office_its_own_prefix_and_the_ingest_everything_to_read():
    acl = acl_text(["mek-1", "mek-2"])
    lines = [line for line in acl.splitlines() if not line.startswith("#")]
    blocks = {b.splitlines()[0]: b.splitlines()[1:] for b in "\n".join(lines).strip().split("\n\n")}
    assert blocks == {
        f"user {INGEST_USER}": ["topic read talon/#", "topic write talon/+/hq/replay"],
        "user mek-1": ["topic write talon/mek-1/#", "topic read talon/mek-1/hq/replay"],
        "user mek-2": ["topic write talon/mek-2/#", "topic read talon/mek-2/hq/replay"],
    }


def test_the_password_file_has_the_ingest_and_the_offices_hashes(tmp_path):
    registry = Registry(tmp_path)
    registry.add("mek-1", password="secret-1")
    lines = password_text(registry.load(), "ingest-pw").splitlines()
    users = dict(line.split(":", 1) for line in lines)
    assert set(users) == {INGEST_USER, "mek-1"}
    assert verify_secret("ingest-pw", users[INGEST_USER]) and verify_secret("secret-1", users["mek-1"])


def test_the_conf_buffers_for_the_ingest_and_puts_tls_on_the_offices_listener(tmp_path):
    plain = conf_text("0.0.0.0", 1883, tmp_path, tmp_path / "passwd", tmp_path / "acl")
    assert f"max_queued_messages {MAX_QUEUED}" in plain and "allow_anonymous false" in plain
    assert "certfile" not in plain
    tls = conf_text("0.0.0.0", 8883, tmp_path, tmp_path / "passwd", tmp_path / "acl",
                    certfile=tmp_path / "c.crt", keyfile=tmp_path / "c.key", local_port=1999).splitlines()
    at = tls.index("listener 8883 0.0.0.0")
    assert tls[at + 1:at + 5] == [f"certfile {tmp_path}/c.crt", f"keyfile {tmp_path}/c.key", "tls_version tlsv1.2",
                                  "listener 1999 127.0.0.1"]


# --------------------------------------------------------------------------- real mosquitto
@pytest.fixture
def hq_dir():
    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    path = Path(broker_dir())
    yield path
    shutil.rmtree(path, ignore_errors=True)


def connect(url: str, user: str, password: str, **kwargs) -> MqttConnection:
    conn = MqttConnection(url, f"test-{user}-{time.monotonic_ns()}", user, password, **kwargs)
    conn.start()
    return conn


def test_an_office_added_while_the_broker_runs_may_connect_within_a_reload(hq_dir):
    registry = Registry(hq_dir)
    first = registry.add("mek-1")
    broker = HqBroker(hq_dir, "127.0.0.1", free_port(), registry.load(), "ingest-pw")
    broker.start()
    conns = []
    try:
        conns.append(connect(broker.url, "mek-1", first))
        assert conns[-1].wait_connected(CONNECT_TIMEOUT)
        second = registry.add("mek-2")
        conns.append(connect(broker.url, "mek-2", second))
        assert not conns[-1].wait_connected(2)          # not yet a user
        conns[-1].stop()
        broker.reload(registry.load())
        conns.append(connect(broker.url, "mek-2", second))
        assert conns[-1].wait_connected(CONNECT_TIMEOUT)
        inbox = Inbox()
        watch = MqttConnection(broker.url, "test-watch", INGEST_USER, "ingest-pw")
        watch.subscribe("talon/#", lambda topic, payload, retained: inbox(topic))
        conns.append(watch)
        watch.start()
        assert watch.wait_subscribed(CONNECT_TIMEOUT)
        conns[-2].publish("talon/mek-1/event/ticket", b'{"v": 1}').wait_for_publish(10)   # mek-2 as mek-1: dropped
        conns[-2].publish("talon/mek-2/event/ticket", b'{"v": 1}').wait_for_publish(10)
        assert inbox.wait_for(lambda t: t == "talon/mek-2/event/ticket")
        assert "talon/mek-1/event/ticket" not in inbox.items
        assert broker.running() and broker.restarts == 0
    finally:
        for c in conns:
            c.stop()
        broker.stop()


def make_certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (its own CA)."""
    (folder / "san.ext").write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName = IP:127.0.0.1", "-keyout", "hq.key", "-out", "hq.crt"],
                   cwd=folder, check=True, capture_output=True, timeout=60)
    return folder / "hq.crt"


def test_the_offices_listener_speaks_tls_and_the_ingest_has_a_loopback_one(hq_dir, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert = make_certificate(tmp_path)
    registry = Registry(hq_dir)
    password = registry.add("mek-1")
    broker = HqBroker(hq_dir, "127.0.0.1", free_port(), registry.load(), "ingest-pw", tls=(cert, tmp_path / "hq.key"))
    broker.start()
    conns = []
    try:
        assert broker.url.startswith("mqtts://") and broker.local_url.startswith("mqtt://127.0.0.1:")
        conns.append(connect(broker.url, "mek-1", password, tls_ca=str(cert)))
        assert conns[-1].wait_connected(CONNECT_TIMEOUT)
        conns.append(connect(broker.url.replace("mqtts", "mqtt"), "mek-1", password))   # plain on the TLS port
        assert not conns[-1].wait_connected(2)
        conns.append(connect(broker.local_url, INGEST_USER, "ingest-pw"))
        assert conns[-1].wait_connected(CONNECT_TIMEOUT)
    finally:
        for c in conns:
            c.stop()
        broker.stop()


@pytest.mark.e2e
def test_talon_hq_run_starts_its_broker_and_ingest_and_stops_cleanly(hq_dir):
    password = Registry(hq_dir).add("mek-1", region="Урал")
    port, web_port = free_port(), free_port()
    db = f"sqlite:///{hq_dir / 'hq.db'}"
    proc = subprocess.Popen([sys.executable, "-m", "talon", "hq", "run", "--data-dir", str(hq_dir), "--port", str(port),
                             "--db", db, "--web-port", str(web_port)],
                            stdout=(hq_dir / "run.log").open("a"), stderr=subprocess.STDOUT,
                            env={**os.environ, "TALON_LOG": "INFO"})
    office = connect(f"mqtt://127.0.0.1:{port}", "mek-1", password)
    try:
        assert office.wait_connected(30), (hq_dir / "run.log").read_text()
        config = {"v": 1, "office": "mek-1", "version": "v1", "at": "2026-10-05T09:00:00+05:00",
                  "toml": office_toml("mek-1")}
        office.publish_retained("talon/mek-1/hq/config", messages.encode(config)).wait_for_publish(10)
        sessions = make_sessionmaker(create_engine(db))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with sessions() as s:
                if hq.config_versions(s, "mek-1"):
                    break
            time.sleep(0.1)
        with sessions() as s:
            assert [v for v, _ in hq.config_versions(s, "mek-1")] == ["v1"]
            assert hq.office(s, "mek-1").region == "Урал"
        assert wait_for_port("127.0.0.1", web_port, 30)
        web = http.client.HTTPConnection("127.0.0.1", web_port, timeout=10)     # the HQ web beside it
        web.request("GET", "/")
        assert web.getresponse().status in (200, 302)
        web.close()
    finally:
        office.stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, (hq_dir / "run.log").read_text()
    pid = int((hq_dir / "mosquitto" / "mosquitto.pid").read_text())
    assert not Path(f"/proc/{pid}").exists()          # its mosquitto went with it
