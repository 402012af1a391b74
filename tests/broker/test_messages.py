import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker import messages as m
from broker.errors import CommandError
from broker.messages import Command, ContractError, parse_command

VALID = {
    "issue": {"topic": "A", "kind": "walk_in"},
    "checkin": {"code": "004512"},
    "sign_in": {"window": 3, "operator": "ivanova", "pin": "1234"},
    "open": {"window": 3},
    "pause": {"window": 3, "kind": "lunch"},
    "close": {"window": 3},
    "call_next": {"window": 3},
    "recall": {"window": 3},
    "start": {"window": 3},
    "finish": {"window": 3, "outcome": "needs_followup", "accounts": 2},
    "no_show": {"window": 3},
    "transfer": {"window": 3, "to_window": 4},
    "rate": {"window": 3, "ticket": "А015", "score": 5},
    "cancel": {"ticket": "А015"},
    "ping": {},
}


def raw(**msg):
    return json.dumps({"v": 1, "id": "id-1", **msg}, ensure_ascii=False).encode()


def code_of(payload):
    with pytest.raises(ContractError) as exc:
        parse_command(payload)
    return exc.value.code


def test_every_op_of_the_contract_is_known():
    assert set(VALID) == set(m.OPS)


@pytest.mark.parametrize("op", sorted(VALID))
def test_valid_commands_parse(op):
    assert parse_command(raw(op=op, args=VALID[op])) == Command("id-1", op, VALID[op])


def test_args_may_be_omitted_and_optional_nulls_are_dropped():
    assert parse_command(raw(op="ping")).args == {}
    cmd = parse_command(raw(op="issue", args={"topic": "A", "kind": "priority", "category": "disabled",
                                                 "segment": None}))
    assert cmd.args == {"topic": "A", "kind": "priority", "category": "disabled"}


@pytest.mark.parametrize("payload, code", [
    (b"", "bad_json"), (b"{", "bad_json"), (b"\xff\xfe", "bad_json"), (b"[" * 5000, "bad_json"),
    (b'{"v": NaN}', "bad_json"), (b"[]", "bad_schema"), (b'"x"', "bad_schema"),
    (b"x" * (m.MAX_PAYLOAD + 1), "too_large"),
    (raw(op="ping", extra=1), "bad_schema"),
    (json.dumps({"v": 2, "id": "a", "op": "ping"}).encode(), "bad_schema"),
    (json.dumps({"v": True, "id": "a", "op": "ping"}).encode(), "bad_schema"),
    (json.dumps({"v": 1, "op": "ping"}).encode(), "bad_schema"),
    (json.dumps({"v": 1, "id": "", "op": "ping"}).encode(), "bad_schema"),
    (json.dumps({"v": 1, "id": "x" * 65, "op": "ping"}).encode(), "bad_schema"),
    (raw(op="launch"), "unknown_op"), (raw(op=5), "bad_schema"),
    (raw(op="ping", args=[]), "bad_schema"), (raw(op="ping", args={"x": 1}), "bad_schema"),
    (raw(op="issue", args={"topic": "A"}), "bad_schema"),
    (raw(op="issue", args={"topic": "A", "kind": "vip"}), "bad_schema"),
    (raw(op="issue", args={"topic": "A/", "kind": "walk_in"}), "bad_schema"),
    (raw(op="issue", args={"topic": "A", "kind": "walk_in", "category": "disabled"}), "bad_schema"),
    (raw(op="checkin", args={"code": "12a"}), "bad_schema"),
    (raw(op="checkin", args={"code": 12}), "bad_schema"),
    (raw(op="open", args={"window": "3"}), "bad_schema"),
    (raw(op="open", args={"window": True}), "bad_schema"),
    (raw(op="open", args={"window": 0}), "bad_schema"),
    (raw(op="open", args={"window": 3.0}), "bad_schema"),
    (raw(op="pause", args={"window": 3, "kind": "nap"}), "bad_schema"),
    (raw(op="finish", args={"window": 3, "accounts": 0}), "bad_schema"),
    (raw(op="transfer", args={"window": 3}), "bad_schema"),
    (raw(op="transfer", args={"window": 3, "topic": "A", "to_window": 2}), "bad_schema"),
    (raw(op="rate", args={"window": 3, "ticket": "А015", "score": 6}), "bad_schema"),
    (raw(op="sign_in", args={"window": 3, "operator": "x\n", "pin": "1"}), "bad_schema"),
    (b'{"v":1,"id":"\\udc00","op":"ping"}', "bad_schema"),
    (b'{"v":1,"id":"a","op":"cancel","args":{"ticket":"\\ud800"}}', "bad_schema"),
])
def test_bad_commands_get_a_contract_code(payload, code):
    assert code_of(payload) == code


def test_errors_keep_the_id_when_it_was_readable():
    with pytest.raises(ContractError) as exc:
        parse_command(raw(op="launch"))
    assert exc.value.request_id == "id-1"
    reply = m.error_reply(exc.value.request_id, exc.value)
    assert reply["ok"] is False and reply["id"] == "id-1" and reply["error"]["code"] == "unknown_op"
    assert reply["error"]["message"] and reply["error"]["message_en"]


def test_error_texts_cover_the_vocabulary():
    assert set(m.ERROR_TEXTS) == set(m.ERROR_CODES)
    err = ContractError("window_busy")
    assert isinstance(err, CommandError) and err.message_ru == "Окно занято обслуживанием"
    with pytest.raises(ValueError):
        ContractError("made_up")


def test_role_table():
    m.authorize("kiosk", "issue")
    m.authorize("counter", "call_next")
    m.authorize("rating", "rate")
    m.authorize("admin", "cancel")
    for role in m.ROLES:
        m.authorize(role, "ping")
    for role, op in [("kiosk", "call_next"), ("board", "issue"), ("rating", "call_next"),
                     ("counter", "cancel"), ("nobody", "ping")]:
        with pytest.raises(ContractError) as exc:
            m.authorize(role, op)
        assert exc.value.code == "forbidden"
    assert set().union(*m.ROLE_OPS.values()) == set(m.OPS)


def test_builders_round_trip():
    req = m.request("issue", {"topic": "A", "kind": "walk_in"})
    assert parse_command(m.encode(req)).id == req["id"]
    ok = m.parse_reply(m.encode(m.ok_reply(req["id"], {"ticket": None})))
    assert ok == {"v": 1, "id": req["id"], "ok": True, "data": {"ticket": None}}
    bad = m.parse_reply(m.encode(m.error_reply(req["id"], "bad_pin")))
    assert m.reply_error(bad).code == "bad_pin"
    assert m.parse_reply(b"nonsense") is None
    assert m.parse_reply(b'{"id": "x", "ok": "yes"}') is None
    ev = m.event(7, "called", "А015", "A", 3, {"recalls": 0})
    assert ev["seq"] == 7 and ev["kind"] == "called" and ev["v"] == 1
    with pytest.raises(ValueError):
        m.event(8, "teleported")
    st_ = m.device_status("kiosk-1", "kiosk", printer={"state": "paper_out", "detail": None})
    assert st_["state"] == "online" and m.parse_payload(m.encode(st_)) == st_
    assert "А015" in m.encode(ev).decode("utf-8")  # Cyrillic stays readable


# --- fuzzing: nothing but ContractError may come out -----------------------------------

def _parse_or_contract_error(payload):
    try:
        cmd = parse_command(payload)
    except ContractError as exc:
        assert exc.code in m.ERROR_CODES
        return None
    assert isinstance(cmd, Command) and cmd.op in m.OPS
    m.encode(m.ok_reply(cmd.id, {}))  # whatever id we accept can be sent back
    return cmd


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_random_bytes(payload):
    _parse_or_contract_error(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=20)


@settings(max_examples=300)
@given(json_values)
def test_random_json(value):
    _parse_or_contract_error(json.dumps(value))


@settings(max_examples=500)
@given(op=st.sampled_from(sorted(m.OPS) + ["nope"]),
       args=st.dictionaries(st.sampled_from(["window", "topic", "kind", "ticket", "score", "code", "to_window",
                                             "outcome", "accounts", "operator", "pin", "category", "x"]),
                            json_values, max_size=5),
       rid=st.one_of(st.text(max_size=70), st.integers(), st.none()))
def test_near_valid_commands(op, args, rid):
    _parse_or_contract_error(json.dumps({"v": 1, "id": rid, "op": op, "args": args}))
