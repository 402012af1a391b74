"""One seq follower for every device (broker/follower.py), and FakeBus.reread_state."""
from broker.bus import Bus
from broker.fake_bus import FakeBus
from broker.follower import SeqFollower


class Rereads:
    def __init__(self):
        self.names = []

    def reread_state(self, name):
        self.names.append(name)


def test_in_order_events_are_taken_without_a_resync():
    bus = Rereads()
    f = SeqFollower(bus, ["board"])
    assert [f.event(s) for s in (1, 2, 3)] == [True, True, True]
    assert f.last_seq == 3 and f.resyncs == 0 and bus.names == []


def test_duplicates_and_stale_events_are_ignored():
    f = SeqFollower(Rereads(), ["board"])
    assert f.event(5) and not f.event(5) and not f.event(4)
    assert f.state(9) and not f.event(8) and not f.event(9) and f.event(10)


def test_a_gap_rereads_every_followed_state_before_taking_the_event():
    bus, seen = Rereads(), []
    f = SeqFollower(bus, ["board"], on_resync=lambda reason: seen.append((reason, f.last_seq)))
    f.follow("window/2")
    f.follow("board")
    f.event(1)
    assert f.event(4)
    assert bus.names == ["board", "window/2"] and f.gaps == 1 and f.resyncs == 1
    assert seen == [("seq gap: 1 -> 4", 1)] and f.last_seq == 4     # on_resync ran before the event was taken


def test_retained_state_older_than_events_is_not_current():
    f = SeqFollower(Rereads())
    assert f.state(None) and f.state(3) and f.last_seq == 3
    assert f.event(4) and not f.state(3) and f.state(4) and f.last_seq == 4
    assert f.event("x")      # no integer seq: taken, nothing learnt
    assert f.last_seq == 4


def test_a_failing_reread_is_logged_not_raised(caplog):
    class Broken:
        def reread_state(self, name):
            raise RuntimeError("down")
    f = SeqFollower(Broken(), ["board"])
    f.event(1)
    assert f.event(3) and f.resyncs == 1 and "reread_state" in caplog.text


def test_fake_bus_reread_delivers_the_retained_state_once_more():
    bus = FakeBus()
    assert isinstance(bus, Bus)
    got = []
    bus.watch_state("board", got.append)
    bus.set_state("board", {"seq": 1}, deliver=False)     # retained by the broker, missed by the device
    assert got == []
    bus.reread_state("board")
    assert got == [{"seq": 1}] and bus.rereads == ["board"]
