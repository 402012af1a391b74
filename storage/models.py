"""SQLAlchemy 2.x models: the projection of the queue plus an append-only event log.

Times are stored as epoch seconds (float) through ``EpochTime``: compact, indexable,
identical on SQLite and PostgreSQL, and 2x faster to insert than DateTime in SQLite.
Durations a report needs (wait, service) are stored on the leg when it ends, so
statistics never compute date arithmetic in SQL.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class EpochTime(TypeDecorator):
    """Aware datetime <-> epoch seconds."""
    impl = Float
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.timestamp()

    def process_result_value(self, value, dialect):
        return None if value is None else datetime.fromtimestamp(value, timezone.utc)


class Base(DeclarativeBase):
    pass


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("office", "day", "number", name="uq_ticket_number_per_day"),
                      Index("ix_tickets_office_state", "office", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(12))
    seq_no: Mapped[int]
    issue_topic: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[datetime] = mapped_column(EpochTime)
    slot_start: Mapped[datetime | None] = mapped_column(EpochTime)
    booking_code: Mapped[str | None] = mapped_column(String(16))
    priority_category: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str | None] = mapped_column(String(16))
    eta_min: Mapped[float | None]
    people_ahead: Mapped[int] = mapped_column(default=0)
    rating: Mapped[int | None]
    finished_at: Mapped[datetime | None] = mapped_column(EpochTime)
    legs: Mapped[list[LegRow]] = relationship(back_populates="ticket", order_by="LegRow.idx",
                                              cascade="all, delete-orphan")


class LegRow(Base):
    __tablename__ = "legs"
    __table_args__ = (Index("ix_legs_office_queued", "office", "queued_at"),
                      Index("ix_legs_office_operator", "office", "operator"),
                      UniqueConstraint("ticket_id", "idx"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    idx: Mapped[int]
    office: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(10))
    window: Mapped[int | None]
    operator: Mapped[str | None] = mapped_column(String(32))
    queued_at: Mapped[datetime] = mapped_column(EpochTime)
    called_at: Mapped[datetime | None] = mapped_column(EpochTime)
    started_at: Mapped[datetime | None] = mapped_column(EpochTime)
    finished_at: Mapped[datetime | None] = mapped_column(EpochTime)
    recalls: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    accounts: Mapped[int] = mapped_column(default=1)
    target_window: Mapped[int | None]
    wait_s: Mapped[float | None] = mapped_column(Float)      # called - wait start (booking: slot)
    walk_s: Mapped[float | None] = mapped_column(Float)      # started - called
    service_s: Mapped[float | None] = mapped_column(Float)   # finished - started
    eta_min: Mapped[float | None] = mapped_column(Float)     # the estimate printed (first leg)
    ticket: Mapped[TicketRow] = relationship(back_populates="legs")


class EventRow(Base):
    """Append-only: every state change, in ``seq`` order. Never updated, never deleted."""
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("office", "seq", name="uq_event_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(EpochTime, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    ticket: Mapped[str | None] = mapped_column(String(12))
    topic: Mapped[str | None] = mapped_column(String(16))
    window: Mapped[int | None]
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class WindowRow(Base):
    __tablename__ = "windows"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="closed")
    break_kind: Mapped[str | None] = mapped_column(String(10))
    operator: Mapped[str | None] = mapped_column(String(32))
    ticket: Mapped[str | None] = mapped_column(String(12))
    priority_streak: Mapped[int] = mapped_column(default=0)
    last_finished: Mapped[str | None] = mapped_column(String(12))
    last_finished_day: Mapped[str | None] = mapped_column(String(10))


class OperatorRow(Base):
    __tablename__ = "operators"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class DeviceRow(Base):
    __tablename__ = "devices"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    device: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))
    window: Mapped[int | None]
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(EpochTime)


class PresenceRow(Base):
    """Device online/offline transitions and printer states, for the downtime report."""
    __tablename__ = "presence"
    # (office, id): an office's newest row (``presence.last_id``, head office's ``presence_marks``)
    __table_args__ = (Index("ix_presence_device_at", "office", "device", "at"),
                      Index("ix_presence_office_id", "office", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(32))
    device: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(EpochTime)
    state: Mapped[str] = mapped_column(String(10))            # online / offline
    printer: Mapped[str | None] = mapped_column(String(16))   # ok / paper_out / ...


class CommandRow(Base):
    """The reply given to each (device, command id): a retried command gets it again."""
    __tablename__ = "commands"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    device: Mapped[str] = mapped_column(String(32), primary_key=True)
    command_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    op: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(EpochTime, index=True)
    reply: Mapped[dict] = mapped_column(JSON)


class BookingRow(Base):
    __tablename__ = "bookings"
    __table_args__ = (UniqueConstraint("office", "code", name="uq_booking_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(16))
    slot_start: Mapped[datetime] = mapped_column(EpochTime, index=True)
    name: Mapped[str | None] = mapped_column(String(100))     # personal data: purged after retention
    phone: Mapped[str | None] = mapped_column(String(32))     # personal data: purged after retention
    created_at: Mapped[datetime] = mapped_column(EpochTime)
    ticket: Mapped[str | None] = mapped_column(String(12))    # set at check-in
    cancelled: Mapped[bool] = mapped_column(default=False)


class UserRow(Base):
    """Web users. Passwords only as hashes; no default user exists."""
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))              # operator / head / admin
    created_at: Mapped[datetime] = mapped_column(EpochTime)
    active: Mapped[bool] = mapped_column(default=True)
    office: Mapped[str | None] = mapped_column(String(32))      # head office: the one office this user sees (None: all)


class SettingRow(Base):
    """Office configuration as saved from the web (TOML text), versioned."""
    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(32), index=True)
    saved_at: Mapped[datetime] = mapped_column(EpochTime)
    saved_by: Mapped[str | None] = mapped_column(String(64))
    toml: Mapped[str]


class DisclosureInputRow(Base):
    """What the yearly disclosure needs and no queue event records (003:205-209), entered
    on the web per office and year: claims and complaints, the improvement measures carried
    out, the remote channels' working hours."""
    __tablename__ = "disclosure_inputs"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    claims: Mapped[int | None]
    complaints: Mapped[int | None]
    measures: Mapped[str] = mapped_column(default="")
    remote_channels: Mapped[str] = mapped_column(default="")
    saved_at: Mapped[datetime] = mapped_column(EpochTime)
    saved_by: Mapped[str | None] = mapped_column(String(64))


class CsatPaperRow(Base):
    """Paper questionnaires (000:632, a CSAT source besides the queue's ratings): how many
    gave each score 1–5 in a half-year, entered on the web."""
    __tablename__ = "csat_paper"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    half: Mapped[int] = mapped_column(primary_key=True)
    score: Mapped[int] = mapped_column(primary_key=True)
    count: Mapped[int]


class LegRollupRow(Base):
    """One closed office day's legs rolled up for the reports (``storage.rollups``): per
    ``part`` (a grouping, or ``visits``) the counts, the exact sums and the sorted minute
    values of every key. Covers the legs that joined the queue in [start_s, end_s) (visits:
    whose first leg did); deleted whenever such a leg is written again (``QueueStore``)."""
    __tablename__ = "leg_rollups"
    __table_args__ = (Index("ix_leg_rollups_office_start", "office", "start_s"),)

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)       # local date, ISO
    part: Mapped[str] = mapped_column(String(10), primary_key=True)
    start_s: Mapped[float] = mapped_column(Float)                        # the local day, epoch seconds
    end_s: Mapped[float] = mapped_column(Float)
    tz: Mapped[str] = mapped_column(String(64))                          # the office time zone it was cut in
    format: Mapped[int]
    built_at: Mapped[float] = mapped_column(Float)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TicketLinkRow(Base):
    """A ticket's address for the visitor's phone (``storage.ticket_links``): a random token,
    the ticket it opens, the page's language and, when the visitor asked for it, the
    Telegram chat told of the turn (forgotten when the ticket ends) and what it was told."""
    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("office", "day", "number", name="uq_ticket_link_per_ticket"),
                      Index("ix_ticket_links_office_chat", "office", "chat_id"))

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    office: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(EpochTime)
    ended_at: Mapped[datetime | None] = mapped_column(EpochTime)
    outcome: Mapped[str | None] = mapped_column(String(16))      # the ticket's last leg outcome once ended
    lang: Mapped[str] = mapped_column(String(2), default="ru")
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    notified_ahead: Mapped[bool] = mapped_column(default=False)
    notified_call_seq: Mapped[int | None]
    notified_notice_at: Mapped[datetime | None] = mapped_column(EpochTime)   # the announcement last told: its ``at``


class OfficeValueRow(Base):
    """Small per-office values the hub keeps across restarts outside the versioned settings:
    the announcement to everyone waiting, the office's Telegram bot name."""
    __tablename__ = "office_values"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(EpochTime)


class HqOfficeRow(Base):
    """Head office (``storage.hq``): an office whose events reach this database, its grouping
    (head company → regional branch → office) and how far its events are applied."""
    __tablename__ = "hq_offices"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str | None] = mapped_column(String(100))
    branch: Mapped[str | None] = mapped_column(String(100))
    first_seen: Mapped[datetime | None] = mapped_column(EpochTime)
    last_seen: Mapped[datetime | None] = mapped_column(EpochTime)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # the office's event ``stuck_seq`` could not be applied here (its own rules refuse it):
    # nothing after it is applied until it is; stuck while ``last_seq < stuck_seq``
    stuck_seq: Mapped[int | None] = mapped_column(BigInteger)
    stuck_since: Mapped[datetime | None] = mapped_column(EpochTime)
    stuck_reason: Mapped[str | None] = mapped_column(String(500))


class HqConfigRow(Base):
    """Head office: each version of an office's configuration (its TOML) and when it took
    effect, so a month's report uses the norms in force that month."""
    __tablename__ = "hq_configs"

    office: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    valid_from: Mapped[datetime] = mapped_column(EpochTime)
    toml: Mapped[str] = mapped_column(Text)
