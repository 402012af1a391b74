"""mosquitto users and ACL generated from the device list (docs/architecture.md §5, security)."""
import pytest

from broker import messages
from broker.mqtt import MqttConnection
from tests.mqtt_fixtures import Inbox, wait_until


def _refusal(conn):
    conn.start()
    try:
        wait_until(lambda: conn.last_refusal is not None, what="a refusal")
        assert not conn.connected
        return conn.last_refusal
    finally:
        conn.stop()


@pytest.mark.parametrize("user, password", [("ghost", "whatever"), ("kiosk-1", "wrong-password"),
                                            ("kiosk-1", None), (None, None)])
def test_unknown_user_wrong_password_and_anonymous_are_refused(mosquitto_broker, user, password):
    reason = _refusal(MqttConnection(mosquitto_broker.url, "test-intruder", user, password))
    assert "authorized" in reason.lower() or "password" in reason.lower()


def test_a_device_cannot_log_in_with_another_devices_password(mosquitto_broker):
    conn = MqttConnection(mosquitto_broker.url, "test-k2", "kiosk-2", mosquitto_broker.password("kiosk-1"))
    assert _refusal(conn)


def test_kiosk_publishes_only_its_own_cmd_and_status(mosquitto_broker, bus):
    t = mosquitto_broker.topics
    seen = Inbox()
    hub = mosquitto_broker.connection("hub")
    # retained leftovers of earlier tests don't count: only what is published now
    hub.subscribe(t.all, lambda topic, payload, retained: None if retained else seen((topic, payload)))
    bus.start(hub)
    kiosk = bus.start(mosquitto_broker.connection("kiosk-1"))
    forbidden = [t.cmd("kiosk-2"), t.state("queue"), t.reply("kiosk-1"), t.event, t.status("kiosk-2"),
                 t.cmd("counter-1")]
    for topic in forbidden:
        kiosk.publish(topic, b'{"v":1,"forged":true}').wait_for_publish(5)
    kiosk.publish(t.status("kiosk-1"), b'{"v":1,"marker":1}').wait_for_publish(5)
    kiosk.publish(t.cmd("kiosk-1"), b'{"v":1,"marker":2}').wait_for_publish(5)
    # one client's messages arrive in order: once the last marker is here, a forged one would be too
    seen.wait_for(lambda item: item[1] == b'{"v":1,"marker":2}')
    topics = [topic for topic, _ in seen.items]
    assert t.status("kiosk-1") in topics
    assert not set(forbidden) & set(topics)


def test_kiosk_reads_only_its_own_replies_and_state(mosquitto_broker, bus):
    t = mosquitto_broker.topics
    got = Inbox()
    kiosk = mosquitto_broker.connection("kiosk-1")
    for topic in (t.reply("kiosk-2"), t.reply("kiosk-1"), t.event, t.state("queue")):
        kiosk.subscribe(topic, lambda topic, payload, retained: None if retained else got(topic))
    bus.start(kiosk)
    hub = bus.start(mosquitto_broker.connection("hub"))
    hub.publish(t.reply("kiosk-2"), messages.ok_reply("x"))
    hub.publish(t.event, messages.event(1, "issued", "А001", "A"))
    hub.publish(t.reply("kiosk-1"), messages.ok_reply("marker"))
    got.wait_for(lambda topic: topic == t.reply("kiosk-1"))
    assert t.reply("kiosk-2") not in got.items and t.event not in got.items


def test_board_sends_commands_only_as_itself(mosquitto_broker, bus):
    """Any role may ping (docs/contract.md), so a board has its own cmd topic: but no other."""
    t = mosquitto_broker.topics
    seen = Inbox()
    hub = mosquitto_broker.connection("hub")
    hub.subscribe(t.all, lambda topic, payload, retained: None if retained else seen(topic))
    bus.start(hub)
    board = bus.start(mosquitto_broker.connection("board-1"))
    forbidden = [t.cmd("kiosk-1"), t.state("board"), t.event]
    for topic in forbidden:
        board.publish(topic, messages.request("ping")).wait_for_publish(5)
    board.publish(t.cmd("board-1"), messages.request("ping")).wait_for_publish(5)
    board.publish(t.status("board-1"), b'{"v":1,"marker":1}').wait_for_publish(5)
    seen.wait_for(lambda topic: topic == t.status("board-1"))
    assert t.cmd("board-1") in seen.items and not set(forbidden) & set(seen.items)
