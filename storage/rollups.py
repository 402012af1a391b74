"""Closed office days rolled up for the reports (issue 12, "fast cold reports").

A report over a year would otherwise read and file every leg of the year. A closed day
(before today, office time) is read once, rolled up (``storage.stats`` builds the
figures), and stored here as one row per grouping (``part``): per key the counts, the
exact sums and the **sorted minute values** of the waits and services. Every figure is
then the same as computing it from the legs (``storage.stats.Series`` says why).

* Built lazily by the first report that needs the day (``build``), in a transaction that
  first shuts out leg writers (SQLite: its write lock, taken by the opening DELETE;
  PostgreSQL: ``LOCK TABLE legs IN SHARE MODE``), so the legs read cannot change before
  the rollup is stored; two readers building the same day store it once (``ON CONFLICT
  DO NOTHING``; theirs are equal).
* Invalidated by ``invalidate``, which the hub's ``QueueStore`` calls for every ticket it
  writes: a leg finished after midnight, a transfer's next leg — the rows of the days of
  the ticket's first leg (its visit) and of every leg written (its figures) are deleted
  and built again on the next read.

Row payload (``FORMAT``): a little-endian u32 header length, a JSON header — one entry
per key ``[key, counts, sizes, sums]`` — then the float64 values, key after key.
"""
from __future__ import annotations

import json
import struct
import sys
import time
from array import array
from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import LegRollupRow

FORMAT = 2                          # 2: the counts gained ``left`` (issue 14); older rows are built again
DAY_MAX_S = 25 * 3600 + 60          # the longest local day (a DST change), for the invalidation range
_R = cast(Table, LegRollupRow.__table__)


def exact_sum(values: Iterable[float]) -> list[float]:
    """Non-overlapping partial sums whose exact total is the exact total of ``values``
    (Shewchuk's msum, as ``math.fsum`` keeps them): ``fsum`` of partials from several days
    is the correctly rounded exact sum of every value, the same float ``fsum`` of all the
    values gives."""
    partials: list[float] = []
    for x in values:
        i = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]
    return partials


def encode(entries: list[tuple[object, list[int], list[list[float] | None], list[list[float]]]]) -> bytes:
    """``entries``: (key, counts, value lists (sorted; None: absent), sums)."""
    header, blobs = [], []
    for key, counts, lists, sums in entries:
        header.append([key, counts, [-1 if v is None else len(v) for v in lists], sums])
        for v in lists:
            if v:
                a = array("d", v)
                if sys.byteorder == "big":
                    a.byteswap()
                blobs.append(a.tobytes())
    head = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<I", len(head)) + head + b"".join(blobs)


def decode(data: bytes) -> list[tuple[object, list[int], list[array | None], list[list[float]]]]:
    (size,) = struct.unpack_from("<I", data)
    at = 4 + size
    out = []
    view = memoryview(data)
    for key, counts, sizes, sums in json.loads(bytes(view[4:at])):
        lists: list[array | None] = []
        for n in sizes:
            if n < 0:
                lists.append(None)
                continue
            a = array("d")
            a.frombytes(view[at:at + 8 * n])
            if sys.byteorder == "big":
                a.byteswap()
            lists.append(a)
            at += 8 * n
        out.append((key, counts, lists, sums))
    return out


def read(conn: Connection, office: str, tz: str, first_day: str, last_day: str, parts: Iterable[str]) -> dict:
    """{(day, part): decoded payload} of the stored rows for days first_day..last_day."""
    rows = conn.execute(select(_R.c.day, _R.c.part, _R.c.data).where(
        _R.c.office == office, _R.c.day >= first_day, _R.c.day <= last_day, _R.c.part.in_(tuple(parts)),
        _R.c.tz == tz, _R.c.format == FORMAT))
    return {(day, part): decode(data) for day, part, data in rows}


def shut_out_leg_writers(conn: Connection, office: str, day: str) -> None:
    """Start the build's transaction so that no leg can change until it commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE legs IN SHARE MODE"))
    # on SQLite the first write takes the database's write lock (and a fresh snapshot)
    conn.execute(delete(_R).where(_R.c.office == office, _R.c.day == day))


def store(conn: Connection, office: str, day: str, start: datetime, end: datetime, tz: str,
          parts: dict[str, bytes]) -> None:
    rows = [dict(office=office, day=day, part=part, start_s=start.timestamp(), end_s=end.timestamp(), tz=tz,
                 format=FORMAT, built_at=time.time(), data=data) for part, data in parts.items()]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(_R).on_conflict_do_nothing(), rows)


# prepared once: the hub runs it for every ticket it writes (an index probe, nothing found
# on a normal day)
_INVALIDATE = delete(_R).where(_R.c.office == bindparam("office"), _R.c.start_s <= bindparam("at"),
                               _R.c.start_s > bindparam("earliest"), _R.c.end_s > bindparam("at"))


def invalidate(conn: Connection, office: str, instants: Iterable[datetime]) -> None:
    """Delete the rollups of the days containing ``instants`` (legs' ``queued_at``)."""
    for at in {t.timestamp() for t in instants}:
        conn.execute(_INVALIDATE, dict(office=office, at=at, earliest=at - DAY_MAX_S))
