"""The dispatcher on a real SQLite file, without sockets: bytes in, publications out."""
import json
from datetime import timedelta

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select

from broker import messages
from hub.dispatcher import Dispatcher
from queue_core.config import parse_office_config
from storage import directory
from storage.models import BookingRow, EventRow, PresenceRow, TicketRow
from storage.queue_db import QueueDatabase
from tests.queue_core.helpers import MONDAY_10, make_config, office_dict


class Clock:
    def __init__(self):
        self.now = MONDAY_10

    def __call__(self):
        return self.now


@pytest.fixture
def hub(tmp_path):
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", make_config(windows=3))
    with db.sessions() as s, s.begin():
        directory.add_device(s, "test", "kiosk-1", "kiosk", password="k")
        for n in (1, 2, 3):
            directory.add_device(s, "test", f"counter-{n}", "counter", window=n, password="c")
        directory.add_operator(s, "test", "ivanova", "Иванова Анна", "1234")
    d = Dispatcher(db, clock=Clock())
    for n in (1, 2, 3):
        send(d, f"counter-{n}", "open", window=n)
    return d


def send(d, device, op, cid=None, **args):
    raw = messages.encode(messages.request(op, args, cid))
    pubs = list(d.handle_command(device, raw)) + d.flush()
    assert pubs[0].topic.endswith(f"reply/{device}")
    return pubs[0].payload, pubs[1:]


def count(d, model):
    with d.db.sessions() as s:
        return s.execute(select(func.count()).select_from(model)).scalar()


def test_issue_replies_with_ticket_and_publishes_event_and_queue(hub):
    reply, pubs = send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    assert reply["ok"] and reply["data"]["ticket"]["number"] == "А001"
    kinds = [p.topic.rsplit("/", 2)[-2:] for p in pubs]
    assert ["event", "ticket"] in kinds and ["state", "queue"] in kinds
    queue = next(p.payload for p in pubs if p.topic.endswith("state/queue"))
    assert queue["topics"]["A"]["waiting"] == 1 and queue["seq"] == hub.office.seq


def test_retried_next_calls_one_visitor_not_two(hub):
    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    first, pubs = send(hub, "counter-1", "call_next", cid="same-id", window=1)
    again, pubs_again = send(hub, "counter-1", "call_next", cid="same-id", window=1)
    assert first == again and pubs_again == []
    assert len(hub.office.waiting()) == 1
    board = next(p.payload for p in pubs if p.topic.endswith("state/board"))
    assert board["calls"][0] == {**board["calls"][0], "ticket": "А001", "window": 1}


def test_refusal_is_stored_too_and_changes_nothing(hub):
    events = count(hub, EventRow)
    reply, pubs = send(hub, "counter-1", "finish", cid="f1", window=1)
    assert reply["error"]["code"] == "no_ticket" and pubs == []
    assert count(hub, EventRow) == events
    assert send(hub, "counter-1", "finish", cid="f1", window=1)[0] == reply


def test_window_state_lists_the_actions_the_hub_accepts(hub):
    def actions(pubs):
        return next(p.payload for p in pubs if p.topic.endswith("state/window/1"))["actions"]

    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    reply, pubs = send(hub, "counter-1", "call_next", window=1)
    assert actions(pubs) == ["recall", "start", "no_show", "transfer"]
    assert send(hub, "counter-1", "finish", window=1)[0]["error"]["code"] == "illegal_transition"
    reply, pubs = send(hub, "counter-1", "start", window=1)
    assert actions(pubs) == ["finish", "transfer"]
    reply, pubs = send(hub, "counter-1", "finish", window=1)
    assert reply["ok"] and actions(pubs) == ["call_next", "pause", "close"]
    assert states_of(hub, 1)["actions"] == ["call_next", "pause", "close"]


def test_the_last_open_window_closes_once_the_working_hours_end(hub):
    """004:1130-1132: the close is refused like a break; the window state says so, and the
    hub republishes it when the clock lets the window close."""
    for n in (1, 2):
        send(hub, f"counter-{n}", "pause", window=n, kind="lunch")
    assert "close" not in states_of(hub, 3)["actions"]
    assert send(hub, "counter-3", "close", window=3)[0]["error"]["code"] == "break_not_allowed"
    assert [p.topic for p in hub.refresh() if "state/window" in p.topic] == []
    hub.clock.now = MONDAY_10.replace(hour=20, minute=1)
    republished = [p for p in hub.refresh() if p.topic.endswith("state/window/3")]
    assert republished and "close" in republished[0].payload["actions"]
    assert send(hub, "counter-3", "close", window=3)[0]["ok"]


def test_an_assisted_priority_ticket_carries_its_mark(tmp_path):
    data = office_dict(windows=1)
    data["priority"] = {"mode": "individual"}
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", parse_office_config(data))
    with db.sessions() as s, s.begin():
        directory.add_device(s, "test", "kiosk-1", "kiosk", password="k")
        directory.add_device(s, "test", "counter-1", "counter", window=1, password="c")
    d = Dispatcher(db, clock=Clock())
    send(d, "counter-1", "open", window=1)
    reply, pubs = send(d, "kiosk-1", "issue", topic="A", kind="priority", category="veteran")
    assert reply["data"]["ticket"]["assisted"] is True and reply["data"]["ticket"]["priority_category"] == "veteran"
    event = next(p.payload for p in pubs if "/event/" in p.topic)
    assert event["data"]["assisted"] is True
    assert send(d, "kiosk-1", "issue", topic="A", kind="walk_in")[0]["data"]["ticket"]["assisted"] is False
    db.close()


def states_of(d, n):
    return next(p.payload for p in d.all_states() if p.topic.endswith(f"state/window/{n}"))


@pytest.mark.parametrize("raw, code", [
    (b"{not json", "bad_json"),
    (b"[]", "bad_schema"),
    (json.dumps({"v": 1, "id": "x", "op": "fly", "args": {}}).encode(), "unknown_op"),
    (json.dumps({"v": 1, "id": "x", "op": "issue", "args": {"topic": 5, "kind": "walk_in"}}).encode(), "bad_schema"),
    (json.dumps({"v": 2, "id": "x", "op": "ping", "args": {}}).encode(), "bad_schema"),
    (b"{" + b" " * 10000 + b"}", "too_large"),
])
def test_malformed_commands_get_precise_codes(hub, raw, code):
    before = count(hub, EventRow)
    (reply, *_rest) = list(hub.handle_command("kiosk-1", raw))
    assert reply.payload["ok"] is False and reply.payload["error"]["code"] == code
    assert count(hub, EventRow) == before


def test_roles_and_windows_are_enforced(hub):
    assert send(hub, "kiosk-1", "call_next", window=1)[0]["error"]["code"] == "forbidden"
    assert send(hub, "counter-1", "call_next", window=2)[0]["error"]["code"] == "forbidden"
    assert send(hub, "stranger", "issue", topic="A", kind="walk_in")[0]["error"]["code"] == "unknown_device"
    assert send(hub, "counter-1", "issue", topic="A", kind="walk_in")[0]["error"]["code"] == "forbidden"


def test_rules_come_back_as_codes(hub):
    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    send(hub, "counter-1", "call_next", window=1)
    reply, _ = send(hub, "counter-1", "pause", window=1, kind="lunch")
    assert reply["error"]["code"] == "break_not_allowed" and "Перерыв недоступен" in reply["error"]["message"]
    assert send(hub, "kiosk-1", "issue", topic="Z", kind="walk_in")[0]["error"]["code"] == "unknown_topic"


def test_sign_in_checks_the_pin(hub):
    bad, _ = send(hub, "counter-2", "sign_in", window=2, operator="ivanova", pin="0000")
    assert bad["error"]["code"] == "bad_pin"
    good, pubs = send(hub, "counter-2", "sign_in", window=2, operator="ivanova", pin="1234")
    assert good["data"]["window"]["operator"] == {"code": "ivanova", "name": "Иванова Анна"}
    assert any(p.topic.endswith("state/window/2") for p in pubs)


def test_booking_check_in(hub):
    with hub.db.sessions() as s, s.begin():
        s.add(BookingRow(office="test", code="123456", topic="R", slot_start=MONDAY_10 + timedelta(minutes=10),
                         name="Пётр", phone="+7", created_at=MONDAY_10))
    reply, pubs = send(hub, "kiosk-1", "checkin", code="123456")
    assert reply["data"]["ticket"]["kind"] == "booking"
    # the slot, office-local, printed on the ticket: «Запись на 10:10»
    assert reply["data"]["ticket"]["slot_start"] == (MONDAY_10 + timedelta(minutes=10)).isoformat(timespec="seconds")
    event = next(p.payload for p in pubs if p.topic.endswith("event/ticket"))
    assert "booking_code" not in event["data"]            # the code stays private
    assert send(hub, "kiosk-1", "checkin", code="123456")[0]["error"]["code"] == "booking_not_found"
    assert send(hub, "kiosk-1", "checkin", code="999999")[0]["error"]["code"] == "booking_not_found"


def test_events_carry_consecutive_seq(hub):
    seqs = []
    for _ in range(3):
        _, pubs = send(hub, "kiosk-1", "issue", topic="R", kind="walk_in")
        seqs += [p.payload["seq"] for p in pubs if p.topic.endswith("event/ticket")]
    assert seqs == list(range(seqs[0], seqs[0] + 3))


def test_restart_rebuilds_states_and_board(hub, tmp_path):
    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    send(hub, "counter-1", "call_next", window=1)
    hub.db.close()
    again = Dispatcher(QueueDatabase(hub.db.url, hub.db.config), clock=Clock())
    pubs = {p.topic.split("/", 2)[2]: p.payload for p in again.all_states()}
    assert pubs["state/board"]["calls"][0]["ticket"] == "А001"
    assert pubs["state/window/1"]["ticket"]["number"] == "А001"
    assert pubs["state/config"]["topics"][0]["code"] == "A"
    assert all(p.retain for p in again.all_states())


def test_presence_transitions_are_recorded_once(hub):
    for state in ("online", "online", "offline"):
        hub.handle_status("kiosk-1", messages.encode(messages.device_status("kiosk-1", "kiosk", state)))
    hub.handle_status("kiosk-1", b"garbage")
    hub.handle_status("stranger", messages.encode(messages.device_status("stranger", "kiosk")))
    with hub.db.sessions() as s:
        rows = s.execute(select(PresenceRow.device, PresenceRow.state)).all()
    assert rows == [("kiosk-1", "online"), ("kiosk-1", "offline")]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                              lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                              max_leaves=12).map(lambda v: json.dumps(v).encode()),
                 st.fixed_dictionaries({"v": st.just(1), "id": st.text(max_size=70), "op": st.sampled_from(
                     sorted(messages.OPS) + ["nope"]), "args": st.dictionaries(
                     st.sampled_from(["topic", "kind", "window", "ticket", "score", "code", "x"]),
                     st.one_of(st.integers(-5, 5), st.text(max_size=5), st.none()), max_size=3)}
                 ).map(lambda v: json.dumps(v).encode())))
def test_fuzzed_kiosk_commands_never_crash_or_change_more_than_they_say(hub, raw):
    before = count(hub, TicketRow)
    pubs = list(hub.handle_command("kiosk-1", raw))
    reply = pubs[0].payload
    assert reply["ok"] in (True, False)
    if not reply["ok"]:
        assert reply["error"]["code"] in messages.ERROR_CODES
        assert count(hub, TicketRow) == before
    assert send(hub, "kiosk-1", "ping")[0]["ok"]           # and the hub still answers


def test_new_settings_are_applied_and_pushed(hub):
    from queue_core.config import parse_office_config
    from tests.queue_core.helpers import office_dict
    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    data = office_dict(windows=3)
    data["topics"].append({"code": "K", "form": "kiu_requests"})
    data["windows"][0]["topics"].append("K")
    data["office"]["id"] = "test"
    pubs = {p.topic.split("/", 2)[2]: p.payload for p in hub.apply_config(parse_office_config(data))}
    assert [t["code"] for t in pubs["state/config"]["topics"]] == ["A", "R", "C", "K"]
    assert pubs["state/queue"]["topics"]["A"]["waiting"] == 1          # the live queue survived
    assert send(hub, "kiosk-1", "issue", topic="K", kind="walk_in")[0]["ok"]


def test_hub_starts_with_the_settings_saved_on_the_web(tmp_path):
    from datetime import datetime, timezone

    from hub.runtime import OfficeRuntime, RuntimeSettings
    from queue_core.config import parse_office_config
    from storage import settings
    from tests.queue_core.helpers import office_dict
    from tests.saved_settings import SAVED_TOML
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    first = QueueDatabase(url, make_config())
    data = office_dict()
    with first.sessions() as s, s.begin():
        settings.save(s, "test", SAVED_TOML, "boss", datetime.now(timezone.utc))
    first.close()
    runtime = OfficeRuntime(RuntimeSettings(config=parse_office_config(data), data_dir=tmp_path, database_url=url))
    assert runtime.db.config.name_ru == "Сохранено на сайте" and len(runtime.db.config.windows) == 1


def test_call_for_staff_is_logged_once_per_press_and_not_on_replay(hub):
    def status(help_at, retained=False):
        payload = messages.device_status("kiosk-1", "kiosk", "online", help_requested_at=help_at)
        hub.handle_status("kiosk-1", messages.encode(payload), retained)

    status("2026-11-23T09:58:00+05:00", retained=True)     # replayed after a hub restart: old news
    status("2026-11-23T10:00:00+05:00")
    status("2026-11-23T10:00:00+05:00")                     # the same press again (retained copy)
    status("2026-11-23T10:03:00+05:00")
    with hub.db.sessions() as s:
        helps = s.execute(select(PresenceRow.state).where(PresenceRow.state == "help")).scalars().all()
    assert helps == ["help", "help"]


def test_call_events_carry_the_recall_count_the_board_lists(hub):
    def call_event(pubs):
        return next(p.payload for p in pubs if p.topic.endswith("event/ticket") and p.payload["kind"] in ("called", "recalled"))

    def board(pubs):
        return next(p.payload for p in pubs if p.topic.endswith("state/board"))["calls"][0]

    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    _, pubs = send(hub, "counter-1", "call_next", window=1)
    assert call_event(pubs)["data"]["recalls"] == 0 == board(pubs)["recalls"]
    for n in (1, 2):
        _, pubs = send(hub, "counter-1", "recall", window=1)
        assert call_event(pubs)["kind"] == "recalled"
        assert call_event(pubs)["data"]["recalls"] == n == board(pubs)["recalls"]


def test_after_midnight_the_hub_files_the_closed_day_for_reports(hub):
    """The first report of the morning reads yesterday from the roll-ups the hub filed at midnight."""
    from storage.models import LegRollupRow

    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    for op in ("call_next", "start", "finish"):
        send(hub, "counter-1", op, window=1)
    hub.refresh()
    assert count(hub, LegRollupRow) == 0             # the day is still open
    hub.clock.now += timedelta(days=1)
    hub.refresh()
    assert count(hub, LegRollupRow) > 0              # Monday filed at Tuesday's first refresh


def test_no_web_no_page_addresses(hub):
    """A hub that serves no web (``talon hub --no-web``) and has no ``[web] public_url``
    hands out no ``url`` and says so in ``state/config``, so a kiosk never offers a page
    that does not exist; given a base, the reply and the config carry it."""
    reply, _ = send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    assert reply["data"]["ticket"]["url"] is None
    assert hub.all_states()[0].payload["office"]["public_url"] is None
    hub.public_url = "http://talon.office:8080/"
    reply, _ = send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    assert reply["data"]["ticket"]["url"].startswith("http://talon.office:8080/t/")
    assert hub.all_states()[0].payload["office"]["public_url"] == "http://talon.office:8080"


def test_the_runtime_offers_pages_only_with_its_web(tmp_path):
    from hub.runtime import OfficeRuntime, RuntimeSettings
    settings_ = dict(config=make_config(), data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    assert OfficeRuntime(RuntimeSettings(**settings_, web_port=None), start_web=print)._default_pages() is None
    assert OfficeRuntime(RuntimeSettings(**settings_, web_port=8080))._default_pages() is None
    assert OfficeRuntime(RuntimeSettings(**settings_, web_port=8080), start_web=print)._default_pages().endswith(":8080")
