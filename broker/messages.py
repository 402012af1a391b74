"""Payloads of the MQTT contract (docs/contract.md): strict parsing and building.

Pure functions, no I/O. ``parse_command`` either returns a ``Command`` or raises
``ContractError``, whatever bytes it is given: the hub answers bad input with
``ok: false`` and never crashes on it.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from broker.errors import CommandError
from broker.roles import DEVICE_ROLES, may_send
from broker.roles import ROLES as ROLE_TABLE

VERSION = 1
MAX_PAYLOAD = 8 * 1024

ERROR_CODES = (
    "bad_json", "bad_schema", "too_large", "unknown_op", "unknown_device", "forbidden",
    "unknown_topic", "unknown_category", "unknown_segment", "unknown_window", "unknown_ticket", "illegal_transition",
    "window_closed", "window_busy", "break_not_allowed", "topic_closed", "no_ticket",
    "bad_pin", "booking_not_found", "booking_too_early", "booking_too_late", "internal",
    "hub_unreachable",  # raised by the client itself, never sent by the hub
)

# Default texts per code, (ru, en); the dispatcher may pass a more precise text.
ERROR_TEXTS: dict[str, tuple[str, str]] = {
    "bad_json": ("Команда не читается (неверный JSON)", "the command is not valid JSON"),
    "bad_schema": ("Неверный формат команды", "the command does not match the contract"),
    "too_large": ("Команда слишком большая", "the command is too large"),
    "unknown_op": ("Неизвестная команда", "unknown operation"),
    "unknown_device": ("Устройство не зарегистрировано", "unknown device"),
    "forbidden": ("Команда недоступна этому устройству", "this device may not send this command"),
    "unknown_topic": ("Неизвестная тематика", "unknown topic"),
    "unknown_category": ("Неизвестная льготная категория", "unknown priority category"),
    "unknown_segment": ("Неизвестная категория посетителей", "unknown segment"),
    "unknown_window": ("Неизвестное окно", "unknown window"),
    "unknown_ticket": ("Талон не найден", "unknown ticket"),
    "illegal_transition": ("Действие невозможно в текущем состоянии талона",
                           "not possible in the ticket's current state"),
    "window_closed": ("Окно закрыто", "the window is closed"),
    "window_busy": ("Окно занято обслуживанием", "the window is busy with a visitor"),
    "break_not_allowed": ("Перерыв сейчас недоступен", "a break is not allowed now"),
    "topic_closed": ("Запись на эту тематику сейчас не ведётся", "this topic is not accepting visitors now"),
    "no_ticket": ("Нет текущего талона", "no current ticket"),
    "bad_pin": ("Неверный ПИН-код", "wrong PIN"),
    "booking_not_found": ("Запись не найдена", "booking not found"),
    "booking_too_early": ("Слишком рано для этой записи", "too early for this booking"),
    "booking_too_late": ("Время записи прошло", "the booking time has passed"),
    "internal": ("Внутренняя ошибка сервера очереди", "internal error of the hub"),
    "hub_unreachable": ("Нет связи с сервером очереди", "the hub did not answer"),
}

# Which device role may send which op: derived from the one role table (broker/roles.py),
# which also generates the broker's ACL.
ROLES = DEVICE_ROLES
ROLE_OPS: dict[str, frozenset[str]] = {name: r.ops for name, r in ROLE_TABLE.items()}

EVENT_KINDS = ("issued", "called", "recalled", "started", "finished", "no_show", "cancelled", "left",
               "transferred", "rated", "window_opened", "window_paused", "window_closed",
               "operator_signed_in")
PRINTER_STATES = ("ok", "paper_near_end", "paper_out", "cover_open", "offline", "error", "unknown")


class ContractError(CommandError):
    """A command broke the contract (or a rule); carries the reply's error fields.

    ``request_id`` is the command's id when it could be read, so the hub can still
    address its ``ok: false`` reply.
    """

    def __init__(self, code: str, message_ru: str | None = None, message_en: str | None = None,
                 request_id: str | None = None):
        if code not in ERROR_TEXTS:
            raise ValueError(f"unknown error code {code!r}")
        ru, en = ERROR_TEXTS[code]
        super().__init__(code, message_ru or ru, message_en or en)
        self.message_ru = self.message
        self.request_id = request_id


def _schema(en: str, ru: str | None = None) -> ContractError:
    base_ru, base_en = ERROR_TEXTS["bad_schema"]
    # texts are cut short: a hostile payload must not make a huge reply
    return ContractError("bad_schema", f"{base_ru}: {ru or en}"[:300], f"{base_en}: {en}"[:300])


@dataclass(frozen=True)
class Command:
    id: str
    op: str
    args: dict[str, Any] = field(default_factory=dict)


# --- argument checkers: each returns the clean value or raises ContractError -----

def _int(lo: int, hi: int):
    def check(name: str, value: Any) -> int:
        if type(value) is not int or not lo <= value <= hi:
            raise _schema(f"'{name}' must be an integer {lo}..{hi}", f"«{name}» — целое число {lo}..{hi}")
        return value
    return check


def _text(max_len: int, alnum: bool = False, digits: bool = False):
    def check(name: str, value: Any) -> str:
        ok = isinstance(value, str) and 1 <= len(value) <= max_len and value.isprintable()
        ok = ok and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)  # lone surrogates
        if ok and alnum:
            ok = value.isalnum()
        if ok and digits:
            ok = value.isascii() and value.isdigit()
        if not ok:
            kind = "digits" if digits else "letters/digits" if alnum else "text"
            raise _schema(f"'{name}' must be {kind}, 1..{max_len} characters",
                          f"«{name}» — строка 1..{max_len} символов")
        return value
    return check


def _enum(*allowed: str):
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise _schema(f"'{name}' must be one of {', '.join(allowed)}",
                          f"«{name}»: допустимо {', '.join(allowed)}")
        return value
    return check


# Every argument range of the contract lives here: a value outside it is ``bad_schema``
# before the hub looks at the queue (the domain keeps its own guards behind these).
ACCOUNTS_MAX = 99                      # personal accounts served in one visit (finish)
SCORE_MAX = 5                          # rating 1..5
WINDOW_MAX = 999                       # window numbers, as the office settings allow them
_window = _int(1, WINDOW_MAX)
_code = _text(16, alnum=True)          # topic code, priority category, segment
_ticket = _text(16, alnum=True)        # "А015"

# op -> {arg: (checker, required)}
OPS: dict[str, dict[str, tuple[Any, bool]]] = {
    "issue": {"topic": (_code, True), "kind": (_enum("walk_in", "priority"), True),
              "category": (_text(32), False), "segment": (_code, False)},
    "checkin": {"code": (_text(32, digits=True), True)},
    "sign_in": {"window": (_window, True), "operator": (_text(64), True), "pin": (_text(32), True)},
    "open": {"window": (_window, True)},
    "pause": {"window": (_window, True), "kind": (_enum("technical", "lunch", "rest"), True)},
    "close": {"window": (_window, True)},
    "call_next": {"window": (_window, True)},
    "recall": {"window": (_window, True)},
    "start": {"window": (_window, True)},
    "finish": {"window": (_window, True),
               "outcome": (_enum("done", "terminated", "needs_followup"), False),
               "accounts": (_int(1, ACCOUNTS_MAX), False)},
    "no_show": {"window": (_window, True)},
    "transfer": {"window": (_window, True), "topic": (_code, False), "to_window": (_window, False)},
    "rate": {"window": (_window, True), "ticket": (_ticket, True), "score": (_int(1, SCORE_MAX), True)},
    "cancel": {"ticket": (_ticket, True)},
    "ping": {},
}


def validate_args(op: str, args: Any) -> dict[str, Any]:
    """Check ``args`` of ``op``; return them cleaned (optional nulls dropped)."""
    spec = OPS.get(op)
    if spec is None:
        raise ContractError("unknown_op", f"Неизвестная команда «{op[:40]}»", f"unknown operation {op[:40]!r}")
    if not isinstance(args, dict):
        raise _schema("'args' must be an object", "«args» — объект")
    unknown = sorted(set(args) - set(spec))
    if unknown:
        raise _schema(f"unknown argument(s) {', '.join(map(str, unknown))}",
                      f"лишние аргументы: {', '.join(map(str, unknown))}")
    clean: dict[str, Any] = {}
    for name, (check, required) in spec.items():
        value = args.get(name)
        if value is None:
            if required:
                raise _schema(f"'{name}' is required", f"не указан «{name}»")
            continue
        clean[name] = check(name, value)
    if op == "transfer" and ("topic" in clean) == ("to_window" in clean):
        raise _schema("transfer needs exactly one of 'topic' or 'to_window'",
                      "для перевода укажите либо «topic», либо «to_window»")
    if op == "issue" and "category" in clean and clean["kind"] != "priority":
        raise _schema("'category' is only for kind 'priority'", "«category» только для kind=priority")
    return clean


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json(raw: bytes | str) -> Any:
    """bytes -> JSON value, or ContractError (too_large / bad_json)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_PAYLOAD:
        raise ContractError("too_large", message_en=f"the command is larger than {MAX_PAYLOAD} bytes")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ContractError("bad_json", message_en=f"the command is not valid JSON: {exc}"[:200]) from None


def parse_command(raw: bytes | str) -> Command:
    """Parse one ``cmd/<device>`` payload strictly, or raise ContractError."""
    msg = decode_json(raw)
    if not isinstance(msg, dict):
        raise _schema("the command must be a JSON object", "команда должна быть объектом JSON")
    rid = msg.get("id")
    rid = rid if isinstance(rid, str) and 1 <= len(rid) <= 64 and rid.isprintable() \
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in rid) else None
    try:
        unknown = sorted(set(msg) - {"v", "id", "op", "args"})
        if unknown:
            raise _schema(f"unknown field(s) {', '.join(map(str, unknown))}", f"лишние поля: {', '.join(map(str, unknown))}")
        if type(msg.get("v")) is not int or msg["v"] != VERSION:
            raise _schema(f"'v' must be {VERSION}", f"«v» должно быть {VERSION}")
        if rid is None:
            raise _schema("'id' must be text of 1..64 characters", "«id» — строка 1..64 символов")
        op = msg.get("op")
        if not isinstance(op, str):
            raise _schema("'op' must be text", "«op» — строка")
        args = validate_args(op, msg.get("args", {}))
    except ContractError as exc:
        exc.request_id = rid
        raise
    return Command(rid, op, args)


def authorize(role: str, op: str) -> None:
    """Raise ContractError('forbidden') unless a device of ``role`` may send ``op``."""
    if not may_send(role, op):
        raise ContractError("forbidden", f"Команда «{op}» недоступна устройству с ролью «{role}»",
                            f"a {role} device may not send {op!r}")


# --- building payloads -------------------------------------------------------------

def encode(payload: dict) -> bytes:
    """Compact UTF-8 JSON (Cyrillic stays readable, no NaN)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def new_id() -> str:
    return str(uuid.uuid4())


def request(op: str, args: dict | None = None, request_id: str | None = None) -> dict:
    return {"v": VERSION, "id": request_id or new_id(), "op": op, "args": dict(args or {})}


def ok_reply(request_id: str, data: dict | None = None) -> dict:
    return {"v": VERSION, "id": request_id, "ok": True, "data": dict(data or {})}


def error_reply(request_id: str | None, error: CommandError | str,
                message_ru: str | None = None, message_en: str | None = None) -> dict:
    """``ok: false`` reply from an exception or from a code (+ optional texts)."""
    if isinstance(error, str):
        error = ContractError(error, message_ru, message_en)
    return {"v": VERSION, "id": request_id, "ok": False,
            "error": {"code": error.code, "message": error.message, "message_en": error.message_en}}


def parse_reply(raw: bytes | str) -> dict | None:
    """A reply as the client sees it, or None when it is not a well-formed reply."""
    try:
        msg = decode_json(raw)
    except ContractError:
        return None
    if not isinstance(msg, dict) or not isinstance(msg.get("id"), str) or not isinstance(msg.get("ok"), bool):
        return None
    if msg["ok"] and not isinstance(msg.get("data", {}), dict):
        return None
    if not msg["ok"] and not (isinstance(msg.get("error"), dict) and isinstance(msg["error"].get("code"), str)):
        return None
    return msg


def reply_error(reply: dict) -> CommandError:
    """The CommandError a client raises for an ``ok: false`` reply."""
    err = reply.get("error") or {}
    return CommandError(str(err.get("code")), str(err.get("message") or err.get("code")),
                        err.get("message_en") if isinstance(err.get("message_en"), str) else None)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def event(seq: int, kind: str, ticket: str | None = None, topic: str | None = None,
          window: int | None = None, data: dict | None = None, at: str | None = None) -> dict:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    if type(seq) is not int or seq < 1:
        raise ValueError("seq must be a positive integer")
    return {"v": VERSION, "seq": seq, "at": at or now_iso(), "kind": kind, "ticket": ticket,
            "topic": topic, "window": window, "data": dict(data or {})}


def state(seq: int | None = None, **fields: Any) -> dict:
    """A retained state payload: ``{"v": 1, "seq": …, **fields}`` (config has no seq)."""
    payload: dict[str, Any] = {"v": VERSION}
    if seq is not None:
        payload["seq"] = seq
    payload.update(fields)
    return payload


def device_status(device: str, role: str, state: str = "online", version: str | None = None,
                  printer: dict | None = None, at: str | None = None, **extra: Any) -> dict:
    if state not in ("online", "offline"):
        raise ValueError("device state is online or offline")
    if printer is not None and printer.get("state") not in PRINTER_STATES:
        raise ValueError(f"printer state must be one of {PRINTER_STATES}")
    payload = {"v": VERSION, "device": device, "state": state, "role": role,
               "version": version, "at": at or now_iso(), "printer": printer}
    payload.update(extra)
    return payload


def parse_payload(raw: bytes | str) -> dict | None:
    """Any hub-published payload (state/event/status) as a dict with v=1, else None."""
    if not raw:
        return None
    try:
        msg = decode_json(raw) if len(raw) <= MAX_PAYLOAD else json.loads(raw)
    except (ContractError, ValueError, RecursionError, UnicodeDecodeError):
        return None
    if isinstance(msg, dict) and msg.get("v") == VERSION:
        return msg
    return None
