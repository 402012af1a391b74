"""HubClient.reread_state: the broker sends the retained state again (mosquitto and amqtt)."""
import pytest

from broker import messages
from tests.mqtt_fixtures import Inbox


def test_reread_state_gets_the_retained_state_again(mqtt_broker, bus):
    hub = bus.start(mqtt_broker.connection("hub"))
    t = mqtt_broker.topics
    hub.publish_retained(t.state("board"), messages.state(1, calls=[])).wait_for_publish(5)
    board = bus.start(mqtt_broker.hub_client("board-1", "board"))
    states = Inbox()
    board.watch_state("board", states)
    assert board.wait_ready(10)
    assert states.wait_for()["seq"] == 1
    board.reread_state("board")
    assert states.wait_for(lambda s: len(states.items) >= 2)["seq"] == 1
    assert len(states.items) == 2
    with pytest.raises(ValueError):
        board.reread_state("queue")          # not watched
    with pytest.raises(ValueError):
        board.reread_state("nope/#")
