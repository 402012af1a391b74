"""HubClient against real brokers: mosquitto (MQTT 3.1.1 and 5) and the embedded amqtt."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from broker import messages
from broker.errors import CommandError, HubUnreachable
from tests.mqtt_fixtures import EchoHub, Inbox

REPO = Path(__file__).resolve().parents[2]


def test_request_reply_round_trip(mqtt_broker, bus):
    hub = EchoHub(mqtt_broker)
    bus.start(hub.conn)
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    assert kiosk.request("issue", {"topic": "A", "kind": "walk_in"}) == {
        "op": "issue", "args": {"topic": "A", "kind": "walk_in"}}
    assert kiosk.request("ping") == {"op": "ping", "args": {}}
    with pytest.raises(CommandError) as exc:
        kiosk.request("cancel", {"ticket": "А015"})
    assert exc.value.code == "unknown_ticket" and exc.value.message == "Талон не найден"
    assert not isinstance(exc.value, HubUnreachable)


def test_mqtt5_round_trip(mosquitto_broker, bus):
    hub = EchoHub(mosquitto_broker)
    bus.start(hub.conn)
    counter = bus.start(mosquitto_broker.hub_client("counter-1", "counter", protocol=paho.MQTTv5))
    assert counter.request("call_next", {"window": 3})["args"] == {"window": 3}


def test_lost_reply_is_retried_with_the_same_id(mqtt_broker, bus):
    hub = EchoHub(mqtt_broker, drop_first=True)
    bus.start(hub.conn)
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    assert kiosk.request("ping", timeout=6.0)["op"] == "ping"
    (device, rid), *rest = hub.seen
    assert device == "kiosk-1" and rest and all(seen == (device, rid) for seen in rest)


def test_hub_unreachable_when_nobody_answers(mqtt_broker, bus):
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-2", "kiosk"))
    with pytest.raises(HubUnreachable) as exc:
        kiosk.request("ping", timeout=0.6)
    assert exc.value.code == "hub_unreachable"


def test_hub_unreachable_when_the_broker_is_not_there(bus):
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from broker.client import HubClient
    kiosk = bus.start(HubClient(f"mqtt://127.0.0.1:{port}", "office", "kiosk-1", "kiosk"), wait=False)
    assert not kiosk.connected
    with pytest.raises(HubUnreachable):
        kiosk.request("ping", timeout=0.5)


def test_retained_state_and_events(mqtt_broker, bus):
    hub = bus.start(mqtt_broker.connection("hub"))
    t = mqtt_broker.topics
    hub.publish_retained(t.state("queue"), messages.state(1, topics={}, windows_open=0)).wait_for_publish(5)
    board = bus.start(mqtt_broker.hub_client("board-1", "board"))
    queue, window, events = Inbox(), Inbox(), Inbox()
    board.watch_state("queue", queue)
    board.watch_state("window/3", window)
    board.on_event(events)
    assert board.wait_ready(10)  # events are not retained: be subscribed before the hub speaks
    assert queue.wait_for()["seq"] == 1  # the retained one, delivered on subscribe
    hub.publish_retained(t.window_state(3), messages.state(2, window=3, state="open"))
    hub.publish(t.event, messages.event(3, "called", "А015", "A", 3))
    assert window.wait_for()["state"] == "open"
    assert events.wait_for()["ticket"] == "А015"
    late = Inbox()
    board.watch_state("window/3", late)  # a known state is given at once
    assert late.items and late.items[0]["seq"] == 2
    hub.publish(t.event, b"not json")  # ignored, not fatal
    hub.publish(t.event, messages.event(4, "started", "А015", "A", 3))
    assert events.wait_for(lambda e: e["seq"] == 4)


def test_birth_status_and_clean_offline(mqtt_broker, bus):
    hub = bus.start(mqtt_broker.connection("hub"))
    statuses = Inbox()
    hub.subscribe(mqtt_broker.topics.status("kiosk-2"),
                  lambda topic, payload, retained: statuses(messages.parse_payload(payload)))
    assert hub.wait_subscribed(10)
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-2", "kiosk", version="9.9"))
    birth = statuses.wait_for(lambda s: s and s["state"] == "online" and s["version"] == "9.9")
    assert birth["role"] == "kiosk" and birth["device"] == "kiosk-2"
    kiosk.publish_status({"printer": {"state": "paper_near_end", "detail": None}})
    merged = statuses.wait_for(lambda s: s and s.get("printer") and s["printer"]["state"] == "paper_near_end")
    assert merged["state"] == "online" and merged["role"] == "kiosk"
    kiosk.stop()
    statuses.wait_for(lambda s: s and s["state"] == "offline" and s["version"] == "9.9")


def test_last_will_offline_when_a_device_dies(mqtt_broker, bus):
    hub = bus.start(mqtt_broker.connection("hub"))
    statuses = Inbox()
    hub.subscribe(mqtt_broker.topics.status("rating-1"),
                  lambda topic, payload, retained: statuses((messages.parse_payload(payload), retained)))
    assert hub.wait_subscribed(10)
    script = (
        "import sys, time\n"
        "from broker.client import HubClient\n"
        "c = HubClient(sys.argv[1], 'office', 'rating-1', 'rating', password=sys.argv[2] or None)\n"
        "c.start()\n"
        "print('ready' if c.wait_connected(10) else 'failed', flush=True)\n"
        "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, mqtt_broker.url, mqtt_broker.password("rating-1") or ""],
                            cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stdout.readline().strip() == "ready"
        statuses.wait_for(lambda s: s[0] and s[0]["state"] == "online")
        proc.kill()  # no DISCONNECT: the broker must publish the will
        proc.wait(10)
        will, _ = statuses.wait_for(lambda s: s[0] and s[0]["state"] == "offline")
        assert will["device"] == "rating-1" and will["role"] == "rating"
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


def test_tcp_nodelay_on_the_socket(mqtt_broker, bus):
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    sock = kiosk._conn.paho.socket()
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_request_from_the_network_thread_is_refused(mqtt_broker, bus):
    kiosk = bus.start(mqtt_broker.hub_client("kiosk-1", "kiosk"))
    hub = bus.start(mqtt_broker.connection("hub"))
    errors = Inbox()

    def on_state(payload):
        try:
            kiosk.request("ping", timeout=0.1)
        except RuntimeError as exc:
            errors(exc)

    kiosk.watch_state("config", on_state)
    hub.publish_retained(mqtt_broker.topics.state("config"), messages.state(office={"id": "office"}))
    assert "deadlock" in str(errors.wait_for())
