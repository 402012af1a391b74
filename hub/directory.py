"""Who may talk to the hub: provisioned devices (broker users) and counter operators."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.mosquitto_files import BROKER_ROLES, Device
from broker.topics import check_id
from storage.credentials import hash_secret, new_password
from storage.models import DeviceRow, OperatorRow

DEVICE_ROLES = tuple(r for r in BROKER_ROLES if r != "hub")


def add_device(session: Session, office: str, device: str, role: str, window: int | None = None,
               password: str | None = None) -> str:
    """Provision a device; returns its password (shown once, stored only as a hash)."""
    check_id(device, "device id")
    if role not in DEVICE_ROLES:
        raise ValueError(f"role must be one of {', '.join(DEVICE_ROLES)}")
    if role in ("counter", "rating") and window is None:
        raise ValueError(f"a {role} device needs --window")
    if session.get(DeviceRow, (office, device)) is not None:
        raise ValueError(f"device {device!r} already exists; remove it first to issue a new password")
    password = password or new_password()
    session.add(DeviceRow(office=office, device=device, role=role, window=window,
                          password_hash=hash_secret(password), created_at=datetime.now(timezone.utc)))
    return password


def remove_device(session: Session, office: str, device: str) -> bool:
    return session.execute(delete(DeviceRow).where(DeviceRow.office == office, DeviceRow.device == device)).rowcount > 0


def list_devices(session: Session, office: str) -> list[DeviceRow]:
    return list(session.execute(select(DeviceRow).where(DeviceRow.office == office)
                                .order_by(DeviceRow.device)).scalars())


def broker_users(session: Session, office: str) -> list[Device]:
    """The broker's users: every device with its stored hash (mosquitto reads the same format)."""
    return [Device(d.device, d.role, d.password_hash) for d in list_devices(session, office)]


def add_operator(session: Session, office: str, code: str, name: str, pin: str) -> None:
    check_id(code, "operator code")
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValueError("the PIN must be 4-12 digits")
    if session.get(OperatorRow, (office, code)) is not None:
        raise ValueError(f"operator {code!r} already exists")
    session.add(OperatorRow(office=office, code=code, name=name, pin_hash=hash_secret(pin)))


def list_operators(session: Session, office: str) -> list[OperatorRow]:
    return list(session.execute(select(OperatorRow).where(OperatorRow.office == office)
                                .order_by(OperatorRow.code)).scalars())


def remove_operator(session: Session, office: str, code: str) -> bool:
    return session.execute(delete(OperatorRow).where(OperatorRow.office == office,
                                                     OperatorRow.code == code)).rowcount > 0
