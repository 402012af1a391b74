"""Head office's ingest rules (hq/ingest.py) with a fake message source: the events are an office's
real dispatcher's (``LocalHub``), the database is real (SQLite, and PostgreSQL in CI)."""
from __future__ import annotations

import logging
import random
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from broker import messages
from hq.ingest import Ingest, Message, parse_config
from storage import csat, hq, presence, stats
from storage.engine import init_db, make_engine, make_sessionmaker
from storage.models import EventRow, LegRollupRow, LegRow, TicketRow, WindowRow
from tests.hq.conftest import TZ, SimOffice


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class HQ:
    """An ingest on a fresh database, with the replay requests it publishes collected."""

    def __init__(self, url: str, known: set[str] | None = None):
        self.engine = make_engine(url)
        init_db(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.requests: list[tuple[str, dict]] = []
        self.clock = FakeClock()
        self.known = known
        self.ingest = self.new_ingest()

    def new_ingest(self) -> Ingest:
        ingest = Ingest(self.sessions, lambda topic, payload: self.requests.append((topic, payload)),
                        known_offices=(lambda: self.known) if self.known is not None else None,
                        clock=self.clock, now=lambda: datetime(2026, 10, 20, tzinfo=TZ))
        ingest.start()
        return ingest

    def restart(self) -> None:
        self.ingest = self.new_ingest()

    def tick(self, seconds: float) -> None:
        self.clock.t += seconds
        self.ingest.tick()

    def last_seq(self, office: str) -> int:
        with self.sessions() as s:
            o = hq.office(s, office)
            return o.last_seq if o else 0

    def seqs(self, office: str) -> list[int]:
        with self.sessions() as s:
            return list(s.execute(select(EventRow.seq).where(EventRow.office == office).order_by(EventRow.seq)).scalars())


@pytest.fixture
def head(db_url):
    h = HQ(db_url)
    yield h
    h.engine.dispose()


@pytest.fixture
def office():
    o = SimOffice("mek-1")
    yield o
    o.close()


def projection(sessions, office: str) -> dict:
    """What every report reads: the tickets, their legs (with the stored durations), the windows,
    and the event log (without the published data, which leaves the booking code out)."""
    with sessions() as s:
        tickets = sorted(s.execute(select(
            TicketRow.day, TicketRow.number, TicketRow.state, TicketRow.kind, TicketRow.issue_topic,
            TicketRow.issued_at, TicketRow.rating, TicketRow.finished_at, TicketRow.eta_min, TicketRow.people_ahead)
            .where(TicketRow.office == office)).all(), key=lambda r: r[:2])
        legs = sorted(s.execute(select(
            TicketRow.day, TicketRow.number, LegRow.idx, LegRow.topic, LegRow.window, LegRow.operator, LegRow.queued_at,
            LegRow.called_at, LegRow.started_at, LegRow.finished_at, LegRow.outcome, LegRow.recalls,
            LegRow.wait_s, LegRow.walk_s, LegRow.service_s).join(TicketRow).where(LegRow.office == office)).all(),
            key=lambda r: r[:3])
        windows = sorted(s.execute(select(WindowRow.number, WindowRow.state, WindowRow.operator, WindowRow.ticket,
                                          WindowRow.last_finished).where(WindowRow.office == office)).all())
        events = list(s.execute(select(EventRow.seq, EventRow.at, EventRow.kind, EventRow.ticket, EventRow.topic,
                                       EventRow.window).where(EventRow.office == office).order_by(EventRow.seq)))
    return {"tickets": tickets, "legs": legs, "windows": windows, "events": events}


REPORT_GROUPS = ("topic", "window", "operator", "hour", "day", "total")


def reports(sessions, config, start, end) -> dict:
    """Every figure an office's reports show for [start, end): the groupings, the visits, CSAT."""
    with sessions() as s:
        figures = stats.reports(s, config, start, end, REPORT_GROUPS)
        return {"groups": {g: [f.as_dict() for f in rows] for g, rows in figures.items()},
                "visits": stats.visits(s, config, start, end), "csat": csat.csat(s, config, start, end)}


def month_report(sessions, office: SimOffice) -> dict:
    start, end = stats.month_bounds(2026, 10, TZ)
    return reports(sessions, office.hub.db.config, start, end)


# --------------------------------------------------------------------------- in order
def test_an_office_day_arrives_whole_and_reads_the_same_as_at_the_office(head, office):
    office.work(visitors=8)
    head.ingest.handle([office.config_message(), *office.event_messages()])
    assert head.ingest.counts.applied == len(office.events) > 30
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")
    assert month_report(head.sessions, office) == month_report(office.hub.db.sessions, office)
    assert head.last_seq("mek-1") == office.events[-1]["seq"]
    assert head.requests == []


def test_events_in_many_small_batches_equal_one_big_one(head, office):
    office.work(visitors=6)
    head.ingest.handle([office.config_message()])
    msgs = office.event_messages()
    for i in range(0, len(msgs), 3):
        head.ingest.handle(msgs[i:i + 3])
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")


# --------------------------------------------------------------------------- duplicates
def test_a_duplicate_is_skipped_in_the_same_batch_and_later(head, office):
    office.work(visitors=4)
    msgs = office.event_messages()
    head.ingest.handle([office.config_message(), *msgs[:10], msgs[5], msgs[9]])
    head.ingest.handle([*msgs[:12], *msgs[10:]])
    assert head.ingest.counts.duplicates == 2 + 10 + 2
    assert head.seqs("mek-1") == [e["seq"] for e in office.events]
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")


# --------------------------------------------------------------------------- order and gaps
def test_out_of_order_events_are_held_and_applied_in_seq_order(head, office):
    office.work(visitors=6)
    msgs = office.event_messages()
    shuffled = msgs[:]
    random.Random(7).shuffle(shuffled)
    head.ingest.handle([office.config_message()])
    for i in range(0, len(shuffled), 5):
        head.ingest.handle(shuffled[i:i + 5])
    assert head.seqs("mek-1") == [e["seq"] for e in office.events]
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")


def test_a_gap_is_asked_for_after_a_grace_then_again_with_growing_pauses(head, office):
    office.work(visitors=4)
    msgs = office.event_messages()
    head.ingest.handle([office.config_message(), *msgs[:5], *msgs[8:12]])
    assert head.last_seq("mek-1") == 5
    head.tick(0.1)
    assert head.requests == []                    # it may be a message still on its way
    head.tick(1.0)
    assert head.requests == [("talon/mek-1/hq/replay", {"v": 1, "id": head.requests[0][1]["id"],
                                                        "from_seq": 6, "to_seq": 8})]
    times = []
    for _ in range(40):                           # no answer: again after 2, 4, 8… s
        head.tick(0.5)
        if len(head.requests) > len(times) + 1:
            times.append(head.clock.t)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps and all(b > a for a, b in zip(gaps, gaps[1:]))
    assert len({r["id"] for _, r in head.requests}) == len(head.requests)


def test_a_replay_fills_the_gap_and_the_held_events_follow(head, office):
    office.work(visitors=5)
    events = office.events
    head.ingest.handle([office.config_message(), *office.event_messages(events[:5] + events[9:])])
    head.tick(0.1)
    head.tick(2.0)
    request = head.requests[-1][1]
    answer = {"v": 1, "id": request["id"], "events": events[request["from_seq"] - 1:request["to_seq"]],
              "last_seq": events[-1]["seq"], "done": True}
    head.ingest.handle([Message("talon/mek-1/hq/replayed", messages.encode(answer))])
    assert head.seqs("mek-1") == [e["seq"] for e in events]
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")
    asked = len(head.requests)
    head.tick(100)
    assert len(head.requests) == asked            # filled: nothing more to ask


def test_a_lost_tail_is_noticed_from_the_queue_state_seq(head, office):
    office.work(visitors=3)
    events = office.events
    head.ingest.handle([office.config_message(), *office.event_messages(events[:-4])])
    head.tick(5)
    assert head.requests == []                    # nothing says anything is missing
    state = {"v": 1, "seq": events[-1]["seq"], "at": "2026-10-05T10:00:00+05:00", "topics": {}, "windows_open": 2}
    head.ingest.handle([Message("talon/mek-1/state/queue", messages.encode(state), retained=True)])
    head.tick(0.5)
    head.tick(1.0)
    assert head.requests[-1][1]["from_seq"] == events[-4]["seq"] and head.requests[-1][1]["to_seq"] is None


# --------------------------------------------------------------------------- configuration
def test_events_before_the_configuration_wait_for_it(head, office):
    office.work(visitors=4)
    head.ingest.handle(office.event_messages())
    assert head.seqs("mek-1") == []
    head.tick(10)
    assert head.requests == []                    # no office to apply to yet: nothing to ask for
    head.ingest.handle([office.config_message()])
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")


def test_a_new_configuration_is_recorded_and_the_office_rebuilt_under_it(head, office):
    office.work(visitors=3)
    first = office.event_messages()
    head.ingest.handle([office.config_message("v1", at=datetime(2026, 10, 1, tzinfo=TZ)), *first])
    wider = office.toml + '\n[[windows]]\nnumber = 4\ntopics = ["A", "R"]\n'
    head.ingest.handle([office.config_message("v2", toml=wider, at=datetime(2026, 11, 1, tzinfo=TZ))])
    head.ingest.handle([office.config_message("v2", toml=wider, at=datetime(2026, 11, 1, tzinfo=TZ))])  # retained again
    assert head.ingest.counts.configs == 2
    with head.sessions() as s:
        assert [v for v, _ in hq.config_versions(s, "mek-1")] == ["v1", "v2"]
        assert hq.config_at(s, "mek-1", datetime(2026, 10, 15, tzinfo=TZ)) == office.toml
        assert hq.config_at(s, "mek-1", datetime(2026, 11, 15, tzinfo=TZ)) == wider
        assert hq.config_at(s, "mek-1", datetime(2026, 9, 1, tzinfo=TZ)) == office.toml   # before any: the first
    seq = office.events[-1]["seq"]
    opened = messages.event(seq + 1, "window_opened", window=4, at=office.clock.now.isoformat())
    head.ingest.handle(office.event_messages([opened]))
    with head.sessions() as s:
        assert s.get(WindowRow, ("mek-1", 4)).state == "open"


def test_the_registry_names_win_over_the_configuration(db_url, office):
    h = HQ(db_url)
    h.ingest.describe = lambda o: ("Офис на Ленина", "Урал", "") if o == "mek-1" else None
    toml = office.toml.replace("[office]\n", '[office]\nregion = "Сибирь"\nbranch = "Тюмень"\n', 1)
    h.ingest.handle([office.config_message(toml=toml)])
    with h.sessions() as s:
        o = hq.office(s, "mek-1")
    assert (o.name, o.region, o.branch) == ("Офис на Ленина", "Урал", "Тюмень")
    h.engine.dispose()


def test_parse_config_reads_region_and_branch_and_ignores_the_hq_section(office):
    toml = office.toml.replace("[office]\n", '[office]\nregion = "Урал"\n', 1) + '\n[hq]\nurl = "mqtt://x:1883"\n'
    config, region, branch = parse_config(toml)
    assert (config.office_id, region, branch) == ("mek-1", "Урал", None)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("topic,payload,why", [
    ("talon/mek-1/event/ticket", b"{not json", "not a JSON object"),
    ("talon/mek-1/event/ticket", b'{"v": 2, "seq": 1, "kind": "issued"}', "not a JSON object"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": "one", "kind": "issued", "at": "2026-10-05T09:00:00+05:00"}',
     "malformed event"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": 1, "kind": "exploded", "at": "2026-10-05T09:00:00+05:00"}',
     "malformed event"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": 1, "kind": "issued", "at": "yesterday"}', "malformed event"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": 1, "kind": "issued", "at": "2026-10-05T09:00:00"}',
     "malformed event"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": 0, "kind": "issued", "at": "2026-10-05T09:00:00+05:00"}',
     "malformed event"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": true, "kind": "issued", "at": "2026-10-05T09:00:00+05:00"}',
     "malformed event"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": 1, "kind": ["issued"], "at": "2026-10-05T09:00:00+05:00"}',
     "malformed event"),
    ("talon/mek-1/event/ticket", b'{"v": 1, "seq": 1, "kind": "issued", "at": 1759636800}', "malformed event"),
    ("talon/mek-1/event/ticket",
     b'{"v": 1, "seq": 1, "kind": "issued", "at": "2026-10-05T09:00:00+05:00", "ticket": 7}', "malformed event"),
    ("talon/mek-1/event/ticket",
     b'{"v": 1, "seq": 1, "kind": "called", "at": "2026-10-05T09:00:00+05:00", "window": true}', "malformed event"),
    ("talon/mek-1/event/ticket",
     b'{"v": 1, "seq": 1, "kind": "called", "at": "2026-10-05T09:00:00+05:00", "window": "1"}', "malformed event"),
    ("talon/mek-1/event/ticket",
     b'{"v": 1, "seq": 1, "kind": "issued", "at": "2026-10-05T09:00:00+05:00", "data": [1]}', "malformed event"),
    ("talon/mek-1/device/kiosk-1/status/extra", b'{"v": 1, "state": "online"}', "not a topic head office reads"),
    ("talon/mek-1/device/../status", b'{"v": 1, "state": "online"}', "not a topic head office reads"),
    ("talon/mek-1/hq/config", b'{"v": 1, "version": "x", "at": "2026-10-05T09:00:00+05:00", "toml": "[office"}',
     "does not parse"),
    ("talon/mek-1/hq/config", b'{"v": 1, "version": "x", "toml": "a = 1"}', "without version"),
    ("talon/mek-1/hq/replayed", b'{"v": 1, "id": "r", "events": "all"}', "without a list"),
    ("talon/mek-1/cmd/kiosk-1", b'{"v": 1}', "not a topic head office reads"),
    ("talon/../event/ticket", b'{"v": 1}', "not a Talon topic"),
    ("other/mek-1/event/ticket", b'{"v": 1}', "not a Talon topic"),
])
def test_a_malformed_message_is_logged_and_dropped(head, office, caplog, topic, payload, why):
    head.ingest.handle([office.config_message()])
    with caplog.at_level(logging.WARNING, logger="hq.ingest"):
        head.ingest.handle([Message(topic, payload)])
    assert head.ingest.counts.dropped == 1
    assert why in caplog.text
    assert head.seqs("mek-1") == []


def test_the_same_bad_topic_is_dropped_every_time(head, office):
    head.ingest.handle([office.config_message()])
    bad = Message("talon/mek-1/cmd/kiosk-1", b'{"v": 1}')
    head.ingest.handle([bad, bad, Message("other/x/event/ticket", b'{"v": 1}'), bad])
    assert head.ingest.counts.dropped == 4


def test_the_events_data_is_stored_as_published(head, office):
    office.work(visitors=5)
    head.ingest.handle([office.config_message(), *office.event_messages()])
    with head.sessions() as s:
        stored = dict(s.execute(select(EventRow.seq, EventRow.data).where(EventRow.office == "mek-1")).all())
    assert stored == {e["seq"]: e.get("data", {}) for e in office.events}
    assert any(stored.values())


def test_a_configuration_of_another_office_is_dropped(head, office):
    other = SimOffice("mek-2")
    msg = other.config_message()
    head.ingest.handle([Message("talon/mek-1/hq/config", msg.payload)])
    assert head.ingest.counts.dropped == 1
    with head.sessions() as s:
        assert hq.config_versions(s, "mek-1") == []
    other.close()


def test_an_unknown_office_is_logged_and_dropped(db_url, office, caplog):
    h = HQ(db_url, known={"mek-2"})
    office.work(visitors=2)
    with caplog.at_level(logging.WARNING, logger="hq.ingest"):
        h.ingest.handle([office.config_message(), *office.event_messages()])
    assert h.ingest.counts.dropped == 1 + len(office.events)
    assert "unknown office" in caplog.text
    with h.sessions() as s:
        assert hq.offices(s) == []
    h.engine.dispose()


def test_an_event_the_office_cannot_apply_stops_that_office_only(head, office):
    other = SimOffice("mek-2")
    office.work(visitors=2)
    other.work(visitors=2)
    seq = office.events[-1]["seq"]
    impossible = messages.event(seq + 1, "started", ticket="Z999", topic="A", window=1,
                                at=office.clock.now.isoformat())
    later = messages.event(seq + 2, "window_closed", window=2, at=office.clock.now.isoformat())
    head.ingest.handle([office.config_message(), *office.event_messages(),
                        *office.event_messages([impossible, later]), other.config_message(),
                        *other.event_messages()])
    assert head.last_seq("mek-1") == seq
    assert head.seqs("mek-2") == [e["seq"] for e in other.events]
    head.tick(100)
    assert head.requests == []                    # not a gap: a replay would not help
    with head.sessions() as s:                    # and the live page is told, not only the log
        stuck = hq.stuck_offices(s)
    assert list(stuck) == ["mek-1"] and stuck["mek-1"].seq == seq + 1 and "Z999" in stuck["mek-1"].reason
    other.close()


def test_a_failed_batch_changes_nothing_and_goes_through_when_handed_in_again(head, office, monkeypatch):
    office.work(visitors=3)
    msgs = office.event_messages()
    head.ingest.handle([office.config_message(), *msgs[:6]])

    def database_away(*args):
        raise RuntimeError("database away")

    with monkeypatch.context() as m:
        m.setattr(hq, "touch_many", database_away)
        with pytest.raises(RuntimeError):
            head.ingest.handle(msgs[6:])
    assert head.ingest.feeds["mek-1"].last_seq == 6       # rebuilt from what was committed
    assert head.seqs("mek-1") == list(range(1, 7))
    head.ingest.handle(msgs[6:])
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")


# --------------------------------------------------------------------------- restart
def test_a_restarted_ingest_resumes_from_the_database(head, office):
    office.work(visitors=4)
    msgs = office.event_messages()
    head.ingest.handle([office.config_message(), *msgs[:len(msgs) // 2]])
    head.restart()
    assert head.ingest.feeds["mek-1"].last_seq == len(msgs) // 2
    head.ingest.handle(msgs)                       # the broker sends the unacknowledged ones again, and more
    office.work(visitors=3)                        # and the office carries on
    head.ingest.handle(office.event_messages(office.events[len(msgs):]))
    assert head.ingest.counts.duplicates == len(msgs) // 2
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")
    assert month_report(head.sessions, office) == month_report(office.hub.db.sessions, office)


# --------------------------------------------------------------------------- devices
def test_device_status_is_recorded_on_changes_only(head, office):
    def status(state, printer="ok"):
        payload = messages.device_status("kiosk-1", "kiosk", state, printer={"state": printer, "detail": None})
        return Message("talon/mek-1/device/kiosk-1/status", messages.encode(payload), retained=True)

    head.ingest.handle([office.config_message(), status("online"), status("online")])
    head.ingest.handle([status("online", "paper_out"), status("offline", "paper_out")])
    head.restart()
    head.ingest.handle([status("offline", "paper_out")])   # the retained one again after a restart
    with head.sessions() as s:
        rows = presence.history(s, "mek-1", "kiosk-1")
    assert [(r.state, r.printer) for r in rows] == [("online", "ok"), ("online", "paper_out"),
                                                    ("offline", "paper_out")]


def test_offices_are_kept_apart(head, office):
    other = SimOffice("mek-2", start=datetime(2026, 10, 6, 10, 0, tzinfo=TZ))
    office.work(visitors=4)
    other.work(visitors=5)
    mixed = [m for pair in zip(office.event_messages(), other.event_messages()) for m in pair]
    rest = office.event_messages()[len(mixed) // 2:] + other.event_messages()[len(mixed) // 2:]
    head.ingest.handle([other.config_message(), office.config_message(), *mixed, *rest])
    for o in (office, other):
        assert projection(head.sessions, o.id) == projection(o.hub.db.sessions, o.id)
    with head.sessions() as s:
        assert [o.office for o in hq.offices(s)] == ["mek-1", "mek-2"]
        assert hq.office(s, "mek-1").first_seen <= hq.office(s, "mek-1").last_seen
    other.close()


def test_held_events_beyond_the_limit_come_back_by_replay(head, office):
    office.work(visitors=4)
    head.ingest.hold_limit = 5
    events = office.events
    head.ingest.handle([office.config_message(), *office.event_messages(events[3:])])
    assert len(head.ingest.feeds["mek-1"].held) == 5
    answer = {"v": 1, "id": "r1", "events": events, "last_seq": events[-1]["seq"], "done": True}
    head.ingest.handle([Message("talon/mek-1/hq/replayed", messages.encode(answer))])
    assert head.seqs("mek-1") == [e["seq"] for e in events]


def test_events_stamped_in_another_zone_are_taken_in_the_offices(head, office):
    office.work(visitors=2)
    utc = [dict(e, at=datetime.fromisoformat(e["at"]).astimezone(timezone.utc).isoformat()) for e in office.events]
    head.ingest.handle([office.config_message(), *office.event_messages(utc)])
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")


def test_a_closed_days_rollup_goes_stale_when_its_ticket_is_served_the_next_day(head, office):
    office.work(visitors=4)                       # the fourth is transferred and left waiting
    head.ingest.handle([office.config_message(), *office.event_messages()])
    before = len(office.events)
    assert month_report(head.sessions, office) == month_report(office.hub.db.sessions, office)  # day rolled up
    with head.sessions() as s:
        assert s.execute(select(LegRollupRow.day).where(LegRollupRow.office == "mek-1")).scalars().all()
    office.clock.advance(days=1)
    office.work(visitors=2)                       # serves yesterday's transferred visitor too
    head.ingest.handle(office.event_messages(office.events[before:]))
    assert month_report(head.sessions, office) == month_report(office.hub.db.sessions, office)
    assert projection(head.sessions, "mek-1") == projection(office.hub.db.sessions, "mek-1")
