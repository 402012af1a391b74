"""Hypothesis drives random offices through random operations and checks the queue's laws."""
from datetime import timedelta

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from queue_core.config import parse_office_config
from queue_core.dispatch import eligible, issue_order
from queue_core.errors import QueueError
from queue_core.model import FINAL_STATES, TicketKind, TicketState
from queue_core.office import Office

from .helpers import MONDAY_10, office_dict

TOPICS = ["A", "R", "C"]


@st.composite
def offices(draw):
    data = office_dict(windows=draw(st.integers(1, 4)), policy=draw(st.sampled_from(["fifo", "norm_aware"])),
                       priority_max_in_row=draw(st.integers(0, 3)), start_step=draw(st.booleans()))
    for w in data["windows"]:
        w["topics"] = draw(st.lists(st.sampled_from(TOPICS), min_size=1, max_size=3, unique=True))
    data["calendar"] = {"hours": {d: "00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    served = {t for w in data["windows"] for t in w["topics"]}
    data["windows"][0]["topics"] = sorted(set(data["windows"][0]["topics"]) | (set(TOPICS) - served))
    return parse_office_config(data)


class QueueMachine(RuleBasedStateMachine):
    @initialize(config=offices())
    def setup(self, config):
        self.office = Office(config)
        self.now = MONDAY_10
        self.issued: dict[tuple[str, str], object] = {}   # (day, number) -> ticket
        self.events = []
        self.windows = [w.number for w in config.windows]
        for w in self.windows:                   # offices start the day with windows open
            self._do(self.office.open, w, self.now)

    def _do(self, fn, *args, **kw):
        before = self.office.digest()
        try:
            return fn(*args, **kw)
        except QueueError:
            assert self.office.digest() == before, "a refused operation changed the state"
            return None
        finally:
            self.events.extend(self.office.take_events()[0])

    def _window_op(self, op, w, *args, **kw):
        """A window op, checked against ``allowed_actions``: listed ops succeed and change
        the state; ops left out are refused or change nothing."""
        allowed = op in self.office.allowed_actions(w, self.now)
        before, refused = self.office.digest(), False
        try:
            getattr(self.office, op)(w, *args, **kw)
        except QueueError:
            refused = True
        finally:
            self.events.extend(self.office.take_events()[0])
        if allowed:
            assert not refused, f"{op} at window {w} was listed as allowed but refused"
            assert op == "call_next" or self.office.digest() != before, f"allowed {op} changed nothing"
        else:
            assert refused or self.office.digest() == before, f"{op} at window {w} was not listed but worked"

    @rule(minutes=st.integers(0, 10))
    def tick(self, minutes):
        self.now += timedelta(minutes=minutes)

    @rule()
    def next_day(self):
        self.now += timedelta(days=1)

    @rule(topic=st.sampled_from(TOPICS), kind=st.sampled_from([TicketKind.WALK_IN, TicketKind.PRIORITY]))
    def issue(self, topic, kind):
        t = self._do(self.office.issue, topic, self.now, kind)
        if t is not None:
            key = (t.day, t.number)
            assert key not in self.issued, f"number {t.number} repeated on {t.day}"
            self.issued[key] = t

    @rule(topic=st.sampled_from(TOPICS), offset=st.integers(-5, 25))
    def booking(self, topic, offset):
        t = self._do(self.office.check_in, topic, self.now + timedelta(minutes=offset), "0000", self.now)
        if t is not None:
            assert (t.day, t.number) not in self.issued
            self.issued[(t.day, t.number)] = t

    @rule(data=st.data())
    def call_next(self, data):
        w = data.draw(st.sampled_from(self.windows))
        status = self.office.windows[w]
        window = self.office.config.window(w)
        pool = eligible(self.office.waiting(), window)
        streak = status.priority_streak
        t = self._do(self.office.call_next, w, self.now)
        if t is None:
            return
        event(f"called {t.kind}" + (" with priority waiting" if t.kind is TicketKind.PRIORITY and streak else ""))
        prio_waiting = [p for p in pool if p.kind is TicketKind.PRIORITY]
        targeted = [p for p in pool if p.leg.target_window == w]
        limit = self.office.config.priority_max_in_row        # 0: no interleave, priority always first
        if t.kind is not TicketKind.PRIORITY and prio_waiting and not targeted:
            assert limit and streak >= limit, "priority overtaken beyond the interleave"
        others = [p for p in pool if p.kind is not TicketKind.PRIORITY]
        if t.kind is TicketKind.PRIORITY and others and not targeted:
            assert not limit or streak < limit, "more priority calls in a row than allowed"
        plain = [p for p in pool if p.kind is TicketKind.WALK_IN and p.leg.target_window is None]
        if (self.office.config.policy == "fifo" and t in plain and not prio_waiting and not targeted
                and not any(p.kind is TicketKind.BOOKING for p in pool)):
            assert t is min(plain, key=issue_order), "fifo broke issue order"

    @rule(data=st.data(), action=st.sampled_from(["recall", "start", "finish", "no_show"]))
    def act(self, data, action):
        self._window_op(action, data.draw(st.sampled_from(self.windows)), self.now)

    @rule(data=st.data())
    def transfer(self, data):
        w = data.draw(st.sampled_from(self.windows))
        current = self.office.current(w)
        topics = [t for t in TOPICS if current is None or t != current.topic]
        targets = [n for n in self.windows if n != w]
        if targets and data.draw(st.booleans()):    # a valid target: the op's rule alone decides
            self._window_op("transfer", w, self.now, to_window=data.draw(st.sampled_from(targets)))
        else:
            self._window_op("transfer", w, self.now, topic=data.draw(st.sampled_from(topics)))

    @rule(data=st.data(), op=st.sampled_from(["open", "close", "pause", "call_next"]))
    def window_state(self, data, op):
        w = data.draw(st.sampled_from(self.windows))
        if op == "pause":
            self._window_op("pause", w, data.draw(st.sampled_from(["technical", "lunch", "rest"])), self.now)
        else:
            self._window_op(op, w, self.now)

    @precondition(lambda self: self.office.waiting())
    @rule(data=st.data())
    def cancel(self, data):
        t = data.draw(st.sampled_from(self.office.waiting()))
        self._do(self.office.cancel, t.number, self.now)

    @precondition(lambda self: self.office.tickets)
    @rule(data=st.data())
    def leave(self, data):
        """«Я ухожу» from the phone, for any live ticket: only a waiting one leaves."""
        t = data.draw(st.sampled_from(sorted(self.office.tickets.values(), key=lambda t: t.number)))
        waiting = t.state is TicketState.WAITING
        self._do(self.office.leave, t.number, self.now)
        assert (t.number not in self.office.tickets) == waiting
        if waiting:
            assert (t.state, t.leg.outcome) == (TicketState.CANCELLED, "left")

    @invariant()
    def each_ticket_in_exactly_one_state(self):
        for (_day, number), t in self.issued.items():
            live = self.office.tickets.get(number) is t
            assert live != (t.state in FINAL_STATES), f"{number} is {t.state} but live={live}"

    @invariant()
    def no_ticket_held_by_two_windows(self):
        held = [s.ticket for s in self.office.windows.values() if s.ticket]
        assert len(held) == len(set(held))
        for number in held:
            assert self.office.tickets[number].state in (TicketState.CALLED, TicketState.SERVING)

    @invariant()
    def no_negative_timing(self):
        for t in self.issued.values():
            for leg in t.legs:
                stamps = [leg.queued_at, leg.called_at, leg.started_at, leg.finished_at]
                present = [s for s in stamps if s is not None]
                assert present == sorted(present)
                assert leg.queued_at >= t.issued_at

    @invariant()
    def event_log_replays_to_same_state(self):
        assert Office.replay(self.office.config, self.events).digest() == self.office.digest()


QueueMachine.TestCase.settings = settings(max_examples=120, stateful_step_count=50, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestQueueLaws = QueueMachine.TestCase
