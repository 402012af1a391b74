"""The role table end to end: ACL generated from it, a real mosquitto, a real hub.

Every role sends every op of the contract over MQTT and gets a reply: its own ops are
served (whatever the queue then says), the others are ``forbidden``. A publish the
ACL does not allow never reaches anyone; a kiosk cannot forge retained state; a
board can ping. A plain paho client set up as docs/contract.md says is served too.
"""
import json
import shutil
import socket
import threading
import uuid
from dataclasses import replace

import pytest

from broker import messages, roles
from broker.mqtt import MqttConnection
from broker.topics import Topics
from hub.service import Hub
from storage import directory
from storage.queue_db import QueueDatabase
from tests.hub.test_hub import office_clock
from tests.mqtt_fixtures import OFFICE, Inbox, start_mosquitto, wait_until
from tests.queue_core.helpers import make_config

T = Topics(OFFICE)
WINDOW = 1
DEVICE = {role: f"{role}-1" for role in roles.DEVICE_ROLES}      # one device of every role
PASSWORD = {**{d: f"{d}-pw" for d in DEVICE.values()}, roles.HUB_USER: "hub-pw"}
SAMPLE_ARGS = {   # schema-valid args of every op (an op added to the contract needs one here)
    "issue": {"topic": "A", "kind": "walk_in"},
    "checkin": {"code": "123456"},
    "sign_in": {"window": WINDOW, "operator": "nobody", "pin": "0000"},
    "open": {"window": WINDOW},
    "pause": {"window": WINDOW, "kind": "lunch"},
    "close": {"window": WINDOW},
    "call_next": {"window": WINDOW},
    "recall": {"window": WINDOW},
    "start": {"window": WINDOW},
    "finish": {"window": WINDOW, "accounts": 1},
    "no_show": {"window": WINDOW},
    "transfer": {"window": WINDOW, "topic": "A"},
    "rate": {"window": WINDOW, "ticket": "А001", "score": 5},
    "cancel": {"ticket": "А001"},
    "ping": {},
}
NOT_SERVED = ("forbidden", "bad_schema", "unknown_device", "internal")


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """mosquitto whose users and ACL come from the role table, and a hub serving it."""
    users = [(roles.HUB_USER, roles.HUB_ROLE, PASSWORD[roles.HUB_USER])]
    users += [(d, role, PASSWORD[d]) for role, d in DEVICE.items()]
    broker = start_mosquitto(devices=users)
    db = QueueDatabase(f"sqlite:///{tmp_path_factory.mktemp('roles') / 'hub.db'}",
                       replace(make_config(windows=2), office_id=OFFICE))
    with db.sessions() as s, s.begin():
        for role, d in DEVICE.items():
            directory.add_device(s, OFFICE, d, role, window=WINDOW if role in ("counter", "rating") else None,
                                 password=PASSWORD[d])
    hub = Hub(db, broker.url, username=roles.HUB_USER, password=PASSWORD[roles.HUB_USER], clock=office_clock())
    hub.start()
    assert hub.conn.wait_subscribed(10)
    yield broker
    hub.stop()
    broker.stop()
    shutil.rmtree(broker.dir.parent, ignore_errors=True)


def connect(broker, user, bus, **subs):
    conn = MqttConnection(broker.url, f"test-{user}-{uuid.uuid4().hex[:6]}", user, PASSWORD[user])
    for topic, cb in subs.items():
        conn.subscribe(topic, cb)
    return bus.start(conn)


def test_the_acl_in_use_is_the_role_tables(office):
    acl = (office.dir / "acl").read_text()
    for role, d in DEVICE.items():
        block = acl.split(f"user {d}\n")[1].split("\n\n")[0].splitlines()
        assert block == [f"topic {access} {topic}" for access, topic in roles.acl_rules(T, d, role)]


def test_sample_args_cover_the_contract():
    assert set(SAMPLE_ARGS) == set(messages.OPS)
    for op, args in SAMPLE_ARGS.items():
        messages.validate_args(op, args)


@pytest.mark.parametrize("role", roles.DEVICE_ROLES)
def test_each_role_sends_exactly_its_ops(office, bus, role):
    device = DEVICE[role]
    replies = Inbox()
    conn = connect(office, device, bus, **{T.reply(device): lambda t, p, r: replies(json.loads(p))})
    for op, args in SAMPLE_ARGS.items():
        request = messages.request(op, args)
        conn.publish(T.cmd(device), request)
        reply = replies.wait_for(lambda m, rid=request["id"]: m["id"] == rid)
        code = None if reply["ok"] else reply["error"]["code"]
        if op in roles.ROLES[role].ops:
            assert code not in NOT_SERVED, (role, op, reply)
        else:
            assert code == "forbidden", (role, op, reply)


@pytest.mark.parametrize("role", roles.DEVICE_ROLES)
def test_a_publish_outside_the_acl_is_not_delivered(office, bus, role):
    device = DEVICE[role]
    other = next(d for d in DEVICE.values() if d != device)
    seen = Inbox()
    connect(office, roles.HUB_USER, bus, **{T.all: lambda t, p, r: None if r else seen((t, p))})
    conn = connect(office, device, bus)
    forged = [T.cmd(other), T.reply(device), T.reply(other), T.status(other), T.event,
              T.state("config"), T.state("queue"), T.state("board"), T.window_state(WINDOW), f"{T.base}other",
              Topics("elsewhere").cmd(device)]
    for topic in forged:
        conn.publish(topic, messages.request("ping")).wait_for_publish(5)
    conn.publish(T.status(device), b'{"v":1,"marker":1}').wait_for_publish(5)
    # one client's messages arrive in order: once the marker is here, a forged one would be too
    seen.wait_for(lambda item: item == (T.status(device), b'{"v":1,"marker":1}'))
    assert not set(forged) & {topic for topic, _ in seen.items}


def test_a_kiosk_cannot_forge_retained_state(office, bus):
    kiosk = connect(office, DEVICE["kiosk"], bus)
    forged = messages.encode({"v": 1, "office": {"id": "forged"}})
    kiosk.publish(T.state("config"), forged, retain=True).wait_for_publish(5)
    kiosk.publish(T.state("queue"), forged, retain=True).wait_for_publish(5)
    kiosk.stop()
    config = Inbox()
    connect(office, DEVICE["board"], bus, **{T.state("config"): lambda t, p, r: config(json.loads(p))})
    assert config.wait_for()["office"]["id"] == OFFICE        # still the hub's own, retained


def test_a_board_can_ping(office, bus):
    replies = Inbox()
    board = connect(office, DEVICE["board"], bus, **{T.reply(DEVICE["board"]): lambda t, p, r: replies(json.loads(p))})
    board.publish(T.cmd(DEVICE["board"]), messages.request("ping", request_id="board-ping-1"))
    reply = replies.wait_for(lambda m: m["id"] == "board-ping-1")
    assert reply["ok"] and isinstance(reply["data"]["seq"], int)


def test_a_plain_paho_client_as_the_contract_says(office):
    """The third-party recipe of docs/contract.md: TCP_NODELAY, QoS 1, own reply topic, same id on retry."""
    import paho.mqtt.client as mqtt

    device = DEVICE["kiosk"]
    got, subscribed = [], threading.Event()
    done = threading.Condition()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"talon-{OFFICE}-{device}")
    c.username_pw_set(device, PASSWORD[device])
    c.on_socket_open = lambda client, userdata, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.on_connect = lambda client, userdata, flags, rc, props: client.subscribe(T.reply(device), qos=1)
    c.on_subscribe = lambda *a: subscribed.set()

    def on_message(client, userdata, msg):
        with done:
            got.append(json.loads(msg.payload))
            done.notify_all()

    c.on_message = on_message
    c.connect(office.host, office.port)
    c.loop_start()
    try:
        assert subscribed.wait(10)
        request = {"v": 1, "id": f"{device}-{uuid.uuid4()}", "op": "issue", "args": {"topic": "A", "kind": "walk_in"}}
        for _ in range(2):                       # a retry: the same id, so one ticket, one stored reply
            c.publish(T.cmd(device), json.dumps(request), qos=1).wait_for_publish(5)
        with done:
            assert done.wait_for(lambda: len(got) == 2, 10), got
        # the retry gets the stored reply, word for word (ok, or topic_closed when no window is open)
        assert got[0] == got[1] and got[0]["id"] == request["id"]
    finally:
        c.loop_stop()
        c.disconnect()



def test_the_hub_starts_despite_an_old_device_named_hub(caplog):
    """A database from before the reserved-id check may hold a kiosk called "hub": the hub
    leaves it out with an error, keeps its own broker user, and that credential is dead."""
    import logging
    from datetime import datetime, timezone
    from pathlib import Path

    from hub.brokers import find_mosquitto
    from hub.runtime import OfficeRuntime, RuntimeSettings
    from storage.credentials import hash_secret
    from storage.models import DeviceRow
    from tests.mqtt_fixtures import broker_dir, free_port

    if not find_mosquitto():
        pytest.skip("mosquitto is not installed")
    folder = Path(broker_dir())
    url = f"sqlite:///{folder / 'talon.db'}"
    config = replace(make_config(windows=1), office_id=OFFICE)
    db = QueueDatabase(url, config)
    with db.sessions() as s, s.begin():
        s.add(DeviceRow(office=OFFICE, device="hub", role="kiosk", window=None,
                        password_hash=hash_secret("stolen"), created_at=datetime.now(timezone.utc)))
        directory.add_device(s, OFFICE, "kiosk-1", "kiosk", password="kiosk-pw")
    db.close()
    runtime = OfficeRuntime(RuntimeSettings(config=config, data_dir=folder, database_url=url,
                                            broker_kind="mosquitto", port=free_port(), web_port=None,
                                            clock=office_clock()))
    with caplog.at_level(logging.ERROR, logger="hub.runtime"):
        runtime.start()
    try:
        assert runtime.hub.conn.wait_subscribed(10) and runtime.hub.healthy
        assert "'hub' is left out" in caplog.text and "reserved" in caplog.text
        assert [d.id for d in runtime.broker.devices if d.id == "hub"] == ["hub"]
        assert next(d for d in runtime.broker.devices if d.id == "hub").role == "hub"
        thief = MqttConnection(runtime.broker_url, "test-thief", "hub", "stolen")
        thief.start()
        try:
            wait_until(lambda: thief.last_refusal is not None, what="the stolen credential refused")
        finally:
            thief.stop()
        replies = Inbox()
        kiosk = MqttConnection(runtime.broker_url, "test-kiosk", "kiosk-1", "kiosk-pw")
        kiosk.subscribe(T.reply("kiosk-1"), lambda t, p, r: replies(json.loads(p)))
        kiosk.start()
        try:
            assert kiosk.wait_subscribed(10)
            kiosk.publish(T.cmd("kiosk-1"), messages.request("ping", request_id="after-start"))
            assert replies.wait_for(lambda m: m["id"] == "after-start")["ok"]      # the hub serves
        finally:
            kiosk.stop()
    finally:
        runtime.stop()
        shutil.rmtree(folder, ignore_errors=True)
