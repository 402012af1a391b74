"""The one role table: the hub's op check and the broker's ACL both come from it."""
import json

import pytest

from broker import messages as m
from broker import roles
from broker.topics import Topics


def test_every_op_belongs_to_a_role_and_every_role_may_ping():
    assert set().union(*(r.ops for r in roles.ROLES.values())) == set(m.OPS)
    assert all("ping" in r.ops for r in roles.ROLES.values())
    assert m.ROLE_OPS == {name: r.ops for name, r in roles.ROLES.items()}
    assert m.ROLES == roles.DEVICE_ROLES and roles.BROKER_ROLES == ("hub", *roles.DEVICE_ROLES)


@pytest.mark.parametrize("role", roles.DEVICE_ROLES)
def test_authorize_is_the_role_table(role):
    for op in m.OPS:
        if op in roles.ROLES[role].ops:
            m.authorize(role, op)
        else:
            with pytest.raises(m.ContractError) as exc:
                m.authorize(role, op)
            assert exc.value.code == "forbidden"


@pytest.mark.parametrize("role", roles.DEVICE_ROLES)
def test_acl_is_derived_from_the_role_table(role):
    t = Topics("mek")
    rules = roles.acl_rules(t, "dev-1", role)
    r = roles.ROLES[role]
    assert (("write", t.cmd("dev-1")) in rules) == bool(r.ops)
    assert (("read", t.reply("dev-1")) in rules) == bool(r.ops)
    assert (("read", t.all_events) in rules) == r.events
    assert ("write", t.status("dev-1")) in rules and ("read", t.all_states) in rules
    # a device never writes state, events, replies or anything of another device
    assert all(access == "read" or topic in (t.cmd("dev-1"), t.status("dev-1")) for access, topic in rules)
    assert roles.acl_rules(t, "hub", "hub") == [("readwrite", t.all)]
    with pytest.raises(ValueError):
        roles.acl_rules(t, "x", "wizard")


def test_the_contract_documents_the_role_table():
    """docs/contract.md's op table names, for every op, exactly the roles that may send it."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")
    documented = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[0].strip("`") in m.OPS:
            documented[cells[0].strip("`")] = {r.strip() for r in cells[1].split(",")}
    assert set(documented) == set(m.OPS)
    for op, who in documented.items():
        expected = {name for name, r in roles.ROLES.items() if op in r.ops}
        assert who == ({"any"} if expected == set(roles.DEVICE_ROLES) else expected), op


@pytest.mark.parametrize("device", ["hub", "Hub", "HUB", "anonymous"])
def test_reserved_ids_are_refused(device):
    assert roles.reserved_device_id(device)
    with pytest.raises(ValueError, match="reserved"):
        roles.check_device_id(device)


@pytest.mark.parametrize("device", ["kiosk-1", "hub-1", "board_hall", "admin", "hubert"])
def test_ordinary_ids_pass(device):
    assert roles.check_device_id(device) == device


def test_storage_keeps_the_same_reserved_ids():
    from storage import directory

    assert set(directory.RESERVED_DEVICE_IDS) == roles.RESERVED_DEVICE_IDS


def _code(op, **args):
    with pytest.raises(m.ContractError) as exc:
        m.parse_command(json.dumps({"v": 1, "id": "x", "op": op, "args": args}))
    return exc.value.code


@pytest.mark.parametrize("op, args", [
    ("finish", {"window": 1, "accounts": 0}),
    ("finish", {"window": 1, "accounts": m.ACCOUNTS_MAX + 1}),
    ("finish", {"window": 1, "accounts": 150}),
    ("finish", {"window": 1, "accounts": True}),
    ("finish", {"window": 1, "accounts": 2.0}),
    ("rate", {"window": 1, "ticket": "А001", "score": 0}),
    ("rate", {"window": 1, "ticket": "А001", "score": 6}),
    ("open", {"window": 0}),
    ("open", {"window": m.WINDOW_MAX + 1}),
    ("issue", {"topic": "A", "kind": "priority", "category": "x" * 33}),
])
def test_every_range_is_in_the_schema(op, args):
    assert _code(op, **args) == "bad_schema"


def test_range_edges_pass_the_schema():
    assert m.parse_command(json.dumps({"v": 1, "id": "x", "op": "finish",
                                       "args": {"window": m.WINDOW_MAX, "accounts": m.ACCOUNTS_MAX}}))
