"""The registry of offices that may report to head office: ``offices.toml`` in HQ's data dir.

One table per office: its name and grouping (head company → ``region`` → ``branch``) and its
broker password, stored only as mosquitto's PBKDF2 hash (the plain one is shown once by
``talon hq offices add``). The HQ broker's users and ACL are generated from this file
(``hq.broker``); the running ``talon hq`` notices a change within seconds.
"""
from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from broker.topics import check_id
from hub.mosquitto_files import hash_password, is_hashed
from storage.credentials import new_password

FILE_NAME = "offices.toml"
INGEST_USER = "hq-ingest"
# ids no office may have: head office's own broker user, and the name brokers give clients without one
RESERVED_IDS = frozenset({INGEST_USER, "anonymous"})


@dataclass(frozen=True, slots=True)
class OfficeEntry:
    id: str
    name: str = ""
    region: str = ""
    branch: str = ""
    password_hash: str = ""


def check_office_id(office: object) -> str:
    office_id = check_id(office, "office id")
    if office_id.lower() in RESERVED_IDS:
        raise ValueError(f"{office_id!r} is reserved at head office; choose another office id")
    return office_id


class Registry:
    """``offices.toml``: read whole, written whole (atomically: a reader never sees half a file)."""

    def __init__(self, data_dir: str | os.PathLike):
        self.path = Path(data_dir) / FILE_NAME

    def load(self) -> list[OfficeEntry]:
        if not self.path.exists():
            return []
        data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        entries = []
        for office_id, table in sorted((data.get("offices") or {}).items()):
            entry = OfficeEntry(check_office_id(office_id), str(table.get("name", "")), str(table.get("region", "")),
                                str(table.get("branch", "")), str(table.get("password", "")))
            if not is_hashed(entry.password_hash):
                raise ValueError(f"{self.path}: office {office_id} has no hashed password")
            entries.append(entry)
        return entries

    def mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def save(self, entries: list[OfficeEntry]) -> None:
        lines = ["# Offices reporting to head office (`talon hq offices`). Passwords are hashes.", ""]
        for e in sorted(entries, key=lambda e: e.id):
            lines += [f"[offices.{json.dumps(e.id)}]", f"name = {json.dumps(e.name, ensure_ascii=False)}",
                      f"region = {json.dumps(e.region, ensure_ascii=False)}",
                      f"branch = {json.dumps(e.branch, ensure_ascii=False)}",
                      f"password = {json.dumps(e.password_hash)}", ""]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    def add(self, office_id: str, name: str = "", region: str = "", branch: str = "",
            password: str | None = None) -> str:
        """Register an office (or give a registered one a new password and grouping); returns
        the plain password, which is not stored anywhere."""
        check_office_id(office_id)
        plain = password or new_password()
        if not plain or any(c in plain for c in ":\n\r"):
            raise ValueError("empty password or one with ':' or a line break")
        entries = {e.id: e for e in self.load()}
        old = entries.get(office_id, OfficeEntry(office_id))
        entries[office_id] = replace(old, name=name or old.name, region=region or old.region,
                                     branch=branch or old.branch, password_hash=hash_password(plain))
        self.save(list(entries.values()))
        return plain

    def remove(self, office_id: str) -> bool:
        """Its broker user goes; its history at head office stays."""
        entries = self.load()
        kept = [e for e in entries if e.id != office_id]
        if len(kept) == len(entries):
            return False
        self.save(kept)
        return True
