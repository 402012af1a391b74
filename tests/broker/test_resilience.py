"""Broker crash / restart: clients reconnect, re-subscribe and get retained state again."""
import shutil

import pytest

from broker import messages
from hub.brokers import (
    EmbeddedBroker,
    ExternalBroker,
    MosquittoBroker,
    choose_broker,
)
from tests.mqtt_fixtures import (
    BrokerHandle,
    EchoHub,
    Inbox,
    broker_dir,
    free_port,
    start_mosquitto,
    wait_until,
)


@pytest.fixture
def own_mosquitto():
    broker = start_mosquitto()
    yield BrokerHandle("mosquitto", broker, authenticated=True)
    broker.stop()
    shutil.rmtree(broker.dir.parent, ignore_errors=True)


def _watching_board(handle, bus):
    board = bus.start(handle.hub_client("board-1", "board"))
    links, queue = Inbox(), Inbox()
    board.on_connection(links)
    board.watch_state("queue", queue)
    return board, links, queue


def test_killed_mosquitto_is_restarted_and_clients_come_back(own_mosquitto, bus):
    hub = EchoHub(own_mosquitto)
    bus.start(hub.conn)
    kiosk = bus.start(own_mosquitto.hub_client("kiosk-1", "kiosk"))
    board, links, queue = _watching_board(own_mosquitto, bus)
    old_pid = own_mosquitto.broker.pid
    own_mosquitto.broker.kill()  # a crash: the supervisor must start it again
    links.wait_for(lambda up: up is False)
    links.wait_for(lambda up: up is True)
    wait_until(lambda: own_mosquitto.broker.restarts >= 1 and own_mosquitto.broker.pid != old_pid, what="restart")
    assert kiosk.wait_ready(10) and hub.conn.wait_subscribed(10) and board.wait_ready(10)
    assert kiosk.request("ping", timeout=6.0)["op"] == "ping"  # re-subscribed to reply/ by itself
    # the hub republishes its state after a broker restart; the board gets it without asking
    hub.conn.publish_retained(own_mosquitto.topics.state("queue"), messages.state(5, topics={}))
    assert queue.wait_for(lambda s: s["seq"] == 5)


def test_retained_state_survives_a_clean_broker_restart(own_mosquitto, bus):
    hub = bus.start(own_mosquitto.connection("hub"))
    hub.publish_retained(own_mosquitto.topics.state("queue"), messages.state(7, topics={})).wait_for_publish(5)
    _board, links, queue = _watching_board(own_mosquitto, bus)
    assert queue.wait_for()["seq"] == 7
    broker = own_mosquitto.broker
    broker.stop()  # SIGTERM: mosquitto saves its retained messages
    links.wait_for(lambda up: up is False)
    count = len(queue.items)
    broker.start()
    links.wait_for(lambda up: up is True)
    wait_until(lambda: len(queue.items) > count, what="retained state after reconnect")
    assert queue.items[-1]["seq"] == 7


def test_embedded_broker_restart(bus):
    port = free_port()
    broker = EmbeddedBroker("127.0.0.1", port)
    broker.start()
    try:
        handle = BrokerHandle("amqtt", broker, authenticated=False)
        hub = EchoHub(handle)
        bus.start(hub.conn)
        kiosk = bus.start(handle.hub_client("kiosk-1", "kiosk"))
        links = Inbox()
        kiosk.on_connection(links)
        broker.stop()
        links.wait_for(lambda up: up is False)
        broker.start()
        links.wait_for(lambda up: up is True)
        assert kiosk.wait_ready(10) and hub.conn.wait_subscribed(10)
        assert kiosk.request("ping", timeout=6.0)["op"] == "ping"
    finally:
        broker.stop()


def test_choose_broker(tmp_path, monkeypatch):
    assert isinstance(choose_broker("mqtt://10.0.0.5:1884"), ExternalBroker)
    assert choose_broker("mqtt://10.0.0.5:1884").url == "mqtt://10.0.0.5:1884"
    monkeypatch.setattr("hub.brokers.find_mosquitto", lambda: "mosquitto")
    assert isinstance(choose_broker(data_dir=tmp_path), MosquittoBroker)
    monkeypatch.setattr("hub.brokers.find_mosquitto", lambda: None)
    assert isinstance(choose_broker(data_dir=tmp_path), EmbeddedBroker)


def test_mosquitto_start_failure_is_reported():
    other = start_mosquitto(devices=[])  # anonymous, holds a port
    clash = MosquittoBroker(broker_dir(), "127.0.0.1", other.port, [])
    try:
        with pytest.raises(RuntimeError, match="did not start"):
            clash.start(timeout=5)
    finally:
        other.stop()
        for b in (other, clash):
            shutil.rmtree(b.dir.parent, ignore_errors=True)
