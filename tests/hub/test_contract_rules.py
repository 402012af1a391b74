"""Argument ranges and priority categories through the dispatcher; reserved device ids."""
import pytest
from sqlalchemy import select

from broker import messages
from hub.dispatcher import Dispatcher
from storage import directory
from storage.models import DeviceRow, EventRow
from storage.queue_db import QueueDatabase
from talon.cli import main
from tests.queue_core.helpers import MONDAY_10, make_config


@pytest.fixture
def hub(tmp_path):
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", make_config(windows=2))
    with db.sessions() as s, s.begin():
        directory.add_device(s, "test", "kiosk-1", "kiosk", password="k")
        directory.add_device(s, "test", "counter-1", "counter", window=1, password="c")
        directory.add_device(s, "test", "board-1", "board", password="b")
    d = Dispatcher(db, clock=lambda: MONDAY_10)
    assert send(d, "counter-1", "open", window=1)["ok"]
    return d


def send(d, device, op, **args):
    pubs = list(d.handle_command(device, messages.encode(messages.request(op, args)))) + d.flush()
    return pubs[0].payload


def events(d):
    with d.db.sessions() as s:
        return len(s.execute(select(EventRow)).scalars().all())


@pytest.mark.parametrize("accounts", [0, messages.ACCOUNTS_MAX + 1, 150, 1000])
def test_accounts_out_of_range_is_bad_schema_and_changes_nothing(hub, accounts):
    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    send(hub, "counter-1", "call_next", window=1)
    before = events(hub)
    reply = send(hub, "counter-1", "finish", window=1, accounts=accounts)
    assert reply["error"]["code"] == "bad_schema" and f"1..{messages.ACCOUNTS_MAX}" in reply["error"]["message_en"]
    assert events(hub) == before


def test_the_schemas_largest_accounts_is_accepted_by_the_queue(hub):
    send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")
    send(hub, "counter-1", "call_next", window=1)
    assert send(hub, "counter-1", "start", window=1)["ok"]
    reply = send(hub, "counter-1", "finish", window=1, accounts=messages.ACCOUNTS_MAX)
    assert reply["ok"], reply


def test_unknown_priority_category_is_refused(hub):
    codes = [c.code for c in hub.office.config.priority_categories]
    assert codes, "the test office has priority categories"
    before = events(hub)
    reply = send(hub, "kiosk-1", "issue", topic="A", kind="priority", category="nonexistent")
    assert reply["error"]["code"] == "unknown_category" and codes[0] in reply["error"]["message_en"]
    assert events(hub) == before and not hub.office.waiting()
    ok = send(hub, "kiosk-1", "issue", topic="A", kind="priority", category=codes[0])
    assert ok["ok"] and ok["data"]["ticket"]["priority_category"] == codes[0]
    assert send(hub, "kiosk-1", "issue", topic="A", kind="priority")["ok"]      # a category is optional


def test_unknown_segment_is_refused(hub):
    segment = hub.office.config.topics[0].segment
    before = events(hub)
    reply = send(hub, "kiosk-1", "issue", topic="A", kind="walk_in", segment="nonexistent")
    assert reply["error"]["code"] == "unknown_segment" and segment in reply["error"]["message_en"]
    assert events(hub) == before and not hub.office.waiting()
    assert send(hub, "kiosk-1", "issue", topic="A", kind="walk_in", segment=segment)["ok"]
    assert send(hub, "kiosk-1", "issue", topic="A", kind="walk_in")["ok"]            # a segment is optional


def test_a_board_may_ping(hub):
    reply = send(hub, "board-1", "ping")
    assert reply["ok"] and reply["data"] == {"seq": hub.office.seq}
    assert send(hub, "board-1", "issue", topic="A", kind="walk_in")["error"]["code"] == "forbidden"


@pytest.mark.parametrize("device", ["hub", "HUB", "anonymous"])
def test_directory_refuses_reserved_ids(hub, device):
    with hub.db.sessions() as s, s.begin(), pytest.raises(ValueError, match="reserved"):
        directory.add_device(s, "test", device, "kiosk")


def test_storage_directory_refuses_reserved_ids(tmp_path):
    from storage import directory as storage_directory

    with pytest.raises(ValueError, match="reserved"):
        storage_directory.provision(f"sqlite:///{tmp_path / 'x.db'}", "test", [("hub", "kiosk", None)])


def test_cli_refuses_the_hubs_own_id(tmp_path, capsys):
    base = ["devices", "--data", str(tmp_path)]
    assert main([*base, "add", "hub", "--role", "kiosk"]) == 1
    err = capsys.readouterr().err
    assert "reserved" in err and "'hub'" in err
    assert main([*base, "add", "hub-kiosk", "--role", "kiosk"]) == 0


def test_an_old_row_named_hub_is_no_device(tmp_path):
    """A database from before the check may hold a device 'hub': the hub ignores it."""
    db = QueueDatabase(f"sqlite:///{tmp_path / 'hub.db'}", make_config(windows=1))
    with db.sessions() as s, s.begin():
        s.add(DeviceRow(office="test", device="hub", role="kiosk", window=None, password_hash="x",
                        created_at=MONDAY_10))
    d = Dispatcher(db, clock=lambda: MONDAY_10)
    assert "hub" not in d.devices
    assert send(d, "hub", "issue", topic="A", kind="walk_in")["error"]["code"] == "unknown_device"
